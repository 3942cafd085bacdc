#include "tram/engine/chain.hpp"

namespace tram {
namespace {

ChainCheck verdict(ChainVerdict v, Errc code, std::string message) {
  ChainCheck c;
  c.verdict = v;
  c.code = code;
  c.message = std::move(message);
  return c;
}

}  // namespace

ChainCheck check_chain(const PublicKey& device_key, const ChainHead& head,
                       const AcceptedAt& accepted_at, const SignedChangeSet& in,
                       const ChangeSetLimits& limits, bool signature_verified) {
  ChainCheck c = inspect(device_key, in, limits, signature_verified);
  place(c, head, accepted_at);
  return c;
}

ChainCheck inspect(const PublicKey& device_key, const SignedChangeSet& in, const ChangeSetLimits& limits,
                   bool signature_verified) {
  // Size first: nothing larger than the limit is hashed or verified.
  if (in.bytes.size() > limits.max_bytes) {
    return verdict(ChainVerdict::malformed, Errc::too_large,
                   std::to_string(in.bytes.size()) + " bytes, limit " + std::to_string(limits.max_bytes));
  }
  // Signature before parsing: forged input never reaches the decoder's deeper paths.
  if (!signature_verified && !verify_signature(device_key, in.bytes, in.sig)) {
    return verdict(ChainVerdict::bad_signature, Errc::bad_signature,
                   "signature does not verify with the device's enrolled key");
  }
  auto decoded = decode(in.bytes, limits);
  if (!decoded.ok()) {
    return verdict(ChainVerdict::malformed, decoded.code(), decoded.status().message());
  }
  if (decoded->device != device_key) {
    return verdict(ChainVerdict::malformed, Errc::device_mismatch,
                   "change set names device " + to_hex(decoded->device) + ", signed by " + to_hex(device_key));
  }

  ChainCheck c;
  c.id = in.id();
  c.verdict = ChainVerdict::next;
  c.code = Errc::ok;
  c.changeset = std::move(decoded).value();
  return c;
}

void place(ChainCheck& c, const ChainHead& head, const AcceptedAt& accepted_at) {
  if (c.verdict != ChainVerdict::next || !c.changeset) return;
  c.expected_seq = head.seq + 1;
  const uint64_t seq = c.changeset->seq;
  if (seq == head.seq + 1) {
    const bool links = head.seq == 0 ? !c.changeset->prev : (c.changeset->prev && *c.changeset->prev == head.last);
    if (links) return;
    c.verdict = ChainVerdict::fork;
    c.code = Errc::fork_detected;
    c.message = "seq " + std::to_string(seq) + " does not link to the accepted change set " + to_hex(head.last);
    return;
  }
  if (seq > head.seq + 1) {
    c.verdict = ChainVerdict::gap;
    c.code = Errc::seq_gap;
    c.message = "got seq " + std::to_string(seq) + ", expected " + std::to_string(head.seq + 1);
    return;
  }
  // seq <= head.seq: a replay of an accepted change set, or a second history.
  std::optional<Hash> accepted = seq == head.seq ? std::optional<Hash>(head.last)
                                                 : (accepted_at ? accepted_at(seq) : std::nullopt);
  if (accepted && *accepted == c.id) {
    c.verdict = ChainVerdict::duplicate;
    c.code = Errc::duplicate;
    c.message = "seq " + std::to_string(seq) + " was already accepted";
    return;
  }
  c.verdict = ChainVerdict::fork;
  c.code = Errc::fork_detected;
  c.message = accepted ? "seq " + std::to_string(seq) + " was accepted with other bytes (" + to_hex(*accepted) + ")"
                       : "seq " + std::to_string(seq) + " is behind the head and its accepted id is unknown";
}

}  // namespace tram
