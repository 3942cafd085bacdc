#include "tram/report/render.hpp"

#include <unistd.h>
#include <xlsxwriter.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <variant>
#include <vector>

#include "format.hpp"

// The CSV and the XLSX: one row of cells per line, the same 23 columns in both.
namespace tram::reporting {
namespace {

using namespace detail;

// One cell of the CSV and XLSX tables.
struct DateCell {
  std::string iso;
};
struct TimeCell {
  int64_t ms;
};
using Cell = std::variant<std::monostate, std::string, double, DateCell, TimeCell>;

const char* const kHeadings[] = {"Mã nhóm",
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
constexpr size_t kColumns = std::size(kHeadings);

std::vector<Cell> cells(const ReportLine& l) {
  auto text = [](const std::string& s) -> Cell { return s.empty() ? Cell{} : Cell{s}; };
  auto num = [](const std::optional<double>& v) -> Cell { return v ? Cell{*v} : Cell{}; };
  return {text(l.group),
          text(l.group_title),
          text(l.indicator),
          text(l.indicator_title),
          text(l.unit_code),
          text(l.unit_name),
          l.kind == "yes_no" && !l.aggregate && l.value ? text(value_text(l)) : num(l.value),
          text(l.measure),
          num(l.target),
          text(requirement(l)),
          text(std::string(target_vi(l.target_status))),
          text(std::string(progress_vi(l.progress))),
          Cell{timeliness_text(l)},
          l.recorded_on.empty() ? Cell{} : Cell{DateCell{l.recorded_on}},
          l.received_ms ? Cell{TimeCell{*l.received_ms}} : Cell{},
          l.submitted_ms ? Cell{TimeCell{*l.submitted_ms}} : Cell{},
          text(time_note_vi(l)),
          text(l.difficulties),
          text(l.proposals),
          text(std::string(review_vi(l.review_state))),
          text(l.review_comment),
          text(l.author),
          text(l.report_id)};
}

std::string csv_field(const Cell& c) {
  std::string s;
  if (const auto* t = std::get_if<std::string>(&c))
    s = *t;
  else if (const auto* d = std::get_if<double>(&c))
    s = number(*d);
  else if (const auto* dc = std::get_if<DateCell>(&c))
    s = dc->iso;
  else if (const auto* tc = std::get_if<TimeCell>(&c))
    s = format_time(tc->ms, "%Y-%m-%d %H:%M:%S", true);
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char ch : s) {
    if (ch == '"') q += '"';
    q += ch;
  }
  return q + "\"";
}

lxw_datetime lxw_date(const std::string& iso) {
  lxw_datetime d{};
  d.year = std::atoi(iso.substr(0, 4).c_str());
  d.month = std::atoi(iso.substr(5, 2).c_str());
  d.day = std::atoi(iso.substr(8, 2).c_str());
  return d;
}

lxw_datetime lxw_time(int64_t ms) {
  const std::tm tm = broken_down(ms, true);
  lxw_datetime d{};
  d.year = tm.tm_year + 1900;
  d.month = tm.tm_mon + 1;
  d.day = tm.tm_mday;
  d.hour = tm.tm_hour;
  d.min = tm.tm_min;
  d.sec = tm.tm_sec;
  return d;
}

}  // namespace

std::string report_csv(const ProvinceReport& r) {
  std::string out = "\xEF\xBB\xBF";  // BOM: Excel reads the file as UTF-8 only with it
  for (size_t c = 0; c < kColumns; ++c)
    out += (c ? "," : "") + csv_field(Cell{std::string(kHeadings[c])});
  out += "\r\n";
  for (const ReportLine& l : r.lines) {
    const std::vector<Cell> row = cells(l);
    for (size_t c = 0; c < row.size(); ++c) out += (c ? "," : "") + csv_field(row[c]);
    out += "\r\n";
  }
  return out;
}

Status write_report_xlsx(const ProvinceReport& r, const std::string& path) {
  lxw_workbook* wb = workbook_new(path.c_str());
  if (!wb) return {Errc::storage_error, "cannot create " + path};
  const std::string title = "Báo cáo kỳ " + r.period.code;
  lxw_doc_properties props{};
  props.title = const_cast<char*>(title.c_str());
  props.company = const_cast<char*>("Sở Tài chính tỉnh Sơn La");
  workbook_set_properties(wb, &props);

  lxw_format* head = workbook_add_format(wb);
  format_set_bold(head);
  format_set_bg_color(head, 0xD9E1F2);
  format_set_bottom(head, LXW_BORDER_THIN);
  format_set_text_wrap(head);
  format_set_align(head, LXW_ALIGN_VERTICAL_TOP);
  lxw_format* date = workbook_add_format(wb);
  format_set_num_format(date, "dd/mm/yyyy");
  lxw_format* stamp = workbook_add_format(wb);
  format_set_num_format(stamp, "dd/mm/yyyy hh:mm");
  lxw_format* bold = workbook_add_format(wb);
  format_set_bold(bold);

  lxw_worksheet* ws = workbook_add_worksheet(wb, title.c_str());
  std::vector<size_t> width(kColumns, 8);
  for (size_t c = 0; c < kColumns; ++c) {
    worksheet_write_string(ws, 0, static_cast<lxw_col_t>(c), kHeadings[c], head);
    width[c] = std::max(width[c], std::min<size_t>(display_width(kHeadings[c]), 16));
  }
  lxw_row_t row = 1;
  for (const ReportLine& l : r.lines) {
    const std::vector<Cell> cs = cells(l);
    for (size_t c = 0; c < cs.size(); ++c) {
      const auto col = static_cast<lxw_col_t>(c);
      if (const auto* t = std::get_if<std::string>(&cs[c])) {
        worksheet_write_string(ws, row, col, t->c_str(), nullptr);
        width[c] = std::max(width[c], display_width(*t));
      } else if (const auto* d = std::get_if<double>(&cs[c])) {
        worksheet_write_number(ws, row, col, *d, nullptr);
        width[c] = std::max(width[c], number(*d).size());
      } else if (const auto* dc = std::get_if<DateCell>(&cs[c])) {
        lxw_datetime dt = lxw_date(dc->iso);
        worksheet_write_datetime(ws, row, col, &dt, date);
        width[c] = std::max<size_t>(width[c], 11);
      } else if (const auto* tc = std::get_if<TimeCell>(&cs[c])) {
        lxw_datetime dt = lxw_time(tc->ms);
        worksheet_write_datetime(ws, row, col, &dt, stamp);
        width[c] = std::max<size_t>(width[c], 17);
      }
    }
    ++row;
  }
  for (size_t c = 0; c < kColumns; ++c) {
    // Long texts (titles, difficulties) are capped: the cell shows the rest when selected.
    worksheet_set_column(ws, static_cast<lxw_col_t>(c), static_cast<lxw_col_t>(c),
                         static_cast<double>(std::min<size_t>(width[c], 50) + 2), nullptr);
  }
  worksheet_set_row(ws, 0, 30, nullptr);
  worksheet_freeze_panes(ws, 1, 0);
  worksheet_autofilter(ws, 0, 0, row - 1, static_cast<lxw_col_t>(kColumns - 1));

  // A second sheet with the period and the counts.
  lxw_worksheet* sum = workbook_add_worksheet(wb, "Tổng hợp");
  lxw_row_t n = 0;
  auto put_text = [&](const char* label, const std::string& v) {
    worksheet_write_string(sum, n, 0, label, bold);
    worksheet_write_string(sum, n++, 1, v.c_str(), nullptr);
  };
  auto put_date = [&](const char* label, const std::string& iso) {
    lxw_datetime dt = lxw_date(iso);
    worksheet_write_string(sum, n, 0, label, bold);
    worksheet_write_datetime(sum, n++, 1, &dt, date);
  };
  auto put_count = [&](const char* label, size_t v) {
    worksheet_write_string(sum, n, 0, label, bold);
    worksheet_write_number(sum, n++, 1, static_cast<double>(v), nullptr);
  };
  put_text("Kỳ báo cáo", r.period.code);
  put_date("Từ ngày", r.period.starts);
  put_date("Đến ngày", r.period.ends);
  put_date("Hạn xã, phường, sở ngành báo cáo", r.period.unit_due);
  put_date("Hạn Sở Tài chính tổng hợp", r.period.finance_due);
  lxw_datetime made = lxw_time(r.generated_ms);
  worksheet_write_string(sum, n, 0, "Lập lúc", bold);
  worksheet_write_datetime(sum, n++, 1, &made, stamp);
  put_count("Số dòng", r.summary.lines);
  put_count("Đúng hạn", r.summary.on_time);
  put_count("Trễ", r.summary.late);
  put_count("Chưa nộp", r.summary.missing);
  // Share lines of yes_no indicators: in "Số dòng", in no other count (province.hpp).
  put_count("Dòng tỷ lệ toàn tỉnh (tổng hợp, không phải báo cáo)", r.summary.aggregate);
  put_count("Nháp", r.summary.draft);
  put_count("Chờ duyệt", r.summary.submitted);
  put_count("Đã duyệt", r.summary.accepted);
  put_count("Trả lại", r.summary.returned);
  put_count("Mục tiêu: đạt", r.summary.target_met);
  put_count("Mục tiêu: chưa đạt", r.summary.target_not_met);
  put_count("Mục tiêu: quá hạn", r.summary.target_overdue);
  put_count("Mục tiêu: chưa đến hạn", r.summary.target_not_due);
  put_count("Số liệu khác đơn vị tính (không so sánh)", r.summary.not_comparable);
  worksheet_set_column(sum, 0, 0, 36, nullptr);
  worksheet_set_column(sum, 1, 1, 18, nullptr);

  const lxw_error e = workbook_close(wb);
  if (e != LXW_NO_ERROR) return {Errc::storage_error, "writing " + path + ": " + lxw_strerror(e)};
  return {};
}

Result<std::string> report_xlsx_bytes(const ProvinceReport& r) {
  // libxlsxwriter 1.1.4 (Debian 12) writes only to files: go through a private temporary one.
  std::string path = (std::filesystem::temp_directory_path() / "tram-report-XXXXXX").string();
  const int fd = ::mkstemp(path.data());
  if (fd < 0) return Status(Errc::storage_error, "cannot create a temporary file");
  ::close(fd);
  Status st = write_report_xlsx(r, path);
  std::string bytes;
  if (st.ok()) {
    std::ifstream in(path, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
    if (!in.good() && !in.eof()) st = Status(Errc::storage_error, "cannot read " + path);
  }
  std::error_code ec;
  std::filesystem::remove(path, ec);
  if (!st.ok()) return st;
  return bytes;
}

}  // namespace tram::reporting
