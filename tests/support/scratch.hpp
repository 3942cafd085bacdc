// Scratch directories for tests: made empty on request, removed when the test that asked for
// one passes, kept when it fails (the data directory is the post-mortem; its path is printed).
// Without this, every run left a few dozen directories in /tmp.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace tram::testing {

namespace detail {

// One per test program, owned by GoogleTest once appended to its listeners.
class ScratchCleaner : public ::testing::EmptyTestEventListener {
 public:
  static ScratchCleaner& instance() {
    static ScratchCleaner* self = [] {
      auto* c = new ScratchCleaner;
      ::testing::UnitTest::GetInstance()->listeners().Append(c);
      return c;
    }();
    return *self;
  }

  // A directory made inside a test is settled when that test ends; one made outside any test
  // (a suite's set-up) when the program ends.
  void add(const std::string& dir) {
    std::lock_guard lock(mu_);
    const bool in_test = ::testing::UnitTest::GetInstance()->current_test_info() != nullptr;
    (in_test ? test_ : program_).push_back(dir);
  }

  void OnTestEnd(const ::testing::TestInfo& info) override { settle(test_, info.result()->Failed()); }
  void OnTestProgramEnd(const ::testing::UnitTest& unit) override {
    settle(test_, unit.Failed());
    settle(program_, unit.Failed());
  }

 private:
  void settle(std::vector<std::string>& dirs, bool failed) {
    std::vector<std::string> mine;
    {
      std::lock_guard lock(mu_);
      mine.swap(dirs);
    }
    for (const auto& d : mine) {
      if (failed) {
        std::cerr << "kept for inspection: " << d << "\n";
      } else {
        std::error_code ec;  // already gone is fine
        std::filesystem::remove_all(d, ec);
      }
    }
  }

  std::mutex mu_;
  std::vector<std::string> test_, program_;
};

}  // namespace detail

// An empty directory under the test temp dir, named "<prefix>-<name>-<pid>" (the pid keeps
// two runs of one program apart).
inline std::string scratch_dir(const std::string& prefix, const std::string& name) {
  const std::string d = ::testing::TempDir() + prefix + "-" + name + "-" + std::to_string(::getpid());
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  detail::ScratchCleaner::instance().add(d);
  return d;
}

}  // namespace tram::testing
