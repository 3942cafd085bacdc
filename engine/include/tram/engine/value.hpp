// Typed field values: what one field of one row holds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "tram/engine/crypto.hpp"
#include "tram/engine/status.hpp"

namespace tram {

enum class ValueType : uint8_t { null, integer, real, text, boolean, date, attachment };

// The one-letter tag of a type in the change-set encoding ("n", "i", "r", "t", "b", "d", "a").
char value_type_tag(ValueType t) noexcept;
std::optional<ValueType> value_type_from_tag(std::string_view tag) noexcept;
std::string_view value_type_name(ValueType t) noexcept;

// A calendar date (proleptic Gregorian), stored as days since 1970-01-01.
struct Date {
  int32_t days = 0;
  // Parses "YYYY-MM-DD" for years 0001..9999; nullopt when malformed or not a real date.
  static std::optional<Date> parse(std::string_view s);
  static Date from_ymd(int year, unsigned month, unsigned day);
  std::string to_string() const;
  auto operator<=>(const Date&) const = default;
};

// An evidence file named by the BLAKE2b-256 of its bytes.
struct AttachmentRef {
  Hash hash{};
  auto operator<=>(const AttachmentRef&) const = default;
};

struct Text {
  std::string s;  // NFC, valid UTF-8
  auto operator<=>(const Text&) const = default;
};

// One field value. std::monostate is null.
using Value = std::variant<std::monostate, int64_t, double, Text, bool, Date, AttachmentRef>;

ValueType value_type(const Value& v) noexcept;

// Text value, normalized to NFC; invalid_utf8 when `s` is not UTF-8.
Result<Value> make_text(std::string_view s);

}  // namespace tram
