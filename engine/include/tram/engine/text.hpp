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

namespace tram {

// Equality key for Vietnamese names and codes: NFC and NFD spellings, upper and lower case,
// and old and new tone placement ("hoà" / "hòa") give the same key. Each syllable's tone mark
// is taken off and appended as a digit, so the key does not depend on where it was typed.
std::string vi_match_key(std::string_view s);

// Search folding: lowercase, every diacritic removed, đ folded to d ("Chiềng Cơi" -> "chieng coi").
std::string vi_search_fold(std::string_view s);

// Vietnamese collation (ICU's "vi" rules: a < ă < â, d < đ, o < ô < ơ, tones after letters).
// Returns <0, 0, >0. Thread-safe.
int vi_compare(std::string_view a, std::string_view b);

}  // namespace tram
