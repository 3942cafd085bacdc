// Row images as a device stores them (wire::row_image_from_json) and single values in the
// change-set encoding (wire::parse_value), with their writers: what is read must write back to
// text that reads to the same image or value, and writing is a fixed point. Dates too: a date
// Date::parse accepts is written back as exactly the same ten characters.
#include "common.hpp"

#include "tram/engine/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tram;
  if (size > fuzz::kMaxInput) return -1;
  const std::string_view text = fuzz::as_text(data, size);
  if (auto image = wire::row_image_from_json(text); image.ok()) {
    const std::string json = wire::row_image_to_json(*image);
    auto back = wire::row_image_from_json(json);
    FUZZ_CHECK(back.ok() && fuzz::same_image(*back, *image));
    FUZZ_CHECK(wire::row_image_to_json(*back) == json);
  }
  if (auto v = wire::parse_value(text); v.ok()) {
    std::string json;
    json::append_value(json, *v);
    auto back = wire::parse_value(json);
    FUZZ_CHECK(back.ok() && fuzz::same_value(*back, *v));
  }
  if (auto d = Date::parse(text)) {
    FUZZ_CHECK(d->to_string() == text);
    FUZZ_CHECK(Date::parse(d->to_string()) == d);
  }
  return 0;
}
