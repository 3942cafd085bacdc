#include "snapshot_ahead.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>

namespace tram::server::api {

SnapshotAhead::SnapshotAhead() : worker_([this] { run(); }) {}

SnapshotAhead::~SnapshotAhead() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
    queued_.reset();
  }
  cv_.notify_all();
  worker_.join();
}

std::optional<SnapshotAhead::Page> SnapshotAhead::take(const std::string& key) {
  std::unique_lock lock(mu_);
  // Wait while it is being made, or about to be (queued, the thread idle); when the thread is
  // busy with another page, the request makes its own rather than wait for both.
  cv_.wait_for(lock, kWaitForMaking, [&] {
    if (stop_) return true;
    if (making_ == key) return false;
    return !(queued_ && queued_->first == key && making_.empty());
  });
  if (queued_ && queued_->first == key) queued_.reset();
  const auto now = std::chrono::steady_clock::now();
  for (auto it = ready_.begin(); it != ready_.end(); ++it) {
    if (it->key != key) continue;
    std::optional<Page> page;
    if (now - it->made < kFresh) page = std::move(it->page);
    ready_.erase(it);
    return page;
  }
  return std::nullopt;
}

void SnapshotAhead::prepare(std::string key, Make make) {
  {
    std::lock_guard lock(mu_);
    if (stop_ || making_ == key) return;
    const auto now = std::chrono::steady_clock::now();
    for (const Ready& r : ready_) {
      if (r.key == key && now - r.made < kFresh) return;  // already made (asked for again)
    }
    queued_.emplace(std::move(key), std::move(make));
  }
  cv_.notify_all();
}

void SnapshotAhead::run() {
  // Pages made ahead use what the requests leave of the CPU: on a server busy with many
  // devices' first syncs, a page made ahead may be dropped unused, and must not slow the rest.
  (void)setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), 10);
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || queued_; });
    if (stop_) return;
    auto [key, make] = std::move(*queued_);
    queued_.reset();
    making_ = key;
    lock.unlock();
    // A storage error, or an exception (out of memory): no page; the request makes its own
    // and reports what it meets. Nothing may escape this thread: it would end the server.
    std::optional<Result<Page>> page;
    try {
      page.emplace(make());
    } catch (...) {  // page stays empty
    }
    lock.lock();
    making_.clear();
    if (page && page->ok()) {
      const auto now = std::chrono::steady_clock::now();
      std::erase_if(ready_, [&](const Ready& r) { return r.key == key || now - r.made >= kFresh; });
      ready_.push_back({std::move(key), std::move(*page).value(), now});
      while (ready_.size() > kKeep) ready_.pop_front();
    }
    cv_.notify_all();
  }
}

}  // namespace tram::server::api
