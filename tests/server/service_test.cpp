// The Service in process, without a socket: a SqliteStorage in a temporary directory, requests
// handed to Service::handle, answers read with the engine's wire readers. Complements the
// real-process tests (server_test.cpp), which cover the transport.
#include "service.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>

#include "api/web_app.hpp"
#include "storage/sqlite_storage.hpp"
#include "tram/engine/gzip.hpp"
#include "tram/engine/device_chain.hpp"
#include "tram/engine/schema_loader.hpp"
#include "tram/engine/wire.hpp"
#include "tram/engine/wire_writer.hpp"

namespace tram::server {
namespace {
namespace dom = simdjson::dom;

// A record table scoped by unit, with an evidence photo.
constexpr std::string_view kSchema = R"({"schema":"svc-test","version":1,"tables":[
  {"name":"note","kind":"record","scope":"unit_code",
   "write":[{"roles":["official"],"ops":["insert","update","delete"],"fields":["unit_code","body","photo"]}],
   "fields":[{"id":1,"name":"unit_code","type":"text","required":true},
             {"id":2,"name":"body","type":"text"},
             {"id":3,"name":"photo","type":"attachment"}]}]})";

std::string member(const std::string& json, const char* key) {
  dom::parser p;
  std::string_view v;
  if (p.parse(json)[key].get_string().get(v)) return {};
  return std::string(v);
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("tram-service-" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto schema = parse_schema(kSchema);
    ASSERT_TRUE(schema.ok()) << schema.status().to_string();
    schema_ = std::move(schema).value();
    auto storage = SqliteStorage::open((dir_ / "tram.db").string(), schema_);
    ASSERT_TRUE(storage.ok()) << storage.status().to_string();
    ServiceConfig config;
    config.attachments_dir = (dir_ / "attachments").string();
    std::array<uint8_t, 32> seed{};
    seed[0] = 1;
    service_ = std::make_unique<Service>(config, std::move(storage).value(), DeviceKey::from_seed(seed), "admin-token",
                                         clock_, random_);
    ASSERT_TRUE(service_->create_user(UserRecord{"minh", Role::official, {"03808"}, false, {}}).ok());
  }
  void TearDown() override {
    service_.reset();
    std::filesystem::remove_all(dir_);
  }

  Response call(std::string method, std::string target, std::string body = {}, std::string auth = {}) {
    return service_->handle(Request{std::move(method), std::move(target), std::move(body), std::move(auth), "t", "127.0.0.1"});
  }

  // Enrols a device for minh and opens a session: its bearer token.
  std::string enrol_and_open(const DeviceKey& key) {
    auto code = service_->issue_enrolment_code("minh", 3600 * 1000);
    EXPECT_TRUE(code.ok());
    Response e = call("POST", "/v1/enroll", R"({"code":")" + *code + R"(","public_key":")" + to_hex(key.public_key()) + "\"}");
    EXPECT_EQ(e.status, 200) << e.body;
    EXPECT_EQ(member(e.body, "server_key"), to_hex(service_->server_key()));
    Response c = call("POST", "/v1/auth/challenge", R"({"device":")" + to_hex(key.public_key()) + "\"}");
    EXPECT_EQ(c.status, 200) << c.body;
    const std::string challenge = member(c.body, "challenge");
    Response s = call("POST", "/v1/auth/session",
                      R"({"device":")" + to_hex(key.public_key()) + R"(","challenge":")" + challenge + R"(","signature":")" +
                          to_hex(key.sign("tram-session-v1:" + challenge)) + "\"}");
    EXPECT_EQ(s.status, 200) << s.body;
    return "Bearer " + member(s.body, "token");
  }

  std::filesystem::path dir_;
  Schema schema_;
  FakeClock clock_{1767225600000};
  SeededRandom random_{7};
  std::unique_ptr<Service> service_;
};

TEST_F(ServiceTest, EnrolsPushesWithVerifiedReceiptsAndPullsWhatItPushed) {
  std::array<uint8_t, 32> seed{};
  seed[0] = 2;
  const std::string token = enrol_and_open(DeviceKey::from_seed(seed));
  HybridClock hlc(clock_, 5 * 60 * 1000);
  DeviceChain chain(DeviceKey::from_seed(seed), hlc, "minh", "svc-test", 1);
  const Hash photo = blake2b_256("a photo of the clinic");
  std::vector<SignedChangeSet> sent;
  for (const char* row : {"n1", "n2"}) {
    auto made = chain.make({Op{"note", row, OpKind::put,
                               {{1, Value{Text{"03808"}}}, {2, Value{Text{"Trạm y tế"}}}, {3, Value{AttachmentRef{photo}}}}, {}}});
    ASSERT_TRUE(made.ok()) << made.status().to_string();
    sent.push_back(made->signed_cs);
  }
  Response push = call("POST", "/v1/push", wire::write_push_body(sent), token);
  ASSERT_EQ(push.status, 200) << push.body;
  dom::parser p;
  dom::array results;
  ASSERT_FALSE(p.parse(push.body)["results"].get_array().get(results));
  size_t n = 0;
  for (dom::element r : results) {
    std::string_view status, body, sig;
    ASSERT_FALSE(r["status"].get_string().get(status));
    EXPECT_EQ(status, "accepted");
    ASSERT_FALSE(r["receipt"]["body"].get_string().get(body));
    ASSERT_FALSE(r["receipt"]["sig"].get_string().get(sig));
    auto receipt = wire::verify_receipt(body, sig, service_->server_key());
    ASSERT_TRUE(receipt.ok()) << receipt.status().to_string();
    EXPECT_TRUE(receipt->accepted);
    EXPECT_EQ(receipt->seq, n + 1);
    EXPECT_EQ(receipt->id, sent[n].id());
    ++n;
  }
  EXPECT_EQ(n, 2u);
  // The same push again: duplicates, with the same receipts.
  Response again = call("POST", "/v1/push", wire::write_push_body(sent), token);
  EXPECT_EQ(again.status, 200);
  EXPECT_NE(again.body.find("\"status\":\"duplicate\""), std::string::npos);

  Response pull = call("GET", "/v1/pull?after=0", {}, token);
  ASSERT_EQ(pull.status, 200) << pull.body;
  auto page = wire::parse_pull(pull.body, schema_);
  ASSERT_TRUE(page.ok()) << page.status().to_string();
  ASSERT_EQ(page->rows.size(), 2u);
  EXPECT_EQ(page->rows[0].id, "n1");
  EXPECT_EQ(page->rows[1].image.cells[2].value, Value{Text{"Trạm y tế"}});
  EXPECT_FALSE(page->more);
  EXPECT_EQ(page->head.server_seq, 2u);
  EXPECT_TRUE(wire::verify_head(page->head, service_->server_key()));
  auto lead = wire::peek_page(pull.body);
  ASSERT_TRUE(lead);
  EXPECT_EQ(lead->next, page->next);

  Response snap = call("GET", "/v1/snapshot?limit=1", {}, token);
  ASSERT_EQ(snap.status, 200) << snap.body;
  auto first = wire::parse_pull(snap.body, schema_);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->rows.size(), 1u);
  EXPECT_TRUE(first->more);
  EXPECT_FALSE(first->cursor.empty());

  // The photo the rows name: uploaded in two chunks, then served back.
  const std::string bytes = "a photo of the clinic";
  const std::string path = "/v1/attachments/" + to_hex(photo);
  Response part = call("PUT", path + "?offset=0", bytes.substr(0, 5), token);
  ASSERT_EQ(part.status, 200) << part.body;
  Response wrong = call("PUT", path + "?offset=3", bytes.substr(5), token);
  EXPECT_EQ(wrong.status, 409);
  Response last = call("PUT", path + "?offset=5&final=1", bytes.substr(5), token);
  ASSERT_EQ(last.status, 200) << last.body;
  EXPECT_NE(last.body.find("\"complete\":true"), std::string::npos);
  Response got = call("GET", path, {}, token);
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body, bytes);
  EXPECT_EQ(got.content_type, "application/octet-stream");
}

// The server keeps a device's chain head as its last entry in the log, accepted or rejected with
// a receipt: a new session, the device list and the next push all see it.
TEST_F(ServiceTest, ADevicesChainHeadIsItsLastLoggedChangeSetAcceptedOrNot) {
  std::array<uint8_t, 32> seed{};
  seed[0] = 3;
  const DeviceKey key = DeviceKey::from_seed(seed);
  const std::string token = enrol_and_open(key);
  // GET /v1/me: "seq", the last sequence recorded, accepted or rejected with a receipt (protocol.md).
  auto session_seq = [&] {
    Response me = call("GET", "/v1/me", {}, token);
    EXPECT_EQ(me.status, 200) << me.body;
    dom::parser p;
    uint64_t seq = 99;
    EXPECT_FALSE(p.parse(me.body)["seq"].get_uint64().get(seq)) << me.body;
    return seq;
  };
  auto listed = [&]() -> ChainHead {
    auto all = service_->devices();
    EXPECT_TRUE(all.ok());
    for (const DeviceRecord& d : *all) {
      if (d.key == key.public_key()) return d.head;
    }
    ADD_FAILURE() << "device not listed";
    return {};
  };
  EXPECT_EQ(session_seq(), 0u);
  EXPECT_EQ(listed().seq, 0u);

  HybridClock hlc(clock_, 5 * 60 * 1000);
  DeviceChain chain(DeviceKey::from_seed(seed), hlc, "minh", "svc-test", 1);
  auto note = [&](const char* row, const char* unit) {
    auto made = chain.make({Op{"note", row, OpKind::put, {{1, Value{Text{unit}}}, {2, Value{Text{"Đã họp"}}}}, {}}});
    EXPECT_TRUE(made.ok());
    return made->signed_cs;
  };
  // The second is outside minh's commune: rejected, with a receipt, and still in the chain.
  const std::vector<SignedChangeSet> two{note("h1", "03808"), note("h2", "03811")};
  Response push = call("POST", "/v1/push", wire::write_push_body(two), token);
  ASSERT_EQ(push.status, 200) << push.body;
  EXPECT_NE(push.body.find("\"status\":\"accepted\""), std::string::npos) << push.body;
  EXPECT_NE(push.body.find("\"status\":\"rejected\""), std::string::npos) << push.body;
  EXPECT_EQ(session_seq(), 2u);
  EXPECT_EQ(listed().seq, 2u);
  EXPECT_EQ(listed().last, two[1].id());

  // The next change set links to the rejected one and is accepted; the head follows it.
  const SignedChangeSet third = note("h3", "03808");
  Response next = call("POST", "/v1/push", wire::write_push_body({third}), token);
  ASSERT_EQ(next.status, 200) << next.body;
  EXPECT_NE(next.body.find("\"status\":\"accepted\""), std::string::npos) << next.body;
  EXPECT_EQ(session_seq(), 3u);
  EXPECT_EQ(listed().last, third.id());
}

TEST_F(ServiceTest, RefusesWhatItShouldWithTheErrorEnvelope) {
  Response none = call("GET", "/v1/pull");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(none.error_code, "unauthenticated");
  EXPECT_EQ(none.body.rfind("{\"error\":{\"code\":\"unauthenticated\",\"message\":", 0), 0u) << none.body;
  EXPECT_EQ(call("GET", "/v1/nothing").status, 404);
  EXPECT_EQ(call("POST", "/v1/enroll", "not json").status, 400);
  EXPECT_EQ(call("POST", "/v1/enroll", R"({"code":"WRONG","public_key":")" + std::string(64, 'a') + "\"}").status, 403);
  EXPECT_EQ(call("GET", "/v1/admin/devices", {}, "Bearer wrong").status, 401);
  Response devices = call("GET", "/v1/admin/devices", {}, "Bearer admin-token");
  EXPECT_EQ(devices.status, 200);
  EXPECT_EQ(devices.body, R"({"devices":[]})");
  std::array<uint8_t, 32> seed{};
  seed[0] = 3;
  const std::string token = enrol_and_open(DeviceKey::from_seed(seed));
  EXPECT_EQ(call("GET", "/v1/pull?after=x", {}, token).status, 400);
  std::string many = R"({"changesets":[{})";
  for (int i = 0; i < 500; ++i) many += ",{}";
  Response big = call("POST", "/v1/push", many + "]}", token);  // 501 > max_batch
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(big.error_code, "too_large");
  EXPECT_EQ(call("POST", "/v1/push", "{", token).status, 400);
  EXPECT_EQ(call("GET", "/v1/attachments/" + std::string(64, 'c'), {}, token).status, 404);
  EXPECT_EQ(call("GET", "/healthz").body, R"({"status":"ok"})");
}

}  // namespace
}  // namespace tram::server

namespace tram::server {
namespace {

// What the web app needs from the server: its files at / (and nothing outside them), the schema
// it builds forms from, the province report for users with all units, the users and the
// devices' last-seen times for the administrator's pages.
TEST_F(ServiceTest, ServesTheWebAppTheSchemaAndTheReportToWhomItMay) {
  const auto web = dir_ / "web";
  std::filesystem::create_directories(web / "icons");
  std::ofstream(web / "index.html") << "<!doctype html><title>Tram</title>";
  std::ofstream(web / "app.js") << std::string(4000, ';');
  std::ofstream(web / "icons" / "icon.svg") << "<svg/>";
  std::ofstream(dir_ / "secret.txt") << "not served";
  EXPECT_EQ(call("GET", "/").status, 404) << "no web app before one is set";
  auto app = api::WebApp::load(web.string());
  ASSERT_TRUE(app.ok()) << app.status().to_string();
  service_->set_web_app(std::make_unique<api::WebApp>(std::move(app).value()));

  Response index = call("GET", "/");
  EXPECT_EQ(index.status, 200);
  EXPECT_EQ(index.body, "<!doctype html><title>Tram</title>");
  EXPECT_EQ(index.content_type, "text/html; charset=utf-8");
  bool csp = false;
  for (const auto& [k, v] : index.headers) csp = csp || (k == "Content-Security-Policy" && v.find("default-src 'self'") == 0);
  EXPECT_TRUE(csp);
  EXPECT_EQ(call("GET", "/icons/icon.svg").body, "<svg/>");
  Request gz{"GET", "/app.js", {}, {}, "t", "127.0.0.1", true};
  Response js = service_->handle(gz);
  EXPECT_EQ(js.content_encoding, "gzip");
  EXPECT_EQ(gzip_decompress(js.body, 1 << 20).value_or(""), std::string(4000, ';'));
  EXPECT_EQ(call("GET", "/app.js").body.size(), 4000u) << "plain when gzip is not accepted";
  for (const char* bad : {"/../secret.txt", "/icons/../../secret.txt", "/nothing.js", "/icons"}) {
    EXPECT_EQ(call("GET", bad).status, 404) << bad;
  }
  EXPECT_EQ(call("POST", "/").status, 404);
  EXPECT_EQ(call("GET", "/v1/nothing").status, 404) << "API paths never fall through to files";

  // The schema: public (a browser fetches it at enrolment).
  EXPECT_EQ(call("GET", "/v1/schema").status, 404) << "this test's config serves no schema file";

  // The province report: refused to a scoped official.
  std::array<uint8_t, 32> seed{};
  seed[0] = 9;
  const DeviceKey key = DeviceKey::from_seed(seed);
  const std::string token = enrol_and_open(key);
  Response report = call("GET", "/v1/report?period=2026-H1", {}, token);
  EXPECT_EQ(report.status, 403);
  EXPECT_EQ(report.error_code, "forbidden_scope");
  EXPECT_EQ(call("GET", "/v1/report?period=2026-H1").status, 401);

  Response users = call("GET", "/v1/admin/users", {}, "Bearer admin-token");
  EXPECT_EQ(users.status, 200);
  EXPECT_EQ(users.body, R"({"users":[{"id":"minh","role":"official","units":["03808"],"all_units":false,"name":""}]})");
  EXPECT_EQ(call("GET", "/v1/admin/users", {}, "Bearer nope").status, 401);
  Response devices = call("GET", "/v1/admin/devices", {}, "Bearer admin-token");
  EXPECT_NE(devices.body.find("\"last_seen_ms\":1767225600000"), std::string::npos) << devices.body;
}

}  // namespace
}  // namespace tram::server
