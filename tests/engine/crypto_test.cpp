// Signing wrapper against RFC 8032 section 7.1 (Ed25519 test vectors), hashing, key handling.
#include "tram/engine/crypto.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tram {
namespace {

std::string unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

struct Rfc8032Vector {
  const char* name;
  const char* secret;
  const char* public_key;
  const char* message;
  const char* signature;
};

// RFC 8032, section 7.1: TEST 1, TEST 2, TEST 3.
const Rfc8032Vector kVectors[] = {
    {"TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"TEST 3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

TEST(Crypto, Rfc8032Section71VectorsSignAndVerify) {
  for (const auto& v : kVectors) {
    SCOPED_TRACE(v.name);
    auto seed = from_hex<32>(v.secret);
    ASSERT_TRUE(seed);
    DeviceKey key = DeviceKey::from_seed(*seed);
    EXPECT_EQ(to_hex(key.public_key()), v.public_key);
    const std::string msg = unhex(v.message);
    const Signature sig = key.sign(msg);
    EXPECT_EQ(to_hex(sig), v.signature);
    EXPECT_TRUE(verify_signature(key.public_key(), msg, sig));
    Signature bad = sig;
    bad[0] ^= 1;
    EXPECT_FALSE(verify_signature(key.public_key(), msg, bad));
    EXPECT_FALSE(verify_signature(key.public_key(), msg + "x", sig));
  }
}

TEST(Crypto, Blake2b256KnownAnswer) {
  // BLAKE2b-256 of the empty string.
  EXPECT_EQ(to_hex(blake2b_256("")), "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  EXPECT_NE(blake2b_256("a"), blake2b_256("b"));
}

TEST(Crypto, HexRoundTripAndRejects) {
  auto h = from_hex<8>("00ff10AbcDef0102");
  ASSERT_TRUE(h);
  EXPECT_EQ(to_hex(*h), "00ff10abcdef0102");
  EXPECT_FALSE(from_hex<8>("00ff10abcdef010"));   // too short
  EXPECT_FALSE(from_hex<8>("00ff10abcdef01zz"));  // not hex
}

TEST(Crypto, Base64RoundTripsAndRefusesJunk) {
  EXPECT_EQ(to_base64(""), "");
  EXPECT_EQ(to_base64("f"), "Zg==");
  EXPECT_EQ(to_base64("fo"), "Zm8=");
  EXPECT_EQ(to_base64("foo"), "Zm9v");
  EXPECT_EQ(to_base64("foobar"), "Zm9vYmFy");  // RFC 4648 section 10
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n = 0; n < all.size(); n += 37) EXPECT_EQ(from_base64(to_base64(all.substr(0, n))), all.substr(0, n));
  EXPECT_FALSE(from_base64("Zm9"));    // not a multiple of 4
  EXPECT_FALSE(from_base64("Zm!v"));   // not the alphabet
  EXPECT_FALSE(from_base64("Z=9v"));   // padding in the middle
}

TEST(Crypto, DeviceKeyMovesAndExportsItsSeed) {
  SeededRandom rng(7);
  DeviceKey a = DeviceKey::generate(rng);
  const PublicKey pk = a.public_key();
  DeviceKey b = std::move(a);
  EXPECT_EQ(b.public_key(), pk);
  std::array<uint8_t, 32> seed{};
  b.export_seed(seed);
  DeviceKey c = DeviceKey::from_seed(seed);
  EXPECT_EQ(c.public_key(), pk);
  EXPECT_TRUE(verify_signature(pk, "báo cáo", c.sign("báo cáo")));
  static_assert(!std::is_copy_constructible_v<DeviceKey>);
}

}  // namespace
}  // namespace tram
