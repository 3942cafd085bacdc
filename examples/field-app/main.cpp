// tram-field: the commune official's tool (and the reviewer's) on the Tram client SDK.
// Reports are recorded offline into the device's own database and signed there; `sync` sends
// them when there is signal, and `receipt` shows the server's signed proof of submission.
// Run `tram-field --help`.
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cli.hpp"
#include "tram/client.hpp"
#include "tram/engine/crypto.hpp"
#include "tram/engine/schema.hpp"
#include "tram/engine/schema_loader.hpp"
#include "tram/engine/text.hpp"
#include "wrapping_key.hpp"

namespace fs = std::filesystem;
using namespace tram;
using namespace tram::client;
using namespace tram::field;

namespace {

constexpr int kFailed = 1, kUsage = 2;
constexpr const char* kReports = "progress_report";

// ---------------------------------------------------------------------------------------------
// Commands and their help.

struct Command;
struct App;
using Handler = int (*)(App&);

struct Command {
  CommandSpec spec;
  Handler run;
  bool needs_enrolment = true;
};

const char* kGlobalHelp = R"(Options every command takes:
  --home DIR        the device's own data (DIR/device.db); default $TRAM_FIELD_HOME or ~/.tram-field
  --schemas DIR     the schema's version files; default the repository's schemas/sonla-2026
  --json            machine-readable output on stdout (one JSON object)
  --help            this help
The key that protects the device's secret comes from TRAM_FIELD_KEY (64 hex digits) or, when it
is not set, from a passphrase asked on the terminal.
)";

// ---------------------------------------------------------------------------------------------
// The application state one command runs with.

class ShiftedClock final : public ClockSource {
 public:
  int64_t offset_ms = 0;
  int64_t now_ms() override { return system_.now_ms() + offset_ms; }

 private:
  SystemClock system_;
};

// Settings of this device that are not the SDK's: the person's name for reports and reviews, and
// the simulated clock offset (kept so that a phone stays wrong across commands, as a real one does).
// The TLS trust given at init (a CA file, a certificate pin) is kept here too, as the SDK keeps
// the server's address: every later command talks to the same server the same way.
struct Config {
  std::string name;
  int64_t clock_offset_days = 0;
  std::string ca_file, pin;
};

struct App {
  Args args;
  bool json = false;
  std::string home, schemas;
  ShiftedClock clock;
  Schema schema;
  Config config;
  std::unique_ptr<Client> client;
  DeviceInfo info;

  const TableDef& table(const char* name) const { return *schema.table(name); }

  // Reports a failure: a line on stderr, and an error object on stdout for --json.
  int fail(const Status& st, int code = kFailed) {
    std::fprintf(stderr, "tram-field: %s\n", st.message().empty() ? std::string(errc_name(st.code())).c_str() : st.message().c_str());
    if (json) {
      Json j;
      j.begin_object().key("error").begin_object().kv("code", errc_name(st.code())).kv("message", st.message()).end_object().end_object();
      std::printf("%s\n", j.str().c_str());
    }
    return code;
  }
  int fail(const std::string& message, Errc code = Errc::invalid_argument) { return fail(Status(code, message)); }
  int emit(const Json& j) {
    std::printf("%s\n", j.str().c_str());
    return 0;
  }
  std::string today() { return date_of_ms(clock.now_ms()).to_string(); }
  std::string person() { return !config.name.empty() ? config.name : info.user; }
};

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

Status save_config(const App& app) {
  const fs::path tmp = config_path(app).string() + ".tmp";
  {
    std::ofstream out(tmp);
    out << "name=" << app.config.name << "\n";
    if (app.config.clock_offset_days) out << "clock_offset_days=" << app.config.clock_offset_days << "\n";
    if (!app.config.ca_file.empty()) out << "ca_file=" << app.config.ca_file << "\n";
    if (!app.config.pin.empty()) out << "pin=" << app.config.pin << "\n";
    if (!out.flush()) return Status(Errc::storage_error, "cannot write " + tmp.string());
  }
  ::chmod(tmp.c_str(), 0600);
  std::error_code ec;
  fs::rename(tmp, config_path(app), ec);
  if (ec) return Status(Errc::storage_error, "cannot write " + config_path(app).string() + ": " + ec.message());
  return {};
}

// ---------------------------------------------------------------------------------------------
// Reading rows.

std::string text_of(const Row& r, const std::string& field) {
  auto it = r.fields.find(field);
  return it == r.fields.end() ? std::string() : value_text(it->second);
}

std::optional<double> real_of(const Row& r, const std::string& field) {
  auto it = r.fields.find(field);
  if (it == r.fields.end()) return std::nullopt;
  if (const auto* d = std::get_if<double>(&it->second)) return *d;
  if (const auto* i = std::get_if<int64_t>(&it->second)) return static_cast<double>(*i);
  return std::nullopt;
}

Filter eq(const std::string& field, std::string_view text) {
  Filter f;
  f.op = Filter::eq;
  f.field = field;
  f.value = Text{std::string(text)};
  return f;
}

// Every row of a table that matches, page by page.
Result<std::vector<Row>> all_rows(Client& c, const std::string& table, std::vector<Filter> where = {}, const std::string& order_by = "") {
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

// A report by its id or a unique prefix of it (ids are long; people copy the start).
Result<Row> find_report(App& app, const std::string& id) {
  if (id.empty()) return Status(Errc::invalid_argument, "give the report's id");
  auto exact = app.client->get(kReports, id);
  if (!exact.ok()) return exact.status();
  if (exact->has_value()) return **exact;
  if (id.size() >= 4) {
    auto rows = all_rows(*app.client, kReports);
    if (!rows.ok()) return rows.status();
    std::vector<Row> hits;
    for (auto& r : *rows) {
      if (r.id.rfind(id, 0) == 0) hits.push_back(r);
    }
    if (hits.size() == 1) {
      auto one = app.client->get(kReports, hits[0].id);  // get() also says whether it is pending
      if (one.ok() && one->has_value()) return **one;
      return hits[0];
    }
    if (hits.size() > 1) return Status(Errc::invalid_argument, "the id " + id + " is ambiguous: " + std::to_string(hits.size()) + " reports start with it");
  }
  return Status(Errc::not_found, "no report " + id + " on this device (`tram-field list` shows them)");
}

// ---------------------------------------------------------------------------------------------
// Words for people.

const std::map<std::string, std::string>& progress_labels() {
  static const std::map<std::string, std::string> m = {
      {"not_started", "chưa triển khai"}, {"on_track", "đúng tiến độ"}, {"at_risk", "có nguy cơ chậm"}, {"done", "hoàn thành"}};
  return m;
}

const std::map<std::string, std::string>& status_labels() {
  static const std::map<std::string, std::string> m = {
      {"draft", "nháp"}, {"submitted", "đã gửi"}, {"accepted", "đã chấp nhận"}, {"returned", "trả lại để sửa"}};
  return m;
}

std::string label(const std::map<std::string, std::string>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? k : k + " (" + it->second + ")";
}

// Accepts the schema's values and the Vietnamese words an official would type.
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

// A field value from what was typed, by the schema's type, checked against its constraints now
// so the official hears about a mistake before anything is signed.
Result<Value> field_value(const TableDef& t, const std::string& field, const std::string& typed) {
  const FieldDef* f = t.field(std::string_view(field));
  if (!f) return Status(Errc::invalid_argument, "no field " + field + " in " + t.name);
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
      if (!parse_number(typed, d)) return Status(Errc::invalid_value, "--" + f->name + " must be a number, not \"" + typed + "\"");
      v = d;
      break;
    }
    case ValueType::integer: {
      double d = 0;
      if (!parse_number(typed, d) || d != static_cast<double>(static_cast<int64_t>(d))) {
        return Status(Errc::invalid_value, "--" + f->name + " must be a whole number");
      }
      v = static_cast<int64_t>(d);
      break;
    }
    case ValueType::date: {
      auto d = Date::parse(typed);
      if (!d) return Status(Errc::invalid_value, f->name + " must be a date YYYY-MM-DD");
      v = *d;
      break;
    }
    case ValueType::attachment: {
      auto h = from_hex<32>(typed);
      if (!h) return Status(Errc::invalid_value, f->name + " must be 64 hex digits");
      v = AttachmentRef{*h};
      break;
    }
    default:
      return Status(Errc::invalid_argument, "field " + field + " cannot be typed in");
  }
  if (f->kind == FieldKind::enumeration && std::find(f->values.begin(), f->values.end(), value_text(v)) == f->values.end()) {
    std::string allowed;
    for (const auto& a : f->values) allowed += (allowed.empty() ? "" : ", ") + a;
    return Status(Errc::invalid_value, f->name + " must be one of: " + allowed);
  }
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
    if (ec) return Status(Errc::storage_error, "cannot create " + app.home + ": " + ec.message());
    ::chmod(app.home.c_str(), 0700);
  } else if (!fs::exists(fs::path(app.home) / "device.db")) {
    return Status(Errc::not_enrolled, "no device in " + app.home + ": enrol it first with `tram-field init --home " + app.home +
                                          " --server URL --code CODE`");
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
    if (end != offset.c_str() + offset.size()) return Status(Errc::invalid_argument, "--clock-offset-days must be a whole number");
    app.config.clock_offset_days = days;
  }
  app.clock.offset_ms = app.config.clock_offset_days * 86'400'000;
  if (creating && app.args.has("ca-file")) {
    const fs::path ca = fs::absolute(app.args.get("ca-file"), ec);  // later commands may run elsewhere
    if (ec || !fs::is_regular_file(ca, ec)) return Status(Errc::invalid_argument, "--ca-file " + app.args.get("ca-file") + ": no such file");
    app.config.ca_file = ca.lexically_normal().string();
  }
  if (creating && app.args.has("pin")) {
    // Accepts what `openssl x509 -fingerprint -sha256` prints (AB:CD:…) as well as plain hex.
    std::string pin;
    for (char c : app.args.get("pin")) {
      if (c != ':') pin.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    if (!from_hex<32>(pin)) return Status(Errc::invalid_argument, "--pin must be the SHA-256 of the server certificate: 64 hex digits");
    app.config.pin = pin;
  }

  auto schema = load_schema_dir(app.schemas);
  if (!schema.ok()) return Status(schema.code(), "cannot load the schema from " + app.schemas + ": " + schema.status().message());
  app.schema = std::move(schema).value();

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
  o.transport_options.io_timeout_ms = 20'000;
  o.transport_options.ca_file = app.config.ca_file;
  o.transport_options.pin_sha256 = app.config.pin;
  if (app.args.has("attempts")) {
    const int n = std::atoi(app.args.get("attempts").c_str());
    if (n < 1) return Status(Errc::invalid_argument, "--attempts must be at least 1");
    o.sync.max_attempts = n;
  }
  auto client = Client::open(std::move(o));
  if (!client.ok()) {
    const char* env = std::getenv("TRAM_FIELD_KEY");
    const bool typed = !env || !*env;
    return Status(client.code(), "cannot open the device in " + app.home + ": " + client.status().message() +
                                     (typed ? " (is the passphrase right?)" : " (is TRAM_FIELD_KEY this device's key?)"));
  }
  app.client = std::move(client).value();
  app.info = app.client->info();
  return {};
}

// ---------------------------------------------------------------------------------------------
// Sync with a progress bar.

class ProgressBar {
 public:
  explicit ProgressBar(bool quiet) : quiet_(quiet), tty_(::isatty(2)) {}
  void operator()(const Progress& p) {
    if (quiet_) return;
    std::fflush(stdout);  // keep what was printed before the bar ahead of it when both go to one pipe
    if (p.phase != phase_ && !phase_.empty()) finish_line();
    phase_ = p.phase;
    // Progress has no file counts; each upload callback is one file done.
    files_ += p.phase == "upload";
    last_ = render(p, files_);
    if (tty_) {
      std::fprintf(stderr, "\r%s\033[K", last_.c_str());
      std::fflush(stderr);
    }
  }
  // Ends the current line; on a pipe only the final state of each phase is printed.
  void finish_line() {
    if (quiet_ || last_.empty()) return;
    std::fprintf(stderr, tty_ ? "\n" : "%s\n", last_.c_str());
    last_.clear();
  }

 private:
  static std::string render(const Progress& p, uint64_t files) {
    std::string bar;
    char buf[160];
    if (p.phase == "upload") {
      std::snprintf(buf, sizeof buf, "  upload  %llu evidence file%s sent, %s", static_cast<unsigned long long>(files), files == 1 ? "" : "s",
                    kib(p.bytes_sent).c_str());
      return buf;
    }
    if (p.phase == "pull") {
      std::snprintf(buf, sizeof buf, "  pull    %llu row%s received, %s", static_cast<unsigned long long>(p.rows_pulled), p.rows_pulled == 1 ? "" : "s",
                    kib(p.bytes_received).c_str());
      return buf;
    }
    const uint64_t total = std::max<uint64_t>(p.changesets_total, 1);
    const uint64_t done = std::min(p.changesets_done, total);
    const int width = 24;
    const int filled = static_cast<int>(done * width / total);
    bar.assign(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(width - filled), '.');
    std::snprintf(buf, sizeof buf, "  %-7s [%s] %llu/%llu change sets, %s sent", p.phase.c_str(), bar.c_str(),
                  static_cast<unsigned long long>(p.changesets_done), static_cast<unsigned long long>(p.changesets_total), kib(p.bytes_sent).c_str());
    return buf;
  }
  bool quiet_, tty_;
  std::string phase_, last_;
  uint64_t files_ = 0;
};

Result<SyncReport> run_sync(App& app) {
  ProgressBar bar(app.json);
  auto r = app.client->sync([&](const Progress& p) { bar(p); });
  bar.finish_line();
  app.info = app.client->info();
  return r;
}

// What the ops of an outbox entry did, in one line ("progress_report 019e…: status, value").
// The SDK gives [{"table","id","op":"put"|"delete","fields":{…}}].
std::string ops_summary(const std::string& ops_json) {
  simdjson::dom::parser parser;
  simdjson::dom::array ops;
  if (parser.parse(ops_json).get_array().get(ops) != simdjson::SUCCESS) return ops_json.substr(0, 80);
  std::string out;
  for (auto op : ops) {
    std::string_view table, id, kind;
    if (op["table"].get_string().get(table) != simdjson::SUCCESS) table = "?";
    if (op["id"].get_string().get(id) != simdjson::SUCCESS) id = "?";
    if (op["op"].get_string().get(kind) != simdjson::SUCCESS) kind = "put";
    if (!out.empty()) out += "; ";
    out += std::string(table) + " " + std::string(id);
    if (kind == "delete") {
      out += " deleted";
      continue;
    }
    simdjson::dom::object fields;
    if (op["fields"].get_object().get(fields) != simdjson::SUCCESS) continue;
    std::string names;
    size_t n = 0;
    for (auto field : fields) {
      if (n++ < 4) names += (names.empty() ? "" : ", ") + std::string(field.key);
    }
    if (n > 4) names += " and " + std::to_string(n - 4) + " more";
    if (!names.empty()) out += " (" + names + ")";
  }
  return out;
}

// Rows with edits this device has not had confirmed yet, from the outbox (query() rows do not
// carry Row::pending).
std::set<std::pair<std::string, std::string>> pending_rows(App& app) {
  std::set<std::pair<std::string, std::string>> out;
  auto outbox = app.client->outbox();
  if (!outbox.ok()) return out;
  simdjson::dom::parser parser;
  for (const auto& e : *outbox) {
    if (e.state != OutboxEntry::pending) continue;
    simdjson::dom::array ops;
    if (parser.parse(e.ops_json).get_array().get(ops) != simdjson::SUCCESS) continue;
    for (auto op : ops) {
      std::string_view table, id;
      if (op["table"].get_string().get(table) == simdjson::SUCCESS && op["id"].get_string().get(id) == simdjson::SUCCESS) {
        out.emplace(std::string(table), std::string(id));
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reporting periods and what is due.

struct Period {
  std::string code, kind;
  std::string starts, ends, unit_due, finance_due;
};

Result<std::vector<Period>> periods(App& app) {
  auto rows = all_rows(*app.client, "reporting_period");
  if (!rows.ok()) return rows.status();
  std::vector<Period> out;
  for (const auto& r : *rows) {
    out.push_back({r.id, text_of(r, "kind"), text_of(r, "starts"), text_of(r, "ends"), text_of(r, "unit_due"), text_of(r, "finance_due")});
  }
  std::sort(out.begin(), out.end(), [](const Period& a, const Period& b) { return a.unit_due < b.unit_due || (a.unit_due == b.unit_due && a.code < b.code); });
  if (out.empty()) return Status(Errc::not_found, "this device has no reporting periods yet: run `tram-field sync`");
  return out;
}

// The period now being reported: the first whose units' deadline has not passed.
const Period& current_period(const std::vector<Period>& ps, const std::string& today) {
  for (const auto& p : ps) {
    if (p.unit_due >= today) return p;
  }
  return ps.back();
}

Result<Period> choose_period(App& app, const std::vector<Period>& ps, const std::string& wanted) {
  if (wanted.empty()) return current_period(ps, app.today());
  for (const auto& p : ps) {
    if (p.code == wanted) return p;
  }
  std::string known;
  for (const auto& p : ps) known += (known.empty() ? "" : ", ") + p.code;
  return Status(Errc::invalid_value, "no reporting period " + wanted + " (known: " + known + ")");
}

int64_t days_between(const std::string& from, const std::string& to) {
  auto a = Date::parse(from), b = Date::parse(to);
  return a && b ? b->days - a->days : 0;
}

std::string deadline_note(const std::string& today, const std::string& due) {
  const int64_t d = days_between(today, due);
  if (d > 0) return "due in " + std::to_string(d) + " day" + (d == 1 ? "" : "s");
  if (d == 0) return "due today";
  return "overdue by " + std::to_string(-d) + " day" + (d == -1 ? "" : "s");
}

std::string target_text(const Row& ind) {
  const std::string cmp = text_of(ind, "comparator"), measure = text_of(ind, "measure");
  const auto t = real_of(ind, "target"), tmax = real_of(ind, "target_max");
  std::string out;
  if (cmp == "range" && t && tmax) out = value_text(*t) + "–" + value_text(*tmax);
  else if (t && cmp != "none") out = cmp + " " + value_text(*t);
  else out = text_of(ind, "kind") == "milestone" ? "milestone" : "";
  if (!measure.empty() && t) out += " " + measure;
  const std::string deadline = text_of(ind, "deadline");
  if (!deadline.empty()) out += (out.empty() ? "" : ", ") + std::string("by ") + deadline;
  return out;
}

struct DueItem {
  std::string kind, code, title, target;  // kind: indicator or task
  const Row* report = nullptr;
  std::string state;  // missing, draft, submitted, returned, accepted
  bool late = false;
};

// What each unit owes for a period: its indicators active in the period, the tasks that name
// it, and anything else it has reported for the period.
struct DueModel {
  std::vector<Row> indicators, indicator_units, tasks, reports;
  std::map<std::string, std::vector<DueItem>> by_unit;
};

Status build_due(App& app, const Period& p, const std::vector<std::string>& units, DueModel& m) {
  auto ind = all_rows(*app.client, "indicator");
  auto iu = all_rows(*app.client, "indicator_unit");
  auto tasks = all_rows(*app.client, "task");
  auto reps = all_rows(*app.client, kReports, {eq("period", p.code)});
  for (auto* r : {&ind, &iu, &tasks, &reps}) {
    if (!r->ok()) return r->status();
  }
  m.indicators = std::move(*ind);
  m.indicator_units = std::move(*iu);
  m.tasks = std::move(*tasks);
  m.reports = std::move(*reps);
  std::map<std::string, const Row*> indicator_by_code;
  for (const auto& r : m.indicators) indicator_by_code[r.id] = &r;
  const std::string today = app.today();
  const bool past_due = today > p.unit_due;
  for (const auto& unit : units) {
    auto& items = m.by_unit[unit];
    std::set<std::string> seen;
    auto add = [&](const std::string& kind, const std::string& code, const std::string& title, const std::string& target) {
      if (!seen.insert(kind + ":" + code).second) return;
      DueItem item{kind, code, title, target, nullptr, "", false};
      for (const auto& r : m.reports) {
        if (text_of(r, "unit_code") != unit || text_of(r, kind) != code) continue;
        if (kind == "task" && !text_of(r, "indicator").empty()) continue;
        // Several reports on one item: the most advanced one counts.
        auto rank = [](const std::string& s) { return s == "draft" ? 1 : s == "returned" ? 2 : s == "submitted" ? 3 : s == "accepted" ? 4 : 0; };
        const std::string st = text_of(r, "status");
        if (!item.report || rank(st) > rank(item.state)) {
          item.report = &r;
          item.state = st;
        }
      }
      if (!item.report) item.state = "missing";
      item.late = past_due && (item.state == "missing" || item.state == "draft" || item.state == "returned");
      items.push_back(std::move(item));
    };
    for (const auto& link : m.indicator_units) {
      if (text_of(link, "unit_code") != unit) continue;
      auto it = indicator_by_code.find(text_of(link, "indicator"));
      if (it == indicator_by_code.end()) continue;
      const Row& ind_row = *it->second;
      const std::string start = text_of(ind_row, "start"), deadline = text_of(ind_row, "deadline");
      if ((!start.empty() && start > p.ends) || (!deadline.empty() && deadline < p.starts)) continue;
      add("indicator", ind_row.id, text_of(ind_row, "title"), target_text(ind_row));
    }
    for (const auto& t : m.tasks) {
      const std::string listed = "," + text_of(t, "units") + ",";
      const std::string deadline = text_of(t, "deadline");
      if (listed.find("," + unit + ",") == std::string::npos || (!deadline.empty() && deadline < p.starts)) continue;
      add("task", t.id, text_of(t, "title"), deadline.empty() ? "" : "by " + deadline);
    }
    for (const auto& r : m.reports) {
      if (text_of(r, "unit_code") != unit) continue;
      const std::string indicator = text_of(r, "indicator");
      if (!indicator.empty()) {
        auto it = indicator_by_code.find(indicator);
        add("indicator", indicator, it == indicator_by_code.end() ? "" : text_of(*it->second, "title"), "");
      } else if (!text_of(r, "task").empty()) {
        add("task", text_of(r, "task"), "", "");
      }
    }
  }
  return {};
}

Result<std::vector<std::string>> units_in_view(App& app, const std::string& wanted) {
  if (!wanted.empty()) {
    if (!app.info.all_units && std::find(app.info.units.begin(), app.info.units.end(), wanted) == app.info.units.end()) {
      return Status(Errc::forbidden_scope, "unit " + wanted + " is not one of this device's units");
    }
    return std::vector<std::string>{wanted};
  }
  if (!app.info.all_units) return app.info.units;
  auto units = all_rows(*app.client, "unit");
  if (!units.ok()) return units.status();
  std::vector<std::string> out;
  for (const auto& u : *units) out.push_back(u.id);
  std::sort(out.begin(), out.end());
  return out;
}

// ---------------------------------------------------------------------------------------------
// Commands.

// Until enrolment succeeds, what init creates in --home is taken away again: a device.db left by
// a wrong code or an unreachable server would hold a key under this passphrase and refuse any
// other one at the next try.
class InitCleanup {
 public:
  explicit InitCleanup(App& app) : app_(app) {
    std::error_code ec;
    home_existed_ = fs::exists(app.home, ec);
    had_device_ = fs::exists(fs::path(app.home) / "device.db", ec);
    if (home_existed_) {
      for (const auto& e : fs::directory_iterator(app.home, ec)) before_.insert(e.path().filename().string());
    }
  }
  ~InitCleanup() {
    if (enrolled_ || had_device_) return;  // an enrolled device (or one from before) is never removed
    app_.client.reset();                  // SQLite closes its files first
    std::error_code ec;
    if (!home_existed_) {
      fs::remove_all(app_.home, ec);
      return;
    }
    std::vector<fs::path> created;
    for (const auto& e : fs::directory_iterator(app_.home, ec)) {
      if (!before_.count(e.path().filename().string())) created.push_back(e.path());
    }
    for (const auto& p : created) fs::remove_all(p, ec);
  }
  void enrolled() { enrolled_ = true; }

 private:
  App& app_;
  bool home_existed_ = false, had_device_ = false, enrolled_ = false;
  std::set<std::string> before_;
};

int cmd_init(App& app) {
  const std::string server = app.args.get("server"), code_typed = app.args.get("code");
  if (server.empty() || code_typed.empty()) return app.fail("init needs --server URL and --code CODE", Errc::invalid_argument);
  InitCleanup cleanup(app);
  if (Status st = open_device(app, true); !st.ok()) return app.fail(st);
  if (app.info.enrolled) {
    return app.fail(Status(Errc::already_exists, "this device is already enrolled as " + app.info.user + " at " + app.info.server_url +
                                                     "; use another --home for another user"));
  }
  // The server compares the exact string: upper-case it and put the dashes back (protocol.md §5.1).
  std::string code;
  for (char c : code_typed) {
    if (std::isalnum(static_cast<unsigned char>(c))) code.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  if (code.size() == 16) code = code.substr(0, 4) + "-" + code.substr(4, 4) + "-" + code.substr(8, 4) + "-" + code.substr(12, 4);
  if (Status st = app.client->enroll(server, code); !st.ok()) {
    return app.fail(Status(st.code(), "enrolment failed: " + st.message() + " (nothing was kept in " + app.home + ")"));
  }
  cleanup.enrolled();
  app.info = app.client->info();
  if (app.args.has("name")) {
    auto name = make_text(app.args.get("name"));
    if (!name.ok()) return app.fail(name.status());
    app.config.name = std::get<Text>(*name).s;
  }
  if (Status st = save_config(app); !st.ok()) return app.fail(st);
  std::optional<Result<SyncReport>> first;
  if (!app.args.has("no-sync")) {
    if (!app.json) std::printf("Enrolled. Fetching the programme's reference data…\n");
    first.emplace(run_sync(app));
  }
  std::string units;
  for (const auto& u : app.info.units) units += (units.empty() ? "" : ", ") + unit_label(app, u);
  if (app.info.all_units) units = "all units of the province";
  if (app.json) {
    Json j;
    j.begin_object().kv("enrolled", true).kv("user", app.info.user).kv("name", app.person()).kv("role", app.info.role);
    j.key("units").begin_array();
    for (const auto& u : app.info.units) j.str(u);
    j.end_array().kv("all_units", app.info.all_units).kv("device", to_hex(app.info.device)).kv("server", app.info.server_url);
    j.kv("server_key", to_hex(app.info.server_key)).kv("ca_file", app.config.ca_file).kv("pin", app.config.pin);
    if (first) {
      j.kv("synced", first->ok());
      if (first->ok()) j.kv("rows_pulled", (*first)->rows_pulled);
      else j.kv("sync_error", first->status().to_string());
    }
    return app.emit(j.end_object());
  }
  std::printf("This device acts for %s (%s, %s) on %s.\n", app.person().c_str(), app.info.user.c_str(), app.info.role.c_str(), units.c_str());
  std::printf("Device key %s\nServer key %s (pinned: receipts are checked against it)\n", to_hex(app.info.device).c_str(),
              to_hex(app.info.server_key).c_str());
  if (first && first->ok()) std::printf("Received %llu rows. Ready to work offline.\n", static_cast<unsigned long long>((*first)->rows_pulled));
  if (first && !first->ok()) {
    std::printf("The first sync did not finish (%s); run `tram-field sync` when there is signal.\n", first->status().to_string().c_str());
  }
  return 0;
}

int cmd_report(App& app) {
  const TableDef& t = app.table(kReports);
  std::map<std::string, Value> fields;
  std::string problem;
  auto set = [&](const std::string& field, const std::string& typed) {
    if (!problem.empty()) return;
    auto v = field_value(t, field, typed);
    if (!v.ok()) problem = v.status().message();
    else fields[field] = *v;
  };
  std::optional<Row> existing;
  if (app.args.has("id")) {
    auto r = find_report(app, app.args.get("id"));
    if (!r.ok()) return app.fail(r.status());
    existing = *r;
    for (const char* immutable : {"unit", "period"}) {
      const std::string field = std::string(immutable) == "unit" ? "unit_code" : "period";
      if (app.args.has(immutable) && app.args.get(immutable) != text_of(*existing, field)) {
        return app.fail(Status(Errc::invalid_argument, std::string("a report's ") + immutable + " cannot change (it is " +
                                                           text_of(*existing, field) + "); make a new report instead"));
      }
    }
    const std::string status = text_of(*existing, "status");
    if (status != "draft" && status != "returned") {
      return app.fail(Status(Errc::workflow_violation, "report " + existing->id + " is " + label(status_labels(), status) +
                                                           ": only draft or returned reports can be edited"));
    }
  }

  std::string unit, period_code;
  if (!existing) {
    unit = app.args.get("unit");
    if (unit.empty()) {
      if (app.info.units.size() != 1) {
        return app.fail("give --unit CODE: this device reports for " +
                        (app.info.all_units ? std::string("the whole province") : std::to_string(app.info.units.size()) + " units"));
      }
      unit = app.info.units[0];
    }
    auto ps = periods(app);
    if (!ps.ok()) return app.fail(ps.status());
    auto p = choose_period(app, *ps, app.args.get("period"));
    if (!p.ok()) return app.fail(p.status());
    period_code = p->code;
    if (!app.args.has("indicator") && !app.args.has("task")) return app.fail("a report is on an indicator or a task: give --indicator CODE or --task CODE");
    if (!app.args.has("progress")) return app.fail("give --progress: not_started, on_track, at_risk or done (chưa triển khai, đúng tiến độ, có nguy cơ chậm, hoàn thành)");
    set("unit_code", unit);
    set("period", period_code);
    set("author", app.args.get("author", app.person()));
    set("recorded_on", app.today());
    set("recorded_at", iso_utc(app.clock.now_ms()));
    set("device", to_hex(app.info.device));
    set("status", app.args.has("submit") ? "submitted" : "draft");
  } else {
    unit = text_of(*existing, "unit_code");
    period_code = text_of(*existing, "period");
    if (app.args.has("author")) set("author", app.args.get("author"));
    if (app.args.has("submit")) set("status", "submitted");  // the edit and its resubmission in one change set
  }

  if (app.args.has("indicator")) {
    const std::string code = app.args.get("indicator");
    auto ind = app.client->get("indicator", code);
    if (!ind.ok()) return app.fail(ind.status());
    if (!ind->has_value()) return app.fail(Status(Errc::not_found, "no indicator " + code + " (`tram-field due` lists your unit's)"));
    set("indicator", code);
    const std::string task = text_of(**ind, "task");
    if (!app.args.has("task") && !task.empty() && !existing) set("task", task);
    const std::string measure = text_of(**ind, "measure");
    if (!app.args.has("measure") && !measure.empty() && !existing) set("measure", measure);
  }
  if (app.args.has("task")) {
    const std::string code = app.args.get("task");
    auto task = app.client->get("task", code);
    if (!task.ok()) return app.fail(task.status());
    if (!task->has_value()) return app.fail(Status(Errc::not_found, "no task " + code));
    set("task", code);
  }
  if (app.args.has("progress")) {
    auto p = parse_progress(app.args.get("progress"));
    if (!p) return app.fail("--progress must be not_started, on_track, at_risk or done (chưa triển khai, đúng tiến độ, có nguy cơ chậm, hoàn thành)");
    set("progress", *p);
  }
  for (const char* f : {"value", "measure", "narrative", "difficulties", "proposals"}) {
    if (app.args.has(f)) set(f, app.args.get(f));
  }
  if (!problem.empty()) return app.fail(Status(Errc::invalid_value, problem));

  // A second report on the same item and period is almost always a mistake: point at the first.
  if (!existing) {
    auto same = all_rows(*app.client, kReports, {eq("unit_code", unit), eq("period", period_code)});
    if (!same.ok()) return app.fail(same.status());
    for (const auto& r : *same) {
      const bool by_indicator = app.args.has("indicator");
      if (by_indicator ? text_of(r, "indicator") == app.args.get("indicator")
                       : text_of(r, "indicator").empty() && text_of(r, "task") == app.args.get("task")) {
        return app.fail(Status(Errc::already_exists, "unit " + unit + " already has a report on this for " + period_code + ": " + r.id +
                                                         " (edit it with --id " + r.id + ")"));
      }
    }
  }

  // Evidence: copied into the device's store now, uploaded by sync after the report is accepted.
  struct Evidence {
    AttachmentRef ref;
    std::string content_type, caption;
  };
  std::vector<Evidence> evidence;
  for (const auto& file : app.args.all("evidence")) {
    if (!fs::is_regular_file(file)) return app.fail(Status(Errc::not_found, "no file " + file));
    auto ref = app.client->add_attachment(file);
    if (!ref.ok()) return app.fail(Status(ref.code(), "cannot keep " + file + ": " + ref.status().message()));
    auto caption = make_text(app.args.get("caption", fs::path(file).filename().string()));
    if (!caption.ok()) return app.fail(caption.status());
    evidence.push_back({*ref, content_type_of(file), std::get<Text>(*caption).s});
  }
  if (!evidence.empty()) fields["evidence"] = evidence.front().ref;
  if (existing && fields.empty()) return app.fail("nothing to change: give the fields to edit (--value, --narrative, …)");

  WriteTxn txn;
  std::string id;
  if (existing) {
    id = existing->id;
    txn.update(kReports, id, fields);
  } else {
    id = txn.insert(kReports, "", fields);
  }
  for (const auto& e : evidence) {
    txn.insert("evidence", "", {{"report", Text{id}}, {"unit_code", Text{unit}}, {"file", e.ref}, {"caption", Text{e.caption}}, {"content_type", Text{e.content_type}}});
  }
  auto committed = app.client->commit(txn);
  if (!committed.ok()) return app.fail(Status(committed.code(), "refused: " + committed.status().message()));
  auto saved = app.client->get(kReports, id);
  const std::string status = saved.ok() && saved->has_value() ? text_of(**saved, "status") : "";
  if (app.json) {
    Json j;
    j.begin_object().kv("id", id).kv(existing ? "updated" : "created", true).kv("status", status).kv("unit", unit).kv("period", period_code);
    j.kv("seq", committed->seq).kv("changeset", to_hex(committed->id)).kv("evidence", static_cast<uint64_t>(evidence.size()));
    if (saved.ok() && saved->has_value()) j.key("report").raw(app.client->row_to_json(**saved));
    return app.emit(j.end_object());
  }
  std::printf("%s report %s\n  unit %s · period %s · status %s\n", existing ? "Updated" : "Recorded", id.c_str(), unit_label(app, unit).c_str(),
              period_code.c_str(), label(status_labels(), status).c_str());
  if (!evidence.empty()) std::printf("  %zu evidence file%s kept on the device\n", evidence.size(), evidence.size() == 1 ? "" : "s");
  std::printf("  signed on this device as change set #%llu; it leaves with the next `tram-field sync`.\n", static_cast<unsigned long long>(committed->seq));
  return 0;
}

// One workflow step on a report: submit (official), accept or return (reviewer).
int transition(App& app, const std::string& to) {
  auto r = find_report(app, app.args.positional[0]);
  if (!r.ok()) return app.fail(r.status());
  const Row& row = *r;
  const std::string from = text_of(row, "status");
  const bool reviewing = to != "submitted";
  if (!reviewing && from != "draft" && from != "returned") {
    return app.fail(Status(Errc::workflow_violation, "report " + row.id + " is " + label(status_labels(), from) + ": only a draft or returned report can be submitted"));
  }
  if (reviewing && from != "submitted") {
    return app.fail(Status(Errc::workflow_violation, "report " + row.id + " is " + label(status_labels(), from) + ": only a submitted report can be reviewed"));
  }
  const std::string comment = app.args.get("comment");
  if (to == "returned" && comment.empty()) return app.fail("say what to fix: return ID --comment TEXT");
  const TableDef& t = app.table(kReports);
  std::map<std::string, Value> fields;
  auto st = field_value(t, "status", to);
  if (!st.ok()) return app.fail(st.status());
  fields["status"] = *st;
  WriteTxn txn;
  if (reviewing) {
    const std::string reviewer = app.args.get("reviewer", app.person());
    for (auto [field, typed] : {std::pair<std::string, std::string>{"review_comment", comment}, {"reviewed_by", reviewer}}) {
      if (typed.empty()) continue;
      auto v = field_value(t, field, typed);
      if (!v.ok()) return app.fail(v.status());
      fields[field] = *v;
    }
    txn.update(kReports, row.id, fields);
    // The decision itself, insert-only, so it cannot be rewritten later (schemas/sonla-2026/README.md).
    const TableDef& rt = app.table("review");
    std::map<std::string, Value> review;
    for (auto [field, typed] : {std::pair<std::string, std::string>{"report", row.id}, {"unit_code", text_of(row, "unit_code")}, {"decision", to},
                                {"comment", comment}, {"reviewer", reviewer}, {"reviewed_on", app.today()}}) {
      if (typed.empty()) continue;
      auto v = field_value(rt, field, typed);
      if (!v.ok()) return app.fail(v.status());
      review[field] = *v;
    }
    txn.insert("review", "", review);
  } else {
    txn.update(kReports, row.id, fields);
  }
  auto committed = app.client->commit(txn);
  if (!committed.ok()) return app.fail(Status(committed.code(), "refused: " + committed.status().message()));
  if (app.json) {
    Json j;
    j.begin_object().kv("id", row.id).kv("from", from).kv("status", to).kv("seq", committed->seq).kv("changeset", to_hex(committed->id));
    if (!comment.empty()) j.kv("comment", comment);
    return app.emit(j.end_object());
  }
  const char* verb = to == "submitted" ? "Submitted" : to == "accepted" ? "Accepted" : "Returned";
  std::printf("%s report %s (%s → %s)\n", verb, row.id.c_str(), from.c_str(), to.c_str());
  if (!comment.empty()) std::printf("  comment: %s\n", comment.c_str());
  std::printf("  signed as change set #%llu; it leaves with the next `tram-field sync`.\n", static_cast<unsigned long long>(committed->seq));
  return 0;
}

int cmd_submit(App& app) { return transition(app, "submitted"); }
int cmd_accept(App& app) { return transition(app, "accepted"); }
int cmd_return(App& app) { return transition(app, "returned"); }

int cmd_comment(App& app) {
  auto r = find_report(app, app.args.positional[0]);
  if (!r.ok()) return app.fail(r.status());
  if (app.args.get("text").empty()) return app.fail("comment ID --text TEXT");
  const TableDef& t = app.table("comment");
  std::map<std::string, Value> fields;
  for (auto [field, typed] : {std::pair<std::string, std::string>{"report", r->id}, {"unit_code", text_of(*r, "unit_code")}, {"body", app.args.get("text")},
                              {"author", app.person()}, {"written_on", app.today()}}) {
    auto v = field_value(t, field, typed);
    if (!v.ok()) return app.fail(v.status());
    fields[field] = *v;
  }
  WriteTxn txn;
  const std::string id = txn.insert("comment", "", fields);
  auto committed = app.client->commit(txn);
  if (!committed.ok()) return app.fail(Status(committed.code(), "refused: " + committed.status().message()));
  if (app.json) {
    Json j;
    return app.emit(j.begin_object().kv("id", id).kv("report", r->id).kv("seq", committed->seq).end_object());
  }
  std::printf("Comment %s added to report %s\n", id.c_str(), r->id.c_str());
  return 0;
}

void print_report_line(App& app, const Row& r, bool pending) {
  const std::string what = !text_of(r, "indicator").empty() ? text_of(r, "indicator") : text_of(r, "task");
  const std::string value = text_of(r, "value").empty() ? "" : text_of(r, "value") + " " + text_of(r, "measure");
  std::string line = "  " + r.id + "  " + cell(unit_label(app, text_of(r, "unit_code")), 20) + " " + cell(what, 24) + " " + cell(text_of(r, "period"), 7) +
                     " " + cell(text_of(r, "status"), 9) + " " + cell(value, 18) + (pending ? "  (not synced)" : "");
  line.erase(line.find_last_not_of(' ') + 1);
  std::printf("%s\n", line.c_str());
}

int list_reports(App& app, std::vector<Filter> where, const char* heading) {
  if (app.args.has("unit")) where.push_back(eq("unit_code", app.args.get("unit")));
  if (app.args.has("period")) where.push_back(eq("period", app.args.get("period")));
  auto rows = all_rows(*app.client, kReports, where, "unit_code");
  if (!rows.ok()) return app.fail(rows.status());
  if (app.json) {
    Json j;
    j.begin_object().key("reports").begin_array();
    for (const auto& r : *rows) j.raw(app.client->row_to_json(r));
    return app.emit(j.end_array().end_object());
  }
  const auto pending = pending_rows(app);
  std::printf("%s: %zu\n", heading, rows->size());
  for (const auto& r : *rows) {
    print_report_line(app, r, pending.count({kReports, r.id}) > 0);
    if (std::string(heading).find("review") != std::string::npos) {
      const std::string narrative = text_of(r, "narrative");
      if (!narrative.empty()) std::printf("      %s\n", clip(narrative, 96).c_str());
      std::printf("      by %s, recorded %s\n", text_of(r, "author").c_str(), text_of(r, "recorded_on").c_str());
    }
  }
  return 0;
}

int cmd_list(App& app) {
  std::vector<Filter> where;
  if (app.args.has("status")) where.push_back(eq("status", app.args.get("status")));
  return list_reports(app, where, "Reports on this device");
}

int cmd_reviews(App& app) {
  return list_reports(app, {eq("status", app.args.get("status", "submitted"))}, "Reports waiting for review");
}

int cmd_show(App& app) {
  auto r = find_report(app, app.args.positional[0]);
  if (!r.ok()) return app.fail(r.status());
  const Row& row = *r;
  auto reviews = all_rows(*app.client, "review", {eq("report", row.id)});
  auto comments = all_rows(*app.client, "comment", {eq("report", row.id)});
  auto evidence = all_rows(*app.client, "evidence", {eq("report", row.id)});
  auto receipts = app.client->receipts(kReports, row.id);
  for (auto* q : {&reviews, &comments, &evidence}) {
    if (!q->ok()) return app.fail(q->status());
  }
  if (!receipts.ok()) return app.fail(receipts.status());
  if (app.json) {
    Json j;
    j.begin_object().key("report").raw(app.client->row_to_json(row));
    for (auto [name, rows] : {std::pair{"reviews", &*reviews}, {"comments", &*comments}, {"evidence", &*evidence}}) {
      j.key(name).begin_array();
      for (const auto& x : *rows) j.raw(app.client->row_to_json(x));
      j.end_array();
    }
    j.kv("receipts", static_cast<uint64_t>(receipts->size()));
    return app.emit(j.end_object());
  }
  std::printf("Report %s%s\n", row.id.c_str(), row.pending ? "  (has edits not yet synced)" : "");
  const TableDef& t = app.table(kReports);
  for (const auto& f : t.fields) {
    auto it = row.fields.find(f.name);
    if (it == row.fields.end() || std::holds_alternative<std::monostate>(it->second)) continue;
    std::string v = value_text(it->second);
    if (f.name == "unit_code") v = unit_label(app, v);
    if (f.name == "status") v = label(status_labels(), v);
    if (f.name == "progress") v = label(progress_labels(), v);
    std::printf("  %s %s\n", cell(f.label + ":", 28).c_str(), v.c_str());
  }
  for (const auto& x : *evidence) {
    std::printf("  evidence: %s (%s) %s\n", text_of(x, "caption").c_str(), text_of(x, "content_type").c_str(), text_of(x, "file").substr(0, 16).c_str());
  }
  for (const auto& x : *reviews) {
    std::printf("  review %s: %s by %s on %s%s\n", x.id.c_str(), text_of(x, "decision").c_str(), text_of(x, "reviewer").c_str(), text_of(x, "reviewed_on").c_str(),
                text_of(x, "comment").empty() ? "" : (": " + text_of(x, "comment")).c_str());
  }
  for (const auto& x : *comments) {
    std::printf("  comment by %s on %s: %s\n", text_of(x, "author").c_str(), text_of(x, "written_on").c_str(), text_of(x, "body").c_str());
  }
  std::printf("  receipts: %zu%s\n", receipts->size(), receipts->empty() ? "" : " (`tram-field receipt ID` shows and verifies them)");
  return 0;
}

int cmd_status(App& app) {
  auto outbox = app.client->outbox();
  auto conflicts = app.client->conflicts();
  if (!outbox.ok()) return app.fail(outbox.status());
  if (!conflicts.ok()) return app.fail(conflicts.status());
  auto returned = all_rows(*app.client, kReports, {eq("status", "returned")});
  if (!returned.ok()) return app.fail(returned.status());
  const DeviceInfo& i = app.info;
  size_t pending = 0, rejected = 0;
  for (const auto& e : *outbox) (e.state == OutboxEntry::rejected ? rejected : pending)++;
  if (app.json) {
    Json j;
    j.begin_object().kv("user", i.user).kv("name", app.person()).kv("role", i.role).key("units").begin_array();
    for (const auto& u : i.units) j.str(u);
    j.end_array().kv("all_units", i.all_units).kv("server", i.server_url).kv("device", to_hex(i.device)).kv("seq", i.seq);
    j.kv("pending", static_cast<uint64_t>(pending)).kv("rejected_count", static_cast<uint64_t>(rejected)).kv("receipts", i.receipts);
    j.key("last_sync");
    if (i.last_sync_ms) j.str(iso_utc(*i.last_sync_ms));
    else j.null();
    j.kv("last_error", i.last_error).kv("clock_ahead", i.clock_ahead).kv("clock_offset_days", app.config.clock_offset_days);
    j.kv("kept", i.kept).kv("ca_file", app.config.ca_file).kv("pin", app.config.pin);
    j.key("outbox").begin_array();
    for (const auto& e : *outbox) {
      j.begin_object().kv("seq", e.seq).kv("id", to_hex(e.id)).kv("state", e.state == OutboxEntry::rejected ? "rejected" : "pending");
      j.kv("created", iso_utc(e.created_ms)).kv("code", e.code).kv("message", e.message).kv("ops", ops_summary(e.ops_json)).end_object();
    }
    j.end_array().key("rejected").begin_array();
    for (const auto& e : *outbox) {
      if (e.state == OutboxEntry::rejected) j.begin_object().kv("seq", e.seq).kv("code", e.code).kv("message", e.message).end_object();
    }
    j.end_array().key("conflicts").begin_array();
    for (const auto& c : *conflicts) {
      j.begin_object().kv("table", c.table).kv("row", c.row).kv("field", c.field).kv("mine_lost", c.mine_lost);
      j.kv("winner", to_hex(c.winner)).kv("loser", to_hex(c.loser)).key("loser_value").value(c.loser_value).end_object();
    }
    j.end_array().key("returned").begin_array();
    for (const auto& r : *returned) {
      j.begin_object().kv("id", r.id).kv("unit", text_of(r, "unit_code")).kv("review_comment", text_of(r, "review_comment"));
      j.kv("reviewed_by", text_of(r, "reviewed_by")).end_object();
    }
    return app.emit(j.end_array().end_object());
  }
  std::string units;
  for (const auto& u : i.units) units += (units.empty() ? "" : ", ") + unit_label(app, u);
  std::printf("Device     %s (%s, %s) · %s\n", app.person().c_str(), i.user.c_str(), i.role.c_str(), i.all_units ? "all units" : units.c_str());
  std::printf("Server     %s\n", i.server_url.c_str());
  std::printf("Last sync  %s%s\n", i.last_sync_ms ? human_time(*i.last_sync_ms).c_str() : "never",
              i.last_error.empty() ? "" : ("  (last attempt failed: " + i.last_error + ")").c_str());
  std::printf("Outbox     %zu change set%s waiting to be sent\n", pending, pending == 1 ? "" : "s");
  for (const auto& e : *outbox) {
    if (e.state == OutboxEntry::pending) std::printf("  #%llu  %s  %s\n", static_cast<unsigned long long>(e.seq), human_time(e.created_ms).c_str(), ops_summary(e.ops_json).c_str());
  }
  if (rejected) {
    std::printf("Rejected   %zu change set%s refused by the server (fix the report, then `tram-field dismiss SEQ`):\n", rejected, rejected == 1 ? "" : "s");
    for (const auto& e : *outbox) {
      if (e.state == OutboxEntry::rejected) {
        std::printf("  #%llu  %s: %s\n        (%s)\n", static_cast<unsigned long long>(e.seq), e.code.c_str(), e.message.c_str(), ops_summary(e.ops_json).c_str());
      }
    }
  }
  std::printf("Conflicts  %zu\n", conflicts->size());
  for (const auto& c : *conflicts) {
    std::printf("  %s %s, field %s: %s\n", c.table.c_str(), c.row.c_str(), c.field.c_str(),
                c.mine_lost ? "your edit lost to a concurrent edit" : "your edit won over a concurrent edit");
    auto now = app.client->get(c.table, c.row);
    if (now.ok() && now->has_value()) std::printf("      kept: \"%s\"\n", text_of(**now, c.field).c_str());
    std::printf("      lost: \"%s\"\n", value_text(c.loser_value).c_str());
  }
  std::printf("Receipts   %llu (proof of submission: `tram-field receipt ID`)\n", static_cast<unsigned long long>(i.receipts));
  if (!returned->empty()) {
    std::printf("Returned for correction:\n");
    for (const auto& r : *returned) {
      std::printf("  %s  %s %s: \"%s\" — %s\n", r.id.c_str(), unit_label(app, text_of(r, "unit_code")).c_str(),
                  (!text_of(r, "indicator").empty() ? text_of(r, "indicator") : text_of(r, "task")).c_str(), text_of(r, "review_comment").c_str(),
                  text_of(r, "reviewed_by").c_str());
    }
  }
  if (i.clock_ahead) std::printf("Clock      the server says this phone's clock is ahead: set the date and time (its edits cannot win a conflict until then)\n");
  if (app.config.clock_offset_days) std::printf("           (simulated: this device's clock is off by %lld days)\n", static_cast<long long>(app.config.clock_offset_days));
  return 0;
}

int cmd_sync(App& app) {
  const uint64_t conflicts_before = app.info.conflicts;
  auto r = run_sync(app);
  if (!r.ok()) {
    if (r.status().message().starts_with("server_lost_data")) {
      return app.fail(Status(r.code(), r.status().message() + " (this device's own records are intact; the outbox waits)"));
    }
    auto outbox = app.client->outbox();
    const size_t waiting = outbox.ok() ? outbox->size() : 0;
    return app.fail(Status(r.code(), "sync did not finish: " + r.status().message() + " (" + std::to_string(waiting) +
                                         (waiting == 1 ? " change set stays" : " change sets stay") + " in the outbox; nothing is lost)"));
  }
  auto outbox = app.client->outbox();
  auto returned = all_rows(*app.client, kReports, {eq("status", "returned")});
  if (!outbox.ok()) return app.fail(outbox.status());
  if (!returned.ok()) return app.fail(returned.status());
  const SyncReport& s = *r;
  if (app.json) {
    Json j;
    j.begin_object().kv("accepted", s.accepted).kv("duplicates", s.duplicates).kv("rejected", s.rejected).kv("rows_pulled", s.rows_pulled);
    j.kv("attachments_uploaded", s.attachments_uploaded).kv("bytes_sent", s.bytes_sent).kv("bytes_received", s.bytes_received).kv("attempts", s.attempts);
    j.kv("server_log_behind", s.server_log_behind).kv("resent", s.resent);
    j.kv("clock_ahead", app.info.clock_ahead).kv("conflicts", app.info.conflicts).kv("returned", static_cast<uint64_t>(returned->size()));
    j.key("rejections").begin_array();
    for (const auto& e : *outbox) {
      if (e.state == OutboxEntry::rejected) j.begin_object().kv("seq", e.seq).kv("code", e.code).kv("message", e.message).end_object();
    }
    return app.emit(j.end_array().end_object());
  }
  auto count = [](uint64_t n, const char* one, const char* many) { return std::to_string(n) + " " + (n == 1 ? one : many); };
  std::string sent;
  if (s.accepted) sent += count(s.accepted, "change set", "change sets") + " accepted";
  if (s.duplicates) sent += (sent.empty() ? "" : ", ") + count(s.duplicates, "already held", "already held");
  if (s.rejected) sent += (sent.empty() ? "" : ", ") + count(s.rejected, "change set", "change sets") + " REJECTED";
  if (s.attachments_uploaded) sent += (sent.empty() ? "" : ", ") + count(s.attachments_uploaded, "evidence file", "evidence files") + " uploaded";
  std::printf("Synced: %s; received %s (%s up, %s down)\n", sent.empty() ? "nothing to send" : sent.c_str(),
              count(s.rows_pulled, "row", "rows").c_str(), kib(s.bytes_sent).c_str(), kib(s.bytes_received).c_str());
  if (s.server_log_behind) {
    std::printf("  the server had lost part of its log (restored from a backup?): %s sent again from this device\n",
                count(s.resent, "change set", "change sets").c_str());
  }
  for (const auto& e : *outbox) {
    if (e.state == OutboxEntry::rejected) std::printf("  rejected #%llu  %s: %s\n", static_cast<unsigned long long>(e.seq), e.code.c_str(), e.message.c_str());
  }
  if (!returned->empty() && !app.info.all_units) {
    std::printf("  %zu report%s returned for correction: see `tram-field status`\n", returned->size(), returned->size() == 1 ? "" : "s");
  }
  if (app.info.conflicts > conflicts_before) {
    const uint64_t fresh = app.info.conflicts - conflicts_before;
    std::printf("  %llu new conflict%s recorded: see `tram-field status`\n", static_cast<unsigned long long>(fresh), fresh == 1 ? "" : "s");
  }
  if (app.info.clock_ahead) std::printf("  warning: the server says this phone's clock is ahead; set the date and time\n");
  return 0;
}

int cmd_receipt(App& app) {
  const std::string wanted = app.args.positional[0];
  auto r = find_report(app, wanted);
  // A report the server rejected is undone on the device, but its receipt remains: the proof of
  // what the server decided. Full ids find it even without the row.
  Row row;
  if (r.ok()) {
    row = *r;
  } else if (r.code() == Errc::not_found && wanted.size() == 36) {
    row.table = kReports;
    row.id = wanted;
  } else {
    return app.fail(r.status());
  }
  auto receipts = app.client->receipts(kReports, row.id);
  if (!receipts.ok()) return app.fail(receipts.status());
  if (receipts->empty()) {
    if (!r.ok()) return app.fail(r.status());
    return app.fail(Status(Errc::not_found, "no receipt yet for report " + row.id + ": it has not reached the server (run `tram-field sync`)"));
  }
  const Row* report = &row;
  bool all_ok = true;
  std::vector<Status> checks;
  for (const auto& rc : *receipts) {
    checks.push_back(app.client->verify_receipt(rc));
    all_ok = all_ok && checks.back().ok();
  }
  if (app.json) {
    Json j;
    j.begin_object().kv("report", report->id).kv("recorded_at", text_of(*report, "recorded_at")).kv("verified", all_ok).key("receipts").begin_array();
    for (size_t k = 0; k < receipts->size(); ++k) {
      const auto& rc = (*receipts)[k];
      j.begin_object().kv("seq", rc.seq).kv("server_seq", rc.server_seq).kv("id", to_hex(rc.id)).kv("status", rc.status).kv("code", rc.code);
      j.kv("received_at_ms", rc.received_at_ms).kv("received_at", iso_utc(rc.received_at_ms)).kv("clock_ahead", rc.clock_ahead);
      j.kv("verified", checks[k].ok());
      if (!checks[k].ok()) j.kv("error", checks[k].to_string());
      j.kv("body", rc.body).kv("sig", rc.sig).end_object();
    }
    j.end_array().end_object();
    app.emit(j);
    return all_ok ? 0 : kFailed;
  }
  std::printf("Proof of submission for report %s (%s, %s)\n", report->id.c_str(), unit_label(app, text_of(*report, "unit_code")).c_str(), text_of(*report, "period").c_str());
  std::printf("  server key %s (pinned at enrolment)\n", to_hex(app.info.server_key).c_str());
  for (size_t k = 0; k < receipts->size(); ++k) {
    const auto& rc = (*receipts)[k];
    std::printf("  change set #%llu  %s\n", static_cast<unsigned long long>(rc.seq), to_hex(rc.id).c_str());
    std::printf("    received by the server  %s  [%s]\n", human_time(rc.received_at_ms).c_str(), iso_utc(rc.received_at_ms).c_str());
    std::printf("    server_seq              %llu\n", static_cast<unsigned long long>(rc.server_seq));
    std::printf("    status                  %s%s\n", rc.status.c_str(), rc.code.empty() ? "" : (" (" + rc.code + ")").c_str());
    if (rc.clock_ahead) {
      std::printf("    clock_ahead             the device's clock was ahead of the server's (it said %s); the server's time above is the proof\n",
                  text_of(*report, "recorded_at").c_str());
    }
    if (checks[k].ok()) std::printf("    signature verified      Ed25519 by the server over the receipt body\n");
    else std::printf("    SIGNATURE NOT VALID     %s\n", checks[k].to_string().c_str());
  }
  if (!all_ok) return app.fail(Status(Errc::bad_signature, "a receipt does not verify against the pinned server key"));
  return 0;
}

int cmd_export_bundle(App& app) {
  const std::string path = app.args.positional[0];
  auto n = app.client->export_bundle(path);
  if (!n.ok()) return app.fail(Status(n.code(), "cannot write the bundle: " + n.status().message()));
  if (app.json) {
    Json j;
    return app.emit(j.begin_object().kv("file", path).kv("changesets", static_cast<uint64_t>(*n)).end_object());
  }
  std::printf("Wrote %zu signed change set%s to %s.\n", *n, *n == 1 ? "" : "s", path.c_str());
  std::printf("Carry it to the office (`tram-server admin import-bundle --in FILE --out RECEIPTS`), then `tram-field import-receipts RECEIPTS`.\n");
  return 0;
}

int cmd_import_receipts(App& app) {
  auto r = app.client->import_receipts(app.args.positional[0]);
  if (!r.ok()) return app.fail(Status(r.code(), "cannot import the receipts: " + r.status().message()));
  app.info = app.client->info();
  if (app.json) {
    Json j;
    return app.emit(j.begin_object().kv("accepted", r->accepted).kv("duplicates", r->duplicates).kv("rejected", r->rejected).kv("receipts", app.info.receipts).end_object());
  }
  std::printf("Imported receipts: %llu accepted, %llu already held, %llu rejected. %llu change sets still wait in the outbox.\n",
              static_cast<unsigned long long>(r->accepted), static_cast<unsigned long long>(r->duplicates), static_cast<unsigned long long>(r->rejected),
              static_cast<unsigned long long>(app.info.pending));
  return 0;
}

int cmd_dismiss(App& app) {
  const std::string s = app.args.positional[0];
  char* end = nullptr;
  const unsigned long long seq = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || end != s.c_str() + s.size()) return app.fail("dismiss SEQ: the number shown by `tram-field status`");
  if (Status st = app.client->dismiss_rejected(seq); !st.ok()) return app.fail(st);
  if (app.json) {
    Json j;
    return app.emit(j.begin_object().kv("dismissed", static_cast<uint64_t>(seq)).end_object());
  }
  std::printf("Dismissed rejected change set #%llu.\n", seq);
  return 0;
}

int cmd_due(App& app) {
  auto ps = periods(app);
  if (!ps.ok()) return app.fail(ps.status());
  auto p = choose_period(app, *ps, app.args.get("period"));
  if (!p.ok()) return app.fail(p.status());
  auto units = units_in_view(app, app.args.get("unit"));
  if (!units.ok()) return app.fail(units.status());
  DueModel m;
  if (Status st = build_due(app, *p, *units, m); !st.ok()) return app.fail(st);
  const std::string today = app.today();
  const auto pending = pending_rows(app);
  auto is_pending = [&](const DueItem& it) { return it.report && pending.count({kReports, it.report->id}) > 0; };
  // Earlier periods whose deadline passed with something still owed.
  std::vector<std::pair<std::string, size_t>> late_periods;
  if (!app.args.has("period")) {
    for (const auto& q : *ps) {
      if (q.code == p->code || q.unit_due >= today) continue;
      DueModel old;
      if (Status st = build_due(app, q, *units, old); !st.ok()) return app.fail(st);
      size_t owed = 0;
      for (const auto& [u, items] : old.by_unit) {
        for (const auto& it : items) owed += it.late;
      }
      if (owed) late_periods.emplace_back(q.code, owed);
    }
  }
  if (app.json) {
    Json j;
    j.begin_object().kv("today", today).key("period").begin_object().kv("code", p->code).kv("starts", p->starts).kv("ends", p->ends);
    j.kv("unit_due", p->unit_due).kv("finance_due", p->finance_due).kv("overdue", today > p->unit_due).end_object();
    j.key("units").begin_array();
    for (const auto& u : *units) {
      j.begin_object().kv("code", u).kv("name", unit_name(app, u)).key("items").begin_array();
      for (const auto& it : m.by_unit[u]) {
        j.begin_object().kv("kind", it.kind).kv("code", it.code).kv("title", it.title).kv("target", it.target).kv("state", it.state).kv("late", it.late);
        j.key("report");
        if (it.report) j.str(it.report->id);
        else j.null();
        j.kv("pending", is_pending(it)).end_object();
      }
      j.end_array().end_object();
    }
    j.end_array().key("late_periods").begin_array();
    for (const auto& [code, n] : late_periods) j.begin_object().kv("period", code).kv("owed", static_cast<uint64_t>(n)).end_object();
    return app.emit(j.end_array().end_object());
  }
  std::printf("Today %s. Period %s (%s – %s): units report by %s, %s; Sở Tài chính aggregates by %s.\n", today.c_str(), p->code.c_str(), p->starts.c_str(),
              p->ends.c_str(), p->unit_due.c_str(), deadline_note(today, p->unit_due).c_str(), p->finance_due.c_str());
  const bool summary = units->size() > 3;
  if (summary) std::printf("  %s %6s %6s %6s %6s %6s\n", cell("unit", 28).c_str(), "due", "draft", "sent", "accept", "LATE");
  for (const auto& u : *units) {
    const auto& items = m.by_unit[u];
    if (summary) {
      size_t draft = 0, sent = 0, accepted = 0, late = 0;
      for (const auto& it : items) {
        draft += it.state == "draft" || it.state == "returned";
        sent += it.state == "submitted";
        accepted += it.state == "accepted";
        late += it.late;
      }
      std::printf("  %s %6zu %6zu %6zu %6zu %6zu\n", cell(unit_label(app, u), 28).c_str(), items.size(), draft, sent, accepted, late);
      continue;
    }
    std::printf("%s\n", unit_label(app, u).c_str());
    if (items.empty()) std::printf("  nothing assigned to this unit for %s\n", p->code.c_str());
    for (const auto& it : items) {
      std::string state = it.state == "missing" ? "missing" : label(status_labels(), it.state);
      if (it.late) state += "  LATE";
      if (is_pending(it)) state += "  (not synced)";
      std::printf("  %s %s %s\n", cell(it.code, 24).c_str(), cell(it.target, 32).c_str(), state.c_str());
      std::printf("      %s\n", clip(it.title, 96).c_str());
      if (it.report) std::printf("      report %s\n", it.report->id.c_str());
    }
  }
  for (const auto& [code, n] : late_periods) std::printf("Also late: period %s, %zu report%s not submitted (`tram-field due --period %s`)\n", code.c_str(), n, n == 1 ? "" : "s", code.c_str());
  return 0;
}

// ---------------------------------------------------------------------------------------------

const std::vector<Command>& commands() {
  static const std::vector<Command> c = {
      {{"init", "init --server URL --code CODE [--name NAME] [--ca-file FILE] [--pin HEX] [--no-sync]",
        "enrol this device with a code from the administrator",
        "Makes the device's key pair, stores it encrypted in --home, registers it with the server\n"
        "and pins the server's key; then fetches the reference data (units, indicators, periods).\n"
        "--name is the person's name written into reports and reviews (default: the user id).\n"
        "For an https server: --ca-file FILE (PEM) trusts that CA instead of the system's; --pin HEX\n"
        "(the SHA-256 of the server certificate's DER, 64 hex digits) accepts that certificate and\n"
        "no other. Both are kept for every later command. If enrolment fails, nothing is kept in --home.\n",
        {"server", "code", "name", "attempts", "ca-file", "pin"}, {"no-sync"}, {}, 0},
       cmd_init, false},
      {{"due", "due [--period P] [--unit CODE]", "what your units must report for the current period, and what is late",
        "The period is the one whose deadline for units has not passed yet (or --period). Lists each\n"
        "indicator and task the unit owes, its target, and its report's state; LATE marks what is\n"
        "missing, a draft, or returned after the deadline. Province-wide users see one line per unit.\n",
        {"period", "unit"}, {}, {}, 0},
       cmd_due},
      {{"report", "report [--id ID] [--unit CODE] (--indicator CODE | --task CODE) [--period P] --progress P [--value X] ...",
        "record a progress report, or edit a draft or returned one",
        "New report: --indicator or --task, --progress (not_started, on_track, at_risk, done, or in\n"
        "Vietnamese: chưa triển khai, đúng tiến độ, có nguy cơ chậm, hoàn thành); --unit when the\n"
        "device has several; --period (default: the current one).\n"
        "Fields: --value X (78,5 or 78.5) --measure M --narrative TEXT --difficulties TEXT\n"
        "        --proposals TEXT --author NAME --evidence FILE (repeatable) --caption TEXT\n"
        "--submit sends it for review at once. With --id, the given fields of that report change.\n"
        "Saved and signed on the device; sent by the next sync.\n",
        {"id", "unit", "indicator", "task", "period", "value", "measure", "progress", "narrative", "difficulties", "proposals", "evidence", "caption", "author"},
        {"submit"}, {"evidence"}, 0},
       cmd_report},
      {{"list", "list [--period P] [--unit CODE] [--status S]", "the reports on this device", "", {"period", "unit", "status"}, {}, {}, 0}, cmd_list},
      {{"show", "show ID", "one report with its reviews, comments, evidence and receipts", "ID may be a unique prefix.\n", {}, {}, {}, 1}, cmd_show},
      {{"submit", "submit ID", "send a draft or returned report for review (draft/returned → submitted)", "", {}, {}, {}, 1}, cmd_submit},
      {{"comment", "comment ID --text TEXT", "add a comment to a report's exchange", "", {"text"}, {}, {}, 1}, cmd_comment},
      {{"status", "status", "outbox, rejections with the server's reason, conflicts, receipts, last sync", "", {}, {}, {}, 0}, cmd_status},
      {{"sync", "sync [--attempts N]", "send the outbox, upload evidence, receive what changed",
        "Shows a progress bar. If the server cannot be reached, nothing is lost: the outbox waits.\n", {"attempts"}, {}, {}, 0},
       cmd_sync},
      {{"receipt", "receipt ID", "show and verify the server's signed proof of submission of a report",
        "For each change set that wrote the report: the server's time of receipt, its place in the\n"
        "server's log (server_seq), the outcome, and whether the signature verifies against the\n"
        "server key pinned at enrolment.\n",
        {}, {}, {}, 1},
       cmd_receipt},
      {{"export-bundle", "export-bundle FILE", "write the outbox to a file, to carry to the office without signal", "", {}, {}, {}, 1}, cmd_export_bundle},
      {{"import-receipts", "import-receipts FILE", "read the receipts the office's server wrote for a bundle", "", {}, {}, {}, 1}, cmd_import_receipts},
      {{"dismiss", "dismiss SEQ", "forget a change set the server rejected, once fixed or given up", "", {}, {}, {}, 1}, cmd_dismiss},
      {{"reviews", "reviews [--unit CODE] [--period P] [--status S]", "reviewer: reports waiting for review (status submitted)", "", {"unit", "period", "status"}, {}, {}, 0},
       cmd_reviews},
      {{"accept", "accept ID [--comment TEXT] [--reviewer NAME]", "reviewer: accept a submitted report (it is then locked)",
        "Writes the decision as a review row too, in the same signed change set.\n", {"comment", "reviewer"}, {}, {}, 1},
       cmd_accept},
      {{"return", "return ID --comment TEXT [--reviewer NAME]", "reviewer: return a submitted report for correction, saying why",
        "The official sees the comment in `status` and `show`, edits the report and submits it again.\n", {"comment", "reviewer"}, {}, {}, 1},
       cmd_return},
  };
  return c;
}

void print_usage(FILE* out) {
  std::fprintf(out, "tram-field — progress reports for the Sơn La action programme, offline first\n\nUsage: tram-field COMMAND [options]\n\nCommands:\n");
  for (const auto& c : commands()) std::fprintf(out, "  %s %s\n", cell(c.spec.name, 16).c_str(), c.spec.summary.c_str());
  std::fprintf(out, "\n`tram-field COMMAND --help` describes one command.\n\n%s", kGlobalHelp);
}

}  // namespace

int main(int argc, char** argv) {
  // The device's key, records and evidence are this user's alone: every file and directory this
  // program (and the SDK in it) creates is 0600 / 0700.
  ::umask(077);
  std::vector<std::string> rest;
  std::string name;
  // The command is the first word that is not an option or a global option's value.
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (name.empty() && a.rfind("--", 0) != 0) {
      name = a;
      continue;
    }
    rest.push_back(a);
    if (name.empty() && a.find('=') == std::string::npos && global_values().count(a.substr(2)) && i + 1 < argc) rest.push_back(argv[++i]);
  }
  if (name.empty() || name == "help") {
    const bool asked = name == "help" || std::find(rest.begin(), rest.end(), "--help") != rest.end();
    print_usage(asked ? stdout : stderr);
    return asked ? 0 : kUsage;
  }
  const Command* cmd = nullptr;
  for (const auto& c : commands()) {
    if (c.spec.name == name) cmd = &c;
  }
  if (!cmd) {
    std::fprintf(stderr, "tram-field: unknown command '%s' (`tram-field --help` lists them)\n", name.c_str());
    return kUsage;
  }
  App app;
  std::string error;
  if (!parse_args(cmd->spec, rest, app.args, error)) {
    std::fprintf(stderr, "tram-field: %s\n", error.c_str());
    return kUsage;
  }
  if (app.args.has("help")) {
    std::printf("Usage: tram-field %s\n\n%s\n%s%s\n%s", cmd->spec.usage.c_str(), cmd->spec.summary.c_str(), cmd->spec.help.empty() ? "" : "\n",
                cmd->spec.help.c_str(), kGlobalHelp);
    return 0;
  }
  app.json = app.args.has("json");
  app.home = app.args.get("home", default_home());
  app.schemas = app.args.get("schemas", TRAM_DEFAULT_SCHEMAS_DIR);
  crypto_init();
  if (cmd->needs_enrolment) {
    if (Status st = open_device(app, false); !st.ok()) return app.fail(st);
    if (!app.info.enrolled) return app.fail(Status(Errc::not_enrolled, "this device is not enrolled yet: run `tram-field init --server URL --code CODE`"));
  }
  return cmd->run(app);
}
