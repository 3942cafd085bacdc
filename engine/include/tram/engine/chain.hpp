// Per-device hash chains: classifies an incoming signed change set against what has been
// accepted from its device so far. Pure: the caller stores chain heads.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "tram/engine/changeset.hpp"

namespace tram {

// What has been accepted from one device: the last sequence and its change-set id.
// seq == 0: nothing yet.
struct ChainHead {
  uint64_t seq = 0;
  Hash last{};
};

enum class ChainVerdict {
  next,           // verified, decoded, and the next link: accept it
  duplicate,      // exactly the change set already accepted at that sequence
  gap,            // a later sequence; expected_seq says which one is missing
  fork,           // another change set at an accepted sequence, or a wrong predecessor
  bad_signature,  // the signature does not verify with the device's key
  malformed,      // signature fine, content not a valid change set (see code)
};

struct ChainCheck {
  ChainVerdict verdict = ChainVerdict::malformed;
  Errc code = Errc::malformed_json;  // ok for next; else duplicate, seq_gap, fork_detected, …
  std::string message;
  uint64_t expected_seq = 0;         // head.seq + 1
  Hash id{};                         // BLAKE2b-256 of the bytes
  std::optional<ChangeSet> changeset;  // set for next, duplicate, gap and fork
};

// Returns the id accepted from this device at `seq`, if any (for seq < head.seq).
using AcceptedAt = std::function<std::optional<Hash>(uint64_t seq)>;

// Checks the signature with `device_key` (the key the device enrolled with), then decodes,
// then places the change set in the chain. Never throws.
// `signature_verified`: the caller has already checked in.sig with device_key (a server does
// it on its connection threads, in parallel, before taking the single writer's lock).
ChainCheck check_chain(const PublicKey& device_key, const ChainHead& head,
                       const AcceptedAt& accepted_at, const SignedChangeSet& in,
                       const ChangeSetLimits& limits = {}, bool signature_verified = false);

// check_chain in two steps, so a server can do the first (size, signature, decoding, hashing —
// the CPU-heavy part) on its connection threads in parallel and only the second under its
// single writer's lock. inspect() leaves verdict == next when the change set is well formed;
// place() then classifies it against the chain (no-op unless verdict == next).
ChainCheck inspect(const PublicKey& device_key, const SignedChangeSet& in, const ChangeSetLimits& limits = {},
                   bool signature_verified = false);
void place(ChainCheck& c, const ChainHead& head, const AcceptedAt& accepted_at);

}  // namespace tram
