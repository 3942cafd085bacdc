// Who this device is and whom it trusts: its identity from _client_meta and its key unwrapped,
// the identity the server states (enrolment, GET /v1/me), and the server keys it follows
// through signed key statements (protocol §4), with the moves they announce.
#include <sodium.h>

#include <sstream>

#include <simdjson.h>

#include "client_impl.hpp"

namespace tram::client {
namespace dom = simdjson::dom;

namespace {
constexpr std::string_view kKeyAd = "tram-device-key-v1:";
Status fail(Errc c, std::string m) { return {c, std::move(m)}; }
}  // namespace

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
  user_name = get("name");
  if (auto k = from_hex<32>(get("server_key"))) server_key = *k;
  old_server_keys.clear();
  auto old = local->previous_server_keys();
  if (!old.ok()) return old.status();
  old_server_keys = std::move(old).value();
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

// Stores who this device acts for, from an enrolment answer or GET /v1/me.
Status store_identity(Client::Impl& m, const std::string& body) {
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
  std::string_view name;  // the display name the administrator registered (older servers: none)
  if (o["name"].get_string().get(name)) name = {};
  std::lock_guard lock(m.mu);
  if (m.server_key && *m.server_key != *server) {
    return fail(Errc::bad_signature, "the server names key " + to_hex(*server).substr(0, 16) + "…, and no key statement leads"
                                     " to it from the key this device pinned (" + to_hex(*m.server_key).substr(0, 16) +
                                     "…): refusing to trust it");
  }
  if (has_seq) m.me_seq = seq;
  auto tx = m.local->begin();
  if (!tx.ok()) return tx.status();
  TRAM_RETURN_IF_ERROR(m.set_meta("user", std::string(user)));
  TRAM_RETURN_IF_ERROR(m.set_meta("role", std::string(role)));
  TRAM_RETURN_IF_ERROR(m.set_meta("units", list));
  TRAM_RETURN_IF_ERROR(m.set_meta("all_units", all ? "1" : "0"));
  TRAM_RETURN_IF_ERROR(m.set_meta("name", std::string(name)));
  TRAM_RETURN_IF_ERROR(m.set_meta("server_key", to_hex(*server)));
  TRAM_RETURN_IF_ERROR(tx->commit());
  return m.load_identity();
}

Status Client::Impl::refresh_identity(SyncReport* report) {
  me_seq.reset();
  auto r = session->call("GET", "/v1/me", "", true, report);
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
  auto r = session->call("GET", "/v1/server-key", "", false, &report);
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
      HttpRequest get;
      get.method = "GET";
      get.target = "/v1/server-key";
      auto there = (*t)->send(get, cancelled);
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
    auto tx = local->begin();
    if (!tx.ok()) return tx.status();
    if (k != pinned) {
      for (const KeyStatement* st : applied) {
        if (st->from == st->to) continue;
        TRAM_RETURN_IF_ERROR(local->keep_server_key(st->from, st->body, st->sig, clock->now_ms()));
      }
      TRAM_RETURN_IF_ERROR(local->drop_server_key(k));  // a walk that came back to an earlier key
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
    session->reconnect();
  }
  return {};
}

}  // namespace tram::client
