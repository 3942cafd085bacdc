// SqliteStorage's readers: devices, users and read snapshots on read connections of their own,
// so that no read waits for the writer (WAL: a reader sees the last commit, the writer goes on).
#include <map>
#include <utility>

#include "tram/engine/gzip.hpp"
#include "sqlite_rows.hpp"
#include "sqlite_storage.hpp"

namespace tram::server {
namespace sqlite_rows {

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::vector<std::string> split(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string_view::npos) end = s.size();
    if (end > start) out.emplace_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

namespace {
DeviceState state_from(std::string_view s) {
  if (s == "revoked") return DeviceState::revoked;
  if (s == "quarantined") return DeviceState::quarantined;
  return DeviceState::active;
}
}  // namespace

Result<std::optional<DeviceRecord>> next_device(sql::Statement& st) {
  auto has = st.step();
  if (!has.ok()) return has.status();
  if (!*has) return std::optional<DeviceRecord>();
  DeviceRecord d;
  d.key = blob<32>(st, 0);
  d.user = st.column_text(1);
  d.state = state_from(st.column_text(2));
  d.head = ChainHead{static_cast<uint64_t>(st.column_int(3)), blob<32>(st, 4)};
  d.enrolled_ms = st.column_int(5);
  return std::optional<DeviceRecord>(std::move(d));
}

Result<std::optional<DeviceRecord>> device_on(sql::Database& db, const PublicKey& key) {
  auto st = db.prepare(std::string(kDeviceColumns) + " WHERE key = ?");
  if (!st.ok()) return st.status();
  st->bind_blob(1, key);
  return next_device(*st);
}

Result<std::vector<AttachmentUse>> read_uses(sql::Statement& st) {
  std::vector<AttachmentUse> out;
  for (;;) {
    auto has = st.step();
    if (!has.ok()) return has.status();
    if (!*has) break;
    out.push_back(AttachmentUse{blob<32>(st, 0), std::string(st.column_text(1)), std::string(st.column_text(2))});
  }
  return out;
}

Result<uint64_t> row_version_on(sql::Database& db) {
  auto st = db.prepare(
      "SELECT MAX(COALESCE((SELECT MAX(version) FROM _srv_rowver), 0),"
      " COALESCE((SELECT v FROM _srv_meta WHERE k = 'row_version_floor'), 0))");
  if (!st.ok()) return st.status();
  auto has = st->step();
  if (!has.ok()) return has.status();
  return static_cast<uint64_t>(st->column_int(0));
}

Result<LogHead> head_on(sql::Database& db) {
  auto st = db.prepare("SELECT server_seq, log_hash FROM _srv_log ORDER BY server_seq DESC LIMIT 1");
  if (!st.ok()) return st.status();
  auto has = st->step();
  if (!has.ok()) return has.status();
  return *has ? LogHead{static_cast<uint64_t>(st->column_int(0)), blob<32>(*st, 1)} : LogHead{};
}

}  // namespace sqlite_rows

using namespace sqlite_rows;

Result<std::unique_ptr<Store>> SqliteStorage::borrow_reader() {
  std::unique_lock lock(readers_mu_);
  readers_cv_.wait(lock, [&] { return !idle_readers_.empty() || open_readers_ < kMaxReaders; });
  if (!idle_readers_.empty()) {
    auto r = std::move(idle_readers_.back());
    idle_readers_.pop_back();
    return r;
  }
  ++open_readers_;
  lock.unlock();
  auto r = Store::open(path_, *schema_);
  // A reader's own page cache is kept small (8 MiB, not the writer's 32): the readers read the
  // same pages, which the kernel's page cache holds once; four full caches raised the server's
  // peak memory by a third in the loadgen (74 → 99 MiB) for no measured speed.
  if (r.ok()) (void)(*r)->db().exec("PRAGMA cache_size=-8192");
  if (!r.ok()) {
    lock.lock();
    --open_readers_;
    readers_cv_.notify_one();
  }
  return r;
}

void SqliteStorage::give_back(std::unique_ptr<Store> reader) {
  {
    std::lock_guard lock(readers_mu_);
    idle_readers_.push_back(std::move(reader));
  }
  readers_cv_.notify_one();
}

// A borrowed read connection, given back when it goes.
class SqliteStorage::Reader {
 public:
  static Result<Reader> borrow(SqliteStorage& s) {
    auto r = s.borrow_reader();
    if (!r.ok()) return r.status();
    return Reader(s, std::move(r).value());
  }
  Reader(Reader&& o) noexcept : owner_(o.owner_), store_(std::move(o.store_)) {}
  Reader& operator=(Reader&&) = delete;
  ~Reader() {
    if (store_) owner_->give_back(std::move(store_));
  }
  Store& store() { return *store_; }
  sql::Database& db() { return store_->db(); }

 private:
  Reader(SqliteStorage& s, std::unique_ptr<Store> store) : owner_(&s), store_(std::move(store)) {}
  SqliteStorage* owner_;
  std::unique_ptr<Store> store_;
};

class SqliteStorage::Snapshot final : public ReadSnapshot {
 public:
  Snapshot(Reader reader, sql::Transaction tx) : reader_(std::move(reader)), tx_(std::move(tx)) {}
  RowReader& rows() override { return reader_.store(); }
  Result<std::vector<RowVersion>> changed_rows(uint64_t after, size_t limit) override {
    auto st = reader_.db().prepare("SELECT version, tbl, row_id FROM _srv_rowver WHERE version > ? ORDER BY version LIMIT ?");
    if (!st.ok()) return st.status();
    st->bind_int(1, static_cast<int64_t>(after));
    st->bind_int(2, static_cast<int64_t>(limit));
    std::vector<RowVersion> out;
    for (;;) {
      auto has = st->step();
      if (!has.ok()) return has.status();
      if (!*has) break;
      out.push_back(RowVersion{static_cast<uint64_t>(st->column_int(0)), std::string(st->column_text(1)),
                               std::string(st->column_text(2))});
    }
    return out;
  }
  Result<uint64_t> row_version() override { return row_version_on(reader_.db()); }
  Result<LogHead> head() override { return head_on(reader_.db()); }
  Result<std::vector<AttachmentUse>> attachment_uses(const Hash& hash) override {
    auto st = reader_.db().prepare("SELECT hash, tbl, row_id FROM _srv_attachment_uses WHERE hash = ?");
    if (!st.ok()) return st.status();
    st->bind_blob(1, hash);
    return read_uses(*st);
  }
  Result<std::map<Hash, int64_t>> received_times(const std::set<Hash>& ids) override {
    // One scan of the accepted entries (the log is keyed by server_seq and by (device, seq), not
    // by id): cheaper than a look-up per id for the report's hundreds of ids.
    std::map<Hash, int64_t> out;
    if (ids.empty()) return out;
    auto st = reader_.db().prepare("SELECT id, received_ms FROM _srv_log WHERE accepted = 1");
    if (!st.ok()) return st.status();
    for (;;) {
      auto has = st->step();
      if (!has.ok()) return has.status();
      if (!*has) break;
      if (st->column_blob(0).size() != sizeof(Hash)) continue;
      const Hash id = blob<32>(*st, 0);
      if (ids.count(id)) out[id] = st->column_int(1);
    }
    return out;
  }

  Status scan_accepted(const std::function<Status(const LoggedChangeSet&)>& visit) override {
    auto st = reader_.db().prepare(
        "SELECT id, bytes, received_ms, clock_ahead FROM _srv_log WHERE accepted = 1 ORDER BY server_seq");
    if (!st.ok()) return st.status();
    for (;;) {
      auto has = st->step();
      if (!has.ok()) return has.status();
      if (!*has) return {};
      if (st->column_blob(0).size() != sizeof(Hash)) continue;
      LoggedChangeSet e;
      e.id = blob<32>(*st, 0);
      const auto blob_bytes = st->column_blob(1);
      const std::string_view stored(reinterpret_cast<const char*>(blob_bytes.data()), blob_bytes.size());
      // The log keeps a change set gzipped (push_queue.cpp); hand out the bytes as signed.
      std::optional<std::string> inflated;
      if (stored.size() >= 2 && stored[0] == '\x1f' && stored[1] == '\x8b') {
        inflated = gzip_decompress(stored, 8u << 20);
        if (!inflated) continue;
      }
      e.bytes = inflated ? std::string_view(*inflated) : stored;
      e.received_ms = st->column_int(2);
      e.clock_ahead = st->column_int(3) != 0;
      TRAM_RETURN_IF_ERROR(visit(e));
    }
  }

 private:
  Reader reader_;           // declared first: destroyed after the transaction ends
  sql::Transaction tx_;     // read-only; rolled back (ended) when the snapshot goes
};

Result<std::unique_ptr<ReadSnapshot>> SqliteStorage::read_snapshot() {
  auto reader = Reader::borrow(*this);
  if (!reader.ok()) return reader.status();
  auto tx = sql::Transaction::begin(reader->db());
  if (!tx.ok()) return tx.status();
  return std::unique_ptr<ReadSnapshot>(new Snapshot(std::move(reader).value(), std::move(tx).value()));
}

namespace {
constexpr std::string_view kUserColumns = "SELECT id, role, units, all_units, name FROM _srv_users";

UserRecord user_at(sql::Statement& st) {
  UserRecord u;
  u.id = st.column_text(0);
  u.role = role_from_name(st.column_text(1)).value_or(Role::official);
  u.units = split(st.column_text(2));
  u.all_units = st.column_int(3) != 0;
  u.name = st.column_text(4);
  return u;
}
}  // namespace

Result<std::optional<UserRecord>> SqliteStorage::user(const std::string& id) {
  auto reader = Reader::borrow(*this);
  if (!reader.ok()) return reader.status();
  auto st = reader->db().prepare(std::string(kUserColumns) + " WHERE id = ?");
  if (!st.ok()) return st.status();
  st->bind_text(1, id);
  auto has = st->step();
  if (!has.ok()) return has.status();
  if (!*has) return std::optional<UserRecord>();
  return std::optional<UserRecord>(user_at(*st));
}

Result<std::vector<UserRecord>> SqliteStorage::users() {
  auto reader = Reader::borrow(*this);
  if (!reader.ok()) return reader.status();
  auto st = reader->db().prepare(std::string(kUserColumns) + " ORDER BY id");
  if (!st.ok()) return st.status();
  std::vector<UserRecord> out;
  for (;;) {
    auto has = st->step();
    if (!has.ok()) return has.status();
    if (!*has) break;
    out.push_back(user_at(*st));
  }
  return out;
}

Result<std::optional<DeviceRecord>> SqliteStorage::device(const PublicKey& key) {
  auto reader = Reader::borrow(*this);
  if (!reader.ok()) return reader.status();
  return device_on(reader->db(), key);
}

Result<std::vector<DeviceRecord>> SqliteStorage::devices() {
  auto reader = Reader::borrow(*this);
  if (!reader.ok()) return reader.status();
  auto st = reader->db().prepare(std::string(kDeviceColumns) + " ORDER BY user, enrolled_ms");
  if (!st.ok()) return st.status();
  std::vector<DeviceRecord> out;
  for (;;) {
    auto d = next_device(*st);
    if (!d.ok()) return d.status();
    if (!*d) break;
    out.push_back(std::move(**d));
  }
  // When each last sent something (the administrator's "last seen" that survives restarts).
  auto last = reader->db().prepare("SELECT device, max(received_ms) FROM _srv_log GROUP BY device");
  if (!last.ok()) return last.status();
  std::map<PublicKey, int64_t> seen;
  for (;;) {
    auto has = last->step();
    if (!has.ok()) return has.status();
    if (!*has) break;
    if (last->column_blob(0).size() == sizeof(PublicKey)) seen[blob<32>(*last, 0)] = last->column_int(1);
  }
  for (DeviceRecord& d : out) {
    if (auto it = seen.find(d.key); it != seen.end()) d.last_received_ms = it->second;
  }
  return out;
}

}  // namespace tram::server
