// How the SDK talks to a server: one HTTP request at a time. An app may implement Transport
// with its platform's HTTP stack (OkHttp, URLSession); the default one uses Boost.Beast, with
// TLS and optional certificate pinning. Everything above it is the same either way.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tram/engine/status.hpp"

namespace tram::client {

struct HttpRequest {
  std::string method;  // "GET", "POST", "PUT"
  std::string target;  // path and query, e.g. "/v1/pull?after=0&limit=500"
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::string body;  // already inflated when the server sent it gzip-encoded
  uint64_t bytes_sent = 0, bytes_received = 0;  // on the wire, for progress and statistics
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends one request. A connection failure, timeout or cut is Errc::unavailable (the SDK
  // retries with backoff); any HTTP status is a response. `cancel` is polled: when it becomes
  // true the call should give up soon with Errc::cancelled.
  virtual Result<HttpResponse> send(const HttpRequest& request, const std::atomic<bool>& cancel) = 0;
};

struct TransportOptions {
  int connect_timeout_ms = 10'000;
  int io_timeout_ms = 30'000;   // per read or write without progress on the socket
  std::string ca_file;          // PEM bundle to verify https servers; empty: the system's
  // SHA-256 (64 hex digits) of the server certificate's DER: when set, only that certificate
  // is accepted, whatever the CAs say (for a provincial server with its own certificate).
  std::string pin_sha256;
  bool gzip_requests = true;    // compress bodies over 1 KiB
};

// The default transport for "http://host:port" or "https://host:port" (Boost.Beast).
// Keeps one connection alive between requests.
Result<std::unique_ptr<Transport>> make_http_transport(const std::string& base_url, TransportOptions options = {});

}  // namespace tram::client
