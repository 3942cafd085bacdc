// The HTTP/1.1 transport (Boost.Beast) in front of Service: a listener, one session per
// connection on its own strand (plain TCP or TLS through Asio's OpenSSL stream), WebSocket
// notifications, explicit limits on headers, bodies, time and connections.
// Only this file's .cpp includes Beast; callers see a plain interface.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "service.hpp"

namespace tram::server {

struct HttpLimits {
  uint64_t max_body_bytes = 8 << 20;     // 413 beyond
  uint32_t max_header_bytes = 16 << 10;  // 431 beyond
  int request_timeout_s = 30;            // the whole request must arrive within this
  int idle_timeout_s = 120;              // keep-alive connections idle longer are closed
  size_t max_connections = 2000;         // 503 beyond
  size_t max_connections_per_ip = 64;    // 429 beyond
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
  // Serves on `threads` threads until stop() (or SIGINT/SIGTERM when handle_signals).
  virtual void run(int threads, bool handle_signals) = 0;
  virtual void stop() = 0;
};

}  // namespace tram::server
