// The province report over the server's storage: the library reads the rows of one read
// snapshot (ReadSnapshot::rows(), a RowReader); the times of receipt come from the server's log through the same
// snapshot (ReadSnapshot::received_times). No SQL here: storage/ is the only door to the data.
// This file does not know the Service (report_routes.cpp does).
#include "report.hpp"

#include <map>
#include <set>

namespace tram::server {

Status LogReceiptTimes::stamp(std::vector<reporting::ReportRow>& reports) {
  std::set<Hash> writers;  // the change sets that wrote the reports' recorded_on
  for (const auto& r : reports) {
    if (r.recorded_by) writers.insert(*r.recorded_by);
  }
  if (writers.empty()) return {};
  auto times = snapshot_.received_times(writers);
  if (!times.ok()) return times.status();
  for (auto& r : reports) {
    if (!r.recorded_by) continue;
    auto it = times->find(*r.recorded_by);
    if (it != times->end()) r.received_ms = it->second;
  }
  return {};
}

Result<ProvinceReport> build_province_report(ReadSnapshot& snapshot, std::string_view period,
                                             int64_t now_ms) {
  LogReceiptTimes receipts(snapshot);
  auto rep = reporting::build_province_report(snapshot.rows(), period, now_ms, &receipts);
  if (!rep.ok()) return rep.status();
  return ProvinceReport{std::move(rep).value()};
}

}  // namespace tram::server
