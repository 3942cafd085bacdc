// The highest log head the server ever signed, kept in a small file beside the database
// (DATA/log.head). A database restored from an older backup, or one that lost its WAL, is
// behind this mark: the server then knows that receipted change sets are missing, says so
// (/healthz, /metrics, its log) and raises its row versions above every pull cursor a device
// may hold, so that what the devices send again reaches every other device.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tram/engine/crypto.hpp"

namespace tram::server {

struct Watermark {
  uint64_t server_seq = 0;
  Hash log_hash{};
  uint64_t row_version = 0;
};

// What start-up found: the database's head compared with the mark.
struct LogBehind {
  uint64_t expected_seq = 0;  // the mark
  uint64_t found_seq = 0;     // the database
  int64_t since_ms = 0;
};

class LogWatermark {
 public:
  explicit LogWatermark(std::string path) : path_(std::move(path)) {}
  // nullopt: no file yet (a new server) or an unreadable one (reported by `error`).
  std::optional<Watermark> read(std::string* error = nullptr) const;
  // Replaces the mark (write to a temporary file, then rename: never a torn mark). Not synced
  // on every commit: a power cut may leave it behind the database, never ahead of it.
  bool write(const Watermark& w) const;
  bool sync() const;
  const std::string& path() const { return path_; }

  // The "log went backwards" flag (DATA/log.behind), kept until an operator clears it.
  static std::optional<LogBehind> read_behind(const std::string& path);
  static bool write_behind(const std::string& path, const LogBehind& b);

 private:
  std::string path_;
};

}  // namespace tram::server
