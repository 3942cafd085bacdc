#include "push_queue.hpp"

#include <algorithm>
#include <vector>

#include "responses.hpp"
#include "tram/engine/gzip.hpp"
#include "tram/engine/reference_rows.hpp"
#include "tram/engine/wire.hpp"
#include "tram/engine/wire_writer.hpp"

namespace tram::server::api {
namespace {

// Wire codes of push rejections (docs/protocol.md). Decoding errors are all "malformed", with
// the precise decode code as "detail".
std::string_view wire_code(Errc e) {
  switch (e) {
    case Errc::malformed_json: case Errc::wrong_type: case Errc::missing_field: case Errc::unknown_field:
    case Errc::duplicate_key: case Errc::too_deep: case Errc::out_of_range: case Errc::invalid_utf8:
    case Errc::not_normalized: case Errc::unsupported_version:
      return "malformed";
    case Errc::device_mismatch: return "bad_signature";
    case Errc::type_mismatch: case Errc::unknown_table: case Errc::unknown_field_id: return "invalid_value";
    default: return errc_name(e);
  }
}

// {"index":k,"status":"rejected","code":C,"message":M ...}: the caller adds members and closes it.
json::Writer& rejection(json::Writer& out, size_t k, std::string_view code, std::string_view message) {
  return out.begin_object().key("index").number(uint64_t{k}).key("status").string("rejected").key("code").string(code)
      .key("message").string(message);
}

}  // namespace

// One push request on its way through the single writer.
struct PushQueue::Batch {
  struct Item {
    std::optional<SignedChangeSet> cs;
    std::string code, message;  // a malformed item (no cs)
    ChainCheck check;           // signature, decoding and id: done before the writer's lock
    std::string stored;         // the bytes as the log keeps them (gzip)
  };
  const Caller* who = nullptr;
  std::vector<Item> items;
  // Filled by whichever request leads the group commit:
  std::vector<std::string> item_json;                 // rejections; "duplicate" as a marker
  std::vector<std::pair<size_t, LogEntry>> receipts;  // rendered after the commit
  std::vector<ChangeSet> accepted;
  bool quarantined = false;
  bool done = false;
  std::condition_variable wake;  // under queue_mu_: done, or this request is to lead next
  std::optional<Response> failure;  // storage failed: the whole group was rolled back
  LogHead committed;
};

PushQueue::PushQueue(Context& ctx) : ctx_(ctx) {
  if (!ctx_.config.watermark_path.empty()) {
    watermark_file_.emplace(ctx_.config.watermark_path);
    if (auto w = watermark_file_->read()) watermark_ = *w;
  }
}

void PushQueue::advance_watermark(const LogHead& head) {
  // Never down: after a restore the mark keeps what the database lost until an operator
  // acknowledges it.
  if (!watermark_file_ || head.server_seq <= watermark_.server_seq) return;
  auto rows = ctx_.storage.row_version();
  watermark_ = Watermark{head.server_seq, head.log_hash, std::max(rows.ok() ? *rows : 0, watermark_.row_version)};
  (void)watermark_file_->write(watermark_);
}

Response PushQueue::push(const std::string& body, const Caller& who) {
  auto items = wire::read_push_body(body, ctx_.config.max_batch);
  if (!items.ok()) {
    return items.code() == Errc::too_large ? error(413, "too_large", items.status().message())
                                           : error(400, "malformed", items.status().message());
  }
  // Decode, verify signatures and compress the log's copy before taking the writer's lock: the
  // expensive part runs in parallel on every connection thread.
  Batch batch;
  batch.who = &who;
  batch.items.resize(items->size());
  for (size_t i = 0; i < items->size(); ++i) {
    wire::PushItem& in = (*items)[i];
    Batch::Item& it = batch.items[i];
    if (!in.cs) {
      it.code = "malformed";
      it.message = std::move(in.message);
      continue;
    }
    if (in.cs->bytes.size() > ctx_.config.limits.max_bytes) {
      it.code = "too_large";
      it.message = std::to_string(in.cs->bytes.size()) + " bytes, limit " + std::to_string(ctx_.config.limits.max_bytes);
      continue;
    }
    it.cs = std::move(in.cs);
    it.check = inspect(who.device.key, *it.cs, ctx_.config.limits);
    if (it.check.verdict == ChainVerdict::next) it.stored = gzip_compress(it.cs->bytes, 1);
  }
  batch.item_json.resize(batch.items.size());

  // Group commit, leader and followers: the batch joins the queue; when no request is writing,
  // this one leads: it takes the writer's lock and writes every queued batch in one transaction.
  // Otherwise it waits to be told its batch is written. A written batch's request must not need
  // the writer's lock only to learn that: with std::mutex's barging, those requests queued
  // behind each new small commit, and groups stayed at ~3 change sets under 100 connections.
  {
    std::unique_lock q(queue_mu_);
    queue_.push_back(&batch);
    ++ctx_.metrics.writer_waiting();
    while (!batch.done) {
      if (leading_) {
        batch.wake.wait(q);
        continue;
      }
      // The lead ends however this scope ends (an exception too): the others must not wait for
      // a leader that is gone. The request first in the queue leads next.
      struct EndLead {
        PushQueue& self;
        std::unique_lock<std::mutex>& q;
        ~EndLead() {
          if (!q.owns_lock()) q.lock();
          self.leading_ = false;
          if (!self.queue_.empty()) self.queue_.front()->wake.notify_one();
        }
      };
      try {
        EndLead lead{*this, q};
        leading_ = true;
        q.unlock();
        std::unique_lock lock(ctx_.writer);
        commit_queued(lock);  // unlocks
      } catch (...) {
        // Still queued (the group was never taken): no later leader may write a batch whose
        // request is gone. Under queue_mu_, relocked by EndLead.
        if (!batch.done) std::erase(queue_, &batch);
        if (!leading_ && !queue_.empty()) queue_.front()->wake.notify_one();  // EndLead may have woken this one
        --ctx_.metrics.writer_waiting();
        throw;
      }
    }
    --ctx_.metrics.writer_waiting();
  }
  if (batch.failure) return *batch.failure;

  // Durably committed: now, and only now, the receipts, signed outside the lock.
  for (auto& [k, e] : batch.receipts) {
    const bool dup = batch.item_json[k] == "duplicate";
    const std::string status = dup ? "duplicate" : (e.accepted ? "accepted" : "rejected");
    ctx_.metrics.count_changeset(e.accepted || dup ? status : e.code);
    wire::Receipt r;
    r.server_seq = e.server_seq;
    r.id = e.id;
    r.device = e.device;
    r.seq = e.seq;
    r.accepted = e.accepted;
    r.code = e.code;
    r.received_at_ms = e.received_ms;
    r.clock_ahead = e.clock_ahead;
    r.log = e.log_hash;
    json::Writer item(1024);
    item.begin_object().key("index").number(uint64_t{k}).key("status").string(status).key("seq").number(e.seq);
    item.key("id").hex(e.id);
    if (!e.accepted) item.key("code").string(e.code).key("message").string(e.message);
    if (e.clock_ahead) item.key("clock_ahead").boolean(true);
    item.key("receipt").raw(wire::write_receipt(r, ctx_.server_key)).end_object();
    batch.item_json[k] = item.take();
  }
  json::Writer out(batch.item_json.size() * 900 + 300);
  out.begin_object().key("results").begin_array();
  for (const std::string& item : batch.item_json) out.raw(item);
  out.end_array().key("head");
  wire::write_head(out, signed_head(batch.committed));
  out.end_object();
  return ok(out.take());
}

wire::Head PushQueue::signed_head(const LogHead& committed) {
  {
    std::lock_guard l(head_mu_);
    if (last_head_ && last_head_->server_seq == committed.server_seq && last_head_->log == committed.log_hash) {
      return *last_head_;
    }
  }
  wire::Head head = wire::sign_head(committed.server_seq, committed.log_hash, ctx_.server_key);
  std::lock_guard l(head_mu_);
  if (!last_head_ || last_head_->server_seq < head.server_seq) last_head_ = head;
  return head;
}

void PushQueue::commit_queued(std::unique_lock<std::mutex>& lock) {
  // A bound on one transaction; batches left over are written by the next leader.
  constexpr size_t kMaxChangeSetsPerCommit = 2000;
  std::vector<Batch*> group;
  {
    std::lock_guard q(queue_mu_);
    size_t n = 0, take = 0;
    while (take < queue_.size() && (take == 0 || n + queue_[take]->items.size() <= kMaxChangeSetsPerCommit)) {
      n += queue_[take++]->items.size();
    }
    group.assign(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take));
    queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(take));
  }
  ChangeNotice notice;
  std::optional<Response> failed;
  try {
    failed = write_group(group, notice);
  } catch (...) {
    // Not expected (out of memory); the group's requests must still be answered. A change set
    // committed after all comes back as a duplicate, with its receipt, when it is sent again.
    failed = error(503, "storage", "internal error, nothing was accepted: send the push again");
  }
  if (failed) {
    // Our failure, not the change sets': nothing of this group is kept; the devices retry.
    ctx_.storage.rollback();
    for (Batch* b : group) b->failure = *failed;
  }
  lock.unlock();
  {
    // `done` is read under queue_mu_ by the waiting requests (push()); once the lock is
    // released, a batch may be gone (its request answered): notified under the lock.
    std::lock_guard q(queue_mu_);
    for (Batch* b : group) {
      b->done = true;
      b->wake.notify_one();
    }
  }
  if (!failed && notice.server_seq > 0 && notifier_) notifier_(notice);
}

std::optional<Response> PushQueue::write_group(const std::vector<Batch*>& group, ChangeNotice& notice) {
  Storage& storage = ctx_.storage;
  const int64_t now = ctx_.clock.now_ms();
  if (Status st = storage.begin(); !st.ok()) return error(503, "storage", st.message());
  ReferenceRows rows(storage.rows());  // for this transaction only
  for (Batch* b : group) {
    if (auto failed = write_batch(*b, now, rows)) return failed;
  }
  if (Status st = storage.commit(); !st.ok()) {
    return error(503, "storage", "not committed, nothing was accepted: " + st.message());
  }
  const LogHead committed = storage.head().value();
  advance_watermark(committed);
  // Live notice: which units' rows changed (read before the writer's lock is released).
  for (Batch* b : group) {
    b->committed = committed;
    for (const auto& [k, e] : b->receipts) {
      if (e.accepted && b->item_json[k] != "duplicate") notice.server_seq = std::max(notice.server_seq, e.server_seq);
    }
    if (notifier_) notice_units(b->accepted, notice);
  }
  return std::nullopt;
}

std::optional<Response> PushQueue::write_batch(Batch& b, int64_t now, ReferenceRows& rows) {
  Storage& storage = ctx_.storage;
  const DeviceRecord& device = b.who->device;
  const UserRecord& user = b.who->user;
  auto head = storage.chain_head(device.key);  // as earlier batches of this group left it
  if (!head.ok() || !*head) return error(503, "storage", "cannot read the device's chain");
  ChainHead chain = **head;
  const Principal who = user.principal();
  b.accepted.reserve(b.items.size());
  for (size_t k = 0; k < b.items.size(); ++k) {
    Batch::Item& it = b.items[k];
    auto rejected = [&](std::string_view code, std::string_view message, auto&& extra) {
      ctx_.metrics.count_changeset(std::string(code));
      json::Writer out;
      rejection(out, k, code, message);
      extra(out);
      b.item_json[k] = out.end_object().take();
    };
    auto nothing = [](json::Writer&) {};
    if (!it.cs) {
      rejected(it.code, it.message, nothing);
      continue;
    }
    auto accepted_at = [&](uint64_t seq) -> std::optional<Hash> {
      auto r = storage.chain_at(device.key, seq);
      return r.ok() ? *r : std::nullopt;
    };
    ChainCheck& c = it.check;
    place(c, chain, accepted_at);
    switch (c.verdict) {
      case ChainVerdict::next: {
        b.accepted.push_back(std::move(*c.changeset));
        const ChangeSet& cs = b.accepted.back();
        Decision d{&*it.cs, &cs, it.stored.empty() ? nullptr : &it.stored, c.id, true,
                   judge_clock(cs.hlc, now, ctx_.config.max_drift_ms), {}, {}};
        // The change set's author is the authenticated user, never a name the device picks.
        const bool author_ok = cs.author == user.id;
        Status auth = author_ok ? authorize(who, cs, rows)
                                : Status(Errc::author_mismatch, "author \"" + cs.author + "\" is not this device's user \"" +
                                                                    user.id + "\"");
        if (auth.code() == Errc::storage_error) return error(503, "storage", auth.message());
        if (!auth.ok()) {
          d.accept = false;
          d.code = wire_code(auth.code());
          d.message = auth.message();
        }
        auto entry = storage.record(d, now);
        if (!entry.ok()) return error(503, "storage", entry.status().message());
        rows.forget(cs);
        chain = ChainHead{cs.seq, c.id};
        b.receipts.emplace_back(k, *entry);
        break;
      }
      case ChainVerdict::duplicate: {
        auto entry = storage.log_entry(device.key, c.changeset->seq);
        if (!entry.ok() || !*entry) return error(503, "storage", "duplicate without its log entry");
        b.receipts.emplace_back(k, **entry);
        b.item_json[k] = "duplicate";
        break;
      }
      case ChainVerdict::gap:
        rejected("seq_gap", c.message, [&](json::Writer& out) { out.key("expected_seq").number(c.expected_seq); });
        break;
      case ChainVerdict::fork:
        // Evidence of a cloned key: keep it aside, quarantine the device, merge nothing more.
        (void)storage.keep_fork(device.key, *it.cs);
        b.quarantined = true;
        rejected("fork_detected", c.message, nothing);
        break;
      case ChainVerdict::bad_signature:
        rejected("bad_signature", c.message, nothing);
        break;
      case ChainVerdict::malformed:
        rejected(wire_code(c.code), c.message, [&](json::Writer& out) { out.key("detail").string(errc_name(c.code)); });
        break;
    }
    if (b.quarantined) {
      for (size_t rest = k + 1; rest < b.items.size(); ++rest) {
        json::Writer out;
        rejection(out, rest, "device_quarantined", "a fork earlier in this push");
        b.item_json[rest] = out.end_object().take();
      }
      break;
    }
  }
  if (b.quarantined) (void)storage.set_device_state(device.key, DeviceState::quarantined);
  return std::nullopt;
}

void PushQueue::notice_units(const std::vector<ChangeSet>& accepted, ChangeNotice& notice) {
  RowReader& rows = ctx_.storage.rows();
  const Schema& schema = rows.schema();
  for (const ChangeSet& cs : accepted) {
    for (const Op& op : cs.ops) {
      const TableDef* t = schema.table(op.table);
      if (!t || !t->scope_field) {
        notice.province_wide = true;
        continue;
      }
      // The unit is usually in the op itself (always on insert); read the row only otherwise.
      bool found = false;
      for (const FieldWrite& w : op.fields) {
        if (w.field != *t->scope_field) continue;
        if (const auto* unit = std::get_if<Text>(&w.value)) notice.units.push_back(unit->s);
        found = true;
      }
      if (found) continue;
      auto row = rows.get_row(op.table, op.row);
      if (!row.ok() || !*row) continue;
      for (size_t f = 0; f < t->fields.size(); ++f) {
        if (t->fields[f].id != *t->scope_field) continue;
        if (const auto* unit = std::get_if<Text>(&(**row).fields[f].value)) notice.units.push_back(unit->s);
      }
    }
  }
  std::sort(notice.units.begin(), notice.units.end());
  notice.units.erase(std::unique(notice.units.begin(), notice.units.end()), notice.units.end());
}

}  // namespace tram::server::api
