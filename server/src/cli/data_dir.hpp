// The data directory (tram.db, server.key, admin.token, seed-device.key, log.head, log.behind,
// key-statements.json, serve.lock): the checks made before anything runs over it, its secrets,
// and opening the server on it. Damaged or missing state is a storage_error whose message says
// the way out (die() turns it into exit code 3, kExitDamagedState).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "cli/cli.hpp"
#include "service.hpp"

namespace tram::server::cli {

struct Server {
  std::unique_ptr<Service> service;
  std::string admin_token;
};

// `what`, followed by the way out of damaged state (admin restore).
std::string damaged(const std::string& what, const std::string& data);

// A 32-byte secret in a file readable only by the server's user. Made only when `create`:
// an unreadable or missing key where state exists is an error, never silently replaced.
Result<std::string> secret_file(const std::filesystem::path& path, RandomSource& random, bool create);

// The schemas directory when --schemas is not given.
std::string default_schemas();

// DATA/key-statements.json: what devices need to follow a key rotation or an address move from
// the key they pinned (protocol.md §4). "[]" when there is none.
Result<std::string> read_key_statements(const std::filesystem::path& dir);

// Writes `text` to `path` through a fsynced temporary file (mode 0600) and a rename.
Status write_atomically(const std::filesystem::path& path, const std::string& text);

// Opens the data directory after checking it: the key and the database must both be there or
// both be new, the database must pass quick_check, and a log behind the last head this server
// signed (a restore, a lost WAL) is recorded in DATA/log.behind and reported until an operator
// clears it with `admin ack-log`.
Result<Server> open_server(const Options& o, ClockSource& clock, RandomSource& random, bool serving = false);

// Held while serving, so that commands that append to the log (seed) cannot run alongside.
// The descriptor, or -1 when another process holds the lock.
int lock_data_dir(const std::string& data);

}  // namespace tram::server::cli
