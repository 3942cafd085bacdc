#include "tram/engine/sqlite.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tram::sql {
namespace {

Status error(sqlite3* db, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += db ? sqlite3_errmsg(db) : "out of memory";
  return {Errc::storage_error, std::move(msg)};
}

}  // namespace

// A shelf per SQL text, keyed by the caller's text (sqlite3_sql()'s can differ: a trailing ';'
// or space). A shelf holds its idle statements (several when one text is used nested) and counts
// those lent out; a lent Statement points at its shelf, so taking and returning a hot statement
// allocates nothing. With more than kMaxIdle idle, the least recently returned is finalized, so
// SQL built with values inside it cannot crowd out the hot statements for good; a shelf goes
// when it has nothing idle and nothing lent.
struct StatementShelf {
  struct Idle {
    sqlite3_stmt* stmt;
    uint64_t returned;  // the cache's clock when it came back
  };
  std::vector<Idle> idle;  // oldest first
  size_t lent = 0;
};

struct StatementCache {
  static constexpr size_t kMaxIdle = 256;
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  bool open = true;  // false once the Database closed
  uint64_t clock = 0;
  size_t idle_count = 0;
  std::unordered_map<std::string, StatementShelf, Hash, std::equal_to<>> shelves;

  // The shelf for `sql` (made on first use) and its most recently returned statement, taken
  // out; null when none is idle.
  std::pair<StatementShelf*, sqlite3_stmt*> take(std::string_view sql) {
    auto it = shelves.find(sql);
    if (it == shelves.end()) it = shelves.emplace(std::string(sql), StatementShelf{}).first;
    StatementShelf& shelf = it->second;
    ++shelf.lent;
    if (shelf.idle.empty()) return {&shelf, nullptr};
    sqlite3_stmt* st = shelf.idle.back().stmt;
    shelf.idle.pop_back();
    --idle_count;
    return {&shelf, st};
  }
  void put(StatementShelf* shelf, sqlite3_stmt* st) {
    --shelf->lent;
    shelf->idle.push_back({st, ++clock});
    if (++idle_count > kMaxIdle) evict_oldest();
  }
  // A lent statement that failed to compile, or that is finalized instead of going back.
  void forget(StatementShelf* shelf) { --shelf->lent; }
  void evict_oldest() {
    auto oldest = shelves.end();
    for (auto it = shelves.begin(); it != shelves.end(); ++it) {
      if (!it->second.idle.empty() &&
          (oldest == shelves.end() || it->second.idle.front().returned < oldest->second.idle.front().returned)) {
        oldest = it;
      }
    }
    if (oldest == shelves.end()) return;
    auto& idle = oldest->second.idle;
    sqlite3_finalize(idle.front().stmt);
    idle.erase(idle.begin());
    --idle_count;
    if (idle.empty() && oldest->second.lent == 0) shelves.erase(oldest);
  }
  void finalize_all() {
    for (auto& [sql, shelf] : shelves) {
      for (const auto& i : shelf.idle) sqlite3_finalize(i.stmt);
    }
    shelves.clear();  // lent statements see open == false and finalize themselves
    idle_count = 0;
  }
};

Result<Database> Database::open(const std::string& path) {
  // SQLite's memory statistics take one process-wide mutex on every allocation of every
  // connection: the server's writer blocked on it behind its readers and the checkpointer
  // (half its voluntary context switches under load). Nothing here reads those statistics.
  // Must precede SQLite's initialization (the first open); refused harmlessly after it.
  static const bool memstatus_off = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0) == SQLITE_OK;
  (void)memstatus_off;
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  Database db(raw);  // owns raw even when opening failed
  if (rc != SQLITE_OK) return error(raw, "open " + path);
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, 5000);
  // WAL: readers never block the writer. synchronous=FULL: a committed transaction survives
  // power loss, which a signed receipt promises.
  // A 32 MiB page cache keeps the upper B-tree levels of large replicas in memory.
  TRAM_RETURN_IF_ERROR(db.exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-32768; PRAGMA wal_autocheckpoint=4000;"));
  return db;
}

Database::Database(Database&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), cache_(std::move(other.cache_)), immediate_(other.immediate_) {
  for (int i = 0; i < kTxStatements; ++i) tx_[i] = std::exchange(other.tx_[i], nullptr);
}

Database& Database::operator=(Database&& other) noexcept {
  if (this != &other) {
    close();
    db_ = std::exchange(other.db_, nullptr);
    cache_ = std::move(other.cache_);
    immediate_ = other.immediate_;
    for (int i = 0; i < kTxStatements; ++i) tx_[i] = std::exchange(other.tx_[i], nullptr);
  }
  return *this;
}

Database::~Database() { close(); }

void Database::close() {
  finalize_tx_statements();
  if (cache_) {
    cache_->finalize_all();
    cache_->open = false;  // statements still lent out finalize themselves
    cache_.reset();
  }
  if (db_) sqlite3_close_v2(db_);
  db_ = nullptr;
}

void Database::finalize_tx_statements() {
  for (auto& st : tx_) {
    if (st) sqlite3_finalize(st);
    st = nullptr;
  }
}

Status Database::run_tx_statement(TxStatement which) {
  static constexpr const char* kSql[kTxStatements] = {"SAVEPOINT tram_tx", "RELEASE tram_tx", "ROLLBACK TO tram_tx",
                                                      "BEGIN IMMEDIATE",   "COMMIT",          "ROLLBACK"};
  sqlite3_stmt*& st = tx_[which];
  if (!st && sqlite3_prepare_v3(db_, kSql[which], -1, SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK) {
    return error(db_, kSql[which]);
  }
  const int rc = sqlite3_step(st);
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) return {Errc::storage_error, std::string(sqlite3_errmsg(db_)) + " in: " + kSql[which]};
  return {};
}

Status Database::exec(std::string_view sql) {
  const std::string s(sql);
  char* err = nullptr;
  if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return {Errc::storage_error, msg + " in: " + s.substr(0, 200)};
  }
  return {};
}

Result<Statement> Database::prepare(std::string_view sql) {
  if (!cache_) cache_ = std::make_shared<StatementCache>();
  auto [shelf, stmt] = cache_->take(sql);
  if (stmt) return Statement(db_, stmt, cache_, shelf);
  if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &stmt, nullptr) != SQLITE_OK) {
    cache_->forget(shelf);
    return error(db_, "prepare " + std::string(sql.substr(0, 200)));
  }
  return Statement(db_, stmt, cache_, shelf);
}

Status Database::copy_from(Database& from) {
  sqlite3_backup* b = sqlite3_backup_init(db_, "main", from.db_, "main");
  if (!b) return error(db_, "backup");
  sqlite3_backup_step(b, -1);
  if (sqlite3_backup_finish(b) != SQLITE_OK) return error(db_, "backup");
  return {};
}

int64_t Database::changes() const { return sqlite3_changes64(db_); }

Statement::Statement(Statement&& other) noexcept
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), cache_(std::move(other.cache_)), shelf_(other.shelf_) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    release();
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
    cache_ = std::move(other.cache_);
    shelf_ = other.shelf_;
  }
  return *this;
}

Statement::~Statement() { release(); }

void Statement::release() {
  if (!stmt_) return;
  sqlite3_stmt* st = std::exchange(stmt_, nullptr);
  if (cache_ && cache_->open) {
    // Reset ends the statement's read of the database (and releases its locks).
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    cache_->put(shelf_, st);
  } else {
    sqlite3_finalize(st);
  }
  cache_.reset();
}

void Statement::bind_null(int i) { sqlite3_bind_null(stmt_, i); }
void Statement::bind_int(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
void Statement::bind_real(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
void Statement::bind_text(int i, std::string_view v) {
  sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}
void Statement::bind_blob(int i, std::span<const uint8_t> v) {
  sqlite3_bind_blob64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT);
}

void Statement::bind_text_unowned(int i, std::string_view v) {
  sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8);
}
void Statement::bind_blob_unowned(int i, std::span<const uint8_t> v) {
  sqlite3_bind_blob64(stmt_, i, v.data(), v.size(), SQLITE_STATIC);
}

Result<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  Status st = error(db_, "step");
  sqlite3_reset(stmt_);
  return st;
}

Status Statement::run() {
  for (;;) {
    auto r = step();
    if (!r.ok()) return r.status();
    if (!*r) break;
  }
  sqlite3_reset(stmt_);
  return {};
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}
void Statement::rewind() { sqlite3_reset(stmt_); }

int Statement::column_count() const { return sqlite3_column_count(stmt_); }
int Statement::column_type(int i) const { return sqlite3_column_type(stmt_, i); }
bool Statement::column_is_null(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
int64_t Statement::column_int(int i) const { return sqlite3_column_int64(stmt_, i); }
double Statement::column_real(int i) const { return sqlite3_column_double(stmt_, i); }
std::string_view Statement::column_text(int i) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
  return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, i))) : std::string_view();
}
std::span<const uint8_t> Statement::column_blob(int i) const {
  auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, i));
  return p ? std::span<const uint8_t>(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, i)))
           : std::span<const uint8_t>();
}

Result<Transaction> Transaction::begin(Database& db) {
  const bool outer = db.immediate_ && sqlite3_get_autocommit(db.db_) != 0;
  if (outer) TRAM_RETURN_IF_ERROR(db.run_tx_statement(Database::kBeginImmediate));  // waits (busy timeout)
  if (Status st = db.run_tx_statement(Database::kSavepoint); !st.ok()) {
    if (outer) (void)db.run_tx_statement(Database::kRollback);
    return st;
  }
  return Transaction(&db, outer);
}

Transaction::Transaction(Transaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)), outer_(other.outer_) {}

Transaction::~Transaction() {
  if (db_) {
    // Roll back to the savepoint, then release it so it no longer holds the transaction open.
    (void)db_->run_tx_statement(Database::kRollbackTo);
    (void)db_->run_tx_statement(Database::kRelease);
    if (outer_) (void)db_->run_tx_statement(Database::kRollback);
  }
}

Status Transaction::commit() {
  Status st = db_->run_tx_statement(Database::kRelease);
  if (st.ok() && outer_) st = db_->run_tx_statement(Database::kCommit);
  if (st.ok()) db_ = nullptr;
  return st;
}

std::string quote_ident(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace tram::sql
