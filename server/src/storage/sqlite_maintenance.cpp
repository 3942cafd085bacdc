// SqliteStorage, upkeep: WAL checkpoints on a thread of their own while serving, the quick check
// before serving (and of a backup before it is restored), the row-version floor after the log went
// backwards, online backups.
#include <sqlite3.h>

#include <memory>

#include "sqlite_storage.hpp"

namespace tram::server {

namespace {
// WAL pages (4 KiB) after which the checkpointer is woken, and after which the writer copies
// the WAL back itself because the checkpointer could not catch up (writes never paused).
constexpr int kCheckpointPages = 4000;
constexpr int kWriterCheckpointPages = 64000;
}  // namespace

SqliteStorage::~SqliteStorage() {
  if (checkpointer_.joinable()) {
    {
      std::lock_guard lock(ckpt_mu_);
      ckpt_stop_ = true;
    }
    ckpt_cv_.notify_one();
    checkpointer_.join();
    sqlite3_wal_hook(db().handle(), nullptr, nullptr);
  }
}

int SqliteStorage::on_wal_commit(void* self, sqlite3* db, const char* name, int pages) {
  auto* s = static_cast<SqliteStorage*>(self);
  if (pages >= kWriterCheckpointPages) {
    // The checkpointer has already copied most frames; this finishes them so the WAL restarts.
    sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (pages >= kCheckpointPages) {
    {
      std::lock_guard lock(s->ckpt_mu_);
      s->ckpt_wanted_ = true;
    }
    s->ckpt_cv_.notify_one();
  }
  return SQLITE_OK;
}

Status SqliteStorage::start_background_checkpoints() {
  if (checkpointer_.joinable()) return {};
  auto conn = sql::Database::open(path_);
  if (!conn.ok()) return conn.status();
  // Replaces SQLite's own auto-checkpoint, which is itself a WAL hook.
  sqlite3_wal_hook(db().handle(), &SqliteStorage::on_wal_commit, this);
  checkpointer_ = std::thread([this, c = std::make_shared<sql::Database>(std::move(conn).value())] {
    std::unique_lock lock(ckpt_mu_);
    for (;;) {
      ckpt_cv_.wait(lock, [&] { return ckpt_wanted_ || ckpt_stop_; });
      if (ckpt_stop_) return;
      ckpt_wanted_ = false;
      lock.unlock();
      // PASSIVE: copies what it can without blocking the writer or readers.
      sqlite3_wal_checkpoint_v2(c->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      lock.lock();
    }
  });
  return {};
}

Status SqliteStorage::check_file(const std::string& path) {
  auto db = sql::Database::open(path);
  if (!db.ok()) return db.status();
  auto st = db->prepare("PRAGMA quick_check");
  auto has = st.ok() ? st->step() : Result<bool>(st.status());
  if (!has.ok() || !*has || st->column_text(0) != "ok") return {Errc::storage_error, "quick_check failed"};
  return {};
}

Status SqliteStorage::check_integrity() {
  auto st = db().prepare("PRAGMA quick_check");
  if (!st.ok()) return st.status();
  std::string problems;
  for (int n = 0; n < 10; ++n) {
    auto has = st->step();
    if (!has.ok()) return has.status();
    if (!*has) break;
    const std::string line(st->column_text(0));
    if (line == "ok") return {};
    problems += (problems.empty() ? "" : "; ") + line;
  }
  return {Errc::storage_error, "the database is damaged (quick_check: " + problems + ")"};
}

Status SqliteStorage::raise_row_version(uint64_t floor) {
  auto st = db().prepare("INSERT INTO _srv_meta(k, v) VALUES ('row_version_floor', ?1)"
                         " ON CONFLICT(k) DO UPDATE SET v = MAX(v, excluded.v)");
  if (!st.ok()) return st.status();
  st->bind_int(1, static_cast<int64_t>(floor));
  TRAM_RETURN_IF_ERROR(st->run());
  return reload_counters();
}

void SqliteStorage::checkpoint() {
  sqlite3_wal_checkpoint_v2(db().handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
}

Status SqliteStorage::backup(const std::string& path) {
  auto target = sql::Database::open(path);
  if (!target.ok()) return target.status();
  return target->copy_from(db());
}

}  // namespace tram::server
