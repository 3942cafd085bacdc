// The default Transport: HTTP/1.1 over Boost.Beast, plain or TLS, one kept-alive connection.
// Every wait is bounded and the caller's cancel flag is polled between short runs of the
// event loop, so a dead 2G link never hangs a sync. A request gives up only when nothing has
// moved for io_timeout_ms — no byte written, read, or sent on from the socket's queue — so a
// 256 KiB body may take minutes on a 30 kbit/s link, and a stalled one fails in 30 s.
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <sstream>
#include <variant>

#ifdef __linux__
#include <linux/sockios.h>
#include <sys/ioctl.h>
#endif

#include "tram/engine/crypto.hpp"
#include "tram/engine/gzip.hpp"
#include "tram/transport.hpp"

namespace tram::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct Url {
  bool tls = false;
  std::string host, port;
};

std::optional<Url> parse_url(const std::string& url) {
  Url u;
  std::string rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    u.tls = true;
    rest = url.substr(8);
  } else {
    return std::nullopt;
  }
  if (auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  const auto colon = rest.rfind(':');
  u.host = colon == std::string::npos ? rest : rest.substr(0, colon);
  u.port = colon == std::string::npos ? (u.tls ? "443" : "80") : rest.substr(colon + 1);
  if (u.host.empty() || u.port.empty()) return std::nullopt;
  return u;
}

class BeastTransport final : public Transport {
 public:
  BeastTransport(Url url, TransportOptions opt) : url_(std::move(url)), opt_(std::move(opt)), ssl_(asio::ssl::context::tls_client) {
    if (url_.tls) {
      ssl_.set_default_verify_paths();
      if (!opt_.ca_file.empty()) ssl_.load_verify_file(opt_.ca_file);
      ssl_.set_verify_mode(asio::ssl::verify_peer);
    }
  }

  Result<HttpResponse> send(const HttpRequest& request, const std::atomic<bool>& cancel) override {
    // A kept-alive connection the server closed meanwhile fails at once: try a fresh one. Not
    // after a timeout (the first copy may still be on its way: never two at once), not after
    // an answer began, and not when the caller would rather ask the server what it holds.
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = connected_;
      stalled_ = false;
      received_ = 0;
      auto r = exchange(request, cancel);
      if (r.ok() || !reused || r.status().code() == Errc::cancelled || stalled_ || received_ > 0 || !request.resend_on_stale) return r;
    }
    return Status(Errc::unavailable, "unreachable");
  }

 private:
  using Plain = beast::tcp_stream;
  using Tls = beast::ssl_stream<beast::tcp_stream>;

  beast::tcp_stream& lowest() {
    return std::holds_alternative<Plain>(*stream_) ? std::get<Plain>(*stream_) : beast::get_lowest_layer(std::get<Tls>(*stream_));
  }

  void disconnect() {
    if (stream_) {
      beast::error_code ec;
      lowest().socket().close(ec);
    }
    stream_.reset();
    buffer_.clear();
    connected_ = false;
  }

  // Runs the event loop until `done`, the caller cancels, or the loop runs dry. With
  // `watch`: the socket is closed (and the operation ends with an error) once nothing has moved
  // for io_timeout_ms — bytes written or read (`moved_`), or bytes the network took off the
  // socket's send queue (a body handed to the kernel may take minutes to leave on 2G).
  Status run_until(const bool& done, const std::atomic<bool>& cancel, bool watch = false, const std::function<void()>& on_move = {}) {
    ioc_.restart();
    auto last = std::chrono::steady_clock::now();
    uint64_t seen = moved_ + drained();
    while (!done) {
      if (cancel) {
        disconnect();
        ioc_.run_for(std::chrono::milliseconds(100));
        return Status(Errc::cancelled, "cancelled");
      }
      if (ioc_.run_for(std::chrono::milliseconds(50)) == 0 && ioc_.stopped() && !done) break;
      if (!watch || done) continue;
      const auto now = std::chrono::steady_clock::now();
      if (const uint64_t m = moved_ + drained(); m != seen) {
        seen = m;
        last = now;
        if (on_move) on_move();
      } else if (now - last > std::chrono::milliseconds(opt_.io_timeout_ms) && stream_) {
        stalled_ = true;
        beast::error_code ec;
        lowest().socket().close(ec);  // the pending operation ends with operation_aborted
      }
    }
    return {};
  }

  // Bytes the network has taken off this socket's send queue so far (Linux: SIOCOUTQ, the
  // bytes not yet acknowledged by the peer; elsewhere 0, and writes and reads alone count).
  uint64_t drained() {
#ifdef __linux__
    if (!stream_ || !lowest().socket().is_open()) return drained_;
    int queued = 0;
    if (::ioctl(lowest().socket().native_handle(), SIOCOUTQ, &queued) == 0) {
      if (queued < outq_) drained_ += static_cast<uint64_t>(outq_ - queued);
      outq_ = queued;
    }
#endif
    return drained_;
  }

  Status connect(const std::atomic<bool>& cancel) {
    disconnect();
    tcp::resolver resolver(ioc_);
    beast::error_code ec;
    auto endpoints = resolver.resolve(url_.host, url_.port, ec);
    if (ec) return Status(Errc::unavailable, "cannot resolve " + url_.host + ": " + ec.message());
    if (url_.tls) {
      stream_.emplace(std::in_place_type<Tls>, ioc_, ssl_);
    } else {
      stream_.emplace(std::in_place_type<Plain>, ioc_);
    }
    bool done = false;
    lowest().expires_after(std::chrono::milliseconds(opt_.connect_timeout_ms));
    lowest().async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) {
      ec = e;
      done = true;
    });
    TRAM_RETURN_IF_ERROR(run_until(done, cancel));
    if (ec) return Status(Errc::unavailable, "cannot connect to " + url_.host + ":" + url_.port + ": " + ec.message());
    if (url_.tls) {
      Tls& s = std::get<Tls>(*stream_);
      // SNI (SSL_set_tlsext_host_name, spelled out: the macro has a C cast).
      if (!SSL_ctrl(s.native_handle(), SSL_CTRL_SET_TLSEXT_HOSTNAME, TLSEXT_NAMETYPE_host_name, const_cast<char*>(url_.host.c_str()))) return Status(Errc::unavailable, "TLS: bad host name");
      pin_failed_ = false;
      s.set_verify_callback([this](bool preverified, asio::ssl::verify_context& ctx) { return verify(preverified, ctx); });
      done = false;
      s.async_handshake(asio::ssl::stream_base::client, [&](beast::error_code e) {
        ec = e;
        done = true;
      });
      TRAM_RETURN_IF_ERROR(run_until(done, cancel));
      if (ec) {
        return Status(pin_failed_ ? Errc::bad_signature : Errc::unavailable,
                      pin_failed_ ? "TLS: the server certificate does not match the pinned one" : "TLS handshake: " + ec.message());
      }
    }
    connected_ = true;
    return {};
  }

  bool verify(bool preverified, asio::ssl::verify_context& ctx) {
    if (opt_.pin_sha256.empty()) return preverified;
    // With a pin, only the leaf certificate counts, and only its exact bytes.
    X509_STORE_CTX* store = ctx.native_handle();
    if (X509_STORE_CTX_get_error_depth(store) != 0) return true;
    X509* cert = X509_STORE_CTX_get_current_cert(store);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!cert || !X509_digest(cert, EVP_sha256(), md, &len)) return false;
    const std::string hex = to_hex(std::span<const uint8_t>(md, len));
    std::string pin = opt_.pin_sha256;
    for (char& c : pin) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    pin_failed_ = hex != pin;
    return !pin_failed_;
  }

  Result<HttpResponse> exchange(const HttpRequest& request, const std::atomic<bool>& cancel) {
    if (!connected_) TRAM_RETURN_IF_ERROR(connect(cancel));
    http::request<http::string_body> req;
    req.method(http::string_to_verb(request.method));
    req.target(request.target);
    req.version(11);
    req.set(http::field::host, url_.host);
    req.set(http::field::user_agent, "tram-client/1");
    req.set(http::field::accept_encoding, "gzip");
    for (const auto& [k, v] : request.headers) req.set(k, v);
    if (opt_.gzip_requests && request.compress && request.body.size() > 1024) {
      req.set(http::field::content_encoding, "gzip");
      req.body() = gzip_compress(request.body, 6);
    } else {
      req.body() = request.body;
    }
    req.prepare_payload();
    HttpResponse out;
    for (const auto& f : req) out.bytes_sent += f.name_string().size() + f.value().size() + 4;
    out.bytes_sent += request.target.size() + 16 + req.body().size();

    // Progress decides when to give up (run_until's watch), not a deadline on the whole.
    beast::error_code ec;
    bool done = false;
    lowest().expires_never();
    outq_ = 0;
    uint64_t sent = 0;
    std::ostringstream head;
    head << req.base();
    const uint64_t head_bytes = head.str().size();
    // Body bytes that left this device: handed to the socket, less what still waits in its queue.
    std::function<void()> report = [&] {
      if (!request.on_progress) return;
      const uint64_t queued = outq_ > 0 ? static_cast<uint64_t>(outq_) : 0;
      request.on_progress(sent > head_bytes + queued ? sent - head_bytes - queued : 0, received_);
    };
    http::request_serializer<http::string_body> sr(req);
    std::function<void()> write_some = [&] {
      std::visit([&](auto& s) {
        http::async_write_some(s, sr, [&](beast::error_code e, size_t n) {
          sent += n;
          moved_ += n;
          if (n) report();
          if (e || sr.is_done()) {
            ec = e;
            done = true;
            return;
          }
          write_some();
        });
      }, *stream_);
    };
    write_some();
    TRAM_RETURN_IF_ERROR(run_until(done, cancel, true, report));
    if (ec) {
      disconnect();
      return Status(Errc::unavailable, "send: " + (stalled_ ? stall_message() : ec.message()));
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(256u << 20);
    done = false;
    std::function<void()> read_some = [&] {
      std::visit([&](auto& s) {
        http::async_read_some(s, buffer_, parser, [&](beast::error_code e, size_t n) {
          received_ += n;
          moved_ += n;
          if (n) report();
          if (e || parser.is_done()) {
            ec = e;
            done = true;
            return;
          }
          read_some();
        });
      }, *stream_);
    };
    read_some();
    TRAM_RETURN_IF_ERROR(run_until(done, cancel, true, report));
    if (ec) {
      disconnect();
      return Status(Errc::unavailable, "receive: " + (stalled_ ? stall_message() : ec.message()));
    }
    auto res = parser.release();
    out.status = static_cast<int>(res.result_int());
    for (const auto& f : res) out.bytes_received += f.name_string().size() + f.value().size() + 4;
    out.bytes_received += 17 + res.body().size();
    if (res[http::field::content_encoding] == "gzip") {
      auto inflated = gzip_decompress(res.body(), 512u << 20);
      if (!inflated) {
        disconnect();
        return Status(Errc::unavailable, "receive: a corrupt gzip body");
      }
      out.body = std::move(*inflated);
    } else {
      out.body = std::move(res.body());
    }
    if (!res.keep_alive()) disconnect();
    return out;
  }

  Url url_;
  TransportOptions opt_;
  asio::io_context ioc_;
  asio::ssl::context ssl_;
  std::optional<std::variant<Plain, Tls>> stream_;
  beast::flat_buffer buffer_;
  bool connected_ = false;
  bool pin_failed_ = false;
  bool stalled_ = false;    // the last request failed for want of progress
  uint64_t received_ = 0;   // response bytes of the last request
  uint64_t moved_ = 0;      // bytes written and read, ever
  uint64_t drained_ = 0;    // bytes taken off the send queue, ever
  int outq_ = 0;            // the send queue when last looked at

  std::string stall_message() const {
    return "no bytes moved for " + std::to_string(opt_.io_timeout_ms / 1000) + " s";
  }
};

}  // namespace

Result<std::unique_ptr<Transport>> make_http_transport(const std::string& base_url, TransportOptions options) {
  auto url = parse_url(base_url);
  if (!url) return Status(Errc::invalid_argument, "expected http://host:port or https://host:port, got \"" + base_url + "\"");
  try {
    return std::unique_ptr<Transport>(new BeastTransport(std::move(*url), std::move(options)));
  } catch (const std::exception& e) {
    return Status(Errc::invalid_argument, std::string("TLS setup: ") + e.what());
  }
}

}  // namespace tram::client
