// The HTTP transport of the real tram-server process on loopback: a clean stop on SIGTERM and
// SIGINT (idle connections, subscriptions, a push in flight), header limits that count every
// byte, subscriptions that end with their session and count as connections, Retry-After.
// Longer than ~400 lines: raw-socket helpers shared by every transport case (stops, limits,
// subscriptions) live at the top; each case is short.
#include <gtest/gtest.h>
#include <poll.h>

#include <fstream>
#include <optional>
#include <sstream>

#include "../support/scratch.hpp"
#include "harness.hpp"

namespace tram::testing {
namespace {

namespace dom = simdjson::dom;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string tail(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  const std::string all = s.str();
  return all.size() > 3000 ? all.substr(all.size() - 3000) : all;
}

// A tram-server process whose exit status the test waits for, with a bound.
// The real server process (harness.hpp), with its log for failure messages.
using Proc = ServerProcess;
std::string log_of(const Proc& p) { return tail(p.data() + "/server.log"); }

// Exit status 0 within `seconds`.
void expect_clean_exit(Proc& p, double seconds) {
  const auto start = Clock::now();
  const std::optional<int> st = p.wait(seconds);
  ASSERT_TRUE(st.has_value()) << "still running after " << seconds << " s\n" << log_of(p);
  EXPECT_TRUE(WIFEXITED(*st)) << "killed by signal " << (WIFSIGNALED(*st) ? WTERMSIG(*st) : 0) << "\n" << log_of(p);
  EXPECT_EQ(WIFEXITED(*st) ? WEXITSTATUS(*st) : -1, 0) << log_of(p);
  EXPECT_LT(seconds_since(start), seconds);
}

// One TCP connection, read with timeouts.
class Raw {
 public:
  explicit Raw(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~Raw() {
    if (fd_ >= 0) ::close(fd_);
  }
  Raw(const Raw&) = delete;
  Raw& operator=(const Raw&) = delete;
  bool ok() const { return fd_ >= 0; }

  bool send_all(std::string_view data) {
    while (!data.empty()) {
      const ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // Up to `n` bytes within timeout_ms; empty on timeout, EOF or error (eof() tells which).
  std::string recv_some(int timeout_ms, size_t n = 65536) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) <= 0) return {};
    std::string buf(n, '\0');
    const ssize_t got = ::recv(fd_, buf.data(), n, 0);
    if (got <= 0) {
      eof_ = true;
      return {};
    }
    buf.resize(static_cast<size_t>(got));
    return buf;
  }
  bool eof() const { return eof_; }
  // One response: head and a Content-Length body. status 0 when none came within timeout_ms.
  HttpResponse response(int timeout_ms) {
    HttpResponse out;
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    auto left = [&] { return static_cast<int>(std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count())); };
    size_t end;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos) {
      const std::string got = recv_some(left());
      if (got.empty()) return out;
      pending_ += got;
    }
    if (pending_.size() < 12) return out;
    size_t pos = pending_.find("\r\n") + 2;
    while (pos < end) {
      const size_t eol = pending_.find("\r\n", pos);
      const std::string line = pending_.substr(pos, eol - pos);
      if (const size_t colon = line.find(':'); colon != std::string::npos) {
        std::string k = line.substr(0, colon);
        for (auto& ch : k) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
        out.headers[k] = line.substr(colon + 2);
      }
      pos = eol + 2;
    }
    const size_t length = out.headers.count("content-length") ? std::stoul(out.headers["content-length"]) : 0;
    while (pending_.size() < end + 4 + length) {
      const std::string got = recv_some(left());
      if (got.empty()) return out;
      pending_ += got;
    }
    out.status = std::stoi(pending_.substr(9, 3));
    out.body = pending_.substr(end + 4, length);
    pending_.erase(0, end + 4 + length);
    return out;
  }
  // Whether the server closes the connection (EOF or reset) within timeout_ms, skipping data.
  bool closed_within(int timeout_ms) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (Clock::now() < deadline && !eof_) {
      recv_some(std::max(1, static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count())));
    }
    return eof_;
  }
  int fd() const { return fd_; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  bool eof_ = false;
  std::string pending_;
};

// A keep-alive connection that has been served once and now sits idle.
std::unique_ptr<Raw> idle_connection(uint16_t port) {
  auto c = std::make_unique<Raw>(port);
  EXPECT_TRUE(c->ok());
  EXPECT_TRUE(c->send_all("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  EXPECT_EQ(c->response(5000).status, 200);
  return c;
}

// A WebSocket client (RFC 6455) that sees every frame and answers the closing handshake.
class Ws {
 public:
  struct Frame {
    int opcode = -1;  // -1: nothing within the timeout, or the connection ended
    std::string payload;
    int close_code() const {
      return opcode == 8 && payload.size() >= 2 ? (static_cast<unsigned char>(payload[0]) << 8 | static_cast<unsigned char>(payload[1])) : 0;
    }
  };
  Ws(uint16_t port, const std::string& token) : raw_(port) {
    raw_.send_all("GET /v1/notify HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                  "Authorization: Bearer " + token + "\r\n\r\n");
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (buf_.find("\r\n\r\n") == std::string::npos && Clock::now() < deadline) {
      const std::string got = raw_.recv_some(200);
      if (got.empty() && raw_.eof()) break;
      buf_ += got;
    }
    if (buf_.size() > 12) status_ = std::stoi(buf_.substr(9, 3));
    const size_t end = buf_.find("\r\n\r\n");
    buf_.erase(0, end == std::string::npos ? buf_.size() : end + 4);
  }
  int status() const { return status_; }
  Raw& raw() { return raw_; }

  Frame next(int timeout_ms) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    auto need = [&](size_t n) {
      while (buf_.size() < n && Clock::now() < deadline) {
        const std::string got = raw_.recv_some(50);
        if (got.empty() && raw_.eof()) return false;
        buf_ += got;
      }
      return buf_.size() >= n;
    };
    if (!need(2)) return {};
    size_t len = static_cast<unsigned char>(buf_[1]) & 0x7f, head = 2;
    if (len == 126) {
      if (!need(4)) return {};
      len = static_cast<size_t>(static_cast<unsigned char>(buf_[2]) << 8 | static_cast<unsigned char>(buf_[3]));
      head = 4;
    }
    if (!need(head + len)) return {};
    Frame f{static_cast<unsigned char>(buf_[0]) & 0x0f, buf_.substr(head, len)};
    buf_.erase(0, head + len);
    return f;
  }
  // The next frame that is not a ping or pong.
  Frame next_message(int timeout_ms) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      const int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
      Frame f = next(std::max(1, left));
      if (f.opcode != 9 && f.opcode != 10) return f;
    }
  }
  // A masked close frame, as clients must send (answering the server's, or starting one).
  void send_close(uint16_t code) {
    std::string f = {'\x88', '\x82', '\x11', '\x22', '\x33', '\x44'};
    f.push_back(static_cast<char>((code >> 8) ^ 0x11));
    f.push_back(static_cast<char>((code & 0xff) ^ 0x22));
    raw_.send_all(f);
  }

 private:
  Raw raw_;
  std::string buf_;
  int status_ = 0;
};

Op put(std::string row) { return draft_report(std::move(row), "03808"); }

class Transport : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = scratch_dir("tram-transport", ::testing::UnitTest::GetInstance()->current_test_info()->name()) + "/data";  // kept when the test fails
    ASSERT_EQ(run_cli({"seed", "--data", data_}).first, 0);
    for (const char* user : {"minh", "hoa"}) {
      ASSERT_EQ(run_cli({"admin", "create-user", "--data", data_, "--id", user, "--role", "official", "--units", "03808"}).first, 0);
    }
  }
  std::unique_ptr<Proc> start(std::vector<std::string> extra = {}) {
    auto p = std::make_unique<Proc>(data_, extra);
    EXPECT_NE(p->port(), 0) << "server did not start\n" << log_of(*p);
    return p;
  }
  std::unique_ptr<TestDevice> device(uint16_t port, const char* user, uint64_t seed) {
    auto [rc, out] = run_cli({"admin", "enrol-code", "--data", data_, "--user", user});
    EXPECT_EQ(rc, 0) << out;
    auto d = std::make_unique<TestDevice>(port, out.substr(0, out.find('\n')), user, seed);
    EXPECT_TRUE(d->enrolled()) << d->enrol_body();
    return d;
  }
  std::string admin_token() {
    auto out = run_cli({"admin", "token", "--data", data_}).second;
    return out.substr(0, out.find('\n'));
  }

  // Idle keep-alive connections and a subscription, then `sig`: the subscription gets a close
  // frame (1001), the idle connections are closed, and the process exits 0, all within bounds.
  void stops_cleanly_on(int sig) {
    auto server = start();
    auto minh = device(server->port(), "minh", 1);
    std::vector<std::unique_ptr<Raw>> idle;
    for (int i = 0; i < 3; ++i) idle.push_back(idle_connection(server->port()));
    Raw silent(server->port());  // connected, never sent a byte
    ASSERT_TRUE(silent.ok());
    Ws ws(server->port(), minh->token());
    ASSERT_EQ(ws.status(), 101);
    ASSERT_EQ(ws.next_message(3000).payload, "{\"type\":\"hello\"}");
    const auto t0 = Clock::now();
    server->signal(sig);
    const Ws::Frame close = ws.next_message(5000);
    EXPECT_EQ(close.opcode, 8) << close.payload;
    EXPECT_EQ(close.close_code(), 1001) << close.payload;
    ws.send_close(1000);
    EXPECT_TRUE(ws.raw().closed_within(5000));  // the server ends the TCP connection first
    ws.raw().close();
    for (auto& c : idle) EXPECT_TRUE(c->closed_within(5000));
    EXPECT_TRUE(silent.closed_within(5000));
    expect_clean_exit(*server, 12.0 - seconds_since(t0));
  }

  std::string data_;
};

TEST_F(Transport, SigtermWithIdleConnectionsAndASubscriptionExitsZero) { stops_cleanly_on(SIGTERM); }

TEST_F(Transport, SigintWithIdleConnectionsAndASubscriptionExitsZero) { stops_cleanly_on(SIGINT); }

// A push whose body is still arriving when SIGTERM comes is read to the end, committed and
// answered with its receipt (Connection: close); then the process exits 0, and the row is there
// after a restart. A request that never finishes is cut at the end of the grace period, never
// committed, and the process still exits 0.
TEST_F(Transport, APushInFlightFinishesWithItsReceiptThenExitZero) {
  auto server = start({"--shutdown-grace-s", "10"});
  auto minh = device(server->port(), "minh", 1);
  auto idle = idle_connection(server->port());
  const std::string body = push_body({minh->make({put("in-flight")}).signed_cs});
  const std::string head = "POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + minh->token() +
                           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  Raw push(server->port());
  ASSERT_TRUE(push.send_all(head + body.substr(0, body.size() / 2)));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto t0 = Clock::now();
  server->signal(SIGTERM);
  EXPECT_TRUE(idle->closed_within(5000));
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  ASSERT_TRUE(push.send_all(body.substr(body.size() / 2)));
  const HttpResponse r = push.response(8000);
  ASSERT_EQ(r.status, 200) << r.body << "\n" << log_of(*server);
  EXPECT_EQ(r.headers.count("connection") ? r.headers.at("connection") : "", "close");
  EXPECT_NE(r.body.find("\"status\":\"accepted\""), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("\"receipt\""), std::string::npos) << r.body;
  EXPECT_TRUE(push.closed_within(5000));
  expect_clean_exit(*server, 12.0 - seconds_since(t0));

  // Committed: after a restart the row is pulled.
  server = start({"--shutdown-grace-s", "1"});
  minh->set_port(server->port());
  ASSERT_TRUE(minh->login());
  EXPECT_NE(minh->pull(0).body.find("\"in-flight\""), std::string::npos);

  // A push that never finishes arriving: cut after the 1 s grace period, never committed.
  const std::string body2 = push_body({minh->make({put("never")}).signed_cs});
  Raw stuck(server->port());
  ASSERT_TRUE(stuck.send_all("POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + minh->token() +
                             "\r\nContent-Length: " + std::to_string(body2.size()) + "\r\n\r\n" + body2.substr(0, 10)));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto t1 = Clock::now();
  server->signal(SIGTERM);
  EXPECT_TRUE(stuck.closed_within(6000));
  EXPECT_GE(seconds_since(t1), 0.8);  // the grace period was given
  expect_clean_exit(*server, 8.0 - seconds_since(t1));
  server = start();
  minh->set_port(server->port());
  ASSERT_TRUE(minh->login());
  const HttpResponse page = minh->pull(0);
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.body.find("\"never\""), std::string::npos);
}

// Beast's header_limit bounds only the bytes its parser has not consumed yet, and fields are
// consumed one by one: a header of a million tiny lines passed it. Every byte counts now.
TEST_F(Transport, FourMegabytesOfTinyHeaderLinesGet431Quickly) {
  auto server = start();
  struct Shape {
    const char* name;
    std::string first, line;
  };
  const std::vector<Shape> shapes = {
      {"empty values", "", "a:\r\n"},
      {"empty values after X: y", "X: y\r\n", "a:\r\n"},
      {"blank values", "", "a: \r\n"},
      {"obs-fold", "X: y\r\n", " z\r\n"},
      {"one-letter values", "Host: h\r\n", "b:c\r\n"},
  };
  for (const Shape& s : shapes) {
    std::string req = "GET /healthz HTTP/1.1\r\n" + s.first;
    req.reserve(4'200'000);
    while (req.size() < 4'000'000) req += s.line;
    req += "\r\n";
    Raw c(server->port());
    ASSERT_TRUE(c.ok());
    const auto t0 = Clock::now();
    std::thread sender([&] { c.send_all(req); });  // may fail once the server has answered
    const HttpResponse r = c.response(10000);
    const double took = seconds_since(t0);
    ::shutdown(c.fd(), SHUT_RDWR);
    sender.join();
    EXPECT_NE(r.status, 200) << s.name;
    if (r.status != 0) {
      EXPECT_EQ(r.status, 431) << s.name << ": " << r.body;
    }
    EXPECT_LT(took, 3.0) << s.name;
    EXPECT_EQ(http(server->port(), "GET", "/healthz").status, 200) << s.name;
  }
  // Many small fields under the limit are still fine, and so is a request that fills it.
  std::string ok = "";
  for (int i = 0; i < 1000; ++i) ok += "a:\r\n";
  Raw c(server->port());
  ASSERT_TRUE(c.send_all("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + ok + "\r\n"));
  EXPECT_EQ(c.response(5000).status, 200);
  EXPECT_EQ(http(server->port(), "GET", "/healthz", "", {"X-Fill: " + std::string(15000, 'a')}).status, 200);
  EXPECT_EQ(http(server->port(), "GET", "/healthz", "", {"X-Fill: " + std::string(17000, 'a')}).status, 431);
  auto metrics = http(server->port(), "GET", "/metrics");
  EXPECT_NE(metrics.body.find("tram_requests_total{route=\"headers\",status=\"431\"}"), std::string::npos);
}

// Chunk-size lines and trailers are header-like too: Beast parses them only once complete, so
// they were buffered without bound. A chunked push within the limits is still accepted.
TEST_F(Transport, ChunkLinesAndTrailersAreBounded) {
  auto server = start();
  auto minh = device(server->port(), "minh", 1);
  const std::string head = "POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + minh->token() +
                           "\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string body = push_body({minh->make({put("chunked")}).signed_cs});
  char size[32];
  std::snprintf(size, sizeof size, "%zx\r\n", body.size());
  {
    Raw c(server->port());
    ASSERT_TRUE(c.send_all(head + size + body + "\r\n0\r\nX-Trailer: ok\r\n\r\n"));
    const HttpResponse r = c.response(5000);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_NE(r.body.find("\"status\":\"accepted\""), std::string::npos) << r.body;
  }
  std::string trailer_bomb = head + "0\r\n";
  while (trailer_bomb.size() < 4'000'000) trailer_bomb += "a:\r\n";
  std::string extension_bomb = head + "1;" + std::string(4'000'000, 'x');  // no end of line
  for (const std::string* req : {&trailer_bomb, &extension_bomb}) {
    Raw c(server->port());
    const auto t0 = Clock::now();
    std::thread sender([&] { c.send_all(*req + "\r\n\r\n"); });
    const HttpResponse r = c.response(10000);
    const double took = seconds_since(t0);
    ::shutdown(c.fd(), SHUT_RDWR);
    sender.join();
    EXPECT_NE(r.status, 200);
    if (r.status != 0) {
      EXPECT_EQ(r.status, 431) << r.body;
    }
    EXPECT_LT(took, 3.0);
    EXPECT_EQ(http(server->port(), "GET", "/healthz").status, 200);
  }
}

// A second signal does not wait for the grace period: a request still arriving and a
// subscriber that never answers the close frame are cut, and the process still exits 0.
TEST_F(Transport, ASecondSignalStopsAtOnce) {
  auto server = start();
  auto minh = device(server->port(), "minh", 1);
  Raw stuck(server->port());
  ASSERT_TRUE(stuck.send_all("POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{"));
  Ws ws(server->port(), minh->token());
  ASSERT_EQ(ws.status(), 101);
  ASSERT_EQ(ws.next_message(3000).payload, "{\"type\":\"hello\"}");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  server->signal(SIGTERM);
  EXPECT_EQ(ws.next_message(5000).close_code(), 1001);  // not answered
  const auto t0 = Clock::now();
  server->signal(SIGINT);
  expect_clean_exit(*server, 3.0);
  EXPECT_LT(seconds_since(t0), 3.0);
  EXPECT_TRUE(stuck.closed_within(2000));
}

// Subscriptions are connections: they count against their device's limit and the total, and are
// never shed to make room (an idle stranger is). Every 429 and 503 carries Retry-After.
TEST_F(Transport, SubscriptionsCountAsConnectionsAndRefusalsCarryRetryAfter) {
  {
    auto server = start({"--max-connections-per-device", "2"});
    auto minh = device(server->port(), "minh", 1);
    Ws a(server->port(), minh->token()), b(server->port(), minh->token());
    ASSERT_EQ(a.status(), 101);
    ASSERT_EQ(b.status(), 101);
    const HttpResponse r = http(server->port(), "GET", "/v1/pull?after=0", "", {"Authorization: Bearer " + minh->token()});
    EXPECT_EQ(r.status, 429) << r.body;
    EXPECT_NE(r.body.find("too_many_connections"), std::string::npos) << r.body;
    ASSERT_TRUE(r.headers.count("retry-after")) << r.body;
    EXPECT_GT(std::stoi(r.headers.at("retry-after")), 0);
    EXPECT_EQ(http(server->port(), "GET", "/healthz").status, 200);  // others are served
  }
  {
    auto server = start({"--max-connections", "2"});
    auto minh = device(server->port(), "minh", 2);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the enrolment's connections are released
    Ws a(server->port(), minh->token());
    ASSERT_EQ(a.status(), 101);
    auto idle = idle_connection(server->port());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(http(server->port(), "GET", "/healthz").status, 200);  // the idle stranger gave way
    Ws b(server->port(), minh->token());
    ASSERT_EQ(b.status(), 101);
    const HttpResponse r = http(server->port(), "GET", "/healthz");  // two subscriptions: full
    EXPECT_EQ(r.status, 503) << r.body;
    ASSERT_TRUE(r.headers.count("retry-after")) << r.body;
    EXPECT_GT(std::stoi(r.headers.at("retry-after")), 0);
    // A closed subscription gives its place back.
    a.send_close(1000);
    EXPECT_TRUE(a.raw().closed_within(5000));
    a.raw().close();
    int status = 0;
    for (int k = 0; k < 50 && status != 200; ++k) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      status = http(server->port(), "GET", "/healthz").status;
    }
    EXPECT_EQ(status, 200);
  }
}

// A subscription ends (close frame 1008) when its session stops being valid: on the periodic
// re-check (revoked over the admin API, or with the CLI against the running server's database),
// and before a notice is delivered. Other subscriptions keep receiving notices.
TEST_F(Transport, SubscriptionsEndWhenTheDeviceIsRevoked) {
  auto server = start({"--ws-recheck-s", "1"});
  auto minh = device(server->port(), "minh", 1);
  auto hoa = device(server->port(), "hoa", 2);
  auto keeps = device(server->port(), "minh", 3);
  Ws minh_ws(server->port(), minh->token()), hoa_ws(server->port(), hoa->token()), keeps_ws(server->port(), keeps->token());
  for (Ws* w : {&minh_ws, &hoa_ws, &keeps_ws}) {
    ASSERT_EQ(w->status(), 101);
    ASSERT_EQ(w->next_message(3000).payload, "{\"type\":\"hello\"}");
  }
  const auto r = http(server->port(), "POST", "/v1/admin/devices/" + to_hex(minh->key()) + "/revoke", "",
                      {"Authorization: Bearer " + admin_token()});
  ASSERT_EQ(r.status, 200) << r.body;
  const Ws::Frame closed = minh_ws.next_message(4000);
  EXPECT_EQ(closed.opcode, 8) << closed.payload;
  EXPECT_EQ(closed.close_code(), 1008) << closed.payload;
  minh_ws.send_close(1000);
  EXPECT_TRUE(minh_ws.raw().closed_within(5000));

  const auto [rc, out] = run_cli({"admin", "revoke", "--data", data_, "--device", to_hex(hoa->key())});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(hoa_ws.next_message(4000).close_code(), 1008);

  // The device still in good standing keeps its subscription and hears of new data.
  auto writer = device(server->port(), "minh", 4);
  ASSERT_EQ(writer->push({writer->make({put("r1")}).signed_cs}).status, 200);
  const Ws::Frame notice = keeps_ws.next_message(3000);
  EXPECT_EQ(notice.opcode, 1);
  EXPECT_NE(notice.payload.find("\"type\":\"changes\""), std::string::npos) << notice.payload;
}

TEST_F(Transport, ARevokedSubscriberGetsACloseFrameInsteadOfTheNextNotice) {
  auto server = start({"--ws-recheck-s", "600"});  // only the check before delivery can see it
  auto minh = device(server->port(), "minh", 1);
  auto hoa = device(server->port(), "hoa", 2);
  Ws ws(server->port(), minh->token());
  ASSERT_EQ(ws.status(), 101);
  ASSERT_EQ(ws.next_message(3000).payload, "{\"type\":\"hello\"}");
  ASSERT_EQ(http(server->port(), "POST", "/v1/admin/devices/" + to_hex(minh->key()) + "/revoke", "",
                 {"Authorization: Bearer " + admin_token()}).status, 200);
  ASSERT_EQ(hoa->push({hoa->make({put("r1")}).signed_cs}).status, 200);
  const Ws::Frame f = ws.next_message(4000);
  EXPECT_EQ(f.opcode, 8) << f.payload;
  EXPECT_EQ(f.close_code(), 1008);
}

}  // namespace
}  // namespace tram::testing
