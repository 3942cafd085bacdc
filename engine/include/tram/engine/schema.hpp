// The schema object the engine applies and checks change sets against: tables, typed fields
// with stable numeric ids and constraints, scoping, write rules by role and workflows.
// Loaded from the JSON files in schemas/ (schema_loader.hpp, docs/schema-format.md).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tram/engine/status.hpp"
#include "tram/engine/value.hpp"

namespace re2 {
class RE2;
}

namespace tram {

// Who writes. The schema's write rules name these.
enum class Role : uint8_t { official, department, reviewer, admin };
std::string_view role_name(Role r) noexcept;
std::optional<Role> role_from_name(std::string_view s) noexcept;

// How a field's stored type is used: enums and references are text on the wire.
enum class FieldKind : uint8_t { plain, enumeration, reference };

// How concurrent or later writes of a field are treated.
enum class MergeRule : uint8_t {
  field_level,  // the engine's field-level merge (docs/merge.md)
  immutable,    // set at creation; a later write of another value is refused
  workflow,     // changed only by the table's workflow transitions
};

struct FieldDef {
  uint32_t id = 0;    // >= 1, never reused; 0 is the row's liveness
  std::string name;   // the SQL column name
  ValueType type = ValueType::text;
  FieldKind kind = FieldKind::plain;
  bool required = false;              // present and non-null at creation, never set to null
  std::optional<double> min{}, max{};  // integer and real
  std::optional<uint32_t> max_length{};  // text, in Unicode code points
  std::string pattern{};               // text: a regular expression the whole value must match
  // RE2, not std::regex: its matching is linear and does not recurse, so a long value a device
  // sends cannot overflow the stack (std::regex did at ~100 KB of input, ~20 KB of pattern).
  std::shared_ptr<const re2::RE2> compiled_pattern{};
  std::vector<std::string> values{};   // enumeration: allowed values
  std::string ref_table{};             // reference: the table whose row id this holds
  MergeRule merge = MergeRule::field_level;
  std::string label{};                 // Vietnamese label for screens and reports
  uint32_t since = 1;                 // schema version that added it
};

enum class TableKind : uint8_t {
  record,     // written by devices within their scope
  reference,  // written by administrators, read by every device in scope
};

// What one role may do to a table. `fields` empty: every field.
struct WriteRule {
  Role role = Role::official;
  bool insert = false, update = false, del = false;
  std::vector<uint32_t> fields{};
};

struct TransitionDef {
  std::string from, to;
  std::vector<Role> roles;
  std::vector<uint32_t> requires_fields;  // must be non-empty after the transition
  std::vector<uint32_t> allows_fields;    // may be written with it outside an editable state
};

// A state machine on one enumeration field, e.g. draft -> submitted -> accepted | returned.
struct WorkflowDef {
  uint32_t field = 0;
  std::string initial;                 // the state a new row must start in (or reach by a transition)
  std::vector<std::string> editable;   // states in which other fields may be edited…
  std::vector<Role> editors;           // …and by whom (empty: any role allowed to update)
  std::vector<std::string> locked;     // states in which nothing may change
  std::vector<TransitionDef> transitions;
  const TransitionDef* find(std::string_view from, std::string_view to) const;
};

struct TableDef {
  std::string name;
  std::vector<FieldDef> fields;
  TableKind kind = TableKind::record;
  std::optional<uint32_t> scope_field{};  // text field holding the unit code the row belongs to
  std::optional<uint32_t> author_field{};  // text field holding the writer's name (checked by authorize)
  bool province_wide = false;           // reference rows without a unit: readable by all
  std::vector<WriteRule> write{};
  std::optional<WorkflowDef> workflow{};
  std::string label{};
  uint32_t since = 1;

  const FieldDef* field(uint32_t id) const;
  const FieldDef* field(std::string_view name) const;
  const WriteRule* rule_for(Role role) const;
};

struct Schema {
  std::string id;
  uint32_t version = 0;
  std::vector<TableDef> tables{};
  const TableDef* table(std::string_view name) const;
  // Names valid and unique, field ids >= 1 and unique per table, no reserved column names,
  // references, scopes and workflows pointing at fields and tables that exist.
  Status validate() const;
};

// Checks one value against its field's constraints. The error names table, row, field and
// the rule broken: "progress_report/0190…/value: min 0 (got -5)".
Status check_value(const TableDef& table, std::string_view row, const FieldDef& field, const Value& value);

// Whether `next` may replace `prev` on an existing database: same id, a higher (or equal)
// version, and only additive changes (new tables, new optional fields). Otherwise a
// schema_mismatch naming the first breaking change.
Status check_upgrade(const Schema& prev, const Schema& next);

}  // namespace tram
