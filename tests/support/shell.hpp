// Running a command line from a test: the one place that talks to /bin/sh (popen), so that
// quoting, exit status and stderr handling are written once.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace tram::testing {

// `s` as one single-quoted word for /bin/sh.
inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

struct Proc {
  int rc = -1;      // the exit status; -1 when the command was killed by a signal
  std::string out;  // stdout (and stderr with Stderr::merge)
  std::string err;  // stderr with Stderr::apart
};

enum class Stderr {
  merge,  // into out (2>&1)
  apart,  // into err
  as_is,  // wherever `cmd` sends it (the test's own stderr unless it redirects)
};

// Runs `cmd` with /bin/sh and waits for it. stdin is the test's unless `cmd` redirects it.
inline Proc run_shell(const std::string& cmd, Stderr err = Stderr::merge) {
  static int counter = 0;
  std::string err_path, line = cmd;
  if (err == Stderr::merge) line += " 2>&1";
  if (err == Stderr::apart) {
    err_path = (std::filesystem::temp_directory_path() /
                ("tram-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".err"))
                   .string();
    line += " 2>" + shell_quote(err_path);
  }
  Proc r;
  FILE* p = ::popen(line.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, p)) r.out.append(buf, n);
  const int status = ::pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (!err_path.empty()) {
    std::ifstream in(err_path);
    r.err.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    std::filesystem::remove(err_path);
  }
  return r;
}

}  // namespace tram::testing
