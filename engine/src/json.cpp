// JSON output: the string and value helpers, and json::Writer.
#include "tram/engine/json.hpp"

#include <charconv>
#include <cstdio>

#include "tram/engine/crypto.hpp"

namespace tram::json {

void append_string(std::string& out, std::string_view s) {
  out.push_back('"');
  // Characters that need no escape are copied in runs, not one by one (this is on the path of
  // every text value the server sends and every change set a device encodes).
  size_t run = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
        out += buf;
      }
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

std::string quote(std::string_view s) {
  std::string out;
  append_string(out, s);
  return out;
}

void append_value(std::string& out, const Value& v) {
  const ValueType t = value_type(v);
  if (t == ValueType::null) {
    out += "null";
    return;
  }
  out += "[\"";
  out.push_back(value_type_tag(t));
  out += "\",";
  char buf[32];
  switch (t) {
    case ValueType::integer: {
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, std::get<int64_t>(v));
      out.append(buf, end);
      break;
    }
    case ValueType::real: {
      // -0.0 is written 0: JSON readers (simdjson) read `-0` as the integer 0, so a zero has one
      // spelling and a change set is its own re-encoding (fuzz/README.md, format §5.5).
      const double d = std::get<double>(v) == 0.0 ? 0.0 : std::get<double>(v);
      auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
      // An integral real beyond 64-bit integers written in fixed notation (2^64 as
      // 18446744073709551616) is a JSON integer simdjson refuses, so every reader would refuse
      // the change set or page holding it: written in scientific notation instead (found by
      // fuzz/pull_page; docs/changeset-format.md §5.5).
      if ((d >= 18446744073709551616.0 || d < -9223372036854775808.0) &&
          std::string_view(buf, static_cast<size_t>(end - buf)).find_first_of(".e") == std::string_view::npos) {
        end = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific).ptr;
      }
      out.append(buf, end);
      break;
    }
    case ValueType::text: append_string(out, std::get<Text>(v).s); break;
    case ValueType::boolean: out += std::get<bool>(v) ? "true" : "false"; break;
    case ValueType::date: append_string(out, std::get<Date>(v).to_string()); break;
    case ValueType::attachment: append_string(out, to_hex(std::get<AttachmentRef>(v).hash)); break;
    case ValueType::null: break;
  }
  out.push_back(']');
}


Writer& Writer::key(std::string_view k) {
  separate();
  append_string(out_, k);
  out_.push_back(':');
  comma_ = false;
  return *this;
}

Writer& Writer::string(std::string_view s) {
  separate();
  append_string(out_, s);
  comma_ = true;
  return *this;
}

namespace {
template <typename T>
void put_number(std::string& out, T v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}
}  // namespace

void append_number(std::string& out, int64_t n) { put_number(out, n); }
void append_number(std::string& out, uint64_t n) { put_number(out, n); }

Writer& Writer::number(int64_t n) {
  separate();
  put_number(out_, n);
  comma_ = true;
  return *this;
}

Writer& Writer::number(uint64_t n) {
  separate();
  put_number(out_, n);
  comma_ = true;
  return *this;
}

Writer& Writer::boolean(bool b) { return raw(b ? "true" : "false"); }

Writer& Writer::null() { return raw("null"); }

Writer& Writer::value(const Value& v) {
  separate();
  append_value(out_, v);
  comma_ = true;
  return *this;
}

Writer& Writer::hex(std::span<const uint8_t> bytes) {
  separate();
  out_.push_back('"');
  out_ += to_hex(bytes);
  out_.push_back('"');
  comma_ = true;
  return *this;
}

Writer& Writer::raw(std::string_view json) {
  separate();
  out_.append(json);
  comma_ = true;
  return *this;
}

}  // namespace tram::json
