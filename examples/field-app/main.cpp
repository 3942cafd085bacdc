// tram-field: the commune official's tool (and the reviewer's) on the Tram client SDK.
// Reports are recorded offline into the device's own database and signed there; `sync` sends
// them when there is signal, and `receipt` shows the server's signed proof of submission.
// Run `tram-field --help`. This file holds the command table and main(); each command group
// lives in its own file (app.hpp lists them; README.md says what lives where).
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "app.hpp"
#include "tram/engine/crypto.hpp"

using namespace tram;
using namespace tram::field;

namespace {

// The schema when --schemas is not given: an installed tram-field (cmake --install, PREFIX/bin)
// finds PREFIX/share/tram/schemas/sonla-2026; in the build tree, the repository's.
std::string default_schemas() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto installed = exe.parent_path().parent_path() / "share" / "tram" / "schemas" / "sonla-2026";
    if (std::filesystem::exists(installed / "v1.json", ec)) return installed.string();
  }
  return TRAM_DEFAULT_SCHEMAS_DIR;
}

using Handler = int (*)(App&);

struct Command {
  CommandSpec spec;
  Handler run;
  bool needs_enrolment = true;
};

const char* kGlobalHelp = R"(Options every command takes:
  --home DIR        the device's own data (DIR/device.db); default $TRAM_FIELD_HOME or ~/.tram-field
  --schemas DIR     the schema's version files; default PREFIX/share/tram/schemas/sonla-2026 when
                    installed, else the repository's schemas/sonla-2026
  --json            machine-readable output on stdout (one JSON object)
  --help            this help
The key that protects the device's secret comes from TRAM_FIELD_KEY (64 hex digits) or, when it
is not set, from a passphrase asked on the terminal.
)";

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
        "indicator and task the unit owes, its target, and its report's state. LATE marks a report\n"
        "submitted after the deadline, or nothing submitted (missing, a draft) once it has passed; a\n"
        "returned report keeps the timeliness of its submission (docs/operations.md §8, the same rule\n"
        "as the province report). The report's value is judged against the target only in the period\n"
        "that holds the indicator's deadline: before it the target is not yet due, after it a missed\n"
        "target stays listed as OVERDUE; a value in another unit than the target's is not compared.\n"
        "Dates are Vietnam's (UTC+7), whatever the phone's time zone. Province-wide users see one\n"
        "line per unit.\n",
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
      {{"sync", "sync [--attempts N] [--max-time-s S]", "send the outbox, upload evidence, receive what changed",
        "Shows progress: bytes sent of the total, the rate, the time left (one updating line on a\n"
        "terminal, plain lines otherwise). A cut or a stall does not end it: it goes on from where the\n"
        "server stands (an evidence file from the last byte the server holds) for as long as each try\n"
        "moves something, until done or --max-time-s (default 1800) has passed, or Ctrl-C.\n"
        "--attempts N: give up after N tries in a row that moved nothing (default 4).\n"
        "If the server cannot be reached, nothing is lost: the outbox waits.\n", {"attempts", "max-time-s"}, {}, {}, 0},
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
  app.schemas = app.args.get("schemas", default_schemas());
  crypto_init();
  if (cmd->needs_enrolment) {
    if (Status st = open_device(app, false); !st.ok()) return app.fail(st);
    if (!app.info.enrolled) return app.fail(Status(Errc::not_enrolled, "this device is not enrolled yet: run `tram-field init --server URL --code CODE`"));
  }
  return cmd->run(app);
}

