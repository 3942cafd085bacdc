#include "http_server.hpp"

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

#include "tram/engine/gzip.hpp"
#include "tram/engine/json.hpp"

namespace tram::server {
namespace {

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

bool same_principal(const Principal& a, const Principal& b) {
  return a.role == b.role && a.units == b.units && a.all_units == b.all_units;
}

// A device subscribed to "new data for your scope" notices. The device only listens; on a
// notice it pulls. At most one write in flight, and notices coalesce: only the latest matters.
// The subscription lives only as long as its session: it is re-checked before each notice and
// every limits.ws_recheck_s, and closed (1008) once revoked, quarantined, expired or re-scoped.
template <class Stream>
class WsSession final : public Conn, public Subscriber, public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(Stream&& stream, Shared& shared, Slot slot, std::string token, Principal who)
      : ws_(std::move(stream)), recheck_(ws_.get_executor()), shared_(shared), slot_(std::move(slot)),
        token_(std::move(token)), who_(std::move(who)) {}
  ~WsSession() override { shared_.forget(this, this); }

  void start(http::request<http::string_body> req) {
    beast::get_lowest_layer(ws_).expires_never();  // the WebSocket has its own timeouts
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);  // pings idle peers
    timeouts.handshake_timeout = std::chrono::seconds(5);  // also bounds the closing handshake
    ws_.set_option(timeouts);
    ws_.read_message_max(4096);
    const bool live = shared_.enrol(this, this->weak_from_this());
    ws_.async_accept(req, [self = this->shared_from_this(), live](beast::error_code ec) {
      if (ec) return;
      self->open_ = true;
      if (!live || self->closing_) {  // stop() came during the handshake
        self->closing_ = false;
        return self->close(websocket::close_code::going_away, "server shutting down");
      }
      self->shared_.subscribe(self.get(), self);
      self->write("{\"type\":\"hello\"}");
      self->read();
      self->arm_recheck();
    });
  }

  bool wants(const ChangeNotice& n) const override {
    if (n.province_wide || who_.all_units) return true;
    return std::any_of(n.units.begin(), n.units.end(), [&](const std::string& u) { return who_.in_scope(u); });
  }

  void send(std::string message) override {
    asio::post(ws_.get_executor(), [self = this->shared_from_this(), message = std::move(message)]() mutable {
      if (self->closing_) return;
      if (self->writing_) {
        self->pending_ = std::move(message);  // replaces an older unsent notice
        return;
      }
      self->deliver(std::move(message));
    });
  }

  void drain() override {
    asio::post(ws_.get_executor(), [self = this->shared_from_this()] {
      self->close(websocket::close_code::going_away, "server shutting down");
    });
  }
  void abort() override {
    asio::post(ws_.get_executor(), [self = this->shared_from_this()] {
      self->closing_ = true;
      self->recheck_.cancel();
      beast::get_lowest_layer(self->ws_).close();
    });
  }

 private:
  void read() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
      if (ec) {  // closed, timed out or cut: the session ends
        self->closing_ = true;
        self->recheck_.cancel();
        return;
      }
      self->buffer_.consume(n);
      self->read();
    });
  }

  void arm_recheck() {
    recheck_.expires_after(std::chrono::seconds(std::max(1, shared_.limits.ws_recheck_s)));
    recheck_.async_wait([self = this->shared_from_this()](beast::error_code ec) {
      if (ec || self->closing_) return;
      if (self->still_valid()) self->arm_recheck();
    });
  }

  // Closes the subscription when its session no longer stands as it was.
  bool still_valid() {
    auto who = shared_.service.principal_for_token(token_);
    if (!who) {
      close(websocket::close_code::policy_error, "session ended: revoked, quarantined or expired");
      return false;
    }
    if (!same_principal(*who, who_)) {
      close(websocket::close_code::policy_error, "scope changed: subscribe again");
      return false;
    }
    return true;
  }

  void deliver(std::string message) {
    if (still_valid()) write(std::move(message));
  }

  void write(std::string message) {
    writing_ = true;
    current_ = std::move(message);
    ws_.async_write(asio::buffer(current_), [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      self->writing_ = false;
      if (ec || self->closing_ || !self->pending_) return;
      std::string next = std::move(*self->pending_);
      self->pending_.reset();
      self->deliver(std::move(next));
    });
  }

  // Beast lets a close run alongside a pending read and write; the read then ends the session.
  void close(websocket::close_code code, const char* reason) {
    if (closing_) return;
    closing_ = true;
    pending_.reset();
    recheck_.cancel();
    if (!open_) return;  // the handshake's handler closes
    ws_.async_close(websocket::close_reason(code, reason), [self = this->shared_from_this()](beast::error_code) {});
  }

  websocket::stream<Stream> ws_;
  asio::steady_timer recheck_;
  Shared& shared_;
  Slot slot_;
  const std::string token_;
  const Principal who_;
  beast::flat_buffer buffer_;
  std::string current_;
  std::optional<std::string> pending_;
  bool open_ = false;
  bool writing_ = false;
  bool closing_ = false;
};

// Accept-Encoding (RFC 9110 §12.5.3): a list of codings with optional ";q=" weights. gzip is
// used when "gzip" (or its alias "x-gzip"), or failing that "*", has a weight above 0.
bool accepts_gzip(std::string_view header) {
  std::optional<bool> gzip, star;
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    auto trim = [](std::string_view v) {
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      return v;
    };
    const size_t semi = item.find(';');
    const std::string_view coding = trim(item.substr(0, semi));
    bool positive = true;
    for (std::string_view params = semi == std::string_view::npos ? std::string_view() : item.substr(semi + 1); !params.empty();) {
      const size_t next = params.find(';');
      const std::string_view param = trim(params.substr(0, next));
      params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
      if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        // q=0, 0.0, 0.00, 0.000 mean "not acceptable"; any other digit makes it positive.
        const std::string_view q = trim(param.substr(2));
        positive = q.find_first_of("123456789") != std::string_view::npos;
      }
    }
    if (beast::iequals(coding, "gzip") || beast::iequals(coding, "x-gzip")) gzip = positive;
    else if (coding == "*") star = positive;
  }
  return gzip ? *gzip : star.value_or(false);
}

// At most `max` bytes of `s` for a log line, bytes outside printable ASCII percent-encoded.
std::string log_safe(std::string_view s, size_t max) {
  std::string out;
  for (unsigned char c : s.substr(0, max)) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

// The value of the query parameter "token" (exactly that name), for WebSocket clients that
// cannot set headers.
std::string query_token(std::string_view target) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  for (std::string_view rest = target.substr(q + 1); !rest.empty();) {
    const size_t amp = rest.find('&');
    const std::string_view kv = rest.substr(0, amp);
    if (kv.starts_with("token=")) return std::string(kv.substr(6));
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
  }
  return {};
}

http::response<http::string_body> make_response(unsigned version, bool keep_alive, const Response& r,
                                                const std::string& request_id) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "tram-server");
  res.set(http::field::content_type, r.content_type);
  res.set("X-Request-Id", request_id);
  // Every 429 and 503 says when to come back, whoever made it.
  const int retry_after = r.retry_after_s > 0 ? r.retry_after_s : (r.status == 429 || r.status == 503 ? kRetryAfterS : 0);
  if (retry_after > 0) res.set(http::field::retry_after, std::to_string(retry_after));
  res.keep_alive(keep_alive);
  res.body() = r.body;
  res.prepare_payload();
  return res;
}

Response limit_error(int status, std::string_view code, std::string_view message) {
  return error_response(status, code, message);
}

// One HTTP connection, over plain TCP (loopback, development) or TLS.
template <class Stream>
class Session final : public Conn, public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Stream&& stream, Shared& shared, std::string ip, int refusal)
      : stream_(std::move(stream)), shared_(shared), ip_(std::move(ip)), refusal_(refusal) {
    if (refusal_ == 0) slot_.emplace(shared_, ip_);
    // Bounds what Beast buffers unconsumed in the body phase: chunk-size lines and trailers are
    // only parsed once complete, and would otherwise grow the buffer without limit.
    buffer_.max_size(shared_.limits.max_header_bytes + 65536);
  }
  ~Session() override { shared_.forget(this); }

  void start() {
    shared_.enrol(this, this->weak_from_this());  // read() sees `stopping` itself
    if constexpr (std::is_same_v<Stream, tls_stream>) {
      // TLS first, even to refuse: the client can only read an answer inside the session.
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(shared_.limits.request_timeout_s));
      stream_.async_handshake(ssl::stream_base::server, [self = this->shared_from_this()](beast::error_code ec) {
        if (!ec) self->begin();
      });
    } else {
      begin();
    }
  }

  void drain() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      // Cancelling the wait for a request (or the lingering read) ends with close().
      if (self->phase_ == Phase::idle || self->phase_ == Phase::lingering) beast::get_lowest_layer(self->stream_).cancel();
    });
  }
  void abort() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      // A request not yet handled is dropped, never committed; an answer being written may finish.
      if (self->phase_ != Phase::responding && self->phase_ != Phase::upgraded) beast::get_lowest_layer(self->stream_).close();
    });
  }

 private:
  enum class Phase { handshake, idle, request, responding, closing, lingering, upgraded };

  void begin() {
    if (refusal_ != 0) {
      // Over the limits: answer once, then close, so the client learns why.
      shared_.service.count_refused("connection", refusal_);
      auto r = refusal_ == 429 ? limit_error(429, "too_many_connections", "too many connections from this address")
                               : limit_error(503, "server_busy", "too many connections; retry later");
      send(make_response(11, false, r, "refused"), false);
      return;
    }
    read(shared_.limits.request_timeout_s);
  }

  // `timeout_s`: how long the next request may take to arrive (idle timeout on a kept-alive
  // connection, request timeout on a new one).
  void read(int timeout_s) {
    if (shared_.stopping && buffer_.size() == 0) return close();
    parser_.emplace();
    parser_->body_limit(shared_.limits.max_body_bytes);
    parser_->header_limit(shared_.limits.max_header_bytes);
    header_bytes_ = 0;
    phase_ = buffer_.size() == 0 ? Phase::idle : Phase::request;
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(timeout_s));
    read_header();
  }

  // The header with our own loop, not http::async_read: Beast's header_limit bounds only the
  // bytes its parser has not consumed yet, and it consumes complete fields as they come, so a
  // header of a million "a:" lines got through. Here every byte the parser takes counts.
  void read_header() {
    const size_t limit = shared_.limits.max_header_bytes;
    while (buffer_.size() > 0 && !parser_->is_header_done()) {
      beast::error_code ec;
      const size_t used = parser_->put(buffer_.data(), ec);
      buffer_.consume(used);
      header_bytes_ += used;
      if (ec == http::error::need_more) break;
      if (ec) return on_read(ec);
      if (used == 0) break;
    }
    // Until the header ends, whatever is buffered is header too.
    const size_t seen = header_bytes_ + (parser_->is_header_done() ? 0 : buffer_.size());
    if (seen > limit) return on_read(http::error::header_limit);
    if (parser_->is_header_done()) {
      if (parser_->is_done()) return on_read({});
      return http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read, this->shared_from_this()));
    }
    const size_t room = limit + 1 - seen;  // one byte more than allowed tells "too large"
    stream_.async_read_some(buffer_.prepare(std::min<size_t>(room, 8192)),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->buffer_.commit(n);
                              if (n > 0) self->phase_ = Phase::request;
                              if (ec == asio::error::eof) {
                                ec = self->parser_->got_some() || self->buffer_.size() > 0 ? beast::error_code(http::error::partial_message)
                                                                                         : beast::error_code(http::error::end_of_stream);
                              }
                              if (ec) return self->on_read(ec);
                              self->read_header();
                            });
  }

  void on_read(beast::error_code ec, std::size_t = 0) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::connection_reset ||
        ec == asio::error::operation_aborted || ec == ssl::error::stream_truncated) {
      return close();
    }
    if (ec == http::error::body_limit) {
      shared_.service.count_refused("body", 413);
      return send(make_response(11, false, limit_error(413, "too_large", "request body over " + std::to_string(shared_.limits.max_body_bytes) + " bytes"), "limit"), false, true);
    }
    if (ec == http::error::header_limit || ec == http::error::buffer_overflow) {
      shared_.service.count_refused("headers", 431);
      return send(make_response(11, false, limit_error(431, "headers_too_large", "request headers over " + std::to_string(shared_.limits.max_header_bytes) + " bytes"), "limit"), false, true);
    }
    if (ec) {
      return send(make_response(11, false, limit_error(400, "bad_request", ec.message()), "error"), false, true);
    }
    phase_ = Phase::responding;
    auto req = parser_->release();
    if (websocket::is_upgrade(req) && req.target().starts_with("/v1/notify")) return upgrade(std::move(req));
    // Compressed request bodies: inflated under the same body limit (a zip bomb gets 413).
    if (beast::iequals(req[http::field::content_encoding], "gzip")) {
      const std::string& raw = req.body();
      if (raw.size() < 2 || static_cast<unsigned char>(raw[0]) != 0x1f || static_cast<unsigned char>(raw[1]) != 0x8b) {
        return send(make_response(req.version(), false, limit_error(400, "bad_request", "Content-Encoding: gzip but the body is not gzip"), "error"), false);
      }
      auto body = gzip_decompress(raw, shared_.limits.max_body_bytes);
      if (!body) {
        shared_.service.count_refused("gzip", 413);
        return send(make_response(req.version(), false, limit_error(413, "too_large", "gzip body corrupt or inflating over the limit"), "limit"), false);
      }
      req.body() = std::move(*body);
    }
    const bool gzip_ok = accepts_gzip(req[http::field::accept_encoding]);
    char id[20];
    std::snprintf(id, sizeof id, "%08llx", static_cast<unsigned long long>(shared_.next_request++));
    Request r{std::string(req.method_string()), std::string(req.target()), std::move(req.body()),
              std::string(req[http::field::authorization]), id, ip_};
    const auto start = std::chrono::steady_clock::now();
    Response out = shared_.service.handle(r);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    char timing[64];
    std::snprintf(timing, sizeof timing, ",\"status\":%d,\"ms\":%.2f", out.status, ms);
    // Always one line of valid JSON and ASCII, whatever bytes the client sent.
    shared_.log("{\"level\":\"info\",\"request_id\":\"" + std::string(id) + "\",\"peer\":" + json::quote(ip_) +
                ",\"method\":" + json::quote(log_safe(r.method, 32)) + ",\"path\":" + json::quote(log_safe(r.target, 200)) +
                timing + (out.error_code.empty() ? "" : ",\"error\":" + json::quote(log_safe(out.error_code, 64))) + "}");
    const bool keep = req.keep_alive();
    auto res = make_response(req.version(), keep, out, id);
    if (gzip_ok && out.body.size() > 512) {
      res.body() = gzip_compress(out.body, 1);
      res.set(http::field::content_encoding, "gzip");
      res.prepare_payload();
    }
    send(std::move(res), keep);
  }

  // GET /v1/notify with a session token (Authorization header, or ?token= for clients that
  // cannot set headers on a WebSocket): the connection becomes a notification subscription,
  // keeping its place under the connection limits.
  void upgrade(http::request<http::string_body> req) {
    if (shared_.stopping) {
      return send(make_response(req.version(), false, limit_error(503, "stopping", "the server is stopping; retry later"), "ws"), false);
    }
    const std::string auth(req[http::field::authorization]);
    std::string token = auth.rfind("Bearer ", 0) == 0 ? auth.substr(7) : std::string();
    if (auth.empty()) token = query_token(req.target());
    auto who = shared_.service.principal_for_token(token);
    if (!who) {
      return send(make_response(req.version(), false, limit_error(401, "unauthenticated", "a live session token is needed"), "ws"), false);
    }
    phase_ = Phase::upgraded;  // stream_ and slot_ move out: nothing here to drain or cut
    auto ws = std::make_shared<WsSession<Stream>>(std::move(stream_), shared_, std::move(*slot_), std::move(token), std::move(*who));
    slot_.reset();
    ws->start(std::move(req));
  }

  // `linger`: after an error answer, read and drop what the client is still sending before
  // closing (see discard()).
  void send(http::response<http::string_body> res, bool keep_alive, bool linger = false) {
    phase_ = Phase::responding;
    if (shared_.stopping && keep_alive) {
      keep_alive = false;
      res.keep_alive(false);  // tells the client this is the last answer here
    }
    auto sp = std::make_shared<http::response<http::string_body>>(std::move(res));
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(shared_.limits.request_timeout_s));
    http::async_write(stream_, *sp, [self = this->shared_from_this(), sp, keep_alive, linger](beast::error_code ec, std::size_t) {
      if (ec || !keep_alive) return self->close(linger && !ec);
      self->read(self->shared_.limits.idle_timeout_s);
    });
  }

  void close(bool linger = false) {
    phase_ = Phase::closing;
    if constexpr (std::is_same_v<Stream, tls_stream>) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(shared_.stopping ? 2 : 5));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    } else {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
      if (linger && !ec && !shared_.stopping) {
        phase_ = Phase::lingering;
        beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
        discard(0);
      }
    }
  }

  // Closing with unread bytes resets the connection, and the reset can destroy the answer
  // before the client reads it: a client still sending a too-large request would never see its
  // 413 or 431. So drop what arrives until the client closes, for at most 2 s and 16 MiB.
  void discard(size_t total) {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(65536), [self = this->shared_from_this(), total](beast::error_code ec, std::size_t n) {
      if (ec || total + n > (16u << 20)) return;
      self->discard(total + n);
    });
  }

  Stream stream_;
  Shared& shared_;
  std::string ip_;
  int refusal_;
  std::optional<Slot> slot_;  // empty when refused, or after an upgrade
  Phase phase_ = Phase::handshake;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  size_t header_bytes_ = 0;  // header bytes the parser has taken for the current request
};

class Server final : public HttpServer {
 public:
  Server(Service& service, HttpLimits limits, std::function<void(const std::string&)> log, std::shared_ptr<ssl::context> tls)
      : tls_(std::move(tls)), shared_(service, limits, std::move(log)), control_(asio::make_strand(ioc_)),
        acceptor_(control_), signals_(control_), drain_timer_(control_), accept_retry_(control_) {
    service.set_notifier([this](const ChangeNotice& n) {
      const std::string msg = "{\"type\":\"changes\",\"server_seq\":" + std::to_string(n.server_seq) + "}";
      for (auto& s : shared_.all_subscribers()) {
        if (s->wants(n)) s->send(msg);  // each posts to its own strand
      }
    });
  }
  ~Server() override { shared_.service.set_notifier(nullptr); }

  Status bind(const std::string& host, uint16_t port) {
    beast::error_code ec;
    auto address = asio::ip::make_address(host, ec);
    if (ec) return {Errc::invalid_argument, "bad listen address " + host + ": " + ec.message()};
    tcp::endpoint ep{address, port};
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return {Errc::storage_error, "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message()};
    port_ = acceptor_.local_endpoint().port();
    return {};
  }

  uint16_t port() const override { return port_; }

  void run(int threads, bool handle_signals) override {
    if (handle_signals) {
      signals_.add(SIGINT);
      signals_.add(SIGTERM);
      wait_signal();
    }
    asio::post(control_, [this] { accept(); });
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([this] { ioc_.run(); });
    ioc_.run();
    for (auto& t : pool) t.join();
  }

  void stop() override {
    asio::post(control_, [this] { begin_stop(); });
  }

 private:
  void accept() {
    acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;  // stopping
      if (ec && ec != asio::error::connection_aborted) {
        // Out of descriptors (EMFILE) and the like: retrying at once would spin.
        accept_retry_.expires_after(std::chrono::milliseconds(100));
        return accept_retry_.async_wait([this](beast::error_code e) {
          if (!e && acceptor_.is_open()) accept();
        });
      }
      if (!ec) {
        beast::error_code ignored;
        const std::string ip = socket.remote_endpoint(ignored).address().to_string();
        const int refusal = shared_.connections.admit(ip);
        if (tls_) {
          std::make_shared<Session<tls_stream>>(tls_stream(std::move(socket), *tls_), shared_, ip, refusal)->start();
        } else {
          std::make_shared<Session<plain_stream>>(plain_stream(std::move(socket)), shared_, ip, refusal)->start();
        }
      }
      accept();
    });
  }

  void wait_signal() {
    signals_.async_wait([this](beast::error_code ec, int sig) {
      if (ec) return;
      shared_.log(std::string("{\"level\":\"info\",\"msg\":\"") + (sig == SIGINT ? "SIGINT" : "SIGTERM") + " received\"}");
      begin_stop();
      wait_signal();  // a second signal cuts the drain short
    });
  }

  // On control_. Stops accepting and drains; run() returns once no connection is left, or
  // after the grace period and a few seconds more for answers being written.
  void begin_stop() {
    if (stopping_) {
      shared_.log("{\"level\":\"warn\",\"msg\":\"stopping now, without waiting for connections\"}");
      ioc_.stop();
      return;
    }
    stopping_ = true;
    beast::error_code ec;
    acceptor_.close(ec);
    accept_retry_.cancel();
    auto live = shared_.live(/*begin_stopping=*/true);
    shared_.log("{\"level\":\"info\",\"msg\":\"stopping\",\"connections\":" + std::to_string(live.size()) +
                ",\"grace_s\":" + std::to_string(shared_.limits.shutdown_grace_s) + "}");
    for (auto& c : live) c->drain();
    live.clear();
    grace_end_ = std::chrono::steady_clock::now() + std::chrono::seconds(shared_.limits.shutdown_grace_s);
    check_drained();
  }

  void check_drained() {
    const size_t left = shared_.live_count();
    const auto now = std::chrono::steady_clock::now();
    if (left == 0) {
      shared_.log("{\"level\":\"info\",\"msg\":\"stopped\"}");
      return ioc_.stop();
    }
    if (!aborted_ && now >= grace_end_) {
      aborted_ = true;
      shared_.log("{\"level\":\"warn\",\"msg\":\"grace period over; closing connections\",\"connections\":" + std::to_string(left) + "}");
      for (auto& c : shared_.live()) c->abort();
      grace_end_ = now + std::chrono::seconds(3);  // for answers still being written
    } else if (aborted_ && now >= grace_end_) {
      shared_.log("{\"level\":\"warn\",\"msg\":\"stopped with connections open\",\"connections\":" + std::to_string(left) + "}");
      return ioc_.stop();
    }
    drain_timer_.expires_after(std::chrono::milliseconds(50));
    drain_timer_.async_wait([this](beast::error_code e) {
      if (!e) check_drained();
    });
  }

  // Destroyed in reverse: the io_context (and the handlers it still holds, which reach into
  // shared_ and tls_) before shared_ and tls_.
  std::shared_ptr<ssl::context> tls_;
  Shared shared_;
  asio::io_context ioc_;
  asio::strand<asio::io_context::executor_type> control_;  // accepting, signals, stopping
  tcp::acceptor acceptor_;
  asio::signal_set signals_;
  asio::steady_timer drain_timer_;
  asio::steady_timer accept_retry_;
  uint16_t port_ = 0;
  bool stopping_ = false;
  bool aborted_ = false;
  std::chrono::steady_clock::time_point grace_end_;
};

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::bind(Service& service, const std::string& host, uint16_t port,
                                                     HttpLimits limits, std::function<void(const std::string&)> log,
                                                     const TlsFiles& tls_files) {
  std::shared_ptr<ssl::context> tls;
  if (!tls_files.certificate.empty()) {
    tls = std::make_shared<ssl::context>(ssl::context::tls_server);
    tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    beast::error_code ec;
    tls->use_certificate_chain_file(tls_files.certificate, ec);
    if (!ec) tls->use_private_key_file(tls_files.key, ssl::context::pem, ec);
    if (ec) return Status(Errc::invalid_argument, "TLS certificate or key: " + ec.message());
  }
  auto server = std::make_unique<Server>(service, limits, std::move(log), std::move(tls));
  TRAM_RETURN_IF_ERROR(server->bind(host, port));
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace tram::server
