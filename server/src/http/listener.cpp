// The listener: binds, accepts (TLS or plain), admits connections under the limits, runs the
// io_context on the serving threads, drains on stop() or a signal; and HttpServer::bind.
#include <sys/resource.h>

#include <cerrno>
#include <optional>

#include <boost/asio/thread_pool.hpp>

#include "http_connection.hpp"
#include "http_server.hpp"
#include "transport.hpp"

namespace tram::server {
namespace transport {
namespace {

class Server final : public HttpServer {
 public:
  Server(Service& service, HttpLimits limits, std::function<void(const std::string&)> log, std::shared_ptr<ssl::context> tls)
      : tls_(std::move(tls)), shared_(service, limits, std::move(log)), control_(asio::make_strand(ioc_)),
        acceptor_(control_), signals_(control_), drain_timer_(control_), accept_retry_(control_) {
    if (limits.handler_threads > 0) {
      workers_.emplace(static_cast<size_t>(limits.handler_threads));
      shared_.offload = [this](std::function<void()> work) { asio::post(*workers_, std::move(work)); };
    }
    service.set_notifier([this](const ChangeNotice& n) {
      json::Writer w;
      const std::string msg = w.begin_object().key("type").string("changes").key("server_seq").number(n.server_seq).end_object().take();
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
    // Requests still being handled finish (their answers go nowhere: the connections are gone)
    // before the service they use can go away.
    if (workers_) workers_->join();
  }

  void stop() override {
    asio::post(control_, [this] { begin_stop(); });
  }

 private:
  void accept() {
    acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;  // stopping
      if (ec && ec != asio::error::connection_aborted) return accept_failed(ec);
      if (!ec) {
        beast::error_code ignored;
        const std::string ip = socket.remote_endpoint(ignored).address().to_string();
        const auto admission = shared_.connections.admit(ip);
        for (size_t k = 0; k < admission.shed.size(); ++k) {
          if (admission.shed[k]) admission.shed[k]->shed();
          shared_.count_shed(admission.reasons[k]);
        }
        if (tls_) {
          std::make_shared<HttpConnection<tls_stream>>(tls_stream(std::move(socket), *tls_), shared_, ip, admission)->start();
        } else {
          std::make_shared<HttpConnection<plain_stream>>(plain_stream(std::move(socket)), shared_, ip, admission)->start();
        }
      }
      accept();
    });
  }

  // Out of descriptors (EMFILE, ENFILE) and the like: retrying at once would spin at 100% CPU.
  // Shed the connection waiting longest, if any, and retry soon; else back off. Counted in
  // /metrics and logged (at most every 10 s).
  void accept_failed(const beast::error_code& ec) {
    const bool system = ec.category() == boost::system::system_category();
    const std::string what = system && ec.value() == EMFILE ? "EMFILE" : system && ec.value() == ENFILE ? "ENFILE" : "other";
    shared_.service.count_accept_error(what);
    shared_.warn_every(shared_.accept_log_, "accept failed (" + what + ": " + ec.message() + "); backing off");
    auto victim = what == "other" ? nullptr : shared_.connections.shed_oldest();
    if (victim) {
      victim->shed();
      shared_.count_shed("descriptors");
    }
    accept_retry_.expires_after(std::chrono::milliseconds(victim ? 10 : 100));
    accept_retry_.async_wait([this](beast::error_code e) {
      if (!e && acceptor_.is_open()) accept();
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
  std::optional<asio::thread_pool> workers_;  // where requests are handled (HttpLimits::handler_threads)
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


// Each connection holds a descriptor. Debian's default soft limit is 1,024 open files, under the
// default 2,000 connections: raise the soft limit to the hard one, and lower max_connections to
// what then fits, keeping room for SQLite's files, attachments being written and the rest.
void fit_descriptors(HttpLimits& limits, const std::function<void(const std::string&)>& log) {
  constexpr rlim_t kReserve = 128;
  rlimit rl{};
  if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) return;
  if (rl.rlim_cur < rl.rlim_max) {
    rlimit raised = rl;
    raised.rlim_cur = rl.rlim_max == RLIM_INFINITY ? rlim_t{1} << 20 : rl.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) rl = raised;
  }
  const size_t fit = rl.rlim_cur > kReserve + 16 ? static_cast<size_t>(rl.rlim_cur - kReserve) : 16;
  if (limits.max_connections > fit) {
    log("{\"level\":\"warn\",\"msg\":\"--max-connections lowered to fit the open-files limit (raise it: LimitNOFILE=, ulimit -n)\",\"open_files\":" +
        std::to_string(rl.rlim_cur) + ",\"max_connections\":" + std::to_string(fit) + "}");
    limits.max_connections = fit;
  }
}

}  // namespace
}  // namespace transport

using namespace transport;


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
  fit_descriptors(limits, log);
  service.set_connection_limit(limits.max_connections);
  auto server = std::make_unique<Server>(service, limits, std::move(log), std::move(tls));
  TRAM_RETURN_IF_ERROR(server->bind(host, port));
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace tram::server

