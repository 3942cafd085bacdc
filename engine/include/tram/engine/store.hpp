// The replica: SQLite tables generated from a Schema, and the one code path that applies
// change sets to them — on the server and on every device, so the same log in the same order
// gives the same rows everywhere. Merge rules: docs/merge.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tram/engine/changeset.hpp"
#include "tram/engine/hlc.hpp"
#include "tram/engine/row_reader.hpp"
#include "tram/engine/schema.hpp"
#include "tram/engine/sqlite.hpp"
#include "tram/engine/stored_row.hpp"

namespace tram {

// One change set to apply, with the receiver's verdict on its clock.
struct ApplyItem {
  const ChangeSet* cs = nullptr;
  Hash id{};
  ClockTrust clock = ClockTrust::trusted;
};

struct ApplyOutcome {
  uint32_t applied = 0;          // change sets applied now
  uint32_t already_applied = 0;  // change sets seen before: no effect
  uint32_t conflicts = 0;        // conflict records written
};

// Not thread-safe; one per thread. Owns its Database. Its reads are RowReader's (row_reader.hpp:
// what authorization, the server's pages and the report read through); final, so that calls
// through a Store& stay direct.
class Store final : public RowReader {
 public:
  // Opens or creates the database at `path` (":memory:" for tests) and creates the tables of
  // `schema` and Tram's own bookkeeping tables (prefixed "_tram_").
  static Result<std::unique_ptr<Store>> open(const std::string& path, const Schema& schema);
  ~Store() override;

  // Applies the items in order, in one transaction (a savepoint if one is open already).
  // Validates every write against the schema first: nothing is applied when one is invalid.
  // Applying a change set a second time changes nothing.
  Result<ApplyOutcome> apply(std::span<const ApplyItem> items);
  // For a caller that keeps every device's chain itself and applies only the next change set of
  // a chain (the server, whose log is keyed by device and seq): apply() then writes no
  // _tram_applied row, one page at a random place per change set fewer, and applying a change
  // set twice is the caller's to prevent.
  void keep_chains_outside();

  // A row as stored (including tombstones); nullopt when never seen.
  Result<std::optional<RowState>> get_row(std::string_view table, std::string_view row) override;
  Result<std::vector<ConflictRecord>> conflicts();

  // The row with its merge metadata; nullopt when never seen.
  Result<std::optional<RowImage>> row_image(std::string_view table, std::string_view row) override;
  // Overwrites a row with an image taken from another replica (a device storing what it
  // pulled). The image must have one cell per field plus liveness.
  Status put_row_image(std::string_view table, std::string_view row, const RowImage& image);
  // Reads up to `limit` rows of `table` whose id sorts after `after_id`, in id order (a
  // snapshot for a fresh device: its store then appends instead of inserting at random
  // places). `visit` sees each; an error from it stops the scan. Returns how many were read.
  Result<size_t> scan_images(
      std::string_view table, std::string_view after_id, size_t limit,
      const std::function<Status(std::string_view id, RowImage&& image)>& visit) override;
  // The id of the change set applied from `device` at `seq`, if any.
  Result<std::optional<Hash>> applied_at(const PublicKey& device, uint64_t seq);

  // For a device replica that rebuilds a row from the server's image plus its own pending
  // change sets: removes a row outright (no tombstone), and forgets that a change set was
  // applied so that it can be applied again on top of a new base.
  Status erase_row(std::string_view table, std::string_view row);
  Status forget_applied(const PublicKey& device, uint64_t seq);
  // The conflict records of one row (what a pull sends along with the row's image).
  Result<std::vector<ConflictRecord>> conflicts_of(std::string_view table,
                                                   std::string_view row) override;
  // Whether any conflict was ever recorded (one cheap query, to skip per-row look-ups).
  Result<bool> has_conflicts() override;

  // BLAKE2b-256 over every row of every table (values and merge metadata, in id order) and
  // every conflict record: equal hashes mean identical replicas.
  Result<Hash> state_hash();

  const Schema& schema() const override;
  sql::Database& db();

 private:
  class Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tram
