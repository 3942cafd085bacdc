// The province report: what the Department of Finance aggregates for one reporting period
// (DOMAIN.md, section III): per task group, indicator and unit, the reported value against the
// target, progress, whether it came on time (timeliness.hpp), difficulties, proposals and the
// review state. And the same "what is expected" rule seen from one unit (due_for_unit), for
// the field app. Pure functions of ReportInputs (inputs.hpp).
//
// Expected: every indicator that has started (start empty or <= period end) and whose deadline
// is empty or not before the period's start, from each unit named by its indicator_unit rows; an
// indicator without such rows is expected from every unit when the rows are all the province's
// (ReportInputs::all_units), from none on a scoped reader (a device sees only its own units'
// rows), and applies_to "province" is expected once for the whole province (any unit's report
// satisfies it). After its deadline an indicator stays expected from each unit whose target was
// not met (target_met_by), as overdue, provided a reporting period holds the deadline (one that
// ended before the programme's first period is not expected). A task whose `units` names units is expected from each of
// them (a report on the task alone satisfies it) while its deadline has not passed before the
// period starts.
//
// Against the target (judge_target): a value is judged met / not met only in the period that
// holds the indicator's deadline (starts <= deadline <= ends); before it the target is not yet
// due (the value is progress), after it an unmet target is overdue; an indicator without a
// deadline (the text gives none) is met once reached and otherwise shown as progress (not_due). A value in another unit of
// measure than the target's is not judged (not_comparable). A milestone (no numeric target) is
// met when its report's progress is "done".
//
// A yes_no indicator (schema v3: "100% xã, phường không có ma túy"): each unit answers 1 (yes) or
// 0 (no); a unit's line is met when its value is 1, by the same deadline rule (before it
// not_due, at it not_met on 0, after it overdue until a yes), and its "%" measure is not the
// unit's. The province gets one more line per such indicator (aggregate, unit_code "", "Toàn
// tỉnh"): the share in % of the units it applies to whose latest submitted report up to the period
// says yes, judged against the indicator's target and comparator by the same deadline rule. It
// is not a report: the summary counts it only in `lines` and `aggregate`, never as missing, on
// time, late, in review or against the target.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tram/report/inputs.hpp"
#include "tram/report/timeliness.hpp"

namespace tram::reporting {

// Where a line stands against its indicator's target.
enum class TargetStatus {
  none,            // nothing to judge: no indicator or target, no value at the deadline, no report
  not_due,         // before the indicator's deadline: the value is progress, not judged
  met,             // at (or after) the deadline, the target is reached
  not_met,         // at the deadline, the target is not reached
  overdue,         // after the deadline, the target is still not reached (or not reported)
  not_comparable,  // the value is in another unit of measure than the target
};
// "" (none), "not_due", "met", "not_met", "overdue", "not_comparable".
std::string_view target_status_name(TargetStatus t);

// Where period `p` stands against an indicator's deadline.
enum class DeadlinePhase { no_deadline, before, at, after };
DeadlinePhase deadline_phase(const Indicator& i, const ReportPeriod& p);

// The status of a report's value (or of no report: value, measure and progress empty) on
// indicator `i` in period `p`. `measure` is the report's own unit of measure ("" = the target's).
TargetStatus judge_target(const Indicator& i, const ReportPeriod& p, bool reported,
                          const std::optional<double>& value, std::string_view measure,
                          std::string_view progress);

// Whether `unit` ("" = any unit: a province-wide line) has met the target of `indicator` by
// period `p`: its latest submitted report from the deadline's period up to `p` (inclusive) met it.
bool target_met_by(const ReportInputs& in, const Indicator& i, const ReportPeriod& p,
                   const std::string& unit);

// The province's share of `i`'s units answering yes (a yes_no indicator) by period `p`, in %:
// their latest submitted report up to `p` says 1; nullopt when it applies to no unit here.
std::optional<double> yes_share(const ReportInputs& in, const Indicator& i, const ReportPeriod& p);

// One line: a report, an expected report that is missing (report_id empty), or a yes_no
// indicator's share line (aggregate).
struct ReportLine {
  int64_t group_number = 0;  // for ordering; 0 when unknown
  std::string group, group_title;
  std::string indicator, indicator_title;  // for a report on a task only: the task code and title
  std::string unit_code, unit_name;  // code empty, name "Toàn tỉnh": expected once for the province
  std::optional<double> value;
  std::string measure;
  std::optional<double> target, target_max;
  std::string target_measure;        // the indicator's unit of measure
  std::string target_deadline;       // the indicator's deadline, YYYY-MM-DD ("" = none)
  std::string comparator;            // the indicator's: >, >=, =, range, none
  std::string kind;                  // the indicator's kind ("yes_no": the value is 1 or 0)
  // The province's share line of a yes_no indicator: value = % of units answering yes.
  bool aggregate = false;
  TargetStatus target_status = TargetStatus::none;
  // true: met; false: not met, or overdue with a report; nullopt otherwise (no value, not due,
  // not comparable, nothing to judge).
  std::optional<bool> meets_target;
  std::string progress;              // not_started, on_track, at_risk, done; "" when missing
  Timeliness timeliness = Timeliness::missing;
  std::string recorded_on;             // YYYY-MM-DD
  std::optional<int64_t> received_ms;  // server time of receipt (ms since the epoch, UTC)
  // When the submission counts from (timeliness.hpp rule 2), when the server's log showed it;
  // the device's clock judged wrong; made on time offline, received after the deadline.
  std::optional<int64_t> submitted_ms;
  bool clock_wrong = false, offline_before_due = false;
  std::string difficulties, proposals;
  std::string review_state, review_comment, author, report_id;
};

struct ReportSummary {
  size_t lines = 0, on_time = 0, late = 0, missing = 0;
  size_t aggregate = 0;  // share lines of yes_no indicators (in `lines`, in no other count)
  size_t draft = 0, submitted = 0, accepted = 0, returned = 0;
  // Lines by target_status.
  size_t target_met = 0, target_not_met = 0, target_overdue = 0, target_not_due = 0, not_comparable = 0;
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

// A report's standing by the timeliness rule, on its submission when known.
Standing standing_of(const ReportRow& r, std::string_view unit_due, std::string_view today);

// One thing a unit owes for a period, with the report that answers it (the most advanced one
// when there are several: accepted, submitted, returned, draft).
struct DueItem {
  std::string kind, code;  // kind: "indicator" or "task"
  const Indicator* indicator = nullptr;  // null for a task, or a code no longer in the data
  const Task* task = nullptr;            // for a task
  const ReportRow* report = nullptr;     // null: nothing reported
  std::string state;                     // missing, draft, submitted, returned, accepted
  Standing standing;
  TargetStatus target = TargetStatus::none;  // the report's value (or none) against the target
};

// What `unit` owes for `period`: what is expected of it, then anything else it reported.
std::vector<DueItem> due_for_unit(const ReportInputs& in, const ReportPeriod& period,
                                  const std::string& unit, std::string_view today);

// The period now being reported: the first whose unit_due is today or later (else the last).
const ReportPeriod* current_period(const ReportInputs& in, std::string_view today);

}  // namespace tram::reporting
