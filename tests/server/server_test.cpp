// The wire protocol against the real tram-server on loopback: enrolment, sessions, push and
// pull round trips, snapshots, every rejection code, replays, forks, revocation, gzip, the
// review cycle, attachments and the WebSocket nudge. The attacks on scope are in
// scope_test.cpp, connection limits and TLS in connection_test.cpp, damaged or restored state
// in state_test.cpp.
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "tram/engine/gzip.hpp"
#include "server_fixture.hpp"

namespace tram::testing {
namespace {

namespace dom = simdjson::dom;

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

// Minh's reports `ids` of commune 03808 in one change set, and An's report a-1 of ward 03646.
void push_reports(TestDevice& minh, TestDevice& an, std::initializer_list<const char*> ids) {
  std::vector<Op> mine;
  for (const char* id : ids) mine.push_back(put(id, report("03808")));
  ASSERT_EQ(results(minh.push({minh.make(std::move(mine)).signed_cs}))[0].status, "accepted");
  ASSERT_EQ(results(an.push({an.make({put("a-1", report("03646"))}).signed_cs}))[0].status, "accepted");
}

// A fresh device's snapshot (protocol §8.3): every readable row exactly once, table by table in
// id order, in scope at every page size, resumable from any page's cursor; what changes while it
// is paged arrives through the pull from its "next"; a forged cursor is refused.
TEST_F(ServerTest, SnapshotInIdOrderScopedResumableThenPull) {
  auto minh = device("minh", 1);
  auto an = device("an", 3);
  ASSERT_NO_FATAL_FAILURE(push_reports(*minh, *an, {"m-3", "m-1", "m-2"}));
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

// The snapshot's read-ahead (server/src/api/snapshot_ahead.hpp): while a page travels, the
// server makes the one after it. Each page after the first is served from it, and is byte for
// byte the page made afresh for the same cursor; a change set logged in between makes it stale
// (the page then carries the new head); and a page made for one user is never served to another.
TEST_F(ServerTest, SnapshotPagesMadeAheadAreExactlyThePagesAskedFor) {
  auto minh = device("minh", 1);
  auto an = device("an", 3);
  ASSERT_NO_FATAL_FAILURE(push_reports(*minh, *an, {"m-1", "m-2", "m-3"}));
  const uint16_t port = server_->port();
  auto page = [](TestDevice& d, const std::string& cursor) {
    return d.raw("GET", "/v1/snapshot?limit=10&cursor=" + cursor, "", {});
  };
  struct Lead {
    std::string cursor;
    bool more = false;
    uint64_t head_seq = 0;
  };
  auto lead = [](const HttpResponse& r) {
    Lead l;
    dom::parser p;
    dom::element root;
    if (r.status != 200 || p.parse(r.body).get(root)) return l;
    l.cursor = std::string(root["cursor"].get_string().value());
    l.more = root["more"].get_bool().value();
    l.head_seq = root["head"]["server_seq"].get_uint64().value();
    return l;
  };
  // Minh pages through; each page is asked for twice: the first answer is the one made ahead,
  // the second is made afresh (the one made ahead is served once).
  const double ahead_before = metric(port, "tram_snapshot_pages_ahead_total");
  ASSERT_GE(ahead_before, 0);
  std::vector<std::string> cursors = {""};
  for (int k = 0; k < 200; ++k) {
    const HttpResponse r = page(*minh, cursors.back());
    ASSERT_EQ(r.status, 200) << r.body;
    const double served_ahead = metric(port, "tram_snapshot_pages_ahead_total");
    const HttpResponse again = page(*minh, cursors.back());
    EXPECT_EQ(again.body, r.body) << "page " << k;
    if (k > 0) {
      EXPECT_EQ(served_ahead, ahead_before + static_cast<double>(k)) << "page " << k << " was made afresh";
    }
    const Lead l = lead(r);
    if (!l.more) break;
    cursors.push_back(l.cursor);
  }
  ASSERT_GT(cursors.size(), 9u);  // 75 units and their indicators: paging really happened
  // A change set logged while a page travels: a page made ahead before it is stale and not
  // served; the page carries the head with the change set. (Made after it, which a busy machine
  // can do, the page made ahead is current and served.)
  const HttpResponse first = page(*minh, "");
  const Lead l1 = lead(first);
  ASSERT_TRUE(l1.more);
  ASSERT_EQ(results(minh->push({minh->make({put("m-0", report("03808"))}).signed_cs}))[0].status, "accepted");
  EXPECT_EQ(lead(page(*minh, l1.cursor)).head_seq, l1.head_seq + 1);
  // Right after Minh's page, An asks for the page after it, the one being made for Minh: what
  // Minh's pages hold of commune 03808 never reaches An.
  size_t an_saw = 0;
  for (size_t k = 0; k + 1 < cursors.size(); ++k) {
    ASSERT_EQ(page(*minh, cursors[k]).status, 200);
    const HttpResponse theirs = page(*an, cursors[k + 1]);
    ASSERT_EQ(theirs.status, 200) << theirs.body;
    for (const std::string& id : pulled_rows(theirs, "progress_report")) {
      EXPECT_EQ(id, "a-1") << "cursor " << cursors[k + 1];
      ++an_saw;
    }
  }
  EXPECT_EQ(an_saw, 1u);
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
  const std::string photo = random_photo(99, 300 * 1024);
  const Hash h = blake2b_256(photo);
  const std::string hex = to_hex(h);
  const auto fields = with_photo("03808", h);
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
  // A chunk that repeats the held bytes and goes beyond them (the device resumed before the
  // server stored what arrived of a cut chunk): only its new bytes are appended.
  auto overlap = minh->raw("PUT", "/v1/attachments/" + hex + "?offset=" + std::to_string(chunk), photo.substr(chunk, 2 * chunk), {});
  EXPECT_EQ(overlap.status, 200) << overlap.body;
  EXPECT_NE(overlap.body.find("\"received\":196608"), std::string::npos) << overlap.body;
  // One whose repeated bytes differ from those held: refused, nothing stored.
  std::string altered = photo.substr(2 * chunk, 2 * chunk);
  altered[5] = static_cast<char>(altered[5] ^ 1);
  auto differs = minh->raw("PUT", "/v1/attachments/" + hex + "?offset=" + std::to_string(2 * chunk), altered, {});
  EXPECT_EQ(differs.status, 409);
  EXPECT_NE(differs.body.find("\"received\":196608"), std::string::npos) << differs.body;
  auto st = minh->raw("GET", "/v1/attachments/" + hex + "/status", "", {});
  ASSERT_NE(st.body.find("\"received\":196608"), std::string::npos) << st.body;
  for (size_t off = 3 * chunk; off < photo.size(); off += chunk) {
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
