// Storage on SQLite (WAL, synchronous=FULL) in one file of the data directory: the engine's
// replica tables and the server's own (_srv_*), so a batch's log entries and merged rows
// commit in one transaction. One writer connection; readers (devices, users, snapshots) borrow
// one of a few read connections of their own (WAL: readers and the writer never block each
// other). Opening, the _srv_* tables and the administrative writes are in sqlite_storage.cpp,
// the writer's batch and the log in sqlite_log.cpp, upkeep (checkpoints, checks, backups) in
// sqlite_maintenance.cpp, the readers in sqlite_reads.cpp. The replica is the engine's Store on
// the same connections: record() merges with Store::apply, and rows() (the writer's) and each
// snapshot's rows() are Stores read as RowReaders.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "storage.hpp"
#include "tram/engine/store.hpp"

namespace tram::server {

class SqliteStorage final : public Storage {
 public:
  static Result<std::unique_ptr<SqliteStorage>> open(const std::string& path, const Schema& schema);
  // Whether the database file at `path` (a backup about to be restored) passes a quick check:
  // the open's own error, or storage_error "quick_check failed" (not a database, or damaged).
  static Status check_file(const std::string& path);
  ~SqliteStorage() override;

  // For a serving process: WAL checkpoints move from the writer's commits to a thread of their
  // own with its own connection, so the single writer (which holds the push lock) never copies
  // the WAL back into the database itself — unless the WAL outgrows a hard bound because
  // writes never pause (then the writer checkpoints, as SQLite would by default).
  Status start_background_checkpoints();

  Status create_user(const UserRecord& user) override;
  Status delete_user(const std::string& id) override;
  Result<std::optional<UserRecord>> user(const std::string& id) override;
  Result<std::vector<UserRecord>> users() override;
  Status add_enrolment_code(const Hash& code_hash, const std::string& user, int64_t expires_ms) override;
  Result<DeviceRecord> enrol(const Hash& code_hash, const PublicKey& key, int64_t now_ms) override;
  Result<std::optional<DeviceRecord>> device(const PublicKey& key) override;
  Result<std::vector<DeviceRecord>> devices() override;
  Result<std::unique_ptr<ReadSnapshot>> read_snapshot() override;
  Result<std::optional<ChainHead>> chain_head(const PublicKey& device) override;
  Status set_device_state(const PublicKey& key, DeviceState state) override;
  Result<std::optional<Hash>> chain_at(const PublicKey& device, uint64_t seq) override;
  Result<std::optional<LogEntry>> log_entry(const PublicKey& device, uint64_t seq) override;
  Result<LogHead> head() override;
  Status keep_fork(const PublicKey& device, const SignedChangeSet& cs) override;
  RowReader& rows() override { return *store_; }
  Status begin() override;
  Result<LogEntry> record(const Decision& d, int64_t now_ms) override;
  Status commit() override;
  void rollback() override;
  Result<uint64_t> row_version() override;
  Result<std::vector<AttachmentUse>> missing_attachments() override;
  Status mark_attachment_received(const Hash& hash, uint64_t size, int64_t now_ms) override;
  Status backup(const std::string& path) override;
  Status check_integrity() override;
  Status raise_row_version(uint64_t floor) override;
  void checkpoint() override;

 private:
  explicit SqliteStorage(std::unique_ptr<Store> store) : store_(std::move(store)) {}
  Status init();
  sql::Database& db() { return store_->db(); }

  // Read connections, opened on first use, at most kMaxReaders (more callers wait for one).
  class Reader;
  class Snapshot;
  static constexpr size_t kMaxReaders = 4;
  Result<std::unique_ptr<Store>> borrow_reader();
  void give_back(std::unique_ptr<Store> reader);
  std::mutex readers_mu_;
  std::condition_variable readers_cv_;
  std::vector<std::unique_ptr<Store>> idle_readers_;
  size_t open_readers_ = 0;
  const Schema* schema_ = nullptr;

  std::unique_ptr<Store> store_;
  std::optional<sql::Transaction> tx_;
  std::optional<sql::Statement> rowver_, log_insert_, attachment_use_;
  Status reload_counters();
  LogHead head_, pending_head_;
  uint64_t row_version_ = 0, pending_row_version_ = 0;

  std::string path_;
  std::thread checkpointer_;
  std::mutex ckpt_mu_;
  std::condition_variable ckpt_cv_;
  bool ckpt_wanted_ = false, ckpt_stop_ = false;
  static int on_wal_commit(void* self, struct sqlite3* db, const char* name, int pages);
};

}  // namespace tram::server
