// The protocol (docs/protocol.md) without the transport: requests in, responses out. The public
// face of the server for main.cpp, the HTTP transport (http/) and the tests; the routes are
// served by the small classes of api/ it owns (device sessions, push queue, pages,
// attachments, admin, bundles, metrics), over the Storage of storage/.
// Thread-safe: any number of connection threads may call handle() at once; signature checks
// run on the calling thread, storage writes under one writer lock, reads on their own.
#pragma once

#include <functional>
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "audit.hpp"
#include "storage/log_watermark.hpp"
#include "storage/storage.hpp"
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
  bool accepts_gzip = false;  // Accept-Encoding allows gzip (static files are kept compressed)
};

struct Response {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::string error_code;  // for logs and metrics; empty on success
  int retry_after_s = 0;   // > 0: sent as Retry-After (429, 503)
  std::string content_encoding;  // "gzip": the body is already compressed (the transport leaves it)
  std::vector<std::pair<std::string, std::string>> headers;  // further headers (static files)
  std::string log_user, log_device;  // who asked (authenticated routes), for the log line only
};

// What changed in one committed push, for live notifications: the units whose rows changed,
// or province-wide reference rows (everyone is told).
struct ChangeNotice {
  uint64_t server_seq = 0;
  std::vector<std::string> units;
  bool province_wide = false;
};

struct ProvinceReport;  // report.hpp

namespace api {
struct Context;
class Metrics;
class DeviceSessions;
class PushQueue;
class Pages;
class Attachments;
class Bundles;
class Admin;
class WebApp;
}  // namespace api

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
  std::string schema_json;  // the newest schema file, served at GET /v1/schema (the web app's forms)
  std::string audit_path;   // DATA/audit.log (audit.hpp); empty: no audit trail
  // Abuse limits (429 with Retry-After beyond them).
  int max_enrol_failures_per_minute = 10;     // wrong enrolment codes per address
  size_t max_challenges_per_device = 8;       // outstanding (unanswered, unexpired) challenges
};

class Service {
 public:
  Service(ServiceConfig config, std::unique_ptr<Storage> storage, DeviceKey server_key, std::string admin_token,
          ClockSource& clock, RandomSource& random);
  ~Service();

  Response handle(const Request& req);

  // Administration, shared by the CLI and the admin HTTP API.
  Status create_user(const UserRecord& user);
  // Removes a user and revokes their devices (their history stays); not_found if none.
  Status delete_user(const std::string& id);
  // A new single-use enrolment code for `user`, valid for ttl_ms.
  Result<std::string> issue_enrolment_code(const std::string& user, int64_t ttl_ms);
  Result<std::vector<DeviceRecord>> devices();
  Result<std::vector<UserRecord>> users();
  // The communes and wards of the reference data (table "unit"), by code; empty when the schema
  // has no such table.
  struct UnitInfo {
    std::string code, name, type;
  };
  Result<std::vector<UnitInfo>> units();
  // When the device last made an authenticated request (since this server started), or 0.
  int64_t last_seen_ms(const PublicKey& device);
  // `by`: who asked, for the audit trail ("admin": the CLI or the admin token).
  Status set_device_state(const PublicKey& device, DeviceState state);
  Status backup(const std::string& path);
  // The province report for a reporting period (report.hpp), read from one snapshot of the
  // storage (no writer lock); not_found for an unknown period.
  Result<ProvinceReport> province_report(const std::string& period);
  // Store and forward: a device's signed bundle (docs/protocol.md §16), carried on a USB stick
  // or by a colleague, pushed with the same checks as /v1/push. The answer is a receipt
  // bundle for the device to import.
  Response import_bundle(const std::string& bundle);
  // Of `ops` (puts of whole rows, as the seed files give them), what the stored rows lack: each
  // op cut down to the fields whose value differs, ops with nothing left dropped. Lets `seed`
  // bring a database seeded by an older schema version up to the current seed files.
  Result<std::vector<Op>> changed_rows(std::vector<Op> ops);
  // Pushes signed change sets as the administrator's own device (used by `seed`).
  Result<std::string> push_as(const PublicKey& device, const std::string& body);

  // The principal behind a live session token (for the WebSocket upgrade), or nullopt.
  std::optional<Principal> principal_for_token(const std::string& token);
  // The device (32 raw key bytes) behind a live session token, or empty; in memory only (the
  // transport asks on every request header, to count connections per device).
  std::string device_for_token(const std::string& token);
  // Called (outside every lock) after each push that merged something.
  void set_notifier(std::function<void(const ChangeNotice&)> notifier);

  // The web app's files, served at / (api/web_app.hpp); without it / is 404.
  void set_web_app(std::unique_ptr<api::WebApp> app);
  bool serves_web_app() const { return web_ != nullptr; }

  // The audit trail of administrative events (audit.hpp): the CLI commands write to it too.
  const AuditLog& audit() const { return audit_; }

  // The log is behind the last head this server signed (set at start-up, see main.cpp).
  void set_log_behind(const LogBehind& b) { log_behind_ = b; }

  const PublicKey& server_key() const { return server_key_.public_key(); }
  std::string metrics_text();
  // Requests the transport refused before they reached handle() (413, 431, 429, 503).
  void count_refused(const std::string& route, int status);
  void connection_opened();
  void connection_closed();
  // The transport shed a connection to make room (reason: full, address, device, descriptors),
  // or accept() failed (error: EMFILE, ENFILE, other).
  void count_shed(const std::string& reason);
  void count_accept_error(const std::string& error);
  void set_connection_limit(size_t max_connections);

 private:
  Result<std::optional<std::vector<UnitInfo>>> reference_units();
  Response route(const Request& req, std::string& route_name);

  ServiceConfig config_;
  AuditLog audit_;
  std::unique_ptr<Storage> storage_;
  DeviceKey server_key_;
  ClockSource& clock_;
  RandomSource& random_;
  std::mutex writer_;  // Storage's writer side: one at a time
  size_t key_statement_count_ = 0;  // in config_.key_statements (told in /v1/me)
  std::optional<LogBehind> log_behind_;

  std::unique_ptr<api::Metrics> metrics_;
  std::unique_ptr<api::Context> ctx_;
  std::unique_ptr<api::DeviceSessions> sessions_;
  std::unique_ptr<api::PushQueue> pushes_;
  std::unique_ptr<api::Pages> pages_;
  std::unique_ptr<api::Attachments> attachments_;
  std::unique_ptr<api::Bundles> bundles_;
  std::unique_ptr<api::Admin> admin_;
  std::unique_ptr<api::WebApp> web_;  // null: no --web
};

}  // namespace tram::server
