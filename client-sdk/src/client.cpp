#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <simdjson.h>

#include "client_impl.hpp"
#include "tram/engine/gzip.hpp"
#include "tram/engine/json.hpp"
#include "tram/engine/schema_loader.hpp"
#include "tram/engine/text.hpp"

namespace tram::client {
namespace fs = std::filesystem;
namespace dom = simdjson::dom;

namespace {

constexpr int kPending = 0, kRejected = 1;
constexpr std::string_view kKeyAd = "tram-device-key-v1:";

Status fail(Errc c, std::string m) { return {c, std::move(m)}; }


// Plain JSON for a value, as apps see it (no type tags: the schema gives the type).
void append_plain(std::string& out, const Value& v) {
  switch (value_type(v)) {
    case ValueType::null: out += "null"; break;
    case ValueType::integer: out += std::to_string(std::get<int64_t>(v)); break;
    case ValueType::real: {
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, std::get<double>(v));
      out.append(buf, r.ptr);
      break;
    }
    case ValueType::text: json::append_string(out, std::get<Text>(v).s); break;
    case ValueType::boolean: out += std::get<bool>(v) ? "true" : "false"; break;
    case ValueType::date: out += "\"" + std::get<Date>(v).to_string() + "\""; break;
    case ValueType::attachment: out += "\"" + to_hex(std::get<AttachmentRef>(v).hash) + "\""; break;
  }
}

// SQL helpers registered on the connection: Vietnamese order and accent-free matching.
int vi_collate(void*, int na, const void* a, int nb, const void* b) {
  return vi_compare({static_cast<const char*>(a), static_cast<size_t>(na)}, {static_cast<const char*>(b), static_cast<size_t>(nb)});
}
void fold_fn(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const unsigned char* t = sqlite3_value_text(argv[0]);
  if (!t) return sqlite3_result_null(ctx);
  const std::string folded = vi_search_fold(reinterpret_cast<const char*>(t));
  sqlite3_result_text(ctx, folded.data(), static_cast<int>(folded.size()), SQLITE_TRANSIENT);
}

void bind_plain(sql::Statement& st, int i, const Value& v) {
  switch (value_type(v)) {
    case ValueType::null: st.bind_null(i); break;
    case ValueType::integer: st.bind_int(i, std::get<int64_t>(v)); break;
    case ValueType::real: st.bind_real(i, std::get<double>(v)); break;
    case ValueType::text: st.bind_text(i, std::get<Text>(v).s); break;
    case ValueType::boolean: st.bind_int(i, std::get<bool>(v)); break;
    case ValueType::date: st.bind_text(i, std::get<Date>(v).to_string()); break;
    case ValueType::attachment: st.bind_text(i, to_hex(std::get<AttachmentRef>(v).hash)); break;
  }
}

// A 32-byte id stored as a blob (change-set ids, conflict writers).
Hash hash_at(const sql::Statement& st, int i) {
  Hash h{};
  auto b = st.column_blob(i);
  std::copy_n(b.begin(), std::min(b.size(), h.size()), h.begin());
  return h;
}

// Whether a row has edits of this device the server has not confirmed yet.
constexpr const char* kRowHasPending =
    "SELECT 1 FROM _client_touched t JOIN _client_outbox o ON o.seq = t.seq WHERE t.tbl = ? AND t.row_id = ? AND o.state = 0";

std::optional<WriterId> writer_prefix(const CellImage& c) {
  if (!c.writer) return std::nullopt;
  return WriterId::of(*c.writer);
}

// The JSON shown to the user for what a change set did.
std::string ops_json(const ChangeSet& cs, const Schema& schema) {
  std::string out = "[";
  for (size_t k = 0; k < cs.ops.size(); ++k) {
    const Op& op = cs.ops[k];
    out += (k ? ",{" : "{") + std::string("\"table\":") + json::quote(op.table) + ",\"id\":" + json::quote(op.row) +
           ",\"op\":\"" + (op.kind == OpKind::del ? "delete" : "put") + "\",\"fields\":{";
    const TableDef* t = schema.table(op.table);
    for (size_t f = 0; f < op.fields.size(); ++f) {
      const FieldDef* def = t ? t->field(op.fields[f].field) : nullptr;
      out += (f ? "," : "") + json::quote(def ? def->name : std::to_string(op.fields[f].field)) + ":";
      append_plain(out, op.fields[f].value);
    }
    out += "}}";
  }
  return out + "]";
}

}  // namespace

void sleep_unless_cancelled(int64_t ms, const std::atomic<bool>& cancelled) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (!cancelled && std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

constexpr std::string_view kLostData = "server_lost_data";

Status server_lost_data(uint64_t from, uint64_t to, uint64_t missing) {
  return fail(Errc::rejected, std::string(kLostData) + ": the server no longer has change sets #" + std::to_string(from) +
                                  (to > from ? "–#" + std::to_string(to) : std::string()) +
                                  " of this device (its log went back: a restored backup or a lost WAL) and this device no"
                                  " longer keeps #" + std::to_string(missing) + " to send again; tell the administrator");
}

bool is_server_lost_data(const Status& st) { return st.code() == Errc::rejected && st.message().starts_with(kLostData); }

Status write_private_file(const std::string& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail(Errc::storage_error, "cannot write " + path + ": " + std::strerror(errno));
  (void)::fchmod(fd, 0600);  // an older file of the same name may have been readable by others
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return fail(Errc::storage_error, "cannot write " + path + ": " + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return fail(Errc::storage_error, "cannot write " + path);
  return {};
}

// ---- WriteTxn ----------------------------------------------------------------------------

std::string WriteTxn::insert(std::string table, std::string id, std::map<std::string, Value> fields) {
  if (id.empty()) {
    // Time-ordered ids from one generator per process, so concurrent inserts never collide.
    static std::mutex mu;
    static SystemClock clock;
    static SystemRandom random;
    static UuidV7Generator gen(clock, random);
    std::lock_guard lock(mu);
    id = gen.next();
  }
  ops_.push_back({PendingOp::insert, std::move(table), std::move(id), std::move(fields)});
  return ops_.back().id;
}
void WriteTxn::update(std::string table, std::string id, std::map<std::string, Value> fields) {
  ops_.push_back({PendingOp::update, std::move(table), std::move(id), std::move(fields)});
}
void WriteTxn::remove(std::string table, std::string id) { ops_.push_back({PendingOp::remove, std::move(table), std::move(id), {}}); }

// ---- opening -----------------------------------------------------------------------------

Client::Impl::~Impl() = default;

Status Client::Impl::open() {
  if (sodium_init() < 0) return fail(Errc::invalid_argument, "libsodium failed to initialise");
  auto s = load_schema_dir(opt.schemas_dir);
  if (!s.ok()) return s.status();
  schema = std::make_unique<Schema>(std::move(s).value());
  // The database holds the device's (wrapped) key and the official's records: only this user may
  // read it. Created 0600 before SQLite opens it, whose -wal and -shm files take its mode.
  if (opt.path != ":memory:" && !opt.path.starts_with("file:")) {
    const int fd = ::open(opt.path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0) ::close(fd);
    for (const char* suffix : {"", "-wal", "-shm"}) (void)::chmod((opt.path + suffix).c_str(), 0600);
  }
  auto st = Store::open(opt.path, *schema);
  if (!st.ok()) return st.status();
  store = std::move(st).value();
  sqlite3* db = store->db().handle();
  sqlite3_create_collation_v2(db, "tram_vi", SQLITE_UTF8, nullptr, vi_collate, nullptr);
  sqlite3_create_function_v2(db, "tram_fold", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr, fold_fn, nullptr, nullptr, nullptr);
  // WAL with synchronous=FULL (the engine's setting): a commit that returned survives a
  // crash of the app and a loss of power; tests/client kills the process to prove the first.
  TRAM_RETURN_IF_ERROR(store->db().exec(
      "CREATE TABLE IF NOT EXISTS _client_meta (k TEXT PRIMARY KEY NOT NULL, v TEXT) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS _client_outbox (seq INTEGER PRIMARY KEY, id BLOB NOT NULL, bytes BLOB NOT NULL,"
      " sig BLOB NOT NULL, created_ms INTEGER NOT NULL, state INTEGER NOT NULL, code TEXT, message TEXT);"
      "CREATE TABLE IF NOT EXISTS _client_receipts (seq INTEGER PRIMARY KEY, id BLOB NOT NULL, server_seq INTEGER,"
      " status TEXT, code TEXT, message TEXT, received_at_ms INTEGER, clock_ahead INTEGER, body TEXT, sig TEXT);"
      "CREATE INDEX IF NOT EXISTS _client_receipts_id ON _client_receipts(id);"
      "CREATE TABLE IF NOT EXISTS _client_touched (seq INTEGER NOT NULL, tbl TEXT NOT NULL, row_id TEXT NOT NULL,"
      " PRIMARY KEY (seq, tbl, row_id)) WITHOUT ROWID;"
      "CREATE INDEX IF NOT EXISTS _client_touched_row ON _client_touched(tbl, row_id);"
      // The server's image of rows this device has pending edits to (NULL: not on the server).
      "CREATE TABLE IF NOT EXISTS _client_base (tbl TEXT NOT NULL, row_id TEXT NOT NULL, image TEXT,"
      " PRIMARY KEY (tbl, row_id)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS _client_conflicts (tbl TEXT NOT NULL, row_id TEXT NOT NULL, field INTEGER NOT NULL,"
      " winner BLOB NOT NULL, loser BLOB NOT NULL, mine_lost INTEGER NOT NULL, loser_value TEXT,"
      " PRIMARY KEY (tbl, row_id, field, loser)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS _client_uploads (hash TEXT PRIMARY KEY NOT NULL, size INTEGER NOT NULL,"
      " done INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
      // Change sets with a receipt, kept (gzip) to send again to a server whose log went back.
      "CREATE TABLE IF NOT EXISTS _client_sent (seq INTEGER PRIMARY KEY, id BLOB NOT NULL, bytes BLOB NOT NULL,"
      " sig BLOB NOT NULL, received_at_ms INTEGER NOT NULL);"
      // The receipts of change sets sent again; _client_receipts keeps the originals.
      "CREATE TABLE IF NOT EXISTS _client_resent (seq INTEGER PRIMARY KEY, id BLOB NOT NULL, server_seq INTEGER,"
      " status TEXT, code TEXT, message TEXT, received_at_ms INTEGER, body TEXT, sig TEXT);"
      // Server keys this device trusted before a rotation it followed, each with the statement
      // (signed by it) that named its successor: their receipts still verify.
      "CREATE TABLE IF NOT EXISTS _client_server_keys (key TEXT PRIMARY KEY NOT NULL, statement TEXT NOT NULL,"
      " sig TEXT NOT NULL, followed_ms INTEGER NOT NULL);"));
  hlc.emplace(*clock, 5 * 60 * 1000);
  push_batch = std::max<size_t>(opt.sync.push_batch_min, std::min<size_t>(50, opt.sync.push_batch_max));
  pull_page = opt.sync.pull_page_max;
  return load_identity();
}

Result<std::optional<std::string>> Client::Impl::meta(const std::string& k) {
  auto st = store->db().prepare("SELECT v FROM _client_meta WHERE k = ?");
  if (!st.ok()) return st.status();
  st->bind_text(1, k);
  auto has = st->step();
  if (!has.ok()) return has.status();
  if (!*has || st->column_is_null(0)) return std::optional<std::string>();
  return std::optional<std::string>(std::string(st->column_text(0)));
}

Status Client::Impl::set_meta(const std::string& k, const std::string& v) {
  auto st = store->db().prepare("INSERT INTO _client_meta(k, v) VALUES (?, ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v");
  if (!st.ok()) return st.status();
  st->bind_text(1, k);
  st->bind_text(2, v);
  return st->run();
}

Status Client::Impl::load_identity() {
  auto get = [&](const char* k) { return meta(k).value_or(std::nullopt).value_or(""); };
  server_url = get("server_url");
  user = get("user");
  role_name_ = get("role");
  if (auto r = role_from_name(role_name_)) role = *r;
  units.clear();
  std::stringstream ss(get("units"));
  for (std::string u; std::getline(ss, u, ',');) {
    if (!u.empty()) units.push_back(u);
  }
  all_units = get("all_units") == "1";
  if (auto k = from_hex<32>(get("server_key"))) server_key = *k;
  old_server_keys.clear();
  auto old = store->db().prepare("SELECT key FROM _client_server_keys ORDER BY rowid");
  if (!old.ok()) return old.status();
  while (old->step().value_or(false)) {
    if (auto k = from_hex<32>(old->column_text(0))) old_server_keys.push_back(*k);
  }
  if (auto h = get("hlc"); !h.empty()) hlc->restore(Hlc{static_cast<int64_t>(std::stoull(h))});
  return reload_chain();
}

Status Client::Impl::reload_chain() {
  chain.reset();
  device.reset();
  auto sealed_hex = meta("device_key");
  if (!sealed_hex.ok()) return sealed_hex.status();
  if (!*sealed_hex) return {};  // not enrolled yet
  const std::string pub_hex = meta("device").value_or(std::nullopt).value_or("");
  const auto pub = from_hex<32>(pub_hex);
  std::vector<uint8_t> sealed(sealed_hex->value().size() / 2);
  if (!pub || sodium_hex2bin(sealed.data(), sealed.size(), sealed_hex->value().data(), sealed_hex->value().size(), nullptr,
                             nullptr, nullptr) != 0 ||
      sealed.size() != crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + 32 + crypto_aead_xchacha20poly1305_ietf_ABYTES) {
    return fail(Errc::invalid_value, "the stored device key is damaged");
  }
  std::array<uint8_t, 32> seed{};
  unsigned long long n = 0;
  const std::string ad = std::string(kKeyAd) + pub_hex;
  const uint8_t* nonce = sealed.data();
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(seed.data(), &n, nullptr, sealed.data() + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                                 sealed.size() - crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                                 reinterpret_cast<const uint8_t*>(ad.data()), ad.size(), nonce,
                                                 opt.wrapping_key.data()) != 0) {
    return fail(Errc::bad_signature, "the wrapping key does not open this device's key (wrong key from the keystore?)");
  }
  DeviceKey key = DeviceKey::from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  if (key.public_key() != *pub) return fail(Errc::invalid_value, "the stored device key does not match its public key");
  ChainHead head;
  head.seq = std::stoull(meta("seq").value_or(std::nullopt).value_or("0"));
  if (auto last = from_hex<32>(meta("last_id").value_or(std::nullopt).value_or(""))) head.last = *last;
  device = *pub;
  chain.emplace(std::move(key), *hlc, user, schema->id, schema->version, head);
  return {};
}

Principal Client::Impl::principal() const {
  Principal p;
  p.role = role;
  p.units = units;
  p.all_units = all_units;
  return p;
}

void Client::Impl::notify(const Touched& changed) {
  std::function<void(const std::string&, const std::vector<std::string>&)> fn;
  {
    std::lock_guard lock(listener_mu);
    fn = listener;
  }
  if (!fn) return;
  for (const auto& [table, ids] : changed) fn(table, std::vector<std::string>(ids.begin(), ids.end()));
}

Result<wire::Receipt> Client::Impl::verify_signed_receipt(std::string_view body, std::string_view sig_hex) const {
  if (!server_key) return fail(Errc::not_enrolled, "no pinned server key");
  auto r = wire::verify_receipt(body, sig_hex, *server_key);
  if (r.ok() || r.status().code() != Errc::bad_signature) return r;
  for (const PublicKey& k : old_server_keys) {
    auto before = wire::verify_receipt(body, sig_hex, k);
    if (before.ok()) return before;
  }
  return r;
}

bool Client::Impl::trusts(const PublicKey& server) const {
  return (server_key && *server_key == server) ||
         std::find(old_server_keys.begin(), old_server_keys.end(), server) != old_server_keys.end();
}

Result<bool> Client::Impl::is_own_changeset(const Hash& id) {
  auto st = store->db().prepare("SELECT 1 FROM _client_receipts WHERE id = ?1 UNION ALL SELECT 1 FROM _client_outbox WHERE id = ?1");
  if (!st.ok()) return st.status();
  st->bind_blob(1, id);
  return st->step();
}

// ---- the view: server image + pending edits ----------------------------------------------

Status Client::Impl::rebuild_rows(const Touched& rows) {
  auto base = store->db().prepare("SELECT image FROM _client_base WHERE tbl = ? AND row_id = ?");
  auto pending = store->db().prepare(
      "SELECT o.seq, o.id, o.bytes FROM _client_touched t JOIN _client_outbox o ON o.seq = t.seq"
      " WHERE t.tbl = ? AND t.row_id = ? AND o.state = 0 ORDER BY o.seq");
  auto drop_base = store->db().prepare("DELETE FROM _client_base WHERE tbl = ? AND row_id = ?");
  if (!base.ok() || !pending.ok() || !drop_base.ok()) return fail(Errc::storage_error, "rebuild: prepare failed");
  for (const auto& [table, ids] : rows) {
    for (const std::string& id : ids) {
      base->reset();
      base->bind_text(1, table);
      base->bind_text(2, id);
      auto has = base->step();
      if (!has.ok()) return has.status();
      if (!*has) continue;  // no base kept: the view is already the server's image
      if (base->column_is_null(0)) {
        TRAM_RETURN_IF_ERROR(store->erase_row(table, id));
      } else {
        auto image = wire::row_image_from_json(base->column_text(0));
        if (!image.ok()) return image.status();
        TRAM_RETURN_IF_ERROR(store->put_row_image(table, id, *image));
      }
      pending->reset();
      pending->bind_text(1, table);
      pending->bind_text(2, id);
      bool any = false;
      for (;;) {
        auto row = pending->step();
        if (!row.ok()) return row.status();
        if (!*row) break;
        any = true;
        const uint64_t seq = static_cast<uint64_t>(pending->column_int(0));
        const Hash cs_id = hash_at(*pending, 1);
        auto bytes = pending->column_blob(2);
        auto cs = decode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
        if (!cs.ok()) return cs.status();
        std::erase_if(cs->ops, [&](const Op& op) { return op.table != table || op.row != id; });
        TRAM_RETURN_IF_ERROR(store->forget_applied(cs->device, seq));
        const ApplyItem item{&*cs, cs_id, ClockTrust::trusted};
        auto applied = store->apply(std::span(&item, 1));
        if (!applied.ok()) return applied.status();
      }
      if (!any) {
        drop_base->reset();
        drop_base->bind_text(1, table);
        drop_base->bind_text(2, id);
        TRAM_RETURN_IF_ERROR(drop_base->run());
      }
    }
  }
  // Re-applying on a new base may record conflicts in the view; the server's are the truth.
  return store->db().exec("DELETE FROM _tram_conflicts");
}

Status Client::Impl::record_results(const std::vector<PushResult>& results, SyncReport& report, Touched& changed) {
  auto tx = sql::Transaction::begin(store->db());
  if (!tx.ok()) return tx.status();
  auto outbox_id = store->db().prepare("SELECT id, bytes, sig FROM _client_outbox WHERE seq = ?");
  auto keep = store->db().prepare("INSERT OR IGNORE INTO _client_sent(seq, id, bytes, sig, received_at_ms) VALUES (?, ?, ?, ?, ?)");
  auto add_receipt = store->db().prepare(
      "INSERT OR REPLACE INTO _client_receipts(seq, id, server_seq, status, code, message, received_at_ms, clock_ahead, body, sig)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  auto done = store->db().prepare("DELETE FROM _client_outbox WHERE seq = ?");
  auto reject = store->db().prepare("UPDATE _client_outbox SET state = 1, code = ?, message = ? WHERE seq = ?");
  auto rows_of = store->db().prepare("SELECT tbl, row_id FROM _client_touched WHERE seq = ?");
  if (!outbox_id.ok() || !keep.ok() || !add_receipt.ok() || !done.ok() || !reject.ok() || !rows_of.ok()) {
    return fail(Errc::storage_error, "record results: prepare failed");
  }
  Status first_refusal;
  Touched rejected_rows, accepted_rows;
  for (const PushResult& r : results) {
    if (r.receipt_body.empty()) {
      // No receipt: the server does not hold it. A gap or a client fault, never silently dropped.
      if (first_refusal.ok() && r.status == "rejected") {
        first_refusal = fail(Errc::rejected, r.code + ": " + r.message +
                                                 (r.code == "seq_gap" ? " (expected seq " + std::to_string(r.expected_seq) + ")" : ""));
      }
      continue;
    }
    auto receipt = verify_signed_receipt(r.receipt_body, r.receipt_sig);
    if (!receipt.ok()) return receipt.status();  // a forged or garbled receipt proves nothing
    if (receipt->device != *device) return fail(Errc::bad_signature, "a receipt for another device");
    outbox_id->reset();
    outbox_id->bind_int(1, static_cast<int64_t>(receipt->seq));
    auto has = outbox_id->step();
    if (!has.ok()) return has.status();
    if (!*has) continue;  // already settled (a duplicate answer)
    const Hash id = hash_at(*outbox_id, 0);
    if (id != receipt->id) return fail(Errc::fork_detected, "the server holds other bytes at seq " + std::to_string(receipt->seq));
    // Kept after the outbox lets it go: a server restored from an older backup needs it again.
    auto bytes = outbox_id->column_blob(1);
    const std::string packed = gzip_compress(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    keep->reset();
    keep->bind_int(1, static_cast<int64_t>(receipt->seq));
    keep->bind_blob(2, receipt->id);
    keep->bind_blob(3, std::span(reinterpret_cast<const uint8_t*>(packed.data()), packed.size()));
    keep->bind_blob(4, outbox_id->column_blob(2));
    keep->bind_int(5, receipt->received_at_ms);
    TRAM_RETURN_IF_ERROR(keep->run());
    add_receipt->reset();
    add_receipt->bind_int(1, static_cast<int64_t>(receipt->seq));
    add_receipt->bind_blob(2, receipt->id);
    add_receipt->bind_int(3, static_cast<int64_t>(receipt->server_seq));
    add_receipt->bind_text(4, receipt->accepted ? "accepted" : "rejected");
    add_receipt->bind_text(5, receipt->code);
    add_receipt->bind_text(6, r.message);
    add_receipt->bind_int(7, receipt->received_at_ms);
    add_receipt->bind_int(8, receipt->clock_ahead);
    add_receipt->bind_text(9, receipt->body);
    add_receipt->bind_text(10, r.receipt_sig);
    TRAM_RETURN_IF_ERROR(add_receipt->run());
    if (receipt->clock_ahead) TRAM_RETURN_IF_ERROR(set_meta("clock_ahead", "1"));
    rows_of->reset();
    rows_of->bind_int(1, static_cast<int64_t>(receipt->seq));
    Touched& into = receipt->accepted ? accepted_rows : rejected_rows;
    for (;;) {
      auto row = rows_of->step();
      if (!row.ok()) return row.status();
      if (!*row) break;
      into[std::string(rows_of->column_text(0))].insert(std::string(rows_of->column_text(1)));
    }
    if (receipt->accepted) {
      r.status == "duplicate" ? ++report.duplicates : ++report.accepted;
      done->reset();
      done->bind_int(1, static_cast<int64_t>(receipt->seq));
      TRAM_RETURN_IF_ERROR(done->run());
    } else {
      ++report.rejected;
      reject->reset();
      reject->bind_text(1, receipt->code);
      reject->bind_text(2, r.message);
      reject->bind_int(3, static_cast<int64_t>(receipt->seq));
      TRAM_RETURN_IF_ERROR(reject->run());
    }
  }
  // Rejected edits leave the view. Rows whose edits were all accepted keep their view (it is
  // what the server now holds, short of others' edits the next pull brings) and drop the base.
  TRAM_RETURN_IF_ERROR(rebuild_rows(rejected_rows));
  auto settle = store->db().prepare(
      "DELETE FROM _client_base WHERE tbl = ?1 AND row_id = ?2 AND NOT EXISTS (SELECT 1 FROM _client_touched t"
      " JOIN _client_outbox o ON o.seq = t.seq WHERE t.tbl = ?1 AND t.row_id = ?2 AND o.state = 0)");
  if (!settle.ok()) return settle.status();
  for (const auto& [table, ids] : accepted_rows) {
    for (const std::string& id : ids) {
      settle->reset();
      settle->bind_text(1, table);
      settle->bind_text(2, id);
      TRAM_RETURN_IF_ERROR(settle->run());
    }
  }
  TRAM_RETURN_IF_ERROR(tx->commit());
  for (const auto& [t, ids] : rejected_rows) changed[t].insert(ids.begin(), ids.end());
  return first_refusal;
}

Status Client::Impl::record_resent(const std::vector<PushResult>& results, const std::vector<uint64_t>& seqs,
                                   SyncReport& report, Touched& changed, uint64_t& gap) {
  auto& db = store->db();
  auto tx = sql::Transaction::begin(db);
  if (!tx.ok()) return tx.status();
  auto kept = db.prepare("SELECT id, bytes, sig FROM _client_sent WHERE seq = ?");
  auto add = db.prepare(
      "INSERT OR REPLACE INTO _client_resent(seq, id, server_seq, status, code, message, received_at_ms, body, sig)"
      " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  auto first = db.prepare("SELECT status FROM _client_receipts WHERE seq = ?");
  auto refused = db.prepare(
      "INSERT OR IGNORE INTO _client_outbox(seq, id, bytes, sig, created_ms, state, code, message) VALUES (?, ?, ?, ?, ?, 1, ?, ?)");
  auto rows_of = db.prepare("SELECT tbl, row_id FROM _client_touched WHERE seq = ?");
  if (!kept.ok() || !add.ok() || !first.ok() || !refused.ok() || !rows_of.ok()) return fail(Errc::storage_error, "record resent: prepare failed");
  for (size_t k = 0; k < results.size() && k < seqs.size(); ++k) {
    const PushResult& r = results[k];
    if (r.receipt_body.empty()) {
      if (r.code == "seq_gap" && r.expected_seq) {
        if (!gap) gap = r.expected_seq;
        continue;
      }
      return fail(Errc::rejected, r.code + ": " + r.message + " (change set #" + std::to_string(seqs[k]) + ", sent again)");
    }
    auto receipt = verify_signed_receipt(r.receipt_body, r.receipt_sig);
    if (!receipt.ok()) return receipt.status();
    if (receipt->device != *device || receipt->seq != seqs[k]) return fail(Errc::bad_signature, "a receipt for another change set");
    kept->reset();
    kept->bind_int(1, static_cast<int64_t>(receipt->seq));
    auto has = kept->step();
    if (!has.ok()) return has.status();
    if (!*has || hash_at(*kept, 0) != receipt->id) {
      return fail(Errc::fork_detected, "the server holds other bytes at seq " + std::to_string(receipt->seq));
    }
    add->reset();
    add->bind_int(1, static_cast<int64_t>(receipt->seq));
    add->bind_blob(2, receipt->id);
    add->bind_int(3, static_cast<int64_t>(receipt->server_seq));
    add->bind_text(4, receipt->accepted ? "accepted" : "rejected");
    add->bind_text(5, receipt->code);
    add->bind_text(6, r.message);
    add->bind_int(7, receipt->received_at_ms);
    add->bind_text(8, receipt->body);
    add->bind_text(9, r.receipt_sig);
    TRAM_RETURN_IF_ERROR(add->run());
    ++report.resent;
    if (receipt->accepted) continue;
    // Accepted once, refused by the restored server (its rows differ now): the user must see it
    // as any refusal, in the outbox with the server's reason.
    first->reset();
    first->bind_int(1, static_cast<int64_t>(receipt->seq));
    auto had = first->step();
    if (!had.ok()) return had.status();
    if (*had && first->column_text(0) != "accepted") continue;
    auto packed = kept->column_blob(1);
    auto bytes = gzip_decompress(std::string_view(reinterpret_cast<const char*>(packed.data()), packed.size()), 8u << 20);
    if (!bytes) return fail(Errc::storage_error, "kept change set #" + std::to_string(receipt->seq) + " is damaged");
    refused->reset();
    refused->bind_int(1, static_cast<int64_t>(receipt->seq));
    refused->bind_blob(2, receipt->id);
    refused->bind_blob(3, std::span(reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()));
    refused->bind_blob(4, kept->column_blob(2));
    refused->bind_int(5, clock->now_ms());
    refused->bind_text(6, receipt->code);
    refused->bind_text(7, r.message);
    TRAM_RETURN_IF_ERROR(refused->run());
    ++report.rejected;
    rows_of->reset();
    rows_of->bind_int(1, static_cast<int64_t>(receipt->seq));
    while (rows_of->step().value_or(false)) changed[std::string(rows_of->column_text(0))].insert(std::string(rows_of->column_text(1)));
  }
  return tx->commit();
}

Status Client::Impl::load_known_head() {
  if (known_head) return {};
  auto stored = meta("head_seq");
  if (!stored.ok()) return stored.status();
  if (*stored) {
    known_head = std::stoull(**stored);
    return {};
  }
  // First run of a device from before heads were kept: its receipts and last pull say how far
  // the log went.
  uint64_t k = std::stoull(meta("server_seq").value_or(std::nullopt).value_or("0"));
  auto st = store->db().prepare("SELECT IFNULL(MAX(server_seq), 0) FROM _client_receipts");
  if (st.ok() && st->step().value_or(false)) k = std::max(k, static_cast<uint64_t>(st->column_int(0)));
  known_head = k;
  return set_meta("head_seq", std::to_string(k));
}

Status Client::Impl::note_head(uint64_t server_seq, SyncReport& report, bool persist) {
  TRAM_RETURN_IF_ERROR(load_known_head());
  if (server_seq < *known_head) return mark_log_behind(server_seq, report);
  if (server_seq > *known_head) {
    known_head = server_seq;
    if (persist) return set_meta("head_seq", std::to_string(server_seq));
  }
  return {};
}

Status Client::Impl::mark_log_behind(uint64_t server_seq, SyncReport& report) {
  report.server_log_behind = true;
  behind_seen = true;
  auto& db = store->db();
  auto tx = sql::Transaction::begin(db);
  if (!tx.ok()) return tx.status();
  TRAM_RETURN_IF_ERROR(set_meta("heal", "1"));  // until the server has this device's chain again
  // The restored server gives rows it re-creates versions this device's cursor may be past:
  // pull everything again (the snapshot), and check that the server holds the evidence files.
  TRAM_RETURN_IF_ERROR(db.exec("DELETE FROM _client_meta WHERE k IN ('pull_cursor', 'snapshot_cursor')"));
  TRAM_RETURN_IF_ERROR(db.exec("UPDATE _client_uploads SET done = 0"));
  // The new head is the one to compare with from now on, or every sync would start again.
  TRAM_RETURN_IF_ERROR(set_meta("head_seq", std::to_string(server_seq)));
  TRAM_RETURN_IF_ERROR(tx->commit());
  known_head = server_seq;
  return {};
}

Status Client::Impl::prune_sent() {
  // Both clocks must agree that the time has passed: this phone's may be wrong, and the server's
  // is known only from its receipts.
  auto st = store->db().prepare(
      "DELETE FROM _client_sent WHERE received_at_ms < MIN(?1, (SELECT MAX(received_at_ms) FROM _client_sent)) - ?2"
      " AND seq < (SELECT MAX(seq) FROM _client_sent)");
  if (!st.ok()) return st.status();
  st->bind_int(1, clock->now_ms());
  st->bind_int(2, static_cast<int64_t>(std::max(0, opt.keep_sent_days)) * 86'400'000);
  return st->run();
}

// ---- Client ------------------------------------------------------------------------------

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() { stop_background(); }

Result<std::unique_ptr<Client>> Client::open(Options options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  TRAM_RETURN_IF_ERROR(impl->open());
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

DeviceInfo Client::info() {
  std::lock_guard lock(impl_->mu);
  Impl& m = *impl_;
  DeviceInfo d;
  d.enrolled = m.device.has_value() && !m.user.empty();
  d.server_url = m.server_url;
  d.user = m.user;
  d.role = m.role_name_;
  d.units = m.units;
  d.all_units = m.all_units;
  if (m.device) d.device = *m.device;
  if (m.server_key) d.server_key = *m.server_key;
  d.previous_server_keys = m.old_server_keys;
  if (m.chain) d.seq = m.chain->head().seq;
  auto count = [&](const char* q) -> uint64_t {
    auto st = m.store->db().prepare(q);
    if (!st.ok() || !st->step().value_or(false)) return 0;
    return static_cast<uint64_t>(st->column_int(0));
  };
  d.pending = count("SELECT COUNT(*) FROM _client_outbox WHERE state = 0");
  d.rejected = count("SELECT COUNT(*) FROM _client_outbox WHERE state = 1");
  d.receipts = count("SELECT COUNT(*) FROM _client_receipts");
  d.conflicts = count("SELECT COUNT(*) FROM _client_conflicts");
  d.kept = count("SELECT COUNT(*) FROM _client_sent");
  if (auto t = m.meta("last_sync_ms").value_or(std::nullopt)) d.last_sync_ms = std::stoll(*t);
  d.last_error = m.meta("last_error").value_or(std::nullopt).value_or("");
  d.clock_ahead = m.meta("clock_ahead").value_or(std::nullopt).value_or("") == "1";
  return d;
}

Result<Committed> Client::commit(const WriteTxn& txn) {
  Impl& m = *impl_;
  Touched touched;
  Committed out;
  {
    std::lock_guard lock(m.mu);
    if (!m.chain || m.user.empty()) return fail(Errc::not_enrolled, "enrol this device first");
    if (txn.empty()) return fail(Errc::invalid_argument, "an empty transaction");
    // One op per row: later operations on the same row fold into the first.
    std::vector<Op> ops;
    std::map<std::pair<std::string, std::string>, size_t> at;
    for (const WriteTxn::PendingOp& p : txn.ops()) {
      const TableDef* t = m.schema->table(p.table);
      if (!t) return fail(Errc::unknown_table, "no table \"" + p.table + "\"");
      const std::string& id = p.id;
      if (!is_valid_row_id(id)) return fail(Errc::invalid_value, p.table + ": \"" + id + "\" is not a valid row id");
      auto image = m.store->row_image(p.table, id);
      if (!image.ok()) return image.status();
      const bool alive = *image && std::get<int64_t>((*image)->cells[0].value) == 0;
      auto [it, fresh] = at.emplace(std::pair(p.table, id), ops.size());
      if (fresh) {
        if (p.kind == WriteTxn::PendingOp::insert && alive) return fail(Errc::already_exists, p.table + "/" + id + " exists already");
        if (p.kind != WriteTxn::PendingOp::insert && !alive) return fail(Errc::not_found, p.table + "/" + id + " does not exist");
        ops.push_back(Op{p.table, id, OpKind::put, {}, {}});
      }
      Op& op = ops[it->second];
      if (p.kind == WriteTxn::PendingOp::remove) {
        op.kind = OpKind::del;
        op.fields.clear();
      }
      for (const auto& [name, value] : p.fields) {
        const FieldDef* f = t->field(std::string_view(name));
        if (!f) return fail(Errc::unknown_field_id, p.table + ": no field \"" + name + "\"");
        Value v = value;
        if (auto* text = std::get_if<Text>(&v)) {
          auto nfc = to_nfc(text->s);
          if (!nfc.ok()) return nfc.status();
          text->s = std::move(nfc).value();
        }
        std::erase_if(op.fields, [&](const FieldWrite& w) { return w.field == f->id; });
        op.fields.push_back({f->id, std::move(v)});
      }
      std::sort(op.fields.begin(), op.fields.end(), [](const FieldWrite& a, const FieldWrite& b) { return a.field < b.field; });
      // Bases: the writes this edit saw, so that the merge can tell a sequential edit from a
      // concurrent one (docs/merge.md §5).
      op.bases.clear();
      if (*image) {
        const auto& cells = (*image)->cells;
        if (auto w = writer_prefix(cells[0])) op.bases.push_back({kLivenessField, *w});
        for (const FieldWrite& fw : op.fields) {
          const size_t k = static_cast<size_t>(std::find_if(t->fields.begin(), t->fields.end(),
                                                            [&](const FieldDef& d) { return d.id == fw.field; }) - t->fields.begin()) + 1;
          if (auto w = writer_prefix(cells[k])) op.bases.push_back({fw.field, *w});
        }
      }
      touched[p.table].insert(id);
    }
    // The same rules the server applies, before signing: an official learns at once, offline,
    // that a record is outside their commune.
    ChangeSet probe;
    probe.ops = ops;
    TRAM_RETURN_IF_ERROR(authorize(m.principal(), probe, *m.store));

    auto made = m.chain->make(std::move(ops));
    if (!made.ok()) return made.status();
    auto& db = m.store->db();
    Status st = [&]() -> Status {
      auto tx = sql::Transaction::begin(db);
      if (!tx.ok()) return tx.status();
      auto has_base = db.prepare("SELECT 1 FROM _client_base WHERE tbl = ? AND row_id = ?");
      auto put_base = db.prepare("INSERT INTO _client_base(tbl, row_id, image) VALUES (?, ?, ?)");
      auto touch = db.prepare("INSERT OR IGNORE INTO _client_touched(seq, tbl, row_id) VALUES (?, ?, ?)");
      if (!has_base.ok() || !put_base.ok() || !touch.ok()) return fail(Errc::storage_error, "commit: prepare failed");
      for (const Op& op : made->cs.ops) {
        // Keep the server's image of a row before its first pending edit, to rebuild from.
        has_base->reset();
        has_base->bind_text(1, op.table);
        has_base->bind_text(2, op.row);
        auto has = has_base->step();
        if (!has.ok()) return has.status();
        if (!*has) {
          auto image = m.store->row_image(op.table, op.row);
          if (!image.ok()) return image.status();
          put_base->reset();
          put_base->bind_text(1, op.table);
          put_base->bind_text(2, op.row);
          if (*image) put_base->bind_text(3, wire::row_image_to_json(**image));
          TRAM_RETURN_IF_ERROR(put_base->run());
        }
        touch->reset();
        touch->bind_int(1, static_cast<int64_t>(made->cs.seq));
        touch->bind_text(2, op.table);
        touch->bind_text(3, op.row);
        TRAM_RETURN_IF_ERROR(touch->run());
      }
      const ApplyItem item{&made->cs, made->id, ClockTrust::trusted};
      auto applied = m.store->apply(std::span(&item, 1));
      if (!applied.ok()) return applied.status();
      auto ins = db.prepare("INSERT INTO _client_outbox(seq, id, bytes, sig, created_ms, state) VALUES (?, ?, ?, ?, ?, 0)");
      if (!ins.ok()) return ins.status();
      ins->bind_int(1, static_cast<int64_t>(made->cs.seq));
      ins->bind_blob(2, made->id);
      ins->bind_blob(3, std::span(reinterpret_cast<const uint8_t*>(made->signed_cs.bytes.data()), made->signed_cs.bytes.size()));
      ins->bind_blob(4, made->signed_cs.sig);
      ins->bind_int(5, m.clock->now_ms());
      TRAM_RETURN_IF_ERROR(ins->run());
      TRAM_RETURN_IF_ERROR(m.set_meta("seq", std::to_string(made->cs.seq)));
      TRAM_RETURN_IF_ERROR(m.set_meta("last_id", to_hex(made->id)));
      TRAM_RETURN_IF_ERROR(m.set_meta("hlc", std::to_string(made->cs.hlc.packed)));
      return tx->commit();
    }();
    if (!st.ok()) {
      // Nothing was saved: put the chain back where the database says it is.
      (void)m.reload_chain();
      return st;
    }
    out.seq = made->cs.seq;
    out.id = made->id;
  }
  m.notify(touched);
  return out;
}

// ---- reads -------------------------------------------------------------------------------

namespace {
Row to_row(const TableDef& t, const std::string& id, const RowState& s) {
  Row r;
  r.table = t.name;
  r.id = id;
  for (size_t k = 0; k < t.fields.size() && k < s.fields.size(); ++k) {
    if (s.fields[k].writer) r.fields[t.fields[k].name] = s.fields[k].value;
  }
  return r;
}
}  // namespace

Result<std::optional<Row>> Client::get(const std::string& table, const std::string& id) {
  std::lock_guard lock(impl_->mu);
  const TableDef* t = impl_->schema->table(table);
  if (!t) return fail(Errc::unknown_table, "no table \"" + table + "\"");
  auto s = impl_->store->get_row(table, id);
  if (!s.ok()) return s.status();
  if (!*s || (*s)->deleted) return std::optional<Row>();
  Row r = to_row(*t, id, **s);
  auto st = impl_->store->db().prepare(kRowHasPending);
  if (st.ok()) {
    st->bind_text(1, table);
    st->bind_text(2, id);
    r.pending = st->step().value_or(false);
  }
  return std::optional<Row>(std::move(r));
}

Result<std::vector<Row>> Client::query(const Query& q) {
  std::lock_guard lock(impl_->mu);
  const TableDef* t = impl_->schema->table(q.table);
  if (!t) return fail(Errc::unknown_table, "no table \"" + q.table + "\"");
  std::string sqltext = "SELECT id FROM " + sql::quote_ident(t->name) + " WHERE " + (q.include_deleted ? "1" : "_deleted = 0");
  for (const Filter& f : q.where) {
    const FieldDef* def = t->field(std::string_view(f.field));
    if (!def) return fail(Errc::unknown_field_id, q.table + ": no field \"" + f.field + "\"");
    const std::string col = sql::quote_ident(def->name);
    static constexpr const char* kOps[] = {" = ?", " <> ?", " < ?", " <= ?", " > ?", " >= ?"};
    if (f.op == Filter::contains) {
      sqltext += " AND instr(tram_fold(" + col + "), tram_fold(?)) > 0";
    } else {
      sqltext += " AND " + col + kOps[f.op];
    }
  }
  if (!q.order_by.empty()) {
    const FieldDef* def = t->field(std::string_view(q.order_by));
    if (!def) return fail(Errc::unknown_field_id, q.table + ": no field \"" + q.order_by + "\"");
    sqltext += " ORDER BY " + sql::quote_ident(def->name) + (def->type == ValueType::text ? " COLLATE tram_vi" : "") +
               (q.descending ? " DESC" : "") + ", id";
  } else {
    sqltext += std::string(" ORDER BY id") + (q.descending ? " DESC" : "");
  }
  sqltext += " LIMIT ? OFFSET ?";
  auto st = impl_->store->db().prepare(sqltext);
  if (!st.ok()) return st.status();
  int i = 1;
  for (const Filter& f : q.where) bind_plain(*st, i++, f.value);
  st->bind_int(i++, static_cast<int64_t>(q.limit));
  st->bind_int(i, static_cast<int64_t>(q.offset));
  std::vector<std::string> ids;
  for (;;) {
    auto has = st->step();
    if (!has.ok()) return has.status();
    if (!*has) break;
    ids.emplace_back(st->column_text(0));
  }
  auto pending = impl_->store->db().prepare(kRowHasPending);
  if (!pending.ok()) return pending.status();
  std::vector<Row> out;
  for (const std::string& id : ids) {
    auto s = impl_->store->get_row(t->name, id);
    if (!s.ok()) return s.status();
    if (!*s) continue;
    out.push_back(to_row(*t, id, **s));
    pending->reset();
    pending->bind_text(1, t->name);
    pending->bind_text(2, id);
    out.back().pending = pending->step().value_or(false);
  }
  return out;
}

Result<std::string> Client::sql_json(const std::string& select) {
  std::lock_guard lock(impl_->mu);
  sqlite3* db = impl_->store->db().handle();
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  if (sqlite3_prepare_v2(db, select.c_str(), static_cast<int>(select.size()), &raw, &tail) != SQLITE_OK) {
    return fail(Errc::invalid_argument, sqlite3_errmsg(db));
  }
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
  if (!stmt || !sqlite3_stmt_readonly(stmt.get())) return fail(Errc::invalid_argument, "only one read-only statement (SELECT) is allowed");
  for (; tail && *tail; ++tail) {
    if (!std::isspace(static_cast<unsigned char>(*tail)) && *tail != ';') return fail(Errc::invalid_argument, "only one statement is allowed");
  }
  std::string out = "[";
  int rc;
  size_t n = 0;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    out += n++ ? ",{" : "{";
    for (int c = 0; c < sqlite3_column_count(stmt.get()); ++c) {
      if (c) out.push_back(',');
      json::append_string(out, sqlite3_column_name(stmt.get(), c));
      out.push_back(':');
      switch (sqlite3_column_type(stmt.get(), c)) {
        case SQLITE_INTEGER: out += std::to_string(sqlite3_column_int64(stmt.get(), c)); break;
        case SQLITE_FLOAT: append_plain(out, Value{sqlite3_column_double(stmt.get(), c)}); break;
        case SQLITE_TEXT: json::append_string(out, reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), c))); break;
        case SQLITE_BLOB: {
          const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt.get(), c));
          out += "\"" + to_hex(std::span(p, static_cast<size_t>(sqlite3_column_bytes(stmt.get(), c)))) + "\"";
          break;
        }
        default: out += "null";
      }
    }
    out.push_back('}');
  }
  if (rc != SQLITE_DONE) return fail(Errc::storage_error, sqlite3_errmsg(db));
  return out + "]";
}

// ---- what the user sees ------------------------------------------------------------------

Result<std::vector<OutboxEntry>> Client::outbox() {
  std::lock_guard lock(impl_->mu);
  auto st = impl_->store->db().prepare("SELECT seq, id, created_ms, state, code, message, bytes FROM _client_outbox ORDER BY seq");
  if (!st.ok()) return st.status();
  std::vector<OutboxEntry> out;
  for (;;) {
    auto has = st->step();
    if (!has.ok()) return has.status();
    if (!*has) break;
    OutboxEntry e;
    e.seq = static_cast<uint64_t>(st->column_int(0));
    e.id = hash_at(*st, 1);
    e.created_ms = st->column_int(2);
    e.state = st->column_int(3) == kRejected ? OutboxEntry::rejected : OutboxEntry::pending;
    e.code = st->column_text(4);
    e.message = st->column_text(5);
    auto bytes = st->column_blob(6);
    auto cs = decode(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
    e.ops_json = cs.ok() ? ops_json(*cs, *impl_->schema) : "[]";
    out.push_back(std::move(e));
  }
  return out;
}

Status Client::dismiss_rejected(uint64_t seq) {
  std::lock_guard lock(impl_->mu);
  auto st = impl_->store->db().prepare("DELETE FROM _client_outbox WHERE seq = ? AND state = 1");
  if (!st.ok()) return st.status();
  st->bind_int(1, static_cast<int64_t>(seq));
  TRAM_RETURN_IF_ERROR(st->run());
  if (impl_->store->db().changes() == 0) return fail(Errc::not_found, "no rejected change set " + std::to_string(seq));
  return {};
}

Result<std::vector<ReceiptInfo>> Client::receipts(const std::string& table, const std::string& row) {
  std::lock_guard lock(impl_->mu);
  auto& db = impl_->store->db();
  auto st = db.prepare(
      "SELECT seq, id, server_seq, status, code, received_at_ms, clock_ahead, body, sig FROM _client_receipts r"
      " WHERE ?1 = '' OR EXISTS (SELECT 1 FROM _client_touched t WHERE t.seq = r.seq AND t.tbl = ?1 AND (?2 = '' OR t.row_id = ?2))"
      " ORDER BY seq");
  auto rows = db.prepare("SELECT tbl, row_id FROM _client_touched WHERE seq = ? ORDER BY tbl, row_id");
  if (!st.ok() || !rows.ok()) return fail(Errc::storage_error, "receipts: prepare failed");
  st->bind_text(1, table);
  st->bind_text(2, row);
  std::vector<ReceiptInfo> out;
  for (;;) {
    auto has = st->step();
    if (!has.ok()) return has.status();
    if (!*has) break;
    ReceiptInfo r;
    r.seq = static_cast<uint64_t>(st->column_int(0));
    r.id = hash_at(*st, 1);
    r.server_seq = static_cast<uint64_t>(st->column_int(2));
    r.status = st->column_text(3);
    r.code = st->column_text(4);
    r.received_at_ms = st->column_int(5);
    r.clock_ahead = st->column_int(6) != 0;
    r.body = st->column_text(7);
    r.sig = st->column_text(8);
    rows->reset();
    rows->bind_int(1, static_cast<int64_t>(r.seq));
    while (rows->step().value_or(false)) r.rows.emplace_back(rows->column_text(0), rows->column_text(1));
    out.push_back(std::move(r));
  }
  return out;
}

Status Client::verify_receipt(const ReceiptInfo& receipt) {
  std::lock_guard lock(impl_->mu);
  if (!impl_->server_key || !impl_->device) return fail(Errc::not_enrolled, "no pinned server key");
  auto r = impl_->verify_signed_receipt(receipt.body, receipt.sig);
  if (!r.ok()) return r.status();
  if (r->device != *impl_->device || r->id != receipt.id || r->seq != receipt.seq) {
    return fail(Errc::bad_signature, "the receipt names another change set");
  }
  return {};
}

Result<std::vector<ConflictInfo>> Client::conflicts() {
  std::lock_guard lock(impl_->mu);
  auto st = impl_->store->db().prepare(
      "SELECT tbl, row_id, field, winner, loser, mine_lost, loser_value FROM _client_conflicts ORDER BY tbl, row_id, field");
  if (!st.ok()) return st.status();
  std::vector<ConflictInfo> out;
  for (;;) {
    auto has = st->step();
    if (!has.ok()) return has.status();
    if (!*has) break;
    ConflictInfo c;
    c.table = st->column_text(0);
    c.row = st->column_text(1);
    const auto field = static_cast<uint32_t>(st->column_int(2));
    const TableDef* t = impl_->schema->table(c.table);
    const FieldDef* f = t ? t->field(field) : nullptr;
    c.field = field == kLivenessField ? "(deleted)" : f ? f->name : std::to_string(field);
    c.winner = hash_at(*st, 3);
    c.loser = hash_at(*st, 4);
    c.mine_lost = st->column_int(5) != 0;
    c.loser_value = wire::parse_value(st->column_text(6)).value_or(Value{});
    out.push_back(std::move(c));
  }
  return out;
}

Result<AttachmentRef> Client::add_attachment(const std::string& file_path) {
  std::ifstream in(file_path, std::ios::binary);
  if (!in) return fail(Errc::not_found, "cannot read " + file_path);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.size() > (25u << 20)) return fail(Errc::too_large, file_path + " is over 25 MiB, the server's limit");
  const Hash h = blake2b_256(bytes);
  const fs::path dir = impl_->opt.path + ".files";
  std::error_code ec;
  if (!fs::exists(dir, ec)) {
    fs::create_directories(dir, ec);
    ::chmod(dir.c_str(), 0700);  // evidence photos are the official's: this user only
  }
  const fs::path dst = dir / to_hex(h);
  if (!fs::exists(dst)) {
    const fs::path tmp = dst.string() + ".tmp";
    TRAM_RETURN_IF_ERROR(write_private_file(tmp.string(), bytes));
    fs::rename(tmp, dst, ec);
    if (ec) return fail(Errc::storage_error, ec.message());
  }
  std::lock_guard lock(impl_->mu);
  auto st = impl_->store->db().prepare("INSERT OR IGNORE INTO _client_uploads(hash, size, done) VALUES (?, ?, 0)");
  if (!st.ok()) return st.status();
  st->bind_text(1, to_hex(h));
  st->bind_int(2, static_cast<int64_t>(bytes.size()));
  TRAM_RETURN_IF_ERROR(st->run());
  return AttachmentRef{h};
}

// ---- store and forward -------------------------------------------------------------------

Result<size_t> Client::export_bundle(const std::string& path) {
  std::string body = "{\"changesets\":[";
  size_t n = 0;
  std::string device_hex;
  Signature sig{};
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->chain) return fail(Errc::not_enrolled, "enrol this device first");
    auto st = impl_->store->db().prepare("SELECT bytes, sig FROM _client_outbox WHERE state = 0 ORDER BY seq");
    if (!st.ok()) return st.status();
    while (st->step().value_or(false)) {
      auto bytes = st->column_blob(0);
      body += (n++ ? "," : "") + std::string("{\"cs\":\"") +
              to_base64(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size())) + "\",\"sig\":\"" +
              to_hex(st->column_blob(1)) + "\"}";
    }
    body += "]}";
    sig = impl_->chain->key().sign("tram-bundle-v1:" + body);
    device_hex = to_hex(*impl_->device);
  }
  const std::string bundle = "{\"v\":1,\"kind\":\"tram-bundle\",\"device\":\"" + device_hex + "\",\"created_ms\":" +
                             std::to_string(impl_->clock->now_ms()) + ",\"body\":" + json::quote(body) + ",\"sig\":\"" +
                             to_hex(sig) + "\"}";
  const std::string tmp = path + ".tmp";
  TRAM_RETURN_IF_ERROR(write_private_file(tmp, bundle));
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return fail(Errc::storage_error, ec.message());
  return n;
}

std::vector<PushResult> parse_results(dom::array results);

Result<SyncReport> Client::import_receipts(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Errc::not_found, "cannot read " + path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  dom::parser parser;
  dom::object o;
  std::string_view kind, dev, server;
  dom::array results;
  if (parser.parse(text).get_object().get(o) || o["kind"].get_string().get(kind) || kind != "tram-receipts" ||
      o["device"].get_string().get(dev) || o["server"].get_string().get(server) ||
      o["response"]["results"].get_array().get(results)) {
    return fail(Errc::malformed_json, path + " is not a receipt bundle");
  }
  SyncReport report;
  Touched changed;
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->device || dev != to_hex(*impl_->device)) return fail(Errc::device_mismatch, "the receipts are for another device");
    const auto key = from_hex<32>(server);
    if (!key || !impl_->trusts(*key)) {
      return fail(Errc::bad_signature, "the receipts are signed by server key " + std::string(server).substr(0, 16) +
                                            "…, which this device does not trust: another server, or a key rotated since"
                                            " this device last synced (sync once to follow it, then import again)");
    }
    Status st = impl_->record_results(parse_results(results), report, changed);
    if (!st.ok() && st.code() != Errc::rejected) return st;
  }
  impl_->notify(changed);
  return report;
}

void Client::set_change_listener(std::function<void(const std::string&, const std::vector<std::string>&)> fn) {
  std::lock_guard lock(impl_->listener_mu);
  impl_->listener = std::move(fn);
}

// ---- JSON for apps -----------------------------------------------------------------------

Result<std::map<std::string, Value>> Client::fields_from_json(const std::string& table, const std::string& json_object) {
  const TableDef* t = impl_->schema->table(table);
  if (!t) return fail(Errc::unknown_table, "no table \"" + table + "\"");
  dom::parser parser;
  dom::object o;
  if (parser.parse(json_object).get_object().get(o)) return fail(Errc::malformed_json, "fields: expected a JSON object");
  std::map<std::string, Value> out;
  for (auto [key, v] : o) {
    const FieldDef* f = t->field(key);
    const std::string where = table + "." + std::string(key);
    if (!f) return fail(Errc::unknown_field_id, table + ": no field \"" + std::string(key) + "\"");
    Value value;
    if (v.is_null()) {
      out[f->name] = value;
      continue;
    }
    switch (f->type) {
      case ValueType::integer:
        if (!v.is_int64()) return fail(Errc::type_mismatch, where + ": expected an integer");
        value = int64_t(v);
        break;
      case ValueType::real:
        if (!v.is_number()) return fail(Errc::type_mismatch, where + ": expected a number");
        value = double(v);
        break;
      case ValueType::boolean:
        if (!v.is_bool()) return fail(Errc::type_mismatch, where + ": expected true or false");
        value = bool(v);
        break;
      case ValueType::text: {
        if (!v.is_string()) return fail(Errc::type_mismatch, where + ": expected a string");
        auto text = make_text(std::string_view(v));
        if (!text.ok()) return text.status();
        value = std::move(text).value();
        break;
      }
      case ValueType::date: {
        std::optional<Date> d;
        if (!v.is_string() || !(d = Date::parse(std::string_view(v)))) return fail(Errc::type_mismatch, where + ": expected \"YYYY-MM-DD\"");
        value = *d;
        break;
      }
      case ValueType::attachment: {
        std::optional<Hash> h;
        if (!v.is_string() || !(h = from_hex<32>(std::string_view(v)))) return fail(Errc::type_mismatch, where + ": expected 64 hex digits");
        value = AttachmentRef{*h};
        break;
      }
      case ValueType::null: break;
    }
    out[f->name] = std::move(value);
  }
  return out;
}

std::string Client::row_to_json(const Row& row) {
  std::string out = "{\"table\":" + json::quote(row.table) + ",\"id\":" + json::quote(row.id) +
                    ",\"pending\":" + (row.pending ? "true" : "false") + ",\"fields\":{";
  size_t n = 0;
  for (const auto& [name, v] : row.fields) {
    out += (n++ ? "," : "") + json::quote(name) + ":";
    append_plain(out, v);
  }
  return out + "}}";
}

}  // namespace tram::client
