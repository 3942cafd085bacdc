#include "format.hpp"

#include <algorithm>
#include <charconv>

namespace tram::reporting::detail {

std::string number(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

std::tm broken_down(int64_t ms, bool vietnam) {
  const auto t = static_cast<std::time_t>(ms / 1000 + (vietnam ? 7 * 3600 : 0));
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}

std::string format_time(int64_t ms, const char* fmt, bool vietnam) {
  const std::tm tm = broken_down(ms, vietnam);
  char buf[40];
  return std::string(buf, std::strftime(buf, sizeof buf, fmt, &tm));
}

std::string vi_date(const std::string& iso) {
  if (iso.size() != 10) return iso;
  return iso.substr(8, 2) + "/" + iso.substr(5, 2) + "/" + iso.substr(0, 4);
}

std::string_view progress_vi(std::string_view p) {
  if (p == "not_started") return "Chưa triển khai";
  if (p == "on_track") return "Đúng tiến độ";
  if (p == "at_risk") return "Có nguy cơ chậm";
  if (p == "done") return "Hoàn thành";
  return p;
}

std::string_view review_vi(std::string_view s) {
  if (s == "draft") return "Nháp";
  if (s == "submitted") return "Chờ duyệt";
  if (s == "accepted") return "Đã duyệt";
  if (s == "returned") return "Trả lại";
  return s;
}

std::string_view timeliness_vi(Timeliness t) {
  switch (t) {
    case Timeliness::on_time:
      return "Đúng hạn";
    case Timeliness::late:
      return "Trễ";
    case Timeliness::missing:
      return "Chưa nộp";
  }
  return "";
}

std::string_view target_vi(TargetStatus t) {
  switch (t) {
    case TargetStatus::none:
      return "";
    case TargetStatus::not_due:
      return "Chưa đến hạn";
    case TargetStatus::met:
      return "Đạt";
    case TargetStatus::not_met:
      return "Chưa đạt";
    case TargetStatus::overdue:
      return "Quá hạn";
    case TargetStatus::not_comparable:
      return "Không so sánh được (khác đơn vị tính)";
  }
  return "";
}

std::string value_text(const ReportLine& l) {
  if (!l.value) return "";
  if (l.kind == "yes_no" && !l.aggregate) return *l.value == 1 ? "Có" : *l.value == 0 ? "Không" : number(*l.value);
  return number(*l.value);
}

std::string timeliness_text(const ReportLine& l) {
  return l.aggregate ? "Tổng hợp (không phải báo cáo)" : std::string(timeliness_vi(l.timeliness));
}

std::string requirement(const ReportLine& l) {
  if (l.kind == "yes_no" && !l.aggregate) return "Có";
  if (!l.target) return "";
  const std::string& tm = l.target_measure;
  const std::string m = tm.empty() ? "" : (tm == "%" ? "%" : " " + tm);
  if (l.comparator == ">") return "> " + number(*l.target) + m;
  if (l.comparator == ">=") return "≥ " + number(*l.target) + m;
  if (l.comparator == "=") return "= " + number(*l.target) + m;
  if (l.comparator == "range" && l.target_max) return number(*l.target) + "–" + number(*l.target_max) + m;
  return number(*l.target) + m;
}

size_t display_width(std::string_view s) {
  size_t w = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) == 0x80) continue;
    if (c == 0xCC || (c == 0xCD && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xB0)) continue;
    ++w;
  }
  return w;
}

std::string fit(std::string_view s, size_t width, bool right) {
  std::string out;
  if (display_width(s) <= width) {
    out = std::string(s);
  } else {
    size_t w = 0, i = 0;
    while (i < s.size()) {
      size_t len = 1;
      while (i + len < s.size() && (static_cast<unsigned char>(s[i + len]) & 0xC0) == 0x80) ++len;
      const size_t cw = display_width(s.substr(i, len));
      if (w + cw > width - 1) break;
      w += cw;
      i += len;
    }
    out = std::string(s.substr(0, i)) + "…";
  }
  const std::string pad(width - std::min(width, display_width(out)), ' ');
  return right ? pad + out : out + pad;
}

std::string time_note_vi(const ReportLine& l) {
  std::string out;
  if (l.clock_wrong) out = "Đồng hồ máy sai (chạy nhanh): tính theo giờ máy chủ nhận";
  if (l.offline_before_due) {
    out += (out.empty() ? "" : "; ") + std::string("Làm trước hạn khi không có mạng, gửi lên sau hạn");
  }
  return out;
}

}  // namespace tram::reporting::detail
