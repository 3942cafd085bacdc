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
#include <limits>

#include <simdjson.h>

#include "client_impl.hpp"
#include "tram/engine/gzip.hpp"
#include "tram/engine/json.hpp"
#include "tram/engine/schema_loader.hpp"
#include "tram/engine/text.hpp"
#include "tram/engine/wire_writer.hpp"

namespace tram::client {
namespace fs = std::filesystem;
namespace dom = simdjson::dom;

namespace {

Status fail(Errc c, std::string m) { return {c, std::move(m)}; }


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
  {
    // The file the loader took the newest version from (it checked the version it declares).
    std::ifstream in(fs::path(opt.schemas_dir) / ("v" + std::to_string(schema->version) + ".json"), std::ios::binary);
    schema_source.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  auto ls = LocalStore::open(opt.path, *schema);
  if (!ls.ok()) return ls.status();
  local = std::move(ls).value();
  hlc.emplace(*clock, 5 * 60 * 1000);
  session = std::make_unique<DeviceSession>(opt, cancelled, DeviceSession::Device{
      [this]() -> Result<PublicKey> {
        std::lock_guard lock(mu);
        if (!device || !chain) return fail(Errc::not_enrolled, "enrol this device first");
        return *device;
      },
      [this](std::string_view text) -> Result<Signature> {
        std::lock_guard lock(mu);
        if (!chain) return fail(Errc::not_enrolled, "enrol this device first");
        return chain->key().sign(text);
      },
      [this] {
        std::lock_guard lock(mu);
        return server_url;
      }});
  heads = std::make_unique<LogHeads>(*local);
  const SyncParts parts{*local, mu, *heads, *session, opt, cancelled, [this](const Touched& changed) { notify(changed); }};
  puller = std::make_unique<Puller>(Puller::Parts{parts, *schema});
  pusher = std::make_unique<Pusher>(Pusher::Parts{
      parts, *clock,
      Pusher::Identity{[this] { return device; }, [this] { return server_key; },
                       [this](std::string_view body, std::string_view sig) {
                         auto r = verify_signed_receipt(body, sig);
                         // The receipt's signed time is a floor for this device's clock: its next
                         // change set is never dated before the last server time it saw (the lower
                         // bound of a submission's time, report/timeliness.hpp).
                         if (r.ok() && r->received_at_ms > hlc->last().wall_ms()) {
                           hlc->raise_to(r->received_at_ms);
                           (void)set_meta("hlc", std::to_string(hlc->last().packed));
                         }
                         return r;
                       }}});
  return load_identity();
}

Principal Client::Impl::principal() const {
  Principal p;
  p.role = role;
  p.units = units;
  p.all_units = all_units;
  p.name = user_name;
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

Status Client::Impl::prune_sent() {
  return local->prune_sent(clock->now_ms(), static_cast<int64_t>(std::max(0, opt.keep_sent_days)) * 86'400'000);
}

// ---- Client ------------------------------------------------------------------------------

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() { stop_background(); }

Result<std::unique_ptr<Client>> Client::open(Options options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  TRAM_RETURN_IF_ERROR(impl->open());
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

const Schema& Client::schema() const { return *impl_->schema; }
const std::string& Client::schema_json() const { return impl_->schema_source; }

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
  d.name = m.user_name;
  if (m.device) d.device = *m.device;
  if (m.server_key) d.server_key = *m.server_key;
  d.previous_server_keys = m.old_server_keys;
  if (m.chain) d.seq = m.chain->head().seq;
  const LocalCounts n = m.local->counts();
  d.pending = n.pending;
  d.rejected = n.rejected;
  d.receipts = n.receipts;
  d.conflicts = n.conflicts;
  d.kept = n.kept;
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
      auto image = m.local->rows().row_image(p.table, id);
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
    TRAM_RETURN_IF_ERROR(authorize(m.principal(), probe, m.local->rows()));

    auto made = m.chain->make(std::move(ops));
    if (!made.ok()) return made.status();
    LocalStore& ls = *m.local;
    Status st = [&]() -> Status {
      auto tx = ls.begin();
      if (!tx.ok()) return tx.status();
      for (const Op& op : made->cs.ops) {
        // Keep the server's image of a row before its first pending edit, to rebuild from.
        TRAM_RETURN_IF_ERROR(ls.keep_base(op.table, op.row));
        TRAM_RETURN_IF_ERROR(ls.touch(made->cs.seq, op.table, op.row));
      }
      const ApplyItem item{&made->cs, made->id, ClockTrust::trusted};
      auto applied = ls.rows().apply(std::span(&item, 1));
      if (!applied.ok()) return applied.status();
      TRAM_RETURN_IF_ERROR(ls.add_to_outbox(made->cs.seq, made->id, made->signed_cs.bytes, made->signed_cs.sig, m.clock->now_ms()));
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

// ---- what the user sees ------------------------------------------------------------------

Result<std::vector<OutboxEntry>> Client::outbox() {
  std::lock_guard lock(impl_->mu);
  auto rows = impl_->local->outbox();
  if (!rows.ok()) return rows.status();
  std::vector<OutboxEntry> out;
  for (OutboxRow& row : *rows) {
    OutboxEntry e;
    e.seq = row.seq;
    e.id = row.id;
    e.created_ms = row.created_ms;
    e.state = row.rejected ? OutboxEntry::rejected : OutboxEntry::pending;
    e.code = std::move(row.code);
    e.message = std::move(row.message);
    auto cs = decode(row.bytes);
    e.ops_json = cs.ok() ? ops_json(*cs, *impl_->schema) : "[]";
    out.push_back(std::move(e));
  }
  return out;
}

Status Client::dismiss_rejected(uint64_t seq) {
  std::lock_guard lock(impl_->mu);
  auto gone = impl_->local->dismiss_rejected(seq);
  if (!gone.ok()) return gone.status();
  if (!*gone) return fail(Errc::not_found, "no rejected change set " + std::to_string(seq));
  return {};
}

Result<std::vector<ReceiptInfo>> Client::receipts(const std::string& table, const std::string& row) {
  std::lock_guard lock(impl_->mu);
  return impl_->local->receipts(table, row);
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
  return impl_->local->conflicts();
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
  TRAM_RETURN_IF_ERROR(impl_->local->queue_upload(to_hex(h), bytes.size()));
  return AttachmentRef{h};
}

void Client::set_change_listener(std::function<void(const std::string&, const std::vector<std::string>&)> fn) {
  std::lock_guard lock(impl_->listener_mu);
  impl_->listener = std::move(fn);
}

}  // namespace tram::client
