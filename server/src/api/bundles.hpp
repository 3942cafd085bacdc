// Pushes that arrive without a session: store and forward bundles (docs/protocol.md §16), a
// device's signed push body carried on a USB stick or by a colleague, and the server's own
// device (`seed`). Both go through the PushQueue with the same checks as /v1/push.
#pragma once

#include <string>

#include "context.hpp"

namespace tram::server::api {

class PushQueue;
class Attachments;

class Bundles {
 public:
  Bundles(Context& ctx, PushQueue& pushes, Attachments& attachments) : ctx_(ctx), pushes_(pushes), attachments_(attachments) {}
  // {"kind":"tram-bundle","device","body","sig"[,"files"]} → a receipt bundle for the device to
  // import. Carried evidence files ("files", v2) are checked against their hashes before
  // anything is pushed: one that does not match refuses the whole bundle (422 hash_mismatch).
  Response import(const std::string& bundle);
  // Pushes `body` as `device` (enrolled, any state); the push response, or why not.
  Result<std::string> push_as(const PublicKey& device, const std::string& body);

 private:
  Context& ctx_;
  PushQueue& pushes_;
  Attachments& attachments_;
};

}  // namespace tram::server::api
