// The hybrid logical clock with the clocks cheap phones really have: years ahead, at 1970,
// and jumping backwards.
#include "tram/engine/hlc.hpp"

#include <gtest/gtest.h>

namespace tram {
namespace {

constexpr int64_t kNow = 1'780'000'000'000;  // 2026-05-28
constexpr int64_t kYearMs = 365LL * 24 * 3600 * 1000;
constexpr int64_t kMaxDrift = 5 * 60 * 1000;

TEST(Hlc, PackingOrdersLikeTime) {
  const Hlc a = Hlc::from_parts(kNow, 5), b = Hlc::from_parts(kNow, 6), c = Hlc::from_parts(kNow + 1, 0);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_EQ(a.wall_ms(), kNow);
  EXPECT_EQ(a.counter(), 5u);
  EXPECT_EQ(Hlc::from_parts(0, 3).to_string(), "1970-01-01T00:00:00.000Z+3");
}

TEST(Hlc, DeviceFiveYearsAheadIsFlaggedAndRefusedByTheServer) {
  FakeClock device_wall(kNow + 5 * kYearMs), server_wall(kNow);
  HybridClock device(device_wall, kMaxDrift), server(server_wall, kMaxDrift);
  const Hlc stamp = device.now();
  EXPECT_EQ(stamp.wall_ms(), kNow + 5 * kYearMs);
  // The server does not let the future drag its own clock along…
  const Status st = server.update(stamp);
  EXPECT_EQ(st.code(), Errc::clock_skew);
  EXPECT_LT(server.now().wall_ms(), kNow + 1000);
  // …and judges the change set's clock as ahead (it is accepted but never wins a conflict).
  EXPECT_EQ(judge_clock(stamp, server_wall.now_ms(), kMaxDrift), ClockTrust::ahead);
  EXPECT_EQ(judge_clock(server.now(), server_wall.now_ms(), kMaxDrift), ClockTrust::trusted);
}

TEST(Hlc, DeviceAt1970CatchesUpAfterHearingFromTheServer) {
  FakeClock device_wall(0), server_wall(kNow);
  HybridClock device(device_wall, kMaxDrift), server(server_wall, kMaxDrift);
  const Hlc before = device.now();
  EXPECT_EQ(before.wall_ms(), 0);
  // From 1970 the server's time looks decades ahead; a device has no better time source, so
  // it adopts it when told it explicitly (after a pull), here with an unlimited drift bound.
  HybridClock trusting(device_wall, std::numeric_limits<int32_t>::max() * 1000LL);
  ASSERT_TRUE(trusting.update(server.now()).ok());
  const Hlc after = trusting.now();
  EXPECT_GE(after.wall_ms(), kNow);
  // The bounded clock refuses, leaving its order intact.
  EXPECT_EQ(device.update(server.now()).code(), Errc::clock_skew);
  EXPECT_GT(device.now(), before);
  EXPECT_EQ(judge_clock(before, kNow, kMaxDrift), ClockTrust::trusted);  // the past is not a threat
}

TEST(Hlc, ASignedServerTimeIsAFloorWhateverTheDrift) {
  // A phone set to 1970 (or a year back) that has seen a receipt signed at kNow never dates a
  // later change set before kNow: the lower bound of the submission-time rule.
  for (const int64_t wall : {int64_t{0}, kNow - kYearMs}) {
    FakeClock device_wall(wall);
    HybridClock device(device_wall, kMaxDrift);
    device.raise_to(kNow);
    const Hlc a = device.now(), b = device.now();
    EXPECT_EQ(a.wall_ms(), kNow) << wall;
    EXPECT_GT(b, a);
    // An older trusted time never lowers it.
    device.raise_to(kNow - 1000);
    EXPECT_GT(device.now(), b);
  }
  // A phone ahead keeps its own (later) time; the server flags it (judge_clock).
  FakeClock ahead_wall(kNow + kYearMs);
  HybridClock ahead(ahead_wall, kMaxDrift);
  ahead.raise_to(kNow);
  EXPECT_EQ(ahead.now().wall_ms(), kNow + kYearMs);
}

TEST(Hlc, ClockJumpingBackwardsStaysMonotonic) {
  FakeClock wall(kNow);
  HybridClock clock(wall, kMaxDrift);
  Hlc prev = clock.now();
  for (int i = 0; i < 1000; ++i) {
    if (i == 100) wall.set(kNow - kYearMs);   // user sets the date a year back
    if (i == 500) wall.set(kNow - 10);        // NTP steps back a little
    if (i % 3 == 0) wall.advance(1);
    const Hlc t = clock.now();
    ASSERT_GT(t, prev) << "at " << i;
    prev = t;
  }
  EXPECT_GE(prev.wall_ms(), kNow);  // never went back to last year
}

TEST(Hlc, CounterOverflowBorrowsTheNextMillisecond) {
  FakeClock wall(kNow);
  HybridClock clock(wall, kMaxDrift);
  Hlc prev = clock.now();
  for (uint32_t i = 0; i < Hlc::kMaxCounter + 10; ++i) {
    const Hlc t = clock.now();
    ASSERT_GT(t, prev);
    prev = t;
  }
  EXPECT_EQ(prev.wall_ms(), kNow + 1);
}

TEST(Hlc, UpdateFollowsTheLargestTimeSeen) {
  FakeClock wall(kNow);
  HybridClock clock(wall, kMaxDrift);
  const Hlc remote = Hlc::from_parts(kNow + 1000, 7);
  ASSERT_TRUE(clock.update(remote).ok());
  EXPECT_GT(clock.now(), remote);
  clock.restore(Hlc::from_parts(kNow + 2000, 0));
  EXPECT_GT(clock.now().wall_ms(), kNow + 1999);
}

}  // namespace
}  // namespace tram
