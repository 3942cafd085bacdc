// Reading a replica's rows, and nothing else: what authorization, the server's pull and
// snapshot pages, its attachment checks and the province report need of the rows. The engine's
// Store implements it over SQLite; a server storage backend implements it over its own tables
// (server/src/storage/storage.hpp), so that these callers never see how rows are kept.
//
// Contract, for every implementation:
// - Rows are the replica as merged by the engine's rules (docs/merge.md): a RowState or
//   RowImage holds exactly what Store::apply would have left for the same change sets, field
//   order included (TableDef::fields of schema()), tombstones included.
// - One view per reader: a server snapshot's reads all see what was committed when it was
//   taken, the server writer's see its transaction so far, a device's Store its rows as they
//   are. Nothing read through a RowReader changes the rows.
// - Not thread-safe (the methods are not const for that reason: a read uses the reader's
//   connection and its prepared statements). Use one from one thread at a time.
// - Failures are storage_error (or unknown_table for a table the schema does not have); "never
//   seen" is not a failure but nullopt.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "tram/engine/schema.hpp"
#include "tram/engine/status.hpp"
#include "tram/engine/stored_row.hpp"

namespace tram {

class RowReader {
 public:
  RowReader() = default;
  RowReader(const RowReader&) = delete;
  RowReader& operator=(const RowReader&) = delete;
  virtual ~RowReader() = default;

  // The schema the rows follow (table and field order of every RowState and RowImage).
  virtual const Schema& schema() const = 0;

  // A row as stored (including tombstones); nullopt when never seen.
  virtual Result<std::optional<RowState>> get_row(std::string_view table, std::string_view row) = 0;
  // The row with its merge metadata; nullopt when never seen.
  virtual Result<std::optional<RowImage>> row_image(std::string_view table,
                                                    std::string_view row) = 0;
  // Reads up to `limit` rows of `table` (tombstones included) whose id sorts after `after_id`
  // (bytewise), in id order. `visit` sees each; an error from it stops the scan and is
  // returned. Returns how many were read: fewer than `limit` means the table is done.
  virtual Result<size_t> scan_images(
      std::string_view table, std::string_view after_id, size_t limit,
      const std::function<Status(std::string_view id, RowImage&& image)>& visit) = 0;
  // The conflict records of one row (what a pull sends along with the row's image), by field,
  // then loser (bytewise): the order the pages carry them in.
  virtual Result<std::vector<ConflictRecord>> conflicts_of(std::string_view table,
                                                           std::string_view row) = 0;
  // Whether any conflict was ever recorded (one cheap query, to skip per-row look-ups).
  virtual Result<bool> has_conflicts() = 0;
};

}  // namespace tram
