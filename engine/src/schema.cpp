#include "tram/engine/schema.hpp"

#include <re2/re2.h>

#include <algorithm>
#include <set>

#include "tram/engine/changeset.hpp"

namespace tram {

std::string_view role_name(Role r) noexcept {
  switch (r) {
    case Role::official: return "official";
    case Role::department: return "department";
    case Role::reviewer: return "reviewer";
    case Role::admin: return "admin";
  }
  return "?";
}

std::optional<Role> role_from_name(std::string_view s) noexcept {
  for (Role r : {Role::official, Role::department, Role::reviewer, Role::admin}) {
    if (role_name(r) == s) return r;
  }
  return std::nullopt;
}

const TransitionDef* WorkflowDef::find(std::string_view from, std::string_view to) const {
  for (const auto& t : transitions) {
    if (t.from == from && t.to == to) return &t;
  }
  return nullptr;
}

const FieldDef* TableDef::field(uint32_t id) const {
  for (const auto& f : fields) {
    if (f.id == id) return &f;
  }
  return nullptr;
}

const FieldDef* TableDef::field(std::string_view field_name) const {
  for (const auto& f : fields) {
    if (f.name == field_name) return &f;
  }
  return nullptr;
}

const WriteRule* TableDef::rule_for(Role role) const {
  for (const auto& r : write) {
    if (r.role == role) return &r;
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
  auto bad = [](std::string msg) { return Status(Errc::invalid_value, std::move(msg)); };
  std::set<std::string_view> table_names;
  for (const auto& t : tables) {
    if (!is_valid_table_name(t.name) || t.name.starts_with("_tram")) return bad("table \"" + t.name + "\": not a valid table name");
    if (!table_names.insert(t.name).second) return bad("table \"" + t.name + "\" twice");
  }
  for (const auto& t : tables) {
    std::set<uint32_t> ids;
    std::set<std::string_view> names;
    for (const auto& f : t.fields) {
      const std::string where = t.name + "." + f.name;
      // Columns starting with "_" hold merge metadata; "id" is the row id.
      if (!is_valid_table_name(f.name) || f.name == "id") return bad(where + ": not a valid field name");
      if (f.id == 0) return bad(where + ": field id 0 is reserved for the row's liveness");
      if (f.type == ValueType::null) return bad(where + ": a field cannot be of type null");
      if (!ids.insert(f.id).second) return bad(t.name + ": field id " + std::to_string(f.id) + " twice");
      if (!names.insert(f.name).second) return bad(t.name + ": field \"" + f.name + "\" twice");
      if (f.kind == FieldKind::enumeration && (f.type != ValueType::text || f.values.empty())) {
        return bad(where + ": an enum is text with at least one value");
      }
      if (f.kind == FieldKind::reference && (f.type != ValueType::text || !table(f.ref_table))) {
        return bad(where + ": references unknown table \"" + f.ref_table + "\"");
      }
      if (f.since > version) return bad(where + ": added in version " + std::to_string(f.since) + " > schema version");
    }
    if (t.scope_field) {
      const FieldDef* f = t.field(*t.scope_field);
      if (!f || f->type != ValueType::text) return bad(t.name + ": scope must name a text field");
    }
    for (const auto& r : t.write) {
      for (uint32_t fid : r.fields) {
        if (!t.field(fid)) return bad(t.name + ": write rule names unknown field " + std::to_string(fid));
      }
    }
    if (t.workflow) {
      const WorkflowDef& w = *t.workflow;
      const FieldDef* f = t.field(w.field);
      if (!f || f->kind != FieldKind::enumeration) return bad(t.name + ": workflow field must be an enum");
      auto known = [&](const std::string& s) { return std::find(f->values.begin(), f->values.end(), s) != f->values.end(); };
      if (!known(w.initial)) return bad(t.name + ": workflow initial state \"" + w.initial + "\" is not a value of " + f->name);
      for (const auto& s : w.editable) if (!known(s)) return bad(t.name + ": unknown workflow state \"" + s + "\"");
      for (const auto& s : w.locked) if (!known(s)) return bad(t.name + ": unknown workflow state \"" + s + "\"");
      for (const auto& tr : w.transitions) {
        if (!known(tr.from) || !known(tr.to)) return bad(t.name + ": transition " + tr.from + " -> " + tr.to + " names an unknown state");
        for (uint32_t fid : tr.requires_fields) {
          if (!t.field(fid)) return bad(t.name + ": transition requires unknown field " + std::to_string(fid));
        }
      }
    }
  }
  return {};
}

namespace {

size_t code_points(std::string_view s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xc0) != 0x80; }));
}

std::string show(const Value& v) {
  switch (value_type(v)) {
    case ValueType::null: return "null";
    case ValueType::integer: return std::to_string(std::get<int64_t>(v));
    case ValueType::real: return std::to_string(std::get<double>(v));
    case ValueType::text: return "\"" + std::get<Text>(v).s.substr(0, 60) + "\"";
    case ValueType::boolean: return std::get<bool>(v) ? "true" : "false";
    case ValueType::date: return std::get<Date>(v).to_string();
    case ValueType::attachment: return to_hex(std::get<AttachmentRef>(v).hash);
  }
  return "?";
}

}  // namespace

Status check_value(const TableDef& table, std::string_view row, const FieldDef& f, const Value& value) {
  auto broken = [&](Errc code, const std::string& rule) {
    return Status(code, table.name + "/" + std::string(row) + "/" + f.name + ": " + rule + " (got " + show(value) + ")");
  };
  const ValueType vt = value_type(value);
  if (vt == ValueType::null) return f.required ? broken(Errc::invalid_value, "required") : Status();
  if (vt != f.type) return broken(Errc::type_mismatch, "type " + std::string(value_type_name(f.type)));
  if (vt == ValueType::integer || vt == ValueType::real) {
    const double d = vt == ValueType::integer ? static_cast<double>(std::get<int64_t>(value)) : std::get<double>(value);
    if (f.min && d < *f.min) return broken(Errc::invalid_value, "min " + show(Value{*f.min}));
    if (f.max && d > *f.max) return broken(Errc::invalid_value, "max " + show(Value{*f.max}));
  }
  if (vt == ValueType::text) {
    const std::string& s = std::get<Text>(value).s;
    if (f.max_length && code_points(s) > *f.max_length) {
      return broken(Errc::invalid_value, "max_length " + std::to_string(*f.max_length));
    }
    if (f.kind == FieldKind::enumeration && std::find(f.values.begin(), f.values.end(), s) == f.values.end()) {
      std::string list;
      for (const auto& v : f.values) list += (list.empty() ? "" : ", ") + v;
      return broken(Errc::invalid_value, "one of [" + list + "]");
    }
    if (f.kind == FieldKind::reference && !is_valid_row_id(s)) {
      return broken(Errc::invalid_value, "a row id of " + f.ref_table);
    }
    if (f.compiled_pattern && !RE2::FullMatch(s, *f.compiled_pattern)) {
      return broken(Errc::invalid_value, "pattern " + f.pattern);
    }
  }
  return {};
}

Status check_upgrade(const Schema& prev, const Schema& next) {
  auto refuse = [&](const std::string& what) {
    return Status(Errc::schema_mismatch, next.id + " v" + std::to_string(next.version) + " cannot replace v" +
                                             std::to_string(prev.version) + ": " + what);
  };
  if (prev.id != next.id) return refuse("it is another schema (" + prev.id + ")");
  if (next.version < prev.version) return refuse("it is older");
  for (const TableDef& pt : prev.tables) {
    const TableDef* nt = next.table(pt.name);
    if (!nt) return refuse("table " + pt.name + " was removed");
    if (nt->kind != pt.kind) return refuse("table " + pt.name + " changed kind");
    if (nt->scope_field != pt.scope_field) return refuse("table " + pt.name + " changed its scope field");
    for (const FieldDef& pf : pt.fields) {
      const FieldDef* nf = nt->field(pf.id);
      if (!nf) return refuse("field " + pt.name + "." + pf.name + " (id " + std::to_string(pf.id) + ") was removed");
      if (nf->name != pf.name) return refuse("field id " + std::to_string(pf.id) + " of " + pt.name + " was renamed");
      if (nf->type != pf.type || nf->kind != pf.kind) return refuse("field " + pt.name + "." + pf.name + " changed type");
      if (nf->required && !pf.required) return refuse("field " + pt.name + "." + pf.name + " became required");
      // Tighter constraints would make accepted rows invalid.
      const std::string fname = pt.name + "." + pf.name;
      if (nf->min && (!pf.min || *nf->min > *pf.min)) return refuse("field " + fname + " raised its min");
      if (nf->max && (!pf.max || *nf->max < *pf.max)) return refuse("field " + fname + " lowered its max");
      if (nf->max_length && (!pf.max_length || *nf->max_length < *pf.max_length)) return refuse("field " + fname + " lowered its max_length");
      if (nf->pattern != pf.pattern) return refuse("field " + fname + " changed its pattern");
      if (nf->kind == FieldKind::enumeration) {
        for (const auto& v : pf.values) {
          if (std::find(nf->values.begin(), nf->values.end(), v) == nf->values.end()) {
            return refuse("enum " + pt.name + "." + pf.name + " lost value \"" + v + "\"");
          }
        }
      }
    }
    for (const FieldDef& nf : nt->fields) {
      if (!pt.field(nf.id) && nf.required) {
        return refuse("new field " + pt.name + "." + nf.name + " is required: old rows and clients lack it");
      }
    }
  }
  return {};
}

}  // namespace tram
