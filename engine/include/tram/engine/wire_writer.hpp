// The writing side of the sync protocol's messages (docs/protocol.md), beside their readers in
// wire.hpp, as a log format keeps its writer next to its reader: pull and snapshot pages (§8),
// receipts and signed log heads (§9), and the push body a device sends (§7). What is written
// here is read back by wire.hpp's readers in tests/engine/wire_test.cpp, message by message.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tram/engine/changeset.hpp"
#include "tram/engine/crypto.hpp"
#include "tram/engine/json.hpp"
#include "tram/engine/stored_row.hpp"
#include "tram/engine/wire.hpp"

namespace tram::wire {

// A head of the server's log signed with its key: "tram-head-v1:<server_seq>:<log hex>".
Head sign_head(uint64_t server_seq, const Hash& log, const DeviceKey& server);
// {"server_seq","log","sig"} (§9.2).
void write_head(json::Writer& out, const Head& head);
std::string write_head(const Head& head);

// A receipt's body (§9.1) for `r` (its body and sig are not read), exactly as it is signed:
// {"v":1,"server","server_seq","id","device","seq","status"[,"code"],"received_at_ms",
// "clock_ahead","log"}.
std::string receipt_body(const Receipt& r);
// {"body": <receipt_body as a JSON string>, "sig": hex}, signed by `server`, whose public key
// the body names (r.server is not read).
std::string write_receipt(const Receipt& r, const DeviceKey& server);

// The rows of one pull or snapshot page (§8.2): each writer's id once per page, cells as
// [value, rank, writer index] or bare values when written by the row's common writer and rank,
// a row's conflict records ("x") with it.
class PageWriter {
 public:
  size_t rows() const { return rows_written_; }
  void add(uint64_t version, std::string_view table, std::string_view id, const RowImage& image,
           std::span<const ConflictRecord> conflicts = {});
  // The whole body. The lead (next, more and, for a snapshot page, cursor) comes first, so that a
  // client can ask for the following page before it parses this one (peek_page); then the rows,
  // the writers and the head.
  std::string finish(uint64_t next, bool more, const std::optional<std::string>& cursor, const Head& head);

 private:
  size_t index_of(const Hash& w);

  json::Writer rows_;
  size_t rows_written_ = 0;
  std::vector<Hash> writers_;
  std::map<Hash, size_t> writer_index_;
};

// A push body (§7): {"changesets":[{"cs": base64 of the bytes, "sig": hex}, ...]}.
std::string write_push_body(std::span<const SignedChangeSet> changesets);
inline std::string write_push_body(const std::vector<SignedChangeSet>& changesets) {
  return write_push_body(std::span<const SignedChangeSet>(changesets));
}

}  // namespace tram::wire
