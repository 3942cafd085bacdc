// What waits, what was refused and what the server signed: status (outbox, rejections,
// conflicts, returned reports), receipts and their verification, bundles carried by hand.
#include "app.hpp"

#include <simdjson.h>

#include <unistd.h>

#include <cstdlib>
#include <iostream>

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
      out += std::string(" ") + _("deleted");
      continue;
    }
    simdjson::dom::object fields;
    if (op["fields"].get_object().get(fields) != simdjson::SUCCESS) continue;
    std::string names;
    size_t n = 0;
    for (auto field : fields) {
      if (n++ < 4) names += (names.empty() ? "" : ", ") + std::string(field.key);
    }
    if (n > 4) names += fmt(_(" and {1} more"), std::to_string(n - 4));
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
  // The headings are padded as a column; Vietnamese ones are longer (cell() counts letters, not bytes).
  const auto head = [](const char* h) { return cell(h, vietnamese() ? 16 : 10); };
  std::printf("%s %s (%s, %s) · %s\n", head(_("Device")).c_str(), app.person().c_str(), i.user.c_str(), role_label(i.role).c_str(),
              i.all_units ? _("all units") : units.c_str());
  std::printf("%s %s\n", head(_("Server")).c_str(), i.server_url.c_str());
  std::printf("%s %s%s\n", head(_("Last sync")).c_str(), i.last_sync_ms ? human_time(*i.last_sync_ms).c_str() : _("never"),
              i.last_error.empty() ? "" : ("  " + fmt(_("(last attempt failed: {1})"), i.last_error)).c_str());
  std::printf("%s %s\n", head(_("Outbox")).c_str(),
              fmt(P_("{1} change set waiting to be sent", "{1} change sets waiting to be sent", pending), std::to_string(pending)).c_str());
  for (const auto& e : *outbox) {
    if (e.state == OutboxEntry::pending) std::printf("  #%llu  %s  %s\n", static_cast<unsigned long long>(e.seq), human_time(e.created_ms).c_str(), ops_summary(e.ops_json).c_str());
  }
  if (rejected) {
    std::printf("%s %s\n", head(_("Rejected")).c_str(),
                fmt(P_("{1} change set refused by the server (fix the report, then `tram-field dismiss SEQ`):",
                       "{1} change sets refused by the server (fix the report, then `tram-field dismiss SEQ`):", rejected),
                    std::to_string(rejected))
                    .c_str());
    for (const auto& e : *outbox) {
      if (e.state == OutboxEntry::rejected) {
        std::printf("  #%llu  %s: %s\n        (%s)\n", static_cast<unsigned long long>(e.seq), e.code.c_str(), e.message.c_str(), ops_summary(e.ops_json).c_str());
      }
    }
  }
  std::printf("%s %zu\n", head(_("Conflicts")).c_str(), conflicts->size());
  for (const auto& c : *conflicts) {
    std::printf("  %s\n", fmt(c.mine_lost ? _("{1} {2}, field {3}: your edit lost to a concurrent edit")
                                          : _("{1} {2}, field {3}: your edit won over a concurrent edit"),
                              c.table, c.row, c.field)
                              .c_str());
    auto now = app.client->get(c.table, c.row);
    if (now.ok() && now->has_value()) std::printf("      %s\n", fmt(_("kept: \"{1}\""), text_of(**now, c.field)).c_str());
    std::printf("      %s\n", fmt(_("lost: \"{1}\""), value_text(c.loser_value)).c_str());
  }
  std::printf("%s %s\n", head(_("Receipts")).c_str(),
              fmt(_("{1} (proof of submission: `tram-field receipt ID`)"), std::to_string(i.receipts)).c_str());
  if (!returned->empty()) {
    std::printf("%s\n", _("Returned for correction:"));
    for (const auto& r : *returned) {
      std::printf("  %s  %s %s: \"%s\" — %s\n", r.id.c_str(), unit_label(app, text_of(r, "unit_code")).c_str(),
                  (!text_of(r, "indicator").empty() ? text_of(r, "indicator") : text_of(r, "task")).c_str(), text_of(r, "review_comment").c_str(),
                  text_of(r, "reviewed_by").c_str());
    }
  }
  if (i.clock_ahead) {
    std::printf("%s %s\n", head(_("Clock")).c_str(),
                _("the server says this phone's clock is ahead: set the date and time (its edits cannot win a conflict until then)"));
  }
  if (app.config.clock_offset_days) {
    std::printf("%s %s\n", head("").c_str(),
                fmt(_("(simulated: this device's clock is off by {1} days)"), std::to_string(app.config.clock_offset_days)).c_str());
  }
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
    return app.fail(Status(Errc::not_found, fmt(_("no receipt yet for report {1}: it has not reached the server (run `tram-field sync`)"), row.id)));
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
  std::printf("%s\n", fmt(_("Proof of submission for report {1} ({2}, {3})"), report->id, unit_label(app, text_of(*report, "unit_code")),
                          text_of(*report, "period"))
                          .c_str());
  std::printf("  %s\n", fmt(_("server key {1} (pinned at enrolment)"), to_hex(app.info.server_key)).c_str());
  // A column of labels: Vietnamese ones are longer.
  const auto col = [](const char* label) { return cell(label, vietnamese() ? 30 : 23); };
  for (size_t k = 0; k < receipts->size(); ++k) {
    const auto& rc = (*receipts)[k];
    std::printf("  %s\n", fmt(_("change set #{1}  {2}"), std::to_string(rc.seq), to_hex(rc.id)).c_str());
    std::printf("    %s %s  [%s]\n", col(_("received by the server")).c_str(), human_time(rc.received_at_ms).c_str(), iso_utc(rc.received_at_ms).c_str());
    std::printf("    %s %llu\n", col(_("server_seq")).c_str(), static_cast<unsigned long long>(rc.server_seq));
    // TRANSLATORS: the server's outcome for one change set: it took it, or refused it.
    const char* outcome = rc.status == "accepted" ? _("accepted") : rc.status == "rejected" ? _("rejected") : rc.status.c_str();
    std::printf("    %s %s%s\n", col(_("status")).c_str(), outcome, rc.code.empty() ? "" : (" (" + rc.code + ")").c_str());
    if (rc.clock_ahead) {
      std::printf("    %s %s\n", col(_("clock_ahead")).c_str(),
                  fmt(_("the device's clock was ahead of the server's (it said {1}); the server's time above is the proof"), text_of(*report, "recorded_at"))
                      .c_str());
    }
    if (checks[k].ok()) std::printf("    %s %s\n", col(_("signature verified")).c_str(), _("Ed25519 by the server over the receipt body"));
    else std::printf("    %s %s\n", col(_("SIGNATURE NOT VALID")).c_str(), checks[k].to_string().c_str());
  }
  if (!all_ok) return app.fail(Status(Errc::bad_signature, _("a receipt does not verify against the pinned server key")));
  return 0;
}

int cmd_export_bundle(App& app) {
  const std::string path = app.args.positional[0];
  auto n = app.client->export_bundle(path);
  if (!n.ok()) return app.fail(Status(n.code(), fmt(_("cannot write the bundle: {1}"), n.status().message())));
  if (app.json) {
    Json j;
    return app.emit(j.begin_object().kv("file", path).kv("changesets", static_cast<uint64_t>(*n)).end_object());
  }
  std::printf("%s\n", fmt(P_("Wrote {1} signed change set to {2}.", "Wrote {1} signed change sets to {2}.", *n), std::to_string(*n), path).c_str());
  std::printf("%s\n", _("Carry it to the office (`tram-server admin import-bundle --in FILE --out RECEIPTS`), then `tram-field import-receipts RECEIPTS`."));
  return 0;
}

int cmd_import_receipts(App& app) {
  auto r = app.client->import_receipts(app.args.positional[0]);
  if (!r.ok()) return app.fail(Status(r.code(), fmt(_("cannot import the receipts: {1}"), r.status().message())));
  app.info = app.client->info();
  if (app.json) {
    Json j;
    return app.emit(j.begin_object().kv("accepted", r->accepted).kv("duplicates", r->duplicates).kv("rejected", r->rejected).kv("receipts", app.info.receipts).end_object());
  }
  std::printf("%s\n", fmt(_("Imported receipts: {1} accepted, {2} already held, {3} rejected. {4} change sets still wait in the outbox."),
                          std::to_string(r->accepted), std::to_string(r->duplicates), std::to_string(r->rejected), std::to_string(app.info.pending))
                          .c_str());
  return 0;
}

int cmd_dismiss(App& app) {
  const std::string s = app.args.positional[0];
  char* end = nullptr;
  const unsigned long long seq = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || end != s.c_str() + s.size()) return app.fail(_("dismiss SEQ: the number shown by `tram-field status`"));
  if (Status st = app.client->dismiss_rejected(seq); !st.ok()) return app.fail(st);
  if (app.json) {
    Json j;
    return app.emit(j.begin_object().kv("dismissed", static_cast<uint64_t>(seq)).end_object());
  }
  std::printf("%s\n", fmt(_("Dismissed rejected change set #{1}."), std::to_string(seq)).c_str());
  return 0;
}

// tram-field reset: forgets this device (its key, records, outbox and evidence files in --home)
// so that the home can be enrolled again, e.g. after a forgotten passphrase. What the server has
// not confirmed would be lost with it: first it is offered as a bundle (a prompt on a terminal,
// --export-bundle FILE in scripts), and without a terminal it refuses unless told which.
int cmd_reset(App& app) {
  const fs::path db = fs::path(app.home) / "device.db";
  std::error_code ec;
  if (!fs::exists(db, ec)) return app.fail(Status(Errc::not_found, fmt(_("nothing to reset: no device in {1}"), app.home)));
  std::string bundle = app.args.get("export-bundle");
  bool discard = app.args.has("discard-unsent");
  if (!bundle.empty() && discard) return app.fail(_("--export-bundle and --discard-unsent exclude each other"), Errc::invalid_argument);
  // Read without the key: the outbox and the evidence files are not encrypted (only the
  // device's secret key is), so a forgotten passphrase does not hide what would be lost.
  auto unsent = Client::unsent(db.string());
  if (!unsent.ok()) return app.fail(unsent.status());
  const bool has_unsent = unsent->changesets > 0 || unsent->files > 0;
  const bool terminal = ::isatty(STDIN_FILENO) && !app.json;
  if (has_unsent) {
    const std::string what = fmt(_("{1} change set(s) and {2} evidence file(s) ({3}) have not reached the server"),
                                 std::to_string(unsent->changesets), std::to_string(unsent->files), kib(unsent->file_bytes));
    if (bundle.empty() && !discard) {
      if (!terminal) {
        return app.fail(Status(Errc::invalid_argument, fmt(_("{1}: run again with --export-bundle FILE to carry them to the office, or "
                                                             "--discard-unsent to lose them; nothing was reset"), what)));
      }
      const std::string suggested = (fs::path(app.home).parent_path() / "tram-unsent.bundle").string();
      std::printf("%s.\n", what.c_str());
      std::printf("%s", fmt(_("Write them to a bundle file first? File name [{1}], or 'discard' to lose them, or 'cancel': "), suggested).c_str());
      std::fflush(stdout);
      std::string answer;
      if (!std::getline(std::cin, answer) || answer == "cancel" || answer == "q") {
        std::printf("%s\n", _("Nothing was reset."));
        return kFailed;
      }
      if (answer == "discard") discard = true;
      else bundle = answer.empty() ? suggested : answer;
    }
    if (!bundle.empty()) {
      // Signing the bundle needs the device's key, so the passphrase; without it nothing can
      // carry these change sets to the server (their chain is this key's alone).
      if (Status st = open_device(app, false); !st.ok()) {
        return app.fail(Status(st.code(), fmt(_("{1}: cannot export them without this device's key ({2}). Without the passphrase the "
                                                "unsent change sets cannot be signed into a bundle or sent; `reset --discard-unsent` loses "
                                                "them. Nothing was reset."),
                                              what, st.message())));
      }
      auto n = app.client->export_bundle(bundle);
      if (!n.ok()) return app.fail(Status(n.code(), fmt(_("cannot write the bundle: {1}; nothing was reset"), n.status().message())));
      app.client.reset();  // SQLite closes its files before they are removed
      if (!app.json) {
        std::printf("%s\n", fmt(_("Wrote {1} change set(s) and {2} evidence file(s) to {3}: carry it to the office "
                                   "(`tram-server admin import-bundle --in FILE`)."),
                                 std::to_string(*n), std::to_string(unsent->files), bundle).c_str());
      }
    }
  } else if (terminal && !app.args.has("yes")) {
    std::printf("%s", fmt(_("Reset the device in {1}? Its key is forgotten and it must be enrolled again. [y/N] "), app.home).c_str());
    std::fflush(stdout);
    std::string answer;
    if (!std::getline(std::cin, answer) || (answer != "y" && answer != "Y" && answer != "yes" && answer != "có" && answer != "c")) {
      std::printf("%s\n", _("Nothing was reset."));
      return kFailed;
    }
  }
  app.client.reset();
  // Only what tram-field and the SDK keep in --home: a bundle written there stays.
  for (const char* name : {"device.db", "device.db-wal", "device.db-shm", "device.db-journal", "device.db.files", "field.conf", "passphrase.salt"}) {
    fs::remove_all(fs::path(app.home) / name, ec);
    if (ec) return app.fail(Status(Errc::storage_error, fmt(_("cannot remove {1}: {2}"), (fs::path(app.home) / name).string(), ec.message())));
  }
  if (app.json) {
    Json j;
    j.begin_object().kv("reset", true).kv("bundle", bundle).kv("discarded_changesets", discard ? unsent->changesets : uint64_t{0});
    j.kv("discarded_files", discard ? unsent->files : uint64_t{0});
    return app.emit(j.end_object());
  }
  if (discard && has_unsent) {
    std::printf("%s\n", fmt(_("Discarded {1} change set(s) and {2} evidence file(s) that had not reached the server."),
                             std::to_string(unsent->changesets), std::to_string(unsent->files)).c_str());
  }
  std::printf("%s\n", fmt(_("This device is reset: {1} no longer holds its key or records. The server still knows the old device: ask the "
                             "administrator to revoke it and for a new enrolment code, then run `tram-field init`."), app.home).c_str());
  return 0;
}

}  // namespace tram::field
