#include "tram/report/inputs.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <tuple>

namespace tram::reporting {
namespace {

constexpr const char* kReports = "progress_report";

std::string text(const SourceRow& r, const char* field) {
  auto it = r.fields.find(field);
  if (it == r.fields.end()) return "";
  const Value& v = it->second;
  if (const auto* t = std::get_if<Text>(&v)) return t->s;
  if (const auto* d = std::get_if<Date>(&v)) return d->to_string();
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  if (const auto* x = std::get_if<double>(&v)) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *x);
    return ec == std::errc() ? std::string(buf, end) : std::to_string(*x);
  }
  return "";
}

std::optional<double> real(const SourceRow& r, const char* field) {
  auto it = r.fields.find(field);
  if (it == r.fields.end()) return std::nullopt;
  if (const auto* d = std::get_if<double>(&it->second)) return *d;
  if (const auto* i = std::get_if<int64_t>(&it->second)) return static_cast<double>(*i);
  return std::nullopt;
}

std::vector<std::string> split_codes(const std::string& list) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string code = list.substr(start, comma - start);
    code.erase(0, code.find_first_not_of(' '));
    code.erase(code.find_last_not_of(' ') + 1);
    if (!code.empty()) out.push_back(code);
    start = comma + 1;
  }
  return out;
}

}  // namespace

const ReportPeriod* ReportInputs::period(std::string_view code) const {
  for (const ReportPeriod& p : periods) {
    if (p.code == code) return &p;
  }
  return nullptr;
}

std::string unit_title(const Unit& u) {
  const std::string prefix = u.type == "xã" ? "Xã " : u.type == "phường" ? "Phường " : "";
  return prefix + u.name;
}

RowSource store_rows(RowReader& store) {
  return [&store](std::string_view table, const std::function<void(SourceRow&&)>& visit) -> Status {
    const TableDef* def = store.schema().table(std::string(table));
    if (!def) return Status(Errc::unknown_table, "the province report needs table " + std::string(table));
    size_t recorded_on = 0;  // cell index; 0: none (cell 0 is liveness)
    for (size_t k = 0; k < def->fields.size(); ++k) {
      if (table == kReports && def->fields[k].name == "recorded_on") recorded_on = k + 1;
    }
    std::string after;
    for (;;) {
      auto n = store.scan_images(table, after, 1000, [&](std::string_view id, RowImage&& image) -> Status {
        after = std::string(id);
        if (image.cells.empty()) return {};
        if (const auto* dead = std::get_if<int64_t>(&image.cells[0].value); dead && *dead != 0) return {};
        SourceRow row;
        row.id = std::string(id);
        for (size_t k = 0; k < def->fields.size() && k + 1 < image.cells.size(); ++k) {
          const CellImage& c = image.cells[k + 1];
          if (!c.writer && std::holds_alternative<std::monostate>(c.value)) continue;
          row.fields[def->fields[k].name] = c.value;
        }
        if (recorded_on && recorded_on < image.cells.size()) row.recorded_by = image.cells[recorded_on].writer;
        visit(std::move(row));
        return {};
      });
      if (!n.ok()) return n.status();
      if (*n < 1000) return {};
    }
  };
}

Result<ReportInputs> read_inputs(const RowSource& rows, ReceiptTimes* receipts) {
  ReportInputs in;
  TRAM_RETURN_IF_ERROR(rows("reporting_period", [&](SourceRow&& r) {
    const auto year = real(r, "year");
    in.periods.push_back({r.id, text(r, "kind"), year ? static_cast<int64_t>(*year) : 0, text(r, "starts"),
                          text(r, "ends"), text(r, "unit_due"), text(r, "finance_due")});
  }));
  std::sort(in.periods.begin(), in.periods.end(), [](const ReportPeriod& a, const ReportPeriod& b) {
    return a.unit_due < b.unit_due || (a.unit_due == b.unit_due && a.code < b.code);
  });
  TRAM_RETURN_IF_ERROR(rows("unit", [&](SourceRow&& r) {
    in.units[r.id] = {r.id, text(r, "name"), text(r, "type")};
  }));
  // Tables a database written by an older schema version does not have: absent, not an error.
  auto optional_rows = [&](std::string_view table, const std::function<void(SourceRow&&)>& visit) -> Status {
    Status st = rows(table, visit);
    return st.code() == Errc::unknown_table ? Status{} : st;
  };
  TRAM_RETURN_IF_ERROR(optional_rows("agency", [&](SourceRow&& r) {
    in.agencies[r.id] = {r.id, text(r, "name"), "sở, ban, ngành"};
  }));
  TRAM_RETURN_IF_ERROR(rows("task_group", [&](SourceRow&& r) {
    const auto n = real(r, "number");
    in.groups[r.id] = {n ? static_cast<int64_t>(*n) : 0, text(r, "title")};
  }));
  TRAM_RETURN_IF_ERROR(rows("task", [&](SourceRow&& r) {
    in.tasks[r.id] = {r.id, text(r, "task_group"), text(r, "title"), text(r, "deadline"), split_codes(text(r, "units")),
                      text(r, "text"), {}};
  }));
  TRAM_RETURN_IF_ERROR(optional_rows("task_reporter", [&](SourceRow&& r) {
    auto t = in.tasks.find(text(r, "task"));
    if (t != in.tasks.end()) t->second.reporters.push_back(text(r, "unit_code"));
  }));
  TRAM_RETURN_IF_ERROR(rows("indicator", [&](SourceRow&& r) {
    Indicator& i = in.indicators[r.id];
    i.code = r.id;
    i.task = text(r, "task");
    i.title = text(r, "title");
    i.kind = text(r, "kind");
    i.comparator = text(r, "comparator");
    i.measure = text(r, "measure");
    i.start = text(r, "start");
    i.deadline = text(r, "deadline");
    i.applies_to = text(r, "applies_to");
    i.target = real(r, "target");
    i.target_max = real(r, "target_max");
  }));
  std::vector<std::pair<std::string, std::string>> links;
  TRAM_RETURN_IF_ERROR(rows("indicator_unit", [&](SourceRow&& r) {
    links.emplace_back(text(r, "indicator"), text(r, "unit_code"));
  }));
  for (auto& [indicator, unit] : links) {
    auto it = in.indicators.find(indicator);
    if (it != in.indicators.end()) it->second.units.push_back(std::move(unit));
  }
  TRAM_RETURN_IF_ERROR(rows(kReports, [&](SourceRow&& r) {
    ReportRow p;
    p.id = r.id;
    p.unit_code = text(r, "unit_code");
    p.indicator = text(r, "indicator");
    p.task = text(r, "task");
    p.period = text(r, "period");
    p.measure = text(r, "measure");
    p.progress = text(r, "progress");
    p.difficulties = text(r, "difficulties");
    p.proposals = text(r, "proposals");
    p.author = text(r, "author");
    p.recorded_on = text(r, "recorded_on");
    p.status = text(r, "status");
    p.review_comment = text(r, "review_comment");
    p.value = real(r, "value");
    p.recorded_by = r.recorded_by;
    in.reports.push_back(std::move(p));
  }));
  // The latest review of each report (reviewed_on, then the row id: UUIDv7, time-ordered). Data
  // written before an accept cleared review_comment still carries the earlier return's comment;
  // the review rows say what the current decision said.
  struct Latest {
    std::string on, id, decision, comment;
  };
  std::map<std::string, Latest> latest;
  TRAM_RETURN_IF_ERROR(rows("review", [&](SourceRow&& r) {
    Latest l{text(r, "reviewed_on"), r.id, text(r, "decision"), text(r, "comment")};
    Latest& cur = latest[text(r, "report")];
    if (std::tie(l.on, l.id) > std::tie(cur.on, cur.id)) cur = std::move(l);
  }));
  for (ReportRow& p : in.reports) {
    auto it = latest.find(p.id);
    if (it != latest.end() && it->second.decision == p.status) p.review_comment = it->second.comment;
  }
  if (receipts) TRAM_RETURN_IF_ERROR(receipts->stamp(in.reports));
  return in;
}

}  // namespace tram::reporting
