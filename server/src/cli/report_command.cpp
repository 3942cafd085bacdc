// `tram-server report`: the province report for a period, printed and written as files
// (report_command in report_routes.cpp does the work, as the admin route does).
#include <filesystem>

#include "cli/data_dir.hpp"
#include "cli/i18n.hpp"
#include "report.hpp"

namespace fs = std::filesystem;

namespace tram::server::cli {

int report(const Options& o, ClockSource& clock, RandomSource& random) {
  if (o.get("data").empty() || o.get("period").empty()) return die(_("report needs --data DIR --period CODE [--csv FILE] [--xlsx FILE] [--json]"));
  if (!fs::exists(fs::path(o.get("data")) / "tram.db")) return die(fmt(_("no tram.db in {1} (seed it first: tram-server seed --data {1})"), o.get("data")));
  auto server = open_server(o, clock, random);
  if (!server.ok()) return die(server.status());
  Status st = report_command(*server->service, o.get("period"), o.get("csv"), o.get("xlsx"), o.has("json"));
  return st.ok() ? 0 : die(explain(st));
}

}  // namespace tram::server::cli
