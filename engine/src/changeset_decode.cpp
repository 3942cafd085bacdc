// Decoding and validation of change sets with simdjson's DOM parser, which validates the
// whole document (syntax, UTF-8, nesting depth) before we walk it. Every failure names the
// JSON path and has its own code. Longer than ~400 lines on purpose: one decoder per member of
// the format (docs/changeset-format.md), in the format's order, so the file reads as the spec.
#include <simdjson.h>

#include <algorithm>

#include "tram/engine/changeset.hpp"
#include "tram/engine/text.hpp"

namespace tram {
namespace {

namespace dom = simdjson::dom;

constexpr uint64_t kMaxSafeInteger = (uint64_t{1} << 53) - 1;  // exact in every JSON reader
constexpr uint64_t kMaxFieldId = (uint64_t{1} << 31) - 1;

Status fail(Errc code, std::string_view path, std::string_view what) {
  std::string msg(path);
  msg += ": ";
  msg += what;
  return {code, std::move(msg)};
}

// True when every number token outside strings follows the JSON grammar. simdjson reports
// both "1e999" and "1.e" as NUMBER_ERROR; only this error path tells them apart.
bool numbers_well_formed(std::string_view s) {
  bool in_string = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (c != '-' && !(c >= '0' && c <= '9')) continue;
    auto digit = [&](size_t k) { return k < s.size() && s[k] >= '0' && s[k] <= '9'; };
    size_t k = i + (c == '-' ? 1 : 0);
    if (!digit(k)) return false;
    if (s[k] == '0' && digit(k + 1)) return false;  // leading zero
    while (digit(k)) ++k;
    if (k < s.size() && s[k] == '.') {
      if (!digit(++k)) return false;
      while (digit(k)) ++k;
    }
    if (k < s.size() && (s[k] == 'e' || s[k] == 'E')) {
      ++k;
      if (k < s.size() && (s[k] == '+' || s[k] == '-')) ++k;
      if (!digit(k)) return false;
      while (digit(k)) ++k;
    }
    i = k - 1;
  }
  return true;
}

Errc parse_error_code(simdjson::error_code e, std::string_view bytes) {
  if (e == simdjson::NUMBER_ERROR) return numbers_well_formed(bytes) ? Errc::out_of_range : Errc::malformed_json;
  switch (e) {
    case simdjson::DEPTH_ERROR: return Errc::too_deep;
    case simdjson::UTF8_ERROR: return Errc::invalid_utf8;
    case simdjson::NUMBER_OUT_OF_RANGE: return Errc::out_of_range;
    case simdjson::CAPACITY: return Errc::too_large;
    default: return Errc::malformed_json;
  }
}

// Calls fn(key, value) for each member, failing on duplicate keys.
template <typename Fn>
Status for_each_member(dom::object obj, std::string_view path, Fn&& fn) {
  // Objects here are small (< 300 members): a sorted vector beats a hash set.
  std::vector<std::string_view> seen;
  seen.reserve(obj.size());
  for (auto [key, value] : obj) {
    seen.push_back(key);
    TRAM_RETURN_IF_ERROR(fn(key, value));
  }
  std::sort(seen.begin(), seen.end());
  auto dup = std::adjacent_find(seen.begin(), seen.end());
  if (dup != seen.end()) return fail(Errc::duplicate_key, path, "duplicate member \"" + std::string(*dup) + "\"");
  return {};
}

Result<std::string_view> get_string(dom::element e, std::string_view path) {
  std::string_view s;
  if (e.get_string().get(s)) return fail(Errc::wrong_type, path, "expected a string");
  return s;
}

Result<uint64_t> get_uint(dom::element e, std::string_view path, uint64_t max) {
  if (e.is_int64()) {
    const int64_t v = int64_t(e);
    if (v < 0 || static_cast<uint64_t>(v) > max) {
      return fail(Errc::out_of_range, path, "must be between 0 and " + std::to_string(max));
    }
    return static_cast<uint64_t>(v);
  }
  if (e.is_uint64()) return fail(Errc::out_of_range, path, "must be at most " + std::to_string(max));
  return fail(Errc::wrong_type, path, "expected an integer");
}

Result<std::string> get_text(dom::element e, std::string_view path, size_t max_bytes) {
  auto s = get_string(e, path);
  if (!s.ok()) return s.status();
  if (s->size() > max_bytes) {
    return fail(Errc::too_large, path, "longer than " + std::to_string(max_bytes) + " bytes");
  }
  if (!is_nfc(*s)) return fail(Errc::not_normalized, path, "text must be in Unicode NFC");
  return std::string(*s);
}

template <size_t N>
Result<std::array<uint8_t, N>> get_hex(dom::element e, std::string_view path) {
  auto s = get_string(e, path);
  if (!s.ok()) return s.status();
  const bool lower = std::none_of(s->begin(), s->end(), [](char c) { return c >= 'A' && c <= 'F'; });
  auto bytes = from_hex<N>(*s);
  if (!bytes || !lower) {
    return fail(Errc::invalid_value, path, "expected " + std::to_string(2 * N) + " lowercase hex digits");
  }
  return *bytes;
}

// A decimal member name: field ids in "f" (1..2^31-1) and "b" (0..2^31-1).
Result<uint32_t> parse_field_id(std::string_view key, std::string_view path, uint32_t min) {
  uint64_t v = 0;
  const bool digits = !key.empty() && key.size() <= 10 &&
                      std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits) {
    for (char c : key) v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (!digits || (key.size() > 1 && key[0] == '0') || v < min || v > kMaxFieldId) {
    return fail(Errc::invalid_value, path,
                "\"" + std::string(key) + "\" is not a field id (" + std::to_string(min) + "..2147483647)");
  }
  return static_cast<uint32_t>(v);
}

Result<Value> decode_value(dom::element e, const std::string& path, const ChangeSetLimits& limits) {
  if (e.is_null()) return Value{};
  dom::array arr;
  if (e.get_array().get(arr)) return fail(Errc::wrong_type, path, "expected null or [type, value]");
  if (arr.size() != 2) return fail(Errc::invalid_value, path, "expected exactly [type, value]");
  auto tag_s = get_string(arr.at(0).value_unsafe(), path + "[0]");
  if (!tag_s.ok()) return tag_s.status();
  auto tag = value_type_from_tag(*tag_s);
  if (!tag || *tag == ValueType::null) {
    return fail(Errc::invalid_value, path, "unknown value type \"" + std::string(*tag_s) + "\"");
  }
  const dom::element v = arr.at(1).value_unsafe();
  const std::string vpath = path + "[1]";
  switch (*tag) {
    case ValueType::integer:
      if (v.is_int64()) return Value{int64_t(v)};
      if (v.is_uint64()) return fail(Errc::out_of_range, vpath, "integer beyond 64-bit signed range");
      return fail(Errc::wrong_type, vpath, "expected an integer");
    case ValueType::real:
      if (v.is_number()) return Value{double(v)};
      return fail(Errc::wrong_type, vpath, "expected a number");
    case ValueType::boolean:
      if (v.is_bool()) return Value{bool(v)};
      return fail(Errc::wrong_type, vpath, "expected true or false");
    case ValueType::text: {
      auto t = get_text(v, vpath, limits.max_text_bytes);
      if (!t.ok()) return t.status();
      return Value{Text{std::move(t).value()}};
    }
    case ValueType::date: {
      auto s = get_string(v, vpath);
      if (!s.ok()) return s.status();
      auto d = Date::parse(*s);
      if (!d) return fail(Errc::invalid_value, vpath, "expected a date YYYY-MM-DD");
      return Value{*d};
    }
    case ValueType::attachment: {
      auto h = get_hex<32>(v, vpath);
      if (!h.ok()) return h.status();
      return Value{AttachmentRef{*h}};
    }
    case ValueType::null: break;
  }
  return fail(Errc::invalid_value, path, "unknown value type");
}

Status decode_op(dom::element e, const std::string& path, const ChangeSetLimits& limits, Op& op) {
  dom::object obj;
  if (e.get_object().get(obj)) return fail(Errc::wrong_type, path, "expected an object");
  bool has_t = false, has_id = false, has_k = false;
  dom::element f_elem, b_elem;
  bool has_f = false, has_b = false;
  TRAM_RETURN_IF_ERROR(for_each_member(obj, path, [&](std::string_view key, dom::element v) -> Status {
    const std::string mpath = path + "." + std::string(key);
    if (key == "t") {
      auto s = get_string(v, mpath);
      if (!s.ok()) return s.status();
      if (!is_valid_table_name(*s, limits.max_name_bytes)) {
        return fail(Errc::invalid_value, mpath, "not a table name ([a-z][a-z0-9_]*)");
      }
      op.table = *s;
      has_t = true;
    } else if (key == "id") {
      auto s = get_string(v, mpath);
      if (!s.ok()) return s.status();
      if (!is_valid_row_id(*s, limits.max_name_bytes)) {
        return fail(Errc::invalid_value, mpath, "not a row id ([A-Za-z0-9._:-], 1..64 bytes)");
      }
      op.row = *s;
      has_id = true;
    } else if (key == "k") {
      auto s = get_string(v, mpath);
      if (!s.ok()) return s.status();
      if (*s == "put") op.kind = OpKind::put;
      else if (*s == "del") op.kind = OpKind::del;
      else return fail(Errc::invalid_value, mpath, "expected \"put\" or \"del\"");
      has_k = true;
    } else if (key == "f") {
      f_elem = v;
      has_f = true;
    } else if (key == "b") {
      b_elem = v;
      has_b = true;
    } else {
      return fail(Errc::unknown_field, mpath, "unknown member");
    }
    return {};
  }));
  if (!has_t) return fail(Errc::missing_field, path, "missing \"t\"");
  if (!has_id) return fail(Errc::missing_field, path, "missing \"id\"");
  if (!has_k) return fail(Errc::missing_field, path, "missing \"k\"");
  if (op.kind == OpKind::put && !has_f) return fail(Errc::missing_field, path, "missing \"f\"");
  if (op.kind == OpKind::del && has_f) return fail(Errc::unknown_field, path + ".f", "a delete carries no fields");
  if (has_f) {
    dom::object fobj;
    const std::string fpath = path + ".f";
    if (f_elem.get_object().get(fobj)) return fail(Errc::wrong_type, fpath, "expected an object");
    if (fobj.size() > limits.max_fields_per_op) {
      return fail(Errc::too_large, fpath, "more than " + std::to_string(limits.max_fields_per_op) + " fields");
    }
    op.fields.reserve(fobj.size());
    TRAM_RETURN_IF_ERROR(for_each_member(fobj, fpath, [&](std::string_view key, dom::element v) -> Status {
      const std::string vpath = fpath + "." + std::string(key);
      auto id = parse_field_id(key, vpath, 1);
      if (!id.ok()) return id.status();
      auto value = decode_value(v, vpath, limits);
      if (!value.ok()) return value.status();
      op.fields.push_back(FieldWrite{*id, std::move(value).value()});
      return {};
    }));
    std::sort(op.fields.begin(), op.fields.end(),
              [](const FieldWrite& a, const FieldWrite& b) { return a.field < b.field; });
    for (size_t i = 1; i < op.fields.size(); ++i) {
      if (op.fields[i].field == op.fields[i - 1].field) {
        return fail(Errc::duplicate_key, fpath, "field " + std::to_string(op.fields[i].field) + " twice");
      }
    }
  }
  if (has_b) {
    dom::object bobj;
    const std::string bpath = path + ".b";
    if (b_elem.get_object().get(bobj)) return fail(Errc::wrong_type, bpath, "expected an object");
    if (bobj.size() > limits.max_fields_per_op + 1) return fail(Errc::too_large, bpath, "too many bases");
    TRAM_RETURN_IF_ERROR(for_each_member(bobj, bpath, [&](std::string_view key, dom::element v) -> Status {
      const std::string vpath = bpath + "." + std::string(key);
      auto id = parse_field_id(key, vpath, 0);
      if (!id.ok()) return id.status();
      auto w = get_hex<8>(v, vpath);
      if (!w.ok()) return w.status();
      uint64_t x = 0;
      for (uint8_t byte : *w) x = x << 8 | byte;
      op.bases.push_back(FieldBase{*id, WriterId{x}});
      return {};
    }));
    std::sort(op.bases.begin(), op.bases.end(),
              [](const FieldBase& a, const FieldBase& b) { return a.field < b.field; });
    for (size_t i = 1; i < op.bases.size(); ++i) {
      if (op.bases[i].field == op.bases[i - 1].field) {
        return fail(Errc::duplicate_key, bpath, "field " + std::to_string(op.bases[i].field) + " twice");
      }
    }
  }
  return {};
}

dom::parser& thread_parser(const ChangeSetLimits& limits) {
  // simdjson counts the document itself as a level, hence max_depth + 1.
  // One parser per thread, reused: allocating its buffers costs more than parsing a change set.
  thread_local dom::parser parser;
  thread_local size_t capacity = 0, depth = 0;
  if (capacity != limits.max_bytes || depth != limits.max_depth) {
    if (parser.allocate(limits.max_bytes, limits.max_depth + 1) == simdjson::SUCCESS) {
      capacity = limits.max_bytes;
      depth = limits.max_depth;
    }
  }
  return parser;
}

}  // namespace

Result<ChangeSet> decode(std::string_view bytes, const ChangeSetLimits& limits) {
  if (bytes.size() > limits.max_bytes) {
    return fail(Errc::too_large, "$", std::to_string(bytes.size()) + " bytes, limit " +
                                          std::to_string(limits.max_bytes));
  }
  dom::parser& parser = thread_parser(limits);
  const simdjson::padded_string padded(bytes);
  dom::element root;
  if (auto err = parser.parse(padded).get(root)) {
    return fail(parse_error_code(err, bytes), "$", simdjson::error_message(err));
  }
  dom::object obj;
  if (root.get_object().get(obj)) return fail(Errc::wrong_type, "$", "expected an object");

  // The version decides how to read everything else, so it is checked first.
  dom::element v_elem;
  if (obj["v"].get(v_elem)) return fail(Errc::missing_field, "$", "missing \"v\"");
  auto version = get_uint(v_elem, "$.v", kMaxSafeInteger);
  if (!version.ok()) return version.status();
  if (*version != ChangeSet::kFormatVersion) {
    return fail(Errc::unsupported_version, "$.v", "format version " + std::to_string(*version) +
                                                      " is not supported (this reader knows 1)");
  }

  ChangeSet cs;
  enum Seen : unsigned { kDevice = 1, kSeq = 2, kPrev = 4, kHlc = 8, kAuthor = 16, kSchema = 32, kSchemaV = 64, kOps = 128 };
  unsigned seen = 0;
  Status st = for_each_member(obj, "$", [&](std::string_view key, dom::element e) -> Status {
    const std::string path = "$." + std::string(key);
    if (key == "v") return {};
    if (key == "device") {
      auto k = get_hex<32>(e, path);
      if (!k.ok()) return k.status();
      cs.device = *k;
      seen |= kDevice;
    } else if (key == "seq") {
      auto s = get_uint(e, path, kMaxSafeInteger);
      if (!s.ok()) return s.status();
      if (*s == 0) return fail(Errc::out_of_range, path, "sequence numbers start at 1");
      cs.seq = *s;
      seen |= kSeq;
    } else if (key == "prev") {
      if (!e.is_null()) {
        auto h = get_hex<32>(e, path);
        if (!h.ok()) return h.status();
        cs.prev = *h;
      }
      seen |= kPrev;
    } else if (key == "hlc") {
      dom::array arr;
      if (e.get_array().get(arr)) return fail(Errc::wrong_type, path, "expected [wall_ms, counter]");
      if (arr.size() != 2) return fail(Errc::invalid_value, path, "expected [wall_ms, counter]");
      auto wall = get_uint(arr.at(0).value_unsafe(), path + "[0]", Hlc::kMaxWallMs);
      if (!wall.ok()) return wall.status();
      auto counter = get_uint(arr.at(1).value_unsafe(), path + "[1]", Hlc::kMaxCounter);
      if (!counter.ok()) return counter.status();
      cs.hlc = Hlc::from_parts(static_cast<int64_t>(*wall), static_cast<uint32_t>(*counter));
      seen |= kHlc;
    } else if (key == "author") {
      auto t = get_text(e, path, limits.max_author_bytes);
      if (!t.ok()) return t.status();
      if (t->empty()) return fail(Errc::invalid_value, path, "must not be empty");
      cs.author = std::move(t).value();
      seen |= kAuthor;
    } else if (key == "schema") {
      auto s = get_string(e, path);
      if (!s.ok()) return s.status();
      if (!is_valid_schema_id(*s, limits.max_name_bytes)) return fail(Errc::invalid_value, path, "not a schema id ([a-z0-9._-])");
      cs.schema = *s;
      seen |= kSchema;
    } else if (key == "schema_v") {
      auto s = get_uint(e, path, 0xffffffffu);
      if (!s.ok()) return s.status();
      cs.schema_version = static_cast<uint32_t>(*s);
      seen |= kSchemaV;
    } else if (key == "ops") {
      dom::array arr;
      if (e.get_array().get(arr)) return fail(Errc::wrong_type, path, "expected an array");
      if (arr.size() == 0) return fail(Errc::invalid_value, path, "a change set has at least one op");
      if (arr.size() > limits.max_ops) {
        return fail(Errc::too_large, path, "more than " + std::to_string(limits.max_ops) + " ops");
      }
      cs.ops.resize(arr.size());
      size_t i = 0;
      for (dom::element op : arr) {
        TRAM_RETURN_IF_ERROR(decode_op(op, path + "[" + std::to_string(i) + "]", limits, cs.ops[i]));
        ++i;
      }
      seen |= kOps;
    } else {
      return fail(Errc::unknown_field, path, "unknown member");
    }
    return {};
  });
  if (!st.ok()) return st;
  static constexpr std::pair<unsigned, const char*> kRequired[] = {
      {kDevice, "device"}, {kSeq, "seq"}, {kPrev, "prev"}, {kHlc, "hlc"}, {kAuthor, "author"},
      {kSchema, "schema"}, {kSchemaV, "schema_v"}, {kOps, "ops"}};
  for (auto [bit, name] : kRequired) {
    if (!(seen & bit)) return fail(Errc::missing_field, "$", std::string("missing \"") + name + "\"");
  }
  if ((cs.seq == 1) != !cs.prev) {
    return fail(Errc::invalid_value, "$.prev", "must be null exactly when seq is 1");
  }
  return cs;
}

}  // namespace tram
