// What every tram-field command shares: the state one command runs with (App), the device's
// own settings, opening the device through the SDK, reading rows, words for people, values
// typed by an official, and the declarations of the command groups (one file each):
//   init.cpp         init                          enrolment
//   report_form.cpp  report, submit, comment       the official's report forms
//   review.cpp       accept, return, reviews, list, show
//   outbox.cpp       status, receipt, export-bundle, import-receipts, dismiss
//   sync.cpp         sync (and the progress bar)
//   due.cpp          due: what is owed and late, by the report library's rule (report/)
//   adhoc.cpp        adhoc, adhocs, adhoc-reply   ad hoc reports (báo cáo đột xuất)
#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli.hpp"
#include "i18n.hpp"
#include "tram/client.hpp"
#include "tram/report/inputs.hpp"
#include "tram/report/timeliness.hpp"

namespace tram::field {

constexpr int kFailed = 1, kUsage = 2;
constexpr const char* kReports = "progress_report";

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
  Config config;
  std::unique_ptr<client::Client> client;
  client::DeviceInfo info;

  // The SDK's schema (Client::schema): the app does not load it a second time.
  const TableDef& table(const char* name) const { return *client->schema().table(name); }

  // Reports a failure: a line on stderr, and an error object on stdout for --json.
  int fail(const Status& st, int code = kFailed);
  int fail(const std::string& message, Errc code = Errc::invalid_argument) { return fail(Status(code, message)); }
  int emit(const Json& j) {
    std::printf("%s\n", j.str().c_str());
    return 0;
  }
  // Today in Vietnam (UTC+7, no daylight saving), the calendar every deadline and recorded date is
  // counted in (report/include/tram/report/timeliness.hpp), whatever the phone's time zone.
  std::string today() { return reporting::vietnam_date(clock.now_ms()); }
  // The name reports carry as author: the one the administrator registered (the server refuses
  // another), else the one given at init, else the user id.
  std::string person() { return !info.name.empty() ? info.name : !config.name.empty() ? config.name : info.user; }
};

// The device (app.cpp).
std::string default_home();
Status save_config(const App& app);
// Opens --home (creating it for init), with the settings and the key; fills app.client and info.
Status open_device(App& app, bool creating);

// Rows through the SDK (app.cpp).
std::string text_of(const client::Row& r, const std::string& field);
client::Filter eq(const std::string& field, std::string_view text);
// Every row of a table that matches, page by page.
Result<std::vector<client::Row>> all_rows(client::Client& c, const std::string& table, std::vector<client::Filter> where = {},
                                          const std::string& order_by = "");
std::string unit_name(App& app, const std::string& code);
std::string unit_label(App& app, const std::string& code);
// A report by its id or a unique prefix of it (ids are long; people copy the start).
Result<client::Row> find_report(App& app, const std::string& id);
// A row of `table` by its id or a unique prefix of it (4 characters or more). `give_id` is the
// message for an empty id, `none` for no match ({1}: the id; it says how to list them).
Result<client::Row> find_row(App& app, const std::string& table, const std::string& id, const std::string& give_id,
                             const std::string& none);
// Whether this device has edits to a row the server has not confirmed yet.
bool is_pending(App& app, const std::string& table, const std::string& id);

// Words for people (app.cpp).
const std::map<std::string, std::string>& progress_labels();
const std::map<std::string, std::string>& status_labels();
std::string label(const std::map<std::string, std::string>& m, const std::string& k);
// A report's status where it stands alone or in a column: the glossary's word in Vietnamese
// ("bản nháp"), the schema's word in English ("draft"), as the scripts reading English expect.
std::string status_word(const std::string& status);
// A user's role as people say it (official → cán bộ xã, phường in Vietnamese).
std::string role_label(const std::string& role);
// Accepts the schema's values and the Vietnamese words an official would type.
std::optional<std::string> parse_progress(const std::string& s);
std::string content_type_of(const std::filesystem::path& p);
std::string kib(uint64_t bytes);
// A field value from what was typed, by the schema's type, checked against its constraints now
// so the official hears about a mistake before anything is signed.
Result<Value> field_value(const TableDef& t, const std::string& field, const std::string& typed);

// What a command's flags write into one row (report, adhoc): each typed value is checked
// against the schema as it is set, and the first problem is kept to be reported once.
struct FieldForm {
  explicit FieldForm(const TableDef& t) : table(t) {}
  void set(const std::string& field, const std::string& typed);
  // The fields every new report carries: its unit, author, when and on which device it was
  // recorded (the phone's clock), and its status (draft, or submitted at once with --submit).
  void set_new_report(App& app, const std::string& unit, const std::string& author);
  const TableDef& table;
  std::map<std::string, Value> fields{};
  std::string problem{};
};

// The programme's data as the report library reads it, from this device's replica (due.cpp),
// with receipt times from this device's own receipts.
Result<reporting::ReportInputs> load_inputs(App& app, bool receipt_times);
// The period asked for, or the current one (the report library's rule).
Result<reporting::ReportPeriod> choose_period(App& app, const reporting::ReportInputs& in, const std::string& wanted);

// Shared between groups.
Result<client::SyncReport> run_sync(App& app);         // sync.cpp
int transition(App& app, const std::string& to);       // review.cpp: submit, accept, return

// The commands.
int cmd_init(App& app);
int cmd_due(App& app);
int cmd_report(App& app);
int cmd_submit(App& app);
int cmd_comment(App& app);
int cmd_accept(App& app);
int cmd_return(App& app);
int cmd_list(App& app);
int cmd_reviews(App& app);
int cmd_show(App& app);
int cmd_status(App& app);
int cmd_sync(App& app);
int cmd_receipt(App& app);
int cmd_export_bundle(App& app);
int cmd_import_receipts(App& app);
int cmd_dismiss(App& app);
int cmd_reset(App& app);  // outbox.cpp
int cmd_adhoc(App& app);        // adhoc.cpp: ad hoc reports (báo cáo đột xuất)
int cmd_adhocs(App& app);
int cmd_adhoc_reply(App& app);

}  // namespace tram::field
