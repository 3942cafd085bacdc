// The protocol (docs/protocol.md) without the transport: requests in, responses out.
// Enrolment, device sessions, push with signed receipts, scoped pull, admin operations and
// metrics. Thread-safe: any number of connection threads may call handle() at once; signature
// checks run on the calling thread, storage work under one writer lock.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "log_watermark.hpp"
#include "storage.hpp"
#include "tram/engine/clock.hpp"
#include "tram/engine/crypto.hpp"

namespace tram::server {

struct Request {
  std::string method;
  std::string target;  // path and query
  std::string body;
  std::string authorization;
  std::string request_id;
  std::string remote;  // the client's address (rate limits); empty in-process
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::string error_code;  // for logs and metrics; empty on success
  int retry_after_s = 0;   // > 0: sent as Retry-After (429, 503)
};

// What changed in one committed push, for live notifications: the units whose rows changed,
// or province-wide reference rows (everyone is told).
struct ChangeNotice {
  uint64_t server_seq = 0;
  std::vector<std::string> units;
  bool province_wide = false;
};

struct ProvinceReport;  // report.hpp

// The error envelope every route answers with: {"error":{"code","message"}} (docs/protocol.md §2).
Response error_response(int status, std::string_view code, std::string_view message);

struct ServiceConfig {
  int64_t max_drift_ms = 5 * 60 * 1000;   // clocks further ahead are flagged and never win
  size_t max_batch = 500;                  // change sets per push
  size_t max_page = 1000;                  // rows per pull page
  int64_t session_ttl_ms = 60 * 60 * 1000;
  int64_t challenge_ttl_ms = 2 * 60 * 1000;
  ChangeSetLimits limits;
  std::string attachments_dir;                // empty: attachments disabled
  uint64_t max_attachment_bytes = 25 << 20;   // one evidence photo
  std::string watermark_path;                 // DATA/log.head (log_watermark.hpp); empty: none
  // Key statements (DATA/key-statements.json): a JSON array of {"body","sig"}, each signed by the
  // key devices trusted before it (rotations, address moves); served at /v1/server-key.
  std::string key_statements = "[]";
  // Abuse limits (429 with Retry-After beyond them).
  int max_enrol_failures_per_minute = 10;     // wrong enrolment codes per address
  size_t max_challenges_per_device = 8;       // outstanding (unanswered, unexpired) challenges
};

class Service {
 public:
  Service(ServiceConfig config, std::unique_ptr<Storage> storage, DeviceKey server_key, std::string admin_token,
          ClockSource& clock, RandomSource& random);

  Response handle(const Request& req);

  // Administration, shared by the CLI and the admin HTTP API.
  Status create_user(const UserRecord& user);
  // A new single-use enrolment code for `user`, valid for ttl_ms.
  Result<std::string> issue_enrolment_code(const std::string& user, int64_t ttl_ms);
  Result<std::vector<DeviceRecord>> devices();
  Status set_device_state(const PublicKey& device, DeviceState state);
  Status backup(const std::string& path);
  // The province report for a reporting period (report.hpp), read under the writer lock from one
  // snapshot of the replica; not_found for an unknown period.
  Result<ProvinceReport> province_report(const std::string& period);
  // Store and forward: a device's signed bundle (docs/protocol.md §16), carried on a USB stick
  // or by a colleague, pushed with the same checks as /v1/push. The answer is a receipt
  // bundle for the device to import.
  Response import_bundle(const std::string& bundle);
  // Pushes signed change sets as the administrator's own device (used by `seed`).
  Result<std::string> push_as(const PublicKey& device, const std::string& body);

  // The principal behind a live session token (for the WebSocket upgrade), or nullopt.
  std::optional<Principal> principal_for_token(const std::string& token);
  // Called (outside every lock) after each push that merged something.
  void set_notifier(std::function<void(const ChangeNotice&)> notifier) { notifier_ = std::move(notifier); }

  // The log is behind the last head this server signed (set at start-up, see main.cpp).
  void set_log_behind(const LogBehind& b) { log_behind_ = b; }

  const PublicKey& server_key() const { return server_key_.public_key(); }
  std::string metrics_text();
  // Requests the transport refused before they reached handle() (413, 431, 429, 503).
  void count_refused(const std::string& route, int status) { observe(route, status, 0); }
  void connection_opened() { ++connections_; }
  void connection_closed() { --connections_; }

 private:
  struct Session {
    PublicKey device;
    int64_t expires_ms;
  };
  Response route(const Request& req, std::string& route_name);
  Response enroll(const Request& req);
  Response challenge(const Request& req);
  Response open_session(const Request& req);
  Response push(const Request& req, const DeviceRecord& device, const UserRecord& user);
  struct PushBatch;
  // Called with the writer's lock held; writes every queued push in one transaction, then unlocks.
  void commit_queued_batches(std::unique_lock<std::mutex>& lock);
  std::optional<Response> write_batch(PushBatch& batch, int64_t now);
  Response pull(const Request& req, const DeviceRecord& device, const UserRecord& user);
  Response snapshot(const Request& req, const UserRecord& user);
  Response admin(const Request& req, const std::string& path);
  Response attachment(const Request& req, const std::string& rest, const DeviceRecord& device, const UserRecord& user);
  struct AttachmentAccess {
    bool named = false;     // some row this user may read names the hash: they may upload it
    bool readable = false;  // ...and one of those rows is in a unit that holds the bytes
    std::vector<std::string> units;  // the units of the rows `named` counts (in the user's scope)
  };
  // What `user` may do with an attachment (docs/protocol.md §14.1).
  Result<AttachmentAccess> attachment_access(const Hash& hash, const UserRecord& user);
  std::vector<std::string> attachment_holders(const Hash& hash);
  Status add_attachment_holders(const Hash& hash, const std::vector<std::string>& units);
  // The device behind a bearer token, or the error response to send.
  Result<std::pair<DeviceRecord, UserRecord>> authenticate(const Request& req, Response& error);
  std::string receipt_json(const LogEntry& e);
  std::string head_json();
  std::string head_json(const LogHead& h) const;
  void notice_units(const std::vector<ChangeSet>& accepted, ChangeNotice& notice);
  void observe(const std::string& route, int status, double seconds);
  void advance_watermark(const LogHead& head);
  // Whether `remote` has used up its enrolment tries for now; `failed` counts one more.
  bool enrol_limited(const std::string& remote, bool failed);
  Response rate_limited(const std::string& limit, std::string_view message, int retry_after_s);

  ServiceConfig config_;
  std::unique_ptr<Storage> storage_;
  DeviceKey server_key_;
  std::string admin_token_;
  ClockSource& clock_;
  RandomSource& random_;

  std::mutex writer_;  // storage and the replica: one writer, consistent reads
  std::mutex push_queue_mu_;
  std::vector<PushBatch*> push_queue_;  // pushes waiting for the writer (group commit)
  std::mutex sessions_mu_;
  std::map<std::string, Session> sessions_;        // token -> session
  std::map<std::string, Session> challenges_;      // challenge -> device, single use

  size_t key_statement_count_ = 0;  // in config_.key_statements (told in /v1/me)
  std::optional<LogBehind> log_behind_;
  std::optional<LogWatermark> watermark_file_;
  Watermark watermark_;  // the highest head written to watermark_file_
  // Failed enrolment attempts per client address: {window start, count}.
  std::map<std::string, std::pair<int64_t, int>> enrol_failures_;

  std::function<void(const ChangeNotice&)> notifier_;
  std::mutex attachments_mu_;  // partial files: one appender at a time
  std::mutex metrics_mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, uint64_t> changesets_;     // "accepted", "duplicate", or a rejection code
  std::map<std::string, uint64_t> rate_limited_;   // by limit
  std::map<std::string, std::array<uint64_t, 12>> latency_buckets_;
  std::map<std::string, double> latency_sum_;
  std::atomic<int64_t> connections_{0};
  std::atomic<int64_t> writer_waiting_{0};
};

}  // namespace tram::server
