// A C++ app on the installed SDK's C++ API (Tram::client_cxx, find_package(Tram COMPONENTS cxx)):
// opens a device store, reads its state, writes nothing. Usage: consumer_sdk SCHEMA_DIR HOME_DIR.
#include <cstdio>
#include <string>

#include "tram/client.hpp"
#include "tram/version.h"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s SCHEMA_DIR HOME_DIR\n", argv[0]);
    return 2;
  }
  tram::client::Options o;
  o.path = std::string(argv[2]) + "/device.db";
  o.schemas_dir = argv[1];
  o.wrapping_key.fill(11);
  auto client = tram::client::Client::open(o);
  if (!client.ok()) {
    std::fprintf(stderr, "consumer_sdk: open: %s\n", client.status().message().c_str());
    return 1;
  }
  const auto info = (*client)->info();
  auto outbox = (*client)->outbox();
  if (info.enrolled || !outbox.ok() || !outbox->empty()) return 1;
  std::printf("consumer_sdk: C++ API %s: opened %s (schema %s v%u, not enrolled, outbox empty)\n", TRAM_VERSION_STRING,
              o.path.c_str(), (*client)->schema().id.c_str(), (*client)->schema().version);
  std::printf("consumer_sdk: ok\n");
  return 0;
}
