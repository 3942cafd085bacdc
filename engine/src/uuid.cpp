#include "tram/engine/uuid.hpp"

#include <algorithm>

namespace tram {

std::string UuidV7Generator::next() {
  int64_t ms = std::max<int64_t>(clock_.now_ms(), 0);
  if (ms > last_ms_) {
    last_ms_ = ms;
    counter_ = static_cast<uint32_t>(random_.next_u64() & 0x1ff);  // leave room to count up
  } else {
    // Same or earlier millisecond: stay at last_ms_ and count, so ids keep increasing.
    if (++counter_ > 0xfff) {
      ++last_ms_;
      counter_ = 0;
    }
  }
  std::array<uint8_t, 16> b{};
  const uint64_t t = static_cast<uint64_t>(last_ms_);
  for (int i = 0; i < 6; ++i) b[i] = static_cast<uint8_t>(t >> (8 * (5 - i)));
  b[6] = static_cast<uint8_t>(0x70 | (counter_ >> 8));
  b[7] = static_cast<uint8_t>(counter_ & 0xff);
  const uint64_t r = random_.next_u64();
  for (int i = 0; i < 8; ++i) b[8 + i] = static_cast<uint8_t>(r >> (8 * i));
  b[8] = static_cast<uint8_t>(0x80 | (b[8] & 0x3f));  // RFC 9562 variant

  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[b[i] >> 4]);
    out.push_back(kHex[b[i] & 0xf]);
  }
  return out;
}

bool is_canonical_uuid(std::string_view s) noexcept {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < 36; ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace tram
