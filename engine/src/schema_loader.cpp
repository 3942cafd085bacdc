// The schema-file parser (simdjson DOM). Strict: unknown members are errors, so a typo in a
// schema file never silently drops a constraint.
#include "tram/engine/schema_loader.hpp"

#include <re2/re2.h>
#include <simdjson.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "tram/engine/changeset.hpp"
#include "tram/engine/text.hpp"

namespace tram {
namespace {

namespace dom = simdjson::dom;

Status fail(const std::string& path, const std::string& what) { return {Errc::invalid_value, path + ": " + what}; }

// Members of `obj`, refusing names not in `allowed` and duplicates.
Result<std::map<std::string_view, dom::element>> members(dom::element e, const std::string& path,
                                                         std::initializer_list<std::string_view> allowed) {
  dom::object obj;
  if (e.get_object().get(obj)) return fail(path, "expected an object");
  std::map<std::string_view, dom::element> out;
  for (auto [k, v] : obj) {
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end()) return fail(path + "." + std::string(k), "unknown member");
    if (!out.emplace(k, v).second) return fail(path + "." + std::string(k), "given twice");
  }
  return out;
}

Result<std::string> str(dom::element e, const std::string& path) {
  std::string_view s;
  if (e.get_string().get(s)) return fail(path, "expected a string");
  auto nfc = to_nfc(s);
  if (!nfc.ok()) return fail(path, nfc.status().message());
  return std::move(nfc).value();
}

Result<uint64_t> uint(dom::element e, const std::string& path) {
  int64_t v;
  if (e.get_int64().get(v) || v < 0) return fail(path, "expected a non-negative integer");
  return static_cast<uint64_t>(v);
}

Result<double> num(dom::element e, const std::string& path) {
  double d;
  if (e.get_double().get(d)) return fail(path, "expected a number");
  return d;
}

Result<std::vector<std::string>> strs(dom::element e, const std::string& path) {
  dom::array arr;
  if (e.get_array().get(arr)) return fail(path, "expected an array of strings");
  std::vector<std::string> out;
  size_t i = 0;
  for (dom::element x : arr) {
    auto s = str(x, path + "[" + std::to_string(i++) + "]");
    if (!s.ok()) return s.status();
    out.push_back(std::move(s).value());
  }
  return out;
}

#define TRAM_ASSIGN(lhs, expr)           \
  do {                                   \
    auto tram_r_ = (expr);               \
    if (!tram_r_.ok()) return tram_r_.status(); \
    lhs = std::move(tram_r_).value();    \
  } while (0)

Status parse_field(dom::element e, const std::string& path, FieldDef& f) {
  std::map<std::string_view, dom::element> m;
  TRAM_ASSIGN(m, members(e, path, {"id", "name", "type", "required", "min", "max", "max_length", "pattern",
                                    "values", "table", "merge", "label", "since"}));
  for (auto req : {"id", "name", "type"}) {
    if (!m.count(req)) return fail(path, std::string("missing \"") + req + "\"");
  }
  uint64_t id;
  TRAM_ASSIGN(id, uint(m["id"], path + ".id"));
  if (id == 0 || id > 0x7fffffff) return fail(path + ".id", "field ids are 1..2^31-1 (0 is the row's liveness)");
  f.id = static_cast<uint32_t>(id);
  TRAM_ASSIGN(f.name, str(m["name"], path + ".name"));
  std::string type;
  TRAM_ASSIGN(type, str(m["type"], path + ".type"));
  static const std::map<std::string, std::pair<ValueType, FieldKind>, std::less<>> kTypes = {
      {"integer", {ValueType::integer, FieldKind::plain}}, {"real", {ValueType::real, FieldKind::plain}},
      {"text", {ValueType::text, FieldKind::plain}},       {"boolean", {ValueType::boolean, FieldKind::plain}},
      {"date", {ValueType::date, FieldKind::plain}},       {"attachment", {ValueType::attachment, FieldKind::plain}},
      {"enum", {ValueType::text, FieldKind::enumeration}}, {"ref", {ValueType::text, FieldKind::reference}}};
  auto t = kTypes.find(type);
  if (t == kTypes.end()) return fail(path + ".type", "unknown type \"" + type + "\" (integer, real, text, boolean, date, attachment, enum, ref)");
  f.type = t->second.first;
  f.kind = t->second.second;
  if (m.count("required") && m["required"].get_bool().get(f.required)) return fail(path + ".required", "expected true or false");
  if (m.count("min")) TRAM_ASSIGN(f.min, num(m["min"], path + ".min"));
  if (m.count("max")) TRAM_ASSIGN(f.max, num(m["max"], path + ".max"));
  if (m.count("max_length")) {
    uint64_t n;
    TRAM_ASSIGN(n, uint(m["max_length"], path + ".max_length"));
    f.max_length = static_cast<uint32_t>(n);
  }
  if (m.count("pattern")) {
    TRAM_ASSIGN(f.pattern, str(m["pattern"], path + ".pattern"));
    RE2::Options options;
    options.set_log_errors(false);  // the error is returned below, not written to stderr
    auto re = std::make_shared<const RE2>(f.pattern, options);
    if (!re->ok()) return fail(path + ".pattern", "not a valid regular expression: " + re->error());
    f.compiled_pattern = std::move(re);
  }
  if (m.count("values")) TRAM_ASSIGN(f.values, strs(m["values"], path + ".values"));
  if (m.count("table")) TRAM_ASSIGN(f.ref_table, str(m["table"], path + ".table"));
  // A constraint that cannot apply to the type is a mistake, not something to ignore.
  const bool numeric = f.type == ValueType::integer || f.type == ValueType::real;
  if ((m.count("min") || m.count("max")) && !numeric) return fail(path, "min and max apply to integer and real fields");
  if ((m.count("max_length") || m.count("pattern")) && f.type != ValueType::text) {
    return fail(path, "max_length and pattern apply to text, enum and ref fields");
  }
  if (m.count("values") && f.kind != FieldKind::enumeration) return fail(path + ".values", "only an enum has values");
  if (m.count("table") && f.kind != FieldKind::reference) return fail(path + ".table", "only a ref names a table");
  if (f.kind == FieldKind::enumeration && f.values.empty()) return fail(path, "an enum needs \"values\"");
  if (f.kind == FieldKind::reference && f.ref_table.empty()) return fail(path, "a ref needs \"table\"");
  if (m.count("merge")) {
    std::string merge;
    TRAM_ASSIGN(merge, str(m["merge"], path + ".merge"));
    if (merge == "field") f.merge = MergeRule::field_level;
    else if (merge == "immutable") f.merge = MergeRule::immutable;
    else if (merge == "workflow") f.merge = MergeRule::workflow;
    else return fail(path + ".merge", "expected field, immutable or workflow");
  }
  if (m.count("label")) TRAM_ASSIGN(f.label, str(m["label"], path + ".label"));
  if (m.count("since")) {
    uint64_t v;
    TRAM_ASSIGN(v, uint(m["since"], path + ".since"));
    f.since = static_cast<uint32_t>(v);
  }
  return {};
}

Result<std::vector<uint32_t>> field_ids(const TableDef& t, dom::element e, const std::string& path) {
  std::vector<std::string> names;
  TRAM_ASSIGN(names, strs(e, path));
  std::vector<uint32_t> out;
  for (const auto& n : names) {
    const FieldDef* f = t.field(std::string_view(n));
    if (!f) return fail(path, "unknown field \"" + n + "\"");
    out.push_back(f->id);
  }
  return out;
}

Result<std::vector<Role>> roles(dom::element e, const std::string& path) {
  std::vector<std::string> names;
  TRAM_ASSIGN(names, strs(e, path));
  std::vector<Role> out;
  for (const auto& n : names) {
    auto r = role_from_name(n);
    if (!r) return fail(path, "unknown role \"" + n + "\" (official, department, reviewer, admin)");
    out.push_back(*r);
  }
  return out;
}

Status parse_table(dom::element e, const std::string& path, TableDef& t) {
  std::map<std::string_view, dom::element> m;
  TRAM_ASSIGN(m, members(e, path, {"name", "kind", "label", "scope", "author", "province_wide", "fields", "write", "workflow", "since"}));
  if (!m.count("name") || !m.count("fields")) return fail(path, "a table needs \"name\" and \"fields\"");
  TRAM_ASSIGN(t.name, str(m["name"], path + ".name"));
  if (m.count("kind")) {
    std::string kind;
    TRAM_ASSIGN(kind, str(m["kind"], path + ".kind"));
    if (kind == "record") t.kind = TableKind::record;
    else if (kind == "reference") t.kind = TableKind::reference;
    else return fail(path + ".kind", "expected record or reference");
  }
  if (m.count("label")) TRAM_ASSIGN(t.label, str(m["label"], path + ".label"));
  if (m.count("since")) {
    uint64_t v;
    TRAM_ASSIGN(v, uint(m["since"], path + ".since"));
    t.since = static_cast<uint32_t>(v);
  }
  if (m.count("province_wide") && m["province_wide"].get_bool().get(t.province_wide)) {
    return fail(path + ".province_wide", "expected true or false");
  }
  dom::array fields;
  if (m["fields"].get_array().get(fields)) return fail(path + ".fields", "expected an array");
  size_t i = 0;
  for (dom::element f : fields) {
    FieldDef def;
    TRAM_RETURN_IF_ERROR(parse_field(f, path + ".fields[" + std::to_string(i++) + "]", def));
    t.fields.push_back(std::move(def));
  }
  if (m.count("scope")) {
    std::string scope;
    TRAM_ASSIGN(scope, str(m["scope"], path + ".scope"));
    const FieldDef* f = t.field(std::string_view(scope));
    if (!f) return fail(path + ".scope", "unknown field \"" + scope + "\"");
    t.scope_field = f->id;
  }
  if (m.count("author")) {
    std::string author;
    TRAM_ASSIGN(author, str(m["author"], path + ".author"));
    const FieldDef* f = t.field(std::string_view(author));
    if (!f || f->type != ValueType::text) return fail(path + ".author", "not a text field: \"" + author + "\"");
    t.author_field = f->id;
  }
  if (m.count("write")) {
    dom::array rules;
    if (m["write"].get_array().get(rules)) return fail(path + ".write", "expected an array");
    size_t k = 0;
    for (dom::element r : rules) {
      const std::string rp = path + ".write[" + std::to_string(k++) + "]";
      std::map<std::string_view, dom::element> rm;
      TRAM_ASSIGN(rm, members(r, rp, {"roles", "ops", "fields"}));
      if (!rm.count("roles") || !rm.count("ops")) return fail(rp, "a write rule needs \"roles\" and \"ops\"");
      WriteRule base;
      std::vector<std::string> ops;
      TRAM_ASSIGN(ops, strs(rm["ops"], rp + ".ops"));
      for (const auto& op : ops) {
        if (op == "insert") base.insert = true;
        else if (op == "update") base.update = true;
        else if (op == "delete") base.del = true;
        else return fail(rp + ".ops", "unknown op \"" + op + "\" (insert, update, delete)");
      }
      if (rm.count("fields")) TRAM_ASSIGN(base.fields, field_ids(t, rm["fields"], rp + ".fields"));
      std::vector<Role> rs;
      TRAM_ASSIGN(rs, roles(rm["roles"], rp + ".roles"));
      for (Role role : rs) {
        if (t.rule_for(role)) return fail(rp + ".roles", "role " + std::string(role_name(role)) + " has two rules");
        WriteRule rule = base;
        rule.role = role;
        t.write.push_back(std::move(rule));
      }
    }
  }
  if (m.count("workflow")) {
    const std::string wp = path + ".workflow";
    std::map<std::string_view, dom::element> wm;
    TRAM_ASSIGN(wm, members(m["workflow"], wp, {"field", "initial", "editable", "editors", "locked", "transitions"}));
    if (!wm.count("field") || !wm.count("initial") || !wm.count("transitions")) {
      return fail(wp, "a workflow needs \"field\", \"initial\" and \"transitions\"");
    }
    WorkflowDef w;
    std::string field;
    TRAM_ASSIGN(field, str(wm["field"], wp + ".field"));
    const FieldDef* f = t.field(std::string_view(field));
    if (!f) return fail(wp + ".field", "unknown field \"" + field + "\"");
    w.field = f->id;
    TRAM_ASSIGN(w.initial, str(wm["initial"], wp + ".initial"));
    if (wm.count("editable")) TRAM_ASSIGN(w.editable, strs(wm["editable"], wp + ".editable"));
    if (wm.count("locked")) TRAM_ASSIGN(w.locked, strs(wm["locked"], wp + ".locked"));
    if (wm.count("editors")) TRAM_ASSIGN(w.editors, roles(wm["editors"], wp + ".editors"));
    dom::array trs;
    if (wm["transitions"].get_array().get(trs)) return fail(wp + ".transitions", "expected an array");
    size_t k = 0;
    for (dom::element tr : trs) {
      const std::string tp = wp + ".transitions[" + std::to_string(k++) + "]";
      std::map<std::string_view, dom::element> tm;
      TRAM_ASSIGN(tm, members(tr, tp, {"from", "to", "roles", "requires", "allows"}));
      if (!tm.count("from") || !tm.count("to") || !tm.count("roles")) return fail(tp, "needs \"from\", \"to\" and \"roles\"");
      TransitionDef d;
      TRAM_ASSIGN(d.from, str(tm["from"], tp + ".from"));
      TRAM_ASSIGN(d.to, str(tm["to"], tp + ".to"));
      TRAM_ASSIGN(d.roles, roles(tm["roles"], tp + ".roles"));
      if (tm.count("requires")) TRAM_ASSIGN(d.requires_fields, field_ids(t, tm["requires"], tp + ".requires"));
      if (tm.count("allows")) TRAM_ASSIGN(d.allows_fields, field_ids(t, tm["allows"], tp + ".allows"));
      w.transitions.push_back(std::move(d));
    }
    t.workflow = std::move(w);
  }
  return {};
}

}  // namespace

Result<Schema> parse_schema(std::string_view json) {
  dom::parser parser;
  const simdjson::padded_string padded(json);
  dom::element root;
  if (auto err = parser.parse(padded).get(root)) return fail("$", simdjson::error_message(err));
  std::map<std::string_view, dom::element> m;
  TRAM_ASSIGN(m, members(root, "$", {"schema", "version", "label", "tables"}));
  if (!m.count("schema") || !m.count("version") || !m.count("tables")) return fail("$", "needs \"schema\", \"version\" and \"tables\"");
  Schema s;
  TRAM_ASSIGN(s.id, str(m["schema"], "$.schema"));
  if (!is_valid_schema_id(s.id)) return fail("$.schema", "not a schema id ([a-z0-9._-])");
  uint64_t v;
  TRAM_ASSIGN(v, uint(m["version"], "$.version"));
  if (v == 0 || v > 0xffffffff) return fail("$.version", "versions start at 1");
  s.version = static_cast<uint32_t>(v);
  dom::array tables;
  if (m["tables"].get_array().get(tables)) return fail("$.tables", "expected an array");
  size_t i = 0;
  for (dom::element t : tables) {
    TableDef def;
    TRAM_RETURN_IF_ERROR(parse_table(t, "$.tables[" + std::to_string(i++) + "]", def));
    s.tables.push_back(std::move(def));
  }
  TRAM_RETURN_IF_ERROR(s.validate());
  return s;
}

Result<Schema> load_schema_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Errc::not_found, "cannot read schema file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto s = parse_schema(ss.str());
  if (!s.ok()) return Status(s.code(), path + ": " + s.status().message());
  return s;
}

Result<std::vector<Schema>> load_schema_history(const std::string& dir) {
  std::vector<std::pair<uint64_t, std::string>> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 6 && name[0] == 'v' && name.ends_with(".json") &&
        std::all_of(name.begin() + 1, name.end() - 5, [](char c) { return c >= '0' && c <= '9'; })) {
      files.emplace_back(std::stoull(name.substr(1, name.size() - 6)), entry.path().string());
    }
  }
  if (ec) return Status(Errc::not_found, "cannot list schema directory " + dir + ": " + ec.message());
  if (files.empty()) return Status(Errc::not_found, "no v<N>.json schema files in " + dir);
  std::sort(files.begin(), files.end());
  std::vector<Schema> out;
  for (const auto& [n, path] : files) {
    auto s = load_schema_file(path);
    if (!s.ok()) return s.status();
    if (s->version != n) return Status(Errc::invalid_value, path + ": declares version " + std::to_string(s->version));
    if (!out.empty()) {
      Status st = check_upgrade(out.back(), *s);
      if (!st.ok()) return Status(st.code(), path + ": " + st.message());
    }
    out.push_back(std::move(s).value());
  }
  return out;
}

Result<Schema> load_schema_dir(const std::string& dir) {
  auto all = load_schema_history(dir);
  if (!all.ok()) return all.status();
  return std::move(all->back());
}

}  // namespace tram
