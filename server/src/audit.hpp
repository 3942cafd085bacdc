// The audit trail the province keeps: one JSON line per administrative event (users created and
// deleted, enrolment codes issued, devices revoked and released, keys rotated, the server moved,
// a restore, a bundle imported, a backup, a schema migration), appended to DATA/audit.log with
// the time in UTC, and flushed to disk before the command reports success. Plain C++: the CLI
// commands and the admin routes call it alike (docs/operations.md §11).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tram::server {

class AuditLog {
 public:
  AuditLog() = default;  // records nothing (tests without a data directory)
  explicit AuditLog(std::string path) : path_(std::move(path)) {}

  // Appends {"ts":"…","event":EVENT, "by":BY, FIELDS…}; `by` is who did it: "admin" (the CLI or
  // the admin token), or a user id. Best effort: a full disk must not undo the action itself,
  // so a failure is returned for the caller to report, never thrown.
  bool record(std::string_view event, std::string_view by,
              const std::vector<std::pair<std::string, std::string>>& fields = {}) const;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// "2026-12-07T05:40:12.345Z": the time of a log line, in UTC.
std::string log_timestamp(int64_t ms_since_epoch);
int64_t wall_ms_now();

}  // namespace tram::server
