// A row as a replica stores it, as plain values: its fields with their writers (RowState), the
// same with the merge metadata (RowImage: what a pull sends and a device stores) and a write
// that lost (ConflictRecord). Shared by whatever reads rows (RowReader, row_reader.hpp), the
// engine's Store that writes them, and the wire format; no storage here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tram/engine/changeset.hpp"
#include "tram/engine/crypto.hpp"
#include "tram/engine/value.hpp"

namespace tram {

// One field of a row as stored: its value and the write that produced it.
struct StoredField {
  Value value;
  std::optional<WriterId> writer;  // nullopt: never written
};

struct RowState {
  bool deleted = false;
  std::optional<WriterId> liveness_writer;
  std::vector<StoredField> fields;  // in the order of TableDef::fields
};

// One field exactly as stored, merge metadata included.
struct CellImage {
  Value value;
  int64_t rank = 0;            // the writer's clock as merged (docs/merge.md)
  std::optional<Hash> writer;  // id of the change set that wrote it; nullopt: never written
};

// A row exactly as stored: cells[0] is liveness (integer 1 = deleted, 0 = alive), then one cell
// per field in TableDef::fields order. What a server sends in a pull and a device's replica
// stores, so that both sides merge later edits the same way.
struct RowImage {
  std::vector<CellImage> cells;
};

// A concurrent write that lost, kept for a reviewer.
struct ConflictRecord {
  std::string table;
  std::string row;
  uint32_t field = 0;
  Hash winner{};      // change set whose value is current
  Hash loser{};       // change set whose value lost
  Value loser_value;  // for field 0: integer 1 = deleted, 0 = alive
};

}  // namespace tram
