// Reviewing and reading reports: the workflow steps (submit, accept, return), the lists of
// reports and of those waiting for review, and one report with its reviews, comments and evidence.
#include "app.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>


namespace fs = std::filesystem;

namespace tram::field {

using namespace tram::client;

namespace {

void print_report_line(App& app, const Row& r, bool pending) {
  const std::string what = !text_of(r, "indicator").empty() ? text_of(r, "indicator") : text_of(r, "task");
  const std::string value = text_of(r, "value").empty() ? "" : text_of(r, "value") + " " + text_of(r, "measure");
  // The status in the official's words; "trả lại để chỉnh sửa" needs a wider column than "returned".
  std::string line = "  " + r.id + "  " + cell(unit_label(app, text_of(r, "unit_code")), 20) + " " + cell(what, 24) + " " + cell(text_of(r, "period"), 7) +
                     " " + cell(status_word(text_of(r, "status")), vietnamese() ? 20 : 9) + " " + cell(value, 18) +
                     (pending ? std::string("  ") + _("(not synced)") : "");
  line.erase(line.find_last_not_of(' ') + 1);
  std::printf("%s\n", line.c_str());
}

// `heading` is already translated; `reviewing` adds each report's narrative and author (reviews).
int list_reports(App& app, std::vector<Filter> where, const char* heading, bool reviewing) {
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
    if (reviewing) {
      const std::string narrative = text_of(r, "narrative");
      if (!narrative.empty()) std::printf("      %s\n", clip(narrative, 96).c_str());
      std::printf("      %s\n", fmt(_("by {1}, recorded {2}"), text_of(r, "author"), text_of(r, "recorded_on")).c_str());
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
    return app.fail(Status(Errc::workflow_violation, fmt(_("report {1} is {2}: only a draft or returned report can be submitted"), row.id, label(status_labels(), from))));
  }
  if (reviewing && from != "submitted") {
    return app.fail(Status(Errc::workflow_violation, fmt(_("report {1} is {2}: only a submitted report can be reviewed"), row.id, label(status_labels(), from))));
  }
  const std::string comment = app.args.get("comment");
  if (to == "returned" && comment.empty()) return app.fail(_("say what to fix: return ID --comment TEXT"));
  const TableDef& t = app.table(kReports);
  std::map<std::string, Value> fields;
  auto st = field_value(t, "status", to);
  if (!st.ok()) return app.fail(st.status());
  fields["status"] = *st;
  WriteTxn txn;
  if (reviewing) {
    const std::string reviewer = app.args.get("reviewer", app.person());
    // The comment belongs to this decision: an accept without one clears the earlier return's
    // (else "accepted" would show next to the old "fix this").
    if (comment.empty()) fields["review_comment"] = Value{};
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
  if (!committed.ok()) return app.fail(Status(committed.code(), fmt(_("refused: {1}"), committed.status().message())));
  if (app.json) {
    Json j;
    j.begin_object().kv("id", row.id).kv("from", from).kv("status", to).kv("seq", committed->seq).kv("changeset", to_hex(committed->id));
    if (!comment.empty()) j.kv("comment", comment);
    return app.emit(j.end_object());
  }
  const char* verb = to == "submitted" ? _("Submitted report {1} ({2} → {3})") : to == "accepted" ? _("Accepted report {1} ({2} → {3})") : _("Returned report {1} ({2} → {3})");
  std::printf("%s\n", fmt(verb, row.id, status_word(from), status_word(to)).c_str());
  if (!comment.empty()) std::printf("  %s\n", fmt(_("comment: {1}"), comment).c_str());
  std::printf("  %s\n", fmt(_("signed as change set #{1}; it leaves with the next `tram-field sync`."), std::to_string(committed->seq)).c_str());
  return 0;
}

int cmd_accept(App& app) { return transition(app, "accepted"); }
int cmd_return(App& app) { return transition(app, "returned"); }

int cmd_list(App& app) {
  std::vector<Filter> where;
  if (app.args.has("status")) where.push_back(eq("status", app.args.get("status")));
  return list_reports(app, where, _("Reports on this device"), false);
}

int cmd_reviews(App& app) {
  return list_reports(app, {eq("status", app.args.get("status", "submitted"))}, _("Reports waiting for review"), true);
}

namespace {

// An evidence file of a report written out by `show --save DIR` or `show --open`.
struct SavedEvidence {
  std::string hash, caption, path, error;
  uint64_t bytes = 0;
  bool opened = false;
};

std::string extension_of(const std::string& content_type) {
  if (content_type == "image/jpeg") return ".jpg";
  if (content_type == "image/png") return ".png";
  if (content_type == "image/heic") return ".heic";
  if (content_type == "application/pdf") return ".pdf";
  return ".bin";
}

// The program's path in $PATH, or "" (then --open says where the file is instead).
std::string in_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "";
  for (size_t start = 0; start <= dirs.size();) {
    const size_t end = std::min(dirs.find(':', start), dirs.size());
    const fs::path candidate = fs::path(dirs.substr(start, end - start)) / program;
    if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate.string();
    start = end + 1;
  }
  return "";
}

// Runs xdg-open on a file, silenced, waiting at most 10 s for it (it hands the file to the
// desktop's viewer and returns; a viewer that stays is not our child's concern after that).
bool run_opener(const std::string& opener, const std::string& file) {
  const pid_t pid = ::fork();
  if (pid < 0) return false;
  if (pid == 0) {
    const int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    ::execl(opener.c_str(), opener.c_str(), file.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int k = 0; k < 100; ++k) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    ::usleep(100'000);
  }
  return true;  // still running: it has the file
}

// show --save DIR / --open: the report's evidence files, downloaded (or copied from this device)
// and verified by hash, named by hash and type so that two reports' photos never collide.
Result<std::vector<SavedEvidence>> save_evidence(App& app, const Row& report, const std::vector<Row>& evidence) {
  std::string dir = app.args.get("save");
  const bool open = app.args.has("open");
  if (dir.empty() && open) {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/tram-evidence-XXXXXX";
    if (!::mkdtemp(templ.data())) return Status(Errc::storage_error, fmt(_("cannot make a directory in {1}"), templ));
    dir = templ;
  }
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (!fs::is_directory(dir, ec)) return Status(Errc::invalid_argument, fmt(_("--save {1}: not a directory"), dir));
  std::vector<std::pair<std::string, const Row*>> files;  // hash, its evidence row (or none)
  for (const auto& x : evidence) {
    if (!text_of(x, "file").empty()) files.push_back({text_of(x, "file"), &x});
  }
  const std::string own = text_of(report, "evidence");
  if (!own.empty() && std::none_of(files.begin(), files.end(), [&](const auto& f) { return f.first == own; })) files.push_back({own, nullptr});
  const std::string opener = open ? in_path("xdg-open") : "";
  std::vector<SavedEvidence> out;
  for (const auto& [hex, row] : files) {
    SavedEvidence e;
    e.hash = hex;
    e.caption = row ? text_of(*row, "caption") : "";
    e.path = (fs::path(dir) / (hex + extension_of(row ? text_of(*row, "content_type") : ""))).string();
    const auto hash = from_hex<32>(hex);
    auto got = hash ? app.client->download_attachment(*hash, e.path) : Result<uint64_t>(Status(Errc::invalid_value, _("not a hash")));
    if (!got.ok()) {
      e.error = got.status().to_string();
      e.path.clear();
    } else {
      e.bytes = *got;
      if (!opener.empty()) e.opened = run_opener(opener, e.path);
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

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
  std::optional<std::vector<SavedEvidence>> saved;
  bool saved_failed = false;
  if (app.args.has("save") || app.args.has("open")) {
    auto written = save_evidence(app, row, *evidence);
    if (!written.ok()) return app.fail(written.status());
    saved = std::move(written).value();
    for (const auto& e : *saved) saved_failed |= !e.error.empty();
  }
  if (app.json) {
    Json j;
    j.begin_object().key("report").raw(app.client->row_to_json(row));
    for (auto [name, rows] : {std::pair{"reviews", &*reviews}, {"comments", &*comments}, {"evidence", &*evidence}}) {
      j.key(name).begin_array();
      for (const auto& x : *rows) j.raw(app.client->row_to_json(x));
      j.end_array();
    }
    j.kv("receipts", static_cast<uint64_t>(receipts->size()));
    if (saved) {
      j.key("saved").begin_array();
      for (const auto& e : *saved) {
        j.begin_object().kv("hash", e.hash).kv("path", e.path).kv("bytes", e.bytes).kv("opened", e.opened);
        if (!e.error.empty()) j.kv("error", e.error);
        j.end_object();
      }
      j.end_array();
    }
    app.emit(j.end_object());
    return saved_failed ? kFailed : 0;
  }
  std::printf("%s%s\n", fmt(_("Report {1}"), row.id).c_str(), row.pending ? (std::string("  ") + _("(has edits not yet synced)")).c_str() : "");
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
    std::printf("  %s\n", fmt(_("evidence: {1} ({2}) {3}"), text_of(x, "caption"), text_of(x, "content_type"), text_of(x, "file").substr(0, 16)).c_str());
  }
  for (const auto& x : *reviews) {
    // The decision is the report's new status (accepted or returned), in the same words as its status.
    const std::string decision = fmt(_("review {1}: {2} by {3} on {4}"), x.id, status_word(text_of(x, "decision")), text_of(x, "reviewer"), text_of(x, "reviewed_on"));
    std::printf("  %s%s\n", decision.c_str(), text_of(x, "comment").empty() ? "" : (": " + text_of(x, "comment")).c_str());
  }
  for (const auto& x : *comments) {
    std::printf("  %s\n", fmt(_("comment by {1} on {2}: {3}"), text_of(x, "author"), text_of(x, "written_on"), text_of(x, "body")).c_str());
  }
  const std::string count = std::to_string(receipts->size());
  std::printf("  %s\n", (receipts->empty() ? fmt(_("receipts: {1}"), count) : fmt(_("receipts: {1} (`tram-field receipt ID` shows and verifies them)"), count)).c_str());
  if (saved) {
    if (saved->empty()) std::printf("%s\n", _("  no evidence files to save"));
    for (const auto& e : *saved) {
      const std::string name = e.caption.empty() ? e.hash.substr(0, 16) : e.caption;
      if (!e.error.empty()) {
        std::printf("%s\n", fmt(_("  evidence {1}: not saved: {2}"), name, e.error).c_str());
      } else if (app.args.has("open") && e.opened) {
        std::printf("%s\n", fmt(_("  evidence {1}: opened {2} ({3})"), name, e.path, kib(e.bytes)).c_str());
      } else if (app.args.has("open")) {
        std::printf("%s\n", fmt(_("  evidence {1}: no viewer could open it (xdg-open); the file is {2} ({3})"), name, e.path, kib(e.bytes)).c_str());
      } else {
        std::printf("%s\n", fmt(_("  evidence {1}: saved to {2} ({3})"), name, e.path, kib(e.bytes)).c_str());
      }
    }
    if (saved_failed) return kFailed;
  }
  return 0;
}

}  // namespace tram::field
