// Push bodies (protocol §7): {"changesets":[{"cs": base64, "sig": hex}, ...]}. read_push_body must
// never crash, must hold to its item limit, and what it reads must be written back by
// write_push_body to a body that reads to the same change set bytes and signatures. Each item's
// bytes go on to decode(), as the server's push does.
#include "common.hpp"

#include "tram/engine/wire_writer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tram;
  if (size > fuzz::kMaxInput) return -1;
  constexpr size_t kMaxItems = 50;
  auto items = wire::read_push_body(fuzz::as_text(data, size), kMaxItems);
  if (!items.ok()) {
    FUZZ_CHECK(items.status().code() == Errc::malformed_json || items.status().code() == Errc::too_large);
    return 0;
  }
  FUZZ_CHECK(items->size() <= kMaxItems);
  std::vector<SignedChangeSet> good;
  for (const wire::PushItem& it : *items) {
    FUZZ_CHECK(it.cs.has_value() != !it.message.empty());
    if (!it.cs) continue;
    good.push_back(*it.cs);
    (void)decode(it.cs->bytes);
  }
  auto back = wire::read_push_body(wire::write_push_body(good), kMaxItems);
  FUZZ_CHECK(back.ok() && back->size() == good.size());
  for (size_t i = 0; i < good.size(); ++i) {
    FUZZ_CHECK((*back)[i].cs && (*back)[i].cs->bytes == good[i].bytes && (*back)[i].cs->sig == good[i].sig);
  }
  return 0;
}
