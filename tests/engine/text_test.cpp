#include "tram/engine/text.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace tram
