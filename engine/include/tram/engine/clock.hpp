// Injected sources of time and randomness: the engine never reads the system clock or
// the OS random generator directly, so tests can run with fake clocks and fixed seeds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace tram {

// Wall-clock milliseconds since the Unix epoch. May be wrong by years, or jump backwards:
// callers must cope (see HybridClock).
class ClockSource {
 public:
  virtual ~ClockSource() = default;
  virtual int64_t now_ms() = 0;
};

// Fills buffers with random bytes.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual void fill(std::span<std::byte> out) = 0;
  uint64_t next_u64();
};

// The real system clock (std::chrono::system_clock).
class SystemClock final : public ClockSource {
 public:
  int64_t now_ms() override;
};

// libsodium's randombytes_buf: the OS CSPRNG. Use for keys and ids in production.
class SystemRandom final : public RandomSource {
 public:
  void fill(std::span<std::byte> out) override;
};

// A clock under the test's control.
class FakeClock final : public ClockSource {
 public:
  explicit FakeClock(int64_t start_ms) : now_(start_ms) {}
  int64_t now_ms() override { return now_; }
  void set(int64_t ms) { now_ = ms; }
  void advance(int64_t ms) { now_ += ms; }

 private:
  int64_t now_;
};

// Deterministic generator (splitmix64) for tests and simulations. Not for keys in production.
class SeededRandom final : public RandomSource {
 public:
  explicit SeededRandom(uint64_t seed) : state_(seed) {}
  void fill(std::span<std::byte> out) override;
  uint64_t next();
  // In [0, n), n > 0; modulo bias is negligible for the small n tests use.
  uint64_t below(uint64_t n) { return next() % n; }

 private:
  uint64_t state_;
};

}  // namespace tram
