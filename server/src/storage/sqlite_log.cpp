// SqliteStorage, the writer's batch: begin, record (merge an accepted change set, bump the row
// versions it touches, note the attachments it names, append its entry to the hash-chained log,
// which moves its device's chain head), commit; and the writer's reads of the log and of chain heads
// inside its transaction.
#include "sqlite_rows.hpp"
#include "sqlite_storage.hpp"

namespace tram::server {
using namespace sqlite_rows;

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
  TRAM_RETURN_IF_ERROR(st->run());  // and so the device's chain head moves (kDeviceColumns)
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

}  // namespace tram::server
