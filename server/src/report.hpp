// The province report: what the Department of Finance aggregates for one reporting period
// (DOMAIN.md, section III): per task group, indicator and unit, the reported value against the
// target, progress, whether it came on time, difficulties, proposals and the review state.
// Read from the server's replica (the sonla-2026 tables); written as CSV, XLSX, JSON or text.
//
// Rules (docs/operations.md, "The province report"):
// - Expected lines: every indicator active in the period (start <= period end, deadline >=
//   period start) for each unit named by its indicator_unit rows. An indicator without such
//   rows is expected from every unit, except applies_to "province", which is expected once for
//   the whole province (any unit's report satisfies it).
// - Timeliness: a report in state submitted, accepted or returned is on time when its
//   recorded_on (the date the official recorded it, signed on the device) is on or before the
//   period's unit_due; "trước ngày 05/6" is read as inclusive. Otherwise it is late. A draft,
//   or no report at all, is missing ("Chưa nộp").
// - The server's own time of receipt of the change set that last wrote recorded_on is shown
//   beside it, so a reviewer can see a late upload of a report recorded in time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tram/engine/status.hpp"
#include "tram/engine/store.hpp"

namespace tram::server {

class Service;
struct Response;

enum class Timeliness { on_time, late, missing };
std::string_view timeliness_name(Timeliness t);  // "on_time", "late", "missing"

struct ReportPeriod {
  std::string code, kind;
  int64_t year = 0;
  std::string starts, ends, unit_due, finance_due;  // YYYY-MM-DD
};

// One line: a report, or an expected report that is missing (report_id empty).
struct ReportLine {
  int64_t group_number = 0;  // for ordering; 0 when unknown
  std::string group, group_title;
  std::string indicator, indicator_title;  // for a report on a task only: the task code and title
  std::string unit_code, unit_name;  // code empty, name "Toàn tỉnh": expected once for the province
  std::optional<double> value;
  std::string measure;
  std::optional<double> target, target_max;
  std::string comparator;            // the indicator's: >, >=, =, range, none
  std::optional<bool> meets_target;  // nullopt: no value or no numeric target
  std::string progress;              // not_started, on_track, at_risk, done; "" when missing
  Timeliness timeliness = Timeliness::missing;
  std::string recorded_on;             // YYYY-MM-DD
  std::optional<int64_t> received_ms;  // server time of receipt (ms since the epoch, UTC)
  std::string difficulties, proposals;
  std::string review_state, review_comment, author, report_id;
};

struct ReportSummary {
  size_t lines = 0, on_time = 0, late = 0, missing = 0;
  size_t draft = 0, submitted = 0, accepted = 0, returned = 0;
};

struct ProvinceReport {
  ReportPeriod period;
  int64_t generated_ms = 0;
  std::vector<ReportLine> lines;
  ReportSummary summary;
};

// Builds the report from the replica (caller holds the writer lock or owns the store).
// An unknown period is not_found.
Result<ProvinceReport> build_province_report(Store& replica, std::string_view period,
                                             int64_t now_ms);

// RFC 4180: CRLF line ends, fields quoted when needed, UTF-8 with a BOM for Excel.
std::string report_csv(const ProvinceReport& r);
Status write_report_xlsx(const ProvinceReport& r, const std::string& path);
Result<std::string> report_xlsx_bytes(const ProvinceReport& r);
std::string report_json(const ProvinceReport& r);
// A readable table for a terminal: the reports, then the missing units per indicator.
std::string report_text(const ProvinceReport& r);

// `tram-server report`: writes the files asked for, then prints the table (or the JSON) to stdout.
Status report_command(Service& service, const std::string& period, const std::string& csv_path,
                      const std::string& xlsx_path, bool json);

// GET /v1/admin/report?period=CODE&format=json|csv|xlsx (docs/protocol.md §6.6).
Response report_response(Service& service, const std::string& period, const std::string& format);

}  // namespace tram::server
