// `tram-server serve`: opens the data directory, takes its lock and serves HTTP (http/) until
// SIGTERM or SIGINT.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>

#include "audit.hpp"
#include "cli/data_dir.hpp"
#include "cli/i18n.hpp"
#include "http/http_server.hpp"
#include "tram/engine/json.hpp"

namespace tram::server::cli {

int serve(const Options& o, ClockSource& clock, RandomSource& random) {
  auto server = open_server(o, clock, random, /*serving=*/true);
  if (!server.ok()) return die(server.status());
  if (lock_data_dir(o.get("data")) < 0) return die(fmt(_("another tram-server is serving or seeding {1}"), o.get("data")));
  const std::string listen = o.get("listen", "127.0.0.1:8080");
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return die(fmt(_("--listen takes HOST:PORT (e.g. 0.0.0.0:8443), not {1}"), listen));
  std::mutex log_mu;
  HttpLimits limits;
  if (o.has("max-connections")) limits.max_connections = std::stoul(o.get("max-connections"));
  if (o.has("max-connections-per-ip")) limits.max_connections_per_ip = std::stoul(o.get("max-connections-per-ip"));
  if (o.has("max-connections-per-device")) limits.max_connections_per_device = std::stoul(o.get("max-connections-per-device"));
  if (o.has("max-body-bytes")) limits.max_body_bytes = std::stoull(o.get("max-body-bytes"));
  if (o.has("request-timeout-s")) limits.request_timeout_s = std::stoi(o.get("request-timeout-s"));
  if (o.has("max-request-s")) limits.max_request_s = std::stoi(o.get("max-request-s"));
  if (o.has("idle-timeout-s")) limits.idle_timeout_s = std::stoi(o.get("idle-timeout-s"));
  if (o.has("ws-recheck-s")) limits.ws_recheck_s = std::stoi(o.get("ws-recheck-s"));
  if (o.has("shutdown-grace-s")) limits.shutdown_grace_s = std::stoi(o.get("shutdown-grace-s"));
  if (o.has("handler-threads")) limits.handler_threads = std::stoi(o.get("handler-threads"));
  auto http = HttpServer::bind(*server->service, listen.substr(0, colon),
                               static_cast<uint16_t>(std::stoi(listen.substr(colon + 1))), limits,
                               [&](const std::string& line) {
                                 // Every line gets its time (UTC) first: logs are read after the fact.
                                 const std::string ts = "{\"ts\":\"" + log_timestamp(wall_ms_now()) + "\"";
                                 const std::string stamped =
                                     line.size() > 2 && line.front() == '{' ? ts + "," + line.substr(1) : ts + ",\"msg\":" + json::quote(line) + "}";
                                 std::lock_guard lock(log_mu);
                                 std::fprintf(stderr, "%s\n", stamped.c_str());
                               },
                               TlsFiles{o.get("tls-cert"), o.get("tls-key")});
  if (!http.ok()) return die(explain(http.status()));
  const std::string address = listen.substr(0, colon) + ":" + std::to_string((*http)->port());
  // TRANSLATORS: keep the words "listening on" and the address last but for "(TLS)": scripts and
  // tests wait for them and read the port after the address's ':'.
  std::printf("%s\n", fmt(_("tram-server listening on {1}{2}"), address, o.has("tls-cert") ? " (TLS)" : "").c_str());
  // TRANSLATORS: the server key signs the receipts; devices compare it with the one they trust.
  std::printf("%s\n", fmt(_("server key {1}"), to_hex(server->service->server_key())).c_str());
  if (server->service->serves_web_app()) {
    std::printf("%s\n", fmt(_("web app at {1}://{2}/"), o.has("tls-cert") ? "https" : "http", address).c_str());
  }
  std::fflush(stdout);
  // Default 4 on 2 cores: a thread waiting for the single writer uses no CPU, and pushes that
  // wait together are committed together (group commit).
  (*http)->run(std::max(1, std::stoi(o.get("threads", "4"))), true);
  return 0;
}

}  // namespace tram::server::cli
