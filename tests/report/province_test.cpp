// The province report and the due view from the same rows (report/include/tram/report/
// province.hpp): what is expected, and that both judge a report by the one rule.
#include "tram/report/province.hpp"

#include <gtest/gtest.h>

#include <set>
#include <tuple>

#include "tram/report/render.hpp"

namespace tram::reporting {
namespace {

using Fields = std::map<std::string, Value>;

Value t(const char* s) { return Value{Text{s}}; }
Value d(const char* s) { return Value{*Date::parse(s)}; }

// Rows as a replica would give them, by table.
class Rows {
 public:
  void add(const std::string& table, const std::string& id, Fields f) { rows_[table].push_back({id, std::move(f), {}}); }
  RowSource source() const {
    return [this](std::string_view table, const std::function<void(SourceRow&&)>& visit) -> Status {
      auto it = rows_.find(std::string(table));
      if (it == rows_.end()) return {};
      for (SourceRow r : it->second) visit(std::move(r));
      return {};
    };
  }

 private:
  std::map<std::string, std::vector<SourceRow>> rows_;
};

const ReportLine* line_of_report(const ProvinceReport& rep, const std::string& id) {
  for (const ReportLine& l : rep.lines) {
    if (l.report_id == id) return &l;
  }
  return nullptr;
}

Rows programme() {
  Rows r;
  r.add("reporting_period", "2026-H1", {{"kind", t("half")}, {"year", Value{int64_t{2026}}}, {"starts", d("2026-01-01")},
                                        {"ends", d("2026-06-30")}, {"unit_due", d("2026-06-05")}, {"finance_due", d("2026-06-10")}});
  r.add("reporting_period", "2026", {{"kind", t("year")}, {"year", Value{int64_t{2026}}}, {"starts", d("2026-01-01")},
                                     {"ends", d("2026-12-31")}, {"unit_due", d("2026-12-05")}, {"finance_due", d("2026-12-10")}});
  r.add("unit", "A", {{"name", t("Mường La")}, {"type", t("xã")}});
  r.add("unit", "B", {{"name", t("Tô Hiệu")}, {"type", t("phường")}});
  r.add("task_group", "NV08", {{"number", Value{int64_t{8}}}, {"title", t("Môi trường")}});
  r.add("task", "NV08.01", {{"task_group", t("NV08")}, {"title", t("Cấp nước")}});
  r.add("task", "NV08.02", {{"task_group", t("NV08")}, {"title", t("Nước thải")}, {"units", t("A, B")}, {"deadline", d("2030-12-31")}});
  r.add("indicator", "WATER", {{"task", t("NV08.01")}, {"title", t("Hộ có nước sạch")}, {"comparator", t(">")}, {"target", Value{90.0}},
                               {"measure", t("%")}, {"deadline", d("2030-12-31")}});
  r.add("indicator", "ROAD", {{"task", t("NV08.01")}, {"title", t("Đường 4 làn")}, {"applies_to", t("province")}, {"deadline", d("2030-12-31")}});
  r.add("indicator", "OLD", {{"task", t("NV08.01")}, {"title", t("Đã hết hạn")}, {"deadline", d("2025-12-31")}});
  r.add("indicator_unit", "WATER-A", {{"indicator", t("WATER")}, {"unit_code", t("A")}});
  r.add("indicator_unit", "WATER-B", {{"indicator", t("WATER")}, {"unit_code", t("B")}});
  return r;
}

void report(Rows& r, const char* id, const char* unit, const char* indicator, const char* status, const char* recorded_on, double value = 95) {
  r.add("progress_report", id, {{"unit_code", t(unit)}, {"indicator", t(indicator)}, {"period", t("2026-H1")}, {"status", t(status)},
                                {"recorded_on", d(recorded_on)}, {"value", Value{value}}, {"progress", t("on_track")}});
}

TEST(ProvinceReport, ExpectedLinesMissingOnesAndTheRule) {
  Rows rows = programme();
  report(rows, "r1", "A", "WATER", "returned", "2026-06-04", 80);  // returned, submitted on time
  report(rows, "r2", "B", "WATER", "accepted", "2026-06-07");      // late
  auto in = read_inputs(rows.source());
  ASSERT_TRUE(in.ok()) << in.status().to_string();
  auto rep = build_province_report(*in, "2026-H1", 0);
  ASSERT_TRUE(rep.ok());
  // WATER from A and B (reported), ROAD once for the province, the task NV08.02 from A and B;
  // OLD ended before the period.
  ASSERT_EQ(rep->lines.size(), 5u);
  EXPECT_EQ(rep->summary.on_time, 1u);
  EXPECT_EQ(rep->summary.late, 1u);
  EXPECT_EQ(rep->summary.missing, 3u);
  EXPECT_EQ(rep->summary.returned, 1u);
  for (const ReportLine& l : rep->lines) {
    if (l.report_id == "r1") {
      EXPECT_EQ(l.timeliness, Timeliness::on_time);
      EXPECT_EQ(l.unit_name, "Xã Mường La");
      // 80 against "> 90 % by 2030" in 2026-H1: progress, not yet judged (was "Chưa đạt").
      EXPECT_EQ(l.target_status, TargetStatus::not_due);
      EXPECT_EQ(l.meets_target, std::nullopt);
      EXPECT_EQ(l.target_deadline, "2030-12-31");
      EXPECT_EQ(l.group, "NV08");
    }
    if (l.report_id == "r2") {
      EXPECT_EQ(l.timeliness, Timeliness::late);
    }
    if (l.indicator == "ROAD") {
      EXPECT_EQ(l.unit_name, "Toàn tỉnh");
    }
    EXPECT_NE(l.indicator, "OLD");
  }
  EXPECT_FALSE(build_province_report(*in, "2031", 0).ok());
  EXPECT_EQ(build_province_report(*in, "2031", 0).code(), Errc::not_found);
  // The renderers take it as it is.
  EXPECT_EQ(report_csv(*rep).substr(0, 3), "\xEF\xBB\xBF");
  EXPECT_NE(report_json(*rep).find("\"timeliness\":\"late\""), std::string::npos);
  EXPECT_NE(report_text(*rep).find("Tổng cộng 5 dòng: đúng hạn 1, trễ 1, chưa nộp 3"), std::string::npos) << report_text(*rep);
}

// Data written before an accept cleared review_comment: the report still carries the return's
// comment; the report shows what the current decision said (nothing), read from the review rows.
TEST(ProvinceReport, AnAcceptWithoutACommentShowsNoEarlierReturnComment) {
  Rows stale = programme();
  // r1 as tram-field wrote it before the fix: accepted, still carrying the return's comment.
  stale.add("progress_report", "r1", {{"unit_code", t("A")}, {"indicator", t("WATER")}, {"period", t("2026-H1")}, {"status", t("accepted")},
                                      {"recorded_on", d("2026-06-04")}, {"value", Value{95.0}}, {"progress", t("on_track")},
                                      {"review_comment", t("Bổ sung danh sách hộ")}});
  stale.add("progress_report", "r2", {{"unit_code", t("B")}, {"indicator", t("WATER")}, {"period", t("2026-H1")}, {"status", t("returned")},
                                      {"recorded_on", d("2026-06-04")}, {"value", Value{95.0}}, {"progress", t("on_track")},
                                      {"review_comment", t("Thiếu ảnh")}});
  for (const auto& [id, rep, unit, decision, comment, on] :
       std::vector<std::tuple<const char*, const char*, const char*, const char*, const char*, const char*>>{
           {"v1", "r1", "A", "returned", "Bổ sung danh sách hộ", "2026-06-08"},
           {"v2", "r1", "A", "accepted", "", "2026-06-09"},
           {"v3", "r2", "B", "returned", "Thiếu ảnh", "2026-06-08"}}) {
    Fields f = {{"report", t(rep)}, {"unit_code", t(unit)}, {"decision", t(decision)}, {"reviewer", t("Hương")}, {"reviewed_on", d(on)}};
    if (*comment) f["comment"] = t(comment);
    stale.add("review", id, std::move(f));
  }
  auto in2 = read_inputs(stale.source());
  ASSERT_TRUE(in2.ok());
  auto rep = build_province_report(*in2, "2026-H1", 0);
  ASSERT_TRUE(rep.ok());
  const ReportLine* accepted = line_of_report(*rep, "r1");
  const ReportLine* returned = line_of_report(*rep, "r2");
  ASSERT_NE(accepted, nullptr);
  ASSERT_NE(returned, nullptr);
  EXPECT_EQ(accepted->review_state, "accepted");
  EXPECT_EQ(accepted->review_comment, "");
  EXPECT_EQ(returned->review_comment, "Thiếu ảnh");
  EXPECT_EQ(report_csv(*rep).find("Bổ sung danh sách hộ"), std::string::npos);
}

TEST(ProvinceReport, TheDueViewJudgesByTheSameRule) {
  Rows rows = programme();
  report(rows, "r1", "A", "WATER", "returned", "2026-06-04");
  report(rows, "r2", "B", "WATER", "accepted", "2026-06-07");
  auto in = read_inputs(rows.source());
  ASSERT_TRUE(in.ok());
  const ReportPeriod* p = in->period("2026-H1");
  ASSERT_NE(p, nullptr);
  auto a = due_for_unit(*in, *p, "A", "2026-06-20");
  ASSERT_EQ(a.size(), 2u);  // WATER and the task; ROAD is the province's, not the commune's
  EXPECT_EQ(a[0].code, "WATER");
  EXPECT_EQ(a[0].state, "returned");
  EXPECT_FALSE(a[0].standing.behind());  // returned, but submitted on time
  EXPECT_EQ(a[1].kind, "task");
  EXPECT_EQ(a[1].state, "missing");
  EXPECT_TRUE(a[1].standing.overdue);
  auto b = due_for_unit(*in, *p, "B", "2026-06-01");
  EXPECT_EQ(b[0].standing.timeliness, Timeliness::late);
  EXPECT_FALSE(b[1].standing.overdue);  // not yet past the deadline
  // The report's lines agree with the due view.
  auto rep = build_province_report(*in, "2026-H1", 0);
  for (const ReportLine& l : rep->lines) {
    if (l.report_id == "r1") {
      EXPECT_EQ(l.timeliness, a[0].standing.timeliness);
    }
    if (l.report_id == "r2") {
      EXPECT_EQ(l.timeliness, b[0].standing.timeliness);
    }
  }
  EXPECT_EQ(current_period(*in, "2026-06-06")->code, "2026");
  EXPECT_EQ(current_period(*in, "2026-06-05")->code, "2026-H1");
}

TEST(ProvinceReport, ReceiptTimesCapAPhoneAhead) {
  Rows rows = programme();
  report(rows, "r1", "A", "WATER", "submitted", "2027-06-01");  // a phone a year ahead
  struct Receipts final : ReceiptTimes {
    Status stamp(std::vector<ReportRow>& reports) override {
      for (auto& r : reports) r.received_ms = 1780677000000;  // 2026-06-05 23:30 in Vietnam
      return {};
    }
  } receipts;
  auto in = read_inputs(rows.source(), &receipts);
  ASSERT_TRUE(in.ok());
  auto rep = build_province_report(*in, "2026-H1", 0);
  for (const ReportLine& l : rep->lines) {
    if (l.report_id == "r1") {
      EXPECT_EQ(l.timeliness, Timeliness::on_time);
    }
  }
  auto a = due_for_unit(*in, *in->period("2026-H1"), "A", "2026-06-20");
  EXPECT_TRUE(a[0].standing.capped);
  EXPECT_EQ(a[0].standing.counted_on, "2026-06-05");
}

// Half years and years from 2026 to 2029, a ward water target (> 96 % by 2028-12-31, units A
// and B), a plant (= 1 nhà máy by 2030-12-31, unit A) and a province-wide milestone due by the
// end of 2028.
Rows programme_over_years() {
  Rows r;
  for (int y = 2026; y <= 2029; ++y) {
    const std::string ys = std::to_string(y);
    auto date = [&](const char* md) { return d((ys + md).c_str()); };
    r.add("reporting_period", ys + "-H1", {{"kind", t("H1")}, {"year", Value{int64_t{y}}}, {"starts", date("-01-01")},
                                           {"ends", date("-06-30")}, {"unit_due", date("-06-05")}, {"finance_due", date("-06-10")}});
    r.add("reporting_period", ys, {{"kind", t("year")}, {"year", Value{int64_t{y}}}, {"starts", date("-01-01")},
                                   {"ends", date("-12-31")}, {"unit_due", date("-12-05")}, {"finance_due", date("-12-10")}});
  }
  r.add("unit", "A", {{"name", t("Tô Hiệu")}, {"type", t("phường")}});
  r.add("unit", "B", {{"name", t("Chiềng An")}, {"type", t("phường")}});
  r.add("task_group", "NV08", {{"number", Value{int64_t{8}}}, {"title", t("Môi trường")}});
  r.add("task", "NV08.04", {{"task_group", t("NV08")}, {"title", t("Cấp nước, nước thải")}});
  r.add("indicator", "WATER", {{"task", t("NV08.04")}, {"title", t("Cấp nước phường")}, {"kind", t("percent")}, {"comparator", t(">")},
                               {"target", Value{96.0}}, {"measure", t("%")}, {"start", d("2026-01-01")}, {"deadline", d("2028-12-31")},
                               {"applies_to", t("listed")}});
  r.add("indicator", "PLANT", {{"task", t("NV08.04")}, {"title", t("Nhà máy xử lý nước thải")}, {"kind", t("count")}, {"comparator", t("=")},
                               {"target", Value{1.0}}, {"measure", t("nhà máy")}, {"start", d("2026-01-01")}, {"deadline", d("2030-12-31")},
                               {"applies_to", t("listed")}});
  r.add("indicator", "ROUTE", {{"task", t("NV08.04")}, {"title", t("Tuyến đường")}, {"kind", t("milestone")}, {"comparator", t("none")},
                               {"deadline", d("2028-12-31")}, {"applies_to", t("province")}});
  r.add("indicator_unit", "WATER:A", {{"indicator", t("WATER")}, {"unit_code", t("A")}});
  r.add("indicator_unit", "WATER:B", {{"indicator", t("WATER")}, {"unit_code", t("B")}});
  r.add("indicator_unit", "PLANT:A", {{"indicator", t("PLANT")}, {"unit_code", t("A")}});
  return r;
}

void report_in(Rows& r, const std::string& id, const char* unit, const char* indicator, const char* period, std::optional<double> value,
               const char* measure = "", const char* progress = "on_track", const char* status = "submitted") {
  Fields f = {{"unit_code", t(unit)}, {"indicator", t(indicator)}, {"period", t(period)}, {"status", t(status)},
              {"recorded_on", d("2026-01-02")}, {"progress", t(progress)}};
  if (value) f["value"] = Value{*value};
  if (*measure) f["measure"] = t(measure);
  r.add("progress_report", id, std::move(f));
}

const ReportLine* line_of(const ProvinceReport& rep, const std::string& indicator, const std::string& unit) {
  for (const ReportLine& l : rep.lines) {
    if (l.indicator == indicator && l.unit_code == unit) return &l;
  }
  return nullptr;
}

TEST(TargetAtTheDeadline, BeforeItTheValueIsProgressNotAVerdict) {
  Rows rows = programme_over_years();
  report_in(rows, "a26", "A", "WATER", "2026-H1", 80);  // on schedule for 2028, far from 96 %
  report_in(rows, "p26", "A", "PLANT", "2026-H1", 0);   // the plant is due by 2030
  auto in = read_inputs(rows.source());
  ASSERT_TRUE(in.ok()) << in.status().to_string();
  auto rep = build_province_report(*in, "2026-H1", 0);
  ASSERT_TRUE(rep.ok());
  for (const char* ind : {"WATER", "PLANT"}) {
    const ReportLine* l = line_of(*rep, ind, "A");
    ASSERT_NE(l, nullptr) << ind;
    EXPECT_EQ(l->target_status, TargetStatus::not_due) << ind;
    EXPECT_EQ(l->meets_target, std::nullopt) << ind;  // not "Chưa đạt"
  }
  EXPECT_EQ(line_of(*rep, "WATER", "A")->progress, "on_track");  // the reported progress is shown
  // Lines without a report before the deadline are not yet due either.
  EXPECT_EQ(line_of(*rep, "WATER", "B")->target_status, TargetStatus::not_due);
  // The plant in every period up to 2030-H1 (here: to 2029) is never "Chưa đạt".
  for (const char* period : {"2026", "2027-H1", "2027", "2028-H1", "2028", "2029-H1", "2029"}) {
    report_in(rows, std::string("p") + period, "A", "PLANT", period, 0);
  }
  in = read_inputs(rows.source());
  for (const ReportPeriod& p : in->periods) {
    auto r = build_province_report(*in, p.code, 0);
    const ReportLine* l = line_of(*r, "PLANT", "A");
    ASSERT_NE(l, nullptr) << p.code;
    EXPECT_EQ(l->target_status, TargetStatus::not_due) << p.code;
  }
  // The renderers say so, in Vietnamese and in the JSON.
  const std::string csv = report_csv(*rep);
  EXPECT_NE(csv.find(",Chưa đến hạn,Đúng tiến độ,"), std::string::npos) << csv;
  EXPECT_EQ(csv.find("Chưa đạt"), std::string::npos) << csv;
  const std::string json = report_json(*rep);
  EXPECT_NE(json.find("\"meets_target\":null,\"target_status\":\"not_due\",\"target_measure\":\"%\",\"target_deadline\":\"2028-12-31\""),
            std::string::npos) << json;
  EXPECT_NE(json.find("\"targets\":{\"met\":0,\"not_met\":0,\"overdue\":0,"), std::string::npos) << json;
  const std::string text = report_text(*rep);
  EXPECT_NE(text.find("Chưa đến hạn"), std::string::npos) << text;
  EXPECT_EQ(text.find("Chưa đạt "), std::string::npos) << text;
}

// The 4-lane widening: the programme gives it no date (schema v3 lets an indicator have none), so
// no period judges it "not met"; reaching the target is "met" whenever it is reported.
TEST(TargetAtTheDeadline, WithoutADeadlineTheValueIsProgressUntilTheTargetIsReached) {
  Rows rows = programme_over_years();
  rows.add("indicator", "LANES", {{"task", t("NV08.04")}, {"title", t("Mở rộng 4 làn xe")}, {"kind", t("count")}, {"comparator", t("=")},
                                  {"target", Value{4.0}}, {"measure", t("làn xe")}, {"applies_to", t("province")}});
  report_in(rows, "l26", "A", "LANES", "2026", 2);
  report_in(rows, "l29", "A", "LANES", "2029", 4);
  auto in = read_inputs(rows.source());
  ASSERT_TRUE(in.ok()) << in.status().to_string();
  const Indicator& lanes = in->indicators.at("LANES");
  EXPECT_EQ(lanes.deadline, "");
  for (const ReportPeriod& p : in->periods) {
    EXPECT_EQ(deadline_phase(lanes, p), DeadlinePhase::no_deadline) << p.code;
    auto rep = build_province_report(*in, p.code, 0);
    ASSERT_TRUE(rep.ok()) << p.code;
    const ReportLine* l = line_of(*rep, "LANES", "");
    if (!l) l = line_of(*rep, "LANES", "A");
    ASSERT_NE(l, nullptr) << p.code;  // expected every period, once for the province
    EXPECT_NE(l->target_status, TargetStatus::not_met) << p.code;
    EXPECT_NE(l->target_status, TargetStatus::overdue) << p.code;
    EXPECT_EQ(l->target_deadline, "") << p.code;
    if (p.code == "2026") {
      EXPECT_EQ(l->target_status, TargetStatus::not_due);
      EXPECT_EQ(l->meets_target, std::nullopt);
    }
    if (p.code == "2029") {
      EXPECT_EQ(l->target_status, TargetStatus::met);
    }
  }
}

TEST(TargetAtTheDeadline, JudgedInThePeriodThatHoldsTheDeadline) {
  Rows rows = programme_over_years();
  report_in(rows, "a28", "A", "WATER", "2028", 97);
  report_in(rows, "b28", "B", "WATER", "2028", 90);
  report_in(rows, "b28h1", "B", "WATER", "2028-H1", 90);  // 2028-H1 ends before the deadline
  report_in(rows, "route28", "B", "ROUTE", "2028", std::nullopt, "", "at_risk");
  auto in = read_inputs(rows.source());
  ASSERT_TRUE(in.ok());
  auto h1 = build_province_report(*in, "2028-H1", 0);
  EXPECT_EQ(line_of(*h1, "WATER", "B")->target_status, TargetStatus::not_due);
  auto rep = build_province_report(*in, "2028", 0);
  ASSERT_TRUE(rep.ok());
  EXPECT_EQ(line_of(*rep, "WATER", "A")->target_status, TargetStatus::met);
  EXPECT_EQ(line_of(*rep, "WATER", "A")->meets_target, std::optional<bool>(true));
  EXPECT_EQ(line_of(*rep, "WATER", "B")->target_status, TargetStatus::not_met);
  EXPECT_EQ(line_of(*rep, "WATER", "B")->meets_target, std::optional<bool>(false));
  // A milestone is met when done; at risk at its deadline is not met.
  EXPECT_EQ(line_of(*rep, "ROUTE", "B")->target_status, TargetStatus::not_met);
  EXPECT_EQ(rep->summary.target_met, 1u);
  EXPECT_EQ(rep->summary.target_not_met, 2u);
  const std::string csv = report_csv(*rep);
  EXPECT_NE(csv.find(",Đạt,"), std::string::npos);
  EXPECT_NE(csv.find(",Chưa đạt,"), std::string::npos);
}

TEST(TargetAtTheDeadline, AfterItAMissedTargetStaysOnTheReportAsOverdue) {
  Rows rows = programme_over_years();
  report_in(rows, "a28", "A", "WATER", "2028", 97);  // met at the deadline
  report_in(rows, "b28", "B", "WATER", "2028", 90);  // missed
  report_in(rows, "route28", "B", "ROUTE", "2028", std::nullopt, "", "at_risk");
  auto in = read_inputs(rows.source());
  ASSERT_TRUE(in.ok());
  auto rep = build_province_report(*in, "2029-H1", 0);
  ASSERT_TRUE(rep.ok());
  // The met target leaves the report; the missed one stays, overdue (it used to drop out).
  EXPECT_EQ(line_of(*rep, "WATER", "A"), nullptr);
  const ReportLine* b = line_of(*rep, "WATER", "B");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->target_status, TargetStatus::overdue);
  EXPECT_EQ(b->timeliness, Timeliness::missing);
  const ReportLine* route = line_of(*rep, "ROUTE", "");
  ASSERT_NE(route, nullptr);
  EXPECT_EQ(route->unit_name, "Toàn tỉnh");
  EXPECT_EQ(route->target_status, TargetStatus::overdue);
  EXPECT_EQ(rep->summary.target_overdue, 2u);
  EXPECT_NE(report_csv(*rep).find(",Quá hạn,"), std::string::npos);
  EXPECT_NE(report_json(*rep).find("\"target_status\":\"overdue\""), std::string::npos);
  const std::string text = report_text(*rep);
  EXPECT_NE(text.find("Quá hạn, chưa đạt mục tiêu:\n"), std::string::npos) << text;
  EXPECT_NE(text.find("NV08 WATER (hạn 31/12/2028): B"), std::string::npos) << text;
  // The due view agrees: B still owes it, A does not.
  const ReportPeriod* p = in->period("2029-H1");
  auto due_b = due_for_unit(*in, *p, "B", "2029-01-10");
  ASSERT_EQ(due_b.size(), 1u);
  EXPECT_EQ(due_b[0].code, "WATER");
  EXPECT_EQ(due_b[0].target, TargetStatus::overdue);
  for (const DueItem& it : due_for_unit(*in, *p, "A", "2029-01-10")) EXPECT_NE(it.code, "WATER");
  // Reported late and reaching the target: met (and then it leaves the following periods).
  report_in(rows, "b29", "B", "WATER", "2029-H1", 97);
  report_in(rows, "route29", "A", "ROUTE", "2029-H1", std::nullopt, "", "done");
  in = read_inputs(rows.source());
  rep = build_province_report(*in, "2029-H1", 0);
  EXPECT_EQ(line_of(*rep, "WATER", "B")->target_status, TargetStatus::met);
  EXPECT_EQ(line_of(*rep, "ROUTE", "A")->target_status, TargetStatus::met);
  auto next = build_province_report(*in, "2029", 0);
  ASSERT_EQ(next->lines.size(), 1u) << report_text(*next);
  EXPECT_EQ(next->lines[0].indicator, "PLANT");  // due by 2030: not yet
  EXPECT_EQ(next->lines[0].target_status, TargetStatus::not_due);
  // An overdue line with a value that still misses the target: not met.
  Rows again = programme_over_years();
  report_in(again, "b28", "B", "WATER", "2028", 90);
  report_in(again, "b29", "B", "WATER", "2029", 93);
  in = read_inputs(again.source());
  rep = build_province_report(*in, "2029", 0);
  EXPECT_EQ(line_of(*rep, "WATER", "B")->target_status, TargetStatus::overdue);
  EXPECT_EQ(line_of(*rep, "WATER", "B")->meets_target, std::optional<bool>(false));
}

TEST(TargetAtTheDeadline, AValueInAnotherUnitIsNotJudged) {
  Rows rows = programme_over_years();
  report_in(rows, "a28", "A", "WATER", "2028", 126, "hộ");  // households, not the % the target counts
  report_in(rows, "b28", "B", "WATER", "2028", 97, " % ");  // the same unit, written loosely
  report_in(rows, "p26", "A", "PLANT", "2026-H1", 1, "Nhà máy");
  auto in = read_inputs(rows.source());
  ASSERT_TRUE(in.ok());
  auto rep = build_province_report(*in, "2028", 0);
  const ReportLine* a = line_of(*rep, "WATER", "A");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->target_status, TargetStatus::not_comparable);
  EXPECT_EQ(a->meets_target, std::nullopt);  // was "Đạt": 126 > 96
  EXPECT_EQ(a->measure, "hộ");
  EXPECT_EQ(a->target_measure, "%");
  EXPECT_EQ(line_of(*rep, "WATER", "B")->target_status, TargetStatus::met);
  EXPECT_EQ(rep->summary.not_comparable, 1u);
  const std::string csv = report_csv(*rep);
  EXPECT_NE(csv.find(",126,hộ,96,> 96%,Không so sánh được (khác đơn vị tính),"), std::string::npos) << csv;
  EXPECT_NE(report_json(*rep).find("\"target_status\":\"not_comparable\""), std::string::npos);
  EXPECT_NE(report_text(*rep).find("126 hộ  > 96%"), std::string::npos) << report_text(*rep);
  EXPECT_NE(report_text(*rep).find("Khác ĐVT"), std::string::npos);
  // Case and spacing of the unit do not make a value incomparable.
  auto h1 = build_province_report(*in, "2026-H1", 0);
  EXPECT_EQ(line_of(*h1, "PLANT", "A")->target_status, TargetStatus::not_due);
  // In the due view too.
  auto due = due_for_unit(*in, *in->period("2028"), "A", "2028-12-01");
  ASSERT_EQ(due.size(), 2u);
  EXPECT_EQ(due[0].code, "PLANT");
  EXPECT_EQ(due[0].target, TargetStatus::not_due);
  EXPECT_EQ(due[1].code, "WATER");
  EXPECT_EQ(due[1].target, TargetStatus::not_comparable);
}

// A device sees the indicator_unit rows of its own units only: an indicator whose rows are all
// another unit's looks, on that device, like one without rows.
// A yes_no indicator (schema v3, "100% xã, phường không có ma túy"): 4 units answer 1 or 0,
// due by the end of 2027; the province gets one share line, not a report.
Rows drug_free() {
  Rows r;
  for (const char* y : {"2026", "2027", "2028"}) {
    const std::string ys = y;
    r.add("reporting_period", ys, {{"kind", t("year")}, {"year", Value{int64_t{std::stoi(ys)}}}, {"starts", d((ys + "-01-01").c_str())},
                                   {"ends", d((ys + "-12-31").c_str())}, {"unit_due", d((ys + "-12-05").c_str())},
                                   {"finance_due", d((ys + "-12-10").c_str())}});
  }
  for (const char* u : {"A", "B", "C", "D"}) r.add("unit", u, {{"name", t(u)}, {"type", t("xã")}});
  r.add("task_group", "NV09", {{"number", Value{int64_t{9}}}, {"title", t("An ninh")}});
  r.add("task", "NV09.05", {{"task_group", t("NV09")}, {"title", t("Không ma túy")}});
  r.add("indicator", "DRUGFREE", {{"task", t("NV09.05")}, {"title", t("Tỷ lệ xã không có ma túy")}, {"kind", t("yes_no")}, {"comparator", t("=")},
                                  {"target", Value{100.0}}, {"measure", t("%")}, {"deadline", d("2027-12-31")},
                                  {"applies_to", t("all_communes_and_wards")}});
  return r;
}

TEST(YesNo, EachUnitAnswersAndTheProvinceLineIsTheShare) {
  Rows rows = drug_free();
  for (const char* u : {"A", "B", "C"}) report_in(rows, std::string("y26") + u, u, "DRUGFREE", "2026", 1);
  report_in(rows, "y26D", "D", "DRUGFREE", "2026", 0);
  for (const char* u : {"A", "B", "C"}) report_in(rows, std::string("y27") + u, u, "DRUGFREE", "2027", 1);
  report_in(rows, "y27D", "D", "DRUGFREE", "2027", 0);
  auto in = read_inputs(rows.source());
  ASSERT_TRUE(in.ok()) << in.status().to_string();

  // Before the deadline: progress, for the units and the share alike.
  auto before = build_province_report(*in, "2026", 0);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(line_of(*before, "DRUGFREE", "D")->target_status, TargetStatus::not_due);
  const ReportLine* share = line_of(*before, "DRUGFREE", "");
  ASSERT_NE(share, nullptr);
  EXPECT_TRUE(share->aggregate);
  EXPECT_EQ(share->value, std::optional<double>(75.0));
  EXPECT_EQ(share->target_status, TargetStatus::not_due);

  // At the deadline: 3 yes, 1 no -> 75 %, not met; D's own line not met, A's met.
  auto rep = build_province_report(*in, "2027", 0);
  ASSERT_TRUE(rep.ok());
  share = line_of(*rep, "DRUGFREE", "");
  ASSERT_NE(share, nullptr);
  EXPECT_TRUE(share->aggregate);
  EXPECT_EQ(share->unit_name, "Toàn tỉnh");
  EXPECT_EQ(share->measure, "%");
  EXPECT_EQ(share->value, std::optional<double>(75.0));
  EXPECT_EQ(share->target_status, TargetStatus::not_met);
  EXPECT_EQ(share->meets_target, std::optional<bool>(false));
  EXPECT_EQ(line_of(*rep, "DRUGFREE", "A")->target_status, TargetStatus::met);
  EXPECT_EQ(line_of(*rep, "DRUGFREE", "D")->target_status, TargetStatus::not_met);
  // Not a report: 5 lines, 4 of them reports (on time), the share counted apart.
  EXPECT_EQ(rep->lines.size(), 5u);
  EXPECT_EQ(rep->summary.lines, 5u);
  EXPECT_EQ(rep->summary.aggregate, 1u);
  EXPECT_EQ(rep->summary.on_time + rep->summary.late + rep->summary.missing, 4u);
  EXPECT_EQ(rep->summary.target_met, 3u);
  EXPECT_EQ(rep->summary.target_not_met, 1u);
  const std::string json = report_json(*rep);
  EXPECT_NE(json.find("\"timeliness\":null,\"aggregate\":true"), std::string::npos) << json;
  const std::string csv = report_csv(*rep);
  EXPECT_NE(csv.find(",Toàn tỉnh,75,%,100,= 100%,Chưa đạt,,Tổng hợp (không phải báo cáo),"), std::string::npos) << csv;
  EXPECT_NE(csv.find(",D,Xã D,Không,%,100,Có,Chưa đạt,"), std::string::npos) << csv;
  const std::string text = report_text(*rep);
  EXPECT_NE(text.find("Toàn tỉnh (tỷ lệ có)"), std::string::npos) << text;
  EXPECT_NE(text.find("1 dòng tỷ lệ toàn tỉnh"), std::string::npos) << text;
  EXPECT_EQ(text.find("Chưa nộp (không có báo cáo):"), std::string::npos) << text;

  // After it: D, still unreported, is overdue and so is the share (latest answers: 75 %).
  auto after = build_province_report(*in, "2028", 0);
  EXPECT_EQ(line_of(*after, "DRUGFREE", "A"), nullptr);
  EXPECT_EQ(line_of(*after, "DRUGFREE", "D")->target_status, TargetStatus::overdue);
  EXPECT_EQ(line_of(*after, "DRUGFREE", "")->target_status, TargetStatus::overdue);
  // The due view agrees with D's line.
  auto due_d = due_for_unit(*in, *in->period("2027"), "D", "2027-12-01");
  ASSERT_EQ(due_d.size(), 1u);
  EXPECT_EQ(due_d[0].target, TargetStatus::not_met);

  // D answers yes: every unit yes -> 100 %, met.
  report_in(rows, "y27D2", "D", "DRUGFREE", "2027", 1);
  in = read_inputs(rows.source());
  rep = build_province_report(*in, "2027", 0);
  EXPECT_EQ(line_of(*rep, "DRUGFREE", "")->value, std::optional<double>(100.0));
  EXPECT_EQ(line_of(*rep, "DRUGFREE", "")->target_status, TargetStatus::met);
  // A draft is not an answer yet.
  Rows drafts = drug_free();
  report_in(drafts, "d27A", "A", "DRUGFREE", "2027", 1, "", "on_track", "draft");
  in = read_inputs(drafts.source());
  EXPECT_EQ(line_of(*build_province_report(*in, "2027", 0), "DRUGFREE", "")->value, std::optional<double>(0.0));
}

TEST(ScopedReader, DoesNotExpectWhatItCannotSeeRowsFor) {
  Rows all = programme();
  all.add("indicator", "WARD", {{"task", t("NV08.01")}, {"title", t("Chỉ tiêu của phường")}, {"applies_to", t("listed")},
                                {"comparator", t(">")}, {"target", Value{50.0}}, {"measure", t("%")}, {"deadline", d("2030-12-31")}});
  all.add("indicator_unit", "WARD:B", {{"indicator", t("WARD")}, {"unit_code", t("B")}});
  // The server's view: WARD from B only; an indicator with no rows at all from every unit.
  all.add("indicator", "EVERY", {{"task", t("NV08.01")}, {"title", t("Mọi đơn vị")}, {"deadline", d("2030-12-31")}});
  auto server = read_inputs(all.source());
  ASSERT_TRUE(server.ok());
  const ReportPeriod& p = *server->period("2026-H1");
  auto codes = [](const std::vector<DueItem>& items) {
    std::set<std::string> out;
    for (const auto& it : items) out.insert(it.code);
    return out;
  };
  EXPECT_EQ(codes(due_for_unit(*server, p, "A", "2026-06-01")), (std::set<std::string>{"WATER", "EVERY", "NV08.02"}));
  EXPECT_EQ(codes(due_for_unit(*server, p, "B", "2026-06-01")), (std::set<std::string>{"WATER", "WARD", "EVERY", "NV08.02"}));
  auto rep = build_province_report(*server, "2026-H1", 0);
  EXPECT_EQ(rep->lines.size(), 8u);  // WATER ×2, ROAD, WARD from B, EVERY ×2, the task ×2

  // Commune A's phone: the same rows without B's indicator_unit rows.
  Rows phone;
  for (const char* table : {"reporting_period", "unit", "task_group", "task", "indicator", "indicator_unit", "progress_report"}) {
    ASSERT_TRUE(all.source()(table, [&](SourceRow&& r) {
                     if (std::string(table) == "indicator_unit" && std::get<Text>(r.fields["unit_code"]).s != "A") return;
                     phone.add(table, r.id, r.fields);
                   }).ok());
  }
  auto scoped = read_inputs(phone.source());
  ASSERT_TRUE(scoped.ok());
  scoped->all_units = false;
  EXPECT_EQ(codes(due_for_unit(*scoped, *scoped->period("2026-H1"), "A", "2026-06-01")), (std::set<std::string>{"WATER", "NV08.02"}));
  // Unscoped, the same rows would wrongly make A owe the ward's indicator (the bug).
  scoped->all_units = true;
  EXPECT_TRUE(codes(due_for_unit(*scoped, *scoped->period("2026-H1"), "A", "2026-06-01")).count("WARD"));
}

}  // namespace
}  // namespace tram::reporting
