#include "sqlite_storage.hpp"

#include "sqlite_rows.hpp"

#include <sqlite3.h>

#include <algorithm>

namespace tram::server {
using namespace sqlite_rows;

std::string_view device_state_name(DeviceState s) {
  switch (s) {
    case DeviceState::active: return "active";
    case DeviceState::revoked: return "revoked";
    case DeviceState::quarantined: return "quarantined";
  }
  return "?";
}

Result<std::unique_ptr<SqliteStorage>> SqliteStorage::open(const std::string& path, const Schema& schema) {
  auto store = Store::open(path, schema);
  if (!store.ok()) return store.status();
  std::unique_ptr<SqliteStorage> s(new SqliteStorage(std::move(store).value()));
  s->path_ = path;
  s->schema_ = &s->store_->schema();
  TRAM_RETURN_IF_ERROR(s->init());
  return s;
}

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

Status SqliteStorage::init() {
  TRAM_RETURN_IF_ERROR(db().exec(
      "CREATE TABLE IF NOT EXISTS _srv_users (id TEXT PRIMARY KEY NOT NULL, role TEXT NOT NULL,"
      " units TEXT NOT NULL, all_units INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS _srv_codes (hash BLOB PRIMARY KEY NOT NULL, user TEXT NOT NULL,"
      " expires_ms INTEGER NOT NULL, used_by BLOB);"
      "CREATE TABLE IF NOT EXISTS _srv_devices (key BLOB PRIMARY KEY NOT NULL, user TEXT NOT NULL,"
      " state TEXT NOT NULL, head_seq INTEGER NOT NULL, head_id BLOB NOT NULL, enrolled_ms INTEGER NOT NULL);"
      "CREATE TABLE IF NOT EXISTS _srv_log (server_seq INTEGER PRIMARY KEY, device BLOB NOT NULL,"
      " seq INTEGER NOT NULL, id BLOB NOT NULL, accepted INTEGER NOT NULL, code TEXT NOT NULL,"
      " message TEXT NOT NULL, received_ms INTEGER NOT NULL, clock_ahead INTEGER NOT NULL,"
      " log_hash BLOB NOT NULL, bytes BLOB NOT NULL, sig BLOB NOT NULL);"
      "CREATE UNIQUE INDEX IF NOT EXISTS _srv_log_chain ON _srv_log(device, seq);"
      "CREATE TABLE IF NOT EXISTS _srv_rowver (tbl TEXT NOT NULL, row_id TEXT NOT NULL,"
      " version INTEGER NOT NULL, PRIMARY KEY (tbl, row_id)) WITHOUT ROWID;"
      "CREATE INDEX IF NOT EXISTS _srv_rowver_version ON _srv_rowver(version);"
      "CREATE TABLE IF NOT EXISTS _srv_forks (device BLOB NOT NULL, bytes BLOB NOT NULL, sig BLOB NOT NULL);"
      "CREATE TABLE IF NOT EXISTS _srv_attachment_uses (hash BLOB NOT NULL, tbl TEXT NOT NULL, row_id TEXT NOT NULL,"
      " PRIMARY KEY (hash, tbl, row_id)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS _srv_attachments (hash BLOB PRIMARY KEY NOT NULL, size INTEGER NOT NULL,"
      " received_ms INTEGER NOT NULL) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS _srv_meta (k TEXT PRIMARY KEY NOT NULL, v INTEGER NOT NULL) WITHOUT ROWID;"));
  auto prep = [&](std::optional<sql::Statement>& slot, std::string_view q) -> Status {
    auto p = db().prepare(q);
    if (!p.ok()) return p.status();
    slot.emplace(std::move(p).value());
    return {};
  };
  TRAM_RETURN_IF_ERROR(prep(rowver_, "INSERT INTO _srv_rowver(tbl, row_id, version) VALUES (?, ?, ?)"
                                     " ON CONFLICT(tbl, row_id) DO UPDATE SET version = excluded.version"));
  TRAM_RETURN_IF_ERROR(prep(log_insert_, "INSERT INTO _srv_log(server_seq, device, seq, id, accepted, code, message,"
                                         " received_ms, clock_ahead, log_hash, bytes, sig)"
                                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  TRAM_RETURN_IF_ERROR(prep(head_update_, "UPDATE _srv_devices SET head_seq = ?, head_id = ? WHERE key = ?"));
  TRAM_RETURN_IF_ERROR(prep(attachment_use_, "INSERT OR IGNORE INTO _srv_attachment_uses(hash, tbl, row_id) VALUES (?, ?, ?)"));
  return reload_counters();
}

// The log head and the row-version counter as the database holds them. Re-read at the start of
// every write transaction: an admin command (import-bundle, seed) in another process may have
// appended to the log since, and a cached head would then collide with its entries.
Status SqliteStorage::reload_counters() {
  auto h = head_on(db());
  if (!h.ok()) return h.status();
  head_ = *h;
  auto rv = row_version();
  if (!rv.ok()) return rv.status();
  row_version_ = *rv;
  return {};
}

Status SqliteStorage::create_user(const UserRecord& u) {
  auto st = db().prepare(
      "INSERT INTO _srv_users(id, role, units, all_units) VALUES (?, ?, ?, ?)"
      " ON CONFLICT(id) DO UPDATE SET role = excluded.role, units = excluded.units, all_units = excluded.all_units");
  if (!st.ok()) return st.status();
  st->bind_text(1, u.id);
  st->bind_text(2, role_name(u.role));
  st->bind_text(3, join(u.units));
  st->bind_int(4, u.all_units ? 1 : 0);
  return st->run();
}

Status SqliteStorage::add_enrolment_code(const Hash& code_hash, const std::string& user, int64_t expires_ms) {
  auto st = db().prepare("INSERT INTO _srv_codes(hash, user, expires_ms) VALUES (?, ?, ?)");
  if (!st.ok()) return st.status();
  st->bind_blob(1, code_hash);
  st->bind_text(2, user);
  st->bind_int(3, expires_ms);
  return st->run();
}

Result<DeviceRecord> SqliteStorage::enrol(const Hash& code_hash, const PublicKey& key, int64_t now_ms) {
  auto tx = sql::Transaction::begin(db());
  if (!tx.ok()) return tx.status();
  // The key first: a device retrying after a lost answer learns it is enrolled already.
  auto existing = device_on(db(), key);
  if (!existing.ok()) return existing.status();
  if (*existing) return Status(Errc::duplicate, "this device key is already enrolled");
  auto st = db().prepare("SELECT user, expires_ms, used_by FROM _srv_codes WHERE hash = ?");
  if (!st.ok()) return st.status();
  st->bind_blob(1, code_hash);
  auto has = st->step();
  if (!has.ok()) return has.status();
  if (!*has) return Status(Errc::not_found, "unknown enrolment code");
  const std::string user(st->column_text(0));
  if (!st->column_is_null(2)) return Status(Errc::duplicate, "enrolment code already used");
  if (st->column_int(1) < now_ms) return Status(Errc::invalid_value, "enrolment code expired");
  st->reset();
  auto use = db().prepare("UPDATE _srv_codes SET used_by = ? WHERE hash = ?");
  if (!use.ok()) return use.status();
  use->bind_blob(1, key);
  use->bind_blob(2, code_hash);
  TRAM_RETURN_IF_ERROR(use->run());
  auto ins = db().prepare(
      "INSERT INTO _srv_devices(key, user, state, head_seq, head_id, enrolled_ms) VALUES (?, ?, 'active', 0, ?, ?)");
  if (!ins.ok()) return ins.status();
  const Hash zero{};
  ins->bind_blob(1, key);
  ins->bind_text(2, user);
  ins->bind_blob(3, zero);
  ins->bind_int(4, now_ms);
  TRAM_RETURN_IF_ERROR(ins->run());
  TRAM_RETURN_IF_ERROR(tx->commit());
  return DeviceRecord{key, user, DeviceState::active, {}, now_ms};
}

Status SqliteStorage::set_device_state(const PublicKey& key, DeviceState state) {
  auto st = db().prepare("UPDATE _srv_devices SET state = ? WHERE key = ?");
  if (!st.ok()) return st.status();
  st->bind_text(1, device_state_name(state));
  st->bind_blob(2, key);
  TRAM_RETURN_IF_ERROR(st->run());
  if (db().changes() == 0) return {Errc::not_found, "no such device"};
  return {};
}

Result<std::optional<Hash>> SqliteStorage::chain_at(const PublicKey& device, uint64_t seq) {
  auto st = db().prepare("SELECT id FROM _srv_log WHERE device = ? AND seq = ?");
  if (!st.ok()) return st.status();
  st->bind_blob(1, device);
  st->bind_int(2, static_cast<int64_t>(seq));
  auto has = st->step();
  if (!has.ok()) return has.status();
  if (!*has) return std::optional<Hash>();
  return std::optional<Hash>(blob<32>(*st, 0));
}

Result<std::optional<LogEntry>> SqliteStorage::log_entry(const PublicKey& device, uint64_t seq) {
  auto st = db().prepare(
      "SELECT server_seq, device, seq, id, accepted, code, message, received_ms, clock_ahead, log_hash"
      " FROM _srv_log WHERE device = ? AND seq = ?");
  if (!st.ok()) return st.status();
  st->bind_blob(1, device);
  st->bind_int(2, static_cast<int64_t>(seq));
  auto has = st->step();
  if (!has.ok()) return has.status();
  if (!*has) return std::optional<LogEntry>();
  LogEntry e;
  e.server_seq = static_cast<uint64_t>(st->column_int(0));
  e.device = blob<32>(*st, 1);
  e.seq = static_cast<uint64_t>(st->column_int(2));
  e.id = blob<32>(*st, 3);
  e.accepted = st->column_int(4) != 0;
  e.code = st->column_text(5);
  e.message = st->column_text(6);
  e.received_ms = st->column_int(7);
  e.clock_ahead = st->column_int(8) != 0;
  e.log_hash = blob<32>(*st, 9);
  return std::optional<LogEntry>(std::move(e));
}

Result<LogHead> SqliteStorage::head() {
  // Another process (an admin command) may have appended; on a read error keep the last head.
  if (!tx_) (void)reload_counters();
  return head_;
}

Result<uint64_t> SqliteStorage::row_version() { return row_version_on(db()); }

Result<std::optional<ChainHead>> SqliteStorage::chain_head(const PublicKey& device) {
  auto d = device_on(db(), device);
  if (!d.ok()) return d.status();
  if (!*d) return std::optional<ChainHead>();
  return std::optional<ChainHead>((*d)->head);
}

Status SqliteStorage::keep_fork(const PublicKey& device, const SignedChangeSet& cs) {
  auto st = db().prepare("INSERT INTO _srv_forks(device, bytes, sig) VALUES (?, ?, ?)");
  if (!st.ok()) return st.status();
  st->bind_blob(1, device);
  st->bind_blob(2, std::span(reinterpret_cast<const uint8_t*>(cs.bytes.data()), cs.bytes.size()));
  st->bind_blob(3, cs.sig);
  return st->run();
}

Status SqliteStorage::begin() {
  auto tx = sql::Transaction::begin(db());
  if (!tx.ok()) return tx.status();
  tx_.emplace(std::move(tx).value());
  if (Status st = reload_counters(); !st.ok()) {
    tx_.reset();
    return st;
  }
  pending_head_ = head_;
  pending_row_version_ = row_version_;
  return {};
}

Result<LogEntry> SqliteStorage::record(const Decision& d, int64_t now_ms) {
  LogEntry e;
  e.server_seq = pending_head_.server_seq + 1;
  e.device = d.cs->device;
  e.seq = d.cs->seq;
  e.id = d.id;
  e.accepted = d.accept;
  e.code = d.code;
  e.message = d.message;
  e.received_ms = now_ms;
  e.clock_ahead = d.clock == ClockTrust::ahead;
  if (d.accept) {
    ApplyItem item{d.cs, d.id, d.clock};
    auto r = store_->apply({&item, 1});  // a savepoint: on failure nothing of it stays
    if (!r.ok() && r.code() == Errc::storage_error) return r.status();
    if (!r.ok()) {
      // The schema refused what authorization let through (e.g. a newer schema version):
      // the change set stays in its chain as rejected.
      e.accepted = false;
      e.code = errc_name(r.code());
      e.message = r.status().message();
    } else {
      auto& rv = rowver_;
      for (const Op& op : d.cs->ops) {
        rv->reset();
        rv->bind_text(1, op.table);
        rv->bind_text(2, op.row);
        rv->bind_int(3, static_cast<int64_t>(++pending_row_version_));
        TRAM_RETURN_IF_ERROR(rv->run());
        for (const FieldWrite& w : op.fields) {
          if (const auto* a = std::get_if<AttachmentRef>(&w.value)) {
            attachment_use_->reset();
            attachment_use_->bind_blob(1, a->hash);
            attachment_use_->bind_text(2, op.table);
            attachment_use_->bind_text(3, op.row);
            TRAM_RETURN_IF_ERROR(attachment_use_->run());
          }
        }
      }
    }
  }
  {
    std::string link(pending_head_.log_hash.begin(), pending_head_.log_hash.end());
    for (int i = 7; i >= 0; --i) link.push_back(static_cast<char>(e.server_seq >> (8 * i)));
    link.append(e.id.begin(), e.id.end());
    link.push_back(e.accepted ? 'a' : 'r');
    e.log_hash = blake2b_256(link);
  }
  auto& st = log_insert_;
  st->reset();
  st->bind_int(1, static_cast<int64_t>(e.server_seq));
  st->bind_blob(2, e.device);
  st->bind_int(3, static_cast<int64_t>(e.seq));
  st->bind_blob(4, e.id);
  st->bind_int(5, e.accepted ? 1 : 0);
  st->bind_text(6, e.code);
  st->bind_text(7, e.message);
  st->bind_int(8, e.received_ms);
  st->bind_int(9, e.clock_ahead ? 1 : 0);
  st->bind_blob(10, e.log_hash);
  const std::string& bytes = d.stored_bytes ? *d.stored_bytes : d.signed_cs->bytes;
  st->bind_blob(11, std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  st->bind_blob(12, d.signed_cs->sig);
  TRAM_RETURN_IF_ERROR(st->run());
  auto& dev = head_update_;
  dev->reset();
  dev->bind_int(1, static_cast<int64_t>(e.seq));
  dev->bind_blob(2, e.id);
  dev->bind_blob(3, e.device);
  TRAM_RETURN_IF_ERROR(dev->run());
  pending_head_ = LogHead{e.server_seq, e.log_hash};
  return e;
}

Status SqliteStorage::commit() {
  if (!tx_) return {Errc::invalid_argument, "commit without begin"};
  Status st = tx_->commit();
  tx_.reset();
  if (st.ok()) {
    head_ = pending_head_;
    row_version_ = pending_row_version_;
  }
  return st;
}

void SqliteStorage::rollback() { tx_.reset(); }

Result<std::vector<AttachmentUse>> SqliteStorage::missing_attachments() {
  auto st = db().prepare(
      "SELECT u.hash, u.tbl, u.row_id FROM _srv_attachment_uses u"
      " WHERE NOT EXISTS (SELECT 1 FROM _srv_attachments a WHERE a.hash = u.hash) ORDER BY u.tbl, u.row_id");
  if (!st.ok()) return st.status();
  return read_uses(*st);
}

Status SqliteStorage::mark_attachment_received(const Hash& hash, uint64_t size, int64_t now_ms) {
  auto st = db().prepare("INSERT OR IGNORE INTO _srv_attachments(hash, size, received_ms) VALUES (?, ?, ?)");
  if (!st.ok()) return st.status();
  st->bind_blob(1, hash);
  st->bind_int(2, static_cast<int64_t>(size));
  st->bind_int(3, now_ms);
  return st->run();
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
