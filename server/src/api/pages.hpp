// GET /v1/pull and GET /v1/snapshot (docs/protocol.md §8): pages of row images a user may read,
// written with the engine's wire::PageWriter from one read snapshot of the storage (never
// waiting for the writer, so pulls do not queue behind pushes), with the log's signed head.
#pragma once

#include <optional>
#include <string>

#include "context.hpp"
#include "snapshot_ahead.hpp"

namespace tram::server::api {

class Pages {
 public:
  explicit Pages(Context& ctx) : ctx_(ctx) {}
  Response pull(const Request& req, const UserRecord& user);
  Response snapshot(const Request& req, const UserRecord& user);

 private:
  // Where a snapshot page starts: its cursor, "<since>.<table index>.<hex of the last id>".
  struct SnapshotAt {
    bool first = true;  // no cursor: the snapshot is taken now
    uint64_t since = 0;
    size_t table = 0;
    std::string after;
  };
  static std::optional<SnapshotAt> parse_snapshot_cursor(const std::string& cursor);
  Result<SnapshotAhead::Page> snapshot_page(const Principal& who, SnapshotAt at, size_t limit);

  Context& ctx_;
  SnapshotAhead ahead_;  // last: its thread, which makes pages with ctx_, stops first
};

}  // namespace tram::server::api
