// The province report's two doors on the server: the admin route and the `report` command,
// both through Service::province_report (one read snapshot, on a read connection: it never waits
// for the writer, and the report's rows and receipt times are as of the same commit).
#include <cstdio>
#include <fstream>

#include "report.hpp"
#include "service.hpp"

namespace tram::server {

Response report_response(Service& service, const std::string& period, const std::string& format) {
  const std::string fmt = format.empty() ? "json" : format;
  if (period.empty() || (fmt != "json" && fmt != "csv" && fmt != "xlsx")) {
    return error_response(400, "malformed", "GET /v1/admin/report?period=CODE[&format=json|csv|xlsx]");
  }
  auto rep = service.province_report(period);
  if (!rep.ok()) {
    if (rep.code() == Errc::not_found) return error_response(404, "unknown_period", rep.status().message());
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
