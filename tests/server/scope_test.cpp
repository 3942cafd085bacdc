// Attacks on scope and identity through the wire: one unit reading or spoiling another's rows
// and attachments, a deleted row taken over, change sets and records under another name, and
// guessing enrolment codes or hoarding challenges (issue 11).
#include <gtest/gtest.h>

#include <algorithm>

#include "server_fixture.hpp"

namespace tram::testing {
namespace {

namespace dom = simdjson::dom;

TEST_F(ServerTest, ScopeIsolationForRowsAndPages) {
  auto minh = device("minh", 1);
  auto an = device("an", 3);
  ASSERT_EQ(results(minh->push({minh->make({put("muong-la", report("03808"))}).signed_cs}))[0].status, "accepted");
  ASSERT_EQ(results(an->push({an->make({put("to-hieu", report("03646"))}).signed_cs}))[0].status, "accepted");
  // Whatever the page size, Tô Hiệu's official never receives Mường La's report, and back.
  for (size_t limit : {1u, 7u, 1000u}) {
    std::vector<std::string> seen_an, seen_minh;
    uint64_t after = 0;
    for (int page = 0; page < 2000; ++page) {
      auto r = an->pull(after, limit);
      auto rows = pulled_rows(r, "progress_report");
      seen_an.insert(seen_an.end(), rows.begin(), rows.end());
      dom::parser p;
      auto root = p.parse(r.body).value();
      after = root["next"].get_uint64().value();
      if (!root["more"].get_bool().value()) break;
    }
    EXPECT_EQ(seen_an, std::vector<std::string>{"to-hieu"}) << "limit " << limit;
    seen_minh = pulled_rows(minh->pull(0, 1000), "progress_report");
    EXPECT_EQ(seen_minh, std::vector<std::string>{"muong-la"});
  }
  // Per-unit applicability rows are scoped too: an official gets only their unit's.
  auto applies = pulled_rows(an->pull(0, 1000), "indicator_unit");
  EXPECT_FALSE(applies.empty());
  for (const auto& id : applies) EXPECT_NE(id.find(":03646"), std::string::npos) << id;
  // And writing into another unit is refused.
  auto items = results(an->push({an->make({put("intrusion", report("03808"))}).signed_cs}));
  EXPECT_EQ(items[0].status, "rejected");
  EXPECT_EQ(items[0].code, "forbidden_scope");
  // A reviewer with the whole province sees both.
  auto reviewer = device("tai-chinh", 4);
  auto all = pulled_rows(reviewer->pull(0, 1000), "progress_report");
  EXPECT_EQ(all.size(), 2u);
}

namespace trust {

std::string upload(TestDevice& d, const std::string& hex, const std::string& bytes, size_t from = 0, size_t chunk = 64 * 1024) {
  std::string last;
  for (size_t off = from; off < bytes.size(); off += chunk) {
    const bool final = off + chunk >= bytes.size();
    auto r = d.raw("PUT", "/v1/attachments/" + hex + "?offset=" + std::to_string(off) + (final ? "&final=1" : ""),
                   bytes.substr(off, chunk), {});
    if (r.status != 200) return r.body;
    last = r.body;
  }
  return last;
}

}  // namespace trust

// Issue 11 §1: naming another unit's attachment hash grants nothing; the file is read only
// through a row of a unit that uploaded the bytes, and no one can see or spoil another's upload.
TEST_F(ServerTest, AnAttachmentHashIsNotAKeyToAnotherUnitsFile) {
  auto minh = device("minh", 1);  // unit 03808
  auto an = device("an", 3);      // unit 03646
  auto reviewer = device("tai-chinh", 4);
  const std::string photo = random_photo(7, 200 * 1024);
  const Hash h = blake2b_256(photo);
  const std::string hex = to_hex(h);
  ASSERT_EQ(results(minh->push({minh->make({put("ra", with_photo("03808", h))}).signed_cs}))[0].status, "accepted");
  // Minh's upload is half done.
  ASSERT_EQ(minh->raw("PUT", "/v1/attachments/" + hex + "?offset=0", photo.substr(0, 65536), {}).status, 200);
  // An names the same hash in a report of his own unit: accepted (he may name anything)...
  ASSERT_EQ(results(an->push({an->make({put("rb", with_photo("03646", h))}).signed_cs}))[0].status, "accepted");
  // ...but learns nothing: his status is his own (nothing received), whatever Minh has sent.
  auto st = an->raw("GET", "/v1/attachments/" + hex + "/status", "", {});
  ASSERT_EQ(st.status, 200) << st.body;
  EXPECT_NE(st.body.find("\"received\":0,\"complete\":false"), std::string::npos) << st.body;
  // A bad final chunk from An spoils only his own upload, not Minh's.
  EXPECT_EQ(an->raw("PUT", "/v1/attachments/" + hex + "?offset=0&final=1", "garbage", {}).status, 422);
  EXPECT_NE(minh->raw("GET", "/v1/attachments/" + hex + "/status", "", {}).body.find("\"received\":65536"), std::string::npos);
  // Minh finishes: his unit and the province read it; An still cannot, and cannot tell it exists.
  EXPECT_NE(trust::upload(*minh, hex, photo, 65536).find("\"complete\":true"), std::string::npos);
  EXPECT_EQ(minh->raw("GET", "/v1/attachments/" + hex, "", {}).body, photo);
  EXPECT_EQ(reviewer->raw("GET", "/v1/attachments/" + hex, "", {}).body, photo);
  EXPECT_EQ(an->raw("GET", "/v1/attachments/" + hex, "", {}).status, 404);
  st = an->raw("GET", "/v1/attachments/" + hex + "/status", "", {});
  EXPECT_NE(st.body.find("\"received\":0,\"complete\":false"), std::string::npos) << st.body;
  // PUT …/status is not an upload.
  EXPECT_EQ(an->raw("PUT", "/v1/attachments/" + hex + "/status?offset=0", "x", {}).status, 405);
  // Proof of possession: An uploads the same bytes himself, and then reads it through his row.
  EXPECT_NE(trust::upload(*an, hex, photo).find("\"complete\":true"), std::string::npos);
  EXPECT_EQ(an->raw("GET", "/v1/attachments/" + hex, "", {}).body, photo);
  // Minh's copy was never disturbed.
  EXPECT_EQ(minh->raw("GET", "/v1/attachments/" + hex, "", {}).body, photo);
}

// Issue 11 §2: a deleted row stays its unit's for ever; its tombstone keeps scope and immutables.
TEST_F(ServerTest, ADeletedRowCannotBeTakenOverByAnotherUnit) {
  auto minh = device("minh", 1);  // unit 03808
  auto an = device("an", 3);      // unit 03646
  const std::string photo = random_photo(8, 1000);
  const Hash h = blake2b_256(photo);
  auto fields = with_photo("03808", h);
  ASSERT_EQ(results(minh->push({minh->make({put("T", fields)}).signed_cs}))[0].status, "accepted");
  EXPECT_NE(trust::upload(*minh, to_hex(h), photo).find("\"complete\":true"), std::string::npos);
  Op del{"progress_report", "T", OpKind::del, {}, minh->bases("progress_report", "T", {})};
  ASSERT_EQ(results(minh->push({minh->make({del}).signed_cs}))[0].status, "accepted");
  // Another unit re-creating T in its own unit, editing it, or deleting it: refused.
  auto take = results(an->push({an->make({put("T", with_photo("03646", h))}).signed_cs}));
  EXPECT_EQ(take[0].status, "rejected");
  EXPECT_EQ(take[0].code, "forbidden_scope");
  auto edit = results(an->push({an->make({put("T", {{7, text("đã sửa")}})}).signed_cs}));
  EXPECT_EQ(edit[0].code, "forbidden_scope");
  auto del_b = results(an->push({an->make({Op{"progress_report", "T", OpKind::del, {}, {}}}).signed_cs}));
  EXPECT_EQ(del_b[0].code, "forbidden_scope");
  // Deleting a row that was never created is refused (it would leave a unit-less tombstone).
  auto ghost = results(an->push({an->make({Op{"progress_report", "never", OpKind::del, {}, {}}}).signed_cs}));
  EXPECT_EQ(ghost[0].code, "not_found");
  // Nothing of T reaches An: not the row, not the photo.
  auto rows = pulled_rows(an->pull(0), "progress_report");
  EXPECT_EQ(std::count(rows.begin(), rows.end(), "T"), 0);
  EXPECT_EQ(an->raw("GET", "/v1/attachments/" + to_hex(h), "", {}).status, 404);
  // The unit that made T re-creates it; the immutable unit stays as created.
  auto again = results(minh->push({minh->make({put("T", fields, minh->bases("progress_report", "T", {}))}).signed_cs}));
  EXPECT_EQ(again[0].status, "accepted") << again[0].code;
  auto rows_minh = pulled_rows(minh->pull(0), "progress_report");
  EXPECT_EQ(std::count(rows_minh.begin(), rows_minh.end(), "T"), 1);
}

// Issue 11 §5: a change set's author is the authenticated user.
TEST_F(ServerTest, AChangeSetSignedUnderAnotherNameIsRefused) {
  const std::string c = code("minh");
  TestDevice impostor(server_->port(), c, "so-tai-chinh", 5);
  ASSERT_TRUE(impostor.enrolled());
  auto r = results(impostor.push({impostor.make({put("r1", report("03808"))}).signed_cs}));
  EXPECT_EQ(r[0].status, "rejected");
  EXPECT_EQ(r[0].code, "author_mismatch");
}

// Issue 11 §5: a record's author is the user's registered name, not one the device picks.
TEST_F(ServerTest, ARecordWrittenUnderAnotherNameIsRefused) {
  ASSERT_EQ(run_cli({"admin", "create-user", "--data", data_, "--id", "lan", "--role", "official", "--units", "03808",
                     "--name", "Lò Văn Minh"}).first, 0);
  const std::string c = code("lan");
  TestDevice lan(server_->port(), c, "lan", 6);
  ASSERT_TRUE(lan.enrolled());
  EXPECT_NE(lan.enrol_body().find("\"name\":\"Lò Văn Minh\""), std::string::npos) << lan.enrol_body();
  auto fields = report("03808");
  for (auto& f : fields) {
    if (f.field == 11) f.value = text("Sở Tài chính");
  }
  auto forged = results(lan.push({lan.make({put("r1", fields)}).signed_cs}));
  EXPECT_EQ(forged[0].status, "rejected");
  EXPECT_EQ(forged[0].code, "author_mismatch");
  auto honest = results(lan.push({lan.make({put("r1", report("03808"))}).signed_cs}));  // author "Lò Văn Minh"
  EXPECT_EQ(honest[0].status, "accepted") << honest[0].code;
}

// Issue 11 §5: wrong enrolment codes and unanswered challenges are limited (429 + Retry-After).
TEST_F(ServerTest, GuessingEnrolmentCodesAndHoardingChallengesAreLimited) {
  int limited = 0;
  std::string retry_after;
  for (int i = 0; i < 30 && !limited; ++i) {
    auto r = http(server_->port(), "POST", "/v1/enroll",
                  "{\"code\":\"WRONG-" + std::to_string(i) + "\",\"public_key\":\"" + std::string(64, 'a') + "\"}");
    if (r.status == 429) {
      ++limited;
      retry_after = r.headers["retry-after"];
    } else {
      EXPECT_EQ(r.status, 403);
    }
  }
  EXPECT_EQ(limited, 1);
  EXPECT_FALSE(retry_after.empty());
  // A right code from the same address is also held back until the window passes: no oracle.
  auto dev = std::make_unique<TestDevice>(server_->port(), code("hoa"), "hoa", 2);
  EXPECT_FALSE(dev->enrolled());
  EXPECT_NE(http(server_->port(), "GET", "/metrics").body.find("tram_rate_limited_total{limit=\"enrol_failures\"}"),
            std::string::npos);
}

TEST_F(ServerTest, UnansweredChallengesPerDeviceAreLimited) {
  auto minh = device("minh", 1);
  int ok = 0, limited = 0;
  for (int i = 0; i < 20; ++i) {
    auto r = http(server_->port(), "POST", "/v1/auth/challenge", "{\"device\":\"" + to_hex(minh->key()) + "\"}");
    if (r.status == 200) ++ok;
    if (r.status == 429) {
      ++limited;
      EXPECT_FALSE(r.headers["retry-after"].empty());
    }
  }
  EXPECT_LE(ok, 8);
  EXPECT_GE(limited, 12);
}

}  // namespace
}  // namespace tram::testing
