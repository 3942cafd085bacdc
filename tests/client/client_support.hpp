// Support for the SDK tests: a server with users, devices built on the SDK, and a TCP relay
// on loopback that can stand in for a dead or flaky 2G link.
#pragma once

#include <poll.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <mutex>
#include <random>

#include "server/harness.hpp"
#include "../support/scratch.hpp"
#include "tram/client.hpp"
#include "tram/engine/text.hpp"

namespace tram::testing {

// A whole file's bytes ("" when it cannot be read).
inline std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Removed when the test passes, kept when it fails (tests/support/scratch.hpp).
inline std::string temp_dir(const std::string& name) { return scratch_dir("tram-client", name); }

// A seeded server data directory with users; codes are issued per device.
inline void prepare_server(const std::string& data) {
  auto [rc, out] = run_cli({"seed", "--data", data});
  ASSERT_EQ(rc, 0) << out;
  const std::vector<std::vector<std::string>> users = {
      {"--id", "minh", "--role", "official", "--units", "03808"},  // a commune
      {"--id", "lan", "--role", "official", "--units", "03808"},   // the same commune
      {"--id", "an", "--role", "official", "--units", "03646"},    // a ward
      {"--id", "hoa", "--role", "reviewer", "--all-units"}};
  for (auto args : users) {
    args.insert(args.begin(), {"admin", "create-user", "--data", data});
    auto [urc, uout] = run_cli(args);
    ASSERT_EQ(urc, 0) << uout;
  }
}

inline std::string enrol_code(const std::string& data, const std::string& user) {
  auto [rc, out] = run_cli({"admin", "enrol-code", "--data", data, "--user", user});
  EXPECT_EQ(rc, 0) << out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

inline std::array<uint8_t, 32> test_key(uint8_t b) {
  std::array<uint8_t, 32> k{};
  k.fill(b);
  return k;
}

inline client::Options device_options(const std::string& path, uint8_t key_byte = 7) {
  client::Options o;
  o.path = path;
  o.schemas_dir = std::string(TRAM_SCHEMAS_DIR) + "/sonla-2026";
  o.wrapping_key = test_key(key_byte);
  o.sync.max_attempts = 3;
  o.sync.backoff_initial_ms = 20;
  o.sync.backoff_max_ms = 200;
  o.transport_options.connect_timeout_ms = 2000;
  o.transport_options.io_timeout_ms = 5000;
  return o;
}

inline std::unique_ptr<client::Client> open_device(const std::string& path, uint8_t key_byte = 7) {
  auto c = client::Client::open(device_options(path, key_byte));
  EXPECT_TRUE(c.ok()) << c.status().to_string();
  return c.ok() ? std::move(c).value() : nullptr;
}

inline Value text(const std::string& s) { return Value{Text{s}}; }

// A valid new progress report's fields for `unit`.
inline std::map<std::string, Value> report_fields(const std::string& unit, const std::string& narrative, double value = 42) {
  return {{"unit_code", text(unit)},          {"indicator", text("CT-CAPNUOC-XA")},
          {"period", text("2026-H1")},        {"value", Value{value}},
          {"progress", text("on_track")},     {"narrative", text(narrative)},
          {"author", text("Lò Văn Minh")},    {"recorded_on", Value{*Date::parse("2026-06-03")}},
          {"status", text("draft")}};
}

inline client::Committed must_commit(client::Client& c, const client::WriteTxn& t) {
  auto r = c.commit(t);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? *r : client::Committed{};
}

// Forwards loopback TCP connections to the server's current port. With cuts enabled, each
// connection is closed after a random number of bytes in either direction: a link that drops
// mid-request and mid-response. Every loop is bounded by the relay's lifetime.
class Relay {
 public:
  Relay() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 64);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { accept_loop(); });
  }
  ~Relay() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    std::lock_guard lock(mu_);
    for (auto& t : conns_) t.join();
  }
  uint16_t port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void set_upstream(uint16_t p) { upstream_ = p; }
  // 0: no cuts. Otherwise each direction of each connection is cut after 1..max_bytes bytes.
  // Connections open at the time are dropped, as a link going down would.
  void set_cuts(size_t max_bytes, uint64_t seed) {
    std::lock_guard lock(mu_);
    cut_max_ = max_bytes;
    rng_.seed(seed);
    ++epoch_;
  }
  uint64_t cuts() const { return cuts_; }
  uint64_t bytes_up() const { return up_bytes_; }  // forwarded from devices to the server
  uint64_t bytes_down() const { return down_bytes_; }  // forwarded from the server to devices

 private:
  void accept_loop() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      size_t up_budget = SIZE_MAX, down_budget = SIZE_MAX;
      {
        std::lock_guard lock(mu_);
        if (cut_max_) {
          up_budget = std::uniform_int_distribution<size_t>(1, cut_max_)(rng_);
          down_budget = std::uniform_int_distribution<size_t>(1, cut_max_)(rng_);
        }
        conns_.emplace_back([this, c, up_budget, down_budget] { pump(c, up_budget, down_budget); });
      }
    }
  }

  void pump(int client, size_t up_budget, size_t down_budget) {
    const int server = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(upstream_.load());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (upstream_ == 0 || ::connect(server, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(server);
      ::close(client);  // the server is down: the device sees the link fail
      return;
    }
    char buf[16384];
    const uint64_t epoch = epoch_;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    bool cut = false;
    while (!stop_ && !cut && epoch == epoch_ && std::chrono::steady_clock::now() < deadline) {
      pollfd p[2] = {{client, POLLIN, 0}, {server, POLLIN, 0}};
      if (::poll(p, 2, 100) <= 0) continue;
      bool closed = false;
      for (int k = 0; k < 2 && !closed && !cut; ++k) {
        if (!(p[k].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const ssize_t n = ::recv(p[k].fd, buf, sizeof buf, 0);
        if (n <= 0) {
          closed = true;
          break;
        }
        size_t& budget = k == 0 ? up_budget : down_budget;
        size_t send_n = static_cast<size_t>(n);
        if (send_n >= budget) {
          send_n = budget;
          cut = true;
          ++cuts_;
        }
        budget -= send_n;
        if (k == 0) up_bytes_ += send_n;
        if (k == 1) down_bytes_ += send_n;
        if (send_n && ::send(k == 0 ? server : client, buf, send_n, MSG_NOSIGNAL) < 0) closed = true;
      }
      if (closed) break;
    }
    ::close(server);
    ::close(client);
  }

  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<uint16_t> upstream_{0};
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> cuts_{0};
  std::atomic<uint64_t> up_bytes_{0};
  std::atomic<uint64_t> down_bytes_{0};
  std::atomic<uint64_t> epoch_{0};
  std::mutex mu_;
  size_t cut_max_ = 0;
  std::mt19937_64 rng_{1};
  std::thread thread_;
  std::vector<std::thread> conns_;
};

}  // namespace tram::testing
