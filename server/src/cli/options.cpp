// The options of every command, parsed with CLI11: the command line, then the environment
// (TRAM_DATA, TRAM_LISTEN, TRAM_SCHEMAS, TRAM_THREADS, TRAM_TLS_CERT, TRAM_TLS_KEY, TRAM_WEB), then a
// config file (--config FILE, lines "key = value"); what comes first wins. Unknown commands and
// options (a typo such as `serve --port` or `report --cvs`) are errors with exit code 2 and a hint,
// never silently ignored. CLI11 is included here only: it is a large header.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <algorithm>
#include <set>

#include "cli/cli.hpp"
#include "cli/i18n.hpp"

namespace tram::server::cli {

// TRANSLATORS: keep the commands and --options as they are; translate the words in brackets
// and the explanations.
const char* const kUsage = N_(R"(Commands:
  tram-server serve --data DIR [--listen HOST:PORT] [--schemas DIR] [--threads N]
                    [--tls-cert FILE.pem --tls-key FILE.pem]
                    [--max-connections N] [--max-connections-per-ip N] [--max-connections-per-device N]
                    [--max-body-bytes N]
                    [--request-timeout-s 30] [--max-request-s 3600] [--idle-timeout-s 120]
                    [--ws-recheck-s 5] [--shutdown-grace-s 10] [--web DIR]
                    (--web: the web app's built files, served at /; default web/dist if it exists)
  tram-server seed  --data DIR [--schemas DIR]
  tram-server admin create-user --data DIR --id USER --role official|department|reviewer|admin
                                [--units CODE,CODE,...] [--all-units] [--name "Lò Văn Minh"]
                                (--name: the name the user's reports must carry as author)
  tram-server admin enrol-code  --data DIR --user USER [--ttl-hours 72]
  tram-server admin delete-user --data DIR --id USER     (their devices are revoked; what they sent stays)
  tram-server admin devices     --data DIR               (enrolment and last change set, Vietnam time)
  tram-server admin users       --data DIR
  tram-server admin units       --data DIR               (the communes and wards: code, name, type)
  tram-server admin revoke      --data DIR --device HEX
  tram-server admin release     --data DIR --device HEX
  tram-server admin backup      --data DIR --to FILE
  tram-server admin restore     --data DIR --from FILE   (server stopped; devices re-send what the backup lacks)
  tram-server admin ack-log     --data DIR               (clear the "log behind" warning after a restore)
  tram-server admin rotate-key  --data DIR [--address URL]  (server stopped; devices follow a statement
                                signed by the old key, old receipts still verify)
  tram-server admin move        --data DIR --address URL (devices learn the server's new address)
  tram-server admin import-bundle --data DIR --in BUNDLE [--out RECEIPTS]
                                (a device's outbox carried by hand; writes the receipts to carry back)
  tram-server admin token       --data DIR
  tram-server report --data DIR --period 2026-H1 [--csv FILE] [--xlsx FILE] [--json]
                     (the Department of Finance's report for a reporting period: a table on stdout,
                      or JSON with --json; --csv writes UTF-8 CSV with a BOM, --xlsx an Excel workbook)

Options may also come from a file (--config FILE, lines "key = value", e.g. "listen = 0.0.0.0:8443")
or the environment (TRAM_DATA, TRAM_LISTEN, TRAM_SCHEMAS, TRAM_THREADS, TRAM_TLS_CERT, TRAM_TLS_KEY, TRAM_WEB);
the command line wins. Unknown options, in a config file too, are errors (exit 2).
tram-server COMMAND --help shows a command's options; tram-server --version the version.
--threads N: connection threads (default 4). --listen 127.0.0.1:0 picks a free port and prints it. Without --tls-cert/--tls-key the server speaks
plain HTTP: for loopback and development only.
)");

namespace {

// One command's options: name (without "--") → what it takes.
enum class Kind { text, number, flag };
struct Spec {
  const char* name;
  Kind kind;
  const char* help;
};

// Every command opening a data directory takes these.
const std::vector<Spec> kCommon = {
    {"data", Kind::text, N_("the data directory (tram.db, server.key, admin.token)")},
    {"schemas", Kind::text, N_("the schemas directory (default: the installed schemas/)")},
    {"config", Kind::text, N_("a file of \"key = value\" lines giving options")},
};

struct Command {
  const char* path;  // "serve", "admin create-user"
  const char* help;
  std::vector<Spec> options;
};

const std::vector<Command>& commands() {
  static const std::vector<Command> all = {
      {"serve", N_("serve HTTP until SIGTERM or SIGINT"),
       {{"listen", Kind::text, N_("HOST:PORT (default 127.0.0.1:8080; port 0 picks a free one)")},
        {"threads", Kind::number, N_("connection threads (default 4)")},
        {"handler-threads", Kind::number, N_("requests handled at once, off the connection threads (default 64; 0: on them)")},
        {"tls-cert", Kind::text, N_("certificate chain (PEM); without it, plain HTTP for loopback only")},
        {"tls-key", Kind::text, N_("private key (PEM)")},
        {"web", Kind::text, N_("the web app's built files, served at / (default web/dist if it exists)")},
        {"max-connections", Kind::number, N_("open connections in all (default 2000)")},
        {"max-connections-per-ip", Kind::number, N_("connections without a session per address (default 64)")},
        {"max-connections-per-device", Kind::number, N_("connections per device with a session (default 16)")},
        {"max-body-bytes", Kind::number, N_("request body limit (default 8 MiB)")},
        {"request-timeout-s", Kind::number, N_("first request's headers; a body or answer without a byte moving (default 30)")},
        {"max-request-s", Kind::number, N_("cap on one body or answer (default 3600)")},
        {"idle-timeout-s", Kind::number, N_("kept-alive connection idle (default 120)")},
        {"ws-recheck-s", Kind::number, N_("subscriptions re-check their session this often (default 5)")},
        {"shutdown-grace-s", Kind::number, N_("requests in flight get this long after SIGTERM (default 10)")}}},
      {"seed", N_("create the data directory and load the province's reference data"), {}},
      {"report", N_("the Department of Finance's report for a reporting period"),
       {{"period", Kind::text, N_("the reporting period, e.g. 2026-H1")},
        {"csv", Kind::text, N_("write UTF-8 CSV (with a BOM) to FILE")},
        {"xlsx", Kind::text, N_("write an Excel workbook to FILE")},
        {"json", Kind::flag, N_("JSON on stdout instead of a table")}}},
      {"admin create-user", N_("register a user"),
       {{"id", Kind::text, N_("the user's id")},
        {"role", Kind::text, N_("official, department, reviewer or admin")},
        {"units", Kind::text, N_("unit codes, comma-separated (admin units lists them)")},
        {"all-units", Kind::flag, N_("province-wide scope")},
        {"name", Kind::text, N_("the name the user's reports must carry as author")}}},
      {"admin enrol-code", N_("a one-time enrolment code for a user's device"),
       {{"user", Kind::text, N_("the user's id")}, {"ttl-hours", Kind::number, N_("how long the code lives (default 72)")}}},
      {"admin delete-user", N_("remove a user; their devices are revoked"), {{"id", Kind::text, N_("the user's id")}}},
      {"admin devices", N_("the enrolled devices"), {}},
      {"admin users", N_("the users, their roles and units"), {}},
      {"admin units", N_("the communes and wards with their codes"), {}},
      {"admin revoke", N_("revoke a device"), {{"device", Kind::text, N_("the device key (64 hex)")}}},
      {"admin release", N_("release a quarantined device"), {{"device", Kind::text, N_("the device key (64 hex)")}}},
      {"admin backup", N_("an online backup of the database"), {{"to", Kind::text, N_("the backup file")}}},
      {"admin restore", N_("put a backup in place (server stopped)"), {{"from", Kind::text, N_("the backup file")}}},
      {"admin ack-log", N_("clear the \"log behind\" warning after a restore"), {}},
      {"admin rotate-key", N_("a new server key, devices follow (server stopped)"), {{"address", Kind::text, N_("the server's address (URL)")}}},
      {"admin move", N_("devices learn the server's new address"), {{"address", Kind::text, N_("the new address (URL)")}}},
      {"admin import-bundle", N_("push a device's outbox carried by hand"),
       {{"in", Kind::text, N_("the bundle")}, {"out", Kind::text, N_("where to write the receipts (default BUNDLE.receipts)")}}},
      {"admin token", N_("print the administrator's API token"), {}},
  };
  return all;
}

const std::map<std::string, std::string> kEnvironment = {
    {"data", "TRAM_DATA"},         {"listen", "TRAM_LISTEN"},     {"schemas", "TRAM_SCHEMAS"}, {"threads", "TRAM_THREADS"},
    {"tls-cert", "TRAM_TLS_CERT"}, {"tls-key", "TRAM_TLS_KEY"}, {"web", "TRAM_WEB"}};

// Common mistakes, and what was meant.
const std::map<std::string, std::string> kMeant = {{"port", "listen HOST:PORT"}, {"host", "listen HOST:PORT"},
                                                   {"db", "data DIR"},          {"dir", "data DIR"},
                                                   {"cvs", "csv FILE"},         {"unit", "units CODE,CODE"}};

size_t distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// "did you mean --listen?" for an option `name` the command does not know, or empty.
std::string hint(const std::string& name, const std::set<std::string>& known) {
  if (auto it = kMeant.find(name); it != kMeant.end() && known.count(it->second.substr(0, it->second.find(' ')))) {
    return fmt(_("did you mean --{1}?"), it->second);
  }
  std::string best;
  size_t best_d = 3;
  for (const auto& k : known) {
    const size_t d = distance(name, k);
    if (d < best_d || (k.rfind(name, 0) == 0 && name.size() >= 3)) best = k, best_d = std::min(d, best_d);
  }
  return best.empty() ? "" : fmt(_("did you mean --{1}?"), best);
}

const CLI::Validator kWholeNumber(
    [](std::string& v) {
      return !v.empty() && v.size() < 19 && v.find_first_not_of("0123456789") == std::string::npos ? std::string()
                                                                                                 : fmt(_("a whole number (0, 1, 2, …) is needed, not {1}"), v);
    },
    "N");

int usage_error(const std::string& command, const std::string& message, const std::string& extra = {}) {
  std::fprintf(stderr, "tram-server: %s\n", message.c_str());
  if (!extra.empty()) std::fprintf(stderr, "tram-server: %s\n", extra.c_str());
  std::fprintf(stderr, "%s\n", fmt(_("Run 'tram-server {1}--help' for the options."), command.empty() ? "" : command + " ").c_str());
  return 2;
}

// CLI11's own words (its errors are English only), for Vietnamese: by the error's kind, with the
// option or argument it names kept. English keeps CLI11's text as it is.
std::string parse_error(const CLI::ParseError& e) {
  const std::string what = e.what();
  if (!vietnamese()) return what;
  const size_t colon = what.find(": ");
  const std::string before = colon == std::string::npos ? "" : what.substr(0, colon);
  const std::string after = colon == std::string::npos ? what : what.substr(colon + 2);
  if (dynamic_cast<const CLI::ExtrasError*>(&e)) return fmt(_("not understood: {1}"), after);
  // "--data: 1 required TEXT missing"
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&e) && before.rfind("--", 0) == 0) return fmt(_("{1} needs a value"), before);
  // "A subcommand is required": `tram-server admin` alone.
  if (dynamic_cast<const CLI::RequiredError*>(&e) && what.find("ubcommand") != std::string::npos) return _("a command is needed");
  // The rest (a ValidationError carries our own, translated, message after the option's name).
  return what;
}

// --lang vi|en anywhere on the command line, taken out before CLI11 sees it: the language must be
// known before the help texts are built, and it applies to every command alike.
std::vector<std::string> take_lang(int argc, char** argv, std::string& lang, bool& missing) {
  std::vector<std::string> args;
  missing = false;
  for (int i = 0; i < argc; ++i) {
    const std::string a = argv[i];
    if (i > 0 && a == "--lang") {
      if (i + 1 < argc) {
        lang = argv[++i];
      } else {
        missing = true;
      }
    } else if (i > 0 && a.rfind("--lang=", 0) == 0) {
      lang = a.substr(7);
    } else {
      args.push_back(a);
    }
  }
  return args;
}

}  // namespace

std::optional<int> parse(int raw_argc, char** raw_argv, Options& o) {
  std::string lang;
  bool lang_missing = false;
  std::vector<std::string> arg_strings = take_lang(raw_argc, raw_argv, lang, lang_missing);
  std::string lang_error;
  if (!init_language(lang, lang_error)) return usage_error("", lang_error);
  if (lang_missing) return usage_error("", _("--lang needs a value: vi (tiếng Việt) or en (English)"));
  std::vector<char*> arg_pointers;
  for (std::string& a : arg_strings) arg_pointers.push_back(a.data());
  const int argc = static_cast<int>(arg_pointers.size());
  char** argv = arg_pointers.data();

  CLI::App app{_("tram-server — the Tram sync server"), "tram-server"};
  // CLI11's labels and its own flags in the operator's language (inherited by the subcommands).
  auto formatter = std::make_shared<CLI::Formatter>();
  formatter->label("Usage", _("Usage"));
  formatter->label("OPTIONS", _("OPTIONS"));
  formatter->label("SUBCOMMAND", _("SUBCOMMAND"));
  formatter->label("SUBCOMMANDS", _("SUBCOMMANDS"));
  formatter->label("REQUIRED", _("REQUIRED"));
  formatter->label("Env", _("Env"));
  app.formatter(formatter);
  app.option_defaults()->group(_("Options"));
  app.set_help_flag("-h,--help", _("Print this help message and exit"));
  app.set_version_flag("--version", std::string("tram-server ") + TRAM_VERSION, _("Display program version information and exit"));
  // Shown in --help only: take_lang() has taken it out of the arguments already.
  std::string lang_shown;
  app.add_option("--lang", lang_shown, _("the language of the messages: vi (tiếng Việt) or en (English); default from LANG"));
  app.require_subcommand(1);
  app.footer(_(kUsage));
  std::map<std::string, std::string> values;
  struct Leaf {
    const Command* command;
    CLI::App* app;
    std::map<std::string, CLI::Option*> options;
  };
  std::vector<Leaf> leaves;
  std::map<std::string, CLI::App*> groups;
  for (const Command& c : commands()) {
    const std::string path = c.path;
    CLI::App* parent = &app;
    std::string name = path;
    if (const size_t sp = path.find(' '); sp != std::string::npos) {
      const std::string group = path.substr(0, sp);
      if (!groups.count(group)) {
        groups[group] = app.add_subcommand(group, _("administration of a data directory (server stopped or running)"));
        groups[group]->group(_("Subcommands"));
        groups[group]->require_subcommand(1);
      }
      parent = groups[group];
      name = path.substr(sp + 1);
    }
    Leaf leaf{&c, parent->add_subcommand(name, _(c.help)), {}};
    leaf.app->group(_("Subcommands"));
    std::vector<Spec> specs = kCommon;
    specs.insert(specs.end(), c.options.begin(), c.options.end());
    for (const Spec& s : specs) {
      const std::string help = _(s.help);  // a const lvalue: what CLI11's add_flag takes
      CLI::Option* opt = s.kind == Kind::flag ? leaf.app->add_flag("--" + std::string(s.name), help)
                                              : leaf.app->add_option("--" + std::string(s.name), values[s.name], help);
      if (s.kind == Kind::number) opt->check(kWholeNumber);
      if (auto env = kEnvironment.find(s.name); env != kEnvironment.end()) opt->envname(env->second);
      leaf.options[s.name] = opt;
    }
    leaves.push_back(std::move(leaf));
  }

  // An unknown command is named as such (CLI11 would say only that one is required).
  {
    std::vector<std::string> words;
    for (int i = 1; i < argc && argv[i][0] != '-'; ++i) words.emplace_back(argv[i]);
    CLI::App* at = &app;
    std::string said;
    for (const std::string& w : words) {
      const auto subs = at->get_subcommands([](CLI::App*) { return true; });
      if (subs.empty()) break;
      auto it = std::find_if(subs.begin(), subs.end(), [&](CLI::App* c) { return c->get_name() == w; });
      if (it == subs.end()) {
        std::string names;
        for (CLI::App* c : subs) names += (names.empty() ? "" : ", ") + c->get_name();
        return usage_error(said, fmt(_("unknown command {1} (commands: {2})"), (said.empty() ? "" : said + " ") + w, names));
      }
      said += (said.empty() ? "" : " ") + w;
      at = *it;
    }
  }
  const Leaf* chosen = nullptr;
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // The command named so far, and a hint for each option it does not know.
    std::string command;
    std::set<std::string> known;
    for (const Leaf& l : leaves) {
      if (l.app->parsed()) {
        command = l.command->path;
        for (const auto& [n, opt] : l.options) known.insert(n);
      }
    }
    std::string hints;
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a.rfind("--", 0) != 0 || a == "--help" || a == "--version") continue;
      a = a.substr(2, a.find('=') == std::string::npos ? std::string::npos : a.find('=') - 2);
      if (!known.empty() && !known.count(a)) {
        const std::string h = hint(a, known);
        hints += (hints.empty() ? "" : "; ") + ("--" + a + ": " + (h.empty() ? std::string(_("not an option of this command")) : h));
      }
    }
    return usage_error(command, parse_error(e), hints);
  }
  for (const Leaf& l : leaves) {
    if (l.app->parsed()) chosen = &l;
  }
  if (!chosen) return usage_error("", _("no command given"));
  const std::string path = chosen->command->path;
  o.positional.clear();
  for (size_t start = 0;;) {
    const size_t sp = path.find(' ', start);
    o.positional.push_back(path.substr(start, sp == std::string::npos ? std::string::npos : sp - start));
    if (sp == std::string::npos) break;
    start = sp + 1;
  }
  for (const auto& [name, opt] : chosen->options) {
    if (opt->count() > 0) o.kv[name] = opt->get_items_expected_min() == 0 ? "1" : values[name];
  }
  // A config file fills what the command line and the environment did not give; its keys are
  // this command's options.
  if (o.has("config")) {
    std::ifstream in(o.get("config"));
    if (!in) return usage_error(path, fmt(_("cannot read the config file {1}"), o.get("config")));
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
      ++number;
      auto trim = [](std::string s) {
        s.erase(0, s.find_first_not_of(" \t"));
        s.erase(s.find_last_not_of(" \t\r") + 1);
        return s;
      };
      line = trim(line);
      if (line.empty() || line[0] == '#') continue;
      const size_t eq = line.find('=');
      const std::string k = trim(line.substr(0, eq));
      if (eq == std::string::npos || !chosen->options.count(k) || k == "config") {
        std::set<std::string> known;
        for (const auto& [n, opt] : chosen->options) known.insert(n);
        return usage_error(path, fmt(_("{1} line {2}: {3}"), o.get("config"), std::to_string(number),
                                     eq == std::string::npos ? std::string(_("not \"key = value\"")) : fmt(_("unknown option {1}"), k)),
                           eq == std::string::npos ? "" : hint(k, known));
      }
      if (!o.has(k)) o.kv[k] = trim(line.substr(eq + 1));
    }
  }
  if (o.get("data").empty()) return usage_error(path, _("--data DIR is required (or TRAM_DATA, or data = DIR in --config)"));
  return std::nullopt;
}

int die(const std::string& msg) {
  std::fprintf(stderr, "tram-server: %s\n", msg.c_str());
  return 1;
}

int die(const Status& st) {
  // The message only (the code would repeat what damaged() explains), translated when known.
  const std::string said = explain(st);
  const std::string code = std::string(errc_name(st.code())) + ": ";
  std::fprintf(stderr, "tram-server: %s\n", (said.rfind(code, 0) == 0 ? said.substr(code.size()) : said).c_str());
  return st.code() == Errc::storage_error ? kExitDamagedState : 1;
}

}  // namespace tram::server::cli
