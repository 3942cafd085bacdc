// Unicode text handling: UTF-8 validation and NFC normalization (ICU).
// Vietnamese text arrives precomposed (NFC) or combining (NFD) depending on the keyboard;
// everything the engine stores or signs is NFC.
#pragma once

#include <string>
#include <string_view>

#include "tram/engine/status.hpp"

namespace tram {

// True when `s` is well-formed UTF-8.
bool is_valid_utf8(std::string_view s) noexcept;

// True when `s` is valid UTF-8 and already in NFC.
bool is_nfc(std::string_view s);

// `s` in NFC; invalid_utf8 when `s` is not UTF-8. ASCII passes through without copying cost
// beyond the returned string.
Result<std::string> to_nfc(std::string_view s);

}  // namespace tram
