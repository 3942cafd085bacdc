// Convergence property test: a seeded simulation of K devices making random inserts, edits
// (often of the same fields at once) and deletes offline in several tables, their change sets
// delivered to a server replica in random orders and batches (gaps and replays included), some
// rejected (type, field or table the schema lacks; a newer schema version than the server's),
// the schema upgraded (a field and a table added) on the server and on each device at its own
// moment, then pulled back. A scripted coda in every seed adds what chance may miss: two twin
// devices whose clocks tie exactly, so the change-set id decides, in both arrival orders, and a
// rejected change set in the middle of a chain.
//
// What is checked, per seed:
//  - an oracle written here from docs/merge.md alone (rank §3, sequential or concurrent §5,
//    conflict records §7; none of the engine's merge code) replays the server's log and gives
//    every field's value, rank and writer and the conflict records; every replica (the server,
//    each device's replica and view, a fresh replica fed the log in one batch, one fed it one
//    change set at a time) matches it field by field, record by record;
//  - every decision the engine takes, watched one change set at a time, is judged against what
//    the devices actually saw (each write's parent on its field, recorded when it was made, not
//    the base the engine compares): a write on top of what it saw replaces it with no record; a
//    write concurrent with the current one (neither descends from the other) is decided by
//    (rank, id) and recorded when the values differ — no record is missing and none is extra;
//  - nothing is lost: every accepted write is current, or a recorded loser, or was replaced by a
//    write made on top of it, or lost to (or was displaced by) the very concurrent write that
//    carried the same value;
//  - rejected change sets leave nothing anywhere; replays change nothing; chains recognise every
//    change set sent again; and each seed has conflicts, rank ties and rejections.
// Run: convergence_test --seeds=FIRST:END. A failure prints its seed.
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "test_support.hpp"
#include "tram/engine/chain.hpp"
#include "tram/engine/device_chain.hpp"
#include "tram/engine/store.hpp"
#include "tram/engine/uuid.hpp"

namespace tram {
namespace {

uint64_t g_first_seed = 0, g_end_seed = 50;

constexpr int64_t kStart = 1'780'000'000'000;
constexpr int64_t kYear = 365LL * 24 * 3600 * 1000;
constexpr int64_t kMaxDrift = 5 * 60 * 1000;

// Version 1: the report table and a second one. Version 2 adds a field to the first and a
// third table (an additive upgrade, docs/operations.md).
Schema schema_v(uint32_t version) {
  Schema s = testing::report_schema();
  s.version = version;
  s.tables.push_back(TableDef{"site_visit",
                              {FieldDef{1, "commune", ValueType::text}, FieldDef{2, "households", ValueType::integer},
                               FieldDef{3, "done", ValueType::boolean}}});
  if (version >= 2) {
    FieldDef note{8, "reviewer_note", ValueType::text};
    note.since = 2;
    s.tables[0].fields.push_back(note);
    TableDef evidence{"evidence_item", {FieldDef{1, "photo", ValueType::attachment}, FieldDef{2, "caption", ValueType::text}}};
    evidence.since = 2;
    evidence.fields[0].since = evidence.fields[1].since = 2;
    s.tables.push_back(evidence);
  }
  return s;
}

const Schema& schema_of(uint32_t version) {
  static const Schema v1 = schema_v(1), v2 = schema_v(2);
  return version >= 2 ? v2 : v1;
}

std::unique_ptr<Store> open_mem(uint32_t version) {
  auto s = Store::open(":memory:", schema_of(version));
  if (!s.ok()) std::abort();
  return std::move(s).value();
}

// Where upgraded replicas live (an upgrade reopens a database file with the newer schema).
std::string scratch_path() {
  static int n = 0;
  const std::string dir = std::filesystem::is_directory("/dev/shm") ? "/dev/shm/" : ::testing::TempDir();
  return dir + "tram-convergence-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + ".db";
}

struct LogEntry {
  SignedChangeSet bytes;
  ChangeSet cs;
  Hash id;
  ClockTrust trust;
};

struct Rejected {
  SignedChangeSet bytes;
  ChangeSet cs;
  Hash id;
  Errc code;
};

std::vector<ApplyItem> items_of(const std::vector<LogEntry>& log, size_t from, size_t to) {
  std::vector<ApplyItem> out;
  for (size_t i = from; i < to; ++i) out.push_back({&log[i].cs, log[i].id, log[i].trust});
  return out;
}

std::string short_hex(const Hash& h) { return to_hex(h).substr(0, 12); }

// ---------------------------------------------------------------------------------------------
// The oracle: docs/merge.md §3, §5, §7 written again, over plain maps.

int64_t oracle_rank(const ChangeSet& cs, ClockTrust trust) {
  // §3: trusted → the packed HLC; ahead → packed − 2^63.
  return trust == ClockTrust::trusted ? cs.hlc.packed : std::numeric_limits<int64_t>::min() + cs.hlc.packed;
}

// §4: a writer id is the first 8 bytes of a change-set id, big-endian.
uint64_t first8(const Hash& h) {
  uint64_t v = 0;
  for (size_t k = 0; k < 8; ++k) v = (v << 8) | h[k];
  return v;
}

// (rank, id) > (rank, id), ids compared as unsigned byte strings.
bool beats(int64_t rank_a, const Hash& a, int64_t rank_b, const Hash& b) {
  if (rank_a != rank_b) return rank_a > rank_b;
  for (size_t k = 0; k < a.size(); ++k) {
    if (a[k] != b[k]) return a[k] > b[k];
  }
  return false;
}

struct OracleCell {
  Value value;
  int64_t rank = 0;
  Hash writer{};
};
using RowKey = std::pair<std::string, std::string>;                        // table, row
using ConflictKey = std::tuple<std::string, std::string, uint32_t, Hash>;  // table, row, field, loser
struct OracleConflict {
  Hash winner;
  Value loser_value;
};

struct Oracle {
  std::map<RowKey, std::map<uint32_t, OracleCell>> rows;  // field id → cell; absent: never written
  std::map<ConflictKey, OracleConflict> conflicts;

  void apply(const LogEntry& e) {
    const int64_t rank = oracle_rank(e.cs, e.trust);
    for (const Op& op : e.cs.ops) {
      const RowKey key{op.table, op.row};
      const bool exists = rows.count(key) > 0;
      auto& cells = rows[key];
      std::vector<std::pair<uint32_t, Value>> writes = {{0, Value{int64_t{op.kind == OpKind::del ? 1 : 0}}}};
      for (const FieldWrite& w : op.fields) writes.push_back({w.field, w.value});
      for (auto& [field, value] : writes) {
        std::optional<uint64_t> base;
        for (const FieldBase& b : op.bases) {
          if (b.field == field) base = b.writer.v;
        }
        auto it = cells.find(field);
        const bool sequential = !exists || it == cells.end() || it->second.writer == e.id ||
                                (base && *base == first8(it->second.writer));
        if (sequential) {
          cells[field] = OracleCell{value, rank, e.id};
          continue;
        }
        OracleCell& cur = it->second;
        const bool incoming_wins = beats(rank, e.id, cur.rank, cur.writer);
        if (cur.value == value) {
          if (incoming_wins) cur = OracleCell{value, rank, e.id};
        } else if (incoming_wins) {
          conflicts.emplace(ConflictKey{op.table, op.row, field, cur.writer}, OracleConflict{e.id, cur.value});
          cur = OracleCell{value, rank, e.id};
        } else {
          conflicts.emplace(ConflictKey{op.table, op.row, field, e.id}, OracleConflict{cur.writer, value});
        }
      }
    }
  }
};

// Field id of a row image's k-th cell.
uint32_t field_at(const TableDef& t, size_t k) { return k == 0 ? kLivenessField : t.fields[k - 1].id; }
size_t index_of(const TableDef& t, uint32_t field) {
  if (field == kLivenessField) return 0;
  for (size_t k = 0; k < t.fields.size(); ++k) {
    if (t.fields[k].id == field) return k + 1;
  }
  return SIZE_MAX;
}

// ---------------------------------------------------------------------------------------------

// One write as its device made it, with what the device saw on that field (its parent: the
// full id of the field's writer in the device's view, or none).
struct WriteKey {
  Hash id;
  std::string table, row;
  uint32_t field;
  auto operator<=>(const WriteKey&) const = default;
};
struct WriteTruth {
  Value value;
  std::optional<Hash> parent;
};

enum class Fate { took_over, replaced_by_child, lost_recorded, lost_equal_value };

class Simulation {
 public:
  explicit Simulation(uint64_t seed) : rng_(seed), server_wall_(kStart), server_(open_mem(1)) {
    upgrades_ = rng_.below(4) != 0;
    const size_t k = 2 + rng_.below(4);
    for (size_t i = 0; i < k; ++i) add_device(std::nullopt);
  }
  ~Simulation() {
    devices_.clear();
    server_.reset();
    for (const std::string& p : files_) {
      for (const char* suffix : {"", "-wal", "-shm"}) std::remove((p + suffix).c_str());
    }
  }

  void run() {
    const int steps = 40 + static_cast<int>(rng_.below(80));
    for (int s = 0; s < steps && !::testing::Test::HasFailure(); ++s) {
      server_wall_.advance(static_cast<int64_t>(rng_.below(5000)));
      if (upgrades_ && server_v_ == 1 && rng_.below(60) == 0) upgrade_server();
      Device& d = *devices_[rng_.below(devices_.size())];
      d.tick();
      if (upgrades_ && d.version == 1 && rng_.below(40) == 0) d.upgrade();
      const uint64_t r = rng_.below(100);
      if (r < 45) d.edit();
      else if (r < 60) d.push();
      else if (r < 80) deliver(Order::random);
      else d.pull();
    }
    if (::testing::Test::HasFailure()) return;
    settle();
    coda();
    settle();
  }

  void check() {
    ASSERT_TRUE(pool_.empty());
    const uint32_t version = server_v_;
    const Hash server_hash = *server_->state_hash();
    for (auto& d : devices_) {
      ASSERT_TRUE(d->outbox.empty()) << "device " << d->index << " still has pending change sets";
      ASSERT_EQ(d->version, version);
      EXPECT_EQ(*d->base->state_hash(), server_hash) << "device " << d->index << " replica differs";
      EXPECT_EQ(*d->view->state_hash(), server_hash) << "device " << d->index << " view differs";
    }
    // A fresh replica built from the log in one batch.
    auto fresh = open_mem(version);
    auto all = items_of(log_, 0, log_.size());
    ASSERT_TRUE(fresh->apply(all).ok());
    EXPECT_EQ(*fresh->state_hash(), server_hash);

    // The oracle, and every replica against it.
    Oracle oracle;
    for (const LogEntry& e : log_) oracle.apply(e);
    compare_with_oracle(*server_, oracle, "server");
    compare_with_oracle(*fresh, oracle, "fresh replica");
    for (auto& d : devices_) {
      compare_with_oracle(*d->base, oracle, "device " + std::to_string(d->index) + " replica");
      compare_with_oracle(*d->view, oracle, "device " + std::to_string(d->index) + " view");
    }
    // Each decision, one change set at a time, against what the devices saw.
    auto stepper = open_mem(version);
    watch_every_decision(*stepper);
    compare_with_oracle(*stepper, oracle, "replica fed one change set at a time");
    EXPECT_EQ(*stepper->state_hash(), server_hash);
    check_recorded_conflicts_are_concurrent();
    check_nothing_lost();

    // Replays change nothing: the whole log again, on the server and on a device…
    auto again = server_->apply(all);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->applied, 0u);
    EXPECT_EQ(*server_->state_hash(), server_hash);
    ASSERT_TRUE(devices_[0]->base->apply(all).ok());
    EXPECT_EQ(*devices_[0]->base->state_hash(), server_hash);
    // …and every change set sent again, accepted or rejected, is a duplicate for its chain.
    for (const LogEntry& e : log_) {
      ASSERT_EQ(check_chain(e.cs.device, heads_[e.cs.device], accepted_at(e.cs.device), e.bytes).verdict, ChainVerdict::duplicate);
    }
    for (const Rejected& r : rejected_) {
      ASSERT_EQ(check_chain(r.cs.device, heads_[r.cs.device], accepted_at(r.cs.device), r.bytes).verdict, ChainVerdict::duplicate);
    }

    // What every seed must have exercised (the coda makes sure of it).
    EXPECT_GE(server_->conflicts()->size(), 1u) << "no conflict record";
    EXPECT_GE(concurrent_decisions_, 2u) << "no concurrent decision";
    EXPECT_GE(rank_ties_, 2u) << "no decision by change-set id";
    EXPECT_GE(rejected_.size(), 1u) << "no rejected change set";
    std::set<std::string> tables;
    for (const LogEntry& e : log_) {
      for (const Op& op : e.cs.ops) tables.insert(op.table);
    }
    EXPECT_GE(tables.size(), 2u) << "writes in one table only";
  }

  size_t log_size() const { return log_.size(); }
  size_t rejected() const { return rejected_.size(); }
  size_t conflicts() { return server_->conflicts()->size(); }
  size_t ties() const { return rank_ties_; }
  size_t concurrent() const { return concurrent_decisions_; }
  bool upgraded() const { return server_v_ == 2; }

 private:
  struct Pending {
    DeviceChain::Made made;
    bool invalid = false;  // a buggy app's change set: its own replica would refuse it
  };

  struct Device {
    Device(Simulation& s, size_t i, std::optional<int64_t> fixed_wall)
        : sim(s), index(i), wall(fixed_wall ? *fixed_wall : start_time(s.rng_)), frozen(fixed_wall.has_value()),
          clock(wall, kMaxDrift), ids(wall, s.rng_), version(s.server_v_), base(open_mem(version)), view(open_mem(version)) {
      for (auto& b : seed) b = static_cast<uint8_t>(s.rng_.below(256));
      chain = std::make_unique<DeviceChain>(DeviceKey::from_seed(seed), clock, "official-" + std::to_string(i), "sonla-2026", version);
    }

    static int64_t start_time(SeededRandom& rng) {
      switch (rng.below(6)) {
        case 0: return kStart + 5 * kYear;  // years ahead: accepted, never wins
        case 1: return 0;                   // a phone reset to 1970
        default: return kStart + static_cast<int64_t>(rng.below(600'000)) - 300'000;
      }
    }

    void tick() {
      if (frozen) return;
      if (sim.rng_.below(20) == 0) wall.advance(-static_cast<int64_t>(sim.rng_.below(3'600'000)));  // jumps back
      else wall.advance(static_cast<int64_t>(sim.rng_.below(5000)));
    }

    // The app is updated: the replica is reopened with schema v2, the chain goes on with v2.
    void upgrade() {
      if (version == 2) return;
      base = sim.upgrade_store(std::move(base));
      version = 2;
      chain = std::make_unique<DeviceChain>(DeviceKey::from_seed(seed), clock, "official-" + std::to_string(index), "sonla-2026",
                                            2, chain->head());
      rebuild_view();
    }

    Value random_value(ValueType t) {
      SeededRandom& r = sim.rng_;
      if (r.below(8) == 0) return Value{};
      static const char* kTexts[] = {"Mường La", "Sốp Cộp", "Chiềng Cơi", "Mu\xcc\x9bo\xcc\x9b\xcc\x80ng La", "hoà", "hòa"};
      switch (t) {
        case ValueType::text: return *make_text(kTexts[r.below(6)]);  // NFD input is normalized
        case ValueType::real: return Value{static_cast<double>(r.below(4)) + 0.5};
        case ValueType::integer: return Value{static_cast<int64_t>(r.below(4))};
        case ValueType::boolean: return Value{r.below(2) == 1};
        case ValueType::date: return Value{Date::from_ymd(2026, 6, 1 + static_cast<unsigned>(r.below(3)))};
        case ValueType::attachment: return Value{AttachmentRef{blake2b_256(std::to_string(r.below(3)))}};
        case ValueType::null: break;
      }
      return Value{};
    }

    // An op on `id` writing `w` (ascending field ids; a delete when `del`), based on what this
    // device's view shows, with the truth about what it saw kept aside for the checks.
    Op make_op(const std::string& table, const std::string& id, bool del, std::vector<FieldWrite> w,
               std::vector<std::pair<WriteKey, WriteTruth>>& truth) {
      const TableDef& def = *view->schema().table(table);
      auto image = testing::must(view->row_image(table, id));
      auto seen = [&](uint32_t field) -> std::optional<Hash> {
        if (!image) return std::nullopt;
        return image->cells[index_of(def, field)].writer;
      };
      std::vector<FieldBase> bases;
      auto note = [&](uint32_t field, const Value& v) {
        const std::optional<Hash> parent = seen(field);
        if (parent) bases.push_back({field, WriterId::of(*parent)});
        truth.push_back({WriteKey{Hash{}, table, id, field}, WriteTruth{v, parent}});
      };
      note(kLivenessField, Value{int64_t{del ? 1 : 0}});
      for (const FieldWrite& f : w) note(f.field, f.value);
      return Op{table, id, del ? OpKind::del : OpKind::put, del ? std::vector<FieldWrite>{} : std::move(w), std::move(bases)};
    }

    void commit(std::vector<Op> ops, std::vector<std::pair<WriteKey, WriteTruth>> truth, bool invalid = false) {
      auto made = testing::must(chain->make(std::move(ops)));
      if (!invalid) {
        ApplyItem item{&made.cs, made.id, ClockTrust::trusted};
        auto r = view->apply({&item, 1});
        ASSERT_TRUE(r.ok()) << r.status().to_string();
        for (auto& [key, t] : truth) {
          key.id = made.id;
          sim.truth_[key] = t;
        }
      }
      outbox.push_back({std::move(made), invalid});
    }

    void edit() {
      SeededRandom& r = sim.rng_;
      if (r.below(25) == 0) return edit_invalid();
      std::vector<Op> ops;
      std::vector<std::pair<WriteKey, WriteTruth>> truth;
      std::set<std::pair<std::string, std::string>> touched;
      const size_t n_ops = 1 + r.below(3);
      for (size_t i = 0; i < n_ops; ++i) {
        const auto& tables = view->schema().tables;
        const TableDef& table = tables[r.below(4) == 0 ? r.below(tables.size()) : 0];
        // Shared rows (known to all) make concurrent edits common.
        const std::vector<std::string>& known = sim.known_rows_[table.name];
        const bool insert = known.empty() || r.below(4) == 0;
        std::string id = insert ? ids.next() : known[r.below(known.size())];
        if (!touched.insert({table.name, id}).second) continue;  // one op per row per change set, as the SDK does
        auto row = *view->get_row(table.name, id);
        std::vector<FieldWrite> w;
        if (insert || !row || row->deleted) {
          // Create, or re-create on the tombstone as seen: every field written.
          for (const FieldDef& f : table.fields) w.push_back({f.id, random_value(f.type)});
          ops.push_back(make_op(table.name, id, false, std::move(w), truth));
          if (insert) sim.known_rows_[table.name].push_back(id);
          continue;
        }
        if (r.below(10) == 0) {
          ops.push_back(make_op(table.name, id, true, {}, truth));
          continue;
        }
        for (const FieldDef& f : table.fields) {
          if (r.below(3) == 0) w.push_back({f.id, random_value(f.type)});
        }
        ops.push_back(make_op(table.name, id, false, std::move(w), truth));
      }
      if (ops.empty()) return;
      commit(std::move(ops), std::move(truth));
    }

    // A buggy app: a value of the wrong type, a field or a table the schema lacks. The server
    // refuses it with a receipt (it stays in the chain); the app drops it when told.
    void edit_invalid() {
      const uint64_t kind = sim.rng_.below(3);
      Op op = kind == 0   ? testing::put(ids.next(), {{2, testing::text("not a number")}})
              : kind == 1 ? testing::put(ids.next(), {{99, Value{1.0}}})
                          : Op{"no_such_table", ids.next(), OpKind::put, {}, {}};
      std::vector<Op> ops;
      ops.push_back(std::move(op));
      commit(std::move(ops), {}, true);
    }

    // Sends the outbox (or a prefix of it) towards the server; the network may reorder.
    void push(bool all = false) {
      if (outbox.empty()) return;
      const size_t n = all ? outbox.size() : 1 + sim.rng_.below(outbox.size());
      for (size_t i = 0; i < n; ++i) sim.pool_.push_back({chain->device(), outbox[i].made.signed_cs});
    }

    // Pulls a page of the server log (updating the app first if the page needs it), drops what
    // the server accepted or refused, then rebuilds the view: server state + pending on top.
    void pull(bool all = false) {
      const size_t end = std::min(sim.log_.size(), cursor + 1 + sim.rng_.below(8) + (all ? sim.log_.size() : 0));
      for (size_t i = cursor; i < end; ++i) {
        if (sim.log_[i].cs.schema_version > version) upgrade();
      }
      if (end > cursor) {
        auto page = items_of(sim.log_, cursor, end);
        auto r = base->apply(page);
        ASSERT_TRUE(r.ok()) << r.status().to_string();
        for (size_t i = cursor; i < end; ++i) {
          (void)clock.update(sim.log_[i].cs.hlc);  // a far-ahead stamp is refused: fine
          std::erase_if(outbox, [&](const Pending& p) { return p.made.id == sim.log_[i].id; });
        }
        cursor = end;
      }
      std::erase_if(outbox, [&](const Pending& p) { return sim.rejected_ids_.count(p.made.id) > 0; });
      rebuild_view();
    }

    void rebuild_view() {
      view = open_mem(version);
      ASSERT_TRUE(view->db().copy_from(base->db()).ok());
      for (const Pending& p : outbox) {
        if (p.invalid) continue;
        ApplyItem item{&p.made.cs, p.made.id, ClockTrust::trusted};
        auto r = view->apply({&item, 1});
        ASSERT_TRUE(r.ok()) << r.status().to_string();
      }
    }

    Simulation& sim;
    size_t index;
    FakeClock wall;
    bool frozen;
    HybridClock clock;
    std::array<uint8_t, 32> seed{};
    std::unique_ptr<DeviceChain> chain;
    UuidV7Generator ids;
    uint32_t version;
    std::unique_ptr<Store> base, view;
    std::deque<Pending> outbox;
    size_t cursor = 0;
  };

  struct InFlight {
    PublicKey device;
    SignedChangeSet cs;
  };

  Device& add_device(std::optional<int64_t> fixed_wall) {
    devices_.push_back(std::make_unique<Device>(*this, devices_.size(), fixed_wall));
    return *devices_.back();
  }

  std::unique_ptr<Store> upgrade_store(std::unique_ptr<Store> old) {
    const std::string path = scratch_path();
    files_.push_back(path);
    {
      auto file = sql::Database::open(path);
      EXPECT_TRUE(file.ok());
      if (!file.ok()) std::abort();
      EXPECT_TRUE(file->copy_from(old->db()).ok());
    }
    const Hash before = *old->state_hash();
    old.reset();
    auto s = testing::must(Store::open(path, schema_of(2)));
    // The rows are as they were (the new table is empty, the new field never written).
    auto v1_view = open_mem(1);
    EXPECT_TRUE(v1_view->db().copy_from(s->db()).ok());
    EXPECT_EQ(*v1_view->state_hash(), before);
    return s;
  }

  void upgrade_server() {
    if (server_v_ == 2) return;
    server_ = upgrade_store(std::move(server_));
    server_v_ = 2;
  }

  AcceptedAt accepted_at(const PublicKey& device) {
    return [this, device](uint64_t seq) -> std::optional<Hash> {
      auto& m = accepted_[device];
      auto it = m.find(seq);
      return it == m.end() ? std::nullopt : std::optional(it->second);
    };
  }

  enum class Order { random, chain, as_sent };

  // The server takes a batch from the network (in random order; all of it in chain order; or
  // all of it as sent), checks each against its device's chain, judges its clock and applies
  // it alone, as tram-server does: a change set the replica refuses is rejected with a receipt
  // and stays in its chain; the others are appended to the log.
  void deliver(Order order) {
    if (pool_.empty()) return;
    std::vector<InFlight> batch;
    if (order != Order::random) {
      batch.swap(pool_);
      if (order == Order::chain) {
        std::stable_sort(batch.begin(), batch.end(), [](const InFlight& a, const InFlight& b) {
          return std::pair(a.device, decode(a.cs.bytes)->seq) < std::pair(b.device, decode(b.cs.bytes)->seq);
        });
      }
    } else {
      const size_t n = 1 + rng_.below(pool_.size());
      for (size_t i = 0; i < n; ++i) {
        const size_t pick = rng_.below(pool_.size());
        batch.push_back(std::move(pool_[pick]));
        pool_.erase(pool_.begin() + static_cast<long>(pick));
      }
    }
    for (InFlight& f : batch) {
      ChainCheck c = check_chain(f.device, heads_[f.device], accepted_at(f.device), f.cs);
      switch (c.verdict) {
        case ChainVerdict::next: {
          heads_[f.device] = {c.changeset->seq, c.id};
          accepted_[f.device][c.changeset->seq] = c.id;
          const ClockTrust trust = judge_clock(c.changeset->hlc, server_wall_.now_ms(), kMaxDrift);
          ApplyItem item{&*c.changeset, c.id, trust};
          auto r = server_->apply({&item, 1});
          if (!r.ok()) {
            const Errc code = r.code();
            ASSERT_TRUE(code == Errc::schema_mismatch || code == Errc::type_mismatch || code == Errc::unknown_field_id ||
                        code == Errc::unknown_table)
                << r.status().to_string();
            rejected_ids_.insert(c.id);
            rejected_.push_back({std::move(f.cs), std::move(*c.changeset), c.id, code});
            break;
          }
          ASSERT_EQ(r->applied, 1u);
          log_.push_back({std::move(f.cs), std::move(*c.changeset), c.id, trust});
          break;
        }
        case ChainVerdict::duplicate: break;                           // answered with the old receipt
        case ChainVerdict::gap: pool_.push_back(std::move(f)); break;  // the device will resend
        default: FAIL() << "unexpected verdict " << errc_name(c.code) << ": " << c.message;
      }
    }
  }

  // Everyone reaches a signal at last (with the same app version): push everything, deliver,
  // pull, until settled.
  void settle() {
    bool any_v2 = server_v_ == 2;
    for (auto& d : devices_) any_v2 = any_v2 || d->version == 2;
    if (any_v2) upgrade_server();
    for (int round = 0; round < 50 && !::testing::Test::HasFailure(); ++round) {
      for (auto& d : devices_) d->push(true);
      deliver(Order::chain);
      for (auto& d : devices_) {
        if (any_v2) d->upgrade();
        d->pull(true);
      }
      if (pool_.empty() && std::all_of(devices_.begin(), devices_.end(), [](auto& d) { return d->outbox.empty(); })) break;
    }
  }

  // Two twin devices with the same frozen wall clock and the same log pulled make change sets
  // with the same HLC: the id alone decides. Round one delivers the smaller id first (the
  // incoming one must win), round two the greater first (the incoming one must lose). Each
  // round writes one field with different values (a conflict record) and liveness plus another
  // field with equal values (no record). Between them, a change set the server refuses, in the
  // middle of a twin's chain.
  void coda() {
    if (::testing::Test::HasFailure()) return;
    const int64_t w = server_wall_.now_ms();
    Device& t1 = add_device(w);
    Device& t2 = add_device(w);
    t1.pull(true);
    t2.pull(true);
    const std::string r = t1.ids.next(), s = t1.ids.next();
    {
      std::vector<std::pair<WriteKey, WriteTruth>> truth;
      std::vector<Op> ops;
      ops.push_back(t1.make_op("progress_report", r, false, {{2, Value{0.5}}, {3, testing::text("bắt đầu")}}, truth));
      ops.push_back(t1.make_op("site_visit", s, false, {{1, testing::text("Mường La")}, {2, Value{int64_t{3}}}}, truth));
      t1.commit(std::move(ops), std::move(truth));
      t1.push(true);
      deliver(Order::as_sent);
    }
    for (int round = 0; round < 2 && !::testing::Test::HasFailure(); ++round) {
      t1.pull(true);
      t2.pull(true);
      const std::string table = round == 0 ? "progress_report" : "site_visit";
      const std::string row = round == 0 ? r : s;
      auto write = [&](Device& d, const Value& differing, const Value& same) {
        std::vector<std::pair<WriteKey, WriteTruth>> truth;
        std::vector<Op> ops;
        ops.push_back(d.make_op(table, row, false, {{round == 0 ? 2u : 1u, differing}, {round == 0 ? 3u : 2u, same}}, truth));
        d.commit(std::move(ops), std::move(truth));
      };
      if (round == 0) {
        write(t1, Value{1.5}, testing::text("xong"));
        write(t2, Value{2.5}, testing::text("xong"));
      } else {
        write(t1, testing::text("Sốp Cộp"), Value{int64_t{7}});
        write(t2, testing::text("Chiềng Cơi"), Value{int64_t{7}});
      }
      const auto& m1 = t1.outbox.back().made;
      const auto& m2 = t2.outbox.back().made;
      ASSERT_EQ(m1.cs.hlc, m2.cs.hlc) << "the twins' clocks should tie";
      const bool one_first = (m1.id < m2.id) == (round == 0);
      (one_first ? t1 : t2).push(true);
      (one_first ? t2 : t1).push(true);
      deliver(Order::as_sent);
      if (round == 0) {
        // A refused change set, then one more that links to it.
        t1.edit_invalid();
        std::vector<std::pair<WriteKey, WriteTruth>> truth;
        std::vector<Op> ops;
        ops.push_back(t1.make_op("site_visit", s, false, {{3, Value{true}}}, truth));
        t1.commit(std::move(ops), std::move(truth));
        t1.push(true);
        deliver(Order::as_sent);
      }
    }
  }

  // Every replica holds exactly the oracle's rows, cells and conflict records.
  void compare_with_oracle(Store& store, const Oracle& oracle, const std::string& who) {
    size_t rows_seen = 0;
    for (const TableDef& t : store.schema().tables) {
      auto visit = [&](std::string_view id, RowImage&& image) -> Status {
        ++rows_seen;
        auto it = oracle.rows.find({t.name, std::string(id)});
        if (it == oracle.rows.end()) {
          ADD_FAILURE() << who << ": row " << t.name << "/" << id << " is not in the oracle";
          return {};
        }
        for (size_t k = 0; k < image.cells.size(); ++k) {
          const uint32_t f = field_at(t, k);
          const CellImage& got = image.cells[k];
          auto want = it->second.find(f);
          if (want == it->second.end()) {
            EXPECT_FALSE(got.writer.has_value()) << who << ": " << t.name << "/" << id << " field " << f << " should be unwritten";
            continue;
          }
          if (!got.writer) {
            ADD_FAILURE() << who << ": " << t.name << "/" << id << " field " << f << " unwritten, the oracle has a writer";
            continue;
          }
          EXPECT_TRUE(*got.writer == want->second.writer)
              << who << ": " << t.name << "/" << id << " field " << f << " winner " << short_hex(*got.writer) << ", the oracle says "
              << short_hex(want->second.writer);
          EXPECT_TRUE(got.value == want->second.value) << who << ": " << t.name << "/" << id << " field " << f << " value";
          EXPECT_EQ(got.rank, want->second.rank) << who << ": " << t.name << "/" << id << " field " << f << " rank";
          EXPECT_EQ(rejected_ids_.count(*got.writer), 0u) << who << ": a rejected change set wrote " << t.name << "/" << id;
        }
        return {};
      };
      ASSERT_TRUE(store.scan_images(t.name, "", SIZE_MAX / 2, visit).ok());
    }
    EXPECT_EQ(rows_seen, oracle.rows.size()) << who << ": rows";
    auto got = *store.conflicts();
    std::map<ConflictKey, OracleConflict> have;
    for (const ConflictRecord& c : got) {
      EXPECT_TRUE(have.emplace(ConflictKey{c.table, c.row, c.field, c.loser}, OracleConflict{c.winner, c.loser_value}).second);
      auto want = oracle.conflicts.find({c.table, c.row, c.field, c.loser});
      if (want == oracle.conflicts.end()) {
        ADD_FAILURE() << who << ": conflict record " << c.table << "/" << c.row << " field " << c.field << " loser "
                      << short_hex(c.loser) << " winner " << short_hex(c.winner) << " is not the oracle's";
        continue;
      }
      EXPECT_TRUE(c.winner == want->second.winner) << who << ": conflict " << c.table << "/" << c.row << " field " << c.field << " winner";
      EXPECT_TRUE(c.loser_value == want->second.loser_value) << who << ": conflict " << c.table << "/" << c.row << " field " << c.field;
    }
    for (const auto& [key, want] : oracle.conflicts) {
      EXPECT_TRUE(have.count(key)) << who << ": missing conflict record " << std::get<0>(key) << "/" << std::get<1>(key) << " field "
                                   << std::get<2>(key) << " loser " << short_hex(std::get<3>(key)) << " winner " << short_hex(want.winner);
    }
  }

  // Whether `a` is `x`'s parent on this field, or its parent's parent, and so on: the device
  // that made `x` saw `a` (or a write made on top of it) as the field's value. A rejected
  // change set ends the line: it was undone, so a write made on top of it was made on top of
  // something that never happened anywhere else.
  bool descends(const Hash& x, const Hash& a, const std::string& table, const std::string& row, uint32_t field) const {
    std::optional<Hash> p = x;
    for (int guard = 0; guard < 100000; ++guard) {
      auto it = truth_.find(WriteKey{*p, table, row, field});
      if (it == truth_.end() || !it->second.parent) return false;
      p = it->second.parent;
      if (rejected_ids_.count(*p)) return false;
      if (*p == a) return true;
    }
    return false;
  }

  // Applies the log one change set at a time to `store`, judging each field's outcome against
  // the truth: a write on top of the current one (it saw it) replaces it without a record; a
  // write concurrent with it is decided by (rank, id) and recorded when the values differ. The
  // records each step adds must be exactly the expected ones. Each step is judged from the
  // engine's own state before it, so one wrong decision does not hide the ones after it.
  void watch_every_decision(Store& store) {
    for (const LogEntry& e : log_) {
      const int64_t rank = oracle_rank(e.cs, e.trust);
      std::vector<std::optional<RowImage>> before;
      std::vector<std::set<std::pair<uint32_t, Hash>>> recorded_before;
      for (const Op& op : e.cs.ops) {
        before.push_back(testing::must(store.row_image(op.table, op.row)));
        std::set<std::pair<uint32_t, Hash>> keys;
        for (const ConflictRecord& c : testing::must(store.conflicts_of(op.table, op.row))) keys.insert({c.field, c.loser});
        recorded_before.push_back(std::move(keys));
      }
      ApplyItem item{&e.cs, e.id, e.trust};
      ASSERT_TRUE(store.apply({&item, 1}).ok());
      for (size_t i = 0; i < e.cs.ops.size(); ++i) {
        const Op& op = e.cs.ops[i];
        const TableDef& t = *store.schema().table(op.table);
        const std::string where = op.table + "/" + op.row;
        auto after = testing::must(store.row_image(op.table, op.row));
        ASSERT_TRUE(after.has_value());
        using Record = std::tuple<uint32_t, Hash, Hash, Value>;  // field, winner, loser, loser value
        std::vector<Record> added, expected;
        auto holds = [](const std::vector<Record>& v, const Record& x) { return std::find(v.begin(), v.end(), x) != v.end(); };
        for (const ConflictRecord& c : testing::must(store.conflicts_of(op.table, op.row))) {
          if (!recorded_before[i].count({c.field, c.loser})) added.push_back({c.field, c.winner, c.loser, c.loser_value});
        }
        std::vector<std::pair<uint32_t, Value>> writes = {{0, Value{int64_t{op.kind == OpKind::del ? 1 : 0}}}};
        for (const FieldWrite& w : op.fields) writes.push_back({w.field, w.value});
        for (const auto& [field, value] : writes) {
          const size_t k = index_of(t, field);
          const CellImage& now = after->cells[k];
          const WriteKey mine{e.id, op.table, op.row, field};
          std::optional<CellImage> cur;
          if (before[i] && before[i]->cells[k].writer) cur = before[i]->cells[k];
          auto expect_now = [&](const Hash& writer, const Value& v, int64_t r, const char* why) {
            EXPECT_TRUE(now.writer && *now.writer == writer && now.value == v && now.rank == r)
                << where << " field " << field << ": " << why << "; expected the write of " << short_hex(writer) << ", found "
                << (now.writer ? short_hex(*now.writer) : std::string("none"));
          };
          if (!cur || descends(e.id, *cur->writer, op.table, op.row, field)) {
            // Nothing there, or the device saw what is there: the write replaces it.
            expect_now(e.id, value, rank, cur ? "a write on top of what it saw" : "a first write");
            if (cur) {
              fate_[WriteKey{*cur->writer, op.table, op.row, field}] = Fate::replaced_by_child;
              EXPECT_TRUE(truth_.count(mine) && truth_.at(mine).parent == cur->writer)
                  << where << " field " << field << ": replaced a write it saw, but not as its parent";
            }
            fate_[mine] = Fate::took_over;
            continue;
          }
          // Neither saw the other (the incoming write is new, so the current one cannot
          // descend from it): concurrent.
          ++concurrent_decisions_;
          if (cur->rank == rank) ++rank_ties_;
          const bool incoming_wins = beats(rank, e.id, cur->rank, *cur->writer);
          const Hash winner = incoming_wins ? e.id : *cur->writer;
          const Hash loser = incoming_wins ? *cur->writer : e.id;
          if (incoming_wins) expect_now(e.id, value, rank, "a concurrent write with the greater (rank, id)");
          else expect_now(*cur->writer, cur->value, cur->rank, "a concurrent write with the smaller (rank, id) loses");
          fate_[mine] = Fate::took_over;
          if (cur->value == value) {
            fate_[WriteKey{loser, op.table, op.row, field}] = Fate::lost_equal_value;
          } else {
            fate_[WriteKey{loser, op.table, op.row, field}] = Fate::lost_recorded;
            expected.push_back({field, winner, loser, incoming_wins ? cur->value : value});
          }
        }
        for (const auto& x : added) {
          EXPECT_TRUE(holds(expected, x)) << where << " field " << std::get<0>(x) << ": a conflict record where there was no concurrent "
                                         << "overwrite with different values (winner " << short_hex(std::get<1>(x)) << ", loser "
                                         << short_hex(std::get<2>(x)) << ")";
        }
        for (const auto& x : expected) {
          EXPECT_TRUE(holds(added, x)) << where << " field " << std::get<0>(x) << ": a concurrent overwrite not recorded (winner "
                                      << short_hex(std::get<1>(x)) << ", loser " << short_hex(std::get<2>(x)) << ")";
        }
      }
    }
  }

  // Each record on the server names two writes of that field neither of which descends from
  // the other, and the loser's own value.
  void check_recorded_conflicts_are_concurrent() {
    for (const ConflictRecord& c : testing::must(server_->conflicts())) {
      const std::string where = c.table + "/" + c.row + " field " + std::to_string(c.field);
      auto loser = truth_.find(WriteKey{c.loser, c.table, c.row, c.field});
      ASSERT_TRUE(loser != truth_.end()) << where << ": the loser never wrote this field";
      ASSERT_TRUE(truth_.count(WriteKey{c.winner, c.table, c.row, c.field})) << where << ": the winner never wrote this field";
      EXPECT_FALSE(descends(c.loser, c.winner, c.table, c.row, c.field)) << where << ": the loser was made on top of the winner";
      EXPECT_FALSE(descends(c.winner, c.loser, c.table, c.row, c.field)) << where << ": the winner was made on top of the loser";
      EXPECT_TRUE(c.loser_value == loser->second.value) << where << ": not the loser's value";
      EXPECT_FALSE(c.loser_value == truth_.at(WriteKey{c.winner, c.table, c.row, c.field}).value) << where << ": equal values recorded";
    }
  }

  // Every accepted write is current, a recorded loser, replaced by a write made on top of it,
  // or beaten by (or displaced by) the very concurrent write that carried the same value.
  void check_nothing_lost() {
    std::set<std::tuple<std::string, std::string, uint32_t, Hash>> losers;
    for (const ConflictRecord& c : testing::must(server_->conflicts())) losers.insert({c.table, c.row, c.field, c.loser});
    for (const LogEntry& e : log_) {
      for (const Op& op : e.cs.ops) {
        const TableDef& t = *server_->schema().table(op.table);
        auto image = testing::must(server_->row_image(op.table, op.row));
        ASSERT_TRUE(image.has_value());
        std::vector<uint32_t> fields = {kLivenessField};
        for (const FieldWrite& w : op.fields) fields.push_back(w.field);
        for (uint32_t f : fields) {
          const WriteKey key{e.id, op.table, op.row, f};
          const std::string what = op.table + "/" + op.row + " field " + std::to_string(f) + " by " + short_hex(e.id);
          const auto& cur = image->cells[index_of(t, f)].writer;
          auto fate = fate_.find(key);
          ASSERT_TRUE(fate != fate_.end()) << what << ": no decision seen";
          switch (fate->second) {
            case Fate::took_over: EXPECT_TRUE(cur && *cur == e.id) << what << " was lost: neither current nor recorded"; break;
            case Fate::lost_recorded: EXPECT_TRUE(losers.count({op.table, op.row, f, e.id})) << what << " lost unrecorded"; break;
            case Fate::replaced_by_child:
            case Fate::lost_equal_value: EXPECT_FALSE(losers.count({op.table, op.row, f, e.id})) << what << ": recorded too"; break;
          }
        }
      }
    }
  }

  SeededRandom rng_;
  FakeClock server_wall_;
  std::unique_ptr<Store> server_;
  uint32_t server_v_ = 1;
  bool upgrades_ = false;
  std::vector<std::unique_ptr<Device>> devices_;
  std::vector<InFlight> pool_;
  std::vector<LogEntry> log_;
  std::vector<Rejected> rejected_;
  std::set<Hash> rejected_ids_;
  std::map<PublicKey, ChainHead> heads_;
  std::map<PublicKey, std::map<uint64_t, Hash>> accepted_;
  std::map<std::string, std::vector<std::string>> known_rows_;
  std::map<WriteKey, WriteTruth> truth_;
  std::map<WriteKey, Fate> fate_;
  std::vector<std::string> files_;
  size_t concurrent_decisions_ = 0, rank_ties_ = 0;
};

TEST(Convergence, EveryReplicaMatchesTheOracleAndNothingIsLost) {
  ASSERT_TRUE(check_upgrade(schema_of(1), schema_of(2)).ok());
  ASSERT_TRUE(schema_of(2).validate().ok());
  size_t total_log = 0, total_conflicts = 0, total_rejected = 0, total_ties = 0, total_concurrent = 0, upgraded = 0;
  for (uint64_t seed = g_first_seed; seed < g_end_seed; ++seed) {
    {
      Simulation sim(seed);
      sim.run();
      if (!::testing::Test::HasFailure()) sim.check();
      if (!::testing::Test::HasFailure()) {
        total_log += sim.log_size();
        total_conflicts += sim.conflicts();
        total_rejected += sim.rejected();
        total_ties += sim.ties();
        total_concurrent += sim.concurrent();
        upgraded += sim.upgraded();
      }
    }
    if (::testing::Test::HasFailure()) {
      std::fprintf(stderr, "convergence FAILED for seed %llu; rerun: convergence_test --seeds=%llu:%llu\n",
                   static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed),
                   static_cast<unsigned long long>(seed + 1));
      return;
    }
  }
  std::printf("seeds %llu..%llu: %zu change sets accepted, %zu rejected, %zu concurrent decisions (%zu by id), %zu conflict records, "
              "%zu seeds upgraded to v2; every replica matches the oracle\n",
              static_cast<unsigned long long>(g_first_seed), static_cast<unsigned long long>(g_end_seed - 1), total_log,
              total_rejected, total_concurrent, total_ties, total_conflicts, upgraded);
}

}  // namespace
}  // namespace tram

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a.rfind("--seeds=", 0) == 0) {
      const auto colon = a.find(':');
      tram::g_first_seed = std::stoull(a.substr(8, colon - 8));
      tram::g_end_seed = colon == std::string::npos ? tram::g_first_seed + 1 : std::stoull(a.substr(colon + 1));
    }
  }
  return RUN_ALL_TESTS();
}
