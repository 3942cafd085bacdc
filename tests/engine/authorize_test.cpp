// Who may write what: scope, roles, constraints and the report workflow
// (draft -> submitted -> accepted | returned -> edited -> submitted), each allowed and refused.
#include "tram/engine/authorize.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "test_support.hpp"
#include "tram/engine/device_chain.hpp"
#include "tram/engine/reference_rows.hpp"
#include "tram/engine/schema_loader.hpp"
#include "tram/engine/seed.hpp"
#include "tram/engine/store.hpp"

namespace tram {
namespace {

using testing::must;
using testing::text;

class Authorize : public ::testing::Test {
 protected:
  Schema schema = must(load_schema_dir(std::string(TRAM_SCHEMAS_DIR) + "/sonla-2026"));
  std::unique_ptr<Store> store = must(Store::open(":memory:", schema));
  FakeClock wall{1'780'000'000'000};
  HybridClock clock{wall, 300'000};
  SeededRandom rng{5};
  DeviceChain device{DeviceKey::generate(rng), clock, "someone", schema.id, schema.version};
  Principal official{Role::official, {"03808"}, false, {}};        // Mường La commune
  Principal other_official{Role::official, {"03646"}, false, {}};  // Tô Hiệu ward
  Principal reviewer{Role::reviewer, {}, true, {}};
  Principal admin{Role::admin, {}, true, {}};

  uint32_t id(const char* field) { return schema.table("progress_report")->field(std::string_view(field))->id; }

  std::vector<FieldWrite> report(const char* unit, const char* status) {
    std::vector<FieldWrite> f = {{id("unit_code"), text(unit)},     {id("period"), text("2026-H1")},
                                 {id("value"), Value{42.0}},        {id("progress"), text("on_track")},
                                 {id("author"), text("Lò Văn Minh")}, {id("recorded_on"), Value{*Date::parse("2026-06-03")}},
                                 {id("status"), text(status)}};
    std::sort(f.begin(), f.end(), [](const FieldWrite& a, const FieldWrite& b) { return a.field < b.field; });
    return f;
  }
  ChangeSet cs(Op op) { return must(device.make({std::move(op)})).cs; }
  Op put(std::vector<FieldWrite> f, std::string row = "r1") {
    return Op{"progress_report", std::move(row), OpKind::put, std::move(f), {}};
  }
  Status check(const Principal& who, Op op) { return authorize(who, cs(std::move(op)), *store); }
  // Checks, then applies, as the server would.
  void accept(const Principal& who, Op op) {
    auto m = must(device.make({std::move(op)}));
    ASSERT_TRUE(authorize(who, m.cs, *store).ok()) << authorize(who, m.cs, *store).to_string();
    ApplyItem item{&m.cs, m.id, ClockTrust::trusted};
    ASSERT_TRUE(store->apply({&item, 1}).ok());
  }
  std::vector<FieldWrite> status(const char* s, std::vector<FieldWrite> more = {}) {
    more.push_back({id("status"), text(s)});
    std::sort(more.begin(), more.end(), [](const FieldWrite& a, const FieldWrite& b) { return a.field < b.field; });
    return more;
  }
};

TEST_F(Authorize, OfficialWritesOnlyInTheirUnits) {
  EXPECT_TRUE(check(official, put(report("03808", "draft"))).ok());
  Status st = check(official, put(report("03646", "draft")));
  EXPECT_EQ(st.code(), Errc::forbidden_scope);
  EXPECT_NE(st.message().find("03646"), std::string::npos);
  accept(official, put(report("03808", "draft")));
  // Another unit's official can neither edit nor delete it.
  EXPECT_EQ(check(other_official, put({{id("value"), Value{1.0}}})).code(), Errc::forbidden_scope);
  EXPECT_EQ(check(other_official, Op{"progress_report", "r1", OpKind::del, {}, {}}).code(), Errc::forbidden_scope);
  // Nor can a report be moved to another unit: the unit is immutable.
  EXPECT_NE(check(official, put({{id("unit_code"), text("03646")}})).code(), Errc::ok);
}

TEST_F(Authorize, ReadingFollowsScope) {
  accept(official, put(report("03808", "draft")));
  const RowState row = **store->get_row("progress_report", "r1");
  const TableDef& reports = *schema.table("progress_report");
  EXPECT_TRUE(may_read(official, reports, row));
  EXPECT_FALSE(may_read(other_official, reports, row));
  EXPECT_TRUE(may_read(reviewer, reports, row));
  // Province-wide reference rows are read by everyone; per-unit applicability only in scope.
  accept(admin, Op{"unit", "03808", OpKind::put, {{1, text("03808")}, {2, text("Mường La")}, {3, text("xã")}}, {}});
  EXPECT_TRUE(may_read(other_official, *schema.table("unit"), **store->get_row("unit", "03808")));
  accept(admin, Op{"indicator_unit", "CT-X:03808", OpKind::put, {{1, text("CT-X")}, {2, text("03808")}}, {}});
  const RowState applies = **store->get_row("indicator_unit", "CT-X:03808");
  EXPECT_TRUE(may_read(official, *schema.table("indicator_unit"), applies));
  EXPECT_FALSE(may_read(other_official, *schema.table("indicator_unit"), applies));
}

TEST_F(Authorize, RolesAndFields) {
  // Officials do not write reference data; administrators do.
  Op unit{"unit", "03808", OpKind::put, {{1, text("03808")}, {2, text("Mường La")}, {3, text("xã")}}, {}};
  EXPECT_EQ(check(official, unit).code(), Errc::forbidden_role);
  EXPECT_TRUE(check(admin, unit).ok());
  // Officials do not write the reviewer's fields; reviewers do not create reports.
  auto f = report("03808", "draft");
  f.push_back({id("review_comment"), text("tự duyệt")});
  std::sort(f.begin(), f.end(), [](const FieldWrite& a, const FieldWrite& b) { return a.field < b.field; });
  EXPECT_EQ(check(official, put(f)).code(), Errc::forbidden_role);
  EXPECT_EQ(check(reviewer, put(report("03808", "draft"))).code(), Errc::forbidden_role);
}

TEST_F(Authorize, ValuesAreCheckedAgainstTheSchema) {
  auto f = report("03808", "draft");
  f.erase(std::find_if(f.begin(), f.end(), [&](const FieldWrite& w) { return w.field == id("author"); }));
  Status st = check(official, put(f));
  EXPECT_EQ(st.code(), Errc::invalid_value);
  EXPECT_NE(st.message().find("progress_report/r1/author: required"), std::string::npos) << st.message();
  auto g = report("03808", "draft");
  for (auto& w : g) {
    if (w.field == id("value")) w.value = Value{-5.0};
  }
  st = check(official, put(g));
  // Not the schema's bare "min 0.000000 (got -5.000000)": the official's words (§9.1).
  EXPECT_EQ(st.code(), Errc::invalid_value);
  EXPECT_EQ(st.message(), "Kết quả: không được là số âm (đã nhập -5)");
}

// ---- the value against its indicator's range (docs/schema-format.md §9.1) ------------------

class IndicatorValues : public Authorize {
 protected:
  // An indicator row as an administrator writes it (field ids of sonla-2026 v2's indicator).
  void indicator(const std::string& code, const std::string& kind, const std::optional<std::string>& measure) {
    std::vector<FieldWrite> f = {{1, text(code)}, {3, text("Chỉ tiêu thử")}, {4, text(kind)}, {5, text("none")}};
    if (measure) f.push_back({8, text(*measure)});
    f.push_back({10, Value{*Date::parse("2030-12-31")}});
    f.push_back({11, text("province")});
    accept(admin, Op{"indicator", code, OpKind::put, std::move(f), {}});
  }
  // A new report of Mường La on `code` with `value` (and the report's own measure).
  Op on(const std::string& code, double value, const std::optional<std::string>& measure = std::nullopt, std::string row = "r1") {
    auto f = report("03808", "draft");
    for (auto& w : f) {
      if (w.field == id("value")) w.value = Value{value};
    }
    f.push_back({id("indicator"), text(code)});
    if (measure) f.push_back({id("measure"), text(*measure)});
    std::sort(f.begin(), f.end(), [](const FieldWrite& a, const FieldWrite& b) { return a.field < b.field; });
    return put(std::move(f), std::move(row));
  }
};

TEST_F(IndicatorValues, PercentCountAndNoMeasure) {
  indicator("CT-PT", "percent", "%");
  indicator("CT-HO", "count", "hộ");
  indicator("CT-MOC", "milestone", std::nullopt);
  Status st = check(official, on("CT-PT", 150));
  EXPECT_EQ(st.code(), Errc::invalid_value);
  EXPECT_EQ(st.message(), "Kết quả: tỷ lệ phần trăm phải từ 0 đến 100 (đã nhập 150)");
  EXPECT_TRUE(check(official, on("CT-PT", 100)).ok());
  st = check(official, on("CT-HO", 2.5));
  EXPECT_EQ(st.code(), Errc::invalid_value);
  EXPECT_EQ(st.message(), "Kết quả: số lượng (hộ) phải là số nguyên, không âm (đã nhập 2,5)");
  EXPECT_TRUE(check(official, on("CT-HO", 126)).ok());
  st = check(official, on("CT-MOC", -5));
  EXPECT_EQ(st.code(), Errc::invalid_value);
  EXPECT_EQ(st.message(), "Kết quả: không được là số âm (đã nhập -5)");
  EXPECT_TRUE(check(official, on("CT-MOC", 0.5)).ok());  // an indicator with no measure
  EXPECT_TRUE(check(official, on("CT-NONE", 7.25)).ok());  // an indicator this replica does not hold
}

// The server's writer authorizes a group of change sets through ReferenceRows: reference rows
// read once per transaction. What a change set of the group writes is read afresh after it.
TEST_F(IndicatorValues, ReferenceRowsRememberedUntilAChangeSetWritesThem) {
  indicator("CT-PT", "count", "hộ");
  ReferenceRows rows(*store);
  EXPECT_EQ(authorize(official, cs(on("CT-PT", 150)), rows).code(), Errc::ok);  // 150 households
  // The administrator makes it a percentage, in the same transaction: 150 is now out of range.
  auto m = must(device.make({Op{"indicator", "CT-PT", OpKind::put, {{4, text("percent")}, {8, text("%")}}, {}}}));
  ASSERT_TRUE(authorize(admin, m.cs, rows).ok());
  ApplyItem item{&m.cs, m.id, ClockTrust::trusted};
  ASSERT_TRUE(store->apply({&item, 1}).ok());
  // Not yet forgotten: the remembered row (this is what forget() is for).
  EXPECT_EQ(authorize(official, cs(on("CT-PT", 150)), rows).code(), Errc::ok);
  rows.forget(m.cs);
  Status st = authorize(official, cs(on("CT-PT", 150)), rows);
  EXPECT_EQ(st.code(), Errc::invalid_value);
  EXPECT_EQ(st.message(), "Kết quả: tỷ lệ phần trăm phải từ 0 đến 100 (đã nhập 150)");
  // Rows of other tables are read through, never remembered: a report accepted after a first
  // check is then an update (the official may not change its immutable unit).
  EXPECT_TRUE(authorize(official, cs(on("CT-PT", 50, std::nullopt, "r9")), rows).ok());
  accept(official, on("CT-PT", 50, std::nullopt, "r9"));
  auto moved = put({{id("unit_code"), text("03646")}}, "r9");
  EXPECT_NE(authorize(official, cs(std::move(moved)), rows).code(), Errc::ok);
  // The rows read are the store's own.
  const TableDef& ind = *schema.table("indicator");
  const RowState now = **rows.get_row("indicator", "CT-PT");
  for (size_t k = 0; k < ind.fields.size(); ++k) {
    if (ind.fields[k].name == "kind") {
      EXPECT_EQ(now.fields[k].value, text("percent"));
    }
  }
  EXPECT_FALSE(rows.get_row("indicator", "CT-NONE")->has_value());
}

// The seed's own indicators, as the server holds them after `tram-server seed`.
TEST_F(IndicatorValues, TheSeedIndicators) {
  auto ops = must(load_seed_rows(std::string(TRAM_SCHEMAS_DIR) + "/sonla-2026/seed/rows", schema));
  for (auto& op : ops) {
    if (op.table == "indicator") accept(admin, std::move(op));
  }
  EXPECT_FALSE(check(official, on("CT-CAPNUOC-XA", 150)).ok());                 // %
  EXPECT_TRUE(check(official, on("CT-CAPNUOC-XA", 78.5)).ok());
  EXPECT_FALSE(check(official, on("CT-BACSI-TRAMYTE", 2.5)).ok());              // bác sĩ/trạm
  EXPECT_TRUE(check(official, on("CT-BACSI-TRAMYTE", 2)).ok());
  EXPECT_TRUE(check(official, on("CT-SANBAY-NASAN", 0.75)).ok());               // a milestone: no measure
  EXPECT_TRUE(check(official, on("CT-CAPNUOC-XA", 126, "hộ")).ok());           // its own unit: not 0-100
}

// A yes_no indicator (schema v3): each unit answers 1 or 0, whatever the measure says ("%" is
// the province share, so 0.75 or 50 must not pass as a percentage).
TEST_F(IndicatorValues, YesNoTakesOnlyOneOrZero) {
  indicator("CT-CN", "yes_no", "%");
  EXPECT_TRUE(check(official, on("CT-CN", 1)).ok());
  EXPECT_TRUE(check(official, on("CT-CN", 0)).ok());
  Status st = check(official, on("CT-CN", 50));
  EXPECT_EQ(st.code(), Errc::invalid_value);
  EXPECT_EQ(st.message(), "Kết quả: chỉ nhập 1 (có) hoặc 0 (không) (đã nhập 50)");
  EXPECT_FALSE(check(official, on("CT-CN", 0.5)).ok());
  EXPECT_FALSE(check(official, on("CT-CN", 100, "%")).ok());  // the report's own "%" changes nothing
  const auto p = check_value_range(indicator_value_range("yes_no", "%", ""), 2);
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->rule, "yes_no");
  EXPECT_EQ(p->en, "enter only 1 (yes) or 0 (no) (entered 2)");
  // The seed's drug-free indicator is yes_no.
  auto ops = must(load_seed_rows(std::string(TRAM_SCHEMAS_DIR) + "/sonla-2026/seed/rows", schema));
  for (auto& op : ops) {
    if (op.table == "indicator") accept(admin, std::move(op));
  }
  EXPECT_TRUE(check(official, on("CT-KHONGMATUY-XAPHUONG", 1, std::nullopt, "r2")).ok());
  EXPECT_FALSE(check(official, on("CT-KHONGMATUY-XAPHUONG", 75, std::nullopt, "r3")).ok());
}

// An edit is judged on the row after it: a new indicator for a stored value, a new value for a
// stored indicator; an edit that touches neither is not judged again.
TEST_F(IndicatorValues, EditsAreJudgedOnTheRowAfterThem) {
  indicator("CT-PT", "percent", "%");
  indicator("CT-HO", "count", "hộ");
  accept(official, on("CT-HO", 150));
  EXPECT_EQ(check(official, put({{id("indicator"), text("CT-PT")}})).code(), Errc::invalid_value);
  EXPECT_EQ(check(official, put({{id("value"), Value{2.5}}})).code(), Errc::invalid_value);
  EXPECT_TRUE(check(official, put({{id("value"), Value{3.0}}})).ok());
  EXPECT_TRUE(check(official, put({{id("narrative"), text("Thêm 24 hộ")}})).ok());
}

// tests/golden/indicator-values.json: the same vectors web/test/unit/schema.test.mjs checks.
TEST_F(IndicatorValues, TheSharedVectors) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ASSERT_FALSE(parser.load(std::string(TRAM_GOLDEN_DIR) + "/indicator-values.json").get(root));
  int n = 0;
  for (simdjson::dom::element v : root["vectors"].get_array()) {
    const std::string name(std::string_view(v["name"].get_string().value()));
    SCOPED_TRACE(name);
    const double value = v["value"].get_double().value();
    std::string kind, measure, report_measure;
    std::optional<std::string> row_measure;
    const bool has_indicator = !v["indicator"].is_null();
    if (has_indicator) {
      kind = std::string(std::string_view(v["indicator"]["kind"].get_string().value()));
      std::string_view m;
      if (!v["indicator"]["measure"].get_string().get(m)) row_measure = measure = std::string(m);
    }
    std::optional<std::string> rm;
    std::string_view m;
    if (!v["report_measure"].get_string().get(m)) rm = report_measure = std::string(m);
    // The pure rule.
    const auto problem = check_value_range(indicator_value_range(kind, measure, report_measure), value);
    simdjson::dom::element expect = v["expect"].value();
    // Through authorize(), with the indicator row in the store.
    const std::string code = "CT-V" + std::to_string(n++);
    if (has_indicator) indicator(code, kind, row_measure);
    const Status st = check(official, on(code, value, rm, "v" + std::to_string(n)));
    if (expect.is_null()) {
      EXPECT_FALSE(problem.has_value()) << problem->vi;
      EXPECT_TRUE(st.ok()) << st.to_string();
      continue;
    }
    ASSERT_TRUE(problem.has_value());
    EXPECT_EQ(problem->rule, std::string_view(expect["rule"].get_string().value()));
    EXPECT_EQ(problem->vi, std::string_view(expect["vi"].get_string().value()));
    EXPECT_EQ(problem->en, std::string_view(expect["en"].get_string().value()));
    EXPECT_EQ(st.code(), Errc::invalid_value);
    EXPECT_EQ(st.message(), "Kết quả: " + std::string(std::string_view(expect["vi"].get_string().value())));
  }
  EXPECT_GE(n, 15);
}

TEST_F(Authorize, TheReportWorkflow) {
  // A report starts as a draft (or is submitted at once); it cannot start accepted.
  EXPECT_EQ(check(official, put(report("03808", "accepted"))).code(), Errc::workflow_violation);
  EXPECT_TRUE(check(official, put(report("03808", "submitted"))).ok());
  accept(official, put(report("03808", "draft")));
  // Drafts are edited freely by their unit's officials (not by reviewers), then submitted.
  EXPECT_EQ(check(reviewer, put({{id("review_comment"), text("sớm quá")}})).code(), Errc::workflow_violation);
  accept(official, put({{id("narrative"), text("Đã lắp đặt 12 bể nước")}}));
  accept(official, put(status("submitted")));
  // Submitted: the official waits; only a reviewer decides.
  EXPECT_EQ(check(official, put({{id("value"), Value{50.0}}})).code(), Errc::workflow_violation);
  EXPECT_EQ(check(official, put(status("accepted"))).code(), Errc::workflow_violation);
  // Returning needs a comment.
  EXPECT_EQ(check(reviewer, put(status("returned"))).code(), Errc::workflow_violation);
  accept(reviewer, put(status("returned", {{id("review_comment"), text("Bổ sung ảnh minh chứng")}})));
  // Returned: the official edits and resubmits.
  accept(official, put({{id("value"), Value{55.0}}}));
  EXPECT_EQ(check(official, put(status("draft"))).code(), Errc::workflow_violation);  // no such transition
  accept(official, put(status("submitted")));
  accept(reviewer, put(status("accepted", {{id("reviewed_by"), text("Sở Tài chính")}})));
  // Accepted reports are locked, for everyone.
  Status st = check(official, put({{id("value"), Value{60.0}}}));
  EXPECT_EQ(st.code(), Errc::workflow_violation);
  EXPECT_NE(st.message().find("locked"), std::string::npos);
  EXPECT_EQ(check(reviewer, put(status("returned", {{id("review_comment"), text("x")}}))).code(), Errc::workflow_violation);
  EXPECT_EQ(check(official, Op{"progress_report", "r1", OpKind::del, {}, {}}).code(), Errc::workflow_violation);
}

// A tombstone keeps its unit and its immutable fields: every rule that asked "does the row
// exist?" treats a deleted row as existing for scope and immutability (issue 11 §2).
TEST_F(Authorize, ADeletedRowStaysInItsUnit) {
  accept(official, put(report("03808", "draft")));
  accept(official, Op{"progress_report", "r1", OpKind::del, {}, {}});
  EXPECT_EQ(check(other_official, put(report("03646", "draft"))).code(), Errc::forbidden_scope);
  EXPECT_EQ(check(other_official, put({{id("value"), Value{1.0}}})).code(), Errc::forbidden_scope);
  EXPECT_EQ(check(other_official, Op{"progress_report", "r1", OpKind::del, {}, {}}).code(), Errc::forbidden_scope);
  // Not even a province-wide principal moves a row to another unit.
  EXPECT_FALSE(check(admin, put(report("03646", "draft"))).ok());
  // Its own unit re-creates it.
  EXPECT_TRUE(check(official, put(report("03808", "draft"))).ok());
}

TEST_F(Authorize, DeletingARowThatNeverExistedIsRefused) {
  EXPECT_EQ(check(official, Op{"progress_report", "ghost", OpKind::del, {}, {}}).code(), Errc::not_found);
}

// A user with a registered name writes records only under it (issue 11 §5); without one, the
// author field is not checked.
TEST_F(Authorize, TheAuthorFieldCarriesTheRegisteredName) {
  Principal named{Role::official, {"03808"}, false, "Lò Văn Minh"};
  EXPECT_TRUE(check(named, put(report("03808", "draft"))).ok());  // report() writes "Lò Văn Minh"
  Principal other{Role::official, {"03808"}, false, "Cầm Thị Hoa"};
  EXPECT_EQ(check(other, put(report("03808", "draft"))).code(), Errc::author_mismatch);
  // An edit that does not touch the author is not affected.
  accept(named, put(report("03808", "draft")));
  EXPECT_TRUE(check(other, put({{id("value"), Value{50.0}}})).ok());
  EXPECT_TRUE(check(official, put(report("03808", "draft"), "r2")).ok());
}

}  // namespace
}  // namespace tram
