// The wire helpers a device uses on pull pages (compact cells, the page lead read ahead of the
// rows), every protocol message written and read back (page, head, receipt, push body, row
// image), json::Writer, gzip bodies, and the store's compact ranks and id-ordered scans behind
// snapshots.
#include "tram/engine/wire.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"
#include "tram/engine/gzip.hpp"
#include "tram/engine/json.hpp"
#include "tram/engine/store.hpp"
#include "tram/engine/wire_writer.hpp"

namespace tram {
namespace {

using testing::must;
using testing::text;

const std::string kW0(64, 'a'), kW1(64, 'b');

std::string page(const std::string& rows, const std::string& lead = R"("next":7,"more":false)") {
  return "{" + lead + R"(,"rows":[)" + rows + R"(],"writers":[")" + kW0 + R"(",")" + kW1 +
         R"("],"head":{"server_seq":1,"log":")" + std::string(64, '0') + R"(","sig":")" + std::string(128, '0') + "\"}}";
}

TEST(Wire, CompactCellsTakeTheRowsRankAndWriter) {
  const Schema schema = testing::report_schema();
  // Cell 2 is bare (the row's rank and writer), cell 3 has its own, cell 4 was cleared by the
  // row's writer (a null value never travels bare), the rest were never written.
  const std::string row =
      R"({"v":5,"t":"progress_report","id":"r1","r":1000,"w":1,"c":[["i",0],["t","03808"],["r",42],[["t","x"],2000,0],[null,1000,1],null,null,null]})";
  auto p = must(wire::parse_pull(page(row), schema));
  ASSERT_EQ(p.rows.size(), 1u);
  const auto& cells = p.rows[0].image.cells;
  ASSERT_EQ(cells.size(), 8u);
  const Hash w0 = *from_hex<32>(kW0), w1 = *from_hex<32>(kW1);
  EXPECT_EQ(cells[0].rank, 1000);
  EXPECT_EQ(*cells[0].writer, w1);
  EXPECT_EQ(cells[2].value, Value{42.0});
  EXPECT_EQ(cells[2].rank, 1000);
  EXPECT_EQ(*cells[2].writer, w1);
  EXPECT_EQ(cells[3].value, text("x"));
  EXPECT_EQ(cells[3].rank, 2000);
  EXPECT_EQ(*cells[3].writer, w0);
  EXPECT_EQ(value_type(cells[4].value), ValueType::null);
  EXPECT_TRUE(cells[4].writer.has_value());
  EXPECT_FALSE(cells[5].writer.has_value());
  EXPECT_EQ(p.next, 7u);
  EXPECT_FALSE(p.more);
  // The long form alone (no "r"/"w") still reads; a bare value without them does not; nor a
  // common writer outside the page's writers.
  EXPECT_TRUE(wire::parse_pull(page(R"({"v":1,"t":"progress_report","id":"r2","c":[[["i",0],5,0],null,null,null,null,null,null,null]})"), schema).ok());
  EXPECT_FALSE(wire::parse_pull(page(R"({"v":1,"t":"progress_report","id":"r3","c":[["i",0],null,null,null,null,null,null,null]})"), schema).ok());
  EXPECT_FALSE(wire::parse_pull(page(R"({"v":1,"t":"progress_report","id":"r4","r":1,"w":2,"c":[["i",0],null,null,null,null,null,null,null]})"), schema).ok());
}

TEST(Wire, PeekPageReadsTheLeadOrNothing) {
  auto a = wire::peek_page(page("", R"("next":123,"more":true,"cursor":"123.2.30313965")"));
  ASSERT_TRUE(a);
  EXPECT_EQ(a->next, 123u);
  EXPECT_TRUE(a->more);
  EXPECT_EQ(a->cursor, "123.2.30313965");
  auto b = wire::peek_page(page("", R"("next":9,"more":false)"));
  ASSERT_TRUE(b);
  EXPECT_EQ(b->next, 9u);
  EXPECT_FALSE(b->more);
  EXPECT_EQ(b->cursor, "");
  // What parse_pull refuses, the lead does not promise.
  EXPECT_FALSE(wire::peek_page(R"({"rows":[],"next":1,"more":false})"));  // no writers, no head
  EXPECT_FALSE(wire::peek_page(R"({"next":"1","more":false})"));
  EXPECT_FALSE(wire::peek_page(R"({"next":1,"more":maybe})"));
  EXPECT_FALSE(wire::peek_page(""));
  EXPECT_FALSE(wire::peek_page("{"));
  EXPECT_FALSE(wire::peek_page("[]"));
}

TEST(Wire, PeekPageFindsTheCursorPastAnUnknownMember) {
  // The case fuzzing found: an unknown member between "more" and "cursor".
  const std::string body = page("", R"("next":4,"more":true,"hint":0,"cursor":"4.1.61")");
  auto parsed = must(wire::parse_pull(body, testing::report_schema()));
  EXPECT_EQ(parsed.cursor, "4.1.61");
  auto lead = wire::peek_page(body);
  ASSERT_TRUE(lead);
  EXPECT_EQ(lead->cursor, "4.1.61");
  EXPECT_EQ(lead->next, 4u);
  EXPECT_TRUE(lead->more);
}

// peek_page and parse_pull fed the same pages: the lead members in every order (before, between
// and after the rows, writers and head), unknown members of every JSON type between them,
// nested objects and arrays whose strings hold quotes, brackets and braces, escaped keys and
// cursors, duplicate keys, whitespace. Whenever parse_pull reads a page the lead must be there
// and say the same; when parse_pull refuses one, the lead must not promise one either.
TEST(Wire, PeekPageAgreesWithParsePullOnEveryMemberOrder) {
  const Schema schema = testing::report_schema();
  const std::string row =
      R"({"v":5,"t":"progress_report","id":"r\"}]1","r":1000,"w":1,"c":[["i",0],["t","a \"{[\" b } ] \\"],["r",42],null,null,null,null,null],)"
      R"("x":[[3,0,1,["t","}\"]"]]]})";
  const std::vector<std::string> unknown = {
      R"("u_null":null)", R"("u_true":true)", R"("u_false":false)", R"("u_int":-17)", R"("u_real":1.5e-3)",
      R"("u_big":-9223372036854775808)", R"("u_huge":1.7976931348623157e308)", R"("u_str":"a \"quoted\" {brace} [bracket] \\ \u0022 ,\"cursor\":\"no\"")",
      R"("u_empty_obj":{})", R"("u_empty_arr":[])",
      R"("u_obj":{"cursor":"inner","next":99,"more":false,"s":"}}]]\"{{","a":[{"b":["]\"}",{"c":null}]}]})",
      R"("u_arr":[1,"\"]",{"k":"{\"cursor\":\"x\"}"},[[[]]],true,null,-0.0])",
      R"("\u0075nknown":"escaped key")", R"("rowsx":[1])", R"("":"")"};
  struct Lead {
    std::string next, more, cursor;  // JSON text of each member's value; empty: left out
  };
  const std::vector<Lead> leads = {
      {"7", "false", ""},
      {"123", "true", R"("123.2.30313965")"},
      {"0", "true", R"("")"},
      {"18446744073709551615", "false", R"("9.0.7231")"},
      {"42", "true", R"("a\"b\\c\/d\u00e9\ud83d\ude00 \u0022}")"},  // escapes in the cursor
      {"5", "true", "null"},                                         // not a string: no cursor
      {"5", "false", "17"},
      {"5", "true", R"({"cursor":"x"})"},
  };
  const std::string tail_writers = R"(["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"])";
  const std::string tail_head = R"({"server_seq":1,"log":")" + std::string(64, '0') + R"(","sig":")" + std::string(128, '0') + "\"}";
  SeededRandom rng(17);
  size_t pages = 0, with_cursor = 0;
  for (int round = 0; round < 400; ++round) {
    const Lead& l = leads[rng.below(leads.size())];
    std::vector<std::string> members = {R"("next":)" + l.next, R"("more":)" + l.more, R"("rows":[)" + (rng.below(2) ? row : "") + "]",
                                        R"("writers":)" + tail_writers, R"("head":)" + tail_head};
    if (!l.cursor.empty()) members.push_back(R"("cursor":)" + l.cursor);
    const size_t n_unknown = rng.below(4);
    for (size_t k = 0; k < n_unknown; ++k) members.push_back(unknown[rng.below(unknown.size())]);
    // Shuffle: every order, the lead anywhere among the rest.
    for (size_t k = members.size(); k > 1; --k) std::swap(members[k - 1], members[rng.below(k)]);
    const char* spaces[] = {"", " ", "\n\t ", "\r\n"};
    std::string body = "{";
    for (size_t k = 0; k < members.size(); ++k) {
      if (k) body += std::string(",") + spaces[rng.below(4)];
      std::string m = members[k];
      if (rng.below(3) == 0) m.replace(m.find("\":") + 1, 1, std::string(spaces[rng.below(4)]) + ":" + spaces[rng.below(4)]);
      body += m;
    }
    body += std::string(spaces[rng.below(4)]) + "}" + spaces[rng.below(4)];
    auto parsed = wire::parse_pull(body, schema);
    ASSERT_TRUE(parsed.ok()) << parsed.status().to_string() << "\n" << body;
    auto lead = wire::peek_page(body);
    ASSERT_TRUE(lead) << body;
    EXPECT_EQ(lead->next, parsed->next) << body;
    EXPECT_EQ(lead->more, parsed->more) << body;
    EXPECT_EQ(lead->cursor, parsed->cursor) << body;
    ++pages;
    with_cursor += !parsed->cursor.empty();
  }
  EXPECT_EQ(pages, 400u);
  EXPECT_GT(with_cursor, 100u);

  // Hand-picked bodies, valid or not, each damaged (if at all) in its lead or its shape: when
  // parse_pull reads one they agree; when it refuses one the lead is not there either. (Damage
  // deep in the rows, which only a full parse sees, is for parse_pull to refuse: the lead reader
  // does not validate what it skips.)
  const std::string w = R"("writers":)" + tail_writers + R"(,"head":)" + tail_head;
  const std::vector<std::string> odd = {
      "{" + w + R"(,"rows":[],"next":1,"more":true,"hint":{"a":"}"},"cursor":"c1"})",
      "{" + w + R"(,"rows":[],"next":1,"more":true,"cursor":"first","cursor":"second"})",  // the first counts
      "{" + w + R"(,"rows":[],"next":1,"more":true,"next":2,"more":false})",
      "{" + w + R"(,"rows":[],"next":1,"more":true,"cur\u0073or":"escaped key"})",
      "{" + w + R"(,"rows":[],"n\u0065xt":3,"more":true})",
      "{" + w + R"(,"rows":[],"next":-0,"more":true})",
      "{" + w + R"(,"rows":[],"next":-1,"more":true})",
      "{" + w + R"(,"rows":[],"next":1.0,"more":true})",
      "{" + w + R"(,"rows":[],"next":1e2,"more":true})",
      "{" + w + R"(,"rows":[],"next":01,"more":true})",
      "{" + w + R"(,"rows":[],"next":18446744073709551616,"more":true})",
      "{" + w + R"(,"rows":[],"next":1,"more":"true"})",
      "{" + w + R"(,"rows":[],"next":1,"more":true,"cursor":"bad \x01 control"})",
      "{" + w + R"(,"rows":[],"next":1,"more":true,"cursor":"bad \q escape"})",
      "{" + w + R"(,"rows":[],"next":1,"more":true,"cursor":"lone \ud800 surrogate"})",
      "{" + w + R"(,"rows":{},"next":1,"more":true})",
      "{" + w + R"(,"rows":[],"next":1,"more":true,"rows":{}})",
      "{" + w + R"(,"rows":[],"next":1,"more":true} trailing)",
      "{" + w + R"(,"rows":[],"next":1,"more":true,})",
      "{" + w + R"(,"rows":[],"next":1,"more":true,"x":[1,2})",
      "{" + w + R"(,"rows":[],"next":1,"more":true,"x":"unterminated})",
      "{" + w + R"(,"rows":[],"next":1 "more":true})",
      R"({"next":1,"more":true,"cursor":"c","rows":[]})",
  };
  for (const std::string& body : odd) {
    auto parsed = wire::parse_pull(body, schema);
    auto lead = wire::peek_page(body);
    if (!parsed.ok()) {
      EXPECT_FALSE(lead) << "the lead promises a page parse_pull refuses: " << body;
      continue;
    }
    ASSERT_TRUE(lead) << body;
    EXPECT_EQ(lead->next, parsed->next) << body;
    EXPECT_EQ(lead->more, parsed->more) << body;
    EXPECT_EQ(lead->cursor, parsed->cursor) << body;
  }
  // Every prefix of a page (a body cut short): never a lead parse_pull would not give.
  const std::string full = page(row, R"("next":8,"more":true,"cursor":"8.1.ab")");
  for (size_t n = 0; n < full.size(); ++n) {
    const std::string cut = full.substr(0, n);
    auto lead = wire::peek_page(cut);
    if (lead) {
      EXPECT_TRUE(wire::parse_pull(cut, schema).ok()) << cut;
    }
  }
}

TEST(Json, WriterPlacesCommasAndNestsValues) {
  json::Writer w;
  w.begin_object().key("a").number(int64_t{-1}).key("b").begin_array().number(uint64_t{2}).string("x\"y").null();
  w.boolean(true).begin_object().end_object().begin_array().end_array().end_array();
  w.key("c").value(Value{int64_t{5}}).key("d").raw(R"({"k":1})").key("e").hex(std::vector<uint8_t>{0xab, 0x01});
  w.end_object();
  EXPECT_EQ(w.str(), R"({"a":-1,"b":[2,"x\"y",null,true,{},[]],"c":["i",5],"d":{"k":1},"e":"ab01"})");
}

DeviceKey server_key() {
  std::array<uint8_t, 32> seed{};
  seed[0] = 7;
  return DeviceKey::from_seed(seed);
}

TEST(WireRoundTrip, HeadIsWrittenSignedAndVerifies) {
  const DeviceKey key = server_key();
  const Hash log = blake2b_256("log");
  const wire::Head head = wire::sign_head(42, log, key);
  EXPECT_TRUE(wire::verify_head(head, key.public_key()));
  EXPECT_EQ(wire::write_head(head), "{\"server_seq\":42,\"log\":\"" + to_hex(log) + "\",\"sig\":\"" + to_hex(head.sig) + "\"}");
  wire::Head forged = head;
  forged.server_seq = 43;
  EXPECT_FALSE(wire::verify_head(forged, key.public_key()));
}

TEST(WireRoundTrip, ReceiptsReadBackAsWritten) {
  const DeviceKey key = server_key();
  for (bool accepted : {true, false}) {
    wire::Receipt r;
    r.server_seq = 9;
    r.id = blake2b_256("cs");
    r.device = blake2b_256("device");
    r.seq = 3;
    r.accepted = accepted;
    r.code = accepted ? "" : "forbidden_scope";
    r.received_at_ms = 1767225600123;
    r.clock_ahead = !accepted;
    r.log = blake2b_256("log");
    r.server = key.public_key();
    const std::string body = wire::receipt_body(r);
    const std::string sig = to_hex(key.sign(body));
    EXPECT_EQ(wire::write_receipt(r, key), "{\"body\":" + json::quote(body) + ",\"sig\":\"" + sig + "\"}");
    auto back = must(wire::verify_receipt(body, sig, key.public_key()));
    EXPECT_EQ(back.body, body);
    EXPECT_EQ(back.server, key.public_key());
    EXPECT_EQ(back.server_seq, r.server_seq);
    EXPECT_EQ(back.id, r.id);
    EXPECT_EQ(back.device, r.device);
    EXPECT_EQ(back.seq, r.seq);
    EXPECT_EQ(back.accepted, r.accepted);
    EXPECT_EQ(back.code, r.code);
    EXPECT_EQ(back.received_at_ms, r.received_at_ms);
    EXPECT_EQ(back.clock_ahead, r.clock_ahead);
    EXPECT_EQ(back.log, r.log);
  }
  // The body's exact text, as devices have signed receipts verified since protocol v1.
  wire::Receipt r;
  r.server_seq = 1;
  r.seq = 2;
  r.accepted = true;
  r.received_at_ms = 5;
  r.server = key.public_key();
  const std::string z(64, '0');
  EXPECT_EQ(wire::receipt_body(r), "{\"v\":1,\"server\":\"" + to_hex(key.public_key()) + "\",\"server_seq\":1,\"id\":\"" + z +
                                       "\",\"device\":\"" + z + "\",\"seq\":2,\"status\":\"accepted\",\"received_at_ms\":5,"
                                       "\"clock_ahead\":false,\"log\":\"" + z + "\"}");
}

void expect_same_image(const RowImage& a, const RowImage& b) {
  ASSERT_EQ(a.cells.size(), b.cells.size());
  for (size_t k = 0; k < a.cells.size(); ++k) {
    EXPECT_EQ(a.cells[k].value, b.cells[k].value) << k;
    EXPECT_EQ(a.cells[k].rank, b.cells[k].rank) << k;
    EXPECT_EQ(a.cells[k].writer, b.cells[k].writer) << k;
  }
}

TEST(WireRoundTrip, PagesReadBackAsWrittenWithTheirLead) {
  const Schema schema = testing::report_schema();
  const DeviceKey key = server_key();
  const Hash w0 = *from_hex<32>(kW0), w1 = *from_hex<32>(kW1);
  RowImage a;  // every cell by the row's writer, a cleared one, unwritten ones
  a.cells.resize(8);
  a.cells[0] = CellImage{Value{int64_t{0}}, 1000, w0};
  a.cells[1] = CellImage{text("03808 \"Mường La\""), 1000, w0};
  a.cells[2] = CellImage{Value{1.5}, 1000, w0};
  a.cells[3] = CellImage{Value{}, 1000, w0};
  a.cells[5] = CellImage{Value{true}, 1000, w0};
  a.cells[6] = CellImage{Value{*Date::parse("2026-06-05")}, 1000, w0};
  a.cells[7] = CellImage{Value{AttachmentRef{blake2b_256("photo")}}, 1000, w0};
  RowImage b = a;  // a cell of another writer and rank, and a conflict
  b.cells[4] = CellImage{Value{int64_t{3}}, 2000, w1};
  const ConflictRecord conflict{"progress_report", "r2", 4, w1, w0, Value{int64_t{2}}};
  RowImage empty;  // a deleted row's image: no cell written
  empty.cells.resize(8);
  const wire::Head head = wire::sign_head(17, blake2b_256("log"), key);

  for (const std::optional<std::string>& cursor : {std::optional<std::string>{}, std::optional<std::string>{"9.0.7231"}, std::optional<std::string>{""}}) {
    wire::PageWriter w;
    w.add(7, "progress_report", "r1", a);
    w.add(8, "progress_report", "r2", b, std::span(&conflict, 1));
    w.add(9, "progress_report", "r3", empty);
    EXPECT_EQ(w.rows(), 3u);
    const std::string body = w.finish(9, cursor.has_value(), cursor, head);
    auto p = must(wire::parse_pull(body, schema));
    EXPECT_EQ(p.next, 9u);
    EXPECT_EQ(p.more, cursor.has_value());
    EXPECT_EQ(p.cursor, cursor.value_or(""));
    EXPECT_EQ(p.head.server_seq, 17u);
    EXPECT_EQ(p.head.log, head.log);
    EXPECT_EQ(p.head.sig, head.sig);
    EXPECT_TRUE(wire::verify_head(p.head, key.public_key()));
    ASSERT_EQ(p.rows.size(), 3u);
    EXPECT_EQ(p.rows[0].version, 7u);
    EXPECT_EQ(p.rows[0].table, "progress_report");
    EXPECT_EQ(p.rows[0].id, "r1");
    expect_same_image(p.rows[0].image, a);
    expect_same_image(p.rows[1].image, b);
    expect_same_image(p.rows[2].image, empty);
    EXPECT_TRUE(p.rows[0].conflicts.empty());
    ASSERT_EQ(p.rows[1].conflicts.size(), 1u);
    const ConflictRecord& c = p.rows[1].conflicts[0];
    EXPECT_EQ(c.table, conflict.table);
    EXPECT_EQ(c.row, conflict.row);
    EXPECT_EQ(c.field, conflict.field);
    EXPECT_EQ(c.winner, conflict.winner);
    EXPECT_EQ(c.loser, conflict.loser);
    EXPECT_EQ(c.loser_value, conflict.loser_value);
    // The lead, peeked without parsing, says what the parse says.
    auto lead = wire::peek_page(body);
    ASSERT_TRUE(lead);
    EXPECT_EQ(lead->next, p.next);
    EXPECT_EQ(lead->more, p.more);
    EXPECT_EQ(lead->cursor, p.cursor);
  }
  // The exact text of a small pull page, as tram-server has written it since compact cells.
  wire::PageWriter w;
  RowImage small;
  small.cells = {CellImage{Value{int64_t{0}}, 5, w0}, CellImage{text("x"), 6, w1}};
  w.add(3, "t", "id", small);
  EXPECT_EQ(w.finish(3, false, std::nullopt, head),
            R"({"next":3,"more":false,"rows":[{"v":3,"t":"t","id":"id","r":5,"w":0,"c":[["i",0],[["t","x"],6,1]]}],"writers":[")" +
                kW0 + R"(",")" + kW1 + R"("],"head":)" + wire::write_head(head) + "}");
}

TEST(WireRoundTrip, PushBodiesReadBackAsWritten) {
  std::vector<SignedChangeSet> sent;
  for (int i = 0; i < 3; ++i) {
    SignedChangeSet cs;
    cs.bytes = "{\"change set\":" + std::to_string(i) + std::string(static_cast<size_t>(i), '\0') + "}";
    cs.sig = server_key().sign(cs.bytes);
    sent.push_back(cs);
  }
  const std::string body = wire::write_push_body(sent);
  EXPECT_TRUE(body.starts_with(R"({"changesets":[{"cs":")"));
  auto items = must(wire::read_push_body(body, 500));
  ASSERT_EQ(items.size(), sent.size());
  for (size_t k = 0; k < sent.size(); ++k) {
    ASSERT_TRUE(items[k].cs) << items[k].message;
    EXPECT_EQ(items[k].cs->bytes, sent[k].bytes);
    EXPECT_EQ(items[k].cs->sig, sent[k].sig);
  }
  EXPECT_EQ(wire::write_push_body(std::vector<SignedChangeSet>{}), R"({"changesets":[]})");
  EXPECT_TRUE(must(wire::read_push_body(R"({"changesets":[]})", 0)).empty());
  // Too many, not JSON, not the object: the whole body is refused; a bad item only itself.
  EXPECT_EQ(wire::read_push_body(body, 2).code(), Errc::too_large);
  EXPECT_EQ(wire::read_push_body("{", 500).code(), Errc::malformed_json);
  EXPECT_EQ(wire::read_push_body(R"({"items":[]})", 500).code(), Errc::malformed_json);
  auto mixed = must(wire::read_push_body(R"({"changesets":[{"cs":"e30=","sig":"00"},{"cs":1},{"cs":"e30=","sig":")" +
                                             std::string(128, '0') + R"("}]})", 500));
  ASSERT_EQ(mixed.size(), 3u);
  EXPECT_FALSE(mixed[0].cs);
  EXPECT_FALSE(mixed[1].cs);
  EXPECT_FALSE(mixed[1].message.empty());
  ASSERT_TRUE(mixed[2].cs);
  EXPECT_EQ(mixed[2].cs->bytes, "{}");
}

// protocol.md §7.1: "csj" carries the same bytes as a JSON string; exactly one of cs and csj.
TEST(WireRoundTrip, PushItemsAsJsonStringsReadBackAsTheSameBytes) {
  SignedChangeSet cs;
  cs.bytes = "{\"v\":1,\"author\":\"Lò Văn Minh \\\"a\\\"\",\"ctl\":\"" + std::string(1, '\0') + "\"}";
  cs.sig = server_key().sign(cs.bytes);
  std::string body = R"({"changesets":[{"csj":)";
  json::append_string(body, cs.bytes);
  body += R"(,"sig":")" + to_hex(cs.sig) + R"("}]})";
  auto items = must(wire::read_push_body(body, 500));
  ASSERT_EQ(items.size(), 1u);
  ASSERT_TRUE(items[0].cs) << items[0].message;
  EXPECT_EQ(items[0].cs->bytes, cs.bytes);
  EXPECT_EQ(items[0].cs->sig, cs.sig);
  EXPECT_EQ(items[0].cs->bytes, must(wire::read_push_body(wire::write_push_body(std::vector<SignedChangeSet>{cs}), 500))[0].cs->bytes);
  const std::string sig = R"("sig":")" + to_hex(cs.sig) + R"(")";
  auto bad = must(wire::read_push_body(R"({"changesets":[{"cs":"e30=","csj":"{}",)" + sig + R"(},{)" + sig +
                                           R"(},{"csj":7,)" + sig + R"(},{"csj":"{}",)" + sig + "}]}", 500));
  ASSERT_EQ(bad.size(), 4u);
  EXPECT_FALSE(bad[0].cs);  // both
  EXPECT_FALSE(bad[1].cs);  // neither
  EXPECT_FALSE(bad[2].cs);  // not a string
  EXPECT_NE(bad[0].message.find("csj"), std::string::npos);
  ASSERT_TRUE(bad[3].cs);
  EXPECT_EQ(bad[3].cs->bytes, "{}");
}

TEST(WireRoundTrip, RowImagesReadBackAsWritten) {
  const Hash w0 = *from_hex<32>(kW0);
  RowImage img;
  img.cells = {CellImage{Value{int64_t{0}}, 5, w0}, CellImage{}, CellImage{text("ạ\n"), -3, w0}, CellImage{Value{}, 1, w0}};
  expect_same_image(must(wire::row_image_from_json(wire::row_image_to_json(img))), img);
}

TEST(Json, StringsEscapeExactlyWhatJsonRequires) {
  EXPECT_EQ(json::quote("a\"b\\c\nd\re\tf\x01g\x1f Đã"), "\"a\\\"b\\\\c\\nd\\re\\tf\\u0001g\\u001f Đã\"");
  EXPECT_EQ(json::quote(""), "\"\"");
  EXPECT_EQ(json::quote("\""), "\"\\\"\"");
  EXPECT_EQ(json::quote("Mường La"), "\"Mường La\"");
}

TEST(Gzip, EveryMemberOfAMultiMemberBodyIsInflated) {
  const std::string a(1000, 'a'), b = "và tiếp theo";
  EXPECT_EQ(gzip_decompress(gzip_compress(a, 1) + gzip_compress(b, 1), 1 << 20), a + b);
  // Trailing bytes that are not a gzip member are an error, not dropped.
  EXPECT_FALSE(gzip_decompress(gzip_compress(a, 1) + "garbage after the member", 1 << 20));
}

TEST(Gzip, RoundTripsAndRefusesBombsAndLies) {
  std::string text_in;
  for (int i = 0; i < 20000; ++i) text_in += "Trạm y tế có 2 bác sĩ " + std::to_string(i) + "\n";
  for (int level : {1, 6, 9}) {
    const std::string packed = gzip_compress(text_in, level);
    EXPECT_LT(packed.size() * 4, text_in.size());
    EXPECT_EQ(gzip_decompress(packed, 64 << 20), text_in) << level;
  }
  const std::string packed = gzip_compress(text_in, 1);
  // Bounded: more than max_out bytes is refused, not allocated.
  EXPECT_FALSE(gzip_decompress(packed, text_in.size() - 1));
  EXPECT_FALSE(gzip_decompress(gzip_compress(std::string(32 << 20, '\0')), 1 << 20));
  // A trailer that lies about the size: still inflated exactly, still bounded.
  std::string lying = packed;
  lying[lying.size() - 4] = 1;
  lying[lying.size() - 3] = lying[lying.size() - 2] = lying[lying.size() - 1] = 0;
  EXPECT_FALSE(gzip_decompress(lying, 64 << 20));  // the gzip check fails: not silently accepted
  // Not gzip, truncated, empty.
  EXPECT_FALSE(gzip_decompress("{\"changesets\":[]}", 1 << 20));
  EXPECT_FALSE(gzip_decompress(packed.substr(0, packed.size() / 2), 64 << 20));
  EXPECT_FALSE(gzip_decompress("", 1 << 20));
  EXPECT_EQ(gzip_decompress(gzip_compress(""), 1 << 20), "");
  // A header CRC (FHCRC) is checked, whichever inflater reads the body: an empty member whose
  // header says CRC16 0xff00 is refused (found by fuzz/gzip_fuzz: libdeflate skipped the check),
  // and the same member with its true CRC16 is read.
  std::string header("\x1f\x8b\x08\x02\xf4\0\0\0\0\0", 10);
  const std::string rest("\x01\0\0\xff\xff\0\0\0\0\0\0\0\0", 13);  // stored empty block, CRC32 0, size 0
  EXPECT_FALSE(gzip_decompress(header + std::string("\0\xff", 2) + rest, 1 << 20));
  uint32_t crc = 0xffffffffu;  // CRC-32 (RFC 1952 §8) of the header, bitwise
  for (unsigned char c : header) {
    crc ^= c;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
  }
  crc ^= 0xffffffffu;
  const char crc16[2] = {static_cast<char>(crc & 0xff), static_cast<char>((crc >> 8) & 0xff)};
  EXPECT_EQ(gzip_decompress(header + std::string(crc16, 2) + rest, 1 << 20), "");
}

// Ranks equal to the liveness cell's are stored compactly; images read back exactly, including
// a field with its own rank and writer. Scans return rows in id order, resumably.
TEST(StoreImages, CompactRanksReadBackExactlyAndScansGoInIdOrder) {
  auto store = must(Store::open(":memory:", testing::report_schema()));
  const Hash w0 = *from_hex<32>(kW0), w1 = *from_hex<32>(kW1);
  RowImage img;
  img.cells.resize(8);
  img.cells[0] = CellImage{Value{int64_t{0}}, 5000, w0};
  img.cells[1] = CellImage{text("03808"), 5000, w0};
  img.cells[2] = CellImage{Value{1.5}, 7000, w1};    // its own rank and writer
  img.cells[3] = CellImage{Value{}, 5000, w0};       // cleared by the row's writer
  img.cells[4] = CellImage{Value{int64_t{3}}, 0, w1};  // a rank of 0 is a rank like any other
  for (const char* id : {"c", "a", "b"}) ASSERT_TRUE(store->put_row_image("progress_report", id, img).ok());
  auto back = must(store->row_image("progress_report", "a"));
  ASSERT_TRUE(back);
  ASSERT_EQ(back->cells.size(), img.cells.size());
  for (size_t k = 0; k < img.cells.size(); ++k) {
    EXPECT_EQ(back->cells[k].value, img.cells[k].value) << k;
    EXPECT_EQ(back->cells[k].rank, img.cells[k].rank) << k;
    EXPECT_EQ(back->cells[k].writer, img.cells[k].writer) << k;
  }
  std::vector<std::string> ids;
  auto visit = [&](std::string_view id, RowImage&& image) -> Status {
    ids.emplace_back(id);
    EXPECT_EQ(image.cells[2].rank, 7000);
    return {};
  };
  EXPECT_EQ(must(store->scan_images("progress_report", "", 2, visit)), 2u);
  EXPECT_EQ(must(store->scan_images("progress_report", ids.back(), 2, visit)), 1u);
  EXPECT_EQ(ids, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_FALSE(store->scan_images("no_such_table", "", 1, visit).ok());
}

}  // namespace
}  // namespace tram
