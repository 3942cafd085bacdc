// tram-server: serve, administer and seed a Tram server whose state lives in one data
// directory (tram.db, server.key, admin.token). Run `tram-server --help`. The command groups
// live in cli/ (cli/cli.hpp); this file only dispatches.
#include <cstdio>
#include <cstdlib>
#include <string>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "cli/cli.hpp"
#include "cli/i18n.hpp"
#include "tram/engine/crypto.hpp"

using namespace tram;
using namespace tram::server;

int main(int argc, char** argv) {
#if defined(__GLIBC__)
  // glibc gives threads up to 8 malloc arenas per core, and each keeps the memory its requests
  // freed: with 64 handler threads the stock load's peak RSS was 283-310 MiB; with 4 arenas
  // 174-182 MiB (2 runs each), pushes no slower within the noise. Overridden by MALLOC_ARENA_MAX.
  if (!std::getenv("MALLOC_ARENA_MAX")) mallopt(M_ARENA_MAX, 4);
#endif
  cli::Options o;
  if (auto exit_code = cli::parse(argc, argv, o)) return *exit_code;
  SystemClock clock;
  SystemRandom random;
  crypto_init();
  const std::string& cmd = o.positional[0];
  if (cmd == "serve") return cli::serve(o, clock, random);
  if (cmd == "seed") return cli::seed(o, clock, random);
  if (cmd == "admin") return cli::admin(o, clock, random);
  if (cmd == "report") return cli::report(o, clock, random);
  return cli::die(cli::fmt(cli::_("unknown command {1}; see --help"), cmd));
}
