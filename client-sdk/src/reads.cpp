// Reads for the app: rows (the server's state plus this device's pending edits), queries in
// Vietnamese order with accent-free matching, read-only SQL, and plain JSON by the schema's types.
#include <sqlite3.h>

#include <charconv>

#include <simdjson.h>

#include "client_impl.hpp"
#include "tram/engine/json.hpp"

namespace tram::client {
namespace dom = simdjson::dom;

// Plain JSON for a value, as apps see it (no type tags: the schema gives the type).
void append_plain(std::string& out, const Value& v) {
  switch (value_type(v)) {
    case ValueType::null: out += "null"; break;
    case ValueType::integer: out += std::to_string(std::get<int64_t>(v)); break;
    case ValueType::real: {
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, std::get<double>(v));
      out.append(buf, r.ptr);
      break;
    }
    case ValueType::text: json::append_string(out, std::get<Text>(v).s); break;
    case ValueType::boolean: out += std::get<bool>(v) ? "true" : "false"; break;
    case ValueType::date: out += "\"" + std::get<Date>(v).to_string() + "\""; break;
    case ValueType::attachment: out += "\"" + to_hex(std::get<AttachmentRef>(v).hash) + "\""; break;
  }
}

namespace {

Status fail(Errc c, std::string m) { return {c, std::move(m)}; }

void bind_plain(sql::Statement& st, int i, const Value& v) {
  switch (value_type(v)) {
    case ValueType::null: st.bind_null(i); break;
    case ValueType::integer: st.bind_int(i, std::get<int64_t>(v)); break;
    case ValueType::real: st.bind_real(i, std::get<double>(v)); break;
    case ValueType::text: st.bind_text(i, std::get<Text>(v).s); break;
    case ValueType::boolean: st.bind_int(i, std::get<bool>(v)); break;
    case ValueType::date: st.bind_text(i, std::get<Date>(v).to_string()); break;
    case ValueType::attachment: st.bind_text(i, to_hex(std::get<AttachmentRef>(v).hash)); break;
  }
}

}  // namespace

// ---- reads -------------------------------------------------------------------------------

namespace {
Row to_row(const TableDef& t, const std::string& id, const RowState& s) {
  Row r;
  r.table = t.name;
  r.id = id;
  for (size_t k = 0; k < t.fields.size() && k < s.fields.size(); ++k) {
    if (s.fields[k].writer) r.fields[t.fields[k].name] = s.fields[k].value;
  }
  return r;
}
}  // namespace

Result<std::optional<Row>> Client::get(const std::string& table, const std::string& id) {
  std::lock_guard lock(impl_->mu);
  const TableDef* t = impl_->schema->table(table);
  if (!t) return fail(Errc::unknown_table, "no table \"" + table + "\"");
  auto s = impl_->local->rows().get_row(table, id);
  if (!s.ok()) return s.status();
  if (!*s || (*s)->deleted) return std::optional<Row>();
  Row r = to_row(*t, id, **s);
  r.pending = impl_->local->has_pending_edits(table, id).value_or(false);
  return std::optional<Row>(std::move(r));
}

Result<std::vector<Row>> Client::query(const Query& q) {
  std::lock_guard lock(impl_->mu);
  const TableDef* t = impl_->schema->table(q.table);
  if (!t) return fail(Errc::unknown_table, "no table \"" + q.table + "\"");
  std::string sqltext = "SELECT id FROM " + sql::quote_ident(t->name) + " WHERE " + (q.include_deleted ? "1" : "_deleted = 0");
  for (const Filter& f : q.where) {
    const FieldDef* def = t->field(std::string_view(f.field));
    if (!def) return fail(Errc::unknown_field_id, q.table + ": no field \"" + f.field + "\"");
    const std::string col = sql::quote_ident(def->name);
    static constexpr const char* kOps[] = {" = ?", " <> ?", " < ?", " <= ?", " > ?", " >= ?"};
    if (f.op == Filter::contains) {
      sqltext += " AND instr(tram_fold(" + col + "), tram_fold(?)) > 0";
    } else {
      sqltext += " AND " + col + kOps[f.op];
    }
  }
  if (!q.order_by.empty()) {
    const FieldDef* def = t->field(std::string_view(q.order_by));
    if (!def) return fail(Errc::unknown_field_id, q.table + ": no field \"" + q.order_by + "\"");
    sqltext += " ORDER BY " + sql::quote_ident(def->name) + (def->type == ValueType::text ? " COLLATE tram_vi" : "") +
               (q.descending ? " DESC" : "") + ", id";
  } else {
    sqltext += std::string(" ORDER BY id") + (q.descending ? " DESC" : "");
  }
  sqltext += " LIMIT ? OFFSET ?";
  auto st = impl_->local->rows().db().prepare(sqltext);
  if (!st.ok()) return st.status();
  int i = 1;
  for (const Filter& f : q.where) bind_plain(*st, i++, f.value);
  st->bind_int(i++, static_cast<int64_t>(q.limit));
  st->bind_int(i, static_cast<int64_t>(q.offset));
  std::vector<std::string> ids;
  for (;;) {
    auto has = st->step();
    if (!has.ok()) return has.status();
    if (!*has) break;
    ids.emplace_back(st->column_text(0));
  }
  std::vector<Row> out;
  for (const std::string& id : ids) {
    auto s = impl_->local->rows().get_row(t->name, id);
    if (!s.ok()) return s.status();
    if (!*s) continue;
    out.push_back(to_row(*t, id, **s));
    out.back().pending = impl_->local->has_pending_edits(t->name, id).value_or(false);
  }
  return out;
}

Result<std::string> Client::sql_json(const std::string& select) {
  std::lock_guard lock(impl_->mu);
  sqlite3* db = impl_->local->rows().db().handle();
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  if (sqlite3_prepare_v2(db, select.c_str(), static_cast<int>(select.size()), &raw, &tail) != SQLITE_OK) {
    return fail(Errc::invalid_argument, sqlite3_errmsg(db));
  }
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> stmt(raw, sqlite3_finalize);
  if (!stmt || !sqlite3_stmt_readonly(stmt.get())) return fail(Errc::invalid_argument, "only one read-only statement (SELECT) is allowed");
  for (; tail && *tail; ++tail) {
    if (!std::isspace(static_cast<unsigned char>(*tail)) && *tail != ';') return fail(Errc::invalid_argument, "only one statement is allowed");
  }
  std::string out = "[";
  int rc;
  size_t n = 0;
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    out += n++ ? ",{" : "{";
    for (int c = 0; c < sqlite3_column_count(stmt.get()); ++c) {
      if (c) out.push_back(',');
      json::append_string(out, sqlite3_column_name(stmt.get(), c));
      out.push_back(':');
      switch (sqlite3_column_type(stmt.get(), c)) {
        case SQLITE_INTEGER: out += std::to_string(sqlite3_column_int64(stmt.get(), c)); break;
        case SQLITE_FLOAT: append_plain(out, Value{sqlite3_column_double(stmt.get(), c)}); break;
        case SQLITE_TEXT: json::append_string(out, reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), c))); break;
        case SQLITE_BLOB: {
          const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt.get(), c));
          out += "\"" + to_hex(std::span(p, static_cast<size_t>(sqlite3_column_bytes(stmt.get(), c)))) + "\"";
          break;
        }
        default: out += "null";
      }
    }
    out.push_back('}');
  }
  if (rc != SQLITE_DONE) return fail(Errc::storage_error, sqlite3_errmsg(db));
  return out + "]";
}

// ---- JSON for apps -----------------------------------------------------------------------

Result<std::map<std::string, Value>> Client::fields_from_json(const std::string& table, const std::string& json_object) {
  const TableDef* t = impl_->schema->table(table);
  if (!t) return fail(Errc::unknown_table, "no table \"" + table + "\"");
  dom::parser parser;
  dom::object o;
  if (parser.parse(json_object).get_object().get(o)) return fail(Errc::malformed_json, "fields: expected a JSON object");
  std::map<std::string, Value> out;
  for (auto [key, v] : o) {
    const FieldDef* f = t->field(key);
    const std::string where = table + "." + std::string(key);
    if (!f) return fail(Errc::unknown_field_id, table + ": no field \"" + std::string(key) + "\"");
    Value value;
    if (v.is_null()) {
      out[f->name] = value;
      continue;
    }
    switch (f->type) {
      case ValueType::integer:
        if (!v.is_int64()) return fail(Errc::type_mismatch, where + ": expected an integer");
        value = int64_t(v);
        break;
      case ValueType::real:
        if (!v.is_number()) return fail(Errc::type_mismatch, where + ": expected a number");
        value = double(v);
        break;
      case ValueType::boolean:
        if (!v.is_bool()) return fail(Errc::type_mismatch, where + ": expected true or false");
        value = bool(v);
        break;
      case ValueType::text: {
        if (!v.is_string()) return fail(Errc::type_mismatch, where + ": expected a string");
        auto text = make_text(std::string_view(v));
        if (!text.ok()) return text.status();
        value = std::move(text).value();
        break;
      }
      case ValueType::date: {
        std::optional<Date> d;
        if (!v.is_string() || !(d = Date::parse(std::string_view(v)))) return fail(Errc::type_mismatch, where + ": expected \"YYYY-MM-DD\"");
        value = *d;
        break;
      }
      case ValueType::attachment: {
        std::optional<Hash> h;
        if (!v.is_string() || !(h = from_hex<32>(std::string_view(v)))) return fail(Errc::type_mismatch, where + ": expected 64 hex digits");
        value = AttachmentRef{*h};
        break;
      }
      case ValueType::null: break;
    }
    out[f->name] = std::move(value);
  }
  return out;
}

std::string Client::row_to_json(const Row& row) {
  std::string out = "{\"table\":" + json::quote(row.table) + ",\"id\":" + json::quote(row.id) +
                    ",\"pending\":" + (row.pending ? "true" : "false") + ",\"fields\":{";
  size_t n = 0;
  for (const auto& [name, v] : row.fields) {
    out += (n++ ? "," : "") + json::quote(name) + ":";
    append_plain(out, v);
  }
  return out + "}}";
}

}  // namespace tram::client
