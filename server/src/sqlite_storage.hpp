// Storage on SQLite (WAL, synchronous=FULL) in one file of the data directory: the engine's
// replica tables and the server's own (_srv_*), so a batch's log entries and merged rows
// commit in one transaction.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "storage.hpp"

namespace tram::server {

class SqliteStorage final : public Storage {
 public:
  static Result<std::unique_ptr<SqliteStorage>> open(const std::string& path, const Schema& schema);
  ~SqliteStorage() override;

  // For a serving process: WAL checkpoints move from the writer's commits to a thread of their
  // own with its own connection, so the single writer (which holds the push lock) never copies
  // the WAL back into the database itself — unless the WAL outgrows a hard bound because
  // writes never pause (then the writer checkpoints, as SQLite would by default).
  Status start_background_checkpoints();

  Status create_user(const UserRecord& user) override;
  Result<std::optional<UserRecord>> user(const std::string& id) override;
  Status add_enrolment_code(const Hash& code_hash, const std::string& user, int64_t expires_ms) override;
  Result<DeviceRecord> enrol(const Hash& code_hash, const PublicKey& key, int64_t now_ms) override;
  Result<std::optional<DeviceRecord>> device(const PublicKey& key) override;
  Result<std::vector<DeviceRecord>> devices() override;
  Status set_device_state(const PublicKey& key, DeviceState state) override;
  Result<std::optional<Hash>> chain_at(const PublicKey& device, uint64_t seq) override;
  Result<std::optional<LogEntry>> log_entry(const PublicKey& device, uint64_t seq) override;
  Result<LogHead> head() override;
  Status keep_fork(const PublicKey& device, const SignedChangeSet& cs) override;
  Store& replica() override { return *store_; }
  Status begin() override;
  Result<LogEntry> record(const Decision& d, int64_t now_ms) override;
  Status commit() override;
  void rollback() override;
  Result<std::vector<RowVersion>> changed_rows(uint64_t after, size_t limit) override;
  Result<uint64_t> row_version() override;
  Result<std::vector<AttachmentUse>> attachment_uses(const Hash& hash) override;
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
  Result<std::optional<DeviceRecord>> read_device(sql::Statement& st);

  std::unique_ptr<Store> store_;
  std::optional<sql::Transaction> tx_;
  std::optional<sql::Statement> rowver_, log_insert_, head_update_, attachment_use_;
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
