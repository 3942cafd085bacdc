// The province report over the server's storage: the library reads the replica (an engine
// Store); the times of receipt come from the server's log. This file does not know the Service
// (report_routes.cpp does).
//
// The log is read with one SQL scan of _srv_log in the replica's database: Storage has no
// look-up of a log entry by change-set id yet. When it has one, LogReceiptTimes goes through it
// and no SQL is left here.
#include "report.hpp"

#include <algorithm>
#include <map>

#include "tram/engine/sqlite.hpp"

namespace tram::server {

Status LogReceiptTimes::stamp(std::vector<reporting::ReportRow>& reports) {
  std::map<Hash, std::vector<size_t>> by_writer;  // change set -> reports it wrote recorded_on of
  for (size_t k = 0; k < reports.size(); ++k) {
    if (reports[k].recorded_by) by_writer[*reports[k].recorded_by].push_back(k);
  }
  if (by_writer.empty()) return {};
  sql::Database& db = replica_.db();
  auto exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_srv_log'");
  if (!exists.ok()) return exists.status();
  auto has = exists->step();
  if (!has.ok()) return has.status();
  if (!*has) return {};  // a replica without a log (a copy, a test): no receipt times
  auto st = db.prepare("SELECT id, received_ms FROM _srv_log WHERE accepted = 1");
  if (!st.ok()) return st.status();
  for (;;) {
    auto row = st->step();
    if (!row.ok()) return row.status();
    if (!*row) return {};
    auto b = st->column_blob(0);
    if (b.size() != sizeof(Hash)) continue;
    Hash h;
    std::copy(b.begin(), b.end(), h.begin());
    auto it = by_writer.find(h);
    if (it == by_writer.end()) continue;
    for (size_t k : it->second) reports[k].received_ms = st->column_int(1);
  }
}

Result<ProvinceReport> build_province_report(Store& replica, std::string_view period,
                                             int64_t now_ms) {
  LogReceiptTimes receipts(replica);
  auto rep = reporting::build_province_report(replica, period, now_ms, &receipts);
  if (!rep.ok()) return rep.status();
  return ProvinceReport{std::move(rep).value()};
}

}  // namespace tram::server
