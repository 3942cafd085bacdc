// A device that writes reports as fast as it can and says "saved <id>" after each commit
// returns, and with SYNC_EVERY > 0 syncs with its server after every SYNC_EVERY writes, and on
// starting too with "sync-first" (as an app does when it opens with a signal) (saying "sync" before and
// "synced <accepted>" or "sync failed: <why>" after): the process the kill test shoots with SIGKILL at
// random moments, in a write or in a sync.
// Usage: client_writer DB SCHEMAS_DIR MAX_WRITES [SYNC_EVERY [sync-first]]
#include <cstdio>
#include <cstdlib>
#include <string>

#include "tram/client.hpp"

int main(int argc, char** argv) {
  if (argc < 4 || argc > 6) return 2;
  tram::client::Options o;
  o.path = argv[1];
  o.schemas_dir = argv[2];
  o.wrapping_key.fill(7);
  // Bounded: a sync that cannot finish gives up soon (the parent kills this process anyway).
  o.sync.max_attempts = 3;
  o.sync.backoff_initial_ms = 20;
  o.sync.backoff_max_ms = 200;
  o.transport_options.connect_timeout_ms = 2000;
  o.transport_options.io_timeout_ms = 5000;
  auto c = tram::client::Client::open(o);
  if (!c.ok()) {
    std::fprintf(stderr, "%s\n", c.status().to_string().c_str());
    return 1;
  }
  std::printf("opened\n");
  std::fflush(stdout);  // the parent may time its kill from here
  const long max = std::atol(argv[3]);
  const long sync_every = argc >= 5 ? std::atol(argv[4]) : 0;
  const bool sync_first = argc == 6 && std::string(argv[5]) == "sync-first";
  for (long k = 0; k < max; ++k) {
    if (sync_every > 0 && (k > 0 || sync_first) && k % sync_every == 0) {
      std::printf("sync\n");
      std::fflush(stdout);  // a kill after this line lands in the sync
      auto s = (*c)->sync();
      // A failed sync is not the end: the app goes on working offline (the parent counts them).
      if (s.ok()) {
        std::printf("synced %llu\n", static_cast<unsigned long long>(s->accepted + s->duplicates));
      } else {
        std::printf("sync failed: %s\n", s.status().to_string().c_str());
      }
      std::fflush(stdout);
    }
    tram::client::WriteTxn t;
    const std::string id = t.insert(
        "progress_report", "",
        {{"unit_code", tram::Value{tram::Text{"03808"}}}, {"period", tram::Value{tram::Text{"2026-H1"}}},
         {"progress", tram::Value{tram::Text{"on_track"}}}, {"author", tram::Value{tram::Text{"Lò Văn Minh"}}},
         {"recorded_on", tram::Value{*tram::Date::parse("2026-06-03")}}, {"status", tram::Value{tram::Text{"draft"}}},
         {"narrative", tram::Value{tram::Text{"Ghi lúc mất điện " + std::to_string(k)}}}});
    auto r = (*c)->commit(t);
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().to_string().c_str());
      return 1;
    }
    std::printf("saved %s\n", id.c_str());
    std::fflush(stdout);  // the parent counts this write as acknowledged
  }
  return 0;
}
