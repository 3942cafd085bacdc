// tram-server's command line (cli/): what the command groups share. main.cpp parses the options
// and dispatches to one function per command group:
//   options.cpp      the options (command line, then environment, then --config FILE) and --help
//   data_dir.{hpp,cpp}  the data directory: checks, secrets, key statements, opening the server
//   serve.cpp        `serve`
//   seed.cpp         `seed`
//   admin.cpp        `admin …` (create-user, enrol-code, devices, revoke, release, backup,
//                    restore, ack-log, rotate-key, move, import-bundle, token)
//   report_command.cpp  `report`
//   i18n.{hpp,cpp}   the operator's language (--lang vi|en, LANG): gettext domain tram-server
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tram/engine/clock.hpp"
#include "tram/engine/status.hpp"

namespace tram::server::cli {

// The overview at the end of --help.
extern const char* const kUsage;

struct Options {
  std::map<std::string, std::string> kv;
  std::vector<std::string> positional;
  bool has(const std::string& k) const { return kv.count(k) > 0; }
  std::string get(const std::string& k, const std::string& def = "") const {
    auto it = kv.find(k);
    return it == kv.end() ? def : it->second;
  }
};

// The command line; the environment, then a config file, fill what it did not give. nullopt:
// run the command in `o`; else exit with that code (0 after --help or --version, 2 for a usage
// error, explained on stderr with a hint).
std::optional<int> parse(int argc, char** argv, Options& o);

// Exit code when the data directory's state is damaged or missing: the server refuses to
// serve rather than sign receipts over it (docs/operations.md §3).
constexpr int kExitDamagedState = 3;

// Prints "tram-server: MSG" to stderr; returns 1 (kExitDamagedState for a storage_error Status).
int die(const std::string& msg);
int die(const Status& st);

// The command groups; each returns the process's exit code.
int serve(const Options& o, ClockSource& clock, RandomSource& random);
int seed(const Options& o, ClockSource& clock, RandomSource& random);
int admin(const Options& o, ClockSource& clock, RandomSource& random);
int report(const Options& o, ClockSource& clock, RandomSource& random);

}  // namespace tram::server::cli
