#include "metrics.hpp"

#include <algorithm>
#include <cstdio>
#include <iterator>

namespace tram::server::api {
namespace {
const double kBuckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5};
}

void Metrics::count_shed(const std::string& reason) {
  std::lock_guard lock(mu_);
  ++shed_[reason];
}

void Metrics::count_accept_error(const std::string& error) {
  std::lock_guard lock(mu_);
  ++accept_errors_[error];
}

void Metrics::observe(const std::string& route, int status, double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{route, status}];
  auto& buckets = latency_buckets_[route];
  for (size_t k = 0; k < std::size(kBuckets); ++k) {
    if (seconds <= kBuckets[k]) ++buckets[k];
  }
  ++buckets[11];  // +Inf
  latency_sum_[route] += seconds;
}

void Metrics::count_changeset(const std::string& outcome) {
  std::lock_guard lock(mu_);
  ++changesets_[outcome];
}

void Metrics::count_rate_limited(const std::string& limit) {
  std::lock_guard lock(mu_);
  ++rate_limited_[limit];
}

std::string Metrics::text(const std::optional<LogBehind>& log_behind) {
  std::lock_guard lock(mu_);
  std::string out =
      "# HELP tram_requests_total HTTP requests by route and status.\n# TYPE tram_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    out += "tram_requests_total{route=\"" + key.first + "\",status=\"" + std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  }
  out += "# HELP tram_changesets_total Change sets by outcome (accepted, duplicate, or rejection code).\n"
         "# TYPE tram_changesets_total counter\n";
  for (const auto& [code, n] : changesets_) out += "tram_changesets_total{outcome=\"" + code + "\"} " + std::to_string(n) + "\n";
  out += "# HELP tram_request_seconds Request latency by route.\n# TYPE tram_request_seconds histogram\n";
  for (const auto& [route, buckets] : latency_buckets_) {
    for (size_t k = 0; k < std::size(kBuckets); ++k) {
      char le[32];
      std::snprintf(le, sizeof le, "%g", kBuckets[k]);
      out += "tram_request_seconds_bucket{route=\"" + route + "\",le=\"" + le + "\"} " + std::to_string(buckets[k]) + "\n";
    }
    out += "tram_request_seconds_bucket{route=\"" + route + "\",le=\"+Inf\"} " + std::to_string(buckets[11]) + "\n";
    out += "tram_request_seconds_sum{route=\"" + route + "\"} " + std::to_string(latency_sum_[route]) + "\n";
    out += "tram_request_seconds_count{route=\"" + route + "\"} " + std::to_string(buckets[11]) + "\n";
  }
  out += "# HELP tram_writer_queue_depth Requests waiting for the single writer.\n# TYPE tram_writer_queue_depth gauge\n";
  out += "tram_writer_queue_depth " + std::to_string(writer_waiting_.load()) + "\n";
  out += "# HELP tram_snapshot_pages_ahead_total Snapshot pages served from those made ahead while the page before travelled.\n"
         "# TYPE tram_snapshot_pages_ahead_total counter\n";
  out += "tram_snapshot_pages_ahead_total " + std::to_string(snapshot_pages_ahead_.load()) + "\n";
  out += "# HELP tram_build_info The running server's version.\n# TYPE tram_build_info gauge\n";
  out += "tram_build_info{version=\"" TRAM_VERSION "\"} 1\n";
  out += "# HELP tram_connections Open connections.\n# TYPE tram_connections gauge\n";
  out += "tram_connections " + std::to_string(connections_.load()) + "\n";
  out += "# HELP tram_connections_limit The limit on open connections in force (--max-connections, lowered to fit the open-files limit).\n"
         "# TYPE tram_connections_limit gauge\n";
  out += "tram_connections_limit " + std::to_string(connection_limit_.load()) + "\n";
  out += "# HELP tram_connections_shed_total Connections closed to make room for a newcomer (reason: full, address, device, descriptors).\n"
         "# TYPE tram_connections_shed_total counter\n";
  for (const auto& [why, n] : shed_) out += "tram_connections_shed_total{reason=\"" + why + "\"} " + std::to_string(n) + "\n";
  out += "# HELP tram_accept_errors_total accept() failures (EMFILE: out of descriptors; the server backs off and sheds).\n"
         "# TYPE tram_accept_errors_total counter\n";
  for (const auto& [what, n] : accept_errors_) out += "tram_accept_errors_total{error=\"" + what + "\"} " + std::to_string(n) + "\n";
  out += "# HELP tram_log_behind 1 when the log is behind the last head this server signed (restore, lost WAL).\n"
         "# TYPE tram_log_behind gauge\n";
  out += "tram_log_behind " + std::string(log_behind ? "1" : "0") + "\n";
  out += "# HELP tram_log_behind_entries Log entries the database lacks compared with the last signed head.\n"
         "# TYPE tram_log_behind_entries gauge\n";
  out += "tram_log_behind_entries " +
         std::to_string(log_behind ? log_behind->expected_seq - std::min(log_behind->expected_seq, log_behind->found_seq) : 0) + "\n";
  out += "# HELP tram_rate_limited_total Requests refused by an abuse limit.\n# TYPE tram_rate_limited_total counter\n";
  for (const auto& [what, n] : rate_limited_) out += "tram_rate_limited_total{limit=\"" + what + "\"} " + std::to_string(n) + "\n";
  return out;
}

}  // namespace tram::server::api
