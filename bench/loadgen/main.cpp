// tram-loadgen: pushes pre-signed change sets from many simulated devices to a running
// tram-server over loopback, then has a fresh device pull everything, and reports rows/s,
// change sets/s, request latency p50/p99 and bytes on the wire per row. Optionally holds many
// idle connections open meanwhile. Every loop is bounded.
//   tram-loadgen --server http://127.0.0.1:PORT --admin-token TOKEN [--devices 100]
//                [--changesets 10000] [--rows 10] [--batch 100] [--threads 4] [--idle 0]
//                [--pull-probe 0] [--probe-changesets 2000] [--text stock|varied] [--corpus FILE]
//                [--push-form base64|json] [--json]
// --threads: connections pushing at once (the devices do not wait for each other; the server's
// group commit writes what arrives together in one transaction). Each connection carries the
// pushes of its share of the devices in turn, over keep-alive.
// --batch: change sets per push request (100: a device back after days offline; 1: an official
// sending each report as it is saved). --changesets are dealt round the --devices, so
// --devices 10000 --changesets 10000 --batch 1 is ten thousand phones sending one report each.
// --text varied: the narrative and difficulties of each report are words drawn at random from
// --corpus (bench/corpus-vi.txt, the programme's own words, built by bench/build-corpus.py)
// instead of three fixed sentences, which gzip squeezes far better than officials' real text.
// --push-form json: each change set travels as a JSON string of its bytes ("csj",
// docs/protocol.md §7.1) instead of base64 ("cs"), so gzip sees the text itself.
// --pull-probe N: then measures whether pulls wait for pushes (the server reads devices,
// sessions and pages on read connections of their own, never behind the writer): N pulls of one
// 100-row page by the reviewer with the server otherwise quiet, then up to N more while the push
// threads send --probe-changesets further change sets; pull latency p50/p99 for both (only the
// pulls that finished while pushes were still running count as "busy"). Each pull is followed by
// a GET /healthz, which reads no storage: its latency is the control (what the busy server's CPU
// and threads cost any request), so what a pull adds beyond it is time spent in, or waiting for,
// storage. Bounded by N and by the probe's pushes.
// Longer than ~400 lines: one program (options, request building, the load loop, the probe and the
// report) that is easier to read top to bottom than split across files of a benchmark.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <simdjson.h>
#include <sodium.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tram/engine/gzip.hpp"
#include "tram/engine/device_chain.hpp"
#include "tram/engine/json.hpp"
#include "tram/engine/uuid.hpp"

using namespace tram;
namespace dom = simdjson::dom;

namespace {

// A keep-alive HTTP/1.1 connection with byte counters (what crosses the wire).
class Connection {
 public:
  explicit Connection(uint16_t port) : port_(port) { open(); }
  ~Connection() { if (fd_ >= 0) ::close(fd_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  struct Reply {
    int status = 0;
    std::string body;
  };
  Reply request(const std::string& method, const std::string& path, const std::string& body,
                const std::vector<std::string>& headers) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
      for (const auto& h : headers) req += h + "\r\n";
      req += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
      req += body;
      if (send_all(req)) {
        Reply r;
        if (read_reply(r)) {
          sent_ += req.size();
          return r;
        }
      }
      ::close(fd_);
      open();
    }
    return {};
  }
  uint64_t sent() const { return sent_; }
  uint64_t received() const { return received_; }

 private:
  void open() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval tv{30, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port_);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    (void)::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    buf_.clear();
  }
  bool send_all(const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
      const ssize_t n = ::send(fd_, s.data() + off, s.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  bool fill() {
    char tmp[65536];
    const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    received_ += static_cast<uint64_t>(n);
    return true;
  }
  bool read_reply(Reply& r) {
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!fill()) return false;
    }
    const std::string head = buf_.substr(0, end);
    r.status = std::stoi(head.substr(9, 3));
    size_t length = 0;
    bool gz = false;
    for (size_t pos = head.find("\r\n"); pos != std::string::npos;) {
      const size_t next = head.find("\r\n", pos + 2);
      std::string line = head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      for (auto& c : line) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (line.rfind("content-length:", 0) == 0) length = std::stoul(line.substr(15));
      if (line.rfind("content-encoding:", 0) == 0 && line.find("gzip") != std::string::npos) gz = true;
      pos = next;
    }
    while (buf_.size() < end + 4 + length) {
      if (!fill()) return false;
    }
    r.body = buf_.substr(end + 4, length);
    buf_.erase(0, end + 4 + length);
    if (gz) r.body = gzip_decompress(r.body, 256 << 20).value_or("");
    return true;
  }

  uint16_t port_;
  int fd_ = -1;
  std::string buf_;
  uint64_t sent_ = 0, received_ = 0;
};

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

int die(const std::string& m) {
  std::fprintf(stderr, "tram-loadgen: %s\n", m.c_str());
  return 1;
}

struct SimDevice {
  std::string user, unit, token;
  std::unique_ptr<DeviceChain> chain;
  std::vector<SignedChangeSet> pending;
};

}  // namespace

int main(int argc, char** argv) {
  std::map<std::string, std::string> opt = {{"devices", "100"}, {"changesets", "10000"}, {"rows", "10"},
                                            {"batch", "100"},   {"threads", "4"},         {"idle", "0"},
                                            {"pull-probe", "0"}, {"probe-changesets", "2000"}, {"units-file", TRAM_UNITS_CSV},
                                            {"text", "stock"}, {"corpus", TRAM_CORPUS}, {"push-form", "base64"}};
  bool json_out = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--json") json_out = true;
    else if (a == "--help") {
      std::puts("tram-loadgen --server http://127.0.0.1:PORT --admin-token TOKEN [--devices 100] [--changesets 10000]\n"
                "             [--rows 10] [--batch 100] [--threads 4] [--idle 0] [--pull-probe 0]\n"
                "             [--probe-changesets 2000] [--text stock|varied] [--corpus FILE]\n"
                "             [--push-form base64|json] [--json]");
      return 0;
    } else if (a.rfind("--", 0) == 0 && i + 1 < argc) opt[a.substr(2)] = argv[++i];
  }
  const std::string url = opt["server"];
  if (url.rfind("http://127.0.0.1:", 0) != 0) return die("--server http://127.0.0.1:PORT (loopback only)");
  const uint16_t port = static_cast<uint16_t>(std::stoi(url.substr(17)));
  const std::string admin = "Authorization: Bearer " + opt["admin-token"];
  const size_t n_devices = std::stoul(opt["devices"]), n_cs = std::stoul(opt["changesets"]), n_rows = std::stoul(opt["rows"]);
  const size_t batch = std::stoul(opt["batch"]), threads = std::max<size_t>(1, std::stoul(opt["threads"]));
  const size_t n_probe = std::stoul(opt["pull-probe"]), n_probe_cs = n_probe > 0 ? std::stoul(opt["probe-changesets"]) : 0;
  const bool varied = opt["text"] == "varied", json_form = opt["push-form"] == "json";
  if (!varied && opt["text"] != "stock") return die("--text stock|varied");
  if (!json_form && opt["push-form"] != "base64") return die("--push-form base64|json");
  if (n_devices == 0 || batch == 0) return die("--devices and --batch must be at least 1");
  crypto_init();

  // The corpus's words, in text order with their repeats: drawing uniformly from this list
  // draws each word with its frequency in the programme.
  std::vector<std::string> words;
  if (varied) {
    std::ifstream in(opt["corpus"]);
    for (std::string w; in >> w;) words.push_back(w);
    if (words.size() < 100) return die("--text varied: no corpus words in " + opt["corpus"]);
  }

  std::vector<std::string> units;
  {
    std::ifstream in(opt["units-file"]);
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) units.push_back(line.substr(0, line.find(',')));
  }
  if (units.empty()) return die("no units in " + opt["units-file"]);

  // Enrol the devices (users, codes, keys, sessions) through the admin API. Keys and clocks are
  // made here, in order (the seeded generator is not shared between threads); the requests then
  // run on a few connections at once, since 10,000 devices one after another take minutes.
  FakeClock wall(1'780'000'000'000);
  SeededRandom rng(2026);
  std::vector<std::unique_ptr<HybridClock>> clocks;
  std::vector<SimDevice> devices(n_devices + 1);  // the last one is the reviewer that pulls
  dom::parser parser;
  for (size_t i = 0; i <= n_devices; ++i) {
    SimDevice& d = devices[i];
    d.user = i == n_devices ? "load-reviewer" : "load-" + std::to_string(i);
    d.unit = units[i % units.size()];
    clocks.push_back(std::make_unique<HybridClock>(wall, 300'000));
    d.chain = std::make_unique<DeviceChain>(DeviceKey::generate(rng), *clocks.back(), d.user, "sonla-2026", 2);
  }
  const auto setup_t0 = std::chrono::steady_clock::now();
  std::atomic<size_t> enrolled{0};
  std::string setup_error;
  std::mutex setup_mu;
  auto enrol = [&](Connection& setup, dom::parser& parser, size_t i) -> std::string {
    SimDevice& d = devices[i];
    const bool reviewer = i == n_devices;
    const std::string user_body = reviewer ? "{\"id\":\"" + d.user + "\",\"role\":\"reviewer\",\"all_units\":true}"
                                           : "{\"id\":\"" + d.user + "\",\"role\":\"official\",\"units\":[\"" + d.unit + "\"]}";
    if (setup.request("POST", "/v1/admin/users", user_body, {admin}).status != 200) return "cannot create users (admin token?)";
    auto code = setup.request("POST", "/v1/admin/enrolment-codes", "{\"user\":\"" + d.user + "\"}", {admin});
    std::string_view c;
    if (code.status != 200 || parser.parse(code.body)["code"].get_string().get(c)) return "no enrolment code";
    const std::string key = to_hex(d.chain->device());
    if (setup.request("POST", "/v1/enroll", "{\"code\":\"" + std::string(c) + "\",\"public_key\":\"" + key + "\"}", {}).status != 200) {
      return "enrolment failed";
    }
    auto ch = setup.request("POST", "/v1/auth/challenge", "{\"device\":\"" + key + "\"}", {});
    std::string_view chal;
    if (parser.parse(ch.body)["challenge"].get_string().get(chal)) return "no challenge";
    const std::string challenge(chal);
    auto s = setup.request("POST", "/v1/auth/session",
                           "{\"device\":\"" + key + "\",\"challenge\":\"" + challenge + "\",\"signature\":\"" +
                               to_hex(d.chain->key().sign("tram-session-v1:" + challenge)) + "\"}", {});
    std::string_view tok;
    if (parser.parse(s.body)["token"].get_string().get(tok)) return "no session";
    d.token = "Authorization: Bearer " + std::string(tok);
    return "";
  };
  {
    std::vector<std::thread> pool;
    for (size_t t = 0; t < std::min<size_t>(16, n_devices + 1); ++t) {
      pool.emplace_back([&] {
        Connection setup(port);
        dom::parser p;
        for (size_t i = enrolled++; i <= n_devices; i = enrolled++) {
          if (std::string e = enrol(setup, p, i); !e.empty()) {
            std::lock_guard lock(setup_mu);
            setup_error = e;
            enrolled = n_devices + 1;  // the others stop at their next device
          }
        }
      });
    }
    for (auto& th : pool) th.join();
  }
  if (!setup_error.empty()) return die(setup_error);
  const double setup_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - setup_t0).count();

  // Pre-sign: n_cs change sets of n_rows new progress reports (about 480 bytes of JSON a row).
  // Varied text: a narrative of 18-30 words and difficulties of 4-12, about the length of the
  // stock sentences.
  auto draw = [&](uint64_t lo, uint64_t hi) {
    std::string s;
    for (uint64_t n = lo + rng.below(hi - lo + 1), k = 0; k < n; ++k) (s += k ? " " : "") += words[rng.below(words.size())];
    return s;
  };
  UuidV7Generator ids(wall, rng);
  static const char* kNarratives[] = {"Đã hoàn thành lắp đặt hệ thống cấp nước sinh hoạt tập trung cho bản Nà Cài và bản Huổi Một, phục vụ 215 hộ dân",
                                      "Trạm y tế xã đã có 2 bác sĩ; đang phối hợp với Sở Y tế tuyển dụng thêm 1 bác sĩ theo chương trình hỗ trợ",
                                      "Tổ chức tuyên truyền phòng, chống ma túy tại 12 bản, 1.240 lượt người tham gia; không phát sinh người nghiện mới"};
  size_t rows_total = 0;
  // Signs `count` change sets round the devices into their `pending` (after what is there).
  auto sign = [&](size_t count) -> Status {
    for (size_t k = 0; k < count; ++k) {
      SimDevice& d = devices[k % n_devices];
      std::vector<Op> ops;
      for (size_t r = 0; r < n_rows; ++r) {
        wall.advance(1);
        ops.push_back(Op{"progress_report", ids.next(), OpKind::put,
                         {{1, Value{Text{d.unit}}}, {2, Value{Text{"CT-BACSI-TRAMYTE"}}}, {4, Value{Text{"2026-H1"}}},
                          {5, Value{static_cast<double>(rng.below(100))}}, {6, Value{Text{"on_track"}}},
                          {7, Value{Text{varied ? draw(18, 30) : kNarratives[rng.below(3)]}}},
                          {8, Value{Text{varied ? draw(4, 12) : "Đường giao thông sạt lở mùa mưa"}}},
                          {11, Value{Text{"Lò Văn Minh"}}}, {12, Value{*Date::parse("2026-06-03")}}, {13, Value{Text{"draft"}}}},
                         {}});
      }
      auto made = d.chain->make(std::move(ops));
      if (!made.ok()) return made.status();
      d.pending.push_back(std::move(made->signed_cs));
    }
    return {};
  };
  if (Status st = sign(n_cs); !st.ok()) return die(st.to_string());
  rows_total = n_cs * n_rows;

  // Idle connected devices, held open during the run.
  std::vector<std::unique_ptr<Connection>> idle;
  for (size_t i = 0; i < std::stoul(opt["idle"]); ++i) {
    idle.push_back(std::make_unique<Connection>(port));
    idle.back()->request("GET", "/healthz", "", {});
  }

  // The push requests, built and compressed ahead like the change sets they carry: what is timed
  // is the server's work (and the wire), not the load generator's.
  auto pack = [&] {
    std::vector<std::vector<std::string>> requests(n_devices);
    for (size_t i = 0; i < n_devices; ++i) {
      SimDevice& d = devices[i];
      for (size_t off = 0; off < d.pending.size(); off += batch) {
        std::string body = "{\"changesets\":[";
        for (size_t k = off; k < std::min(d.pending.size(), off + batch); ++k) {
          if (json_form) {
            body += (k > off ? "," : "") + std::string("{\"csj\":");
            json::append_string(body, d.pending[k].bytes);
            body += ",\"sig\":\"" + to_hex(d.pending[k].sig) + "\"}";
          } else {
            body += (k > off ? "," : "") + std::string("{\"cs\":\"") + to_base64(d.pending[k].bytes) + "\",\"sig\":\"" +
                    to_hex(d.pending[k].sig) + "\"}";
          }
        }
        body += "]}";
        requests[i].push_back(gzip_compress(body));
      }
      d.pending.clear();
    }
    return requests;
  };
  const std::vector<std::vector<std::string>> requests = pack();
  // The probe's pushes, signed and packed now too (their chains follow the main run's).
  std::vector<std::vector<std::string>> probe_requests;
  if (n_probe_cs > 0) {
    if (Status st = sign(n_probe_cs); !st.ok()) return die(st.to_string());
    probe_requests = pack();
  }

  // Push: each thread drives its share of the devices over one keep-alive connection.
  std::mutex mu;
  std::vector<double> latencies;
  std::atomic<uint64_t> accepted{0}, wire_up{0}, wire_down{0}, failures{0}, duplicates{0};
  auto push_all = [&](const std::vector<std::vector<std::string>>& reqs, std::vector<double>& lat,
                      std::atomic<uint64_t>& ok, std::atomic<uint64_t>& failed) {
    std::vector<std::thread> pool;
    for (size_t t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        Connection conn(port);
        dom::parser p;
        std::vector<double> mine;
        for (size_t i = t; i < n_devices; i += threads) {
          SimDevice& d = devices[i];
          for (const std::string& packed : reqs[i]) {
            const auto s = std::chrono::steady_clock::now();
            auto r = conn.request("POST", "/v1/push", packed, {d.token, "Content-Encoding: gzip", "Accept-Encoding: gzip"});
            mine.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s).count());
            dom::element root;
            if (r.status != 200 || p.parse(r.body).get(root)) {
              ++failed;
              continue;
            }
            for (dom::element e : root["results"].get_array()) {
              // A duplicate is a retry of a push whose answer was lost (the connection timed out
              // after 30 s and resent it): the change set is in, with its original receipt.
              const std::string_view status = e["status"].get_string().value();
              if (status == "accepted") ++ok;
              if (status == "duplicate") ++ok, ++duplicates;
            }
          }
        }
        wire_up += conn.sent();
        wire_down += conn.received();
        std::lock_guard lock(mu);
        lat.insert(lat.end(), mine.begin(), mine.end());
      });
    }
    for (auto& th : pool) th.join();
  };
  // On stderr, so that a profiler can be attached to the server for the push alone.
  std::fprintf(stderr, "tram-loadgen: %zu devices enrolled in %.1f s, pushing\n", n_devices + 1, setup_s);
  const auto t0 = std::chrono::steady_clock::now();
  push_all(requests, latencies, accepted, failures);
  const double push_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // Pull: a fresh province-wide device takes the snapshot (tables in id order), then pulls
  // what changed since, page by page, as the SDK does.
  Connection pull_conn(port);
  uint64_t after = 0, pulled = 0, pull_failures = 0;
  const auto t1 = std::chrono::steady_clock::now();
  std::string cursor;
  bool snapshot = true;
  for (int page = 0; page < 100000; ++page) {
    const std::string path = snapshot ? "/v1/snapshot?limit=1000&cursor=" + cursor
                                      : "/v1/pull?after=" + std::to_string(after) + "&limit=1000";
    auto r = pull_conn.request("GET", path, "", {devices[n_devices].token, "Accept-Encoding: gzip"});
    dom::element root;
    if (r.status != 200 || parser.parse(r.body).get(root)) {
      ++pull_failures;
      break;
    }
    for (dom::element e : root["rows"].get_array()) {
      if (std::string_view(e["t"].get_string().value()) == "progress_report") ++pulled;
    }
    after = root["next"].get_uint64().value();
    const bool more = root["more"].get_bool().value();
    if (snapshot) {
      cursor = std::string(root["cursor"].get_string().value());
      snapshot = more;
      continue;
    }
    if (!more) break;
  }
  const double pull_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  // Up to here wire_up/wire_down count the main run only.
  const uint64_t main_wire_up = wire_up.load(), main_wire_down = wire_down.load();

  // Pull probe: one 100-row page at a time, quiet, then while pushes run.
  std::vector<double> quiet_ms, busy_ms, quiet_health_ms, busy_health_ms;
  std::atomic<uint64_t> probe_accepted{0}, probe_failures{0};
  double probe_push_s = 0;
  if (n_probe > 0) {
    Connection probe(port);
    dom::parser pp;
    const uint64_t window = std::max<uint64_t>(1, after > 100 ? after - 100 : 1);
    auto pull_once = [&](size_t k) -> double {
      const auto s = std::chrono::steady_clock::now();
      auto r = probe.request("GET", "/v1/pull?after=" + std::to_string((k * 7919) % window) + "&limit=100", "",
                             {devices[n_devices].token, "Accept-Encoding: gzip"});
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s).count();
      dom::element root;
      if (r.status != 200 || pp.parse(r.body).get(root) || root["rows"].get_array().size() == 0) {
        ++probe_failures;
        return -1;
      }
      return ms;
    };
    auto health_once = [&]() -> double {
      const auto s = std::chrono::steady_clock::now();
      auto r = probe.request("GET", "/healthz", "", {});
      if (r.status != 200) {
        ++probe_failures;
        return -1;
      }
      return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s).count();
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    for (size_t k = 0; k < n_probe && std::chrono::steady_clock::now() < deadline; ++k) {
      if (double ms = pull_once(k); ms >= 0) quiet_ms.push_back(ms);
      if (double ms = health_once(); ms >= 0) quiet_health_ms.push_back(ms);
    }
    std::atomic<bool> pushing{true};
    std::vector<double> probe_push_ms;
    const auto t2 = std::chrono::steady_clock::now();
    std::thread pusher([&] {
      push_all(probe_requests, probe_push_ms, probe_accepted, probe_failures);
      pushing = false;
    });
    for (size_t k = 0; k < n_probe && pushing; ++k) {
      const double ms = pull_once(k);
      if (ms >= 0 && pushing) busy_ms.push_back(ms);  // finished while pushes were still running
      const double health = health_once();
      if (health >= 0 && pushing) busy_health_ms.push_back(health);
    }
    pusher.join();
    probe_push_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t2).count();
  }

  const double rows_per_s = static_cast<double>(accepted.load()) * static_cast<double>(n_rows) / push_s;
  const double up_per_row = static_cast<double>(main_wire_up) / static_cast<double>(rows_total);
  const double down_per_row = static_cast<double>(pull_conn.received()) / std::max<double>(1, static_cast<double>(pulled));
  if (json_out) {
    std::printf("{\"rows\":%zu,\"changesets\":%zu,\"accepted_changesets\":%llu,\"push_seconds\":%.3f,\"push_rows_per_s\":%.0f,"
                "\"push_changesets_per_s\":%.0f,\"push_p50_ms\":%.2f,\"push_p99_ms\":%.2f,\"push_bytes_per_row\":%.1f,"
                "\"push_response_bytes_per_row\":%.1f,\"pulled_rows\":%llu,\"pull_seconds\":%.3f,\"pull_rows_per_s\":%.0f,"
                "\"pull_bytes_per_row\":%.1f,\"failures\":%llu,\"idle_connections\":%zu,\"setup_seconds\":%.1f,"
                "\"devices\":%zu,\"batch\":%zu,\"threads\":%zu,\"text\":\"%s\",\"push_form\":\"%s\",\"duplicates\":%llu",
                rows_total, n_cs, static_cast<unsigned long long>(accepted.load()), push_s, rows_per_s,
                static_cast<double>(accepted.load()) / push_s, percentile(latencies, 0.5), percentile(latencies, 0.99),
                up_per_row, static_cast<double>(main_wire_down) / static_cast<double>(rows_total),
                static_cast<unsigned long long>(pulled), pull_s, static_cast<double>(pulled) / pull_s, down_per_row,
                static_cast<unsigned long long>(failures.load() + pull_failures), idle.size(), setup_s, n_devices, batch, threads,
                opt["text"].c_str(), opt["push-form"].c_str(), static_cast<unsigned long long>(duplicates.load()));
    if (n_probe > 0) {
      std::printf(",\"probe_pulls_quiet\":%zu,\"probe_pull_quiet_p50_ms\":%.2f,\"probe_pull_quiet_p99_ms\":%.2f,"
                  "\"probe_pulls_busy\":%zu,\"probe_pull_busy_p50_ms\":%.2f,\"probe_pull_busy_p99_ms\":%.2f,"
                  "\"probe_health_quiet_p50_ms\":%.2f,\"probe_health_quiet_p99_ms\":%.2f,"
                  "\"probe_health_busy_p50_ms\":%.2f,\"probe_health_busy_p99_ms\":%.2f,"
                  "\"probe_push_rows_per_s\":%.0f,\"probe_failures\":%llu",
                  quiet_ms.size(), percentile(quiet_ms, 0.5), percentile(quiet_ms, 0.99), busy_ms.size(),
                  percentile(busy_ms, 0.5), percentile(busy_ms, 0.99), percentile(quiet_health_ms, 0.5),
                  percentile(quiet_health_ms, 0.99), percentile(busy_health_ms, 0.5), percentile(busy_health_ms, 0.99),
                  static_cast<double>(probe_accepted.load() * n_rows) / std::max(probe_push_s, 1e-9),
                  static_cast<unsigned long long>(probe_failures.load()));
    }
    std::printf("}\n");
  } else {
    std::printf("push: %zu rows in %zu change sets from %zu devices: %.0f rows/s, %.0f change sets/s, p50 %.2f ms, p99 %.2f ms"
                " per request, %.1f bytes/row up\n", rows_total, n_cs, n_devices, rows_per_s,
                static_cast<double>(accepted.load()) / push_s, percentile(latencies, 0.5), percentile(latencies, 0.99), up_per_row);
    std::printf("pull: %llu rows in %.2f s: %.0f rows/s, %.1f bytes/row down\n", static_cast<unsigned long long>(pulled), pull_s,
                static_cast<double>(pulled) / pull_s, down_per_row);
    std::printf("failures: %llu, accepted change sets: %llu of %zu, idle connections held: %zu\n",
                static_cast<unsigned long long>(failures.load() + pull_failures), static_cast<unsigned long long>(accepted.load()), n_cs, idle.size());
    if (n_probe > 0) {
      std::printf("pull probe (one 100-row page): quiet %zu pulls p50 %.2f ms p99 %.2f ms; during pushes %zu pulls p50 %.2f ms"
                  " p99 %.2f ms (pushes meanwhile %.0f rows/s); failures %llu\n"
                  "control, GET /healthz (no storage): quiet p50 %.2f ms p99 %.2f ms; during pushes p50 %.2f ms p99 %.2f ms\n",
                  quiet_ms.size(), percentile(quiet_ms, 0.5), percentile(quiet_ms, 0.99), busy_ms.size(),
                  percentile(busy_ms, 0.5), percentile(busy_ms, 0.99),
                  static_cast<double>(probe_accepted.load() * n_rows) / std::max(probe_push_s, 1e-9),
                  static_cast<unsigned long long>(probe_failures.load()), percentile(quiet_health_ms, 0.5),
                  percentile(quiet_health_ms, 0.99), percentile(busy_health_ms, 0.5), percentile(busy_health_ms, 0.99));
    }
  }
  const bool probe_ok = probe_accepted.load() == n_probe_cs && probe_failures.load() == 0;
  return accepted.load() == n_cs && pulled == rows_total && probe_ok ? 0 : 1;
}
