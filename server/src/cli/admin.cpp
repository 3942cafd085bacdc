// `tram-server admin …`: the commands on a stopped server's data directory (restore, ack-log,
// rotate-key, move), and those that open it and go through the Service like the admin API
// (create-user, enrol-code, devices, revoke, release, backup, import-bundle, token).
#include <simdjson.h>
#include <sodium.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <span>
#include <sstream>
#include <string>

#include "audit.hpp"
#include "cli/data_dir.hpp"
#include "storage/log_watermark.hpp"
#include "storage/sqlite_storage.hpp"
#include "tram/engine/json.hpp"
#include "tram/engine/text.hpp"
#include "tram/engine/schema_loader.hpp"

namespace fs = std::filesystem;

namespace tram::server::cli {
namespace {

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
  AuditLog((dir / "audit.log").string()).record("restored", "admin", {{"from", from}, {"replaced_files", aside.string()}});
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
  AuditLog((dir / "audit.log").string()).record("log_acknowledged", "admin", {{"server_seq", std::to_string(head->server_seq)}});
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
  AuditLog((dir / "audit.log").string())
      .record(cmd == "rotate-key" ? "server_key_rotated" : "server_moved", "admin",
              {{"from_key", to_hex(old_key.public_key())}, {"to_key", to_hex(to)}, {"address", address}});
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
}  // namespace

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
    if (o.has("name")) {
      // What the user's reports carry as author, exactly: NFC, no surrounding spaces.
      std::string name = o.get("name");
      name.erase(0, name.find_first_not_of(' '));
      name.erase(name.find_last_not_of(' ') + 1);
      auto nfc = to_nfc(name);
      if (!nfc.ok()) return die("--name: " + nfc.status().message());
      u.name = *nfc;
    }
    if (Status st = svc.create_user(u); !st.ok()) return die(st.to_string());
    std::printf("user %s (%s) scope %s\n", u.id.c_str(), std::string(role_name(u.role)).c_str(),
                u.all_units ? "province" : o.get("units").c_str());
    return 0;
  }
  if (cmd == "delete-user") {
    if (!o.has("id")) return die("delete-user --id USER");
    if (Status st = svc.delete_user(o.get("id")); !st.ok()) return die(st.to_string());
    std::printf("user %s deleted; their devices are revoked (what they sent stays on the server)\n", o.get("id").c_str());
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
    // Times in Vietnam (UTC+7), as the province reads them.
    auto when = [](int64_t ms) -> std::string {
      if (ms <= 0) return "-";
      const auto t = static_cast<std::time_t>(ms / 1000 + 7 * 3600);
      std::tm tm{};
      gmtime_r(&t, &tm);
      char buf[32];
      return std::string(buf, std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm));
    };
    for (const auto& d : *list) {
      std::printf("%s  %-20s %-11s seq=%-6llu enrolled %s  last sent %s\n", to_hex(d.key).c_str(), d.user.c_str(),
                  std::string(device_state_name(d.state)).c_str(), static_cast<unsigned long long>(d.head.seq),
                  when(d.enrolled_ms).c_str(), when(d.last_received_ms).c_str());
    }
    return 0;
  }
  if (cmd == "users") {
    auto list = svc.users();
    if (!list.ok()) return die(list.status().to_string());
    for (const auto& u : *list) {
      std::string scope = u.all_units ? "province" : "";
      for (const auto& code : u.units) scope += (scope.empty() ? "" : ",") + code;
      std::printf("%-20s %-10s %-24s %s\n", u.id.c_str(), std::string(role_name(u.role)).c_str(), scope.c_str(), u.name.c_str());
    }
    return 0;
  }
  if (cmd == "units") {
    auto list = svc.units();
    if (!list.ok()) return die(list.status().to_string());
    for (const auto& u : *list) std::printf("%s  %s %s\n", u.code.c_str(), u.type.c_str(), u.name.c_str());
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
    simdjson::dom::array files;
    if (!parser.parse(r.body)["files"].get_array().get(files)) {
      size_t stored = 0, carried = 0;
      for (auto f : files) {
        ++carried;
        bool ok = false;
        if (!f["stored"].get_bool().get(ok) && ok) {
          ++stored;
          continue;
        }
        std::string_view hash, reason;
        if (f["hash"].get_string().get(hash) || f["reason"].get_string().get(reason)) continue;
        std::printf("evidence file %s not stored: %s\n", std::string(hash).c_str(), std::string(reason).c_str());
      }
      if (carried) std::printf("evidence files: %zu carried, %zu stored (verified by hash)\n", carried, stored);
    }
    return 0;
  }
  if (cmd == "token") {
    std::printf("%s\n", server->admin_token.c_str());
    return 0;
  }
  return die("unknown admin command " + cmd);
}

}  // namespace tram::server::cli
