#include "tram/report/timeliness.hpp"

#include <ctime>

namespace tram::reporting {

std::string_view timeliness_name(Timeliness t) {
  switch (t) {
    case Timeliness::on_time:
      return "on_time";
    case Timeliness::late:
      return "late";
    case Timeliness::missing:
      return "missing";
  }
  return "";
}

bool is_submitted(std::string_view status) {
  return status == "submitted" || status == "accepted" || status == "returned";
}

std::string vietnam_date(int64_t ms) {
  constexpr int64_t kVietnamOffsetS = 7 * 3600;
  const auto t = static_cast<std::time_t>(ms / 1000 + kVietnamOffsetS);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  return std::string(buf, std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm));
}

Standing judge(std::string_view status, std::string_view recorded_on,
               std::optional<int64_t> received_ms, std::string_view unit_due,
               std::string_view today) {
  Standing s;
  if (!is_submitted(status)) {
    s.overdue = !today.empty() && today > unit_due;
    return s;
  }
  s.counted_on = std::string(recorded_on);
  if (received_ms) {
    const std::string received = vietnam_date(*received_ms);
    if (s.counted_on.empty() || received < s.counted_on) {
      s.counted_on = received;
      s.capped = !recorded_on.empty();
    }
  }
  s.timeliness = !s.counted_on.empty() && s.counted_on <= unit_due ? Timeliness::on_time
                                                                   : Timeliness::late;
  s.offline_before_due = s.timeliness == Timeliness::on_time && received_ms && vietnam_date(*received_ms) > unit_due;
  return s;
}

Standing judge_submission(std::string_view status, const Submission& sub, std::string_view unit_due) {
  Standing s;
  if (!is_submitted(status)) return s;
  // The device's time is a lower bound it cannot push back (its clock is raised to every signed
  // receipt's time), the receipt an upper bound it cannot push forward.
  s.capped = sub.claimed_ms > sub.received_ms;
  s.clock_wrong = sub.clock_ahead || sub.claimed_ms > sub.received_ms + kClockToleranceMs;
  s.counted_ms = s.capped ? sub.received_ms : sub.claimed_ms;
  s.counted_on = vietnam_date(*s.counted_ms);
  s.timeliness = s.counted_on <= unit_due ? Timeliness::on_time : Timeliness::late;
  s.offline_before_due = s.timeliness == Timeliness::on_time && vietnam_date(sub.received_ms) > unit_due;
  return s;
}

}  // namespace tram::reporting
