#include "service.hpp"

#include <simdjson.h>
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <cstdio>

#include "report.hpp"
#include "tram/engine/gzip.hpp"
#include "tram/engine/json.hpp"

namespace tram::server {
Response error_response(int status, std::string_view code, std::string_view message) {
  Response r;
  r.status = status;
  r.error_code = code;
  r.body = "{\"error\":{\"code\":" + json::quote(code) + ",\"message\":" + json::quote(message) + "}}";
  if (status == 503) r.retry_after_s = 5;  // storage trouble or overload: a moment, not at once
  return r;
}

namespace {

namespace dom = simdjson::dom;

Response error(int status, std::string_view code, std::string_view message) {
  return error_response(status, code, message);
}

Response ok(std::string body) {
  Response r;
  r.body = std::move(body);
  return r;
}

std::string query_param(std::string_view target, std::string_view name) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view kv = rest.substr(0, amp);
    const size_t eq = kv.find('=');
    if (kv.substr(0, eq) == name) return eq == std::string_view::npos ? "" : std::string(kv.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return {};
}

std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }

// At most `max` decimal digits and nothing else: a query number (empty: the parameter is absent).
bool decimal(std::string_view x, size_t max = 19) {
  return x.size() <= max && std::all_of(x.begin(), x.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string to_hex_string(std::string_view s) {
  return to_hex(std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

std::optional<std::string> from_hex_string(std::string_view hex) {
  if (hex.size() % 2 != 0 || hex.size() > 1024) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

// The rows of one pull or snapshot page as JSON (docs/protocol.md §8.2): each writer's id once
// per page, cells as [value, rank, writer index], a row's conflict records with it.
class PageWriter {
 public:
  explicit PageWriter(Store& store) : store_(store), any_conflicts_(store.has_conflicts().value_or(true)) {}
  size_t rows() const { return sent_; }

  Status add(uint64_t version, std::string_view table, std::string_view id, const RowImage& image) {
    rows_ += sent_++ ? ",{\"v\":" : "{\"v\":";
    rows_ += std::to_string(version);
    rows_ += ",\"t\":";
    json::append_string(rows_, table);
    rows_ += ",\"id\":";
    json::append_string(rows_, id);
    // The row's common writer and rank (usually every cell's: the change set that created it)
    // are said once; cells written by them travel as bare values.
    const CellImage* common = nullptr;
    for (const CellImage& cell : image.cells) {
      if (cell.writer) {
        common = &cell;
        break;
      }
    }
    size_t common_w = 0;
    if (common) {
      common_w = index_of(*common->writer);
      rows_ += ",\"r\":";
      rows_ += std::to_string(common->rank);
      rows_ += ",\"w\":";
      rows_ += std::to_string(common_w);
    }
    rows_ += ",\"c\":[";
    for (size_t k = 0; k < image.cells.size(); ++k) {
      if (k) rows_.push_back(',');
      const CellImage& cell = image.cells[k];
      if (!cell.writer) {
        rows_ += "null";
        continue;
      }
      const size_t w = index_of(*cell.writer);
      const bool bare = w == common_w && cell.rank == common->rank && value_type(cell.value) != ValueType::null;
      if (bare) {
        json::append_value(rows_, cell.value);
        continue;
      }
      rows_.push_back('[');
      json::append_value(rows_, cell.value);
      rows_.push_back(',');
      rows_ += std::to_string(cell.rank);
      rows_.push_back(',');
      rows_ += std::to_string(w);
      rows_.push_back(']');
    }
    rows_ += "]";
    // One query per page skips the per-row look-up while the replica holds no conflicts.
    if (any_conflicts_) {
      auto conflicts = store_.conflicts_of(table, id);
      if (!conflicts.ok()) return conflicts.status();
      for (size_t k = 0; k < conflicts->size(); ++k) {
        const ConflictRecord& c = (*conflicts)[k];
        rows_ += (k ? ",[" : ",\"x\":[[") + std::to_string(c.field) + "," + std::to_string(index_of(c.winner)) + "," +
                 std::to_string(index_of(c.loser)) + ",";
        json::append_value(rows_, c.loser_value);
        rows_ += "]";
      }
      if (!conflicts->empty()) rows_ += "]";
    }
    rows_ += "}";
    return {};
  }

  // The whole body. `lead` (next, more, cursor) comes first, so that a client can ask for the
  // following page before it parses this one (protocol §8.2); `tail` after rows and writers.
  std::string finish(const std::string& lead, const std::string& tail) {
    std::string out = "{" + lead + ",\"rows\":[";
    out.reserve(rows_.size() + 80 * writers_.size() + lead.size() + tail.size() + 32);
    out += rows_;
    out += "],\"writers\":[";
    for (size_t k = 0; k < writers_.size(); ++k) out += (k ? ",\"" : "\"") + to_hex(writers_[k]) + "\"";
    out += "],";
    out += tail;
    out += "}";
    return out;
  }

 private:
  size_t index_of(const Hash& w) {
    auto [it, inserted] = writer_index_.emplace(w, writers_.size());
    if (inserted) writers_.push_back(w);
    return it->second;
  }

  Store& store_;
  bool any_conflicts_;
  std::string rows_;
  size_t sent_ = 0;
  std::vector<Hash> writers_;
  std::map<Hash, size_t> writer_index_;
};

std::string units_json(const std::vector<std::string>& units) {
  std::string out = "[";
  for (size_t i = 0; i < units.size(); ++i) out += (i ? "," : "") + json::quote(units[i]);
  return out + "]";
}

// Wire codes of push rejections (docs/protocol.md). Decoding errors are all "malformed", with
// the precise decode code as "detail".
std::string_view wire_code(Errc e) {
  switch (e) {
    case Errc::malformed_json: case Errc::wrong_type: case Errc::missing_field: case Errc::unknown_field:
    case Errc::duplicate_key: case Errc::too_deep: case Errc::out_of_range: case Errc::invalid_utf8:
    case Errc::not_normalized: case Errc::unsupported_version:
      return "malformed";
    case Errc::device_mismatch: return "bad_signature";
    case Errc::type_mismatch: case Errc::unknown_table: case Errc::unknown_field_id: return "invalid_value";
    default: return errc_name(e);
  }
}

const double kBuckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};

}  // namespace

Service::Service(ServiceConfig config, std::unique_ptr<Storage> storage, DeviceKey server_key, std::string admin_token,
                 ClockSource& clock, RandomSource& random)
    : config_(std::move(config)), storage_(std::move(storage)), server_key_(std::move(server_key)),
      admin_token_(std::move(admin_token)), clock_(clock), random_(random) {
  {
    dom::parser p;
    dom::array list;
    if (!p.parse(config_.key_statements).get_array().get(list)) key_statement_count_ = list.size();
  }
  if (!config_.watermark_path.empty()) {
    watermark_file_.emplace(config_.watermark_path);
    if (auto w = watermark_file_->read()) watermark_ = *w;
  }
}

// After each commit: the highest head ever signed moves up (never down: after a restore the
// mark keeps what the database lost until an operator acknowledges it).
void Service::advance_watermark(const LogHead& head) {
  if (!watermark_file_ || head.server_seq <= watermark_.server_seq) return;
  auto rows = storage_->row_version();
  watermark_ = Watermark{head.server_seq, head.log_hash, std::max(rows.ok() ? *rows : 0, watermark_.row_version)};
  (void)watermark_file_->write(watermark_);
}

Response Service::handle(const Request& req) {
  const auto start = std::chrono::steady_clock::now();
  std::string route_name = "other";
  Response r;
  try {
    r = route(req, route_name);
  } catch (const std::exception& e) {
    // A bug, not bad input: answer 500 and keep serving everyone else.
    r = error(500, "internal", e.what());
  }
  observe(route_name, r.status, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return r;
}

Response Service::route(const Request& req, std::string& route_name) {
  const std::string_view path = path_of(req.target);
  route_name = std::string(path);
  if (path == "/healthz") {
    if (!log_behind_) return ok("{\"status\":\"ok\"}");
    // Served (devices heal by re-sending), but loudly: receipted change sets are missing.
    return ok("{\"status\":\"log_behind\",\"signed_seq\":" + std::to_string(log_behind_->expected_seq) +
              ",\"found_seq\":" + std::to_string(log_behind_->found_seq) + ",\"since_ms\":" +
              std::to_string(log_behind_->since_ms) +
              ",\"message\":\"the log is behind the last head this server signed (restored backup or lost WAL); devices"
              " re-send what they hold; clear with: tram-server admin ack-log\"}");
  }
  if (path == "/metrics") {
    Response r = ok(metrics_text());
    r.content_type = "text/plain; version=0.0.4";
    return r;
  }
  if (path == "/v1/server-key" && req.method == "GET") {
    return ok("{\"key\":\"" + to_hex(server_key()) + "\",\"algorithm\":\"ed25519\",\"statements\":" +
              config_.key_statements + "}");
  }
  if (path == "/v1/enroll" && req.method == "POST") return enroll(req);
  if (path == "/v1/auth/challenge" && req.method == "POST") return challenge(req);
  if (path == "/v1/auth/session" && req.method == "POST") return open_session(req);
  if (path.starts_with("/v1/admin/")) {
    route_name = "/v1/admin";
    return admin(req, std::string(path.substr(10)));
  }
  if (path.starts_with("/v1/attachments/")) {
    route_name = "/v1/attachments";
    Response err;
    auto who = authenticate(req, err);
    if (!who.ok()) return err;
    return attachment(req, std::string(path.substr(16)), who->first, who->second);
  }
  if ((path == "/v1/push" && req.method == "POST") || (path == "/v1/pull" && req.method == "GET") ||
      (path == "/v1/snapshot" && req.method == "GET")) {
    Response err;
    auto who = authenticate(req, err);
    if (!who.ok()) return err;
    if (path == "/v1/push") return push(req, who->first, who->second);
    return path == "/v1/pull" ? pull(req, who->first, who->second) : snapshot(req, who->second);
  }
  if (path == "/v1/me" && req.method == "GET") {
    // Who this device acts for now: lets a device recover a lost enrolment answer and learn
    // an administrator's change of role or scope.
    Response err;
    auto who = authenticate(req, err);
    if (!who.ok()) return err;
    const UserRecord& u = who->second;
    return ok("{\"device\":\"" + to_hex(who->first.key) + "\",\"user\":" + json::quote(u.id) + ",\"role\":" +
              json::quote(role_name(u.role)) + ",\"units\":" + units_json(u.units) + ",\"all_units\":" +
              (u.all_units ? "true" : "false") + ",\"server_key\":\"" + to_hex(server_key()) + "\",\"seq\":" +
              std::to_string(who->first.head.seq) + ",\"key_statements\":" + std::to_string(key_statement_count_) + "}");
  }
  route_name = "other";
  return error(404, "not_found", "no route " + req.method + " " + std::string(path));
}

Response Service::enroll(const Request& req) {
  dom::parser parser;
  dom::element root;
  std::string_view code, key_hex;
  if (parser.parse(req.body).get(root) || root["code"].get_string().get(code) ||
      root["public_key"].get_string().get(key_hex)) {
    return error(400, "malformed", "expected {\"code\": string, \"public_key\": hex}");
  }
  auto key = from_hex<32>(key_hex);
  if (!key) return error(400, "malformed", "public_key must be 64 hex digits");
  // Codes are 80 bits, but guessing is still throttled per address: each wrong code counts.
  if (enrol_limited(req.remote, false)) {
    return rate_limited("enrol_failures", "too many wrong enrolment codes from this address; wait a minute", 60);
  }
  DeviceRecord d;
  UserRecord u;
  {
    std::lock_guard lock(writer_);
    auto r = storage_->enrol(blake2b_256(code), *key, clock_.now_ms());
    if (!r.ok()) {
      if (r.code() == Errc::duplicate && r.status().message().find("device") != std::string::npos) {
        return error(409, "already_enrolled", r.status().message());
      }
      if (r.code() == Errc::storage_error) return error(503, "storage", r.status().message());
      enrol_limited(req.remote, true);
      return error(403, "enrolment_refused", r.status().message());
    }
    d = *r;
    auto user = storage_->user(d.user);
    if (!user.ok() || !*user) return error(500, "internal", "enrolment code names an unknown user");
    u = **user;
    storage_->checkpoint();  // an enrolment must survive a lost WAL: devices cannot redo it alone
  }
  return ok("{\"device\":\"" + to_hex(d.key) + "\",\"user\":" + json::quote(u.id) + ",\"role\":" +
            json::quote(role_name(u.role)) + ",\"units\":" + units_json(u.units) + ",\"all_units\":" +
            (u.all_units ? "true" : "false") + ",\"server_key\":\"" + to_hex(server_key()) + "\"}");
}

Response Service::challenge(const Request& req) {
  dom::parser parser;
  dom::element root;
  std::string_view device_hex;
  if (parser.parse(req.body).get(root) || root["device"].get_string().get(device_hex)) {
    return error(400, "malformed", "expected {\"device\": hex}");
  }
  auto key = from_hex<32>(device_hex);
  if (!key) return error(400, "malformed", "device must be 64 hex digits");
  {
    std::lock_guard lock(writer_);
    auto d = storage_->device(*key);
    if (!d.ok()) return error(503, "storage", d.status().message());
    if (!*d) return error(401, "unknown_device", "this device is not enrolled");
  }
  std::array<uint8_t, 32> nonce;
  random_.fill(std::as_writable_bytes(std::span(nonce)));
  const std::string c = to_hex(nonce);
  {
    std::lock_guard lock(sessions_mu_);
    const int64_t now = clock_.now_ms();
    std::erase_if(challenges_, [&](const auto& kv) { return kv.second.expires_ms < now; });
    const size_t outstanding = static_cast<size_t>(
        std::count_if(challenges_.begin(), challenges_.end(), [&](const auto& kv) { return kv.second.device == *key; }));
    if (outstanding >= config_.max_challenges_per_device) {
      return rate_limited("challenges", "too many unanswered challenges for this device; answer one or wait",
                          static_cast<int>(config_.challenge_ttl_ms / 1000));
    }
    challenges_[c] = Session{*key, now + config_.challenge_ttl_ms};
  }
  return ok("{\"challenge\":\"" + c + "\",\"expires_in_s\":" + std::to_string(config_.challenge_ttl_ms / 1000) + "}");
}

Response Service::open_session(const Request& req) {
  dom::parser parser;
  dom::element root;
  std::string_view device_hex, challenge_hex, sig_hex;
  if (parser.parse(req.body).get(root) || root["device"].get_string().get(device_hex) ||
      root["challenge"].get_string().get(challenge_hex) || root["signature"].get_string().get(sig_hex)) {
    return error(400, "malformed", "expected {\"device\", \"challenge\", \"signature\"}");
  }
  auto key = from_hex<32>(device_hex);
  auto sig = from_hex<64>(sig_hex);
  if (!key || !sig) return error(400, "malformed", "device: 64 hex digits, signature: 128 hex digits");
  {
    // The challenge is consumed whatever happens next: a captured answer cannot be replayed.
    std::lock_guard lock(sessions_mu_);
    auto it = challenges_.find(std::string(challenge_hex));
    if (it == challenges_.end() || it->second.device != *key || it->second.expires_ms < clock_.now_ms()) {
      if (it != challenges_.end()) challenges_.erase(it);
      return error(401, "bad_challenge", "unknown, used or expired challenge: ask for a new one");
    }
    challenges_.erase(it);
  }
  if (!verify_signature(*key, "tram-session-v1:" + std::string(challenge_hex), *sig)) {
    return error(401, "bad_signature", "the challenge signature does not verify with the device key");
  }
  std::array<uint8_t, 32> t;
  random_.fill(std::as_writable_bytes(std::span(t)));
  const std::string token = to_hex(t);
  {
    std::lock_guard lock(sessions_mu_);
    const int64_t now = clock_.now_ms();
    std::erase_if(sessions_, [&](const auto& kv) { return kv.second.expires_ms < now; });
    sessions_[token] = Session{*key, now + config_.session_ttl_ms};
  }
  return ok("{\"token\":\"" + token + "\",\"expires_in_s\":" + std::to_string(config_.session_ttl_ms / 1000) + "}");
}

Result<std::pair<DeviceRecord, UserRecord>> Service::authenticate(const Request& req, Response& err) {
  constexpr std::string_view kBearer = "Bearer ";
  if (!req.authorization.starts_with(kBearer)) {
    err = error(401, "unauthenticated", "missing Authorization: Bearer <session token>");
    return Status(Errc::invalid_argument, "");
  }
  PublicKey device{};
  {
    std::lock_guard lock(sessions_mu_);
    auto it = sessions_.find(req.authorization.substr(kBearer.size()));
    if (it == sessions_.end() || it->second.expires_ms < clock_.now_ms()) {
      err = error(401, "unauthenticated", "unknown or expired session token: open a new session");
      return Status(Errc::invalid_argument, "");
    }
    device = it->second.device;
  }
  std::lock_guard lock(writer_);
  auto d = storage_->device(device);
  if (!d.ok()) {
    err = error(503, "storage", d.status().message());
    return Status(Errc::storage_error, "");
  }
  if (!*d) {
    err = error(401, "unknown_device", "this device is not enrolled");
    return Status(Errc::invalid_argument, "");
  }
  if ((*d)->state == DeviceState::revoked) {
    err = error(403, "device_revoked", "this device was revoked by an administrator");
    return Status(Errc::invalid_argument, "");
  }
  if ((*d)->state == DeviceState::quarantined) {
    err = error(403, "device_quarantined", "this device's chain forked (a cloned key?); an administrator must review it");
    return Status(Errc::invalid_argument, "");
  }
  auto u = storage_->user((*d)->user);
  if (!u.ok()) {
    err = error(503, "storage", u.status().message());
    return Status(Errc::storage_error, "");
  }
  if (!*u) {
    err = error(403, "unknown_user", "the device's user no longer exists");
    return Status(Errc::invalid_argument, "");
  }
  return std::pair(**d, **u);
}

std::string Service::receipt_json(const LogEntry& e) {
  // The receipt is a JSON text signed as is; clients verify the signature over "body".
  std::string body = "{\"v\":1,\"server\":\"" + to_hex(server_key()) + "\",\"server_seq\":" + std::to_string(e.server_seq) +
                     ",\"id\":\"" + to_hex(e.id) + "\",\"device\":\"" + to_hex(e.device) + "\",\"seq\":" +
                     std::to_string(e.seq) + ",\"status\":\"" + (e.accepted ? "accepted" : "rejected") + "\"" +
                     (e.accepted ? "" : ",\"code\":" + json::quote(e.code)) + ",\"received_at_ms\":" +
                     std::to_string(e.received_ms) + ",\"clock_ahead\":" + (e.clock_ahead ? "true" : "false") +
                     ",\"log\":\"" + to_hex(e.log_hash) + "\"}";
  const Signature sig = server_key_.sign(body);
  return "{\"body\":" + json::quote(body) + ",\"sig\":\"" + to_hex(sig) + "\"}";
}

std::string Service::head_json() { return head_json(storage_->head().value()); }

std::string Service::head_json(const LogHead& h) const {
  const std::string signed_text = "tram-head-v1:" + std::to_string(h.server_seq) + ":" + to_hex(h.log_hash);
  return "{\"server_seq\":" + std::to_string(h.server_seq) + ",\"log\":\"" + to_hex(h.log_hash) + "\",\"sig\":\"" +
         to_hex(server_key_.sign(signed_text)) + "\"}";
}

// One push request on its way through the single writer (see Service::push).
struct Service::PushBatch {
  struct Item {
    std::optional<SignedChangeSet> cs;
    std::string code, message;  // a malformed item (no cs)
    ChainCheck check;           // signature, decoding and id: done before the writer's lock
    std::string stored;         // the bytes as the log keeps them (gzip)
  };
  const DeviceRecord* device = nullptr;
  const UserRecord* user = nullptr;
  std::vector<Item> items;
  // Filled by whichever request leads the group commit:
  std::vector<std::string> item_json;                 // rejections; "duplicate" as a marker
  std::vector<std::pair<size_t, LogEntry>> receipts;  // rendered after the commit
  std::vector<ChangeSet> accepted;
  bool quarantined = false;
  bool done = false;
  std::optional<Response> failure;  // storage failed: the whole group was rolled back
  LogHead committed;
};

Response Service::push(const Request& req, const DeviceRecord& device, const UserRecord& user) {
  dom::parser parser;
  dom::element root;
  dom::array items;
  if (auto e = parser.parse(req.body).get(root)) {
    return error(400, "malformed", std::string("request body is not JSON: ") + simdjson::error_message(e));
  }
  if (root["changesets"].get_array().get(items)) return error(400, "malformed", "expected {\"changesets\": [...]}");
  if (items.size() > config_.max_batch) {
    return error(413, "too_large", std::to_string(items.size()) + " change sets in one push, limit " +
                                       std::to_string(config_.max_batch));
  }
  // Decode, verify signatures and compress the log's copy before taking the writer's lock: the
  // expensive part runs in parallel on every connection thread.
  PushBatch batch;
  batch.device = &device;
  batch.user = &user;
  batch.items.resize(items.size());
  size_t i = 0;
  for (dom::element el : items) {
    PushBatch::Item& it = batch.items[i++];
    std::string_view b64, sig_hex;
    if (el["cs"].get_string().get(b64) || el["sig"].get_string().get(sig_hex)) {
      it.code = "malformed";
      it.message = "each item is {\"cs\": base64, \"sig\": hex}";
      continue;
    }
    auto bytes = from_base64(b64);
    auto sig = from_hex<64>(sig_hex);
    if (!bytes || !sig) {
      it.code = "malformed";
      it.message = "cs must be base64 and sig 128 hex digits";
      continue;
    }
    if (bytes->size() > config_.limits.max_bytes) {
      it.code = "too_large";
      it.message = std::to_string(bytes->size()) + " bytes, limit " + std::to_string(config_.limits.max_bytes);
      continue;
    }
    it.cs = SignedChangeSet{std::move(*bytes), *sig};
    it.check = inspect(device.key, *it.cs, config_.limits);
    if (it.check.verdict == ChainVerdict::next) it.stored = gzip_compress(it.cs->bytes, 1);
  }
  batch.item_json.resize(batch.items.size());

  // Group commit: the batch joins the queue; whoever holds the writer's lock next writes every
  // queued batch in one transaction (one WAL sync for all of them). A request that finds its
  // batch already written returns at once.
  {
    std::lock_guard q(push_queue_mu_);
    push_queue_.push_back(&batch);
  }
  ++writer_waiting_;
  std::unique_lock lock(writer_);
  --writer_waiting_;
  if (!batch.done) commit_queued_batches(lock);  // unlocks
  else lock.unlock();
  if (batch.failure) return *batch.failure;

  // Durably committed: now, and only now, the receipts, signed outside the lock.
  for (auto& [k, e] : batch.receipts) {
    const bool dup = batch.item_json[k] == "duplicate";
    const std::string status = dup ? "duplicate" : (e.accepted ? "accepted" : "rejected");
    {
      std::lock_guard m(metrics_mu_);
      ++changesets_[e.accepted || dup ? status : e.code];
    }
    batch.item_json[k] = "{\"index\":" + std::to_string(k) + ",\"status\":\"" + status + "\",\"seq\":" +
                         std::to_string(e.seq) + ",\"id\":\"" + to_hex(e.id) + "\"" +
                         (e.accepted ? "" : ",\"code\":" + json::quote(e.code) + ",\"message\":" + json::quote(e.message)) +
                         (e.clock_ahead ? ",\"clock_ahead\":true" : "") + ",\"receipt\":" + receipt_json(e) + "}";
  }
  std::string results = "[";
  for (size_t k = 0; k < batch.item_json.size(); ++k) results += (k ? "," : "") + batch.item_json[k];
  return ok("{\"results\":" + results + "],\"head\":" + head_json(batch.committed) + "}");
}

void Service::commit_queued_batches(std::unique_lock<std::mutex>& lock) {
  // A bound on one transaction; batches left over are written by their own requests next.
  constexpr size_t kMaxChangeSetsPerCommit = 2000;
  std::vector<PushBatch*> group;
  {
    std::lock_guard q(push_queue_mu_);
    size_t n = 0, take = 0;
    while (take < push_queue_.size() && (take == 0 || n + push_queue_[take]->items.size() <= kMaxChangeSetsPerCommit)) {
      n += push_queue_[take++]->items.size();
    }
    group.assign(push_queue_.begin(), push_queue_.begin() + static_cast<std::ptrdiff_t>(take));
    push_queue_.erase(push_queue_.begin(), push_queue_.begin() + static_cast<std::ptrdiff_t>(take));
  }
  auto fail_all = [&](Response r) {
    for (PushBatch* b : group) {
      b->failure = r;
      b->done = true;
    }
    lock.unlock();
  };
  const int64_t now = clock_.now_ms();
  if (Status st = storage_->begin(); !st.ok()) return fail_all(error(503, "storage", st.message()));
  for (PushBatch* b : group) {
    if (auto failed = write_batch(*b, now)) {
      // Our failure, not the change sets': nothing of this group is kept; the devices retry.
      storage_->rollback();
      return fail_all(std::move(*failed));
    }
  }
  if (Status st = storage_->commit(); !st.ok()) {
    storage_->rollback();
    return fail_all(error(503, "storage", "not committed, nothing was accepted: " + st.message()));
  }
  const LogHead committed = storage_->head().value();
  advance_watermark(committed);
  // Live notice: which units' rows changed (read before the lock is released).
  ChangeNotice notice;
  for (PushBatch* b : group) {
    b->committed = committed;
    b->done = true;
    for (const auto& [k, e] : b->receipts) {
      if (e.accepted && b->item_json[k] != "duplicate") notice.server_seq = std::max(notice.server_seq, e.server_seq);
    }
    if (notifier_) notice_units(b->accepted, notice);
  }
  lock.unlock();
  if (notice.server_seq > 0 && notifier_) notifier_(notice);
}

// Places one request's change sets in their device's chain, authorizes and records them,
// inside the group's transaction. Returns the response for a storage failure.
std::optional<Response> Service::write_batch(PushBatch& b, int64_t now) {
  const DeviceRecord& device = *b.device;
  auto head = storage_->device(device.key);
  if (!head.ok() || !*head) return error(503, "storage", "cannot read the device's chain");
  ChainHead chain = (*head)->head;
  const Principal who = b.user->principal();
  b.accepted.reserve(b.items.size());
  for (size_t k = 0; k < b.items.size(); ++k) {
    PushBatch::Item& it = b.items[k];
    std::string out = "{\"index\":" + std::to_string(k);
    auto rejected = [&](std::string_view code, std::string_view message, std::string extra = {}) {
      std::lock_guard m(metrics_mu_);
      ++changesets_[std::string(code)];
      return out + ",\"status\":\"rejected\",\"code\":" + json::quote(code) + ",\"message\":" + json::quote(message) +
             extra + "}";
    };
    if (!it.cs) {
      b.item_json[k] = rejected(it.code, it.message);
      continue;
    }
    auto accepted_at = [&](uint64_t seq) -> std::optional<Hash> {
      auto r = storage_->chain_at(device.key, seq);
      return r.ok() ? *r : std::nullopt;
    };
    ChainCheck& c = it.check;
    place(c, chain, accepted_at);
    switch (c.verdict) {
      case ChainVerdict::next: {
        b.accepted.push_back(std::move(*c.changeset));
        const ChangeSet& cs = b.accepted.back();
        Decision d{&*it.cs, &cs, it.stored.empty() ? nullptr : &it.stored, c.id, true,
                   judge_clock(cs.hlc, now, config_.max_drift_ms), {}, {}};
        // The change set's author is the authenticated user, never a name the device picks.
        const bool author_ok = cs.author == b.user->id;
        Status auth = author_ok ? authorize(who, cs, storage_->replica())
                                : Status(Errc::forbidden_role, "author \"" + cs.author + "\" is not this device's user \"" +
                                                                   b.user->id + "\"");
        if (auth.code() == Errc::storage_error) return error(503, "storage", auth.message());
        if (!auth.ok()) {
          d.accept = false;
          d.code = author_ok ? wire_code(auth.code()) : "author_mismatch";
          d.message = auth.message();
        }
        auto entry = storage_->record(d, now);
        if (!entry.ok()) return error(503, "storage", entry.status().message());
        chain = ChainHead{cs.seq, c.id};
        b.receipts.emplace_back(k, *entry);
        break;
      }
      case ChainVerdict::duplicate: {
        auto entry = storage_->log_entry(device.key, c.changeset->seq);
        if (!entry.ok() || !*entry) return error(503, "storage", "duplicate without its log entry");
        b.receipts.emplace_back(k, **entry);
        b.item_json[k] = "duplicate";
        break;
      }
      case ChainVerdict::gap:
        b.item_json[k] = rejected("seq_gap", c.message, ",\"expected_seq\":" + std::to_string(c.expected_seq));
        break;
      case ChainVerdict::fork:
        // Evidence of a cloned key: keep it aside, quarantine the device, merge nothing more.
        (void)storage_->keep_fork(device.key, *it.cs);
        b.quarantined = true;
        b.item_json[k] = rejected("fork_detected", c.message);
        break;
      case ChainVerdict::bad_signature:
        b.item_json[k] = rejected("bad_signature", c.message);
        break;
      case ChainVerdict::malformed:
        b.item_json[k] = rejected(wire_code(c.code), c.message, ",\"detail\":" + json::quote(errc_name(c.code)));
        break;
    }
    if (b.quarantined) {
      for (size_t rest = k + 1; rest < b.items.size(); ++rest) {
        b.item_json[rest] = "{\"index\":" + std::to_string(rest) +
                            ",\"status\":\"rejected\",\"code\":\"device_quarantined\",\"message\":\"a fork earlier in this push\"}";
      }
      break;
    }
  }
  if (b.quarantined) (void)storage_->set_device_state(device.key, DeviceState::quarantined);
  return std::nullopt;
}

// Which units' rows the accepted change sets touched. Needs the writer's lock (it may read rows).
void Service::notice_units(const std::vector<ChangeSet>& accepted, ChangeNotice& notice) {
  const Schema& schema = storage_->replica().schema();
  for (const ChangeSet& cs : accepted) {
    for (const Op& op : cs.ops) {
      const TableDef* t = schema.table(op.table);
      if (!t || !t->scope_field) {
        notice.province_wide = true;
        continue;
      }
      // The unit is usually in the op itself (always on insert); read the row only otherwise.
      bool found = false;
      for (const FieldWrite& w : op.fields) {
        if (w.field != *t->scope_field) continue;
        if (const auto* unit = std::get_if<Text>(&w.value)) notice.units.push_back(unit->s);
        found = true;
      }
      if (found) continue;
      auto row = storage_->replica().get_row(op.table, op.row);
      if (!row.ok() || !*row) continue;
      for (size_t f = 0; f < t->fields.size(); ++f) {
        if (t->fields[f].id != *t->scope_field) continue;
        if (const auto* unit = std::get_if<Text>(&(**row).fields[f].value)) notice.units.push_back(unit->s);
      }
    }
  }
  std::sort(notice.units.begin(), notice.units.end());
  notice.units.erase(std::unique(notice.units.begin(), notice.units.end()), notice.units.end());
}

Response Service::pull(const Request& req, const DeviceRecord&, const UserRecord& user) {
  uint64_t after = 0;
  size_t limit = config_.max_page;
  {
    const std::string a = query_param(req.target, "after"), l = query_param(req.target, "limit");
    // 19 digits can exceed 2^63 - 1, which the database would read as negative: refused.
    if (!decimal(a) || !decimal(l) || (!a.empty() && std::stoull(a) > uint64_t{INT64_MAX})) {
      return error(400, "malformed", "after and limit are integers from 0 to 2^63 - 1");
    }
    if (!a.empty()) after = std::stoull(a);
    if (!l.empty()) limit = std::min<size_t>(std::stoull(l), config_.max_page);
  }
  if (limit == 0) limit = 1;
  const Principal who = user.principal();
  std::lock_guard lock(writer_);
  // One read transaction for the page: one snapshot, one lock, instead of one per statement.
  auto read_tx = sql::Transaction::begin(storage_->replica().db());
  auto changed = storage_->changed_rows(after, limit);
  if (!changed.ok()) return error(503, "storage", changed.status().message());
  const Schema& schema = storage_->replica().schema();
  PageWriter page(storage_->replica());
  uint64_t next = after;
  for (const RowVersion& rv : *changed) {
    next = rv.version;
    const TableDef* t = schema.table(rv.table);
    if (!t) continue;
    auto image = storage_->replica().row_image(rv.table, rv.row);
    // Never skip past a row we failed to read: the cursor would move beyond it for good.
    if (!image.ok()) return error(503, "storage", image.status().message());
    if (!*image) continue;
    if (!may_read(who, *t, **image)) continue;  // other units' rows never leave the server
    if (Status st = page.add(rv.version, rv.table, rv.row, **image); !st.ok()) return error(503, "storage", st.message());
  }
  const bool more = changed->size() == limit;
  return ok(page.finish("\"next\":" + std::to_string(next) + ",\"more\":" + (more ? "true" : "false"),
                        "\"head\":" + head_json()));
}

// GET /v1/snapshot: the rows a fresh device may read as they are now, table by table in id
// order, so that the device's store appends them instead of inserting them at random places
// (the pull's order, by version, scatters them), and the server reads each table in one
// sequential scan. The first page fixes "next", the row version the device then pulls from:
// whatever changes while the snapshot is paged arrives again through the pull.
// Cursor: "<next>.<table index>.<hex of the last id>", opaque to the device.
Response Service::snapshot(const Request& req, const UserRecord& user) {
  const std::string cursor = query_param(req.target, "cursor"), l = query_param(req.target, "limit");
  size_t limit = config_.max_page;
  if (!l.empty()) {
    if (!decimal(l, 9)) {
      return error(400, "malformed", "limit is a non-negative integer");
    }
    limit = std::clamp<size_t>(std::stoull(l), 1, config_.max_page);
  }
  const Schema& schema = storage_->replica().schema();
  std::lock_guard lock(writer_);
  auto read_tx = sql::Transaction::begin(storage_->replica().db());
  uint64_t since = 0;
  size_t table = 0;
  std::string after;
  if (cursor.empty()) {
    auto v = storage_->row_version();
    if (!v.ok()) return error(503, "storage", v.status().message());
    since = *v;
  } else {
    const size_t d1 = cursor.find('.'), d2 = cursor.find('.', d1 == std::string::npos ? 0 : d1 + 1);
    auto number = [](std::string_view x) { return !x.empty() && decimal(x); };
    std::optional<std::string> id;
    if (d1 == std::string::npos || d2 == std::string::npos || !number(std::string_view(cursor).substr(0, d1)) ||
        !number(std::string_view(cursor).substr(d1 + 1, d2 - d1 - 1)) || !(id = from_hex_string(cursor.substr(d2 + 1)))) {
      return error(400, "malformed", "cursor is the \"cursor\" of the previous snapshot page");
    }
    since = std::stoull(cursor.substr(0, d1));
    table = std::stoull(cursor.substr(d1 + 1, d2 - d1 - 1));
    after = std::move(*id);
  }
  const Principal who = user.principal();
  PageWriter page(storage_->replica());
  // A page ends after `limit` rows sent or 8 x limit read: an official's rows are a small part
  // of each table, and a page must not read the whole province to fill itself.
  size_t read = 0;
  while (table < schema.tables.size()) {
    const size_t want = std::min(limit - page.rows(), 8 * limit - read);
    if (want == 0) break;
    const TableDef& t = schema.tables[table];
    auto n = storage_->replica().scan_images(t.name, after, want, [&](std::string_view id, RowImage&& image) -> Status {
      after.assign(id);
      if (!may_read(who, t, image)) return {};  // other units' rows never leave the server
      return page.add(since, t.name, id, image);
    });
    if (!n.ok()) return error(503, "storage", n.status().message());
    read += *n;
    if (*n < want) {  // the table is done
      ++table;
      after.clear();
    }
  }
  const bool more = table < schema.tables.size();
  const std::string next_cursor = more ? std::to_string(since) + "." + std::to_string(table) + "." + to_hex_string(after) : "";
  return ok(page.finish("\"next\":" + std::to_string(since) + ",\"more\":" + (more ? "true" : "false") +
                            ",\"cursor\":" + json::quote(next_cursor),
                        "\"head\":" + head_json()));
}

Response Service::admin(const Request& req, const std::string& path) {
  const std::string expected = "Bearer " + admin_token_;
  // Constant time: the comparison must not tell how many leading characters were right.
  if (admin_token_.empty() || req.authorization.size() != expected.size() ||
      sodium_memcmp(req.authorization.data(), expected.data(), expected.size()) != 0) {
    return error(401, "unauthenticated", "admin routes need Authorization: Bearer <admin token>");
  }
  dom::parser parser;
  dom::element root;
  if (path == "users" && req.method == "POST") {
    std::string_view id, role;
    if (parser.parse(req.body).get(root) || root["id"].get_string().get(id) || root["role"].get_string().get(role)) {
      return error(400, "malformed", "expected {\"id\", \"role\", \"units\": [...], \"all_units\": bool}");
    }
    UserRecord u;
    u.id = id;
    auto r = role_from_name(role);
    if (!r) return error(400, "malformed", "role: official, department, reviewer or admin");
    u.role = *r;
    dom::array units;
    if (!root["units"].get_array().get(units)) {
      for (dom::element e : units) {
        std::string_view s;
        if (e.get_string().get(s)) return error(400, "malformed", "units are strings");
        u.units.emplace_back(s);
      }
    }
    bool all = false;
    if (!root["all_units"].get_bool().get(all)) u.all_units = all;
    if (Status st = create_user(u); !st.ok()) {
      return st.code() == Errc::storage_error ? error(503, "storage", st.message()) : error(400, errc_name(st.code()), st.message());
    }
    return ok("{\"user\":" + json::quote(u.id) + "}");
  }
  if (path == "enrolment-codes" && req.method == "POST") {
    std::string_view user;
    int64_t ttl_hours = 72;
    if (parser.parse(req.body).get(root) || root["user"].get_string().get(user)) {
      return error(400, "malformed", "expected {\"user\", \"ttl_hours\"}");
    }
    if (root["ttl_hours"].error() != simdjson::NO_SUCH_FIELD && root["ttl_hours"].get_int64().get(ttl_hours)) {
      return error(400, "malformed", "ttl_hours is a whole number of hours");
    }
    if (ttl_hours <= 0 || ttl_hours > 720) return error(400, "invalid_argument", "ttl_hours: 1 to 720 (30 days)");
    auto code = issue_enrolment_code(std::string(user), ttl_hours * 3600 * 1000);
    if (!code.ok()) {
      const Errc e = code.code();
      return e == Errc::storage_error ? error(503, "storage", code.status().message())
                                      : error(e == Errc::not_found ? 404 : 400, errc_name(e), code.status().message());
    }
    return ok("{\"code\":" + json::quote(*code) + ",\"expires_in_s\":" + std::to_string(ttl_hours * 3600) + "}");
  }
  if (path == "attachments/missing" && req.method == "GET") {
    std::lock_guard lock(writer_);
    auto missing = storage_->missing_attachments();
    if (!missing.ok()) return error(503, "storage", missing.status().message());
    // A file that is on disk with its holders (attachments/ outlives a database restore) is not
    // missing: record it as received again instead of asking a device for it.
    std::erase_if(*missing, [&](const AttachmentUse& u) {
      std::error_code ec;
      const auto file = std::filesystem::path(config_.attachments_dir) / to_hex(u.hash);
      if (!std::filesystem::exists(file, ec) || attachment_holders(u.hash).empty()) return false;
      const auto size = std::filesystem::file_size(file, ec);
      return !ec && storage_->mark_attachment_received(u.hash, size, clock_.now_ms()).ok();
    });
    std::string out = "[";
    for (size_t k = 0; k < missing->size(); ++k) {
      const AttachmentUse& u = (*missing)[k];
      out += (k ? "," : "") + std::string("{\"hash\":\"") + to_hex(u.hash) + "\",\"table\":" + json::quote(u.table) +
             ",\"row\":" + json::quote(u.row) + "}";
    }
    return ok("{\"missing\":" + out + "]}");
  }
  if (path == "bundles" && req.method == "POST") return import_bundle(req.body);
  if (path == "report" && req.method == "GET") {
    return report_response(*this, query_param(req.target, "period"), query_param(req.target, "format"));
  }
  if (path == "devices" && req.method == "GET") {
    auto list = devices();
    if (!list.ok()) return error(503, "storage", list.status().message());
    std::string out = "[";
    for (size_t k = 0; k < list->size(); ++k) {
      const DeviceRecord& d = (*list)[k];
      out += (k ? "," : "") + std::string("{\"device\":\"") + to_hex(d.key) + "\",\"user\":" + json::quote(d.user) +
             ",\"state\":\"" + std::string(device_state_name(d.state)) + "\",\"seq\":" + std::to_string(d.head.seq) + "}";
    }
    return ok("{\"devices\":" + out + "]}");
  }
  if (path.starts_with("devices/") && req.method == "POST") {
    const std::string rest = path.substr(8);
    const size_t slash = rest.find('/');
    auto key = from_hex<32>(rest.substr(0, slash));
    const std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
    if (!key) return error(400, "malformed", "devices/<64 hex>/revoke|release");
    DeviceState state;
    if (action == "revoke") state = DeviceState::revoked;
    else if (action == "release") state = DeviceState::active;
    else return error(404, "not_found", "devices/<key>/revoke or /release");
    Status st = set_device_state(*key, state);
    if (!st.ok()) {
      return st.code() == Errc::storage_error ? error(503, "storage", st.message()) : error(404, errc_name(st.code()), st.message());
    }
    return ok("{\"device\":\"" + to_hex(*key) + "\",\"state\":\"" + std::string(device_state_name(state)) + "\"}");
  }
  return error(404, "not_found", "no admin route " + req.method + " " + path);
}

std::optional<Principal> Service::principal_for_token(const std::string& token) {
  Request req;
  req.authorization = "Bearer " + token;
  Response err;
  auto who = authenticate(req, err);
  if (!who.ok()) return std::nullopt;
  return who->second.principal();
}

namespace {
// The unit a row belongs to ("" for rows of tables without a scope field).
std::string unit_of(const TableDef& t, const RowState& row) {
  if (!t.scope_field) return {};
  for (size_t k = 0; k < t.fields.size(); ++k) {
    if (t.fields[k].id != *t.scope_field) continue;
    const auto* unit = std::get_if<Text>(&row.fields[k].value);
    return unit ? unit->s : std::string();
  }
  return {};
}
}  // namespace

// Which units hold an attachment's bytes lives beside the file (attachments/<hash>.units, one
// unit per line), not in the database: it is a fact about the file, and so survives a restore of
// an older database backup (the devices' re-sent change sets then name it again, and it is
// readable at once, with no second upload over a rural link).
std::vector<std::string> Service::attachment_holders(const Hash& hash) {
  std::vector<std::string> out;
  std::ifstream in(std::filesystem::path(config_.attachments_dir) / (to_hex(hash) + ".units"));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

Status Service::add_attachment_holders(const Hash& hash, const std::vector<std::string>& units) {
  namespace fs = std::filesystem;  // the caller holds attachments_mu_; readers see whole files (rename)
  std::vector<std::string> all = attachment_holders(hash);
  const size_t before = all.size();
  for (const auto& u : units) {
    if (std::find(all.begin(), all.end(), u) == all.end()) all.push_back(u);
  }
  if (all.size() == before) return {};
  const fs::path path = fs::path(config_.attachments_dir) / (to_hex(hash) + ".units");
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (const auto& u : all) out << u << "\n";
    out.flush();
    if (!out) return {Errc::storage_error, "cannot write " + tmp.string()};
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return {Errc::storage_error, "cannot write " + path.string() + ": " + ec.message()};
  return {};
}

Result<Service::AttachmentAccess> Service::attachment_access(const Hash& hash, const UserRecord& user) {
  std::lock_guard lock(writer_);
  auto uses = storage_->attachment_uses(hash);
  if (!uses.ok()) return uses.status();
  AttachmentAccess out;
  if (uses->empty()) return out;
  const std::vector<std::string> holders = attachment_holders(hash);
  const Principal who = user.principal();
  for (const AttachmentUse& u : *uses) {
    const TableDef* t = storage_->replica().schema().table(u.table);
    auto row = storage_->replica().get_row(u.table, u.row);
    if (!row.ok()) return row.status();
    if (!t || !*row || !may_read(who, *t, **row)) continue;
    const std::string unit = unit_of(*t, **row);
    // A reviewer reads every unit's rows but holds none of them: only in-scope units count as
    // the uploader's own.
    if (who.all_units || who.in_scope(unit)) {
      out.named = true;
      out.units.push_back(unit);
    }
    if (std::find(holders.begin(), holders.end(), unit) != holders.end()) {
      out.named = true;
      out.readable = true;
    }
  }
  return out;
}

// Evidence photos: uploaded in chunks that resume at the last byte the server confirmed,
// verified against the hash the signed change set names, served only within scope.
//
// Naming a hash grants nothing: the file is served only through a row whose unit holds it, a
// unit holding it once one of its devices uploaded the bytes. Each device uploads into its own
// partial file, so no one can see or disturb another's upload, and a unit that names a file
// another unit uploaded learns nothing (status 0, not complete) until it uploads the bytes too.
Response Service::attachment(const Request& req, const std::string& rest, const DeviceRecord& device,
                             const UserRecord& user) {
  if (config_.attachments_dir.empty()) return error(404, "not_found", "attachments are not enabled on this server");
  const bool status_route = rest.ends_with("/status");
  const auto hash = from_hex<32>(status_route ? rest.substr(0, rest.size() - 7) : rest);
  if (!hash) return error(400, "malformed", "attachments are addressed by their 64-hex BLAKE2b-256");
  if (!(req.method == "GET" || (req.method == "PUT" && !status_route))) {
    return error(405, "method_not_allowed", "GET /v1/attachments/<hash>[/status] or PUT /v1/attachments/<hash>");
  }
  auto access = attachment_access(*hash, user);
  if (!access.ok()) return error(503, "storage", access.status().message());
  // Not named by any row this device may read: as if it did not exist.
  if (!access->named) return error(404, "not_found", "no attachment with this hash in your scope");
  namespace fs = std::filesystem;
  const fs::path dir(config_.attachments_dir);
  const fs::path done = dir / to_hex(*hash), partial = dir / "partial" / (to_hex(*hash) + "." + to_hex(device.key));
  std::error_code ec;
  std::lock_guard lock(attachments_mu_);
  const bool complete = access->readable && fs::exists(done, ec);
  const uint64_t received = complete ? fs::file_size(done, ec) : (fs::exists(partial, ec) ? fs::file_size(partial, ec) : 0);
  auto state = [&](uint64_t n, bool c) {
    return ok("{\"hash\":\"" + to_hex(*hash) + "\",\"received\":" + std::to_string(n) + ",\"complete\":" + (c ? "true" : "false") + "}");
  };
  if (req.method == "GET" && status_route) return state(received, complete);
  if (req.method == "GET") {
    if (!complete) return error(404, "not_found", "the attachment has not been uploaded completely yet");
    std::ifstream in(done, std::ios::binary);
    Response r = ok(std::string(std::istreambuf_iterator<char>(in), {}));
    r.content_type = "application/octet-stream";
    return r;
  }
  if (complete) return state(received, true);
  const std::string off = query_param(req.target, "offset");
  if (off.empty() || !decimal(off)) return error(400, "malformed", "PUT needs ?offset=N (bytes already confirmed)");
  const uint64_t offset = std::stoull(off);
  if (offset != received) {
    Response r = error(409, "offset_mismatch", "resume at " + std::to_string(received));
    r.body = "{\"error\":{\"code\":\"offset_mismatch\",\"message\":\"resume at the received offset\"},\"received\":" +
             std::to_string(received) + "}";
    return r;
  }
  if (received + req.body.size() > config_.max_attachment_bytes) {
    fs::remove(partial, ec);
    return error(413, "too_large", "attachments are limited to " + std::to_string(config_.max_attachment_bytes) + " bytes");
  }
  fs::create_directories(dir / "partial", ec);
  {
    std::ofstream out(partial, std::ios::binary | std::ios::app);
    out.write(req.body.data(), static_cast<std::streamsize>(req.body.size()));
    out.flush();
    if (!out) return error(503, "storage", "cannot write the attachment");
  }
  const uint64_t now_received = received + req.body.size();
  if (query_param(req.target, "final") != "1") return state(now_received, false);
  // The last chunk: the whole file must hash to its name, or this device's upload is discarded.
  std::ifstream in(partial, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  if (blake2b_256(bytes) != *hash) {
    fs::remove(partial, ec);
    return error(422, "hash_mismatch", "the uploaded bytes do not hash to " + to_hex(*hash) + "; upload again from 0");
  }
  if (fs::exists(done, ec)) {
    fs::remove(partial, ec);  // the same bytes: this upload proved possession, one copy is kept
  } else {
    fs::rename(partial, done, ec);
    if (ec) return error(503, "storage", ec.message());
  }
  {
    std::lock_guard wlock(writer_);
    if (Status st = storage_->mark_attachment_received(*hash, bytes.size(), clock_.now_ms()); !st.ok()) {
      return error(503, "storage", st.message());
    }
  }
  if (Status st = add_attachment_holders(*hash, access->units); !st.ok()) return error(503, "storage", st.message());
  return state(bytes.size(), true);
}

Status Service::create_user(const UserRecord& user) {
  if (user.id.empty()) return {Errc::invalid_value, "user id must not be empty"};
  std::lock_guard lock(writer_);
  TRAM_RETURN_IF_ERROR(storage_->create_user(user));
  storage_->checkpoint();
  return {};
}

bool Service::enrol_limited(const std::string& remote, bool failed) {
  std::lock_guard lock(sessions_mu_);
  const int64_t now = clock_.now_ms();
  if (enrol_failures_.size() > 10000) {
    std::erase_if(enrol_failures_, [&](const auto& kv) { return now - kv.second.first > 60'000; });
  }
  auto& [since, count] = enrol_failures_[remote];
  if (now - since > 60'000) since = now, count = 0;
  if (failed) ++count;
  return count >= config_.max_enrol_failures_per_minute;
}

Response Service::rate_limited(const std::string& limit, std::string_view message, int retry_after_s) {
  {
    std::lock_guard m(metrics_mu_);
    ++rate_limited_[limit];
  }
  Response r = error(429, "rate_limited", message);
  r.retry_after_s = retry_after_s;
  return r;
}

Result<std::string> Service::issue_enrolment_code(const std::string& user, int64_t ttl_ms) {
  constexpr int64_t kMaxTtlMs = int64_t{30} * 24 * 3600 * 1000;
  if (ttl_ms <= 0 || ttl_ms > kMaxTtlMs) return Status(Errc::invalid_argument, "an enrolment code lives 1 hour to 30 days");
  std::lock_guard lock(writer_);
  auto u = storage_->user(user);
  if (!u.ok()) return u.status();
  if (!*u) return Status(Errc::not_found, "no user " + user);
  // 16 random characters of an unambiguous alphabet in 4 groups: easy to read over a phone line.
  static constexpr char kAlphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::array<uint8_t, 16> raw;
  random_.fill(std::as_writable_bytes(std::span(raw)));
  std::string code;
  for (size_t k = 0; k < raw.size(); ++k) {
    if (k && k % 4 == 0) code.push_back('-');
    code.push_back(kAlphabet[raw[k] % 32]);
  }
  TRAM_RETURN_IF_ERROR(storage_->add_enrolment_code(blake2b_256(code), user, clock_.now_ms() + ttl_ms));
  return code;
}

Result<std::vector<DeviceRecord>> Service::devices() {
  std::lock_guard lock(writer_);
  return storage_->devices();
}

Status Service::set_device_state(const PublicKey& device, DeviceState state) {
  std::lock_guard lock(writer_);
  TRAM_RETURN_IF_ERROR(storage_->set_device_state(device, state));
  storage_->checkpoint();
  return {};
}

Status Service::backup(const std::string& path) {
  std::lock_guard lock(writer_);
  return storage_->backup(path);
}

Response Service::import_bundle(const std::string& bundle) {
  dom::parser parser;
  dom::object o;
  std::string_view kind, device_hex, body, sig_hex;
  if (parser.parse(bundle).get_object().get(o) || o["kind"].get_string().get(kind) || kind != "tram-bundle" ||
      o["device"].get_string().get(device_hex) || o["body"].get_string().get(body) || o["sig"].get_string().get(sig_hex)) {
    return error(400, "malformed", "expected a bundle {\"kind\":\"tram-bundle\", \"device\", \"body\", \"sig\"}");
  }
  const auto device = from_hex<32>(device_hex);
  const auto sig = from_hex<64>(sig_hex);
  if (!device || !sig) return error(400, "malformed", "device is 64 and sig 128 hex digits");
  DeviceRecord d;
  UserRecord u;
  {
    std::lock_guard lock(writer_);
    auto dr = storage_->device(*device);
    if (!dr.ok()) return error(503, "storage", dr.status().message());
    if (!*dr) return error(401, "unknown_device", "the bundle's device is not enrolled");
    d = **dr;
    auto ur = storage_->user(d.user);
    if (!ur.ok() || !*ur) return error(403, "unknown_user", "the device's user no longer exists");
    u = **ur;
  }
  if (d.state == DeviceState::revoked) return error(403, "device_revoked", "this device was revoked by an administrator");
  if (d.state == DeviceState::quarantined) return error(403, "device_quarantined", "this device's chain forked; release it first");
  if (!verify_signature(d.key, "tram-bundle-v1:" + std::string(body), *sig)) {
    return error(400, "bad_signature", "the bundle's signature does not verify with the device's enrolled key");
  }
  const std::string body_copy(body);  // the parser's strings die with the next parse
  Response r = push(Request{"POST", "/v1/push", body_copy, "", "bundle", ""}, d, u);
  if (r.status != 200) return r;
  r.body = "{\"v\":1,\"kind\":\"tram-receipts\",\"device\":\"" + to_hex(d.key) + "\",\"server\":\"" +
           to_hex(server_key()) + "\",\"response\":" + r.body + "}";
  return r;
}

Result<ProvinceReport> Service::province_report(const std::string& period) {
  std::lock_guard lock(writer_);
  auto read_tx = sql::Transaction::begin(storage_->replica().db());  // one snapshot for every table
  if (!read_tx.ok()) return read_tx.status();
  return build_province_report(storage_->replica(), period, clock_.now_ms());
}

Result<std::string> Service::push_as(const PublicKey& device, const std::string& body) {
  DeviceRecord d;
  UserRecord u;
  {
    std::lock_guard lock(writer_);
    auto dr = storage_->device(device);
    if (!dr.ok() || !*dr) return Status(Errc::not_found, "device not enrolled");
    d = **dr;
    auto ur = storage_->user(d.user);
    if (!ur.ok() || !*ur) return Status(Errc::not_found, "user missing");
    u = **ur;
  }
  Request req{"POST", "/v1/push", body, "", "cli", ""};
  Response r = push(req, d, u);
  if (r.status != 200) return Status(Errc::invalid_value, r.body);
  return r.body;
}

void Service::observe(const std::string& route, int status, double seconds) {
  std::lock_guard lock(metrics_mu_);
  ++requests_[{route, status}];
  auto& buckets = latency_buckets_[route];
  for (size_t k = 0; k < std::size(kBuckets); ++k) {
    if (seconds <= kBuckets[k]) ++buckets[k];
  }
  ++buckets[11];  // +Inf
  latency_sum_[route] += seconds;
}

std::string Service::metrics_text() {
  std::lock_guard lock(metrics_mu_);
  std::string out =
      "# HELP tram_requests_total HTTP requests by route and status.\n# TYPE tram_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    out += "tram_requests_total{route=\"" + key.first + "\",status=\"" + std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP tram_changesets_total Change sets by outcome (accepted, duplicate, or rejection code).\n"
         "# TYPE tram_changesets_total counter\n";
  for (const auto& [code, n] : changesets_) out += "tram_changesets_total{outcome=\"" + code + "\"} " + std::to_string(n) + "\n";
  out += "# HELP tram_request_seconds Request latency by route.\n# TYPE tram_request_seconds histogram\n";
  for (const auto& [route, buckets] : latency_buckets_) {
    for (size_t k = 0; k < std::size(kBuckets); ++k) {
      char le[32];
      std::snprintf(le, sizeof le, "%g", kBuckets[k]);
      out += "tram_request_seconds_bucket{route=\"" + route + "\",le=\"" + le + "\"} " + std::to_string(buckets[k]) + "\n";
    }
    out += "tram_request_seconds_bucket{route=\"" + route + "\",le=\"+Inf\"} " + std::to_string(buckets[11]) + "\n";
    out += "tram_request_seconds_sum{route=\"" + route + "\"} " + std::to_string(latency_sum_[route]) + "\n";
    out += "tram_request_seconds_count{route=\"" + route + "\"} " + std::to_string(buckets[11]) + "\n";
  }
  out += "# HELP tram_writer_queue_depth Requests waiting for the single writer.\n# TYPE tram_writer_queue_depth gauge\n";
  out += "tram_writer_queue_depth " + std::to_string(writer_waiting_.load()) + "\n";
  out += "# HELP tram_connections Open connections.\n# TYPE tram_connections gauge\n";
  out += "tram_connections " + std::to_string(connections_.load()) + "\n";
  out += "# HELP tram_log_behind 1 when the log is behind the last head this server signed (restore, lost WAL).\n"
         "# TYPE tram_log_behind gauge\n";
  out += "tram_log_behind " + std::string(log_behind_ ? "1" : "0") + "\n";
  out += "# HELP tram_log_behind_entries Log entries the database lacks compared with the last signed head.\n"
         "# TYPE tram_log_behind_entries gauge\n";
  out += "tram_log_behind_entries " +
         std::to_string(log_behind_ ? log_behind_->expected_seq - std::min(log_behind_->expected_seq, log_behind_->found_seq) : 0) + "\n";
  out += "# HELP tram_rate_limited_total Requests refused by an abuse limit.\n# TYPE tram_rate_limited_total counter\n";
  for (const auto& [what, n] : rate_limited_) out += "tram_rate_limited_total{limit=\"" + what + "\"} " + std::to_string(n) + "\n";
  return out;
}

}  // namespace tram::server
