#include "page_reader.hpp"

#include <algorithm>
#include <future>

namespace tram::client {

std::optional<PageCursor> next_cursor(const PageCursor& c, bool more, uint64_t next, const std::string& cursor) {
  if (!more && !c.snapshot) return std::nullopt;
  const bool snap = c.snapshot && more;
  return PageCursor{snap, snap ? cursor : std::to_string(next)};
}

PageReader::PageReader(const Schema& schema, const SyncOptions& opt, Fetch fetch, std::unique_ptr<Transport> second,
                       PageCursor start, size_t page_size)
    : schema_(schema), opt_(opt), fetch_(std::move(fetch)), second_(std::move(second)), ahead_(second_ != nullptr), at_(std::move(start)), size_(page_size) {
  if (ahead_) producer_ = std::thread([this] { produce(); });
}

PageReader::~PageReader() { stop(); }

void PageReader::stop() {
  if (!producer_.joinable()) return;
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  producer_.join();
}

std::optional<PageCursor> PageReader::take(FetchedPage& f, const std::function<void(const PageCursor&)>& early) {
  if (!f.response.ok() || f.response->status != 200) return std::nullopt;
  if (f.ms < opt_.slow_request_ms / 4) size_ = std::min(opt_.pull_page_max, size_ * 2);
  if (f.ms > opt_.slow_request_ms) size_ = std::max(opt_.pull_page_min, size_ / 2);
  std::optional<PageCursor> next;
  std::optional<wire::PageLead> lead;
  if (early && (lead = wire::peek_page(f.response->body))) {
    next = next_cursor(f.from, lead->more, lead->next, lead->cursor);
    if (next) early(*next);
  }
  f.page = parser_.parse(f.response->body, schema_);
  if (!f.page->ok()) return std::nullopt;
  if (!lead) {
    next = next_cursor(f.from, (*f.page)->more, (*f.page)->next, (*f.page)->cursor);
    if (next && early) early(*next);
  }
  return next;
}

void PageReader::produce() {
  // One request in flight at a time, on its own short-lived thread, while this one parses.
  auto request = [&](const PageCursor& c) { return std::async(std::launch::async, fetch_, second_.get(), c, size_); };
  std::future<FetchedPage> inflight = request(at_);
  for (int pages = 0; pages < 1'000'000; ++pages) {
    FetchedPage f = inflight.get();
    const bool last = !take(f, [&](const PageCursor& c) { inflight = request(c); });
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return queue_.size() < 2 || stop_; });
    if (stop_) break;
    queue_.push_back(std::move(f));
    cv_.notify_all();
    if (last) break;
  }
  // (A request still in flight is waited for when `inflight` goes: cancel() makes it short.)
  std::lock_guard lock(mu_);
  finished_ = true;
  cv_.notify_all();
}

std::optional<FetchedPage> PageReader::next() {
  if (!ahead_) {
    if (done_) return std::nullopt;
    FetchedPage f = fetch_(nullptr, at_, size_);
    auto next = take(f, {});
    if (next) at_ = std::move(*next);
    done_ = !next;
    return f;
  }
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !queue_.empty() || finished_; });
  if (queue_.empty()) return std::nullopt;
  FetchedPage f = std::move(queue_.front());
  queue_.pop_front();
  cv_.notify_all();
  return f;
}

}  // namespace tram::client
