// A damaged or restored data directory: the server never starts silently on a missing key or
// a damaged database, reports a restored backup, a lost WAL or garbage in it as a log behind,
// and heals from devices re-sending; key rotation (issue 11 §3).
#include <gtest/gtest.h>

#include <fstream>

#include "server_fixture.hpp"

namespace tram::testing {
namespace {

namespace dom = simdjson::dom;

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
