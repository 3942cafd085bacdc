#include "http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
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

// A live notification subscriber (a WebSocket over plain TCP or TLS).
class Subscriber {
 public:
  virtual ~Subscriber() = default;
  virtual bool wants(const ChangeNotice& n) const = 0;
  virtual void send(std::string message) = 0;
};

struct Shared {
  Service& service;
  HttpLimits limits;
  std::function<void(const std::string&)> log;
  ConnectionTable connections;
  std::atomic<uint64_t> next_request{1};
  std::mutex ws_mu;
  std::vector<std::weak_ptr<Subscriber>> ws;  // live notification subscribers
};

// A device subscribed to "new data for your scope" notices. The device only listens; on a
// notice it pulls. At most one write in flight, and notices coalesce: only the latest matters.
template <class Stream>
class WsSession final : public Subscriber, public std::enable_shared_from_this<WsSession<Stream>> {
 public:
  WsSession(Stream&& stream, Principal who) : ws_(std::move(stream)), who_(std::move(who)) {}

  void start(Shared& shared, http::request<http::string_body> req) {
    beast::get_lowest_layer(ws_).expires_never();  // the WebSocket has its own timeouts
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));  // pings idle peers
    ws_.read_message_max(4096);
    ws_.async_accept(req, [self = this->shared_from_this(), &shared](beast::error_code ec) {
      if (ec) return;
      {
        std::lock_guard lock(shared.ws_mu);
        std::erase_if(shared.ws, [](const auto& w) { return w.expired(); });
        shared.ws.push_back(self);
      }
      self->send("{\"type\":\"hello\"}");
      self->read();
    });
  }

  bool wants(const ChangeNotice& n) const override {
    if (n.province_wide || who_.all_units) return true;
    return std::any_of(n.units.begin(), n.units.end(), [&](const std::string& u) { return who_.in_scope(u); });
  }

  void send(std::string message) override {
    asio::post(ws_.get_executor(), [self = this->shared_from_this(), message = std::move(message)]() mutable {
      if (self->writing_) {
        self->pending_ = std::move(message);  // replaces an older unsent notice
        return;
      }
      self->write(std::move(message));
    });
  }

 private:
  void read() {
    ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
      if (ec) return;  // closed or timed out: the session ends
      self->buffer_.consume(n);
      self->read();
    });
  }
  void write(std::string message) {
    writing_ = true;
    current_ = std::move(message);
    ws_.async_write(asio::buffer(current_), [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      self->writing_ = false;
      if (ec) return;
      if (self->pending_) {
        std::string next = std::move(*self->pending_);
        self->pending_.reset();
        self->write(std::move(next));
      }
    });
  }

  websocket::stream<Stream> ws_;
  Principal who_;
  beast::flat_buffer buffer_;
  std::string current_;
  std::optional<std::string> pending_;
  bool writing_ = false;
};

http::response<http::string_body> make_response(unsigned version, bool keep_alive, const Response& r,
                                                const std::string& request_id) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "tram-server");
  res.set(http::field::content_type, r.content_type);
  res.set("X-Request-Id", request_id);
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
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(Stream&& stream, Shared& shared, std::string ip, int refusal)
      : stream_(std::move(stream)), shared_(shared), ip_(std::move(ip)), refusal_(refusal) {}
  ~Session() {
    if (refusal_ == 0) shared_.connections.release(ip_);
    if (opened_) shared_.service.connection_closed();
  }

  void start() {
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

 private:
  void begin() {
    if (refusal_ != 0) {
      // Over the limits: answer once, then close, so the client learns why.
      shared_.service.count_refused("connection", refusal_);
      auto r = refusal_ == 429 ? limit_error(429, "too_many_connections", "too many connections from this address")
                               : limit_error(503, "server_busy", "too many connections; retry later");
      send(make_response(11, false, r, "refused"), false);
      return;
    }
    opened_ = true;
    shared_.service.connection_opened();
    read(shared_.limits.request_timeout_s);
  }

  // `timeout_s`: how long the next request may take to arrive (idle timeout on a kept-alive
  // connection, request timeout on a new one).
  void read(int timeout_s) {
    parser_.emplace();
    parser_->body_limit(shared_.limits.max_body_bytes);
    parser_->header_limit(shared_.limits.max_header_bytes);
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(timeout_s));
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read, this->shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::connection_reset) {
      return close();
    }
    if (ec == http::error::body_limit) {
      shared_.service.count_refused("body", 413);
      return send(make_response(11, false, limit_error(413, "too_large", "request body over " + std::to_string(shared_.limits.max_body_bytes) + " bytes"), "limit"), false);
    }
    if (ec == http::error::header_limit) {
      shared_.service.count_refused("headers", 431);
      return send(make_response(11, false, limit_error(431, "headers_too_large", "request headers over " + std::to_string(shared_.limits.max_header_bytes) + " bytes"), "limit"), false);
    }
    if (ec) {
      return send(make_response(11, false, limit_error(400, "bad_request", ec.message()), "error"), false);
    }
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
    std::string accept(req[http::field::accept_encoding]);
    for (auto& ch : accept) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const bool gzip_ok = accept.find("gzip") != std::string::npos && accept.find("gzip;q=0") == std::string::npos;
    char id[20];
    std::snprintf(id, sizeof id, "%08llx", static_cast<unsigned long long>(shared_.next_request++));
    Request r{std::string(req.method_string()), std::string(req.target()), std::move(req.body()),
              std::string(req[http::field::authorization]), id};
    const auto start = std::chrono::steady_clock::now();
    Response out = shared_.service.handle(r);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    char line[1024];
    std::snprintf(line, sizeof line,
                  "{\"level\":\"info\",\"request_id\":\"%s\",\"peer\":\"%s\",\"method\":\"%s\",\"path\":%s,"
                  "\"status\":%d,\"ms\":%.2f%s%s%s}",
                  id, ip_.c_str(), r.method.c_str(), json::quote(r.target.substr(0, 200)).c_str(), out.status, ms,
                  out.error_code.empty() ? "" : ",\"error\":\"", out.error_code.c_str(), out.error_code.empty() ? "" : "\"");
    shared_.log(line);
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
  // cannot set headers on a WebSocket): the connection becomes a notification subscription.
  void upgrade(http::request<http::string_body> req) {
    std::string token(req[http::field::authorization]);
    if (token.rfind("Bearer ", 0) == 0) token = token.substr(7);
    const std::string target(req.target());
    if (const size_t q = target.find("token="); token.empty() && q != std::string::npos) token = target.substr(q + 6, 64);
    auto who = shared_.service.principal_for_token(token);
    if (!who) {
      return send(make_response(req.version(), false, limit_error(401, "unauthenticated", "a live session token is needed"), "ws"), false);
    }
    std::make_shared<WsSession<Stream>>(std::move(stream_), std::move(*who))->start(shared_, std::move(req));
  }

  void send(http::response<http::string_body> res, bool keep_alive) {
    auto sp = std::make_shared<http::response<http::string_body>>(std::move(res));
    beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(shared_.limits.request_timeout_s));
    http::async_write(stream_, *sp, [self = this->shared_from_this(), sp, keep_alive](beast::error_code ec, std::size_t) {
      if (ec || !keep_alive) return self->close();
      self->read(self->shared_.limits.idle_timeout_s);
    });
  }

  void close() {
    if constexpr (std::is_same_v<Stream, tls_stream>) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(5));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    } else {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    }
  }

  Stream stream_;
  bool opened_ = false;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Shared& shared_;
  std::string ip_;
  int refusal_;
};

class Server final : public HttpServer {
 public:
  Server(Service& service, HttpLimits limits, std::function<void(const std::string&)> log, std::shared_ptr<ssl::context> tls)
      : tls_(std::move(tls)), shared_{service, limits, std::move(log), ConnectionTable(shared_.limits), {1}, {}, {}}, acceptor_(asio::make_strand(ioc_)) {
    service.set_notifier([this](const ChangeNotice& n) {
      const std::string msg = "{\"type\":\"changes\",\"server_seq\":" + std::to_string(n.server_seq) + "}";
      std::vector<std::shared_ptr<Subscriber>> targets;
      {
        std::lock_guard lock(shared_.ws_mu);
        for (const auto& w : shared_.ws) {
          if (auto s = w.lock(); s && s->wants(n)) targets.push_back(std::move(s));
        }
      }
      for (auto& t : targets) t->send(msg);  // outside the lock: each posts to its own strand
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
    return {};
  }

  uint16_t port() const override { return acceptor_.local_endpoint().port(); }

  void run(int threads, bool handle_signals) override {
    accept();
    asio::signal_set signals(ioc_, SIGINT, SIGTERM);
    if (handle_signals) signals.async_wait([this](beast::error_code, int) { stop(); });
    std::vector<std::thread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([this] { ioc_.run(); });
    ioc_.run();
    for (auto& t : pool) t.join();
  }

  void stop() override { ioc_.stop(); }

 private:
  void accept() {
    acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
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

  std::shared_ptr<ssl::context> tls_;
  asio::io_context ioc_;
  Shared shared_;
  tcp::acceptor acceptor_;
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
