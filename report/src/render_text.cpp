#include <utility>
#include <vector>

#include "format.hpp"
#include "tram/report/render.hpp"

namespace tram::reporting {

using namespace detail;

std::string report_text(const ProvinceReport& r) {
  const ReportPeriod& p = r.period;
  std::string out = "Báo cáo tổng hợp kỳ " + p.code + " (" + vi_date(p.starts) + " – " +
                    vi_date(p.ends) + ")\n" +
                    "Hạn xã, phường, sở ngành báo cáo: " + vi_date(p.unit_due) +
                    " · Hạn Sở Tài chính tổng hợp: " + vi_date(p.finance_due) + "\n\n";
  struct Col {
    const char* head;
    size_t width;
    bool right;
  };
  const Col cols[] = {{"Nhóm", 4, false},   {"Chỉ tiêu", 26, false}, {"Đơn vị", 22, false},
                      {"Giá trị", 8, true}, {"Yêu cầu", 16, false},  {"Mục tiêu", 12, false},
                      {"Tiến độ", 15, false},
                      {"Nộp", 8, false},    {"Ghi nhận", 10, false}, {"Duyệt", 9, false}};
  auto line = [&](const std::vector<std::string>& v) {
    std::string s;
    for (size_t c = 0; c < v.size(); ++c)
      s += (c ? "  " : "") + fit(v[c], cols[c].width, cols[c].right);
    s.erase(s.find_last_not_of(' ') + 1);
    return s + "\n";
  };
  std::vector<std::string> head;
  size_t total = 0;
  for (const Col& c : cols) {
    head.emplace_back(c.head);
    total += c.width + 2;
  }
  out += line(head);
  for (size_t k = 0; k + 2 < total; ++k) out += "─";
  out += "\n";
  size_t shown = 0;
  for (const ReportLine& l : r.lines) {
    if (l.report_id.empty() && !l.aggregate) continue;
    ++shown;
    // A value in another unit than the target's is shown with its unit, and not judged.
    const bool other_unit = l.target_status == TargetStatus::not_comparable;
    // A share line (yes_no): "Toàn tỉnh (tỷ lệ có)", its value in %.
    const std::string unit = l.aggregate ? "Toàn tỉnh (tỷ lệ có)" : l.unit_code + " " + l.unit_name;
    const std::string value = l.aggregate && l.value ? number(*l.value) + "%"
                              : value_text(l) + (other_unit && l.value ? " " + l.measure : "");
    out += line({l.group, l.indicator, unit, value, requirement(l),
                 other_unit ? "Khác ĐVT" : std::string(target_vi(l.target_status)),
                 std::string(progress_vi(l.progress)), l.aggregate ? "Tổng hợp" : std::string(timeliness_vi(l.timeliness)),
                 vi_date(l.recorded_on), std::string(review_vi(l.review_state))});
  }
  if (shown == 0) out += "(chưa có báo cáo nào)\n";

  // Missing units, one line per indicator: the full list is in the CSV and XLSX.
  std::vector<std::pair<std::string, std::vector<std::string>>> missing;
  for (const ReportLine& l : r.lines) {
    if (!l.report_id.empty() || l.aggregate) continue;
    const std::string key = l.group + " " + l.indicator;
    if (missing.empty() || missing.back().first != key) missing.push_back({key, {}});
    missing.back().second.push_back(l.unit_code.empty() ? "toàn tỉnh" : l.unit_code);
  }
  if (!missing.empty()) out += "\nChưa nộp (không có báo cáo):\n";
  for (const auto& [key, units] : missing) {
    out += "  " + key + ": ";
    if (units.size() == 1 && units[0] == "toàn tỉnh") {
      out += "toàn tỉnh\n";
      continue;
    }
    out += std::to_string(units.size()) + " đơn vị — ";
    for (size_t k = 0; k < units.size() && k < 10; ++k) out += (k ? ", " : "") + units[k];
    out += units.size() > 10 ? ", … (+" + std::to_string(units.size() - 10) + ")\n" : "\n";
  }
  // Targets whose deadline has passed unmet, one line per indicator.
  std::vector<std::pair<std::string, std::vector<std::string>>> overdue;
  for (const ReportLine& l : r.lines) {
    if (l.target_status != TargetStatus::overdue) continue;
    const std::string key = l.group + " " + l.indicator + " (hạn " + vi_date(l.target_deadline) + ")";
    if (overdue.empty() || overdue.back().first != key) overdue.push_back({key, {}});
    overdue.back().second.push_back(l.aggregate ? "toàn tỉnh (tỷ lệ có)" : l.unit_code.empty() ? "toàn tỉnh" : l.unit_code);
  }
  if (!overdue.empty()) out += "\nQuá hạn, chưa đạt mục tiêu:\n";
  for (const auto& [key, units] : overdue) {
    out += "  " + key + ": ";
    for (size_t k = 0; k < units.size() && k < 10; ++k) out += (k ? ", " : "") + units[k];
    out += units.size() > 10 ? ", … (+" + std::to_string(units.size() - 10) + ")\n" : "\n";
  }
  const ReportSummary& s = r.summary;
  out += "\nTổng cộng " + std::to_string(s.lines) + " dòng: đúng hạn " + std::to_string(s.on_time) +
         ", trễ " + std::to_string(s.late) + ", chưa nộp " + std::to_string(s.missing) +
         " (trong đó " + std::to_string(s.draft) + " bản nháp)" +
         (s.aggregate ? "; " + std::to_string(s.aggregate) + " dòng tỷ lệ toàn tỉnh (tổng hợp, không phải báo cáo)" : "") +
         ".\nTrạng thái duyệt: chờ duyệt " +
         std::to_string(s.submitted) + ", đã duyệt " + std::to_string(s.accepted) + ", trả lại " +
         std::to_string(s.returned) + ", nháp " + std::to_string(s.draft) + ".\n" +
         "Mục tiêu (xét tại kỳ có hạn của chỉ tiêu): đạt " + std::to_string(s.target_met) + ", chưa đạt " +
         std::to_string(s.target_not_met) + ", quá hạn " + std::to_string(s.target_overdue) + ", chưa đến hạn " +
         std::to_string(s.target_not_due) + ", khác đơn vị tính " + std::to_string(s.not_comparable) + ".\n";
  return out;
}

}  // namespace tram::reporting
