// The device's local database, as Couchbase LiteCore's DBAccess is: the engine's Store (the rows
// the app reads) and the SDK's own tables, `_client_*`, which no other file touches:
//   _client_meta         identity, cursors, heads, sync state (key -> value)
//   _client_outbox       signed change sets until a verified receipt settles them
//   _client_receipts     the server's receipts (the official's proof of submission)
//   _client_sent         change sets with a receipt, kept (gzip) to send again
//   _client_resent       the receipts of change sets sent again
//   _client_touched      which rows each change set touched
//   _client_base         the server's image of rows with pending edits (to rebuild the view)
//   _client_conflicts    conflicts involving this device's change sets
//   _client_uploads      evidence files to upload
//   _client_server_keys  server keys replaced by a followed rotation
// Its statements are prepared once, on first use, and kept. Not thread-safe: the Client's lock
// (Client::Impl::mu) is held around every call. Not installed.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tram/client.hpp"
#include "tram/engine/sqlite.hpp"
#include "tram/engine/store.hpp"
#include "tram/engine/wire.hpp"

namespace tram::client {

// The rows a batch of local changes touched, per table, for the change listener.
using Touched = std::map<std::string, std::set<std::string>>;

// A receipt as stored (in _client_receipts, or _client_resent for change sets sent again).
struct StoredReceipt {
  uint64_t seq = 0, server_seq = 0;
  Hash id{};
  std::string status, code, message;
  int64_t received_at_ms = 0;
  bool clock_ahead = false;
  std::string body, sig;
};

// A signed change set as kept: in the outbox (bytes as signed) or among the sent ones (gzip).
struct SignedEntry {
  uint64_t seq = 0;
  Hash id{};
  std::string bytes;
  std::vector<uint8_t> sig;
};

// An outbox entry as stored; the Client turns it into an OutboxEntry.
struct OutboxRow {
  uint64_t seq = 0;
  Hash id{};
  int64_t created_ms = 0;
  bool rejected = false;
  std::string code, message, bytes;
};

struct LocalCounts {
  uint64_t pending = 0, rejected = 0, receipts = 0, conflicts = 0, kept = 0;
};

class LocalStore {
 public:
  // Opens (or creates) the database at `path` with the engine's store for `schema`, and the
  // SDK's tables; registers the Vietnamese collation and fold used by queries.
  static Result<std::unique_ptr<LocalStore>> open(const std::string& path, const Schema& schema);
  ~LocalStore();
  LocalStore(const LocalStore&) = delete;
  LocalStore& operator=(const LocalStore&) = delete;

  Store& rows() { return *store_; }         // the engine's rows, images and merge
  sql::Database& db() { return store_->db(); }  // for reads of the generated tables only
  Result<sql::Transaction> begin() { return sql::Transaction::begin(db()); }
  // Until it goes, commits skip the fsync (a pulled page: WAL keeps it atomic with its cursor,
  // and a page lost to a power cut is pulled again). The device's own writes keep FULL.
  class RelaxedSync {
   public:
    explicit RelaxedSync(sql::Database& db) : db_(&db) {}
    RelaxedSync(RelaxedSync&& o) noexcept : db_(std::exchange(o.db_, nullptr)) {}
    ~RelaxedSync();
   private:
    sql::Database* db_;
  };
  Result<RelaxedSync> relax_sync();

  // ---- _client_meta
  Result<std::optional<std::string>> meta(std::string_view k);
  std::string meta_or(std::string_view k, std::string fallback = {});  // also on an error
  Status set_meta(std::string_view k, std::string_view v);
  Status erase_meta(std::string_view k);
  // A server whose log went back: pull everything again and check the evidence files again.
  Status restart_pull_and_uploads();

  // ---- _client_server_keys
  Result<std::vector<PublicKey>> previous_server_keys();  // oldest first
  Status keep_server_key(const PublicKey& key, std::string_view statement, std::string_view sig, int64_t at_ms);
  Status drop_server_key(const PublicKey& key);

  // ---- a local write: outbox entry, touched rows, base images
  // Keeps the server's image of a row before its first pending edit (call before applying it).
  Status keep_base(std::string_view table, std::string_view row);
  Status touch(uint64_t seq, std::string_view table, std::string_view row);
  Status add_to_outbox(uint64_t seq, const Hash& id, std::string_view bytes, std::span<const uint8_t> sig, int64_t created_ms);

  // ---- reading the outbox
  // Pending entries after `after`, in order, at most `limit`: bytes as signed.
  using EntryFn = std::function<void(uint64_t seq, std::span<const uint8_t> bytes, std::span<const uint8_t> sig)>;
  Status each_pending(uint64_t after, size_t limit, const EntryFn& fn);
  Result<std::vector<OutboxRow>> outbox();
  Result<bool> dismiss_rejected(uint64_t seq);  // false: no rejected entry at seq
  LocalCounts counts();
  Result<bool> is_own_changeset(const Hash& id);  // in the outbox or with a receipt
  Result<bool> has_pending_edits(std::string_view table, std::string_view row);

  // ---- settling outbox entries with receipts
  Result<std::optional<SignedEntry>> outbox_entry(uint64_t seq);
  // Moves an entry's bytes (gzip) and signature to the kept change sets.
  Status keep_sent(const SignedEntry& entry, int64_t received_at_ms);
  Status add_receipt(const StoredReceipt& r);
  Status settle(uint64_t seq);  // accepted: leaves the outbox
  Status mark_rejected(uint64_t seq, std::string_view code, std::string_view message);
  Status rows_of(uint64_t seq, Touched& into);
  // Rows whose edits are all settled drop their base image.
  Status drop_settled_bases(const Touched& rows);
  Result<uint64_t> last_receipt_seq();           // 0: none
  Result<uint64_t> highest_receipt_server_seq();  // 0: none

  // ---- kept (sent) change sets
  Result<std::optional<SignedEntry>> kept_entry(uint64_t seq);  // bytes decompressed
  // Kept entries in [from, to], in order, at most `limit`; bytes decompressed.
  Result<std::vector<SignedEntry>> kept_range(uint64_t from, uint64_t to, size_t limit);
  Result<uint64_t> newest_kept_seq();  // 0: none
  Status add_resent_receipt(const StoredReceipt& r);
  Result<std::optional<std::string>> receipt_status(uint64_t seq);
  // A kept change set the server refused when sent again: back into the outbox, rejected.
  Status reject_again(const SignedEntry& entry, int64_t at_ms, std::string_view code, std::string_view message);
  // Drops entries older than keep_ms by both clocks (`now_ms` and the newest receipt's), except the newest.
  Status prune_sent(int64_t now_ms, int64_t keep_ms);

  // ---- receipts and conflicts, as the user sees them
  Result<std::vector<ReceiptInfo>> receipts(std::string_view table, std::string_view row);
  Result<std::vector<ConflictInfo>> conflicts();

  // ---- evidence files
  Status queue_upload(const std::string& hash_hex, uint64_t size);
  Result<std::vector<std::string>> queued_uploads();
  Status upload_done(const std::string& hash_hex);

  // ---- the view: the server's image plus pending edits
  // Writes pulled rows: a row with pending edits gets a new base and is rebuilt, others take the
  // image; conflicts that involve this device are kept. `changed` gets every row.
  Status put_pulled_rows(const std::vector<wire::PulledRow>& rows, Touched& changed);
  // Rebuilds the view of rows from their base image plus the change sets still pending.
  Status rebuild(const Touched& rows);

 private:
  enum class Q : int;
  class Use;
  LocalStore(std::unique_ptr<Store> store, const Schema& schema);
  Result<Use> use(Q q);

  std::unique_ptr<Store> store_;
  const Schema& schema_;
  std::vector<std::optional<sql::Statement>> stmts_;  // by Q, prepared on first use; before store_ goes
};

}  // namespace tram::client
