// The highest signed head of the server's log this device has verified ("head_seq" in
// _client_meta). A head below it means the server's log went back (a restore from a backup, a
// lost WAL): the device heals it (pusher.hpp) and pulls from the start. Every call with the
// Client's lock held. Not installed.
#pragma once

#include <optional>

#include "local_store.hpp"

namespace tram::client {

class LogHeads {
 public:
  explicit LogHeads(LocalStore& local) : local_(local) {}

  // A verified head from a push or pull answer: below the highest one seen, the log went back
  // (mark_behind). `persist`: store a higher one now (a pull stores it with its page).
  Status note(uint64_t server_seq, SyncReport& report, bool persist = true);
  // The log went back to `server_seq`: heal until the server has this device's chain again,
  // pull everything again, check the evidence files again; the new head is the mark from now on.
  Status mark_behind(uint64_t server_seq, SyncReport& report);
  // From "head_seq", or from the receipts and the last pull on a device's first run with heads.
  Status load();
  std::optional<uint64_t> known() const { return known_; }

  // Whether mark_behind ran since reset_seen() (a pull stops, and the sync heals and pulls again).
  bool behind_seen() const { return behind_seen_; }
  void reset_seen() { behind_seen_ = false; }

 private:
  LocalStore& local_;
  std::optional<uint64_t> known_;
  bool behind_seen_ = false;
};

}  // namespace tram::client
