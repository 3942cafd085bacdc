// Whether a principal (a device's role and unit scope) may make a change set, checked against
// the schema's write rules, scoping, constraints and workflow and the rows as they are now.
// The server runs it before merging; a device runs it before signing, with the same rules.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tram/engine/changeset.hpp"
#include "tram/engine/row_reader.hpp"
#include "tram/engine/schema.hpp"
#include "tram/engine/stored_row.hpp"

namespace tram {

struct Principal {
  Role role = Role::official;
  std::vector<std::string> units;  // unit codes in scope
  bool all_units = false;          // province-wide (reviewers, administrators)
  // The user's display name as the administrator registered it; when set, a table's author
  // field may only be written with it (no one reports under another's name). Empty: unchecked.
  std::string name;
  bool in_scope(std::string_view unit) const;
};

// ok, or the first refusal: forbidden_role, forbidden_scope, workflow_violation,
// invalid_value (naming table, row, field and rule), type_mismatch, unknown_table,
// unknown_field_id. Reads current rows from `current` (the replica the change set would be
// applied to: an engine Store, or the server's storage inside its write transaction). Ops are
// checked against the rows before the change set, not after its earlier ops: a change set should
// touch a row once, as DeviceChain users do.
Status authorize(const Principal& who, const ChangeSet& cs, RowReader& current);

// Whether a principal may read a row: rows of a scoped table only when the row's unit is in
// scope; province-wide reference rows always. The server filters every pull, page and
// attachment through it, so records of other units never leave the server.
bool may_read(const Principal& who, const TableDef& table, const RowState& row);
bool may_read(const Principal& who, const TableDef& table, const RowImage& row);

// ---- The range of an indicator's value (docs/schema-format.md §9.1) -----------------------
// One rule for the server, the SDK before signing, tram-field, and (mirrored in
// web/src/core/schema.js) the web app; tests/golden/indicator-values.json holds the vectors
// both the C++ and the JS tests check.
//
// A table takes part when it has a numeric field `value` and a `ref` field `indicator` whose
// table has the fields `kind` and `measure` (sonla-2026: progress_report and indicator); its
// own optional text field `measure` is the unit the value was given in.
struct ValueRange {
  enum class Kind : uint8_t {
    any,      // not negative
    percent,  // 0 to 100
    count,    // a whole number, not negative
    yes_no,   // 1 (yes) or 0 (no)
  };
  Kind kind = Kind::any;
  std::string measure;  // the unit of measure the value is in ("" when none is known)
};

// The range from the indicator's `kind` and `measure` and the report's own `measure` (each ""
// when absent or unknown):
// - kind "yes_no" first: each unit answers 1 (yes) or 0 (no); its measure ("%") describes the
//   province line (the share of units answering yes), not the unit's answer;
// - a report's measure that is given and differs from the indicator's is the value's unit: a
//   percent measure ("%" or "phần trăm") means 0 to 100, anything else only "not negative";
// - otherwise the indicator decides: kind "percent" or a percent measure means 0 to 100, kind
//   "count" a whole number >= 0, anything else (milestones, no indicator row) not negative.
// Measures are compared after trimming spaces; "Phần trăm" and "phần trăm" are both percent.
ValueRange indicator_value_range(std::string_view indicator_kind, std::string_view indicator_measure,
                                 std::string_view report_measure);
bool is_percent_measure(std::string_view measure);

// Why a value does not fit its range, without the field's label: `rule` is "percent", "count",
// "yes_no" or "negative"; `vi` reads e.g. "tỷ lệ phần trăm phải từ 0 đến 100 (đã nhập 150)" (decimal
// comma, dot thousands), `en` "a percentage must be from 0 to 100 (entered 150)".
struct ValueProblem {
  std::string rule, vi, en;
};
std::optional<ValueProblem> check_value_range(const ValueRange& range, double value);

// What authorize() runs on every put of a taking-part table (when it writes the value, the
// indicator or the measure): the value after the op against the range of the indicator row
// read from `current`. invalid_value with the message "<the field's Vietnamese label>: <vi>",
// e.g. "Kết quả: tỷ lệ phần trăm phải từ 0 đến 100 (đã nhập 150)". `stored` is the row before
// the op (nullopt: none).
Status check_indicator_value(const TableDef& table, const Op& op, const std::optional<RowState>& stored,
                             RowReader& current);

}  // namespace tram
