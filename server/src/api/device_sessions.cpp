#include "device_sessions.hpp"

#include <simdjson.h>

#include <algorithm>

#include "responses.hpp"

namespace tram::server::api {
namespace dom = simdjson::dom;

Response Context::rate_limited(const std::string& limit, std::string_view message, int retry_after_s) {
  metrics.count_rate_limited(limit);
  Response r = error(429, "rate_limited", message);
  r.retry_after_s = retry_after_s;
  return r;
}

Response DeviceSessions::enroll(const Request& req) {
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
    return ctx_.rate_limited("enrol_failures", "too many wrong enrolment codes from this address; wait a minute", 60);
  }
  DeviceRecord d;
  UserRecord u;
  {
    std::lock_guard lock(ctx_.writer);
    auto r = ctx_.storage.enrol(blake2b_256(code), *key, ctx_.clock.now_ms());
    if (!r.ok()) {
      if (r.code() == Errc::duplicate && r.status().message().find("device") != std::string::npos) {
        return error(409, "already_enrolled", r.status().message());
      }
      if (r.code() == Errc::storage_error) return error(503, "storage", r.status().message());
      enrol_limited(req.remote, true);
      return error(403, "enrolment_refused", r.status().message());
    }
    d = *r;
    auto user = ctx_.storage.user(d.user);
    if (!user.ok() || !*user) return error(500, "internal", "enrolment code names an unknown user");
    u = **user;
    ctx_.storage.checkpoint();  // an enrolment must survive a lost WAL: devices cannot redo it alone
  }
  json::Writer out;
  out.begin_object().key("device").hex(d.key);
  write_user_members(out, u);
  out.key("server_key").hex(ctx_.server_key.public_key()).end_object();
  return ok(out.take());
}

Response DeviceSessions::challenge(const Request& req) {
  dom::parser parser;
  dom::element root;
  std::string_view device_hex;
  if (parser.parse(req.body).get(root) || root["device"].get_string().get(device_hex)) {
    return error(400, "malformed", "expected {\"device\": hex}");
  }
  auto key = from_hex<32>(device_hex);
  if (!key) return error(400, "malformed", "device must be 64 hex digits");
  auto d = ctx_.storage.device(*key);
  if (!d.ok()) return error(503, "storage", d.status().message());
  if (!*d) return error(401, "unknown_device", "this device is not enrolled");
  std::array<uint8_t, 32> nonce;
  ctx_.random.fill(std::as_writable_bytes(std::span(nonce)));
  const std::string c = to_hex(nonce);
  {
    std::lock_guard lock(mu_);
    const int64_t now = ctx_.clock.now_ms();
    std::erase_if(challenges_, [&](const auto& kv) { return kv.second.expires_ms < now; });
    const size_t outstanding = static_cast<size_t>(
        std::count_if(challenges_.begin(), challenges_.end(), [&](const auto& kv) { return kv.second.device == *key; }));
    if (outstanding >= ctx_.config.max_challenges_per_device) {
      return ctx_.rate_limited("challenges", "too many unanswered challenges for this device; answer one or wait",
                               static_cast<int>(ctx_.config.challenge_ttl_ms / 1000));
    }
    challenges_[c] = DeviceSession{*key, now + ctx_.config.challenge_ttl_ms};
  }
  json::Writer out;
  out.begin_object().key("challenge").string(c).key("expires_in_s").number(ctx_.config.challenge_ttl_ms / 1000).end_object();
  return ok(out.take());
}

Response DeviceSessions::open_session(const Request& req) {
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
    std::lock_guard lock(mu_);
    auto it = challenges_.find(std::string(challenge_hex));
    if (it == challenges_.end() || it->second.device != *key || it->second.expires_ms < ctx_.clock.now_ms()) {
      if (it != challenges_.end()) challenges_.erase(it);
      return error(401, "bad_challenge", "unknown, used or expired challenge: ask for a new one");
    }
    challenges_.erase(it);
  }
  if (!verify_signature(*key, "tram-session-v1:" + std::string(challenge_hex), *sig)) {
    return error(401, "bad_signature", "the challenge signature does not verify with the device key");
  }
  std::array<uint8_t, 32> t;
  ctx_.random.fill(std::as_writable_bytes(std::span(t)));
  const std::string token = to_hex(t);
  {
    std::lock_guard lock(mu_);
    const int64_t now = ctx_.clock.now_ms();
    std::erase_if(sessions_, [&](const auto& kv) { return kv.second.expires_ms < now; });
    sessions_[token] = DeviceSession{*key, now + ctx_.config.session_ttl_ms};
  }
  json::Writer out;
  out.begin_object().key("token").string(token).key("expires_in_s").number(ctx_.config.session_ttl_ms / 1000).end_object();
  return ok(out.take());
}

Response DeviceSessions::me(const Caller& who, size_t key_statements) {
  // Who this device acts for now: lets a device recover a lost enrolment answer and learn an
  // administrator's change of role or scope.
  json::Writer out;
  out.begin_object().key("device").hex(who.device.key);
  write_user_members(out, who.user);
  out.key("server_key").hex(ctx_.server_key.public_key()).key("seq").number(who.device.head.seq);
  out.key("key_statements").number(uint64_t{key_statements}).end_object();
  return ok(out.take());
}

std::optional<Caller> DeviceSessions::authenticate(const Request& req, Response& err) {
  constexpr std::string_view kBearer = "Bearer ";
  if (!req.authorization.starts_with(kBearer)) {
    err = error(401, "unauthenticated", "missing Authorization: Bearer <session token>");
    return std::nullopt;
  }
  PublicKey device{};
  {
    std::lock_guard lock(mu_);
    auto it = sessions_.find(req.authorization.substr(kBearer.size()));
    if (it == sessions_.end() || it->second.expires_ms < ctx_.clock.now_ms()) {
      err = error(401, "unauthenticated", "unknown or expired session token: open a new session");
      return std::nullopt;
    }
    device = it->second.device;
    last_seen_[device] = ctx_.clock.now_ms();
  }
  auto d = ctx_.storage.device(device);  // a reader's connection: never waits for the writer
  if (!d.ok()) {
    err = error(503, "storage", d.status().message());
    return std::nullopt;
  }
  if (!*d) {
    err = error(401, "unknown_device", "this device is not enrolled");
    return std::nullopt;
  }
  if ((*d)->state == DeviceState::revoked) {
    err = error(403, "device_revoked", "this device was revoked by an administrator");
    return std::nullopt;
  }
  if ((*d)->state == DeviceState::quarantined) {
    err = error(403, "device_quarantined", "this device's chain forked (a cloned key?); an administrator must review it");
    return std::nullopt;
  }
  auto u = ctx_.storage.user((*d)->user);
  if (!u.ok()) {
    err = error(503, "storage", u.status().message());
    return std::nullopt;
  }
  if (!*u) {
    err = error(403, "unknown_user", "the device's user no longer exists");
    return std::nullopt;
  }
  return Caller{**d, **u};
}

std::optional<Principal> DeviceSessions::principal_for_token(const std::string& token) {
  Request req;
  req.authorization = "Bearer " + token;
  Response err;
  auto who = authenticate(req, err);
  if (!who) return std::nullopt;
  return who->user.principal();
}

std::string DeviceSessions::device_for_token(const std::string& token) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(token);
  if (it == sessions_.end() || it->second.expires_ms < ctx_.clock.now_ms()) return {};
  return std::string(reinterpret_cast<const char*>(it->second.device.data()), it->second.device.size());
}

int64_t DeviceSessions::last_seen_ms(const PublicKey& device) {
  std::lock_guard lock(mu_);
  auto it = last_seen_.find(device);
  return it == last_seen_.end() ? 0 : it->second;
}

bool DeviceSessions::enrol_limited(const std::string& remote, bool failed) {
  std::lock_guard lock(mu_);
  const int64_t now = ctx_.clock.now_ms();
  if (enrol_failures_.size() > 10000) {
    std::erase_if(enrol_failures_, [&](const auto& kv) { return now - kv.second.first > 60'000; });
  }
  auto& [since, count] = enrol_failures_[remote];
  if (now - since > 60'000) since = now, count = 0;
  if (failed) ++count;
  return count >= ctx_.config.max_enrol_failures_per_minute;
}

}  // namespace tram::server::api
