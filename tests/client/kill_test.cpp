// The SDK process killed with SIGKILL at random moments while writing and syncing: after every
// kill, every write that was acknowledged as saved is there, the device's chain is whole (its
// receipts are seq 1..R and its outbox R+1..N: every signed change set is in exactly one of them),
// and the server's log holds this device's chain 1..M (M ≤ N) with every receipt the device keeps,
// each once. Then the phone syncs: all of it reaches the server exactly once, and the device's
// copy of the reports is the server's, row for row. TRAM_KILLS sets the number of kills (3 by
// default, 20 in the slow suite, 1,000 in `make soak`); TRAM_SYNC_EVERY the writes between two
// syncs of the writer (25; 0: writes only).
#include <poll.h>

#include <set>

#include "client/client_support.hpp"
#include "tram/engine/sqlite.hpp"

namespace tram::testing {
namespace {

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

// The first row of a one-row sql_json answer, as numbers by column.
std::map<std::string, int64_t> one_row(client::Client& c, const std::string& select) {
  std::map<std::string, int64_t> out;
  auto json = c.sql_json(select);
  EXPECT_TRUE(json.ok()) << select;
  if (!json.ok()) return out;
  simdjson::dom::parser p;
  simdjson::dom::element root;
  if (p.parse(*json).get(root)) return out;
  for (auto field : root.at(0).get_object()) out[std::string(field.key)] = field.value.get_int64().value();
  return out;
}

// Each report row, every column the merge decides (writer stamps included), one per line.
const char* kRowsSql =
    "SELECT ifnull(group_concat(line, char(10)), '') AS rows FROM (SELECT id || '|' || hex(_ws) || '|' || _deleted || '|' ||"
    " quote(unit_code) || '|' || quote(period) || '|' || quote(progress) || '|' || quote(narrative) || '|' ||"
    " quote(author) || '|' || quote(recorded_on) || '|' || quote(status) AS line FROM progress_report ORDER BY id)";

TEST(ClientKill, AcknowledgedWritesSurviveSigkill) {
  const std::string dir = temp_dir("kill"), data = dir + "/server", db = dir + "/minh.db";
  std::filesystem::create_directories(data);
  prepare_server(data);
  ServerProcess server(data);
  PublicKey device{};
  {
    auto c = open_device(db);
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->enroll("http://127.0.0.1:" + std::to_string(server.port()), enrol_code(data, "minh")).ok());
    device = c->info().device;
  }
  const int kills = env_int("TRAM_KILLS", 3);
  const std::string sync_every = std::to_string(env_int("TRAM_SYNC_EVERY", 10));
  std::mt19937_64 rng(20261129);
  std::set<std::string> acked;
  std::vector<std::string> fresh;  // acknowledged since the last full check
  int in_sync = 0, syncs = 0, sync_failures = 0;
  int64_t server_checked = 0;  // the server's log is checked up to this seq of the device's chain
  for (int k = 0; k < kills; ++k) {
    int out[2];
    ASSERT_EQ(::pipe(out), 0);
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      const std::string schemas = std::string(TRAM_SCHEMAS_DIR) + "/sonla-2026";
      // Every other run syncs as it starts: kills land in the first sync of an app just opened.
      ::execl(TRAM_WRITER_BIN, TRAM_WRITER_BIN, db.c_str(), schemas.c_str(), "100000", sync_every.c_str(),
              k % 2 ? "sync-first" : "no", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    const int delay_ms = std::uniform_int_distribution<int>(50, 400)(rng);
    // One run in four is timed from its start (kills land in the opening too: WAL recovery);
    // the others from "opened", so that a loaded machine's slow start still leaves time to write.
    const bool from_start = k % 4 == 0;
    auto kill_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(from_start ? delay_ms : 10000);
    bool timed = from_start;
    std::string buf;
    char chunk[4096];
    while (std::chrono::steady_clock::now() < kill_at) {
      if (!timed && buf.find("opened\n") != std::string::npos) {
        timed = true;
        kill_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(delay_ms);
      }
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
    std::string last;
    for (size_t at = 0, nl; (nl = buf.find('\n', at)) != std::string::npos; at = nl + 1) {
      last = buf.substr(at, nl - at);
      if (last.starts_with("saved ")) {
        if (acked.insert(last.substr(6)).second) fresh.push_back(last.substr(6));
        ++this_run;
      }
      if (last.starts_with("synced ")) ++syncs;
      if (last.starts_with("sync failed")) {
        ++sync_failures;
        std::printf("kill %d: %s\n", k, last.c_str());
      }
    }
    if (last == "sync") ++in_sync;  // killed in the middle of a sync
    // Reopen as the app would after the crash: everything acknowledged is there (the new ones
    // each time; all of them every 100 kills and at the end), and the chain is whole.
    auto c = open_device(db);
    ASSERT_TRUE(c);
    if ((k + 1) % 100 == 0 || k + 1 == kills) fresh.assign(acked.begin(), acked.end());
    for (const std::string& id : fresh) {
      auto row = c->get("progress_report", id);
      ASSERT_TRUE(row.ok() && *row) << "kill " << k << ": acknowledged write " << id << " is missing";
    }
    fresh.clear();
    const client::DeviceInfo info = c->info();
    EXPECT_EQ(info.rejected, 0u);
    EXPECT_EQ(info.pending + info.receipts, info.seq) << "kill " << k << ": every signed change set is pending or receipted";
    auto receipts = one_row(*c, "SELECT count(*) AS n, ifnull(min(seq), 1) AS lo, ifnull(max(seq), 0) AS hi FROM _client_receipts");
    auto outbox = one_row(*c, "SELECT count(*) AS n, ifnull(min(seq), 0) AS lo, ifnull(max(seq), 0) AS hi FROM _client_outbox");
    EXPECT_EQ(receipts["lo"], 1) << "kill " << k;
    EXPECT_EQ(receipts["hi"], receipts["n"]) << "kill " << k << ": the receipts are not seq 1..R";
    if (outbox["n"] > 0) {
      EXPECT_EQ(outbox["lo"], receipts["n"] + 1) << "kill " << k;
      EXPECT_EQ(outbox["hi"], static_cast<int64_t>(info.seq)) << "kill " << k << ": the outbox is not seq R+1..N";
      EXPECT_EQ(outbox["hi"] - outbox["lo"] + 1, outbox["n"]) << "kill " << k;
    }
    EXPECT_GE(one_row(*c, "SELECT count(*) AS n FROM progress_report")["n"], static_cast<int64_t>(acked.size()));
    auto integrity = c->sql_json("PRAGMA integrity_check");
    ASSERT_TRUE(integrity.ok());
    EXPECT_EQ(*integrity, "[{\"integrity_check\":\"ok\"}]");
    // The server's side: this device's chain 1..M, each change set once, M ≤ N, and each receipt
    // the device keeps names a change set the server has at that seq.
    auto sdb = sql::Database::open(data + "/tram.db");
    ASSERT_TRUE(sdb.ok());
    auto agg = sdb->prepare("SELECT count(*), count(DISTINCT id), coalesce(max(seq), 0) FROM _srv_log WHERE device = ? AND accepted = 1");
    agg->bind_blob(1, device);
    ASSERT_TRUE(*agg->step());
    const int64_t m = agg->column_int(0);
    EXPECT_EQ(agg->column_int(1), m) << "kill " << k << ": a change set is on the server twice";
    EXPECT_EQ(agg->column_int(2), m) << "kill " << k << ": the server's chain of this device has gaps";
    EXPECT_LE(m, static_cast<int64_t>(info.seq)) << "kill " << k;
    EXPECT_GE(m, receipts["n"]) << "kill " << k << ": a receipt for a change set the server lacks";
    auto mine = c->sql_json("SELECT seq, lower(hex(id)) AS id FROM _client_receipts WHERE seq > " +
                            std::to_string(server_checked) + " ORDER BY seq");
    ASSERT_TRUE(mine.ok());
    simdjson::dom::parser p;
    simdjson::dom::element rows;
    ASSERT_FALSE(p.parse(*mine).get(rows));
    auto at = sdb->prepare("SELECT lower(hex(id)) FROM _srv_log WHERE device = ? AND seq = ? AND accepted = 1");
    for (auto r : rows.get_array()) {
      const int64_t seq = r["seq"].get_int64().value();
      at->reset();
      at->bind_blob(1, device);
      at->bind_int(2, seq);
      ASSERT_TRUE(*at->step()) << "kill " << k << ": receipted seq " << seq << " is not on the server";
      EXPECT_EQ(at->column_text(0), std::string_view(r["id"].get_string().value())) << "kill " << k << ": seq " << seq;
      server_checked = seq;
    }
    ASSERT_FALSE(::testing::Test::HasFailure()) << "stopped at kill " << k;
    if (kills <= 50) {
      std::printf("kill %d after %d ms%s: %zu writes acknowledged in this run, %zu in all, %lld on the server\n", k, delay_ms,
                  last == "sync" ? " (in a sync)" : "", this_run, acked.size(), static_cast<long long>(m));
    }
  }
  EXPECT_GT(acked.size(), static_cast<size_t>(kills));
  // Then the phone finds a signal: the whole outbox reaches the server, exactly once, and the two
  // copies of the reports are the same.
  auto c = open_device(db);
  ASSERT_TRUE(c);
  const uint64_t seq = c->info().seq;
  auto r = c->sync();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(c->info().pending, 0u);
  EXPECT_EQ(c->info().receipts, seq);
  auto sdb = sql::Database::open(data + "/tram.db");
  ASSERT_TRUE(sdb.ok());
  auto agg = sdb->prepare("SELECT count(*), count(DISTINCT id), coalesce(min(seq), 0), coalesce(max(seq), 0) FROM _srv_log WHERE device = ?");
  agg->bind_blob(1, device);
  ASSERT_TRUE(*agg->step());
  const int64_t on_server = agg->column_int(0);
  EXPECT_EQ(on_server, static_cast<int64_t>(seq)) << "every change set on the server exactly once";
  EXPECT_EQ(agg->column_int(1), on_server);
  EXPECT_EQ(agg->column_int(2), on_server > 0 ? 1 : 0);
  EXPECT_EQ(agg->column_int(3), on_server);
  auto server_rows = sdb->prepare(kRowsSql);
  ASSERT_TRUE(server_rows.ok()) << server_rows.status().to_string();
  ASSERT_TRUE(*server_rows->step());
  const std::string theirs(server_rows->column_text(0));
  auto ours_json = c->sql_json(kRowsSql);
  ASSERT_TRUE(ours_json.ok()) << ours_json.status().to_string();
  simdjson::dom::parser p;
  std::string_view ours;
  ASSERT_FALSE(p.parse(*ours_json).at(0)["rows"].get_string().get(ours));
  const size_t lines = theirs.empty() ? 0 : static_cast<size_t>(std::count(theirs.begin(), theirs.end(), '\n')) + 1;
  EXPECT_EQ(lines, seq);  // a row per change set (each inserts one)
  EXPECT_TRUE(ours == theirs) << "the device's reports differ from the server's";
  size_t lost = 0;
  for (const std::string& id : acked) lost += theirs.find(id + "|") == std::string::npos;
  EXPECT_EQ(lost, 0u) << "saved writes missing on the server";
  std::printf("sdk kills: %d kills (%d in a sync), %d syncs completed, %d failed, %zu writes acknowledged, %llu change sets, "
              "%lld on the server, %zu lost, %lld duplicated, chains ok, copies %s\n",
              kills, in_sync, syncs, sync_failures, acked.size(), static_cast<unsigned long long>(seq), static_cast<long long>(on_server),
              lost, static_cast<long long>(on_server - agg->column_int(1)), ours == theirs ? "identical" : "DIFFERENT");
}

}  // namespace
}  // namespace tram::testing
