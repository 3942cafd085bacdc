// gzip bodies (requests to the server, responses to devices): gzip_decompress must never crash,
// never return more than its bound (a zip bomb is refused), and agree with zlib inflating the same
// members one after another (libdeflate's whole-buffer path and the zlib stream path must not read
// one body two ways). And compressing the input, at any level, decompresses back to it.
#include "common.hpp"

#include <zlib.h>

#include "tram/engine/gzip.hpp"

namespace {

// Every gzip member in turn, with zlib alone; nullopt on anything else (trailing bytes included).
std::optional<std::string> zlib_inflate(std::string_view in, size_t max_out) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return std::nullopt;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  std::string out;
  int rc = Z_OK;
  char buf[16384];
  for (int rounds = 0; rounds < 1'000'000; ++rounds) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out.append(buf, sizeof buf - zs.avail_out);
    if (out.size() > max_out) {
      rc = Z_MEM_ERROR;
      break;
    }
    if (rc == Z_STREAM_END) {
      if (zs.avail_in == 0) break;
      if (inflateReset(&zs) != Z_OK) break;
    } else if (zs.avail_in == 0 && zs.avail_out != 0) {
      break;  // truncated: zlib wants more input than there is
    }
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || zs.avail_in != 0) return std::nullopt;
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tram;
  if (size > fuzz::kMaxInput) return -1;
  const std::string_view in = fuzz::as_text(data, size);
  constexpr size_t kMaxOut = 1 << 20;
  const auto out = gzip_decompress(in, kMaxOut);
  const auto ref = zlib_inflate(in, kMaxOut);
  FUZZ_CHECK(out.has_value() == ref.has_value());
  if (out) FUZZ_CHECK(out->size() <= kMaxOut && *out == *ref);
  const int level = size ? 1 + data[0] % 12 : 6;
  const std::string packed = gzip_compress(in, level);
  const auto back = gzip_decompress(packed, size);
  FUZZ_CHECK(back.has_value() && *back == in);
  return 0;
}
