#include "tram/engine/wire.hpp"

#include <simdjson.h>

#include "tram/engine/json.hpp"

namespace tram::wire {
namespace dom = simdjson::dom;

namespace {

Status bad(std::string message) { return {Errc::malformed_json, std::move(message)}; }

Result<Value> value_of(dom::element e) {
  if (e.is_null()) return Value{};
  dom::array arr;
  std::string_view tag_s;
  if (e.get_array().get(arr) || arr.size() != 2 || arr.at(0).get_string().get(tag_s)) return bad("value: expected null or [tag, v]");
  const auto tag = value_type_from_tag(tag_s);
  const dom::element v = arr.at(1).value_unsafe();
  if (!tag) return bad("value: unknown tag " + std::string(tag_s));
  switch (*tag) {
    case ValueType::integer:
      if (v.is_int64()) return Value{int64_t(v)};
      break;
    case ValueType::real:
      if (v.is_number()) return Value{double(v)};
      break;
    case ValueType::boolean:
      if (v.is_bool()) return Value{bool(v)};
      break;
    case ValueType::text:
      if (v.is_string()) return Value{Text{std::string(std::string_view(v))}};
      break;
    case ValueType::date:
      if (v.is_string()) {
        if (auto d = Date::parse(std::string_view(v))) return Value{*d};
      }
      break;
    case ValueType::attachment:
      if (v.is_string()) {
        if (auto h = from_hex<32>(std::string_view(v))) return Value{AttachmentRef{*h}};
      }
      break;
    case ValueType::null: break;
  }
  return bad("value: a [\"" + std::string(tag_s) + "\", v] that does not fit its tag");
}

// A pull row's common rank and writer ("r", "w"): cells written by it travel as bare values.
struct CellDefaults {
  int64_t rank = 0;
  const Hash* writer = nullptr;
};

// One cell: null or [value, rank, writer], where the writer is an index into `writers` (a
// pull page) or a full hex id (a stored image, when writers is null); in a pull page also a
// bare value [tag, v] (a string first) written by the row's default writer.
Result<CellImage> cell_of(dom::element e, const std::vector<Hash>* writers, const CellDefaults& defaults = {}) {
  CellImage c;
  if (e.is_null()) return c;
  dom::array a;
  if (e.get_array().get(a)) return bad("cell: expected null or [value, rank, writer]");
  if (defaults.writer && a.size() == 2) {
    dom::element first = a.at(0).value_unsafe();
    if (first.is_string()) {
      auto v = value_of(e);
      if (!v.ok()) return v.status();
      c.value = std::move(v).value();
      c.rank = defaults.rank;
      c.writer = *defaults.writer;
      return c;
    }
  }
  if (a.size() != 3) return bad("cell: expected null or [value, rank, writer]");
  auto v = value_of(a.at(0).value_unsafe());
  if (!v.ok()) return v.status();
  c.value = std::move(v).value();
  if (a.at(1).get_int64().get(c.rank)) return bad("cell: rank is not a 64-bit integer");
  if (writers) {
    uint64_t k = 0;
    if (a.at(2).get_uint64().get(k) || k >= writers->size()) return bad("cell: writer index out of range");
    c.writer = (*writers)[k];
  } else {
    std::string_view hex;
    std::optional<Hash> h;
    if (a.at(2).get_string().get(hex) || !(h = from_hex<32>(hex))) return bad("cell: writer is not 64 hex digits");
    c.writer = *h;
  }
  return c;
}

template <size_t N>
bool hex_member(dom::object o, std::string_view key, std::array<uint8_t, N>& out) {
  std::string_view s;
  if (o[key].get_string().get(s)) return false;
  auto h = from_hex<N>(s);
  if (!h) return false;
  out = *h;
  return true;
}

}  // namespace

Result<Value> parse_value(std::string_view json) {
  dom::parser p;
  dom::element e;
  if (p.parse(json).get(e)) return bad("value: not JSON");
  return value_of(e);
}

std::string head_signed_text(uint64_t server_seq, const Hash& log) {
  return "tram-head-v1:" + std::to_string(server_seq) + ":" + to_hex(log);
}

bool verify_head(const Head& head, const PublicKey& server) {
  return verify_signature(server, head_signed_text(head.server_seq, head.log), head.sig);
}

namespace {

// A forgiving reader of JSON text for peek_page: exact on valid JSON (which is all that matters:
// on anything else parse_pull fails), never reads outside the text, never recurses.
class JsonScan {
 public:
  explicit JsonScan(std::string_view s) : s_(s) {}

  bool at_end() {
    ws();
    return i_ == s_.size();
  }
  bool eat(char c) {
    ws();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  char peek() {
    ws();
    return i_ < s_.size() ? s_[i_] : '\0';
  }

  // A string, unescaped into `out` (UTF-8, as simdjson gives it). false when it is not one.
  bool string(std::string& out) {
    if (!eat('"')) return false;
    out.clear();
    for (;;) {
      const size_t j = s_.find_first_of("\"\\", i_);
      if (j == std::string_view::npos) return false;
      for (size_t k = i_; k < j; ++k) {
        if (static_cast<unsigned char>(s_[k]) < 0x20) return false;  // raw control characters are not JSON
      }
      out.append(s_.substr(i_, j - i_));
      i_ = j + 1;
      if (s_[j] == '"') break;
      if (i_ >= s_.size()) return false;
      const char e = s_[i_++];
      switch (e) {
        case '"': case '\\': case '/': out.push_back(e); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          uint32_t cp = 0;
          if (!hex4(cp)) return false;
          if (cp >= 0xD800 && cp <= 0xDBFF) {  // a high surrogate: its low half must follow
            uint32_t lo = 0;
            if (i_ + 2 > s_.size() || s_[i_] != '\\' || s_[i_ + 1] != 'u') return false;
            i_ += 2;
            if (!hex4(lo) || lo < 0xDC00 || lo > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            return false;
          }
          utf8(cp, out);
          break;
        }
        default: return false;
      }
    }
    return true;
  }

  // An unsigned integer as simdjson's get_uint64 reads it: digits, no sign, fraction or
  // exponent, no leading zero, at most 2^64 - 1 (and -0, which it reads as 0). false for
  // anything else.
  bool uint(uint64_t& v) {
    ws();
    const bool minus = i_ < s_.size() && s_[i_] == '-';
    if (minus) ++i_;
    const size_t start = i_;
    v = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      const auto d = static_cast<uint64_t>(s_[i_] - '0');
      if (v > (UINT64_MAX - d) / 10) return false;
      v = v * 10 + d;
      ++i_;
    }
    const size_t digits = i_ - start;
    if (digits == 0 || (digits > 1 && s_[start] == '0') || (minus && v != 0)) return false;
    return i_ == s_.size() || (s_[i_] != '.' && s_[i_] != 'e' && s_[i_] != 'E');
  }

  bool literal(std::string_view word) {
    ws();
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }

  // Skips one value of any type. Inside objects and arrays only strings need care (they may
  // hold brackets and escaped quotes); on valid JSON, counting brackets finds the end.
  bool skip_value() {
    ws();
    if (i_ >= s_.size()) return false;
    const char c = s_[i_];
    if (c == '"') return skip_string();
    if (c == '{' || c == '[') {
      size_t depth = 0;
      while (i_ < s_.size()) {
        const char d = s_[i_];
        if (d == '"') {
          if (!skip_string()) return false;
          continue;
        }
        ++i_;
        if (d == '{' || d == '[') {
          ++depth;
        } else if (d == '}' || d == ']') {
          if (--depth == 0) return true;
        }
      }
      return false;
    }
    // A number or a literal: up to the next delimiter.
    const size_t start = i_;
    while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != '}' && s_[i_] != ']' && s_[i_] != ' ' && s_[i_] != '\n' &&
           s_[i_] != '\r' && s_[i_] != '\t') {
      ++i_;
    }
    return i_ > start;
  }

 private:
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\r' || s_[i_] == '\t')) ++i_;
  }
  bool skip_string() {
    ++i_;  // the opening quote
    for (;;) {
      const size_t j = s_.find_first_of("\"\\", i_);
      if (j == std::string_view::npos) return false;
      i_ = j + 1;
      if (s_[j] == '"') return true;
      if (i_ >= s_.size()) return false;
      ++i_;  // the escaped character (a \u's digits are plain characters)
    }
  }
  bool hex4(uint32_t& v) {
    if (i_ + 4 > s_.size()) return false;
    v = 0;
    for (int k = 0; k < 4; ++k) {
      const char h = s_[i_++];
      v <<= 4;
      if (h >= '0' && h <= '9') v |= static_cast<uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f') v |= static_cast<uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') v |= static_cast<uint32_t>(h - 'A' + 10);
      else return false;
    }
    return true;
  }
  static void utf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

// Reads the top-level members wherever they stand, as parse_pull does (the first of duplicate
// keys counts, keys are compared unescaped, a cursor that is not a string is no cursor), and
// skips the others — rows included — without building anything. The server writes the lead
// first, but a member after the rows could still be a cursor, so the whole object is walked.
std::optional<PageLead> peek_page(std::string_view body) {
  JsonScan scan(body);
  PageLead lead;
  bool seen_next = false, seen_more = false, seen_cursor = false, seen_rows = false, seen_writers = false,
       seen_head = false;
  if (!scan.eat('{') || scan.peek() == '}') return std::nullopt;
  std::string key;
  for (;;) {
    if (!scan.string(key) || !scan.eat(':')) return std::nullopt;
    if (key == "next" && !seen_next) {
      seen_next = true;
      if (!scan.uint(lead.next)) return std::nullopt;  // parse_pull refuses it too
    } else if (key == "more" && !seen_more) {
      seen_more = true;
      if (scan.literal("true")) lead.more = true;
      else if (scan.literal("false")) lead.more = false;
      else return std::nullopt;
    } else if (key == "cursor" && !seen_cursor) {
      seen_cursor = true;
      if (scan.peek() == '"') {
        if (!scan.string(lead.cursor)) return std::nullopt;
      } else if (!scan.skip_value()) {
        return std::nullopt;
      }
    } else {
      // parse_pull needs rows and writers as arrays and head as an object (their first
      // occurrence): without them it fails, and the lead must not promise a page.
      const char c = scan.peek();
      if (key == "rows" && !seen_rows) {
        seen_rows = true;
        if (c != '[') return std::nullopt;
      } else if (key == "writers" && !seen_writers) {
        seen_writers = true;
        if (c != '[') return std::nullopt;
      } else if (key == "head" && !seen_head) {
        seen_head = true;
        if (c != '{') return std::nullopt;
      }
      if (!scan.skip_value()) return std::nullopt;
    }
    if (scan.eat(',')) continue;
    if (scan.eat('}')) break;
    return std::nullopt;
  }
  if (!scan.at_end() || !seen_next || !seen_more || !seen_rows || !seen_writers || !seen_head) return std::nullopt;
  return lead;
}

struct PullParser::Impl {
  dom::parser parser;
};
PullParser::PullParser() : impl_(std::make_unique<Impl>()) {}
PullParser::~PullParser() = default;

Result<PullPage> parse_pull(std::string_view body, const Schema& schema) {
  thread_local PullParser parser;
  return parser.parse(body, schema);
}

Result<PullPage> PullParser::parse(std::string_view body, const Schema& schema) {
  dom::parser& parser = impl_->parser;
  dom::element root;
  if (parser.parse(body.data(), body.size()).get(root)) return bad("pull: not JSON");
  PullPage page;
  dom::array rows, writers_json;
  dom::object head;
  if (root["rows"].get_array().get(rows) || root["writers"].get_array().get(writers_json) ||
      root["next"].get_uint64().get(page.next) || root["more"].get_bool().get(page.more) ||
      root["head"].get_object().get(head)) {
    return bad("pull: expected rows, writers, next, more and head");
  }
  std::string_view cursor;
  if (!root["cursor"].get_string().get(cursor)) page.cursor = cursor;
  if (head["server_seq"].get_uint64().get(page.head.server_seq) || !hex_member(head, "log", page.head.log) ||
      !hex_member(head, "sig", page.head.sig)) {
    return bad("pull: head is not {server_seq, log, sig}");
  }
  std::vector<Hash> writers;
  writers.reserve(writers_json.size());
  for (dom::element w : writers_json) {
    std::string_view s;
    std::optional<Hash> h;
    if (w.get_string().get(s) || !(h = from_hex<32>(s))) return bad("pull: a writer is not 64 hex digits");
    writers.push_back(*h);
  }
  page.rows.reserve(rows.size());
  for (dom::element r : rows) {
    PulledRow row;
    std::string_view t, id;
    dom::array cells;
    if (r["v"].get_uint64().get(row.version) || r["t"].get_string().get(t) || r["id"].get_string().get(id) ||
        r["c"].get_array().get(cells)) {
      return bad("pull: a row is not {v, t, id, c}");
    }
    const TableDef* def = schema.table(t);
    if (!def) continue;  // a table of a newer schema: this device cannot show it
    if (cells.size() != def->fields.size() + 1) {
      return Status(Errc::schema_mismatch, "pull: " + std::string(t) + " has " + std::to_string(cells.size()) +
                                               " cells, this schema " + std::to_string(def->fields.size() + 1));
    }
    row.table = t;
    row.id = id;
    CellDefaults defaults;
    uint64_t common = 0;
    if (!r["w"].get_uint64().get(common)) {
      if (common >= writers.size() || r["r"].get_int64().get(defaults.rank)) return bad("pull: a row's r and w do not fit");
      defaults.writer = &writers[common];
    }
    row.image.cells.reserve(cells.size());
    for (dom::element c : cells) {
      auto cell = cell_of(c, &writers, defaults);
      if (!cell.ok()) return cell.status();
      row.image.cells.push_back(std::move(cell).value());
    }
    dom::array x;
    if (!r["x"].get_array().get(x)) {
      for (dom::element e : x) {
        dom::array a;
        uint64_t field = 0, w = 0, l = 0;
        if (e.get_array().get(a) || a.size() != 4 || a.at(0).get_uint64().get(field) || a.at(1).get_uint64().get(w) ||
            a.at(2).get_uint64().get(l) || w >= writers.size() || l >= writers.size()) {
          return bad("pull: a conflict is not [field, winner, loser, value]");
        }
        auto v = value_of(a.at(3).value_unsafe());
        if (!v.ok()) return v.status();
        row.conflicts.push_back({row.table, row.id, static_cast<uint32_t>(field), writers[w], writers[l], std::move(v).value()});
      }
    }
    page.rows.push_back(std::move(row));
  }
  return page;
}

std::string row_image_to_json(const RowImage& image) {
  std::string out = "[";
  for (size_t k = 0; k < image.cells.size(); ++k) {
    if (k) out.push_back(',');
    const CellImage& c = image.cells[k];
    if (!c.writer) {
      out += "null";
      continue;
    }
    out.push_back('[');
    json::append_value(out, c.value);
    out += "," + std::to_string(c.rank) + ",\"" + to_hex(*c.writer) + "\"]";
  }
  return out + "]";
}

Result<RowImage> row_image_from_json(std::string_view text) {
  thread_local dom::parser parser;
  dom::array cells;
  if (parser.parse(text.data(), text.size()).get_array().get(cells)) return bad("row image: not a JSON array");
  RowImage image;
  for (dom::element c : cells) {
    auto cell = cell_of(c, nullptr);
    if (!cell.ok()) return cell.status();
    image.cells.push_back(std::move(cell).value());
  }
  return image;
}

Result<Receipt> verify_receipt(std::string_view body, std::string_view sig_hex, const PublicKey& server) {
  Receipt r;
  r.body = body;
  auto sig = from_hex<64>(sig_hex);
  if (!sig) return bad("receipt: signature is not 128 hex digits");
  r.sig = *sig;
  if (!verify_signature(server, body, r.sig)) {
    return Status(Errc::bad_signature, "receipt: the signature does not verify with the server's key");
  }
  dom::parser parser;
  dom::object o;
  std::string_view status;
  if (parser.parse(body).get_object().get(o) || !hex_member(o, "server", r.server) ||
      o["server_seq"].get_uint64().get(r.server_seq) || !hex_member(o, "id", r.id) || !hex_member(o, "device", r.device) ||
      o["seq"].get_uint64().get(r.seq) || o["status"].get_string().get(status) ||
      o["received_at_ms"].get_int64().get(r.received_at_ms) || o["clock_ahead"].get_bool().get(r.clock_ahead) ||
      !hex_member(o, "log", r.log)) {
    return bad("receipt: body lacks a member of §9.1");
  }
  if (r.server != server) return Status(Errc::bad_signature, "receipt: names another server key");
  r.accepted = status == "accepted";
  std::string_view code;
  if (!o["code"].get_string().get(code)) r.code = code;
  return r;
}

Result<std::vector<PushItem>> read_push_body(std::string_view body, size_t max_items) {
  dom::parser parser;
  dom::element root;
  dom::array items;
  if (auto e = parser.parse(body).get(root)) return bad(std::string("request body is not JSON: ") + simdjson::error_message(e));
  if (root["changesets"].get_array().get(items)) return bad("expected {\"changesets\": [...]}");
  if (items.size() > max_items) {
    return Status(Errc::too_large, std::to_string(items.size()) + " change sets in one push, limit " + std::to_string(max_items));
  }
  std::vector<PushItem> out(items.size());
  size_t i = 0;
  for (dom::element el : items) {
    PushItem& it = out[i++];
    std::string_view b64, text, sig_hex;
    // "csj": the bytes as a JSON string (protocol.md §7.1), so that gzip sees the change set's
    // text rather than its base64; exactly one of "cs" and "csj".
    const bool has_cs = !el["cs"].get_string().get(b64), has_csj = !el["csj"].get_string().get(text);
    if (has_cs == has_csj || el["sig"].get_string().get(sig_hex)) {
      it.message = "each item is {\"cs\": base64, \"sig\": hex} or {\"csj\": string, \"sig\": hex}";
      continue;
    }
    auto bytes = has_cs ? from_base64(b64) : std::optional<std::string>(std::string(text));
    auto sig = from_hex<64>(sig_hex);
    if (!bytes || !sig) {
      it.message = "cs must be base64 and sig 128 hex digits";
      continue;
    }
    it.cs = SignedChangeSet{std::move(*bytes), *sig};
  }
  return out;
}

}  // namespace tram::wire
