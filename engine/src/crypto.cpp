#include "tram/engine/crypto.hpp"

#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <utility>

namespace tram {

void crypto_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) std::abort();  // no usable randomness: nothing is safe
  });
}

Hash blake2b_256(std::string_view bytes) {
  crypto_init();
  Hash h;
  crypto_generichash(h.data(), h.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                     bytes.size(), nullptr, 0);
  return h;
}

std::string to_hex(std::span<const uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '\0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 0xf];
  }
  return out;
}

namespace {
int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

template <size_t N>
std::optional<std::array<uint8_t, N>> from_hex(std::string_view hex) {
  if (hex.size() != 2 * N) return std::nullopt;
  std::array<uint8_t, N> out{};
  for (size_t i = 0; i < N; ++i) {
    const int hi = hex_digit(hex[2 * i]);
    const int lo = hex_digit(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return out;
}
template std::optional<std::array<uint8_t, 32>> from_hex<32>(std::string_view);
template std::optional<std::array<uint8_t, 64>> from_hex<64>(std::string_view);
template std::optional<std::array<uint8_t, 8>> from_hex<8>(std::string_view);

namespace {
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
}  // namespace

std::string to_base64(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 16 |
                       static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8 | static_cast<uint8_t>(bytes[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out.push_back(kBase64[n >> k & 63]);
  }
  if (i < bytes.size()) {
    uint32_t n = static_cast<uint32_t>(static_cast<uint8_t>(bytes[i])) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[i + 1])) << 8;
    out.push_back(kBase64[n >> 18 & 63]);
    out.push_back(kBase64[n >> 12 & 63]);
    out.push_back(i + 1 < bytes.size() ? kBase64[n >> 6 & 63] : '=');
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> from_base64(std::string_view b64) {
  static const auto table = [] {
    std::array<int8_t, 256> t{};
    t.fill(-1);
    for (int i = 0; i < 64; ++i) t[static_cast<unsigned char>(kBase64[i])] = static_cast<int8_t>(i);
    return t;
  }();
  if (b64.size() % 4 != 0) return std::nullopt;
  size_t pad = 0;
  if (!b64.empty() && b64.back() == '=') ++pad;
  if (b64.size() > 1 && b64[b64.size() - 2] == '=') ++pad;
  std::string out;
  out.resize(b64.size() / 4 * 3);
  size_t o = 0;
  for (size_t i = 0; i < b64.size(); i += 4) {
    int v[4];
    for (int k = 0; k < 4; ++k) {
      const char c = b64[i + static_cast<size_t>(k)];
      const bool padding = c == '=' && i + 4 == b64.size() && static_cast<size_t>(k) >= 4 - pad;
      v[k] = padding ? 0 : table[static_cast<unsigned char>(c)];
      if (v[k] < 0) return std::nullopt;
    }
    const uint32_t n = static_cast<uint32_t>(v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
    out[o++] = static_cast<char>(n >> 16);
    out[o++] = static_cast<char>(n >> 8 & 0xff);
    out[o++] = static_cast<char>(n & 0xff);
  }
  out.resize(o - pad);
  return out;
}

bool verify_signature(const PublicKey& key, std::string_view message, const Signature& sig) {
  crypto_init();
  return crypto_sign_verify_detached(sig.data(), reinterpret_cast<const unsigned char*>(message.data()),
                                     message.size(), key.data()) == 0;
}

DeviceKey DeviceKey::generate(RandomSource& random) {
  std::array<uint8_t, 32> seed;
  random.fill(std::as_writable_bytes(std::span(seed)));
  DeviceKey key = from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  return key;
}

DeviceKey DeviceKey::from_seed(std::span<const uint8_t, 32> seed) {
  crypto_init();
  DeviceKey key;
  key.secret_ = static_cast<uint8_t*>(sodium_malloc(crypto_sign_SECRETKEYBYTES));
  if (key.secret_ == nullptr) std::abort();
  crypto_sign_seed_keypair(key.public_.data(), key.secret_, seed.data());
  return key;
}

DeviceKey::DeviceKey(DeviceKey&& other) noexcept
    : secret_(std::exchange(other.secret_, nullptr)), public_(other.public_) {}

DeviceKey& DeviceKey::operator=(DeviceKey&& other) noexcept {
  if (this != &other) {
    if (secret_ != nullptr) sodium_free(secret_);  // sodium_free wipes before freeing
    secret_ = std::exchange(other.secret_, nullptr);
    public_ = other.public_;
  }
  return *this;
}

DeviceKey::~DeviceKey() {
  if (secret_ != nullptr) sodium_free(secret_);
}

Signature DeviceKey::sign(std::string_view message) const {
  Signature sig;
  crypto_sign_detached(sig.data(), nullptr, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size(), secret_);
  return sig;
}

void DeviceKey::export_seed(std::span<uint8_t, 32> out) const {
  crypto_sign_ed25519_sk_to_seed(out.data(), secret_);
}

}  // namespace tram
