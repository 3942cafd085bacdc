// tram-field due: what each unit owes for a period and what is behind, by the report library's
// rule (report/include/tram/report/timeliness.hpp, docs/operations.md §8), the same the server's
// province report applies. The rows come from this device's replica through the SDK.
#include "app.hpp"
#include "i18n.hpp"

#include <algorithm>

#include "tram/report/province.hpp"

namespace tram::field {

using namespace tram::client;
using reporting::DueItem;
using reporting::ReportInputs;
using reporting::ReportPeriod;

namespace {

// The library's rows from the SDK's queries.
reporting::RowSource client_rows(Client& c) {
  return [&c](std::string_view table, const std::function<void(reporting::SourceRow&&)>& visit) -> Status {
    auto rows = all_rows(c, std::string(table));
    if (!rows.ok()) return rows.status();
    for (Row& r : *rows) visit({std::move(r.id), std::move(r.fields), {}});
    return {};
  };
}

// A device knows when the server received its own reports: the earliest accepted receipt of a
// change set that wrote the report (the one that created it, with its recorded date).
class DeviceReceipts final : public reporting::ReceiptTimes {
 public:
  explicit DeviceReceipts(Client& c) : c_(c) {}
  Status stamp(std::vector<reporting::ReportRow>& reports) override {
    for (auto& r : reports) {
      auto rs = c_.receipts(kReports, r.id);
      if (!rs.ok()) return rs.status();
      for (const ReceiptInfo& rc : *rs) {
        if (rc.status == "accepted" && (!r.received_ms || rc.received_at_ms < *r.received_ms)) r.received_ms = rc.received_at_ms;
      }
    }
    return {};
  }

 private:
  Client& c_;
};

std::string deadline_note(const std::string& today, const std::string& due) {
  auto a = Date::parse(today), b = Date::parse(due);
  const int64_t d = a && b ? b->days - a->days : 0;
  if (d > 0) return fmt(P_("due in {1} day", "due in {1} days", static_cast<unsigned long>(d)), std::to_string(d));
  if (d == 0) return _("due today");
  return fmt(P_("overdue by {1} day", "overdue by {1} days", static_cast<unsigned long>(-d)), std::to_string(-d));
}

std::string target_text(const DueItem& it) {
  if (it.task) return it.task->deadline.empty() ? "" : fmt(_("by {1}"), it.task->deadline);
  if (!it.indicator) return "";
  const reporting::Indicator& ind = *it.indicator;
  std::string out;
  // A yes_no indicator: the unit answers yes (its "= 100 %" is the province share of yeses).
  if (ind.kind == "yes_no") return _("yes") + (ind.deadline.empty() ? "" : ", " + fmt(_("by {1}"), ind.deadline));
  if (ind.comparator == "range" && ind.target && ind.target_max) out = shortest(*ind.target) + "–" + shortest(*ind.target_max);
  else if (ind.target && ind.comparator != "none") out = ind.comparator + " " + shortest(*ind.target);
  else out = ind.kind == "milestone" ? _("milestone") : "";
  if (!ind.measure.empty() && ind.target) out += " " + ind.measure;
  if (!ind.deadline.empty()) out += (out.empty() ? "" : ", ") + fmt(_("by {1}"), ind.deadline);
  return out;
}

// Where the report stands against the indicator's target (judged only at its deadline).
std::string target_note(const DueItem& it) {
  using reporting::TargetStatus;
  switch (it.target) {
    case TargetStatus::none:
      return "";
    case TargetStatus::not_due:
      return _("target not yet due");
    case TargetStatus::met:
      return _("target met");
    case TargetStatus::not_met:
      return _("target NOT met");
    case TargetStatus::overdue:
      return fmt(_("target OVERDUE (deadline {1} passed)"), it.indicator->deadline);
    case TargetStatus::not_comparable:
      return fmt(_("value not comparable (in {1}, the target in {2})"), it.report->measure, it.indicator->measure);
  }
  return "";
}

std::string title_of(const DueItem& it) {
  return it.indicator ? it.indicator->title : it.task ? it.task->title : "";
}

// The task's whole paragraph as the programme words it (schema v3), else its title.
std::string full_text_of(const DueItem& it) {
  return it.task && !it.task->text.empty() ? it.task->text : title_of(it);
}

Result<std::vector<std::string>> units_in_view(App& app, const ReportInputs& in, const std::string& wanted) {
  if (!wanted.empty()) {
    if (!app.info.all_units && std::find(app.info.units.begin(), app.info.units.end(), wanted) == app.info.units.end()) {
      return Status(Errc::forbidden_scope, fmt(_("unit {1} is not one of this device's units"), wanted));
    }
    return std::vector<std::string>{wanted};
  }
  if (!app.info.all_units) return app.info.units;
  std::vector<std::string> out;
  for (const auto& [code, u] : in.units) out.push_back(code);
  return out;
}

}  // namespace

Result<ReportInputs> load_inputs(App& app, bool receipt_times) {
  DeviceReceipts receipts(*app.client);
  auto in = reporting::read_inputs(client_rows(*app.client), receipt_times ? &receipts : nullptr);
  // A device of some units receives only their indicator_unit rows: not seeing rows for an
  // indicator does not make it every unit's (report/include/tram/report/province.hpp).
  if (in.ok()) in->all_units = app.info.all_units;
  if (in.ok() && in->periods.empty()) return Status(Errc::not_found, _("this device has no reporting periods yet: run `tram-field sync`"));
  return in;
}

Result<ReportPeriod> choose_period(App& app, const ReportInputs& in, const std::string& wanted) {
  if (wanted.empty()) return *reporting::current_period(in, app.today());
  if (const ReportPeriod* p = in.period(wanted)) return *p;
  std::string known;
  for (const auto& p : in.periods) known += (known.empty() ? "" : ", ") + p.code;
  return Status(Errc::invalid_value, fmt(_("no reporting period {1} (known: {2})"), wanted, known));
}

int cmd_due(App& app) {
  auto in = load_inputs(app, true);
  if (!in.ok()) return app.fail(in.status());
  auto p = choose_period(app, *in, app.args.get("period"));
  if (!p.ok()) return app.fail(p.status());
  auto units = units_in_view(app, *in, app.args.get("unit"));
  if (!units.ok()) return app.fail(units.status());
  const std::string today = app.today();
  std::map<std::string, std::vector<DueItem>> by_unit;
  for (const auto& u : *units) by_unit[u] = reporting::due_for_unit(*in, *p, u, today);
  auto is_pending_item = [&](const DueItem& it) { return it.report && is_pending(app, kReports, it.report->id); };
  // Earlier periods whose deadline passed with something still behind.
  std::vector<std::pair<std::string, size_t>> late_periods;
  if (!app.args.has("period")) {
    for (const auto& q : in->periods) {
      if (q.code == p->code || q.unit_due >= today) continue;
      size_t owed = 0;
      for (const auto& u : *units) {
        for (const auto& it : reporting::due_for_unit(*in, q, u, today)) owed += it.standing.behind();
      }
      if (owed) late_periods.emplace_back(q.code, owed);
    }
  }
  if (app.json) {
    Json j;
    j.begin_object().kv("today", today).key("period").begin_object().kv("code", p->code).kv("starts", p->starts).kv("ends", p->ends);
    j.kv("unit_due", p->unit_due).kv("finance_due", p->finance_due).kv("overdue", today > p->unit_due).end_object();
    j.key("units").begin_array();
    for (const auto& u : *units) {
      j.begin_object().kv("code", u).kv("name", unit_name(app, u)).key("items").begin_array();
      for (const auto& it : by_unit[u]) {
        j.begin_object().kv("kind", it.kind).kv("code", it.code).kv("title", title_of(it)).kv("text", full_text_of(it)).kv("target", target_text(it)).kv("state", it.state);
        j.kv("late", it.standing.behind()).kv("timeliness", reporting::timeliness_name(it.standing.timeliness));
        j.kv("counted_on", it.standing.counted_on).kv("target_status", std::string(reporting::target_status_name(it.target))).key("report");
        if (it.report) j.str(it.report->id);
        else j.null();
        j.kv("pending", is_pending_item(it)).end_object();
      }
      j.end_array().end_object();
    }
    j.end_array().key("late_periods").begin_array();
    for (const auto& [code, n] : late_periods) j.begin_object().kv("period", code).kv("owed", static_cast<uint64_t>(n)).end_object();
    return app.emit(j.end_array().end_object());
  }
  std::printf("%s\n", fmt(_("Today {1}. Period {2} ({3} – {4}): units report by {5}, {6}; Sở Tài chính aggregates by {7}."), today, p->code,
                          p->starts, p->ends, p->unit_due, deadline_note(today, p->unit_due), p->finance_due)
                          .c_str());
  const bool summary = units->size() > 3;
  // TRANSLATORS: column headings, at most 6 characters each except the first.
  if (summary) std::printf("  %s %s %s %s %s %s\n", cell(_("unit"), 28).c_str(), cell(_("due"), 6).c_str(), cell(_("draft"), 6).c_str(),
                           cell(_("sent"), 6).c_str(), cell(_("accept"), 6).c_str(), cell(_("LATE"), 6).c_str());
  for (const auto& u : *units) {
    const auto& items = by_unit[u];
    if (summary) {
      size_t draft = 0, sent = 0, accepted = 0, late = 0;
      for (const auto& it : items) {
        draft += it.state == "draft" || it.state == "returned";
        sent += it.state == "submitted";
        accepted += it.state == "accepted";
        late += it.standing.behind();
      }
      std::printf("  %s %6zu %6zu %6zu %6zu %6zu\n", cell(unit_label(app, u), 28).c_str(), items.size(), draft, sent, accepted, late);
      continue;
    }
    std::printf("%s\n", unit_label(app, u).c_str());
    if (items.empty()) std::printf("  %s\n", fmt(_("nothing assigned to this unit for {1}"), p->code).c_str());
    for (const auto& it : items) {
      std::string state = it.state == "missing" ? _("missing") : label(status_labels(), it.state);
      if (it.standing.behind()) state += std::string("  ") + _("LATE");
      if (it.standing.capped) state += "  " + fmt(_("(counted from the server's receipt, {1})"), it.standing.counted_on);
      if (is_pending_item(it)) state += std::string("  ") + _("(not synced)");
      if (const std::string t = target_note(it); !t.empty()) state += "  " + t;
      std::printf("  %s %s %s\n", cell(it.code, 24).c_str(), cell(target_text(it), 32).c_str(), state.c_str());
      if (app.args.has("full")) {
        std::printf("%s", wrap(full_text_of(it), 96, "      ").c_str());
      } else {
        std::printf("      %s\n", clip(title_of(it), 96).c_str());
      }
      if (it.report) std::printf("      %s\n", fmt(_("report {1}"), it.report->id).c_str());
    }
  }
  for (const auto& [code, n] : late_periods) {
    std::printf("%s\n", fmt(P_("Also late: period {1}, {2} report not submitted (`tram-field due --period {1}`)",
                                "Also late: period {1}, {2} reports not submitted (`tram-field due --period {1}`)", n),
                            code, std::to_string(n))
                            .c_str());
  }
  return 0;
}

}  // namespace tram::field
