// The data directory: checks, secrets, key statements, opening the server (data_dir.hpp).
#include "cli/data_dir.hpp"

#include <simdjson.h>
#include <sodium.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <span>

#include "audit.hpp"
#include "cli/i18n.hpp"
#include "tram/engine/sqlite.hpp"
#include "storage/log_watermark.hpp"
#include "storage/sqlite_storage.hpp"
#include "api/web_app.hpp"
#include "tram/engine/schema_loader.hpp"

namespace fs = std::filesystem;

namespace tram::server::cli {

std::string damaged(const std::string& what, const std::string& data) {
  return what + "\n" + fmt(_("  The server will not serve over damaged or missing state. The way out (docs/operations.md §3):\n"
                             "    tram-server admin restore --data {1} --from BACKUP.db   (the newest backup; devices re-send\n"
                             "    what it lacks), then start the server again."),
                           data);
}


Result<std::string> secret_file(const fs::path& path, RandomSource& random, bool create) {
  std::error_code ec;
  if (fs::exists(path, ec)) {
    std::ifstream in(path);
    std::string hex, rest;
    if (in >> hex && hex.size() == 64 && from_hex<32>(hex) && !(in >> rest)) return hex;
    return Status(Errc::storage_error, fmt(_("{1} is not 64 hex digits"), path.string()));
  }
  if (!create) return Status(Errc::storage_error, fmt(_("{1} is missing"), path.string()));
  std::array<uint8_t, 32> raw;
  random.fill(std::as_writable_bytes(std::span(raw)));
  std::string hex = to_hex(raw);
  sodium_memzero(raw.data(), raw.size());
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp);
    out << hex << "\n";
    out.flush();
    if (!out) return Status(Errc::storage_error, fmt(_("cannot write {1}"), tmp.string()));
  }
  ::chmod(tmp.c_str(), 0600);
  fs::rename(tmp, path, ec);
  if (ec) return Status(Errc::storage_error, fmt(_("cannot write {1}"), path.string()) + ": " + ec.message());
  return hex;
}

std::string default_schemas() {
  if (fs::exists("schemas/sonla-2026")) return "schemas";
  return TRAM_DEFAULT_SCHEMAS_DIR;
}

Result<std::string> read_key_statements(const fs::path& dir) {
  const fs::path path = dir / "key-statements.json";
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::string("[]");
  std::ifstream in(path, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  simdjson::dom::parser parser;
  simdjson::dom::array items;
  if (parser.parse(text).get_array().get(items)) return Status(Errc::storage_error, fmt(_("{1} is not a JSON array"), path.string()));
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

Status write_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0) return {Errc::storage_error, fmt(_("cannot write {1}"), tmp.string())};
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  std::error_code ec;
  if (ok) fs::rename(tmp, path, ec);
  if (!ok || ec) return {Errc::storage_error, fmt(_("cannot write {1}"), path.string())};
  return {};
}


Result<Server> open_server(const Options& o, ClockSource& clock, RandomSource& random, bool serving) {
  const std::string data = o.get("data");
  if (data.empty()) return Status(Errc::invalid_argument, _("--data DIR is required"));
  std::error_code ec;
  fs::create_directories(data, ec);
  if (ec) return Status(Errc::storage_error, fmt(_("cannot create {1}: {2}"), data, ec.message()));
  const fs::path dir(data), db_path = dir / "tram.db", key_path = dir / "server.key";
  const LogWatermark mark((dir / "log.head").string());
  const std::string behind_path = (dir / "log.behind").string();
  std::string mark_error;
  const std::optional<Watermark> last = mark.read(&mark_error);
  const bool db_exists = fs::exists(db_path, ec), key_exists = fs::exists(key_path, ec);
  if (!mark_error.empty()) return Status(Errc::storage_error, damaged(mark_error, data));
  if (!db_exists && (key_exists || last)) {
    return Status(Errc::storage_error,
                  damaged(last ? fmt(_("{1} is missing, but this server has a key and signed its log up to #{2}.\n"
                                       "  (To start a new, empty server instead, move server.key and log.head away.)"),
                                     db_path.string(), std::to_string(last->server_seq))
                               : fmt(_("{1} is missing, but this server has a key.\n"
                                       "  (To start a new, empty server instead, move server.key and log.head away.)"),
                                     db_path.string()),
                          data));
  }
  if (db_exists && !key_exists) {
    return Status(Errc::storage_error,
                  // TRANSLATORS: server.key: the server's signing key, which devices check every receipt against.
                  damaged(fmt(_("{1} is missing: every device trusts this server's key, so a new one is\n"
                                "  never made where a database exists. Copy server.key back from the backup of this data directory."),
                              key_path.string()),
                          data));
  }
  const std::string schemas = o.get("schemas", default_schemas());
  auto schema = load_schema_dir(schemas + "/sonla-2026");
  if (!schema.ok()) return schema.status();
  auto key_hex = secret_file(key_path, random, /*create=*/!db_exists);
  if (!key_hex.ok()) return Status(Errc::storage_error, damaged(key_hex.status().message(), data));
  // The schema version the database was written with, to record a migration in the audit trail.
  std::string stored_version;
  if (db_exists) {
    if (auto db = sql::Database::open(db_path.string()); db.ok()) {
      if (auto st = db->prepare("SELECT value FROM _tram_meta WHERE key = 'schema_version'"); st.ok()) {
        if (auto has = st->step(); has.ok() && *has) stored_version = std::string(st->column_text(0));
      }
    }
  }
  auto storage = SqliteStorage::open(db_path.string(), *schema);
  if (!storage.ok()) return Status(Errc::storage_error, damaged(fmt(_("cannot open {1}: {2}"), db_path.string(), storage.status().message()), data));
  if (!stored_version.empty() && stored_version != std::to_string(schema->version)) {
    AuditLog((dir / "audit.log").string())
        .record("schema_migrated", "server", {{"schema", schema->id}, {"from_version", stored_version},
                                              {"to_version", std::to_string(schema->version)}});
  }
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
      if (!LogWatermark::write_behind(behind_path, *behind)) return Status(Errc::storage_error, fmt(_("cannot write {1}"), behind_path));
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
  config.audit_path = (dir / "audit.log").string();
  config.watermark_path = mark.path();
  auto statements = read_key_statements(dir);
  if (!statements.ok()) return Status(Errc::storage_error, damaged(statements.status().message(), data));
  config.key_statements = *statements;
  {
    // The file the schema was loaded from, byte for byte: what the web app builds its forms from.
    std::ifstream in(schemas + "/sonla-2026/v" + std::to_string(schema->version) + ".json", std::ios::binary);
    config.schema_json.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  s.service = std::make_unique<Service>(config, std::move(storage).value(), std::move(key), s.admin_token, clock, random);
  if (serving) {
    // The web app: --web DIR, or web/dist when the server runs from a checkout that built it.
    const std::string web = o.get("web", fs::exists("web/dist/index.html") ? "web/dist" : "");
    if (!web.empty()) {
      auto app = api::WebApp::load(web);
      if (!app.ok()) return app.status();
      s.service->set_web_app(std::make_unique<api::WebApp>(std::move(app).value()));
    }
  }
  if (behind) {
    s.service->set_log_behind(*behind);
    std::fprintf(stderr, "tram-server: %s\n",
                 fmt(_("WARNING: the log is behind the last head this server signed (#{1}, the database has #{2}):\n"
                       "  receipted change sets are missing (a restored backup or a lost WAL). Devices re-send what they hold\n"
                       "  as they sync. /healthz reports \"log_behind\" until `tram-server admin ack-log --data {3}`."),
                     std::to_string(behind->expected_seq), std::to_string(behind->found_seq), data)
                     .c_str());
  }
  return s;
}

int lock_data_dir(const std::string& data) {
  const std::string path = (fs::path(data) / "serve.lock").string();
  const int fd = ::open(path.c_str(), O_CREAT | O_RDWR, 0600);
  if (fd < 0 || ::flock(fd, LOCK_EX | LOCK_NB) != 0) return -1;
  return fd;
}

}  // namespace tram::server::cli
