#include "service.hpp"

#include <simdjson.h>

#include <algorithm>
#include <chrono>

#include "api/admin.hpp"
#include "api/attachments.hpp"
#include "api/bundles.hpp"
#include "api/device_sessions.hpp"
#include "api/pages.hpp"
#include "api/push_queue.hpp"
#include "api/responses.hpp"
#include "api/web_app.hpp"
#include "tram/engine/text.hpp"
#include "report.hpp"
#include "tram/report/inputs.hpp"

namespace tram::server {
using api::error;
using api::ok;

Service::Service(ServiceConfig config, std::unique_ptr<Storage> storage, DeviceKey server_key, std::string admin_token,
                 ClockSource& clock, RandomSource& random)
    : config_(std::move(config)), audit_(config_.audit_path), storage_(std::move(storage)), server_key_(std::move(server_key)), clock_(clock),
      random_(random), metrics_(std::make_unique<api::Metrics>()) {
  {
    simdjson::dom::parser p;
    simdjson::dom::array list;
    if (!p.parse(config_.key_statements).get_array().get(list)) key_statement_count_ = list.size();
  }
  ctx_.reset(new api::Context{config_, *storage_, server_key_, clock_, random_, writer_, *metrics_});
  sessions_ = std::make_unique<api::DeviceSessions>(*ctx_);
  pushes_ = std::make_unique<api::PushQueue>(*ctx_);
  pages_ = std::make_unique<api::Pages>(*ctx_);
  attachments_ = std::make_unique<api::Attachments>(*ctx_);
  bundles_ = std::make_unique<api::Bundles>(*ctx_, *pushes_, *attachments_);
  admin_ = std::make_unique<api::Admin>(*this, *attachments_, *bundles_, std::move(admin_token));
}

Service::~Service() = default;

Response Service::handle(const Request& req) {
  const auto start = std::chrono::steady_clock::now();
  std::string route_name = "other";
  Response r;
  try {
    r = route(req, route_name);
  } catch (const std::exception& e) {
    // A bug, not bad input: answer 500 and keep serving everyone else.
    r = error(500, "internal", e.what());
  }
  metrics_->observe(route_name, r.status, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return r;
}

Response Service::route(const Request& req, std::string& route_name) {
  const std::string_view path = api::path_of(req.target);
  route_name = std::string(path);
  if (path == "/healthz") {
    if (!log_behind_) return ok("{\"status\":\"ok\"}");
    // Served (devices heal by re-sending), but loudly: receipted change sets are missing.
    json::Writer out;
    out.begin_object().key("status").string("log_behind").key("signed_seq").number(log_behind_->expected_seq);
    out.key("found_seq").number(log_behind_->found_seq).key("since_ms").number(log_behind_->since_ms);
    out.key("message").string("the log is behind the last head this server signed (restored backup or lost WAL); devices"
                              " re-send what they hold; clear with: tram-server admin ack-log");
    return ok(out.end_object().take());
  }
  if (path == "/metrics") {
    Response r = ok(metrics_text());
    r.content_type = "text/plain; version=0.0.4";
    return r;
  }
  if (path == "/v1/server-key" && req.method == "GET") {
    json::Writer out;
    out.begin_object().key("key").hex(server_key()).key("algorithm").string("ed25519");
    out.key("statements").raw(config_.key_statements).end_object();
    return ok(out.take());
  }
  if (path == "/v1/schema" && req.method == "GET") {
    if (config_.schema_json.empty()) return error(404, "not_found", "this server serves no schema file");
    return ok(config_.schema_json);
  }
  if (path == "/v1/enroll" && req.method == "POST") return sessions_->enroll(req);
  if (path == "/v1/auth/challenge" && req.method == "POST") return sessions_->challenge(req);
  if (path == "/v1/auth/session" && req.method == "POST") return sessions_->open_session(req);
  if (path.starts_with("/v1/admin/")) {
    route_name = "/v1/admin";
    return admin_->handle(req, std::string(path.substr(10)));
  }
  const bool attachment = path.starts_with("/v1/attachments/");
  const bool sync = (path == "/v1/push" && req.method == "POST") || (path == "/v1/pull" && req.method == "GET") ||
                    (path == "/v1/snapshot" && req.method == "GET");
  const bool me = path == "/v1/me" && req.method == "GET";
  const bool report = path == "/v1/report" && req.method == "GET";
  if (!attachment && !sync && !me && !report) {
    route_name = "other";
    if (web_ && req.method == "GET" && !path.starts_with("/v1/")) {
      route_name = "/web";
      if (auto file = web_->get(path, req.accepts_gzip)) return *file;
    }
    return error(404, "not_found", "no route " + req.method + " " + std::string(path));
  }
  if (attachment) route_name = "/v1/attachments";
  Response err;
  auto who = sessions_->authenticate(req, err);
  if (!who) return err;
  Response out = [&]() -> Response {
    if (attachment) return attachments_->handle(req, std::string(path.substr(16)), *who);
    if (path == "/v1/push") return pushes_->push(req.body, *who);
    if (path == "/v1/pull") return pages_->pull(req, who->user);
    if (path == "/v1/snapshot") return pages_->snapshot(req, who->user);
    if (report) {
      // The province report is province-wide data: for users with all units (reviewers, the
      // department), the same content as the admin route and `tram-server report`.
      if (!who->user.all_units) return error(403, "forbidden_scope", "the province report is for users with all units");
      return report_response(*this, api::query_param(req.target, "period"), api::query_param(req.target, "format"));
    }
    return sessions_->me(*who, key_statement_count_);
  }();
  // Who asked, for the request's log line (the first 16 hex digits name a device in `admin devices`).
  out.log_user = who->user.id;
  out.log_device = to_hex(who->device.key).substr(0, 16);
  return out;
}

// nullopt when the schema has no table "unit" (a test schema): nothing to check against.
Result<std::optional<std::vector<Service::UnitInfo>>> Service::reference_units() {
  auto snap = storage_->read_snapshot();
  if (!snap.ok()) return snap.status();
  if (!(*snap)->rows().schema().table("unit")) return std::optional<std::vector<UnitInfo>>();
  std::vector<UnitInfo> out;
  const auto rows = reporting::store_rows((*snap)->rows());
  auto text = [](const reporting::SourceRow& r, const char* f) {
    auto it = r.fields.find(f);
    return it != r.fields.end() && std::holds_alternative<Text>(it->second) ? std::get<Text>(it->second).s : std::string();
  };
  TRAM_RETURN_IF_ERROR(rows("unit", [&](reporting::SourceRow&& r) { out.push_back({r.id, text(r, "name"), text(r, "type")}); }));
  // Departments and agencies (schema v3) report as themselves: their codes are units too.
  if ((*snap)->rows().schema().table("agency")) {
    TRAM_RETURN_IF_ERROR(rows("agency", [&](reporting::SourceRow&& r) { out.push_back({r.id, text(r, "name"), "sở, ban, ngành"}); }));
  }
  return std::optional(std::move(out));
}

Result<std::vector<Service::UnitInfo>> Service::units() {
  auto u = reference_units();
  if (!u.ok()) return u.status();
  return u->value_or(std::vector<UnitInfo>{});
}

Status Service::create_user(const UserRecord& user) {
  if (user.id.empty()) return {Errc::invalid_value, "user id must not be empty"};
  if (!user.all_units && user.units.empty() && user.role == Role::official) {
    return {Errc::invalid_value, "an official needs the units they report for (--units CODE,CODE; admin units lists them)"};
  }
  // Every unit must exist in the reference data: a typo ("3808" for 03808) would make a user whose
  // reports name no real commune, while the real one shows as missing.
  if (!user.all_units) {
    auto reference = reference_units();
    if (!reference.ok()) return reference.status();
    const bool has_units_table = reference->has_value();
    const auto known = reference->value_or(std::vector<UnitInfo>{});
    for (const std::string& code : has_units_table ? user.units : std::vector<std::string>{}) {
      if (std::any_of(known.begin(), known.end(), [&](const UnitInfo& u) { return u.code == code; })) continue;
      std::string hint;
      if (known.empty()) {
        hint = " (the reference data is not loaded: run tram-server seed first)";
      } else {
        for (const UnitInfo& u : known) {
          const bool padded = code.size() < u.code.size() && u.code.ends_with(code) &&
                              u.code.find_first_not_of('0') == u.code.size() - code.size();
          if (padded) hint = " (did you mean " + u.code + ", " + u.type + " " + u.name + "?)";
        }
        if (hint.empty()) hint = " (tram-server admin units lists the codes)";
      }
      return {Errc::invalid_value, "unknown unit code " + code + hint};
    }
  }
  // The name is what the user's reports must carry as author: exactly as the schema stores text.
  const bool padded = !user.name.empty() && (user.name.front() == ' ' || user.name.back() == ' ');
  if (!is_nfc(user.name) || user.name.size() > 300 || padded) {
    return {Errc::invalid_value, "the user's name must be Unicode NFC, without leading or trailing spaces, at most 100 letters"};
  }
  std::lock_guard lock(writer_);
  TRAM_RETURN_IF_ERROR(storage_->create_user(user));
  storage_->checkpoint();
  std::string units;
  for (const std::string& u : user.units) units += (units.empty() ? "" : ",") + u;
  audit_.record("user_saved", "admin", {{"user", user.id}, {"role", std::string(role_name(user.role))},
                                        {"units", user.all_units ? "province" : units}, {"name", user.name}});
  return {};
}

Status Service::delete_user(const std::string& id) {
  std::lock_guard lock(writer_);
  TRAM_RETURN_IF_ERROR(storage_->delete_user(id));
  storage_->checkpoint();
  audit_.record("user_deleted", "admin", {{"user", id}});
  return {};
}

Result<std::string> Service::issue_enrolment_code(const std::string& user, int64_t ttl_ms) {
  constexpr int64_t kMaxTtlMs = int64_t{30} * 24 * 3600 * 1000;
  if (ttl_ms <= 0 || ttl_ms > kMaxTtlMs) return Status(Errc::invalid_argument, "an enrolment code lives 1 hour to 30 days");
  auto u = storage_->user(user);
  if (!u.ok()) return u.status();
  if (!*u) return Status(Errc::not_found, "no user " + user);
  // 16 random characters of an unambiguous alphabet in 4 groups: easy to read over a phone line.
  static constexpr char kAlphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  std::array<uint8_t, 16> raw;
  random_.fill(std::as_writable_bytes(std::span(raw)));
  std::string code;
  for (size_t k = 0; k < raw.size(); ++k) {
    if (k && k % 4 == 0) code.push_back('-');
    code.push_back(kAlphabet[raw[k] % 32]);
  }
  std::lock_guard lock(writer_);
  TRAM_RETURN_IF_ERROR(storage_->add_enrolment_code(blake2b_256(code), user, clock_.now_ms() + ttl_ms));
  // Never the code itself: the trail must not let its reader enrol a phone.
  audit_.record("enrolment_code_issued", "admin", {{"user", user}, {"valid_hours", std::to_string(ttl_ms / 3'600'000)}});
  return code;
}

Result<std::vector<DeviceRecord>> Service::devices() { return storage_->devices(); }
Result<std::vector<UserRecord>> Service::users() { return storage_->users(); }
int64_t Service::last_seen_ms(const PublicKey& device) { return sessions_->last_seen_ms(device); }

Status Service::set_device_state(const PublicKey& device, DeviceState state) {
  std::lock_guard lock(writer_);
  TRAM_RETURN_IF_ERROR(storage_->set_device_state(device, state));
  storage_->checkpoint();
  audit_.record(state == DeviceState::revoked ? "device_revoked" : "device_state_set", "admin",
                {{"device", to_hex(device)}, {"state", std::string(device_state_name(state))}});
  return {};
}

Status Service::backup(const std::string& path) {
  std::lock_guard lock(writer_);
  TRAM_RETURN_IF_ERROR(storage_->backup(path));
  audit_.record("backup_written", "admin", {{"to", path}});
  return {};
}

Response Service::import_bundle(const std::string& bundle) {
  Response r = bundles_->import(bundle);
  audit_.record(r.status == 200 ? "bundle_imported" : "bundle_refused", "admin",
                {{"bytes", std::to_string(bundle.size())}, {"status", std::to_string(r.status)}, {"error", r.error_code}});
  return r;
}

Result<std::string> Service::push_as(const PublicKey& device, const std::string& body) {
  return bundles_->push_as(device, body);
}

Result<ProvinceReport> Service::province_report(const std::string& period) {
  auto snap = storage_->read_snapshot();  // one snapshot for every table
  if (!snap.ok()) return snap.status();
  return build_province_report(**snap, period, clock_.now_ms());
}

Result<std::vector<Op>> Service::changed_rows(std::vector<Op> ops) {
  auto snap = storage_->read_snapshot();
  if (!snap.ok()) return snap.status();
  RowReader& rows = (*snap)->rows();
  std::vector<Op> out;
  for (Op& op : ops) {
    const TableDef* table = rows.schema().table(op.table);
    auto image = rows.row_image(op.table, op.row);
    if (!image.ok()) return image.status();
    const auto& cells = *image ? (*image)->cells : std::vector<CellImage>{};
    const bool deleted = !cells.empty() && cells[0].value == Value{int64_t{1}};
    if (!table || !*image || deleted) {  // a new (or deleted) row, or a table unknown here: all of it
      out.push_back(std::move(op));
      continue;
    }
    std::erase_if(op.fields, [&](const FieldWrite& w) {
      // cells[0] is the row's liveness; field i is cells[i + 1].
      for (size_t i = 0; i < table->fields.size() && i + 1 < cells.size(); ++i) {
        if (table->fields[i].id == w.field) return cells[i + 1].value == w.value;
      }
      return false;
    });
    if (!op.fields.empty()) out.push_back(std::move(op));
  }
  return out;
}

std::optional<Principal> Service::principal_for_token(const std::string& token) {
  return sessions_->principal_for_token(token);
}

std::string Service::device_for_token(const std::string& token) { return sessions_->device_for_token(token); }

void Service::set_web_app(std::unique_ptr<api::WebApp> app) { web_ = std::move(app); }

void Service::set_notifier(std::function<void(const ChangeNotice&)> notifier) { pushes_->set_notifier(std::move(notifier)); }

std::string Service::metrics_text() { return metrics_->text(log_behind_); }
void Service::count_refused(const std::string& route, int status) { metrics_->observe(route, status, 0); }
void Service::connection_opened() { metrics_->connection_opened(); }
void Service::connection_closed() { metrics_->connection_closed(); }
void Service::count_shed(const std::string& reason) { metrics_->count_shed(reason); }
void Service::count_accept_error(const std::string& error) { metrics_->count_accept_error(error); }
void Service::set_connection_limit(size_t max_connections) { metrics_->set_connection_limit(max_connections); }

}  // namespace tram::server
