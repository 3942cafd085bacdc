// Hybrid logical clock (Kulkarni et al.): orders a device's own edits even when its wall
// clock is wrong or jumps backwards, and follows the largest time seen from others.
// A timestamp packs 47 bits of wall milliseconds and 16 bits of logical counter into a
// non-negative int64, so that integer order is timestamp order.
#pragma once

#include <cstdint>
#include <string>

#include "tram/engine/clock.hpp"
#include "tram/engine/status.hpp"

namespace tram {

struct Hlc {
  static constexpr int kCounterBits = 16;
  static constexpr int64_t kMaxWallMs = (int64_t{1} << 47) - 1;  // year 6429
  static constexpr uint32_t kMaxCounter = (1u << kCounterBits) - 1;

  int64_t packed = 0;

  static Hlc from_parts(int64_t wall_ms, uint32_t counter) {
    return Hlc{(wall_ms << kCounterBits) | counter};
  }
  int64_t wall_ms() const { return packed >> kCounterBits; }
  uint32_t counter() const { return static_cast<uint32_t>(packed & kMaxCounter); }
  // "2026-06-03T08:15:00.123Z+5" (wall time in UTC, then the counter), for logs.
  std::string to_string() const;

  auto operator<=>(const Hlc&) const = default;
};

// Not thread-safe: one per device (or per server writer).
class HybridClock {
 public:
  // max_drift_ms: how far ahead of our wall clock a remote timestamp may be before
  // update() refuses it rather than dragging our clock into the future.
  HybridClock(ClockSource& source, int64_t max_drift_ms)
      : source_(source), max_drift_ms_(max_drift_ms) {}

  // A timestamp for a local event: greater than every one returned or accepted before.
  Hlc now();

  // Merges a timestamp received from elsewhere. Fails with clock_skew (and leaves the clock
  // unchanged) when it is more than max_drift_ms ahead of our wall clock.
  Status update(Hlc remote);

  // Never again issues a timestamp before `trusted_wall_ms`, a time a trusted source showed (the
  // server's signed receipt), however far it is from the local wall clock: a phone whose clock
  // was set back cannot date its next change set before the last server time it saw. That
  // lower bound is what makes a change set's time usable as a submission time (report/
  // timeliness.hpp). Unlike update(), no drift check: the server's clock is the reference.
  void raise_to(int64_t trusted_wall_ms);

  // The last timestamp issued or accepted (0 before the first).
  Hlc last() const { return last_; }
  // Restores persisted state, e.g. after a restart, so timestamps never repeat.
  void restore(Hlc last) {
    if (last > last_) last_ = last;
  }

 private:
  int64_t wall_now() const;

  ClockSource& source_;
  int64_t max_drift_ms_;
  Hlc last_{};
};

// How a change set's claimed time compares with the receiver's clock. The server stores the
// verdict: a timestamp far in the future is accepted but never wins a conflict.
enum class ClockTrust { trusted, ahead };
ClockTrust judge_clock(Hlc claimed, int64_t receiver_now_ms, int64_t max_drift_ms);

}  // namespace tram
