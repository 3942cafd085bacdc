// Evidence photos (docs/protocol.md §14): uploaded in chunks that resume at the last byte the
// server confirmed, verified against the hash the signed change set names, served only within
// scope. Files live in config.attachments_dir: <hash> once complete, partial/<hash>.<device>
// while uploading, <hash>.units (the units that hold the bytes) beside each.
#pragma once

#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "context.hpp"

namespace tram::server::api {

class Attachments {
 public:
  explicit Attachments(Context& ctx) : ctx_(ctx) {}
  // GET|PUT /v1/attachments/<hash>[/status]; `rest` is what follows /v1/attachments/.
  Response handle(const Request& req, const std::string& rest, const Caller& who);
  // GET /v1/admin/attachments/missing: named hashes whose bytes have not arrived.
  Response missing();
  // An evidence file carried in a bundle of `caller`'s device: checked against its hash and
  // stored as that device's upload would be. invalid_value "hash_mismatch…", forbidden_scope.
  Status store_carried(const Hash& hash, std::string_view bytes, const Caller& caller);

 private:
  struct Access {
    bool named = false;     // some row this user may read names the hash: they may upload it
    bool readable = false;  // ...and one of those rows is in a unit that holds the bytes
    std::vector<std::string> units;  // the units of the rows `named` counts (in the user's scope)
  };
  // What `user` may do with an attachment (docs/protocol.md §14.1).
  Result<Access> access(const Hash& hash, const UserRecord& user);
  std::vector<std::string> holders(const Hash& hash);
  Status add_holders(const Hash& hash, const std::vector<std::string>& units);

  Context& ctx_;
  std::mutex mu_;  // partial files: one appender at a time
};

}  // namespace tram::server::api
