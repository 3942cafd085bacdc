// The 32-byte key that wraps the device's secret in its database. A phone app gets it from the
// Android Keystore or iOS Keychain; this tool takes it from TRAM_FIELD_KEY (64 hex digits) or
// derives it from a passphrase typed on the terminal (Argon2id, salt kept in the home dir).
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "tram/engine/status.hpp"

namespace tram::field {

// `creating`: this is the device's first run, so a passphrase is asked twice and the salt made.
Result<std::array<uint8_t, 32>> wrapping_key(const std::string& home, bool creating);

}  // namespace tram::field
