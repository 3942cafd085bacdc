// Store-and-forward bundles (protocol §16), files carried by hand. Two kinds, told apart by "kind":
//  - a device's bundle {"kind":"tram-bundle","device","body","sig"}: its body is a push body, read
//    with read_push_body and each change set with decode(), as the server's import does;
//  - the receipt bundle a device imports {"kind":"tram-receipts","device","server","response":
//    {"results":[...]}}: its results read by the SDK's parse_push_results (pusher.cpp, as
//    Client::import_receipts does), each receipt verified with wire::verify_receipt.
// Neither may crash; a receipt signed by the bundle's server key (this target signs them, to get
// past the signature) must read back as what it says.
#include "common.hpp"

#include <simdjson.h>

#include "pusher.hpp"
#include "tram/engine/wire_writer.hpp"

namespace dom = simdjson::dom;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tram;
  if (size > fuzz::kMaxInput) return -1;
  dom::parser parser;
  dom::object o;
  std::string_view kind;
  if (parser.parse(reinterpret_cast<const char*>(data), size).get_object().get(o) || o["kind"].get_string().get(kind)) return 0;
  if (kind == "tram-bundle") {
    std::string_view device_hex, body, sig_hex;
    if (o["device"].get_string().get(device_hex) || o["body"].get_string().get(body) || o["sig"].get_string().get(sig_hex)) {
      return 0;
    }
    const auto device = from_hex<32>(device_hex);
    const auto sig = from_hex<64>(sig_hex);
    if (device && sig) (void)verify_signature(*device, "tram-bundle-v1:" + std::string(body), *sig);
    auto items = wire::read_push_body(body, 500);
    if (!items.ok()) return 0;
    for (const wire::PushItem& it : *items) {
      if (it.cs) (void)decode(it.cs->bytes);
    }
    return 0;
  }
  dom::array results;
  if (kind != "tram-receipts" || o["response"]["results"].get_array().get(results)) return 0;
  const DeviceKey& key = fuzz::server_key();
  for (const client::PushResult& r : client::parse_push_results(results)) {
    if (r.receipt_body.empty()) continue;
    // As found: almost never signed by this key, so refused before the body is read.
    (void)wire::verify_receipt(r.receipt_body, r.receipt_sig, key.public_key());
    auto signed_r = wire::verify_receipt(r.receipt_body, to_hex(key.sign(r.receipt_body)), key.public_key());
    if (signed_r.ok()) FUZZ_CHECK(signed_r->body == r.receipt_body && signed_r->server == key.public_key());
  }
  return 0;
}
