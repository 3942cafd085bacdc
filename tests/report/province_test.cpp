// The province report and the due view from the same rows (report/include/tram/report/
// province.hpp): what is expected, and that both judge a report by the one rule.
#include "tram/report/province.hpp"

#include <gtest/gtest.h>

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
      EXPECT_EQ(l.meets_target, std::optional<bool>(false));
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

}  // namespace
}  // namespace tram::reporting
