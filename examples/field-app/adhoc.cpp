// Ad hoc reports (báo cáo đột xuất, programme section III.3): a unit reports a difficulty or asks
// for the programme to be adjusted at once, outside the 6-monthly and annual cycle, to the
// Provincial People's Committee through the Department of Finance, which answers each one.
//   adhoc        the official's (or department's) form: record, edit a draft, submit
//   adhocs       the ad hoc reports this device can see, newest first, with any response
//   adhoc-reply  the reviewer's acknowledgement, with the response the unit reads
// The table is schemas/sonla-2026/v3.json's adhoc_report; the SDK's authorize() applies its write
// rules and workflow before signing, as the server does again on receipt.
#include "app.hpp"

#include <algorithm>

#include "tram/engine/text.hpp"

namespace tram::field {

using namespace tram::client;

namespace {

constexpr const char* kAdhoc = "adhoc_report";

// The programme's words (section III.3) for the two kinds, and the states of an ad hoc report:
// "acknowledged" is the Department of Finance's answer, not an approval ("đã duyệt").
const std::map<std::string, std::string>& kind_labels() {
  static const std::map<std::string, std::string> m = {{"difficulty", "khó khăn, vướng mắc"}, {"adjustment", "đề nghị điều chỉnh, bổ sung"}};
  return m;
}

const std::map<std::string, std::string>& adhoc_status_labels() {
  static const std::map<std::string, std::string> m = {{"draft", "bản nháp"}, {"submitted", "đã gửi"}, {"acknowledged", "đã phản hồi"}};
  return m;
}

std::string adhoc_status_word(const std::string& s) { return vietnamese() ? label(adhoc_status_labels(), s) : s; }

// The schema's values and what an official types: kho-khan, "khó khăn", dieu-chinh, "bổ sung"…
std::optional<std::string> parse_kind(const std::string& typed) {
  static const std::map<std::string, std::string> aliases = {
      {"difficulty", "difficulty"}, {"kho khan", "difficulty"},  {"vuong mac", "difficulty"}, {"kho khan vuong mac", "difficulty"},
      {"adjustment", "adjustment"}, {"dieu chinh", "adjustment"}, {"bo sung", "adjustment"},  {"dieu chinh bo sung", "adjustment"},
      {"de nghi dieu chinh", "adjustment"}};
  std::string key = typed;
  for (char& c : key) {
    if (c == '-' || c == '_' || c == ',') c = ' ';
  }
  // vi_search_fold drops every diacritic and folds đ to d: "Khó khăn" and "kho khan" match.
  std::string k = vi_search_fold(key), squeezed;
  for (char c : k) {
    if (c == ' ' && (squeezed.empty() || squeezed.back() == ' ')) continue;
    squeezed.push_back(c);
  }
  while (!squeezed.empty() && squeezed.back() == ' ') squeezed.pop_back();
  for (const auto& [alias, value] : aliases) {
    if (alias == squeezed) return value;
  }
  return std::nullopt;
}

// A day as people write it: 05/06/2026 in Vietnamese (the glossary's format), 2026-06-05 in English.
std::string day_text(const std::string& iso) {
  if (!vietnamese() || iso.size() != 10) return iso;
  return iso.substr(8, 2) + "/" + iso.substr(5, 2) + "/" + iso.substr(0, 4);
}

bool blank(const std::string& s) { return s.find_first_not_of(" \t\r\n") == std::string::npos; }

// An ad hoc report by its id or a unique prefix of it, as find_report() does for progress reports.
Result<Row> find_adhoc(App& app, const std::string& id) {
  return find_row(app, kAdhoc, id, _("give the ad hoc report's id"),
                  _("no ad hoc report {1} on this device (`tram-field adhocs` lists them)"));
}

int committed_failure(App& app, const Status& st) { return app.fail(Status(st.code(), fmt(_("refused: {1}"), st.message()))); }

}  // namespace

int cmd_adhoc(App& app) {
  const TableDef& t = app.table(kAdhoc);
  FieldForm form(t);

  std::optional<Row> existing;
  if (app.args.has("id")) {
    auto r = find_adhoc(app, app.args.get("id"));
    if (!r.ok()) return app.fail(r.status());
    existing = *r;
    if (app.args.has("unit") && app.args.get("unit") != text_of(*existing, "unit_code")) {
      return app.fail(fmt(_("an ad hoc report's unit cannot change (it is {1}); make a new one instead"), text_of(*existing, "unit_code")));
    }
    // Only a draft is edited or submitted by its unit. A reviewer is not stopped here: the SDK's
    // authorize() refuses its edit with the schema's rule, as the server would.
    const std::string status = text_of(*existing, "status");
    if (status != "draft" && app.info.role != "reviewer") {
      return app.fail(Status(Errc::workflow_violation, fmt(_("ad hoc report {1} is {2}: only a draft can be edited or submitted"), existing->id,
                                                           label(adhoc_status_labels(), status))));
    }
  }

  // The kind, subject and body a new report cannot do without; given empty, refused on an edit too.
  if (!existing) {
    if (!app.args.has("kind")) return app.fail(_("give --kind: difficulty or adjustment (kho-khan: khó khăn, vướng mắc; dieu-chinh: đề nghị điều chỉnh, bổ sung)"));
  }
  if ((!existing || app.args.has("subject")) && blank(app.args.get("subject"))) {
    return app.fail(Status(Errc::invalid_value, _("give --subject: the ad hoc report's title cannot be empty")));
  }
  if ((!existing || app.args.has("body")) && blank(app.args.get("body"))) {
    return app.fail(Status(Errc::invalid_value, _("give --body: say what the difficulty or the proposed adjustment is")));
  }
  if (app.args.has("kind")) {
    auto k = parse_kind(app.args.get("kind"));
    if (!k) return app.fail(Status(Errc::invalid_value, _("--kind must be difficulty or adjustment (kho-khan: khó khăn, vướng mắc; dieu-chinh: đề nghị điều chỉnh, bổ sung)")));
    form.set("kind", *k);
  }
  if (app.args.has("task")) {
    const std::string code = app.args.get("task");
    auto task = app.client->get("task", code);
    if (!task.ok()) return app.fail(task.status());
    if (!task->has_value()) return app.fail(Status(Errc::not_found, fmt(_("no task {1}"), code)));
    form.set("task", code);
  }
  for (const char* f : {"subject", "body", "proposal"}) {
    if (app.args.has(f)) form.set(f, app.args.get(f));
  }

  std::string unit;
  if (!existing) {
    unit = app.args.get("unit");
    if (unit.empty()) {
      if (app.info.units.size() != 1) {
        return app.fail(app.info.all_units ? std::string(_("give --unit CODE: this device reports for the whole province"))
                                           : fmt(_("give --unit CODE: this device reports for {1} units"), std::to_string(app.info.units.size())));
      }
      unit = app.info.units[0];
    }
    auto u = app.client->get("unit", unit);
    if (!u.ok()) return app.fail(u.status());
    if (!u->has_value()) return app.fail(Status(Errc::not_found, fmt(_("no unit {1}"), unit)));
    form.set_new_report(app, unit, app.person());
  } else {
    unit = text_of(*existing, "unit_code");
    if (app.args.has("submit")) form.set("status", "submitted");  // the edit and the submission in one change set
  }
  if (!form.problem.empty()) return app.fail(Status(Errc::invalid_value, form.problem));
  if (existing && form.fields.empty()) return app.fail(_("nothing to change: give --submit or the fields to edit (--subject, --body, …)"));

  WriteTxn txn;
  std::string id;
  if (existing) {
    id = existing->id;
    txn.update(kAdhoc, id, form.fields);
  } else {
    id = txn.insert(kAdhoc, "", form.fields);
  }
  auto committed = app.client->commit(txn);
  if (!committed.ok()) return committed_failure(app, committed.status());
  auto saved = app.client->get(kAdhoc, id);
  const std::string status = saved.ok() && saved->has_value() ? text_of(**saved, "status") : "";
  if (app.json) {
    Json j;
    j.begin_object().kv("id", id).kv(existing ? "updated" : "created", true).kv("status", status).kv("unit", unit);
    j.kv("seq", committed->seq).kv("changeset", to_hex(committed->id));
    if (saved.ok() && saved->has_value()) j.key("adhoc_report").raw(app.client->row_to_json(**saved));
    return app.emit(j.end_object());
  }
  const bool only_submitted = existing && form.fields.size() == 1 && form.fields.count("status");
  std::printf("%s\n  %s\n", fmt(only_submitted ? _("Submitted ad hoc report {1}") : existing ? _("Updated ad hoc report {1}") : _("Recorded ad hoc report {1}"), id).c_str(),
              fmt(_("unit {1} · {2} · status {3}"), unit_label(app, unit), label(kind_labels(), saved.ok() && saved->has_value() ? text_of(**saved, "kind") : ""),
                  label(adhoc_status_labels(), status))
                  .c_str());
  std::printf("  %s\n", fmt(_("signed on this device (change set #{1}); it leaves with the next `tram-field sync`."), std::to_string(committed->seq)).c_str());
  if (status == "draft") std::printf("  %s\n", fmt(_("It is a draft: send it with `tram-field adhoc --id {1} --submit`."), id).c_str());
  return 0;
}

int cmd_adhocs(App& app) {
  std::vector<Filter> where;
  if (app.args.has("unit")) where.push_back(eq("unit_code", app.args.get("unit")));
  if (app.args.has("status")) where.push_back(eq("status", app.args.get("status")));
  auto rows = all_rows(*app.client, kAdhoc, where);
  if (!rows.ok()) return app.fail(rows.status());
  // Newest first: by the day it was recorded, then by the recording device's clock.
  std::stable_sort(rows->begin(), rows->end(), [](const Row& a, const Row& b) {
    const std::string da = text_of(a, "recorded_on"), db = text_of(b, "recorded_on");
    if (da != db) return da > db;
    return text_of(a, "recorded_at") > text_of(b, "recorded_at");
  });
  if (app.json) {
    Json j;
    j.begin_object().key("adhoc_reports").begin_array();
    for (const auto& r : *rows) j.raw(app.client->row_to_json(r));
    return app.emit(j.end_array().end_object());
  }
  std::printf("%s: %zu\n", _("Ad hoc reports"), rows->size());
  for (const auto& r : *rows) {
    std::string line = "  " + r.id + "  " + cell(unit_label(app, text_of(r, "unit_code")), 20) + " " +
                       cell(label(kind_labels(), text_of(r, "kind")), vietnamese() ? 26 : 38) + " " +
                       cell(adhoc_status_word(text_of(r, "status")), 12) + " " + day_text(text_of(r, "recorded_on")) +
                       (is_pending(app, kAdhoc, r.id) ? std::string("  ") + _("(not synced)") : "");
    std::printf("%s\n", line.c_str());
    std::printf("      %s\n", clip(text_of(r, "subject"), 96).c_str());
    // The body and the proposal in full: the Department answers from this list.
    std::printf("%s", wrap(text_of(r, "body"), 96, "        ").c_str());
    if (!text_of(r, "proposal").empty()) std::printf("%s", wrap(fmt(_("proposal: {1}"), text_of(r, "proposal")), 96, "      ").c_str());
    if (!text_of(r, "task").empty()) std::printf("      %s\n", fmt(_("related task: {1}"), text_of(r, "task")).c_str());
    std::printf("      %s\n", fmt(_("reported by {1}"), text_of(r, "author")).c_str());
    if (!text_of(r, "response").empty()) {
      const std::string who = text_of(r, "responded_by");
      std::printf("      %s\n", (who.empty() ? fmt(_("response: {1}"), text_of(r, "response")) : fmt(_("response from {1}: {2}"), who, text_of(r, "response"))).c_str());
    }
  }
  return 0;
}

int cmd_adhoc_reply(App& app) {
  auto r = find_adhoc(app, app.args.positional[0]);
  if (!r.ok()) return app.fail(r.status());
  const std::string from = text_of(*r, "status");
  if (from != "submitted") {
    return app.fail(Status(Errc::workflow_violation, fmt(_("ad hoc report {1} is {2}: only a submitted one can be answered"), r->id, label(adhoc_status_labels(), from))));
  }
  const std::string response = app.args.get("response");
  // The schema requires a response to acknowledge: the unit must read what the Department says.
  if (blank(response)) return app.fail(Status(Errc::invalid_value, _("say what the response is: adhoc-reply ID --response TEXT")));
  const TableDef& t = app.table(kAdhoc);
  std::map<std::string, Value> fields;
  for (auto [field, typed] : {std::pair<std::string, std::string>{"status", "acknowledged"}, {"response", response}, {"responded_by", app.person()}}) {
    auto v = field_value(t, field, typed);
    if (!v.ok()) return app.fail(v.status());
    fields[field] = *v;
  }
  WriteTxn txn;
  txn.update(kAdhoc, r->id, fields);
  auto committed = app.client->commit(txn);
  if (!committed.ok()) return committed_failure(app, committed.status());
  if (app.json) {
    Json j;
    j.begin_object().kv("id", r->id).kv("from", from).kv("status", "acknowledged").kv("response", response).kv("responded_by", app.person());
    return app.emit(j.kv("seq", committed->seq).kv("changeset", to_hex(committed->id)).end_object());
  }
  std::printf("%s\n", fmt(_("Answered ad hoc report {1} ({2} → {3})"), r->id, adhoc_status_word(from), adhoc_status_word("acknowledged")).c_str());
  std::printf("  %s\n", fmt(_("response: {1}"), response).c_str());
  std::printf("  %s\n", fmt(_("signed as change set #{1}; it leaves with the next `tram-field sync`."), std::to_string(committed->seq)).c_str());
  return 0;
}

}  // namespace tram::field
