// The pull's read-ahead: pages fetched and parsed on a second connection and a thread of their
// own, up to two ahead, while the caller writes the previous ones to the store. The request for
// the next page leaves as soon as a page's first bytes name it (wire::peek_page), before that
// page is parsed. Without a second connection, one page at a time on the caller's thread. Page
// sizes adapt to how long each request took. Not installed.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "tram/client.hpp"
#include "tram/engine/wire.hpp"

namespace tram::client {

// Where a page starts: a snapshot cursor, or a pull cursor (a row version).
struct PageCursor {
  bool snapshot = false;
  std::string at;
};

// The page after one fetched at `c` that says `more`, `next` and `cursor`; nullopt after the
// last one. After the snapshot's last page comes the pull from the row version it was taken at.
std::optional<PageCursor> next_cursor(const PageCursor& c, bool more, uint64_t next, const std::string& cursor);

struct FetchedPage {
  Result<HttpResponse> response;
  int64_t ms = 0;
  std::optional<Result<wire::PullPage>> page;  // parsed where it was fetched (a 200 answer)
  PageCursor from;                             // what it was fetched with
};

class PageReader {
 public:
  // One request for the page at a cursor, on `via` (nullptr: the main connection).
  using Fetch = std::function<FetchedPage(Transport* via, PageCursor c, size_t limit)>;
  // `second`: the read-ahead's connection; nullptr reads one page at a time.
  PageReader(const Schema& schema, const SyncOptions& opt, Fetch fetch, std::unique_ptr<Transport> second,
             PageCursor start, size_t page_size);
  ~PageReader();  // stops the thread, however the pull ends
  PageReader(const PageReader&) = delete;
  PageReader& operator=(const PageReader&) = delete;

  // The next page in order; nullopt after the last one (or one that failed, already returned).
  std::optional<FetchedPage> next();
  // Stops the thread; then page_size() is what this pull learnt about the link.
  void stop();
  size_t page_size() const { return size_; }

 private:
  // Parses a fetched page, adapts the page size, and names the page after it (nullopt: none, or
  // this one failed). `early`, when given, gets that cursor as soon as the page's lead names it.
  std::optional<PageCursor> take(FetchedPage& f, const std::function<void(const PageCursor&)>& early);
  void produce();

  const Schema& schema_;
  const SyncOptions& opt_;
  Fetch fetch_;
  std::unique_ptr<Transport> second_;
  const bool ahead_;
  PageCursor at_;
  size_t size_;  // the producer's until it has ended
  wire::PullParser parser_;  // used by whichever thread parses
  bool done_ = false;        // one page at a time: after the last one

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<FetchedPage> queue_;
  bool stop_ = false, finished_ = false;
  std::thread producer_;
};

}  // namespace tram::client
