#include "tram/engine/uuid.hpp"

#include <gtest/gtest.h>

namespace tram {
namespace {

TEST(UuidV7, CanonicalVersionSevenAndVariant) {
  FakeClock clock(1'780'000'000'000);
  SeededRandom rng(1);
  UuidV7Generator gen(clock, rng);
  const std::string id = gen.next();
  EXPECT_TRUE(is_canonical_uuid(id)) << id;
  EXPECT_EQ(id[14], '7');
  EXPECT_TRUE(id[19] == '8' || id[19] == '9' || id[19] == 'a' || id[19] == 'b') << id;
  // The first 48 bits are the millisecond timestamp.
  EXPECT_EQ(std::stoll(id.substr(0, 8) + id.substr(9, 4), nullptr, 16), 1'780'000'000'000);
}

TEST(UuidV7, StrictlyIncreasingWhenClockStallsOrStepsBack) {
  FakeClock clock(1'780'000'000'000);
  SeededRandom rng(2);
  UuidV7Generator gen(clock, rng);
  std::string prev = gen.next();
  for (int i = 0; i < 20'000; ++i) {
    if (i % 1000 == 999) clock.advance(-5000);  // clock jumps backwards
    if (i % 7 == 0) clock.advance(1);
    const std::string id = gen.next();
    ASSERT_LT(prev, id) << "at " << i;
    prev = id;
  }
}

TEST(UuidV7, CanonicalFormCheck) {
  EXPECT_TRUE(is_canonical_uuid("0190a3c4-5b6d-7e8f-9a0b-1c2d3e4f5a6b"));
  EXPECT_FALSE(is_canonical_uuid("0190A3C4-5B6D-7E8F-9A0B-1C2D3E4F5A6B"));
  EXPECT_FALSE(is_canonical_uuid("0190a3c45b6d7e8f9a0b1c2d3e4f5a6b"));
}

}  // namespace
}  // namespace tram
