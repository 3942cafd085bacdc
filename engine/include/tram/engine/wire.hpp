// The sync protocol's messages (docs/protocol.md) and their readers: pulled row images, receipts
// and signed log heads, which the server writes and devices read, and the push body, which
// devices write and the server reads. Parsed here once, for the server, the client SDK, the load
// generator and the tests. Their writers are in wire_writer.hpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tram/engine/crypto.hpp"
#include "tram/engine/schema.hpp"
#include "tram/engine/status.hpp"
#include "tram/engine/stored_row.hpp"

namespace tram::wire {

// The signed head of the server's accepted log (protocol §9.2).
struct Head {
  uint64_t server_seq = 0;
  Hash log{};
  Signature sig{};
};

struct PulledRow {
  uint64_t version = 0;
  std::string table, id;
  RowImage image;                          // cells in the order of the table's fields
  std::vector<ConflictRecord> conflicts;   // the row's conflict records ("x"), if any
};

struct PullPage {
  std::vector<PulledRow> rows;
  uint64_t next = 0;
  bool more = false;
  std::string cursor;  // a snapshot page's cursor for the next page (§8.3)
  Head head;
};

// Parses a pull response (§8.2) or a snapshot page (§8.3). Rows of tables `schema` does not know are skipped; a row
// whose cells do not fit its table is an error (the two sides disagree on the schema).
Result<PullPage> parse_pull(std::string_view body, const Schema& schema);

// A page's next, more and cursor read without parsing the rows (§8.2): a client can ask for the
// following page while it parses this one. Members are found in any order, others (of any type,
// rows included) are skipped without building anything, and every rule parse_pull applies to
// these three is applied here (first of duplicate keys, keys compared unescaped, the cursor
// unescaped, a non-string cursor read as none), so that whenever parse_pull reads a page the
// lead says what it says. nullopt when the body is not an object with next, more, rows,
// writers and head of the right types (parse_pull would refuse it).
struct PageLead {
  uint64_t next = 0;
  bool more = false;
  std::string cursor;
};
std::optional<PageLead> peek_page(std::string_view body);

// The same with a parser (and its buffers) kept across pages: for a thread that is not the one
// parsing every page (parse_pull keeps one parser per thread). Use from one thread at a time.
class PullParser {
 public:
  PullParser();
  ~PullParser();
  PullParser(const PullParser&) = delete;
  PullParser& operator=(const PullParser&) = delete;
  Result<PullPage> parse(std::string_view body, const Schema& schema);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The text a head signature covers: "tram-head-v1:<server_seq>:<log hex>".
std::string head_signed_text(uint64_t server_seq, const Hash& log);
bool verify_head(const Head& head, const PublicKey& server);

// One row image as a self-contained JSON array (cells as in a pull, but each writer as its
// full hex id): how a device keeps the server's last image of a row.
std::string row_image_to_json(const RowImage& image);
Result<RowImage> row_image_from_json(std::string_view json);

// A receipt (§9.1): the signed body and what it says.
struct Receipt {
  std::string body;  // exactly as signed
  Signature sig{};
  PublicKey server{};
  uint64_t server_seq = 0;
  Hash id{};
  PublicKey device{};
  uint64_t seq = 0;
  bool accepted = false;
  std::string code;  // rejection code when !accepted
  int64_t received_at_ms = 0;
  bool clock_ahead = false;
  Hash log{};
};

// Parses a receipt body and its hex signature and checks the signature with `server` (the key
// pinned at enrolment). bad_signature when it does not verify, malformed when unreadable.
Result<Receipt> verify_receipt(std::string_view body, std::string_view sig_hex, const PublicKey& server);

// One item of a push body (§7): a signed change set, or why it could not be read.
struct PushItem {
  std::optional<SignedChangeSet> cs;
  std::string message;  // when cs is absent: the item is malformed
};
// Reads a push body {"changesets":[{"cs": base64, "sig": hex}, ...]}. malformed_json when it is
// not that object, too_large when it holds more than max_items (before any item is decoded).
Result<std::vector<PushItem>> read_push_body(std::string_view body, size_t max_items);

// Parses one value in the change-set encoding (null or ["tag", v]) from JSON text.
Result<Value> parse_value(std::string_view json);

}  // namespace tram::wire
