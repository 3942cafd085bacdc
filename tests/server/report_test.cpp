// The province report against the real server: officials push reports (one on the due date,
// one a day late, one left as a draft), a reviewer accepts one and returns another, then
// `tram-server report` and GET /v1/admin/report produce CSV, XLSX and JSON that are read back.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "../support/scratch.hpp"
#include "harness.hpp"

namespace tram::testing {
namespace {

namespace dom = simdjson::dom;

Value text(const char* s) {
  return Value{Text{s}};
}

// A progress report for 2026-H1 (schema sonla-2026 v2 field ids).
std::vector<FieldWrite> report(const char* unit, const char* indicator, double value,
                               const char* recorded_on, const char* status,
                               const char* difficulties = "", const char* proposals = "") {
  std::vector<FieldWrite> f = {{1, text(unit)},
                               {2, text(indicator)},
                               {4, text("2026-H1")},
                               {5, Value{value}},
                               {6, text("on_track")},
                               {11, text("Lò Văn Minh")},
                               {12, Value{*Date::parse(recorded_on)}},
                               {13, text(status)}};
  if (*difficulties) f.push_back({8, text(difficulties)});
  if (*proposals) f.push_back({9, text(proposals)});
  std::sort(f.begin(), f.end(), [](const FieldWrite& a, const FieldWrite& b) {
    return a.field < b.field;
  });  // wire order
  return f;
}
Op put(std::string row, std::vector<FieldWrite> f, std::vector<FieldBase> b = {}) {
  return Op{"progress_report", std::move(row), OpKind::put, std::move(f), std::move(b)};
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string shell(const std::string& cmd) { return run_shell(cmd, Stderr::as_is).out; }

// RFC 4180: quoted fields may hold commas, quotes ("") and line breaks; records end in CRLF.
std::vector<std::vector<std::string>> parse_csv(std::string_view s) {
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quoted) {
      if (c == '"' && i + 1 < s.size() && s[i + 1] == '"')
        field += s[++i];
      else if (c == '"')
        quoted = false;
      else
        field += c;
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().push_back(std::move(field));
      field.clear();
    } else if (c == '\r' && i + 1 < s.size() && s[i + 1] == '\n') {
      rows.back().push_back(std::move(field));
      field.clear();
      rows.emplace_back();
      ++i;
    } else {
      field += c;
    }
  }
  if (rows.back().empty()) rows.pop_back();
  return rows;
}

const std::vector<std::string> kHeadings = {"Mã nhóm",
                                            "Nhóm nhiệm vụ",
                                            "Mã chỉ tiêu",
                                            "Chỉ tiêu",
                                            "Mã đơn vị",
                                            "Đơn vị",
                                            "Giá trị",
                                            "Đơn vị tính",
                                            "Mục tiêu",
                                            "Yêu cầu",
                                            "Đạt mục tiêu",
                                            "Tiến độ",
                                            "Đúng hạn / Trễ / Chưa nộp",
                                            "Ngày ghi nhận",
                                            "Máy chủ nhận lúc",
                                            "Tính hạn từ",
                                            "Ghi chú thời gian",
                                            "Khó khăn",
                                            "Đề xuất",
                                            "Trạng thái duyệt",
                                            "Ý kiến thẩm định",
                                            "Người báo cáo",
                                            "Mã báo cáo"};
size_t col(const std::string& heading) {
  return static_cast<size_t>(std::find(kHeadings.begin(), kHeadings.end(), heading) -
                             kHeadings.begin());
}

constexpr int64_t kDueDay10am = 1'780'628'400'000;  // 2026-06-05 03:00 UTC

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = scratch_dir("tram-report", ::testing::UnitTest::GetInstance()->current_test_info()->name()) + "/data";  // kept when the test fails
    ASSERT_EQ(run_cli({"seed", "--data", data_}).first, 0);
    ASSERT_EQ(run_cli({"admin", "create-user", "--data", data_, "--id", "minh", "--role",
                       "official", "--units", "03808"})
                  .first,
              0);
    ASSERT_EQ(run_cli({"admin", "create-user", "--data", data_, "--id", "an", "--role", "official",
                       "--units", "03646"})
                  .first,
              0);
    ASSERT_EQ(run_cli({"admin", "create-user", "--data", data_, "--id", "tai-chinh", "--role",
                       "reviewer", "--all-units"})
                  .first,
              0);
    server_ = std::make_unique<ServerProcess>(data_);
  }
  std::unique_ptr<TestDevice> device(const char* user, uint64_t seed) {
    auto [rc, out] = run_cli({"admin", "enrol-code", "--data", data_, "--user", user});
    EXPECT_EQ(rc, 0) << out;
    auto d =
        std::make_unique<TestDevice>(server_->port(), out.substr(0, out.find('\n')), user, seed);
    EXPECT_TRUE(d->enrolled()) << d->enrol_body();
    return d;
  }
  static std::string status_of(const HttpResponse& r) {
    dom::parser p;
    std::string_view s;
    if (p.parse(r.body)["results"].at(0)["status"].get_string().get(s)) return "?" + r.body;
    return std::string(s);
  }
  // Mường La's report on the due date (on time), Tô Hiệu's a day late, Tô Hiệu's draft; the
  // reviewer accepts the first and returns the second.
  void push_reports() {
    auto minh = device("minh", 1);
    auto an = device("an", 2);
    auto reviewer = device("tai-chinh", 3);
    // The submissions' own times (their signed clocks), 10:00 in Sơn La: Mường La on the due
    // day, Tô Hiệu the day after; the server receives both today, so Mường La's was made offline
    // before the deadline and synced after (timeliness.hpp rule 2).
    minh->wall().set(kDueDay10am);
    an->wall().set(kDueDay10am + 86'400'000);
    ASSERT_EQ(
        status_of(minh->push(
            {minh->make({put("r-muong-la",
                             report("03808", "CT-CAPNUOC-XA", 78.5, "2026-06-05", "submitted",
                                    "Các bản vùng cao ở xa nguồn nước, mùa khô thiếu nước.",
                                    "Đề nghị bố trí vốn \"sửa chữa\" công trình, bản Pá Ngà."))})
                 .signed_cs})),
        "accepted");
    ASSERT_EQ(
        status_of(an->push({an->make({put("r-to-hieu", report("03646", "CT-CAPNUOC-PHUONG", 97,
                                                              "2026-06-01", "submitted"))})
                                .signed_cs})),
        "accepted");
    ASSERT_EQ(status_of(an->push({an->make({put("r-draft", report("03646", "CT-BACSI-TRAMYTE", 1,
                                                                  "2026-06-02", "draft"))})
                                      .signed_cs})),
              "accepted");
    auto review = [&](const char* row, std::vector<FieldWrite> f) {
      std::vector<uint32_t> ids;
      for (const auto& w : f) ids.push_back(w.field);
      return status_of(reviewer->push(
          {reviewer->make({put(row, f, reviewer->bases("progress_report", row, ids))}).signed_cs}));
    };
    ASSERT_EQ(review("r-muong-la", {{13, text("accepted")}, {15, text("Nguyễn Thị Hương")}}),
              "accepted");
    ASSERT_EQ(review("r-to-hieu", {{13, text("returned")},
                                   {14, text("Đề nghị bổ sung danh sách hộ được cấp nước.")}}),
              "accepted");
  }
  std::string admin_token() {
    auto out = run_cli({"admin", "token", "--data", data_}).second;
    return out.substr(0, out.find('\n'));
  }
  HttpResponse admin_get(const std::string& target) {
    return http(server_->port(), "GET", target, "", {"Authorization: Bearer " + admin_token()});
  }

  std::string data_;
  std::unique_ptr<ServerProcess> server_;
};

// What 2026-H1 owes, counted here from the programme's own extraction
// (schemas/sonla-2026/seed/programme.json) and the list of units, not from the report library:
// an indicator active in the period is owed by each unit it lists, once by the province
// (scope "province": by the departments task-reporters.csv names for its task, else once), or by
// every commune and ward ("all_communes_and_wards"); a task is owed by each unit its `units`
// names and each reporter task-reporters.csv gives it. (182 + 7 + 21 + 68 = 278 lines today.)
// A yes_no indicator (kind in programme.json) adds one share line for the province ("Toàn
// tỉnh", not a report: never missing), counted in `lines` and `shares` (province.hpp).
// Three lines carry a report below: the draft stands in for its unit's line but is still missing.
struct Owed {
  size_t lines = 0, province = 0, ward_water = 0, shares = 0;
  size_t reports() const { return lines - shares; }  // the lines that are (or await) a report
};
Owed owed_2026h1() {
  const std::string seed = std::string(TRAM_SCHEMAS_DIR) + "/sonla-2026/seed/";
  std::ifstream units_csv(seed + "sonla-units-2025.csv");
  size_t all_units = 0;
  for (std::string line; std::getline(units_csv, line);) all_units += !line.empty();
  all_units -= 1;  // the heading
  dom::parser p;
  dom::element prog = p.load(seed + "programme.json");
  auto text = [](dom::element e, const char* key) {
    std::string_view v;
    return e[key].get_string().get(v) ? std::string() : std::string(v);
  };
  std::map<std::string, std::set<std::string>> reporters;  // task -> its reporters
  std::ifstream reporters_csv(seed + "task-reporters.csv");
  std::string line;
  std::getline(reporters_csv, line);  // the heading
  while (std::getline(reporters_csv, line)) {
    if (const size_t comma = line.find(','); comma != std::string::npos) reporters[line.substr(0, comma)].insert(line.substr(comma + 1));
  }
  Owed o;
  for (dom::element i : prog["indicators"].get_array()) {
    const std::string start = text(i, "start"), deadline = text(i, "deadline"), scope = text(i, "scope");
    if ((!start.empty() && start > "2026-06-30") || (!deadline.empty() && deadline < "2026-01-01")) continue;
    const size_t listed = i["units"].get_array().size();
    const size_t by_task = reporters[text(i, "task")].size();
    const size_t n = listed ? listed : scope == "province" ? std::max<size_t>(by_task, 1) : all_units;
    o.lines += n;
    if (!listed && scope == "province" && by_task == 0) ++o.province;  // "Toàn tỉnh": nobody named
    if (text(i, "code") == "CT-CAPNUOC-PHUONG") o.ward_water = n;
    if (text(i, "kind") == "yes_no" && scope != "province") {
      ++o.lines;
      ++o.shares;
      ++o.province;
    }
  }
  for (dom::element t : prog["tasks"].get_array()) {
    const std::string deadline = text(t, "deadline");
    if (!deadline.empty() && deadline < "2026-01-01") continue;
    std::set<std::string> who = reporters[text(t, "code")];
    for (dom::element u : t["units"].get_array()) who.insert(std::string(u.get_string().value()));
    o.lines += who.size();
  }
  return o;
}
const size_t kLines = owed_2026h1().lines;
const size_t kShares = owed_2026h1().shares;

TEST_F(ReportTest, CliWritesCsvAndXlsxAndPrintsATable) {
  push_reports();
  const std::string csv = data_ + "/bao-cao.csv", xlsx = data_ + "/bao-cao.xlsx";
  auto [rc, out] =
      run_cli({"report", "--data", data_, "--period", "2026-H1", "--csv", csv, "--xlsx", xlsx});
  ASSERT_EQ(rc, 0) << out;

  // The table on stdout.
  EXPECT_NE(out.find("Báo cáo tổng hợp kỳ 2026-H1 (01/01/2026 – 30/06/2026)"), std::string::npos)
      << out;
  EXPECT_NE(out.find("Hạn xã, phường, sở ngành báo cáo: 05/06/2026"), std::string::npos);
  EXPECT_NE(out.find("03808 Xã Mường La"), std::string::npos);
  EXPECT_NE(out.find("Chưa nộp (không có báo cáo):"), std::string::npos);
  EXPECT_NE(out.find("NV06 CT-CAOTOC-CT03: 1 đơn vị — SXD"), std::string::npos) << out;  // Sở Xây dựng's task
  EXPECT_NE(out.find("Tổng cộng " + std::to_string(kLines) + " dòng: đúng hạn 1, trễ 1, chưa nộp " +
                     std::to_string(kLines - kShares - 2) + " (trong đó 1 bản nháp)" +
                     (kShares ? "; " + std::to_string(kShares) + " dòng tỷ lệ toàn tỉnh" : std::string("."))),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("CSV: " + csv), std::string::npos);

  // CSV: BOM, CRLF, the Vietnamese headings, one record per line.
  const std::string bytes = read_file(csv);
  ASSERT_GT(bytes.size(), 3u);
  EXPECT_EQ(bytes.substr(0, 3), "\xEF\xBB\xBF");
  EXPECT_NE(bytes.find("\r\n"), std::string::npos);
  const auto rows = parse_csv(std::string_view(bytes).substr(3));
  ASSERT_EQ(rows.size(), kLines + 1);
  EXPECT_EQ(rows[0], kHeadings);
  std::map<std::string, std::vector<std::string>> by_report;
  size_t missing = 0, ward_water_missing = 0, province_lines = 0;
  for (size_t k = 1; k < rows.size(); ++k) {
    ASSERT_EQ(rows[k].size(), kHeadings.size()) << k;
    if (!rows[k][col("Mã báo cáo")].empty()) by_report[rows[k][col("Mã báo cáo")]] = rows[k];
    if (rows[k][col("Đúng hạn / Trễ / Chưa nộp")] == "Chưa nộp") ++missing;
    if (rows[k][col("Mã chỉ tiêu")] == "CT-CAPNUOC-PHUONG" && rows[k][col("Mã báo cáo")].empty())
      ++ward_water_missing;
    if (rows[k][col("Đơn vị")] == "Toàn tỉnh") ++province_lines;
  }
  EXPECT_EQ(missing, kLines - kShares - 2);  // on time 1, late 1; a share line is not missing
  EXPECT_EQ(ward_water_missing, owed_2026h1().ward_water - 1);  // every ward but Tô Hiệu
  EXPECT_EQ(province_lines, owed_2026h1().province);
  ASSERT_EQ(by_report.size(), 3u);

  const auto& ml = by_report["r-muong-la"];
  EXPECT_EQ(ml[col("Mã nhóm")], "NV08");
  EXPECT_EQ(ml[col("Mã đơn vị")], "03808");
  EXPECT_EQ(ml[col("Đơn vị")], "Xã Mường La");
  EXPECT_EQ(ml[col("Giá trị")], "78.5");
  EXPECT_EQ(ml[col("Mục tiêu")], "90");
  EXPECT_EQ(ml[col("Yêu cầu")], "> 90%");
  // 78.5 against "> 90 % by 2028": progress in 2026-H1, judged only at the deadline (issue 14).
  EXPECT_EQ(ml[col("Đạt mục tiêu")], "Chưa đến hạn");
  EXPECT_EQ(ml[col("Tiến độ")], "Đúng tiến độ");
  EXPECT_EQ(ml[col("Đúng hạn / Trễ / Chưa nộp")], "Đúng hạn");  // recorded on the due date itself
  EXPECT_EQ(ml[col("Ngày ghi nhận")], "2026-06-05");
  EXPECT_EQ(ml[col("Máy chủ nhận lúc")].size(), 19u);  // YYYY-MM-DD hh:mm:ss, Vietnam time
  EXPECT_EQ(ml[col("Khó khăn")], "Các bản vùng cao ở xa nguồn nước, mùa khô thiếu nước.");
  EXPECT_EQ(ml[col("Đề xuất")], "Đề nghị bố trí vốn \"sửa chữa\" công trình, bản Pá Ngà.");
  EXPECT_EQ(ml[col("Trạng thái duyệt")], "Đã duyệt");
  EXPECT_NE(bytes.find("\"Đề nghị bố trí vốn \"\"sửa chữa\"\" công trình, bản Pá Ngà.\""),
            std::string::npos);

  const auto& th = by_report["r-to-hieu"];
  EXPECT_EQ(th[col("Đơn vị")], "Phường Tô Hiệu");
  EXPECT_EQ(th[col("Giá trị")], "97");
  EXPECT_EQ(th[col("Đạt mục tiêu")], "Chưa đến hạn");  // "> 96 % by 2028"
  // Submitted a day after 05/06 by its own signed time, though the date typed on it says 01/06:
  // the submission counts, not the editable date (issue 14).
  EXPECT_EQ(th[col("Đúng hạn / Trễ / Chưa nộp")], "Trễ");
  EXPECT_EQ(th[col("Ngày ghi nhận")], "2026-06-01");
  EXPECT_EQ(th[col("Tính hạn từ")].substr(0, 10), "2026-06-06");
  EXPECT_EQ(th[col("Ghi chú thời gian")], "");
  // Mường La's: made on the due day offline, received today.
  EXPECT_EQ(ml[col("Tính hạn từ")].substr(0, 16), "2026-06-05 10:00");  // Vietnam time
  EXPECT_EQ(ml[col("Ghi chú thời gian")], "Làm trước hạn khi không có mạng, gửi lên sau hạn");
  EXPECT_EQ(th[col("Trạng thái duyệt")], "Trả lại");
  EXPECT_EQ(th[col("Ý kiến thẩm định")], "Đề nghị bổ sung danh sách hộ được cấp nước.");

  const auto& dr = by_report["r-draft"];
  EXPECT_EQ(dr[col("Đúng hạn / Trễ / Chưa nộp")], "Chưa nộp");
  EXPECT_EQ(dr[col("Trạng thái duyệt")], "Nháp");
  EXPECT_EQ(dr[col("Yêu cầu")], "2–3 bác sĩ/trạm");

  // XLSX: headings and texts in the shared strings, numbers as numbers, header frozen.
  ASSERT_EQ(read_file(xlsx).substr(0, 2), "PK");
  const std::string strings = shell("unzip -p '" + xlsx + "' xl/sharedStrings.xml");
  for (const auto& h :
       {"Nhóm nhiệm vụ", "Chỉ tiêu", "Đơn vị", "Giá trị", "Mục tiêu", "Tiến độ",
        "Đúng hạn / Trễ / Chưa nộp", "Khó khăn", "Đề xuất", "Trạng thái duyệt", "Xã Mường La",
        "Phường Tô Hiệu", "Chưa nộp", "Trễ", "Đúng hạn", "Đã duyệt", "Trả lại", "Sở Xây dựng", "Sở Y tế"}) {
    EXPECT_NE(strings.find(std::string(">") + h + "<"), std::string::npos) << h;
  }
  const std::string sheet = shell("unzip -p '" + xlsx + "' xl/worksheets/sheet1.xml");
  EXPECT_NE(sheet.find("<v>78.5</v>"), std::string::npos);
  EXPECT_NE(sheet.find("<v>97</v>"), std::string::npos);
  EXPECT_NE(sheet.find("ySplit=\"1\""), std::string::npos);
  EXPECT_NE(sheet.find("state=\"frozen\""), std::string::npos);
  // 23 columns (A..W), the heading and the lines.
  const std::string last = std::to_string(kLines + 1);
  EXPECT_NE(sheet.find("<autoFilter ref=\"A1:W" + last + "\""), std::string::npos);
  EXPECT_NE(sheet.find("<row r=\"" + last + "\""), std::string::npos);
  EXPECT_EQ(sheet.find("<row r=\"" + std::to_string(kLines + 2) + "\""), std::string::npos);
  EXPECT_NE(shell("unzip -p '" + xlsx + "' xl/styles.xml").find("<b/>"), std::string::npos);
  EXPECT_NE(shell("unzip -p '" + xlsx + "' xl/workbook.xml").find("name=\"Báo cáo kỳ 2026-H1\""),
            std::string::npos);

  // An unknown period is an error, and so is a directory that was never seeded.
  auto bad = run_cli({"report", "--data", data_, "--period", "2031-H1"});
  EXPECT_EQ(bad.first, 1);
  EXPECT_NE(bad.second.find("unknown reporting period"), std::string::npos) << bad.second;
  EXPECT_EQ(run_cli({"report", "--data", data_ + "/nowhere", "--period", "2026-H1"}).first, 1);
  EXPECT_FALSE(std::filesystem::exists(data_ + "/nowhere"));
}

TEST_F(ReportTest, AdminEndpointServesJsonCsvAndXlsx) {
  push_reports();
  // JSON (the default format).
  auto j = admin_get("/v1/admin/report?period=2026-H1");
  ASSERT_EQ(j.status, 200) << j.body;
  EXPECT_EQ(j.headers["content-type"], "application/json");
  dom::parser p;
  dom::element root;
  ASSERT_FALSE(p.parse(j.body).get(root)) << j.body;
  EXPECT_EQ(std::string_view(root["period"]["unit_due"].get_string().value()), "2026-06-05");
  EXPECT_EQ(root["summary"]["lines"].get_uint64().value(), kLines);
  EXPECT_EQ(root["summary"]["on_time"].get_uint64().value(), 1u);
  EXPECT_EQ(root["summary"]["late"].get_uint64().value(), 1u);
  EXPECT_EQ(root["summary"]["missing"].get_uint64().value(), kLines - kShares - 2);
  EXPECT_EQ(root["summary"]["aggregate"].get_uint64().value(), kShares);
  EXPECT_EQ(root["summary"]["review"]["accepted"].get_uint64().value(), 1u);
  EXPECT_EQ(root["summary"]["review"]["returned"].get_uint64().value(), 1u);
  EXPECT_EQ(root["summary"]["review"]["draft"].get_uint64().value(), 1u);
  size_t seen = 0;
  for (dom::element l : root["lines"].get_array()) {
    std::string_view report;
    if (l["report"].get_string().get(report) || report != "r-to-hieu") continue;
    ++seen;
    EXPECT_EQ(std::string_view(l["timeliness"].get_string().value()), "late");
    EXPECT_EQ(l["value"].get_double().value(), 97.0);
    EXPECT_EQ(l["target"].get_double().value(), 96.0);
    EXPECT_TRUE(l["meets_target"].is_null());  // not judged before the indicator's deadline
    EXPECT_EQ(std::string_view(l["target_status"].get_string().value()), "not_due");
    EXPECT_EQ(std::string_view(l["target_deadline"].get_string().value()), "2028-12-31");
    EXPECT_EQ(std::string_view(l["target_measure"].get_string().value()), "%");
    EXPECT_EQ(std::string_view(l["review_state"].get_string().value()), "returned");
    EXPECT_EQ(std::string_view(l["unit_name"].get_string().value()), "Phường Tô Hiệu");
    EXPECT_EQ(std::string_view(l["received_at"].get_string().value()).size(), 20u);  // ...Z
    EXPECT_EQ(std::string_view(l["submitted_at"].get_string().value()).substr(0, 16), "2026-06-06T03:00");
    EXPECT_FALSE(l["submitted_offline"].get_bool().value());
    EXPECT_FALSE(l["clock_wrong"].get_bool().value());
  }
  EXPECT_EQ(seen, 1u);

  // CSV: the same bytes as the CLI's file.
  auto c = admin_get("/v1/admin/report?period=2026-H1&format=csv");
  ASSERT_EQ(c.status, 200);
  EXPECT_EQ(c.headers["content-type"], "text/csv; charset=utf-8");
  const std::string file = data_ + "/cli.csv";
  ASSERT_EQ(run_cli({"report", "--data", data_, "--period", "2026-H1", "--csv", file}).first, 0);
  EXPECT_EQ(c.body, read_file(file));

  // XLSX: a workbook whose first sheet holds the headings.
  auto x = admin_get("/v1/admin/report?period=2026-H1&format=xlsx");
  ASSERT_EQ(x.status, 200);
  EXPECT_EQ(x.headers["content-type"],
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
  const std::string xlsx = data_ + "/http.xlsx";
  std::ofstream(xlsx, std::ios::binary) << x.body;
  EXPECT_NE(
      shell("unzip -p '" + xlsx + "' xl/sharedStrings.xml").find(">Đúng hạn / Trễ / Chưa nộp<"),
      std::string::npos);
  EXPECT_NE(shell("unzip -p '" + xlsx + "' xl/worksheets/sheet1.xml").find("<v>78.5</v>"),
            std::string::npos);

  // Errors: unknown period, bad format, missing period, no admin token.
  auto unknown = admin_get("/v1/admin/report?period=2031&format=csv");
  EXPECT_EQ(unknown.status, 404);
  ASSERT_FALSE(p.parse(unknown.body).get(root)) << unknown.body;
  EXPECT_EQ(std::string_view(root["error"]["code"].get_string().value()), "unknown_period");
  EXPECT_EQ(admin_get("/v1/admin/report?period=2026-H1&format=pdf").status, 400);
  EXPECT_EQ(admin_get("/v1/admin/report").status, 400);
  EXPECT_EQ(http(server_->port(), "GET", "/v1/admin/report?period=2026-H1").status, 401);
}

TEST_F(ReportTest, AnnualPeriodBeforeAnyReport) {
  // Nothing reported for 2026 yet: every expected line is missing; 2026-H1 reports do not count.
  push_reports();
  auto j = admin_get("/v1/admin/report?period=2026");
  ASSERT_EQ(j.status, 200) << j.body;
  dom::parser p;
  dom::element root;
  ASSERT_FALSE(p.parse(j.body).get(root));
  EXPECT_EQ(std::string_view(root["period"]["unit_due"].get_string().value()), "2026-12-05");
  EXPECT_EQ(root["summary"]["lines"].get_uint64().value(), kLines);
  EXPECT_EQ(root["summary"]["missing"].get_uint64().value(), kLines - kShares);
  EXPECT_EQ(root["summary"]["on_time"].get_uint64().value(), 0u);
}

}  // namespace
}  // namespace tram::testing
