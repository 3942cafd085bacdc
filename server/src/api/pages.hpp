// GET /v1/pull and GET /v1/snapshot (docs/protocol.md §8): pages of row images a user may read,
// written with the engine's wire::PageWriter from one read snapshot of the storage (never
// waiting for the writer, so pulls do not queue behind pushes), with the log's signed head.
#pragma once

#include "context.hpp"

namespace tram::server::api {

class Pages {
 public:
  explicit Pages(Context& ctx) : ctx_(ctx) {}
  Response pull(const Request& req, const UserRecord& user);
  Response snapshot(const Request& req, const UserRecord& user);

 private:
  Context& ctx_;
};

}  // namespace tram::server::api
