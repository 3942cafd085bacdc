// What waits, what was refused and what the server signed: status (outbox, rejections,
// conflicts, returned reports), receipts and their verification, bundles carried by hand.
#include "app.hpp"

#include <simdjson.h>

#include <cstdlib>

namespace fs = std::filesystem;

namespace tram::field {

using namespace tram::client;

namespace {

// What the ops of an outbox entry did, in one line ("progress_report 019e…: status, value").
// The SDK gives them only as JSON, [{"table","id","op":"put"|"delete","fields":{…}}]: this is the
// one place the app still reads the SDK's JSON, until OutboxEntry carries the ops as values.
std::string ops_summary(const std::string& ops_json) {
  simdjson::dom::parser parser;
  simdjson::dom::array ops;
  if (parser.parse(ops_json).get_array().get(ops) != simdjson::SUCCESS) return ops_json.substr(0, 80);
  std::string out;
  for (auto op : ops) {
    std::string_view table, id, kind;
    if (op["table"].get_string().get(table) != simdjson::SUCCESS) table = "?";
    if (op["id"].get_string().get(id) != simdjson::SUCCESS) id = "?";
    if (op["op"].get_string().get(kind) != simdjson::SUCCESS) kind = "put";
    if (!out.empty()) out += "; ";
    out += std::string(table) + " " + std::string(id);
    if (kind == "delete") {
      out += " deleted";
      continue;
    }
    simdjson::dom::object fields;
    if (op["fields"].get_object().get(fields) != simdjson::SUCCESS) continue;
    std::string names;
    size_t n = 0;
    for (auto field : fields) {
      if (n++ < 4) names += (names.empty() ? "" : ", ") + std::string(field.key);
    }
    if (n > 4) names += " and " + std::to_string(n - 4) + " more";
    if (!names.empty()) out += " (" + names + ")";
  }
  return out;
}


}  // namespace

int cmd_status(App& app) {
  auto outbox = app.client->outbox();
  auto conflicts = app.client->conflicts();
  if (!outbox.ok()) return app.fail(outbox.status());
  if (!conflicts.ok()) return app.fail(conflicts.status());
  auto returned = all_rows(*app.client, kReports, {eq("status", "returned")});
  if (!returned.ok()) return app.fail(returned.status());
  const DeviceInfo& i = app.info;
  size_t pending = 0, rejected = 0;
  for (const auto& e : *outbox) (e.state == OutboxEntry::rejected ? rejected : pending)++;
  if (app.json) {
    Json j;
    j.begin_object().kv("user", i.user).kv("name", app.person()).kv("role", i.role).key("units").begin_array();
    for (const auto& u : i.units) j.str(u);
    j.end_array().kv("all_units", i.all_units).kv("server", i.server_url).kv("device", to_hex(i.device)).kv("seq", i.seq);
    j.kv("pending", static_cast<uint64_t>(pending)).kv("rejected_count", static_cast<uint64_t>(rejected)).kv("receipts", i.receipts);
    j.key("last_sync");
    if (i.last_sync_ms) j.str(iso_utc(*i.last_sync_ms));
    else j.null();
    j.kv("last_error", i.last_error).kv("clock_ahead", i.clock_ahead).kv("clock_offset_days", app.config.clock_offset_days);
    j.kv("kept", i.kept).kv("ca_file", app.config.ca_file).kv("pin", app.config.pin);
    j.key("outbox").begin_array();
    for (const auto& e : *outbox) {
      j.begin_object().kv("seq", e.seq).kv("id", to_hex(e.id)).kv("state", e.state == OutboxEntry::rejected ? "rejected" : "pending");
      j.kv("created", iso_utc(e.created_ms)).kv("code", e.code).kv("message", e.message).kv("ops", ops_summary(e.ops_json)).end_object();
    }
    j.end_array().key("rejected").begin_array();
    for (const auto& e : *outbox) {
      if (e.state == OutboxEntry::rejected) j.begin_object().kv("seq", e.seq).kv("code", e.code).kv("message", e.message).end_object();
    }
    j.end_array().key("conflicts").begin_array();
    for (const auto& c : *conflicts) {
      j.begin_object().kv("table", c.table).kv("row", c.row).kv("field", c.field).kv("mine_lost", c.mine_lost);
      j.kv("winner", to_hex(c.winner)).kv("loser", to_hex(c.loser)).key("loser_value").value(c.loser_value).end_object();
    }
    j.end_array().key("returned").begin_array();
    for (const auto& r : *returned) {
      j.begin_object().kv("id", r.id).kv("unit", text_of(r, "unit_code")).kv("review_comment", text_of(r, "review_comment"));
      j.kv("reviewed_by", text_of(r, "reviewed_by")).end_object();
    }
    return app.emit(j.end_array().end_object());
  }
  std::string units;
  for (const auto& u : i.units) units += (units.empty() ? "" : ", ") + unit_label(app, u);
  std::printf("Device     %s (%s, %s) · %s\n", app.person().c_str(), i.user.c_str(), i.role.c_str(), i.all_units ? "all units" : units.c_str());
  std::printf("Server     %s\n", i.server_url.c_str());
  std::printf("Last sync  %s%s\n", i.last_sync_ms ? human_time(*i.last_sync_ms).c_str() : "never",
              i.last_error.empty() ? "" : ("  (last attempt failed: " + i.last_error + ")").c_str());
  std::printf("Outbox     %zu change set%s waiting to be sent\n", pending, pending == 1 ? "" : "s");
  for (const auto& e : *outbox) {
    if (e.state == OutboxEntry::pending) std::printf("  #%llu  %s  %s\n", static_cast<unsigned long long>(e.seq), human_time(e.created_ms).c_str(), ops_summary(e.ops_json).c_str());
  }
  if (rejected) {
    std::printf("Rejected   %zu change set%s refused by the server (fix the report, then `tram-field dismiss SEQ`):\n", rejected, rejected == 1 ? "" : "s");
    for (const auto& e : *outbox) {
      if (e.state == OutboxEntry::rejected) {
        std::printf("  #%llu  %s: %s\n        (%s)\n", static_cast<unsigned long long>(e.seq), e.code.c_str(), e.message.c_str(), ops_summary(e.ops_json).c_str());
      }
    }
  }
  std::printf("Conflicts  %zu\n", conflicts->size());
  for (const auto& c : *conflicts) {
    std::printf("  %s %s, field %s: %s\n", c.table.c_str(), c.row.c_str(), c.field.c_str(),
                c.mine_lost ? "your edit lost to a concurrent edit" : "your edit won over a concurrent edit");
    auto now = app.client->get(c.table, c.row);
    if (now.ok() && now->has_value()) std::printf("      kept: \"%s\"\n", text_of(**now, c.field).c_str());
    std::printf("      lost: \"%s\"\n", value_text(c.loser_value).c_str());
  }
  std::printf("Receipts   %llu (proof of submission: `tram-field receipt ID`)\n", static_cast<unsigned long long>(i.receipts));
  if (!returned->empty()) {
    std::printf("Returned for correction:\n");
    for (const auto& r : *returned) {
      std::printf("  %s  %s %s: \"%s\" — %s\n", r.id.c_str(), unit_label(app, text_of(r, "unit_code")).c_str(),
                  (!text_of(r, "indicator").empty() ? text_of(r, "indicator") : text_of(r, "task")).c_str(), text_of(r, "review_comment").c_str(),
                  text_of(r, "reviewed_by").c_str());
    }
  }
  if (i.clock_ahead) std::printf("Clock      the server says this phone's clock is ahead: set the date and time (its edits cannot win a conflict until then)\n");
  if (app.config.clock_offset_days) std::printf("           (simulated: this device's clock is off by %lld days)\n", static_cast<long long>(app.config.clock_offset_days));
  return 0;
}

int cmd_receipt(App& app) {
  const std::string wanted = app.args.positional[0];
  auto r = find_report(app, wanted);
  // A report the server rejected is undone on the device, but its receipt remains: the proof of
  // what the server decided. Full ids find it even without the row.
  Row row;
  if (r.ok()) {
    row = *r;
  } else if (r.code() == Errc::not_found && wanted.size() == 36) {
    row.table = kReports;
    row.id = wanted;
  } else {
    return app.fail(r.status());
  }
  auto receipts = app.client->receipts(kReports, row.id);
  if (!receipts.ok()) return app.fail(receipts.status());
  if (receipts->empty()) {
    if (!r.ok()) return app.fail(r.status());
    return app.fail(Status(Errc::not_found, "no receipt yet for report " + row.id + ": it has not reached the server (run `tram-field sync`)"));
  }
  const Row* report = &row;
  bool all_ok = true;
  std::vector<Status> checks;
  for (const auto& rc : *receipts) {
    checks.push_back(app.client->verify_receipt(rc));
    all_ok = all_ok && checks.back().ok();
  }
  if (app.json) {
    Json j;
    j.begin_object().kv("report", report->id).kv("recorded_at", text_of(*report, "recorded_at")).kv("verified", all_ok).key("receipts").begin_array();
    for (size_t k = 0; k < receipts->size(); ++k) {
      const auto& rc = (*receipts)[k];
      j.begin_object().kv("seq", rc.seq).kv("server_seq", rc.server_seq).kv("id", to_hex(rc.id)).kv("status", rc.status).kv("code", rc.code);
      j.kv("received_at_ms", rc.received_at_ms).kv("received_at", iso_utc(rc.received_at_ms)).kv("clock_ahead", rc.clock_ahead);
      j.kv("verified", checks[k].ok());
      if (!checks[k].ok()) j.kv("error", checks[k].to_string());
      j.kv("body", rc.body).kv("sig", rc.sig).end_object();
    }
    j.end_array().end_object();
    app.emit(j);
    return all_ok ? 0 : kFailed;
  }
  std::printf("Proof of submission for report %s (%s, %s)\n", report->id.c_str(), unit_label(app, text_of(*report, "unit_code")).c_str(), text_of(*report, "period").c_str());
  std::printf("  server key %s (pinned at enrolment)\n", to_hex(app.info.server_key).c_str());
  for (size_t k = 0; k < receipts->size(); ++k) {
    const auto& rc = (*receipts)[k];
    std::printf("  change set #%llu  %s\n", static_cast<unsigned long long>(rc.seq), to_hex(rc.id).c_str());
    std::printf("    received by the server  %s  [%s]\n", human_time(rc.received_at_ms).c_str(), iso_utc(rc.received_at_ms).c_str());
    std::printf("    server_seq              %llu\n", static_cast<unsigned long long>(rc.server_seq));
    std::printf("    status                  %s%s\n", rc.status.c_str(), rc.code.empty() ? "" : (" (" + rc.code + ")").c_str());
    if (rc.clock_ahead) {
      std::printf("    clock_ahead             the device's clock was ahead of the server's (it said %s); the server's time above is the proof\n",
                  text_of(*report, "recorded_at").c_str());
    }
    if (checks[k].ok()) std::printf("    signature verified      Ed25519 by the server over the receipt body\n");
    else std::printf("    SIGNATURE NOT VALID     %s\n", checks[k].to_string().c_str());
  }
  if (!all_ok) return app.fail(Status(Errc::bad_signature, "a receipt does not verify against the pinned server key"));
  return 0;
}

int cmd_export_bundle(App& app) {
  const std::string path = app.args.positional[0];
  auto n = app.client->export_bundle(path);
  if (!n.ok()) return app.fail(Status(n.code(), "cannot write the bundle: " + n.status().message()));
  if (app.json) {
    Json j;
    return app.emit(j.begin_object().kv("file", path).kv("changesets", static_cast<uint64_t>(*n)).end_object());
  }
  std::printf("Wrote %zu signed change set%s to %s.\n", *n, *n == 1 ? "" : "s", path.c_str());
  std::printf("Carry it to the office (`tram-server admin import-bundle --in FILE --out RECEIPTS`), then `tram-field import-receipts RECEIPTS`.\n");
  return 0;
}

int cmd_import_receipts(App& app) {
  auto r = app.client->import_receipts(app.args.positional[0]);
  if (!r.ok()) return app.fail(Status(r.code(), "cannot import the receipts: " + r.status().message()));
  app.info = app.client->info();
  if (app.json) {
    Json j;
    return app.emit(j.begin_object().kv("accepted", r->accepted).kv("duplicates", r->duplicates).kv("rejected", r->rejected).kv("receipts", app.info.receipts).end_object());
  }
  std::printf("Imported receipts: %llu accepted, %llu already held, %llu rejected. %llu change sets still wait in the outbox.\n",
              static_cast<unsigned long long>(r->accepted), static_cast<unsigned long long>(r->duplicates), static_cast<unsigned long long>(r->rejected),
              static_cast<unsigned long long>(app.info.pending));
  return 0;
}

int cmd_dismiss(App& app) {
  const std::string s = app.args.positional[0];
  char* end = nullptr;
  const unsigned long long seq = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || end != s.c_str() + s.size()) return app.fail("dismiss SEQ: the number shown by `tram-field status`");
  if (Status st = app.client->dismiss_rejected(seq); !st.ok()) return app.fail(st);
  if (app.json) {
    Json j;
    return app.emit(j.begin_object().kv("dismissed", static_cast<uint64_t>(seq)).end_object());
  }
  std::printf("Dismissed rejected change set #%llu.\n", seq);
  return 0;
}

}  // namespace tram::field
