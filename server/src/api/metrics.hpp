// Counters and latency histograms behind /metrics (Prometheus text format 0.0.4): requests by
// route and status, change sets by outcome, refusals by abuse limit, the writer's queue,
// connections, and whether the log is behind its last signed head. Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "../storage/log_watermark.hpp"

namespace tram::server::api {

class Metrics {
 public:
  void observe(const std::string& route, int status, double seconds);
  // One change set's outcome: "accepted", "duplicate" or a rejection code.
  void count_changeset(const std::string& outcome);
  void count_rate_limited(const std::string& limit);
  void connection_opened() { ++connections_; }
  void connection_closed() { --connections_; }
  void count_shed(const std::string& reason);
  void count_accept_error(const std::string& error);
  // A snapshot page served from the read-ahead (api/snapshot_ahead.hpp).
  void count_snapshot_page_ahead() { ++snapshot_pages_ahead_; }
  void set_connection_limit(size_t n) { connection_limit_ = static_cast<int64_t>(n); }
  // Requests waiting for the single writer (a gauge).
  std::atomic<int64_t>& writer_waiting() { return writer_waiting_; }

  std::string text(const std::optional<LogBehind>& log_behind);

 private:
  std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, uint64_t> changesets_;
  std::map<std::string, uint64_t> rate_limited_;
  std::map<std::string, uint64_t> shed_, accept_errors_;
  std::atomic<int64_t> connection_limit_{0};
  std::map<std::string, std::array<uint64_t, 12>> latency_buckets_;
  std::map<std::string, double> latency_sum_;
  std::atomic<int64_t> connections_{0};
  std::atomic<int64_t> writer_waiting_{0};
  std::atomic<uint64_t> snapshot_pages_ahead_{0};
};

}  // namespace tram::server::api
