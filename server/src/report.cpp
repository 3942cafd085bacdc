#include "report.hpp"

#include <unistd.h>
#include <xlsxwriter.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <tuple>
#include <variant>

#include "service.hpp"
#include "tram/engine/json.hpp"

namespace tram::server {
namespace {

constexpr int64_t kVietnamOffsetS = 7 * 3600;  // UTC+7 all year: received times are shown local

using Row = std::function<void(const sql::Statement&)>;

Status query(sql::Database& db, std::string_view q, std::vector<std::string> params,
             const Row& row) {
  auto st = db.prepare(q);
  if (!st.ok()) return st.status();
  for (size_t i = 0; i < params.size(); ++i) st->bind_text(static_cast<int>(i + 1), params[i]);
  for (;;) {
    auto has = st->step();
    if (!has.ok()) return has.status();
    if (!*has) return {};
    row(*st);
  }
}

std::string text_at(const sql::Statement& st, int i) {
  return st.column_is_null(i) ? std::string() : std::string(st.column_text(i));
}
std::optional<double> real_at(const sql::Statement& st, int i) {
  if (st.column_is_null(i)) return std::nullopt;
  return st.column_real(i);
}

struct Indicator {
  std::string task, title, comparator, measure, start, deadline, applies_to;
  std::optional<double> target, target_max;
};
struct Task {
  std::string group, title;
};
struct Group {
  int64_t number = 0;
  std::string title;
};

std::optional<bool> meets(const std::optional<double>& value, const std::optional<double>& target,
                          const std::string& cmp) {
  if (!value || !target) return std::nullopt;
  if (cmp == ">") return *value > *target;
  if (cmp == ">=") return *value >= *target;
  if (cmp == "=") return std::fabs(*value - *target) < 1e-9;
  if (cmp == "range")
    return *value >= *target;  // above the maximum is not a failure (seed NOTES 14)
  return std::nullopt;
}

// Shortest text that reads back as the same double: 78.5, 90, 0.1.
std::string number(double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

std::tm broken_down(int64_t ms, int64_t offset_s) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000 + offset_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return tm;
}
std::tm vietnam_time(int64_t ms) {
  return broken_down(ms, kVietnamOffsetS);
}

std::string format_time(int64_t ms, const char* fmt, bool local) {
  const std::tm tm = broken_down(ms, local ? kVietnamOffsetS : 0);
  char buf[40];
  return std::string(buf, std::strftime(buf, sizeof buf, fmt, &tm));
}

// "2026-06-05" -> "05/06/2026", the way dates are written in Vietnam.
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

// The target as officials read it: "> 90%", "≥ 4 làn xe", "2–3 bác sĩ/trạm".
std::string requirement(const ReportLine& l) {
  if (!l.target) return "";
  const std::string m = l.measure.empty() ? "" : (l.measure == "%" ? "%" : " " + l.measure);
  if (l.comparator == ">") return "> " + number(*l.target) + m;
  if (l.comparator == ">=") return "≥ " + number(*l.target) + m;
  if (l.comparator == "=") return "= " + number(*l.target) + m;
  if (l.comparator == "range" && l.target_max)
    return number(*l.target) + "–" + number(*l.target_max) + m;
  return number(*l.target) + m;
}

// Terminal width of UTF-8 text: code points, combining marks (U+0300–U+036F) take none.
size_t display_width(std::string_view s) {
  size_t w = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) == 0x80) continue;
    if (c == 0xCC || (c == 0xCD && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) < 0xB0))
      continue;
    ++w;
  }
  return w;
}

// Cut to `width` columns, ending in "…" when cut; never splits a UTF-8 sequence.
std::string fit(std::string_view s, size_t width, bool right = false) {
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
          num(l.value),
          text(l.measure),
          num(l.target),
          text(requirement(l)),
          l.meets_target ? Cell{std::string(*l.meets_target ? "Đạt" : "Chưa đạt")} : Cell{},
          text(std::string(progress_vi(l.progress))),
          Cell{std::string(timeliness_vi(l.timeliness))},
          l.recorded_on.empty() ? Cell{} : Cell{DateCell{l.recorded_on}},
          l.received_ms ? Cell{TimeCell{*l.received_ms}} : Cell{},
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
  const std::tm tm = vietnam_time(ms);
  lxw_datetime d{};
  d.year = tm.tm_year + 1900;
  d.month = tm.tm_mon + 1;
  d.day = tm.tm_mday;
  d.hour = tm.tm_hour;
  d.min = tm.tm_min;
  d.sec = tm.tm_sec;
  return d;
}

void json_field(std::string& out, std::string_view key, const std::string& v) {
  out += ",\"" + std::string(key) + "\":";
  if (v.empty())
    out += "null";
  else
    json::append_string(out, v);
}
void json_number(std::string& out, std::string_view key, const std::optional<double>& v) {
  out += ",\"" + std::string(key) + "\":" + (v ? number(*v) : "null");
}

}  // namespace

std::string_view timeliness_name(Timeliness t) {
  switch (t) {
    case Timeliness::on_time:
      return "on_time";
    case Timeliness::late:
      return "late";
    case Timeliness::missing:
      return "missing";
  }
  return "";
}

Result<ProvinceReport> build_province_report(Store& replica, std::string_view period,
                                             int64_t now_ms) {
  sql::Database& db = replica.db();
  const Schema& schema = replica.schema();
  for (const char* t : {"reporting_period", "unit", "task_group", "task", "indicator",
                        "indicator_unit", "progress_report"}) {
    if (!schema.table(t))
      return Status(Errc::unknown_table, "the province report needs table " + std::string(t));
  }
  ProvinceReport rep;
  rep.generated_ms = now_ms;
  bool found = false;
  TRAM_RETURN_IF_ERROR(
      query(db,
            "SELECT code, kind, year, starts, ends, unit_due, finance_due FROM reporting_period"
            " WHERE id = ? AND _deleted = 0",
            {std::string(period)}, [&](const sql::Statement& st) {
              rep.period = {text_at(st, 0), text_at(st, 1), st.column_int(2), text_at(st, 3),
                            text_at(st, 4), text_at(st, 5), text_at(st, 6)};
              found = true;
            }));
  if (!found)
    return Status(Errc::not_found, "unknown reporting period \"" + std::string(period) + "\"");
  const ReportPeriod& p = rep.period;

  std::map<std::string, std::string> unit_names;
  TRAM_RETURN_IF_ERROR(query(
      db, "SELECT id, name, type FROM unit WHERE _deleted = 0", {}, [&](const sql::Statement& st) {
        const std::string type = text_at(st, 2);
        const std::string prefix = type == "xã" ? "Xã " : type == "phường" ? "Phường " : "";
        unit_names[text_at(st, 0)] = prefix + text_at(st, 1);
      }));
  std::map<std::string, Group> groups;
  TRAM_RETURN_IF_ERROR(query(db, "SELECT id, number, title FROM task_group WHERE _deleted = 0", {},
                             [&](const sql::Statement& st) {
                               groups[text_at(st, 0)] = {st.column_int(1), text_at(st, 2)};
                             }));
  std::map<std::string, Task> tasks;
  TRAM_RETURN_IF_ERROR(query(db, "SELECT id, task_group, title FROM task WHERE _deleted = 0", {},
                             [&](const sql::Statement& st) {
                               tasks[text_at(st, 0)] = {text_at(st, 1), text_at(st, 2)};
                             }));
  std::map<std::string, Indicator> indicators;
  TRAM_RETURN_IF_ERROR(query(
      db,
      "SELECT id, task, title, comparator, target, target_max, measure, start, deadline, applies_to"
      " FROM indicator WHERE _deleted = 0",
      {}, [&](const sql::Statement& st) {
        Indicator& i = indicators[text_at(st, 0)];
        i.task = text_at(st, 1);
        i.title = text_at(st, 2);
        i.comparator = text_at(st, 3);
        i.target = real_at(st, 4);
        i.target_max = real_at(st, 5);
        i.measure = text_at(st, 6);
        i.start = text_at(st, 7);
        i.deadline = text_at(st, 8);
        i.applies_to = text_at(st, 9);
      }));
  std::map<std::string, std::vector<std::string>> applies;
  TRAM_RETURN_IF_ERROR(
      query(db, "SELECT indicator, unit_code FROM indicator_unit WHERE _deleted = 0", {},
            [&](const sql::Statement& st) { applies[text_at(st, 0)].push_back(text_at(st, 1)); }));

  // The group, indicator and target columns of a line about `indicator` (or only `task`).
  auto describe = [&](ReportLine& l, const std::string& indicator, std::string task) {
    auto ind = indicators.find(indicator);
    if (ind != indicators.end()) {
      l.indicator = indicator;
      l.indicator_title = ind->second.title;
      l.measure = ind->second.measure;
      l.target = ind->second.target;
      l.target_max = ind->second.target_max;
      l.comparator = ind->second.comparator;
      if (!ind->second.task.empty()) task = ind->second.task;
    } else {
      l.indicator = indicator;
    }
    auto t = tasks.find(task);
    if (t == tasks.end()) return;
    if (l.indicator.empty()) {
      l.indicator = task;
      l.indicator_title = t->second.title;
    }
    l.group = t->second.group;
    auto g = groups.find(l.group);
    if (g != groups.end()) {
      l.group_number = g->second.number;
      l.group_title = g->second.title;
    }
  };

  const TableDef* reports = schema.table("progress_report");
  size_t recorded_on_cell = 0;
  for (size_t k = 0; k < reports->fields.size(); ++k) {
    if (reports->fields[k].name == "recorded_on") recorded_on_cell = k + 1;  // cell 0 is liveness
  }
  std::map<Hash, std::vector<size_t>> by_writer;  // change set -> lines, for the receipt time
  std::set<std::pair<std::string, std::string>> reported;  // (indicator, unit); unit "" = any
  TRAM_RETURN_IF_ERROR(query(
      db,
      "SELECT id, unit_code, indicator, task, value, progress, difficulties, proposals, author, "
      "recorded_on, status,"
      " review_comment, measure FROM progress_report WHERE period = ? AND _deleted = 0",
      {p.code}, [&](const sql::Statement& st) {
        ReportLine l;
        l.report_id = text_at(st, 0);
        l.unit_code = text_at(st, 1);
        auto u = unit_names.find(l.unit_code);
        if (u != unit_names.end()) l.unit_name = u->second;
        describe(l, text_at(st, 2), text_at(st, 3));
        l.value = real_at(st, 4);
        l.progress = text_at(st, 5);
        l.difficulties = text_at(st, 6);
        l.proposals = text_at(st, 7);
        l.author = text_at(st, 8);
        l.recorded_on = text_at(st, 9);
        l.review_state = text_at(st, 10);
        l.review_comment = text_at(st, 11);
        if (const std::string m = text_at(st, 12); !m.empty()) l.measure = m;
        l.meets_target = meets(l.value, l.target, l.comparator);
        if (l.review_state.empty() || l.review_state == "draft") {
          l.timeliness = Timeliness::missing;
        } else {
          l.timeliness = !l.recorded_on.empty() && l.recorded_on <= p.unit_due ? Timeliness::on_time
                                                                               : Timeliness::late;
        }
        // A draft stands in for its expected line, as "Chưa nộp": no second, empty line for it.
        reported.emplace(l.indicator, l.unit_code);
        reported.emplace(l.indicator, "");
        rep.lines.push_back(std::move(l));
      }));
  for (size_t k = 0; k < rep.lines.size(); ++k) {
    auto image = replica.row_image("progress_report", rep.lines[k].report_id);
    if (!image.ok()) return image.status();
    if (*image && recorded_on_cell < (*image)->cells.size() &&
        (*image)->cells[recorded_on_cell].writer) {
      by_writer[*(*image)->cells[recorded_on_cell].writer].push_back(k);
    }
  }
  // Receipt times live in the server's log, keyed by device and sequence, not by id: one scan.
  bool have_log = false;
  TRAM_RETURN_IF_ERROR(
      query(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_srv_log'", {},
            [&](const sql::Statement&) { have_log = true; }));
  if (have_log && !by_writer.empty()) {
    TRAM_RETURN_IF_ERROR(query(db, "SELECT id, received_ms FROM _srv_log WHERE accepted = 1", {},
                               [&](const sql::Statement& st) {
                                 auto b = st.column_blob(0);
                                 if (b.size() != sizeof(Hash)) return;
                                 Hash h;
                                 std::copy(b.begin(), b.end(), h.begin());
                                 auto it = by_writer.find(h);
                                 if (it == by_writer.end()) return;
                                 for (size_t k : it->second)
                                   rep.lines[k].received_ms = st.column_int(1);
                               }));
  }

  // Expected and missing: indicators active during the period.
  for (const auto& [code, ind] : indicators) {
    if (!(ind.start.empty() || ind.start <= p.ends) || ind.deadline < p.starts) continue;
    std::vector<std::string> units;
    auto a = applies.find(code);
    if (a != applies.end())
      units = a->second;
    else if (ind.applies_to == "province")
      units = {""};
    else
      for (const auto& [u, name] : unit_names) units.push_back(u);
    for (const std::string& u : units) {
      if (reported.count({code, u})) continue;
      ReportLine l;
      describe(l, code, "");
      l.unit_code = u;
      auto n = unit_names.find(u);
      l.unit_name = u.empty() ? "Toàn tỉnh" : n != unit_names.end() ? n->second : "";
      l.timeliness = Timeliness::missing;
      rep.lines.push_back(std::move(l));
    }
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
  put_count("Nháp", r.summary.draft);
  put_count("Chờ duyệt", r.summary.submitted);
  put_count("Đã duyệt", r.summary.accepted);
  put_count("Trả lại", r.summary.returned);
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

std::string report_json(const ProvinceReport& r) {
  const ReportPeriod& p = r.period;
  std::string out = "{\"period\":{\"code\":" + json::quote(p.code) +
                    ",\"kind\":" + json::quote(p.kind) + ",\"year\":" + std::to_string(p.year) +
                    ",\"starts\":" + json::quote(p.starts) + ",\"ends\":" + json::quote(p.ends) +
                    ",\"unit_due\":" + json::quote(p.unit_due) +
                    ",\"finance_due\":" + json::quote(p.finance_due) + "},\"generated_at\":\"" +
                    format_time(r.generated_ms, "%Y-%m-%dT%H:%M:%SZ", false) + "\"";
  const ReportSummary& s = r.summary;
  out += ",\"summary\":{\"lines\":" + std::to_string(s.lines) +
         ",\"on_time\":" + std::to_string(s.on_time) + ",\"late\":" + std::to_string(s.late) +
         ",\"missing\":" + std::to_string(s.missing) +
         ",\"review\":{\"draft\":" + std::to_string(s.draft) +
         ",\"submitted\":" + std::to_string(s.submitted) +
         ",\"accepted\":" + std::to_string(s.accepted) +
         ",\"returned\":" + std::to_string(s.returned) + "}}";
  out += ",\"lines\":[";
  for (size_t k = 0; k < r.lines.size(); ++k) {
    const ReportLine& l = r.lines[k];
    out += k ? ",{" : "{";
    out += "\"timeliness\":\"" + std::string(timeliness_name(l.timeliness)) + "\"";
    json_field(out, "group", l.group);
    json_field(out, "group_title", l.group_title);
    json_field(out, "indicator", l.indicator);
    json_field(out, "indicator_title", l.indicator_title);
    json_field(out, "unit_code", l.unit_code);
    json_field(out, "unit_name", l.unit_name);
    json_number(out, "value", l.value);
    json_field(out, "measure", l.measure);
    json_number(out, "target", l.target);
    json_number(out, "target_max", l.target_max);
    json_field(out, "comparator", l.comparator);
    out += std::string(",\"meets_target\":") +
           (l.meets_target ? (*l.meets_target ? "true" : "false") : "null");
    json_field(out, "progress", l.progress);
    json_field(out, "recorded_on", l.recorded_on);
    json_field(out, "received_at",
               l.received_ms ? format_time(*l.received_ms, "%Y-%m-%dT%H:%M:%SZ", false) : "");
    json_field(out, "difficulties", l.difficulties);
    json_field(out, "proposals", l.proposals);
    json_field(out, "review_state", l.review_state);
    json_field(out, "review_comment", l.review_comment);
    json_field(out, "author", l.author);
    json_field(out, "report", l.report_id);
    out += "}";
  }
  return out + "]}";
}

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
                      {"Giá trị", 8, true}, {"Yêu cầu", 16, false},  {"Tiến độ", 15, false},
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
    if (l.report_id.empty()) continue;
    ++shown;
    out += line({l.group, l.indicator, l.unit_code + " " + l.unit_name,
                 l.value ? number(*l.value) : "", requirement(l),
                 std::string(progress_vi(l.progress)), std::string(timeliness_vi(l.timeliness)),
                 vi_date(l.recorded_on), std::string(review_vi(l.review_state))});
  }
  if (shown == 0) out += "(chưa có báo cáo nào)\n";

  // Missing units, one line per indicator: the full list is in the CSV and XLSX.
  std::vector<std::pair<std::string, std::vector<std::string>>> missing;
  for (const ReportLine& l : r.lines) {
    if (!l.report_id.empty()) continue;
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
  const ReportSummary& s = r.summary;
  out += "\nTổng cộng " + std::to_string(s.lines) + " dòng: đúng hạn " + std::to_string(s.on_time) +
         ", trễ " + std::to_string(s.late) + ", chưa nộp " + std::to_string(s.missing) +
         " (trong đó " + std::to_string(s.draft) + " bản nháp).\nTrạng thái duyệt: chờ duyệt " +
         std::to_string(s.submitted) + ", đã duyệt " + std::to_string(s.accepted) + ", trả lại " +
         std::to_string(s.returned) + ", nháp " + std::to_string(s.draft) + ".\n";
  return out;
}

Response report_response(Service& service, const std::string& period, const std::string& format) {
  const std::string fmt = format.empty() ? "json" : format;
  if (period.empty() || (fmt != "json" && fmt != "csv" && fmt != "xlsx")) {
    return error_response(400, "malformed",
                          "GET /v1/admin/report?period=CODE[&format=json|csv|xlsx]");
  }
  auto rep = service.province_report(period);
  if (!rep.ok()) {
    if (rep.code() == Errc::not_found)
      return error_response(404, "unknown_period", rep.status().message());
    return error_response(503, "storage", rep.status().message());
  }
  Response out;
  if (fmt == "json") {
    out.body = report_json(*rep);
  } else if (fmt == "csv") {
    out.body = report_csv(*rep);
    out.content_type = "text/csv; charset=utf-8";
  } else {
    auto bytes = report_xlsx_bytes(*rep);
    if (!bytes.ok()) return error_response(503, "storage", bytes.status().message());
    out.body = std::move(bytes).value();
    out.content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
  }
  return out;
}

Status report_command(Service& service, const std::string& period, const std::string& csv_path,
                      const std::string& xlsx_path, bool json) {
  auto rep = service.province_report(period);
  if (!rep.ok()) return rep.status();
  std::string notes;
  if (!csv_path.empty()) {
    std::ofstream out(csv_path, std::ios::binary | std::ios::trunc);
    out << report_csv(*rep);
    out.close();
    if (!out) return {Errc::storage_error, "cannot write " + csv_path};
    notes += "CSV: " + csv_path + "\n";
  }
  if (!xlsx_path.empty()) {
    TRAM_RETURN_IF_ERROR(write_report_xlsx(*rep, xlsx_path));
    notes += "XLSX: " + xlsx_path + "\n";
  }
  // With --json, stdout is only the JSON document, for scripts.
  const std::string text =
      json ? report_json(*rep) + "\n" : report_text(*rep) + (notes.empty() ? "" : "\n" + notes);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
  return {};
}

}  // namespace tram::server
