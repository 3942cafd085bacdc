// tram-server: serve, administer and seed a Tram server whose state lives in one data
// directory (tram.db, server.key, admin.token). Run `tram-server --help`.
#include <simdjson.h>
#include <sodium.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>

#include "http/http_server.hpp"
#include "storage/log_watermark.hpp"
#include "report.hpp"
#include "service.hpp"
#include "storage/sqlite_storage.hpp"
#include "tram/engine/device_chain.hpp"
#include "tram/engine/json.hpp"
#include "tram/engine/schema_loader.hpp"
#include "tram/engine/seed.hpp"

namespace fs = std::filesystem;
using namespace tram;
using namespace tram::server;

namespace {

constexpr const char* kUsage = R"(tram-server — the Tram sync server

Usage:
  tram-server serve --data DIR [--listen HOST:PORT] [--schemas DIR] [--threads N]
                    [--tls-cert FILE.pem --tls-key FILE.pem]
                    [--max-connections N] [--max-connections-per-ip N] [--max-body-bytes N]
                    [--request-timeout-s 30] [--idle-timeout-s 120]
                    [--ws-recheck-s 5] [--shutdown-grace-s 10]
  tram-server seed  --data DIR [--schemas DIR]
  tram-server admin create-user --data DIR --id USER --role official|department|reviewer|admin
                                [--units CODE,CODE,...] [--all-units]
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
or the environment (TRAM_DATA, TRAM_LISTEN, TRAM_SCHEMAS, TRAM_THREADS); the command line wins.
--threads N: connection threads (default 4). --listen 127.0.0.1:0 picks a free port and prints it. Without --tls-cert/--tls-key the server speaks
plain HTTP: for loopback and development only.
)";

struct Options {
  std::map<std::string, std::string> kv;
  std::vector<std::string> positional;
  bool has(const std::string& k) const { return kv.count(k) > 0; }
  std::string get(const std::string& k, const std::string& def = "") const {
    auto it = kv.find(k);
    return it == kv.end() ? def : it->second;
  }
};

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
  for (auto [env, key] : {std::pair{"TRAM_DATA", "data"}, {"TRAM_LISTEN", "listen"}, {"TRAM_SCHEMAS", "schemas"}, {"TRAM_THREADS", "threads"}, {"TRAM_TLS_CERT", "tls-cert"}, {"TRAM_TLS_KEY", "tls-key"}}) {
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

// Exit code when the data directory's state is damaged or missing: the server refuses to
// serve rather than sign receipts over it (docs/operations.md §3).
constexpr int kExitDamagedState = 3;

int die(const Status& st) {
  std::fprintf(stderr, "tram-server: %s\n", st.message().c_str());
  return st.code() == Errc::storage_error ? kExitDamagedState : 1;
}

std::string damaged(const std::string& what, const std::string& data) {
  return what + "\n  The server will not serve over damaged or missing state. The way out (docs/operations.md §3):\n"
                "    tram-server admin restore --data " + data + " --from BACKUP.db   (the newest backup; devices re-send\n"
                "    what it lacks), then start the server again.";
}

// A 32-byte secret in a file readable only by the server's user. Made only when `create`:
// an unreadable or missing key where state exists is an error, never silently replaced.
Result<std::string> secret_file(const fs::path& path, RandomSource& random, bool create) {
  std::error_code ec;
  if (fs::exists(path, ec)) {
    std::ifstream in(path);
    std::string hex, rest;
    if (in >> hex && hex.size() == 64 && from_hex<32>(hex) && !(in >> rest)) return hex;
    return Status(Errc::storage_error, path.string() + " is not 64 hex digits");
  }
  if (!create) return Status(Errc::storage_error, path.string() + " is missing");
  std::array<uint8_t, 32> raw;
  random.fill(std::as_writable_bytes(std::span(raw)));
  std::string hex = to_hex(raw);
  sodium_memzero(raw.data(), raw.size());
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp);
    out << hex << "\n";
    out.flush();
    if (!out) return Status(Errc::storage_error, "cannot write " + tmp.string());
  }
  ::chmod(tmp.c_str(), 0600);
  fs::rename(tmp, path, ec);
  if (ec) return Status(Errc::storage_error, "cannot write " + path.string() + ": " + ec.message());
  return hex;
}

struct Server {
  std::unique_ptr<Service> service;
  std::string admin_token;
};

std::string default_schemas() {
  if (fs::exists("schemas/sonla-2026")) return "schemas";
  return TRAM_DEFAULT_SCHEMAS_DIR;
}

// DATA/key-statements.json: what devices need to follow a key rotation or an address move from
// the key they pinned (protocol.md §4). "[]" when there is none.
Result<std::string> read_key_statements(const fs::path& dir) {
  const fs::path path = dir / "key-statements.json";
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::string("[]");
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  simdjson::dom::parser parser;
  simdjson::dom::array items;
  if (parser.parse(text).get_array().get(items)) return Status(Errc::storage_error, path.string() + " is not a JSON array");
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

Status write_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return {Errc::storage_error, "cannot write " + tmp.string()};
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  std::error_code ec;
  if (ok) fs::rename(tmp, path, ec);
  if (!ok || ec) return {Errc::storage_error, "cannot write " + path.string()};
  return {};
}

// Opens the data directory after checking it: the key and the database must both be there or
// both be new, the database must pass quick_check, and a log behind the last head this server
// signed (a restore, a lost WAL) is recorded in DATA/log.behind and reported until an operator
// clears it with `admin ack-log`.
Result<Server> open_server(const Options& o, ClockSource& clock, RandomSource& random, bool serving = false) {
  const std::string data = o.get("data");
  if (data.empty()) return Status(Errc::invalid_argument, "--data DIR is required");
  std::error_code ec;
  fs::create_directories(data, ec);
  if (ec) return Status(Errc::storage_error, "cannot create " + data + ": " + ec.message());
  const fs::path dir(data), db_path = dir / "tram.db", key_path = dir / "server.key";
  const LogWatermark mark((dir / "log.head").string());
  const std::string behind_path = (dir / "log.behind").string();
  std::string mark_error;
  const std::optional<Watermark> last = mark.read(&mark_error);
  const bool db_exists = fs::exists(db_path, ec), key_exists = fs::exists(key_path, ec);
  if (!mark_error.empty()) return Status(Errc::storage_error, damaged(mark_error, data));
  if (!db_exists && (key_exists || last)) {
    return Status(Errc::storage_error,
                  damaged(db_path.string() + " is missing, but this server has a key" +
                              (last ? " and signed its log up to #" + std::to_string(last->server_seq) : std::string()) +
                              ".\n  (To start a new, empty server instead, move server.key and log.head away.)",
                          data));
  }
  if (db_exists && !key_exists) {
    return Status(Errc::storage_error,
                  damaged(key_path.string() + " is missing: every device trusts this server's key, so a new one is\n"
                          "  never made where a database exists. Copy server.key back from the backup of this data directory.",
                          data));
  }
  const std::string schemas = o.get("schemas", default_schemas());
  auto schema = load_schema_dir(schemas + "/sonla-2026");
  if (!schema.ok()) return schema.status();
  auto key_hex = secret_file(key_path, random, /*create=*/!db_exists);
  if (!key_hex.ok()) return Status(Errc::storage_error, damaged(key_hex.status().message(), data));
  auto storage = SqliteStorage::open(db_path.string(), *schema);
  if (!storage.ok()) return Status(Errc::storage_error, damaged("cannot open " + db_path.string() + ": " + storage.status().message(), data));
  if (Status st = (*storage)->check_integrity(); !st.ok()) {
    return Status(Errc::storage_error, damaged(db_path.string() + ": " + st.message(), data));
  }
  // Did the log go backwards? Compared with the mark, the database must be at or past it.
  auto head = (*storage)->head();
  if (!head.ok()) return Status(Errc::storage_error, damaged(head.status().message(), data));
  std::optional<LogBehind> behind = LogWatermark::read_behind(behind_path);
  if (last && (head->server_seq < last->server_seq ||
               (head->server_seq == last->server_seq && head->log_hash != last->log_hash))) {
    if (!behind) {
      behind = LogBehind{last->server_seq, head->server_seq, clock.now_ms()};
      if (!LogWatermark::write_behind(behind_path, *behind)) return Status(Errc::storage_error, "cannot write " + behind_path);
    }
    // What devices send again gets row versions above every cursor they hold.
    if (Status st = (*storage)->raise_row_version(last->row_version); !st.ok()) return st;
  }
  if (serving) TRAM_RETURN_IF_ERROR((*storage)->start_background_checkpoints());
  auto seed = from_hex<32>(*key_hex);
  DeviceKey key = DeviceKey::from_seed(*seed);
  sodium_memzero(seed->data(), seed->size());
  Server s;
  auto token = secret_file(dir / "admin.token", random, /*create=*/true);
  if (!token.ok()) return Status(Errc::storage_error, damaged(token.status().message(), data));
  s.admin_token = *token;
  ServiceConfig config;
  config.attachments_dir = (dir / "attachments").string();
  config.watermark_path = mark.path();
  auto statements = read_key_statements(dir);
  if (!statements.ok()) return Status(Errc::storage_error, damaged(statements.status().message(), data));
  config.key_statements = *statements;
  s.service = std::make_unique<Service>(config, std::move(storage).value(), std::move(key), s.admin_token, clock, random);
  if (behind) {
    s.service->set_log_behind(*behind);
    std::fprintf(stderr,
                 "tram-server: WARNING: the log is behind the last head this server signed (#%llu, the database has #%llu):\n"
                 "  receipted change sets are missing (a restored backup or a lost WAL). Devices re-send what they hold\n"
                 "  as they sync. /healthz reports \"log_behind\" until `tram-server admin ack-log --data %s`.\n",
                 static_cast<unsigned long long>(behind->expected_seq), static_cast<unsigned long long>(behind->found_seq),
                 data.c_str());
  }
  return s;
}

// Held while serving, so that commands that append to the log (seed) cannot run alongside.
int lock_data_dir(const std::string& data) {
  const std::string path = (fs::path(data) / "serve.lock").string();
  const int fd = ::open(path.c_str(), O_CREAT | O_RDWR, 0600);
  if (fd < 0 || ::flock(fd, LOCK_EX | LOCK_NB) != 0) return -1;
  return fd;
}

int serve(const Options& o, ClockSource& clock, RandomSource& random) {
  auto server = open_server(o, clock, random, /*serving=*/true);
  if (!server.ok()) return die(server.status());
  if (lock_data_dir(o.get("data")) < 0) return die("another tram-server is serving or seeding " + o.get("data"));
  const std::string listen = o.get("listen", "127.0.0.1:8080");
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return die("--listen HOST:PORT");
  std::mutex log_mu;
  HttpLimits limits;
  if (o.has("max-connections")) limits.max_connections = std::stoul(o.get("max-connections"));
  if (o.has("max-connections-per-ip")) limits.max_connections_per_ip = std::stoul(o.get("max-connections-per-ip"));
  if (o.has("max-body-bytes")) limits.max_body_bytes = std::stoull(o.get("max-body-bytes"));
  if (o.has("request-timeout-s")) limits.request_timeout_s = std::stoi(o.get("request-timeout-s"));
  if (o.has("idle-timeout-s")) limits.idle_timeout_s = std::stoi(o.get("idle-timeout-s"));
  if (o.has("ws-recheck-s")) limits.ws_recheck_s = std::stoi(o.get("ws-recheck-s"));
  if (o.has("shutdown-grace-s")) limits.shutdown_grace_s = std::stoi(o.get("shutdown-grace-s"));
  auto http = HttpServer::bind(*server->service, listen.substr(0, colon),
                               static_cast<uint16_t>(std::stoi(listen.substr(colon + 1))), limits,
                               [&](const std::string& line) {
                                 std::lock_guard lock(log_mu);
                                 std::fprintf(stderr, "%s\n", line.c_str());
                               },
                               TlsFiles{o.get("tls-cert"), o.get("tls-key")});
  if (!http.ok()) return die(http.status().to_string());
  std::printf("tram-server listening on %s:%u%s\n", listen.substr(0, colon).c_str(), (*http)->port(),
              o.has("tls-cert") ? " (TLS)" : "");
  std::printf("server key %s\n", to_hex(server->service->server_key()).c_str());
  std::fflush(stdout);
  // Default 4 on 2 cores: a thread waiting for the single writer uses no CPU, and pushes that
  // wait together are committed together (group commit).
  (*http)->run(std::max(1, std::stoi(o.get("threads", "4"))), true);
  return 0;
}

int seed(const Options& o, ClockSource& clock, RandomSource& random) {
  auto server = open_server(o, clock, random, /*serving=*/true);
  if (!server.ok()) return die(server.status());
  if (lock_data_dir(o.get("data")) < 0) return die("stop the server before seeding " + o.get("data"));
  const std::string schemas = o.get("schemas", default_schemas());
  auto schema = load_schema_dir(schemas + "/sonla-2026");
  auto rows = load_seed_rows(schemas + "/sonla-2026/seed/rows", *schema);
  if (!rows.ok()) return die(rows.status().to_string());
  // The seed is signed by the server's own administrator device, like any other change.
  Service& svc = *server->service;
  auto seed_hex = secret_file(fs::path(o.get("data")) / "seed-device.key", random, /*create=*/true);
  if (!seed_hex.ok()) return die(seed_hex.status());
  auto seed_bytes = from_hex<32>(*seed_hex);
  DeviceKey key = DeviceKey::from_seed(*seed_bytes);
  if (Status st = svc.create_user(UserRecord{"seed-admin", Role::admin, {}, true}); !st.ok()) return die(st.to_string());
  ChainHead head;
  bool enrolled = false;
  auto devices = svc.devices();
  if (!devices.ok()) return die(devices.status().to_string());
  for (const auto& d : *devices) {
    if (d.key == key.public_key()) {
      head = d.head;
      enrolled = true;
    }
  }
  if (enrolled && head.seq > 0) {
    std::printf("already seeded (seed device at seq %llu)\n", static_cast<unsigned long long>(head.seq));
    return 0;
  }
  if (!enrolled) {
    auto code = svc.issue_enrolment_code("seed-admin", 60'000);
    if (!code.ok()) return die(code.status().to_string());
    server::Request req{"POST", "/v1/enroll", "{\"code\":\"" + *code + "\",\"public_key\":\"" + to_hex(key.public_key()) + "\"}", "", "seed", ""};
    auto r = svc.handle(req);
    if (r.status != 200) return die("enrolling the seed device: " + r.body);
  }
  HybridClock hlc(clock, 5 * 60'000);
  DeviceChain chain(std::move(key), hlc, "seed-admin", schema->id, schema->version, head);
  size_t accepted = 0;
  for (size_t i = 0; i < rows->size(); i += 250) {
    std::vector<Op> chunk(rows->begin() + static_cast<long>(i), rows->begin() + static_cast<long>(std::min(rows->size(), i + 250)));
    auto made = chain.make(std::move(chunk));
    if (!made.ok()) return die(made.status().to_string());
    auto r = svc.push_as(chain.device(), "{\"changesets\":[{\"cs\":\"" + to_base64(made->signed_cs.bytes) + "\",\"sig\":\"" +
                                             to_hex(made->signed_cs.sig) + "\"}]}");
    if (!r.ok() || r->find("\"status\":\"accepted\"") == std::string::npos) {
      return die("seed change set refused: " + (r.ok() ? *r : r.status().to_string()));
    }
    accepted += made->cs.ops.size();
  }
  std::printf("seeded %zu rows of %s v%u (units, task groups, tasks, indicators, periods)\n", accepted, schema->id.c_str(),
              schema->version);
  return 0;
}

// admin restore: puts a backup in place of the database, the stopped server's files moved
// aside (never deleted: they are evidence). log.head stays, so the next start knows what the
// backup lacks and the devices' next syncs fill it in.
int restore(const Options& o) {
  const std::string data = o.get("data"), from = o.get("from");
  if (data.empty() || from.empty()) return die("restore --data DIR --from BACKUP.db");
  if (lock_data_dir(data) < 0) return die("stop the server before restoring " + data);
  if (Status st = SqliteStorage::check_file(from); !st.ok()) {
    return die(st.code() == Errc::storage_error && st.message() == "quick_check failed"
                   ? "the backup " + from + " is damaged; take an older one"
                   : "cannot open the backup " + from + ": " + st.message());
  }
  const fs::path dir(data);
  const fs::path aside = dir / ("replaced-" + std::to_string(std::time(nullptr)));
  std::error_code ec;
  fs::create_directories(aside, ec);
  for (const char* name : {"tram.db", "tram.db-wal", "tram.db-shm"}) {
    if (fs::exists(dir / name, ec)) fs::rename(dir / name, aside / name, ec);
    if (ec) return die("cannot move " + (dir / name).string() + " aside: " + ec.message());
  }
  fs::copy_file(from, dir / "tram.db.tmp", fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::rename(dir / "tram.db.tmp", dir / "tram.db", ec);
  if (ec) return die("cannot copy the backup: " + ec.message());
  ::chmod((dir / "tram.db").c_str(), 0600);
  std::printf("restored %s from %s; the replaced files are in %s.\n"
              "Start the server: devices re-send the change sets the backup lacks as they sync.\n",
              (dir / "tram.db").c_str(), from.c_str(), aside.c_str());
  return 0;
}

// admin ack-log: the operator has seen that the log went backwards (and let devices heal, or
// accepted the loss); the current head becomes the mark and the warning stops.
int ack_log(const Options& o) {
  const std::string data = o.get("data");
  if (data.empty()) return die("ack-log --data DIR");
  const fs::path dir(data);
  auto schema = load_schema_dir(o.get("schemas", default_schemas()) + "/sonla-2026");
  if (!schema.ok()) return die(schema.status().to_string());
  auto storage = SqliteStorage::open((dir / "tram.db").string(), *schema);
  if (!storage.ok()) return die(storage.status().to_string());
  auto head = (*storage)->head();
  auto rows = (*storage)->row_version();
  if (!head.ok() || !rows.ok()) return die("cannot read the log head");
  const LogWatermark mark((dir / "log.head").string());
  const auto old = mark.read();
  if (!mark.write(Watermark{head->server_seq, head->log_hash, std::max(*rows, old ? old->row_version : 0)}) || !mark.sync()) {
    return die("cannot write " + mark.path());
  }
  std::error_code ec;
  fs::remove(dir / "log.behind", ec);
  std::printf("log head acknowledged at #%llu; /healthz reports ok again\n", static_cast<unsigned long long>(head->server_seq));
  return 0;
}

// admin rotate-key / move: a statement signed by the key the devices trust now, which they
// verify and follow: to a new key (the old one retired, its receipts still verifying), and/or to
// a new address. The server must be stopped for a rotation (one key signs at a time).
int key_statement(const Options& o, const std::string& cmd, ClockSource& clock, RandomSource& random) {
  const std::string data = o.get("data");
  const std::string address = o.get("address");
  if (data.empty() || (cmd == "move" && address.empty())) return die(cmd + " --data DIR" + (cmd == "move" ? " --address URL" : " [--address URL]"));
  if (!address.empty() && !address.starts_with("https://") && !address.starts_with("http://")) {
    return die("--address is the server's new URL, e.g. https://tram.sonla.gov.vn:8443");
  }
  if (cmd == "rotate-key" && lock_data_dir(data) < 0) return die("stop the server before rotating its key");
  const fs::path dir(data);
  auto old_hex = secret_file(dir / "server.key", random, /*create=*/false);
  if (!old_hex.ok()) return die(old_hex.status());
  auto old_seed = from_hex<32>(*old_hex);
  DeviceKey old_key = DeviceKey::from_seed(*old_seed);
  sodium_memzero(old_seed->data(), old_seed->size());
  std::array<uint8_t, 32> new_seed{};
  PublicKey to = old_key.public_key();
  if (cmd == "rotate-key") {
    random.fill(std::as_writable_bytes(std::span(new_seed)));
    to = DeviceKey::from_seed(new_seed).public_key();
  }
  const std::string body = "{\"v\":1,\"kind\":\"tram-key-statement\",\"from\":\"" + to_hex(old_key.public_key()) +
                           "\",\"to\":\"" + to_hex(to) + "\",\"address\":" + json::quote(address) +
                           ",\"at_ms\":" + std::to_string(clock.now_ms()) + "}";
  const Signature sig = old_key.sign("tram-key-statement-v1:" + body);
  auto list = read_key_statements(dir);
  if (!list.ok()) return die(list.status());
  std::string text = *list;
  text.pop_back();  // "]"
  text += std::string(text.size() > 1 ? "," : "") + "{\"body\":" + json::quote(body) + ",\"sig\":\"" + to_hex(sig) + "\"}]\n";
  if (Status st = write_atomically(dir / "key-statements.json", text); !st.ok()) return die(st);
  if (cmd == "rotate-key") {
    std::error_code ec;
    const fs::path retired = dir / ("server.key.retired-" + to_hex(old_key.public_key()).substr(0, 16));
    fs::copy_file(dir / "server.key", retired, fs::copy_options::overwrite_existing, ec);
    if (ec) return die("cannot keep the old key in " + retired.string() + ": " + ec.message());
    std::string new_hex = to_hex(new_seed);
    sodium_memzero(new_seed.data(), new_seed.size());
    if (Status st = write_atomically(dir / "server.key", new_hex + "\n"); !st.ok()) return die(st);
    std::printf("server key rotated: %s -> %s (the old key is kept in %s)\n", to_hex(old_key.public_key()).c_str(),
                to_hex(to).c_str(), retired.c_str());
  }
  if (!address.empty()) std::printf("devices will move to %s at their next sync with this server\n", address.c_str());
  return 0;
}

int admin(const Options& o, ClockSource& clock, RandomSource& random) {
  if (o.positional.size() < 2) return die("admin needs a command; see --help");
  const std::string cmd = o.positional[1];
  if (cmd == "rotate-key" || cmd == "move") return key_statement(o, cmd, clock, random);
  if (cmd == "restore") return restore(o);
  if (cmd == "ack-log") return ack_log(o);
  auto server = open_server(o, clock, random);
  if (!server.ok()) return die(server.status());
  Service& svc = *server->service;
  if (cmd == "create-user") {
    UserRecord u;
    u.id = o.get("id");
    auto role = role_from_name(o.get("role"));
    if (u.id.empty() || !role) return die("create-user --id USER --role official|department|reviewer|admin");
    u.role = *role;
    std::stringstream units(o.get("units"));
    for (std::string code; std::getline(units, code, ',');) {
      if (!code.empty()) u.units.push_back(code);
    }
    u.all_units = o.has("all-units");
    if (Status st = svc.create_user(u); !st.ok()) return die(st.to_string());
    std::printf("user %s (%s) scope %s\n", u.id.c_str(), std::string(role_name(u.role)).c_str(),
                u.all_units ? "province" : o.get("units").c_str());
    return 0;
  }
  if (cmd == "enrol-code") {
    auto code = svc.issue_enrolment_code(o.get("user"), std::stoll(o.get("ttl-hours", "72")) * 3600 * 1000);
    if (!code.ok()) return die(code.status().to_string());
    std::printf("%s\n", code->c_str());
    return 0;
  }
  if (cmd == "devices") {
    auto list = svc.devices();
    if (!list.ok()) return die(list.status().to_string());
    for (const auto& d : *list) {
      std::printf("%s  %-20s %-11s seq=%llu\n", to_hex(d.key).c_str(), d.user.c_str(),
                  std::string(device_state_name(d.state)).c_str(), static_cast<unsigned long long>(d.head.seq));
    }
    return 0;
  }
  if (cmd == "revoke" || cmd == "release") {
    auto key = from_hex<32>(o.get("device"));
    if (!key) return die(cmd + " --device <64 hex>");
    Status st = svc.set_device_state(*key, cmd == "revoke" ? DeviceState::revoked : DeviceState::active);
    if (!st.ok()) return die(st.to_string());
    std::printf("device %s %s\n", o.get("device").c_str(), cmd == "revoke" ? "revoked" : "released");
    return 0;
  }
  if (cmd == "backup") {
    if (!o.has("to")) return die("backup --to FILE");
    if (Status st = svc.backup(o.get("to")); !st.ok()) return die(st.to_string());
    std::printf("backup written to %s\n", o.get("to").c_str());
    return 0;
  }
  if (cmd == "import-bundle") {
    std::ifstream in(o.get("in"), std::ios::binary);
    if (!o.has("in") || !in) return die("import-bundle --in BUNDLE [--out RECEIPTS]: cannot read the bundle");
    const std::string bundle((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const Response r = svc.import_bundle(bundle);
    if (r.status != 200) return die("bundle refused (" + std::to_string(r.status) + "): " + r.body);
    const std::string out = o.get("out", o.get("in") + ".receipts");
    std::ofstream(out, std::ios::binary) << r.body;
    size_t accepted = 0, items = 0;
    simdjson::dom::parser parser;
    simdjson::dom::array results;
    if (!parser.parse(r.body)["response"]["results"].get_array().get(results)) {
      for (auto item : results) {
        ++items;
        std::string_view status;
        accepted += !item["status"].get_string().get(status) && status != "rejected";
      }
    }
    std::printf("bundle imported: %zu change set%s, %zu accepted or already held; receipts written to %s\n", items,
                items == 1 ? "" : "s", accepted, out.c_str());
    return 0;
  }
  if (cmd == "token") {
    std::printf("%s\n", server->admin_token.c_str());
    return 0;
  }
  return die("unknown admin command " + cmd);
}

int report(const Options& o, ClockSource& clock, RandomSource& random) {
  if (o.get("data").empty() || o.get("period").empty()) return die("report --data DIR --period CODE [--csv FILE] [--xlsx FILE] [--json]");
  if (!fs::exists(fs::path(o.get("data")) / "tram.db")) return die("no tram.db in " + o.get("data") + " (seed it first)");
  auto server = open_server(o, clock, random);
  if (!server.ok()) return die(server.status());
  Status st = report_command(*server->service, o.get("period"), o.get("csv"), o.get("xlsx"), o.has("json"));
  return st.ok() ? 0 : die(st.to_string());
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  if (o.has("help") || o.positional.empty()) {
    std::fputs(kUsage, stdout);
    return o.has("help") ? 0 : 1;
  }
  SystemClock clock;
  SystemRandom random;
  crypto_init();
  const std::string& cmd = o.positional[0];
  if (cmd == "serve") return serve(o, clock, random);
  if (cmd == "seed") return seed(o, clock, random);
  if (cmd == "admin") return admin(o, clock, random);
  if (cmd == "report") return report(o, clock, random);
  return die("unknown command " + cmd + "; see --help");
}
