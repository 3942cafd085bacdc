// The SDK store under the fault VFS: the writer process (tests/client/writer_main.cpp) is cut
// at random moments; every write it acknowledged survives the power cut, with its outbox entry.
// With EIO/ENOSPC injected into its writes or fsyncs, the commit returns an error and leaves
// nothing half-done: the store opens clean, each change set has its row and outbox entry.
#include <random>
#include <set>

#include "client/client_support.hpp"
#include "power/power_support.hpp"

namespace tram::power {
namespace {

using tram::testing::open_device;

std::string schemas() { return std::string(TRAM_SCHEMAS_DIR) + "/sonla-2026"; }

// The store after a crash, as the app reopens it: clean, consistent, with every acknowledged write.
// Returns the device's last seq.
uint64_t check_store(const std::string& db, const std::set<std::string>& acked, const std::string& when) {
  auto c = open_device(db);
  EXPECT_TRUE(c) << when;
  if (!c) return 0;
  EXPECT_EQ(*c->sql_json("PRAGMA integrity_check"), "[{\"integrity_check\":\"ok\"}]") << when;
  const client::DeviceInfo info = c->info();
  EXPECT_EQ(info.pending, info.seq) << when << ": every signed change set has its outbox entry";
  // One insert per change set: as many rows as change sets, no row without its change set.
  EXPECT_EQ(*c->sql_json("SELECT count(*) AS n FROM progress_report"), "[{\"n\":" + std::to_string(info.seq) + "}]") << when;
  for (const std::string& id : acked) {
    auto row = c->get("progress_report", id);
    EXPECT_TRUE(row.ok() && *row) << when << ": acknowledged write " << id << " is missing";
  }
  // The device's own writes are synchronous=FULL on the live connection.
  EXPECT_EQ(*c->sql_json("PRAGMA synchronous"), "[{\"synchronous\":2}]") << when;
  return info.seq;
}

std::set<std::string> saved_lines(const Child& w) {
  std::set<std::string> out;
  for (const std::string& l : w.lines()) {
    if (l.starts_with("saved ")) out.insert(l.substr(6));
  }
  return out;
}

TEST(PowerClient, AcknowledgedWritesSurvivePowerCuts) {
  const std::string dir = temp_dir("sdk"), data = dir + "/server", db = dir + "/minh.db";
  std::filesystem::create_directories(data);
  tram::testing::prepare_server(data);
  tram::testing::ServerProcess server(data);  // not shimmed: only the device loses power here
  {
    auto c = open_device(db);
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->enroll("http://127.0.0.1:" + std::to_string(server.port()), tram::testing::enrol_code(data, "minh")).ok());
  }
  const int n = cuts(4);
  std::mt19937_64 rng(20261207);
  std::set<std::string> acked;
  int undo_records = 0;
  for (int k = 0; k < n; ++k) {
    const int delay_ms = std::uniform_int_distribution<int>(50, 400)(rng);
    Child w({TRAM_WRITER_BIN, db, schemas(), "100000"}, shim_env());
    w.read_until([](const std::string&) { return false; }, delay_ms / 1000.0);
    const int status = w.kill();
    ASSERT_TRUE(WIFSIGNALED(status)) << "the writer ended by itself (status " << status << ")";
    const std::set<std::string> run = saved_lines(w);
    acked.insert(run.begin(), run.end());
    const CrashReport cut = power_cut(dir, k % 2 ? 1 + rng() % 1000 : 0);
    undo_records += cut.records;
    const uint64_t seq = check_store(db, acked, "cut " + std::to_string(k));
    if (HasFailure()) return;
    // Each cut may leave the write under way when the power went: committed, its "saved" line
    // not yet printed or read. Those stay, so the bound grows by one per cut.
    EXPECT_LE(seq, acked.size() + static_cast<size_t>(k) + 1) << "at most one unacknowledged write per cut";
    std::printf("cut %d after %d ms: %zu writes acknowledged in this run, %zu in all, seq %llu, %d undo records dropped\n", k,
                delay_ms, run.size(), acked.size(), static_cast<unsigned long long>(seq), cut.records);
  }
  EXPECT_GT(acked.size(), static_cast<size_t>(n));
  // Then the phone finds a signal: the whole outbox reaches the server, exactly once.
  auto c = open_device(db);
  ASSERT_TRUE(c);
  const uint64_t seq = c->info().seq;
  auto r = c->sync();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->accepted, seq);
  EXPECT_EQ(c->info().pending, 0u);
  EXPECT_EQ(c->info().receipts, seq);
  // A pull ran at a relaxed sync (its pages can be pulled again); the device's writes are FULL again.
  EXPECT_EQ(*c->sql_json("PRAGMA synchronous"), "[{\"synchronous\":2}]");
}

// Faults injected into the writer's store: its commit fails with an error, and whether or not
// the power goes too, the store holds whole change sets only and every acknowledged write.
TEST(PowerClient, FailedWriteLeavesNothingHalfDone) {
  const std::string dir = temp_dir("sdk-faults"), data = dir + "/server", db = dir + "/minh.db";
  std::filesystem::create_directories(data);
  tram::testing::prepare_server(data);
  {
    tram::testing::ServerProcess server(data);  // enrolled once, then the device writes offline
    auto c = open_device(db);
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->enroll("http://127.0.0.1:" + std::to_string(server.port()), tram::testing::enrol_code(data, "minh")).ok());
  }
  std::set<std::string> acked;
  int reappeared = 0, runs = 0;
  for (const char* spec : {"write EIO 60", "write ENOSPC 91", "write EIO 143", "sync EIO 6", "sync ENOSPC 11", "sync EIO 17"}) {
    for (const bool cut : {false, true}) {
      Child w({TRAM_WRITER_BIN, db, schemas(), "1000"}, shim_env({std::string("TRAM_FAULTVFS_FAIL=") + spec}), true);
      w.read_until([](const std::string&) { return false; }, 30);
      const int status = w.wait(10);
      ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << spec << ": the writer should stop on the failed commit";
      const std::set<std::string> run = saved_lines(w);
      acked.insert(run.begin(), run.end());
      EXPECT_GT(run.size(), 0u) << spec << ": the fault should come after some writes";
      // The commit's error as the writer printed it: storage trouble, said so.
      const std::string last = w.lines().empty() ? "" : w.lines().back();
      EXPECT_NE(last.find("storage_error"), std::string::npos) << spec << ": " << last;
      if (cut) power_cut(dir);
      const std::string when = std::string(spec) + (cut ? " + power cut" : "");
      const uint64_t seq = check_store(db, acked, when);
      if (HasFailure()) return;
      // The failed commit is gone, or (fsync failed after its frames were written, no power
      // cut) whole: SQLite's recovery may find it. Never a part of it.
      EXPECT_LE(seq, acked.size() + static_cast<size_t>(reappeared) + 1) << when;
      if (seq == acked.size() + static_cast<size_t>(reappeared) + 1) ++reappeared;
      ++runs;
      std::printf("%s: %zu writes saved, then \"%s\"; seq %llu after reopening\n", when.c_str(), run.size(), last.c_str(),
                  static_cast<unsigned long long>(seq));
    }
  }
  // And the store takes writes again once the disk is healthy.
  auto c = open_device(db);
  ASSERT_TRUE(c);
  client::WriteTxn t;
  t.insert("progress_report", "", {{"unit_code", tram::testing::text("03808")}, {"period", tram::testing::text("2026-H1")},
                                   {"progress", tram::testing::text("on_track")}, {"author", tram::testing::text("Lò Văn Minh")},
                                   {"recorded_on", Value{*Date::parse("2026-06-03")}}, {"status", tram::testing::text("draft")}});
  EXPECT_TRUE(c->commit(t).ok());
  std::printf("%d faulted runs; a failed commit came back whole after reopening %d times\n", runs, reappeared);
}

}  // namespace
}  // namespace tram::power
