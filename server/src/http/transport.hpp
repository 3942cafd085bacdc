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
#include <chrono>
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <set>
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


class Conn;

// Who holds the server's connections, under three limits: in all (max_connections), strangers
// per address (max_connections_per_ip: connections that have not shown a live session yet) and
// per device (max_connections_per_device: once a request carries a live session, the connection
// counts against its device, not its address — carriers put whole communes behind one NAT
// address).
//
// A newcomer over a limit is not refused while a connection can be shed to make room: a
// stranger, or a connection waiting between requests, the one waiting longest first. A device's
// request being read, handled or answered, and a subscription, are never shed. So connections
// that sit idle or dribble their headers cannot lock honest devices out: each newcomer pushes out
// the oldest of them, and a device that sends its request at once is served. Refusals (503, 429)
// remain only when everything held is a device's work in progress.
class ConnectionTable {
 public:
  using Clock = std::chrono::steady_clock;
  struct Admission {
    int refusal = 0;  // 0: admitted as `id`; else the status to refuse with (503, 429)
    uint64_t id = 0;
    std::vector<std::shared_ptr<Conn>> shed;  // to close (Conn::shed) outside the lock
    std::vector<const char*> reasons;         // why each was shed: "full", "address"
  };
  struct Turn {
    bool live = true;  // false: this connection was shed meanwhile; close it
    int refusal = 0;   // 429: the device holds max_connections_per_device requests in progress
    std::shared_ptr<Conn> shed;  // the device's oldest waiting connection, to close
  };

  explicit ConnectionTable(const HttpLimits& limits)
      : max_total_(limits.max_connections), max_per_ip_(limits.max_connections_per_ip),
        max_per_device_(limits.max_connections_per_device) {}

  Admission admit(const std::string& ip);
  // The connection object behind `id`; false when it was shed before it got here.
  bool attach(uint64_t id, std::weak_ptr<Conn> conn);
  // A request's header is in; `device`: its live session's device key (empty: none).
  Turn working(uint64_t id, const std::string& device);
  // Waiting for its next request (kept alive): may be shed from now. false when already shed.
  bool waiting(uint64_t id);
  // Became a subscription: never shed. false when already shed.
  bool subscribed(uint64_t id);
  // The connection waiting longest, marked shed (out of descriptors: make room), or null.
  std::shared_ptr<Conn> shed_oldest();
  void release(uint64_t id);
  size_t max_total() const { return max_total_; }

 private:
  struct Entry {
    std::string ip;
    std::string device;  // empty: a stranger, counted against ip
    bool sheddable = true;
    bool shed = false;
    Clock::time_point since;
    std::weak_ptr<Conn> conn;
  };
  using Queue = std::set<std::pair<Clock::time_point, uint64_t>>;  // oldest first
  void unlist(uint64_t id, Entry& e);
  void list(uint64_t id, Entry& e);
  // Marks the oldest of `q` shed and un-counts it; null when `q` is empty.
  std::optional<std::shared_ptr<Conn>> shed_first(const Queue& q);

  const size_t max_total_, max_per_ip_, max_per_device_;
  std::mutex mu_;
  uint64_t next_id_ = 1;
  std::unordered_map<uint64_t, Entry> entries_;
  size_t total_ = 0;  // entries not shed
  std::map<std::string, size_t> strangers_, devices_;
  Queue sheddable_;
  std::map<std::string, Queue> sheddable_by_ip_, sheddable_by_device_;
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
  // Shed to make room for a newcomer (ConnectionTable): close now.
  virtual void shed() = 0;
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

  // Runs a request's handling off the connection threads (HttpLimits::handler_threads); unset:
  // inline.
  std::function<void(std::function<void()>)> offload;

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

  // A connection was shed to make room (`reason`: full, address, device, descriptors): counted
  // in /metrics; logged at most once every 10 s, with the count since the last line.
  void count_shed(const char* reason) {
    service.count_shed(reason);
    warn_every(shed_log_, std::string("connections shed to make room (") + reason + " and others)");
  }
  // A warning logged at most once every 10 s per `gate`, with how many times it happened.
  struct LogGate {
    std::atomic<int64_t> last_ms{0};
    std::atomic<uint64_t> count{0};
  };
  void warn_every(LogGate& gate, const std::string& msg) {
    const uint64_t n = ++gate.count;
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
    int64_t last = gate.last_ms.load();
    if (now - last < 10'000 || !gate.last_ms.compare_exchange_strong(last, now)) return;
    log("{\"level\":\"warn\",\"msg\":" + json::quote(msg) + ",\"times\":" + std::to_string(n) + "}");
    gate.count -= n;
  }
  LogGate shed_log_, accept_log_;

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
  Slot(Shared& shared, uint64_t id) : shared_(&shared), id_(id) { shared.service.connection_opened(); }
  Slot(Slot&& o) noexcept : shared_(std::exchange(o.shared_, nullptr)), id_(o.id_) {}
  Slot& operator=(Slot&&) = delete;
  ~Slot() {
    if (!shared_) return;
    shared_->connections.release(id_);
    shared_->service.connection_closed();
  }
  uint64_t id() const { return id_; }

 private:
  Shared* shared_;
  uint64_t id_;
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
