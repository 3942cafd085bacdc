// The device side of a per-device chain: numbers, links, timestamps and signs each change
// set the device makes. The client SDK persists its state (next_seq, last id, clock).
#pragma once

#include <string>
#include <vector>

#include "tram/engine/changeset.hpp"
#include "tram/engine/chain.hpp"
#include "tram/engine/hlc.hpp"

namespace tram {

class DeviceChain {
 public:
  // `head`: the last change set this device made (seq 0 for a new device).
  DeviceChain(DeviceKey key, HybridClock& clock, std::string author, std::string schema,
              uint32_t schema_version, ChainHead head = {})
      : key_(std::move(key)), clock_(clock), author_(std::move(author)), schema_(std::move(schema)),
        schema_version_(schema_version), head_(head) {}

  // Builds the next change set from `ops`, validates it (validate(), then the encoded size),
  // signs it and advances the chain. On failure nothing is signed and the chain stays put.
  // Returns the signed bytes and the model (for applying locally). Not thread-safe.
  struct Made {
    SignedChangeSet signed_cs;
    ChangeSet cs;
    Hash id;
  };
  Result<Made> make(std::vector<Op> ops, const ChangeSetLimits& limits = {});

  const PublicKey& device() const { return key_.public_key(); }
  const DeviceKey& key() const { return key_; }
  const ChainHead& head() const { return head_; }

 private:
  DeviceKey key_;
  HybridClock& clock_;
  std::string author_, schema_;
  uint32_t schema_version_;
  ChainHead head_;
};

}  // namespace tram
