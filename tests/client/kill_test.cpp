// The SDK process killed with SIGKILL at random moments while writing: every write that was
// acknowledged as saved is there afterwards with its outbox entry, and all of them reach the
// server. TRAM_KILLS sets the number of kills (3 by default, 20 in the slow suite).
#include <poll.h>

#include <set>

#include "client/client_support.hpp"

namespace tram::testing {
namespace {

TEST(ClientKill, AcknowledgedWritesSurviveSigkill) {
  const std::string dir = temp_dir("kill"), data = dir + "/server", db = dir + "/minh.db";
  std::filesystem::create_directories(data);
  prepare_server(data);
  ServerProcess server(data);
  {
    auto c = open_device(db);
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->enroll("http://127.0.0.1:" + std::to_string(server.port()), enrol_code(data, "minh")).ok());
  }
  const int kills = std::getenv("TRAM_KILLS") ? std::atoi(std::getenv("TRAM_KILLS")) : 3;
  std::mt19937_64 rng(20261129);
  std::set<std::string> acked;
  for (int k = 0; k < kills; ++k) {
    int out[2];
    ASSERT_EQ(::pipe(out), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      const std::string schemas = std::string(TRAM_SCHEMAS_DIR) + "/sonla-2026";
      ::execl(TRAM_WRITER_BIN, TRAM_WRITER_BIN, db.c_str(), schemas.c_str(), "100000", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    const int delay_ms = std::uniform_int_distribution<int>(50, 400)(rng);
    const auto kill_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms);
    std::string buf;
    char chunk[4096];
    while (std::chrono::steady_clock::now() < kill_at) {
      pollfd p{out[0], POLLIN, 0};
      if (::poll(&p, 1, 5) > 0) {
        const ssize_t n = ::read(out[0], chunk, sizeof chunk);
        if (n <= 0) break;
        buf.append(chunk, static_cast<size_t>(n));
      }
    }
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    for (ssize_t n; (n = ::read(out[0], chunk, sizeof chunk)) > 0;) buf.append(chunk, static_cast<size_t>(n));
    ::close(out[0]);
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer ended by itself (status " << status << ")";
    size_t this_run = 0;
    for (size_t at = 0, nl; (nl = buf.find('\n', at)) != std::string::npos; at = nl + 1) {
      const std::string line = buf.substr(at, nl - at);
      if (line.starts_with("saved ")) {
        acked.insert(line.substr(6));
        ++this_run;
      }
    }
    // Reopen as the app would after the crash: everything acknowledged is there.
    auto c = open_device(db);
    ASSERT_TRUE(c);
    const client::DeviceInfo info = c->info();
    EXPECT_GE(info.pending, acked.size());
    EXPECT_EQ(info.pending, info.seq) << "every signed change set has its outbox entry";
    for (const std::string& id : acked) {
      auto row = c->get("progress_report", id);
      ASSERT_TRUE(row.ok() && *row) << "kill " << k << ": acknowledged write " << id << " is missing";
      EXPECT_TRUE((*row)->pending);
    }
    auto integrity = c->sql_json("PRAGMA integrity_check");
    ASSERT_TRUE(integrity.ok());
    EXPECT_EQ(*integrity, "[{\"integrity_check\":\"ok\"}]");
    std::printf("kill %d after %d ms: %zu writes acknowledged in this run, %zu in all\n", k, delay_ms, this_run, acked.size());
  }
  EXPECT_GT(acked.size(), static_cast<size_t>(kills));
  // Then the phone finds a signal: the whole outbox reaches the server, exactly once.
  auto c = open_device(db);
  ASSERT_TRUE(c);
  const uint64_t seq = c->info().seq;
  auto r = c->sync();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->accepted, seq);
  EXPECT_EQ(c->info().pending, 0u);
  EXPECT_EQ(c->info().receipts, seq);
}

}  // namespace
}  // namespace tram::testing
