#include "tram/engine/authorize.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

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

  // The value against its indicator's range, before the generic constraints so that an official
  // reads "Kết quả: không được là số âm (đã nhập -5)" rather than the schema's "min 0".
  if (op.kind == OpKind::put) TRAM_RETURN_IF_ERROR(check_indicator_value(t, op, *row, current));

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

// ---- indicator values ----------------------------------------------------------------------

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Shortest round-trip form, as JavaScript's String(n) writes ordinary numbers: 150, 2.5, -5.
std::string shortest(double v) {
  if (v == 0) return "0";  // -0 too
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

// Vietnamese: decimal comma, dot thousands (GLOSSARY-vi: 97,2; 1.234).
std::string number_vi(double v) {
  std::string s = shortest(v);
  if (s.find('e') != std::string::npos) return s;
  const bool neg = !s.empty() && s[0] == '-';
  std::string digits = neg ? s.substr(1) : s;
  const size_t dot = digits.find('.');
  std::string whole = digits.substr(0, dot), frac = dot == std::string::npos ? "" : digits.substr(dot + 1);
  std::string grouped;
  for (size_t i = 0; i < whole.size(); ++i) {
    if (i && (whole.size() - i) % 3 == 0) grouped += '.';
    grouped += whole[i];
  }
  return (neg ? "-" : "") + grouped + (frac.empty() ? "" : "," + frac);
}

const std::string* text_field(const TableDef& t, const RowState& row, std::string_view name) {
  for (size_t k = 0; k < t.fields.size() && k < row.fields.size(); ++k) {
    if (t.fields[k].name == name) return text_of(row.fields[k].value);
  }
  return nullptr;
}

}  // namespace

bool is_percent_measure(std::string_view measure) {
  std::string m(trim(measure));
  for (char& c : m) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return m == "%" || m == "phần trăm";
}

ValueRange indicator_value_range(std::string_view indicator_kind, std::string_view indicator_measure,
                                 std::string_view report_measure) {
  const std::string_view im = trim(indicator_measure), rm = trim(report_measure);
  // Before any measure rule: a yes_no indicator's "%" is the province share, the unit answers 1/0.
  if (indicator_kind == "yes_no") return {ValueRange::Kind::yes_no, std::string(im)};
  if (!rm.empty() && rm != im) {
    return {is_percent_measure(rm) ? ValueRange::Kind::percent : ValueRange::Kind::any, std::string(rm)};
  }
  if (indicator_kind == "percent" || is_percent_measure(im)) return {ValueRange::Kind::percent, std::string(im)};
  if (indicator_kind == "count") return {ValueRange::Kind::count, std::string(im)};
  return {ValueRange::Kind::any, std::string(im)};
}

std::optional<ValueProblem> check_value_range(const ValueRange& range, double value) {
  const std::string vi_got = " (đã nhập " + number_vi(value) + ")", en_got = " (entered " + shortest(value) + ")";
  switch (range.kind) {
    case ValueRange::Kind::percent:
      if (std::isfinite(value) && value >= 0 && value <= 100) return std::nullopt;
      return ValueProblem{"percent", "tỷ lệ phần trăm phải từ 0 đến 100" + vi_got, "a percentage must be from 0 to 100" + en_got};
    case ValueRange::Kind::count: {
      if (std::isfinite(value) && value >= 0 && value == std::floor(value)) return std::nullopt;
      const std::string unit = range.measure.empty() ? "" : " (" + range.measure + ")";
      return ValueProblem{"count", "số lượng" + unit + " phải là số nguyên, không âm" + vi_got,
                          "a count" + unit + " must be a whole number, not negative" + en_got};
    }
    case ValueRange::Kind::yes_no:
      if (value == 0 || value == 1) return std::nullopt;
      return ValueProblem{"yes_no", "chỉ nhập 1 (có) hoặc 0 (không)" + vi_got, "enter only 1 (yes) or 0 (no)" + en_got};
    case ValueRange::Kind::any:
      if (!(value < 0)) return std::nullopt;
      return ValueProblem{"negative", "không được là số âm" + vi_got, "must not be negative" + en_got};
  }
  return std::nullopt;
}

Status check_indicator_value(const TableDef& t, const Op& op, const std::optional<RowState>& stored, RowReader& current) {
  const FieldDef* value_f = t.field(std::string_view("value"));
  const FieldDef* ind_f = t.field(std::string_view("indicator"));
  if (!value_f || !ind_f || ind_f->kind != FieldKind::reference) return {};
  if (value_f->type != ValueType::real && value_f->type != ValueType::integer) return {};
  const TableDef* ind_t = current.schema().table(ind_f->ref_table);
  if (!ind_t || !ind_t->field(std::string_view("kind")) || !ind_t->field(std::string_view("measure"))) return {};
  const FieldDef* measure_f = t.field(std::string_view("measure"));

  auto written = [&](const FieldDef* f) -> const Value* {
    if (!f) return nullptr;
    for (const auto& w : op.fields) {
      if (w.field == f->id) return &w.value;
    }
    return nullptr;
  };
  if (!written(value_f) && !written(ind_f) && !written(measure_f)) return {};
  auto after = [&](const FieldDef* f) -> const Value* {
    if (!f) return nullptr;
    if (const Value* w = written(f)) return w;
    if (!stored) return nullptr;
    for (size_t k = 0; k < t.fields.size() && k < stored->fields.size(); ++k) {
      if (t.fields[k].id == f->id) return &stored->fields[k].value;
    }
    return nullptr;
  };

  const Value* v = after(value_f);
  double value = 0;
  if (!v) return {};
  if (const auto* d = std::get_if<double>(v)) value = *d;
  else if (const auto* i = std::get_if<int64_t>(v)) value = static_cast<double>(*i);
  else return {};  // null, or the wrong type (check_value says so)

  std::string kind, ind_measure, rep_measure;
  if (const Value* m = after(measure_f); m && text_of(*m)) rep_measure = *text_of(*m);
  if (const Value* code = after(ind_f); code && text_of(*code)) {
    auto ind = current.get_row(ind_t->name, *text_of(*code));
    if (!ind.ok()) return ind.status();
    if (ind->has_value()) {
      if (const std::string* k = text_field(*ind_t, **ind, "kind")) kind = *k;
      if (const std::string* m = text_field(*ind_t, **ind, "measure")) ind_measure = *m;
    }
  }
  const auto problem = check_value_range(indicator_value_range(kind, ind_measure, rep_measure), value);
  if (!problem) return {};
  return {Errc::invalid_value, (value_f->label.empty() ? value_f->name : value_f->label) + ": " + problem->vi};
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
