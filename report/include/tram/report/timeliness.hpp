// The one rule for "what is due, on time, late" (docs/operations.md §8), used by the server's
// province report and by the field app's `due`. Every date is a calendar date in Vietnam
// (UTC+7, no daylight saving); the period's unit_due is inclusive ("trước ngày 05/6" is read as
// "on or before 05/06").
//
// 1. Submitted: a report whose status is submitted, accepted or returned. A returned report was
//    submitted: the reviewer's return is a review outcome (shown as such), not lateness, so it
//    keeps the timeliness of its submission. A draft, or no report, is not submitted.
// 2. The time a submission counts from, when the submission is known (the server's log: the
//    first accepted change set that set the report's status to submitted): that change set's own
//    time (its hybrid clock, signed by the device), which is never earlier than the last server
//    time the device had seen (the SDK raises its clock to every signed receipt's time,
//    HybridClock::raise_to), and never later than the server's receipt of it. A time later than
//    the receipt (by more than the server's drift bound, or flagged clock_ahead) marks the
//    device's clock as wrong: shown, and the receipt counts instead.
//    Otherwise (a device's own view of others' reports, data from before the rule): recorded_on
//    (the date typed on the device), never later than the day the server received the change
//    set that wrote it.
// 3. On time: submitted and counted on or before unit_due. Late: submitted and counted after.
//    Missing: not submitted. Missing after unit_due has passed is also `overdue`. On time but
//    received after unit_due: `offline_before_due` (made before the deadline offline, synced
//    after), shown as such.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tram::reporting {

enum class Timeliness { on_time, late, missing };
std::string_view timeliness_name(Timeliness t);  // "on_time", "late", "missing"

// The change set that submitted a report, from the server's log.
struct Submission {
  int64_t claimed_ms = 0;   // its hybrid clock time (wall part), as the device signed it
  int64_t received_ms = 0;  // the server's time of receipt
  bool clock_ahead = false; // the server judged the device's clock ahead when it arrived
};

// How far a device's clock may run ahead of the server's receipt before it is judged wrong (the
// server's own drift bound for clock_ahead).
constexpr int64_t kClockToleranceMs = 5 * 60 * 1000;

struct Standing {
  Timeliness timeliness = Timeliness::missing;
  std::string counted_on;  // the date the submission counts from; "" when not submitted
  std::optional<int64_t> counted_ms;  // the time it counts from, when the submission is known
  bool capped = false;     // the device's time was after the server's receipt: the receipt counts
  bool clock_wrong = false;  // the device's clock was judged wrong (ahead); shown, not used
  bool offline_before_due = false;  // on time, but the server received it after unit_due
  bool overdue = false;    // not submitted and today is after unit_due
  // What a unit must act on or explain: submitted late, or still missing past the deadline.
  bool behind() const { return timeliness == Timeliness::late || overdue; }
};

bool is_submitted(std::string_view status);

// `today` is the date the question is asked (YYYY-MM-DD; "" means: do not judge overdue).
Standing judge(std::string_view status, std::string_view recorded_on,
               std::optional<int64_t> received_ms, std::string_view unit_due,
               std::string_view today);

// The same, judged on the change set that submitted the report (rule 2's first case).
Standing judge_submission(std::string_view status, const Submission& submission,
                          std::string_view unit_due);

// The calendar date in Vietnam of a time in milliseconds since the epoch.
std::string vietnam_date(int64_t ms);

}  // namespace tram::reporting
