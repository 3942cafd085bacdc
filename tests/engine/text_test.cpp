#include "tram/engine/text.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <vector>

#include "tram/engine/value.hpp"

namespace tram {
namespace {

// "Mường La" precomposed (NFC) and decomposed (NFD: u and o with combining horn, combining grave).
const std::string kNfc = "M\xc6\xb0\xe1\xbb\x9dng La";
const std::string kNfd = "Mu\xcc\x9bo\xcc\x9b\xcc\x80ng La";

TEST(Text, NfdBecomesNfc) {
  auto r = to_nfc(kNfd);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, kNfc);
  EXPECT_TRUE(is_nfc(kNfc));
  EXPECT_FALSE(is_nfc(kNfd));
  auto v = make_text(kNfd);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(std::get<Text>(*v).s, kNfc);
}

TEST(Text, InvalidUtf8IsRefused) {
  EXPECT_FALSE(is_valid_utf8("abc\xff"));
  EXPECT_FALSE(is_valid_utf8("\xc3"));          // truncated sequence
  EXPECT_FALSE(is_valid_utf8("\xed\xa0\x80"));  // UTF-16 surrogate
  EXPECT_TRUE(is_valid_utf8(kNfc));
  EXPECT_EQ(to_nfc("abc\xff").code(), Errc::invalid_utf8);
}

TEST(Text, DatesParseOnlyRealDays) {
  EXPECT_EQ(Date::parse("2026-06-05")->to_string(), "2026-06-05");
  EXPECT_EQ(Date::parse("1970-01-01")->days, 0);
  EXPECT_FALSE(Date::parse("2026-02-30"));
  EXPECT_FALSE(Date::parse("2026-6-5"));
  EXPECT_FALSE(Date::parse("2026-13-01"));
  EXPECT_TRUE(Date::parse("2028-02-29"));
}


TEST(VietnameseText, NfcNfdAndTonePlacementMatch) {
  EXPECT_EQ(vi_match_key(kNfc), vi_match_key(kNfd));
  EXPECT_EQ(vi_match_key("Hoà Bình"), vi_match_key("Hòa Bình"));  // old and new tone placement
  EXPECT_EQ(vi_match_key("THUỶ"), vi_match_key("thủy"));
  EXPECT_EQ(vi_match_key("Chiềng Cơi"), vi_match_key("chiềng cơi"));
  EXPECT_NE(vi_match_key("Chiềng Cơi"), vi_match_key("Chiềng Coi"));  // a different letter stays different
  EXPECT_NE(vi_match_key("Mường La"), vi_match_key("Mương La"));      // and so does a different tone
  EXPECT_EQ(vi_match_key("03670"), "03670");
}

TEST(VietnameseText, SearchFoldsDiacriticsAndDStroke) {
  EXPECT_EQ(vi_search_fold("Chiềng Cơi"), "chieng coi");
  EXPECT_EQ(vi_search_fold("Đoàn Kết"), "doan ket");
  EXPECT_EQ(vi_search_fold(kNfd), "muong la");
  EXPECT_EQ(vi_search_fold("Hoà"), vi_search_fold("hòa"));
}

TEST(VietnameseText, SortsUnitNamesInVietnameseOrder) {
  std::ifstream in(std::string(TRAM_SCHEMAS_DIR) + "/sonla-2026/seed/sonla-units-2025.csv");
  ASSERT_TRUE(in);
  std::vector<std::string> names;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    const size_t a = line.find(','), b = line.rfind(',');
    names.push_back(line.substr(a + 1, b - a - 1));
  }
  ASSERT_EQ(names.size(), 75u);
  auto vi_sorted = names;
  std::sort(vi_sorted.begin(), vi_sorted.end(), [](const auto& x, const auto& y) { return vi_compare(x, y) < 0; });
  auto byte_sorted = names;
  std::sort(byte_sorted.begin(), byte_sorted.end());
  EXPECT_NE(vi_sorted, byte_sorted);
  auto pos = [&](const char* n) { return std::find(vi_sorted.begin(), vi_sorted.end(), n) - vi_sorted.begin(); };
  EXPECT_LT(pos("Bắc Yên"), pos("Bình Thuận"));      // a < ă < â < b … i
  EXPECT_LT(pos("Chiềng Hặc"), pos("Chiềng Hoa"));   // ă before o
  EXPECT_LT(pos("Co Mạ"), pos("Đoàn Kết"));          // d < đ < e …
  EXPECT_LT(pos("Đoàn Kết"), pos("Gia Phù"));        // đ before g (bytes put it last)
  EXPECT_LT(pos("Mộc Châu"), pos("Mường Bang"));     // ô before ư
  EXPECT_LT(pos("Sông Mã"), pos("Sốp Cộp"));         // tones come after letters
  EXPECT_EQ(vi_sorted.back(), "Yên Sơn");
  EXPECT_EQ(vi_compare("Hoà", "Hoà"), 0);
}

}  // namespace
}  // namespace tram
