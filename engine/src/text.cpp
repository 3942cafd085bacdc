// Text: UTF-8 validation with simdjson's SIMD validator, NFC with ICU's UTF-8 normalizer,
// whose quick check makes the common case (already NFC) nearly free.
#include "tram/engine/text.hpp"

#include <simdjson.h>
#include <unicode/bytestream.h>
#include <unicode/normalizer2.h>

namespace tram {
namespace {

bool is_ascii(std::string_view s) noexcept {
  for (unsigned char c : s) {
    if (c >= 0x80) return false;
  }
  return true;
}

const icu::Normalizer2* nfc() {
  // ICU caches the instance; it is immutable and thread-safe once obtained.
  static const icu::Normalizer2* instance = [] {
    UErrorCode err = U_ZERO_ERROR;
    const icu::Normalizer2* n = icu::Normalizer2::getNFCInstance(err);
    return U_SUCCESS(err) ? n : nullptr;
  }();
  return instance;
}

}  // namespace

bool is_valid_utf8(std::string_view s) noexcept { return simdjson::validate_utf8(s); }

Result<std::string> to_nfc(std::string_view s) {
  if (is_ascii(s)) return std::string(s);  // ASCII is always NFC
  if (!is_valid_utf8(s)) return Status(Errc::invalid_utf8, "text is not valid UTF-8");
  const icu::Normalizer2* n = nfc();
  if (n == nullptr) return Status(Errc::storage_error, "ICU normalization data unavailable");
  UErrorCode err = U_ZERO_ERROR;
  if (n->isNormalizedUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())), err) && U_SUCCESS(err)) {
    return std::string(s);
  }
  err = U_ZERO_ERROR;
  std::string out;
  icu::StringByteSink<std::string> sink(&out, static_cast<int32_t>(s.size()));
  n->normalizeUTF8(0, icu::StringPiece(s.data(), static_cast<int32_t>(s.size())), sink, nullptr, err);
  if (U_FAILURE(err)) return Status(Errc::invalid_utf8, u_errorName(err));
  return out;
}

bool is_nfc(std::string_view s) {
  if (is_ascii(s)) return true;
  if (!is_valid_utf8(s)) return false;
  const icu::Normalizer2* n = nfc();
  UErrorCode err = U_ZERO_ERROR;
  return n != nullptr && n->isNormalizedUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())), err) &&
         U_SUCCESS(err);
}

}  // namespace tram
