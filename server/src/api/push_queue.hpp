// POST /v1/push (docs/protocol.md §7) through the single writer, with group commit: each
// request decodes its change sets and verifies their signatures on its own thread, then joins
// a queue; whoever takes the writer's lock next writes every queued push in one transaction
// (one WAL sync for all), and each request signs its receipts after that commit.
// Also keeps the log watermark (log_watermark.hpp) and tells the notifier what changed.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "context.hpp"
#include "tram/engine/wire.hpp"

namespace tram {
class ReferenceRows;
}

namespace tram::server::api {

class PushQueue {
 public:
  explicit PushQueue(Context& ctx);

  // The push of `who` (body: wire::read_push_body's format).
  Response push(const std::string& body, const Caller& who);

  // Called (outside every lock) after each push that merged something.
  void set_notifier(std::function<void(const ChangeNotice&)> notifier) { notifier_ = std::move(notifier); }

 private:
  struct Batch;
  // Called with the writer's lock held; writes every queued batch in one transaction, unlocks,
  // then marks them done.
  void commit_queued(std::unique_lock<std::mutex>& lock);
  // The group's transaction: begin, each batch, commit, watermark, the change notice. A
  // response for every request of the group when it failed (the caller rolls back).
  std::optional<Response> write_group(const std::vector<Batch*>& group, ChangeNotice& notice);
  // Places one request's change sets in its device's chain, authorizes and records them inside
  // the group's transaction. Returns the response for a storage failure.
  // `rows`: the transaction's rows, reference rows remembered across the group.
  std::optional<Response> write_batch(Batch& batch, int64_t now, ReferenceRows& rows);
  // Which units' rows the accepted change sets touched (under the writer's lock: may read rows).
  void notice_units(const std::vector<ChangeSet>& accepted, ChangeNotice& notice);
  // After each commit: the highest head ever signed moves up (never down).
  void advance_watermark(const LogHead& head);
  // The signed head of a commit. Every request of a group answers with the same head, so it is
  // signed once, not once per request: Ed25519 signing (a head and a receipt per request) was
  // 7 % of the server's CPU under 10,000 devices pushing one change set each.
  wire::Head signed_head(const LogHead& committed);

  Context& ctx_;
  std::mutex queue_mu_;
  std::vector<Batch*> queue_;        // pushes waiting for the writer
  bool leading_ = false;             // a request is writing the queue (under queue_mu_)
  // No shared condition variable: each waiting request has its own (Batch::wake), notified when
  // its batch is written or when it is to lead next. One for all woke every waiting request
  // (up to the handler threads, 64) after each commit, and the herd cost more CPU than the
  // checks it made.
  std::function<void(const ChangeNotice&)> notifier_;
  std::optional<LogWatermark> watermark_file_;
  Watermark watermark_;  // the highest head written to watermark_file_
  std::mutex head_mu_;
  std::optional<wire::Head> last_head_;  // the latest head signed (under head_mu_)
};

}  // namespace tram::server::api
