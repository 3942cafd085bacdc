// The one rule for "what is due, on time, late" (docs/operations.md §8), used by the server's
// province report and by the field app's `due`. Every date is a calendar date in Vietnam
// (UTC+7, no daylight saving); the period's unit_due is inclusive ("trước ngày 05/6" is read as
// "on or before 05/06").
//
// 1. Submitted: a report whose status is submitted, accepted or returned. A returned report was
//    submitted: the reviewer's return is a review outcome (shown as such), not lateness, so it
//    keeps the timeliness of its submission. A draft, or no report, is not submitted.
// 2. The date a submission counts from is the date the official recorded it on the device
//    (recorded_on, signed there), but never later than the day the server received it: a phone
//    whose clock runs ahead cannot make a report late (`capped` says this happened).
// 3. On time: submitted and counted on or before unit_due. Late: submitted and counted after.
//    Missing: not submitted. Missing after unit_due has passed is also `overdue`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tram::reporting {

enum class Timeliness { on_time, late, missing };
std::string_view timeliness_name(Timeliness t);  // "on_time", "late", "missing"

struct Standing {
  Timeliness timeliness = Timeliness::missing;
  std::string counted_on;  // the date the submission counts from; "" when not submitted
  bool capped = false;     // recorded_on was after the server's receipt: the receipt's date counts
  bool overdue = false;    // not submitted and today is after unit_due
  // What a unit must act on or explain: submitted late, or still missing past the deadline.
  bool behind() const { return timeliness == Timeliness::late || overdue; }
};

bool is_submitted(std::string_view status);

// `today` is the date the question is asked (YYYY-MM-DD; "" means: do not judge overdue).
Standing judge(std::string_view status, std::string_view recorded_on,
               std::optional<int64_t> received_ms, std::string_view unit_due,
               std::string_view today);

// The calendar date in Vietnam of a time in milliseconds since the epoch.
std::string vietnam_date(int64_t ms);

}  // namespace tram::reporting
