// The province report over the server's storage: the library reads the rows of one read
// snapshot (ReadSnapshot::rows(), a RowReader); the times of receipt come from the server's log through the same
// snapshot (ReadSnapshot::received_times). No SQL here: storage/ is the only door to the data.
// This file does not know the Service (report_routes.cpp does).
#include "report.hpp"

#include <map>
#include <set>

namespace tram::server {

namespace {

// The first accepted change set of the log that set each report's status to "submitted".
Result<std::map<std::string, reporting::Submission>> submissions(ReadSnapshot& snapshot,
                                                                 const std::set<std::string>& rows) {
  std::map<std::string, reporting::Submission> out;
  const TableDef* t = snapshot.rows().schema().table("progress_report");
  const FieldDef* status = t ? t->field(std::string_view("status")) : nullptr;
  if (!status || rows.empty()) return out;
  const uint32_t status_id = status->id;
  TRAM_RETURN_IF_ERROR(snapshot.scan_accepted([&](const ReadSnapshot::LoggedChangeSet& e) -> Status {
    // Only a change set that names the table can submit; most do not (a cheap test first).
    if (e.bytes.find("progress_report") == std::string_view::npos) return {};
    auto cs = decode(e.bytes);
    if (!cs.ok()) return {};  // accepted bytes always decode; a bad entry is not a submission
    for (const Op& op : cs->ops) {
      if (op.table != "progress_report" || op.kind != OpKind::put || !rows.count(op.row) || out.count(op.row)) continue;
      for (const FieldWrite& f : op.fields) {
        const auto* v = std::get_if<Text>(&f.value);
        if (f.field == status_id && v && v->s == "submitted") {
          out[op.row] = {cs->hlc.wall_ms(), e.received_ms, e.clock_ahead};
        }
      }
    }
    return {};
  }));
  return out;
}

}  // namespace

Status LogReceiptTimes::stamp(std::vector<reporting::ReportRow>& reports) {
  std::set<std::string> submitted;
  for (const auto& r : reports) {
    if (reporting::is_submitted(r.status)) submitted.insert(r.id);
  }
  auto subs = submissions(snapshot_, submitted);
  if (!subs.ok()) return subs.status();
  for (auto& r : reports) {
    auto it = subs->find(r.id);
    if (it == subs->end()) continue;
    r.submission = it->second;
    r.received_ms = it->second.received_ms;
  }
  std::set<Hash> writers;  // the change sets that wrote the reports' recorded_on
  for (const auto& r : reports) {
    if (r.recorded_by && !r.submission) writers.insert(*r.recorded_by);
  }
  if (writers.empty()) return {};
  auto times = snapshot_.received_times(writers);
  if (!times.ok()) return times.status();
  for (auto& r : reports) {
    if (!r.recorded_by || r.submission) continue;
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
