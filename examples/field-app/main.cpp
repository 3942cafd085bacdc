// tram-field: the commune official's tool (and the reviewer's) on the Tram client SDK.
// Reports are recorded offline into the device's own database and signed there; `sync` sends
// them when there is signal, and `receipt` shows the server's signed proof of submission.
// Run `tram-field --help`. This file holds the command table and main(); each command group
// lives in its own file (app.hpp lists them; README.md says what lives where).
#include <sys/stat.h>

// CLI11 parses the options (subcommands, required and unknown options); included here only: it is
// a large header.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "app.hpp"
#include "i18n.hpp"
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

const char* const kGlobalHelp = N_(R"(Options every command takes:
  --home DIR        the device's own data (DIR/device.db); default $TRAM_FIELD_HOME or ~/.tram-field
  --schemas DIR     the schema's version files; default PREFIX/share/tram/schemas/sonla-2026 when
                    installed, else the repository's schemas/sonla-2026
  --json            machine-readable output on stdout (one JSON object)
  --lang vi|en      the language of messages (default: from LANG, e.g. LANG=vi_VN.UTF-8)
  --help            this help
  --version         the version of tram-field
The key that protects the device's secret (the passphrase that unlocks this device's signing key)
comes from TRAM_FIELD_KEY (64 hex digits) or, when it is not set, from a passphrase asked on the
terminal. Forgetting the passphrase loses the reports not yet sent.
)");

// ---------------------------------------------------------------------------------------------

const std::vector<Command>& commands() {
  static const std::vector<Command> c = {
      {{"init", "init --server URL --code CODE [--name NAME] [--ca-file FILE] [--pin HEX] [--no-sync]", N_("enrol this device with a code from the administrator"),
        N_("Makes the device's key pair, stores it encrypted in --home, registers it with the server\n"
        "and pins the server's key; then fetches the reference data (units, indicators, periods).\n"
        "--name is the person's name written into reports and reviews (default: the user id).\n"
        "For an https server: --ca-file FILE (PEM) trusts that CA instead of the system's; --pin HEX\n"
        "(the SHA-256 of the server certificate's DER, 64 hex digits) accepts that certificate and\n"
        "no other. Both are kept for every later command. If enrolment fails, nothing is kept in --home.\n"),
        {"server", "code", "name", "attempts", "ca-file", "pin"}, {"no-sync"}, {}, 0, {"server", "code"}},
       cmd_init, false},
      {{"due", "due [--period P] [--unit CODE] [--full]", N_("what your units must report for the current period, and what is late"),
        N_("The period is the one whose deadline for units has not passed yet (or --period). Lists each\n"
        "indicator and task the unit owes, its target, and its report's state. LATE marks a report\n"
        "submitted after the deadline, or nothing submitted (missing, a draft) once it has passed; a\n"
        "returned report keeps the timeliness of its submission (docs/operations.md §8, the same rule\n"
        "as the province report). The report's value is judged against the target only in the period\n"
        "that holds the indicator's deadline: before it the target is not yet due, after it a missed\n"
        "target stays listed as OVERDUE; a value in another unit than the target's is not compared.\n"
        "Dates are Vietnam's (UTC+7), whatever the phone's time zone. Province-wide users see one\n"
        "line per unit. --full prints each task's whole wording from the programme.\n"),
        {"period", "unit"}, {"full"}, {}, 0},
       cmd_due},
      {{"report", "report [--id ID] [--unit CODE] (--indicator CODE | --task CODE) [--period P] --progress P [--value X] ...", N_("record a progress report, or edit a draft or returned one"),
        N_("New report: --indicator or --task, --progress (not_started, on_track, at_risk, done, or in\n"
        "Vietnamese: chưa triển khai, đúng tiến độ, có nguy cơ chậm, hoàn thành); --unit when the\n"
        "device has several; --period (default: the current one).\n"
        "Fields: --value X (78,5 or 78.5) --measure M --narrative TEXT --difficulties TEXT\n"
        "        --proposals TEXT --author NAME --evidence FILE (repeatable) --caption TEXT\n"
        "--submit sends it for review at once. With --id, the given fields of that report change.\n"
        "Saved and signed on the device; sent by the next sync.\n"),
        {"id", "unit", "indicator", "task", "period", "value", "measure", "progress", "narrative", "difficulties", "proposals", "evidence", "caption", "author"},
        {"submit"}, {"evidence"}, 0},
       cmd_report},
      {{"list", "list [--period P] [--unit CODE] [--status S]", N_("the reports on this device"), "", {"period", "unit", "status"}, {}, {}, 0}, cmd_list},
      {{"show", "show ID [--save DIR | --open]", N_("one report with its reviews, comments, evidence and receipts"),
        N_("ID may be a unique prefix.\n"
        "--save DIR writes the report's evidence files into DIR, named by their hash and type\n"
        "(HASH.jpg), and says where; --open writes them to a new temporary directory and opens each\n"
        "with xdg-open (without it, says where the file is). A file this device does not hold is\n"
        "downloaded from the server (which serves it only to devices that may read the report) and\n"
        "kept only if its bytes hash to its name; a download cut short goes on from where it stopped.\n"),
        {"save"}, {"open"}, {}, 1},
       cmd_show},
      {{"submit", "submit ID", N_("send a draft or returned report for review (draft/returned → submitted)"), "", {}, {}, {}, 1}, cmd_submit},
      {{"comment", "comment ID --text TEXT", N_("add a comment to a report's exchange"), "", {"text"}, {}, {}, 1, {"text"}}, cmd_comment},
      {{"status", "status", N_("outbox, rejections with the server's reason, conflicts, receipts, last sync"), "", {}, {}, {}, 0}, cmd_status},
      {{"sync", "sync [--attempts N] [--max-time-s S]", N_("send the outbox, upload evidence, receive what changed"),
        N_("Shows progress: bytes sent of the total, the rate, the time left (one updating line on a\n"
        "terminal, plain lines otherwise). A cut or a stall does not end it: it goes on from where the\n"
        "server stands (an evidence file from the last byte the server holds) for as long as each try\n"
        "moves something, until done or --max-time-s (default 1800) has passed, or Ctrl-C.\n"
        "--attempts N: give up after N tries in a row that moved nothing (default 4).\n"
        "If the server cannot be reached, nothing is lost: the outbox waits.\n"), {"attempts", "max-time-s"}, {}, {}, 0},
       cmd_sync},
      {{"receipt", "receipt ID", N_("show and verify the server's signed proof of submission of a report"),
        N_("For each change set that wrote the report: the server's time of receipt, its place in the\n"
        "server's log (server_seq), the outcome, and whether the signature verifies against the\n"
        "server key pinned at enrolment.\n"),
        {}, {}, {}, 1},
       cmd_receipt},
      {{"export-bundle", "export-bundle FILE", N_("write the outbox to a file, to carry to the office without signal"), "", {}, {}, {}, 1}, cmd_export_bundle},
      {{"import-receipts", "import-receipts FILE", N_("read the receipts the office's server wrote for a bundle"), "", {}, {}, {}, 1}, cmd_import_receipts},
      {{"dismiss", "dismiss SEQ", N_("forget a change set the server rejected, once fixed or given up"), "", {}, {}, {}, 1}, cmd_dismiss},
      {{"reset", "reset [--export-bundle FILE | --discard-unsent] [--yes]", N_("forget this device (key, records, outbox) to enrol --home again"),
        N_("For a forgotten passphrase, or a phone handed to someone else. What has not reached the\n"
        "server (change sets in the outbox, evidence files not uploaded) would be lost: on a terminal\n"
        "reset offers to write it to a bundle file first; otherwise it refuses unless given\n"
        "--export-bundle FILE (write the bundle, then reset) or --discard-unsent (lose it).\n"
        "Writing the bundle needs the passphrase (the bundle is signed with the device's key): with\n"
        "the passphrase forgotten, the unsent change sets can only be discarded. --yes: do not ask\n"
        "for confirmation when nothing is unsent. The server keeps the old device until revoked.\n"),
        {"export-bundle"}, {"discard-unsent", "yes"}, {}, 0},
       cmd_reset, false},
      {{"reviews", "reviews [--unit CODE] [--period P] [--status S]", N_("reviewer: reports waiting for review (status submitted)"), "", {"unit", "period", "status"}, {}, {}, 0},
       cmd_reviews},
      {{"accept", "accept ID [--comment TEXT] [--reviewer NAME]", N_("reviewer: accept a submitted report (it is then locked)"), N_("Writes the decision as a review row too, in the same signed change set.\n"), {"comment", "reviewer"}, {}, {}, 1},
       cmd_accept},
      {{"return", "return ID --comment TEXT [--reviewer NAME]", N_("reviewer: return a submitted report for correction, saying why"), N_("The official sees the comment in `status` and `show`, edits the report and submits it again.\n"),
        {"comment", "reviewer"}, {}, {}, 1, {"comment"}},
       cmd_return},
      // Ad hoc reports (programme section III.3): adhoc.cpp.
      {{"adhoc", "adhoc --kind K --subject TEXT --body TEXT [--proposal TEXT] [--task CODE] [--unit CODE] [--submit] | adhoc --id ID [--submit]",
        N_("record an ad hoc report (difficulty or adjustment) to the Department of Finance"),
        N_("An ad hoc report (báo cáo đột xuất) goes to the Provincial People's Committee through the\n"
        "Department of Finance whenever a difficulty arises or the programme needs adjusting, outside\n"
        "the 6-monthly and annual reports. --kind difficulty (kho-khan: khó khăn, vướng mắc) or\n"
        "adjustment (dieu-chinh: đề nghị điều chỉnh, bổ sung); --task CODE the task it concerns.\n"
        "It is signed on this device and leaves with the next sync; without --submit it stays a draft.\n"
        "--id ID edits a draft (--subject, --body, --proposal, --task, --kind) or, with --submit, sends it.\n"),
        {"id", "kind", "subject", "body", "proposal", "task", "unit"}, {"submit"}, {}, 0},
       cmd_adhoc},
      {{"adhocs", "adhocs [--unit CODE] [--status S]", N_("the ad hoc reports this device can see, newest first, with responses"), "", {"unit", "status"}, {}, {}, 0},
       cmd_adhocs},
      {{"adhoc-reply", "adhoc-reply ID --response TEXT", N_("reviewer: acknowledge a submitted ad hoc report with a response"),
        N_("The response and the reviewer's name reach the unit with its next sync (`tram-field adhocs`).\n"), {"response"}, {}, {}, 1, {"response"}},
       cmd_adhoc_reply},
  };
  return c;
}

void print_usage(FILE* out) {
  std::fprintf(out, "%s", _("tram-field — progress reports for the Sơn La action programme, offline first\n\nUsage: tram-field COMMAND [options]\n\nCommands:\n"));
  for (const auto& c : commands()) std::fprintf(out, "  %s %s\n", cell(c.spec.name, 16).c_str(), _(c.spec.summary.c_str()));
  std::fprintf(out, "\n%s\n\n%s", _("`tram-field COMMAND --help` describes one command."), _(kGlobalHelp));
}

void print_help(const CommandSpec& spec) {
  std::printf("%s\n\n%s\n", fmt(_("Usage: tram-field {1}"), spec.usage).c_str(), _(spec.summary.c_str()));
  if (!spec.help.empty()) std::printf("\n%s", _(spec.help.c_str()));
  std::printf("\n%s", _(kGlobalHelp));
}

// A mistake on the command line: what was wrong, and where the help is; exit code 2.
int usage_error(const std::string& command, const std::string& message, const std::string& hint = "") {
  std::fprintf(stderr, "tram-field: %s\n", message.c_str());
  if (!hint.empty()) std::fprintf(stderr, "tram-field: %s\n", hint.c_str());
  std::fprintf(stderr, "%s\n", (command.empty() ? std::string(_("Run 'tram-field --help' for the commands."))
                                                : fmt(_("Run 'tram-field {1} --help' for its options."), command))
                                   .c_str());
  return kUsage;
}

// The words before "--" (after it everything is a positional argument).
std::vector<std::string> option_words(int argc, char** argv) {
  std::vector<std::string> out;
  for (int i = 1; i < argc && std::string_view(argv[i]) != "--"; ++i) out.emplace_back(argv[i]);
  return out;
}

// The value of a global option given before the command parsing starts (--lang is needed for
// the first message already), or "".
std::string early_value(const std::vector<std::string>& words, const std::string& name) {
  for (size_t i = 0; i < words.size(); ++i) {
    if (words[i] == "--" + name && i + 1 < words.size()) return words[i + 1];
    if (words[i].rfind("--" + name + "=", 0) == 0) return words[i].substr(name.size() + 3);
  }
  return "";
}

// Parses one command's options with CLI11 into app.args; a mistake is reported here (exit 2).
std::optional<int> parse_command(const Command& cmd, int argc, char** argv, Args& args) {
  const CommandSpec& spec = cmd.spec;
  CLI::App cli{"tram-field", "tram-field"};
  cli.set_help_flag();  // --help was answered before parsing, in the user's language
  // Unknown words are collected rather than thrown, so that each gets its own message and hint.
  cli.allow_extras(true);
  std::map<std::string, std::vector<CLI::Option*>> given;  // the same option before and after the command
  std::deque<std::string> single;
  std::deque<std::vector<std::string>> multi;
  auto add_globals = [&](CLI::App* to) {
    for (const auto& n : global_values()) given[n].push_back(to->add_option("--" + n, single.emplace_back()));
    for (const auto& n : global_flags()) {
      if (n != "help") given[n].push_back(to->add_flag("--" + n));
    }
  };
  add_globals(&cli);
  CLI::App* sub = cli.add_subcommand(spec.name, spec.summary);
  add_globals(sub);
  for (const auto& n : spec.values) {
    CLI::Option* o = spec.repeatable.count(n) ? sub->add_option("--" + n, multi.emplace_back())
                                                    ->allow_extra_args(false)
                                                    ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
                                              : sub->add_option("--" + n, single.emplace_back());
    if (spec.required.count(n)) o->required();
    given[n].push_back(o);
  }
  for (const auto& n : spec.flags) given[n].push_back(sub->add_flag("--" + n));
  std::vector<std::string>& positional = multi.emplace_back();
  CLI::Option* pos = nullptr;
  if (spec.positionals) pos = sub->add_option("ARG", positional)->expected(0, static_cast<int>(spec.positionals) + 8);

  std::set<std::string> known = global_values();
  known.insert(global_flags().begin(), global_flags().end());
  known.insert(spec.values.begin(), spec.values.end());
  known.insert(spec.flags.begin(), spec.flags.end());
  const std::string usage_hint = fmt(_("usage: tram-field {1}"), spec.usage);
  // An option that takes a value followed by another option or by nothing: CLI11 would take the
  // next option as the value.
  const auto words = option_words(argc, argv);
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    const std::string name = w.size() > 2 ? w.substr(2) : "";
    const bool takes_value = w.rfind("--", 0) == 0 && w.find('=') == std::string::npos && (spec.values.count(name) || global_values().count(name));
    const bool next_is_option = i + 1 < words.size() && words[i + 1].rfind("--", 0) == 0 && known.count(words[i + 1].substr(2, words[i + 1].find('=') - 2));
    if (takes_value && (i + 1 == words.size() || next_is_option)) return usage_error(spec.name, fmt(_("--{1} needs a value"), name), usage_hint);
  }
  // After "--" every word is a positional argument (a report id starting with "-"): given to
  // CLI11 without them.
  std::vector<std::string> after_mark;
  int cli_argc = argc;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "--") {
      cli_argc = i;
      after_mark.assign(argv + i + 1, argv + argc);
      break;
    }
  }
  try {
    cli.parse(cli_argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 says what went wrong in English; the common cases are said here in the user's words.
    for (const auto& [n, opts] : given) {
      for (CLI::Option* o : opts) {
        if (o->get_required() && o->count() == 0) return usage_error(spec.name, fmt(_("--{1} is required for '{2}'"), n, spec.name), usage_hint);
        if (!spec.repeatable.count(n) && o->count() > 1 && !global_flags().count(n) && !spec.flags.count(n)) {
          return usage_error(spec.name, fmt(_("--{1} given twice"), n));
        }
      }
    }
    if (pos && positional.size() > spec.positionals) {
      return usage_error(spec.name, fmt(P_("'{1}' takes {2} argument", "'{1}' takes {2} arguments", spec.positionals), spec.name,
                                        std::to_string(spec.positionals)),
                         usage_hint);
    }
    return usage_error(spec.name, e.what(), usage_hint);
  }
  // What CLI11 did not recognise: an unknown option (with what was probably meant), or a word.
  std::vector<std::string> unknown, stray;
  for (const std::string& r : cli.remaining(true)) {
    if (r == "--") continue;
    (r.size() > 1 && r[0] == '-' && !(r[1] >= '0' && r[1] <= '9') ? unknown : stray).push_back(r);
  }
  if (!unknown.empty()) {
    const std::string& u = unknown.front();
    const std::string bare = u.substr(u.find_first_not_of('-'), u.find('=') == std::string::npos ? std::string::npos : u.find('=') - u.find_first_not_of('-'));
    const std::string meant = closest(bare, known);
    return usage_error(spec.name, fmt(_("unknown option {1} for '{2}'"), u, spec.name),
                       meant.empty() ? std::string() : fmt(_("did you mean --{1}?"), meant));
  }
  positional.insert(positional.end(), after_mark.begin(), after_mark.end());
  if (positional.size() != spec.positionals || !stray.empty()) {
    if (spec.positionals == 0) return usage_error(spec.name, fmt(_("'{1}' takes no arguments (given: {2})"), spec.name, stray.empty() ? positional.front() : stray.front()), usage_hint);
    return usage_error(spec.name, fmt(P_("'{1}' takes {2} argument", "'{1}' takes {2} arguments", spec.positionals), spec.name,
                                      std::to_string(spec.positionals)),
                       usage_hint);
  }
  args.command = spec.name;
  args.positional = positional;
  for (const auto& [n, opts] : given) {
    for (CLI::Option* o : opts) {
      if (o->count() == 0) continue;
      auto& slot = args.options[n];
      if (global_flags().count(n) || spec.flags.count(n)) slot.push_back("1");
      else for (const auto& v : o->results()) slot.push_back(v);
    }
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  // The device's key, records and evidence are this user's alone: every file and directory this
  // program (and the SDK in it) creates is 0600 / 0700.
  ::umask(077);
  const std::vector<std::string> words = option_words(argc, argv);
  std::string lang_error;
  const bool lang_ok = init_language(early_value(words, "lang"), lang_error);
  // The command is the first word that is not an option or a global option's value.
  std::string name;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w.rfind("-", 0) != 0) {
      name = w;
      break;
    }
    if (w.find('=') == std::string::npos && global_values().count(w.substr(2))) ++i;
  }
  const auto has = [&](const char* w) { return std::find(words.begin(), words.end(), w) != words.end(); };
  if (!lang_ok) return usage_error("", lang_error);
  if (has("--version")) {
    std::printf("tram-field %s\n", TRAM_VERSION);
    return 0;
  }
  if (name.empty() || name == "help") {
    const bool asked = name == "help" || has("--help") || has("-h");
    print_usage(asked ? stdout : stderr);
    return asked ? 0 : kUsage;
  }
  const Command* cmd = nullptr;
  std::set<std::string> names;
  for (const auto& c : commands()) {
    if (c.spec.name == name) cmd = &c;
    names.insert(c.spec.name);
  }
  if (!cmd) {
    const std::string meant = closest(name, names);
    return usage_error("", fmt(_("unknown command '{1}'"), name), meant.empty() ? std::string() : fmt(_("did you mean '{1}'?"), meant));
  }
  if (has("--help") || has("-h")) {
    print_help(cmd->spec);
    return 0;
  }
  App app;
  if (auto rc = parse_command(*cmd, argc, argv, app.args)) return *rc;
  app.json = app.args.has("json");
  app.home = app.args.get("home", default_home());
  app.schemas = app.args.get("schemas", default_schemas());
  crypto_init();
  if (cmd->needs_enrolment) {
    if (Status st = open_device(app, false); !st.ok()) return app.fail(st);
    if (!app.info.enrolled) return app.fail(Status(Errc::not_enrolled, _("this device is not enrolled yet: run `tram-field init --server URL --code CODE`")));
  }
  return cmd->run(app);
}
