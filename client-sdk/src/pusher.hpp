// Pushing the outbox (protocol §7): adaptive batches, verified receipts and heads recorded as
// they come, and healing a server whose log went back by sending kept change sets again from
// where this device's chain stands there (refill, resend). Not installed.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "sync_parts.hpp"

namespace simdjson::dom {
class array;
}

namespace tram::client {

// One item of a push answer, or of a receipt bundle (protocol §7.3).
struct PushResult {
  std::string status, code, message;
  uint64_t seq = 0, expected_seq = 0;
  std::string receipt_body, receipt_sig;  // empty without a receipt
};

// The items of a push answer's "results" (also a receipt bundle's).
std::vector<PushResult> parse_push_results(simdjson::dom::array results);

// The error of a device that cannot give a server what its log lost.
Status server_lost_data(uint64_t from, uint64_t to, uint64_t missing);
bool is_server_lost_data(const Status& st);

class Pusher {
 public:
  // What the pusher needs of the device's identity; each called with the Client's lock held.
  struct Identity {
    std::function<std::optional<PublicKey>()> device;     // this device's key
    std::function<std::optional<PublicKey>()> server_key;  // the pinned server key (heads)
    // A receipt signed by the pinned server key or one it replaced.
    std::function<Result<wire::Receipt>(std::string_view body, std::string_view sig_hex)> verify_receipt;
  };
  struct Parts : SyncParts {
    ClockSource& clock;
    Identity identity;
  };
  explicit Pusher(Parts parts);

  // Sends the pending outbox in batches that grow on a fast link and shrink on a slow one;
  // a seq_gap below this device's receipts refills the server first (at most three times).
  Status push(SyncReport& report, const std::function<void(const Progress&)>& progress, Progress& p);

  // Applies the outcome of pushing outbox entries: a push, or an imported receipt bundle
  // (mu held). A refusal is recorded and returned as Errc::rejected.
  Status record_results(const std::vector<PushResult>& results, SyncReport& report, Touched& changed);

  // The server's chain head for this device (`me_seq`, from /v1/me) below its receipts: the
  // server lost them; send them again (refill).
  Status heal_from_me(std::optional<uint64_t> me_seq, SyncReport& report);
  // After a head showed the log went back: one kept change set (the newest) asks the server
  // where this device's chain stands there, and refill() sends what it lacks.
  Status heal_if_needed(SyncReport& report);

 private:
  // The answers to kept change sets sent again (`seqs`, in request order); `gap` gets the
  // expected_seq of a seq_gap answer (mu held).
  Status record_resent(const std::vector<PushResult>& results, const std::vector<uint64_t>& seqs, SyncReport& report,
                       Touched& changed, uint64_t& gap);
  // Sends kept change sets [from, to] again, in order; `gap` gets the server's expected_seq if
  // it still lacks earlier ones.
  Status resend(uint64_t from, uint64_t to, SyncReport& report, uint64_t& gap);
  // The server answered seq_gap at `expected` below this device's receipts: send it all it lacks
  // (server_lost_data when this device no longer keeps it). `otherwise`: the answer for a gap
  // that is not below the receipts.
  Status refill(uint64_t expected, SyncReport& report, Status otherwise);

  Parts p_;
  size_t batch_;  // a later sync starts with what this one learnt about the link
};

}  // namespace tram::client
