#include <vector>

#include "format.hpp"
#include "tram/engine/json.hpp"
#include "tram/report/render.hpp"

namespace tram::reporting {
namespace {

using namespace detail;

// Empty text is null, as absent numbers are.
void text(json::Writer& w, std::string_view key, const std::string& v) {
  w.key(key);
  if (v.empty()) w.null();
  else w.string(v);
}
void real(json::Writer& w, std::string_view key, const std::optional<double>& v) {
  w.key(key);
  if (v) w.raw(number(*v));
  else w.null();
}

}  // namespace

std::string report_json(const ProvinceReport& r) {
  const ReportPeriod& p = r.period;
  json::Writer w;
  w.begin_object().key("period").begin_object();
  w.key("code").string(p.code).key("kind").string(p.kind).key("year").number(p.year);
  w.key("starts").string(p.starts).key("ends").string(p.ends).key("unit_due").string(p.unit_due);
  w.key("finance_due").string(p.finance_due).end_object();
  w.key("generated_at").string(format_time(r.generated_ms, "%Y-%m-%dT%H:%M:%SZ", false));
  const ReportSummary& s = r.summary;
  w.key("summary").begin_object().key("lines").number(uint64_t{s.lines}).key("on_time").number(uint64_t{s.on_time});
  w.key("late").number(uint64_t{s.late}).key("missing").number(uint64_t{s.missing});
  w.key("aggregate").number(uint64_t{s.aggregate});
  w.key("review").begin_object().key("draft").number(uint64_t{s.draft}).key("submitted").number(uint64_t{s.submitted});
  w.key("accepted").number(uint64_t{s.accepted}).key("returned").number(uint64_t{s.returned}).end_object();
  w.key("targets").begin_object().key("met").number(uint64_t{s.target_met}).key("not_met").number(uint64_t{s.target_not_met});
  w.key("overdue").number(uint64_t{s.target_overdue}).key("not_due").number(uint64_t{s.target_not_due});
  w.key("not_comparable").number(uint64_t{s.not_comparable}).end_object().end_object();
  w.key("lines").begin_array();
  for (const ReportLine& l : r.lines) {
    // A share line is not a report: no timeliness, and `aggregate` says so.
    w.begin_object().key("timeliness");
    if (l.aggregate) w.null();
    else w.string(timeliness_name(l.timeliness));
    w.key("aggregate").boolean(l.aggregate);
    text(w, "indicator_kind", l.kind);
    text(w, "group", l.group);
    text(w, "group_title", l.group_title);
    text(w, "indicator", l.indicator);
    text(w, "indicator_title", l.indicator_title);
    text(w, "unit_code", l.unit_code);
    text(w, "unit_name", l.unit_name);
    real(w, "value", l.value);
    text(w, "measure", l.measure);
    real(w, "target", l.target);
    real(w, "target_max", l.target_max);
    text(w, "comparator", l.comparator);
    w.key("meets_target");
    if (l.meets_target) w.boolean(*l.meets_target);
    else w.null();
    text(w, "target_status", std::string(target_status_name(l.target_status)));
    text(w, "target_measure", l.target_measure);
    text(w, "target_deadline", l.target_deadline);
    text(w, "progress", l.progress);
    text(w, "recorded_on", l.recorded_on);
    text(w, "received_at", l.received_ms ? format_time(*l.received_ms, "%Y-%m-%dT%H:%M:%SZ", false) : "");
    text(w, "submitted_at", l.submitted_ms ? format_time(*l.submitted_ms, "%Y-%m-%dT%H:%M:%SZ", false) : "");
    w.key("clock_wrong").boolean(l.clock_wrong);
    w.key("submitted_offline").boolean(l.offline_before_due);
    text(w, "difficulties", l.difficulties);
    text(w, "proposals", l.proposals);
    text(w, "review_state", l.review_state);
    text(w, "review_comment", l.review_comment);
    text(w, "author", l.author);
    text(w, "report", l.report_id);
    w.end_object();
  }
  return w.end_array().end_object().take();
}

}  // namespace tram::reporting
