#include "log_watermark.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace tram::server {

namespace {

bool write_file(const std::string& path, const std::string& text, bool durable) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  if (ok && durable) ok = ::fsync(fd) == 0;
  ok = ::close(fd) == 0 && ok;
  return ok && std::rename(tmp.c_str(), path.c_str()) == 0;
}

}  // namespace

std::optional<Watermark> LogWatermark::read(std::string* error) const {
  std::ifstream in(path_);
  if (!in) return std::nullopt;
  std::string magic, log_hex;
  Watermark w;
  if (!(in >> magic >> w.server_seq >> log_hex >> w.row_version) || magic != "tram-head-v1") {
    if (error) *error = path_ + " is unreadable";
    return std::nullopt;
  }
  auto log = from_hex<32>(log_hex);
  if (!log) {
    if (error) *error = path_ + " is unreadable";
    return std::nullopt;
  }
  w.log_hash = *log;
  return w;
}

bool LogWatermark::write(const Watermark& w) const {
  return write_file(path_, "tram-head-v1 " + std::to_string(w.server_seq) + " " + to_hex(w.log_hash) + " " +
                               std::to_string(w.row_version) + "\n",
                    false);
}

bool LogWatermark::sync() const {
  const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

std::optional<LogBehind> LogWatermark::read_behind(const std::string& path) {
  std::ifstream in(path);
  LogBehind b;
  std::string magic;
  if (!(in >> magic >> b.expected_seq >> b.found_seq >> b.since_ms) || magic != "tram-log-behind-v1") return std::nullopt;
  return b;
}

bool LogWatermark::write_behind(const std::string& path, const LogBehind& b) {
  return write_file(path, "tram-log-behind-v1 " + std::to_string(b.expected_seq) + " " + std::to_string(b.found_seq) +
                              " " + std::to_string(b.since_ms) + "\n",
                    true);
}

}  // namespace tram::server
