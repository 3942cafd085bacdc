// The per-device chain verifier: every verdict, each with its own code.
#include "tram/engine/chain.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "test_support.hpp"
#include "tram/engine/device_chain.hpp"

namespace tram {
namespace {

using testing::put;
using testing::text;
using testing::must;

class Chain : public ::testing::Test {
 protected:
  FakeClock wall{1'780'000'000'000};
  HybridClock clock{wall, 300'000};
  SeededRandom rng{42};
  DeviceChain dev{DeviceKey::generate(rng), clock, "official", "sonla-2026", 1};
  ChainHead head;
  std::map<uint64_t, Hash> accepted;

  DeviceChain::Made make(std::string row) { return must(dev.make({put(std::move(row), {{1, text("03808")}})})); }
  ChainCheck check(const SignedChangeSet& s) {
    return check_chain(dev.device(), head, [&](uint64_t seq) -> std::optional<Hash> {
      auto it = accepted.find(seq);
      return it == accepted.end() ? std::nullopt : std::optional(it->second);
    }, s);
  }
  void accept(const DeviceChain::Made& m) {
    ChainCheck c = check(m.signed_cs);
    ASSERT_EQ(c.verdict, ChainVerdict::next) << c.message;
    head = {c.changeset->seq, c.id};
    accepted[c.changeset->seq] = c.id;
  }
};

TEST_F(Chain, NextLinksInOrder) {
  auto a = make("r1"), b = make("r2"), c = make("r3");
  accept(a);
  accept(b);
  ChainCheck r = check(c.signed_cs);
  EXPECT_EQ(r.verdict, ChainVerdict::next);
  EXPECT_EQ(r.code, Errc::ok);
  EXPECT_EQ(r.id, c.id);
  EXPECT_EQ(r.expected_seq, 3u);
}

TEST_F(Chain, ExactReplayIsDuplicateAtHeadAndBehindIt) {
  auto a = make("r1"), b = make("r2");
  accept(a);
  accept(b);
  EXPECT_EQ(check(b.signed_cs).code, Errc::duplicate);
  EXPECT_EQ(check(a.signed_cs).code, Errc::duplicate);
  EXPECT_EQ(check(a.signed_cs).verdict, ChainVerdict::duplicate);
}

TEST_F(Chain, GapNamesTheExpectedSequence) {
  auto a = make("r1"), b = make("r2"), c = make("r3");
  accept(a);
  ChainCheck r = check(c.signed_cs);
  EXPECT_EQ(r.verdict, ChainVerdict::gap);
  EXPECT_EQ(r.code, Errc::seq_gap);
  EXPECT_EQ(r.expected_seq, 2u);
  (void)b;
}

TEST_F(Chain, ForkSameSequenceOtherBytes) {
  // A cloned key: two devices continue the same chain differently.
  auto a = make("r1");
  ChainHead saved = dev.head();
  auto b = make("r2");
  DeviceChain clone(DeviceKey::from_seed([&] { std::array<uint8_t, 32> s{}; dev.key().export_seed(s); return s; }()),
                    clock, "official", "sonla-2026", 1, saved);
  auto b2 = must(clone.make({put("other", {{1, text("03646")}})}));
  accept(a);
  accept(b);
  ChainCheck r = check(b2.signed_cs);
  EXPECT_EQ(r.verdict, ChainVerdict::fork);
  EXPECT_EQ(r.code, Errc::fork_detected);
  // And a next-sequence change set that links to something else is a fork too.
  auto c2 = must(clone.make({put("other2", {{1, text("03646")}})}));
  EXPECT_EQ(check(c2.signed_cs).code, Errc::fork_detected);
}

TEST_F(Chain, BadSignatureAndTampering) {
  auto a = make("r1");
  SignedChangeSet s = a.signed_cs;
  s.sig[10] ^= 0x40;
  EXPECT_EQ(check(s).verdict, ChainVerdict::bad_signature);
  SignedChangeSet t = a.signed_cs;
  t.bytes[t.bytes.find("03808")] = '9';
  EXPECT_EQ(check(t).code, Errc::bad_signature);
  // Signed by another device's key.
  DeviceChain other(DeviceKey::generate(rng), clock, "x", "sonla-2026", 1);
  EXPECT_EQ(check(must(other.make({put("r", {})})).signed_cs).code, Errc::bad_signature);
}

TEST_F(Chain, MalformedButSignedCarriesTheDecodeCode) {
  SignedChangeSet s;
  s.bytes = "{\"v\":1,\"seq\":";
  s.sig = dev.key().sign(s.bytes);
  ChainCheck r = check(s);
  EXPECT_EQ(r.verdict, ChainVerdict::malformed);
  EXPECT_EQ(r.code, Errc::malformed_json);
  s.bytes = std::string(2 << 20, ' ');
  s.sig = dev.key().sign(s.bytes);
  EXPECT_EQ(check(s).code, Errc::too_large);
}

TEST_F(Chain, DeviceFieldMustMatchTheSigningKey) {
  DeviceChain other(DeviceKey::generate(rng), clock, "x", "sonla-2026", 1);
  auto m = must(other.make({put("r", {})}));
  // Re-sign another device's change set with our key: it verifies, but names the wrong device.
  SignedChangeSet s{m.signed_cs.bytes, dev.key().sign(m.signed_cs.bytes)};
  EXPECT_EQ(check(s).code, Errc::device_mismatch);
}


TEST(DeviceChainMake, RefusesWhatAReceiverWouldRefuseAndDoesNotAdvance) {
  FakeClock wall(1'780'000'000'000);
  HybridClock clock(wall, 300'000);
  SeededRandom rng(3);
  DeviceChain dev(DeviceKey::generate(rng), clock, "official", "sonla-2026", 1);
  EXPECT_EQ(dev.make({testing::put("r", {{2, Value{std::nan("")}}})}).code(), Errc::out_of_range);
  EXPECT_EQ(dev.make({testing::put("r", {{3, Value{Text{"ba\xcc\x89n"}}}})}).code(), Errc::not_normalized);
  EXPECT_EQ(dev.make({testing::put("r", {{3, Value{Text{"\xff"}}}})}).code(), Errc::invalid_utf8);
  EXPECT_EQ(dev.make({testing::put("r", {{3, testing::text("a")}, {2, Value{1.0}}})}).code(), Errc::invalid_value);
  EXPECT_EQ(dev.make({testing::put("Bad Table", {})}).code(), Errc::invalid_value);
  EXPECT_EQ(dev.make({}).code(), Errc::invalid_value);
  ChangeSetLimits tiny;
  tiny.max_bytes = 200;
  EXPECT_EQ(dev.make({testing::put("r", {{3, testing::text(std::string(300, 'x'))}})}, tiny).code(), Errc::too_large);
  EXPECT_EQ(dev.head().seq, 0u);
  auto ok = dev.make({testing::put("r", {{2, Value{1.0}}, {3, testing::text("Thuận Châu")}})});
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(ok->cs.seq, 1u);
  EXPECT_TRUE(decode(ok->signed_cs.bytes).ok());
}

}  // namespace
}  // namespace tram
