#include "tram/engine/sqlite.hpp"

#include <sqlite3.h>

#include <iterator>
#include <list>
#include <string>
#include <unordered_map>
#include <utility>

namespace tram::sql {
namespace {

Status error(sqlite3* db, std::string_view what) {
  std::string msg(what);
  msg += ": ";
  msg += db ? sqlite3_errmsg(db) : "out of memory";
  return {Errc::storage_error, std::move(msg)};
}

}  // namespace

// Idle statements, newest first. Keyed by the caller's SQL text, which the lent Statement keeps
// (moved, not copied): sqlite3_sql()'s text can differ from it (a trailing ';' or space). Full,
// the oldest is finalized, so SQL built with values inside it cannot crowd out the hot
// statements for good. Several idle copies of one text may exist (a statement used nested).
struct StatementCache {
  static constexpr size_t kMaxIdle = 256;
  struct Entry {
    std::string sql;
    sqlite3_stmt* stmt;
  };
  bool open = true;  // false once the Database closed
  std::list<Entry> idle;  // front: most recently returned
  std::unordered_multimap<std::string_view, std::list<Entry>::iterator> by_sql;  // views into idle

  // The idle statement for `sql`, taken out of the cache (its text moved into *sql_out).
  sqlite3_stmt* take(std::string_view sql, std::string* sql_out) {
    const auto it = by_sql.find(sql);
    if (it == by_sql.end()) return nullptr;
    const auto entry = it->second;
    by_sql.erase(it);
    *sql_out = std::move(entry->sql);
    sqlite3_stmt* st = entry->stmt;
    idle.erase(entry);
    return st;
  }
  void put(std::string sql, sqlite3_stmt* st) {
    idle.push_front({std::move(sql), st});
    by_sql.emplace(idle.front().sql, idle.begin());
    if (idle.size() > kMaxIdle) evict_oldest();
  }
  void evict_oldest() {
    const auto last = std::prev(idle.end());
    for (auto [i, end] = by_sql.equal_range(last->sql); i != end; ++i) {
      if (i->second == last) {
        by_sql.erase(i);
        break;
      }
    }
    sqlite3_finalize(last->stmt);
    idle.erase(last);
  }
  void finalize_all() {
    for (auto& e : idle) sqlite3_finalize(e.stmt);
    by_sql.clear();
    idle.clear();
  }
};

Result<Database> Database::open(const std::string& path) {
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
  std::string text;
  if (sqlite3_stmt* stmt = cache_->take(sql, &text)) return Statement(db_, stmt, cache_, std::move(text));
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                         &stmt, nullptr) != SQLITE_OK) {
    return error(db_, "prepare " + std::string(sql.substr(0, 200)));
  }
  return Statement(db_, stmt, cache_, std::string(sql));
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
    : db_(other.db_), stmt_(std::exchange(other.stmt_, nullptr)), cache_(std::move(other.cache_)), sql_(std::move(other.sql_)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    release();
    db_ = other.db_;
    stmt_ = std::exchange(other.stmt_, nullptr);
    cache_ = std::move(other.cache_);
    sql_ = std::move(other.sql_);
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
    cache_->put(std::move(sql_), st);
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
