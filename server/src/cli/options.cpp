// The options of every command: the command line, then the environment (TRAM_DATA, TRAM_LISTEN,
// TRAM_SCHEMAS, TRAM_THREADS, TRAM_TLS_CERT, TRAM_TLS_KEY, TRAM_WEB), then a config file (--config FILE,
// lines "key = value"); what comes first wins. And the --help text.
#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "cli/cli.hpp"

namespace tram::server::cli {

const char* const kUsage = R"(tram-server — the Tram sync server

Usage:
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
  tram-server admin devices     --data DIR
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
the command line wins.
--threads N: connection threads (default 4). --listen 127.0.0.1:0 picks a free port and prints it. Without --tls-cert/--tls-key the server speaks
plain HTTP: for loopback and development only.
)";

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) == 0) {
      const std::string key = a.substr(2);
      const bool flag = key == "all-units" || key == "help" || key == "json" || i + 1 >= argc || std::string(argv[i + 1]).rfind("--", 0) == 0;
      o.kv[key] = flag ? "1" : argv[++i];
    } else {
      o.positional.push_back(a);
    }
  }
  // Environment, then a config file, fill what the command line did not give.
  for (auto [env, key] : {std::pair{"TRAM_DATA", "data"}, {"TRAM_LISTEN", "listen"}, {"TRAM_SCHEMAS", "schemas"}, {"TRAM_THREADS", "threads"}, {"TRAM_TLS_CERT", "tls-cert"}, {"TRAM_TLS_KEY", "tls-key"}, {"TRAM_WEB", "web"}}) {
    if (!o.has(key) && std::getenv(env)) o.kv[key] = std::getenv(env);
  }
  if (o.has("config")) {
    std::ifstream in(o.get("config"));
    std::string line;
    while (std::getline(in, line)) {
      const size_t eq = line.find('=');
      if (line.empty() || line[0] == '#' || eq == std::string::npos) continue;
      auto trim = [](std::string s) {
        s.erase(0, s.find_first_not_of(" \t"));
        s.erase(s.find_last_not_of(" \t\r") + 1);
        return s;
      };
      const std::string k = trim(line.substr(0, eq));
      if (!o.has(k)) o.kv[k] = trim(line.substr(eq + 1));
    }
  }
  return o;
}

int die(const std::string& msg) {
  std::fprintf(stderr, "tram-server: %s\n", msg.c_str());
  return 1;
}

int die(const Status& st) {
  std::fprintf(stderr, "tram-server: %s\n", st.message().c_str());
  return st.code() == Errc::storage_error ? kExitDamagedState : 1;
}

}  // namespace tram::server::cli
