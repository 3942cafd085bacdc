// gzip for request and response bodies (libdeflate; zlib for streams it will not take whole): a weak 2G link pays for every byte.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tram {

// level 1..12: 1 is several times faster and costs a few percent of size; servers use it for
// responses, where CPU on a busy 2-core machine is scarcer than bytes.
std::string gzip_compress(std::string_view data, int level = 6);
// nullopt when `data` is not gzip or inflates beyond `max_out` bytes (a zip bomb is refused
// before it fills memory).
std::optional<std::string> gzip_decompress(std::string_view data, size_t max_out);

}  // namespace tram
