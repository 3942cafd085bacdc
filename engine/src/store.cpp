// Applying change sets: field-level merge against the write each edit was based on
// (docs/merge.md). Every table row carries, per field, the rank (clock) and writer of the
// write that produced its value; field 0 is the row's liveness. Writers are full change-set
// ids kept in a small per-row dictionary (_ws, sorted, 32 bytes each; a cell stores its index),
// so conflict records name both change sets without a global, randomly keyed index.
// Longer than ~400 lines on purpose: the merge, the row codec and the prepared statements it
// runs on share one Impl whose invariants (one transaction, one dictionary per row) are easier
// to keep in one file than across several.
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
using Cell = CellImage;

// A row in memory: cells[0] is liveness (integer 1 = deleted), cells[k] the table's k-th field.
struct Row {
  bool exists = false;
  std::vector<Cell> cells;
};

struct TableSql {
  const TableDef* def = nullptr;
  std::string columns;  // in schema order, whatever order migrations added them in
  std::map<uint32_t, size_t> pos;  // field id -> index in Row::cells
  sql::Statement select;
  sql::Statement upsert;
  sql::Statement scan;  // rows after an id, in id order (snapshots)
};

}  // namespace

class Store::Impl {
 public:
  Impl(sql::Database db, Schema schema) : db_(std::move(db)), schema_(std::move(schema)) {}

  Status init();
  Status check_recorded_schema();
  Status add_missing_columns(const TableDef& t);
  Result<std::optional<Hash>> applied_at(const PublicKey& device, uint64_t seq);
  Result<ApplyOutcome> apply(std::span<const ApplyItem> items);
  Result<bool> mark_new(const ApplyItem& item);
  Status validate(const ApplyItem& item) const;
  Status apply_op(const Op& op, const ApplyItem& item);
  Status load(TableSql& t, std::string_view id, Row& row);
  Status write(TableSql& t, std::string_view id, const Row& row) { return write(t, id, row.cells); }
  Status write(TableSql& t, std::string_view id, std::span<const Cell> cells);
  Status read_row(const TableSql& t, const sql::Statement& st, Row& row);
  Status record_conflict(const TableSql& t, std::string_view row, uint32_t field, const Hash& winner,
                         const Hash& loser, const Value& loser_value, ValueType type);

  sql::Database db_;
  Schema schema_;
  std::map<std::string, TableSql, std::less<>> tables_;
  std::optional<sql::Statement> applied_at_, mark_applied_, add_conflict_;
  int64_t apply_ord_ = 0;
  bool chains_outside_ = false;  // see Store::keep_chains_outside
  uint32_t conflicts_written_ = 0;
};

Status Store::Impl::init() {
  TRAM_RETURN_IF_ERROR(schema_.validate());
  TRAM_RETURN_IF_ERROR(db_.exec(
      // Keyed by (device, seq), not by the random id: a device's change sets arrive together
      // and then share pages, which halves the pages each change set writes.
      "CREATE TABLE IF NOT EXISTS _tram_applied ("
      " device BLOB NOT NULL, seq INTEGER NOT NULL, id BLOB NOT NULL,"
      " hlc INTEGER NOT NULL, clock_ahead INTEGER NOT NULL, ord INTEGER NOT NULL,"
      " PRIMARY KEY (device, seq)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS _tram_conflicts ("
      " tbl TEXT NOT NULL, row_id TEXT NOT NULL, field INTEGER NOT NULL,"
      " winner BLOB NOT NULL, loser BLOB NOT NULL, loser_type TEXT NOT NULL, loser_value ANY,"
      " PRIMARY KEY (tbl, row_id, field, loser)) WITHOUT ROWID;"
      "CREATE TABLE IF NOT EXISTS _tram_meta (key TEXT PRIMARY KEY NOT NULL, value ANY) WITHOUT ROWID;"));
  TRAM_RETURN_IF_ERROR(check_recorded_schema());
  auto prep = [&](std::optional<sql::Statement>& slot, std::string_view q) -> Status {
    auto st = db_.prepare(q);
    if (!st.ok()) return st.status();
    slot.emplace(std::move(st).value());
    return {};
  };
  TRAM_RETURN_IF_ERROR(prep(applied_at_, "SELECT id FROM _tram_applied WHERE device = ? AND seq = ?"));
  TRAM_RETURN_IF_ERROR(prep(mark_applied_,
                            "INSERT OR IGNORE INTO _tram_applied(device, seq, id, hlc, clock_ahead, ord)"
                            " VALUES (?, ?, ?, ?, ?, ?)"));
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
                      " (id TEXT PRIMARY KEY NOT NULL, _ws BLOB NOT NULL, _deleted INTEGER NOT NULL DEFAULT 0,"
                      " _r0 INTEGER, _w0 INTEGER";
    std::string cols = "id, _ws, _deleted, _r0, _w0";
    std::string update = "_ws = excluded._ws, _deleted = excluded._deleted, _r0 = excluded._r0, _w0 = excluded._w0";
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
    TRAM_RETURN_IF_ERROR(add_missing_columns(t));
    auto sel = db_.prepare("SELECT " + cols + " FROM " + name + " WHERE id = ?");
    if (!sel.ok()) return sel.status();
    std::string params = "?, ?";
    for (size_t i = 0; i < 3 * k; ++i) params += ", ?";
    auto up = db_.prepare("INSERT INTO " + name + " (" + cols + ") VALUES (" + params + ") ON CONFLICT(id) DO UPDATE SET " + update);
    if (!up.ok()) return up.status();
    ts.select = std::move(sel).value();
    auto scan = db_.prepare("SELECT " + cols + " FROM " + name + " WHERE id > ? ORDER BY id LIMIT ?");
    if (!scan.ok()) return scan.status();
    ts.scan = std::move(scan).value();
    ts.columns = cols;
    ts.upsert = std::move(up).value();
    tables_.emplace(t.name, std::move(ts));
  }
  return {};
}

// The database remembers the schema id and version it was last opened with: another schema, or
// an older version than the data was written with, is refused; a newer one is recorded.
Status Store::Impl::check_recorded_schema() {
  auto get = db_.prepare("SELECT value FROM _tram_meta WHERE key = ?");
  if (!get.ok()) return get.status();
  auto read = [&](std::string_view key) -> Result<std::optional<std::string>> {
    get->reset();
    get->bind_text(1, key);
    auto has = get->step();
    if (!has.ok()) return has.status();
    std::optional<std::string> v;
    if (*has) v = std::string(get->column_text(0));
    get->reset();
    return v;
  };
  auto id = read("schema_id");
  if (!id.ok()) return id.status();
  auto version = read("schema_version");
  if (!version.ok()) return version.status();
  if (*id && **id != schema_.id) {
    return {Errc::schema_mismatch, "database holds schema " + **id + ", not " + schema_.id};
  }
  if (*version && std::stoull(**version) > schema_.version) {
    return {Errc::schema_mismatch, "database was written with " + schema_.id + " v" + **version +
                                       "; this program has only v" + std::to_string(schema_.version)};
  }
  auto put = db_.prepare("INSERT INTO _tram_meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  if (!put.ok()) return put.status();
  put->bind_text(1, "schema_id");
  put->bind_text(2, schema_.id);
  TRAM_RETURN_IF_ERROR(put->run());
  put->reset();
  put->bind_text(1, "schema_version");
  put->bind_text(2, std::to_string(schema_.version));
  return put->run();
}

// Additive migration: a field added by a newer schema version becomes three new columns.
// Old rows read NULL (never written), which is what a client on the old version would send.
Status Store::Impl::add_missing_columns(const TableDef& t) {
  auto info = db_.prepare("SELECT name FROM pragma_table_info(?)");
  if (!info.ok()) return info.status();
  info->bind_text(1, t.name);
  std::vector<std::string> have;
  for (;;) {
    auto row = info->step();
    if (!row.ok()) return row.status();
    if (!*row) break;
    have.emplace_back(info->column_text(0));
  }
  for (const FieldDef& f : t.fields) {
    if (std::find(have.begin(), have.end(), f.name) != have.end()) continue;
    const std::string table = sql::quote_ident(t.name), id = std::to_string(f.id);
    TRAM_RETURN_IF_ERROR(db_.exec("ALTER TABLE " + table + " ADD COLUMN " + sql::quote_ident(f.name) + " " +
                                  std::string(sql_type(f.type)) + "; ALTER TABLE " + table + " ADD COLUMN _r" + id +
                                  " INTEGER; ALTER TABLE " + table + " ADD COLUMN _w" + id + " INTEGER;"));
  }
  return {};
}

Result<std::optional<Hash>> Store::Impl::applied_at(const PublicKey& device, uint64_t seq) {
  sql::Statement& st = *applied_at_;
  st.reset();
  st.bind_blob(1, device);
  st.bind_int(2, static_cast<int64_t>(seq));
  auto has = st.step();
  if (!has.ok()) return has.status();
  std::optional<Hash> out;
  if (*has) {
    auto blob = st.column_blob(0);
    Hash h{};
    if (blob.size() == h.size()) std::copy(blob.begin(), blob.end(), h.begin());
    out = h;
  }
  st.reset();
  return out;
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
  t.select.reset();
  t.select.bind_text(1, id);
  auto has = t.select.step();
  if (!has.ok()) return has.status();
  row.exists = *has;
  Status st = row.exists ? read_row(t, t.select, row) : Status{};
  if (!row.exists) row.cells.assign(t.def->fields.size() + 1, Cell{});
  t.select.reset();
  return st;
}

// The cells of the row `st` stands on (columns as in TableSql::columns).
Status Store::Impl::read_row(const TableSql& t, const sql::Statement& st, Row& row) {
  const size_t n = t.def->fields.size() + 1;
  row.cells.assign(n, Cell{});
  const auto ws = st.column_blob(1);
  const size_t n_writers = ws.size() / sizeof(Hash);
  for (size_t k = 0; k < n; ++k) {
    const int c = 2 + 3 * static_cast<int>(k);
    Cell& cell = row.cells[k];
    cell.value = k == 0 ? Value{st.column_int(c)} : read_value(st, c, t.def->fields[k - 1].type);
    if (!st.column_is_null(c + 2)) {
      // A NULL rank with a writer: the liveness cell's rank (see write()).
      cell.rank = st.column_is_null(c + 1) && k > 0 ? row.cells[0].rank : st.column_int(c + 1);
      const auto idx = static_cast<size_t>(st.column_int(c + 2));
      if (idx >= n_writers) return {Errc::storage_error, t.def->name + "/" + std::string(st.column_text(0)) + ": writer index out of range"};
      Hash h;
      std::copy_n(ws.begin() + static_cast<long>(idx * sizeof(Hash)), sizeof(Hash), h.begin());
      cell.writer = h;
    }
  }
  return {};
}

Status Store::Impl::write(TableSql& t, std::string_view id, std::span<const Cell> cells) {
  // Every parameter is bound below, and text from `cells` (alive until run()) is not copied:
  // this is the path every pulled row and every merged op takes.
  sql::Statement& st = t.upsert;
  st.rewind();
  st.bind_text_unowned(1, id);
  // The writers still referenced, sorted: the same cells give the same bytes on every replica.
  std::vector<Hash> writers;
  for (const Cell& cell : cells) {
    if (cell.writer && std::find(writers.begin(), writers.end(), *cell.writer) == writers.end()) writers.push_back(*cell.writer);
  }
  std::sort(writers.begin(), writers.end());
  std::vector<uint8_t> ws;
  ws.reserve(writers.size() * sizeof(Hash));
  for (const Hash& h : writers) ws.insert(ws.end(), h.begin(), h.end());
  st.bind_blob_unowned(2, ws);
  // A field's rank equal to the liveness cell's (usual: one change set wrote the row) is stored
  // as NULL beside its writer, which SQLite keeps in no bytes instead of 8. (Never written: rank
  // and writer both NULL.)
  const std::optional<int64_t> row_rank = !cells.empty() && cells[0].writer ? std::optional(cells[0].rank) : std::nullopt;
  for (size_t k = 0; k < cells.size(); ++k) {
    const int c = 3 + 3 * static_cast<int>(k);
    const Cell& cell = cells[k];
    if (k == 0) {
      st.bind_int(c, std::holds_alternative<int64_t>(cell.value) ? std::get<int64_t>(cell.value) : 0);
    } else if (const auto* text = std::get_if<Text>(&cell.value)) {
      st.bind_text_unowned(c, text->s);
    } else {
      bind_value(st, c, cell.value);
    }
    if (cell.writer) {
      if (k > 0 && row_rank == cell.rank) {
        st.bind_null(c + 1);
      } else {
        st.bind_int(c + 1, cell.rank);
      }
      st.bind_int(c + 2, std::lower_bound(writers.begin(), writers.end(), *cell.writer) - writers.begin());
    } else {
      st.bind_null(c + 1);
      st.bind_null(c + 2);
    }
  }
  return st.run();
}

Status Store::Impl::record_conflict(const TableSql& t, std::string_view row, uint32_t field, const Hash& w,
                                    const Hash& l, const Value& loser_value, ValueType type) {
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
  const Hash& me = item.id;
  const int64_t my_rank = rank_of(item.cs->hlc, item.clock);

  // Merges one write into one cell (the rules of docs/merge.md).
  auto merge = [&](uint32_t field, size_t k, Value value, ValueType type) -> Status {
    Cell& cur = row.cells[k];
    const std::optional<WriterId> base = op.base_of(field);
    const bool sequential =
        !row.exists || !cur.writer || *cur.writer == me || (base && *base == WriterId::of(*cur.writer));
    if (sequential) {
      cur = Cell{std::move(value), my_rank, me};
      return {};
    }
    // Concurrent: neither write saw the other.
    const bool incoming_wins = std::tie(my_rank, me) > std::tie(cur.rank, *cur.writer);
    if (cur.value == value) {
      // Same value: nothing is lost; keep the greater write's metadata so every order agrees.
      if (incoming_wins) cur = Cell{std::move(value), my_rank, me};
      return {};
    }
    if (incoming_wins) {
      TRAM_RETURN_IF_ERROR(record_conflict(t, op.row, field, me, *cur.writer, cur.value, type));
      cur = Cell{std::move(value), my_rank, me};
      return {};
    }
    return record_conflict(t, op.row, field, *cur.writer, me, value, type);
  };

  const int64_t liveness = op.kind == OpKind::del ? 1 : 0;
  TRAM_RETURN_IF_ERROR(merge(kLivenessField, 0, Value{liveness}, ValueType::integer));
  for (const FieldWrite& w : op.fields) {
    const size_t k = t.pos.find(w.field)->second;
    TRAM_RETURN_IF_ERROR(merge(w.field, k, w.value, t.def->fields[k - 1].type));
  }
  return write(t, op.row, row);
}

// Marking and the already-applied check are one statement: INSERT OR IGNORE changes nothing
// for a (device, seq) that is there already. True: marked now, to be applied.
Result<bool> Store::Impl::mark_new(const ApplyItem& item) {
  sql::Statement& mark = *mark_applied_;
  mark.reset();
  mark.bind_blob(1, item.cs->device);
  mark.bind_int(2, static_cast<int64_t>(item.cs->seq));
  mark.bind_blob(3, item.id);
  mark.bind_int(4, item.cs->hlc.packed);
  mark.bind_int(5, item.clock == ClockTrust::ahead ? 1 : 0);
  mark.bind_int(6, apply_ord_ + 1);
  TRAM_RETURN_IF_ERROR(mark.run());
  if (db_.changes() != 0) return true;
  // (device, seq) is taken: the same change set again, or another one (a fork that the chain
  // check should have stopped before it got here).
  auto prior = applied_at(item.cs->device, item.cs->seq);
  if (!prior.ok()) return prior.status();
  if (*prior == item.id) return false;
  return Status(Errc::fork_detected,
                "device " + to_hex(item.cs->device) + " seq " + std::to_string(item.cs->seq) + " was applied with other bytes");
}

Result<ApplyOutcome> Store::Impl::apply(std::span<const ApplyItem> items) {
  for (const ApplyItem& item : items) TRAM_RETURN_IF_ERROR(validate(item));
  auto tx = sql::Transaction::begin(db_);
  if (!tx.ok()) return tx.status();
  ApplyOutcome out;
  const int64_t ord_before = apply_ord_;
  conflicts_written_ = 0;
  for (const ApplyItem& item : items) {
    Status st;
    if (!chains_outside_) {
      auto fresh = mark_new(item);
      if (fresh.ok() && !*fresh) {
        ++out.already_applied;
        continue;
      }
      st = fresh.status();
      ++apply_ord_;
    }
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
void Store::keep_chains_outside() { impl_->chains_outside_ = true; }

Result<std::optional<RowState>> Store::get_row(std::string_view table, std::string_view row) {
  auto it = impl_->tables_.find(table);
  if (it == impl_->tables_.end()) return Status(Errc::unknown_table, "no table \"" + std::string(table) + "\"");
  Row r;
  TRAM_RETURN_IF_ERROR(impl_->load(it->second, row, r));
  if (!r.exists) return std::optional<RowState>();
  RowState s;
  s.deleted = std::get<int64_t>(r.cells[0].value) != 0;
  auto writer_of = [](const Cell& c) { return c.writer ? std::optional(WriterId::of(*c.writer)) : std::nullopt; };
  s.liveness_writer = writer_of(r.cells[0]);
  for (size_t k = 1; k < r.cells.size(); ++k) s.fields.push_back(StoredField{r.cells[k].value, writer_of(r.cells[k])});
  return std::optional<RowState>(std::move(s));
}

Result<std::optional<Hash>> Store::applied_at(const PublicKey& device, uint64_t seq) {
  return impl_->applied_at(device, seq);
}

namespace {
Result<std::vector<ConflictRecord>> read_conflicts(sql::Statement* st) {
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
}  // namespace

Result<std::vector<ConflictRecord>> Store::conflicts() {
  auto st = impl_->db_.prepare(
      "SELECT tbl, row_id, field, winner, loser, loser_type, loser_value FROM _tram_conflicts"
      " ORDER BY tbl, row_id, field, loser");
  if (!st.ok()) return st.status();
  return read_conflicts(&*st);
}

Result<std::vector<ConflictRecord>> Store::conflicts_of(std::string_view table, std::string_view row) {
  auto st = impl_->db_.prepare(
      "SELECT tbl, row_id, field, winner, loser, loser_type, loser_value FROM _tram_conflicts"
      " WHERE tbl = ? AND row_id = ? ORDER BY field, loser");
  if (!st.ok()) return st.status();
  st->bind_text(1, table);
  st->bind_text(2, row);
  return read_conflicts(&*st);
}

Result<bool> Store::has_conflicts() {
  auto st = impl_->db_.prepare("SELECT EXISTS (SELECT 1 FROM _tram_conflicts)");
  if (!st.ok()) return st.status();
  auto has = st->step();
  if (!has.ok()) return has.status();
  return st->column_int(0) != 0;
}

Status Store::erase_row(std::string_view table, std::string_view row) {
  if (!impl_->tables_.count(table)) return Status(Errc::unknown_table, "no table \"" + std::string(table) + "\"");
  auto st = impl_->db_.prepare("DELETE FROM " + sql::quote_ident(table) + " WHERE id = ?");
  if (!st.ok()) return st.status();
  st->bind_text(1, row);
  return st->run();
}

Status Store::forget_applied(const PublicKey& device, uint64_t seq) {
  auto st = impl_->db_.prepare("DELETE FROM _tram_applied WHERE device = ? AND seq = ?");
  if (!st.ok()) return st.status();
  st->bind_blob(1, device);
  st->bind_int(2, static_cast<int64_t>(seq));
  return st->run();
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
    TRAM_RETURN_IF_ERROR(dump("SELECT " + impl_->tables_.find(t.name)->second.columns + " FROM " +
                              sql::quote_ident(t.name) + " ORDER BY id"));
  }
  buf += "conflicts\n";
  TRAM_RETURN_IF_ERROR(dump("SELECT * FROM _tram_conflicts ORDER BY tbl, row_id, field, loser"));
  return blake2b_256(buf);
}

Result<std::optional<RowImage>> Store::row_image(std::string_view table, std::string_view row) {
  auto it = impl_->tables_.find(table);
  if (it == impl_->tables_.end()) return Status(Errc::unknown_table, "no table \"" + std::string(table) + "\"");
  Row r;
  TRAM_RETURN_IF_ERROR(impl_->load(it->second, row, r));
  if (!r.exists) return std::optional<RowImage>();
  return std::optional<RowImage>(RowImage{std::move(r.cells)});
}

Result<size_t> Store::scan_images(std::string_view table, std::string_view after_id, size_t limit,
                                  const std::function<Status(std::string_view id, RowImage&& image)>& visit) {
  auto it = impl_->tables_.find(table);
  if (it == impl_->tables_.end()) return Status(Errc::unknown_table, "no table \"" + std::string(table) + "\"");
  TableSql& t = it->second;
  t.scan.reset();
  t.scan.bind_text(1, after_id);
  t.scan.bind_int(2, static_cast<int64_t>(limit));
  size_t n = 0;
  Status st;
  for (; st.ok(); ++n) {
    auto has = t.scan.step();
    if (!has.ok()) {
      st = has.status();
      break;
    }
    if (!*has) break;
    Row r;
    st = impl_->read_row(t, t.scan, r);
    if (st.ok()) st = visit(t.scan.column_text(0), RowImage{std::move(r.cells)});
  }
  t.scan.reset();
  if (!st.ok()) return st;
  return n;
}

Status Store::put_row_image(std::string_view table, std::string_view row, const RowImage& image) {
  auto it = impl_->tables_.find(table);
  if (it == impl_->tables_.end()) return Status(Errc::unknown_table, "no table \"" + std::string(table) + "\"");
  const TableDef& t = *it->second.def;
  if (image.cells.size() != t.fields.size() + 1) {
    return {Errc::invalid_value, std::string(table) + "/" + std::string(row) + ": image has " +
                                     std::to_string(image.cells.size()) + " cells, table has " +
                                     std::to_string(t.fields.size() + 1)};
  }
  if (!std::holds_alternative<int64_t>(image.cells[0].value)) {
    return {Errc::type_mismatch, std::string(table) + "/" + std::string(row) + ": liveness must be an integer"};
  }
  for (size_t k = 1; k < image.cells.size(); ++k) {
    const ValueType vt = value_type(image.cells[k].value);
    if (vt != ValueType::null && vt != t.fields[k - 1].type) {
      return {Errc::type_mismatch, std::string(table) + "/" + std::string(row) + "/" + t.fields[k - 1].name + ": wrong type"};
    }
  }
  return impl_->write(it->second, row, std::span<const Cell>(image.cells));
}

const Schema& Store::schema() const { return impl_->schema_; }
sql::Database& Store::db() { return impl_->db_; }

}  // namespace tram
