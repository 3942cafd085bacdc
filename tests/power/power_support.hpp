// Support for the power-loss tests: processes run under libtram_faultvfs.so, the crash tool,
// and reading a child's "saved"/"committed" lines with a bound on time.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../support/scratch.hpp"
#include "../support/shell.hpp"

namespace tram::power {

// How many power cuts a scenario makes (TRAM_POWER_CUTS; the slow label runs 25).
inline int cuts(int fallback) {
  const char* v = std::getenv("TRAM_POWER_CUTS");
  return v ? std::max(1, std::atoi(v)) : fallback;
}

// Removed when the test passes, kept when it fails (tests/support/scratch.hpp).
inline std::string temp_dir(const std::string& name) { return tram::testing::scratch_dir("tram-power", name); }

// The environment a process under the shim gets: LD_PRELOAD, and ASan told that its runtime
// need not come first (the shim is preloaded before it in sanitized builds).
inline std::vector<std::string> shim_env(const std::vector<std::string>& extra = {}) {
  std::vector<std::string> env = {std::string("LD_PRELOAD=") + TRAM_FAULTVFS_SO};
  std::string asan = "ASAN_OPTIONS=verify_asan_link_order=0";
  if (const char* a = std::getenv("ASAN_OPTIONS")) asan += std::string(":") + a;
  env.push_back(asan);
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

// Sets environment variables for the children this process starts (tram::testing::ServerProcess
// exec()s with the inherited environment); undone on destruction. Set them only while no other
// thread of the test runs.
class ScopedEnv {
 public:
  explicit ScopedEnv(const std::vector<std::string>& vars) {
    for (const std::string& kv : vars) {
      const std::string k = kv.substr(0, kv.find('='));
      const char* old = std::getenv(k.c_str());
      saved_.push_back({k, old ? std::optional<std::string>(old) : std::nullopt});
      ::setenv(k.c_str(), kv.substr(k.size() + 1).c_str(), 1);
    }
  }
  ~ScopedEnv() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) ::setenv(it->first.c_str(), it->second->c_str(), 1);
      else ::unsetenv(it->first.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// A child process with its stdout on a pipe.
class Child {
 public:
  // With `with_stderr`, stderr goes to the same pipe (the lines then include error messages).
  Child(std::vector<std::string> argv, const std::vector<std::string>& env_extra, bool with_stderr = false) {
    int out[2];
    if (::pipe(out) != 0) return;
    std::vector<std::string> env;
    for (char** e = environ; *e; ++e) env.emplace_back(*e);
    env.insert(env.end(), env_extra.begin(), env_extra.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      if (with_stderr) ::dup2(out[1], 2);
      ::close(out[0]);
      std::vector<char*> a, e;
      for (auto& s : argv) a.push_back(s.data());
      a.push_back(nullptr);
      for (auto& s : env) e.push_back(s.data());
      e.push_back(nullptr);
      ::execve(a[0], a.data(), e.data());
      ::_exit(127);
    }
    ::close(out[1]);
    fd_ = out[0];
  }
  ~Child() {
    kill(SIGKILL);
    if (fd_ >= 0) ::close(fd_);
  }
  // Reads lines until `stop` says so, the child closes its stdout, or `seconds` pass.
  void read_until(const std::function<bool(const std::string&)>& stop, double seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    char chunk[4096];
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 5) <= 0) continue;
      const ssize_t n = ::read(fd_, chunk, sizeof chunk);
      if (n <= 0) return;
      pending_.append(chunk, static_cast<size_t>(n));
      for (size_t nl; (nl = pending_.find('\n')) != std::string::npos;) {
        lines_.push_back(pending_.substr(0, nl));
        pending_.erase(0, nl + 1);
        if (stop(lines_.back())) return;
      }
    }
  }
  // SIGKILL (a no-op once ended); returns the wait status.
  int kill(int sig = SIGKILL) {
    if (pid_ <= 0) return status_;
    ::kill(pid_, sig);
    ::waitpid(pid_, &status_, 0);
    pid_ = -1;
    return status_;
  }
  // Waits (bounded) for the child to end by itself; -1 if it did not.
  int wait(double seconds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, &status_, WNOHANG) == pid_) {
        pid_ = -1;
        return status_;
      }
      ::usleep(5000);
    }
    return pid_ > 0 ? -1 : status_;
  }
  const std::vector<std::string>& lines() const { return lines_; }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  int status_ = 0;
  std::string pending_;
  std::vector<std::string> lines_;
};

// What tram-faultvfs-crash did to a directory.
struct CrashReport {
  int files = 0, records = 0, dropped_files = 0;
  long long bytes = 0;
};

// The power cut, after the processes writing to `dir` were SIGKILLed: every write not covered by
// a completed sync dropped (seed 0), or a random subset of them (seed > 0).
inline CrashReport power_cut(const std::string& dir, uint64_t seed = 0) {
  using tram::testing::shell_quote;
  const tram::testing::Proc run = tram::testing::run_shell(shell_quote(TRAM_CRASH_BIN) + (seed ? " --seed " + std::to_string(seed) : "") + " " + shell_quote(dir));
  const std::string& out = run.out;
  CrashReport r;
  EXPECT_EQ(run.rc, 0) << out;
  EXPECT_EQ(std::sscanf(out.c_str(), "files %d records %d restored-bytes %lld dropped-files %d", &r.files, &r.records, &r.bytes,
                        &r.dropped_files),
            4)
      << out;
  return r;
}

// Writes the fault control file the shim re-reads (by rename: the shim sees a new inode).
inline void set_fault(const std::string& ctl, const std::string& spec) {
  const std::string tmp = ctl + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << spec;
  }
  std::filesystem::rename(tmp, ctl);
}

}  // namespace tram::power
