// JSON output: one Writer for every message the engine, the server and the SDK compose
// (receipts, heads, pull pages, push bodies, protocol answers), and the small helpers it is
// built on, shared with the change-set encoder. No spaces, members in the order written.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "tram/engine/value.hpp"

namespace tram::json {

// Appends `s` as a JSON string literal (quotes, backslashes and control characters escaped;
// UTF-8 passed through).
void append_string(std::string& out, std::string_view s);
std::string quote(std::string_view s);

// Appends a field value in the change-set encoding: null or ["tag", value].
void append_value(std::string& out, const Value& v);
// Appends an integer in decimal.
void append_number(std::string& out, int64_t n);
void append_number(std::string& out, uint64_t n);

// Appends JSON to a string it owns, placing the commas itself: after begin_object() write
// key() then a value, as often as needed, then end_object(). It does not check that keys and
// values alternate; the messages it writes are fixed by the protocol and tested by round trip.
//
//   json::Writer w;
//   w.begin_object().key("next").number(7).key("more").boolean(false).end_object();
//   w.str() == R"({"next":7,"more":false})"
class Writer {
 public:
  Writer() = default;
  explicit Writer(size_t reserve) { out_.reserve(reserve); }

  Writer& begin_object() { return open('{'); }
  Writer& end_object() { return close('}'); }
  Writer& begin_array() { return open('['); }
  Writer& end_array() { return close(']'); }
  Writer& key(std::string_view k);
  Writer& string(std::string_view s);
  Writer& number(int64_t n);
  Writer& number(uint64_t n);
  Writer& number(int n) { return number(int64_t{n}); }
  Writer& number(unsigned n) { return number(uint64_t{n}); }
  Writer& number(long long n) { return number(static_cast<int64_t>(n)); }
  Writer& number(unsigned long long n) { return number(static_cast<uint64_t>(n)); }
  Writer& boolean(bool b);
  Writer& null();
  // A field value in the change-set encoding (null or ["tag", v]).
  Writer& value(const Value& v);
  // Hex of `bytes` as a string (keys, hashes, signatures).
  Writer& hex(std::span<const uint8_t> bytes);
  // `json` as one value, verbatim: it must already be JSON (another Writer's output, a signed body
  // embedded as is).
  Writer& raw(std::string_view json);

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }
  size_t size() const { return out_.size(); }

 private:
  void separate() {
    if (comma_) out_.push_back(',');
  }
  Writer& open(char c) {
    separate();
    out_.push_back(c);
    comma_ = false;
    return *this;
  }
  Writer& close(char c) {
    out_.push_back(c);
    comma_ = true;
    return *this;
  }

  std::string out_;
  bool comma_ = false;  // the next value or key is preceded by a comma
};

}  // namespace tram::json
