// LocalStore: the only file with the SDK's SQL (`_client_*`). Each statement is in kSql below,
// prepared once on first use. Longer than 400 lines on purpose: it is one door to one database,
// and splitting its tables between files would spread the schema they share.
#include "local_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <utility>

#include "tram/engine/gzip.hpp"
#include "tram/engine/json.hpp"
#include "tram/engine/text.hpp"

namespace tram::client {

namespace {

Status fail(Errc c, std::string m) { return {c, std::move(m)}; }

// SQL helpers registered on the connection: Vietnamese order and accent-free matching.
int vi_collate(void*, int na, const void* a, int nb, const void* b) {
  return vi_compare({static_cast<const char*>(a), static_cast<size_t>(na)}, {static_cast<const char*>(b), static_cast<size_t>(nb)});
}
void fold_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const unsigned char* t = sqlite3_value_text(argv[0]);
  if (!t) return sqlite3_result_null(ctx);
  const std::string folded = vi_search_fold(reinterpret_cast<const char*>(t));
  sqlite3_result_text(ctx, folded.data(), static_cast<int>(folded.size()), SQLITE_TRANSIENT);
}

// WAL with synchronous=FULL (the engine's setting): a commit that returned survives a crash of
// the app and a loss of power; tests/client kills the process to prove the first.
constexpr const char* kTables =
    "CREATE TABLE IF NOT EXISTS _client_meta (k TEXT PRIMARY KEY NOT NULL, v TEXT) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS _client_outbox (seq INTEGER PRIMARY KEY, id BLOB NOT NULL, bytes BLOB NOT NULL,"
    " sig BLOB NOT NULL, created_ms INTEGER NOT NULL, state INTEGER NOT NULL, code TEXT, message TEXT);"
    "CREATE TABLE IF NOT EXISTS _client_receipts (seq INTEGER PRIMARY KEY, id BLOB NOT NULL, server_seq INTEGER,"
    " status TEXT, code TEXT, message TEXT, received_at_ms INTEGER, clock_ahead INTEGER, body TEXT, sig TEXT);"
    "CREATE INDEX IF NOT EXISTS _client_receipts_id ON _client_receipts(id);"
    "CREATE TABLE IF NOT EXISTS _client_touched (seq INTEGER NOT NULL, tbl TEXT NOT NULL, row_id TEXT NOT NULL,"
    " PRIMARY KEY (seq, tbl, row_id)) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS _client_touched_row ON _client_touched(tbl, row_id);"
    // The server's image of rows this device has pending edits to (NULL: not on the server).
    "CREATE TABLE IF NOT EXISTS _client_base (tbl TEXT NOT NULL, row_id TEXT NOT NULL, image TEXT,"
    " PRIMARY KEY (tbl, row_id)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS _client_conflicts (tbl TEXT NOT NULL, row_id TEXT NOT NULL, field INTEGER NOT NULL,"
    " winner BLOB NOT NULL, loser BLOB NOT NULL, mine_lost INTEGER NOT NULL, loser_value TEXT,"
    " PRIMARY KEY (tbl, row_id, field, loser)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS _client_uploads (hash TEXT PRIMARY KEY NOT NULL, size INTEGER NOT NULL,"
    " done INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    // Change sets with a receipt, kept (gzip) to send again to a server whose log went back.
    "CREATE TABLE IF NOT EXISTS _client_sent (seq INTEGER PRIMARY KEY, id BLOB NOT NULL, bytes BLOB NOT NULL,"
    " sig BLOB NOT NULL, received_at_ms INTEGER NOT NULL);"
    // The receipts of change sets sent again; _client_receipts keeps the originals.
    "CREATE TABLE IF NOT EXISTS _client_resent (seq INTEGER PRIMARY KEY, id BLOB NOT NULL, server_seq INTEGER,"
    " status TEXT, code TEXT, message TEXT, received_at_ms INTEGER, body TEXT, sig TEXT);"
    // Server keys this device trusted before a rotation it followed, each with the statement
    // (signed by it) that named its successor: their receipts still verify.
    "CREATE TABLE IF NOT EXISTS _client_server_keys (key TEXT PRIMARY KEY NOT NULL, statement TEXT NOT NULL,"
    " sig TEXT NOT NULL, followed_ms INTEGER NOT NULL);";

// Outbox states.
constexpr int kPending = 0, kRejected = 1;

// A 32-byte id stored as a blob (change-set ids, conflict writers).
Hash hash_at(const sql::Statement& st, int i) {
  Hash h{};
  auto b = st.column_blob(i);
  std::copy_n(b.begin(), std::min(b.size(), h.size()), h.begin());
  return h;
}

std::string_view as_chars(std::span<const uint8_t> b) { return {reinterpret_cast<const char*>(b.data()), b.size()}; }
std::span<const uint8_t> as_bytes(std::string_view s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

// A receipt's columns, in the order _client_receipts and _client_resent share; only the first
// has clock_ahead.
void bind_receipt(sql::Statement& st, const StoredReceipt& r, bool clock_ahead) {
  int i = 0;
  st.bind_int(++i, static_cast<int64_t>(r.seq));
  st.bind_blob(++i, r.id);
  st.bind_int(++i, static_cast<int64_t>(r.server_seq));
  st.bind_text(++i, r.status);
  st.bind_text(++i, r.code);
  st.bind_text(++i, r.message);
  st.bind_int(++i, r.received_at_ms);
  if (clock_ahead) st.bind_int(++i, r.clock_ahead);
  st.bind_text(++i, r.body);
  st.bind_text(++i, r.sig);
}

}  // namespace

// Every statement, by name. The order of kSql follows Q.
enum class LocalStore::Q : int {
  meta_get, meta_set, meta_erase, forget_cursors, uploads_again,
  old_keys, keep_key, drop_key,
  has_base, put_base, touch, outbox_add,
  pending_after, outbox_all, dismiss, own_changeset, row_pending,
  n_pending, n_rejected, n_receipts, n_conflicts, n_kept,
  outbox_entry, keep_sent, add_receipt, settle, reject, rows_of, drop_settled_base,
  last_receipt, top_server_seq,
  kept_entry, kept_range, newest_kept, add_resent, receipt_status, reject_again, prune_sent,
  receipts, receipt_rows, conflicts,
  queue_upload, queued_uploads, upload_done,
  any_base, replace_base, add_conflict, base_of, pending_of, drop_base,
  count_
};

namespace {
constexpr const char* kSql[] = {
    "SELECT v FROM _client_meta WHERE k = ?",
    "INSERT INTO _client_meta(k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v",
    "DELETE FROM _client_meta WHERE k = ?",
    "DELETE FROM _client_meta WHERE k IN ('pull_cursor', 'snapshot_cursor')",
    "UPDATE _client_uploads SET done = 0",
    "SELECT key FROM _client_server_keys ORDER BY rowid",
    "INSERT OR IGNORE INTO _client_server_keys(key, statement, sig, followed_ms) VALUES (?, ?, ?, ?)",
    "DELETE FROM _client_server_keys WHERE key = ?",
    "SELECT 1 FROM _client_base WHERE tbl = ? AND row_id = ?",
    "INSERT INTO _client_base(tbl, row_id, image) VALUES (?, ?, ?)",
    "INSERT OR IGNORE INTO _client_touched(seq, tbl, row_id) VALUES (?, ?, ?)",
    "INSERT INTO _client_outbox(seq, id, bytes, sig, created_ms, state) VALUES (?, ?, ?, ?, ?, 0)",
    "SELECT seq, bytes, sig FROM _client_outbox WHERE state = 0 AND seq > ? ORDER BY seq LIMIT ?",
    "SELECT seq, id, created_ms, state, code, message, bytes FROM _client_outbox ORDER BY seq",
    "DELETE FROM _client_outbox WHERE seq = ? AND state = 1",
    "SELECT 1 FROM _client_receipts WHERE id = ?1 UNION ALL SELECT 1 FROM _client_outbox WHERE id = ?1",
    "SELECT 1 FROM _client_touched t JOIN _client_outbox o ON o.seq = t.seq WHERE t.tbl = ? AND t.row_id = ? AND o.state = 0",
    "SELECT COUNT(*) FROM _client_outbox WHERE state = 0",
    "SELECT COUNT(*) FROM _client_outbox WHERE state = 1",
    "SELECT COUNT(*) FROM _client_receipts",
    "SELECT COUNT(*) FROM _client_conflicts",
    "SELECT COUNT(*) FROM _client_sent",
    "SELECT id, bytes, sig FROM _client_outbox WHERE seq = ?",
    "INSERT OR IGNORE INTO _client_sent(seq, id, bytes, sig, received_at_ms) VALUES (?, ?, ?, ?, ?)",
    "INSERT OR REPLACE INTO _client_receipts(seq, id, server_seq, status, code, message, received_at_ms, clock_ahead, body, sig)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "DELETE FROM _client_outbox WHERE seq = ?",
    "UPDATE _client_outbox SET state = 1, code = ?, message = ? WHERE seq = ?",
    "SELECT tbl, row_id FROM _client_touched WHERE seq = ?",
    "DELETE FROM _client_base WHERE tbl = ?1 AND row_id = ?2 AND NOT EXISTS (SELECT 1 FROM _client_touched t"
    " JOIN _client_outbox o ON o.seq = t.seq WHERE t.tbl = ?1 AND t.row_id = ?2 AND o.state = 0)",
    "SELECT IFNULL(MAX(seq), 0) FROM _client_receipts",
    "SELECT IFNULL(MAX(server_seq), 0) FROM _client_receipts",
    "SELECT id, bytes, sig FROM _client_sent WHERE seq = ?",
    "SELECT seq, id, bytes, sig FROM _client_sent WHERE seq >= ? AND seq <= ? ORDER BY seq LIMIT ?",
    "SELECT IFNULL(MAX(seq), 0) FROM _client_sent",
    "INSERT OR REPLACE INTO _client_resent(seq, id, server_seq, status, code, message, received_at_ms, body, sig)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "SELECT status FROM _client_receipts WHERE seq = ?",
    "INSERT OR IGNORE INTO _client_outbox(seq, id, bytes, sig, created_ms, state, code, message) VALUES (?, ?, ?, ?, ?, 1, ?, ?)",
    // Both clocks must agree that the time has passed: this phone's may be wrong, and the
    // server's is known only from its receipts.
    "DELETE FROM _client_sent WHERE received_at_ms < MIN(?1, (SELECT MAX(received_at_ms) FROM _client_sent)) - ?2"
    " AND seq < (SELECT MAX(seq) FROM _client_sent)",
    "SELECT seq, id, server_seq, status, code, received_at_ms, clock_ahead, body, sig FROM _client_receipts r"
    " WHERE ?1 = '' OR EXISTS (SELECT 1 FROM _client_touched t WHERE t.seq = r.seq AND t.tbl = ?1 AND (?2 = '' OR t.row_id = ?2))"
    " ORDER BY seq",
    "SELECT tbl, row_id FROM _client_touched WHERE seq = ? ORDER BY tbl, row_id",
    "SELECT tbl, row_id, field, winner, loser, mine_lost, loser_value FROM _client_conflicts ORDER BY tbl, row_id, field",
    "INSERT OR IGNORE INTO _client_uploads(hash, size, done) VALUES (?, ?, 0)",
    "SELECT hash FROM _client_uploads WHERE done = 0 ORDER BY hash",
    "UPDATE _client_uploads SET done = 1 WHERE hash = ?",
    "SELECT EXISTS (SELECT 1 FROM _client_base)",
    "UPDATE _client_base SET image = ? WHERE tbl = ? AND row_id = ?",
    "INSERT OR IGNORE INTO _client_conflicts(tbl, row_id, field, winner, loser, mine_lost, loser_value) VALUES (?, ?, ?, ?, ?, ?, ?)",
    "SELECT image FROM _client_base WHERE tbl = ? AND row_id = ?",
    "SELECT o.seq, o.id, o.bytes FROM _client_touched t JOIN _client_outbox o ON o.seq = t.seq"
    " WHERE t.tbl = ? AND t.row_id = ? AND o.state = 0 ORDER BY o.seq",
    "DELETE FROM _client_base WHERE tbl = ? AND row_id = ?",
};
}  // namespace

// A prepared statement lent for one use: reset (bindings cleared) when the use ends, so that no
// statement keeps a read transaction open.
class LocalStore::Use {
 public:
  explicit Use(sql::Statement* s) : s_(s) {}
  Use(Use&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  ~Use() {
    if (s_) s_->reset();
  }
  sql::Statement* operator->() const { return s_; }
  sql::Statement& operator*() const { return *s_; }

 private:
  sql::Statement* s_;
};

Result<LocalStore::Use> LocalStore::use(Q q) {
  auto& slot = stmts_[static_cast<size_t>(q)];
  if (!slot) {
    auto st = db().prepare(kSql[static_cast<size_t>(q)]);
    if (!st.ok()) return st.status();
    slot = std::move(st).value();
  }
  return Use(&*slot);
}

#define TRAM_USE(var, q)            \
  auto var##_r = use(q);            \
  if (!var##_r.ok()) return var##_r.status(); \
  Use& var = *var##_r

LocalStore::LocalStore(std::unique_ptr<Store> store, const Schema& schema)
    : store_(std::move(store)), schema_(schema), stmts_(static_cast<size_t>(Q::count_)) {}
LocalStore::~LocalStore() = default;

Result<std::unique_ptr<LocalStore>> LocalStore::open(const std::string& path, const Schema& schema) {
  static_assert(std::size(kSql) == static_cast<size_t>(Q::count_), "one statement per Q");
  // The database holds the device's (wrapped) key and the official's records: only this user may
  // read it. Created 0600 before SQLite opens it, whose -wal and -shm files take its mode.
  if (path != ":memory:" && !path.starts_with("file:")) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
    for (const char* suffix : {"", "-wal", "-shm"}) (void)::chmod((path + suffix).c_str(), 0600);
  }
  auto st = Store::open(path, schema);
  if (!st.ok()) return st.status();
  std::unique_ptr<LocalStore> ls(new LocalStore(std::move(st).value(), schema));
  sqlite3* db = ls->db().handle();
  sqlite3_create_collation_v2(db, "tram_vi", SQLITE_UTF8, nullptr, vi_collate, nullptr);
  sqlite3_create_function_v2(db, "tram_fold", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, fold_fn, nullptr, nullptr, nullptr);
  TRAM_RETURN_IF_ERROR(ls->db().exec(kTables));
  return ls;
}

LocalStore::RelaxedSync::~RelaxedSync() {
  if (db_) (void)db_->exec("PRAGMA synchronous=FULL");
}

Result<LocalStore::RelaxedSync> LocalStore::relax_sync() {
  TRAM_RETURN_IF_ERROR(db().exec("PRAGMA synchronous=NORMAL"));
  return RelaxedSync(db());
}

// ---- _client_meta and _client_server_keys ------------------------------------------------

Result<std::optional<std::string>> LocalStore::meta(std::string_view k) {
  TRAM_USE(st, Q::meta_get);
  st->bind_text(1, k);
  auto has = st->step();
  if (!has.ok()) return has.status();
  if (!*has || st->column_is_null(0)) return std::optional<std::string>();
  return std::optional<std::string>(std::string(st->column_text(0)));
}

std::string LocalStore::meta_or(std::string_view k, std::string fallback) {
  return meta(k).value_or(std::nullopt).value_or(std::move(fallback));
}

Status LocalStore::set_meta(std::string_view k, std::string_view v) {
  TRAM_USE(st, Q::meta_set);
  st->bind_text(1, k);
  st->bind_text(2, v);
  return st->run();
}

Status LocalStore::erase_meta(std::string_view k) {
  TRAM_USE(st, Q::meta_erase);
  st->bind_text(1, k);
  return st->run();
}

Status LocalStore::restart_pull_and_uploads() {
  {
    TRAM_USE(st, Q::forget_cursors);
    TRAM_RETURN_IF_ERROR(st->run());
  }
  TRAM_USE(st, Q::uploads_again);
  return st->run();
}

Result<std::vector<PublicKey>> LocalStore::previous_server_keys() {
  TRAM_USE(st, Q::old_keys);
  std::vector<PublicKey> out;
  while (st->step().value_or(false)) {
    if (auto k = from_hex<32>(st->column_text(0))) out.push_back(*k);
  }
  return out;
}

Status LocalStore::keep_server_key(const PublicKey& key, std::string_view statement, std::string_view sig, int64_t at_ms) {
  TRAM_USE(st, Q::keep_key);
  st->bind_text(1, to_hex(key));
  st->bind_text(2, statement);
  st->bind_text(3, sig);
  st->bind_int(4, at_ms);
  return st->run();
}

Status LocalStore::drop_server_key(const PublicKey& key) {
  TRAM_USE(st, Q::drop_key);
  st->bind_text(1, to_hex(key));
  return st->run();
}

// ---- a local write -----------------------------------------------------------------------

Status LocalStore::keep_base(std::string_view table, std::string_view row) {
  TRAM_USE(has, Q::has_base);
  has->bind_text(1, table);
  has->bind_text(2, row);
  auto found = has->step();
  if (!found.ok()) return found.status();
  if (*found) return {};
  auto image = store_->row_image(table, row);
  if (!image.ok()) return image.status();
  TRAM_USE(put, Q::put_base);
  put->bind_text(1, table);
  put->bind_text(2, row);
  if (*image) put->bind_text(3, wire::row_image_to_json(**image));
  return put->run();
}

Status LocalStore::touch(uint64_t seq, std::string_view table, std::string_view row) {
  TRAM_USE(st, Q::touch);
  st->bind_int(1, static_cast<int64_t>(seq));
  st->bind_text(2, table);
  st->bind_text(3, row);
  return st->run();
}

Status LocalStore::add_to_outbox(uint64_t seq, const Hash& id, std::string_view bytes, std::span<const uint8_t> sig,
                                 int64_t created_ms) {
  TRAM_USE(st, Q::outbox_add);
  st->bind_int(1, static_cast<int64_t>(seq));
  st->bind_blob(2, id);
  st->bind_blob(3, as_bytes(bytes));
  st->bind_blob(4, sig);
  st->bind_int(5, created_ms);
  return st->run();
}

// ---- reading the outbox ------------------------------------------------------------------

Status LocalStore::each_pending(uint64_t after, size_t limit, const EntryFn& fn) {
  TRAM_USE(st, Q::pending_after);
  st->bind_int(1, static_cast<int64_t>(after));
  st->bind_int(2, static_cast<int64_t>(limit));
  while (st->step().value_or(false)) fn(static_cast<uint64_t>(st->column_int(0)), st->column_blob(1), st->column_blob(2));
  return {};
}

Result<std::vector<OutboxRow>> LocalStore::outbox() {
  TRAM_USE(st, Q::outbox_all);
  std::vector<OutboxRow> out;
  for (;;) {
    auto has = st->step();
    if (!has.ok()) return has.status();
    if (!*has) break;
    OutboxRow e;
    e.seq = static_cast<uint64_t>(st->column_int(0));
    e.id = hash_at(*st, 1);
    e.created_ms = st->column_int(2);
    e.rejected = st->column_int(3) == kRejected;
    e.code = st->column_text(4);
    e.message = st->column_text(5);
    e.bytes = as_chars(st->column_blob(6));
    out.push_back(std::move(e));
  }
  return out;
}

Result<bool> LocalStore::dismiss_rejected(uint64_t seq) {
  TRAM_USE(st, Q::dismiss);
  st->bind_int(1, static_cast<int64_t>(seq));
  TRAM_RETURN_IF_ERROR(st->run());
  return db().changes() != 0;
}

LocalCounts LocalStore::counts() {
  auto count = [&](Q q) -> uint64_t {
    auto st = use(q);
    if (!st.ok() || !(*st)->step().value_or(false)) return 0;
    return static_cast<uint64_t>((*st)->column_int(0));
  };
  return {count(Q::n_pending), count(Q::n_rejected), count(Q::n_receipts), count(Q::n_conflicts), count(Q::n_kept)};
}

Result<bool> LocalStore::is_own_changeset(const Hash& id) {
  TRAM_USE(st, Q::own_changeset);
  st->bind_blob(1, id);
  return st->step();
}

Result<bool> LocalStore::has_pending_edits(std::string_view table, std::string_view row) {
  TRAM_USE(st, Q::row_pending);
  st->bind_text(1, table);
  st->bind_text(2, row);
  return st->step();
}

// ---- settling ----------------------------------------------------------------------------

Result<std::optional<SignedEntry>> LocalStore::outbox_entry(uint64_t seq) {
  TRAM_USE(st, Q::outbox_entry);
  st->bind_int(1, static_cast<int64_t>(seq));
  auto has = st->step();
  if (!has.ok()) return has.status();
  if (!*has) return std::optional<SignedEntry>();
  auto sig = st->column_blob(2);
  return std::optional<SignedEntry>(SignedEntry{seq, hash_at(*st, 0), std::string(as_chars(st->column_blob(1))), {sig.begin(), sig.end()}});
}

Status LocalStore::keep_sent(const SignedEntry& e, int64_t received_at_ms) {
  // Kept after the outbox lets it go: a server restored from an older backup needs it again.
  const std::string packed = gzip_compress(e.bytes);
  TRAM_USE(st, Q::keep_sent);
  st->bind_int(1, static_cast<int64_t>(e.seq));
  st->bind_blob(2, e.id);
  st->bind_blob(3, as_bytes(packed));
  st->bind_blob(4, e.sig);
  st->bind_int(5, received_at_ms);
  return st->run();
}

Status LocalStore::add_receipt(const StoredReceipt& r) {
  TRAM_USE(st, Q::add_receipt);
  bind_receipt(*st, r, /*clock_ahead=*/true);
  return st->run();
}

Status LocalStore::settle(uint64_t seq) {
  TRAM_USE(st, Q::settle);
  st->bind_int(1, static_cast<int64_t>(seq));
  return st->run();
}

Status LocalStore::mark_rejected(uint64_t seq, std::string_view code, std::string_view message) {
  TRAM_USE(st, Q::reject);
  st->bind_text(1, code);
  st->bind_text(2, message);
  st->bind_int(3, static_cast<int64_t>(seq));
  return st->run();
}

Status LocalStore::rows_of(uint64_t seq, Touched& into) {
  TRAM_USE(st, Q::rows_of);
  st->bind_int(1, static_cast<int64_t>(seq));
  for (;;) {
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) return {};
    into[std::string(st->column_text(0))].insert(std::string(st->column_text(1)));
  }
}

Status LocalStore::drop_settled_bases(const Touched& rows) {
  TRAM_USE(st, Q::drop_settled_base);
  for (const auto& [table, ids] : rows) {
    for (const std::string& id : ids) {
      st->reset();
      st->bind_text(1, table);
      st->bind_text(2, id);
      TRAM_RETURN_IF_ERROR(st->run());
    }
  }
  return {};
}

namespace {
Result<uint64_t> single_number(Result<sql::Statement*> st) {
  if (!st.ok()) return st.status();
  auto has = (*st)->step();
  if (!has.ok()) return has.status();
  if (!*has) return fail(Errc::storage_error, "no row");
  return static_cast<uint64_t>((*st)->column_int(0));
}
}  // namespace

Result<uint64_t> LocalStore::last_receipt_seq() {
  TRAM_USE(st, Q::last_receipt);
  return single_number(&*st);
}
Result<uint64_t> LocalStore::highest_receipt_server_seq() {
  TRAM_USE(st, Q::top_server_seq);
  return single_number(&*st);
}
Result<uint64_t> LocalStore::newest_kept_seq() {
  TRAM_USE(st, Q::newest_kept);
  return single_number(&*st);
}

// ---- kept change sets --------------------------------------------------------------------

namespace {
Result<std::string> unpack(uint64_t seq, std::span<const uint8_t> packed) {
  auto bytes = gzip_decompress(as_chars(packed), 8u << 20);
  if (!bytes) return fail(Errc::storage_error, "kept change set #" + std::to_string(seq) + " is damaged");
  return std::move(*bytes);
}
}  // namespace

Result<std::optional<SignedEntry>> LocalStore::kept_entry(uint64_t seq) {
  TRAM_USE(st, Q::kept_entry);
  st->bind_int(1, static_cast<int64_t>(seq));
  auto has = st->step();
  if (!has.ok()) return has.status();
  if (!*has) return std::optional<SignedEntry>();
  SignedEntry e{seq, hash_at(*st, 0), {}, {}};
  auto bytes = unpack(seq, st->column_blob(1));
  if (!bytes.ok()) return bytes.status();
  e.bytes = std::move(bytes).value();
  auto sig = st->column_blob(2);
  e.sig.assign(sig.begin(), sig.end());
  return std::optional<SignedEntry>(std::move(e));
}

Result<std::vector<SignedEntry>> LocalStore::kept_range(uint64_t from, uint64_t to, size_t limit) {
  TRAM_USE(st, Q::kept_range);
  st->bind_int(1, static_cast<int64_t>(from));
  st->bind_int(2, static_cast<int64_t>(to));
  st->bind_int(3, static_cast<int64_t>(limit));
  std::vector<SignedEntry> out;
  while (st->step().value_or(false)) {
    SignedEntry e{static_cast<uint64_t>(st->column_int(0)), hash_at(*st, 1), {}, {}};
    auto bytes = unpack(e.seq, st->column_blob(2));
    if (!bytes.ok()) return bytes.status();
    e.bytes = std::move(bytes).value();
    auto sig = st->column_blob(3);
    e.sig.assign(sig.begin(), sig.end());
    out.push_back(std::move(e));
  }
  return out;
}

Status LocalStore::add_resent_receipt(const StoredReceipt& r) {
  TRAM_USE(st, Q::add_resent);
  bind_receipt(*st, r, /*clock_ahead=*/false);  // a receipt sent again keeps the original's
  return st->run();
}

Result<std::optional<std::string>> LocalStore::receipt_status(uint64_t seq) {
  TRAM_USE(st, Q::receipt_status);
  st->bind_int(1, static_cast<int64_t>(seq));
  auto had = st->step();
  if (!had.ok()) return had.status();
  if (!*had) return std::optional<std::string>();
  return std::optional<std::string>(std::string(st->column_text(0)));
}

Status LocalStore::reject_again(const SignedEntry& e, int64_t at_ms, std::string_view code, std::string_view message) {
  TRAM_USE(st, Q::reject_again);
  st->bind_int(1, static_cast<int64_t>(e.seq));
  st->bind_blob(2, e.id);
  st->bind_blob(3, as_bytes(e.bytes));
  st->bind_blob(4, e.sig);
  st->bind_int(5, at_ms);
  st->bind_text(6, code);
  st->bind_text(7, message);
  return st->run();
}

Status LocalStore::prune_sent(int64_t now_ms, int64_t keep_ms) {
  TRAM_USE(st, Q::prune_sent);
  st->bind_int(1, now_ms);
  st->bind_int(2, keep_ms);
  return st->run();
}

// ---- receipts and conflicts as the user sees them ----------------------------------------

Result<std::vector<ReceiptInfo>> LocalStore::receipts(std::string_view table, std::string_view row) {
  TRAM_USE(st, Q::receipts);
  TRAM_USE(rows, Q::receipt_rows);
  st->bind_text(1, table);
  st->bind_text(2, row);
  std::vector<ReceiptInfo> out;
  for (;;) {
    auto has = st->step();
    if (!has.ok()) return has.status();
    if (!*has) break;
    ReceiptInfo r;
    r.seq = static_cast<uint64_t>(st->column_int(0));
    r.id = hash_at(*st, 1);
    r.server_seq = static_cast<uint64_t>(st->column_int(2));
    r.status = st->column_text(3);
    r.code = st->column_text(4);
    r.received_at_ms = st->column_int(5);
    r.clock_ahead = st->column_int(6) != 0;
    r.body = st->column_text(7);
    r.sig = st->column_text(8);
    rows->reset();
    rows->bind_int(1, static_cast<int64_t>(r.seq));
    while (rows->step().value_or(false)) r.rows.emplace_back(rows->column_text(0), rows->column_text(1));
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<ConflictInfo>> LocalStore::conflicts() {
  TRAM_USE(st, Q::conflicts);
  std::vector<ConflictInfo> out;
  for (;;) {
    auto has = st->step();
    if (!has.ok()) return has.status();
    if (!*has) break;
    ConflictInfo c;
    c.table = st->column_text(0);
    c.row = st->column_text(1);
    const auto field = static_cast<uint32_t>(st->column_int(2));
    const TableDef* t = schema_.table(c.table);
    const FieldDef* f = t ? t->field(field) : nullptr;
    c.field = field == kLivenessField ? "(deleted)" : f ? f->name : std::to_string(field);
    c.winner = hash_at(*st, 3);
    c.loser = hash_at(*st, 4);
    c.mine_lost = st->column_int(5) != 0;
    c.loser_value = wire::parse_value(st->column_text(6)).value_or(Value{});
    out.push_back(std::move(c));
  }
  return out;
}

// ---- evidence files ----------------------------------------------------------------------

Status LocalStore::queue_upload(const std::string& hash_hex, uint64_t size) {
  TRAM_USE(st, Q::queue_upload);
  st->bind_text(1, hash_hex);
  st->bind_int(2, static_cast<int64_t>(size));
  return st->run();
}

Result<std::vector<std::string>> LocalStore::queued_uploads() {
  TRAM_USE(st, Q::queued_uploads);
  std::vector<std::string> out;
  while (st->step().value_or(false)) out.emplace_back(st->column_text(0));
  return out;
}

Status LocalStore::upload_done(const std::string& hash_hex) {
  TRAM_USE(st, Q::upload_done);
  st->bind_text(1, hash_hex);
  return st->run();
}

// ---- the view ----------------------------------------------------------------------------

Status LocalStore::put_pulled_rows(const std::vector<wire::PulledRow>& rows, Touched& changed) {
  bool any_pending = false;
  {
    TRAM_USE(st, Q::any_base);
    any_pending = st->step().value_or(true) && st->column_int(0) != 0;
  }
  TRAM_USE(new_base, Q::replace_base);
  TRAM_USE(add_conflict, Q::add_conflict);
  Touched rebuild_these;
  for (const wire::PulledRow& row : rows) {
    changed[row.table].insert(row.id);
    bool based = false;
    if (any_pending) {
      // A row with pending edits: keep the server's image as its base and rebuild.
      new_base->reset();
      new_base->bind_text(1, wire::row_image_to_json(row.image));
      new_base->bind_text(2, row.table);
      new_base->bind_text(3, row.id);
      TRAM_RETURN_IF_ERROR(new_base->run());
      based = db().changes() > 0;
    }
    if (based) {
      rebuild_these[row.table].insert(row.id);
    } else {
      TRAM_RETURN_IF_ERROR(store_->put_row_image(row.table, row.id, row.image));
    }
    for (const ConflictRecord& c : row.conflicts) {
      auto loser_mine = is_own_changeset(c.loser);
      auto winner_mine = is_own_changeset(c.winner);
      if (!loser_mine.ok() || !winner_mine.ok()) return fail(Errc::storage_error, "pull: conflicts");
      if (!*loser_mine && !*winner_mine) continue;  // other devices' business
      std::string v;
      json::append_value(v, c.loser_value);
      add_conflict->reset();
      add_conflict->bind_text(1, c.table);
      add_conflict->bind_text(2, c.row);
      add_conflict->bind_int(3, c.field);
      add_conflict->bind_blob(4, c.winner);
      add_conflict->bind_blob(5, c.loser);
      add_conflict->bind_int(6, *loser_mine);
      add_conflict->bind_text(7, v);
      TRAM_RETURN_IF_ERROR(add_conflict->run());
    }
  }
  return rebuild(rebuild_these);
}

Status LocalStore::rebuild(const Touched& rows) {
  TRAM_USE(base, Q::base_of);
  TRAM_USE(pending, Q::pending_of);
  TRAM_USE(drop_base, Q::drop_base);
  for (const auto& [table, ids] : rows) {
    for (const std::string& id : ids) {
      base->reset();
      base->bind_text(1, table);
      base->bind_text(2, id);
      auto has = base->step();
      if (!has.ok()) return has.status();
      if (!*has) continue;  // no base kept: the view is already the server's image
      if (base->column_is_null(0)) {
        TRAM_RETURN_IF_ERROR(store_->erase_row(table, id));
      } else {
        auto image = wire::row_image_from_json(base->column_text(0));
        if (!image.ok()) return image.status();
        TRAM_RETURN_IF_ERROR(store_->put_row_image(table, id, *image));
      }
      pending->reset();
      pending->bind_text(1, table);
      pending->bind_text(2, id);
      bool any = false;
      for (;;) {
        auto row = pending->step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        any = true;
        const uint64_t seq = static_cast<uint64_t>(pending->column_int(0));
        const Hash cs_id = hash_at(*pending, 1);
        auto cs = decode(as_chars(pending->column_blob(2)));
        if (!cs.ok()) return cs.status();
        std::erase_if(cs->ops, [&](const Op& op) { return op.table != table || op.row != id; });
        TRAM_RETURN_IF_ERROR(store_->forget_applied(cs->device, seq));
        const ApplyItem item{&*cs, cs_id, ClockTrust::trusted};
        auto applied = store_->apply(std::span(&item, 1));
        if (!applied.ok()) return applied.status();
      }
      if (!any) {
        drop_base->reset();
        drop_base->bind_text(1, table);
        drop_base->bind_text(2, id);
        TRAM_RETURN_IF_ERROR(drop_base->run());
      }
    }
  }
  // Re-applying on a new base may record conflicts in the view; the server's are the truth.
  return db().exec("DELETE FROM _tram_conflicts");
}

}  // namespace tram::client
