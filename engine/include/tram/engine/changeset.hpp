// Change sets: everything one local transaction changed, as one signed unit.
// The model, its JSON encoding (docs/changeset-format.md) and decoding with simdjson.
// The signed bytes are the stored and sent bytes: nothing is ever re-encoded to be verified.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tram/engine/crypto.hpp"
#include "tram/engine/hlc.hpp"
#include "tram/engine/status.hpp"
#include "tram/engine/value.hpp"

namespace tram {

// Names one write: the first 8 bytes of the writing change set's id, big-endian. Carried as
// the "base" of an edit (the write the device saw) — 16 hex characters instead of 64 per field.
struct WriterId {
  uint64_t v = 0;
  static WriterId of(const Hash& change_set_id);
  auto operator<=>(const WriterId&) const = default;
};

// Field id 0 is reserved: it is the row's liveness (alive or deleted), merged like any field.
inline constexpr uint32_t kLivenessField = 0;

struct FieldWrite {
  uint32_t field = 0;
  Value value;
};

enum class OpKind : uint8_t { put, del };

struct FieldBase {
  uint32_t field = 0;
  WriterId writer;
};

struct Op {
  std::string table;
  std::string row;
  OpKind kind = OpKind::put;
  std::vector<FieldWrite> fields;  // put only; ascending field ids, no duplicates
  std::vector<FieldBase> bases;    // the writes this edit was based on; ascending field ids
  std::optional<WriterId> base_of(uint32_t field) const;
};

struct ChangeSet {
  static constexpr int kFormatVersion = 1;
  PublicKey device{};
  uint64_t seq = 0;           // 1, 2, 3, … per device
  std::optional<Hash> prev;   // id of this device's change set seq-1; absent for seq 1
  Hlc hlc;
  std::string author;         // user id of the official
  std::string schema;         // e.g. "sonla-2026"
  uint32_t schema_version = 0;
  std::vector<Op> ops;
};

// Bounds checked by decode() (and assumed by encode()). The defaults are the format's
// limits for version 1; a receiver may lower them, never raise them.
struct ChangeSetLimits {
  size_t max_bytes = 1 << 20;
  size_t max_ops = 2000;
  size_t max_fields_per_op = 256;
  size_t max_text_bytes = 32 * 1024;
  size_t max_name_bytes = 64;   // table names, row ids, schema id
  size_t max_author_bytes = 128;
  size_t max_depth = 5;         // the format's own nesting: object > ops > op > f > value
};

// Checks a change set model against every rule decode() enforces (names, NFC text, finite
// reals, ranges, ordering, limits except the encoded size). Devices call it before signing.
Status validate(const ChangeSet& cs, const ChangeSetLimits& limits = {});

// The JSON encoding of a change set. Precondition: validate(cs) is ok; encode() does not
// re-check. Thread-safe.
std::string encode(const ChangeSet& cs);

// Parses and validates `bytes`. Every failure has its own code (docs/changeset-format.md).
// Thread-safe: each thread reuses its own parser.
Result<ChangeSet> decode(std::string_view bytes, const ChangeSetLimits& limits = {});

// Bytes exactly as signed, with their detached signature.
struct SignedChangeSet {
  std::string bytes;
  Signature sig{};
  Hash id() const { return blake2b_256(bytes); }
};

// Encodes and signs. The change set's device must be key.public_key().
SignedChangeSet sign_changeset(const ChangeSet& cs, const DeviceKey& key);

// True for names of tables: [a-z][a-z0-9_]*, at most max_name_bytes.
bool is_valid_table_name(std::string_view s, size_t max_bytes = 64) noexcept;
// True for schema ids: [a-z0-9._-], 1..max bytes.
bool is_valid_schema_id(std::string_view s, size_t max_bytes = 64) noexcept;
// True for row ids: 1..max bytes of [A-Za-z0-9._:-] (UUIDs and official codes).
bool is_valid_row_id(std::string_view s, size_t max_bytes = 64) noexcept;

}  // namespace tram
