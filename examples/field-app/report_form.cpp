// The official's report forms: record or edit a report (with evidence), submit it, comment.
#include "app.hpp"

#include <algorithm>

#include "tram/engine/authorize.hpp"
#include "tram/engine/text.hpp"

namespace fs = std::filesystem;

namespace tram::field {

using namespace tram::client;

namespace {

// The value against its indicator's range (the engine's rule, docs/schema-format.md §9.1), here
// to show the refusal in Vietnamese and in English; the SDK's authorize() refuses the same before
// signing. Exit 1 with the Vietnamese message (the one the server would give) when it fails.
std::optional<int> refuse_out_of_range(App& app, const TableDef& t, const std::map<std::string, Value>& fields,
                                       const std::optional<Row>& existing) {
  auto field = [&](const char* name) -> std::optional<Value> {
    if (auto it = fields.find(name); it != fields.end()) return it->second;
    if (existing) {
      if (auto it = existing->fields.find(name); it != existing->fields.end()) return it->second;
    }
    return std::nullopt;
  };
  if (!fields.count("value") && !fields.count("indicator") && !fields.count("measure")) return std::nullopt;
  const auto v = field("value");
  const double* value = v ? std::get_if<double>(&*v) : nullptr;
  if (!value) return std::nullopt;
  std::string kind, measure;
  const auto code = field("indicator");
  if (code && std::holds_alternative<Text>(*code)) {
    auto ind = app.client->get("indicator", std::get<Text>(*code).s);
    if (ind.ok() && ind->has_value()) {
      kind = text_of(**ind, "kind");
      measure = text_of(**ind, "measure");
    }
  }
  const auto m = field("measure");
  const std::string report_measure = m && std::holds_alternative<Text>(*m) ? std::get<Text>(*m).s : "";
  const auto problem = check_value_range(indicator_value_range(kind, measure, report_measure), *value);
  if (!problem) return std::nullopt;
  const FieldDef* f = t.field(std::string_view("value"));
  const std::string vi = (f && !f->label.empty() ? f->label : "value") + ": " + problem->vi;
  const std::string en = "value: " + problem->en;
  // The engine says it in both languages; a Vietnamese session needs only the first.
  if (vietnamese()) std::fprintf(stderr, "tram-field: %s\n", vi.c_str());
  else std::fprintf(stderr, "tram-field: %s\n            (%s)\n", vi.c_str(), en.c_str());
  if (app.json) {
    Json j;
    j.begin_object().key("error").begin_object().kv("code", "invalid_value").kv("message", vi).kv("message_en", en).kv("rule", problem->rule);
    std::printf("%s\n", j.end_object().end_object().str().c_str());
  }
  return kFailed;
}

// A yes_no indicator's answer as typed (có, không, yes, no, 1, 0; any case, with or without
// the marks): "1" or "0", nullopt when it is none of them.
std::optional<std::string> yes_no_value(std::string_view typed) {
  std::string w = vi_search_fold(typed);
  w.erase(0, w.find_first_not_of(" \t"));
  w.erase(w.find_last_not_of(" \t") + 1);
  if (w == "co" || w == "yes" || w == "1") return "1";
  if (w == "khong" || w == "no" || w == "0") return "0";
  return std::nullopt;
}

}  // namespace

int cmd_report(App& app) {
  const TableDef& t = app.table(kReports);
  FieldForm form(t);
  std::optional<Row> existing;
  if (app.args.has("id")) {
    auto r = find_report(app, app.args.get("id"));
    if (!r.ok()) return app.fail(r.status());
    existing = *r;
    for (const char* immutable : {"unit", "period"}) {
      const std::string field = std::string(immutable) == "unit" ? "unit_code" : "period";
      if (app.args.has(immutable) && app.args.get(immutable) != text_of(*existing, field)) {
        return app.fail(Status(Errc::invalid_argument, fmt(std::string(immutable) == "unit" ? _("a report's unit cannot change (it is {1}); make a new report instead")
                                                                                                    : _("a report's period cannot change (it is {1}); make a new report instead"),
                                                               text_of(*existing, field))));
      }
    }
    const std::string status = text_of(*existing, "status");
    if (status != "draft" && status != "returned") {
      return app.fail(Status(Errc::workflow_violation, fmt(_("report {1} is {2}: only draft or returned reports can be edited"), existing->id,
                                                               label(status_labels(), status))));
    }
  }

  std::string unit, period_code;
  if (!existing) {
    unit = app.args.get("unit");
    if (unit.empty()) {
      if (app.info.units.size() != 1) {
        return app.fail(app.info.all_units ? std::string(_("give --unit CODE: this device reports for the whole province"))
                                         : fmt(_("give --unit CODE: this device reports for {1} units"), std::to_string(app.info.units.size())));
      }
      unit = app.info.units[0];
    }
    auto in = load_inputs(app, false);
    if (!in.ok()) return app.fail(in.status());
    auto p = choose_period(app, *in, app.args.get("period"));
    if (!p.ok()) return app.fail(p.status());
    period_code = p->code;
    if (!app.args.has("indicator") && !app.args.has("task")) return app.fail(_("a report is on an indicator or a task: give --indicator CODE or --task CODE"));
    if (!app.args.has("progress")) return app.fail(_("give --progress: not_started, on_track, at_risk or done (chưa triển khai, đúng tiến độ, có nguy cơ chậm, hoàn thành)"));
    form.set_new_report(app, unit, app.args.get("author", app.person()));
    form.set("period", period_code);
  } else {
    unit = text_of(*existing, "unit_code");
    period_code = text_of(*existing, "period");
    if (app.args.has("author")) form.set("author", app.args.get("author"));
    if (app.args.has("submit")) form.set("status", "submitted");  // the edit and its resubmission in one change set
  }

  if (app.args.has("indicator")) {
    const std::string code = app.args.get("indicator");
    auto ind = app.client->get("indicator", code);
    if (!ind.ok()) return app.fail(ind.status());
    if (!ind->has_value()) return app.fail(Status(Errc::not_found, fmt(_("no indicator {1} (`tram-field due` lists your unit's)"), code)));
    form.set("indicator", code);
    const std::string task = text_of(**ind, "task");
    if (!app.args.has("task") && !task.empty() && !existing) form.set("task", task);
    const std::string measure = text_of(**ind, "measure");
    if (!app.args.has("measure") && !measure.empty() && !existing) form.set("measure", measure);
  }
  if (app.args.has("task")) {
    const std::string code = app.args.get("task");
    auto task = app.client->get("task", code);
    if (!task.ok()) return app.fail(task.status());
    if (!task->has_value()) return app.fail(Status(Errc::not_found, fmt(_("no task {1}"), code)));
    form.set("task", code);
  }
  if (app.args.has("progress")) {
    auto p = parse_progress(app.args.get("progress"));
    if (!p) return app.fail(_("--progress must be not_started, on_track, at_risk or done (chưa triển khai, đúng tiến độ, có nguy cơ chậm, hoàn thành)"));
    form.set("progress", *p);
  }
  // The indicator this report is on (given now, or the report's own): a yes_no one takes
  // --value có|không (yes|no, 1|0), stored as 1 or 0.
  std::string kind;
  {
    const std::string code = app.args.has("indicator") ? app.args.get("indicator") : existing ? text_of(*existing, "indicator") : "";
    if (!code.empty()) {
      if (auto ind = app.client->get("indicator", code); ind.ok() && ind->has_value()) kind = text_of(**ind, "kind");
    }
  }
  for (const char* f : {"value", "measure", "narrative", "difficulties", "proposals"}) {
    if (!app.args.has(f)) continue;
    if (std::string_view(f) == "value" && kind == "yes_no") {
      const auto answer = yes_no_value(app.args.get(f));
      if (!answer) return app.fail(Status(Errc::invalid_value, fmt(_("this indicator is answered yes or no: give --value có or không (yes or no, 1 or 0), not {1}"), app.args.get(f))));
      form.set(f, *answer);
      continue;
    }
    form.set(f, app.args.get(f));
  }
  if (!form.problem.empty()) return app.fail(Status(Errc::invalid_value, form.problem));
  if (auto refused = refuse_out_of_range(app, t, form.fields, existing)) return *refused;

  // A second report on the same item and period is almost always a mistake: point at the first.
  if (!existing) {
    auto same = all_rows(*app.client, kReports, {eq("unit_code", unit), eq("period", period_code)});
    if (!same.ok()) return app.fail(same.status());
    for (const auto& r : *same) {
      const bool by_indicator = app.args.has("indicator");
      if (by_indicator ? text_of(r, "indicator") == app.args.get("indicator")
                       : text_of(r, "indicator").empty() && text_of(r, "task") == app.args.get("task")) {
        return app.fail(Status(Errc::already_exists, fmt(_("unit {1} already has a report on this for {2}: {3} (edit it with --id {3})"), unit, period_code, r.id)));
      }
    }
  }

  // Evidence: copied into the device's store now, uploaded by sync after the report is accepted.
  struct Evidence {
    AttachmentRef ref;
    std::string content_type, caption;
  };
  std::vector<Evidence> evidence;
  for (const auto& file : app.args.all("evidence")) {
    if (!fs::is_regular_file(file)) return app.fail(Status(Errc::not_found, fmt(_("no file {1}"), file)));
    auto ref = app.client->add_attachment(file);
    if (!ref.ok()) return app.fail(Status(ref.code(), fmt(_("cannot keep {1}: {2}"), file, ref.status().message())));
    auto caption = make_text(app.args.get("caption", fs::path(file).filename().string()));
    if (!caption.ok()) return app.fail(caption.status());
    evidence.push_back({*ref, content_type_of(file), std::get<Text>(*caption).s});
  }
  if (!evidence.empty()) form.fields["evidence"] = evidence.front().ref;
  if (existing && form.fields.empty()) return app.fail(_("nothing to change: give the fields to edit (--value, --narrative, …)"));

  WriteTxn txn;
  std::string id;
  if (existing) {
    id = existing->id;
    txn.update(kReports, id, form.fields);
  } else {
    id = txn.insert(kReports, "", form.fields);
  }
  for (const auto& e : evidence) {
    txn.insert("evidence", "", {{"report", Text{id}}, {"unit_code", Text{unit}}, {"file", e.ref}, {"caption", Text{e.caption}}, {"content_type", Text{e.content_type}}});
  }
  auto committed = app.client->commit(txn);
  if (!committed.ok()) return app.fail(Status(committed.code(), fmt(_("refused: {1}"), committed.status().message())));
  auto saved = app.client->get(kReports, id);
  const std::string status = saved.ok() && saved->has_value() ? text_of(**saved, "status") : "";
  if (app.json) {
    Json j;
    j.begin_object().kv("id", id).kv(existing ? "updated" : "created", true).kv("status", status).kv("unit", unit).kv("period", period_code);
    j.kv("seq", committed->seq).kv("changeset", to_hex(committed->id)).kv("evidence", static_cast<uint64_t>(evidence.size()));
    if (saved.ok() && saved->has_value()) j.key("report").raw(app.client->row_to_json(**saved));
    return app.emit(j.end_object());
  }
  // scripts/demo.sh reads the id from the English "Recorded report <id>".
  std::printf("%s\n  %s\n", fmt(existing ? _("Updated report {1}") : _("Recorded report {1}"), id).c_str(),
              fmt(_("unit {1} · period {2} · status {3}"), unit_label(app, unit), period_code, label(status_labels(), status)).c_str());
  if (!evidence.empty()) {
    std::printf("  %s\n", fmt(P_("{1} evidence file kept on the device", "{1} evidence files kept on the device", evidence.size()),
                              std::to_string(evidence.size()))
                              .c_str());
  }
  std::printf("  %s\n", fmt(_("signed on this device (change set #{1}: the device's numbered, signed record of this edit); "
                              "it leaves with the next `tram-field sync`."),
                            std::to_string(committed->seq))
                            .c_str());
  return 0;
}

int cmd_submit(App& app) { return transition(app, "submitted"); }

int cmd_comment(App& app) {
  auto r = find_report(app, app.args.positional[0]);
  if (!r.ok()) return app.fail(r.status());
  if (app.args.get("text").empty()) return app.fail(_("say what the comment is: comment ID --text TEXT"));
  const TableDef& t = app.table("comment");
  std::map<std::string, Value> fields;
  for (auto [field, typed] : {std::pair<std::string, std::string>{"report", r->id}, {"unit_code", text_of(*r, "unit_code")}, {"body", app.args.get("text")},
                              {"author", app.person()}, {"written_on", app.today()}}) {
    auto v = field_value(t, field, typed);
    if (!v.ok()) return app.fail(v.status());
    fields[field] = *v;
  }
  WriteTxn txn;
  const std::string id = txn.insert("comment", "", fields);
  auto committed = app.client->commit(txn);
  if (!committed.ok()) return app.fail(Status(committed.code(), fmt(_("refused: {1}"), committed.status().message())));
  if (app.json) {
    Json j;
    return app.emit(j.begin_object().kv("id", id).kv("report", r->id).kv("seq", committed->seq).end_object());
  }
  std::printf("%s\n", fmt(_("Comment {1} added to report {2}"), id, r->id).c_str());
  return 0;
}

}  // namespace tram::field
