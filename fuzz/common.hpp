// What the fuzz targets share: the checks (a failed property aborts, which libFuzzer reports as a
// crash with the input saved), the Sơn La schema the pages are read with, a fixed server key, and
// comparisons of the decoded models (the engine's types have no operator== of their own).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "tram/engine/changeset.hpp"
#include "tram/engine/crypto.hpp"
#include "tram/engine/schema.hpp"
#include "tram/engine/stored_row.hpp"
#include "tram/engine/wire.hpp"

// Aborts with the property that broke: a property failure must be a crash, not a silent pass.
#define FUZZ_CHECK(cond)                                                                        \
  do {                                                                                          \
    if (!(cond)) {                                                                              \
      std::fprintf(stderr, "fuzz property failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);    \
      std::abort();                                                                             \
    }                                                                                           \
  } while (0)

namespace tram::fuzz {

// Inputs beyond this are not looked at: the decoders' own limits (1 MiB change sets, pages of a
// few hundred rows) are far above what a fuzzer explores usefully, and big inputs only slow it.
inline constexpr size_t kMaxInput = 256 * 1024;

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// schemas/sonla-2026/v2.json, loaded once (aborts if it cannot be: the target would test nothing).
const Schema& sonla_schema();
// A server key from a fixed seed: the targets sign what they feed to verifying readers, so that
// the parsing behind the signature check is reached.
const DeviceKey& server_key();

bool same_value(const Value& a, const Value& b);
bool same_image(const RowImage& a, const RowImage& b);
bool same_changeset(const ChangeSet& a, const ChangeSet& b);
bool same_conflict(const ConflictRecord& a, const ConflictRecord& b);

}  // namespace tram::fuzz
