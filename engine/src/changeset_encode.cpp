// Encoding of change sets (docs/changeset-format.md). Members in a fixed order, no spaces,
// UTF-8 text as is: the output is what gets signed, stored and sent.
#include <type_traits>

#include "tram/engine/changeset.hpp"
#include "tram/engine/json.hpp"

namespace tram {
namespace {

template <typename T>
void put_number(std::string& out, T v) {
  if constexpr (std::is_signed_v<T>) {
    json::append_number(out, static_cast<int64_t>(v));
  } else {
    json::append_number(out, static_cast<uint64_t>(v));
  }
}

void put_writer(std::string& out, WriterId w) {
  uint8_t b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<uint8_t>(w.v >> (8 * (7 - i)));
  out.push_back('"');
  out += to_hex(b);
  out.push_back('"');
}

}  // namespace

WriterId WriterId::of(const Hash& id) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | id[i];
  return WriterId{v};
}

std::optional<WriterId> Op::base_of(uint32_t field) const {
  for (const auto& b : bases) {
    if (b.field == field) return b.writer;
  }
  return std::nullopt;
}

std::string encode(const ChangeSet& cs) {
  std::string out;
  size_t guess = 160;
  for (const auto& op : cs.ops) guess += 80 + 48 * op.fields.size() + 24 * op.bases.size();
  out.reserve(guess);
  out += "{\"v\":";
  put_number(out, ChangeSet::kFormatVersion);
  out += ",\"device\":\"";
  out += to_hex(cs.device);
  out += "\",\"seq\":";
  put_number(out, cs.seq);
  out += ",\"prev\":";
  if (cs.prev) {
    out.push_back('"');
    out += to_hex(*cs.prev);
    out.push_back('"');
  } else {
    out += "null";
  }
  out += ",\"hlc\":[";
  put_number(out, cs.hlc.wall_ms());
  out.push_back(',');
  put_number(out, cs.hlc.counter());
  out += "],\"author\":";
  json::append_string(out, cs.author);
  out += ",\"schema\":";
  json::append_string(out, cs.schema);
  out += ",\"schema_v\":";
  put_number(out, cs.schema_version);
  out += ",\"ops\":[";
  for (size_t i = 0; i < cs.ops.size(); ++i) {
    const Op& op = cs.ops[i];
    if (i) out.push_back(',');
    out += "{\"t\":";
    json::append_string(out, op.table);
    out += ",\"id\":";
    json::append_string(out, op.row);
    out += op.kind == OpKind::put ? ",\"k\":\"put\"" : ",\"k\":\"del\"";
    if (op.kind == OpKind::put) {
      out += ",\"f\":{";
      for (size_t j = 0; j < op.fields.size(); ++j) {
        if (j) out.push_back(',');
        out.push_back('"');
        put_number(out, op.fields[j].field);
        out += "\":";
        json::append_value(out, op.fields[j].value);
      }
      out.push_back('}');
    }
    if (!op.bases.empty()) {
      out += ",\"b\":{";
      for (size_t j = 0; j < op.bases.size(); ++j) {
        if (j) out.push_back(',');
        out.push_back('"');
        put_number(out, op.bases[j].field);
        out += "\":";
        put_writer(out, op.bases[j].writer);
      }
      out.push_back('}');
    }
    out.push_back('}');
  }
  out += "]}";
  return out;
}

SignedChangeSet sign_changeset(const ChangeSet& cs, const DeviceKey& key) {
  SignedChangeSet out;
  out.bytes = encode(cs);
  out.sig = key.sign(out.bytes);
  return out;
}

bool is_valid_table_name(std::string_view s, size_t max_bytes) noexcept {
  if (s.empty() || s.size() > max_bytes || !(s[0] >= 'a' && s[0] <= 'z')) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

bool is_valid_row_id(std::string_view s, size_t max_bytes) noexcept {
  if (s.empty() || s.size() > max_bytes) return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace tram
