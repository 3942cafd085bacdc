#include "tram/engine/schema.hpp"

#include <set>

#include "tram/engine/changeset.hpp"

namespace tram {

const FieldDef* TableDef::field(uint32_t id) const {
  for (const auto& f : fields) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

const TableDef* Schema::table(std::string_view name) const {
  for (const auto& t : tables) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

Status Schema::validate() const {
  std::set<std::string_view> table_names;
  for (const auto& t : tables) {
    if (!is_valid_table_name(t.name) || t.name.starts_with("_tram")) {
      return {Errc::invalid_value, "table \"" + t.name + "\": not a valid table name"};
    }
    if (!table_names.insert(t.name).second) return {Errc::invalid_value, "table \"" + t.name + "\" twice"};
    std::set<uint32_t> ids;
    std::set<std::string_view> names;
    for (const auto& f : t.fields) {
      // Columns starting with "_" hold merge metadata; "id" is the row id.
      if (!is_valid_table_name(f.name) || f.name == "id") {
        return {Errc::invalid_value, t.name + "." + f.name + ": not a valid field name"};
      }
      if (f.id == 0) return {Errc::invalid_value, t.name + "." + f.name + ": field id 0 is reserved"};
      if (f.type == ValueType::null) return {Errc::invalid_value, t.name + "." + f.name + ": a field cannot be of type null"};
      if (!ids.insert(f.id).second) return {Errc::invalid_value, t.name + ": field id " + std::to_string(f.id) + " twice"};
      if (!names.insert(f.name).second) return {Errc::invalid_value, t.name + ": field \"" + f.name + "\" twice"};
    }
  }
  return {};
}

}  // namespace tram
