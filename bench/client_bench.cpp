// Client SDK benchmark against a running tram-server on loopback (scripts/run-client-bench.sh):
//  - local save: insert + sign + commit (WAL, synchronous=FULL) latency, p50 and p99;
//  - a fresh device pulling every row the server holds into its local store, end to end:
//    --pulls N pairs (5), each a fresh device pulling one page at a time then a fresh device
//    with read-ahead, alternating so that both see the machine's load alike; medians.
// Usage: tram-client-bench --server http://127.0.0.1:PORT --admin-token TOKEN --dir DIR
//                          [--saves 2000] [--pulls 5] [--json]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <simdjson.h>

#include "tram/client.hpp"

using namespace tram;
using namespace tram::client;
using Clock = std::chrono::steady_clock;

namespace {

int die(const std::string& m) {
  std::fprintf(stderr, "tram-client-bench: %s\n", m.c_str());
  return 1;
}

Result<std::string> admin(Transport& t, const std::string& token, const std::string& path, const std::string& body) {
  std::atomic<bool> never{false};
  auto r = t.send({"POST", path, {{"Authorization", "Bearer " + token}}, body}, never);
  if (!r.ok()) return r.status();
  if (r->status != 200) return Status(Errc::rejected, path + ": " + r->body);
  return r->body;
}

Result<std::unique_ptr<Client>> enrolled(Transport& t, const std::string& url, const std::string& token, const std::string& path,
                                         const std::string& user, const std::string& user_json, bool read_ahead = true) {
  auto u = admin(t, token, "/v1/admin/users", user_json);
  if (!u.ok()) return u.status();
  auto code = admin(t, token, "/v1/admin/enrolment-codes", "{\"user\":\"" + user + "\"}");
  if (!code.ok()) return code.status();
  simdjson::dom::parser p;
  std::string_view c;
  if (p.parse(*code)["code"].get_string().get(c)) return Status(Errc::malformed_json, "enrolment code");
  Options o;
  o.path = path;
  o.schemas_dir = TRAM_SCHEMAS_DIR "/sonla-2026";
  o.wrapping_key.fill(3);
  o.sync.read_ahead = read_ahead;
  auto client = Client::open(o);
  if (!client.ok()) return client.status();
  TRAM_RETURN_IF_ERROR((*client)->enroll(url, std::string(c)));
  return client;
}

double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> opt;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--json") json = true;
    else if (a.rfind("--", 0) == 0 && i + 1 < argc) opt[a.substr(2)] = argv[++i];
  }
  const std::string url = opt["server"], token = opt["admin-token"], dir = opt["dir"];
  if (url.rfind("http://127.0.0.1:", 0) != 0 || token.empty() || dir.empty()) {
    return die("--server http://127.0.0.1:PORT --admin-token TOKEN --dir DIR [--saves N] [--json]");
  }
  const int saves = opt.count("saves") ? std::stoi(opt["saves"]) : 2000;
  const int pulls = std::clamp(opt.count("pulls") ? std::stoi(opt["pulls"]) : 5, 1, 50);
  std::filesystem::create_directories(dir);
  auto transport = make_http_transport(url);
  if (!transport.ok()) return die(transport.status().to_string());

  // 1. Local saves by an official, offline (no sync in between).
  auto official = enrolled(**transport, url, token, dir + "/official.db", "bench-official",
                           "{\"id\":\"bench-official\",\"role\":\"official\",\"units\":[\"03808\"]}");
  if (!official.ok()) return die(official.status().to_string());
  std::vector<double> ms;
  ms.reserve(static_cast<size_t>(saves));
  for (int k = 0; k < saves; ++k) {
    WriteTxn t;
    t.insert("progress_report", "",
             {{"unit_code", Value{Text{"03808"}}}, {"indicator", Value{Text{"CT-CAPNUOC-XA"}}}, {"period", Value{Text{"2026-H1"}}},
              {"value", Value{91.5}}, {"progress", Value{Text{"on_track"}}},
              {"narrative", Value{Text{"Tỷ lệ hộ dân sử dụng nước sạch đạt 91,5%, tăng 3% so với cùng kỳ; bản Nà Lốc đã có nước."}}},
              {"author", Value{Text{"Lò Văn Minh"}}}, {"recorded_on", Value{*Date::parse("2026-06-03")}},
              {"status", Value{Text{"draft"}}}});
    const auto t0 = Clock::now();
    auto r = (*official)->commit(t);
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (!r.ok()) return die(r.status().to_string());
  }
  const double p50 = percentile(ms, 0.50), p99 = percentile(ms, 0.99);

  // 2. A fresh province-wide device pulls everything the server holds: first one page at a
  // time, then with the next page read ahead (the default), as a ratio in the same run.
  auto pull_all = [&](const std::string& name, bool read_ahead) -> Result<std::pair<SyncReport, double>> {
    auto reviewer = enrolled(**transport, url, token, dir + "/" + name + ".db", name,
                             "{\"id\":\"" + name + "\",\"role\":\"reviewer\",\"all_units\":true}", read_ahead);
    if (!reviewer.ok()) return reviewer.status();
    const auto t0 = Clock::now();
    auto report = (*reviewer)->sync();
    const double s = std::chrono::duration<double>(Clock::now() - t0).count();
    if (!report.ok()) return report.status();
    return std::pair(*report, s);
  };
  std::vector<double> ahead_rates, serial_rates, ratios, ahead_s;
  SyncReport last;
  for (int k = 0; k < pulls; ++k) {
    auto serial = pull_all("bench-reviewer-serial-" + std::to_string(k), false);
    if (!serial.ok()) return die(serial.status().to_string());
    auto ahead = pull_all("bench-reviewer-" + std::to_string(k), true);
    if (!ahead.ok()) return die(ahead.status().to_string());
    if (ahead->first.rows_pulled != serial->first.rows_pulled || ahead->first.rows_pulled == 0) {
      return die("the two pulls of a pair stored different row counts");
    }
    last = ahead->first;
    ahead_s.push_back(ahead->second);
    ahead_rates.push_back(static_cast<double>(ahead->first.rows_pulled) / ahead->second);
    serial_rates.push_back(static_cast<double>(serial->first.rows_pulled) / serial->second);
    ratios.push_back(ahead_rates.back() / serial_rates.back());
  }
  const SyncReport* report = &last;
  const double pull_s = percentile(ahead_s, 0.5);
  const double rows_per_s = percentile(ahead_rates, 0.5);
  const double serial_rows_per_s = percentile(serial_rates, 0.5);

  if (json) {
    std::printf("{\"saves\":%d,\"save_p50_ms\":%.3f,\"save_p99_ms\":%.3f,\"pull_rows\":%llu,\"pull_s\":%.3f,"
                "\"pull_rows_per_s\":%.0f,\"pull_serial_rows_per_s\":%.0f,\"pull_bytes_per_row\":%.1f,\"pull_pairs\":%d,"
                "\"pull_rows_per_s_min\":%.0f,\"pull_rows_per_s_max\":%.0f,\"pull_ahead_ratio\":%.2f}\n",
                saves, p50, p99, static_cast<unsigned long long>(report->rows_pulled), pull_s, rows_per_s, serial_rows_per_s,
                static_cast<double>(report->bytes_received) / static_cast<double>(std::max<uint64_t>(1, report->rows_pulled)), pulls,
                *std::min_element(ahead_rates.begin(), ahead_rates.end()), *std::max_element(ahead_rates.begin(), ahead_rates.end()),
                percentile(ratios, 0.5));
  } else {
    std::printf("local save (insert + sign + commit): p50 %.3f ms, p99 %.3f ms over %d saves\n", p50, p99, saves);
    std::printf("fresh device pull, medians of %d alternating pairs: %llu rows in %.2f s = %.0f rows/s (one page at a time:"
                " %.0f rows/s), %.1f bytes/row\n", pulls,
                static_cast<unsigned long long>(report->rows_pulled), pull_s, rows_per_s, serial_rows_per_s,
                static_cast<double>(report->bytes_received) / static_cast<double>(std::max<uint64_t>(1, report->rows_pulled)));
  }
  return 0;
}
