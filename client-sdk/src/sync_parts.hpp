// What the Pusher and the Puller share of the Client: its store and log heads behind its lock,
// the device session, the options, the cancel flag and the change listener. Not installed.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>

#include "local_store.hpp"
#include "log_heads.hpp"
#include "session.hpp"

namespace tram::client {

struct SyncParts {
  LocalStore& local;
  std::mutex& mu;  // the Client's lock, around every use of `local` and `heads`
  LogHeads& heads;
  DeviceSession& session;
  const Options& opt;
  const std::atomic<bool>& cancelled;
  std::function<void(const Touched&)> notify;  // the change listener
};

}  // namespace tram::client
