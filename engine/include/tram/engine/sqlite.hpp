// Thin RAII wrappers over the SQLite C API: one owner per handle, errors as Status.
// A Database is used by one thread at a time (SQLite's multi-thread mode); open one per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "tram/engine/status.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace tram::sql {

class Statement;
// Idle compiled statements of one connection, by SQL text (sqlite.cpp).
struct StatementCache;
struct StatementShelf;  // the cache's statements of one SQL text

class Database {
 public:
  // Opens (creating if needed) a database file in WAL mode with foreign keys on.
  // ":memory:" opens a private in-memory database.
  static Result<Database> open(const std::string& path);
  // Top-level transactions take the write lock when they begin (BEGIN IMMEDIATE) rather than at
  // their first write. For a connection that writes while other processes write too (the
  // server's writer, and `tram-server admin …` on the same file): a deferred transaction that
  // read first cannot take the lock once another connection committed after its read, and SQLite
  // fails it at once with "database is locked" (SQLITE_BUSY_SNAPSHOT) instead of waiting.
  void set_immediate_transactions(bool on) { immediate_ = on; }

  Database(Database&& other) noexcept;
  Database& operator=(Database&& other) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  // Runs one or more statements without results.
  Status exec(std::string_view sql);
  // Compiles one statement, or reuses an idle one of the same text: a Statement returns its
  // compiled form to the connection when destroyed (reset, bindings cleared). Compiling was a
  // tenth of the server's CPU under load (a device lookup per request). A Statement may
  // outlive its Database (it is then finalized, as sqlite3_close_v2 allows).
  Result<Statement> prepare(std::string_view sql);
  // Copies the whole content of `from` into this database (sqlite3_backup).
  Status copy_from(Database& from);
  int64_t changes() const;
  sqlite3* handle() const { return db_; }

 private:
  friend class Transaction;
  explicit Database(sqlite3* db) : db_(db) {}
  // Savepoint statements, prepared once: a transaction per change set would otherwise parse
  // its SAVEPOINT and RELEASE text every time.
  enum TxStatement { kSavepoint, kRelease, kRollbackTo, kBeginImmediate, kCommit, kRollback, kTxStatements };
  Status run_tx_statement(TxStatement which);
  void finalize_tx_statements();
  void close();
  sqlite3* db_ = nullptr;
  sqlite3_stmt* tx_[kTxStatements] = {};
  std::shared_ptr<StatementCache> cache_;  // shared with the Statements it lent
  bool immediate_ = false;
};

class Statement {
 public:
  Statement() = default;  // empty until assigned from Database::prepare
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  // Parameters are 1-based, as in SQLite. Text and blobs are copied (SQLITE_TRANSIENT).
  void bind_null(int i);
  void bind_int(int i, int64_t v);
  void bind_real(int i, double v);
  void bind_text(int i, std::string_view v);
  void bind_blob(int i, std::span<const uint8_t> v);
  // Without the copy: the caller keeps `v` alive until the statement has run. For hot paths
  // that bind every parameter before each run (see rewind()).
  void bind_text_unowned(int i, std::string_view v);
  void bind_blob_unowned(int i, std::span<const uint8_t> v);

  // Steps once: true when a row is ready, false when done. Errors become Status.
  Result<bool> step();
  // Steps to completion (for statements without results).
  Status run();
  void reset();   // resets and clears bindings
  void rewind();  // resets, keeping bindings: for a caller that binds every parameter again

  int column_count() const;
  int column_type(int i) const;  // SQLITE_INTEGER, SQLITE_TEXT, … (0-based)
  bool column_is_null(int i) const;
  int64_t column_int(int i) const;
  double column_real(int i) const;
  std::string_view column_text(int i) const;
  std::span<const uint8_t> column_blob(int i) const;

 private:
  friend class Database;
  Statement(sqlite3* db, sqlite3_stmt* stmt, std::shared_ptr<StatementCache> cache, StatementShelf* shelf)
      : db_(db), stmt_(stmt), cache_(std::move(cache)), shelf_(shelf) {}
  void release();  // back to the cache, or finalized
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
  std::shared_ptr<StatementCache> cache_;
  StatementShelf* shelf_ = nullptr;  // where it goes back: the shelf of the caller's SQL text
};

// A savepoint that rolls back unless committed. Nests inside an enclosing transaction
// (then commit() only releases the savepoint), or acts as BEGIN … COMMIT at top level.
class Transaction {
 public:
  static Result<Transaction> begin(Database& db);
  Transaction(Transaction&& other) noexcept;
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  Status commit();

 private:
  Transaction(Database* db, bool outer) : db_(db), outer_(outer) {}
  Database* db_;
  bool outer_;  // began with BEGIN IMMEDIATE: ends with COMMIT or ROLLBACK
};

// Double-quotes an identifier for SQL ("a""b").
std::string quote_ident(std::string_view name);

}  // namespace tram::sql
