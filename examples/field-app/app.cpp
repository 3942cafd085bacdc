// The shared part of tram-field: the device's settings, opening it, rows, words, typed values.
#include "app.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>

#include "tram/engine/crypto.hpp"
#include "tram/engine/text.hpp"
#include "wrapping_key.hpp"

namespace fs = std::filesystem;

namespace tram::field {

using namespace tram::client;

int App::fail(const Status& st, int code) {
  std::fprintf(stderr, "tram-field: %s\n", st.message().empty() ? std::string(errc_name(st.code())).c_str() : st.message().c_str());
  if (json) {
    Json j;
    j.begin_object().key("error").begin_object().kv("code", errc_name(st.code())).kv("message", st.message()).end_object().end_object();
    std::printf("%s\n", j.str().c_str());
  }
  return code;
}

namespace {

fs::path config_path(const App& app) { return fs::path(app.home) / "field.conf"; }

Config load_config(const std::string& home) {
  Config c;
  std::ifstream in(fs::path(home) / "field.conf");
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string k = line.substr(0, eq), v = line.substr(eq + 1);
    if (k == "name") c.name = v;
    if (k == "clock_offset_days") c.clock_offset_days = std::strtoll(v.c_str(), nullptr, 10);
    if (k == "ca_file") c.ca_file = v;
    if (k == "pin") c.pin = v;
  }
  return c;
}

}  // namespace

Status save_config(const App& app) {
  const fs::path tmp = config_path(app).string() + ".tmp";
  {
    std::ofstream out(tmp);
    out << "name=" << app.config.name << "\n";
    if (app.config.clock_offset_days) out << "clock_offset_days=" << app.config.clock_offset_days << "\n";
    if (!app.config.ca_file.empty()) out << "ca_file=" << app.config.ca_file << "\n";
    if (!app.config.pin.empty()) out << "pin=" << app.config.pin << "\n";
    if (!out.flush()) return Status(Errc::storage_error, fmt(_("cannot write {1}"), tmp.string()));
  }
  ::chmod(tmp.c_str(), 0600);
  std::error_code ec;
  fs::rename(tmp, config_path(app), ec);
  if (ec) return Status(Errc::storage_error, fmt(_("cannot write {1}: {2}"), config_path(app).string(), ec.message()));
  return {};
}


// Reading rows.

std::string text_of(const Row& r, const std::string& field) {
  auto it = r.fields.find(field);
  return it == r.fields.end() ? std::string() : value_text(it->second);
}


Filter eq(const std::string& field, std::string_view text) {
  Filter f;
  f.op = Filter::eq;
  f.field = field;
  f.value = Text{std::string(text)};
  return f;
}

Result<std::vector<Row>> all_rows(Client& c, const std::string& table, std::vector<Filter> where, const std::string& order_by) {
  std::vector<Row> out;
  Query q;
  q.table = table;
  q.where = std::move(where);
  q.order_by = order_by;
  q.limit = 1000;
  for (;;) {
    auto page = c.query(q);
    if (!page.ok()) return page.status();
    const size_t n = page->size();
    for (auto& r : *page) out.push_back(std::move(r));
    if (n < q.limit) break;
    q.offset += n;
  }
  return out;
}

std::string unit_name(App& app, const std::string& code) {
  auto r = app.client->get("unit", code);
  if (!r.ok() || !r->has_value()) return "";
  return text_of(**r, "name");
}

std::string unit_label(App& app, const std::string& code) {
  const std::string name = unit_name(app, code);
  return name.empty() ? code : code + " " + name;
}

Result<Row> find_row(App& app, const std::string& table, const std::string& id, const std::string& give_id,
                     const std::string& none) {
  if (id.empty()) return Status(Errc::invalid_argument, give_id);
  auto exact = app.client->get(table, id);
  if (!exact.ok()) return exact.status();
  if (exact->has_value()) return **exact;
  if (id.size() >= 4) {
    auto rows = all_rows(*app.client, table);
    if (!rows.ok()) return rows.status();
    std::vector<Row> hits;
    for (auto& r : *rows) {
      if (r.id.rfind(id, 0) == 0) hits.push_back(r);
    }
    if (hits.size() == 1) {
      auto one = app.client->get(table, hits[0].id);  // get() also says whether it is pending
      if (one.ok() && one->has_value()) return **one;
      return hits[0];
    }
    if (hits.size() > 1) return Status(Errc::invalid_argument, fmt(_("the id {1} is ambiguous: {2} reports start with it"), id, std::to_string(hits.size())));
  }
  return Status(Errc::not_found, fmt(none, id));
}

Result<Row> find_report(App& app, const std::string& id) {
  return find_row(app, kReports, id, _("give the report's id"), _("no report {1} on this device (`tram-field list` shows them)"));
}

void FieldForm::set(const std::string& field, const std::string& typed) {
  if (!problem.empty()) return;
  auto v = field_value(table, field, typed);
  if (!v.ok()) problem = v.status().message();
  else fields[field] = *v;
}

void FieldForm::set_new_report(App& app, const std::string& unit, const std::string& author) {
  set("unit_code", unit);
  set("author", author);
  set("recorded_on", app.today());
  set("recorded_at", iso_utc(app.clock.now_ms()));
  set("device", to_hex(app.info.device));
  set("status", app.args.has("submit") ? "submitted" : "draft");
}

bool is_pending(App& app, const std::string& table, const std::string& id) {
  auto r = app.client->get(table, id);  // get() tells pending; query() rows do not
  return r.ok() && r->has_value() && (*r)->pending;
}

// Words for people.

const std::map<std::string, std::string>& progress_labels() {
  static const std::map<std::string, std::string> m = {
      {"not_started", "chưa triển khai"}, {"on_track", "đúng tiến độ"}, {"at_risk", "có nguy cơ chậm"}, {"done", "hoàn thành"}};
  return m;
}

const std::map<std::string, std::string>& status_labels() {
  static const std::map<std::string, std::string> m = {
      {"draft", "bản nháp"}, {"submitted", "đã gửi"}, {"accepted", "đã duyệt"}, {"returned", "trả lại để chỉnh sửa"}};
  return m;
}

std::string label(const std::map<std::string, std::string>& m, const std::string& k) {
  auto it = m.find(k);
  // English sessions show the schema's word with the Vietnamese one (what the web app shows);
  // Vietnamese sessions the Vietnamese word alone (the glossary's, ../shared/GLOSSARY-vi.md).
  if (it == m.end()) return k;
  return vietnamese() ? it->second : k + " (" + it->second + ")";
}

std::string status_word(const std::string& status) { return vietnamese() ? label(status_labels(), status) : status; }

std::string role_label(const std::string& role) {
  if (role == "official") return _("official");
  if (role == "reviewer") return _("reviewer");
  if (role == "department") return _("department");
  if (role == "admin") return _("administrator");
  return role;
}

std::optional<std::string> parse_progress(const std::string& s) {
  static const std::map<std::string, std::string> aliases = {
      {"not_started", "not_started"}, {"chưa triển khai", "not_started"}, {"chưa bắt đầu", "not_started"},
      {"on_track", "on_track"},       {"đúng tiến độ", "on_track"},       {"đang thực hiện", "on_track"},
      {"at_risk", "at_risk"},         {"có nguy cơ chậm", "at_risk"},     {"chậm tiến độ", "at_risk"},
      {"chậm", "at_risk"},            {"done", "done"},                   {"hoàn thành", "done"},
      {"đã hoàn thành", "done"}};
  std::string key = s;
  std::replace(key.begin(), key.end(), '-', '_');
  const std::string k = vi_match_key(key);
  for (const auto& [alias, value] : aliases) {
    if (vi_match_key(alias) == k) return value;
  }
  return std::nullopt;
}

std::string content_type_of(const fs::path& p) {
  std::string ext = p.extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == ".jpg" || ext == ".jpeg") return "image/jpeg";
  if (ext == ".png") return "image/png";
  if (ext == ".heic") return "image/heic";
  if (ext == ".pdf") return "application/pdf";
  return "application/octet-stream";
}

std::string kib(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f KiB", static_cast<double>(bytes) / 1024.0);
  return buf;
}

Result<Value> field_value(const TableDef& t, const std::string& field, const std::string& typed) {
  const FieldDef* f = t.field(std::string_view(field));
  if (!f) return Status(Errc::invalid_argument, fmt(_("no field {1} in {2}"), field, t.name));
  Value v;
  switch (f->type) {
    case ValueType::text: {
      auto text = make_text(typed);
      if (!text.ok()) return Status(text.code(), f->name + ": " + text.status().message());
      v = *text;
      break;
    }
    case ValueType::real: {
      double d = 0;
      if (!parse_number(typed, d)) return Status(Errc::invalid_value, fmt(_("--{1} must be a number, not \"{2}\""), f->name, typed));
      v = d;
      break;
    }
    case ValueType::integer: {
      double d = 0;
      if (!parse_number(typed, d) || d != static_cast<double>(static_cast<int64_t>(d))) {
        return Status(Errc::invalid_value, fmt(_("--{1} must be a whole number"), f->name));
      }
      v = static_cast<int64_t>(d);
      break;
    }
    case ValueType::date: {
      auto d = Date::parse(typed);
      if (!d) return Status(Errc::invalid_value, fmt(_("{1} must be a date YYYY-MM-DD"), f->name));
      v = *d;
      break;
    }
    case ValueType::attachment: {
      auto h = from_hex<32>(typed);
      if (!h) return Status(Errc::invalid_value, fmt(_("{1} must be 64 hex digits"), f->name));
      v = AttachmentRef{*h};
      break;
    }
    default:
      return Status(Errc::invalid_argument, fmt(_("field {1} cannot be typed in"), field));
  }
  if (f->kind == FieldKind::enumeration && std::find(f->values.begin(), f->values.end(), value_text(v)) == f->values.end()) {
    std::string allowed;
    for (const auto& a : f->values) allowed += (allowed.empty() ? "" : ", ") + a;
    return Status(Errc::invalid_value, fmt(_("{1} must be one of: {2}"), f->name, allowed));
  }
  // Numbers are checked when the report is committed, by the engine's authorize() (the range of
  // the report's indicator, in words an official reads, docs/schema-format.md §9.1), not here
  // with the schema's bare "min 0" that knows nothing of the indicator.
  if (f->type == ValueType::real || f->type == ValueType::integer) return v;
  if (Status st = check_value(t, "", *f, v); !st.ok()) return st;
  return v;
}

// ---------------------------------------------------------------------------------------------
// Opening the device.

std::string default_home() {
  if (const char* h = std::getenv("TRAM_FIELD_HOME"); h && *h) return h;
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.tram-field";
  return ".tram-field";
}

Status open_device(App& app, bool creating) {
  std::error_code ec;
  if (creating) {
    fs::create_directories(app.home, ec);
    if (ec) return Status(Errc::storage_error, fmt(_("cannot create {1}: {2}"), app.home, ec.message()));
    ::chmod(app.home.c_str(), 0700);
  } else if (!fs::exists(fs::path(app.home) / "device.db")) {
    return Status(Errc::not_enrolled, fmt(_("no device in {1}: enrol it first with `tram-field init --home {1} --server URL --code CODE`"), app.home));
  }
  app.config = load_config(app.home);
  // The simulated wrong clock: the flag, else the environment, else what init stored.
  std::string offset = app.args.get("clock-offset-days");
  if (offset.empty()) {
    if (const char* env = std::getenv("TRAM_FIELD_CLOCK_OFFSET_DAYS")) offset = env;
  }
  if (!offset.empty()) {
    char* end = nullptr;
    const long long days = std::strtoll(offset.c_str(), &end, 10);
    if (end != offset.c_str() + offset.size()) return Status(Errc::invalid_argument, _("--clock-offset-days must be a whole number"));
    app.config.clock_offset_days = days;
  }
  app.clock.offset_ms = app.config.clock_offset_days * 86'400'000;
  // A finer shift for tests (the hours around midnight in Vietnam), in seconds; never kept.
  if (const char* env = std::getenv("TRAM_FIELD_CLOCK_OFFSET_S"); env && *env) {
    char* end = nullptr;
    const long long s = std::strtoll(env, &end, 10);
    if (*end != '\0') return Status(Errc::invalid_argument, _("TRAM_FIELD_CLOCK_OFFSET_S must be a whole number of seconds"));
    app.clock.offset_ms += s * 1000;
  }
  if (creating && app.args.has("ca-file")) {
    const fs::path ca = fs::absolute(app.args.get("ca-file"), ec);  // later commands may run elsewhere
    if (ec || !fs::is_regular_file(ca, ec)) return Status(Errc::invalid_argument, fmt(_("--ca-file {1}: no such file"), app.args.get("ca-file")));
    app.config.ca_file = ca.lexically_normal().string();
  }
  if (creating && app.args.has("pin")) {
    // Accepts what `openssl x509 -fingerprint -sha256` prints (AB:CD:…) as well as plain hex.
    std::string pin;
    for (char c : app.args.get("pin")) {
      if (c != ':') pin.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    if (!from_hex<32>(pin)) return Status(Errc::invalid_argument, _("--pin must be the SHA-256 of the server certificate: 64 hex digits"));
    app.config.pin = pin;
  }

  auto key = wrapping_key(app.home, creating);
  if (!key.ok()) return key.status();
  Options o;
  o.path = (fs::path(app.home) / "device.db").string();
  o.schemas_dir = app.schemas;
  o.wrapping_key = *key;
  o.clock = &app.clock;
  // A person waits at the prompt: fewer, shorter retries than a background sync would make.
  o.sync.max_attempts = 4;
  o.sync.backoff_max_ms = 4'000;
  o.transport_options.connect_timeout_ms = 5'000;
  // Progress-based: a request is given up after 30 s in which no byte moved, however long it
  // takes in all; the whole sync is bounded by --max-time-s.
  o.transport_options.io_timeout_ms = 30'000;
  o.sync.max_time_ms = 1800 * 1000;
  if (app.args.has("max-time-s")) {
    const long long s = std::atoll(app.args.get("max-time-s").c_str());
    if (s < 1) return Status(Errc::invalid_argument, _("--max-time-s must be at least 1"));
    o.sync.max_time_ms = s * 1000;
  }
  o.transport_options.ca_file = app.config.ca_file;
  o.transport_options.pin_sha256 = app.config.pin;
  if (app.args.has("attempts")) {
    const int n = std::atoi(app.args.get("attempts").c_str());
    if (n < 1) return Status(Errc::invalid_argument, _("--attempts must be at least 1"));
    o.sync.max_attempts = n;
  }
  auto client = Client::open(std::move(o));
  if (!client.ok()) {
    const char* env = std::getenv("TRAM_FIELD_KEY");
    const bool typed = !env || !*env;
    return Status(client.code(), fmt(typed ? _("cannot open the device in {1}: {2} (is the passphrase right?)")
                                           : _("cannot open the device in {1}: {2} (is TRAM_FIELD_KEY this device's key?)"),
                                     app.home, client.status().message()));
  }
  app.client = std::move(client).value();
  app.info = app.client->info();
  return {};
}

}  // namespace tram::field
