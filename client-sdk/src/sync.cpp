// The network side of the client: enrolment, sessions, push, attachment upload and pull,
// with retries, backoff and adaptive batch sizes. Network calls never hold the database lock.
#include <sodium.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <random>

#include <simdjson.h>

#include "client_impl.hpp"
#include "tram/engine/gzip.hpp"
#include "tram/engine/json.hpp"

namespace tram::client {
namespace dom = simdjson::dom;

namespace {

Status fail(Errc c, std::string m) { return {c, std::move(m)}; }

// The server's error envelope {"error":{"code","message"}} as a Status.
Status server_error(const HttpResponse& r) {
  dom::parser p;
  dom::element root;
  std::string_view code = "http_" + std::to_string(r.status), message = r.body;
  std::string code_s = "http_" + std::to_string(r.status);
  if (!p.parse(r.body).get(root)) {
    if (root["error"]["code"].get_string().get(code)) {}
    if (root["error"]["message"].get_string().get(message)) {}
    code_s = code;
  }
  const Errc errc = r.status >= 500 || r.status == 429 ? Errc::unavailable
                    : r.status == 401                  ? Errc::unauthenticated
                                                       : Errc::rejected;
  return fail(errc, code_s + ": " + std::string(message));
}

// The signed head of a push answer (§7.3), verified; nullopt when the answer has none.
Result<std::optional<wire::Head>> push_head(dom::element root, const PublicKey& server) {
  dom::object h;
  if (root["head"].get_object().get(h)) return std::optional<wire::Head>();
  wire::Head head;
  std::string_view log, sig;
  if (h["server_seq"].get_uint64().get(head.server_seq) || h["log"].get_string().get(log) || h["sig"].get_string().get(sig)) {
    return fail(Errc::malformed_json, "push: the head is not {server_seq, log, sig}");
  }
  const auto l = from_hex<32>(log);
  const auto g = from_hex<64>(sig);
  if (!l || !g) return fail(Errc::malformed_json, "push: the head is not {server_seq, log, sig}");
  head.log = *l;
  head.sig = *g;
  if (!wire::verify_head(head, server)) return fail(Errc::bad_signature, "push: the log head is not signed by the pinned server key");
  return std::optional<wire::Head>(head);
}

std::string normalise_code(const std::string& typed) {
  std::string c;
  for (char ch : typed) {
    if (std::isalnum(static_cast<unsigned char>(ch))) c.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
  }
  if (c.size() != 16) return typed;
  return c.substr(0, 4) + "-" + c.substr(4, 4) + "-" + c.substr(8, 4) + "-" + c.substr(12, 4);
}

}  // namespace

std::vector<PushResult> parse_results(dom::array results) {
  std::vector<PushResult> out;
  for (dom::element e : results) {
    PushResult r;
    std::string_view s;
    if (!e["status"].get_string().get(s)) r.status = s;
    if (!e["code"].get_string().get(s)) r.code = s;
    if (!e["message"].get_string().get(s)) r.message = s;
    if (e["seq"].get_uint64().get(r.seq)) {}
    if (e["expected_seq"].get_uint64().get(r.expected_seq)) {}
    if (!e["receipt"]["body"].get_string().get(s)) r.receipt_body = s;
    if (!e["receipt"]["sig"].get_string().get(s)) r.receipt_sig = s;
    out.push_back(std::move(r));
  }
  return out;
}

Status Client::Impl::ensure_transport() {
  if (transport) return {};
  if (opt.transport) {
    transport = opt.transport;
    return {};
  }
  if (server_url.empty()) return fail(Errc::not_enrolled, "no server URL: enrol this device first");
  auto t = make_http_transport(server_url, opt.transport_options);
  if (!t.ok()) return t.status();
  transport = std::move(t).value();
  return {};
}

Result<HttpResponse> Client::Impl::call(const std::string& method, const std::string& target, const std::string& body,
                                        bool authenticated, SyncReport* report, Transport* via) {
  TRAM_RETURN_IF_ERROR(ensure_transport());
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (authenticated && token.empty()) TRAM_RETURN_IF_ERROR(login());
    HttpRequest req{method, target, {}, body};
    if (authenticated) req.headers.emplace_back("Authorization", "Bearer " + token);
    auto r = (via ? via : transport.get())->send(req, cancelled);
    if (!r.ok()) return r.status();
    if (report) {
      report->bytes_sent += r->bytes_sent;
      report->bytes_received += r->bytes_received;
    }
    // Sessions live in the server's memory: after a restart or expiry, open a new one once.
    if (authenticated && r->status == 401 && attempt == 0) {
      token.clear();
      continue;
    }
    return r;
  }
  return fail(Errc::unauthenticated, "the server refused a fresh session");
}

Status Client::Impl::login() {
  PublicKey dev;
  {
    std::lock_guard lock(mu);
    if (!device || !chain) return fail(Errc::not_enrolled, "enrol this device first");
    dev = *device;
  }
  auto c = call("POST", "/v1/auth/challenge", "{\"device\":\"" + to_hex(dev) + "\"}", false);
  if (!c.ok()) return c.status();
  if (c->status != 200) return server_error(*c);
  dom::parser p;
  std::string_view challenge_v;
  if (p.parse(c->body)["challenge"].get_string().get(challenge_v)) return fail(Errc::malformed_json, "challenge: unexpected answer");
  const std::string challenge(challenge_v);
  Signature sig;
  {
    std::lock_guard lock(mu);
    sig = chain->key().sign("tram-session-v1:" + challenge);
  }
  auto s = call("POST", "/v1/auth/session",
                "{\"device\":\"" + to_hex(dev) + "\",\"challenge\":\"" + challenge + "\",\"signature\":\"" + to_hex(sig) + "\"}",
                false);
  if (!s.ok()) return s.status();
  if (s->status != 200) return server_error(*s);
  std::string_view tok;
  if (p.parse(s->body)["token"].get_string().get(tok)) return fail(Errc::malformed_json, "session: unexpected answer");
  token = tok;
  return {};
}

// Stores who this device acts for, from an enrolment answer or GET /v1/me.
static Status store_identity(Client::Impl& m, const std::string& body) {
  dom::parser p;
  dom::object o;
  std::string_view user, role, key;
  bool all = false;
  dom::array units;
  if (p.parse(body).get_object().get(o) || o["user"].get_string().get(user) || o["role"].get_string().get(role) ||
      o["server_key"].get_string().get(key) || o["units"].get_array().get(units) || o["all_units"].get_bool().get(all)) {
    return fail(Errc::malformed_json, "identity: unexpected answer");
  }
  const auto server = from_hex<32>(key);
  if (!server) return fail(Errc::malformed_json, "identity: server_key is not 64 hex digits");
  std::string list;
  for (dom::element u : units) {
    std::string_view code;
    if (!u.get_string().get(code)) list += (list.empty() ? "" : ",") + std::string(code);
  }
  uint64_t seq = 0;
  const bool has_seq = !o["seq"].get_uint64().get(seq);
  std::lock_guard lock(m.mu);
  if (m.server_key && *m.server_key != *server) {
    return fail(Errc::bad_signature, "the server names key " + to_hex(*server).substr(0, 16) + "…, and no key statement leads"
                                     " to it from the key this device pinned (" + to_hex(*m.server_key).substr(0, 16) +
                                     "…): refusing to trust it");
  }
  if (has_seq) m.me_seq = seq;
  auto tx = sql::Transaction::begin(m.store->db());
  if (!tx.ok()) return tx.status();
  TRAM_RETURN_IF_ERROR(m.set_meta("user", std::string(user)));
  TRAM_RETURN_IF_ERROR(m.set_meta("role", std::string(role)));
  TRAM_RETURN_IF_ERROR(m.set_meta("units", list));
  TRAM_RETURN_IF_ERROR(m.set_meta("all_units", all ? "1" : "0"));
  TRAM_RETURN_IF_ERROR(m.set_meta("server_key", to_hex(*server)));
  TRAM_RETURN_IF_ERROR(tx->commit());
  return m.load_identity();
}

Status Client::Impl::refresh_identity(SyncReport* report) {
  me_seq.reset();
  auto r = call("GET", "/v1/me", "", true, report);
  if (!r.ok()) return r.status();
  if (r->status != 200) return server_error(*r);
  if (report) {
    dom::parser p;
    std::string_view named;
    std::optional<PublicKey> k;
    if (!p.parse(r->body)["server_key"].get_string().get(named)) k = from_hex<32>(named);
    uint64_t statements = 0;
    const bool counted = !p.parse(r->body)["key_statements"].get_uint64().get(statements);
    bool other = false;
    {
      std::lock_guard lock(mu);
      other = k && server_key && *k != *server_key;
      // A new key statement (a rotation or a move), or a server that does not count them.
      const uint64_t seen = std::stoull(meta("key_statements_seen").value_or(std::nullopt).value_or("0"));
      other = other || !counted || statements > seen;
    }
    // Rotated or moved since this device last looked: follow it (or refuse it). One request only
    // when something changed, not on every sync over a slow link.
    if (other) TRAM_RETURN_IF_ERROR(follow_server_key(*report));
  }
  return store_identity(*this, r->body);
}

namespace {

// One key statement (protocol §4), parsed; its signature is checked by the walk.
struct KeyStatement {
  std::string body, sig;
  PublicKey from{}, to{};
  std::string address;
  int64_t at_ms = 0;
};

std::optional<KeyStatement> parse_statement(std::string_view body, std::string_view sig) {
  dom::parser p;
  dom::object o;
  uint64_t v = 0;
  std::string_view kind, from, to, address;
  KeyStatement s;
  if (p.parse(body).get_object().get(o) || o["v"].get_uint64().get(v) || v != 1 || o["kind"].get_string().get(kind) ||
      kind != "tram-key-statement" || o["from"].get_string().get(from) || o["to"].get_string().get(to) ||
      o["address"].get_string().get(address) || o["at_ms"].get_int64().get(s.at_ms)) {
    return std::nullopt;
  }
  const auto f = from_hex<32>(from), t = from_hex<32>(to);
  if (!f || !t) return std::nullopt;
  s.body = body;
  s.sig = sig;
  s.from = *f;
  s.to = *t;
  s.address = address;
  return s;
}

}  // namespace

Status Client::Impl::follow_server_key(SyncReport& report) {
  auto r = call("GET", "/v1/server-key", "", false, &report);
  if (!r.ok()) return r.status();
  if (r->status != 200) return server_error(*r);
  std::optional<PublicKey> advertised;
  std::vector<KeyStatement> statements;
  {
    dom::parser p;
    dom::object o;
    std::string_view key;
    if (p.parse(r->body).get_object().get(o) || o["key"].get_string().get(key) || !(advertised = from_hex<32>(key))) {
      return fail(Errc::malformed_json, "server-key: unexpected answer");
    }
    dom::array list;
    if (!o["statements"].get_array().get(list)) {  // absent: a server from before statements
      for (dom::element e : list) {
        std::string_view body, sig;
        if (statements.size() >= 4096 || e["body"].get_string().get(body) || e["sig"].get_string().get(sig)) continue;
        if (auto st = parse_statement(body, sig)) statements.push_back(std::move(*st));
      }
    }
  }
  PublicKey pinned{};
  std::string url;
  int64_t url_at = 0;
  {
    std::lock_guard lock(mu);
    if (!server_key) return fail(Errc::not_enrolled, "no pinned server key: enrol this device first");
    pinned = *server_key;
    url = server_url;
    url_at = std::stoll(meta("server_url_at_ms").value_or(std::nullopt).value_or("0"));
  }
  // From the pinned key only, never from what the server claims: a statement applies when it
  // names the current key as `from` and that key signed it. Each applies at most once (a move
  // has from == to).
  PublicKey k = pinned;
  std::vector<const KeyStatement*> applied;
  std::vector<bool> used(statements.size(), false);
  for (bool progress = true; progress;) {
    progress = false;
    for (size_t i = 0; i < statements.size(); ++i) {
      const KeyStatement& st = statements[i];
      if (used[i] || st.from != k) continue;
      const auto sig = from_hex<64>(st.sig);
      if (!sig || !verify_signature(k, "tram-key-statement-v1:" + st.body, *sig)) continue;
      used[i] = true;
      applied.push_back(&st);
      k = st.to;
      progress = true;
    }
  }
  if (k != *advertised) {
    return fail(Errc::bad_signature, "the server now signs with key " + to_hex(*advertised).substr(0, 16) +
                                         "…, and no key statement signed by a key this device trusts leads to it from the"
                                         " key it pinned (" + to_hex(pinned).substr(0, 16) +
                                         "…): refusing to trust it. If the operator replaced the key without a statement,"
                                         " enrol this device again");
  }
  // The address of the last statement that names one, if newer than the one this device uses.
  const KeyStatement* move = nullptr;
  for (const KeyStatement* st : applied) {
    if (!st->address.empty()) move = st;
  }
  if (move && (move->at_ms <= url_at || !(move->address.starts_with("https://") || move->address.starts_with("http://")))) {
    move = nullptr;
  }
  bool moving = move && move->address != url;
  if (moving && !opt.transport) {
    // Only to an address that answers with the key this device now trusts: a typo in the
    // statement must not strand the device (it stays, and tries again at the next sync).
    bool answers = false;
    auto t = make_http_transport(move->address, opt.transport_options);
    if (t.ok()) {
      auto there = (*t)->send(HttpRequest{"GET", "/v1/server-key", {}, ""}, cancelled);
      dom::parser p;
      std::string_view key;
      answers = there.ok() && there->status == 200 && !p.parse(there->body)["key"].get_string().get(key) &&
                from_hex<32>(key) == k;
    }
    if (!answers) {
      moving = false;
      move = nullptr;
    }
  }
  {
    // /v1/me tells how many statements exist: the next sync fetches them only when there are more.
    std::lock_guard lock(mu);
    TRAM_RETURN_IF_ERROR(set_meta("key_statements_seen", std::to_string(statements.size())));
  }
  if (k == pinned && !move) return {};
  {
    std::lock_guard lock(mu);
    auto tx = sql::Transaction::begin(store->db());
    if (!tx.ok()) return tx.status();
    if (k != pinned) {
      auto keep = store->db().prepare(
          "INSERT OR IGNORE INTO _client_server_keys(key, statement, sig, followed_ms) VALUES (?, ?, ?, ?)");
      auto drop = store->db().prepare("DELETE FROM _client_server_keys WHERE key = ?");
      if (!keep.ok() || !drop.ok()) return fail(Errc::storage_error, "server keys: prepare failed");
      for (const KeyStatement* st : applied) {
        if (st->from == st->to) continue;
        keep->reset();
        keep->bind_text(1, to_hex(st->from));
        keep->bind_text(2, st->body);
        keep->bind_text(3, st->sig);
        keep->bind_int(4, clock->now_ms());
        TRAM_RETURN_IF_ERROR(keep->run());
      }
      drop->bind_text(1, to_hex(k));  // a walk that came back to an earlier key
      TRAM_RETURN_IF_ERROR(drop->run());
      TRAM_RETURN_IF_ERROR(set_meta("server_key", to_hex(k)));
    }
    if (move) {
      TRAM_RETURN_IF_ERROR(set_meta("server_url", move->address));
      TRAM_RETURN_IF_ERROR(set_meta("server_url_at_ms", std::to_string(move->at_ms)));
    }
    TRAM_RETURN_IF_ERROR(tx->commit());
    TRAM_RETURN_IF_ERROR(load_identity());
  }
  if (k != pinned) report.server_key_rotated = true;
  if (moving) {
    report.server_moved_to = move->address;
    // From the next request on; sessions live in the old server's memory.
    transport.reset();
    token.clear();
  }
  return {};
}

Status Client::enroll(const std::string& server_url, const std::string& code) {
  Impl& m = *impl_;
  std::string pub_hex;
  {
    std::lock_guard lock(m.mu);
    if (!m.user.empty()) return fail(Errc::already_exists, "this device is enrolled already (user " + m.user + ")");
    if (!m.chain) {
      // The key is stored (encrypted) before the server hears of it: a lost answer can be
      // retried with the same key (protocol §5.4).
      DeviceKey key = DeviceKey::generate(m.random);
      std::array<uint8_t, 32> seed{};
      key.export_seed(seed);
      pub_hex = to_hex(key.public_key());
      const std::string ad = "tram-device-key-v1:" + pub_hex;
      std::vector<uint8_t> sealed(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + seed.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
      randombytes_buf(sealed.data(), crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
      unsigned long long n = 0;
      crypto_aead_xchacha20poly1305_ietf_encrypt(sealed.data() + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &n, seed.data(),
                                                 seed.size(), reinterpret_cast<const uint8_t*>(ad.data()), ad.size(), nullptr,
                                                 sealed.data(), m.opt.wrapping_key.data());
      sodium_memzero(seed.data(), seed.size());
      auto tx = sql::Transaction::begin(m.store->db());
      if (!tx.ok()) return tx.status();
      TRAM_RETURN_IF_ERROR(m.set_meta("device", pub_hex));
      TRAM_RETURN_IF_ERROR(m.set_meta("device_key", to_hex(sealed)));
      TRAM_RETURN_IF_ERROR(m.set_meta("server_url", server_url));
      TRAM_RETURN_IF_ERROR(tx->commit());
      TRAM_RETURN_IF_ERROR(m.load_identity());
    } else {
      pub_hex = to_hex(*m.device);
      TRAM_RETURN_IF_ERROR(m.set_meta("server_url", server_url));
      m.server_url = server_url;
    }
    m.transport.reset();
  }
  auto r = m.call("POST", "/v1/enroll", "{\"code\":" + json::quote(normalise_code(code)) + ",\"public_key\":\"" + pub_hex + "\"}", false);
  if (!r.ok()) return r.status();
  if (r->status == 200) return store_identity(m, r->body);
  if (r->status == 409) return m.refresh_identity();  // enrolled by an attempt whose answer was lost
  return server_error(*r);
}

// ---- sync --------------------------------------------------------------------------------

Status Client::Impl::push_outbox(SyncReport& report, const std::function<void(const Progress&)>& progress, Progress& p) {
  p.phase = "push";
  {
    std::lock_guard lock(mu);
    auto st = store->db().prepare("SELECT COUNT(*) FROM _client_outbox WHERE state = 0");
    if (st.ok() && st->step().value_or(false)) p.changesets_total = static_cast<uint64_t>(st->column_int(0));
  }
  uint64_t after = 0;
  int refills = 0;
  for (int round = 0; round < 100'000; ++round) {
    if (cancelled) return fail(Errc::cancelled, "sync cancelled");
    std::string body = "{\"changesets\":[";
    size_t n = 0;
    uint64_t last_seq = after;
    {
      std::lock_guard lock(mu);
      auto st = store->db().prepare("SELECT seq, bytes, sig FROM _client_outbox WHERE state = 0 AND seq > ? ORDER BY seq LIMIT ?");
      if (!st.ok()) return st.status();
      st->bind_int(1, static_cast<int64_t>(after));
      st->bind_int(2, static_cast<int64_t>(push_batch));
      while (st->step().value_or(false)) {
        last_seq = static_cast<uint64_t>(st->column_int(0));
        auto bytes = st->column_blob(1);
        body += (n++ ? "," : "") + std::string("{\"cs\":\"") +
                to_base64(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size())) + "\",\"sig\":\"" +
                to_hex(st->column_blob(2)) + "\"}";
      }
    }
    if (n == 0) return {};
    body += "]}";
    const auto t0 = std::chrono::steady_clock::now();
    auto r = call("POST", "/v1/push", body, true, &report);
    const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    if (!r.ok() || r->status == 413) {
      push_batch = std::max(opt.sync.push_batch_min, push_batch / 2);  // a weak link: smaller requests
      if (!r.ok()) return r.status();
      if (n == 1) return server_error(*r);
      continue;
    }
    if (r->status != 200) return server_error(*r);
    dom::parser parser;
    dom::element root;
    dom::array results;
    if (parser.parse(r->body).get(root) || root["results"].get_array().get(results)) {
      return fail(Errc::malformed_json, "push: unexpected answer");
    }
    auto head = push_head(root, *server_key);
    if (!head.ok()) return head.status();
    const std::vector<PushResult> answers = parse_results(results);
    Touched changed;
    Status st;
    {
      std::lock_guard lock(mu);
      auto tx = sql::Transaction::begin(store->db());  // the head with the receipts: one commit
      if (!tx.ok()) return tx.status();
      if (*head) TRAM_RETURN_IF_ERROR(note_head((*head)->server_seq, report));
      st = record_results(answers, report, changed);
      if (st.ok() || st.code() == Errc::rejected) TRAM_RETURN_IF_ERROR(tx->commit());  // a refusal is recorded too
    }
    notify(changed);
    // A gap below what this device holds receipts for: the server lost those change sets. Send
    // them again, then the outbox from its start (bounded: a server that keeps losing them ends
    // the sync with its seq_gap).
    const auto refusal = std::find_if(answers.begin(), answers.end(),
                                      [](const PushResult& a) { return a.receipt_body.empty() && a.status == "rejected"; });
    if (!st.ok() && refusal != answers.end() && refusal->code == "seq_gap" && refusal->expected_seq && refills < 3) {
      ++refills;
      TRAM_RETURN_IF_ERROR(refill(refusal->expected_seq, report, st));
      after = 0;
      continue;
    }
    if (!st.ok()) return st;
    if (ms < opt.sync.slow_request_ms / 4) push_batch = std::min(opt.sync.push_batch_max, push_batch * 2);
    if (ms > opt.sync.slow_request_ms) push_batch = std::max(opt.sync.push_batch_min, push_batch / 2);
    after = last_seq;
    p.changesets_done += n;
    p.bytes_sent = report.bytes_sent;
    p.bytes_received = report.bytes_received;
    if (progress) progress(p);
  }
  return {};
}

Status Client::Impl::upload_attachments(SyncReport& report, const std::function<void(const Progress&)>& progress, Progress& p) {
  p.phase = "upload";
  std::vector<std::string> queued;
  {
    std::lock_guard lock(mu);
    auto st = store->db().prepare("SELECT hash FROM _client_uploads WHERE done = 0 ORDER BY hash");
    if (!st.ok()) return st.status();
    while (st->step().value_or(false)) queued.emplace_back(st->column_text(0));
  }
  p.files_total = queued.size();
  for (const std::string& hash : queued) {
    if (cancelled) return fail(Errc::cancelled, "sync cancelled");
    std::ifstream in(opt.path + ".files/" + hash, std::ios::binary);
    if (!in) continue;  // the file vanished: nothing to send; the server lists it as missing
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto status = call("GET", "/v1/attachments/" + hash + "/status", "", true, &report);
    if (!status.ok()) return status.status();
    if (status->status == 404) continue;  // its change set is not accepted yet: next sync
    if (status->status != 200) return server_error(*status);
    dom::parser parser;
    uint64_t offset = 0;
    bool complete = false;
    dom::element root;
    if (!parser.parse(status->body).get(root)) {
      if (root["received"].get_uint64().get(offset)) {}
      if (root["complete"].get_bool().get(complete)) {}
    }
    for (int chunks = 0; !complete && chunks < 10'000; ++chunks) {
      if (cancelled) return fail(Errc::cancelled, "sync cancelled");
      const size_t len = std::min<size_t>(opt.sync.attachment_chunk_bytes, bytes.size() - std::min<size_t>(offset, bytes.size()));
      const bool final = offset + len >= bytes.size();
      auto r = call("PUT", "/v1/attachments/" + hash + "?offset=" + std::to_string(offset) + (final ? "&final=1" : ""),
                    bytes.substr(offset, len), true, &report);
      if (!r.ok()) return r.status();
      if (r->status == 409 && !parser.parse(r->body).get(root) && !root["received"].get_uint64().get(offset)) continue;
      if (r->status != 200) return server_error(*r);
      if (parser.parse(r->body).get(root) || root["complete"].get_bool().get(complete)) complete = false;
      offset += len;
      if (final && !complete) return fail(Errc::rejected, "attachment " + hash + " did not verify on the server");
    }
    std::lock_guard lock(mu);
    auto st = store->db().prepare("UPDATE _client_uploads SET done = 1 WHERE hash = ?");
    if (!st.ok()) return st.status();
    st->bind_text(1, hash);
    TRAM_RETURN_IF_ERROR(st->run());
    ++report.attachments_uploaded;
    ++p.files_done;
    if (progress) progress(p);
  }
  return {};
}

Status Client::Impl::pull(SyncReport& report, const std::function<void(const Progress&)>& progress, Progress& p) {
  p.phase = "pull";
  // Where a page starts: a snapshot cursor, or a pull cursor (a row version).
  struct Cursor {
    bool snapshot = false;
    std::string at;
  };
  struct Fetched {
    Result<HttpResponse> response;
    int64_t ms = 0;
    std::optional<Result<wire::PullPage>> page;  // parsed where it was fetched (a 200 answer)
    Cursor from;                                 // what it was fetched with
  };
  // A device that never pulled takes the snapshot first (§8.3: current rows, table by table in
  // id order, which its store appends instead of inserting at random places), then pulls what
  // changed since. "snapshot_cursor" is kept until the snapshot is complete, so an interrupted
  // one resumes where it stopped.
  Cursor at;
  {
    std::lock_guard lock(mu);
    auto pulled = meta("pull_cursor");
    auto snap = meta("snapshot_cursor");
    if (!pulled.ok() || !snap.ok()) return fail(Errc::storage_error, "pull: cannot read the cursor");
    at.snapshot = !*pulled || *snap;
    at.at = at.snapshot ? snap->value_or("") : **pulled;
  }
  // The page after one fetched at `c` that says `more`, `next` and `cursor`; nullopt after the
  // last one. After the snapshot's last page comes the pull from the row version it was taken at.
  auto next_of = [](const Cursor& c, bool more, uint64_t next, const std::string& cursor) -> std::optional<Cursor> {
    if (!more && !c.snapshot) return std::nullopt;
    const bool snap = c.snapshot && more;
    return Cursor{snap, snap ? cursor : std::to_string(next)};
  };
  wire::PullParser parser;  // used by whichever thread parses
  size_t size = pull_page;
  // One request for the page at `c` (a server from before snapshots answers 404 to one: then
  // pull from the start instead).
  auto fetch_at = [this](Transport* via, Cursor c, size_t limit) -> Fetched {
    for (int tries = 0; tries < 2; ++tries) {
      const auto t0 = std::chrono::steady_clock::now();
      const std::string target = c.snapshot ? "/v1/snapshot?limit=" + std::to_string(limit) + "&cursor=" + c.at
                                            : "/v1/pull?after=" + c.at + "&limit=" + std::to_string(limit);
      Fetched f{call("GET", target, "", true, nullptr, via), 0, {}, c};
      f.ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
      if (!(c.snapshot && f.response.ok() && f.response->status == 404)) return f;
      c = Cursor{false, "0"};
    }
    return Fetched{fail(Errc::rejected, "pull: the server answered 404 to the pull"), 0, {}, c};
  };
  // Parses a fetched page, adapts the page size to how long its request took, and names the
  // page after it (nullopt: none, or this one failed). `early`, when given, is called with that
  // cursor as soon as the page's first bytes name it (wire::peek_page), before the rows are parsed.
  auto take = [&](Fetched& f, const std::function<void(const Cursor&)>& early) -> std::optional<Cursor> {
    if (!f.response.ok() || f.response->status != 200) return std::nullopt;
    if (f.ms < opt.sync.slow_request_ms / 4) size = std::min(opt.sync.pull_page_max, size * 2);
    if (f.ms > opt.sync.slow_request_ms) size = std::max(opt.sync.pull_page_min, size / 2);
    std::optional<Cursor> next;
    std::optional<wire::PageLead> lead;
    if (early && (lead = wire::peek_page(f.response->body))) {
      next = next_of(f.from, lead->more, lead->next, lead->cursor);
      if (next) early(*next);
    }
    f.page = parser.parse(f.response->body, *schema);
    if (!f.page->ok()) return std::nullopt;
    if (!lead) {
      next = next_of(f.from, (*f.page)->more, (*f.page)->next, (*f.page)->cursor);
      if (next && early) early(*next);
    }
    return next;
  };

  // Pages are fetched and parsed ahead, on a second connection and a thread of their own, while
  // this thread writes them to the store: the link, the server and the parsing work while the
  // phone writes. The request for the next page leaves as soon as a page's first bytes name it
  // (wire::peek_page), before that page is parsed. Only with the default transport (an app's
  // own transport may not allow two requests at once); otherwise one page at a time.
  std::unique_ptr<Transport> second;
  if (!opt.transport && opt.sync.read_ahead) {
    auto t = make_http_transport(server_url, opt.transport_options);
    if (t.ok()) second = std::move(t).value();
  }
  const bool ahead = second != nullptr;
  std::mutex qmu;
  std::condition_variable qcv;
  std::deque<Fetched> queue;
  bool stop = false, finished = false;
  std::thread producer;
  if (ahead) {
    producer = std::thread([&] {
      // One request in flight at a time, on its own short-lived thread, while this one parses.
      auto request = [&](const Cursor& c) { return std::async(std::launch::async, fetch_at, second.get(), c, size); };
      std::future<Fetched> inflight = request(at);
      for (int pages = 0; pages < 1'000'000; ++pages) {
        Fetched f = inflight.get();
        const bool last = !take(f, [&](const Cursor& c) { inflight = request(c); });
        std::unique_lock lock(qmu);
        qcv.wait(lock, [&] { return queue.size() < 2 || stop; });
        if (stop) break;
        queue.push_back(std::move(f));
        qcv.notify_all();
        if (last) break;
      }
      // (A request still in flight is waited for when `inflight` goes: cancel() makes it short.)
      std::lock_guard lock(qmu);
      finished = true;
      qcv.notify_all();
    });
  }
  // Stops the producer and waits for it: when the pull ends, however it ends.
  auto stop_producer = [&] {
    if (!producer.joinable()) return;
    {
      std::lock_guard lock(qmu);
      stop = true;
    }
    qcv.notify_all();
    producer.join();
  };
  struct OnExit {
    std::function<void()> f;
    ~OnExit() { f(); }
  } on_exit{stop_producer};
  bool done = false;  // one page at a time: after the last one
  auto next_fetched = [&]() -> std::optional<Fetched> {
    if (!ahead) {
      if (done) return std::nullopt;
      Fetched f = fetch_at(nullptr, at, size);
      auto next = take(f, {});
      if (next) at = std::move(*next);
      done = !next;
      return f;
    }
    std::unique_lock lock(qmu);
    qcv.wait(lock, [&] { return !queue.empty() || finished; });
    if (queue.empty()) return std::nullopt;
    Fetched f = std::move(queue.front());
    queue.pop_front();
    qcv.notify_all();
    return f;
  };

  for (int pages = 0; pages < 1'000'000; ++pages) {
    if (cancelled) return fail(Errc::cancelled, "sync cancelled");
    auto fetched = next_fetched();
    if (!fetched) break;
    Fetched& got = *fetched;
    auto& r = got.response;
    if (r.ok()) {
      report.bytes_sent += r->bytes_sent;
      report.bytes_received += r->bytes_received;
    }
    if (!r.ok()) {
      pull_page = std::max(opt.sync.pull_page_min, pull_page / 2);
      return r.status();
    }
    if (r->status != 200) return server_error(*r);
    auto& page = *got.page;
    if (!page.ok()) return page.status();
    if (!wire::verify_head(page->head, *server_key)) return fail(Errc::bad_signature, "pull: the log head is not signed by the pinned server key");
    {
      std::lock_guard lock(mu);
      TRAM_RETURN_IF_ERROR(note_head(page->head.server_seq, report, /*persist=*/false));  // with the page, below
    }
    if (behind_seen) return {};  // the log went back: the cursor is reset; heal, then pull again
    const std::optional<Cursor> next = next_of(got.from, page->more, page->next, page->cursor);
    Touched changed;
    {
      std::lock_guard lock(mu);
      // A pulled page may skip the fsync (synchronous=NORMAL): WAL keeps it atomic with its
      // cursor, and a page lost to a power cut is pulled again. The device's own writes keep
      // synchronous=FULL.
      TRAM_RETURN_IF_ERROR(store->db().exec("PRAGMA synchronous=NORMAL"));
      struct Restore {
        sql::Database& db;
        ~Restore() { (void)db.exec("PRAGMA synchronous=FULL"); }
      } restore{store->db()};
      auto tx = sql::Transaction::begin(store->db());
      if (!tx.ok()) return tx.status();
      auto& db = store->db();
      bool any_pending = false;
      {
        auto st = db.prepare("SELECT EXISTS (SELECT 1 FROM _client_base)");
        if (!st.ok()) return st.status();
        any_pending = st->step().value_or(true) && st->column_int(0) != 0;
      }
      auto has_base = db.prepare("UPDATE _client_base SET image = ? WHERE tbl = ? AND row_id = ?");
      auto add_conflict = db.prepare(
          "INSERT OR IGNORE INTO _client_conflicts(tbl, row_id, field, winner, loser, mine_lost, loser_value) VALUES (?, ?, ?, ?, ?, ?, ?)");
      if (!has_base.ok() || !add_conflict.ok()) return fail(Errc::storage_error, "pull: prepare failed");
      Touched rebuild;
      for (const wire::PulledRow& row : page->rows) {
        changed[row.table].insert(row.id);
        bool based = false;
        if (any_pending) {
          // A row with pending edits: keep the server's image as its base and rebuild.
          has_base->reset();
          has_base->bind_text(1, wire::row_image_to_json(row.image));
          has_base->bind_text(2, row.table);
          has_base->bind_text(3, row.id);
          TRAM_RETURN_IF_ERROR(has_base->run());
          based = db.changes() > 0;
        }
        if (based) {
          rebuild[row.table].insert(row.id);
        } else {
          TRAM_RETURN_IF_ERROR(store->put_row_image(row.table, row.id, row.image));
        }
        for (const ConflictRecord& c : row.conflicts) {
          auto loser_mine = is_own_changeset(c.loser);
          auto winner_mine = is_own_changeset(c.winner);
          if (!loser_mine.ok() || !winner_mine.ok()) return fail(Errc::storage_error, "pull: conflicts");
          if (!*loser_mine && !*winner_mine) continue;  // other devices' business
          std::string v;
          json::append_value(v, c.loser_value);
          add_conflict->reset();
          add_conflict->bind_text(1, c.table);
          add_conflict->bind_text(2, c.row);
          add_conflict->bind_int(3, c.field);
          add_conflict->bind_blob(4, c.winner);
          add_conflict->bind_blob(5, c.loser);
          add_conflict->bind_int(6, *loser_mine);
          add_conflict->bind_text(7, v);
          TRAM_RETURN_IF_ERROR(add_conflict->run());
        }
      }
      TRAM_RETURN_IF_ERROR(rebuild_rows(rebuild));
      if (next && next->snapshot) {
        TRAM_RETURN_IF_ERROR(set_meta("snapshot_cursor", next->at));
      } else if (next || !got.from.snapshot) {
        TRAM_RETURN_IF_ERROR(set_meta("pull_cursor", next ? next->at : std::to_string(page->next)));
        auto clear = db.prepare("DELETE FROM _client_meta WHERE k = 'snapshot_cursor'");
        if (!clear.ok()) return clear.status();
        TRAM_RETURN_IF_ERROR(clear->run());
      }
      TRAM_RETURN_IF_ERROR(set_meta("server_seq", std::to_string(page->head.server_seq)));
      TRAM_RETURN_IF_ERROR(set_meta("head_seq", std::to_string(known_head.value_or(page->head.server_seq))));
      TRAM_RETURN_IF_ERROR(tx->commit());
    }
    notify(changed);
    report.rows_pulled += page->rows.size();
    p.rows_pulled = report.rows_pulled;
    p.bytes_sent = report.bytes_sent;
    p.bytes_received = report.bytes_received;
    if (progress) progress(p);
    if (!next) break;
  }
  stop_producer();  // `size` is the producer's until it has ended
  pull_page = size;  // a later sync starts with what this one learnt about the link
  return {};
}

// ---- healing a server whose log went back ------------------------------------------------

Status Client::Impl::resend(uint64_t from, uint64_t to, SyncReport& report, uint64_t& gap) {
  gap = 0;
  size_t batch = push_batch;
  for (uint64_t next = from; next <= to;) {
    if (cancelled) return fail(Errc::cancelled, "sync cancelled");
    std::string body = "{\"changesets\":[";
    std::vector<uint64_t> seqs;
    {
      std::lock_guard lock(mu);
      auto st = store->db().prepare("SELECT seq, bytes, sig FROM _client_sent WHERE seq >= ? AND seq <= ? ORDER BY seq LIMIT ?");
      if (!st.ok()) return st.status();
      st->bind_int(1, static_cast<int64_t>(next));
      st->bind_int(2, static_cast<int64_t>(to));
      st->bind_int(3, static_cast<int64_t>(batch));
      while (st->step().value_or(false)) {
        const uint64_t seq = static_cast<uint64_t>(st->column_int(0));
        if (seq != next + seqs.size()) return server_lost_data(from, to, next + seqs.size());
        auto packed = st->column_blob(1);
        auto bytes = gzip_decompress(std::string_view(reinterpret_cast<const char*>(packed.data()), packed.size()), 8u << 20);
        if (!bytes) return fail(Errc::storage_error, "kept change set #" + std::to_string(seq) + " is damaged");
        body += (seqs.empty() ? "" : ",") + std::string("{\"cs\":\"") + to_base64(*bytes) + "\",\"sig\":\"" +
                to_hex(st->column_blob(2)) + "\"}";
        seqs.push_back(seq);
      }
    }
    if (seqs.empty()) return server_lost_data(from, to, next);
    body += "]}";
    auto r = call("POST", "/v1/push", body, true, &report);
    if (!r.ok()) return r.status();
    if (r->status == 413 && seqs.size() > 1) {
      batch = std::max<size_t>(1, seqs.size() / 2);
      continue;
    }
    if (r->status != 200) return server_error(*r);
    dom::parser parser;
    dom::element root;
    dom::array results;
    if (parser.parse(r->body).get(root) || root["results"].get_array().get(results)) {
      return fail(Errc::malformed_json, "push: unexpected answer");
    }
    auto head = push_head(root, *server_key);
    if (!head.ok()) return head.status();
    Touched changed;
    Status st;
    {
      std::lock_guard lock(mu);
      auto tx = sql::Transaction::begin(store->db());
      if (!tx.ok()) return tx.status();
      if (*head) TRAM_RETURN_IF_ERROR(note_head((*head)->server_seq, report));
      st = record_resent(parse_results(results), seqs, report, changed, gap);
      if (st.ok()) TRAM_RETURN_IF_ERROR(tx->commit());
    }
    notify(changed);
    if (!st.ok() || gap) return st;
    next = seqs.back() + 1;
  }
  return {};
}

Status Client::Impl::refill(uint64_t expected, SyncReport& report, Status otherwise) {
  uint64_t last = 0;
  {
    std::lock_guard lock(mu);
    auto st = store->db().prepare("SELECT IFNULL(MAX(seq), 0) FROM _client_receipts");
    if (!st.ok() || !st->step().value_or(false)) return fail(Errc::storage_error, "refill: cannot read the receipts");
    last = static_cast<uint64_t>(st->column_int(0));
    if (expected > last) return otherwise;  // the gap is in the outbox: not the server's loss
    // Receipts for what the server now lacks: its log went back, whatever the heads said. (Once:
    // a device that cannot heal it must not pull everything again at every sync.)
    if (meta("heal").value_or(std::nullopt).value_or("") != "1") {
      TRAM_RETURN_IF_ERROR(load_known_head());
      TRAM_RETURN_IF_ERROR(mark_log_behind(*known_head, report));
    }
    report.server_log_behind = true;
  }
  uint64_t gap = 0;
  TRAM_RETURN_IF_ERROR(resend(expected, last, report, gap));
  if (gap) return fail(Errc::rejected, "seq_gap: the server still expects #" + std::to_string(gap) + " after it was sent again");
  std::lock_guard lock(mu);
  return set_meta("heal", "");
}

Status Client::Impl::heal_if_needed(SyncReport& report) {
  uint64_t newest = 0;
  {
    std::lock_guard lock(mu);
    if (meta("heal").value_or(std::nullopt).value_or("") != "1") return {};
    report.server_log_behind = true;
    auto st = store->db().prepare("SELECT IFNULL(MAX(seq), 0) FROM _client_sent");
    if (!st.ok() || !st->step().value_or(false)) return fail(Errc::storage_error, "heal: cannot read the kept change sets");
    newest = static_cast<uint64_t>(st->column_int(0));
    if (newest == 0) return set_meta("heal", "");  // nothing kept: nothing to send again
  }
  // The newest kept change set: a duplicate if the server has this device's chain, else its
  // seq_gap names the first one it lacks.
  uint64_t gap = 0;
  TRAM_RETURN_IF_ERROR(resend(newest, newest, report, gap));
  if (gap) return refill(gap, report, fail(Errc::rejected, "seq_gap: the server expects #" + std::to_string(gap)));
  std::lock_guard lock(mu);
  return set_meta("heal", "");
}

Status Client::Impl::heal_from_me(SyncReport& report) {
  uint64_t last = 0;
  {
    std::lock_guard lock(mu);
    if (!me_seq) return {};  // a server from before /v1/me said it
    auto st = store->db().prepare("SELECT IFNULL(MAX(seq), 0) FROM _client_receipts");
    if (!st.ok() || !st->step().value_or(false)) return fail(Errc::storage_error, "heal: cannot read the receipts");
    last = static_cast<uint64_t>(st->column_int(0));
  }
  // Catches what the heads cannot: a log that went back and then grew past the highest head
  // this device saw, with nothing in its outbox to draw a seq_gap.
  if (*me_seq >= last) return {};
  return refill(*me_seq + 1, report, {});
}

Status Client::Impl::sync_round(SyncReport& report, const std::function<void(const Progress&)>& progress) {
  PublicKey pinned{};
  {
    std::lock_guard lock(mu);
    if (!server_key) return fail(Errc::not_enrolled, "no pinned server key: enrol this device first");
    pinned = *server_key;
  }
  Status st = sync_steps(report, progress);
  if (st.code() == Errc::bad_signature) {
    // A head or receipt that the pinned key does not verify: the key may have been rotated since
    // this round looked. Follow it, and go once more if it moved.
    TRAM_RETURN_IF_ERROR(follow_server_key(report));
    if (*server_key != pinned) st = sync_steps(report, progress);
  }
  return st;
}

Status Client::Impl::sync_steps(SyncReport& report, const std::function<void(const Progress&)>& progress) {
  Progress p;
  TRAM_RETURN_IF_ERROR(refresh_identity(&report));
  {
    std::lock_guard lock(mu);
    TRAM_RETURN_IF_ERROR(prune_sent());
  }
  // A device that cannot heal the server still uploads and pulls; the sync then ends with the
  // server_lost_data error.
  Status lost = heal_from_me(report);
  if (!lost.ok() && !is_server_lost_data(lost)) return lost;
  for (int pass = 0; pass < 3; ++pass) {
    Status st = pass == 0 && !lost.ok() ? lost : heal_if_needed(report);
    if (st.ok()) st = push_outbox(report, progress, p);
    if (st.ok()) st = heal_if_needed(report);  // a push answer's head showed the log went back
    if (!st.ok() && !is_server_lost_data(st)) return st;
    if (!st.ok()) lost = st;
    TRAM_RETURN_IF_ERROR(upload_attachments(report, progress, p));
    behind_seen = false;
    TRAM_RETURN_IF_ERROR(pull(report, progress, p));
    if (!behind_seen) break;  // else: a pull head showed it; heal and pull from the start
  }
  return lost;
}

Result<SyncReport> Client::sync(const std::function<void(const Progress&)>& progress) {
  Impl& m = *impl_;
  std::lock_guard sync_lock(m.sync_mu);
  {
    std::lock_guard lock(m.mu);
    if (!m.chain || m.user.empty()) return fail(Errc::not_enrolled, "enrol this device first");
  }
  m.cancelled = false;
  SyncReport report;
  std::mt19937_64 jitter(std::random_device{}());
  Status last;
  for (int attempt = 1; attempt <= std::max(1, m.opt.sync.max_attempts); ++attempt) {
    report.attempts = attempt;
    last = m.sync_round(report, progress);
    if (last.ok()) break;
    // Only a failure of the link or the server is worth retrying; a refusal is not.
    if (last.code() != Errc::unavailable || attempt == m.opt.sync.max_attempts) break;
    m.token.clear();
    const int64_t cap = std::min<int64_t>(m.opt.sync.backoff_max_ms, m.opt.sync.backoff_initial_ms << std::min(attempt - 1, 20));
    sleep_unless_cancelled(std::uniform_int_distribution<int64_t>(0, cap)(jitter), m.cancelled);  // full jitter
    if (m.cancelled) {
      last = fail(Errc::cancelled, "sync cancelled");
      break;
    }
  }
  std::lock_guard lock(m.mu);
  if (last.ok()) {
    (void)m.set_meta("last_sync_ms", std::to_string(m.clock->now_ms()));
    (void)m.set_meta("last_error", "");
    return report;
  }
  (void)m.set_meta("last_error", last.to_string());
  return last;
}

void Client::cancel() { impl_->cancelled = true; }

void Client::start_background(std::chrono::milliseconds interval) {
  stop_background();
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.bg_mu);
    m.bg_stop = false;
  }
  m.background = std::thread([this, &m, interval] {
    std::unique_lock lock(m.bg_mu);
    while (!m.bg_stop) {
      lock.unlock();
      (void)sync();
      lock.lock();
      m.bg_cv.wait_for(lock, interval, [&] { return m.bg_stop; });
    }
  });
}

void Client::stop_background() {
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.bg_mu);
    if (!m.background.joinable()) return;
    m.bg_stop = true;
  }
  m.cancelled = true;
  m.bg_cv.notify_all();
  m.background.join();
}

}  // namespace tram::client
