// Time-ordered row ids (UUIDv7, RFC 9562). Ids created one after another sort one after
// another, so SQLite appends to the end of its B-tree instead of splitting pages at random.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "tram/engine/clock.hpp"

namespace tram {

// Generates UUIDv7 strings ("0190a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b"), strictly increasing
// for one generator even when the clock stands still or steps back (RFC 9562 method 1:
// a 12-bit counter in rand_a, reseeded each new millisecond). Not thread-safe.
class UuidV7Generator {
 public:
  UuidV7Generator(ClockSource& clock, RandomSource& random) : clock_(clock), random_(random) {}
  std::string next();

 private:
  ClockSource& clock_;
  RandomSource& random_;
  int64_t last_ms_ = -1;
  uint32_t counter_ = 0;
};

// True for the canonical lowercase 36-character form of any UUID.
bool is_canonical_uuid(std::string_view s) noexcept;

}  // namespace tram
