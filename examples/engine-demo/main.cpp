// A short demonstration of the engine on its own: two officials' devices edit the same
// progress report offline; their signed change sets are checked against each device's chain
// and merged into a SQLite replica, and the losing edit is kept as a conflict record.
#include <cstdio>
#include <filesystem>
#include <string>

#include "tram/engine/chain.hpp"
#include "tram/engine/device_chain.hpp"
#include "tram/engine/store.hpp"
#include "tram/engine/uuid.hpp"

using namespace tram;

namespace {

void print_row(Store& store, const std::string& id) {
  auto row = store.get_row("progress_report", id);
  if (!row.ok() || !*row) return;
  const auto& r = **row;
  std::printf("    %s  deleted=%d  value=%s  narrative=\"%s\"\n", id.c_str(), r.deleted,
              std::holds_alternative<double>(r.fields[1].value)
                  ? std::to_string(std::get<double>(r.fields[1].value)).c_str() : "null",
              std::holds_alternative<Text>(r.fields[2].value) ? std::get<Text>(r.fields[2].value).s.c_str() : "");
}

int fail(const Status& st) {
  std::fprintf(stderr, "error: %s\n", st.to_string().c_str());
  return 1;
}

template <typename T>
T must(Result<T> r) {
  if (!r.ok()) std::exit(fail(r.status()));
  return std::move(r).value();
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 ? argv[1] : "var";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "engine-demo.db").string();
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");

  Schema schema{"sonla-2026", 1,
                {TableDef{"progress_report",
                          {FieldDef{1, "unit_code", ValueType::text}, FieldDef{2, "value", ValueType::real},
                           FieldDef{3, "narrative", ValueType::text}}}}};
  auto store = Store::open(path, schema);
  if (!store.ok()) return fail(store.status());

  SystemClock wall;
  SystemRandom random;
  HybridClock clock_a(wall, 5 * 60'000), clock_b(wall, 5 * 60'000);
  DeviceChain a(DeviceKey::generate(random), clock_a, "can-bo-muong-la-1", "sonla-2026", 1);
  DeviceChain b(DeviceKey::generate(random), clock_b, "can-bo-muong-la-2", "sonla-2026", 1);
  UuidV7Generator ids(wall, random);
  const std::string report = ids.next();

  std::printf("Tram engine demo — replica at %s\n\n", path.c_str());
  std::printf("1. Official A of Mường La (commune 03808) creates an H1 report offline.\n");
  Op create{"progress_report", report, OpKind::put,
            {{1, Value{Text{"03808"}}}, {2, Value{48.5}}, {3, *make_text("Đã lắp đặt 12 bể chứa nước sạch")}}, {}};
  auto c1 = must(a.make({create}));
  std::printf("   change set seq=1 id=%s… (%zu bytes, signed)\n", to_hex(c1.id).substr(0, 16).c_str(),
              c1.signed_cs.bytes.size());

  ChainHead head_a, head_b;
  auto accept = [&](DeviceChain& dev, ChainHead& head, const DeviceChain::Made& m) -> Result<ApplyOutcome> {
    ChainCheck check = check_chain(dev.device(), head, nullptr, m.signed_cs);
    std::printf("   server chain check: %s\n", std::string(errc_name(check.code)).c_str());
    if (check.verdict != ChainVerdict::next) return Status(check.code, check.message);
    head = ChainHead{check.changeset->seq, check.id};
    ApplyItem item{&*check.changeset, check.id, judge_clock(check.changeset->hlc, wall.now_ms(), 5 * 60'000)};
    return (*store)->apply({&item, 1});
  };
  if (auto r = accept(a, head_a, c1); !r.ok()) return fail(r.status());
  print_row(**store, report);

  auto row = (*store)->get_row("progress_report", report);
  const WriterId seen = *(*row)->fields[1].writer;
  std::printf("\n2. Both officials edit the report's value, each having seen only version 1.\n");
  auto ea = must(a.make({Op{"progress_report", report, OpKind::put, {{2, Value{55.0}}}, {{2, seen}}}}));
  auto eb = must(b.make({Op{"progress_report", report, OpKind::put, {{2, Value{60.0}}, {3, *make_text("Hoàn thành 15 bể")}},
                       {{2, seen}, {3, seen}}}}));
  if (auto r = accept(a, head_a, ea); !r.ok()) return fail(r.status());
  auto rb = accept(b, head_b, eb);
  if (!rb.ok()) return fail(rb.status());
  std::printf("   merged: %u conflict record(s); the later clock wins, the other value is kept\n", rb->conflicts);
  print_row(**store, report);
  auto conflicts = (*store)->conflicts();
  if (!conflicts.ok()) return fail(conflicts.status());
  for (const auto& c : *conflicts) {
    std::printf("   conflict on field %u: winner %s…, loser %s… kept value %.1f\n", c.field,
                to_hex(c.winner).substr(0, 12).c_str(), to_hex(c.loser).substr(0, 12).c_str(),
                std::get<double>(c.loser_value));
  }

  std::printf("\n3. Replays and forgeries are refused, nothing changes.\n");
  const Hash before = *(*store)->state_hash();
  auto dup = check_chain(a.device(), head_a, [&](uint64_t s) { return s == 1 ? std::optional(c1.id) : std::nullopt; },
                         c1.signed_cs);
  std::printf("   replay of seq 1: %s\n", std::string(errc_name(dup.code)).c_str());
  SignedChangeSet forged = ea.signed_cs;
  forged.bytes.replace(forged.bytes.find("55"), 2, "99");
  std::printf("   edited bytes:    %s\n", std::string(errc_name(check_chain(a.device(), head_a, nullptr, forged).code)).c_str());
  ApplyItem again{&ea.cs, ea.id, ClockTrust::trusted};
  auto twice = (*store)->apply({&again, 1});
  std::printf("   applying seq 2 again: already_applied=%u, replica unchanged: %s\n", twice->already_applied,
              *(*store)->state_hash() == before ? "yes" : "NO");
  return *(*store)->state_hash() == before ? 0 : 1;
}
