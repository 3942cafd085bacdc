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

std::optional<PageLead> peek_page(std::string_view body) {
  auto take = [&](std::string_view prefix) {
    if (!body.starts_with(prefix)) return false;
    body.remove_prefix(prefix.size());
    return true;
  };
  PageLead lead;
  if (!take("{\"next\":")) return std::nullopt;
  size_t digits = 0;
  while (digits < body.size() && digits < 19 && body[digits] >= '0' && body[digits] <= '9') {
    lead.next = lead.next * 10 + static_cast<uint64_t>(body[digits++] - '0');
  }
  if (digits == 0) return std::nullopt;
  body.remove_prefix(digits);
  if (take(",\"more\":true")) {
    lead.more = true;
  } else if (!take(",\"more\":false")) {
    return std::nullopt;
  }
  if (take(",\"cursor\":\"")) {
    const size_t end = body.find('"');
    if (end == std::string_view::npos || end > 1100) return std::nullopt;
    lead.cursor = body.substr(0, end);
    if (lead.cursor.find('\\') != std::string::npos) return std::nullopt;  // escapes: not ours
    body.remove_prefix(end + 1);
  }
  // Anything else between the lead and the rows (a member this reader does not know) might be
  // followed by a cursor: no guess.
  if (!body.starts_with(",\"rows\":")) return std::nullopt;
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
    std::string_view b64, sig_hex;
    if (el["cs"].get_string().get(b64) || el["sig"].get_string().get(sig_hex)) {
      it.message = "each item is {\"cs\": base64, \"sig\": hex}";
      continue;
    }
    auto bytes = from_base64(b64);
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
