// The fixture of the server's wire tests (server_test.cpp, scope_test.cpp, connection_test.cpp,
// state_test.cpp): a real tram-server process on loopback, seeded with two officials of commune
// 03808, one of ward 03646 and a reviewer, and the helpers that read its answers.
#pragma once

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <span>
#include <memory>
#include <string>
#include <vector>

#include "../support/scratch.hpp"
#include "harness.hpp"

namespace tram::testing {

namespace dom = simdjson::dom;

inline Value text(const char* s) { return Value{Text{s}}; }

// A full progress report for `unit` (schema sonla-2026 v2 field ids).
inline std::vector<FieldWrite> report(const char* unit, const char* status = "draft", double value = 42.0) {
  return {{1, text(unit)},           {2, text("CT-BACSI-TRAMYTE")},          {4, text("2026-H1")},
          {5, Value{value}},         {6, text("on_track")},                  {7, text("Trạm y tế có 2 bác sĩ")},
          {11, text("Lò Văn Minh")}, {12, Value{*Date::parse("2026-06-03")}}, {13, text(status)}};
}
inline Op put(std::string row, std::vector<FieldWrite> f, std::vector<FieldBase> b = {}) {
  return Op{"progress_report", std::move(row), OpKind::put, std::move(f), std::move(b)};
}

// `size` bytes drawn from `seed`: a photo's stand-in.
inline std::string random_photo(uint64_t seed, size_t size) {
  SeededRandom rng(seed);
  std::string photo(size, '\0');
  rng.fill(std::as_writable_bytes(std::span(photo.data(), photo.size())));
  return photo;
}

// A full progress report for `unit` with the photo `h` as its evidence (field 10).
inline std::vector<FieldWrite> with_photo(const char* unit, const Hash& h) {
  auto fields = report(unit);
  fields.push_back({10, Value{AttachmentRef{h}}});
  std::sort(fields.begin(), fields.end(), [](const FieldWrite& a, const FieldWrite& b) { return a.field < b.field; });
  return fields;
}

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Removed when the test passes, kept when it fails.
    data_ = scratch_dir("tram-server", ::testing::UnitTest::GetInstance()->current_test_info()->name()) + "/data";
    ASSERT_EQ(run_cli({"seed", "--data", data_}).first, 0);
    ASSERT_EQ(run_cli({"admin", "create-user", "--data", data_, "--id", "minh", "--role", "official", "--units", "03808"}).first, 0);
    ASSERT_EQ(run_cli({"admin", "create-user", "--data", data_, "--id", "hoa", "--role", "official", "--units", "03808"}).first, 0);
    ASSERT_EQ(run_cli({"admin", "create-user", "--data", data_, "--id", "an", "--role", "official", "--units", "03646"}).first, 0);
    ASSERT_EQ(run_cli({"admin", "create-user", "--data", data_, "--id", "tai-chinh", "--role", "reviewer", "--all-units"}).first, 0);
    server_ = std::make_unique<ServerProcess>(data_);
  }
  std::string code(const char* user) {
    auto [rc, out] = run_cli({"admin", "enrol-code", "--data", data_, "--user", user});
    EXPECT_EQ(rc, 0) << out;
    return out.substr(0, out.find('\n'));
  }
  std::unique_ptr<TestDevice> device(const char* user, uint64_t seed) {
    auto d = std::make_unique<TestDevice>(server_->port(), code(user), user, seed);
    EXPECT_TRUE(d->enrolled()) << d->enrol_body();
    return d;
  }
  std::string server_key() {
    dom::parser p;
    std::string_view k;
    if (p.parse(http(server_->port(), "GET", "/v1/server-key").body)["key"].get_string().get(k)) return {};
    return std::string(k);
  }
  std::string admin_token() {
    auto out = run_cli({"admin", "token", "--data", data_}).second;
    return out.substr(0, out.find('\n'));
  }

  std::string data_;
  std::unique_ptr<ServerProcess> server_;
};

// The per-item results of a push.
struct Item {
  std::string status, code, id, message;
  uint64_t expected_seq = 0;
  std::string receipt_body, receipt_sig;
  bool clock_ahead = false;
};
inline std::vector<Item> results(const HttpResponse& r) {
  EXPECT_EQ(r.status, 200) << r.body;
  std::vector<Item> out;
  dom::parser p;
  dom::element root;
  if (p.parse(r.body).get(root)) return out;
  for (dom::element e : root["results"].get_array()) {
    Item it;
    std::string_view s;
    if (!e["status"].get_string().get(s)) it.status = s;
    if (!e["code"].get_string().get(s)) it.code = s;
    if (!e["id"].get_string().get(s)) it.id = s;
    if (!e["message"].get_string().get(s)) it.message = s;
    uint64_t n;
    if (!e["expected_seq"].get_uint64().get(n)) it.expected_seq = n;
    if (!e["receipt"]["body"].get_string().get(s)) it.receipt_body = s;
    if (!e["receipt"]["sig"].get_string().get(s)) it.receipt_sig = s;
    bool b;
    if (!e["clock_ahead"].get_bool().get(b)) it.clock_ahead = b;
    out.push_back(it);
  }
  return out;
}

// Row ids in a pull page.
inline std::vector<std::string> pulled_rows(const HttpResponse& r, const std::string& table) {
  EXPECT_EQ(r.status, 200) << r.body;
  std::vector<std::string> out;
  dom::parser p;
  dom::element root;
  if (p.parse(r.body).get(root)) return out;
  for (dom::element e : root["rows"].get_array()) {
    if (std::string_view(e["t"].get_string().value()) == table) out.emplace_back(std::string_view(e["id"].get_string().value()));
  }
  return out;
}

// A TCP connection to the server on loopback (10 s receive timeout), or -1.
inline int connect_loopback(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 ? fd : -1;
}

}  // namespace tram::testing
