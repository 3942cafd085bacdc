// Small JSON helpers shared by the encoders of change sets, receipts and protocol messages.
#pragma once

#include <string>
#include <string_view>

#include "tram/engine/value.hpp"

namespace tram::json {

// Appends `s` as a JSON string literal (quotes, backslashes and control characters escaped;
// UTF-8 passed through).
void append_string(std::string& out, std::string_view s);
std::string quote(std::string_view s);

// Appends a field value in the change-set encoding: null or ["tag", value].
void append_value(std::string& out, const Value& v);

}  // namespace tram::json
