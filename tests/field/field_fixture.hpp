// The fixture of tram-field's end-to-end tests (field_test.cpp, adhoc_test.cpp): a fresh seeded
// tram-server on loopback per test, device homes driven through tram-field's --json output.
#pragma once

#include <simdjson.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server/harness.hpp"

namespace tram::testing::field {

namespace fs = std::filesystem;

// Runs a binary with arguments and extra environment; stdout and stderr apart.
Proc run(const std::string& bin, const std::vector<std::string>& args, const std::string& env = "") {
  // English messages whatever the machine's locale (the texts checked here are English).
  std::string cmd = "LC_ALL=C " + env + " " + shell_quote(bin);
  for (const auto& a : args) cmd += " " + shell_quote(a);
  return run_shell(cmd + " </dev/null", Stderr::apart);
}

// A parsed --json answer; the document lives as long as this object.
class Doc {
 public:
  explicit Doc(const std::string& json) : text_(json) {
    ok_ = parser_.parse(text_).get(root_) == simdjson::SUCCESS;
  }
  bool ok() const { return ok_; }
  simdjson::dom::element root() const { return root_; }
  std::string str(std::initializer_list<const char*> path) const {
    simdjson::dom::element e = root_;
    for (const char* k : path) {
      if (e[k].get(e) != simdjson::SUCCESS) return "<missing>";
    }
    std::string_view s;
    if (e.get_string().get(s) == simdjson::SUCCESS) return std::string(s);
    return simdjson::to_string(e);
  }
  int64_t num(std::initializer_list<const char*> path) const {
    simdjson::dom::element e = root_;
    for (const char* k : path) {
      if (e[k].get(e) != simdjson::SUCCESS) return -1;
    }
    int64_t i = 0;
    if (e.get_int64().get(i) == simdjson::SUCCESS) return i;
    bool b = false;
    if (e.get_bool().get(b) == simdjson::SUCCESS) return b ? 1 : 0;
    return -1;
  }
  std::vector<simdjson::dom::element> array(const char* key) const {
    std::vector<simdjson::dom::element> out;
    simdjson::dom::array a;
    if (root_[key].get_array().get(a) != simdjson::SUCCESS) {
      ADD_FAILURE() << "no array " << key << " in " << text_;
      return out;
    }
    for (auto e : a) out.push_back(e);
    return out;
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  simdjson::dom::parser parser_;
  simdjson::dom::element root_;
  bool ok_ = false;
};

constexpr const char* kKey = "7d3b0f2a9c51e8b46a0d2c7f1e9b83a5c4d6e0f1a2b3c4d5e6f708192a3b4c5d";

class FieldTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("tram-field-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "server");
    const auto seeded = run_cli({"seed", "--data", data()});
    ASSERT_EQ(seeded.first, 0) << seeded.second;
    server_ = std::make_unique<ServerProcess>(data());
  }
  void TearDown() override {
    server_.reset();
    if (!HasFailure()) fs::remove_all(root_);
  }

  std::string data() const { return (root_ / "server").string(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  std::string home(const std::string& device) const { return (root_ / device).string(); }

  void user(const std::string& id, const std::string& role, const std::string& units) {
    std::vector<std::string> args = {"admin", "create-user", "--data", data(), "--id", id, "--role", role};
    if (units == "all") args.push_back("--all-units");
    else args.insert(args.end(), {"--units", units});
    const auto r = run_cli(args);
    ASSERT_EQ(r.first, 0) << r.second;
  }

  // tram-field on a device home, with the demo's wrapping key.
  Proc field(const std::string& device, std::vector<std::string> args, const std::string& env = "") {
    args.insert(args.end(), {"--home", home(device)});
    return run(TRAM_FIELD_BIN, args, "TRAM_FIELD_KEY=" + std::string(kKey) + " " + env);
  }
  // The same with --json, asserting success and valid JSON.
  Doc json(const std::string& device, std::vector<std::string> args, const std::string& env = "") {
    args.push_back("--json");
    const Proc r = field(device, args, env);
    EXPECT_EQ(r.rc, 0) << "tram-field " << args[0] << ": " << r.err << r.out;
    Doc d(r.out);
    EXPECT_TRUE(d.ok()) << r.out;
    return d;
  }

  // A user and an enrolled device for it.
  void enrol(const std::string& device, const std::string& role, const std::string& units, const std::vector<std::string>& extra = {}) {
    user(device, role, units);
    const auto code = run_cli({"admin", "enrol-code", "--data", data(), "--user", device});
    ASSERT_EQ(code.first, 0) << code.second;
    std::string c = code.second;
    c.erase(c.find_last_not_of(" \n") + 1);
    std::vector<std::string> args = {"init", "--server", url(), "--code", c, "--name", "Cán bộ " + device};
    args.insert(args.end(), extra.begin(), extra.end());
    const Doc d = json(device, args);
    ASSERT_EQ(d.num({"enrolled"}), 1) << d.text();
    ASSERT_EQ(d.num({"synced"}), 1) << d.text();
  }

  std::string new_report(const std::string& device, std::vector<std::string> args) {
    args.insert(args.begin(), "report");
    const Doc d = json(device, args);
    const std::string id = d.str({"id"});
    EXPECT_EQ(id.size(), 36u) << d.text();
    return id;
  }

  fs::path root_;
  std::unique_ptr<ServerProcess> server_;
};

}  // namespace tram::testing::field
