// Command-line plumbing for tram-field: the command grammar (parsed with CLI11 in main.cpp), the
// JSON of --json (over json::Writer), and text helpers (column padding by characters, dates and
// times in UTC).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tram/engine/json.hpp"
#include "tram/engine/value.hpp"

namespace tram::field {

// One command's grammar: options that take a value, flags, and how many positionals. The texts
// are English msgids, translated where they are shown (po/tram-field/).
struct CommandSpec {
  std::string name;
  std::string usage;    // the synopsis after "tram-field "
  std::string summary;  // one line for the command list
  std::string help;     // the rest of --help
  std::set<std::string> values, flags, repeatable;
  size_t positionals = 0;
  std::set<std::string> required = {};  // options the command cannot run without
};

struct Args {
  std::string command;
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> options;  // repeated options keep every value
  bool has(const std::string& k) const { return options.count(k) > 0; }
  std::string get(const std::string& k, const std::string& def = "") const {
    auto it = options.find(k);
    return it == options.end() || it->second.empty() ? def : it->second.back();
  }
  const std::vector<std::string>& all(const std::string& k) const;
};

// Options every command takes.
const std::set<std::string>& global_values();
const std::set<std::string>& global_flags();

// "did you mean --csv?" for a word close to one of `known` (edit distance ≤ 2 or a prefix), or "".
std::string closest(const std::string& word, const std::set<std::string>& known);

// One JSON document for --json: the engine's json::Writer (commas and nesting placed by it), with
// the shorthands the commands use and values as plain JSON (numbers, text, dates as text).
class Json {
 public:
  Json& begin_object() { return wrap(w_.begin_object()); }
  Json& end_object() { return wrap(w_.end_object()); }
  Json& begin_array() { return wrap(w_.begin_array()); }
  Json& end_array() { return wrap(w_.end_array()); }
  Json& key(std::string_view k) { return wrap(w_.key(k)); }
  Json& str(std::string_view s) { return wrap(w_.string(s)); }
  Json& num(double d);
  Json& num(int64_t i) { return wrap(w_.number(i)); }
  Json& num(uint64_t u) { return wrap(w_.number(u)); }
  Json& boolean(bool b) { return wrap(w_.boolean(b)); }
  Json& null() { return wrap(w_.null()); }
  Json& raw(std::string_view json) { return wrap(w_.raw(json)); }  // an already-encoded value
  Json& value(const Value& v);
  // Shorthands for object members.
  Json& kv(std::string_view k, std::string_view s) { return key(k).str(s); }
  Json& kv(std::string_view k, const char* s) { return key(k).str(s); }
  Json& kv(std::string_view k, const std::string& s) { return key(k).str(s); }
  Json& kv(std::string_view k, bool b) { return key(k).boolean(b); }
  Json& kv(std::string_view k, int64_t i) { return key(k).num(i); }
  Json& kv(std::string_view k, uint64_t u) { return key(k).num(u); }
  Json& kv(std::string_view k, int i) { return key(k).num(static_cast<int64_t>(i)); }
  const std::string& str() const { return w_.str(); }

 private:
  Json& wrap(json::Writer&) { return *this; }
  json::Writer w_;
};

// A value as plain text for screens: numbers without trailing zeros, dates, hashes in hex.
std::string value_text(const Value& v);

// Pads (or cuts, with "…") to `width` characters; Vietnamese letters are several bytes.
std::string cell(std::string_view s, size_t width);
// The same without the padding, for the last thing on a line.
std::string clip(std::string_view s, size_t width);
// `s` broken at spaces into lines of at most `width` characters (a longer word stays whole),
// each starting with `indent` and ending with a newline.
std::string wrap(std::string_view s, size_t width, std::string_view indent);
size_t char_count(std::string_view s);
std::string shortest(double d);

// Dates and times from milliseconds since the epoch, in UTC.
Date date_of_ms(int64_t ms);
std::string iso_utc(int64_t ms);          // 2026-06-03T02:12:40Z
std::string human_time(int64_t ms);       // 2026-06-03 09:12:40 (giờ Việt Nam, UTC+7)

// "78,5" and "78.5" both read as 78.5: Vietnamese writes a decimal comma.
bool parse_number(std::string_view s, double& out);

}  // namespace tram::field
