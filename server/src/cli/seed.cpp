// `tram-server seed`: the schema's reference rows, signed by the server's own administrator
// device (DATA/seed-device.key) and pushed like any other change; once.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/data_dir.hpp"
#include "cli/i18n.hpp"
#include "tram/engine/device_chain.hpp"
#include "tram/engine/schema_loader.hpp"
#include "tram/engine/seed.hpp"

namespace fs = std::filesystem;

namespace tram::server::cli {

int seed(const Options& o, ClockSource& clock, RandomSource& random) {
  auto server = open_server(o, clock, random, /*serving=*/true);
  if (!server.ok()) return die(server.status());
  if (lock_data_dir(o.get("data")) < 0) return die(fmt(_("stop the server before seeding {1}"), o.get("data")));
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
  if (Status st = svc.create_user(UserRecord{"seed-admin", Role::admin, {}, true, {}}); !st.ok()) return die(st.to_string());
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
  const bool upgrade = enrolled && head.seq > 0;
  if (upgrade) {
    // Seeded before, perhaps by an older schema version: push only what the seed files now say
    // differently (v3 brought each task's full wording and dropped an invented deadline).
    auto changed = svc.changed_rows(std::move(rows).value());
    if (!changed.ok()) return die(changed.status().to_string());
    if (changed->empty()) {
      std::printf("%s\n", fmt(_("already seeded (seed device at seq {1})"), std::to_string(head.seq)).c_str());
      return 0;
    }
    rows = std::move(changed).value();
  }
  if (!enrolled) {
    auto code = svc.issue_enrolment_code("seed-admin", 60'000);
    if (!code.ok()) return die(code.status().to_string());
    server::Request req{"POST", "/v1/enroll", "{\"code\":\"" + *code + "\",\"public_key\":\"" + to_hex(key.public_key()) + "\"}", "", "seed", ""};
    auto r = svc.handle(req);
    if (r.status != 200) return die(fmt(_("enrolling the seed device: {1}"), r.body));
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
      return die(fmt(_("seed change set refused: {1}"), r.ok() ? *r : r.status().to_string()));
    }
    accepted += made->cs.ops.size();
  }
  if (upgrade) {
    std::printf("%s\n", fmt(_("updated {1} rows to the seed of {2} v{3}"), std::to_string(accepted), schema->id,
                             std::to_string(schema->version))
                             .c_str());
  } else {
    std::printf("%s\n", fmt(_("seeded {1} rows of {2} v{3} (units, task groups, tasks, indicators, periods)"),
                             std::to_string(accepted), schema->id, std::to_string(schema->version))
                             .c_str());
  }
  return 0;
}

}  // namespace tram::server::cli
