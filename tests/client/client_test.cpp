// The client SDK against the real server process on loopback: offline work, sync, conflicts,
// rejections, scope, a server killed mid-push, a link that cuts at random bytes, bundles,
// cancelling and the background loop. The C API, TLS and the library's symbols are in
// embedding_test.cpp.
// Longer than ~400 lines: the cases share one fixture (a real server and relay) and read as one
// story of a device; split by concern they would repeat it.
#include "client/client_fixture.hpp"

namespace tram::testing {
namespace {

using client::Client;
using client::WriteTxn;

TEST_F(ClientTest, EnrolsPullsReferenceDataAndKeepsTheKeyEncrypted) {
  auto minh = device("minh", "minh");
  ASSERT_TRUE(minh);
  const client::DeviceInfo info = minh->info();
  EXPECT_TRUE(info.enrolled);
  EXPECT_EQ(info.user, "minh");
  EXPECT_EQ(info.role, "official");
  EXPECT_EQ(info.units, std::vector<std::string>{"03808"});
  auto report = minh->sync();
  ASSERT_TRUE(report.ok()) << report.status().to_string();
  EXPECT_EQ(count_rows(*minh, "unit"), 75u);
  auto unit = minh->get("unit", "03808");
  ASSERT_TRUE(unit.ok() && *unit);
  EXPECT_TRUE(minh->info().last_sync_ms.has_value());
  // The secret key on disk opens only with the app's wrapping key.
  minh.reset();
  auto wrong = Client::open(device_options(dir_ + "/minh.db", 9));
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), Errc::bad_signature);
  auto right = Client::open(device_options(dir_ + "/minh.db", 7));
  ASSERT_TRUE(right.ok()) << right.status().to_string();
  EXPECT_EQ((*right)->info().user, "minh");
}

TEST_F(ClientTest, ExposesTheSchemaItWasOpenedWith) {
  auto opened = Client::open(device_options(dir_ + "/schema.db"));
  ASSERT_TRUE(opened.ok()) << opened.status().to_string();
  const Schema& schema = (*opened)->schema();
  EXPECT_EQ(schema.id, "sonla-2026");
  ASSERT_NE(schema.table("progress_report"), nullptr);
  EXPECT_NE(schema.table("progress_report")->field("narrative"), nullptr);
  const std::string& json = (*opened)->schema_json();
  EXPECT_NE(json.find("\"progress_report\""), std::string::npos);
  EXPECT_NE(json.find("\"version\": " + std::to_string(schema.version)), std::string::npos) << json.substr(0, 200);
}

TEST_F(ClientTest, OfflineWritesSurviveAServerOutageAndSyncLater) {
  auto minh = device("minh", "minh");
  ASSERT_TRUE(minh);
  ASSERT_TRUE(minh->sync().ok());
  server_->stop(SIGTERM);
  relay_.set_upstream(0);
  std::vector<std::string> ids;
  for (int k = 0; k < 5; ++k) {
    WriteTxn t;
    ids.push_back(t.insert("progress_report", "", report_fields("03808", "Báo cáo số " + std::to_string(k))));
    must_commit(*minh, t);
  }
  auto offline = minh->sync();
  ASSERT_FALSE(offline.ok());
  EXPECT_EQ(offline.status().code(), Errc::unavailable) << offline.status().to_string();
  EXPECT_EQ(minh->info().pending, 5u);
  EXPECT_FALSE(minh->info().last_error.empty());
  // What the app reads offline includes the pending edits.
  auto row = minh->get("progress_report", ids[3]);
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_TRUE((*row)->pending);
  EXPECT_EQ(std::get<Text>((*row)->fields.at("narrative")).s, "Báo cáo số 3");
  client::Query q;
  q.table = "progress_report";
  auto listed = minh->query(q);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 5u);
  for (const auto& r : *listed) EXPECT_TRUE(r.pending);

  server_->start();
  relay_.set_upstream(server_->port());
  auto online = minh->sync();
  ASSERT_TRUE(online.ok()) << online.status().to_string();
  EXPECT_EQ(online->accepted, 5u);
  EXPECT_EQ(minh->info().pending, 0u);
  EXPECT_EQ(minh->info().receipts, 5u);
  auto receipts = minh->receipts("progress_report", ids[0]);
  ASSERT_TRUE(receipts.ok());
  ASSERT_EQ(receipts->size(), 1u);
  EXPECT_TRUE(minh->verify_receipt(receipts->front()).ok());
  client::ReceiptInfo forged = receipts->front();
  forged.body.replace(forged.body.find("accepted"), 8, "rejected");
  EXPECT_FALSE(minh->verify_receipt(forged).ok());
  // A colleague's device sees the five reports.
  auto lan = device("lan", "lan");
  ASSERT_TRUE(lan && lan->sync().ok());
  EXPECT_EQ(count_rows(*lan, "progress_report"), 5u);
}

// The lower bound of a submission's time (report/timeliness.hpp rule 2): a phone whose clock
// says 2 January 1970 takes the server's signed receipt time as a floor, so a report it submits
// afterwards counts from no earlier than that, whatever its clock and the typed date say.
TEST_F(ClientTest, APhoneSetBackCannotDateASubmissionBeforeTheServerTimeItSaw) {
  FakeClock wall(86'400'000);
  client::Options o = device_options(dir_ + "/minh.db");
  o.clock = &wall;
  auto opened = Client::open(o);
  ASSERT_TRUE(opened.ok()) << opened.status().to_string();
  auto minh = std::move(opened).value();
  ASSERT_TRUE(minh->enroll(relay_.url(), enrol_code(data_, "minh")).ok());
  WriteTxn draft;
  const std::string id = draft.insert("progress_report", "", report_fields("03808", "Bản nháp"));
  must_commit(*minh, draft);
  ASSERT_TRUE(minh->sync().ok());
  auto receipts = minh->receipts("progress_report", id);
  ASSERT_TRUE(receipts.ok() && receipts->size() == 1u);
  const int64_t seen = receipts->front().received_at_ms;  // the server time the phone has seen
  WriteTxn submit;
  submit.update("progress_report", id, {{"status", text("submitted")}});
  must_commit(*minh, submit);
  ASSERT_TRUE(minh->sync().ok());

  auto [rc, out] = run_cli({"report", "--data", data_, "--period", "2026-H1", "--json"});
  ASSERT_EQ(rc, 0) << out;
  simdjson::dom::parser p;
  simdjson::dom::element root;
  ASSERT_FALSE(p.parse(out).get(root)) << out;
  size_t seen_lines = 0;
  for (simdjson::dom::element l : root["lines"].get_array()) {
    std::string_view report;
    if (l["report"].get_string().get(report) || report != id) continue;
    ++seen_lines;
    // ISO 8601 in UTC compares as text: not 1970, not before the receipt the phone had seen.
    const std::string submitted_at(l["submitted_at"].get_string().value());
    const std::time_t secs = static_cast<std::time_t>(seen / 1000);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char floor[32];
    std::strftime(floor, sizeof floor, "%Y-%m-%dT%H:%M:%SZ", &tm);
    EXPECT_GE(submitted_at, std::string(floor)) << submitted_at;
    // The typed date (3 June) says on time; the submission, made today, is late for 2026-H1.
    EXPECT_EQ(std::string_view(l["recorded_on"].get_string().value()), "2026-06-03");
    EXPECT_EQ(std::string_view(l["timeliness"].get_string().value()), "late");
    EXPECT_FALSE(l["clock_wrong"].get_bool().value());
  }
  EXPECT_EQ(seen_lines, 1u);
}

TEST_F(ClientTest, TwoDevicesEditingTheSameReportConvergeWithTheConflictShown) {
  auto minh = device("minh", "minh");
  auto lan = device("lan", "lan");
  ASSERT_TRUE(minh && lan);
  WriteTxn create;
  const std::string id = create.insert("progress_report", "", report_fields("03808", "Bản đầu"));
  must_commit(*minh, create);
  ASSERT_TRUE(minh->sync().ok());
  ASSERT_TRUE(lan->sync().ok());
  ASSERT_TRUE(lan->get("progress_report", id).value_or(std::nullopt).has_value());
  // Both edit the narrative offline; both also edit different fields, which both keep.
  WriteTxn a, b;
  a.update("progress_report", id, {{"narrative", text("Sửa bởi Minh")}, {"value", Value{50.0}}});
  b.update("progress_report", id, {{"narrative", text("Sửa bởi Lan")}, {"difficulties", text("Đường sạt lở")}});
  must_commit(*minh, a);
  must_commit(*lan, b);
  ASSERT_TRUE(minh->sync().ok());
  ASSERT_TRUE(lan->sync().ok());
  ASSERT_TRUE(minh->sync().ok());
  auto ra = minh->get("progress_report", id), rb = lan->get("progress_report", id);
  ASSERT_TRUE(ra.ok() && *ra && rb.ok() && *rb);
  EXPECT_EQ((*ra)->fields, (*rb)->fields);
  EXPECT_EQ(std::get<double>((*ra)->fields.at("value")), 50.0);
  EXPECT_EQ(std::get<Text>((*ra)->fields.at("difficulties")).s, "Đường sạt lở");
  // The narrative conflict is visible to both, each knowing whether its own edit lost.
  auto ca = minh->conflicts(), cb = lan->conflicts();
  ASSERT_TRUE(ca.ok() && cb.ok());
  ASSERT_EQ(ca->size(), 1u);
  ASSERT_EQ(cb->size(), 1u);
  EXPECT_EQ(ca->front().field, "narrative");
  EXPECT_NE(ca->front().mine_lost, cb->front().mine_lost);
  const std::string winner = std::get<Text>((*ra)->fields.at("narrative")).s;
  const auto& loser_side = ca->front().mine_lost ? ca->front() : cb->front();
  EXPECT_NE(std::get<Text>(loser_side.loser_value).s, winner);
}

TEST_F(ClientTest, LocalChecksRefuseAnotherCommunesRecordBeforeSigning) {
  auto minh = device("minh", "minh");
  ASSERT_TRUE(minh && minh->sync().ok());
  WriteTxn t;
  t.insert("progress_report", "", report_fields("03646", "Không phải xã mình"));
  auto r = minh->commit(t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Errc::forbidden_scope);
  EXPECT_NE(r.status().message().find("03646"), std::string::npos) << r.status().message();
  EXPECT_EQ(minh->info().seq, 0u);  // nothing was signed
  EXPECT_EQ(minh->info().pending, 0u);
}

// The SDK runs the engine's indicator range (docs/schema-format.md §9.1) in authorize() before
// signing: 150 on a percent indicator never becomes a change set.
TEST_F(ClientTest, LocalChecksRefuseAValueOutsideItsIndicatorsRangeBeforeSigning) {
  auto minh = device("minh", "minh");
  ASSERT_TRUE(minh && minh->sync().ok());
  WriteTxn t;
  t.insert("progress_report", "", report_fields("03808", "Vượt 100%", 150));  // CT-CAPNUOC-XA, %
  auto r = minh->commit(t);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Errc::invalid_value);
  EXPECT_EQ(r.status().message(), "Kết quả: tỷ lệ phần trăm phải từ 0 đến 100 (đã nhập 150)");
  EXPECT_EQ(minh->info().seq, 0u);  // nothing was signed
  WriteTxn ok;
  ok.insert("progress_report", "", report_fields("03808", "Đạt 100%", 100));
  EXPECT_TRUE(minh->commit(ok).ok());
}

TEST_F(ClientTest, ARejectedChangeSetIsKeptWithTheServersReasonUntilDismissed) {
  auto minh = device("minh", "minh");
  ASSERT_TRUE(minh && minh->sync().ok());
  WriteTxn t;
  const std::string id = t.insert("progress_report", "", report_fields("03808", "Viết khi còn quyền"));
  must_commit(*minh, t);
  WriteTxn later;
  const std::string kept = later.insert("comment", "", {{"unit_code", text("03808")}});
  // The administrator moves minh to another commune while the phone is offline.
  auto [rc, out] = run_cli({"admin", "create-user", "--data", data_, "--id", "minh", "--role", "official", "--units", "03646"});
  ASSERT_EQ(rc, 0) << out;
  auto r = minh->sync();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->rejected, 1u);
  auto outbox = minh->outbox();
  ASSERT_TRUE(outbox.ok());
  ASSERT_EQ(outbox->size(), 1u);
  EXPECT_EQ(outbox->front().state, client::OutboxEntry::rejected);
  EXPECT_EQ(outbox->front().code, "forbidden_scope");
  EXPECT_NE(outbox->front().message.find("03808"), std::string::npos) << outbox->front().message;
  EXPECT_NE(outbox->front().ops_json.find("Viết khi còn quyền"), std::string::npos);
  // The rejected edit left the view; the receipt of the refusal is kept as proof.
  EXPECT_FALSE(minh->get("progress_report", id).value_or(std::nullopt).has_value());
  auto receipts = minh->receipts();
  ASSERT_TRUE(receipts.ok());
  ASSERT_EQ(receipts->size(), 1u);
  EXPECT_EQ(receipts->front().status, "rejected");
  EXPECT_EQ(minh->info().user, "minh");
  EXPECT_EQ(minh->info().units, std::vector<std::string>{"03646"});
  // Still there after another sync: never dropped silently.
  ASSERT_TRUE(minh->sync().ok());
  EXPECT_EQ(minh->info().rejected, 1u);
  ASSERT_TRUE(minh->dismiss_rejected(outbox->front().seq).ok());
  EXPECT_EQ(minh->info().rejected, 0u);
  (void)kept;
}

TEST_F(ClientTest, PullsOnlyRowsInScope) {
  auto minh = device("minh", "minh");
  auto an = device("an", "an");
  auto hoa = device("hoa", "hoa");
  ASSERT_TRUE(minh && an && hoa);
  WriteTxn m, a;
  const std::string mid = m.insert("progress_report", "", report_fields("03808", "Xã Chiềng Ngần"));
  const std::string aid = a.insert("progress_report", "", report_fields("03646", "Phường Tô Hiệu"));
  must_commit(*minh, m);
  must_commit(*an, a);
  ASSERT_TRUE(minh->sync().ok());
  ASSERT_TRUE(an->sync().ok());
  ASSERT_TRUE(minh->sync().ok());
  ASSERT_TRUE(hoa->sync().ok());
  EXPECT_FALSE(minh->get("progress_report", aid).value_or(std::nullopt).has_value());
  EXPECT_FALSE(an->get("progress_report", mid).value_or(std::nullopt).has_value());
  EXPECT_EQ(count_rows(*minh, "progress_report"), 1u);
  EXPECT_EQ(count_rows(*hoa, "progress_report"), 2u);  // the reviewer sees the province
  auto sql = minh->sql_json("SELECT COUNT(*) AS n FROM progress_report WHERE unit_code = '03646'");
  ASSERT_TRUE(sql.ok());
  EXPECT_EQ(*sql, "[{\"n\":0}]");
  EXPECT_FALSE(minh->sql_json("DELETE FROM progress_report").ok());
}

TEST_F(ClientTest, QueriesFilterAndOrderInVietnamese) {
  auto hoa = device("hoa", "hoa");
  ASSERT_TRUE(hoa && hoa->sync().ok());
  client::Query q;
  q.table = "unit";
  q.order_by = "name";
  q.limit = 100;
  auto units = hoa->query(q);
  ASSERT_TRUE(units.ok());
  ASSERT_EQ(units->size(), 75u);
  for (size_t k = 1; k < units->size(); ++k) {
    EXPECT_LE(vi_compare(std::get<Text>((*units)[k - 1].fields.at("name")).s, std::get<Text>((*units)[k].fields.at("name")).s), 0);
  }
  q.where = {{client::Filter::contains, "name", text("chieng")}};  // no accents typed
  auto chieng = hoa->query(q);
  ASSERT_TRUE(chieng.ok());
  EXPECT_GT(chieng->size(), 5u);
  for (const auto& r : *chieng) EXPECT_NE(std::get<Text>(r.fields.at("name")).s.find("Chiềng"), std::string::npos);
}

TEST_F(ClientTest, AServerKilledMidPushLosesNothingAndDuplicatesNothing) {
  auto minh = device("minh", "minh");
  ASSERT_TRUE(minh && minh->sync().ok());
  for (int k = 0; k < 300; ++k) {
    WriteTxn t;
    t.insert("progress_report", "", report_fields("03808", "Báo cáo " + std::to_string(k)));
    must_commit(*minh, t);
  }
  // Killed from the progress callback once 50 change sets have their receipts: the push in
  // flight dies with the server, and the sync's retries find no server.
  bool killed = false;
  auto first = minh->sync([&](const client::Progress& p) {
    if (killed || p.phase != "push" || p.changesets_done < 50) return;
    killed = true;
    server_->stop(SIGKILL);
    relay_.set_upstream(0);
  });
  ASSERT_TRUE(killed);
  EXPECT_FALSE(first.ok());
  const uint64_t receipted = minh->info().receipts;
  EXPECT_GE(receipted, 50u);
  EXPECT_LT(receipted, 300u);
  EXPECT_EQ(minh->info().pending, 300u - receipted);
  server_->start();
  relay_.set_upstream(server_->port());
  auto second = minh->sync();
  ASSERT_TRUE(second.ok()) << second.status().to_string();
  EXPECT_EQ(minh->info().pending, 0u);
  EXPECT_EQ(minh->info().receipts, 300u);
  auto lan = device("lan", "lan");
  ASSERT_TRUE(lan && lan->sync().ok());
  EXPECT_EQ(count_rows(*lan, "progress_report"), 300u);
  auto [rc, out] = run_cli({"admin", "devices", "--data", data_});
  EXPECT_NE(out.find("seq=300"), std::string::npos) << out;
}

TEST_F(ClientTest, ALinkThatCutsAtRandomBytesStillConvergesExactly) {
  auto minh = device("minh", "minh");
  auto lan = device("lan", "lan");
  auto hoa = device("hoa", "hoa", 37);  // pulls in pages of 37 rows, the next one read ahead
  ASSERT_TRUE(minh && lan && hoa);
  std::vector<std::string> ids;
  for (int k = 0; k < 60; ++k) {
    for (Client* c : {minh.get(), lan.get()}) {
      WriteTxn t;
      ids.push_back(t.insert("progress_report", "", report_fields("03808", "Ghi chép " + std::to_string(k))));
      must_commit(*c, t);
    }
  }
  relay_.set_cuts(16 * 1024, 42);
  // Bounded: at most 300 sync attempts per device and 90 s in all.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
  for (Client* c : {minh.get(), lan.get(), hoa.get(), minh.get()}) {
    bool done = false;
    for (int k = 0; k < 300 && !done && std::chrono::steady_clock::now() < deadline; ++k) done = c->sync().ok();
    ASSERT_TRUE(done) << "no sync completed through the cutting relay";
  }
  EXPECT_GT(relay_.cuts(), 10u);
  // The hard case happened: an answer lost after the server committed, the change set sent
  // again, and the server answering "duplicate" with the original receipt.
  const std::string metrics = http(server_->port(), "GET", "/metrics").body;
  const size_t dup_at = metrics.find("tram_changesets_total{outcome=\"duplicate\"} ");
  const uint64_t duplicates = dup_at == std::string::npos ? 0 : std::stoull(metrics.substr(dup_at + 43));
  std::printf("relay cut %llu connections; the server answered %llu duplicates\n",
              static_cast<unsigned long long>(relay_.cuts()), static_cast<unsigned long long>(duplicates));
  EXPECT_GT(duplicates, 0u) << metrics;
  relay_.set_cuts(0, 0);
  ASSERT_TRUE(lan->sync().ok());
  for (Client* c : {minh.get(), lan.get(), hoa.get()}) {
    EXPECT_EQ(c->info().pending, 0u);
    EXPECT_EQ(count_rows(*c, "progress_report"), ids.size());
  }
  EXPECT_EQ(minh->info().receipts, 60u);
  EXPECT_EQ(lan->info().receipts, 60u);
  auto all = hoa->sql_json("SELECT id, narrative, value FROM progress_report ORDER BY id");
  auto mine = minh->sql_json("SELECT id, narrative, value FROM progress_report ORDER BY id");
  ASSERT_TRUE(all.ok() && mine.ok());
  EXPECT_EQ(*all, *mine);
  auto [rc, out] = run_cli({"admin", "devices", "--data", data_});
  size_t at_60 = 0;
  for (size_t at = out.find("seq=60 "); at != std::string::npos; at = out.find("seq=60 ", at + 1)) ++at_60;
  EXPECT_EQ(at_60, 2u) << out;  // each official's chain holds exactly its 60 change sets
}

TEST_F(ClientTest, ABundleCarriesTheOutboxAndTheReceiptsComeBack) {
  auto minh = device("minh", "minh");
  ASSERT_TRUE(minh && minh->sync().ok());
  for (int k = 0; k < 3; ++k) {
    WriteTxn t;
    t.insert("progress_report", "", report_fields("03808", "Gửi qua USB " + std::to_string(k)));
    must_commit(*minh, t);
  }
  const std::string bundle = dir_ + "/minh.bundle", receipts = dir_ + "/minh.receipts";
  auto n = minh->export_bundle(bundle);
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(*n, 3u);
  auto [rc, out] = run_cli({"admin", "import-bundle", "--data", data_, "--in", bundle, "--out", receipts});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("3 change sets, 3 accepted"), std::string::npos) << out;
  auto imported = minh->import_receipts(receipts);
  ASSERT_TRUE(imported.ok()) << imported.status().to_string();
  EXPECT_EQ(imported->accepted, 3u);
  EXPECT_EQ(minh->info().pending, 0u);
  auto list = minh->receipts();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 3u);
  for (const auto& r : *list) EXPECT_TRUE(minh->verify_receipt(r).ok());
  // The same through the admin endpoint, with a deletion travelling too.
  WriteTxn del;
  del.remove("progress_report", list->front().rows.front().second);
  must_commit(*minh, del);
  ASSERT_EQ(*minh->export_bundle(bundle), 1u);
  std::string bundle_text;
  {
    std::ifstream in(bundle);
    bundle_text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  std::string token = run_cli({"admin", "token", "--data", data_}).second.substr(0, 64);
  const HttpResponse posted = http(server_->port(), "POST", "/v1/admin/bundles", bundle_text, {"Authorization: Bearer " + token});
  ASSERT_EQ(posted.status, 200) << posted.body;
  EXPECT_EQ(http(server_->port(), "POST", "/v1/admin/bundles", bundle_text, {"Authorization: Bearer nope"}).status, 401);
  std::ofstream(receipts) << posted.body;
  auto again = minh->import_receipts(receipts);
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_EQ(again->accepted, 1u);
  EXPECT_EQ(minh->info().pending, 0u);
  EXPECT_FALSE(minh->get("progress_report", list->front().rows.front().second).value_or(std::nullopt).has_value());
  auto lan = device("lan", "lan");
  ASSERT_TRUE(lan && lan->sync().ok());
  EXPECT_EQ(count_rows(*lan, "progress_report"), 2u);
  // A tampered bundle is refused whole.
  std::string text;
  {
    std::ifstream in(bundle);
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  text.replace(text.find("\"sig\":\"") + 7, 2, text.substr(text.find("\"sig\":\"") + 7, 2) == "00" ? "11" : "00");
  std::ofstream(dir_ + "/bad.bundle") << text;
  auto [brc, bout] = run_cli({"admin", "import-bundle", "--data", data_, "--in", dir_ + "/bad.bundle"});
  EXPECT_NE(brc, 0);
  EXPECT_NE(bout.find("bad_signature"), std::string::npos) << bout;
}

TEST_F(ClientTest, EvidencePhotosUploadOnceAccepted) {
  auto minh = device("minh", "minh");
  ASSERT_TRUE(minh && minh->sync().ok());
  const std::string photo = dir_ + "/anh.jpg";
  {
    std::ofstream out(photo, std::ios::binary);
    for (int k = 0; k < 700'000; ++k) out.put(static_cast<char>(k * 31 % 251));
  }
  auto ref = minh->add_attachment(photo);
  ASSERT_TRUE(ref.ok()) << ref.status().to_string();
  auto fields = report_fields("03808", "Có ảnh");
  fields["evidence"] = Value{*ref};
  WriteTxn t;
  t.insert("progress_report", "", fields);
  must_commit(*minh, t);
  auto r = minh->sync();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->attachments_uploaded, 1u);
  auto token = http(server_->port(), "GET", "/v1/admin/attachments/missing", "",
                    {"Authorization: Bearer " + run_cli({"admin", "token", "--data", data_}).second.substr(0, 64)});
  EXPECT_EQ(token.status, 200);
  EXPECT_EQ(token.body, "{\"missing\":[]}");
}

// Issue 16: one sync() goes on across cuts, and a chunk cut midway is not sent again: the
// server keeps the part that arrived and the device resumes at the server's byte. What reaches
// the server is the photo and little more.
TEST_F(ClientTest, AnUploadCutMidChunkResumesAtTheServersByte) {
  client::Options o = device_options(dir_ + "/minh.db");
  o.sync.max_time_ms = 60'000;  // on across cuts, while each try moves something
  auto opened = Client::open(o);
  ASSERT_TRUE(opened.ok()) << opened.status().to_string();
  auto minh = std::move(opened).value();
  ASSERT_TRUE(minh->enroll(relay_.url(), enrol_code(data_, "minh")).ok());
  ASSERT_TRUE(minh->sync().ok());
  const std::string photo = dir_ + "/anh.jpg";
  std::string bytes(900'000, '\0');
  std::mt19937_64 rng(16);
  for (char& c : bytes) c = static_cast<char>(rng());
  {
    std::ofstream out(photo, std::ios::binary);
    out << bytes;
  }
  auto ref = minh->add_attachment(photo);
  ASSERT_TRUE(ref.ok()) << ref.status().to_string();
  auto fields = report_fields("03808", "Có ảnh, sóng yếu");
  fields["evidence"] = Value{*ref};
  WriteTxn t;
  t.insert("progress_report", "", fields);
  must_commit(*minh, t);
  relay_.set_cuts(120 * 1024, 16);  // each connection cut after 1 B..120 KiB each way
  const uint64_t up_before = relay_.bytes_up();
  uint64_t total = 0;
  auto r = minh->sync([&](const client::Progress& p) {
    if (p.phase == "upload") total = p.upload_bytes_total;
  });
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->attachments_uploaded, 1u);
  EXPECT_EQ(r->accepted, 1u);
  EXPECT_EQ(minh->info().pending, 0u);
  EXPECT_GT(relay_.cuts(), 3u);
  const uint64_t up = relay_.bytes_up() - up_before;
  std::printf("relay cut %llu connections; %llu bytes reached the server for a %zu-byte photo (%.2fx)\n",
              static_cast<unsigned long long>(relay_.cuts()), static_cast<unsigned long long>(up), bytes.size(),
              static_cast<double>(up) / static_cast<double>(bytes.size()));
  EXPECT_LT(up, bytes.size() * 6 / 5);  // the photo once, headers and the small requests: < 1.2x
  EXPECT_EQ(total, bytes.size());
  relay_.set_cuts(0, 0);
  auto missing = http(server_->port(), "GET", "/v1/admin/attachments/missing", "",
                      {"Authorization: Bearer " + run_cli({"admin", "token", "--data", data_}).second.substr(0, 64)});
  EXPECT_EQ(missing.body, "{\"missing\":[]}");
}

TEST_F(ClientTest, ChangeListenerHearsLocalWritesAndPulledRows) {
  auto minh = device("minh", "minh");
  ASSERT_TRUE(minh);
  std::mutex mu;
  std::map<std::string, size_t> heard;
  minh->set_change_listener([&](const std::string& table, const std::vector<std::string>& ids) {
    std::lock_guard lock(mu);
    heard[table] += ids.size();
  });
  ASSERT_TRUE(minh->sync().ok());
  WriteTxn t;
  t.insert("progress_report", "", report_fields("03808", "Mới"));
  must_commit(*minh, t);
  std::lock_guard lock(mu);
  EXPECT_EQ(heard["unit"], 75u);
  EXPECT_GE(heard["progress_report"], 1u);
}


TEST_F(ClientTest, CancelStopsASyncStuckOnADeadLink) {
  auto minh = device("minh", "minh");
  ASSERT_TRUE(minh && minh->sync().ok());
  WriteTxn t;
  t.insert("progress_report", "", report_fields("03808", "Chờ sóng"));
  must_commit(*minh, t);
  // A server that accepts connections and never answers: the link of a dying 2G cell.
  const int hole = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(hole, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(hole, 16), 0);
  socklen_t len = sizeof addr;
  ::getsockname(hole, reinterpret_cast<sockaddr*>(&addr), &len);
  relay_.set_upstream(ntohs(addr.sin_port));
  relay_.set_cuts(0, 0);  // drops the kept-alive connection to the real server
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    minh->cancel();
  });
  const auto t0 = std::chrono::steady_clock::now();
  auto r = minh->sync();
  const auto waited = std::chrono::steady_clock::now() - t0;
  canceller.join();
  ::close(hole);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Errc::cancelled) << r.status().to_string();
  EXPECT_LT(waited, std::chrono::seconds(3));  // not the 5 s I/O timeout, nor the retries
  EXPECT_EQ(minh->info().pending, 1u);         // nothing lost
}

TEST_F(ClientTest, TheBackgroundLoopSyncsOnItsOwn) {
  auto minh = device("minh", "minh");
  auto lan = device("lan", "lan");
  ASSERT_TRUE(minh && lan);
  minh->start_background(std::chrono::milliseconds(100));
  WriteTxn t;
  const std::string id = t.insert("progress_report", "", report_fields("03808", "Tự đồng bộ"));
  must_commit(*minh, t);
  bool arrived = false;
  for (int k = 0; k < 100 && !arrived; ++k) {  // at most 10 s
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    arrived = minh->info().pending == 0 && minh->info().receipts == 1;
  }
  minh->stop_background();
  EXPECT_TRUE(arrived);
  ASSERT_TRUE(lan->sync().ok());
  EXPECT_TRUE(lan->get("progress_report", id).value_or(std::nullopt).has_value());
}

}  // namespace
}  // namespace tram::testing
