#include "common.hpp"

#include <cmath>


#include "tram/engine/schema_loader.hpp"

namespace tram::fuzz {

const Schema& sonla_schema() {
  static const Schema schema = [] {
    auto s = load_schema_file(TRAM_FUZZ_SCHEMA);
    if (!s.ok()) {
      std::fprintf(stderr, "cannot load %s: %s\n", TRAM_FUZZ_SCHEMA, s.status().message().c_str());
      std::abort();
    }
    return std::move(s).value();
  }();
  return schema;
}

const DeviceKey& server_key() {
  static const DeviceKey key = [] {
    crypto_init();
    std::array<uint8_t, 32> seed{};
    for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(0x5A ^ i);
    return DeviceKey::from_seed(seed);
  }();
  return key;
}

bool same_value(const Value& a, const Value& b) {
  // Reals compare as doubles (-0.0 == 0.0), as the engine compares them: the encoder writes
  // -0.0 as 0, so the sign of a zero does not survive a round trip (fuzz/README.md, "Findings").
  return a == b;
}

bool same_image(const RowImage& a, const RowImage& b) {
  if (a.cells.size() != b.cells.size()) return false;
  for (size_t i = 0; i < a.cells.size(); ++i) {
    const CellImage &x = a.cells[i], &y = b.cells[i];
    if (x.writer != y.writer) return false;
    // A cell never written carries no value or rank on the wire.
    if (x.writer && (x.rank != y.rank || !same_value(x.value, y.value))) return false;
  }
  return true;
}

bool same_conflict(const ConflictRecord& a, const ConflictRecord& b) {
  return a.table == b.table && a.row == b.row && a.field == b.field && a.winner == b.winner && a.loser == b.loser &&
         same_value(a.loser_value, b.loser_value);
}

bool same_changeset(const ChangeSet& a, const ChangeSet& b) {
  if (a.device != b.device || a.seq != b.seq || a.prev != b.prev || a.hlc != b.hlc || a.author != b.author ||
      a.schema != b.schema || a.schema_version != b.schema_version || a.ops.size() != b.ops.size()) {
    return false;
  }
  for (size_t i = 0; i < a.ops.size(); ++i) {
    const Op &x = a.ops[i], &y = b.ops[i];
    if (x.table != y.table || x.row != y.row || x.kind != y.kind || x.fields.size() != y.fields.size() ||
        x.bases.size() != y.bases.size()) {
      return false;
    }
    for (size_t k = 0; k < x.fields.size(); ++k) {
      if (x.fields[k].field != y.fields[k].field || !same_value(x.fields[k].value, y.fields[k].value)) return false;
    }
    for (size_t k = 0; k < x.bases.size(); ++k) {
      if (x.bases[k].field != y.bases[k].field || x.bases[k].writer != y.bases[k].writer) return false;
    }
  }
  return true;
}

}  // namespace tram::fuzz
