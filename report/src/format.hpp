// Private to the renderers: numbers, dates and Vietnamese labels as the report writes them.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>

#include "tram/report/province.hpp"

namespace tram::reporting::detail {

// Shortest text that reads back as the same double: 78.5, 90, 0.1.
std::string number(double v);
// UTC+7 all year: received times are shown local.
std::tm broken_down(int64_t ms, bool vietnam);
std::string format_time(int64_t ms, const char* fmt, bool vietnam);
// "2026-06-05" -> "05/06/2026", the way dates are written in Vietnam.
std::string vi_date(const std::string& iso);
std::string_view progress_vi(std::string_view p);
std::string_view review_vi(std::string_view s);
std::string_view timeliness_vi(Timeliness t);
// The "Đạt mục tiêu" column: Đạt, Chưa đạt, Chưa đến hạn, Quá hạn, Không so sánh được; "" for none.
std::string_view target_vi(TargetStatus t);
// What a reviewer must know about a line's times: the device's clock was wrong (its time was
// not used), or the report was made on time offline and reached the server after the deadline.
std::string time_note_vi(const ReportLine& l);
// The target as officials read it: "> 90%", "≥ 4 làn xe", "2–3 bác sĩ/trạm"; "Có" for a
// unit's yes_no answer (its "= 100%" is the province share's).
std::string requirement(const ReportLine& l);
// The value as read: "Có"/"Không" for a unit's yes_no answer, else the number ("" when none).
std::string value_text(const ReportLine& l);
// The timeliness column: "Tổng hợp (không phải báo cáo)" for a share line, else timeliness_vi.
std::string timeliness_text(const ReportLine& l);
// Terminal width of UTF-8 text: code points, combining marks (U+0300–U+036F) take none.
size_t display_width(std::string_view s);
// Cut to `width` columns, ending in "…" when cut; never splits a UTF-8 sequence.
std::string fit(std::string_view s, size_t width, bool right = false);

}  // namespace tram::reporting::detail
