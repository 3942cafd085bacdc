#include "log_heads.hpp"

#include <algorithm>

namespace tram::client {

Status LogHeads::load() {
  if (known_) return {};
  auto stored = local_.meta("head_seq");
  if (!stored.ok()) return stored.status();
  if (*stored) {
    known_ = std::stoull(**stored);
    return {};
  }
  // First run of a device from before heads were kept: its receipts and last pull say how far
  // the log went.
  uint64_t k = std::stoull(local_.meta_or("server_seq", "0"));
  if (auto top = local_.highest_receipt_server_seq(); top.ok()) k = std::max(k, *top);
  known_ = k;
  return local_.set_meta("head_seq", std::to_string(k));
}

Status LogHeads::note(uint64_t server_seq, SyncReport& report, bool persist) {
  TRAM_RETURN_IF_ERROR(load());
  if (server_seq < *known_) return mark_behind(server_seq, report);
  if (server_seq > *known_) {
    known_ = server_seq;
    if (persist) return local_.set_meta("head_seq", std::to_string(server_seq));
  }
  return {};
}

Status LogHeads::mark_behind(uint64_t server_seq, SyncReport& report) {
  report.server_log_behind = true;
  behind_seen_ = true;
  auto tx = local_.begin();
  if (!tx.ok()) return tx.status();
  TRAM_RETURN_IF_ERROR(local_.set_meta("heal", "1"));  // until the server has this device's chain again
  // The restored server gives rows it re-creates versions this device's cursor may be past:
  // pull everything again (the snapshot), and check that the server holds the evidence files.
  TRAM_RETURN_IF_ERROR(local_.restart_pull_and_uploads());
  // The new head is the one to compare with from now on, or every sync would start again.
  TRAM_RETURN_IF_ERROR(local_.set_meta("head_seq", std::to_string(server_seq)));
  TRAM_RETURN_IF_ERROR(tx->commit());
  known_ = server_seq;
  return {};
}

}  // namespace tram::client
