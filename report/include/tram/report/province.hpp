// The province report: what the Department of Finance aggregates for one reporting period
// (DOMAIN.md, section III): per task group, indicator and unit, the reported value against the
// target, progress, whether it came on time (timeliness.hpp), difficulties, proposals and the
// review state. And the same "what is expected" rule seen from one unit (due_for_unit), for
// the field app. Pure functions of ReportInputs (inputs.hpp).
//
// Expected: every indicator active in the period (start empty or <= period end, deadline empty
// or >= period start) from each unit named by its indicator_unit rows; an indicator without
// such rows is expected from every unit, except applies_to "province", expected once for the
// whole province (any unit's report satisfies it). A task whose `units` names units is expected
// from each of them (a report on the task alone satisfies it) while its deadline has not passed
// before the period starts.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tram/report/inputs.hpp"
#include "tram/report/timeliness.hpp"

namespace tram::reporting {

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

// An unknown period is not_found.
Result<ProvinceReport> build_province_report(const ReportInputs& in, std::string_view period,
                                             int64_t now_ms);
// The same, read from a replica's rows (the caller holds them still: a snapshot, a transaction
// or a lock).
Result<ProvinceReport> build_province_report(RowReader& replica, std::string_view period,
                                             int64_t now_ms, ReceiptTimes* receipts = nullptr);

// One thing a unit owes for a period, with the report that answers it (the most advanced one
// when there are several: accepted, submitted, returned, draft).
struct DueItem {
  std::string kind, code;  // kind: "indicator" or "task"
  const Indicator* indicator = nullptr;  // null for a task, or a code no longer in the data
  const Task* task = nullptr;            // for a task
  const ReportRow* report = nullptr;     // null: nothing reported
  std::string state;                     // missing, draft, submitted, returned, accepted
  Standing standing;
};

// What `unit` owes for `period`: what is expected of it, then anything else it reported.
std::vector<DueItem> due_for_unit(const ReportInputs& in, const ReportPeriod& period,
                                  const std::string& unit, std::string_view today);

// The period now being reported: the first whose unit_due is today or later (else the last).
const ReportPeriod* current_period(const ReportInputs& in, std::string_view today);

}  // namespace tram::reporting
