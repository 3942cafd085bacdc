#include "responses.hpp"

#include <algorithm>

#include "tram/engine/json.hpp"

namespace tram::server {

Response error_response(int status, std::string_view code, std::string_view message) {
  Response r;
  r.status = status;
  r.error_code = code;
  json::Writer body;
  body.begin_object().key("error").begin_object().key("code").string(code).key("message").string(message);
  body.end_object().end_object();
  r.body = body.take();
  if (status == 503) r.retry_after_s = 5;  // storage trouble or overload: a moment, not at once
  return r;
}

namespace api {

std::string query_param(std::string_view target, std::string_view name) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view rest = target.substr(q + 1);
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    std::string_view kv = rest.substr(0, amp);
    const size_t eq = kv.find('=');
    if (kv.substr(0, eq) == name) return eq == std::string_view::npos ? "" : std::string(kv.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
  return {};
}

bool decimal(std::string_view x, size_t max) {
  return x.size() <= max && std::all_of(x.begin(), x.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string to_hex_string(std::string_view s) {
  return to_hex(std::span(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}

std::optional<std::string> from_hex_string(std::string_view hex) {
  if (hex.size() % 2 != 0 || hex.size() > 1024) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

void write_user_members(json::Writer& out, const UserRecord& u) {
  out.key("user").string(u.id).key("role").string(role_name(u.role)).key("units").begin_array();
  for (const std::string& unit : u.units) out.string(unit);
  out.end_array().key("all_units").boolean(u.all_units).key("name").string(u.name);
}

}  // namespace api
}  // namespace tram::server
