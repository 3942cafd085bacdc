// tram-field init: enrolment with a code from the administrator, then the first sync.
#include "app.hpp"

#include <cctype>
#include <set>

#include "tram/engine/text.hpp"

namespace fs = std::filesystem;

namespace tram::field {

using namespace tram::client;

namespace {


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

}  // namespace

int cmd_init(App& app) {
  const std::string server = app.args.get("server"), code_typed = app.args.get("code");
  if (server.empty() || code_typed.empty()) return app.fail(_("init needs --server URL and --code CODE"), Errc::invalid_argument);
  InitCleanup cleanup(app);
  if (Status st = open_device(app, true); !st.ok()) return app.fail(st);
  if (app.info.enrolled) {
    return app.fail(Status(Errc::already_exists, fmt(_("this device is already enrolled as {1} at {2}; use another --home for another user"),
                                                         app.info.user, app.info.server_url)));
  }
  // The server compares the exact string: upper-case it and put the dashes back (protocol.md §5.1).
  std::string code;
  for (char c : code_typed) {
    if (std::isalnum(static_cast<unsigned char>(c))) code.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  if (code.size() == 16) code = code.substr(0, 4) + "-" + code.substr(4, 4) + "-" + code.substr(8, 4) + "-" + code.substr(12, 4);
  if (Status st = app.client->enroll(server, code); !st.ok()) {
    return app.fail(Status(st.code(), fmt(_("enrolment failed: {1} (nothing was kept in {2})"), st.message(), app.home)));
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
    if (!app.json) std::printf("%s\n", _("Enrolled. Fetching the programme's reference data…"));
    first.emplace(run_sync(app));
  }
  std::string units;
  for (const auto& u : app.info.units) units += (units.empty() ? "" : ", ") + unit_label(app, u);
  if (app.info.all_units) units = _("all units of the province");
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
  std::printf("%s\n", fmt(_("This device acts for {1} ({2}, {3}) on {4}."), app.person(), app.info.user, role_label(app.info.role), units).c_str());
  std::printf("%s\n%s\n", fmt(_("Device key {1} (this device's signature on its reports)"), to_hex(app.info.device)).c_str(),
              fmt(_("Server key {1} (pinned: receipts are checked against it)"), to_hex(app.info.server_key)).c_str());
  if (first && first->ok()) std::printf("%s\n", fmt(_("Received {1} rows. Ready to work offline."), std::to_string((*first)->rows_pulled)).c_str());
  if (first && !first->ok()) {
    std::printf("%s\n", fmt(_("The first sync did not finish ({1}); run `tram-field sync` when there is signal."), first->status().to_string()).c_str());
  }
  return 0;
}

}  // namespace tram::field
