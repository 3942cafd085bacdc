// Private to http/: a WebSocket subscription to change notices (/v1/notify), over plain TCP or
// TLS. Included only by listener.cpp, where the templates are instantiated.
#pragma once

#include "transport.hpp"

namespace tram::server::transport {

// A device subscribed to "new data for your scope" notices. The device only listens; on a
// notice it pulls. At most one write in flight, and notices coalesce: only the latest matters.
// The subscription lives only as long as its session: it is re-checked before each notice and
// every limits.ws_recheck_s, and closed (1008) once revoked, quarantined, expired or re-scoped.
template <class Stream>
class WebSocketSession final : public Conn, public Subscriber, public std::enable_shared_from_this<WebSocketSession<Stream>> {
 public:
  WebSocketSession(Stream&& stream, Shared& shared, Slot slot, std::string token, Principal who)
      : ws_(std::move(stream)), recheck_(ws_.get_executor()), shared_(shared), slot_(std::move(slot)),
        token_(std::move(token)), who_(std::move(who)) {}
  ~WebSocketSession() override { shared_.forget(this, this); }

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
  void shed() override { abort(); }  // never chosen (subscriptions are not shed); for completeness

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

}  // namespace tram::server::transport
