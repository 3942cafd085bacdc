// The change-set encoding: round trips, golden files that pin the bytes, and every kind of
// bad input with its own error code.
#include "tram/engine/changeset.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "test_support.hpp"

namespace tram {
namespace {

using testing::del;
using testing::put;
using testing::text;

// RFC 8032 TEST 1 secret: golden signatures are reproducible by anyone.
DeviceKey golden_key() {
  return DeviceKey::from_seed(*from_hex<32>("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
}

ChangeSet golden_basic(const DeviceKey& key) {
  ChangeSet cs;
  cs.device = key.public_key();
  cs.seq = 1;
  cs.hlc = Hlc::from_parts(1'780'473'600'000, 0);  // 2026-06-03 08:00 UTC
  cs.author = "can-bo-03808-01";
  cs.schema = "sonla-2026";
  cs.schema_version = 1;
  cs.ops.push_back(put("01977d2a-7c00-7000-8000-000000000001",
                       {{1, text("03808")},
                        {2, Value{48.5}},
                        {3, text("Đã lắp đặt 12 bể chứa nước sạch cho bản Nà Cài; \"khó khăn\": đường sạt lở\n")},
                        {4, Value{int64_t{2}}},
                        {5, Value{false}},
                        {6, Value{*Date::parse("2026-06-03")}},
                        {7, Value{AttachmentRef{blake2b_256("ảnh minh chứng")}}}}));
  return cs;
}

ChangeSet golden_chained(const DeviceKey& key, const Hash& prev) {
  ChangeSet cs;
  cs.device = key.public_key();
  cs.seq = 2;
  cs.prev = prev;
  cs.hlc = Hlc::from_parts(1'780'473'600'000, 1);
  cs.author = "can-bo-03808-01";
  cs.schema = "sonla-2026";
  cs.schema_version = 1;
  const WriterId w = WriterId::of(prev);
  cs.ops.push_back(put("01977d2a-7c00-7000-8000-000000000001", {{2, Value{52.0}}, {3, Value{}}}, {{2, w}, {3, w}}));
  cs.ops.push_back(del("01977d2a-7c00-7000-8000-000000000002", {{0, w}}));
  return cs;
}

std::string read_file(const std::string& name) {
  std::ifstream in(std::string(TRAM_GOLDEN_DIR) + "/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// TRAM_UPDATE_GOLDEN=1 rewrites the golden files (only when the format changes on purpose,
// which also means a new format version: see docs/changeset-format.md).
void check_golden(const std::string& name, const std::string& bytes, const Signature& sig) {
  const std::string sig_hex = to_hex(sig) + "\n", id_hex = to_hex(blake2b_256(bytes)) + "\n";
  if (std::getenv("TRAM_UPDATE_GOLDEN")) {
    std::ofstream(std::string(TRAM_GOLDEN_DIR) + "/" + name + ".json", std::ios::binary) << bytes;
    std::ofstream(std::string(TRAM_GOLDEN_DIR) + "/" + name + ".sig") << sig_hex;
    std::ofstream(std::string(TRAM_GOLDEN_DIR) + "/" + name + ".id") << id_hex;
  }
  EXPECT_EQ(bytes, read_file(name + ".json")) << "encoding changed: " << name;
  EXPECT_EQ(sig_hex, read_file(name + ".sig"));
  EXPECT_EQ(id_hex, read_file(name + ".id"));
}

void expect_same(const ChangeSet& a, const ChangeSet& b) {
  EXPECT_EQ(encode(a), encode(b));
  EXPECT_EQ(a.seq, b.seq);
  EXPECT_EQ(a.hlc, b.hlc);
  ASSERT_EQ(a.ops.size(), b.ops.size());
  for (size_t i = 0; i < a.ops.size(); ++i) {
    EXPECT_EQ(a.ops[i].table, b.ops[i].table);
    EXPECT_EQ(a.ops[i].row, b.ops[i].row);
    EXPECT_EQ(a.ops[i].kind, b.ops[i].kind);
    ASSERT_EQ(a.ops[i].fields.size(), b.ops[i].fields.size());
    for (size_t j = 0; j < a.ops[i].fields.size(); ++j) {
      EXPECT_EQ(a.ops[i].fields[j].field, b.ops[i].fields[j].field);
      EXPECT_EQ(a.ops[i].fields[j].value, b.ops[i].fields[j].value);
    }
    ASSERT_EQ(a.ops[i].bases.size(), b.ops[i].bases.size());
  }
}

TEST(ChangeSetGolden, BasicPutPinsBytesIdAndSignature) {
  const DeviceKey key = golden_key();
  const ChangeSet cs = golden_basic(key);
  const SignedChangeSet s = sign_changeset(cs, key);
  check_golden("changeset-v1-basic", s.bytes, s.sig);
  auto decoded = decode(read_file("changeset-v1-basic.json"));
  ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
  expect_same(*decoded, cs);
  EXPECT_TRUE(verify_signature(key.public_key(), read_file("changeset-v1-basic.json"),
                               *from_hex<64>(read_file("changeset-v1-basic.sig").substr(0, 128))));
}

TEST(ChangeSetGolden, ChainedEditAndDeletePinBytes) {
  const DeviceKey key = golden_key();
  const Hash prev = sign_changeset(golden_basic(key), key).id();
  const ChangeSet cs = golden_chained(key, prev);
  const SignedChangeSet s = sign_changeset(cs, key);
  check_golden("changeset-v1-chained", s.bytes, s.sig);
  auto decoded = decode(s.bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
  expect_same(*decoded, cs);
  EXPECT_EQ(decoded->ops[1].base_of(0), WriterId::of(prev));
  EXPECT_EQ(decoded->prev, prev);
}

TEST(ChangeSet, RoundTripsEveryValueAndExtremes) {
  const DeviceKey key = golden_key();
  ChangeSet cs = golden_basic(key);
  cs.seq = (uint64_t{1} << 53) - 1;
  cs.prev = blake2b_256("x");
  cs.hlc = Hlc::from_parts(Hlc::kMaxWallMs, Hlc::kMaxCounter);
  cs.ops[0].fields = {{1, text("\x01\x1f tab\t \\ \" /")},
                      {2, Value{-1.25e-300}},
                      {4, Value{std::numeric_limits<int64_t>::min()}},
                      {5, Value{true}},
                      {6, Value{*Date::parse("0001-01-01")}}};
  auto decoded = decode(encode(cs));
  ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
  expect_same(*decoded, cs);
}

// Found by fuzz/pull_page: std::to_chars writes 2^64 as the integer 18446744073709551616, which
// simdjson refuses (beyond 64-bit integers), so the encoder's own output did not decode.
TEST(ChangeSet, RealsBeyondSixtyFourBitIntegersRoundTrip) {
  const DeviceKey key = golden_key();
  for (const double d : {18446744073709551616.0, 1.8446744073709552e21, -9223372036854775808.0 * 2, 1e300,
                         9223372036854775808.0, -9223372036854775808.0, 123456789012345680000.0}) {
    ChangeSet cs = golden_basic(key);
    cs.ops[0].fields = {{2, Value{d}}};
    const std::string bytes = encode(cs);
    auto decoded = decode(bytes);
    ASSERT_TRUE(decoded.ok()) << d << ": " << bytes << ": " << decoded.status().to_string();
    EXPECT_EQ(std::get<double>(decoded->ops[0].fields[0].value), d);
    EXPECT_EQ(encode(*decoded), bytes);
  }
  // Within 64-bit integers the shortest form stays as it was (§5.5): the golden bytes do not move.
  ChangeSet cs = golden_basic(key);
  cs.ops[0].fields = {{2, Value{9223372036854775808.0}}, {3, text("x")}};
  EXPECT_NE(encode(cs).find("[\"r\",9223372036854775808]"), std::string::npos) << encode(cs);
}

// A zero has one spelling: -0.0 is written 0, so encode(decode(b)) == b at the first round
// (simdjson reads `-0` as the integer 0; format §5.5).
TEST(ChangeSet, NegativeZeroIsWrittenAsZero) {
  const DeviceKey key = golden_key();
  ChangeSet cs = golden_basic(key);
  cs.ops[0].fields = {{2, Value{-0.0}}, {3, text("x")}};
  const std::string bytes = encode(cs);
  EXPECT_NE(bytes.find("[\"r\",0]"), std::string::npos) << bytes;
  EXPECT_EQ(bytes.find("[\"r\",-0"), std::string::npos) << bytes;
  auto decoded = decode(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().to_string();
  EXPECT_EQ(encode(*decoded), bytes);
}

TEST(ChangeSet, DecodeAcceptsAnyMemberOrder) {
  const DeviceKey key = golden_key();
  const std::string json =
      "{\"ops\":[{\"k\":\"put\",\"f\":{\"2\":[\"r\",1],\"1\":[\"t\",\"03808\"]},\"id\":\"r1\",\"t\":\"progress_report\"}],"
      "\"schema_v\":1,\"schema\":\"sonla-2026\",\"author\":\"a\",\"hlc\":[5,0],\"prev\":null,\"seq\":1,"
      "\"device\":\"" + to_hex(key.public_key()) + "\",\"v\":1}";
  auto d = decode(json);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->ops[0].fields[0].field, 1u);  // sorted by field id
  EXPECT_EQ(d->ops[0].fields[1].value, Value{1.0});
}

// Bad input: each defect has its own code.
class ChangeSetBadInput : public ::testing::Test {
 protected:
  std::string good = sign_changeset(golden_basic(golden_key()), golden_key()).bytes;
  std::string with(std::string_view from, std::string_view to) {
    std::string s = good;
    const size_t at = s.find(from);
    EXPECT_NE(at, std::string::npos) << from;
    s.replace(at, from.size(), to);
    return s;
  }
  Errc code(const std::string& bytes, const ChangeSetLimits& limits = {}) { return decode(bytes, limits).code(); }
};

TEST_F(ChangeSetBadInput, GoodIsGood) { EXPECT_EQ(code(good), Errc::ok); }

TEST_F(ChangeSetBadInput, TruncatedBytes) {
  for (size_t n : {size_t{0}, size_t{1}, good.size() / 2, good.size() - 1}) {
    EXPECT_EQ(code(good.substr(0, n)), Errc::malformed_json) << n;
  }
  EXPECT_EQ(code(good + "x"), Errc::malformed_json);  // trailing garbage
  EXPECT_EQ(code(with("[\"i\",2]", "[\"i\",02]")), Errc::malformed_json);
  EXPECT_EQ(code(with("[\"r\",48.5]", "[\"r\",48.e5]")), Errc::malformed_json);
}

TEST_F(ChangeSetBadInput, WrongTypes) {
  EXPECT_EQ(code(with("\"seq\":1", "\"seq\":\"1\"")), Errc::wrong_type);
  EXPECT_EQ(code(with("\"ops\":[", "\"ops\":7,\"z\":[")), Errc::wrong_type);
  EXPECT_EQ(code(with("[\"i\",2]", "[\"i\",2.5]")), Errc::wrong_type);
  EXPECT_EQ(code(with("[\"b\",false]", "[\"b\",0]")), Errc::wrong_type);
  EXPECT_EQ(code(with("\"author\":", "\"author\":7,\"x\":")), Errc::wrong_type);
  EXPECT_EQ(code("[1,2]"), Errc::wrong_type);
}

TEST_F(ChangeSetBadInput, NumbersOutOfRange) {
  EXPECT_EQ(code(with("[\"i\",2]", "[\"i\",9223372036854775808]")), Errc::out_of_range);
  EXPECT_EQ(code(with("[\"i\",2]", "[\"i\",123456789012345678901234567890]")), Errc::out_of_range);
  EXPECT_EQ(code(with("\"seq\":1", "\"seq\":9007199254740992")), Errc::out_of_range);
  EXPECT_EQ(code(with("\"seq\":1", "\"seq\":-1")), Errc::out_of_range);
  EXPECT_EQ(code(with("\"seq\":1", "\"seq\":0")), Errc::out_of_range);
  EXPECT_EQ(code(with("\"hlc\":[1780473600000,0]", "\"hlc\":[140737488355328,0]")), Errc::out_of_range);
  EXPECT_EQ(code(with("\"hlc\":[1780473600000,0]", "\"hlc\":[1780473600000,65536]")), Errc::out_of_range);
  EXPECT_EQ(code(with("[\"r\",48.5]", "[\"r\",1e999]")), Errc::out_of_range);
}

TEST_F(ChangeSetBadInput, DeepNesting) {
  std::string deep = std::string(100, '[') + "1" + std::string(100, ']');
  EXPECT_EQ(code(with("[\"r\",48.5]", deep)), Errc::too_deep);
  EXPECT_EQ(code(std::string(10000, '[') + std::string(10000, ']')), Errc::too_deep);
}

TEST_F(ChangeSetBadInput, DuplicateKeys) {
  EXPECT_EQ(code(with("\"seq\":1", "\"seq\":1,\"seq\":1")), Errc::duplicate_key);
  EXPECT_EQ(code(with("\"1\":[\"t\"", "\"2\":[\"r\",1],\"1\":[\"t\"")), Errc::duplicate_key);
  EXPECT_EQ(code(with("\"k\":\"put\"", "\"k\":\"put\",\"k\":\"del\"")), Errc::duplicate_key);
}

TEST_F(ChangeSetBadInput, InvalidUtf8AndNotNfc) {
  EXPECT_EQ(code(with("bản Nà Cài", "b\xff\xfe n")), Errc::invalid_utf8);
  EXPECT_EQ(code(with("bản Nà Cài", "ba\xcc\x89n")), Errc::not_normalized);  // NFD "bản"
}

TEST_F(ChangeSetBadInput, OversizedFields) {
  const std::string big(40'000, 'a');
  EXPECT_EQ(code(with("bản Nà Cài", big)), Errc::too_large);
  ChangeSetLimits small;
  small.max_bytes = 100;
  EXPECT_EQ(code(good, small), Errc::too_large);
  EXPECT_EQ(code(with("\"author\":\"can-bo-03808-01\"", "\"author\":\"" + std::string(200, 'x') + "\"")),
            Errc::too_large);
}

TEST_F(ChangeSetBadInput, MissingUnknownVersionAndValues) {
  EXPECT_EQ(code(with("\"seq\":1,", "")), Errc::missing_field);
  EXPECT_EQ(code(with("\"v\":1,", "")), Errc::missing_field);
  EXPECT_EQ(code(with("\"seq\":1", "\"seq\":1,\"extra\":true")), Errc::unknown_field);
  EXPECT_EQ(code(with("\"v\":1", "\"v\":2")), Errc::unsupported_version);
  EXPECT_EQ(code(with("2026-06-03", "2026-02-30")), Errc::invalid_value);
  EXPECT_EQ(code(with("\"t\":\"progress_report\"", "\"t\":\"Progress Report\"")), Errc::invalid_value);
  EXPECT_EQ(code(with("\"k\":\"put\"", "\"k\":\"upsert\"")), Errc::invalid_value);
  EXPECT_EQ(code(with("\"1\":[\"t\"", "\"01\":[\"t\"")), Errc::invalid_value);
  EXPECT_EQ(code(with("\"1\":[\"t\"", "\"0\":[\"t\"")), Errc::invalid_value);
  EXPECT_EQ(code(with("[\"i\",2]", "[\"x\",2]")), Errc::invalid_value);
  EXPECT_EQ(code(with("\"prev\":null", "\"prev\":\"" + std::string(64, '0') + "\"")), Errc::invalid_value);
  EXPECT_EQ(code(with("\"ops\":[", "\"ops\":[],\"o\":[")), Errc::invalid_value);
}

}  // namespace
}  // namespace tram
