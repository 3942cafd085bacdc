// Test harness for the real server: starts `tram-server` processes on loopback, talks HTTP/1.1
// over plain sockets, and plays devices (enrol, session, push, pull) with the engine.
#pragma once

#include <simdjson.h>
#include <sodium.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "../support/shell.hpp"
#include "tram/engine/device_chain.hpp"

namespace tram::testing {

struct HttpResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
};

// One request on a fresh connection. Bounded: 10 s timeouts on the socket.
inline HttpResponse http(uint16_t port, const std::string& method, const std::string& path, const std::string& body = "",
                         const std::vector<std::string>& headers = {}) {
  HttpResponse out;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return out;
  }
  std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n";
  for (const auto& h : headers) req += h + "\r\n";
  req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  size_t sent = 0;
  while (sent < req.size()) {
    const ssize_t n = ::send(fd, req.data() + sent, req.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may answer (413, 431) and close before reading it all
    sent += static_cast<size_t>(n);
  }
  std::string raw;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  const size_t end = raw.find("\r\n\r\n");
  if (raw.size() < 12 || end == std::string::npos) return out;
  out.status = std::stoi(raw.substr(9, 3));
  size_t pos = raw.find("\r\n") + 2;
  while (pos < end) {
    const size_t eol = raw.find("\r\n", pos);
    const std::string line = raw.substr(pos, eol - pos);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string k = line.substr(0, colon);
      for (auto& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      out.headers[k] = line.substr(colon + 2);
    }
    pos = eol + 2;
  }
  out.body = raw.substr(end + 4);
  return out;
}

// The value of a /metrics line (a full name with labels), or -1.
inline double metric(uint16_t port, const std::string& name) {
  const std::string body = http(port, "GET", "/metrics").body;
  const size_t at = body.find("\n" + name + " ");
  return at == std::string::npos ? -1 : std::stod(body.substr(at + name.size() + 2));
}

// Runs tram-server with arguments (after `prefix`, e.g. "timeout 20 "); returns exit status and
// stdout with stderr.
inline std::pair<int, std::string> run_cli(const std::vector<std::string>& args, const std::string& prefix = "") {
  std::string cmd = prefix + shell_quote(TRAM_SERVER_BIN);
  for (const auto& a : args) cmd += " " + shell_quote(a);
  Proc r = run_shell(cmd);
  return {r.rc, std::move(r.out)};
}

// A self-signed certificate for 127.0.0.1 (valid one day) written to dir/cert.pem and its key
// to dir/key.pem; returns the certificate's SHA-256 pin (64 hex digits), or "" when openssl failed.
inline std::string make_test_certificate(const std::string& dir) {
  const Proc gen = run_shell("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1"
                             " -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 -keyout " + shell_quote(dir + "/key.pem") +
                             " -out " + shell_quote(dir + "/cert.pem"), Stderr::apart);
  if (gen.rc != 0) return {};
  const std::string pin = run_shell("openssl x509 -in " + shell_quote(dir + "/cert.pem") + " -outform DER | sha256sum",
                                    Stderr::apart).out.substr(0, 64);
  return pin.size() == 64 ? pin : std::string{};
}

// A tram-server process serving a data directory on a free loopback port.
class ServerProcess {
 public:
  explicit ServerProcess(std::string data, std::vector<std::string> extra = {}) : data_(std::move(data)), extra_(std::move(extra)) { start(); }
  ~ServerProcess() { stop(SIGTERM); }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  void start() {
    int out[2];
    ASSERT_EQ(::pipe(out), 0);
    // A test process that crashes must not leave its server running (they piled up by the
    // dozen). The death signal follows the thread that forked, not the process: only a fork from
    // the main thread, which ends with the process, asks for it.
    const pid_t parent = ::getpid();
    const bool main_thread = ::gettid() == parent;
    pid_ = ::fork();
    if (pid_ == 0) {
      if (main_thread && (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || ::getppid() != parent)) ::_exit(127);
      ::dup2(out[1], 1);
      ::close(out[0]);
      const std::string log = data_ + "/server.log";
      FILE* err = std::fopen(log.c_str(), "a");
      if (err) ::dup2(fileno(err), 2);
      std::vector<std::string> args = {TRAM_SERVER_BIN, "serve", "--data", data_, "--listen", "127.0.0.1:0"};
      args.insert(args.end(), extra_.begin(), extra_.end());
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(TRAM_SERVER_BIN, argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    // Read "tram-server listening on 127.0.0.1:PORT" (bounded: 20 s).
    std::string line;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    char c;
    while (std::chrono::steady_clock::now() < deadline && ::read(out[0], &c, 1) == 1) {
      if (c == '\n') {
        if (line.find("listening on") != std::string::npos) break;
        line.clear();
      } else {
        line.push_back(c);
      }
    }
    ::close(out[0]);
    ASSERT_NE(line.find("listening on"), std::string::npos) << "server did not start; see " << data_ << "/server.log";
    port_ = static_cast<uint16_t>(std::stoi(line.substr(line.rfind(':') + 1)));
  }

  void stop(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
  }
  void restart() {
    stop(SIGTERM);
    start();
  }
  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& data() const { return data_; }
  void signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  // The wait status once the process has ended, or nullopt while it still runs after `seconds`.
  std::optional<int> wait(double seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    for (;;) {
      int status = 0;
      if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return status;
      }
      if (pid_ <= 0 || std::chrono::steady_clock::now() > deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

 private:
  std::string data_;
  std::vector<std::string> extra_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

inline std::string push_body(const std::vector<SignedChangeSet>& batch) {
  std::string body = "{\"changesets\":[";
  for (size_t i = 0; i < batch.size(); ++i) {
    body += (i ? "," : "") + std::string("{\"cs\":\"") + to_base64(batch[i].bytes) + "\",\"sig\":\"" + to_hex(batch[i].sig) + "\"}";
  }
  return body + "]}";
}

// A draft progress report of `unit` (schema sonla-2026 v2 field ids) as one put.
inline Op draft_report(std::string row, const char* unit) {
  auto text = [](const char* s) { return Value{Text{s}}; };
  std::vector<FieldWrite> f = {{1, text(unit)},           {2, text("CT-BACSI-TRAMYTE")},          {4, text("2026-H1")},
                               {5, Value{42.0}},          {6, text("on_track")},                  {7, text("Trạm y tế có 2 bác sĩ")},
                               {11, text("Lò Văn Minh")}, {12, Value{*Date::parse("2026-06-03")}}, {13, text("draft")}};
  return Op{"progress_report", std::move(row), OpKind::put, std::move(f), {}};
}

// A device as the tests play it: an enrolled key, a session token, its chain.
class TestDevice {
 public:
  TestDevice(uint16_t port, const std::string& code, const std::string& author, uint64_t seed)
      : port_(port), wall_(1'780'000'000'000), clock_(wall_, 300'000), rng_(seed),
        chain_(DeviceKey::generate(rng_), clock_, author, "sonla-2026", 2) {
    const HttpResponse r = http(port_, "POST", "/v1/enroll",
                                "{\"code\":\"" + code + "\",\"public_key\":\"" + to_hex(chain_.device()) + "\"}");
    enrolled_ = r.status == 200;
    enrol_body_ = r.body;
    if (enrolled_) login();
  }
  bool enrolled() const { return enrolled_; }
  const std::string& enrol_body() const { return enrol_body_; }
  void set_port(uint16_t p) { port_ = p; }

  bool login() {
    const HttpResponse c = http(port_, "POST", "/v1/auth/challenge", "{\"device\":\"" + to_hex(chain_.device()) + "\"}");
    simdjson::dom::parser p;
    std::string_view challenge;
    if (c.status != 200 || p.parse(c.body)["challenge"].get_string().get(challenge)) return false;
    const Signature sig = chain_.key().sign("tram-session-v1:" + std::string(challenge));
    const HttpResponse s = http(port_, "POST", "/v1/auth/session",
                                "{\"device\":\"" + to_hex(chain_.device()) + "\",\"challenge\":\"" + std::string(challenge) +
                                    "\",\"signature\":\"" + to_hex(sig) + "\"}");
    std::string_view token;
    if (s.status != 200 || p.parse(s.body)["token"].get_string().get(token)) return false;
    token_ = std::string(token);
    return true;
  }

  DeviceChain::Made make(std::vector<Op> ops) {
    wall_.advance(1000);
    auto r = chain_.make(std::move(ops));
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return std::move(r).value();
  }
  HttpResponse push(const std::vector<SignedChangeSet>& batch) {
    return http(port_, "POST", "/v1/push", push_body(batch), {"Authorization: Bearer " + token_});
  }
  HttpResponse raw(const std::string& method, const std::string& path, const std::string& body, std::vector<std::string> headers) {
    headers.push_back("Authorization: Bearer " + token_);
    return http(port_, method, path, body, headers);
  }
  HttpResponse push_raw(const std::string& body) { return http(port_, "POST", "/v1/push", body, {"Authorization: Bearer " + token_}); }
  HttpResponse pull(uint64_t after, size_t limit = 1000) {
    return http(port_, "GET", "/v1/pull?after=" + std::to_string(after) + "&limit=" + std::to_string(limit),
                "", {"Authorization: Bearer " + token_});
  }
  // The bases for editing `fields` of a row, from what a pull shows now (liveness included),
  // as a real client would take them from its replica.
  std::vector<FieldBase> bases(const std::string& table, const std::string& row, std::vector<uint32_t> fields) {
    std::vector<FieldBase> out;
    const HttpResponse r = pull(0, 1000);
    simdjson::dom::parser p;
    simdjson::dom::element root;
    if (p.parse(r.body).get(root)) return out;
    std::vector<std::string> writers;
    for (auto w : root["writers"].get_array()) writers.emplace_back(std::string_view(w.get_string().value()));
    for (auto e : root["rows"].get_array()) {
      if (std::string_view(e["t"].get_string().value()) != table || std::string_view(e["id"].get_string().value()) != row) continue;
      simdjson::dom::array cells = e["c"].get_array().value();
      fields.insert(fields.begin(), 0);
      // Cell k is liveness (k = 0) or the k-th field of the table; the tests use field id == k.
      for (uint32_t f : fields) {
        simdjson::dom::element cell = cells.at(f).value();
        if (cell.is_null()) continue;
        // A bare value ["tag", v] was written by the row's common writer "w" (protocol §8.2).
        const bool bare = cell.at(0).value().is_string();
        const uint64_t index = bare ? e["w"].get_uint64().value() : cell.at(2).get_uint64().value();
        const auto w = from_hex<8>(writers[static_cast<size_t>(index)].substr(0, 16));
        uint64_t v = 0;
        for (uint8_t b : *w) v = v << 8 | b;
        out.push_back({f, WriterId{v}});
      }
    }
    return out;
  }
  const PublicKey& key() const { return chain_.device(); }
  const std::string& token() const { return token_; }
  DeviceChain& chain() { return chain_; }
  FakeClock& wall() { return wall_; }

 private:
  uint16_t port_;
  FakeClock wall_;
  HybridClock clock_;
  SeededRandom rng_;
  DeviceChain chain_;
  std::string token_, enrol_body_;
  bool enrolled_ = false;
};

}  // namespace tram::testing

namespace tram::testing {

// A minimal WebSocket client (RFC 6455) for the notification channel: handshake, then text
// frames from the server. Reads are bounded by a timeout.
class WsClient {
 public:
  // Connects and upgrades; status() is the HTTP status of the handshake (101 on success).
  WsClient(uint16_t port, const std::string& token) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return;
    const std::string req = "GET /v1/notify HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                            "Authorization: Bearer " + token + "\r\n\r\n";
    (void)::send(fd_, req.data(), req.size(), MSG_NOSIGNAL);
    std::string head;
    char c;
    set_timeout(5000);
    while (head.find("\r\n\r\n") == std::string::npos && ::recv(fd_, &c, 1, 0) == 1) head.push_back(c);
    if (head.size() > 12) status_ = std::stoi(head.substr(9, 3));
  }
  ~WsClient() { if (fd_ >= 0) ::close(fd_); }
  int status() const { return status_; }

  // The next text message, or "" when none arrives within timeout_ms.
  std::string next(int timeout_ms) {
    set_timeout(timeout_ms);
    unsigned char h[2];
    if (!read_exact(h, 2)) return {};
    uint64_t len = h[1] & 0x7f;
    if (len == 126) {
      unsigned char e[2];
      if (!read_exact(e, 2)) return {};
      len = static_cast<uint64_t>(e[0]) << 8 | e[1];
    } else if (len == 127) {
      return {};  // notices are small
    }
    std::string payload(len, '\0');
    if (len && !read_exact(reinterpret_cast<unsigned char*>(payload.data()), len)) return {};
    if ((h[0] & 0x0f) == 0x9 || (h[0] & 0x0f) == 0xA) return next(timeout_ms);  // ping/pong: skip
    return payload;
  }

 private:
  void set_timeout(int ms) {
    timeval tv{ms / 1000, (ms % 1000) * 1000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  bool read_exact(unsigned char* p, size_t n) {
    while (n > 0) {
      const ssize_t r = ::recv(fd_, p, n, 0);
      if (r <= 0) return false;
      p += r;
      n -= static_cast<size_t>(r);
    }
    return true;
  }
  int fd_ = -1;
  int status_ = 0;
};

}  // namespace tram::testing
