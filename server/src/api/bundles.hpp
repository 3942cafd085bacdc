// Pushes that arrive without a session: store and forward bundles (docs/protocol.md §16), a
// device's signed push body carried on a USB stick or by a colleague, and the server's own
// device (`seed`). Both go through the PushQueue with the same checks as /v1/push.
#pragma once

#include <string>

#include "context.hpp"

namespace tram::server::api {

class PushQueue;

class Bundles {
 public:
  Bundles(Context& ctx, PushQueue& pushes) : ctx_(ctx), pushes_(pushes) {}
  // {"kind":"tram-bundle","device","body","sig"} → a receipt bundle for the device to import.
  Response import(const std::string& bundle);
  // Pushes `body` as `device` (enrolled, any state); the push response, or why not.
  Result<std::string> push_as(const PublicKey& device, const std::string& body);

 private:
  Context& ctx_;
  PushQueue& pushes_;
};

}  // namespace tram::server::api
