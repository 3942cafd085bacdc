// `tram-server admin …`: the commands on a stopped server's data directory (restore, ack-log,
// rotate-key, move), and those that open it and go through the Service like the admin API
// (create-user, enrol-code, devices, revoke, release, backup, import-bundle, token).
#include <simdjson.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

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
#include "cli/i18n.hpp"
#include "storage/log_watermark.hpp"
#include "storage/sqlite_storage.hpp"
#include "tram/engine/json.hpp"
#include "tram/engine/text.hpp"
#include "tram/engine/schema_loader.hpp"

namespace fs = std::filesystem;

namespace tram::server::cli {
namespace {

// A listing's column names: always in Vietnamese; in English only on a terminal, so that what
// scripts read from the English listings (one line per row) stays as it was.
bool column_names() { return vietnamese() || ::isatty(1); }

// `text` padded with spaces to `width` letters (not bytes: "Lò Văn Minh", "đã thu hồi" line up).
std::string pad(std::string_view text, size_t width) {
  size_t letters = 0;
  for (const char c : text) letters += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return std::string(text) + std::string(letters < width ? width - letters : 0, ' ');
}

// A device's state as the operator reads it (the English word is also its code in the API).
std::string state_said(DeviceState s) {
  switch (s) {
    case DeviceState::active: return _("active");
    case DeviceState::revoked: return _("revoked");
    case DeviceState::quarantined: return _("quarantined");
  }
  return std::string(device_state_name(s));
}

// admin restore: puts a backup in place of the database, the stopped server's files moved
// aside (never deleted: they are evidence). log.head stays, so the next start knows what the
// backup lacks and the devices' next syncs fill it in.
int restore(const Options& o) {
  const std::string data = o.get("data"), from = o.get("from");
  if (data.empty() || from.empty()) return die(_("restore needs --data DIR --from BACKUP.db"));
  if (lock_data_dir(data) < 0) return die(fmt(_("stop the server before restoring {1}"), data));
  if (Status st = SqliteStorage::check_file(from); !st.ok()) {
    return die(st.code() == Errc::storage_error && st.message() == "quick_check failed"
                   ? fmt(_("the backup {1} is damaged; take an older one"), from)
                   : fmt(_("cannot open the backup {1}: {2}"), from, st.message()));
  }
  const fs::path dir(data);
  const fs::path aside = dir / ("replaced-" + std::to_string(std::time(nullptr)));
  std::error_code ec;
  fs::create_directories(aside, ec);
  for (const char* name : {"tram.db", "tram.db-wal", "tram.db-shm"}) {
    if (fs::exists(dir / name, ec)) fs::rename(dir / name, aside / name, ec);
    if (ec) return die(fmt(_("cannot move {1} aside: {2}"), (dir / name).string(), ec.message()));
  }
  fs::copy_file(from, dir / "tram.db.tmp", fs::copy_options::overwrite_existing, ec);
  if (!ec) fs::rename(dir / "tram.db.tmp", dir / "tram.db", ec);
  if (ec) return die(fmt(_("cannot copy the backup: {1}"), ec.message()));
  ::chmod((dir / "tram.db").c_str(), 0600);
  AuditLog((dir / "audit.log").string()).record("restored", "admin", {{"from", from}, {"replaced_files", aside.string()}});
  std::printf("%s\n", fmt(_("restored {1} from {2}; the replaced files are in {3}.\n"
                            "Start the server: devices re-send the change sets the backup lacks as they sync."),
                          (dir / "tram.db").string(), from, aside.string())
                          .c_str());
  return 0;
}

// admin ack-log: the operator has seen that the log went backwards (and let devices heal, or
// accepted the loss); the current head becomes the mark and the warning stops.
int ack_log(const Options& o) {
  const std::string data = o.get("data");
  if (data.empty()) return die(_("ack-log needs --data DIR"));
  const fs::path dir(data);
  auto schema = load_schema_dir(o.get("schemas", default_schemas()) + "/sonla-2026");
  if (!schema.ok()) return die(explain(schema.status()));
  auto storage = SqliteStorage::open((dir / "tram.db").string(), *schema);
  if (!storage.ok()) return die(explain(storage.status()));
  auto head = (*storage)->head();
  auto rows = (*storage)->row_version();
  if (!head.ok() || !rows.ok()) return die(_("cannot read the log head"));
  const LogWatermark mark((dir / "log.head").string());
  const auto old = mark.read();
  if (!mark.write(Watermark{head->server_seq, head->log_hash, std::max(*rows, old ? old->row_version : 0)}) || !mark.sync()) {
    return die(fmt(_("cannot write {1}"), mark.path()));
  }
  std::error_code ec;
  fs::remove(dir / "log.behind", ec);
  AuditLog((dir / "audit.log").string()).record("log_acknowledged", "admin", {{"server_seq", std::to_string(head->server_seq)}});
  std::printf("%s\n", fmt(_("log head acknowledged at #{1}; /healthz reports ok again"), std::to_string(head->server_seq)).c_str());
  return 0;
}

// admin rotate-key / move: a statement signed by the key the devices trust now, which they
// verify and follow: to a new key (the old one retired, its receipts still verifying), and/or to
// a new address. The server must be stopped for a rotation (one key signs at a time).
int key_statement(const Options& o, const std::string& cmd, ClockSource& clock, RandomSource& random) {
  const std::string data = o.get("data");
  const std::string address = o.get("address");
  if (data.empty() || (cmd == "move" && address.empty())) return die(cmd == "move" ? _("move needs --data DIR --address URL") : _("rotate-key needs --data DIR [--address URL]"));
  if (!address.empty() && !address.starts_with("https://") && !address.starts_with("http://")) {
    return die(_("--address is the server's new URL, e.g. https://tram.sonla.gov.vn:8443"));
  }
  if (cmd == "rotate-key" && lock_data_dir(data) < 0) return die(_("stop the server before rotating its key"));
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
    if (ec) return die(fmt(_("cannot keep the old key in {1}: {2}"), retired.string(), ec.message()));
    std::string new_hex = to_hex(new_seed);
    sodium_memzero(new_seed.data(), new_seed.size());
    if (Status st = write_atomically(dir / "server.key", new_hex + "\n"); !st.ok()) return die(st);
    // TRANSLATORS: the server key signs the receipts devices keep; "rotated": replaced by a new one.
    std::printf("%s\n", fmt(_("server key rotated: {1} -> {2} (the old key is kept in {3})"), to_hex(old_key.public_key()),
                             to_hex(to), retired.string())
                             .c_str());
  }
  if (!address.empty()) std::printf("%s\n", fmt(_("devices will move to {1} at their next sync with this server"), address).c_str());
  return 0;
}
}  // namespace

int admin(const Options& o, ClockSource& clock, RandomSource& random) {
  if (o.positional.size() < 2) return die(_("admin needs a command; see --help"));
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
    if (u.id.empty() || !role) return die(_("create-user needs --id USER --role official|department|reviewer|admin"));
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
    if (Status st = svc.create_user(u); !st.ok()) return die(explain(st));
    std::printf("%s\n", fmt(_("user {1} ({2}) scope {3}"), u.id, role_name(u.role),
                             u.all_units ? std::string(_("province")) : o.get("units"))
                             .c_str());
    return 0;
  }
  if (cmd == "delete-user") {
    if (!o.has("id")) return die(_("delete-user needs --id USER"));
    if (Status st = svc.delete_user(o.get("id")); !st.ok()) return die(explain(st));
    std::printf("%s\n", fmt(_("user {1} deleted; their devices are revoked (what they sent stays on the server)"), o.get("id")).c_str());
    return 0;
  }
  if (cmd == "enrol-code") {
    auto code = svc.issue_enrolment_code(o.get("user"), std::stoll(o.get("ttl-hours", "72")) * 3600 * 1000);
    if (!code.ok()) return die(explain(code.status()));
    // The code alone on stdout (scripts take it); for a person, what it is for on stderr.
    std::printf("%s\n", code->c_str());
    if (vietnamese()) {
      std::fprintf(stderr, "%s\n", fmt(_("enrolment code for {1}, valid {2} hours: type it in tram-field init on the user's phone"),
                                       o.get("user"), o.get("ttl-hours", "72"))
                                       .c_str());
    }
    return 0;
  }
  if (cmd == "devices") {
    auto list = svc.devices();
    if (!list.ok()) return die(explain(list.status()));
    // Times in Vietnam (UTC+7), as the province reads them.
    auto when = [](int64_t ms) -> std::string {
      if (ms <= 0) return "-";
      const auto t = static_cast<std::time_t>(ms / 1000 + 7 * 3600);
      std::tm tm{};
      gmtime_r(&t, &tm);
      char buf[32];
      return std::string(buf, std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm));
    };
    if (column_names()) {
      // TRANSLATORS: column names of `admin devices`; seq: how many change sets (signed updates) the device sent.
      std::printf("%s\n", _("DEVICE KEY / USER / STATE / CHANGE SETS (seq) / ENROLLED, LAST SENT (Vietnam time)"));
    }
    for (const auto& d : *list) {
      // "seq=" stays as it is in both languages: scripts read it (tests/links/scenario.sh).
      std::printf("%s\n", fmt(_("{1}  {2} {3} seq={4} enrolled {5}  last sent {6}"), to_hex(d.key), pad(d.user, 20),
                                pad(state_said(d.state), vietnamese() ? 14 : 11), pad(std::to_string(d.head.seq), 6), when(d.enrolled_ms),
                                when(d.last_received_ms))
                                .c_str());
    }
    return 0;
  }
  if (cmd == "users") {
    auto list = svc.users();
    if (!list.ok()) return die(explain(list.status()));
    if (column_names()) {
      std::printf("%s %s %s %s\n", pad(_("USER"), 20).c_str(), pad(_("ROLE"), 10).c_str(), pad(_("UNITS"), 24).c_str(), _("NAME"));
    }
    for (const auto& u : *list) {
      std::string scope = u.all_units ? _("province") : "";
      for (const auto& code : u.units) scope += (scope.empty() ? "" : ",") + code;
      std::printf("%s %s %s %s\n", pad(u.id, 20).c_str(), pad(std::string(role_name(u.role)), 10).c_str(), pad(scope, 24).c_str(),
                  u.name.c_str());
    }
    return 0;
  }
  if (cmd == "units") {
    auto list = svc.units();
    if (!list.ok()) return die(explain(list.status()));
    if (column_names()) std::printf("%s  %s\n", pad(_("CODE"), 5).c_str(), _("COMMUNE, WARD OR DEPARTMENT"));
    for (const auto& u : *list) {
      // Communes and wards as "03808  xã Mường La"; departments by their own name ("STC  Sở Tài chính").
      const bool commune = u.type == "xã" || u.type == "phường";
      std::printf("%s  %s%s%s\n", u.code.c_str(), commune ? u.type.c_str() : "", commune ? " " : "", u.name.c_str());
    }
    return 0;
  }
  if (cmd == "revoke" || cmd == "release") {
    auto key = from_hex<32>(o.get("device"));
    if (!key) return die(fmt(_("{1} needs --device with the device key (64 hex digits, as admin devices shows it)"), cmd));
    Status st = svc.set_device_state(*key, cmd == "revoke" ? DeviceState::revoked : DeviceState::active);
    if (!st.ok()) return die(explain(st));
    std::printf("%s\n", fmt(cmd == "revoke" ? _("device {1} revoked") : _("device {1} released"), o.get("device")).c_str());
    return 0;
  }
  if (cmd == "backup") {
    if (!o.has("to")) return die(_("backup needs --to FILE"));
    if (Status st = svc.backup(o.get("to")); !st.ok()) return die(explain(st));
    std::printf("%s\n", fmt(_("backup written to {1}"), o.get("to")).c_str());
    return 0;
  }
  if (cmd == "import-bundle") {
    std::ifstream in(o.get("in"), std::ios::binary);
    if (!o.has("in") || !in) return die(_("import-bundle --in BUNDLE [--out RECEIPTS]: cannot read the bundle"));
    const std::string bundle((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const Response r = svc.import_bundle(bundle);
    if (r.status != 200) return die(fmt(_("bundle refused ({1}): {2}"), std::to_string(r.status), r.body));
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
    std::printf("%s\n", fmt(P_("bundle imported: {1} change set, {2} accepted or already held; receipts written to {3}",
                                "bundle imported: {1} change sets, {2} accepted or already held; receipts written to {3}", items),
                             std::to_string(items), std::to_string(accepted), out)
                             .c_str());
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
        std::printf("%s\n", fmt(_("evidence file {1} not stored: {2}"), hash, reason).c_str());
      }
      if (carried) {
        std::printf("%s\n", fmt(_("evidence files: {1} carried, {2} stored (verified by hash)"), std::to_string(carried),
                                 std::to_string(stored))
                                 .c_str());
      }
    }
    return 0;
  }
  if (cmd == "token") {
    std::printf("%s\n", server->admin_token.c_str());
    return 0;
  }
  return die(fmt(_("unknown admin command {1}"), cmd));
}

}  // namespace tram::server::cli
