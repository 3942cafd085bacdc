// Benchmarks of the engine's hot path: encoding, decoding, hashing + signature checks, and
// verify + decode + apply of change sets of 1, 10 and 100 new rows, applied 100 change sets
// per transaction to an on-disk SQLite replica (WAL, synchronous=FULL), each next to raw
// crypto_sign_verify_detached measured in the same run.
//
// Targets (scripts/run-bench.sh checks them from the JSON output):
//   BM_VerifyDecodeApply/1   change sets/s >= 0.6 x BM_RawVerify verifications/s
//   BM_VerifyDecodeApply/100 rows/s >= 100,000 (UUIDv7 ids, merge metadata stored per field)
//
// Environment:
//   TRAM_BENCH_DIR           where the replicas are created (default: the system temp dir);
//                            use a directory on the disk you care about, fsync cost is measured.
//   TRAM_BENCH_SYNCHRONOUS   diagnostic only: overrides PRAGMA synchronous (e.g. NORMAL, OFF)
//                            on the benchmark replicas, to see how much of apply is fsync.
#include <benchmark/benchmark.h>
#include <sodium.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "tram/engine/chain.hpp"
#include "tram/engine/changeset.hpp"
#include "tram/engine/clock.hpp"
#include "tram/engine/crypto.hpp"
#include "tram/engine/device_chain.hpp"
#include "tram/engine/hlc.hpp"
#include "tram/engine/schema.hpp"
#include "tram/engine/store.hpp"
#include "tram/engine/uuid.hpp"

namespace {

using namespace tram;

constexpr int64_t kStartMs = 1'780'473'600'000;  // 2026-06-03T08:00:00Z
constexpr int64_t kMaxDriftMs = 5 * 60'000;
constexpr size_t kBatch = 100;  // change sets per apply() call, i.e. per transaction
constexpr size_t kPool = 100;   // distinct change sets cycled through by the CPU-only benchmarks

Schema bench_schema() {
  return Schema{"sonla-2026",
                1,
                {TableDef{"progress_report",
                          {FieldDef{1, "unit_code", ValueType::text}, FieldDef{2, "period", ValueType::text},
                           FieldDef{3, "value", ValueType::real}, FieldDef{4, "status", ValueType::integer},
                           FieldDef{5, "narrative", ValueType::text},
                           FieldDef{6, "recorded_on", ValueType::date}}}}};
}

Value text(std::string_view s) {
  auto v = make_text(s);  // NFC, as decode() requires
  if (!v.ok()) {
    std::fprintf(stderr, "engine_bench: make_text: %s\n", v.status().to_string().c_str());
    std::abort();
  }
  return std::move(v).value();
}

// Makes signed, chained change sets whose every op inserts a new progress_report row with a
// time-ordered id (UUIDv7 from a fake clock that advances 1 ms per change set).
class Workload {
 public:
  explicit Workload(uint64_t seed) : random_(seed), ids_(clock_, random_) {
    for (const char* s : {"03808", "03811", "03814", "03817", "03820", "03823", "03826", "03829"}) {
      units_.push_back(text(s));
    }
    for (const char* s : {"Đã lắp đặt 12 bể chứa nước sạch cho bản Nà Cài",
                          "Hoàn thành 15 bể, còn 3 bể chờ vật tư từ huyện Mường La",
                          "Tập huấn kỹ thuật canh tác cà phê cho 40 hộ đồng bào Thái ở bản Pá Lông",
                          "Nghiệm thu tuyến đường bê tông liên bản dài 2,4 km"}) {
      narratives_.push_back(text(s));
    }
    period_ = text("2026-H1");
  }

  // `n` change sets of `rows` new rows each, from one new device (seq 1..n, chained).
  struct Batch {
    PublicKey device{};
    std::vector<SignedChangeSet> signed_cs;
    std::vector<ChangeSet> models;  // only when asked for
    std::vector<Hash> ids;          // only when asked for
    size_t bytes = 0;
  };
  Batch make_batch(size_t n, size_t rows, bool keep_models) {
    HybridClock hlc(clock_, kMaxDriftMs);
    DeviceChain dev(DeviceKey::generate(random_), hlc, "can-bo-muong-la-" + std::to_string(++devices_),
                    "sonla-2026", 1);
    Batch b;
    b.device = dev.device();
    b.signed_cs.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      clock_.advance(1);
      std::vector<Op> ops;
      ops.reserve(rows);
      for (size_t r = 0; r < rows; ++r) ops.push_back(new_row());
      auto made = dev.make(std::move(ops));  // validates, then signs
      if (!made.ok()) {
        std::fprintf(stderr, "engine_bench: DeviceChain::make: %s\n", made.status().to_string().c_str());
        std::abort();
      }
      DeviceChain::Made m = std::move(made).value();
      b.bytes += m.signed_cs.bytes.size();
      b.signed_cs.push_back(std::move(m.signed_cs));
      if (keep_models) {
        b.models.push_back(std::move(m.cs));
        b.ids.push_back(m.id);
      }
    }
    return b;
  }

  FakeClock& clock() { return clock_; }

 private:
  Op new_row() {
    Op op;
    op.table = "progress_report";
    op.row = ids_.next();
    op.kind = OpKind::put;
    op.fields = {
        {1, units_[random_.below(units_.size())]},
        {2, period_},
        {3, Value{static_cast<double>(random_.below(100'000)) / 10.0}},
        {4, Value{static_cast<int64_t>(random_.below(4))}},
        {5, narratives_[random_.below(narratives_.size())]},
        {6, Value{Date::from_ymd(2026, 1 + static_cast<unsigned>(random_.below(6)),
                                 1 + static_cast<unsigned>(random_.below(28)))}},
    };
    return op;
  }

  FakeClock clock_{kStartMs};
  SeededRandom random_;
  UuidV7Generator ids_;
  std::vector<Value> units_, narratives_;
  Value period_;
  uint64_t devices_ = 0;
};

// A directory for one benchmark run's replica, removed afterwards.
class TempDir {
 public:
  explicit TempDir(const std::string& name) {
    const char* base = std::getenv("TRAM_BENCH_DIR");
    const std::filesystem::path root =
        base && *base ? std::filesystem::path(base) : std::filesystem::temp_directory_path();
    static int counter = 0;
    path_ = root / ("tram-bench-" + std::to_string(::getpid()) + "-" + std::to_string(++counter) + "-" + name);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Opens a fresh on-disk replica; nullptr (and the benchmark skipped) on failure.
std::unique_ptr<Store> open_store(benchmark::State& state, const TempDir& dir) {
  auto store = Store::open((dir.path() / "replica.db").string(), bench_schema());
  if (!store.ok()) {
    state.SkipWithError(("Store::open: " + store.status().to_string()).c_str());
    return nullptr;
  }
  if (const char* sync = std::getenv("TRAM_BENCH_SYNCHRONOUS"); sync && *sync) {
    if (auto st = (*store)->db().exec(std::string("PRAGMA synchronous=") + sync); !st.ok()) {
      state.SkipWithError(st.to_string().c_str());
      return nullptr;
    }
    state.SetLabel(std::string("synchronous=") + sync);
  }
  return std::move(store).value();
}

// Items = change sets; plus explicit change-set and row rates, and the mean change-set size.
void report(benchmark::State& state, size_t rows, size_t change_sets, size_t bytes) {
  const auto cs = static_cast<double>(change_sets);
  state.SetItemsProcessed(static_cast<int64_t>(change_sets));
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.counters["changesets_per_second"] = benchmark::Counter(cs, benchmark::Counter::kIsRate);
  state.counters["rows_per_second"] = benchmark::Counter(cs * static_cast<double>(rows), benchmark::Counter::kIsRate);
  if (change_sets > 0) state.counters["cs_bytes"] = static_cast<double>(bytes) / cs;
}

size_t rows_arg(const benchmark::State& state) { return static_cast<size_t>(state.range(0)); }

// --- Raw libsodium verification: the yardstick --------------------------------------------

void BM_RawVerify(benchmark::State& state) {
  crypto_init();
  Workload w(1);
  const Workload::Batch b = w.make_batch(1, 1, false);
  const SignedChangeSet& s = b.signed_cs.front();
  const auto* msg = reinterpret_cast<const unsigned char*>(s.bytes.data());
  for (auto _ : state) {
    if (crypto_sign_verify_detached(s.sig.data(), msg, s.bytes.size(), b.device.data()) != 0) {
      state.SkipWithError("signature does not verify");
      break;
    }
  }
  const auto n = static_cast<size_t>(state.iterations());
  state.SetItemsProcessed(static_cast<int64_t>(n));
  state.SetBytesProcessed(static_cast<int64_t>(n * s.bytes.size()));
  state.counters["msg_bytes"] = static_cast<double>(s.bytes.size());
}
BENCHMARK(BM_RawVerify)->UseRealTime()->Unit(benchmark::kMicrosecond);

// --- CPU-only stages, one change set per iteration -----------------------------------------

void BM_Encode(benchmark::State& state) {
  const size_t rows = rows_arg(state);
  Workload w(2);
  const Workload::Batch b = w.make_batch(kPool, rows, true);
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    std::string out = encode(b.models[i]);
    bytes += out.size();
    benchmark::DoNotOptimize(out.data());
    i = i + 1 == kPool ? 0 : i + 1;
  }
  report(state, rows, static_cast<size_t>(state.iterations()), bytes);
}
BENCHMARK(BM_Encode)->Arg(1)->Arg(10)->Arg(100)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_Decode(benchmark::State& state) {
  const size_t rows = rows_arg(state);
  Workload w(3);
  const Workload::Batch b = w.make_batch(kPool, rows, false);
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const std::string& in = b.signed_cs[i].bytes;
    auto cs = decode(in);
    if (!cs.ok()) {
      state.SkipWithError(("decode: " + cs.status().to_string()).c_str());
      break;
    }
    benchmark::DoNotOptimize(cs->ops.data());
    bytes += in.size();
    i = i + 1 == kPool ? 0 : i + 1;
  }
  report(state, rows, static_cast<size_t>(state.iterations()), bytes);
}
BENCHMARK(BM_Decode)->Arg(1)->Arg(10)->Arg(100)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_HashVerify(benchmark::State& state) {
  const size_t rows = rows_arg(state);
  Workload w(4);
  const Workload::Batch b = w.make_batch(kPool, rows, false);
  size_t i = 0, bytes = 0;
  for (auto _ : state) {
    const SignedChangeSet& s = b.signed_cs[i];
    Hash id = blake2b_256(s.bytes);
    benchmark::DoNotOptimize(id.data());
    if (!verify_signature(b.device, s.bytes, s.sig)) {
      state.SkipWithError("signature does not verify");
      break;
    }
    bytes += s.bytes.size();
    i = i + 1 == kPool ? 0 : i + 1;
  }
  report(state, rows, static_cast<size_t>(state.iterations()), bytes);
}
BENCHMARK(BM_HashVerify)->Arg(1)->Arg(10)->Arg(100)->UseRealTime()->Unit(benchmark::kMicrosecond);

// --- The receiving path: batches of 100 change sets, one transaction each ------------------

// Batches generated ahead, outside the timed region; topped up with the timer paused.
// Every batch comes from a new device and inserts new rows, so every apply does real work.
class BatchSource {
 public:
  BatchSource(uint64_t seed, size_t rows, bool keep_models)
      : w_(seed), rows_(rows), keep_models_(keep_models), chunk_(rows >= 100 ? 2 : rows >= 10 ? 8 : 16) {
    refill();
  }
  Workload::Batch& next(benchmark::State& state) {
    if (next_ == batches_.size()) {
      state.PauseTiming();
      refill();
      state.ResumeTiming();
    }
    return batches_[next_++];
  }
  int64_t now_ms() { return w_.clock().now_ms(); }

 private:
  void refill() {
    batches_.clear();
    next_ = 0;
    for (size_t i = 0; i < chunk_; ++i) batches_.push_back(w_.make_batch(kBatch, rows_, keep_models_));
  }
  Workload w_;
  size_t rows_;
  bool keep_models_;
  size_t chunk_;
  std::vector<Workload::Batch> batches_;
  size_t next_ = 0;
};

// What a server does with an upload: per change set, size check + signature + decode + chain
// link (check_chain, which also hashes the bytes for the id), then one apply() of the batch.
void BM_VerifyDecodeApply(benchmark::State& state) {
  const size_t rows = rows_arg(state);
  TempDir dir("vda-" + std::to_string(rows));
  auto store = open_store(state, dir);
  if (!store) return;
  BatchSource source(5, rows, false);
  const AcceptedAt no_history;
  std::vector<ChainCheck> checks;
  std::vector<ApplyItem> items;
  checks.reserve(kBatch);
  items.reserve(kBatch);
  size_t change_sets = 0, bytes = 0;
  for (auto _ : state) {
    const Workload::Batch& b = source.next(state);
    checks.clear();
    items.clear();
    ChainHead head;
    bool ok = true;
    for (const SignedChangeSet& s : b.signed_cs) {
      ChainCheck& c = checks.emplace_back(check_chain(b.device, head, no_history, s));
      if (c.verdict != ChainVerdict::next) {
        state.SkipWithError(("check_chain: " + std::string(errc_name(c.code)) + " " + c.message).c_str());
        ok = false;
        break;
      }
      head = ChainHead{c.changeset->seq, c.id};
    }
    if (!ok) break;
    const int64_t now = source.now_ms();
    for (const ChainCheck& c : checks) {
      items.push_back(ApplyItem{&*c.changeset, c.id, judge_clock(c.changeset->hlc, now, kMaxDriftMs)});
    }
    auto out = store->apply(items);
    if (!out.ok() || out->applied != kBatch) {
      state.SkipWithError(out.ok() ? "apply: not every change set applied"
                                   : ("apply: " + out.status().to_string()).c_str());
      break;
    }
    change_sets += kBatch;
    bytes += b.bytes;
  }
  report(state, rows, change_sets, bytes);
}
BENCHMARK(BM_VerifyDecodeApply)->Arg(1)->Arg(10)->Arg(100)->UseRealTime()->Unit(benchmark::kMicrosecond);

// Diagnostic: apply() alone, on change sets decoded beforehand (how much of the above is SQLite).
void BM_Apply(benchmark::State& state) {
  const size_t rows = rows_arg(state);
  TempDir dir("apply-" + std::to_string(rows));
  auto store = open_store(state, dir);
  if (!store) return;
  BatchSource source(6, rows, true);
  std::vector<ApplyItem> items;
  items.reserve(kBatch);
  size_t change_sets = 0, bytes = 0;
  for (auto _ : state) {
    const Workload::Batch& b = source.next(state);
    items.clear();
    for (size_t i = 0; i < b.models.size(); ++i) items.push_back(ApplyItem{&b.models[i], b.ids[i], ClockTrust::trusted});
    auto out = store->apply(items);
    if (!out.ok() || out->applied != kBatch) {
      state.SkipWithError(out.ok() ? "apply: not every change set applied"
                                   : ("apply: " + out.status().to_string()).c_str());
      break;
    }
    change_sets += kBatch;
    bytes += b.bytes;
  }
  report(state, rows, change_sets, bytes);
}
BENCHMARK(BM_Apply)->Arg(1)->Arg(10)->Arg(100)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
