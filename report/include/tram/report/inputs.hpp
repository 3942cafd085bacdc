// What the province report and the "what is due" views read: the programme's reference rows
// (periods, units, task groups, tasks, indicators and who reports on them) and the progress
// reports, as plain records. Read from any replica of the schema sonla-2026: any RowReader
// (store_rows, through RowReader::scan_images, no SQL: the server's storage snapshot, or an
// engine Store) or a device's, through the client SDK (the field app's own RowSource over
// Client::query). Nothing here knows the server's tables.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tram/report/timeliness.hpp"
#include "tram/engine/crypto.hpp"
#include "tram/engine/row_reader.hpp"
#include "tram/engine/status.hpp"
#include "tram/engine/value.hpp"

namespace tram::reporting {

struct ReportPeriod {
  std::string code, kind;
  int64_t year = 0;
  std::string starts, ends, unit_due, finance_due;  // YYYY-MM-DD
};

struct Unit {
  std::string code, name, type;  // type: "xã", "phường", …
};

struct TaskGroup {
  int64_t number = 0;
  std::string title;
};

struct Task {
  std::string code, group, title, deadline;
  std::vector<std::string> units;  // the units the programme names for the task (may be empty)
  std::string text;                // the task's full wording (schema v3); "" on older data
  // task_reporter rows (schema v3): the departments (or units) expected to report on it.
  std::vector<std::string> reporters;
};

struct Indicator {
  std::string code, task, title, kind, comparator, measure, start, deadline, applies_to;
  std::optional<double> target, target_max;
  std::vector<std::string> units;  // indicator_unit rows: the units that report on it
};

// One progress_report row.
struct ReportRow {
  std::string id, unit_code, indicator, task, period, measure, progress, difficulties, proposals;
  // review_comment: the comment of the latest review whose decision is the report's status
  // (an accept without a comment clears an earlier return's), else the report's own field.
  std::string author, recorded_on, status, review_comment;
  std::optional<double> value;
  std::optional<Hash> recorded_by;     // the change set that wrote recorded_on, when known
  std::optional<int64_t> received_ms;  // the server's time of receipt of it, when known
  // The change set that submitted the report, when known (the server's log); received_ms is
  // then its receipt. timeliness.hpp, rule 2.
  std::optional<Submission> submission;
};

struct ReportInputs {
  std::vector<ReportPeriod> periods;  // by unit_due, then code
  std::map<std::string, Unit> units;
  // Departments and agencies (sở, ban, ngành; schema v3 `agency`), type "sở, ban, ngành": they
  // report as themselves, but are not among the communes and wards an indicator applies to.
  std::map<std::string, Unit> agencies;
  std::map<std::string, TaskGroup> groups;
  std::map<std::string, Task> tasks;
  std::map<std::string, Indicator> indicators;
  std::vector<ReportRow> reports;
  // Whether these rows are all the province's (the server, a reviewer's device) or one scope's
  // (an official's device, which receives only its own units' indicator_unit rows): a scoped
  // reader cannot tell "no rows" from "rows of units it does not see" (province.hpp).
  bool all_units = true;

  const ReportPeriod* period(std::string_view code) const;
};

// One live row of a table: field name -> value (fields never written are absent).
struct SourceRow {
  std::string id;
  std::map<std::string, Value> fields;
  std::optional<Hash> recorded_by;  // progress_report only: the writer of recorded_on
};

// Visits every live row of `table`; unknown_table when the replica has no such table.
using RowSource =
    std::function<Status(std::string_view table, const std::function<void(SourceRow&&)>& visit)>;

// Rows of a RowReader (the server's storage snapshot, or any engine replica), by
// RowReader::scan_images. `rows` must outlive the RowSource.
RowSource store_rows(RowReader& rows);

// Tells when the server received the reports it knows about (sets ReportRow::received_ms).
// The server answers from its log; a device from the receipts it holds for its own reports.
class ReceiptTimes {
 public:
  virtual ~ReceiptTimes() = default;
  virtual Status stamp(std::vector<ReportRow>& reports) = 0;
};

// Reads the seven tables the report needs; `receipts` may be null (no receipt times).
Result<ReportInputs> read_inputs(const RowSource& rows, ReceiptTimes* receipts = nullptr);

// "Xã Mường La", "Phường Tô Hiệu": the unit as the report names it.
std::string unit_title(const Unit& u);

}  // namespace tram::reporting
