#include "bundles.hpp"

#include <simdjson.h>

#include "attachments.hpp"
#include "push_queue.hpp"
#include "responses.hpp"

namespace tram::server::api {
namespace dom = simdjson::dom;

Response Bundles::import(const std::string& bundle) {
  dom::parser parser;
  dom::object o;
  std::string_view kind, device_hex, body, sig_hex;
  if (parser.parse(bundle).get_object().get(o) || o["kind"].get_string().get(kind) || kind != "tram-bundle" ||
      o["device"].get_string().get(device_hex) || o["body"].get_string().get(body) || o["sig"].get_string().get(sig_hex)) {
    return error(400, "malformed", "expected a bundle {\"kind\":\"tram-bundle\", \"device\", \"body\", \"sig\"}");
  }
  const auto device = from_hex<32>(device_hex);
  const auto sig = from_hex<64>(sig_hex);
  if (!device || !sig) return error(400, "malformed", "device is 64 and sig 128 hex digits");
  Caller who;
  {
    auto dr = ctx_.storage.device(*device);
    if (!dr.ok()) return error(503, "storage", dr.status().message());
    if (!*dr) return error(401, "unknown_device", "the bundle's device is not enrolled");
    who.device = **dr;
    auto ur = ctx_.storage.user(who.device.user);
    if (!ur.ok() || !*ur) return error(403, "unknown_user", "the device's user no longer exists");
    who.user = **ur;
  }
  if (who.device.state == DeviceState::revoked) return error(403, "device_revoked", "this device was revoked by an administrator");
  if (who.device.state == DeviceState::quarantined) {
    return error(403, "device_quarantined", "this device's chain forked; release it first");
  }
  if (!verify_signature(who.device.key, "tram-bundle-v1:" + std::string(body), *sig)) {
    return error(400, "bad_signature", "the bundle's signature does not verify with the device's enrolled key");
  }
  const std::string body_copy(body);  // the parser's strings die with the next parse
  // Evidence files (bundle v2, protocol §16.2): each must hash to its name before anything is
  // pushed, so an altered photo refuses the bundle whole and nothing of it is applied. The
  // change sets, signed, name the hashes: a file cannot be swapped without breaking a signature
  // or naming a hash no row names (then it is left out, below).
  struct Carried {
    Hash hash{};
    std::string bytes;
  };
  std::vector<Carried> files;
  dom::array list;
  if (!o["files"].get_array().get(list)) {
    for (dom::element f : list) {
      std::string_view hash_hex, data;
      if (f["hash"].get_string().get(hash_hex) || f["data"].get_string().get(data)) {
        return error(400, "malformed", "each bundle file is {\"hash\": 64 hex, \"data\": base64}");
      }
      const auto hash = from_hex<32>(hash_hex);
      auto bytes = from_base64(data);
      if (!hash || !bytes) return error(400, "malformed", "a bundle file's hash is 64 hex digits and its data base64");
      if (blake2b_256(*bytes) != *hash) {
        return error(422, "hash_mismatch", "evidence file " + std::string(hash_hex) +
                                               " in the bundle does not hash to its name: the bundle was altered or damaged; nothing was imported");
      }
      files.push_back({*hash, std::move(*bytes)});
    }
  }
  Response r = pushes_.push(body_copy, who);
  if (r.status != 200) return r;
  json::Writer out(r.body.size() + 256);
  out.begin_object().key("v").number(1).key("kind").string("tram-receipts").key("device").hex(who.device.key);
  out.key("server").hex(ctx_.server_key.public_key()).key("response").raw(r.body);
  // After the push, so that the rows naming the files exist; a file no row of the device's
  // units names is left out with the reason (the device uploads it online, or no one needs it).
  out.key("files").begin_array();
  for (const Carried& f : files) {
    Status st = attachments_.store_carried(f.hash, f.bytes, who);
    out.begin_object().key("hash").hex(f.hash).key("stored").boolean(st.ok());
    if (!st.ok()) out.key("reason").string(st.message());
    out.end_object();
  }
  out.end_array().end_object();
  r.body = out.take();
  return r;
}

Result<std::string> Bundles::push_as(const PublicKey& device, const std::string& body) {
  Caller who;
  auto dr = ctx_.storage.device(device);
  if (!dr.ok() || !*dr) return Status(Errc::not_found, "device not enrolled");
  who.device = **dr;
  auto ur = ctx_.storage.user(who.device.user);
  if (!ur.ok() || !*ur) return Status(Errc::not_found, "user missing");
  who.user = **ur;
  Response r = pushes_.push(body, who);
  if (r.status != 200) return Status(Errc::invalid_value, r.body);
  return r.body;
}

}  // namespace tram::server::api
