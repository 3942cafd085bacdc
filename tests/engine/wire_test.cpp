// The wire helpers a device uses on pull pages (compact cells, the page lead read ahead of the
// rows), gzip bodies, and the store's compact ranks and id-ordered scans behind snapshots.
#include "tram/engine/wire.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"
#include "tram/engine/gzip.hpp"
#include "tram/engine/json.hpp"

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
  // Another member order, or anything unexpected: no guess (the caller parses the page).
  EXPECT_FALSE(wire::peek_page(R"({"rows":[],"next":1,"more":false})"));
  EXPECT_FALSE(wire::peek_page(R"({"next":"1","more":false})"));
  EXPECT_FALSE(wire::peek_page(R"({"next":1,"more":maybe})"));
  EXPECT_FALSE(wire::peek_page(R"({"next":1,"more":true,"cursor":"a\"b"})"));
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
