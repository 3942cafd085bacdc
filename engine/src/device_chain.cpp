#include "tram/engine/device_chain.hpp"

namespace tram {

DeviceChain::Made DeviceChain::make(std::vector<Op> ops) {
  Made m;
  m.cs.device = key_.public_key();
  m.cs.seq = head_.seq + 1;
  if (head_.seq > 0) m.cs.prev = head_.last;
  m.cs.hlc = clock_.now();
  m.cs.author = author_;
  m.cs.schema = schema_;
  m.cs.schema_version = schema_version_;
  m.cs.ops = std::move(ops);
  m.signed_cs = sign_changeset(m.cs, key_);
  m.id = m.signed_cs.id();
  head_ = ChainHead{m.cs.seq, m.id};
  return m;
}

}  // namespace tram
