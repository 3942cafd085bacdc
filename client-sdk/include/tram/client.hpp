// The Tram client SDK: what a mobile app embeds so that an official can work offline for
// weeks and sync safely over a weak link. docs/client-sdk.md shows it in use.
//
// One Client owns one local SQLite database (WAL, synchronous=FULL) holding:
//  - the rows the app reads: the server's last pulled state with this device's pending
//    change sets applied on top;
//  - the outbox: every signed change set until a verified receipt says the server has it;
//  - every change set sent, kept after its receipt (keep_sent_days), to send again to a server
//    whose log went back (restored from a backup, or its WAL lost);
//  - receipts (the official's proof of submission), rejections, conflicts, sync state;
//  - the device's Ed25519 secret key, encrypted with a key the app supplies.
// Every method is thread-safe. Network I/O never holds the database lock, so the app can
// write while a sync runs.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tram/engine/clock.hpp"
#include "tram/engine/crypto.hpp"
#include "tram/engine/schema.hpp"
#include "tram/engine/status.hpp"
#include "tram/engine/value.hpp"
#include "tram/transport.hpp"

namespace tram::client {

struct SyncOptions {
  // Change sets per push adapt between these bounds to the measured throughput, so that one
  // push takes about target_request_ms (at most doubling, at least halving, each time; halved
  // after a failure). Rows per pull page double after a fast page and halve after a slow one.
  size_t push_batch_min = 5, push_batch_max = 200;
  size_t pull_page_min = 50, pull_page_max = 1000;
  int64_t slow_request_ms = 4000;
  int64_t target_request_ms = 8000;
  // Retries of one sync() before it gives up: exponential backoff with full jitter. With
  // max_time_ms > 0 they count only attempts in a row that moved nothing (no change set,
  // chunk byte or row more on the server or here): a sync that keeps progressing across cuts
  // goes on until done, cancelled, or max_time_ms after it began.
  int max_attempts = 8;
  int64_t backoff_initial_ms = 250, backoff_max_ms = 30'000;
  int64_t max_time_ms = 0;
  // Attachment chunks are sized to the link: the first of a sync is attachment_chunk_start
  // bytes (or what the previous sync learnt), then each is the measured throughput times
  // target_request_ms (at most doubling, at least halving, each time), halved after a cut;
  // never above attachment_chunk_bytes, never below 4 KiB.
  size_t attachment_chunk_bytes = 1024 * 1024;
  size_t attachment_chunk_start = 16 * 1024;
  // Fetch and parse the next pull pages on a second connection and thread while the current one
  // is stored (default transport only).
  bool read_ahead = true;
};

struct Options {
  std::string path;         // the local database file (created if missing)
  std::string schemas_dir;  // the schema's version files, e.g. "schemas/sonla-2026"
  // Wraps the device's secret key (XChaCha20-Poly1305). Supplied by the app from the Android
  // Keystore or the iOS Keychain; never stored by the SDK.
  std::array<uint8_t, 32> wrapping_key{};
  // nullptr: the default Beast transport to the server URL given at enrolment.
  std::shared_ptr<Transport> transport;
  TransportOptions transport_options;
  SyncOptions sync;
  ClockSource* clock = nullptr;  // nullptr: the system clock (tests inject a wrong one)
  // Sent change sets (bytes and signature) are kept at least this long after their receipt,
  // by this phone's clock and by the server's: a server restored from an older backup gets
  // them again from the device. The newest one is always kept (it tells what the server lacks).
  int keep_sent_days = 30;
};

// A row as the app sees it: field name -> value (fields never written are absent).
struct Row {
  std::string table, id;
  std::map<std::string, Value> fields;
  bool pending = false;  // this device has edits to it that the server has not confirmed
};

// A write transaction: collect operations, then Client::commit() signs them as one change set.
class WriteTxn {
 public:
  // Creates a row (fails at commit with already_exists if it is there). An empty id gets a
  // fresh UUIDv7, returned.
  std::string insert(std::string table, std::string id, std::map<std::string, Value> fields);
  // Sets fields of an existing row (fails at commit with not_found if it is not there).
  void update(std::string table, std::string id, std::map<std::string, Value> fields);
  void remove(std::string table, std::string id);
  bool empty() const { return ops_.empty(); }

  struct PendingOp {
    enum Kind { insert, update, remove } kind;
    std::string table, id;
    std::map<std::string, Value> fields;
  };
  const std::vector<PendingOp>& ops() const { return ops_; }

 private:
  std::vector<PendingOp> ops_;
};

struct Committed {
  uint64_t seq = 0;  // the change set's place in this device's chain
  Hash id{};
};

struct Filter {
  enum Op { eq, ne, lt, le, gt, ge, contains } op = eq;  // contains: accent-insensitive text match
  std::string field;
  Value value;
};

struct Query {
  std::string table;
  std::vector<Filter> where;
  std::string order_by;  // a field name; text orders as Vietnamese (ICU "vi"); empty: by id
  bool descending = false;
  size_t limit = 100, offset = 0;
  bool include_deleted = false;
};

// An entry of the outbox as the user must see it.
struct OutboxEntry {
  uint64_t seq = 0;
  Hash id{};
  int64_t created_ms = 0;
  enum State { pending, rejected } state = pending;
  std::string code, message;  // the server's reason, for rejected entries
  std::string ops_json;       // what the change set did, for showing and fixing it
};

struct ReceiptInfo {
  uint64_t seq = 0, server_seq = 0;
  Hash id{};
  std::string status;  // "accepted" or "rejected"
  std::string code;
  int64_t received_at_ms = 0;  // the server's clock: the proof of the time of submission
  bool clock_ahead = false;
  std::string body, sig;       // exactly as signed by the server (sig in hex)
  std::vector<std::pair<std::string, std::string>> rows;  // (table, row) it wrote
};

// A conflict the server recorded that involves one of this device's change sets.
struct ConflictInfo {
  std::string table, row, field;
  Hash winner{}, loser{};
  bool mine_lost = false;  // this device's write lost (its value is loser_value)
  Value loser_value;
};

struct DeviceInfo {
  bool enrolled = false;
  std::string server_url, user, role;
  // The user's name as the administrator registered it: records this user writes carry it as
  // their author (the server refuses another); empty on servers that do not register names.
  std::string name;
  std::vector<std::string> units;
  bool all_units = false;
  PublicKey device{}, server_key{};
  // Keys the server signed with before a rotation this device followed (oldest first): receipts
  // signed by them still verify.
  std::vector<PublicKey> previous_server_keys;
  uint64_t seq = 0;  // the last change set this device made
  uint64_t pending = 0, rejected = 0, receipts = 0, conflicts = 0;
  std::optional<int64_t> last_sync_ms;  // end of the last sync that completed
  std::string last_error;               // of the last sync that did not
  bool clock_ahead = false;             // the server said this phone's clock is far ahead
  uint64_t kept = 0;                    // sent change sets kept to send again (keep_sent_days)
};

struct Progress {
  std::string phase;  // "push", "upload", "pull"
  uint64_t bytes_sent = 0, bytes_received = 0;
  uint64_t changesets_done = 0, changesets_total = 0;
  uint64_t rows_pulled = 0;
  uint64_t files_done = 0, files_total = 0;  // evidence files uploaded in this sync
  // Evidence bytes (phase "upload"): of this sync's files, those that left the device (the
  // server holds them, but for a chunk in flight), and all of them.
  uint64_t upload_bytes_done = 0, upload_bytes_total = 0;
  int attempt = 1;     // > 1: the sync went on after a cut or failure
  std::string retry;   // phase "wait": the failure the sync is about to retry after
  int64_t retry_in_ms = 0;
};

struct SyncReport {
  uint64_t accepted = 0, duplicates = 0, rejected = 0;
  uint64_t rows_pulled = 0, attachments_uploaded = 0;
  uint64_t bytes_sent = 0, bytes_received = 0;
  int attempts = 0;
  // The server's signed log head went below one this device had verified (a restore from a
  // backup, a lost WAL): the device sent its kept change sets again and pulled from the start.
  bool server_log_behind = false;
  uint64_t resent = 0;  // kept change sets sent again that the server has now (with a receipt)
  // The server's key changed and a chain of key statements from the pinned key leads to the new
  // one: it is pinned now, the old ones kept (protocol §4).
  bool server_key_rotated = false;
  // Not empty: a signed statement moved the server to this base URL, used from now on (with an
  // app's own Transport, the app must point it there: info().server_url).
  std::string server_moved_to;
};

// What a device holds that the server has not confirmed (Client::unsent).
struct Unsent {
  uint64_t changesets = 0;   // pending in the outbox (signed, not yet receipted)
  uint64_t files = 0;        // evidence files not yet confirmed by the server, still on the device
  uint64_t file_bytes = 0;
};

class Client {
 public:
  static Result<std::unique_ptr<Client>> open(Options options);
  // Read from the local database at `path` without opening the device: it needs no wrapping
  // key, so an app can say what a reset would lose even when the passphrase is forgotten
  // (change sets and files are stored unencrypted; only the device's secret key is sealed).
  static Result<Unsent> unsent(const std::string& path);
  ~Client();

  // Enrols this device with a code from the administrator: makes the key pair, stores it
  // (encrypted) before contacting the server, registers it, pins the server's key. Safe to
  // call again after a lost response.
  Status enroll(const std::string& server_url, const std::string& code);
  DeviceInfo info();

  // The schema this client was opened with (the newest version in Options::schemas_dir), for
  // apps that build screens or reports from it: they need not load it again. Lives as long as
  // the Client.
  const Schema& schema() const;
  // The same schema as its source JSON (the newest v<N>.json, docs/schema-format.md), for the
  // C API and apps that read it as JSON.
  const std::string& schema_json() const;

  // Writes: checked against the schema and this user's role, scope and workflow, signed and
  // committed with their outbox entry in one transaction. When it returns, the write is saved.
  Result<Committed> commit(const WriteTxn& txn);

  // Reads: the server's state plus this device's pending edits.
  Result<std::optional<Row>> get(const std::string& table, const std::string& id);
  Result<std::vector<Row>> query(const Query& q);
  // Read-only SQL over the generated tables (one per schema table, columns named as fields,
  // deleted rows have _deleted = 1). Rows as a JSON array of objects.
  Result<std::string> sql_json(const std::string& select);

  // Sync: push the outbox, upload attachments, then pull. Retries with backoff until done,
  // cancelled, or max_attempts; progress persists across failures and restarts.
  Result<SyncReport> sync(const std::function<void(const Progress&)>& progress = {});
  void cancel();  // makes a running sync() return cancelled soon
  // A background thread that syncs every `interval` (and at once when started).
  void start_background(std::chrono::milliseconds interval);
  void stop_background();

  // What the user must see.
  Result<std::vector<OutboxEntry>> outbox();  // pending and rejected
  Status dismiss_rejected(uint64_t seq);      // the user fixed or gave up on it
  Result<std::vector<ReceiptInfo>> receipts(const std::string& table = {}, const std::string& row = {});
  // Against the pinned server key, or one it replaced (a rotation this device followed).
  Status verify_receipt(const ReceiptInfo& receipt);
  Result<std::vector<ConflictInfo>> conflicts();

  // Evidence files: copies the file into the device's store and returns its reference, to be
  // written into an attachment field; sync uploads it once the change set is accepted.
  Result<AttachmentRef> add_attachment(const std::string& file_path);
  // An evidence file by its hash, written to dest_path (0600) only once its bytes hash to it:
  // this device's own copy when it has one, else the server's, where a device may download what
  // a row it may read names (a reviewer: every unit's; an official: their units'). Downloads
  // into dest_path + ".part" in parts that grow on a good link and shrink after a cut; a call
  // after a failure goes on from the bytes in the .part file. Returns the file's size.
  // Errors: rejected "not_found: …" out of scope or unknown; not_found when its device has not
  // uploaded it completely yet; bad_signature "hash_mismatch: …" (nothing is kept); unavailable.
  // Waits for a running sync() to end (one network user of the session at a time).
  Result<uint64_t> download_attachment(const Hash& hash, const std::string& dest_path);

  // Store and forward: the pending outbox as a signed bundle file, for when there is no
  // signal, carrying the evidence files the server has not confirmed yet (protocol §16.2:
  // those of pending change sets, and those of accepted ones whose upload did not finish); the receipt bundle the server (admin import) returns,
  // imported back (the files the server stored are then not uploaded again).
  Result<size_t> export_bundle(const std::string& path);
  Result<SyncReport> import_receipts(const std::string& path);

  // Called after local commits and pulled pages with the table and the ids that changed.
  // Runs on the thread that made the change; keep it short.
  void set_change_listener(std::function<void(const std::string& table, const std::vector<std::string>& ids)> fn);

  // Converting between values and plain JSON by the schema's field types (text, numbers,
  // booleans, "YYYY-MM-DD" dates, hex attachment hashes): what the C API and apps use.
  Result<std::map<std::string, Value>> fields_from_json(const std::string& table, const std::string& json_object);
  std::string row_to_json(const Row& row);

  class Impl;

 private:
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace tram::client
