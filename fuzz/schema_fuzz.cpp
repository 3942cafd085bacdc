// Schema files (docs/schema-format.md), which a server loads from disk and an administrator may
// have hand-edited: parse_schema must never crash, and a schema it accepts must pass its own
// validation, find each of its tables by name, and be an allowed upgrade of itself.
#include "common.hpp"

#include "tram/engine/schema_loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tram;
  if (size > fuzz::kMaxInput) return -1;
  auto s = parse_schema(fuzz::as_text(data, size));
  if (!s.ok()) return 0;
  FUZZ_CHECK(s->validate().ok());
  for (const TableDef& t : s->tables) FUZZ_CHECK(s->table(t.name) == &t);
  FUZZ_CHECK(check_upgrade(*s, *s).ok());
  return 0;
}
