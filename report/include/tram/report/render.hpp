// The province report as people and programs read it: a table for a terminal, CSV for Excel
// (UTF-8 with a BOM, CRLF, RFC 4180 quoting), XLSX (libxlsxwriter) and JSON (docs/protocol.md
// §6.6). Headings and labels are Vietnamese, dates dd/mm/yyyy, times in Vietnam (UTC+7).
#pragma once

#include <string>

#include "tram/engine/status.hpp"
#include "tram/report/province.hpp"

namespace tram::reporting {

std::string report_csv(const ProvinceReport& r);
Status write_report_xlsx(const ProvinceReport& r, const std::string& path);
Result<std::string> report_xlsx_bytes(const ProvinceReport& r);
std::string report_json(const ProvinceReport& r);
// A readable table for a terminal: the reports, then the missing units per indicator.
std::string report_text(const ProvinceReport& r);

}  // namespace tram::reporting
