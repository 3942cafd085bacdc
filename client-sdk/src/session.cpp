#include "session.hpp"

#include <simdjson.h>

namespace tram::client {
namespace dom = simdjson::dom;

namespace {
Status fail(Errc c, std::string m) { return {c, std::move(m)}; }
}  // namespace

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

DeviceSession::DeviceSession(const Options& opt, const std::atomic<bool>& cancelled, Device device)
    : opt_(opt), cancelled_(cancelled), device_(std::move(device)) {}

Status DeviceSession::ensure_transport() {
  if (transport_) return {};
  if (opt_.transport) {
    transport_ = opt_.transport;
    return {};
  }
  const std::string url = device_.server_url();
  if (url.empty()) return fail(Errc::not_enrolled, "no server URL: enrol this device first");
  auto t = make_http_transport(url, opt_.transport_options);
  if (!t.ok()) return t.status();
  transport_ = std::move(t).value();
  return {};
}

Result<HttpResponse> DeviceSession::call(const std::string& method, const std::string& target, const std::string& body,
                                         bool authenticated, SyncReport* report, Transport* via, const CallOptions* extra) {
  TRAM_RETURN_IF_ERROR(ensure_transport());
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (authenticated && token_.empty()) TRAM_RETURN_IF_ERROR(login());
    HttpRequest req;
    req.method = method;
    req.target = target;
    req.body = body;
    if (extra) {
      req.compress = extra->compress;
      req.resend_on_stale = extra->resend_on_stale;
      req.on_progress = extra->on_progress;
    }
    if (authenticated) req.headers.emplace_back("Authorization", "Bearer " + token_);
    auto r = (via ? via : transport_.get())->send(req, cancelled_);
    if (!r.ok()) return r.status();
    if (report) {
      report->bytes_sent += r->bytes_sent;
      report->bytes_received += r->bytes_received;
    }
    // Sessions live in the server's memory: after a restart or expiry, open a new one once.
    if (authenticated && r->status == 401 && attempt == 0) {
      token_.clear();
      continue;
    }
    return r;
  }
  return fail(Errc::unauthenticated, "the server refused a fresh session");
}

Status DeviceSession::login() {
  auto dev = device_.key();
  if (!dev.ok()) return dev.status();
  auto c = call("POST", "/v1/auth/challenge", "{\"device\":\"" + to_hex(*dev) + "\"}", false);
  if (!c.ok()) return c.status();
  if (c->status != 200) return server_error(*c);
  dom::parser p;
  std::string_view challenge_v;
  if (p.parse(c->body)["challenge"].get_string().get(challenge_v)) return fail(Errc::malformed_json, "challenge: unexpected answer");
  const std::string challenge(challenge_v);
  auto sig = device_.sign("tram-session-v1:" + challenge);
  if (!sig.ok()) return sig.status();
  auto s = call("POST", "/v1/auth/session",
                "{\"device\":\"" + to_hex(*dev) + "\",\"challenge\":\"" + challenge + "\",\"signature\":\"" + to_hex(*sig) + "\"}",
                false);
  if (!s.ok()) return s.status();
  if (s->status != 200) return server_error(*s);
  std::string_view tok;
  if (p.parse(s->body)["token"].get_string().get(tok)) return fail(Errc::malformed_json, "session: unexpected answer");
  token_ = tok;
  return {};
}

}  // namespace tram::client
