// Private to http/: one HTTP/1.1 connection on its own strand. Included only by listener.cpp,
// where the templates are instantiated.
#pragma once

#include "transport.hpp"
#include "websocket_session.hpp"

namespace tram::server::transport {

// One HTTP connection, over plain TCP (loopback, development) or TLS: reads requests under the
// limits, hands them to Service::handle, writes the answers (gzip both ways), and becomes a
// WebSocketSession on an upgrade to /v1/notify.
template <class Stream>
class HttpConnection final : public Conn, public std::enable_shared_from_this<HttpConnection<Stream>> {
 public:
  HttpConnection(Stream&& stream, Shared& shared, std::string ip, const ConnectionTable::Admission& admission)
      : stream_(std::move(stream)), shared_(shared), ip_(std::move(ip)), refusal_(admission.refusal) {
    if (refusal_ == 0) slot_.emplace(shared_, admission.id);
    // Bounds what Beast buffers unconsumed in the body phase: chunk-size lines and trailers are
    // only parsed once complete, and would otherwise grow the buffer without limit.
    buffer_.max_size(shared_.limits.max_header_bytes + 65536);
  }
  ~HttpConnection() override { shared_.forget(this); }

  void start() {
    if (slot_ && !shared_.connections.attach(slot_->id(), this->weak_from_this())) return;  // shed already: closed here
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
  void shed() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->phase_ != Phase::upgraded) beast::get_lowest_layer(self->stream_).close();  // pending reads end: close()
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
    patient_ = false;
    standing_taken_ = false;
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
      if (!standing_taken_ && !take_standing()) return;
      if (parser_->is_done()) return on_read({});
      begin_body();
      return read_body();
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

  // The header is in: the request counts against its device from now (a live session), and a
  // device's request is no longer sheddable (ConnectionTable). false when it was answered or
  // closed here instead.
  bool take_standing() {
    standing_taken_ = true;
    const auto& req = parser_->get();
    const std::string_view auth = req[http::field::authorization];
    std::string token;
    if (auth.starts_with("Bearer ") && auth.size() < 512) {
      token = std::string(auth.substr(7));
    } else if (auth.empty() && req.target().starts_with("/v1/notify")) {
      token = query_token(req.target());
    }
    const std::string device = token.empty() ? std::string() : shared_.service.device_for_token(token);
    auto turn = shared_.connections.working(slot_->id(), device);
    if (!turn.live) {
      close();
      return false;
    }
    if (turn.shed) {
      turn.shed->shed();
      shared_.count_shed("device");
    }
    if (turn.refusal != 0) {
      shared_.service.count_refused("connection", turn.refusal);
      send(make_response(11, false, limit_error(429, "too_many_connections", "too many connections from this device"), "refused"), false, true);
      return false;
    }
    return true;
  }

  // The body is read as it comes. A request with a live session token may be slow: the
  // deadline moves on after every read that brought bytes (request_timeout_s without a byte cuts
  // it), up to max_request_s in all. Without one, the body keeps the deadline the header had:
  // strangers cannot hold a connection by dribbling (slowloris); the header limit and the
  // per-address connection limit bound what they can hold meanwhile.
  void begin_body() {
    body_start_ = std::chrono::steady_clock::now();
    patient_ = false;
    const std::string_view auth = parser_->get()[http::field::authorization];
    if (auth.starts_with("Bearer ") && auth.size() < 512) {
      patient_ = shared_.service.principal_for_token(std::string(auth.substr(7))).has_value();
    }
  }

  void read_body() {
    if (patient_) beast::get_lowest_layer(stream_).expires_at(progress_deadline(body_start_));
    http::async_read_some(stream_, buffer_, *parser_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec || self->parser_->is_done()) return self->on_read(ec);
      self->read_body();
    });
  }

  // request_timeout_s from now, but not past max_request_s from `start`.
  std::chrono::steady_clock::time_point progress_deadline(std::chrono::steady_clock::time_point start) const {
    return std::min(std::chrono::steady_clock::now() + std::chrono::seconds(shared_.limits.request_timeout_s),
                    start + std::chrono::seconds(shared_.limits.max_request_s));
  }

  // A chunk of an attachment upload (PUT /v1/attachments/{hash}?offset=N) cut before its end: the
  // bytes that did arrive are handed on as a chunk of their own (never as the final one), so that
  // the device resumes where they end (GET …/status) and a cut loses only the bytes in flight.
  // The usual checks apply (session, scope, offset). Not for a gzip body: its prefix is no
  // prefix of the file.
  void keep_partial_upload() {
    if (!parser_ || !parser_->is_header_done() || !patient_ || shared_.stopping) return;
    auto& req = parser_->get();
    if (req.method() != http::verb::put || !req.target().starts_with("/v1/attachments/") || req.body().empty()) return;
    const std::string_view encoding = req[http::field::content_encoding];
    if (!encoding.empty() && !beast::iequals(encoding, "identity")) return;
    std::string target = without_query_param(req.target(), "final");
    if (target.find("offset=") == std::string::npos) return;
    Request r{"PUT", std::move(target), std::move(req.body()), std::string(req[http::field::authorization]), next_id(), ip_, false};
    const auto start = std::chrono::steady_clock::now();
    Response out = shared_.service.handle(r);
    log_request(r, out, start, ",\"partial\":true,\"bytes\":" + std::to_string(r.body.size()));
  }

  std::string next_id() {
    char id[20];
    std::snprintf(id, sizeof id, "%08llx", static_cast<unsigned long long>(shared_.next_request++));
    return id;
  }

  // Always one line of valid JSON and ASCII, whatever bytes the client sent.
  void log_request(const Request& r, const Response& out, std::chrono::steady_clock::time_point start, const std::string& extra = {}) {
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    char timing[64];
    std::snprintf(timing, sizeof timing, ",\"status\":%d,\"ms\":%.2f", out.status, ms);
    shared_.log("{\"level\":\"info\",\"request_id\":\"" + r.request_id + "\",\"peer\":" + json::quote(ip_) +
                ",\"method\":" + json::quote(log_safe(r.method, 32)) + ",\"path\":" + json::quote(log_safe(r.target, 200)) +
                timing + (out.error_code.empty() ? "" : ",\"error\":" + json::quote(log_safe(out.error_code, 64))) +
                (out.log_user.empty() ? "" : ",\"user\":" + json::quote(log_safe(out.log_user, 64))) +
                (out.log_device.empty() ? "" : ",\"device\":\"" + out.log_device + "\"") + extra + "}");
  }

  void on_read(beast::error_code ec, std::size_t = 0) {
    if (ec == http::error::partial_message || ec == beast::error::timeout || ec == asio::error::connection_reset ||
        ec == ssl::error::stream_truncated) {
      keep_partial_upload();  // cut mid-body: the client went away, or stopped sending
      return close();
    }
    if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted) {
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
    Request r{std::string(req.method_string()), std::string(req.target()), std::move(req.body()),
              std::string(req[http::field::authorization]), next_id(), ip_, gzip_ok};
    const unsigned version = req.version();
    const bool keep = req.keep_alive();
    const auto start = std::chrono::steady_clock::now();
    // Handled off the connection threads (Shared::offload); the answer comes back to this
    // connection's strand. Meanwhile phase_ is `responding`: drain() and abort() leave it be,
    // shed() closes the socket and the answer's write then fails.
    auto handle = [self = this->shared_from_this(), r = std::move(r), start, version, keep]() mutable {
      Response out = self->shared_.service.handle(r);
      auto answer = [self, r = std::move(r), out = std::move(out), start, version, keep]() mutable {
        self->answer(r, out, start, version, keep);
      };
      if (self->shared_.offload) {
        asio::post(self->stream_.get_executor(), std::move(answer));
      } else {
        answer();
      }
    };
    if (shared_.offload) {
      shared_.offload(std::move(handle));
    } else {
      handle();
    }
  }

  void answer(const Request& r, const Response& out, std::chrono::steady_clock::time_point start, unsigned version, bool keep) {
    log_request(r, out, start);
    const bool gzip_ok = r.accepts_gzip;
    auto res = make_response(version, keep, out, r.request_id);
    if (!out.content_encoding.empty()) {
      res.set(http::field::content_encoding, out.content_encoding);  // compressed ahead (static files)
    } else if (gzip_ok && out.body.size() > 512) {
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
    if (!shared_.connections.subscribed(slot_->id())) return close();  // shed meanwhile
    phase_ = Phase::upgraded;  // stream_ and slot_ move out: nothing here to drain or cut
    auto ws = std::make_shared<WebSocketSession<Stream>>(std::move(stream_), shared_, std::move(*slot_), std::move(token), std::move(*who));
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
    auto out = std::make_shared<Outgoing>(std::move(res));
    write(std::move(out), std::chrono::steady_clock::now(), keep_alive, linger);
  }

  // An answer and its serializer, alive until written.
  struct Outgoing {
    explicit Outgoing(http::response<http::string_body>&& r) : res(std::move(r)), sr(res) {}
    http::response<http::string_body> res;
    http::response_serializer<http::string_body> sr;
  };

  // Writes as the client takes it: cut after request_timeout_s without a byte written (a client
  // that stopped reading), or max_request_s in all; a slow download that keeps moving is fine.
  void write(std::shared_ptr<Outgoing> out, std::chrono::steady_clock::time_point start, bool keep_alive, bool linger) {
    beast::get_lowest_layer(stream_).expires_at(progress_deadline(start));
    auto& sr = out->sr;
    http::async_write_some(stream_, sr, [self = this->shared_from_this(), out = std::move(out), start, keep_alive, linger](beast::error_code ec, std::size_t) mutable {
      if (ec) return self->close(false);
      if (!out->sr.is_done()) return self->write(std::move(out), start, keep_alive, linger);
      if (!keep_alive) return self->close(linger);
      if (!self->shared_.connections.waiting(self->slot_->id())) return self->close();  // shed meanwhile
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
  std::chrono::steady_clock::time_point body_start_;
  bool patient_ = false;  // the body's sender has a live session: progress-based deadline
  bool standing_taken_ = false;  // take_standing() ran for the current request
};

}  // namespace tram::server::transport
