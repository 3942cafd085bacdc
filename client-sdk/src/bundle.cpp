// Store and forward (protocol §16): the pending outbox as a bundle signed by the device, and the
// receipt bundle an administrator's import returns, settled as a push's receipts would be.
#include <filesystem>
#include <fstream>
#include <limits>
#include <set>

#include <simdjson.h>

#include "client_impl.hpp"
#include "tram/engine/json.hpp"
#include "tram/engine/sqlite.hpp"
#include "tram/engine/wire_writer.hpp"

namespace tram::client {
namespace fs = std::filesystem;
namespace dom = simdjson::dom;

namespace {
Status fail(Errc c, std::string m) { return {c, std::move(m)}; }
}  // namespace

// ---- store and forward -------------------------------------------------------------------

Result<size_t> Client::export_bundle(const std::string& path) {
  std::string body;
  size_t n = 0;
  std::string device_hex;
  Signature sig{};
  std::set<std::string> file_hashes;  // hex, of the evidence files the bundle carries
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->chain) return fail(Errc::not_enrolled, "enrol this device first");
    std::vector<SignedChangeSet> pending;
    TRAM_RETURN_IF_ERROR(impl_->local->each_pending(0, std::numeric_limits<int64_t>::max(),
                                                    [&](uint64_t, std::span<const uint8_t> bytes, std::span<const uint8_t> s) {
      pending.push_back({std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()), {}});
      std::copy_n(s.begin(), std::min(s.size(), pending.back().sig.size()), pending.back().sig.begin());
    }));
    n = pending.size();
    body = wire::write_push_body(pending);  // the bundle's body is a push body (protocol §16)
    sig = impl_->chain->key().sign("tram-bundle-v1:" + body);
    device_hex = to_hex(*impl_->device);
    // The evidence files the server has not confirmed (still queued for upload): those the
    // pending change sets name, and those of accepted ones whose upload had not finished.
    // Without them the reports would arrive without their photos until the phone next synced
    // online. Their hashes are in signed change sets; the files need no signature of their own.
    auto queued = impl_->local->queued_uploads();
    if (!queued.ok()) return queued.status();
    file_hashes.insert(queued->begin(), queued->end());
  }
  std::string files;
  for (const std::string& hex : file_hashes) {
    std::ifstream in(impl_->opt.path + ".files/" + hex, std::ios::binary);
    if (!in) continue;  // gone from the device: the server lists it as missing
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    files += std::string(files.empty() ? "" : ",") + "{\"hash\":\"" + hex + "\",\"size\":" + std::to_string(bytes.size()) +
             ",\"data\":\"" + to_base64(bytes) + "\"}";
  }
  // Version 2 only when files travel: a bundle without them stays as version 1 wrote it.
  const std::string bundle = std::string("{\"v\":") + (files.empty() ? "1" : "2") + ",\"kind\":\"tram-bundle\",\"device\":\"" +
                             device_hex + "\",\"created_ms\":" + std::to_string(impl_->clock->now_ms()) + ",\"body\":" +
                             json::quote(body) + ",\"sig\":\"" + to_hex(sig) + "\"" +
                             (files.empty() ? "" : ",\"files\":[" + files + "]") + "}";
  const std::string tmp = path + ".tmp";
  TRAM_RETURN_IF_ERROR(write_private_file(tmp, bundle));
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return fail(Errc::storage_error, ec.message());
  return n;
}

Result<Unsent> Client::unsent(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return fail(Errc::not_found, "no device database at " + path);
  auto db = sql::Database::open(path);
  if (!db.ok()) return db.status();
  Unsent out;
  auto pending = db->prepare("SELECT COUNT(*) FROM _client_outbox WHERE state = 0");
  if (!pending.ok()) return pending.status();
  if (pending->step().value_or(false)) out.changesets = static_cast<uint64_t>(pending->column_int(0));
  auto files = db->prepare("SELECT hash FROM _client_uploads WHERE done = 0");
  if (!files.ok()) return files.status();
  while (files->step().value_or(false)) {
    const auto size = fs::file_size(path + ".files/" + std::string(files->column_text(0)), ec);
    if (ec) continue;  // gone from the device: nothing left to lose
    ++out.files;
    out.file_bytes += size;
  }
  return out;
}

Result<SyncReport> Client::import_receipts(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(Errc::not_found, "cannot read " + path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  dom::parser parser;
  dom::object o;
  std::string_view kind, dev, server;
  dom::array results;
  if (parser.parse(text).get_object().get(o) || o["kind"].get_string().get(kind) || kind != "tram-receipts" ||
      o["device"].get_string().get(dev) || o["server"].get_string().get(server) ||
      o["response"]["results"].get_array().get(results)) {
    return fail(Errc::malformed_json, path + " is not a receipt bundle");
  }
  SyncReport report;
  Touched changed;
  {
    std::lock_guard lock(impl_->mu);
    if (!impl_->device || dev != to_hex(*impl_->device)) return fail(Errc::device_mismatch, "the receipts are for another device");
    const auto key = from_hex<32>(server);
    if (!key || !impl_->trusts(*key)) {
      return fail(Errc::bad_signature, "the receipts are signed by server key " + std::string(server).substr(0, 16) +
                                            "…, which this device does not trust: another server, or a key rotated since"
                                            " this device last synced (sync once to follow it, then import again)");
    }
    Status st = impl_->pusher->record_results(parse_push_results(results), report, changed);
    if (!st.ok() && st.code() != Errc::rejected) return st;
    // Evidence files the server stored from the bundle: not uploaded again at the next sync.
    dom::array files;
    if (!o["files"].get_array().get(files)) {
      for (dom::element f : files) {
        std::string_view hash;
        bool stored = false;
        if (f["hash"].get_string().get(hash) || f["stored"].get_bool().get(stored) || !stored || !from_hex<32>(hash)) continue;
        TRAM_RETURN_IF_ERROR(impl_->local->upload_done(std::string(hash)));
        ++report.attachments_uploaded;
      }
    }
  }
  impl_->notify(changed);
  return report;
}

}  // namespace tram::client
