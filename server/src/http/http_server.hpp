// The HTTP/1.1 transport (Boost.Beast) in front of Service: a listener, one session per
// connection on its own strand (plain TCP or TLS through Asio's OpenSSL stream), WebSocket
// notifications, explicit limits on headers, bodies, time and connections.
// Only this file's .cpp includes Beast; callers see a plain interface.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "../service.hpp"

namespace tram::server {

struct HttpLimits {
  uint64_t max_body_bytes = 8 << 20;     // 413 beyond
  uint32_t max_header_bytes = 16 << 10;  // 431 beyond
  // A new connection's first request header must arrive within request_timeout_s. After it, a
  // body (of a request with a live session token) and every answer may take as long as they
  // keep moving: cut after request_timeout_s without a byte read (written), and at the latest
  // after max_request_s in all. An unauthenticated body keeps the header's deadline.
  int request_timeout_s = 30;
  int max_request_s = 3600;              // the absolute cap on one request's body, and one answer
  int idle_timeout_s = 120;              // keep-alive connections idle longer are closed
  // Connections (WebSocket subscriptions count). Over a limit, the connection waiting longest
  // (a stranger's, or one idle between requests) is shed to make room; 503 or 429 only when
  // nothing can be (transport.hpp, ConnectionTable). max_connections is lowered at start to what
  // the open-files limit allows.
  size_t max_connections = 2000;
  size_t max_connections_per_ip = 64;      // strangers (no live session shown yet) per address
  size_t max_connections_per_device = 16;  // once a request carries a device's live session
  int ws_recheck_s = 5;                  // subscriptions re-check their session this often (and before each notice)
  int shutdown_grace_s = 10;             // stop(): in-flight requests get this long, then connections are cut
  // Requests are handled on a pool of this many threads, not on the connection threads: a push
  // waits there for its group commit while the connection threads go on reading the next
  // requests, so that many pushes can join one commit (issue 17's load). 0: on the connection
  // threads.
  int handler_threads = 64;
};

// PEM files for TLS; empty certificate: plain HTTP (for loopback and development only).
struct TlsFiles {
  std::string certificate;  // chain, leaf first
  std::string key;
};

class HttpServer {
 public:
  // Binds host:port (port 0 picks a free one), with TLS when tls.certificate is set. Logs JSON
  // lines to `log`.
  static Result<std::unique_ptr<HttpServer>> bind(Service& service, const std::string& host, uint16_t port,
                                                  HttpLimits limits, std::function<void(const std::string&)> log,
                                                  const TlsFiles& tls = {});
  virtual ~HttpServer() = default;
  virtual uint16_t port() const = 0;
  // Serves on `threads` threads until stop() (or SIGINT/SIGTERM when handle_signals) has
  // drained the connections: no new ones are accepted, idle ones are closed, subscriptions get a
  // close frame, requests in flight are answered (Connection: close). After shutdown_grace_s the
  // rest are cut; a second signal cuts them at once.
  virtual void run(int threads, bool handle_signals) = 0;
  // Thread-safe; returns at once, run() returns when drained.
  virtual void stop() = 0;
};

}  // namespace tram::server
