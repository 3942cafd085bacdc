// Change sets (docs/changeset-format.md): decode() of arbitrary bytes must never crash, and what it
// accepts must be valid, re-encode to bytes it accepts again as the same change set, and encode to
// the same bytes (and so the same id) every time.
#include "common.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tram;
  if (size > fuzz::kMaxInput) return -1;
  auto cs = decode(fuzz::as_text(data, size));
  if (!cs.ok()) return 0;
  FUZZ_CHECK(validate(*cs).ok());  // what decode accepts, a device could have signed
  const std::string bytes = encode(*cs);
  auto again = decode(bytes);
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(fuzz::same_changeset(*cs, *again));
  // The encoding is canonical: a fixed point from the first round, so the change set's id is
  // stable (-0.0 included: it is written 0; fuzz/README.md, "Findings").
  const std::string twice = encode(*again);
  FUZZ_CHECK(twice == bytes);
  auto third = decode(twice);
  FUZZ_CHECK(third.ok() && encode(*third) == twice);
  FUZZ_CHECK(blake2b_256(encode(*third)) == blake2b_256(twice));
  return 0;
}
