#include "audit.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>

#include "tram/engine/json.hpp"

namespace tram::server {

int64_t wall_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string log_timestamp(int64_t ms) {
  const auto secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

bool AuditLog::record(std::string_view event, std::string_view by,
                      const std::vector<std::pair<std::string, std::string>>& fields) const {
  if (path_.empty()) return true;
  std::string line = "{\"ts\":\"" + log_timestamp(wall_ms_now()) + "\",\"event\":" + json::quote(event) +
                     ",\"by\":" + json::quote(by);
  for (const auto& [k, v] : fields) line += "," + json::quote(k) + ":" + json::quote(v);
  line += "}\n";
  // O_APPEND: the server and `tram-server admin …` may append at once; one write() per line
  // keeps lines whole. fdatasync: an audit line must not be lost where the action was kept.
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) return false;
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fdatasync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace tram::server
