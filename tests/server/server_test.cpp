// The real tram-server process on loopback: enrolment, sessions, push and pull round trips,
// every rejection code, scope isolation, replays, forks, revocation and limits.
// Longer than ~400 lines: one server process fixture and its helpers serve every case here; the
// cases are grouped by route (enrolment, push, pull, attachments, limits) in file order.
#include <gtest/gtest.h>

#include <poll.h>

#include <fstream>
#include <functional>
#include <set>

#include "tram/engine/gzip.hpp"
#include "harness.hpp"

namespace tram::testing {
namespace {

namespace dom = simdjson::dom;

Value text(const char* s) { return Value{Text{s}}; }

// A full progress report for `unit` (schema sonla-2026 v2 field ids).
std::vector<FieldWrite> report(const char* unit, const char* status = "draft", double value = 42.0) {
  return {{1, text(unit)},           {2, text("CT-BACSI-TRAMYTE")},          {4, text("2026-H1")},
          {5, Value{value}},         {6, text("on_track")},                  {7, text("Trạm y tế có 2 bác sĩ")},
          {11, text("Lò Văn Minh")}, {12, Value{*Date::parse("2026-06-03")}}, {13, text(status)}};
}
Op put(std::string row, std::vector<FieldWrite> f, std::vector<FieldBase> b = {}) {
  return Op{"progress_report", std::move(row), OpKind::put, std::move(f), std::move(b)};
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = ::testing::TempDir() + "/tram-server-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(data_);
    ASSERT_EQ(run_cli({"seed", "--data", data_}).first, 0);
    ASSERT_EQ(run_cli({"admin", "create-user", "--data", data_, "--id", "minh", "--role", "official", "--units", "03808"}).first, 0);
    ASSERT_EQ(run_cli({"admin", "create-user", "--data", data_, "--id", "hoa", "--role", "official", "--units", "03808"}).first, 0);
    ASSERT_EQ(run_cli({"admin", "create-user", "--data", data_, "--id", "an", "--role", "official", "--units", "03646"}).first, 0);
    ASSERT_EQ(run_cli({"admin", "create-user", "--data", data_, "--id", "tai-chinh", "--role", "reviewer", "--all-units"}).first, 0);
    server_ = std::make_unique<ServerProcess>(data_);
  }
  std::string code(const char* user) {
    auto [rc, out] = run_cli({"admin", "enrol-code", "--data", data_, "--user", user});
    EXPECT_EQ(rc, 0) << out;
    return out.substr(0, out.find('\n'));
  }
  std::unique_ptr<TestDevice> device(const char* user, uint64_t seed) {
    auto d = std::make_unique<TestDevice>(server_->port(), code(user), user, seed);
    EXPECT_TRUE(d->enrolled()) << d->enrol_body();
    return d;
  }
  std::string server_key() {
    dom::parser p;
    std::string_view k;
    if (p.parse(http(server_->port(), "GET", "/v1/server-key").body)["key"].get_string().get(k)) return {};
    return std::string(k);
  }
  std::string admin_token() {
    auto out = run_cli({"admin", "token", "--data", data_}).second;
    return out.substr(0, out.find('\n'));
  }

  std::string data_;
  std::unique_ptr<ServerProcess> server_;
};

// The per-item results of a push.
struct Item {
  std::string status, code, id, message;
  uint64_t expected_seq = 0;
  std::string receipt_body, receipt_sig;
  bool clock_ahead = false;
};
std::vector<Item> results(const HttpResponse& r) {
  EXPECT_EQ(r.status, 200) << r.body;
  std::vector<Item> out;
  dom::parser p;
  dom::element root;
  if (p.parse(r.body).get(root)) return out;
  for (dom::element e : root["results"].get_array()) {
    Item it;
    std::string_view s;
    if (!e["status"].get_string().get(s)) it.status = s;
    if (!e["code"].get_string().get(s)) it.code = s;
    if (!e["id"].get_string().get(s)) it.id = s;
    if (!e["message"].get_string().get(s)) it.message = s;
    uint64_t n;
    if (!e["expected_seq"].get_uint64().get(n)) it.expected_seq = n;
    if (!e["receipt"]["body"].get_string().get(s)) it.receipt_body = s;
    if (!e["receipt"]["sig"].get_string().get(s)) it.receipt_sig = s;
    bool b;
    if (!e["clock_ahead"].get_bool().get(b)) it.clock_ahead = b;
    out.push_back(it);
  }
  return out;
}

// Row ids in a pull page.
std::vector<std::string> pulled_rows(const HttpResponse& r, const std::string& table) {
  EXPECT_EQ(r.status, 200) << r.body;
  std::vector<std::string> out;
  dom::parser p;
  dom::element root;
  if (p.parse(r.body).get(root)) return out;
  for (dom::element e : root["rows"].get_array()) {
    if (std::string_view(e["t"].get_string().value()) == table) out.emplace_back(std::string_view(e["id"].get_string().value()));
  }
  return out;
}

TEST_F(ServerTest, PushGetsAVerifiableReceiptAndPullReturnsTheRow) {
  auto minh = device("minh", 1);
  auto made = minh->make({put("r1", report("03808"))});
  auto items = results(minh->push({made.signed_cs}));
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].status, "accepted");
  EXPECT_EQ(items[0].id, to_hex(made.id));
  // The receipt is signed by the server key published at /v1/server-key.
  const auto key = from_hex<32>(server_key());
  const auto sig = from_hex<64>(items[0].receipt_sig);
  ASSERT_TRUE(key && sig);
  EXPECT_TRUE(verify_signature(*key, items[0].receipt_body, *sig));
  EXPECT_NE(items[0].receipt_body.find("\"status\":\"accepted\""), std::string::npos);
  EXPECT_NE(items[0].receipt_body.find(to_hex(made.id)), std::string::npos);
  std::string tampered = items[0].receipt_body;
  tampered[tampered.find("accepted")] = 'A';
  EXPECT_FALSE(verify_signature(*key, tampered, *sig));
  // Another official of the same commune pulls it, with reference data.
  auto hoa = device("hoa", 2);
  auto page = hoa->pull(0);
  EXPECT_EQ(pulled_rows(page, "progress_report"), std::vector<std::string>{"r1"});
  EXPECT_EQ(pulled_rows(page, "unit").size(), 75u);
}

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

// A fresh device's snapshot (protocol §8.3): every readable row exactly once, table by table in
// id order, in scope at every page size, resumable from any page's cursor; what changes while it
// is paged arrives through the pull from its "next"; a forged cursor is refused.
TEST_F(ServerTest, SnapshotInIdOrderScopedResumableThenPull) {
  auto minh = device("minh", 1);
  auto an = device("an", 3);
  std::vector<Op> mine;
  for (const char* id : {"m-3", "m-1", "m-2"}) mine.push_back(put(id, report("03808")));
  ASSERT_EQ(results(minh->push({minh->make(std::move(mine)).signed_cs}))[0].status, "accepted");
  ASSERT_EQ(results(an->push({an->make({put("a-1", report("03646"))}).signed_cs}))[0].status, "accepted");
  struct Seen {
    std::vector<std::pair<std::string, std::string>> rows;  // (table, id) in arrival order
    uint64_t next = 0;
    int pages = 0;
  };
  auto take = [](TestDevice& d, size_t limit, const std::function<void()>& after_first_page = {}) {
    Seen seen;
    std::string cursor;
    for (int page = 0; page < 5000; ++page) {
      auto r = d.raw("GET", "/v1/snapshot?limit=" + std::to_string(limit) + "&cursor=" + cursor, "", {});
      EXPECT_EQ(r.status, 200) << r.body;
      dom::parser p;
      dom::element root;
      if (r.status != 200 || p.parse(r.body).get(root)) break;
      for (dom::element e : root["rows"].get_array()) {
        seen.rows.emplace_back(std::string_view(e["t"].get_string().value()), std::string_view(e["id"].get_string().value()));
      }
      seen.next = root["next"].get_uint64().value();
      cursor = std::string(root["cursor"].get_string().value());
      ++seen.pages;
      if (page == 0 && after_first_page) after_first_page();
      if (!root["more"].get_bool().value()) break;
    }
    return seen;
  };
  auto reports = [](const Seen& s) {
    std::vector<std::string> ids;
    for (const auto& [t, id] : s.rows) {
      if (t == "progress_report") ids.push_back(id);
    }
    return ids;
  };
  for (size_t limit : {1u, 7u, 1000u}) {
    const Seen m = take(*minh, limit), a = take(*an, limit);
    EXPECT_EQ(reports(m), (std::vector<std::string>{"m-1", "m-2", "m-3"})) << "limit " << limit;
    EXPECT_EQ(reports(a), std::vector<std::string>{"a-1"}) << "limit " << limit;
    // The same rows as a pull from 0, each once; tables in schema order, ids ascending.
    std::vector<std::string> pulled;
    for (const char* t : {"unit", "indicator_unit", "progress_report"}) {
      auto ids = pulled_rows(minh->pull(0, 1000), t);
      std::sort(ids.begin(), ids.end());
      std::vector<std::string> snap;
      for (const auto& [table, id] : m.rows) {
        if (table == t) snap.push_back(id);
      }
      EXPECT_EQ(snap, ids) << t << " limit " << limit;
    }
    std::set<std::pair<std::string, std::string>> unique(m.rows.begin(), m.rows.end());
    EXPECT_EQ(unique.size(), m.rows.size());
    if (limit == 1) {
      EXPECT_GT(m.pages, 75);  // 75 units alone: paging really happened
    }
  }
  // A report written after the snapshot started comes with the pull from its "next".
  const Seen during = take(*minh, 50, [&] {
    ASSERT_EQ(results(minh->push({minh->make({put("m-0", report("03808"))}).signed_cs}))[0].status, "accepted");
  });
  // (The snapshot may already hold it, since it reads rows as they are when it gets to them; the
  // pull is what guarantees it.)
  auto got = reports(during);
  got.erase(std::remove(got.begin(), got.end(), "m-0"), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"m-1", "m-2", "m-3"}));
  EXPECT_EQ(pulled_rows(minh->pull(during.next), "progress_report"), std::vector<std::string>{"m-0"});
  // Forged cursors and limits are refused; the server keeps serving.
  for (const char* bad : {"cursor=x", "cursor=1.2", "cursor=1.2.zz", "cursor=-1.0.00", "limit=-1", "limit=9999999999"}) {
    EXPECT_EQ(minh->raw("GET", std::string("/v1/snapshot?") + bad, "", {}).status, 400) << bad;
  }
  // Without a session there is no snapshot.
  EXPECT_EQ(http(server_->port(), "GET", "/v1/snapshot").status, 401);
}

TEST_F(ServerTest, ReplayIsADuplicateWithTheOriginalReceipt) {
  auto minh = device("minh", 1);
  auto made = minh->make({put("r1", report("03808"))});
  auto first = results(minh->push({made.signed_cs}));
  auto again = results(minh->push({made.signed_cs}));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].status, "duplicate");
  EXPECT_EQ(again[0].receipt_body, first[0].receipt_body);
  EXPECT_EQ(again[0].receipt_sig, first[0].receipt_sig);
  // Still exactly one row version.
  EXPECT_EQ(pulled_rows(minh->pull(0), "progress_report").size(), 1u);
}

TEST_F(ServerTest, EveryRejectionCode) {
  auto minh = device("minh", 1);
  // malformed: not base64; and signed bytes that are not a change set.
  auto bad = results(minh->push_raw("{\"changesets\":[{\"cs\":\"!!!\",\"sig\":\"00\"}]}"));
  EXPECT_EQ(bad[0].code, "malformed");
  SignedChangeSet junk{"{\"v\":1}", minh->chain().key().sign("{\"v\":1}")};
  EXPECT_EQ(results(minh->push({junk}))[0].code, "malformed");
  // bad_signature
  auto made = minh->make({put("r1", report("03808"))});
  SignedChangeSet forged = made.signed_cs;
  forged.bytes[forged.bytes.find("42")] = '9';
  EXPECT_EQ(results(minh->push({forged}))[0].code, "bad_signature");
  // seq_gap, naming the expected sequence
  auto second = minh->make({put("r2", report("03808"))});
  auto gap = results(minh->push({second.signed_cs}));
  EXPECT_EQ(gap[0].code, "seq_gap");
  EXPECT_EQ(gap[0].expected_seq, 1u);
  ASSERT_EQ(results(minh->push({made.signed_cs, second.signed_cs}))[1].status, "accepted");
  // invalid_value (naming table, row, field, rule), workflow_violation
  auto neg = results(minh->push({minh->make({put("r3", report("03808", "draft", -5))}).signed_cs}));
  EXPECT_EQ(neg[0].code, "invalid_value");
  auto wf = results(minh->push({minh->make({put("r4", report("03808", "accepted"))}).signed_cs}));
  EXPECT_EQ(wf[0].code, "workflow_violation");
  // Rejected change sets stay in the chain: the next one links to them and is accepted.
  EXPECT_EQ(results(minh->push({minh->make({put("r5", report("03808"))}).signed_cs}))[0].status, "accepted");
  // too_large: one change set over the limit; and a batch over the limit (413).
  // An oversized text is refused on the device already; a forged oversized change set here.
  EXPECT_EQ(minh->chain().make({put("r6", {{7, Value{Text{std::string(40000, 'x')}}}})}).code(), Errc::too_large);
  SignedChangeSet oversized{std::string((1 << 20) + 10, ' '), {}};
  EXPECT_EQ(results(minh->push({oversized}))[0].code, "too_large");
  std::vector<SignedChangeSet> many(501, made.signed_cs);
  EXPECT_EQ(minh->push(many).status, 413);
  // forbidden_role: an official writing the reference table of units (administrators only).
  auto role = results(minh->push({minh->make({Op{"unit", "99999", OpKind::put,
                                                  {{1, text("99999")}, {2, text("Xã Giả")}, {3, text("xã")}}, {}}})
                                       .signed_cs}));
  ASSERT_EQ(role.size(), 1u);
  EXPECT_EQ(role[0].status, "rejected");
  EXPECT_EQ(role[0].code, "forbidden_role");
  // schema_mismatch: a change set for a schema version the server does not have, signed by the
  // device (its bytes altered and signed again: last, since the device's own chain now differs).
  SignedChangeSet future = minh->make({put("r7", report("03808"))}).signed_cs;
  const size_t at = future.bytes.find("\"schema_v\":2");
  ASSERT_NE(at, std::string::npos);
  future.bytes.replace(at, 12, "\"schema_v\":9");
  future.sig = minh->chain().key().sign(future.bytes);
  auto mismatch = results(minh->push({future}));
  ASSERT_EQ(mismatch.size(), 1u);
  EXPECT_EQ(mismatch[0].status, "rejected");
  EXPECT_EQ(mismatch[0].code, "schema_mismatch");
  // The server keeps serving.
  EXPECT_EQ(http(server_->port(), "GET", "/healthz").status, 200);
}

// A signed value outside its indicator's range (issue 14; docs/schema-format.md §9.1): the
// server's authorize() refuses it as a device would before signing, with the official's words.
TEST_F(ServerTest, AValueOutsideItsIndicatorsRangeIsRefused) {
  auto minh = device("minh", 1);
  auto on = [](const char* indicator, double value) {
    auto f = report("03808", "submitted", value);
    f[1] = {2, text(indicator)};
    return f;
  };
  auto over = results(minh->push({minh->make({put("r-150", on("CT-CAPNUOC-XA", 150))}).signed_cs}));
  ASSERT_EQ(over.size(), 1u);
  EXPECT_EQ(over[0].status, "rejected");
  EXPECT_EQ(over[0].code, "invalid_value");
  EXPECT_EQ(over[0].message, "Kết quả: tỷ lệ phần trăm phải từ 0 đến 100 (đã nhập 150)");
  EXPECT_FALSE(over[0].receipt_body.empty());  // a permanent refusal, in the chain
  auto half = results(minh->push({minh->make({put("r-2.5", on("CT-BACSI-TRAMYTE", 2.5))}).signed_cs}));
  EXPECT_EQ(half[0].code, "invalid_value");
  EXPECT_EQ(half[0].message, "Kết quả: số lượng (bác sĩ/trạm) phải là số nguyên, không âm (đã nhập 2,5)");
  auto neg = results(minh->push({minh->make({put("r-neg", on("CT-CAOTOC-CT03", -5))}).signed_cs}));
  EXPECT_EQ(neg[0].message, "Kết quả: không được là số âm (đã nhập -5)");
  // In range: accepted, and the row is there.
  EXPECT_EQ(results(minh->push({minh->make({put("r-100", on("CT-CAPNUOC-XA", 100))}).signed_cs}))[0].status, "accepted");
  EXPECT_EQ(results(minh->push({minh->make({put("r-2", on("CT-BACSI-TRAMYTE", 2))}).signed_cs}))[0].status, "accepted");
  EXPECT_EQ(pulled_rows(minh->pull(0), "progress_report"), (std::vector<std::string>{"r-100", "r-2"}));
}

TEST_F(ServerTest, ClockYearsAheadIsAcceptedButFlagged) {
  auto minh = device("minh", 1);
  minh->wall().set(1'780'000'000'000 + 5LL * 365 * 24 * 3600 * 1000);
  auto items = results(minh->push({minh->make({put("r1", report("03808"))}).signed_cs}));
  EXPECT_EQ(items[0].status, "accepted");
  EXPECT_TRUE(items[0].clock_ahead);
  EXPECT_NE(items[0].receipt_body.find("\"clock_ahead\":true"), std::string::npos);
}

TEST_F(ServerTest, ForkQuarantinesTheDevice) {
  auto minh = device("minh", 1);
  const ChainHead start = minh->chain().head();
  auto a = minh->make({put("r1", report("03808"))});
  ASSERT_EQ(results(minh->push({a.signed_cs}))[0].status, "accepted");
  // A clone of the key continues from the same point with other content.
  std::array<uint8_t, 32> seed{};
  minh->chain().key().export_seed(seed);
  FakeClock wall(1'780'000'000'000);
  HybridClock clock(wall, 300'000);
  DeviceChain clone(DeviceKey::from_seed(seed), clock, "minh", "sonla-2026", 2, start);
  auto b = clone.make({put("r9", report("03808"))});
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(results(minh->push({b->signed_cs}))[0].code, "fork_detected");
  // Quarantined: nothing more is accepted until an administrator releases it.
  auto next = minh->push({minh->make({put("r2", report("03808"))}).signed_cs});
  EXPECT_EQ(next.status, 403);
  EXPECT_NE(next.body.find("device_quarantined"), std::string::npos);
  EXPECT_NE(run_cli({"admin", "devices", "--data", data_}).second.find("quarantined"), std::string::npos);
}

TEST_F(ServerTest, RevokedAndUnknownDevices) {
  auto minh = device("minh", 1);
  const std::string token = admin_token();
  auto r = http(server_->port(), "POST", "/v1/admin/devices/" + to_hex(minh->key()) + "/revoke", "", {"Authorization: Bearer " + token});
  ASSERT_EQ(r.status, 200) << r.body;
  auto push = minh->push({minh->make({put("r1", report("03808"))}).signed_cs});
  EXPECT_EQ(push.status, 403);
  EXPECT_NE(push.body.find("device_revoked"), std::string::npos);
  // An unknown device cannot even get a challenge; a wrong admin token gets nothing.
  auto c = http(server_->port(), "POST", "/v1/auth/challenge", "{\"device\":\"" + std::string(64, 'a') + "\"}");
  EXPECT_EQ(c.status, 401);
  EXPECT_NE(c.body.find("unknown_device"), std::string::npos);
  EXPECT_EQ(http(server_->port(), "GET", "/v1/admin/devices", "", {"Authorization: Bearer nope"}).status, 401);
  // Enrolment codes are single use.
  const std::string once = code("hoa");
  TestDevice first(server_->port(), once, "hoa", 7), second(server_->port(), once, "hoa", 8);
  EXPECT_TRUE(first.enrolled());
  EXPECT_FALSE(second.enrolled());
}

TEST_F(ServerTest, ACapturedSessionAnswerCannotBeReplayed) {
  auto minh = device("minh", 1);
  auto c = http(server_->port(), "POST", "/v1/auth/challenge", "{\"device\":\"" + to_hex(minh->key()) + "\"}");
  dom::parser p;
  const std::string challenge(std::string_view(p.parse(c.body)["challenge"].get_string().value()));
  const std::string answer = "{\"device\":\"" + to_hex(minh->key()) + "\",\"challenge\":\"" + challenge + "\",\"signature\":\"" +
                             to_hex(minh->chain().key().sign("tram-session-v1:" + challenge)) + "\"}";
  EXPECT_EQ(http(server_->port(), "POST", "/v1/auth/session", answer).status, 200);
  auto replay = http(server_->port(), "POST", "/v1/auth/session", answer);
  EXPECT_EQ(replay.status, 401);
  EXPECT_NE(replay.body.find("bad_challenge"), std::string::npos);
  EXPECT_EQ(http(server_->port(), "POST", "/v1/push", "{}", {"Authorization: Bearer forged"}).status, 401);
}

TEST_F(ServerTest, LimitsGetTheRightStatusAndTheServerKeepsServing) {
  auto minh = device("minh", 1);
  EXPECT_EQ(minh->push_raw(std::string(9 << 20, ' ')).status, 413);
  EXPECT_EQ(http(server_->port(), "GET", "/healthz", "", {"X-Big: " + std::string(20000, 'a')}).status, 431);
  EXPECT_EQ(minh->push_raw("{not json").status, 400);
  EXPECT_EQ(http(server_->port(), "GET", "/nowhere").status, 404);
  EXPECT_EQ(http(server_->port(), "GET", "/healthz").status, 200);
  auto metrics = http(server_->port(), "GET", "/metrics");
  EXPECT_NE(metrics.body.find("tram_requests_total{route=\"body\",status=\"413\"}"), std::string::npos) << metrics.body;
  EXPECT_NE(metrics.body.find("tram_requests_total{route=\"headers\",status=\"431\"}"), std::string::npos) << metrics.body;
  // Which build is running, as `tram-server --version` says it.
  const std::string version = run_cli({"--version"}).second;
  EXPECT_NE(metrics.body.find("tram_build_info{version=\"" + version.substr(12, version.find('\n') - 12) + "\"} 1"), std::string::npos)
      << metrics.body;
}

TEST_F(ServerTest, GzipBodiesBothWays) {
  auto minh = device("minh", 1);
  auto made = minh->make({put("r1", report("03808"))});
  const std::string body = push_body({made.signed_cs});
  const std::string packed = gzip_compress(body);
  // Headers: the session token is inside the device; log in again to get one for raw requests.
  minh->set_port(server_->port());
  ASSERT_TRUE(minh->login());
  auto r = http(server_->port(), "GET", "/v1/server-key");  // warm-up; uncompressed
  EXPECT_EQ(r.headers.count("content-encoding"), 0u);
  auto page = minh->pull(0);
  ASSERT_EQ(page.status, 200);
  // The same pull with Accept-Encoding: gzip comes back compressed, and inflates to the same rows.
  auto c = minh->raw("GET", "/v1/pull?after=0&limit=1000", "", {"Accept-Encoding: gzip"});
  ASSERT_EQ(c.status, 200);
  EXPECT_EQ(c.headers["content-encoding"], "gzip");
  auto inflated = gzip_decompress(c.body, 64 << 20);
  ASSERT_TRUE(inflated);
  EXPECT_LT(c.body.size() * 3, inflated->size());  // reference data compresses well
  // A gzip push is accepted like a plain one.
  auto p = minh->raw("POST", "/v1/push", packed, {"Content-Encoding: gzip"});
  EXPECT_EQ(results(p)[0].status, "accepted");
  // A gzip bomb (64 MiB of zeros) is refused with 413, and the server keeps serving.
  auto bomb = minh->raw("POST", "/v1/push", gzip_compress(std::string(64 << 20, '\0')), {"Content-Encoding: gzip"});
  EXPECT_EQ(bomb.status, 413);
  EXPECT_EQ(http(server_->port(), "GET", "/healthz").status, 200);
}

TEST_F(ServerTest, ReviewCycleOverTheWire) {
  auto minh = device("minh", 1);
  auto reviewer = device("tai-chinh", 4);
  // Each edit names the writes it saw (its bases), taken from a pull, as the SDK does.
  auto edit = [](TestDevice& d, std::vector<FieldWrite> f) {
    std::vector<uint32_t> ids;
    for (const auto& w : f) ids.push_back(w.field);
    auto made = d.make({put("r1", f, d.bases("progress_report", "r1", ids))});
    return results(d.push({made.signed_cs}));
  };
  ASSERT_EQ(results(minh->push({minh->make({put("r1", report("03808", "submitted"))}).signed_cs}))[0].status, "accepted");
  EXPECT_EQ(edit(*reviewer, {{13, text("returned")}, {14, text("Bổ sung ảnh")}})[0].status, "accepted");
  EXPECT_EQ(edit(*minh, {{5, Value{44.0}}})[0].status, "accepted");
  EXPECT_EQ(edit(*minh, {{13, text("submitted")}})[0].status, "accepted");
  EXPECT_EQ(edit(*reviewer, {{13, text("accepted")}})[0].status, "accepted");
  EXPECT_EQ(edit(*minh, {{5, Value{1.0}}})[0].code, "workflow_violation");
}


TEST_F(ServerTest, EnrolmentRetryAndStrictPullParameters) {
  auto minh = device("minh", 1);
  // A device that lost the answer and retries with the same code learns it is enrolled (409).
  const std::string c = code("hoa");
  const std::string key = std::string(64, 'b');
  EXPECT_EQ(http(server_->port(), "POST", "/v1/enroll", "{\"code\":\"" + c + "\",\"public_key\":\"" + key + "\"}").status, 200);
  auto again = http(server_->port(), "POST", "/v1/enroll", "{\"code\":\"" + c + "\",\"public_key\":\"" + key + "\"}");
  EXPECT_EQ(again.status, 409) << again.body;
  for (const char* bad : {"-1", "5x", "99999999999999999999"}) {
    EXPECT_EQ(minh->raw("GET", std::string("/v1/pull?after=") + bad, "", {}).status, 400) << bad;
  }
  EXPECT_EQ(minh->raw("POST", "/v1/push", "not gzip", {"Content-Encoding: gzip"}).status, 400);
}


TEST_F(ServerTest, AttachmentsResumeVerifyAndStayInScope) {
  auto minh = device("minh", 1);
  auto hoa = device("hoa", 2);
  auto an = device("an", 3);
  SeededRandom rng(99);
  std::string photo(300 * 1024, '\0');
  rng.fill(std::as_writable_bytes(std::span(photo.data(), photo.size())));
  const Hash h = blake2b_256(photo);
  const std::string hex = to_hex(h);
  auto fields = report("03808");
  fields.push_back({10, Value{AttachmentRef{h}}});
  std::sort(fields.begin(), fields.end(), [](const FieldWrite& a, const FieldWrite& b) { return a.field < b.field; });
  ASSERT_EQ(results(minh->push({minh->make({put("r1", fields)}).signed_cs}))[0].status, "accepted");
  // The administrator sees it missing.
  const std::string admin = "Authorization: Bearer " + admin_token();
  EXPECT_NE(http(server_->port(), "GET", "/v1/admin/attachments/missing", "", {admin}).body.find(hex), std::string::npos);
  // Two chunks, then the link drops; the device asks where to resume and finishes.
  const size_t chunk = 64 * 1024;
  EXPECT_EQ(minh->raw("PUT", "/v1/attachments/" + hex + "?offset=0", photo.substr(0, chunk), {}).status, 200);
  EXPECT_EQ(minh->raw("PUT", "/v1/attachments/" + hex + "?offset=" + std::to_string(chunk), photo.substr(chunk, chunk), {}).status, 200);
  auto wrong = minh->raw("PUT", "/v1/attachments/" + hex + "?offset=0", photo.substr(0, chunk), {});
  EXPECT_EQ(wrong.status, 409);
  EXPECT_NE(wrong.body.find("\"received\":131072"), std::string::npos) << wrong.body;
  auto st = minh->raw("GET", "/v1/attachments/" + hex + "/status", "", {});
  ASSERT_NE(st.body.find("\"received\":131072"), std::string::npos) << st.body;
  for (size_t off = 2 * chunk; off < photo.size(); off += chunk) {
    const bool last = off + chunk >= photo.size();
    auto r = minh->raw("PUT", "/v1/attachments/" + hex + "?offset=" + std::to_string(off) + (last ? "&final=1" : ""),
                       photo.substr(off, chunk), {});
    ASSERT_EQ(r.status, 200) << r.body;
    if (last) {
      EXPECT_NE(r.body.find("\"complete\":true"), std::string::npos);
    }
  }
  // Served to the unit's officials, byte for byte; invisible to another unit's.
  auto got = hoa->raw("GET", "/v1/attachments/" + hex, "", {});
  EXPECT_EQ(got.status, 200);
  EXPECT_TRUE(got.body == photo);
  EXPECT_EQ(an->raw("GET", "/v1/attachments/" + hex, "", {}).status, 404);
  EXPECT_EQ(an->raw("GET", "/v1/attachments/" + hex + "/status", "", {}).status, 404);
  EXPECT_EQ(an->raw("PUT", "/v1/attachments/" + hex + "?offset=0", "x", {}).status, 404);
  EXPECT_EQ(http(server_->port(), "GET", "/v1/admin/attachments/missing", "", {admin}).body.find(hex), std::string::npos);
  // Bytes that do not hash to the name are discarded.
  const Hash h2 = blake2b_256("another photo");
  auto f2 = report("03808");
  f2.push_back({10, Value{AttachmentRef{h2}}});
  std::sort(f2.begin(), f2.end(), [](const FieldWrite& a, const FieldWrite& b) { return a.field < b.field; });
  ASSERT_EQ(results(minh->push({minh->make({put("r2", f2)}).signed_cs}))[0].status, "accepted");
  auto bad = minh->raw("PUT", "/v1/attachments/" + to_hex(h2) + "?offset=0&final=1", "not that photo", {});
  EXPECT_EQ(bad.status, 422);
  EXPECT_NE(minh->raw("GET", "/v1/attachments/" + to_hex(h2) + "/status", "", {}).body.find("\"received\":0"), std::string::npos);
}


TEST_F(ServerTest, WebSocketTellsDevicesInScopeAboutNewData) {
  auto minh = device("minh", 1);
  auto hoa = device("hoa", 2);
  auto an = device("an", 3);
  WsClient minh_ws(server_->port(), minh->token()), an_ws(server_->port(), an->token());
  ASSERT_EQ(minh_ws.status(), 101);
  ASSERT_EQ(an_ws.status(), 101);
  EXPECT_EQ(minh_ws.next(2000), "{\"type\":\"hello\"}");
  EXPECT_EQ(an_ws.next(2000), "{\"type\":\"hello\"}");
  // Hoa (Mường La) pushes: Mường La's devices hear of it, Tô Hiệu's do not.
  ASSERT_EQ(results(hoa->push({hoa->make({put("r1", report("03808"))}).signed_cs}))[0].status, "accepted");
  const std::string notice = minh_ws.next(3000);
  EXPECT_NE(notice.find("\"type\":\"changes\""), std::string::npos) << notice;
  EXPECT_EQ(an_ws.next(500), "");
  // Without a live session token there is no subscription.
  WsClient stranger(server_->port(), "not-a-token");
  EXPECT_EQ(stranger.status(), 401);
}


// TLS through Asio's OpenSSL stream: a self-signed certificate made for the test, a real TLS
// client (curl) that trusts it; plain HTTP on the same port is refused.
TEST(ServerTls, ServesHttpsWithTheGivenCertificate) {
  const std::string data = ::testing::TempDir() + "/tram-server-tls";
  std::filesystem::remove_all(data);
  std::filesystem::create_directories(data);
  const std::string gen = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=127.0.0.1"
                          " -addext subjectAltName=IP:127.0.0.1 -keyout " + data + "/key.pem -out " + data + "/cert.pem 2>/dev/null";
  ASSERT_EQ(std::system(gen.c_str()), 0);
  ServerProcess server(data, {"--tls-cert", data + "/cert.pem", "--tls-key", data + "/key.pem"});
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port());
  auto curl = [&](const std::string& args) { return run_shell("curl -s --max-time 10 " + args).out; };
  EXPECT_EQ(curl("--cacert " + data + "/cert.pem " + url + "/healthz"), "{\"status\":\"ok\"}");
  EXPECT_NE(curl("--cacert " + data + "/cert.pem " + url + "/v1/server-key").find("\"algorithm\":\"ed25519\""), std::string::npos);
  // Without trusting the certificate, curl refuses; plain HTTP gets no HTTP answer.
  EXPECT_EQ(curl(url + "/healthz").find("status"), std::string::npos);
  EXPECT_EQ(http(server.port(), "GET", "/healthz").status, 0);
}


int connect_loopback(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 ? fd : -1;
}

// The value of a /metrics line (a full name with labels) asked from the loopback address `from`, or -1.
double metric_from(const char* from, uint16_t port, const std::string& name) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in local{}, addr{};
  local.sin_family = addr.sin_family = AF_INET;
  ::inet_pton(AF_INET, from, &local.sin_addr);
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string raw;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0 &&
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) {
    const std::string req = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      char buf[16384];
      for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) raw.append(buf, static_cast<size_t>(n));
    }
  }
  ::close(fd);
  const size_t at = raw.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(raw.substr(at + name.size() + 2));
}

// Slow and greedy clients: a request dribbled in slower than the deadline is cut; a stranger
// over the per-address limit pushes out the address's oldest stranger rather than being refused
// (crowd_test.cpp has the attacks), and everyone else is still served.
TEST(ServerLimits, SlowConnectionsAreCutAndGreedyClientsGiveWay) {
  const std::string data = ::testing::TempDir() + "/tram-server-limits";
  std::filesystem::remove_all(data);
  ServerProcess server(data, {"--request-timeout-s", "2", "--max-connections-per-ip", "4"});
  const int slow = connect_loopback(server.port());
  ASSERT_GE(slow, 0);
  const std::string partial = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n";  // never finished
  ASSERT_GT(::send(slow, partial.data(), partial.size(), MSG_NOSIGNAL), 0);
  const auto start = std::chrono::steady_clock::now();
  char buf[256];
  const ssize_t n = ::recv(slow, buf, sizeof buf, 0);  // the server closes it: 0 (EOF)
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LE(n, 0);
  EXPECT_GE(waited, 1.5);
  EXPECT_LT(waited, 8.0);
  ::close(slow);
  server.stop(SIGTERM);
  // Four idle connections are allowed; the fifth from the same address is served and the first
  // is closed. A server with the default 30 s request timeout, so that a loaded machine cannot
  // time the held connections out before the fifth arrives.
  ServerProcess greedy(data, {"--max-connections-per-ip", "4"});
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(connect_loopback(greedy.port()));
    ASSERT_GE(held.back(), 0);
  }
  // Wait until the server has admitted the four (not a fixed sleep): /metrics, asked from another
  // loopback address so as not to be a fifth stranger of 127.0.0.1, counts them and itself.
  double open_now = -1;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (int k = 0; k < 500 && open_now < 5 && std::chrono::steady_clock::now() < until; ++k) {
    if (k) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    open_now = metric_from("127.0.0.2", greedy.port(), "tram_connections");
  }
  ASSERT_GE(open_now, 5) << "the four held connections were not admitted";
  EXPECT_EQ(http(greedy.port(), "GET", "/healthz").status, 200);
  EXPECT_EQ(::recv(held[0], buf, sizeof buf, 0), 0) << "the oldest idle connection gave way";
  for (int i = 1; i < 4; ++i) {
    pollfd p{held[i], POLLIN, 0};
    EXPECT_EQ(::poll(&p, 1, 0), 0) << "connection " << i << " is kept";
  }
  for (int fd : held) ::close(fd);
}


// Issue 16: the server cuts a connection for not moving, not for being slow. A device's chunk
// dribbled in slower than --request-timeout-s in all, but never idle that long, is served; one
// that stops sending is cut after the timeout and the part that arrived is kept (the device
// resumes at that byte); a stranger's slow body keeps the fixed deadline.
namespace slow {

int send_all(int fd, const std::string& s) { return ::send(fd, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size()) ? 0 : -1; }

// Reads until the peer closes or 10 s pass; returns what came and how long it took.
std::pair<std::string, double> read_to_close(int fd) {
  std::string got;
  const auto t0 = std::chrono::steady_clock::now();
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return {got, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()};
}

}  // namespace slow

TEST_F(ServerTest, ASlowSteadyUploadIsServedAStalledOneIsCutAndKeepsWhatArrived) {
  server_.reset();
  server_ = std::make_unique<ServerProcess>(data_, std::vector<std::string>{"--request-timeout-s", "2"});
  auto minh = device("minh", 1);
  SeededRandom rng(16);
  std::string photo(16 * 1024, '\0');
  rng.fill(std::as_writable_bytes(std::span(photo.data(), photo.size())));
  const Hash h = blake2b_256(photo);
  const std::string hex = to_hex(h);
  auto fields = report("03808");
  fields.push_back({10, Value{AttachmentRef{h}}});
  std::sort(fields.begin(), fields.end(), [](const FieldWrite& a, const FieldWrite& b) { return a.field < b.field; });
  ASSERT_EQ(results(minh->push({minh->make({put("r1", fields)}).signed_cs}))[0].status, "accepted");
  auto head = [&](size_t offset, size_t length, bool auth) {
    return "PUT /v1/attachments/" + hex + "?offset=" + std::to_string(offset) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
           (auth ? "Authorization: Bearer " + minh->token() + "\r\n" : std::string()) +
           "Connection: close\r\nContent-Length: " + std::to_string(length) + "\r\n\r\n";
  };
  // 3,000 bytes in six pieces 0.7 s apart: 3.5 s in all, never 2 s idle. Served.
  {
    const int fd = connect_loopback(server_->port());
    ASSERT_GE(fd, 0);
    ASSERT_EQ(slow::send_all(fd, head(0, 3000, true)), 0);
    for (size_t k = 0; k < 6; ++k) {
      std::this_thread::sleep_for(std::chrono::milliseconds(700));
      ASSERT_EQ(slow::send_all(fd, photo.substr(k * 500, 500)), 0) << "cut while still sending, piece " << k;
    }
    const auto [answer, s] = slow::read_to_close(fd);
    ::close(fd);
    EXPECT_NE(answer.find("200 OK"), std::string::npos) << answer;
    EXPECT_NE(answer.find("\"received\":3000"), std::string::npos) << answer;
  }
  // A chunk of 8,000 of which 1,000 arrive, then nothing: cut after ~2 s, the 1,000 kept.
  {
    const int fd = connect_loopback(server_->port());
    ASSERT_GE(fd, 0);
    ASSERT_EQ(slow::send_all(fd, head(3000, 8000, true) + photo.substr(3000, 1000)), 0);
    const auto [answer, s] = slow::read_to_close(fd);
    ::close(fd);
    EXPECT_EQ(answer, "");
    EXPECT_GE(s, 1.5);
    EXPECT_LT(s, 8.0);
    // The close comes with the timeout; the part is stored as the cut is handled, just after.
    std::string body;
    for (int k = 0; k < 50 && body.find("\"received\":4000") == std::string::npos; ++k) {
      if (k) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      body = minh->raw("GET", "/v1/attachments/" + hex + "/status", "", {}).body;
    }
    EXPECT_NE(body.find("\"received\":4000,\"complete\":false"), std::string::npos) << body;
  }
  // A chunk cut by the link (the client closes mid-body) keeps its prefix too, even a final one.
  {
    const int fd = connect_loopback(server_->port());
    ASSERT_GE(fd, 0);
    std::string h2 = head(4000, photo.size() - 4000, true);
    h2.replace(h2.find("?offset=4000"), 12, "?offset=4000&final=1");
    ASSERT_EQ(slow::send_all(fd, h2 + photo.substr(4000, 2345)), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    ::close(fd);
    std::string body;
    for (int k = 0; k < 50 && body.find("\"received\":6345") == std::string::npos; ++k) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      body = minh->raw("GET", "/v1/attachments/" + hex + "/status", "", {}).body;
    }
    EXPECT_NE(body.find("\"received\":6345,\"complete\":false"), std::string::npos) << body;
  }
  // The rest, resumed at the server's byte: complete and the same bytes.
  auto fin = minh->raw("PUT", "/v1/attachments/" + hex + "?offset=6345&final=1", photo.substr(6345), {});
  EXPECT_NE(fin.body.find("\"complete\":true"), std::string::npos) << fin.body;
  EXPECT_EQ(minh->raw("GET", "/v1/attachments/" + hex, "", {}).body, photo);
  // Without a session, a body keeps the header's fixed deadline: dribbling is cut at ~2 s.
  {
    const int fd = connect_loopback(server_->port());
    ASSERT_GE(fd, 0);
    ASSERT_EQ(slow::send_all(fd, head(0, 3000, false)), 0);
    const auto t0 = std::chrono::steady_clock::now();
    bool cut = false;
    for (int k = 0; k < 10 && !cut; ++k) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      cut = slow::send_all(fd, "x") != 0;
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 0) > 0) {
        char c;
        cut = cut || ::recv(fd, &c, 1, MSG_DONTWAIT) <= 0;
      }
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ::close(fd);
    EXPECT_TRUE(cut);
    EXPECT_LT(s, 4.5);
  }
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

std::vector<FieldWrite> with_photo(const char* unit, const Hash& h) {
  auto fields = report(unit);
  fields.push_back({10, Value{AttachmentRef{h}}});
  std::sort(fields.begin(), fields.end(), [](const FieldWrite& a, const FieldWrite& b) { return a.field < b.field; });
  return fields;
}

}  // namespace trust

// Issue 11 §1: naming another unit's attachment hash grants nothing; the file is read only
// through a row of a unit that uploaded the bytes, and no one can see or spoil another's upload.
TEST_F(ServerTest, AnAttachmentHashIsNotAKeyToAnotherUnitsFile) {
  auto minh = device("minh", 1);  // unit 03808
  auto an = device("an", 3);      // unit 03646
  auto reviewer = device("tai-chinh", 4);
  SeededRandom rng(7);
  std::string photo(200 * 1024, '\0');
  rng.fill(std::as_writable_bytes(std::span(photo.data(), photo.size())));
  const Hash h = blake2b_256(photo);
  const std::string hex = to_hex(h);
  ASSERT_EQ(results(minh->push({minh->make({put("ra", trust::with_photo("03808", h))}).signed_cs}))[0].status, "accepted");
  // Minh's upload is half done.
  ASSERT_EQ(minh->raw("PUT", "/v1/attachments/" + hex + "?offset=0", photo.substr(0, 65536), {}).status, 200);
  // An names the same hash in a report of his own unit: accepted (he may name anything)...
  ASSERT_EQ(results(an->push({an->make({put("rb", trust::with_photo("03646", h))}).signed_cs}))[0].status, "accepted");
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
  SeededRandom rng(8);
  std::string photo(1000, '\0');
  rng.fill(std::as_writable_bytes(std::span(photo.data(), photo.size())));
  const Hash h = blake2b_256(photo);
  auto fields = trust::with_photo("03808", h);
  ASSERT_EQ(results(minh->push({minh->make({put("T", fields)}).signed_cs}))[0].status, "accepted");
  EXPECT_NE(trust::upload(*minh, to_hex(h), photo).find("\"complete\":true"), std::string::npos);
  Op del{"progress_report", "T", OpKind::del, {}, minh->bases("progress_report", "T", {})};
  ASSERT_EQ(results(minh->push({minh->make({del}).signed_cs}))[0].status, "accepted");
  // Another unit re-creating T in its own unit, editing it, or deleting it: refused.
  auto take = results(an->push({an->make({put("T", trust::with_photo("03646", h))}).signed_cs}));
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

TEST_F(ServerTest, APullCursorBeyondTwoToTheSixtyThreeIsRefused) {
  auto minh = device("minh", 1);
  EXPECT_EQ(minh->raw("GET", "/v1/pull?after=9223372036854775807", "", {}).status, 200);
  EXPECT_EQ(minh->raw("GET", "/v1/pull?after=9223372036854775808", "", {}).status, 400);
  EXPECT_EQ(minh->raw("GET", "/v1/pull?after=9999999999999999999", "", {}).status, 400);
}

TEST_F(ServerTest, AcceptEncodingIsParsedAsAListWithWeights) {
  auto enc = [&](const std::string& accept) {
    return http(server_->port(), "GET", "/metrics", "", {"Accept-Encoding: " + accept}).headers["content-encoding"];
  };
  EXPECT_EQ(enc("gzip"), "gzip");
  EXPECT_EQ(enc("deflate, GZIP;q=0.5"), "gzip");
  EXPECT_EQ(enc("x-gzip"), "gzip");
  EXPECT_EQ(enc("gzip; q=0"), "");
  EXPECT_EQ(enc("gzip;q=0.000, *"), "");
  EXPECT_EQ(enc("*;q=0.1"), "gzip");
  EXPECT_EQ(enc("identity"), "");
  EXPECT_EQ(enc("xgzipx"), "");
}

TEST_F(ServerTest, EveryLogLineIsValidJsonWhateverTheRequest) {
  http(server_->port(), std::string(3000, 'M'), "/healthz");
  http(server_->port(), "GET", "/v1/pull?x=\xc3\x28\xff\"\\" + std::string(500, 'p'));
  http(server_->port(), "GET", "/healthz");
  server_->stop(SIGTERM);
  std::ifstream in(data_ + "/server.log");
  int lines = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] != '{') continue;
    ++lines;
    dom::parser p;
    EXPECT_FALSE(p.parse(line).error()) << line;
    EXPECT_TRUE(std::all_of(line.begin(), line.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; })) << line;
  }
  EXPECT_GE(lines, 1);
}

TEST_F(ServerTest, EnrolmentCodesMustLiveAPositiveTime) {
  EXPECT_NE(run_cli({"admin", "enrol-code", "--data", data_, "--user", "minh", "--ttl-hours", "0"}).first, 0);
  EXPECT_NE(run_cli({"admin", "enrol-code", "--data", data_, "--user", "minh", "--ttl-hours", "-5"}).first, 0);
  const std::string admin = "Authorization: Bearer " + admin_token();
  EXPECT_EQ(http(server_->port(), "POST", "/v1/admin/enrolment-codes", "{\"user\":\"minh\",\"ttl_hours\":0}", {admin}).status, 400);
  EXPECT_EQ(http(server_->port(), "POST", "/v1/admin/enrolment-codes", "{\"user\":\"minh\",\"ttl_hours\":-1}", {admin}).status, 400);
  EXPECT_EQ(http(server_->port(), "POST", "/v1/admin/enrolment-codes", "{\"user\":\"minh\",\"ttl_hours\":24}", {admin}).status, 200);
}

}  // namespace
}  // namespace tram::testing

namespace tram::testing {
namespace {

// `tram-server serve` that must refuse to start: its exit code and output (bounded: 20 s).
std::pair<int, std::string> serve_refused(const std::string& data) {
  return run_cli({"serve", "--data", data, "--listen", "127.0.0.1:0"}, "timeout 20 ");
}

void overwrite(const std::string& path, size_t offset, size_t n) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(offset));
  const std::string garbage(n, '\x5a');
  f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
}

class DamagedState : public ServerTest {
 protected:
  // A server with receipted work, stopped.
  void SetUp() override {
    ServerTest::SetUp();
    auto minh = device("minh", 1);
    for (int i = 0; i < 20; ++i) {
      ASSERT_EQ(results(minh->push({minh->make({put("r" + std::to_string(i), report("03808"))}).signed_cs}))[0].status,
                "accepted");
    }
    server_->stop(SIGTERM);
  }
  std::string db() const { return data_ + "/tram.db"; }
};

// Issue 11 §3: a server never starts silently on damaged or missing state (exit 3, the way out named).
TEST_F(DamagedState, AMissingKeyIsNeverReplaced) {
  std::filesystem::remove(data_ + "/server.key");
  auto [rc, out] = serve_refused(data_);
  EXPECT_EQ(rc, 3) << out;
  EXPECT_NE(out.find("server.key is missing"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(data_ + "/server.key"));
}

TEST_F(DamagedState, AGarbageKeyIsRefused) {
  std::ofstream(data_ + "/server.key") << "not a key\n";
  auto [rc, out] = serve_refused(data_);
  EXPECT_EQ(rc, 3) << out;
  EXPECT_NE(out.find("admin restore"), std::string::npos) << out;
}

TEST_F(DamagedState, ADeletedDatabaseIsRefused) {
  std::filesystem::remove(db());
  auto [rc, out] = serve_refused(data_);
  EXPECT_EQ(rc, 3) << out;
  EXPECT_NE(out.find("tram.db is missing"), std::string::npos) << out;
}

TEST_F(DamagedState, GarbageInTheDatabaseIsRefused) {
  const auto size = std::filesystem::file_size(db());
  overwrite(db(), size / 2 / 4096 * 4096, 4096);
  auto [rc, out] = serve_refused(data_);
  EXPECT_EQ(rc, 3) << out;
  EXPECT_NE(out.find("damaged"), std::string::npos) << out;
}

TEST_F(DamagedState, ATruncatedDatabaseIsRefused) {
  std::filesystem::resize_file(db(), std::filesystem::file_size(db()) / 2);
  auto [rc, out] = serve_refused(data_);
  EXPECT_EQ(rc, 3) << out;
}

// The log went backwards (a restored backup): the server says so, raises its row versions above
// every cursor, takes the re-sent change sets, and clears the warning only when told to.
TEST_F(ServerTest, ARestoredBackupIsReportedAndHealedByResending) {
  auto minh = device("minh", 1);
  ASSERT_EQ(results(minh->push({minh->make({put("r0", report("03808"))}).signed_cs}))[0].status, "accepted");
  const std::string backup = data_ + "/before.db";
  ASSERT_EQ(run_cli({"admin", "backup", "--data", data_, "--to", backup}).first, 0);
  std::vector<SignedChangeSet> lost;
  for (int i = 1; i <= 5; ++i) {
    lost.push_back(minh->make({put("r" + std::to_string(i), report("03808"))}).signed_cs);
    ASSERT_EQ(results(minh->push({lost.back()}))[0].status, "accepted");
  }
  dom::parser p;
  const uint64_t cursor = p.parse(minh->pull(0).body)["next"].get_uint64().value();
  server_->stop(SIGTERM);
  auto [rc, out] = run_cli({"admin", "restore", "--data", data_, "--from", backup});
  ASSERT_EQ(rc, 0) << out;
  server_->start();
  auto health = http(server_->port(), "GET", "/healthz");
  EXPECT_NE(health.body.find("\"status\":\"log_behind\""), std::string::npos) << health.body;
  EXPECT_NE(http(server_->port(), "GET", "/metrics").body.find("tram_log_behind 1"), std::string::npos);
  // The device's next push starts past what the server holds: seq_gap, then it re-sends.
  minh->set_port(server_->port());
  ASSERT_TRUE(minh->login());
  auto next = results(minh->push({minh->make({put("r6", report("03808"))}).signed_cs}));
  EXPECT_EQ(next[0].code, "seq_gap");
  EXPECT_EQ(next[0].expected_seq, 2u);
  auto resent = results(minh->push(lost));
  for (const auto& r : resent) EXPECT_EQ(r.status, "accepted") << r.code;
  // Re-sent rows come after the cursor the device already held: nobody skips them.
  auto rows = pulled_rows(minh->pull(cursor), "progress_report");
  for (int i = 1; i <= 5; ++i) EXPECT_EQ(std::count(rows.begin(), rows.end(), "r" + std::to_string(i)), 1) << i;
  // Still reported until the operator acknowledges.
  server_->stop(SIGTERM);
  server_->start();
  EXPECT_NE(http(server_->port(), "GET", "/healthz").body.find("log_behind"), std::string::npos);
  server_->stop(SIGTERM);
  ASSERT_EQ(run_cli({"admin", "ack-log", "--data", data_}).first, 0);
  server_->start();
  EXPECT_EQ(http(server_->port(), "GET", "/healthz").body, "{\"status\":\"ok\"}");
}

// Key rotation: the new key is announced by a statement the old key signed; the old key is kept.
TEST_F(ServerTest, ARotatedKeyIsAnnouncedByAStatementTheOldKeySigned) {
  const std::string old_key = server_key();
  EXPECT_NE(run_cli({"admin", "rotate-key", "--data", data_}).first, 0);  // refused while serving
  server_->stop(SIGTERM);
  auto [rc, out] = run_cli({"admin", "rotate-key", "--data", data_, "--address", "https://tram.example:8443"});
  ASSERT_EQ(rc, 0) << out;
  server_->start();
  const std::string new_key = server_key();
  EXPECT_NE(new_key, old_key);
  dom::parser p;
  dom::element root = p.parse(http(server_->port(), "GET", "/v1/server-key").body).value();
  dom::array statements = root["statements"].get_array().value();
  ASSERT_EQ(statements.size(), 1u);
  const std::string body(std::string_view(statements.at(0)["body"].get_string().value()));
  const auto sig = from_hex<64>(std::string_view(statements.at(0)["sig"].get_string().value()));
  ASSERT_TRUE(sig);
  EXPECT_TRUE(verify_signature(*from_hex<32>(old_key), "tram-key-statement-v1:" + body, *sig));
  EXPECT_FALSE(verify_signature(*from_hex<32>(new_key), "tram-key-statement-v1:" + body, *sig));
  dom::parser q;
  dom::element b = q.parse(body).value();
  EXPECT_EQ(std::string_view(b["from"].get_string().value()), old_key);
  EXPECT_EQ(std::string_view(b["to"].get_string().value()), new_key);
  EXPECT_EQ(std::string_view(b["address"].get_string().value()), "https://tram.example:8443");
  // The old key is kept, never deleted.
  bool kept = false;
  for (const auto& e : std::filesystem::directory_iterator(data_)) kept |= e.path().filename().string().starts_with("server.key.retired-");
  EXPECT_TRUE(kept);
}

// A WAL deleted while the server was down (after a crash): the same detection.
TEST_F(ServerTest, ALostWalIsReportedAndEnrolmentsSurviveIt) {
  auto minh = device("minh", 1);
  std::vector<SignedChangeSet> sent;
  for (int i = 0; i < 5; ++i) {
    sent.push_back(minh->make({put("r" + std::to_string(i), report("03808"))}).signed_cs);
    ASSERT_EQ(results(minh->push({sent.back()}))[0].status, "accepted");
  }
  server_->stop(SIGKILL);
  ASSERT_TRUE(std::filesystem::exists(data_ + "/tram.db-wal"));
  std::filesystem::remove(data_ + "/tram.db-wal");
  std::filesystem::remove(data_ + "/tram.db-shm");
  server_->start();
  EXPECT_NE(http(server_->port(), "GET", "/healthz").body.find("log_behind"), std::string::npos);
  // The enrolment was checkpointed: the device still logs in and re-sends everything.
  minh->set_port(server_->port());
  ASSERT_TRUE(minh->login());
  auto resent = results(minh->push(sent));
  for (const auto& r : resent) EXPECT_TRUE(r.status == "accepted" || r.status == "duplicate") << r.status << " " << r.code;
  auto rows = pulled_rows(minh->pull(0), "progress_report");
  for (int i = 0; i < 5; ++i) EXPECT_EQ(std::count(rows.begin(), rows.end(), "r" + std::to_string(i)), 1) << i;
}

// Garbage in the WAL (as from a bad disk) makes SQLite drop the frames from there on: the log
// is behind the mark, and the server says so instead of serving as if nothing happened.
TEST_F(ServerTest, GarbageInTheWalIsReportedAsALogBehind) {
  auto minh = device("minh", 1);
  for (int i = 0; i < 10; ++i) {
    ASSERT_EQ(results(minh->push({minh->make({put("r" + std::to_string(i), report("03808"))}).signed_cs}))[0].status, "accepted");
  }
  server_->stop(SIGKILL);
  const std::string wal = data_ + "/tram.db-wal";
  ASSERT_TRUE(std::filesystem::exists(wal));
  overwrite(wal, std::filesystem::file_size(wal) / 2 / 4096 * 4096, 4096);
  server_->start();
  EXPECT_NE(http(server_->port(), "GET", "/healthz").body.find("log_behind"), std::string::npos);
  EXPECT_NE(http(server_->port(), "GET", "/metrics").body.find("tram_log_behind 1"), std::string::npos);
}

}  // namespace
}  // namespace tram::testing
