#include "admin.hpp"

#include <simdjson.h>
#include <sodium.h>

#include "../report.hpp"
#include "attachments.hpp"
#include "bundles.hpp"
#include "responses.hpp"

namespace tram::server::api {
namespace dom = simdjson::dom;

Response Admin::handle(const Request& req, const std::string& path) {
  const std::string expected = "Bearer " + token_;
  // Constant time: the comparison must not tell how many leading characters were right.
  if (token_.empty() || req.authorization.size() != expected.size() ||
      sodium_memcmp(req.authorization.data(), expected.data(), expected.size()) != 0) {
    return error(401, "unauthenticated", "admin routes need Authorization: Bearer <admin token>");
  }
  dom::parser parser;
  dom::element root;
  if (path == "users" && req.method == "GET") {
    auto list = service_.users();
    if (!list.ok()) return error(503, "storage", list.status().message());
    json::Writer out;
    out.begin_object().key("users").begin_array();
    for (const UserRecord& u : *list) {
      out.begin_object().key("id").string(u.id).key("role").string(role_name(u.role)).key("units").begin_array();
      for (const auto& unit : u.units) out.string(unit);
      out.end_array().key("all_units").boolean(u.all_units).key("name").string(u.name).end_object();
    }
    out.end_array().end_object();
    return ok(out.take());
  }
  if (path == "users" && req.method == "POST") {
    std::string_view id, role;
    if (parser.parse(req.body).get(root) || root["id"].get_string().get(id) || root["role"].get_string().get(role)) {
      return error(400, "malformed", "expected {\"id\", \"role\", \"units\": [...], \"all_units\": bool}");
    }
    UserRecord u;
    u.id = id;
    auto r = role_from_name(role);
    if (!r) return error(400, "malformed", "role: official, department, reviewer or admin");
    u.role = *r;
    dom::array units;
    if (!root["units"].get_array().get(units)) {
      for (dom::element e : units) {
        std::string_view s;
        if (e.get_string().get(s)) return error(400, "malformed", "units are strings");
        u.units.emplace_back(s);
      }
    }
    bool all = false;
    if (!root["all_units"].get_bool().get(all)) u.all_units = all;
    std::string_view name;
    if (!root["name"].get_string().get(name)) u.name = name;
    if (Status st = service_.create_user(u); !st.ok()) {
      return st.code() == Errc::storage_error ? error(503, "storage", st.message()) : error(400, errc_name(st.code()), st.message());
    }
    json::Writer out;
    out.begin_object().key("user").string(u.id).end_object();
    return ok(out.take());
  }
  if (path == "enrolment-codes" && req.method == "POST") {
    std::string_view user;
    int64_t ttl_hours = 72;
    if (parser.parse(req.body).get(root) || root["user"].get_string().get(user)) {
      return error(400, "malformed", "expected {\"user\", \"ttl_hours\"}");
    }
    if (root["ttl_hours"].error() != simdjson::NO_SUCH_FIELD && root["ttl_hours"].get_int64().get(ttl_hours)) {
      return error(400, "malformed", "ttl_hours is a whole number of hours");
    }
    if (ttl_hours <= 0 || ttl_hours > 720) return error(400, "invalid_argument", "ttl_hours: 1 to 720 (30 days)");
    auto code = service_.issue_enrolment_code(std::string(user), ttl_hours * 3600 * 1000);
    if (!code.ok()) {
      const Errc e = code.code();
      return e == Errc::storage_error ? error(503, "storage", code.status().message())
                                      : error(e == Errc::not_found ? 404 : 400, errc_name(e), code.status().message());
    }
    json::Writer out;
    out.begin_object().key("code").string(*code).key("expires_in_s").number(ttl_hours * 3600).end_object();
    return ok(out.take());
  }
  if (path == "attachments/missing" && req.method == "GET") return attachments_.missing();
  if (path == "bundles" && req.method == "POST") return bundles_.import(req.body);
  if (path == "report" && req.method == "GET") {
    return report_response(service_, query_param(req.target, "period"), query_param(req.target, "format"));
  }
  if (path == "devices" && req.method == "GET") {
    auto list = service_.devices();
    if (!list.ok()) return error(503, "storage", list.status().message());
    json::Writer out;
    out.begin_object().key("devices").begin_array();
    for (const DeviceRecord& d : *list) {
      out.begin_object().key("device").hex(d.key).key("user").string(d.user).key("state").string(device_state_name(d.state));
      out.key("seq").number(d.head.seq).key("enrolled_ms").number(d.enrolled_ms);
      out.key("last_seen_ms").number(service_.last_seen_ms(d.key)).end_object();
    }
    out.end_array().end_object();
    return ok(out.take());
  }
  if (path.starts_with("devices/") && req.method == "POST") {
    const std::string rest = path.substr(8);
    const size_t slash = rest.find('/');
    auto key = from_hex<32>(rest.substr(0, slash));
    const std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
    if (!key) return error(400, "malformed", "devices/<64 hex>/revoke|release");
    DeviceState state;
    if (action == "revoke") state = DeviceState::revoked;
    else if (action == "release") state = DeviceState::active;
    else return error(404, "not_found", "devices/<key>/revoke or /release");
    Status st = service_.set_device_state(*key, state);
    if (!st.ok()) {
      return st.code() == Errc::storage_error ? error(503, "storage", st.message()) : error(404, errc_name(st.code()), st.message());
    }
    json::Writer out;
    out.begin_object().key("device").hex(*key).key("state").string(device_state_name(state)).end_object();
    return ok(out.take());
  }
  return error(404, "not_found", "no admin route " + req.method + " " + path);
}

}  // namespace tram::server::api
