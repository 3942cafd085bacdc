// SqliteStorage, opening and the administrative writes: the _srv_* tables (created here),
// users, enrolment codes and enrolment, device states, attachments received. The writer's batch
// (the hash-chained log, chain heads, row versions) is in sqlite_log.cpp; upkeep (background
// checkpoints, integrity checks, backups) in sqlite_maintenance.cpp; the readers in
// sqlite_reads.cpp.
#include "sqlite_storage.hpp"

#include "sqlite_rows.hpp"

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
  // The log keeps every device's chain (unique on device and seq), and the writer applies only
  // the next change set of a chain.
  s->store_->keep_chains_outside();
  // The server's writer and `tram-server admin …` write the same file: see set_immediate_transactions.
  s->store_->db().set_immediate_transactions(true);
  // Statement journals (the savepoint each change set is applied under) in memory, not in a
  // file created and unlinked in /var/tmp for every push: a few KiB, and 5 system calls fewer
  // per request on the writer's critical path (bench/loadgen, 1 change set per request).
  TRAM_RETURN_IF_ERROR(s->store_->db().exec("PRAGMA temp_store=MEMORY"));
  TRAM_RETURN_IF_ERROR(s->init());
  return s;
}

Status SqliteStorage::init() {
  TRAM_RETURN_IF_ERROR(db().exec(
      "CREATE TABLE IF NOT EXISTS _srv_users (id TEXT PRIMARY KEY NOT NULL, role TEXT NOT NULL,"
      " units TEXT NOT NULL, all_units INTEGER NOT NULL, name TEXT NOT NULL DEFAULT '');"
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
  {
    // Databases from before users had a display name.
    auto has_name = db().prepare("SELECT 1 FROM pragma_table_info('_srv_users') WHERE name = 'name'");
    if (!has_name.ok()) return has_name.status();
    auto found = has_name->step();
    if (!found.ok()) return found.status();
    if (!*found) TRAM_RETURN_IF_ERROR(db().exec("ALTER TABLE _srv_users ADD COLUMN name TEXT NOT NULL DEFAULT ''"));
  }
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
      "INSERT INTO _srv_users(id, role, units, all_units, name) VALUES (?, ?, ?, ?, ?)"
      " ON CONFLICT(id) DO UPDATE SET role = excluded.role, units = excluded.units, all_units = excluded.all_units,"
      " name = excluded.name");
  if (!st.ok()) return st.status();
  st->bind_text(1, u.id);
  st->bind_text(2, role_name(u.role));
  st->bind_text(3, join(u.units));
  st->bind_int(4, u.all_units ? 1 : 0);
  st->bind_text(5, u.name);
  return st->run();
}

Status SqliteStorage::delete_user(const std::string& id) {
  auto tx = sql::Transaction::begin(db());
  if (!tx.ok()) return tx.status();
  auto del = db().prepare("DELETE FROM _srv_users WHERE id = ?");
  if (!del.ok()) return del.status();
  del->bind_text(1, id);
  TRAM_RETURN_IF_ERROR(del->run());
  if (db().changes() == 0) return {Errc::not_found, "no such user " + id};
  for (const char* sql : {"UPDATE _srv_devices SET state = 'revoked' WHERE user = ?",
                          "DELETE FROM _srv_codes WHERE user = ? AND used_by IS NULL"}) {
    auto st = db().prepare(sql);
    if (!st.ok()) return st.status();
    st->bind_text(1, id);
    TRAM_RETURN_IF_ERROR(st->run());
  }
  return tx->commit();
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

Result<uint64_t> SqliteStorage::row_version() { return row_version_on(db()); }

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

}  // namespace tram::server
