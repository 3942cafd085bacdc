// The server's side of the province report (the report itself, and the one rule of what is
// due, on time and late, live in the tram_report library: report/). Here only what ties it to
// this server: receipt times from the server's log, the `tram-server report` command and
// GET /v1/admin/report. Names kept from before the library so that callers compile unchanged.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "storage/storage.hpp"
#include "tram/engine/status.hpp"
#include "tram/report/province.hpp"
#include "tram/report/render.hpp"

namespace tram::server {

class Service;
struct Response;

using reporting::ReportLine;
using reporting::ReportPeriod;
using reporting::ReportSummary;
using reporting::Timeliness;
using reporting::timeliness_name;
using reporting::report_csv;
using reporting::report_json;
using reporting::report_text;
using reporting::report_xlsx_bytes;
using reporting::write_report_xlsx;

// The library's report under the name service.hpp forward-declares (a struct, so that the
// forward declaration stays valid).
struct ProvinceReport : reporting::ProvinceReport {};

// From the server's log, read through a storage snapshot: each report's submission (the first
// accepted change set that set its status to submitted: its signed time and receipt,
// report/timeliness.hpp rule 2), and the receipt of the change set that wrote its recorded_on
// (for reports without a submission in the log).
class LogReceiptTimes final : public reporting::ReceiptTimes {
 public:
  explicit LogReceiptTimes(ReadSnapshot& snapshot) : snapshot_(snapshot) {}
  Status stamp(std::vector<reporting::ReportRow>& reports) override;

 private:
  ReadSnapshot& snapshot_;
};

// Builds the report from one read snapshot: its rows, and receipt times from the log as of
// the same snapshot. An unknown period is not_found.
Result<ProvinceReport> build_province_report(ReadSnapshot& snapshot, std::string_view period,
                                             int64_t now_ms);

// `tram-server report`: writes the files asked for, then prints the table (or the JSON) to
// stdout (report_routes.cpp).
Status report_command(Service& service, const std::string& period, const std::string& csv_path,
                      const std::string& xlsx_path, bool json);

// GET /v1/admin/report?period=CODE&format=json|csv|xlsx (docs/protocol.md §6.6;
// report_routes.cpp).
Response report_response(Service& service, const std::string& period, const std::string& format);

}  // namespace tram::server
