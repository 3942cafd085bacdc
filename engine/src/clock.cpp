#include "tram/engine/clock.hpp"

#include <sodium.h>

#include <chrono>
#include <cstring>

#include "tram/engine/crypto.hpp"

namespace tram {

uint64_t RandomSource::next_u64() {
  std::byte b[8];
  fill(b);
  uint64_t v;
  std::memcpy(&v, b, sizeof v);
  return v;
}

int64_t SystemClock::now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

void SystemRandom::fill(std::span<std::byte> out) {
  crypto_init();
  randombytes_buf(out.data(), out.size());
}

uint64_t SeededRandom::next() {
  // splitmix64 (Steele, Lea, Flood 2014): small state, full period, good enough for tests.
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

void SeededRandom::fill(std::span<std::byte> out) {
  size_t i = 0;
  while (i < out.size()) {
    uint64_t v = next();
    for (int k = 0; k < 8 && i < out.size(); ++k, ++i) {
      out[i] = static_cast<std::byte>(v >> (8 * k));
    }
  }
}

}  // namespace tram
