// faultvfs_probe: the smallest SQLite writer, for proving the shim can fail a test
// (power_vfs tests). Creates table t durably (synchronous=FULL), then commits N rows one
// transaction each under JOURNAL and SYNC, printing "committed K" after each COMMIT returned,
// or "error CODE" (extended result code) and stopping at the first failure; then waits to be
// killed (bounded: 60 s). With PROBE_KEEP_GOING it goes on after a failure ("committed K" then
// counts the commits that returned OK).
// Usage: faultvfs_probe DB JOURNAL SYNC N
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  if (argc != 5) return 2;
  sqlite3* db = nullptr;
  if (sqlite3_open(argv[1], &db) != SQLITE_OK) return 1;
  sqlite3_extended_result_codes(db, 1);
  const std::string setup = std::string("PRAGMA journal_mode=") + argv[2] +
                            "; PRAGMA synchronous=FULL; CREATE TABLE IF NOT EXISTS t(k INTEGER PRIMARY KEY, v TEXT);"
                            "PRAGMA synchronous=" + argv[3] + ";";
  if (sqlite3_exec(db, setup.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    std::printf("error %d\n", sqlite3_extended_errcode(db));
    return 1;
  }
  const long n = std::atol(argv[4]);
  const bool keep_going = std::getenv("PROBE_KEEP_GOING") != nullptr;  // go on after a failed commit
  long committed = 0;
  for (long k = 0; k < n; ++k) {
    const std::string sql = "INSERT INTO t(v) VALUES (printf('%.*c', 3000, 'x'))";  // ~1 page each
    if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      std::printf("error %d\n", sqlite3_extended_errcode(db));
      std::fflush(stdout);
      if (!keep_going) break;
      continue;
    }
    std::printf("committed %ld\n", ++committed);
    std::fflush(stdout);
  }
  std::printf("done\n");
  std::fflush(stdout);
  ::sleep(60);  // the test kills us: no close, no checkpoint
  return 0;
}
