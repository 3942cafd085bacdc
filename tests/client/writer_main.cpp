// A device that writes reports as fast as it can and says "saved <id>" after each commit
// returns: the process the kill test shoots with SIGKILL at random moments.
// Usage: client_writer DB SCHEMAS_DIR MAX_WRITES
#include <cstdio>
#include <cstdlib>

#include "tram/client.hpp"

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  tram::client::Options o;
  o.path = argv[1];
  o.schemas_dir = argv[2];
  o.wrapping_key.fill(7);
  auto c = tram::client::Client::open(o);
  if (!c.ok()) {
    std::fprintf(stderr, "%s\n", c.status().to_string().c_str());
    return 1;
  }
  const long max = std::atol(argv[3]);
  for (long k = 0; k < max; ++k) {
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
