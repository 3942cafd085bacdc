// The engine on its own, playing the server's part in-process: the Sơn La schema is loaded and
// seeded; officials' devices make signed change sets offline; each is checked against its
// device's chain, authorized against the schema's scope, roles and workflow, and merged into a
// SQLite replica. Shows a conflict record, a refused write outside the official's commune, the
// review cycle, and replays and forgeries refused. (The real server and apps come later.)
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "tram/engine/authorize.hpp"
#include "tram/engine/chain.hpp"
#include "tram/engine/device_chain.hpp"
#include "tram/engine/schema_loader.hpp"
#include "tram/engine/seed.hpp"
#include "tram/engine/store.hpp"
#include "tram/engine/text.hpp"
#include "tram/engine/uuid.hpp"

using namespace tram;

namespace {

constexpr int64_t kMaxDrift = 5 * 60'000;

int fail(const Status& st) {
  std::fprintf(stderr, "error: %s\n", st.to_string().c_str());
  return 1;
}

template <typename T>
T must(Result<T> r) {
  if (!r.ok()) std::exit(fail(r.status()));
  return std::move(r).value();
}

std::string short_id(const Hash& h) { return to_hex(h).substr(0, 12) + "…"; }

// Pads to a width in characters (Vietnamese letters are several bytes).
std::string pad(std::string s, size_t width = 46) {
  size_t chars = 0;
  for (unsigned char c : s) chars += (c & 0xc0) != 0x80;
  if (chars < width) s.append(width - chars, ' ');
  return s;
}

// The server's side of a push, in-process: chain, authorization, merge.
class Replica {
 public:
  Replica(std::unique_ptr<Store> store, ClockSource& wall) : store_(std::move(store)), wall_(wall) {}

  // A change set that is authentic and next in its device's chain always extends the chain,
  // even when authorization refuses its content: the device's later change sets link to it, and
  // the official keeps it, with the reason, until they fix or discard it.
  bool push(const Principal& who, const DeviceChain& dev, const SignedChangeSet& s, const char* what) {
    ChainHead& head = heads_[dev.device()];
    auto accepted_at = [&](uint64_t seq) -> std::optional<Hash> {
      auto it = accepted_.find({dev.device(), seq});
      return it == accepted_.end() ? std::nullopt : std::optional(it->second);
    };
    ChainCheck c = check_chain(dev.device(), head, accepted_at, s);
    Status st = c.verdict == ChainVerdict::next ? authorize(who, *c.changeset, *store_) : Status(c.code, c.message);
    if (c.verdict == ChainVerdict::next) {
      head = {c.changeset->seq, c.id};
      accepted_[{dev.device(), c.changeset->seq}] = c.id;
    }
    if (st.ok()) {
      ApplyItem item{&*c.changeset, c.id, judge_clock(c.changeset->hlc, wall_.now_ms(), kMaxDrift)};
      auto r = store_->apply({&item, 1});
      if (r.ok()) {
        std::printf("   %s accepted  seq=%llu id=%s%s\n", pad(what).c_str(), static_cast<unsigned long long>(c.changeset->seq),
                    short_id(c.id).c_str(), r->conflicts ? "  (conflict recorded)" : "");
        return true;
      }
      st = r.status();
    }
    std::printf("   %s REFUSED   %s: %s\n", pad(what).c_str(), std::string(errc_name(st.code())).c_str(), st.message().c_str());
    return false;
  }
  Store& store() { return *store_; }

 private:
  std::unique_ptr<Store> store_;
  ClockSource& wall_;
  std::map<PublicKey, ChainHead> heads_;
  std::map<std::pair<PublicKey, uint64_t>, Hash> accepted_;
};

std::string field_text(const RowState& r, const TableDef& t, const char* name) {
  const FieldDef* f = t.field(std::string_view(name));
  for (size_t k = 0; k < t.fields.size(); ++k) {
    if (&t.fields[k] != f) continue;
    const Value& v = r.fields[k].value;
    if (const auto* s = std::get_if<Text>(&v)) return s->s;
    if (const auto* d = std::get_if<double>(&v)) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", *d);
      return buf;
    }
  }
  return "—";
}

}  // namespace

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 ? argv[1] : "var";
  const std::string schemas = argc > 2 ? argv[2] : "schemas";
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "engine-demo.db").string();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);

  const Schema schema = must(load_schema_dir(schemas + "/sonla-2026"));
  const TableDef& reports = *schema.table("progress_report");
  auto id = [&](const char* name) { return reports.field(std::string_view(name))->id; };

  SystemClock wall;
  SystemRandom random;
  Replica server(must(Store::open(path, schema)), wall);
  std::map<std::string, std::unique_ptr<HybridClock>> clocks;
  auto device = [&](const char* author) {
    clocks[author] = std::make_unique<HybridClock>(wall, kMaxDrift);
    return DeviceChain(DeviceKey::generate(random), *clocks[author], author, schema.id, schema.version);
  };

  std::printf("Tram engine demo: schema %s v%u, replica %s\n\n", schema.id.c_str(), schema.version, path.c_str());

  std::printf("1. The administrator seeds the Sơn La programme (units, task groups, tasks, indicators, periods).\n");
  DeviceChain admin = device("quan-tri-tinh");
  const Principal admin_p{Role::admin, {}, true, {}};
  auto rows = must(load_seed_rows(schemas + "/sonla-2026/seed/rows", schema));
  for (size_t i = 0; i < rows.size(); i += 250) {
    std::vector<Op> chunk(rows.begin() + static_cast<long>(i), rows.begin() + static_cast<long>(std::min(rows.size(), i + 250)));
    auto m = must(admin.make(std::move(chunk)));
    if (!server.push(admin_p, admin, m.signed_cs, ("seed rows " + std::to_string(i + 1) + "…").c_str())) return 1;
  }

  std::printf("\n2. Two officials of Mường La (03808) and one of Tô Hiệu (03646) work offline.\n");
  DeviceChain a = device("lo-van-minh"), b = device("cam-thi-hoa"), c = device("nguyen-van-an");
  const Principal muong_la{Role::official, {"03808"}, false, {}}, to_hieu{Role::official, {"03646"}, false, {}};
  UuidV7Generator ids(wall, random);
  const std::string report = ids.next();
  // NFD input (as some keyboards type it) is stored NFC.
  const Value narrative = must(make_text("Tra" "\xcc" "\xa3" "m y te" "\xcc" "\x82" "\xcc" "\x81" " xa" "\xcc" "\x83" " co" "\xcc" "\x81" " 2 ba" "\xcc" "\x81" "c si" "\xcc" "\x83" "; " "\xc4" "\x91" "a" "\xcc" "\x83" " tuye" "\xcc" "\x82" "\xcc" "\x89" "n the" "\xcc" "\x82" "m 1 ba" "\xcc" "\x81" "c si" "\xcc" "\x83"));
  std::vector<FieldWrite> f = {{id("unit_code"), Value{Text{"03808"}}},     {id("indicator"), Value{Text{"CT-BACSI-TRAMYTE"}}},
                               {id("period"), Value{Text{"2026-H1"}}},       {id("value"), Value{2.0}},
                               {id("progress"), Value{Text{"on_track"}}},    {id("narrative"), narrative},
                               {id("author"), Value{Text{"Lò Văn Minh"}}},   {id("recorded_on"), Value{*Date::parse("2026-06-03")}},
                               {id("status"), Value{Text{"draft"}}}};
  std::sort(f.begin(), f.end(), [](const FieldWrite& x, const FieldWrite& y) { return x.field < y.field; });
  auto create = must(a.make({Op{"progress_report", report, OpKind::put, f, {}}}));
  std::printf("   official A records the H1 report on doctors per health station (%zu signed bytes)\n", create.signed_cs.bytes.size());
  server.push(muong_la, a, create.signed_cs, "A: create report (draft)");
  // An edit names, as its bases, the writes the device saw for each field it changes.
  auto edit_of = [&](std::vector<FieldWrite> fields) {
    const RowState seen = *must(server.store().get_row("progress_report", report));
    std::sort(fields.begin(), fields.end(), [](const FieldWrite& x, const FieldWrite& y) { return x.field < y.field; });
    std::vector<FieldBase> bases;
    if (seen.liveness_writer) bases.push_back({0, *seen.liveness_writer});
    for (const auto& w : fields) {
      for (size_t k = 0; k < reports.fields.size(); ++k) {
        if (reports.fields[k].id == w.field && seen.fields[k].writer) bases.push_back({w.field, *seen.fields[k].writer});
      }
    }
    return Op{"progress_report", report, OpKind::put, std::move(fields), std::move(bases)};
  };

  auto intrude = must(c.make(std::vector<Op>{edit_of({{id("value"), Value{0.0}}})}));
  server.push(to_hieu, c, intrude.signed_cs, "Tô Hiệu official: edit Mường La's report");

  std::printf("\n3. A and B edit the same report, each from the version they pulled.\n");
  const Op op_a = edit_of({{id("value"), Value{2.0}}, {id("difficulties"), Value{Text{"Thiếu nhà công vụ cho bác sĩ"}}}});
  const Op op_b = edit_of({{id("value"), Value{3.0}}});
  auto ea = must(a.make({op_a}));
  auto eb = must(b.make({op_b}));
  server.push(muong_la, a, ea.signed_cs, "A: value 2, difficulties");
  server.push(muong_la, b, eb.signed_cs, "B: value 3");
  for (const auto& k : must(server.store().conflicts())) {
    std::printf("   conflict on %s/%s field %u: kept %s, losing value %g from %s kept for the reviewer\n", k.table.c_str(),
                k.row.substr(0, 13).c_str(), k.field, short_id(k.winner).c_str(), std::get<double>(k.loser_value),
                short_id(k.loser).c_str());
  }

  std::printf("\n4. Review: submit, return with a comment, fix, resubmit, accept; then it is locked.\n");
  const Principal reviewer{Role::reviewer, {}, true, {}};
  DeviceChain r = device("so-tai-chinh");
  auto status = [&](DeviceChain& dev, const char* s, std::vector<FieldWrite> more = {}) {
    more.push_back({id("status"), Value{Text{s}}});
    return must(dev.make(std::vector<Op>{edit_of(std::move(more))})).signed_cs;
  };
  auto edit = [&](DeviceChain& dev, std::vector<FieldWrite> fields) { return must(dev.make(std::vector<Op>{edit_of(std::move(fields))})).signed_cs; };
  server.push(muong_la, a, status(a, "submitted"), "A: submit");
  server.push(muong_la, a, edit(a, {{id("value"), Value{2.5}}}), "A: edit while submitted");
  server.push(reviewer, r, status(r, "returned"), "reviewer: return without a comment");
  server.push(reviewer, r, status(r, "returned", {{id("review_comment"), Value{Text{"Bổ sung ảnh minh chứng"}}}}),
              "reviewer: return, \"Bổ sung ảnh minh chứng\"");
  server.push(muong_la, a, edit(a, {{id("proposals"), Value{Text{"Hỗ trợ kinh phí thu hút bác sĩ"}}}}), "A: fix the returned report");
  server.push(muong_la, a, status(a, "submitted"), "A: resubmit");
  server.push(reviewer, r, status(r, "accepted", {{id("reviewed_by"), Value{Text{"Sở Tài chính"}}}}), "reviewer: accept");
  server.push(muong_la, b, edit(b, {{id("value"), Value{4.0}}}), "B: edit the accepted report");
  const RowState final_row = *must(server.store().get_row("progress_report", report));
  std::printf("   report now: status=%s value=%s narrative=\"%s\" (stored NFC: %s)\n", field_text(final_row, reports, "status").c_str(),
              field_text(final_row, reports, "value").c_str(), field_text(final_row, reports, "narrative").c_str(),
              is_nfc(field_text(final_row, reports, "narrative")) ? "yes" : "no");

  std::printf("\n5. Replays and forgeries change nothing.\n");
  const Hash before = must(server.store().state_hash());
  server.push(muong_la, a, create.signed_cs, "A: the first change set again");
  SignedChangeSet forged = ea.signed_cs;
  forged.bytes.replace(forged.bytes.find("[\"r\",2]"), 7, "[\"r\",9]");
  server.push(muong_la, a, forged, "A's change set with an edited value");
  ApplyItem again{&ea.cs, ea.id, ClockTrust::trusted};
  const auto outcome = must(server.store().apply({&again, 1}));
  const bool same = must(server.store().state_hash()) == before;
  std::printf("   applying an accepted change set again: already_applied=%u, replica unchanged: %s\n", outcome.already_applied,
              same ? "yes" : "NO");
  return same ? 0 : 1;
}
