// Writes the seed corpora (fuzz/corpus/<target>/) from the real writers: signed change sets, push
// bodies, pull and snapshot pages of the Sơn La schema, receipts, row images, gzip bodies and
// bundles, byte for byte what the server and devices send. Deterministic (fixed keys and
// clocks), so that running it again rewrites the same files:
//   build/fuzz/fuzz/tram-fuzz-seeds fuzz/corpus
// Hand-written cases (regressions, edge cases) sit beside these under names of their own.
#include <filesystem>
#include <fstream>
#include <iostream>

#include "tram/engine/changeset.hpp"
#include "tram/engine/gzip.hpp"
#include "tram/engine/json.hpp"
#include "tram/engine/schema_loader.hpp"
#include "tram/engine/wire_writer.hpp"

namespace fs = std::filesystem;
using namespace tram;

namespace {

fs::path root;

void put(const std::string& target, const std::string& name, std::string_view bytes) {
  fs::create_directories(root / target);
  std::ofstream(root / target / name, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

DeviceKey key_of(uint8_t n) {
  std::array<uint8_t, 32> seed{};
  seed.fill(n);
  return DeviceKey::from_seed(seed);
}

Hash hash_of(std::string_view s) { return blake2b_256(s); }

// A value of the field's type, varied by k.
Value sample(const FieldDef& f, int k) {
  switch (f.type) {
    case ValueType::integer: return Value{int64_t{k * 37 - 5}};
    case ValueType::real: return Value{k % 2 ? 48.5 : -0.25 * k};
    case ValueType::boolean: return Value{k % 2 == 0};
    case ValueType::date: return Value{Date::from_ymd(2026, 1 + unsigned(k % 12), 1 + unsigned(k % 28))};
    case ValueType::attachment: return Value{AttachmentRef{hash_of("photo" + std::to_string(k))}};
    case ValueType::text:
      if (!f.values.empty()) return Value{Text{f.values[size_t(k) % f.values.size()]}};
      return Value{Text{k % 2 ? "Đã lắp đặt 12 bể chứa nước sạch cho bản Nà Cài; \"khó khăn\"\n" : "03808"}};
    case ValueType::null: break;
  }
  return Value{};
}

RowImage image_of(const TableDef& t, int k, const Hash& w1, const Hash& w2) {
  RowImage img;
  img.cells.push_back({Value{int64_t{0}}, 100, w1});  // liveness: alive
  for (size_t i = 0; i < t.fields.size(); ++i) {
    if (i % 5 == 4) img.cells.push_back({});                                  // never written
    else if (i % 3 == 2) img.cells.push_back({sample(t.fields[i], k + int(i)), 120 + k, w2});  // a later edit
    else img.cells.push_back({sample(t.fields[i], k + int(i)), 100, w1});
  }
  return img;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: tram-fuzz-seeds CORPUS_DIR\n";
    return 2;
  }
  root = argv[1];
  crypto_init();
  auto schema_r = load_schema_file(TRAM_FUZZ_SCHEMA);
  if (!schema_r.ok()) {
    std::cerr << schema_r.status().message() << "\n";
    return 1;
  }
  const Schema& schema = *schema_r;
  const DeviceKey dev = key_of(1), server = key_of(0x5A);

  // ---- change sets and push bodies
  ChangeSet cs;
  cs.device = dev.public_key();
  cs.seq = 1;
  cs.hlc = Hlc::from_parts(1780473600000, 0);
  cs.author = "can-bo-03808-01";
  cs.schema = schema.id;
  cs.schema_version = schema.version;
  const TableDef& report = *schema.table("progress_report");
  Op put_op{"progress_report", "01977d2a-7c00-7000-8000-000000000001", OpKind::put, {}, {}};
  for (size_t i = 0; i < report.fields.size() && i < 12; ++i) put_op.fields.push_back({report.fields[i].id, sample(report.fields[i], int(i))});
  cs.ops.push_back(put_op);
  std::vector<SignedChangeSet> signed_sets;
  signed_sets.push_back(sign_changeset(cs, dev));
  ChangeSet cs2 = cs;
  cs2.seq = 2;
  cs2.prev = signed_sets[0].id();
  cs2.hlc = Hlc::from_parts(1780473660000, 3);
  Op edit{"progress_report", put_op.row, OpKind::put, {{5, Value{61.25}}, {7, Value{Text{"Hoàn thành"}}}},
          {{5, WriterId::of(signed_sets[0].id())}}};
  Op del{"comment", "01977d2a-7c00-7000-8000-00000000000c", OpKind::del, {}, {{0, WriterId{0x0123456789abcdef}}}};
  cs2.ops = {edit, del};
  signed_sets.push_back(sign_changeset(cs2, dev));
  for (size_t i = 0; i < signed_sets.size(); ++i) put("changeset", "gen-" + std::to_string(i + 1) + ".json", signed_sets[i].bytes);
  put("push_body", "gen-two.json", wire::write_push_body(signed_sets));
  put("push_body", "gen-one.json", wire::write_push_body(std::vector<SignedChangeSet>{signed_sets[1]}));
  put("push_body", "gen-empty.json", wire::write_push_body(std::vector<SignedChangeSet>{}));

  // ---- pull and snapshot pages (and their lead), heads, row images
  const Hash w1 = signed_sets[0].id(), w2 = signed_sets[1].id();
  const wire::Head head = wire::sign_head(42, hash_of("log"), server);
  std::vector<std::string> pages;
  {
    wire::PageWriter w;
    int k = 0;
    for (const char* t : {"unit", "task_group", "indicator", "reporting_period", "progress_report", "evidence"}) {
      const RowImage img = image_of(*schema.table(t), k, w1, w2);
      std::vector<ConflictRecord> x;
      if (std::string_view(t) == "progress_report") {
        x.push_back({t, "r" + std::to_string(k), 5, w2, w1, Value{48.5}});
        x.push_back({t, "r" + std::to_string(k), 0, w1, w2, Value{int64_t{1}}});
      }
      w.add(uint64_t(100 + k), t, "01977d2a-7c00-7000-8000-00000000010" + std::to_string(k), img, x);
      put("row_image", std::string("gen-") + t + ".json", wire::row_image_to_json(img));
      ++k;
    }
    pages.push_back(w.finish(106, true, std::nullopt, head));
  }
  {
    wire::PageWriter w;
    RowImage deleted = image_of(*schema.table("comment"), 3, w1, w1);
    deleted.cells[0] = {Value{int64_t{1}}, 130, w2};
    w.add(7, "comment", "c-1", deleted);
    pages.push_back(w.finish(7, true, std::string("snap:7:comment/c-1"), head));
    pages.push_back(wire::PageWriter{}.finish(7, false, std::string(), head));
    pages.push_back(wire::PageWriter{}.finish(0, false, std::nullopt, head));
  }
  for (size_t i = 0; i < pages.size(); ++i) {
    put("pull_page", "gen-" + std::to_string(i + 1) + ".json", pages[i]);
    put("page_lead", "gen-" + std::to_string(i + 1) + ".json", pages[i]);
  }
  put("pull_page", "gen-head.json", wire::write_head(head));
  for (const Value& v : {Value{}, Value{int64_t{-9007199254740991}}, Value{1.5e300}, Value{Text{"Mường La\t\"x\""}},
                         Value{true}, Value{Date::from_ymd(2028, 2, 29)}, Value{AttachmentRef{w1}}}) {
    std::string s;
    json::append_value(s, v);
    put("row_image", "gen-value-" + std::string(1, v.index() ? value_type_tag(value_type(v)) : 'n') + ".json", s);
  }
  put("row_image", "gen-date.txt", "2026-12-31");

  // ---- receipts
  wire::Receipt r;
  r.server = server.public_key();
  r.server_seq = 42;
  r.id = w1;
  r.device = dev.public_key();
  r.seq = 1;
  r.accepted = true;
  r.received_at_ms = 1780473700000;
  r.log = hash_of("log");
  put("receipt", "gen-accepted.json", wire::receipt_body(r));
  r.accepted = false;
  r.code = "stale_base";
  r.clock_ahead = true;
  put("receipt", "gen-rejected.json", wire::receipt_body(r));
  const std::string receipt = wire::write_receipt(r, server);

  // ---- gzip: a page at three levels, two members one after another, an empty body
  put("gzip", "gen-page-1.gz", gzip_compress(pages[0], 1));
  put("gzip", "gen-page-12.gz", gzip_compress(pages[1], 12));
  put("gzip", "gen-two-members.gz", gzip_compress("{\"changesets\":", 6) + gzip_compress("[]}", 6));
  put("gzip", "gen-empty.gz", gzip_compress("", 6));

  // ---- bundles: a device's outbox, and the receipt bundle the server's import answers with
  const std::string body = wire::write_push_body(signed_sets);
  json::Writer b;
  b.begin_object().key("v").number(1).key("kind").string("tram-bundle").key("device").hex(dev.public_key());
  b.key("created_ms").number(int64_t{1780473800000}).key("body").string(body).key("sig").hex(dev.sign("tram-bundle-v1:" + body));
  b.end_object();
  put("bundle", "gen-bundle.json", b.str());
  json::Writer rb;
  rb.begin_object().key("v").number(1).key("kind").string("tram-receipts").key("device").hex(dev.public_key());
  rb.key("server").hex(server.public_key()).key("response").begin_object().key("results").begin_array();
  rb.begin_object().key("seq").number(1).key("status").string("rejected").key("code").string("stale_base");
  rb.key("receipt").raw(receipt).end_object();
  rb.begin_object().key("seq").number(2).key("status").string("rejected").key("code").string("seq_gap");
  rb.key("expected_seq").number(1).key("message").string("send #1 first").end_object();
  rb.end_array().key("head");
  wire::write_head(rb, head);
  rb.end_object().end_object();
  put("bundle", "gen-receipts.json", rb.str());
  std::cout << "seeds written under " << root << "\n";
  return 0;
}
