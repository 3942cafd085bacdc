// Convergence property test: a seeded simulation of K devices making random inserts, edits
// (often of the same fields at once) and deletes offline, their change sets delivered to a
// server replica in random orders and batches (gaps and replays included), then pulled back.
// Checks: every replica ends identical (hash of all rows and conflict records); every accepted
// edit is current, recorded as a conflict loser, or was seen by a later edit; replays change
// nothing. Run: convergence_test --seeds=FIRST:END. A failure prints its seed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
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

struct LogEntry {
  SignedChangeSet bytes;
  ChangeSet cs;
  Hash id;
  ClockTrust trust;
};

std::unique_ptr<Store> open_store() {
  auto s = Store::open(":memory:", testing::report_schema());
  if (!s.ok()) std::abort();
  return std::move(s).value();
}

std::vector<ApplyItem> items_of(const std::vector<LogEntry>& log, size_t from, size_t to) {
  std::vector<ApplyItem> out;
  for (size_t i = from; i < to; ++i) out.push_back({&log[i].cs, log[i].id, log[i].trust});
  return out;
}

class Simulation {
 public:
  explicit Simulation(uint64_t seed) : rng_(seed), server_wall_(kStart), server_(open_store()) {
    const size_t k = 2 + rng_.below(4);
    for (size_t i = 0; i < k; ++i) devices_.push_back(std::make_unique<Device>(*this, i));
  }

  void run() {
    const int steps = 40 + static_cast<int>(rng_.below(80));
    for (int s = 0; s < steps && !::testing::Test::HasFailure(); ++s) {
      server_wall_.advance(static_cast<int64_t>(rng_.below(5000)));
      Device& d = *devices_[rng_.below(devices_.size())];
      d.tick();
      const uint64_t r = rng_.below(100);
      if (r < 45) d.edit();
      else if (r < 60) d.push();
      else if (r < 80) deliver(false);
      else d.pull();
    }
    // Everyone reaches a signal at last: push everything, deliver, pull, until settled.
    for (int round = 0; round < 50; ++round) {
      for (auto& d : devices_) d->push();
      deliver(true);
      for (auto& d : devices_) d->pull();
      if (pool_.empty() && std::all_of(devices_.begin(), devices_.end(), [](auto& d) { return d->outbox.empty(); })) break;
    }
  }

  void check() {
    ASSERT_TRUE(pool_.empty());
    const Hash server_hash = *server_->state_hash();
    for (auto& d : devices_) {
      ASSERT_TRUE(d->outbox.empty()) << "device " << d->index << " still has pending change sets";
      EXPECT_EQ(*d->base->state_hash(), server_hash) << "device " << d->index << " replica differs";
      EXPECT_EQ(*d->view->state_hash(), server_hash) << "device " << d->index << " view differs";
    }
    // A fresh replica built from the log in one batch agrees too.
    auto fresh = open_store();
    auto all = items_of(log_, 0, log_.size());
    ASSERT_TRUE(fresh->apply(all).ok());
    EXPECT_EQ(*fresh->state_hash(), server_hash);
    // Replays change nothing: the whole log again, on the server and on a device…
    auto again = server_->apply(all);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->applied, 0u);
    EXPECT_EQ(*server_->state_hash(), server_hash);
    ASSERT_TRUE(devices_[0]->base->apply(all).ok());
    EXPECT_EQ(*devices_[0]->base->state_hash(), server_hash);
    // …and every change set sent again is recognised as a duplicate by its chain.
    for (const LogEntry& e : log_) {
      const ChainCheck c = check_chain(e.cs.device, heads_[e.cs.device], accepted_at(e.cs.device), e.bytes);
      ASSERT_EQ(c.verdict, ChainVerdict::duplicate);
    }
    check_nothing_lost();
  }

  size_t log_size() const { return log_.size(); }
  size_t conflicts() { return server_->conflicts()->size(); }

 private:
  struct Device {
    Device(Simulation& s, size_t i)
        : sim(s), index(i), wall(start_time(s.rng_)), clock(wall, kMaxDrift),
          chain(DeviceKey::generate(s.rng_), clock, "official-" + std::to_string(i), "sonla-2026", 1),
          ids(wall, s.rng_), base(open_store()), view(open_store()) {}

    static int64_t start_time(SeededRandom& rng) {
      switch (rng.below(6)) {
        case 0: return kStart + 5 * kYear;  // years ahead: accepted, never wins
        case 1: return 0;                   // a phone reset to 1970
        default: return kStart + static_cast<int64_t>(rng.below(600'000)) - 300'000;
      }
    }

    void tick() {
      if (sim.rng_.below(20) == 0) wall.advance(-static_cast<int64_t>(sim.rng_.below(3'600'000)));  // jumps back
      else wall.advance(static_cast<int64_t>(sim.rng_.below(5000)));
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

    // Bases: what this device's view shows for the fields it writes (and the liveness).
    std::vector<FieldBase> bases_for(const RowState& row, const std::vector<uint32_t>& fields) {
      std::vector<FieldBase> out;
      if (row.liveness_writer) out.push_back({kLivenessField, *row.liveness_writer});
      for (uint32_t f : fields) {
        if (const auto& w = row.fields[f - 1].writer) out.push_back({f, *w});
      }
      return out;
    }

    void edit() {
      SeededRandom& r = sim.rng_;
      const TableDef& table = view->schema().tables[0];
      std::vector<Op> ops;
      std::set<std::string> touched;
      const size_t n_ops = 1 + r.below(3);
      for (size_t i = 0; i < n_ops; ++i) {
        // Shared rows (known to all) make concurrent edits common.
        std::vector<std::string> known = sim.known_rows_;
        const bool insert = known.empty() || r.below(4) == 0;
        std::string id = insert ? ids.next() : known[r.below(known.size())];
        if (!touched.insert(id).second) continue;  // one op per row per change set, as the SDK does
        auto row = *view->get_row("progress_report", id);
        if (insert || !row) {
          std::vector<FieldWrite> w;
          for (const FieldDef& f : table.fields) w.push_back({f.id, random_value(f.type)});
          ops.push_back(testing::put(id, std::move(w)));
          if (insert) sim.known_rows_.push_back(id);
          continue;
        }
        const uint64_t kind = r.below(10);
        if (kind == 0 && !row->deleted) {
          ops.push_back(testing::del(id, bases_for(*row, {})));
        } else if (row->deleted) {
          // Re-create: every field written, based on the tombstone as seen.
          std::vector<FieldWrite> w;
          std::vector<uint32_t> ids_written;
          for (const FieldDef& f : table.fields) {
            w.push_back({f.id, random_value(f.type)});
            ids_written.push_back(f.id);
          }
          ops.push_back(testing::put(id, std::move(w), bases_for(*row, ids_written)));
        } else {
          std::vector<FieldWrite> w;
          std::vector<uint32_t> ids_written;
          for (const FieldDef& f : table.fields) {
            if (r.below(3) == 0) {
              w.push_back({f.id, random_value(f.type)});
              ids_written.push_back(f.id);
            }
          }
          ops.push_back(testing::put(id, std::move(w), bases_for(*row, ids_written)));
        }
      }
      if (ops.empty()) return;
      auto made = testing::must(chain.make(std::move(ops)));
      ApplyItem item{&made.cs, made.id, ClockTrust::trusted};
      ASSERT_TRUE(view->apply({&item, 1}).ok());
      outbox.push_back(std::move(made));
    }

    // Sends the outbox (or a prefix of it) towards the server; the network may reorder.
    void push() {
      if (outbox.empty()) return;
      const size_t n = 1 + sim.rng_.below(outbox.size());
      for (size_t i = 0; i < n; ++i) sim.pool_.push_back({chain.device(), outbox[i].signed_cs});
    }

    // Pulls a page of the server log, then rebuilds the view: server state + pending on top.
    void pull() {
      const size_t end = std::min(sim.log_.size(), cursor + 1 + sim.rng_.below(8) + (sim.settling_ ? sim.log_.size() : 0));
      if (end == cursor) return;
      auto page = items_of(sim.log_, cursor, end);
      ASSERT_TRUE(base->apply(page).ok());
      for (size_t i = cursor; i < end; ++i) {
        (void)clock.update(sim.log_[i].cs.hlc);  // a far-ahead stamp is refused: fine
        std::erase_if(outbox, [&](const DeviceChain::Made& m) { return m.id == sim.log_[i].id; });
      }
      cursor = end;
      view = open_store();
      ASSERT_TRUE(view->db().copy_from(base->db()).ok());
      for (const auto& m : outbox) {
        ApplyItem item{&m.cs, m.id, ClockTrust::trusted};
        ASSERT_TRUE(view->apply({&item, 1}).ok());
      }
    }

    Simulation& sim;
    size_t index;
    FakeClock wall;
    HybridClock clock;
    DeviceChain chain;
    UuidV7Generator ids;
    std::unique_ptr<Store> base, view;
    std::deque<DeviceChain::Made> outbox;
    size_t cursor = 0;
  };

  struct InFlight {
    PublicKey device;
    SignedChangeSet cs;
  };

  AcceptedAt accepted_at(const PublicKey& device) {
    return [this, device](uint64_t seq) -> std::optional<Hash> {
      auto& m = accepted_[device];
      auto it = m.find(seq);
      return it == m.end() ? std::nullopt : std::optional(it->second);
    };
  }

  // The server takes a batch from the network in random order (or, when settling, all of it
  // in chain order), checks each against its device's chain and applies the batch at once.
  void deliver(bool settle) {
    settling_ = settle;
    if (pool_.empty()) return;
    std::vector<InFlight> batch;
    if (settle) {
      batch.swap(pool_);
      std::stable_sort(batch.begin(), batch.end(), [](const InFlight& a, const InFlight& b) {
        return std::pair(a.device, decode(a.cs.bytes)->seq) < std::pair(b.device, decode(b.cs.bytes)->seq);
      });
    } else {
      const size_t n = 1 + rng_.below(pool_.size());
      for (size_t i = 0; i < n; ++i) {
        const size_t pick = rng_.below(pool_.size());
        batch.push_back(std::move(pool_[pick]));
        pool_.erase(pool_.begin() + static_cast<long>(pick));
      }
    }
    const size_t first = log_.size();
    for (InFlight& f : batch) {
      ChainCheck c = check_chain(f.device, heads_[f.device], accepted_at(f.device), f.cs);
      switch (c.verdict) {
        case ChainVerdict::next: {
          heads_[f.device] = {c.changeset->seq, c.id};
          accepted_[f.device][c.changeset->seq] = c.id;
          const ClockTrust trust = judge_clock(c.changeset->hlc, server_wall_.now_ms(), kMaxDrift);
          log_.push_back({std::move(f.cs), std::move(*c.changeset), c.id, trust});
          break;
        }
        case ChainVerdict::duplicate: break;                 // answered with the old receipt
        case ChainVerdict::gap: pool_.push_back(std::move(f)); break;  // the device will resend
        default: FAIL() << "unexpected verdict " << errc_name(c.code) << ": " << c.message;
      }
    }
    auto items = items_of(log_, first, log_.size());
    auto r = server_->apply(items);
    ASSERT_TRUE(r.ok()) << r.status().to_string();
  }

  // Every accepted write to a field is current, a recorded conflict loser, seen by a later
  // write's base, or carried the same value as such a write.
  void check_nothing_lost() {
    auto conflicts = *server_->conflicts();
    std::set<std::tuple<std::string, uint32_t, Hash>> losers;
    for (const auto& c : conflicts) losers.insert({c.row, c.field, c.loser});
    std::set<std::tuple<std::string, uint32_t, uint64_t>> seen;  // (row, field, writer) named as base
    for (const LogEntry& e : log_) {
      for (const Op& op : e.cs.ops) {
        for (const FieldBase& b : op.bases) seen.insert({op.row, b.field, b.writer.v});
      }
    }
    struct Write {
      std::string row;
      uint32_t field;
      Value value;
      Hash id;
    };
    std::vector<Write> writes;
    for (const LogEntry& e : log_) {
      for (const Op& op : e.cs.ops) {
        writes.push_back({op.row, kLivenessField, Value{int64_t{op.kind == OpKind::del ? 1 : 0}}, e.id});
        for (const FieldWrite& w : op.fields) writes.push_back({op.row, w.field, w.value, e.id});
      }
    }
    std::map<std::pair<std::string, uint32_t>, std::vector<Value>> preserved_values;
    std::vector<const Write*> pending;
    for (const Write& w : writes) {
      auto row = *server_->get_row("progress_report", w.row);
      const auto& current = w.field == kLivenessField ? row->liveness_writer : row->fields[w.field - 1].writer;
      const bool ok = (current && *current == WriterId::of(w.id)) || losers.count({w.row, w.field, w.id}) ||
                      seen.count({w.row, w.field, WriterId::of(w.id).v});
      if (ok) preserved_values[{w.row, w.field}].push_back(w.value);
      else pending.push_back(&w);
    }
    for (const Write* w : pending) {
      const auto& vals = preserved_values[{w->row, w->field}];
      EXPECT_TRUE(std::find(vals.begin(), vals.end(), w->value) != vals.end())
          << "write to " << w->row << " field " << w->field << " by " << to_hex(w->id) << " was lost";
    }
  }

  SeededRandom rng_;
  FakeClock server_wall_;
  std::unique_ptr<Store> server_;
  std::vector<std::unique_ptr<Device>> devices_;
  std::vector<InFlight> pool_;
  std::vector<LogEntry> log_;
  std::map<PublicKey, ChainHead> heads_;
  std::map<PublicKey, std::map<uint64_t, Hash>> accepted_;
  std::vector<std::string> known_rows_;
  bool settling_ = false;
};

TEST(Convergence, AllReplicasAgreeAndNothingIsLost) {
  size_t total_log = 0, total_conflicts = 0;
  for (uint64_t seed = g_first_seed; seed < g_end_seed; ++seed) {
    Simulation sim(seed);
    sim.run();
    if (!::testing::Test::HasFailure()) sim.check();
    if (::testing::Test::HasFailure()) {
      std::fprintf(stderr, "convergence FAILED for seed %llu; rerun: convergence_test --seeds=%llu:%llu\n",
                   static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed),
                   static_cast<unsigned long long>(seed + 1));
      return;
    }
    total_log += sim.log_size();
    total_conflicts += sim.conflicts();
  }
  std::printf("seeds %llu..%llu: %zu change sets accepted, %zu conflict records, all replicas identical\n",
              static_cast<unsigned long long>(g_first_seed), static_cast<unsigned long long>(g_end_seed - 1),
              total_log, total_conflicts);
  EXPECT_GT(total_conflicts, 0u) << "the simulation should produce concurrent edits";
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
