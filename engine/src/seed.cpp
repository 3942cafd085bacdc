#include "tram/engine/seed.hpp"

#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tram/engine/text.hpp"

namespace tram {
namespace {

namespace dom = simdjson::dom;

Result<Value> to_value(const FieldDef& f, dom::element e) {
  if (e.is_null()) return Value{};
  switch (f.type) {
    case ValueType::integer:
      if (e.is_int64()) return Value{int64_t(e)};
      break;
    case ValueType::real:
      if (e.is_number()) return Value{double(e)};
      break;
    case ValueType::boolean:
      if (e.is_bool()) return Value{bool(e)};
      break;
    case ValueType::text:
      if (e.is_string()) return make_text(std::string_view(e));
      break;
    case ValueType::date:
      if (e.is_string()) {
        if (auto d = Date::parse(std::string_view(e))) return Value{*d};
      }
      break;
    case ValueType::attachment:
      if (e.is_string()) {
        if (auto h = from_hex<32>(std::string_view(e))) return Value{AttachmentRef{*h}};
      }
      break;
    case ValueType::null: break;
  }
  return Status(Errc::type_mismatch, "expected " + std::string(value_type_name(f.type)));
}

Status load_file(const std::string& path, const Schema& schema, std::vector<std::pair<size_t, Op>>& out) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  dom::parser parser;
  const simdjson::padded_string padded(ss.str());
  dom::element root;
  if (auto err = parser.parse(padded).get(root)) return {Errc::malformed_json, path + ": " + simdjson::error_message(err)};
  std::string_view table_name;
  dom::array rows;
  if (root["table"].get_string().get(table_name) || root["rows"].get_array().get(rows)) {
    return {Errc::invalid_value, path + ": expected {\"table\": …, \"rows\": […]}"};
  }
  const TableDef* t = schema.table(table_name);
  if (!t) return {Errc::unknown_table, path + ": no table \"" + std::string(table_name) + "\" in " + schema.id};
  const size_t order = static_cast<size_t>(t - schema.tables.data());
  size_t i = 0;
  for (dom::element row : rows) {
    const std::string where = path + ": rows[" + std::to_string(i++) + "]";
    dom::object obj;
    std::string_view id;
    if (row.get_object().get(obj) || row["id"].get_string().get(id)) return {Errc::invalid_value, where + ": needs a string \"id\""};
    if (!is_valid_row_id(id)) return {Errc::invalid_value, where + ": \"" + std::string(id) + "\" is not a row id"};
    Op op{t->name, std::string(id), OpKind::put, {}, {}};
    for (auto [key, value] : obj) {
      if (key == "id") continue;
      const FieldDef* f = t->field(key);
      if (!f) return {Errc::unknown_field_id, where + ": no field \"" + std::string(key) + "\" in " + t->name};
      auto v = to_value(*f, value);
      if (!v.ok()) return {v.code(), where + "." + f->name + ": " + v.status().message()};
      TRAM_RETURN_IF_ERROR(check_value(*t, id, *f, *v));
      op.fields.push_back({f->id, std::move(v).value()});
    }
    for (const FieldDef& f : t->fields) {
      const bool present = std::any_of(op.fields.begin(), op.fields.end(), [&](const FieldWrite& w) { return w.field == f.id; });
      if (f.required && !present) return {Errc::invalid_value, where + "." + f.name + ": required"};
    }
    std::sort(op.fields.begin(), op.fields.end(), [](const FieldWrite& a, const FieldWrite& b) { return a.field < b.field; });
    out.emplace_back(order, std::move(op));
  }
  return {};
}

}  // namespace

Result<std::vector<Op>> load_seed_rows(const std::string& dir, const Schema& schema) {
  std::vector<std::string> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".json") files.push_back(entry.path().string());
  }
  if (ec) return Status(Errc::not_found, "cannot list seed directory " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<std::pair<size_t, Op>> ordered;
  for (const auto& f : files) TRAM_RETURN_IF_ERROR(load_file(f, schema, ordered));
  std::stable_sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Op> out;
  out.reserve(ordered.size());
  for (auto& [order, op] : ordered) out.push_back(std::move(op));
  return out;
}

}  // namespace tram
