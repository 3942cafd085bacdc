// validate(): the decoder's rules applied to a change set model, so that a device never signs
// what a receiver would refuse.
#include <cmath>

#include "tram/engine/changeset.hpp"
#include "tram/engine/text.hpp"

namespace tram {
namespace {

constexpr uint64_t kMaxSafeInteger = (uint64_t{1} << 53) - 1;
constexpr uint32_t kMaxFieldId = (uint32_t{1} << 31) - 1;

Status bad(Errc code, const std::string& where, std::string_view what) {
  return {code, where + ": " + std::string(what)};
}

Status check_text(const std::string& s, size_t max, const std::string& where) {
  if (s.size() > max) return bad(Errc::too_large, where, "longer than " + std::to_string(max) + " bytes");
  if (!is_valid_utf8(s)) return bad(Errc::invalid_utf8, where, "not UTF-8");
  if (!is_nfc(s)) return bad(Errc::not_normalized, where, "text must be in Unicode NFC");
  return {};
}

}  // namespace

bool is_valid_schema_id(std::string_view s, size_t max_bytes) noexcept {
  if (s.empty() || s.size() > max_bytes) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.')) return false;
  }
  return true;
}

Status validate(const ChangeSet& cs, const ChangeSetLimits& limits) {
  if (cs.seq == 0 || cs.seq > kMaxSafeInteger) return bad(Errc::out_of_range, "$.seq", "must be 1..2^53-1");
  if ((cs.seq == 1) != !cs.prev) return bad(Errc::invalid_value, "$.prev", "must be null exactly when seq is 1");
  if (cs.hlc.packed < 0 || cs.hlc.wall_ms() > Hlc::kMaxWallMs) return bad(Errc::out_of_range, "$.hlc", "out of range");
  if (cs.author.empty()) return bad(Errc::invalid_value, "$.author", "must not be empty");
  TRAM_RETURN_IF_ERROR(check_text(cs.author, limits.max_author_bytes, "$.author"));
  if (!is_valid_schema_id(cs.schema, limits.max_name_bytes)) {
    return bad(Errc::invalid_value, "$.schema", "not a schema id ([a-z0-9._-])");
  }
  if (cs.ops.empty()) return bad(Errc::invalid_value, "$.ops", "a change set has at least one op");
  if (cs.ops.size() > limits.max_ops) return bad(Errc::too_large, "$.ops", "more than " + std::to_string(limits.max_ops) + " ops");
  for (size_t i = 0; i < cs.ops.size(); ++i) {
    const Op& op = cs.ops[i];
    const std::string where = "$.ops[" + std::to_string(i) + "]";
    if (!is_valid_table_name(op.table, limits.max_name_bytes)) return bad(Errc::invalid_value, where + ".t", "not a table name");
    if (!is_valid_row_id(op.row, limits.max_name_bytes)) return bad(Errc::invalid_value, where + ".id", "not a row id");
    if (op.kind == OpKind::del && !op.fields.empty()) return bad(Errc::unknown_field, where + ".f", "a delete carries no fields");
    if (op.fields.size() > limits.max_fields_per_op) return bad(Errc::too_large, where + ".f", "too many fields");
    if (op.bases.size() > limits.max_fields_per_op + 1) return bad(Errc::too_large, where + ".b", "too many bases");
    for (size_t j = 0; j < op.fields.size(); ++j) {
      const FieldWrite& w = op.fields[j];
      const std::string fw = where + ".f." + std::to_string(w.field);
      if (w.field == 0 || w.field > kMaxFieldId) return bad(Errc::invalid_value, fw, "field ids are 1..2^31-1");
      if (j > 0 && w.field <= op.fields[j - 1].field) return bad(Errc::invalid_value, fw, "fields must be in ascending id order, once each");
      if (const auto* t = std::get_if<Text>(&w.value)) TRAM_RETURN_IF_ERROR(check_text(t->s, limits.max_text_bytes, fw));
      if (const auto* d = std::get_if<double>(&w.value); d && !std::isfinite(*d)) {
        return bad(Errc::out_of_range, fw, "reals must be finite");
      }
      if (const auto* d = std::get_if<Date>(&w.value); d && (d->days < Date::parse("0001-01-01")->days ||
                                                             d->days > Date::parse("9999-12-31")->days)) {
        return bad(Errc::out_of_range, fw, "dates are 0001-01-01..9999-12-31");
      }
    }
    for (size_t j = 0; j < op.bases.size(); ++j) {
      const uint32_t f = op.bases[j].field;
      if (f > kMaxFieldId || (j > 0 && f <= op.bases[j - 1].field)) {
        return bad(Errc::invalid_value, where + ".b." + std::to_string(f), "bases must be in ascending field order, once each");
      }
    }
  }
  return {};
}

}  // namespace tram
