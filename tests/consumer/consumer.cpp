// A C++ program on the installed tree: the engine's headers and libtram_engine.a (Tram::engine)
// with the C API (Tram::client). Usage: consumer_cpp SCHEMA_DIR HOME_DIR.
#include <cstdio>
#include <cstring>
#include <string>

#include "tram/engine/crypto.hpp"
#include "tram/engine/schema_loader.hpp"
#include "tram/tram.h"
#include "tram/version.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s SCHEMA_DIR HOME_DIR\n", argv[0]);
    return 2;
  }
  const std::string version = tram_version();
  std::printf("consumer_cpp: tram_version() %s, find_package version %s\n", version.c_str(), TRAM_EXPECTED_VERSION);
  if (version != TRAM_EXPECTED_VERSION || version != TRAM_VERSION_STRING) return 1;

  // The engine: load the installed schema, hash a string (libsodium through the static library).
  auto schema = tram::load_schema_dir(argv[1]);
  if (!schema.ok()) {
    std::fprintf(stderr, "consumer_cpp: schema: %s\n", schema.status().message().c_str());
    return 1;
  }
  tram::crypto_init();
  const auto h = tram::blake2b_256("Sơn La");
  std::printf("consumer_cpp: schema %s v%d with %zu tables; blake2b(\"Sơn La\") %s\n", schema->id.c_str(),
              static_cast<int>(schema->version), schema->tables.size(), tram::to_hex(h).substr(0, 16).c_str());

  // The C API from C++.
  const std::string options = std::string("{\"path\":\"") + argv[2] + "/device.db\",\"schemas\":\"" + argv[1] + "\"}";
  uint8_t key[32];
  std::memset(key, 9, sizeof key);
  tram_client* c = nullptr;
  if (tram_open(options.data(), options.size(), key, &c) != TRAM_OK) {
    std::fprintf(stderr, "consumer_cpp: open: %s\n", tram_last_error_message());
    return 1;
  }
  tram_close(c);
  std::printf("consumer_cpp: ok\n");
  return 0;
}
