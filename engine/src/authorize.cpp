#include "tram/engine/authorize.hpp"

#include <algorithm>

namespace tram {

bool Principal::in_scope(std::string_view unit) const {
  return all_units || std::find(units.begin(), units.end(), unit) != units.end();
}

namespace {

const std::string* text_of(const Value& v) {
  const auto* t = std::get_if<Text>(&v);
  return t ? &t->s : nullptr;
}

bool contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

Status check_op(const Principal& who, const TableDef& t, const Op& op, RowReader& current) {
  const std::string where = t.name + "/" + op.row;
  const std::string role(role_name(who.role));
  const WriteRule* rule = t.rule_for(who.role);
  if (!rule) return {Errc::forbidden_role, where + ": role " + role + " may not write " + t.name};

  auto row = current.get_row(t.name, op.row);
  if (!row.ok()) return row.status();
  // A tombstone keeps its values and its scope: a row id belongs for ever to the unit it was
  // created in, and its immutable fields stay as created (a deleted row is not free to take).
  const bool known = row->has_value();
  const bool exists = known && !(*row)->deleted;
  auto current_value = [&](uint32_t field) -> const Value* {
    if (!row->has_value()) return nullptr;
    for (size_t k = 0; k < t.fields.size(); ++k) {
      if (t.fields[k].id == field) return &(*row)->fields[k].value;
    }
    return nullptr;
  };
  auto written = [&](uint32_t field) -> const Value* {
    for (const auto& w : op.fields) {
      if (w.field == field) return &w.value;
    }
    return nullptr;
  };
  // The value a field will have after this op (a re-created row keeps its tombstone's values).
  auto after = [&](uint32_t field) -> const Value* {
    const Value* w = written(field);
    return w ? w : (known ? current_value(field) : nullptr);
  };

  // Deleting what was never created would leave a unit-less tombstone that anyone could claim.
  if (op.kind == OpKind::del && !known) return {Errc::not_found, where + ": no such row to delete"};

  // Operation allowed for the role?
  const bool insert = op.kind == OpKind::put && !exists;
  if (op.kind == OpKind::del && !rule->del) return {Errc::forbidden_role, where + ": role " + role + " may not delete"};
  if (insert && !rule->insert) return {Errc::forbidden_role, where + ": role " + role + " may not insert into " + t.name};
  if (op.kind == OpKind::put && exists && !rule->update) return {Errc::forbidden_role, where + ": role " + role + " may not update"};
  if (!rule->fields.empty()) {
    for (const auto& w : op.fields) {
      if (std::find(rule->fields.begin(), rule->fields.end(), w.field) == rule->fields.end()) {
        const FieldDef* f = t.field(w.field);
        return {Errc::forbidden_role, where + "/" + (f ? f->name : std::to_string(w.field)) + ": role " + role + " may not write this field"};
      }
    }
  }

  // Scope: the unit the row belongs to, before and after, must be the principal's.
  if (t.scope_field) {
    const FieldDef& sf = *t.field(*t.scope_field);
    for (const Value* v : {known ? current_value(sf.id) : nullptr, op.kind == OpKind::put ? after(sf.id) : nullptr}) {
      if (!v) continue;
      const std::string* unit = text_of(*v);
      if (unit && !who.in_scope(*unit)) {
        return {Errc::forbidden_scope, where + "/" + sf.name + ": unit " + *unit + " is outside this device's scope"};
      }
    }
    if (insert && !after(sf.id)) return {Errc::invalid_value, where + "/" + sf.name + ": required (the row's unit)"};
  } else if (!who.all_units && t.kind == TableKind::reference) {
    return {Errc::forbidden_scope, where + ": province-wide reference data needs a province-wide principal"};
  }

  // The author field carries the user's registered name, not one the device picks.
  if (t.author_field && !who.name.empty()) {
    if (const Value* w = written(*t.author_field)) {
      const std::string* name = text_of(*w);
      if (!name || *name != who.name) {
        return {Errc::author_mismatch, where + "/" + t.field(*t.author_field)->name + ": must be the name registered for this user (" +
                                           who.name + ")"};
      }
    }
  }

  // Values: constraints, required at creation, immutable afterwards.
  for (const auto& w : op.fields) {
    const FieldDef* f = t.field(w.field);
    if (!f) return {Errc::unknown_field_id, where + ": no field " + std::to_string(w.field)};
    TRAM_RETURN_IF_ERROR(check_value(t, op.row, *f, w.value));
    if (f->merge == MergeRule::immutable && known) {
      const Value* cur = current_value(f->id);
      if (cur && value_type(*cur) != ValueType::null && !(*cur == w.value)) {
        return {Errc::invalid_value, where + "/" + f->name + ": immutable after creation"};
      }
    }
  }
  if (insert) {
    for (const auto& f : t.fields) {
      if (f.required && (!after(f.id) || value_type(*after(f.id)) == ValueType::null)) {
        return {Errc::invalid_value, where + "/" + f.name + ": required"};
      }
    }
  }

  // Workflow: transitions by role, locked and editable states.
  if (t.workflow) {
    const WorkflowDef& wf = *t.workflow;
    const FieldDef& state_field = *t.field(wf.field);
    const Value* cur_v = exists ? current_value(wf.field) : nullptr;
    const std::string cur = cur_v && text_of(*cur_v) ? *text_of(*cur_v) : std::string();
    const Value* new_v = written(wf.field);
    const std::string next = new_v && text_of(*new_v) ? *text_of(*new_v) : cur;
    const TransitionDef* transition = nullptr;
    if (insert) {
      if (!new_v) return {Errc::invalid_value, where + "/" + state_field.name + ": required (workflow state)"};
      if (next != wf.initial) {
        transition = wf.find(wf.initial, next);
        if (!transition) return {Errc::workflow_violation, where + ": a new row starts as " + wf.initial + ", not " + next};
      }
    } else {
      if (contains(wf.locked, cur)) return {Errc::workflow_violation, where + ": " + cur + " and locked"};
      if (next != cur) {
        transition = wf.find(cur, next);
        if (!transition) return {Errc::workflow_violation, where + ": no transition " + cur + " -> " + next};
      }
      // Other fields change only in an editable state, or as part of the transition.
      const bool editor = wf.editors.empty() || std::find(wf.editors.begin(), wf.editors.end(), who.role) != wf.editors.end();
      const bool editable = contains(wf.editable, cur) && editor;
      for (const auto& w : op.fields) {
        if (w.field == wf.field || editable) continue;
        auto listed = [&](const std::vector<uint32_t>& ids) { return std::find(ids.begin(), ids.end(), w.field) != ids.end(); };
        const bool part_of_transition = transition && (listed(transition->requires_fields) || listed(transition->allows_fields));
        if (!part_of_transition) {
          return {Errc::workflow_violation, where + "/" + t.field(w.field)->name + ": cannot be edited while " + cur};
        }
      }
      if (op.kind == OpKind::del && !editable) return {Errc::workflow_violation, where + ": cannot be deleted while " + cur};
    }
    if (transition) {
      if (std::find(transition->roles.begin(), transition->roles.end(), who.role) == transition->roles.end()) {
        return {Errc::workflow_violation, where + ": role " + role + " may not move " + transition->from + " -> " + transition->to};
      }
      for (uint32_t req : transition->requires_fields) {
        const Value* v = after(req);
        const std::string* s = v ? text_of(*v) : nullptr;
        if (!v || value_type(*v) == ValueType::null || (s && s->empty())) {
          return {Errc::workflow_violation, where + ": " + transition->from + " -> " + transition->to + " requires " + t.field(req)->name};
        }
      }
    }
  }
  return {};
}

}  // namespace

namespace {

// `field_value(k)` is the value of the table's k-th field.
template <typename FieldValue>
bool readable(const Principal& who, const TableDef& table, FieldValue field_value) {
  if (!table.scope_field) return table.province_wide || who.all_units;
  for (size_t k = 0; k < table.fields.size(); ++k) {
    if (table.fields[k].id != *table.scope_field) continue;
    const std::string* unit = text_of(field_value(k));
    return unit ? who.in_scope(*unit) : who.all_units;
  }
  return who.all_units;
}

}  // namespace

bool may_read(const Principal& who, const TableDef& table, const RowState& row) {
  return readable(who, table, [&](size_t k) -> const Value& { return row.fields[k].value; });
}

bool may_read(const Principal& who, const TableDef& table, const RowImage& row) {
  return readable(who, table, [&](size_t k) -> const Value& { return row.cells[k + 1].value; });
}

Status authorize(const Principal& who, const ChangeSet& cs, RowReader& current) {
  const Schema& schema = current.schema();
  for (const Op& op : cs.ops) {
    const TableDef* t = schema.table(op.table);
    if (!t) return {Errc::unknown_table, "no table \"" + op.table + "\" in schema " + schema.id};
    TRAM_RETURN_IF_ERROR(check_op(who, *t, op, current));
  }
  return {};
}

}  // namespace tram
