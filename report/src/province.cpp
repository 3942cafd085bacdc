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

bool started(const Indicator& i, const ReportPeriod& p) { return i.start.empty() || i.start <= p.ends; }

// Who reports on a task: the units the programme names, then the departments (or units)
// task_reporter assigns.
std::vector<std::string> task_reporters(const Task& t) {
  std::vector<std::string> out = t.units;
  for (const std::string& r : t.reporters) {
    if (std::find(out.begin(), out.end(), r) == out.end()) out.push_back(r);
  }
  return out;
}

bool task_expected(const Task& t, const ReportPeriod& p) {
  return (!t.units.empty() || !t.reporters.empty()) && (t.deadline.empty() || t.deadline >= p.starts);
}

// A unit of measure as written by people: ASCII case and spaces do not count ("Bác sĩ / trạm"
// is "bác sĩ/trạm"), and "phần trăm" is "%".
std::string folded_measure(std::string_view m) {
  std::string out;
  for (char c : m) {
    if (c == ' ' || c == '\t') continue;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  if (out == "phầntrăm" || out == "phantram") return "%";
  return out;
}

// The units an indicator is expected from in period `p`; {""} means once for the whole province.
std::vector<std::string> expected_units(const ReportInputs& in, const Indicator& i, const ReportPeriod& p) {
  if (!started(i, p)) return {};
  std::vector<std::string> units;
  if (!i.units.empty()) {
    units = i.units;
  } else if (i.applies_to == "province") {
    // Expected of the departments that report on its task; only their report clears the line.
    // Without any (older data, or a device that does not see them): once for the province.
    auto t = in.tasks.find(i.task);
    units = t != in.tasks.end() && !t->second.reporters.empty() ? t->second.reporters : std::vector<std::string>{""};
  } else if (in.all_units) {
    for (const auto& [code, u] : in.units) units.push_back(code);
  }
  // else: a scoped reader sees no indicator_unit row of its own units, so the indicator is not
  // theirs (the rows of the units it does not see are not on this device).
  if (deadline_phase(i, p) == DeadlinePhase::after) {
    // Past the deadline, only a target not yet met stays on the report (overdue); one whose
    // deadline no reporting period holds (it ended before the programme) was never judged here.
    const bool judged_here = std::any_of(in.periods.begin(), in.periods.end(), [&](const ReportPeriod& q) {
      return deadline_phase(i, q) == DeadlinePhase::at;
    });
    if (!judged_here) return {};
    std::erase_if(units, [&](const std::string& u) { return target_met_by(in, i, p, u); });
  }
  return units;
}

std::optional<bool> meets_of(TargetStatus t, bool reported) {
  if (t == TargetStatus::met) return true;
  if (t == TargetStatus::not_met || (t == TargetStatus::overdue && reported)) return false;
  return std::nullopt;
}

// The group, indicator and target columns of a line about `indicator` (or only `task`).
void describe(const ReportInputs& in, ReportLine& l, const std::string& indicator, std::string task) {
  l.indicator = indicator;
  if (auto ind = in.indicators.find(indicator); ind != in.indicators.end()) {
    l.indicator_title = ind->second.title;
    l.measure = ind->second.measure;
    l.target = ind->second.target;
    l.target_max = ind->second.target_max;
    l.target_measure = ind->second.measure;
    l.target_deadline = ind->second.deadline;
    l.comparator = ind->second.comparator;
    l.kind = ind->second.kind;
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
  if (auto u = in.units.find(code); u != in.units.end()) return unit_title(u->second);
  if (auto a = in.agencies.find(code); a != in.agencies.end()) return a->second.name;
  return "";
}

int rank(std::string_view s) {
  return s == "draft" ? 1 : s == "returned" ? 2 : s == "submitted" ? 3 : s == "accepted" ? 4 : 0;
}

}  // namespace

Standing standing_of(const ReportRow& r, std::string_view unit_due, std::string_view today) {
  if (r.submission && is_submitted(r.status)) return judge_submission(r.status, *r.submission, unit_due);
  return judge(r.status, r.recorded_on, r.received_ms, unit_due, today);
}

std::string_view target_status_name(TargetStatus t) {
  switch (t) {
    case TargetStatus::none:
      return "";
    case TargetStatus::not_due:
      return "not_due";
    case TargetStatus::met:
      return "met";
    case TargetStatus::not_met:
      return "not_met";
    case TargetStatus::overdue:
      return "overdue";
    case TargetStatus::not_comparable:
      return "not_comparable";
  }
  return "";
}

DeadlinePhase deadline_phase(const Indicator& i, const ReportPeriod& p) {
  if (i.deadline.empty()) return DeadlinePhase::no_deadline;
  if (p.ends < i.deadline) return DeadlinePhase::before;
  if (p.starts > i.deadline) return DeadlinePhase::after;
  return DeadlinePhase::at;
}

TargetStatus judge_target(const Indicator& i, const ReportPeriod& p, bool reported,
                          const std::optional<double>& value, std::string_view measure,
                          std::string_view progress) {
  const bool numeric = i.target.has_value() && i.comparator != "none" && !i.comparator.empty();
  // A value in another unit than the target's is never compared, whatever the period.
  if (reported && numeric && i.kind != "yes_no" && value && !measure.empty() && !i.measure.empty() &&
      folded_measure(measure) != folded_measure(i.measure)) {
    return TargetStatus::not_comparable;
  }
  const DeadlinePhase phase = deadline_phase(i, p);
  if (phase == DeadlinePhase::before) return TargetStatus::not_due;
  std::optional<bool> met;
  if (reported) {
    // A unit's yes/no answer: its "%" target is the province share (yes_share), the unit's is 1.
    if (i.kind == "yes_no") met = value && *value == 1;
    else if (numeric) met = meets(value, i.target, i.comparator);
    else if (progress == "done") met = true;
    else if (phase != DeadlinePhase::no_deadline) met = false;  // a milestone not done by its deadline
  }
  if (phase == DeadlinePhase::after) return met.value_or(false) ? TargetStatus::met : TargetStatus::overdue;
  // No date in the programme (the 4-lane widening): reached is met; anything short of it is
  // progress, never "not met" against a deadline nobody set.
  if (phase == DeadlinePhase::no_deadline && met && !*met) return TargetStatus::not_due;
  if (!met) return TargetStatus::none;
  return *met ? TargetStatus::met : TargetStatus::not_met;
}

bool target_met_by(const ReportInputs& in, const Indicator& i, const ReportPeriod& p,
                   const std::string& unit) {
  const ReportPeriod* latest = nullptr;
  bool met = false;
  for (const ReportRow& r : in.reports) {
    if (r.indicator != i.code || (!unit.empty() && r.unit_code != unit) || !is_submitted(r.status)) continue;
    const ReportPeriod* q = in.period(r.period);
    if (!q || q->ends < i.deadline || q->ends > p.ends) continue;
    const bool m = judge_target(i, *q, true, r.value, r.measure, r.progress) == TargetStatus::met;
    if (!latest || q->ends > latest->ends) {
      latest = q;
      met = m;
    } else if (q->ends == latest->ends) {
      met = met || m;
    }
  }
  return met;
}

std::optional<double> yes_share(const ReportInputs& in, const Indicator& i, const ReportPeriod& p) {
  std::vector<std::string> units = i.units;
  if (units.empty() && in.all_units && i.applies_to != "province") {
    for (const auto& [code, u] : in.units) units.push_back(code);
  }
  if (units.empty()) return std::nullopt;
  size_t yes = 0;
  for (const std::string& u : units) {
    // The latest period up to `p` with a submitted report of this unit; yes if one there says 1.
    const ReportPeriod* latest = nullptr;
    bool said_yes = false;
    for (const ReportRow& r : in.reports) {
      if (r.indicator != i.code || r.unit_code != u || !is_submitted(r.status)) continue;
      const ReportPeriod* q = in.period(r.period);
      if (!q || q->ends > p.ends) continue;
      const bool y = r.value && *r.value == 1;
      if (!latest || q->ends > latest->ends) {
        latest = q;
        said_yes = y;
      } else if (q->ends == latest->ends) {
        said_yes = said_yes || y;
      }
    }
    yes += said_yes;
  }
  return 100.0 * static_cast<double>(yes) / static_cast<double>(units.size());
}

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
    l.unit_name = r.unit_code.empty() ? "" : unit_name_of(in, r.unit_code);
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
    if (auto ind = in.indicators.find(r.indicator); ind != in.indicators.end()) {
      l.target_status = judge_target(ind->second, p, true, r.value, r.measure, r.progress);
      l.meets_target = meets_of(l.target_status, true);
    }
    // The report's own standing; "today" plays no part once a line has a report.
    const Standing st = standing_of(r, p.unit_due, "");
    l.timeliness = st.timeliness;
    l.submitted_ms = st.counted_ms;
    l.clock_wrong = st.clock_wrong;
    l.offline_before_due = st.offline_before_due;
    // A draft stands in for its expected line, as "Chưa nộp": no second, empty line for it.
    reported.emplace(l.indicator, l.unit_code);
    reported.emplace(l.indicator, "");  // a line expected once for the province: anyone's report
    rep.lines.push_back(std::move(l));
  }

  auto add_missing = [&](const std::string& indicator, const std::string& task, const std::string& unit) {
    ReportLine l;
    describe(in, l, indicator, task);
    if (reported.count({l.indicator, unit})) return;
    l.unit_code = unit;
    l.unit_name = unit_name_of(in, unit);
    l.timeliness = Timeliness::missing;
    if (auto ind = in.indicators.find(indicator); ind != in.indicators.end()) {
      l.target_status = judge_target(ind->second, p, false, std::nullopt, "", "");
    }
    rep.lines.push_back(std::move(l));
  };
  for (const auto& [code, ind] : in.indicators) {
    for (const std::string& u : expected_units(in, ind, p)) add_missing(code, "", u);
  }
  for (const auto& [code, task] : in.tasks) {
    if (!task_expected(task, p)) continue;
    for (const std::string& u : task_reporters(task)) add_missing("", code, u);
  }
  // The share line of each yes_no indicator, while it is expected of anyone or judged here
  // (started; its deadline not passed, or passed with the share still short: overdue).
  for (const auto& [code, ind] : in.indicators) {
    if (ind.kind != "yes_no" || !started(ind, p)) continue;
    const auto share = yes_share(in, ind, p);
    if (!share) continue;
    Indicator as_share = ind;  // the province's figure is judged as a number against the target
    as_share.kind = "percent";
    const TargetStatus st = judge_target(as_share, p, true, share, "", "");
    if (deadline_phase(ind, p) == DeadlinePhase::after) {
      // Like the units' lines: gone once met, never judged when no period held the deadline.
      const bool judged_here = std::any_of(in.periods.begin(), in.periods.end(), [&](const ReportPeriod& q) {
        return deadline_phase(ind, q) == DeadlinePhase::at;
      });
      if (st == TargetStatus::met || !judged_here) continue;
    }
    ReportLine l;
    describe(in, l, code, "");
    l.aggregate = true;
    l.unit_code = "";
    l.unit_name = "Toàn tỉnh";
    l.value = share;
    l.measure = ind.measure.empty() ? "%" : ind.measure;
    l.target_status = st;
    l.meets_target = meets_of(st, true);
    rep.lines.push_back(std::move(l));
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
    if (l.aggregate) {  // not a report: counted apart (province.hpp)
      ++s.aggregate;
      continue;
    }
    (l.timeliness == Timeliness::on_time ? s.on_time
     : l.timeliness == Timeliness::late  ? s.late
                                         : s.missing)++;
    if (l.review_state == "draft") ++s.draft;
    if (l.review_state == "submitted") ++s.submitted;
    if (l.review_state == "accepted") ++s.accepted;
    if (l.review_state == "returned") ++s.returned;
    switch (l.target_status) {
      case TargetStatus::met: ++s.target_met; break;
      case TargetStatus::not_met: ++s.target_not_met; break;
      case TargetStatus::overdue: ++s.target_overdue; break;
      case TargetStatus::not_due: ++s.target_not_due; break;
      case TargetStatus::not_comparable: ++s.not_comparable; break;
      case TargetStatus::none: break;
    }
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
    item.standing = item.report ? standing_of(*item.report, p.unit_due, today) : judge("", "", std::nullopt, p.unit_due, today);
    if (item.indicator) {
      item.target = item.report ? judge_target(*item.indicator, p, true, item.report->value, item.report->measure, item.report->progress)
                                : judge_target(*item.indicator, p, false, std::nullopt, "", "");
    }
    items.push_back(std::move(item));
  };
  for (const auto& [code, ind] : in.indicators) {
    const auto units = expected_units(in, ind, p);
    if (std::find(units.begin(), units.end(), unit) != units.end()) add("indicator", code);
  }
  for (const auto& [code, task] : in.tasks) {
    if (!task_expected(task, p)) continue;
    const auto who = task_reporters(task);
    if (std::find(who.begin(), who.end(), unit) != who.end()) add("task", code);
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
