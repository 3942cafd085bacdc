// The device's authenticated session with the server (protocol §6): a challenge signed with the
// device key gives a bearer token, held in memory only. Sessions live in the server's memory, so
// a 401 opens a new one and repeats the request once. Also the connection it rides on: the
// app's Transport, or the default one to the server's URL. Not installed.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "tram/client.hpp"
#include "tram/transport.hpp"

namespace tram::client {

// The server's error envelope {"error":{"code","message"}} as a Status (5xx and 429:
// unavailable, worth a retry; 401: unauthenticated; others: rejected).
Status server_error(const HttpResponse& r);

// What a call may ask of the transport beyond the request (HttpRequest's fields of the same
// names).
struct CallOptions {
  bool compress = true;
  bool resend_on_stale = true;
  std::function<void(uint64_t sent, uint64_t received)> on_progress;
};

class DeviceSession {
 public:
  // What the session needs from the client, each taking the client's lock itself.
  struct Device {
    std::function<Result<PublicKey>()> key;                      // not_enrolled before enrolment
    std::function<Result<Signature>(std::string_view)> sign;     // with the device key
    std::function<std::string()> server_url;                      // the base URL in use
  };
  DeviceSession(const Options& opt, const std::atomic<bool>& cancelled, Device device);

  // One request, opening a session first when needed and once more after a 401. `via`: another
  // connection than the main one (the pull's read-ahead). Bytes each way go into `report`.
  Result<HttpResponse> call(const std::string& method, const std::string& target, const std::string& body,
                            bool authenticated, SyncReport* report = nullptr, Transport* via = nullptr,
                            const CallOptions* extra = nullptr);
  // Forgets the token: the next authenticated call opens a new session.
  void forget() { token_.clear(); }
  // Forgets the connection too (the server moved, or the device enrols with another URL).
  void reconnect() {
    transport_.reset();
    token_.clear();
  }
  // The app's own transport: it may not allow a second request at once (no read-ahead).
  bool app_transport() const { return opt_.transport != nullptr; }

 private:
  Status ensure_transport();
  Status login();

  const Options& opt_;
  const std::atomic<bool>& cancelled_;
  Device device_;
  std::shared_ptr<Transport> transport_;
  std::string token_;
};

}  // namespace tram::client
