#include "tram/engine/device_chain.hpp"

namespace tram {

Result<DeviceChain::Made> DeviceChain::make(std::vector<Op> ops, const ChangeSetLimits& limits) {
  Made m;
  m.cs.device = key_.public_key();
  m.cs.seq = head_.seq + 1;
  if (head_.seq > 0) m.cs.prev = head_.last;
  m.cs.hlc = clock_.now();
  m.cs.author = author_;
  m.cs.schema = schema_;
  m.cs.schema_version = schema_version_;
  m.cs.ops = std::move(ops);
  TRAM_RETURN_IF_ERROR(validate(m.cs, limits));
  m.signed_cs.bytes = encode(m.cs);
  if (m.signed_cs.bytes.size() > limits.max_bytes) {
    return Status(Errc::too_large, std::to_string(m.signed_cs.bytes.size()) + " bytes encoded, limit " +
                                       std::to_string(limits.max_bytes) + ": split the transaction");
  }
  m.signed_cs.sig = key_.sign(m.signed_cs.bytes);
  m.id = m.signed_cs.id();
  head_ = ChainHead{m.cs.seq, m.id};
  return m;
}

}  // namespace tram
