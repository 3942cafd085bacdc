// Private to http/: what the listener, the HTTP connections and the WebSocket subscriptions
// share — Beast and Asio names, the connection table and its limits, the registry of live
// connections and subscribers that stop() and notices walk, and small helpers. Includes Beast:
// never include this outside server/src/http/ (http_server.hpp is the public face).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../service.hpp"
#include "http_server.hpp"
#include "tram/engine/gzip.hpp"
#include "tram/engine/json.hpp"

namespace tram::server::transport {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
namespace ssl = asio::ssl;
using plain_stream = beast::tcp_stream;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

constexpr int kRetryAfterS = 5;  // what the transport's 429 and 503 ask clients to wait


// Connections per client address, and in all.
class ConnectionTable {
 public:
  explicit ConnectionTable(const HttpLimits& limits) : limits_(limits) {}
  // 0 when admitted, else the HTTP status to refuse with.
  int admit(const std::string& ip) {
    std::lock_guard lock(mu_);
    if (total_ >= limits_.max_connections) return 503;
    if (per_ip_[ip] >= limits_.max_connections_per_ip) return 429;
    ++per_ip_[ip];
    ++total_;
    return 0;
  }
  void release(const std::string& ip) {
    std::lock_guard lock(mu_);
    if (--per_ip_[ip] == 0) per_ip_.erase(ip);
    --total_;
  }

 private:
  const HttpLimits& limits_;
  std::mutex mu_;
  std::map<std::string, size_t> per_ip_;
  size_t total_ = 0;
};

// A live connection, as stop() sees it.
class Conn {
 public:
  virtual ~Conn() = default;
  // The server is stopping: close if idle (a subscription: with a close frame), else finish the
  // request in flight and close after its answer.
  virtual void drain() = 0;
  // The grace period is over: close now, unless an answer is being written.
  virtual void abort() = 0;
};

// A live notification subscriber (a WebSocket over plain TCP or TLS).
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  virtual bool wants(const ChangeNotice& n) const = 0;
  virtual void send(std::string message) = 0;
};

// What the server and its connections share. Outlives the io_context: handlers destroyed with
// it still release their places here.
struct Shared {
  Shared(Service& s, HttpLimits l, std::function<void(const std::string&)> lg)
      : service(s), limits(l), log(std::move(lg)), connections(limits) {}

  // false when the server is already stopping. Taken under the lock stop() snapshots under, so
  // a connection is either drained by stop() or told here.
  bool enrol(Conn* c, std::weak_ptr<Conn> w) {
    std::lock_guard lock(mu);
    conns.emplace(c, std::move(w));
    return !stopping;
  }
  void subscribe(Subscriber* s, std::weak_ptr<Subscriber> w) {
    std::lock_guard lock(mu);
    subscribers.emplace(s, std::move(w));
  }
  void forget(Conn* c, Subscriber* s = nullptr) {
    std::lock_guard lock(mu);
    conns.erase(c);
    if (s) subscribers.erase(s);
  }
  // The live connections (the last owner may drop one here: outside the lock, since destructors
  // call forget()).
  std::vector<std::shared_ptr<Conn>> live(bool begin_stopping = false) {
    std::vector<std::shared_ptr<Conn>> out;
    std::lock_guard lock(mu);
    if (begin_stopping) stopping = true;
    for (const auto& [_, w] : conns) {
      if (auto c = w.lock()) out.push_back(std::move(c));
    }
    return out;
  }
  size_t live_count() {
    std::lock_guard lock(mu);
    return conns.size();
  }
  std::vector<std::shared_ptr<Subscriber>> all_subscribers() {
    std::vector<std::shared_ptr<Subscriber>> out;
    std::lock_guard lock(mu);
    for (const auto& [_, w] : subscribers) {
      if (auto s = w.lock()) out.push_back(std::move(s));
    }
    return out;
  }

  Service& service;
  const HttpLimits limits;
  std::function<void(const std::string&)> log;
  ConnectionTable connections;
  std::atomic<uint64_t> next_request{1};
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::unordered_map<Conn*, std::weak_ptr<Conn>> conns;
  std::unordered_map<Subscriber*, std::weak_ptr<Subscriber>> subscribers;
};

// One admitted connection's place under the limits (and in the connections gauge), given back
// on destruction. Moves from the HTTP session to the subscription it becomes.
class Slot {
 public:
  Slot(Shared& shared, std::string ip) : shared_(&shared), ip_(std::move(ip)) { shared.service.connection_opened(); }
  Slot(Slot&& o) noexcept : shared_(std::exchange(o.shared_, nullptr)), ip_(std::move(o.ip_)) {}
  Slot& operator=(Slot&&) = delete;
  ~Slot() {
    if (!shared_) return;
    shared_->connections.release(ip_);
    shared_->service.connection_closed();
  }

 private:
  Shared* shared_;
  std::string ip_;
};

// The same role and scope (a subscription whose session was re-scoped is closed).
bool same_principal(const Principal& a, const Principal& b);
// Accept-Encoding (RFC 9110 §12.5.3): a list of codings with optional ";q=" weights. gzip is
// used when "gzip" (or its alias "x-gzip"), or failing that "*", has a weight above 0.
bool accepts_gzip(std::string_view header);
// At most `max` bytes of `s` for a log line, bytes outside printable ASCII percent-encoded.
std::string log_safe(std::string_view s, size_t max);
// The value of the query parameter "token" (exactly that name), for WebSocket clients that
// cannot set headers.
std::string query_token(std::string_view target);
// `target` without the query parameter `name` (every occurrence).
std::string without_query_param(std::string_view target, std::string_view name);
http::response<http::string_body> make_response(unsigned version, bool keep_alive, const Response& r,
                                                const std::string& request_id);
Response limit_error(int status, std::string_view code, std::string_view message);

}  // namespace tram::server::transport
