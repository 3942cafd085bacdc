// Applying change sets: field-level merge against the write each edit was based on
// (docs/merge.md). Every table row carries, per field, the rank (clock) and writer of the
// write that produced its value; field 0 is the row's liveness.
#include "tram/engine/store.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <limits>
#include <map>

namespace tram {
namespace {

// The clock that decides concurrent writes, as one comparable integer: trusted clocks keep
// their packed HLC (>= 0); clocks judged far ahead are shifted below every trusted one, so
// they never beat a trusted write but still order among themselves.
int64_t rank_of(Hlc hlc, ClockTrust trust) {
  return trust == ClockTrust::trusted ? hlc.packed : std::numeric_limits<int64_t>::min() + hlc.packed;
}

int64_t to_sql(WriterId w) { return static_cast<int64_t>(w.v); }
WriterId from_sql(int64_t v) { return WriterId{static_cast<uint64_t>(v)}; }

std::string_view sql_type(ValueType t) {
  switch (t) {
    case ValueType::integer:
    case ValueType::boolean: return "INTEGER";
    case ValueType::real: return "REAL";
    default: return "TEXT";
  }
}

void bind_value(sql::Statement& st, int i, const Value& v) {
  switch (value_type(v)) {
    case ValueType::null: st.bind_null(i); break;
    case ValueType::integer: st.bind_int(i, std::get<int64_t>(v)); break;
    case ValueType::real: st.bind_real(i, std::get<double>(v)); break;
    case ValueType::text: st.bind_text(i, std::get<Text>(v).s); break;
    case ValueType::boolean: st.bind_int(i, std::get<bool>(v) ? 1 : 0); break;
    case ValueType::date: st.bind_text(i, std::get<Date>(v).to_string()); break;
    case ValueType::attachment: st.bind_text(i, to_hex(std::get<AttachmentRef>(v).hash)); break;
  }
}

Value read_value(const sql::Statement& st, int i, ValueType t) {
  if (st.column_is_null(i)) return Value{};
  switch (t) {
    case ValueType::integer: return Value{st.column_int(i)};
    case ValueType::real: return Value{st.column_real(i)};
    case ValueType::text: return Value{Text{std::string(st.column_text(i))}};
    case ValueType::boolean: return Value{st.column_int(i) != 0};
    case ValueType::date: {
      auto d = Date::parse(st.column_text(i));
      return d ? Value{*d} : Value{};
    }
    case ValueType::attachment: {
      auto h = from_hex<32>(st.column_text(i));
      return h ? Value{AttachmentRef{*h}} : Value{};
    }
    case ValueType::null: break;
  }
  return Value{};
}

// One field of a row in memory during a merge.
struct Cell {
  Value value;
  int64_t rank = 0;
  std::optional<WriterId> writer;
};

// A row in memory: cells[0] is liveness (integer 1 = deleted), cells[k] the table's k-th field.
struct Row {
  bool exists = false;
  std::vector<Cell> cells;
};

struct TableSql {
  const TableDef* def = nullptr;
  std::map<uint32_t, size_t> pos;  // field id -> index in Row::cells
  sql::Statement select;
  sql::Statement upsert;
};

}  // namespace

class Store::Impl {
 public:
  Impl(sql::Database db, Schema schema) : db_(std::move(db)), schema_(std::move(schema)) {}

  Status init();
  Result<ApplyOutcome> apply(std::span<const ApplyItem> items);
  Status validate(const ApplyItem& item) const;
  Status apply_op(const Op& op, const ApplyItem& item);
  Status load(TableSql& t, std::string_view id, Row& row);
  Status write(TableSql& t, std::string_view id, const Row& row);
  Status record_conflict(const TableSql& t, std::string_view row, uint32_t field, WriterId winner,
                         const Hash* winner_id, WriterId loser, const Hash* loser_id, const Value& loser_value,
                         ValueType type);
  Result<Hash> full_id(WriterId w);

  sql::Database db_;
  Schema schema_;
  std::map<std::string, TableSql, std::less<>> tables_;
  std::optional<sql::Statement> is_applied_, mark_applied_, find_writer_, add_conflict_;
  int64_t apply_ord_ = 0;
  uint32_t conflicts_written_ = 0;
};

Status Store::Impl::init() {
  TRAM_RETURN_IF_ERROR(schema_.validate());
  TRAM_RETURN_IF_ERROR(db_.exec(
      "CREATE TABLE IF NOT EXISTS _tram_applied ("
      " id BLOB PRIMARY KEY NOT NULL, device BLOB NOT NULL,"
      " seq INTEGER NOT NULL, hlc INTEGER NOT NULL, clock_ahead INTEGER NOT NULL, ord INTEGER NOT NULL"
      ") WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS _tram_conflicts ("
      " tbl TEXT NOT NULL, row_id TEXT NOT NULL, field INTEGER NOT NULL,"
      " winner BLOB NOT NULL, loser BLOB NOT NULL, loser_type TEXT NOT NULL, loser_value ANY,"
      " PRIMARY KEY (tbl, row_id, field, loser)) WITHOUT ROWID;"));
  auto prep = [&](std::optional<sql::Statement>& slot, std::string_view q) -> Status {
    auto st = db_.prepare(q);
    if (!st.ok()) return st.status();
    slot.emplace(std::move(st).value());
    return {};
  };
  TRAM_RETURN_IF_ERROR(prep(is_applied_, "SELECT 1 FROM _tram_applied WHERE id = ?"));
  TRAM_RETURN_IF_ERROR(prep(mark_applied_,
                            "INSERT OR IGNORE INTO _tram_applied(id, device, seq, hlc, clock_ahead, ord)"
                            " VALUES (?, ?, ?, ?, ?, ?)"));
  // A writer id is the first 8 bytes of the change-set id: a range scan of the primary key
  // finds it, so no second (random, write-amplifying) index is needed.
  TRAM_RETURN_IF_ERROR(prep(find_writer_, "SELECT id FROM _tram_applied WHERE id >= ? AND id < ? ORDER BY ord LIMIT 1"));
  TRAM_RETURN_IF_ERROR(prep(add_conflict_,
                            "INSERT OR IGNORE INTO _tram_conflicts(tbl, row_id, field, winner, loser, loser_type,"
                            " loser_value) VALUES (?, ?, ?, ?, ?, ?, ?)"));
  {
    auto st = db_.prepare("SELECT COALESCE(MAX(ord), 0) FROM _tram_applied");
    if (!st.ok()) return st.status();
    auto row = st->step();
    if (!row.ok()) return row.status();
    apply_ord_ = st->column_int(0);
  }

  for (const TableDef& t : schema_.tables) {
    const std::string name = sql::quote_ident(t.name);
    std::string ddl = "CREATE TABLE IF NOT EXISTS " + name +
                      " (id TEXT PRIMARY KEY NOT NULL, _deleted INTEGER NOT NULL DEFAULT 0,"
                      " _r0 INTEGER, _w0 INTEGER";
    std::string cols = "id, _deleted, _r0, _w0";
    std::string update = "_deleted = excluded._deleted, _r0 = excluded._r0, _w0 = excluded._w0";
    TableSql ts;
    ts.def = &t;
    ts.pos[0] = 0;
    size_t k = 1;
    for (const FieldDef& f : t.fields) {
      const std::string col = sql::quote_ident(f.name), r = "_r" + std::to_string(f.id),
                        w = "_w" + std::to_string(f.id);
      ddl += ", " + col + " " + std::string(sql_type(f.type)) + ", " + r + " INTEGER, " + w + " INTEGER";
      cols += ", " + col + ", " + r + ", " + w;
      update += ", " + col + " = excluded." + col + ", " + r + " = excluded." + r + ", " + w + " = excluded." + w;
      ts.pos[f.id] = k++;
    }
    ddl += ") WITHOUT ROWID";
    TRAM_RETURN_IF_ERROR(db_.exec(ddl));
    auto sel = db_.prepare("SELECT " + cols + " FROM " + name + " WHERE id = ?");
    if (!sel.ok()) return sel.status();
    std::string params = "?";
    for (size_t i = 1; i < 1 + 3 * k; ++i) params += ", ?";
    auto up = db_.prepare("INSERT INTO " + name + " (" + cols + ") VALUES (" + params + ") ON CONFLICT(id) DO UPDATE SET " + update);
    if (!up.ok()) return up.status();
    ts.select = std::move(sel).value();
    ts.upsert = std::move(up).value();
    tables_.emplace(t.name, std::move(ts));
  }
  return {};
}

Status Store::Impl::validate(const ApplyItem& item) const {
  const ChangeSet& cs = *item.cs;
  // Additive schema versions keep old change sets valid; a newer one may name what we lack.
  if (cs.schema != schema_.id || cs.schema_version > schema_.version) {
    return {Errc::schema_mismatch, "change set is for schema " + cs.schema + " v" + std::to_string(cs.schema_version) +
                                       ", this replica has " + schema_.id + " v" + std::to_string(schema_.version)};
  }
  for (size_t i = 0; i < cs.ops.size(); ++i) {
    const Op& op = cs.ops[i];
    auto it = tables_.find(op.table);
    if (it == tables_.end()) {
      return {Errc::unknown_table, "ops[" + std::to_string(i) + "]: no table \"" + op.table + "\" in schema " +
                                       schema_.id + " v" + std::to_string(schema_.version)};
    }
    const TableDef& t = *it->second.def;
    for (const FieldWrite& w : op.fields) {
      const FieldDef* f = t.field(w.field);
      if (!f) {
        return {Errc::unknown_field_id, op.table + "/" + op.row + ": no field " + std::to_string(w.field)};
      }
      const ValueType vt = value_type(w.value);
      if (vt != ValueType::null && vt != f->type) {
        return {Errc::type_mismatch, op.table + "/" + op.row + "/" + f->name + ": expected " +
                                         std::string(value_type_name(f->type)) + ", got " +
                                         std::string(value_type_name(vt))};
      }
    }
  }
  return {};
}

Status Store::Impl::load(TableSql& t, std::string_view id, Row& row) {
  const size_t n = t.def->fields.size() + 1;
  row.cells.assign(n, Cell{});
  t.select.reset();
  t.select.bind_text(1, id);
  auto has = t.select.step();
  if (!has.ok()) return has.status();
  row.exists = *has;
  if (row.exists) {
    for (size_t k = 0; k < n; ++k) {
      const int c = 1 + 3 * static_cast<int>(k);
      Cell& cell = row.cells[k];
      cell.value = k == 0 ? Value{t.select.column_int(c)}
                          : read_value(t.select, c, t.def->fields[k - 1].type);
      if (!t.select.column_is_null(c + 1)) {
        cell.rank = t.select.column_int(c + 1);
        cell.writer = from_sql(t.select.column_int(c + 2));
      }
    }
  }
  t.select.reset();
  return {};
}

Status Store::Impl::write(TableSql& t, std::string_view id, const Row& row) {
  sql::Statement& st = t.upsert;
  st.reset();
  st.bind_text(1, id);
  for (size_t k = 0; k < row.cells.size(); ++k) {
    const int c = 2 + 3 * static_cast<int>(k);
    const Cell& cell = row.cells[k];
    if (k == 0) {
      st.bind_int(c, std::holds_alternative<int64_t>(cell.value) ? std::get<int64_t>(cell.value) : 0);
    } else {
      bind_value(st, c, cell.value);
    }
    if (cell.writer) {
      st.bind_int(c + 1, cell.rank);
      st.bind_int(c + 2, to_sql(*cell.writer));
    } else {
      st.bind_null(c + 1);
      st.bind_null(c + 2);
    }
  }
  return st.run();
}

Result<Hash> Store::Impl::full_id(WriterId w) {
  // [prefix, prefix + 1) as 8-byte big-endian blobs; the id 0xff…ff prefix has no upper bound.
  std::array<uint8_t, 8> lo{}, hi{};
  for (int i = 0; i < 8; ++i) lo[i] = static_cast<uint8_t>(w.v >> (8 * (7 - i)));
  const uint64_t next = w.v + 1;
  for (int i = 0; i < 8; ++i) hi[i] = static_cast<uint8_t>(next >> (8 * (7 - i)));
  find_writer_->reset();
  find_writer_->bind_blob(1, lo);
  std::array<uint8_t, 33> top;  // above every 32-byte id
  top.fill(0xff);
  if (next == 0) find_writer_->bind_blob(2, top);
  else find_writer_->bind_blob(2, hi);
  auto has = find_writer_->step();
  if (!has.ok()) return has.status();
  if (!*has) return Status(Errc::not_found, "no applied change set with writer id");
  Hash h{};
  auto blob = find_writer_->column_blob(0);
  if (blob.size() == h.size()) std::copy(blob.begin(), blob.end(), h.begin());
  find_writer_->reset();
  return h;
}

Status Store::Impl::record_conflict(const TableSql& t, std::string_view row, uint32_t field, WriterId winner,
                                    const Hash* winner_id, WriterId loser, const Hash* loser_id,
                                    const Value& loser_value, ValueType type) {
  Hash w{}, l{};
  if (winner_id) {
    w = *winner_id;
  } else {
    auto r = full_id(winner);
    if (!r.ok()) return r.status();
    w = *r;
  }
  if (loser_id) {
    l = *loser_id;
  } else {
    auto r = full_id(loser);
    if (!r.ok()) return r.status();
    l = *r;
  }
  sql::Statement& st = *add_conflict_;
  st.reset();
  st.bind_text(1, t.def->name);
  st.bind_text(2, row);
  st.bind_int(3, field);
  st.bind_blob(4, w);
  st.bind_blob(5, l);
  const char tag = value_type_tag(value_type(loser_value) == ValueType::null ? ValueType::null : type);
  st.bind_text(6, std::string_view(&tag, 1));
  bind_value(st, 7, loser_value);
  TRAM_RETURN_IF_ERROR(st.run());
  if (db_.changes() > 0) ++conflicts_written_;
  return {};
}

Status Store::Impl::apply_op(const Op& op, const ApplyItem& item) {
  TableSql& t = tables_.find(op.table)->second;
  Row row;
  TRAM_RETURN_IF_ERROR(load(t, op.row, row));
  const WriterId me = WriterId::of(item.id);
  const int64_t my_rank = rank_of(item.cs->hlc, item.clock);

  // Merges one write into one cell (the rules of docs/merge.md).
  auto merge = [&](uint32_t field, size_t k, Value value, ValueType type) -> Status {
    Cell& cur = row.cells[k];
    const std::optional<WriterId> base = op.base_of(field);
    const bool sequential = !row.exists || !cur.writer || *cur.writer == me || (base && *base == *cur.writer);
    if (sequential) {
      cur = Cell{std::move(value), my_rank, me};
      return {};
    }
    // Concurrent: neither write saw the other.
    const bool incoming_wins = std::pair(my_rank, me.v) > std::pair(cur.rank, cur.writer->v);
    if (cur.value == value) {
      // Same value: nothing is lost; keep the greater write's metadata so every order agrees.
      if (incoming_wins) cur = Cell{std::move(value), my_rank, me};
      return {};
    }
    if (incoming_wins) {
      TRAM_RETURN_IF_ERROR(record_conflict(t, op.row, field, me, &item.id, *cur.writer, nullptr, cur.value, type));
      cur = Cell{std::move(value), my_rank, me};
      return {};
    }
    return record_conflict(t, op.row, field, *cur.writer, nullptr, me, &item.id, value, type);
  };

  const int64_t liveness = op.kind == OpKind::del ? 1 : 0;
  TRAM_RETURN_IF_ERROR(merge(kLivenessField, 0, Value{liveness}, ValueType::integer));
  for (const FieldWrite& w : op.fields) {
    const size_t k = t.pos.find(w.field)->second;
    TRAM_RETURN_IF_ERROR(merge(w.field, k, w.value, t.def->fields[k - 1].type));
  }
  return write(t, op.row, row);
}

Result<ApplyOutcome> Store::Impl::apply(std::span<const ApplyItem> items) {
  for (const ApplyItem& item : items) TRAM_RETURN_IF_ERROR(validate(item));
  auto tx = sql::Transaction::begin(db_);
  if (!tx.ok()) return tx.status();
  ApplyOutcome out;
  const int64_t ord_before = apply_ord_;
  conflicts_written_ = 0;
  for (const ApplyItem& item : items) {
    // Marking and the already-applied check are one statement: INSERT OR IGNORE changes
    // nothing for an id that is there already.
    sql::Statement& mark = *mark_applied_;
    mark.reset();
    mark.bind_blob(1, item.id);
    mark.bind_blob(2, item.cs->device);
    mark.bind_int(3, static_cast<int64_t>(item.cs->seq));
    mark.bind_int(4, item.cs->hlc.packed);
    mark.bind_int(5, item.clock == ClockTrust::ahead ? 1 : 0);
    mark.bind_int(6, apply_ord_ + 1);
    Status st = mark.run();
    if (st.ok() && db_.changes() == 0) {
      ++out.already_applied;
      continue;
    }
    ++apply_ord_;
    for (size_t i = 0; st.ok() && i < item.cs->ops.size(); ++i) st = apply_op(item.cs->ops[i], item);
    if (!st.ok()) {
      apply_ord_ = ord_before;
      return st;
    }
    ++out.applied;
  }
  Status st = tx->commit();
  if (!st.ok()) {
    apply_ord_ = ord_before;
    return st;
  }
  out.conflicts = conflicts_written_;
  return out;
}

Result<std::unique_ptr<Store>> Store::open(const std::string& path, const Schema& schema) {
  auto db = sql::Database::open(path);
  if (!db.ok()) return db.status();
  auto impl = std::make_unique<Impl>(std::move(db).value(), schema);
  TRAM_RETURN_IF_ERROR(impl->init());
  return std::unique_ptr<Store>(new Store(std::move(impl)));
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() = default;

Result<ApplyOutcome> Store::apply(std::span<const ApplyItem> items) { return impl_->apply(items); }

Result<std::optional<RowState>> Store::get_row(std::string_view table, std::string_view row) {
  auto it = impl_->tables_.find(table);
  if (it == impl_->tables_.end()) return Status(Errc::unknown_table, "no table \"" + std::string(table) + "\"");
  Row r;
  TRAM_RETURN_IF_ERROR(impl_->load(it->second, row, r));
  if (!r.exists) return std::optional<RowState>();
  RowState s;
  s.deleted = std::get<int64_t>(r.cells[0].value) != 0;
  s.liveness_writer = r.cells[0].writer;
  for (size_t k = 1; k < r.cells.size(); ++k) s.fields.push_back(StoredField{r.cells[k].value, r.cells[k].writer});
  return std::optional<RowState>(std::move(s));
}

Result<bool> Store::is_applied(const Hash& id) {
  auto& st = *impl_->is_applied_;
  st.reset();
  st.bind_blob(1, id);
  auto r = st.step();
  st.reset();
  return r;
}

Result<std::vector<ConflictRecord>> Store::conflicts() {
  auto st = impl_->db_.prepare(
      "SELECT tbl, row_id, field, winner, loser, loser_type, loser_value FROM _tram_conflicts"
      " ORDER BY tbl, row_id, field, loser");
  if (!st.ok()) return st.status();
  std::vector<ConflictRecord> out;
  for (;;) {
    auto has = st->step();
    if (!has.ok()) return has.status();
    if (!*has) break;
    ConflictRecord c;
    c.table = st->column_text(0);
    c.row = st->column_text(1);
    c.field = static_cast<uint32_t>(st->column_int(2));
    auto w = st->column_blob(3), l = st->column_blob(4);
    std::copy_n(w.begin(), std::min(w.size(), c.winner.size()), c.winner.begin());
    std::copy_n(l.begin(), std::min(l.size(), c.loser.size()), c.loser.begin());
    auto type = value_type_from_tag(st->column_text(5));
    c.loser_value = read_value(*st, 6, type.value_or(ValueType::null));
    out.push_back(std::move(c));
  }
  return out;
}

Result<Hash> Store::state_hash() {
  std::string buf;
  auto dump = [&](const std::string& query) -> Status {
    auto st = impl_->db_.prepare(query);
    if (!st.ok()) return st.status();
    for (;;) {
      auto has = st->step();
      if (!has.ok()) return has.status();
      if (!*has) break;
      for (int i = 0; i < st->column_count(); ++i) {
        const int type = st->column_type(i);
        buf.push_back(static_cast<char>('0' + type));
        switch (type) {
          case SQLITE_INTEGER: buf += std::to_string(st->column_int(i)); break;
          case SQLITE_FLOAT: {
            const double d = st->column_real(i);
            buf.append(reinterpret_cast<const char*>(&d), sizeof d);
            break;
          }
          case SQLITE_TEXT: {
            auto s = st->column_text(i);
            buf += std::to_string(s.size()) + ":";
            buf += s;
            break;
          }
          case SQLITE_BLOB: {
            auto b = st->column_blob(i);
            buf += std::to_string(b.size()) + ":";
            buf.append(reinterpret_cast<const char*>(b.data()), b.size());
            break;
          }
          default: break;
        }
      }
      buf.push_back('\n');
    }
    return {};
  };
  for (const TableDef& t : impl_->schema_.tables) {
    buf += "table " + t.name + "\n";
    TRAM_RETURN_IF_ERROR(dump("SELECT * FROM " + sql::quote_ident(t.name) + " ORDER BY id"));
  }
  buf += "conflicts\n";
  TRAM_RETURN_IF_ERROR(dump("SELECT * FROM _tram_conflicts ORDER BY tbl, row_id, field, loser"));
  return blake2b_256(buf);
}

const Schema& Store::schema() const { return impl_->schema_; }
sql::Database& Store::db() { return impl_->db_; }

}  // namespace tram
