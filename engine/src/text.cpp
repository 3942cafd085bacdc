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

#include <unicode/coll.h>
#include <unicode/locid.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <memory>
#include <mutex>

namespace tram {
namespace {

const icu::Normalizer2* nfd() {
  static const icu::Normalizer2* instance = [] {
    UErrorCode err = U_ZERO_ERROR;
    const icu::Normalizer2* n = icu::Normalizer2::getNFDInstance(err);
    return U_SUCCESS(err) ? n : nullptr;
  }();
  return instance;
}

// The five Vietnamese tone marks as combining characters, numbered 1..5.
int tone_of(UChar c) {
  switch (c) {
    case 0x0300: return 1;  // huyền
    case 0x0301: return 2;  // sắc
    case 0x0303: return 3;  // ngã
    case 0x0309: return 4;  // hỏi
    case 0x0323: return 5;  // nặng
    default: return 0;
  }
}

icu::UnicodeString decomposed_lower(std::string_view s) {
  UErrorCode err = U_ZERO_ERROR;
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(icu::StringPiece(s.data(), static_cast<int32_t>(s.size())));
  u.toLower(icu::Locale("vi"));
  if (const icu::Normalizer2* n = nfd()) u = n->normalize(u, err);
  return u;
}

std::string to_utf8(const icu::UnicodeString& u) {
  std::string out;
  u.toUTF8String(out);
  return out;
}

}  // namespace

std::string vi_match_key(std::string_view s) {
  const icu::UnicodeString u = decomposed_lower(s);
  icu::UnicodeString out;
  int tone = 0;
  auto end_syllable = [&] {
    if (tone) out.append(static_cast<UChar>(u'0' + tone));
    tone = 0;
  };
  for (int32_t i = 0; i < u.length(); ++i) {
    const UChar c = u.charAt(i);
    if (const int t = tone_of(c)) {
      tone = t;
      continue;
    }
    if (!u_isalpha(c) && u_getCombiningClass(c) == 0) end_syllable();
    out.append(c);
  }
  end_syllable();
  UErrorCode err = U_ZERO_ERROR;
  if (const icu::Normalizer2* n = nfc()) out = n->normalize(out, err);
  return to_utf8(out);
}

std::string vi_search_fold(std::string_view s) {
  const icu::UnicodeString u = decomposed_lower(s);
  icu::UnicodeString out;
  for (int32_t i = 0; i < u.length(); ++i) {
    const UChar c = u.charAt(i);
    if (u_getCombiningClass(c) != 0 || u_charType(c) == U_NON_SPACING_MARK) continue;
    out.append(c == u'đ' ? u'd' : c);
  }
  return to_utf8(out);
}

int vi_compare(std::string_view a, std::string_view b) {
  // ICU collators are thread-safe for comparison once built; one shared instance.
  static const std::unique_ptr<icu::Collator> collator = [] {
    UErrorCode err = U_ZERO_ERROR;
    std::unique_ptr<icu::Collator> c(icu::Collator::createInstance(icu::Locale("vi"), err));
    return U_SUCCESS(err) ? std::move(c) : nullptr;
  }();
  if (!collator) return a.compare(b);
  UErrorCode err = U_ZERO_ERROR;
  return collator->compareUTF8(icu::StringPiece(a.data(), static_cast<int32_t>(a.size())),
                               icu::StringPiece(b.data(), static_cast<int32_t>(b.size())), err);
}

}  // namespace tram
