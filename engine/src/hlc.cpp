#include "tram/engine/hlc.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace tram {

std::string Hlc::to_string() const {
  const int64_t ms = wall_ms();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ+%u", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000), counter());
  return buf;
}

int64_t HybridClock::wall_now() const {
  // A clock before 1970 or past the format's range is clamped; the logical part keeps order.
  return std::clamp<int64_t>(source_.now_ms(), 0, Hlc::kMaxWallMs);
}

Hlc HybridClock::now() {
  const int64_t wall = wall_now();
  if (wall > last_.wall_ms()) {
    last_ = Hlc::from_parts(wall, 0);
  } else if (last_.counter() < Hlc::kMaxCounter) {
    last_ = Hlc{last_.packed + 1};
  } else {
    // 65,536 events in one millisecond (or while the clock stands still): borrow the next
    // millisecond rather than repeat a timestamp.
    last_ = Hlc::from_parts(last_.wall_ms() + 1, 0);
  }
  return last_;
}

Status HybridClock::update(Hlc remote) {
  const int64_t wall = wall_now();
  if (remote.wall_ms() > wall + max_drift_ms_) {
    return {Errc::clock_skew, "remote time " + remote.to_string() + " is more than " +
                                  std::to_string(max_drift_ms_) + " ms ahead of local time"};
  }
  if (remote > last_) last_ = remote;
  return {};
}

void HybridClock::raise_to(int64_t trusted_wall_ms) {
  const Hlc floor = Hlc::from_parts(std::clamp<int64_t>(trusted_wall_ms, 0, Hlc::kMaxWallMs), 0);
  if (floor > last_) last_ = floor;
}

ClockTrust judge_clock(Hlc claimed, int64_t receiver_now_ms, int64_t max_drift_ms) {
  return claimed.wall_ms() > receiver_now_ms + max_drift_ms ? ClockTrust::ahead
                                                            : ClockTrust::trusted;
}

}  // namespace tram
