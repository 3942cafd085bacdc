#include "tram/report/province.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <set>
#include <tuple>

namespace tram::reporting {
namespace {

std::optional<bool> meets(const std::optional<double>& value, const std::optional<double>& target,
                          const std::string& cmp) {
  if (!value || !target) return std::nullopt;
  if (cmp == ">") return *value > *target;
  if (cmp == ">=") return *value >= *target;
  if (cmp == "=") return std::fabs(*value - *target) < 1e-9;
  if (cmp == "range") return *value >= *target;  // above the maximum is not a failure (seed NOTES 14)
  return std::nullopt;
}

bool active_in(const Indicator& i, const ReportPeriod& p) {
  return (i.start.empty() || i.start <= p.ends) && (i.deadline.empty() || i.deadline >= p.starts);
}

bool task_expected(const Task& t, const ReportPeriod& p) {
  return !t.units.empty() && (t.deadline.empty() || t.deadline >= p.starts);
}

// The units an indicator is expected from; {""} means once for the whole province.
std::vector<std::string> expected_units(const ReportInputs& in, const Indicator& i) {
  if (!i.units.empty()) return i.units;
  if (i.applies_to == "province") return {""};
  std::vector<std::string> all;
  for (const auto& [code, u] : in.units) all.push_back(code);
  return all;
}

// The group, indicator and target columns of a line about `indicator` (or only `task`).
void describe(const ReportInputs& in, ReportLine& l, const std::string& indicator, std::string task) {
  l.indicator = indicator;
  if (auto ind = in.indicators.find(indicator); ind != in.indicators.end()) {
    l.indicator_title = ind->second.title;
    l.measure = ind->second.measure;
    l.target = ind->second.target;
    l.target_max = ind->second.target_max;
    l.comparator = ind->second.comparator;
    if (!ind->second.task.empty()) task = ind->second.task;
  }
  auto t = in.tasks.find(task);
  if (t == in.tasks.end()) return;
  if (l.indicator.empty()) {
    l.indicator = task;
    l.indicator_title = t->second.title;
  }
  l.group = t->second.group;
  if (auto g = in.groups.find(l.group); g != in.groups.end()) {
    l.group_number = g->second.number;
    l.group_title = g->second.title;
  }
}

std::string unit_name_of(const ReportInputs& in, const std::string& code) {
  if (code.empty()) return "Toàn tỉnh";
  auto u = in.units.find(code);
  return u == in.units.end() ? "" : unit_title(u->second);
}

int rank(std::string_view s) {
  return s == "draft" ? 1 : s == "returned" ? 2 : s == "submitted" ? 3 : s == "accepted" ? 4 : 0;
}

}  // namespace

Result<ProvinceReport> build_province_report(const ReportInputs& in, std::string_view period,
                                             int64_t now_ms) {
  const ReportPeriod* found = in.period(period);
  if (!found) return Status(Errc::not_found, "unknown reporting period \"" + std::string(period) + "\"");
  ProvinceReport rep;
  rep.period = *found;
  rep.generated_ms = now_ms;
  const ReportPeriod& p = rep.period;

  std::set<std::pair<std::string, std::string>> reported;  // (indicator or task, unit); "" = any
  for (const ReportRow& r : in.reports) {
    if (r.period != p.code) continue;
    ReportLine l;
    l.report_id = r.id;
    l.unit_code = r.unit_code;
    if (auto u = in.units.find(r.unit_code); u != in.units.end()) l.unit_name = unit_title(u->second);
    describe(in, l, r.indicator, r.task);
    l.value = r.value;
    l.progress = r.progress;
    l.difficulties = r.difficulties;
    l.proposals = r.proposals;
    l.author = r.author;
    l.recorded_on = r.recorded_on;
    l.received_ms = r.received_ms;
    l.review_state = r.status;
    l.review_comment = r.review_comment;
    if (!r.measure.empty()) l.measure = r.measure;
    l.meets_target = meets(l.value, l.target, l.comparator);
    // The report's own standing; "today" plays no part once a line has a report.
    l.timeliness = judge(r.status, r.recorded_on, r.received_ms, p.unit_due, "").timeliness;
    // A draft stands in for its expected line, as "Chưa nộp": no second, empty line for it.
    reported.emplace(l.indicator, l.unit_code);
    reported.emplace(l.indicator, "");
    rep.lines.push_back(std::move(l));
  }

  auto add_missing = [&](const std::string& indicator, const std::string& task, const std::string& unit) {
    ReportLine l;
    describe(in, l, indicator, task);
    if (reported.count({l.indicator, unit})) return;
    l.unit_code = unit;
    l.unit_name = unit_name_of(in, unit);
    l.timeliness = Timeliness::missing;
    rep.lines.push_back(std::move(l));
  };
  for (const auto& [code, ind] : in.indicators) {
    if (!active_in(ind, p)) continue;
    for (const std::string& u : expected_units(in, ind)) add_missing(code, "", u);
  }
  for (const auto& [code, task] : in.tasks) {
    if (!task_expected(task, p)) continue;
    for (const std::string& u : task.units) add_missing("", code, u);
  }

  std::sort(rep.lines.begin(), rep.lines.end(), [](const ReportLine& a, const ReportLine& b) {
    using Key = std::tuple<int64_t, const std::string&, const std::string&, const std::string&,
                           const std::string&, const std::string&>;
    auto key = [](const ReportLine& l) {
      // Lines without a known task group go last.
      return Key(l.group_number == 0 ? INT64_MAX : l.group_number, l.group, l.indicator,
                 l.unit_code, l.recorded_on, l.report_id);
    };
    return key(a) < key(b);
  });
  ReportSummary& s = rep.summary;
  s.lines = rep.lines.size();
  for (const ReportLine& l : rep.lines) {
    (l.timeliness == Timeliness::on_time ? s.on_time
     : l.timeliness == Timeliness::late  ? s.late
                                         : s.missing)++;
    if (l.review_state == "draft") ++s.draft;
    if (l.review_state == "submitted") ++s.submitted;
    if (l.review_state == "accepted") ++s.accepted;
    if (l.review_state == "returned") ++s.returned;
  }
  return rep;
}

Result<ProvinceReport> build_province_report(RowReader& replica, std::string_view period,
                                             int64_t now_ms, ReceiptTimes* receipts) {
  auto in = read_inputs(store_rows(replica), receipts);
  if (!in.ok()) return in.status();
  return build_province_report(*in, period, now_ms);
}

std::vector<DueItem> due_for_unit(const ReportInputs& in, const ReportPeriod& p,
                                  const std::string& unit, std::string_view today) {
  std::vector<DueItem> items;
  std::set<std::string> seen;
  auto add = [&](const std::string& kind, const std::string& code) {
    if (!seen.insert(kind + ":" + code).second) return;
    DueItem item;
    item.kind = kind;
    item.code = code;
    if (kind == "indicator") {
      if (auto it = in.indicators.find(code); it != in.indicators.end()) item.indicator = &it->second;
    } else if (auto it = in.tasks.find(code); it != in.tasks.end()) {
      item.task = &it->second;
    }
    for (const ReportRow& r : in.reports) {
      if (r.period != p.code || r.unit_code != unit) continue;
      if (kind == "indicator" ? r.indicator != code : (!r.indicator.empty() || r.task != code)) continue;
      if (!item.report || rank(r.status) > rank(item.report->status)) item.report = &r;
    }
    item.state = item.report ? item.report->status : "missing";
    item.standing = item.report ? judge(item.report->status, item.report->recorded_on, item.report->received_ms, p.unit_due, today)
                                : judge("", "", std::nullopt, p.unit_due, today);
    items.push_back(std::move(item));
  };
  for (const auto& [code, ind] : in.indicators) {
    if (!active_in(ind, p)) continue;
    const auto units = expected_units(in, ind);
    if (std::find(units.begin(), units.end(), unit) != units.end()) add("indicator", code);
  }
  for (const auto& [code, task] : in.tasks) {
    if (task_expected(task, p) && std::find(task.units.begin(), task.units.end(), unit) != task.units.end()) add("task", code);
  }
  for (const ReportRow& r : in.reports) {
    if (r.period != p.code || r.unit_code != unit) continue;
    if (!r.indicator.empty()) add("indicator", r.indicator);
    else if (!r.task.empty()) add("task", r.task);
  }
  return items;
}

const ReportPeriod* current_period(const ReportInputs& in, std::string_view today) {
  for (const ReportPeriod& p : in.periods) {
    if (p.unit_due >= today) return &p;
  }
  return in.periods.empty() ? nullptr : &in.periods.back();
}

}  // namespace tram::reporting
