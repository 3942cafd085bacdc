// How the SDK talks to a server: one HTTP request at a time. An app may implement Transport
// with its platform's HTTP stack (OkHttp, URLSession); the default one uses Boost.Beast, with
// TLS and optional certificate pinning. Everything above it is the same either way.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
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
  // false: send the body as it is, never gzipped (attachment chunks: photos do not compress,
  // and the prefix of a raw body that a cut left on the server is a prefix of the file).
  bool compress = true;
  // false: never send it again by itself on a fresh connection after a failure (the caller
  // asks the server what it holds first: an attachment chunk).
  bool resend_on_stale = true;
  // Called from inside send() as bytes move: the request body's bytes that left the device so
  // far (the default transport counts what the network took off the socket's queue, on
  // Linux), and the response bytes read so far. For progress bars; may be empty.
  std::function<void(uint64_t sent, uint64_t received)> on_progress;
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
  // true the call should give up soon with Errc::cancelled. Give up on a request only when no
  // bytes have moved for a while (a slow link is not a dead one), and never run two copies of
  // one request at once (no hedged second connection).
  virtual Result<HttpResponse> send(const HttpRequest& request, const std::atomic<bool>& cancel) = 0;
};

struct TransportOptions {
  int connect_timeout_ms = 10'000;
  // A request fails after this long without progress: no byte written, read, or (Linux) taken
  // off the socket's send queue by the network. Not a limit on the request's total time.
  int io_timeout_ms = 30'000;
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
