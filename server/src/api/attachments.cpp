#include "attachments.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "responses.hpp"

namespace tram::server::api {
namespace fs = std::filesystem;
namespace {

// The unit a row belongs to ("" for rows of tables without a scope field).
std::string unit_of(const TableDef& t, const RowState& row) {
  if (!t.scope_field) return {};
  for (size_t k = 0; k < t.fields.size(); ++k) {
    if (t.fields[k].id != *t.scope_field) continue;
    const auto* unit = std::get_if<Text>(&row.fields[k].value);
    return unit ? unit->s : std::string();
  }
  return {};
}

}  // namespace

// Which units hold an attachment's bytes lives beside the file (attachments/<hash>.units, one
// unit per line), not in the database: it is a fact about the file, and so survives a restore of
// an older database backup (the devices' re-sent change sets then name it again, and it is
// readable at once, with no second upload over a rural link).
std::vector<std::string> Attachments::holders(const Hash& hash) {
  std::vector<std::string> out;
  std::ifstream in(fs::path(ctx_.config.attachments_dir) / (to_hex(hash) + ".units"));
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) out.push_back(line);
  }
  return out;
}

Status Attachments::add_holders(const Hash& hash, const std::vector<std::string>& units) {
  // The caller holds mu_; readers see whole files (rename).
  std::vector<std::string> all = holders(hash);
  const size_t before = all.size();
  for (const auto& u : units) {
    if (std::find(all.begin(), all.end(), u) == all.end()) all.push_back(u);
  }
  if (all.size() == before) return {};
  const fs::path path = fs::path(ctx_.config.attachments_dir) / (to_hex(hash) + ".units");
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    for (const auto& u : all) out << u << "\n";
    out.flush();
    if (!out) return {Errc::storage_error, "cannot write " + tmp.string()};
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return {Errc::storage_error, "cannot write " + path.string() + ": " + ec.message()};
  return {};
}

Result<Attachments::Access> Attachments::access(const Hash& hash, const UserRecord& user) {
  auto snap = ctx_.storage.read_snapshot();
  if (!snap.ok()) return snap.status();
  auto uses = (*snap)->attachment_uses(hash);
  if (!uses.ok()) return uses.status();
  Access out;
  if (uses->empty()) return out;
  const std::vector<std::string> held_by = holders(hash);
  const Principal who = user.principal();
  RowReader& rows = (*snap)->rows();
  for (const AttachmentUse& u : *uses) {
    const TableDef* t = rows.schema().table(u.table);
    auto row = rows.get_row(u.table, u.row);
    if (!row.ok()) return row.status();
    if (!t || !*row || !may_read(who, *t, **row)) continue;
    const std::string unit = unit_of(*t, **row);
    // A reviewer reads every unit's rows but holds none of them: only in-scope units count as
    // the uploader's own.
    if (who.all_units || who.in_scope(unit)) {
      out.named = true;
      out.units.push_back(unit);
    }
    if (std::find(held_by.begin(), held_by.end(), unit) != held_by.end()) {
      out.named = true;
      out.readable = true;
    }
  }
  return out;
}

// Naming a hash grants nothing: the file is served only through a row whose unit holds it, a
// unit holding it once one of its devices uploaded the bytes. Each device uploads into its own
// partial file, so no one can see or disturb another's upload, and a unit that names a file
// another unit uploaded learns nothing (status 0, not complete) until it uploads the bytes too.
Response Attachments::handle(const Request& req, const std::string& rest, const Caller& caller) {
  const auto& config = ctx_.config;
  if (config.attachments_dir.empty()) return error(404, "not_found", "attachments are not enabled on this server");
  const bool status_route = rest.ends_with("/status");
  const auto hash = from_hex<32>(status_route ? rest.substr(0, rest.size() - 7) : rest);
  if (!hash) return error(400, "malformed", "attachments are addressed by their 64-hex BLAKE2b-256");
  if (!(req.method == "GET" || (req.method == "PUT" && !status_route))) {
    return error(405, "method_not_allowed", "GET /v1/attachments/<hash>[/status] or PUT /v1/attachments/<hash>");
  }
  auto access_r = access(*hash, caller.user);
  if (!access_r.ok()) return error(503, "storage", access_r.status().message());
  const Access& acc = *access_r;
  // Not named by any row this device may read: as if it did not exist.
  if (!acc.named) return error(404, "not_found", "no attachment with this hash in your scope");
  const fs::path dir(config.attachments_dir);
  const fs::path done = dir / to_hex(*hash), partial = dir / "partial" / (to_hex(*hash) + "." + to_hex(caller.device.key));
  std::error_code ec;
  std::lock_guard lock(mu_);
  const bool complete = acc.readable && fs::exists(done, ec);
  const uint64_t received = complete ? fs::file_size(done, ec) : (fs::exists(partial, ec) ? fs::file_size(partial, ec) : 0);
  auto state = [&](uint64_t n, bool c) {
    json::Writer out;
    out.begin_object().key("hash").hex(*hash).key("received").number(n).key("complete").boolean(c).end_object();
    return ok(out.take());
  };
  if (req.method == "GET" && status_route) return state(received, complete);
  if (req.method == "GET") {
    if (!complete) return error(404, "not_found", "the attachment has not been uploaded completely yet");
    // ?offset=N[&length=M]: a part of the file, so that a download cut on a weak link goes on
    // from the bytes the device already holds (protocol §14.3). Without them, the whole file.
    const std::string off = query_param(req.target, "offset"), len = query_param(req.target, "length");
    if ((!off.empty() && !decimal(off)) || (!len.empty() && !decimal(len))) {
      return error(400, "malformed", "offset and length are byte counts");
    }
    const uint64_t from = off.empty() ? 0 : std::stoull(off);
    if (from > received) return error(416, "range", "offset beyond the file's " + std::to_string(received) + " bytes");
    const uint64_t n = len.empty() ? received - from : std::min<uint64_t>(std::stoull(len), received - from);
    std::ifstream in(done, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(from));
    std::string bytes(n, '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(n));
    if (static_cast<uint64_t>(in.gcount()) != n) return error(503, "storage", "cannot read the attachment");
    Response r = ok(std::move(bytes));
    r.content_type = "application/octet-stream";
    return r;
  }
  if (complete) return state(received, true);
  const std::string off = query_param(req.target, "offset");
  if (off.empty() || !decimal(off)) return error(400, "malformed", "PUT needs ?offset=N (bytes already confirmed)");
  const uint64_t offset = std::stoull(off);
  // A chunk that starts below the count and goes beyond it, repeating exactly the bytes held
  // there: the device resumed before this server stored the part of its previous, cut chunk
  // that arrived (a half-open connection). Only the new bytes are appended, so the chunk is not
  // refused and sent a third time.
  std::string_view chunk = req.body;
  bool at_count = offset == received;
  if (offset < received && received - offset < chunk.size()) {
    std::ifstream held(partial, std::ios::binary);
    held.seekg(static_cast<std::streamoff>(offset));
    std::string repeated(received - offset, '\0');
    held.read(repeated.data(), static_cast<std::streamsize>(repeated.size()));
    if (held.gcount() == static_cast<std::streamsize>(repeated.size()) && chunk.starts_with(repeated)) {
      chunk.remove_prefix(repeated.size());
      at_count = true;
    }
  }
  if (!at_count) {
    Response r = error(409, "offset_mismatch", "resume at " + std::to_string(received));
    json::Writer answer;
    answer.begin_object().key("error").begin_object().key("code").string("offset_mismatch");
    answer.key("message").string("resume at the received offset").end_object().key("received").number(received).end_object();
    r.body = answer.take();
    return r;
  }
  if (received + chunk.size() > config.max_attachment_bytes) {
    fs::remove(partial, ec);
    return error(413, "too_large", "attachments are limited to " + std::to_string(config.max_attachment_bytes) + " bytes");
  }
  fs::create_directories(dir / "partial", ec);
  {
    std::ofstream out(partial, std::ios::binary | std::ios::app);
    out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    out.flush();
    if (!out) return error(503, "storage", "cannot write the attachment");
  }
  const uint64_t now_received = received + chunk.size();
  if (query_param(req.target, "final") != "1") return state(now_received, false);
  // The last chunk: the whole file must hash to its name, or this device's upload is discarded.
  std::ifstream in(partial, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  if (blake2b_256(bytes) != *hash) {
    fs::remove(partial, ec);
    return error(422, "hash_mismatch", "the uploaded bytes do not hash to " + to_hex(*hash) + "; upload again from 0");
  }
  if (fs::exists(done, ec)) {
    fs::remove(partial, ec);  // the same bytes: this upload proved possession, one copy is kept
  } else {
    fs::rename(partial, done, ec);
    if (ec) return error(503, "storage", ec.message());
  }
  {
    std::lock_guard wlock(ctx_.writer);
    if (Status st = ctx_.storage.mark_attachment_received(*hash, bytes.size(), ctx_.clock.now_ms()); !st.ok()) {
      return error(503, "storage", st.message());
    }
  }
  if (Status st = add_holders(*hash, acc.units); !st.ok()) return error(503, "storage", st.message());
  return state(bytes.size(), true);
}

// An evidence file carried in a store-and-forward bundle (protocol §16.2), stored as if the
// bundle's device had uploaded it: the same naming rule (a row in the device's scope names the
// hash) and the same hash check, so a bundle grants nothing an online upload would not.
Status Attachments::store_carried(const Hash& hash, std::string_view bytes, const Caller& caller) {
  const auto& config = ctx_.config;
  if (config.attachments_dir.empty()) return {Errc::not_found, "attachments are not enabled on this server"};
  if (blake2b_256(bytes) != hash) return {Errc::invalid_value, "hash_mismatch: the file's bytes do not hash to " + to_hex(hash)};
  if (bytes.size() > config.max_attachment_bytes) return {Errc::too_large, "over the server's attachment limit"};
  auto acc = access(hash, caller.user);
  if (!acc.ok()) return acc.status();
  if (!acc->named) return {Errc::forbidden_scope, "no row of this device's units names it"};
  const fs::path dir(config.attachments_dir);
  const fs::path done = dir / to_hex(hash);
  std::error_code ec;
  std::lock_guard lock(mu_);
  if (!fs::exists(done, ec)) {
    fs::create_directories(dir / "partial", ec);
    const fs::path tmp = dir / "partial" / (to_hex(hash) + ".bundle." + to_hex(caller.device.key));
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      out.flush();
      if (!out) return {Errc::storage_error, "cannot write the attachment"};
    }
    fs::rename(tmp, done, ec);
    if (ec) return {Errc::storage_error, ec.message()};
  }
  {
    std::lock_guard wlock(ctx_.writer);
    TRAM_RETURN_IF_ERROR(ctx_.storage.mark_attachment_received(hash, bytes.size(), ctx_.clock.now_ms()));
  }
  return add_holders(hash, acc->units);
}

Response Attachments::missing() {
  std::lock_guard lock(ctx_.writer);
  auto list = ctx_.storage.missing_attachments();
  if (!list.ok()) return error(503, "storage", list.status().message());
  // A file that is on disk with its holders (attachments/ outlives a database restore) is not
  // missing: record it as received again instead of asking a device for it.
  std::erase_if(*list, [&](const AttachmentUse& u) {
    std::error_code ec;
    const auto file = fs::path(ctx_.config.attachments_dir) / to_hex(u.hash);
    if (!fs::exists(file, ec) || holders(u.hash).empty()) return false;
    const auto size = fs::file_size(file, ec);
    return !ec && ctx_.storage.mark_attachment_received(u.hash, size, ctx_.clock.now_ms()).ok();
  });
  json::Writer out;
  out.begin_object().key("missing").begin_array();
  for (const AttachmentUse& u : *list) {
    out.begin_object().key("hash").hex(u.hash).key("table").string(u.table).key("row").string(u.row).end_object();
  }
  out.end_array().end_object();
  return ok(out.take());
}

}  // namespace tram::server::api
