// Enrolment and device sessions (docs/protocol.md §4–5): a device enrols once with a code, then
// opens sessions by signing a single-use challenge ("tram-session-v1:<challenge>") and sends the
// session's bearer token with each request. Sessions and challenges live in memory only (a
// restart asks devices to open new ones). authenticate() reads the device through Storage's
// readers: it never waits for the writer.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "context.hpp"

namespace tram::server::api {

class DeviceSessions {
 public:
  explicit DeviceSessions(Context& ctx) : ctx_(ctx) {}

  Response enroll(const Request& req);          // POST /v1/enroll
  Response challenge(const Request& req);       // POST /v1/auth/challenge
  Response open_session(const Request& req);    // POST /v1/auth/session
  Response me(const Caller& who, size_t key_statements);  // GET /v1/me

  // The device and user behind the request's bearer token, state checked (revoked and
  // quarantined devices are refused); nullopt with `err` set to the response to send.
  std::optional<Caller> authenticate(const Request& req, Response& err);
  std::optional<Principal> principal_for_token(const std::string& token);
  // The device (32 raw key bytes) behind a live session token, or empty. Memory only: no
  // storage read, no last-seen update.
  std::string device_for_token(const std::string& token);
  // When the device last made an authenticated request since start-up (0: not yet). Kept in
  // memory: writing it on every request would make every pull wait for the writer.
  int64_t last_seen_ms(const PublicKey& device);

 private:
  struct DeviceSession {
    PublicKey device;
    int64_t expires_ms;
  };
  // Whether `remote` has used up its enrolment tries for now; `failed` counts one more.
  bool enrol_limited(const std::string& remote, bool failed);

  Context& ctx_;
  std::mutex mu_;
  std::map<std::string, DeviceSession> sessions_;    // token -> session
  std::map<std::string, DeviceSession> challenges_;  // challenge -> device, single use
  std::map<PublicKey, int64_t> last_seen_;
  // Failed enrolment attempts per client address: {window start, count}.
  std::map<std::string, std::pair<int64_t, int>> enrol_failures_;
};

}  // namespace tram::server::api
