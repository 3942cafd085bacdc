// tram-server: serve, administer and seed a Tram server whose state lives in one data
// directory (tram.db, server.key, admin.token). Run `tram-server --help`. The command groups
// live in cli/ (cli/cli.hpp); this file only dispatches.
#include <cstdio>
#include <string>

#include "cli/cli.hpp"
#include "cli/i18n.hpp"
#include "tram/engine/crypto.hpp"

using namespace tram;
using namespace tram::server;

int main(int argc, char** argv) {
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
