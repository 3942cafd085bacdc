// The snapshot's read-ahead on the server. A fresh device pages through the snapshot one page
// after another, and each page's cursor is known only once the page before it is made; on a
// fast link the device then waits for the server to make every page (about 6 ms for 1,000 rows
// here). So after answering a page that says "more", the server makes the next one on a thread
// of its own while the device receives and stores this one. The page is kept a few seconds for
// the same user, scope, cursor and limit, and served only while the log's head is what it was
// when the page was made (Pages::snapshot checks): then it is, byte for byte, the page the
// request would have got. Otherwise it is dropped and the page is made afresh.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "tram/engine/crypto.hpp"
#include "tram/engine/status.hpp"

namespace tram::server::api {

class SnapshotAhead {
 public:
  struct Page {
    std::string body;         // the response body
    std::string next_cursor;  // "" on the last page
    uint64_t server_seq = 0;  // the head it was signed with
    Hash log_hash{};
  };
  using Make = std::function<Result<Page>()>;

  SnapshotAhead();
  ~SnapshotAhead();  // stops the thread (a page being made is finished first)
  SnapshotAhead(const SnapshotAhead&) = delete;
  SnapshotAhead& operator=(const SnapshotAhead&) = delete;

  // The page made ahead for `key`, taken out (it is served once). Waits while it is being made
  // (at most a few seconds); nullopt when there is none.
  std::optional<Page> take(const std::string& key);
  // Makes the page for `key` in the background. One waits at most: a newer request replaces
  // one not yet started.
  void prepare(std::string key, Make make);

 private:
  static constexpr size_t kKeep = 16;                        // pages kept, newest (a few MiB)
  static constexpr std::chrono::seconds kFresh{10};          // a page older is dropped
  static constexpr std::chrono::seconds kWaitForMaking{5};   // then the request makes its own
  struct Ready {
    std::string key;
    Page page;
    std::chrono::steady_clock::time_point made;
  };
  void run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<std::pair<std::string, Make>> queued_;
  std::string making_;  // the key being made now; "" when none
  std::deque<Ready> ready_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace tram::server::api
