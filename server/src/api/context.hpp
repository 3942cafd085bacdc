// What the api/ classes share, owned by the Service: configuration, storage, the server's key,
// injected time and randomness, the single writer's lock and the metrics.
#pragma once

#include <mutex>
#include <string>
#include <string_view>

#include "../service.hpp"
#include "metrics.hpp"

namespace tram::server::api {

struct Context {
  const ServiceConfig& config;
  Storage& storage;
  const DeviceKey& server_key;
  ClockSource& clock;
  RandomSource& random;
  // Storage's writer side (begin…commit, administrative writes, rows()): one at a time.
  // Reads never take it (Storage's readers have connections of their own).
  std::mutex& writer;
  Metrics& metrics;

  // 429 rate_limited with Retry-After, counted by limit.
  Response rate_limited(const std::string& limit, std::string_view message, int retry_after_s);
};

// An authenticated device and the user it acts for.
struct Caller {
  DeviceRecord device;
  UserRecord user;
};

}  // namespace tram::server::api
