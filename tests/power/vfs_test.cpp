// The shim itself: what makes the power-loss tests able to fail. With synchronous=OFF a commit
// that returned is lost by the simulated power cut; with FULL it survives, also when the disk
// keeps a random subset of the unsynced writes; injected EIO/ENOSPC fail the commit with the
// extended code SQLite gives for them.
#include <sqlite3.h>

#include <random>

#include "power/power_support.hpp"

namespace tram::power {
namespace {

// Rows in t and the integrity check, read by this (unshimmed) process.
std::pair<int, std::string> inspect(const std::string& db_path) {
  sqlite3* db = nullptr;
  // No table t: the database file itself was lost (created, never synced), so 0 rows.
  std::pair<int, std::string> out{0, "cannot open"};
  if (sqlite3_open(db_path.c_str(), &db) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
      out.second = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
      out.first = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
}

struct ProbeRun {
  int committed = 0;
  int error = 0;  // the extended result code of the failed commit, 0 if none
  int errors = 0;
};

// Runs the probe under the shim until it is done (or `kill_after_ms`), then SIGKILLs it.
ProbeRun run_probe(const std::string& db, const char* journal, const char* sync, int n, const std::vector<std::string>& env = {},
                   int kill_after_ms = 0) {
  Child probe({TRAM_PROBE_BIN, db, journal, sync, std::to_string(n)}, shim_env(env));
  ProbeRun r;
  const double seconds = kill_after_ms ? kill_after_ms / 1000.0 : 30.0;
  probe.read_until([](const std::string& l) { return l == "done"; }, seconds);
  probe.kill();
  for (const std::string& l : probe.lines()) {
    if (l.starts_with("committed ")) r.committed = std::stoi(l.substr(10));
    if (l.starts_with("error ")) {
      r.error = std::stoi(l.substr(6));
      ++r.errors;
    }
  }
  return r;
}

TEST(FaultVfs, SynchronousOffLosesWhatFullKeeps) {
  for (const char* journal : {"WAL", "DELETE"}) {
    for (const char* sync : {"OFF", "FULL"}) {
      const std::string dir = temp_dir(std::string("vfs-") + journal + sync), db = dir + "/t.db";
      const ProbeRun run = run_probe(db, journal, sync, 20);
      ASSERT_EQ(run.committed, 20) << journal << " " << sync;
      // Before the cut the page cache has everything: what a SIGKILL test would see.
      const CrashReport cut = power_cut(dir);
      const auto [rows, integrity] = inspect(db);
      std::printf("journal=%s synchronous=%s: 20 commits returned, %d rows after the power cut (%d undo records, %lld bytes)\n",
                  journal, sync, rows, cut.records, cut.bytes);
      if (std::string(sync) == "FULL") {
        EXPECT_EQ(rows, 20);
        EXPECT_EQ(integrity, "ok");
        EXPECT_EQ(cut.bytes, 0) << "FULL syncs every commit: nothing left to drop";
      } else {
        EXPECT_LT(rows, 20) << "the shim must lose commits that were never synced";
        EXPECT_GT(cut.records, 0);
      }
    }
  }
}

// A disk that wrote some of the unsynced pages and not others (in any order): WAL with FULL
// still has every commit that returned, and a database that passes integrity_check.
TEST(FaultVfs, ReorderedUnsyncedWritesLoseNothingCommitted) {
  std::mt19937_64 rng(17);
  const int n = cuts(4);
  for (int k = 0; k < n; ++k) {
    const std::string dir = temp_dir("vfs-reorder-" + std::to_string(k)), db = dir + "/t.db";
    const int after_ms = std::uniform_int_distribution<int>(30, 400)(rng);
    const ProbeRun run = run_probe(db, "WAL", "FULL", 100000, {}, after_ms);
    const CrashReport cut = power_cut(dir, 1 + rng() % 1000);
    const auto [rows, integrity] = inspect(db);
    EXPECT_EQ(integrity, "ok") << "cut " << k;
    // One commit may have been under way: its pages were written (and maybe kept) but not synced.
    EXPECT_GE(rows, run.committed) << "cut " << k;
    EXPECT_LE(rows, run.committed + 1) << "cut " << k;
    std::printf("cut %d after %d ms: %d commits returned, %d rows, %d undo records applied\n", k, after_ms, run.committed,
                rows, cut.records);
  }
}

TEST(FaultVfs, InjectedFaultsFailTheCommit) {
  struct Case {
    const char* spec;
    int code;
  };
  for (const Case c : {Case{"write EIO 40", SQLITE_IOERR_WRITE}, Case{"write ENOSPC 40", SQLITE_FULL},
                       Case{"sync EIO 8", SQLITE_IOERR_FSYNC}, Case{"sync ENOSPC 8", SQLITE_IOERR_FSYNC}}) {
    const std::string dir = temp_dir("vfs-fault"), db = dir + "/t.db";
    const ProbeRun run = run_probe(db, "WAL", "FULL", 50, {std::string("TRAM_FAULTVFS_FAIL=") + c.spec});
    EXPECT_EQ(run.error, c.code) << c.spec;
    EXPECT_GT(run.committed, 0) << c.spec;
    EXPECT_LT(run.committed, 50) << c.spec;
    power_cut(dir);
    const auto [rows, integrity] = inspect(db);
    EXPECT_EQ(integrity, "ok") << c.spec;
    EXPECT_EQ(rows, run.committed) << c.spec << ": the failed commit must not survive a power cut";
    std::printf("%s: %d commits, then error %d; %d rows after the power cut\n", c.spec, run.committed, run.error, rows);
  }
}

// One fsync fails, later ones succeed: the pages it covered stay lost unless rewritten
// (fsyncgate). SQLite rewrites what matters: every commit that returned OK survives the cut.
TEST(FaultVfs, OneFailedFsyncThenGoodOnesLoseNothingCommitted) {
  for (int skip : {6, 11, 20}) {  // after the probe's setup (5 fsyncs)
    const std::string dir = temp_dir("vfs-fsyncgate"), db = dir + "/t.db";
    const std::string spec = "sync EIO " + std::to_string(skip) + " 1";
    const ProbeRun run = run_probe(db, "WAL", "FULL", 30, {"TRAM_FAULTVFS_FAIL=" + spec, "PROBE_KEEP_GOING=1"});
    EXPECT_EQ(run.errors, 1) << spec;
    EXPECT_EQ(run.committed, 29) << spec;
    const CrashReport cut = power_cut(dir);
    const auto [rows, integrity] = inspect(db);
    EXPECT_EQ(integrity, "ok") << spec;
    EXPECT_EQ(rows, run.committed) << spec;
    std::printf("%s: 29 commits OK, 1 failed; %d rows after the cut (%d records of the failed fsync undone)\n", spec.c_str(),
                rows, cut.records);
  }
}

}  // namespace
}  // namespace tram::power
