// The schema object the engine applies change sets against: tables and their typed fields,
// each with a stable numeric id. (The JSON schema-file format and its loader build on this.)
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tram/engine/status.hpp"
#include "tram/engine/value.hpp"

namespace tram {

struct FieldDef {
  uint32_t id = 0;    // >= 1, never reused; 0 is the row's liveness
  std::string name;   // the SQL column name
  ValueType type = ValueType::text;
};

struct TableDef {
  std::string name;
  std::vector<FieldDef> fields;
  const FieldDef* field(uint32_t id) const;
};

struct Schema {
  std::string id;
  uint32_t version = 0;
  std::vector<TableDef> tables;
  const TableDef* table(std::string_view name) const;
  // Names valid and unique, field ids >= 1 and unique per table, no reserved column names.
  Status validate() const;
};

}  // namespace tram
