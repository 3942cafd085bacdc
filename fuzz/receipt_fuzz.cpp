// Receipts (protocol §9.1), the official's proof: verify_receipt checks the server's signature
// before it reads the body, so this target signs each input with a fixed server key to reach the
// reader. It must never crash; a receipt it reads must name the key that signed it, and the body the
// server would write for what it read (receipt_body) must read back to the same receipt. A
// signature over other bytes, or by another key, must be refused.
#include "common.hpp"

#include "tram/engine/wire_writer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace tram;
  if (size > fuzz::kMaxInput) return -1;
  const DeviceKey& key = fuzz::server_key();
  const std::string_view body = fuzz::as_text(data, size);
  const Signature sig = key.sign(body);
  auto r = wire::verify_receipt(body, to_hex(sig), key.public_key());
  if (!r.ok()) {
    FUZZ_CHECK(r.status().code() == Errc::malformed_json || r.status().code() == Errc::bad_signature);
    return 0;
  }
  FUZZ_CHECK(r->server == key.public_key() && r->body == body && r->sig == sig);
  const std::string again = wire::receipt_body(*r);
  auto back = wire::verify_receipt(again, to_hex(key.sign(again)), key.public_key());
  FUZZ_CHECK(back.ok());
  FUZZ_CHECK(back->server_seq == r->server_seq && back->id == r->id && back->device == r->device && back->seq == r->seq &&
             back->accepted == r->accepted && back->received_at_ms == r->received_at_ms &&
             back->clock_ahead == r->clock_ahead && back->log == r->log);
  FUZZ_CHECK(!r->accepted ? back->code == r->code : true);
  // The signature covers these bytes only: one more byte, and it no longer verifies.
  FUZZ_CHECK(!wire::verify_receipt(std::string(body) + " ", to_hex(sig), key.public_key()).ok());
  return 0;
}
