#include "cli.hpp"

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
  static const std::set<std::string> v = {"home", "schemas", "clock-offset-days"};
  return v;
}
const std::set<std::string>& global_flags() {
  static const std::set<std::string> f = {"json", "help"};
  return f;
}

bool parse_args(const CommandSpec& spec, const std::vector<std::string>& argv, Args& out, std::string& error) {
  out.command = spec.name;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.size() > 2 && a.rfind("--", 0) == 0) {
      std::string key = a.substr(2), value;
      const size_t eq = key.find('=');
      const bool inline_value = eq != std::string::npos;
      if (inline_value) {
        value = key.substr(eq + 1);
        key.resize(eq);
      }
      const bool takes_value = spec.values.count(key) || global_values().count(key);
      const bool is_flag = spec.flags.count(key) || global_flags().count(key);
      if (!takes_value && !is_flag) {
        error = "unknown option --" + key + " for '" + spec.name + "'";
        return false;
      }
      if (is_flag) {
        if (inline_value) {
          error = "--" + key + " takes no value";
          return false;
        }
        out.options[key].push_back("1");
        continue;
      }
      if (!inline_value) {
        if (i + 1 >= argv.size()) {
          error = "--" + key + " needs a value";
          return false;
        }
        value = argv[++i];
      }
      auto& slot = out.options[key];
      if (!slot.empty() && !spec.repeatable.count(key)) {
        error = "--" + key + " given twice";
        return false;
      }
      slot.push_back(value);
    } else if (a == "--") {
      for (++i; i < argv.size(); ++i) out.positional.push_back(argv[i]);
    } else {
      out.positional.push_back(a);
    }
  }
  if (!out.has("help") && out.positional.size() != spec.positionals) {
    error = "'" + spec.name + "' takes " + (spec.positionals ? std::to_string(spec.positionals) : "no") +
            " argument" + (spec.positionals == 1 ? "" : "s") + " (usage: tram-field " + spec.usage + ")";
    return false;
  }
  return true;
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
