// Reviewing and reading reports: the workflow steps (submit, accept, return), the lists of
// reports and of those waiting for review, and one report with its reviews, comments and evidence.
#include "app.hpp"


namespace fs = std::filesystem;

namespace tram::field {

using namespace tram::client;

namespace {

void print_report_line(App& app, const Row& r, bool pending) {
  const std::string what = !text_of(r, "indicator").empty() ? text_of(r, "indicator") : text_of(r, "task");
  const std::string value = text_of(r, "value").empty() ? "" : text_of(r, "value") + " " + text_of(r, "measure");
  std::string line = "  " + r.id + "  " + cell(unit_label(app, text_of(r, "unit_code")), 20) + " " + cell(what, 24) + " " + cell(text_of(r, "period"), 7) +
                     " " + cell(text_of(r, "status"), 9) + " " + cell(value, 18) + (pending ? "  (not synced)" : "");
  line.erase(line.find_last_not_of(' ') + 1);
  std::printf("%s\n", line.c_str());
}

int list_reports(App& app, std::vector<Filter> where, const char* heading) {
  if (app.args.has("unit")) where.push_back(eq("unit_code", app.args.get("unit")));
  if (app.args.has("period")) where.push_back(eq("period", app.args.get("period")));
  auto rows = all_rows(*app.client, kReports, where, "unit_code");
  if (!rows.ok()) return app.fail(rows.status());
  if (app.json) {
    Json j;
    j.begin_object().key("reports").begin_array();
    for (const auto& r : *rows) j.raw(app.client->row_to_json(r));
    return app.emit(j.end_array().end_object());
  }
  std::printf("%s: %zu\n", heading, rows->size());
  for (const auto& r : *rows) {
    print_report_line(app, r, is_pending(app, kReports, r.id));
    if (std::string(heading).find("review") != std::string::npos) {
      const std::string narrative = text_of(r, "narrative");
      if (!narrative.empty()) std::printf("      %s\n", clip(narrative, 96).c_str());
      std::printf("      by %s, recorded %s\n", text_of(r, "author").c_str(), text_of(r, "recorded_on").c_str());
    }
  }
  return 0;
}

}  // namespace

// One workflow step on a report: submit (official), accept or return (reviewer).
int transition(App& app, const std::string& to) {
  auto r = find_report(app, app.args.positional[0]);
  if (!r.ok()) return app.fail(r.status());
  const Row& row = *r;
  const std::string from = text_of(row, "status");
  const bool reviewing = to != "submitted";
  if (!reviewing && from != "draft" && from != "returned") {
    return app.fail(Status(Errc::workflow_violation, "report " + row.id + " is " + label(status_labels(), from) + ": only a draft or returned report can be submitted"));
  }
  if (reviewing && from != "submitted") {
    return app.fail(Status(Errc::workflow_violation, "report " + row.id + " is " + label(status_labels(), from) + ": only a submitted report can be reviewed"));
  }
  const std::string comment = app.args.get("comment");
  if (to == "returned" && comment.empty()) return app.fail("say what to fix: return ID --comment TEXT");
  const TableDef& t = app.table(kReports);
  std::map<std::string, Value> fields;
  auto st = field_value(t, "status", to);
  if (!st.ok()) return app.fail(st.status());
  fields["status"] = *st;
  WriteTxn txn;
  if (reviewing) {
    const std::string reviewer = app.args.get("reviewer", app.person());
    for (auto [field, typed] : {std::pair<std::string, std::string>{"review_comment", comment}, {"reviewed_by", reviewer}}) {
      if (typed.empty()) continue;
      auto v = field_value(t, field, typed);
      if (!v.ok()) return app.fail(v.status());
      fields[field] = *v;
    }
    txn.update(kReports, row.id, fields);
    // The decision itself, insert-only, so it cannot be rewritten later (schemas/sonla-2026/README.md).
    const TableDef& rt = app.table("review");
    std::map<std::string, Value> review;
    for (auto [field, typed] : {std::pair<std::string, std::string>{"report", row.id}, {"unit_code", text_of(row, "unit_code")}, {"decision", to},
                                {"comment", comment}, {"reviewer", reviewer}, {"reviewed_on", app.today()}}) {
      if (typed.empty()) continue;
      auto v = field_value(rt, field, typed);
      if (!v.ok()) return app.fail(v.status());
      review[field] = *v;
    }
    txn.insert("review", "", review);
  } else {
    txn.update(kReports, row.id, fields);
  }
  auto committed = app.client->commit(txn);
  if (!committed.ok()) return app.fail(Status(committed.code(), "refused: " + committed.status().message()));
  if (app.json) {
    Json j;
    j.begin_object().kv("id", row.id).kv("from", from).kv("status", to).kv("seq", committed->seq).kv("changeset", to_hex(committed->id));
    if (!comment.empty()) j.kv("comment", comment);
    return app.emit(j.end_object());
  }
  const char* verb = to == "submitted" ? "Submitted" : to == "accepted" ? "Accepted" : "Returned";
  std::printf("%s report %s (%s → %s)\n", verb, row.id.c_str(), from.c_str(), to.c_str());
  if (!comment.empty()) std::printf("  comment: %s\n", comment.c_str());
  std::printf("  signed as change set #%llu; it leaves with the next `tram-field sync`.\n", static_cast<unsigned long long>(committed->seq));
  return 0;
}

int cmd_accept(App& app) { return transition(app, "accepted"); }
int cmd_return(App& app) { return transition(app, "returned"); }

int cmd_list(App& app) {
  std::vector<Filter> where;
  if (app.args.has("status")) where.push_back(eq("status", app.args.get("status")));
  return list_reports(app, where, "Reports on this device");
}

int cmd_reviews(App& app) {
  return list_reports(app, {eq("status", app.args.get("status", "submitted"))}, "Reports waiting for review");
}

int cmd_show(App& app) {
  auto r = find_report(app, app.args.positional[0]);
  if (!r.ok()) return app.fail(r.status());
  const Row& row = *r;
  auto reviews = all_rows(*app.client, "review", {eq("report", row.id)});
  auto comments = all_rows(*app.client, "comment", {eq("report", row.id)});
  auto evidence = all_rows(*app.client, "evidence", {eq("report", row.id)});
  auto receipts = app.client->receipts(kReports, row.id);
  for (auto* q : {&reviews, &comments, &evidence}) {
    if (!q->ok()) return app.fail(q->status());
  }
  if (!receipts.ok()) return app.fail(receipts.status());
  if (app.json) {
    Json j;
    j.begin_object().key("report").raw(app.client->row_to_json(row));
    for (auto [name, rows] : {std::pair{"reviews", &*reviews}, {"comments", &*comments}, {"evidence", &*evidence}}) {
      j.key(name).begin_array();
      for (const auto& x : *rows) j.raw(app.client->row_to_json(x));
      j.end_array();
    }
    j.kv("receipts", static_cast<uint64_t>(receipts->size()));
    return app.emit(j.end_object());
  }
  std::printf("Report %s%s\n", row.id.c_str(), row.pending ? "  (has edits not yet synced)" : "");
  const TableDef& t = app.table(kReports);
  for (const auto& f : t.fields) {
    auto it = row.fields.find(f.name);
    if (it == row.fields.end() || std::holds_alternative<std::monostate>(it->second)) continue;
    std::string v = value_text(it->second);
    if (f.name == "unit_code") v = unit_label(app, v);
    if (f.name == "status") v = label(status_labels(), v);
    if (f.name == "progress") v = label(progress_labels(), v);
    std::printf("  %s %s\n", cell(f.label + ":", 28).c_str(), v.c_str());
  }
  for (const auto& x : *evidence) {
    std::printf("  evidence: %s (%s) %s\n", text_of(x, "caption").c_str(), text_of(x, "content_type").c_str(), text_of(x, "file").substr(0, 16).c_str());
  }
  for (const auto& x : *reviews) {
    std::printf("  review %s: %s by %s on %s%s\n", x.id.c_str(), text_of(x, "decision").c_str(), text_of(x, "reviewer").c_str(), text_of(x, "reviewed_on").c_str(),
                text_of(x, "comment").empty() ? "" : (": " + text_of(x, "comment")).c_str());
  }
  for (const auto& x : *comments) {
    std::printf("  comment by %s on %s: %s\n", text_of(x, "author").c_str(), text_of(x, "written_on").c_str(), text_of(x, "body").c_str());
  }
  std::printf("  receipts: %zu%s\n", receipts->size(), receipts->empty() ? "" : " (`tram-field receipt ID` shows and verifies them)");
  return 0;
}

}  // namespace tram::field
