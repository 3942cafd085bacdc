#include "tram/engine/value.hpp"

#include <chrono>
#include <cstdio>

#include "tram/engine/text.hpp"

namespace tram {

char value_type_tag(ValueType t) noexcept {
  switch (t) {
    case ValueType::null: return 'n';
    case ValueType::integer: return 'i';
    case ValueType::real: return 'r';
    case ValueType::text: return 't';
    case ValueType::boolean: return 'b';
    case ValueType::date: return 'd';
    case ValueType::attachment: return 'a';
  }
  return '?';
}

std::optional<ValueType> value_type_from_tag(std::string_view tag) noexcept {
  if (tag.size() != 1) return std::nullopt;
  switch (tag[0]) {
    case 'n': return ValueType::null;
    case 'i': return ValueType::integer;
    case 'r': return ValueType::real;
    case 't': return ValueType::text;
    case 'b': return ValueType::boolean;
    case 'd': return ValueType::date;
    case 'a': return ValueType::attachment;
    default: return std::nullopt;
  }
}

std::string_view value_type_name(ValueType t) noexcept {
  switch (t) {
    case ValueType::null: return "null";
    case ValueType::integer: return "integer";
    case ValueType::real: return "real";
    case ValueType::text: return "text";
    case ValueType::boolean: return "boolean";
    case ValueType::date: return "date";
    case ValueType::attachment: return "attachment";
  }
  return "?";
}

ValueType value_type(const Value& v) noexcept { return static_cast<ValueType>(v.index()); }

std::optional<Date> Date::parse(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  auto num = [&](size_t pos, size_t len) -> int {
    int v = 0;
    for (size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9') return -1;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  const int y = num(0, 4), m = num(5, 2), d = num(8, 2);
  if (y < 1 || m < 1 || d < 1) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{y},
                                        std::chrono::month{static_cast<unsigned>(m)},
                                        std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return Date{static_cast<int32_t>(std::chrono::sys_days{ymd}.time_since_epoch().count())};
}

Date Date::from_ymd(int year, unsigned month, unsigned day) {
  const std::chrono::year_month_day ymd{std::chrono::year{year}, std::chrono::month{month},
                                        std::chrono::day{day}};
  return Date{static_cast<int32_t>(std::chrono::sys_days{ymd}.time_since_epoch().count())};
}

std::string Date::to_string() const {
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days}}};
  const int y = static_cast<int>(ymd.year());
  const auto m = static_cast<unsigned>(ymd.month()), d = static_cast<unsigned>(ymd.day());
  if (y < 0 || y > 9999) {  // never parsed, but a stored day count can say so
    char buf[24];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", y, m, d);
    return buf;
  }
  // By hand: every dated row of every page passes here, and snprintf was a visible part of a
  // snapshot page's cost on the server.
  std::string out(10, '-');
  const auto digit = [](unsigned v) { return static_cast<char>('0' + v % 10); };
  const auto yy = static_cast<unsigned>(y);
  out[0] = digit(yy / 1000), out[1] = digit(yy / 100), out[2] = digit(yy / 10), out[3] = digit(yy);
  out[5] = digit(m / 10), out[6] = digit(m);
  out[8] = digit(d / 10), out[9] = digit(d);
  return out;
}

Result<Value> make_text(std::string_view s) {
  auto nfc = to_nfc(s);
  if (!nfc.ok()) return nfc.status();
  return Value{Text{std::move(nfc).value()}};
}

}  // namespace tram
