// Whether a principal (a device's role and unit scope) may make a change set, checked against
// the schema's write rules, scoping, constraints and workflow and the rows as they are now.
// The server runs it before merging; a device runs it before signing, with the same rules.
#pragma once

#include <string>
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

}  // namespace tram
