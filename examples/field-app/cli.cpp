#include "cli.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "tram/engine/crypto.hpp"
#include "tram/engine/json.hpp"

namespace tram::field {

// The shortest text that reads back as the same double, as people wrote it ("78.5", "100").
std::string shortest(double d) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, d);
  return std::string(buf, r.ptr);
}

const std::vector<std::string>& Args::all(const std::string& k) const {
  static const std::vector<std::string> kNone;
  auto it = options.find(k);
  return it == options.end() ? kNone : it->second;
}

const std::set<std::string>& global_values() {
  static const std::set<std::string> v = {"home", "schemas", "clock-offset-days", "lang"};
  return v;
}
const std::set<std::string>& global_flags() {
  static const std::set<std::string> f = {"json", "help", "version"};
  return f;
}

namespace {
size_t distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}
}  // namespace

std::string closest(const std::string& word, const std::set<std::string>& known) {
  std::string best;
  size_t best_d = 3;
  for (const auto& k : known) {
    const size_t d = distance(word, k);
    if (d < best_d || (best.empty() && word.size() >= 3 && k.rfind(word, 0) == 0)) best = k, best_d = std::min(d, best_d);
  }
  return best;
}

Json& Json::num(double d) {
  if (!std::isfinite(d)) return null();
  w_.raw(shortest(d));
  return *this;
}
Json& Json::value(const Value& v) {
  if (std::holds_alternative<std::monostate>(v)) return null();
  if (const auto* i = std::get_if<int64_t>(&v)) return num(*i);
  if (const auto* d = std::get_if<double>(&v)) return num(*d);
  if (const auto* b = std::get_if<bool>(&v)) return boolean(*b);
  return str(value_text(v));
}

std::string value_text(const Value& v) {
  if (const auto* t = std::get_if<Text>(&v)) return t->s;
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* d = std::get_if<double>(&v)) return shortest(*d);
  if (const auto* b = std::get_if<bool>(&v)) return *b ? "true" : "false";
  if (const auto* dt = std::get_if<Date>(&v)) return dt->to_string();
  if (const auto* a = std::get_if<AttachmentRef>(&v)) return to_hex(a->hash);
  return "";
}

size_t char_count(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

std::string clip(std::string_view s, size_t width) {
  std::string out = cell(s, width);
  out.erase(out.find_last_not_of(' ') + 1);
  return out;
}

std::string wrap(std::string_view s, size_t width, std::string_view indent) {
  std::string out, line;
  size_t line_chars = 0;
  auto flush = [&] {
    if (!line.empty()) out.append(indent).append(line).append("\n");
    line.clear();
    line_chars = 0;
  };
  for (size_t i = 0; i < s.size();) {
    size_t j = s.find(' ', i);
    if (j == std::string_view::npos) j = s.size();
    const std::string_view word = s.substr(i, j - i);
    const size_t n = char_count(word);
    if (!word.empty()) {
      if (line_chars > 0 && line_chars + 1 + n > width) flush();
      if (line_chars > 0) {
        line += ' ';
        ++line_chars;
      }
      line += word;
      line_chars += n;
    }
    i = j + 1;
  }
  flush();
  return out;
}

std::string cell(std::string_view s, size_t width) {
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < s.size();) {
    size_t len = 1;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0xf0) len = 4;
    else if (c >= 0xe0) len = 3;
    else if (c >= 0xc0) len = 2;
    // Combining marks (NFD input) take no column of their own.
    const bool combining =
        len == 2 && i + 1 < s.size() && (c == 0xcc || (c == 0xcd && static_cast<unsigned char>(s[i + 1]) < 0xb0));
    if (!combining && chars + 1 == width && i + len < s.size()) {
      out += "…";
      ++chars;
      break;
    }
    if (!combining && chars == width) break;
    out.append(s.substr(i, len));
    chars += !combining;
    i += len;
  }
  if (chars < width) out.append(width - chars, ' ');
  return out;
}

Date date_of_ms(int64_t ms) {
  int64_t days = ms / 86'400'000;
  if (ms < 0 && ms % 86'400'000 != 0) --days;
  return Date{static_cast<int32_t>(days)};
}

namespace {
std::string format_time(int64_t ms, const char* fmt) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, fmt, &tm);
  return buf;
}
}  // namespace

std::string iso_utc(int64_t ms) { return format_time(ms, "%Y-%m-%dT%H:%M:%SZ"); }

std::string human_time(int64_t ms) { return format_time(ms + 7 * 3'600'000, "%Y-%m-%d %H:%M:%S") + " (UTC+7)"; }

bool parse_number(std::string_view s, double& out) {
  std::string t(s);
  for (char& c : t) {
    if (c == ',') c = '.';
  }
  if (t.empty()) return false;
  char* end = nullptr;
  out = std::strtod(t.c_str(), &end);
  return end == t.c_str() + t.size() && std::isfinite(out);
}

}  // namespace tram::field
