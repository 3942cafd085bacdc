// Store and forward (protocol §16): the pending outbox as a bundle signed by the device, and the
// receipt bundle an administrator's import returns, settled as a push's receipts would be.
#include <filesystem>
#include <fstream>
#include <limits>

#include <simdjson.h>

#include "client_impl.hpp"
#include "tram/engine/json.hpp"
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
  }
  const std::string bundle = "{\"v\":1,\"kind\":\"tram-bundle\",\"device\":\"" + device_hex + "\",\"created_ms\":" +
                             std::to_string(impl_->clock->now_ms()) + ",\"body\":" + json::quote(body) + ",\"sig\":\"" +
                             to_hex(sig) + "\"}";
  const std::string tmp = path + ".tmp";
  TRAM_RETURN_IF_ERROR(write_private_file(tmp, bundle));
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return fail(Errc::storage_error, ec.message());
  return n;
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
  }
  impl_->notify(changed);
  return report;
}

}  // namespace tram::client
