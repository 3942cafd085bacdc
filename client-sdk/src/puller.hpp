// Pulling: the snapshot for a device that never pulled (protocol §8.3), then the changes since,
// page by page through the PageReader; each page verified (its signed head), written to the
// LocalStore and committed with its cursor. Not installed.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>

#include "page_reader.hpp"
#include "sync_parts.hpp"

namespace tram::client {

class Puller {
 public:
  struct Parts : SyncParts {
    const Schema& schema;
  };
  explicit Puller(Parts parts) : p_(std::move(parts)), page_size_(p_.opt.sync.pull_page_max) {}

  // Pulls until the last page, verifying heads against `server_key`. Returns early, ok, when a
  // head shows the log went back (heads.behind_seen(): the cursor is reset; heal, then pull again).
  // `server_url`: for the read-ahead's second connection.
  Status pull(const PublicKey& server_key, const std::string& server_url, SyncReport& report,
              const std::function<void(const Progress&)>& progress, Progress& p);

 private:
  Result<PageCursor> start();
  FetchedPage fetch(Transport* via, PageCursor c, size_t limit);
  Status store_page(const FetchedPage& got, const wire::PullPage& page, const std::optional<PageCursor>& next, Touched& changed);

  Parts p_;
  size_t page_size_;  // a later sync starts with what this one learnt about the link
};

}  // namespace tram::client
