// Durability: the server is killed with SIGKILL at random moments while several devices push at
// once. After every restart, for each device: every change set that got a receipt is in the log
// exactly once, the log holds the device's chain 1..N with no gap and each seq carries the id the
// device made at that seq, and nothing else. The database passes PRAGMA integrity_check (every
// TRAM_CHECK_EVERY restarts, and at the end). At the end every device's whole outbox is in, once.
// TRAM_KILLS sets the number of kills (the slow suite runs 20, `make soak` 1,000), TRAM_DEVICES the
// devices pushing (2), TRAM_PER_KILL the change sets each device makes before each kill (300 in
// all, shared out).
#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "../support/scratch.hpp"
#include "harness.hpp"
#include "tram/engine/sqlite.hpp"

namespace tram::testing {
namespace {

namespace dom = simdjson::dom;

Value text(const char* s) { return Value{Text{s}}; }

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

// One device pushing its outbox on its own thread, as a phone would.
struct Pusher {
  std::unique_ptr<TestDevice> dev;
  std::mutex mu;
  std::deque<SignedChangeSet> outbox;  // made, not yet receipted
  std::vector<std::string> made;       // ids in chain order: made[k] is seq k + 1
  std::map<std::string, int64_t> seq_of;  // id -> seq
  std::set<std::string> receipted;     // ids with an "accepted"/"duplicate" answer
  std::vector<std::string> fresh;      // receipted since the last check
  int rows = 0;
  std::string failure;                 // an answer that should never come

  void make_some(int n, const std::string& prefix) {
    std::lock_guard lock(mu);
    for (int i = 0; i < n; ++i) {
      const std::string row = prefix + "-r" + std::to_string(rows++);
      auto m = dev->make({Op{"progress_report", row, OpKind::put,
                             {{1, text("03808")}, {4, text("2026-H1")}, {5, Value{1.0}}, {6, text("on_track")},
                              {11, text("Lò Văn Minh")}, {12, Value{*Date::parse("2026-06-03")}}, {13, text("draft")}},
                             {}}});
      made.push_back(to_hex(m.id));
      seq_of[made.back()] = static_cast<int64_t>(made.size());
      outbox.push_back(m.signed_cs);
    }
  }
  // One push of the outbox's head; receipts take change sets out of the outbox, in order.
  bool push_once() {
    std::vector<SignedChangeSet> batch;
    {
      std::lock_guard lock(mu);
      for (size_t i = 0; i < outbox.size() && i < 20; ++i) batch.push_back(outbox[i]);
    }
    if (batch.empty()) return true;
    HttpResponse r = dev->push(batch);
    if (r.status == 401) return dev->login();
    if (r.status != 200) return false;
    dom::parser p;
    dom::element root;
    if (p.parse(r.body).get(root)) return false;
    std::lock_guard lock(mu);
    size_t k = 0;
    for (dom::element e : root["results"].get_array()) {
      std::string_view status = e["status"].get_string().value();
      const std::string id(std::string_view(e["id"].get_string().value()));
      if (status != "accepted" && status != "duplicate") {
        failure = "change set " + id + " answered " + std::string(status);
        return false;
      }
      if (k >= batch.size() || id != to_hex(batch[k].id())) {
        failure = "answer " + std::to_string(k) + " is for " + id + ", not the change set sent";
        return false;
      }
      ++k;
      if (receipted.insert(id).second) fresh.push_back(id);
      outbox.pop_front();
    }
    return true;
  }
};

// The checks after a restart (the server up again, nobody pushing): returns the change sets in
// the log for this device.
int64_t check_device(sql::Database& db, Pusher& p, int64_t& checked_seq, int kill) {
  auto agg = db.prepare("SELECT count(*), count(DISTINCT id), coalesce(min(seq), 0), coalesce(max(seq), 0)"
                        " FROM _srv_log WHERE device = ?");
  agg->bind_blob(1, p.dev->key());
  EXPECT_TRUE(*agg->step());
  const int64_t n = agg->column_int(0), distinct = agg->column_int(1), lo = agg->column_int(2), hi = agg->column_int(3);
  EXPECT_EQ(n, distinct) << "kill " << kill << ": a change set is in the log twice";
  if (n > 0) {
    EXPECT_EQ(lo, 1) << "kill " << kill << ": the chain does not start at 1";
  }
  EXPECT_EQ(hi, n) << "kill " << kill << ": the chain 1.." << hi << " has gaps";
  EXPECT_LE(n, static_cast<int64_t>(p.made.size())) << "kill " << kill;
  EXPECT_GE(n, static_cast<int64_t>(p.receipted.size())) << "kill " << kill << ": fewer change sets than receipts";
  // The entries new since the last check are the device's own, in its chain order.
  auto chain = db.prepare("SELECT seq, hex(id), accepted FROM _srv_log WHERE device = ? AND seq > ? ORDER BY seq");
  chain->bind_blob(1, p.dev->key());
  chain->bind_int(2, checked_seq);
  while (*chain->step()) {
    const int64_t seq = chain->column_int(0);
    std::string id(chain->column_text(1));
    for (auto& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (seq < 1 || seq > static_cast<int64_t>(p.made.size())) {
      ADD_FAILURE() << "kill " << kill << ": seq " << seq << " was never made";
      break;
    }
    EXPECT_EQ(id, p.made[static_cast<size_t>(seq - 1)]) << "kill " << kill << ": seq " << seq << " is another change set";
    EXPECT_EQ(chain->column_int(2), 1) << "kill " << kill << ": seq " << seq << " not accepted";
    checked_seq = seq;
  }
  // Every change set receipted since the last check is there, at its seq (found through the
  // chain's index: the log has none on id), accepted; once, as ids are distinct above.
  auto at = db.prepare("SELECT lower(hex(id)), accepted FROM _srv_log WHERE device = ? AND seq = ?");
  for (const auto& id : p.fresh) {
    at->reset();
    at->bind_blob(1, p.dev->key());
    at->bind_int(2, p.seq_of.at(id));
    if (!*at->step()) {
      ADD_FAILURE() << "kill " << kill << ": receipted change set " << id << " lost";
      continue;
    }
    EXPECT_EQ(at->column_text(0), id) << "kill " << kill;
    EXPECT_EQ(at->column_int(1), 1) << "kill " << kill << ": receipted change set " << id << " not accepted";
  }
  p.fresh.clear();
  return n;
}

bool integrity_ok(sql::Database& db) {
  auto check = db.prepare("PRAGMA integrity_check");
  return check.ok() && *check->step() && check->column_text(0) == "ok";
}

TEST(Durability, ReceiptedChangeSetsSurviveSigkill) {
  const int kills = env_int("TRAM_KILLS", 3);
  const int devices = std::max(1, env_int("TRAM_DEVICES", 2));
  const int per_kill = std::max(1, env_int("TRAM_PER_KILL", 300 / devices));
  const int check_every = std::max(1, env_int("TRAM_CHECK_EVERY", 1));
  const std::string data = scratch_dir("tram-durability", "kills") + "/data";  // kept when the test fails
  ASSERT_EQ(run_cli({"seed", "--data", data}).first, 0);
  ASSERT_EQ(run_cli({"admin", "create-user", "--data", data, "--id", "minh", "--role", "official", "--units", "03808"}).first, 0);
  ServerProcess server(data);
  std::vector<std::unique_ptr<Pusher>> pushers;
  for (int d = 0; d < devices; ++d) {
    auto code = run_cli({"admin", "enrol-code", "--data", data, "--user", "minh"}).second;
    auto p = std::make_unique<Pusher>();
    p->dev = std::make_unique<TestDevice>(server.port(), code.substr(0, code.find('\n')), "minh", 42 + d);
    ASSERT_TRUE(p->dev->enrolled()) << p->dev->enrol_body();
    pushers.push_back(std::move(p));
  }

  SeededRandom rng(7);
  std::vector<int64_t> checked(devices, 0);
  int mid_push = 0, integrity_checks = 0;
  for (int k = 0; k < kills; ++k) {
    for (int d = 0; d < devices; ++d) pushers[d]->make_some(per_kill, "d" + std::to_string(d));
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (auto& p : pushers) {
      threads.emplace_back([&stop, p = p.get()] {
        for (int i = 0; i < 500 && !stop; ++i) {
          if (!p->push_once()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + rng.below(60)));
    bool pending = false;
    for (auto& p : pushers) {
      std::lock_guard lock(p->mu);
      pending = pending || !p->outbox.empty();
    }
    if (pending) ++mid_push;  // killed with pushes still going
    server.stop(SIGKILL);
    stop = true;
    for (auto& t : threads) t.join();
    for (auto& p : pushers) ASSERT_EQ(p->failure, "") << "kill " << k;
    server.start();
    for (auto& p : pushers) {
      p->dev->set_port(server.port());
      ASSERT_TRUE(p->dev->login()) << "kill " << k;
    }
    auto db = sql::Database::open(data + "/tram.db");
    ASSERT_TRUE(db.ok());
    for (int d = 0; d < devices; ++d) check_device(*db, *pushers[d], checked[d], k);
    if ((k + 1) % check_every == 0) {
      ++integrity_checks;
      ASSERT_TRUE(integrity_ok(*db)) << "kill " << k << ": PRAGMA integrity_check failed";
    }
    ASSERT_FALSE(::testing::Test::HasFailure()) << "stopped at kill " << k;
  }
  // Drain whatever is left (bounded).
  for (auto& p : pushers) {
    for (int i = 0; i < 2000 && !p->outbox.empty(); ++i) ASSERT_TRUE(p->push_once()) << p->failure;
    ASSERT_TRUE(p->outbox.empty());
  }
  server.stop(SIGTERM);

  auto db = sql::Database::open(data + "/tram.db");
  ASSERT_TRUE(db.ok());
  EXPECT_TRUE(integrity_ok(*db));
  int64_t made = 0, in_log = 0, receipts = 0;
  for (int d = 0; d < devices; ++d) {
    // Everything new is checked; the old receipts once more, all of them.
    pushers[d]->fresh.assign(pushers[d]->receipted.begin(), pushers[d]->receipted.end());
    const int64_t n = check_device(*db, *pushers[d], checked[d], kills);
    EXPECT_EQ(n, static_cast<int64_t>(pushers[d]->made.size())) << "device " << d << ": every change set exactly once";
    EXPECT_EQ(checked[d], n);
    made += static_cast<int64_t>(pushers[d]->made.size());
    in_log += n;
    receipts += static_cast<int64_t>(pushers[d]->receipted.size());
  }
  auto rows = db->prepare("SELECT count(*) FROM progress_report");
  ASSERT_TRUE(*rows->step());
  EXPECT_EQ(rows->column_int(0), made);
  EXPECT_GE(mid_push * 2, kills) << "most kills should land while pushes are under way";
  std::printf("durability: %d kills (%d mid-push), %d devices, %lld change sets made, %lld receipted, %lld in the log, "
              "%lld lost, %lld duplicated, chains 1..N %s, integrity_check %d times\n",
              kills, mid_push, devices, static_cast<long long>(made), static_cast<long long>(receipts),
              static_cast<long long>(in_log), static_cast<long long>(made - in_log), 0LL,
              ::testing::Test::HasFailure() ? "FAILED" : "ok", integrity_checks + 1);
}

}  // namespace
}  // namespace tram::testing
