// What every route of the api/ classes shares: building responses (the error envelope of
// docs/protocol.md §2 is error_response in service.hpp) and reading a request's target.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../service.hpp"
#include "tram/engine/json.hpp"

namespace tram::server::api {

inline Response error(int status, std::string_view code, std::string_view message) {
  return error_response(status, code, message);
}

inline Response ok(std::string body) {
  Response r;
  r.body = std::move(body);
  return r;
}

// A query parameter's raw value ("" when absent).
std::string query_param(std::string_view target, std::string_view name);
inline std::string_view path_of(std::string_view target) { return target.substr(0, target.find('?')); }
// At most `max` decimal digits and nothing else: a query number (empty: the parameter is absent).
bool decimal(std::string_view x, size_t max = 19);

// Bytes as lowercase hex and back (snapshot cursors); from_hex_string refuses more than 1 KiB.
std::string to_hex_string(std::string_view s);
std::optional<std::string> from_hex_string(std::string_view hex);

// Who a device acts for, as /v1/enroll and /v1/me tell it: "user","role","units","all_units".
void write_user_members(json::Writer& out, const UserRecord& u);

}  // namespace tram::server::api
