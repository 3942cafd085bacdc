// The fixture of the SDK's tests against the real server (client_test.cpp, embedding_test.cpp,
// heal_test.cpp, evidence_test.cpp):
// a seeded tram-server on loopback behind a relay that can cut or stall the link, and devices
// enrolled through it.
#pragma once

#include <functional>

#include "client/client_support.hpp"

namespace tram::testing {

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    data_ = dir_ + "/server";
    std::filesystem::create_directories(data_);
    prepare_server(data_);
    server_ = std::make_unique<ServerProcess>(data_);
    relay_.set_upstream(server_->port());
  }
  // A device enrolled for `user`, talking through the relay.
  std::unique_ptr<client::Client> device(const std::string& name, const std::string& user, size_t page = 0) {
    return enrolled(name, user, [&](client::Options& o) {
      if (page) o.sync.pull_page_min = o.sync.pull_page_max = page;  // many pages: exercises read-ahead
    });
  }
  // A device on dir_/<name>.db with options `tweak` adjusted, enrolled for `user` through the
  // relay with `code` (one from the CLI when empty); null when it failed (the test fails too).
  std::unique_ptr<client::Client> enrolled(const std::string& name, const std::string& user,
                                           const std::function<void(client::Options&)>& tweak, std::string code = {}) {
    client::Options o = device_options(dir_ + "/" + name + ".db");
    if (tweak) tweak(o);
    auto opened = client::Client::open(o);
    EXPECT_TRUE(opened.ok()) << opened.status().to_string();
    if (!opened.ok()) return nullptr;
    auto c = std::move(opened).value();
    Status st = c->enroll(relay_.url(), code.empty() ? enrol_code(data_, user) : code);
    EXPECT_TRUE(st.ok()) << st.to_string();
    return c;
  }
  std::string dir_, data_;
  Relay relay_;
  std::unique_ptr<ServerProcess> server_;
};

// How many rows `table` holds on the device.
inline size_t count_rows(client::Client& c, const std::string& table) {
  client::Query q;
  q.table = table;
  q.limit = 1'000'000;
  auto r = c.query(q);
  EXPECT_TRUE(r.ok()) << r.status().to_string();
  return r.ok() ? r->size() : 0;
}

}  // namespace tram::testing
