#include "tram/engine/text.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
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

// The days from 0001-01-01 to 9999-12-31 are written as they are read (ISO 8601, four-digit year),
// checked against the calendar itself; a day count outside those years still prints its year.
TEST(Text, EveryDayIsWrittenAsItIsRead) {
  const int32_t first = Date::parse("0001-01-01")->days, last = Date::parse("9999-12-31")->days;
  int checked = 0;
  for (int32_t d = first; d <= last; d += 7) {  // a week apart: every day of every month, in turn
    const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{d}}};
    char want[16];
    std::snprintf(want, sizeof want, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()));
    const std::string got = Date{d}.to_string();
    ASSERT_EQ(got, want) << d;
    ASSERT_EQ(Date::parse(got)->days, d) << got;
    ++checked;
  }
  EXPECT_EQ(Date{last}.to_string(), "9999-12-31");
  EXPECT_EQ(Date{first}.to_string(), "0001-01-01");
  EXPECT_EQ(Date{last + 1}.to_string(), "10000-01-01");
  EXPECT_EQ(Date{first - 1}.to_string(), "0000-12-31");
  EXPECT_GT(checked, 500'000);
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
