#include "pusher.hpp"

#include <algorithm>
#include <chrono>

#include <simdjson.h>

#include "tram/engine/wire_writer.hpp"

namespace tram::client {
namespace dom = simdjson::dom;

namespace {

Status fail(Errc c, std::string m) { return {c, std::move(m)}; }

constexpr std::string_view kLostData = "server_lost_data";

// The signed head of a push answer (§7.3), verified; nullopt when the answer has none.
Result<std::optional<wire::Head>> push_head(dom::element root, const PublicKey& server) {
  dom::object h;
  if (root["head"].get_object().get(h)) return std::optional<wire::Head>();
  wire::Head head;
  std::string_view log, sig;
  if (h["server_seq"].get_uint64().get(head.server_seq) || h["log"].get_string().get(log) || h["sig"].get_string().get(sig)) {
    return fail(Errc::malformed_json, "push: the head is not {server_seq, log, sig}");
  }
  const auto l = from_hex<32>(log);
  const auto g = from_hex<64>(sig);
  if (!l || !g) return fail(Errc::malformed_json, "push: the head is not {server_seq, log, sig}");
  head.log = *l;
  head.sig = *g;
  if (!wire::verify_head(head, server)) return fail(Errc::bad_signature, "push: the log head is not signed by the pinned server key");
  return std::optional<wire::Head>(head);
}

}  // namespace

Status server_lost_data(uint64_t from, uint64_t to, uint64_t missing) {
  return fail(Errc::rejected, std::string(kLostData) + ": the server no longer has change sets #" + std::to_string(from) +
                                  (to > from ? "–#" + std::to_string(to) : std::string()) +
                                  " of this device (its log went back: a restored backup or a lost WAL) and this device no"
                                  " longer keeps #" + std::to_string(missing) + " to send again; tell the administrator");
}

bool is_server_lost_data(const Status& st) { return st.code() == Errc::rejected && st.message().starts_with(kLostData); }

std::vector<PushResult> parse_push_results(dom::array results) {
  std::vector<PushResult> out;
  for (dom::element e : results) {
    PushResult r;
    std::string_view s;
    if (!e["status"].get_string().get(s)) r.status = s;
    if (!e["code"].get_string().get(s)) r.code = s;
    if (!e["message"].get_string().get(s)) r.message = s;
    if (e["seq"].get_uint64().get(r.seq)) {}
    if (e["expected_seq"].get_uint64().get(r.expected_seq)) {}
    if (!e["receipt"]["body"].get_string().get(s)) r.receipt_body = s;
    if (!e["receipt"]["sig"].get_string().get(s)) r.receipt_sig = s;
    out.push_back(std::move(r));
  }
  return out;
}

namespace {

// A push answer (§7.3): its results, and its signed head verified by the pinned key.
struct Answer {
  std::optional<wire::Head> head;
  std::vector<PushResult> results;
};
Result<Answer> parse_answer(const std::string& body, const std::optional<PublicKey>& server_key) {
  if (!server_key) return fail(Errc::not_enrolled, "no pinned server key");
  dom::parser parser;
  dom::element root;
  dom::array results;
  if (parser.parse(body).get(root) || root["results"].get_array().get(results)) {
    return fail(Errc::malformed_json, "push: unexpected answer");
  }
  auto head = push_head(root, *server_key);
  if (!head.ok()) return head.status();
  return Answer{*head, parse_push_results(results)};
}

}  // namespace

Pusher::Pusher(Parts parts)
    : p_(std::move(parts)),
      batch_(std::max<size_t>(p_.opt.sync.push_batch_min, std::min<size_t>(10, p_.opt.sync.push_batch_max))) {}

// ---- push --------------------------------------------------------------------------------

Status Pusher::push(SyncReport& report, const std::function<void(const Progress&)>& progress, Progress& p) {
  const Options& opt = p_.opt;
  p.phase = "push";
  {
    std::lock_guard lock(p_.mu);
    p.changesets_total = p_.local.counts().pending;
  }
  uint64_t after = 0;
  int refills = 0;
  for (int round = 0; round < 100'000; ++round) {
    if (p_.cancelled) return fail(Errc::cancelled, "sync cancelled");
    std::vector<SignedChangeSet> batch;
    uint64_t last_seq = after;
    std::optional<PublicKey> server_key;
    {
      std::lock_guard lock(p_.mu);
      server_key = p_.identity.server_key();
      TRAM_RETURN_IF_ERROR(p_.local.each_pending(after, batch_, [&](uint64_t seq, std::span<const uint8_t> bytes, std::span<const uint8_t> sig) {
        last_seq = seq;
        batch.push_back({std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()), {}});
        std::copy_n(sig.begin(), std::min(sig.size(), batch.back().sig.size()), batch.back().sig.begin());
      }));
    }
    const size_t n = batch.size();
    if (n == 0) return {};
    const std::string body = wire::write_push_body(batch);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = p_.session.call("POST", "/v1/push", body, true, &report);
    const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    if (!r.ok() || r->status == 413) {
      batch_ = std::max(opt.sync.push_batch_min, batch_ / 2);  // a weak link: smaller requests
      if (!r.ok()) return r.status();
      if (n == 1) return server_error(*r);
      continue;
    }
    if (r->status != 200) return server_error(*r);
    auto answer = parse_answer(r->body, server_key);
    if (!answer.ok()) return answer.status();
    const std::vector<PushResult>& answers = answer->results;
    Touched changed;
    Status st;
    {
      std::lock_guard lock(p_.mu);
      auto tx = p_.local.begin();  // the head with the receipts: one commit
      if (!tx.ok()) return tx.status();
      if (answer->head) TRAM_RETURN_IF_ERROR(p_.heads.note(answer->head->server_seq, report));
      st = record_results(answers, report, changed);
      if (st.ok() || st.code() == Errc::rejected) TRAM_RETURN_IF_ERROR(tx->commit());  // a refusal is recorded too
    }
    p_.notify(changed);
    // A gap below what this device holds receipts for: the server lost those change sets. Send
    // them again, then the outbox from its start (bounded: a server that keeps losing them ends
    // the sync with its seq_gap).
    const auto refusal = std::find_if(answers.begin(), answers.end(),
                                      [](const PushResult& a) { return a.receipt_body.empty() && a.status == "rejected"; });
    if (!st.ok() && refusal != answers.end() && refusal->code == "seq_gap" && refusal->expected_seq && refills < 3) {
      ++refills;
      TRAM_RETURN_IF_ERROR(refill(refusal->expected_seq, report, st));
      after = 0;
      continue;
    }
    if (!st.ok()) return st;
    // The next batch: as many change sets as take about target_request_ms at the rate this one
    // went (at most twice, at least half this one). A full batch only: a short last one says
    // little about the link.
    if (n >= batch_) {
      const double per_ms = static_cast<double>(n) / static_cast<double>(std::max<int64_t>(ms, 1));
      const double want = per_ms * static_cast<double>(opt.sync.target_request_ms);
      const double lo = static_cast<double>(batch_) / 2, hi = static_cast<double>(batch_) * 2;
      batch_ = std::clamp(static_cast<size_t>(std::clamp(want, lo, hi)), opt.sync.push_batch_min, opt.sync.push_batch_max);
    }
    after = last_seq;
    p.changesets_done += n;
    p.bytes_sent = report.bytes_sent;
    p.bytes_received = report.bytes_received;
    if (progress) progress(p);
  }
  return {};
}

Status Pusher::record_results(const std::vector<PushResult>& results, SyncReport& report, Touched& changed) {
  LocalStore& local = p_.local;
  auto tx = local.begin();
  if (!tx.ok()) return tx.status();
  const std::optional<PublicKey> device = p_.identity.device();
  Status first_refusal;
  Touched rejected_rows, accepted_rows;
  for (const PushResult& r : results) {
    if (r.receipt_body.empty()) {
      // No receipt: the server does not hold it. A gap or a client fault, never silently dropped.
      if (first_refusal.ok() && r.status == "rejected") {
        first_refusal = fail(Errc::rejected, r.code + ": " + r.message +
                                                 (r.code == "seq_gap" ? " (expected seq " + std::to_string(r.expected_seq) + ")" : ""));
      }
      continue;
    }
    auto receipt = p_.identity.verify_receipt(r.receipt_body, r.receipt_sig);
    if (!receipt.ok()) return receipt.status();  // a forged or garbled receipt proves nothing
    if (!device || receipt->device != *device) return fail(Errc::bad_signature, "a receipt for another device");
    auto entry = local.outbox_entry(receipt->seq);
    if (!entry.ok()) return entry.status();
    if (!*entry) continue;  // already settled (a duplicate answer)
    if ((*entry)->id != receipt->id) return fail(Errc::fork_detected, "the server holds other bytes at seq " + std::to_string(receipt->seq));
    TRAM_RETURN_IF_ERROR(local.keep_sent(**entry, receipt->received_at_ms));
    TRAM_RETURN_IF_ERROR(local.add_receipt({receipt->seq, receipt->server_seq, receipt->id,
                                            receipt->accepted ? "accepted" : "rejected", receipt->code, r.message,
                                            receipt->received_at_ms, receipt->clock_ahead, receipt->body, r.receipt_sig}));
    if (receipt->clock_ahead) TRAM_RETURN_IF_ERROR(local.set_meta("clock_ahead", "1"));
    TRAM_RETURN_IF_ERROR(local.rows_of(receipt->seq, receipt->accepted ? accepted_rows : rejected_rows));
    if (receipt->accepted) {
      r.status == "duplicate" ? ++report.duplicates : ++report.accepted;
      TRAM_RETURN_IF_ERROR(local.settle(receipt->seq));
    } else {
      ++report.rejected;
      TRAM_RETURN_IF_ERROR(local.mark_rejected(receipt->seq, receipt->code, r.message));
    }
  }
  // Rejected edits leave the view. Rows whose edits were all accepted keep their view (it is
  // what the server now holds, short of others' edits the next pull brings) and drop the base.
  TRAM_RETURN_IF_ERROR(local.rebuild(rejected_rows));
  TRAM_RETURN_IF_ERROR(local.drop_settled_bases(accepted_rows));
  TRAM_RETURN_IF_ERROR(tx->commit());
  for (const auto& [t, ids] : rejected_rows) changed[t].insert(ids.begin(), ids.end());
  return first_refusal;
}

Status Pusher::record_resent(const std::vector<PushResult>& results, const std::vector<uint64_t>& seqs, SyncReport& report,
                             Touched& changed, uint64_t& gap) {
  LocalStore& local = p_.local;
  auto tx = local.begin();
  if (!tx.ok()) return tx.status();
  const std::optional<PublicKey> device = p_.identity.device();
  for (size_t k = 0; k < results.size() && k < seqs.size(); ++k) {
    const PushResult& r = results[k];
    if (r.receipt_body.empty()) {
      if (r.code == "seq_gap" && r.expected_seq) {
        if (!gap) gap = r.expected_seq;
        continue;
      }
      return fail(Errc::rejected, r.code + ": " + r.message + " (change set #" + std::to_string(seqs[k]) + ", sent again)");
    }
    auto receipt = p_.identity.verify_receipt(r.receipt_body, r.receipt_sig);
    if (!receipt.ok()) return receipt.status();
    if (!device || receipt->device != *device || receipt->seq != seqs[k]) return fail(Errc::bad_signature, "a receipt for another change set");
    auto kept = local.kept_entry(receipt->seq);
    if (!kept.ok()) return kept.status();
    if (!*kept || (*kept)->id != receipt->id) {
      return fail(Errc::fork_detected, "the server holds other bytes at seq " + std::to_string(receipt->seq));
    }
    TRAM_RETURN_IF_ERROR(local.add_resent_receipt({receipt->seq, receipt->server_seq, receipt->id,
                                                   receipt->accepted ? "accepted" : "rejected", receipt->code, r.message,
                                                   receipt->received_at_ms, false, receipt->body, r.receipt_sig}));
    ++report.resent;
    if (receipt->accepted) continue;
    // Accepted once, refused by the restored server (its rows differ now): the user must see it
    // as any refusal, in the outbox with the server's reason.
    auto first = local.receipt_status(receipt->seq);
    if (!first.ok()) return first.status();
    if (*first && **first != "accepted") continue;
    TRAM_RETURN_IF_ERROR(local.reject_again(**kept, p_.clock.now_ms(), receipt->code, r.message));
    ++report.rejected;
    TRAM_RETURN_IF_ERROR(local.rows_of(receipt->seq, changed));
  }
  return tx->commit();
}

// ---- healing a server whose log went back ------------------------------------------------

Status Pusher::resend(uint64_t from, uint64_t to, SyncReport& report, uint64_t& gap) {
  gap = 0;
  size_t batch = batch_;
  for (uint64_t next = from; next <= to;) {
    if (p_.cancelled) return fail(Errc::cancelled, "sync cancelled");
    std::vector<SignedChangeSet> again;
    std::vector<uint64_t> seqs;
    std::optional<PublicKey> server_key;
    {
      std::lock_guard lock(p_.mu);
      server_key = p_.identity.server_key();
      auto kept = p_.local.kept_range(next, to, batch);
      if (!kept.ok()) return kept.status();
      for (const SignedEntry& e : *kept) {
        if (e.seq != next + seqs.size()) return server_lost_data(from, to, next + seqs.size());
        again.push_back({e.bytes, {}});
        std::copy_n(e.sig.begin(), std::min(e.sig.size(), again.back().sig.size()), again.back().sig.begin());
        seqs.push_back(e.seq);
      }
    }
    if (seqs.empty()) return server_lost_data(from, to, next);
    const std::string body = wire::write_push_body(again);
    auto r = p_.session.call("POST", "/v1/push", body, true, &report);
    if (!r.ok()) return r.status();
    if (r->status == 413 && seqs.size() > 1) {
      batch = std::max<size_t>(1, seqs.size() / 2);
      continue;
    }
    if (r->status != 200) return server_error(*r);
    auto answer = parse_answer(r->body, server_key);
    if (!answer.ok()) return answer.status();
    Touched changed;
    Status st;
    {
      std::lock_guard lock(p_.mu);
      auto tx = p_.local.begin();
      if (!tx.ok()) return tx.status();
      if (answer->head) TRAM_RETURN_IF_ERROR(p_.heads.note(answer->head->server_seq, report));
      st = record_resent(answer->results, seqs, report, changed, gap);
      if (st.ok()) TRAM_RETURN_IF_ERROR(tx->commit());
    }
    p_.notify(changed);
    if (!st.ok() || gap) return st;
    next = seqs.back() + 1;
  }
  return {};
}

Status Pusher::refill(uint64_t expected, SyncReport& report, Status otherwise) {
  uint64_t last = 0;
  {
    std::lock_guard lock(p_.mu);
    auto top = p_.local.last_receipt_seq();
    if (!top.ok()) return fail(Errc::storage_error, "refill: cannot read the receipts");
    last = *top;
    if (expected > last) return otherwise;  // the gap is in the outbox: not the server's loss
    // Receipts for what the server now lacks: its log went back, whatever the heads said. (Once:
    // a device that cannot heal it must not pull everything again at every sync.)
    if (p_.local.meta_or("heal") != "1") {
      TRAM_RETURN_IF_ERROR(p_.heads.load());
      TRAM_RETURN_IF_ERROR(p_.heads.mark_behind(*p_.heads.known(), report));
    }
    report.server_log_behind = true;
  }
  uint64_t gap = 0;
  TRAM_RETURN_IF_ERROR(resend(expected, last, report, gap));
  if (gap) return fail(Errc::rejected, "seq_gap: the server still expects #" + std::to_string(gap) + " after it was sent again");
  std::lock_guard lock(p_.mu);
  return p_.local.set_meta("heal", "");
}

Status Pusher::heal_if_needed(SyncReport& report) {
  uint64_t newest = 0;
  {
    std::lock_guard lock(p_.mu);
    if (p_.local.meta_or("heal") != "1") return {};
    report.server_log_behind = true;
    auto top = p_.local.newest_kept_seq();
    if (!top.ok()) return fail(Errc::storage_error, "heal: cannot read the kept change sets");
    newest = *top;
    if (newest == 0) return p_.local.set_meta("heal", "");  // nothing kept: nothing to send again
  }
  // The newest kept change set: a duplicate if the server has this device's chain, else its
  // seq_gap names the first one it lacks.
  uint64_t gap = 0;
  TRAM_RETURN_IF_ERROR(resend(newest, newest, report, gap));
  if (gap) return refill(gap, report, fail(Errc::rejected, "seq_gap: the server expects #" + std::to_string(gap)));
  std::lock_guard lock(p_.mu);
  return p_.local.set_meta("heal", "");
}

Status Pusher::heal_from_me(std::optional<uint64_t> me_seq, SyncReport& report) {
  if (!me_seq) return {};  // a server from before /v1/me said it
  uint64_t last = 0;
  {
    std::lock_guard lock(p_.mu);
    auto top = p_.local.last_receipt_seq();
    if (!top.ok()) return fail(Errc::storage_error, "heal: cannot read the receipts");
    last = *top;
  }
  // Catches what the heads cannot: a log that went back and then grew past the highest head
  // this device saw, with nothing in its outbox to draw a seq_gap.
  if (*me_seq >= last) return {};
  return refill(*me_seq + 1, report, {});
}

}  // namespace tram::client
