// Hashing and signatures (libsodium): BLAKE2b-256 identities, Ed25519 detached signatures,
// and DeviceKey, the move-only owner of a device's secret key.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "tram/engine/clock.hpp"

namespace tram {

using Hash = std::array<uint8_t, 32>;       // BLAKE2b-256
using PublicKey = std::array<uint8_t, 32>;  // Ed25519
using Signature = std::array<uint8_t, 64>;  // Ed25519 detached

// Calls sodium_init() once; safe from any thread, cheap after the first call. Every other
// function here calls it, so callers rarely need to.
void crypto_init();

Hash blake2b_256(std::string_view bytes);

// Lowercase hex.
std::string to_hex(std::span<const uint8_t> bytes);
// Parses exactly N bytes of lowercase or uppercase hex; nullopt otherwise.
template <size_t N>
std::optional<std::array<uint8_t, N>> from_hex(std::string_view hex);
extern template std::optional<std::array<uint8_t, 32>> from_hex<32>(std::string_view);
extern template std::optional<std::array<uint8_t, 64>> from_hex<64>(std::string_view);
extern template std::optional<std::array<uint8_t, 8>> from_hex<8>(std::string_view);

// Standard base64 (RFC 4648, padded), as signed change sets travel inside JSON. For public data:
// unlike libsodium's constant-time codec these branch on the input, and are several times faster.
std::string to_base64(std::string_view bytes);
std::optional<std::string> from_base64(std::string_view b64);

// Verifies an Ed25519 detached signature over exactly `message`.
bool verify_signature(const PublicKey& key, std::string_view message, const Signature& sig);

// A device's Ed25519 key pair. Move-only; the secret lives in locked memory
// (sodium_malloc) and is wiped when the key is destroyed or moved from.
class DeviceKey {
 public:
  // A fresh key from 32 random bytes of `random` (SystemRandom in production).
  static DeviceKey generate(RandomSource& random);
  // The key whose RFC 8032 secret (the 32-byte seed) is `seed`.
  static DeviceKey from_seed(std::span<const uint8_t, 32> seed);

  DeviceKey(DeviceKey&& other) noexcept;
  DeviceKey& operator=(DeviceKey&& other) noexcept;
  DeviceKey(const DeviceKey&) = delete;
  DeviceKey& operator=(const DeviceKey&) = delete;
  ~DeviceKey();

  const PublicKey& public_key() const { return public_; }
  Signature sign(std::string_view message) const;
  // Copies the 32-byte seed out, e.g. to store it encrypted. The caller wipes `out`.
  void export_seed(std::span<uint8_t, 32> out) const;

 private:
  DeviceKey() = default;
  uint8_t* secret_ = nullptr;  // 64 bytes, sodium_malloc'd
  PublicKey public_{};
};

}  // namespace tram
