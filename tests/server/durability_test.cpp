// Durability: the server is killed with SIGKILL at random moments while a device pushes.
// After every restart, each change set that got a receipt is in the log exactly once, the
// database passes PRAGMA integrity_check, and the device finishes without loss or duplicates.
// TRAM_KILLS sets the number of kills (the slow suite runs 20).
#include <gtest/gtest.h>

#include <atomic>
#include <deque>
#include <mutex>
#include <set>

#include "harness.hpp"
#include "tram/engine/sqlite.hpp"

namespace tram::testing {
namespace {

namespace dom = simdjson::dom;

Value text(const char* s) { return Value{Text{s}}; }

TEST(Durability, ReceiptedChangeSetsSurviveSigkill) {
  const int kills = std::getenv("TRAM_KILLS") ? std::atoi(std::getenv("TRAM_KILLS")) : 3;
  const std::string data = ::testing::TempDir() + "/tram-durability";
  std::filesystem::remove_all(data);
  ASSERT_EQ(run_cli({"seed", "--data", data}).first, 0);
  ASSERT_EQ(run_cli({"admin", "create-user", "--data", data, "--id", "minh", "--role", "official", "--units", "03808"}).first, 0);
  auto code = run_cli({"admin", "enrol-code", "--data", data, "--user", "minh"}).second;
  ServerProcess server(data);
  TestDevice dev(server.port(), code.substr(0, code.find('\n')), "minh", 42);
  ASSERT_TRUE(dev.enrolled());

  std::mutex mu;
  std::deque<SignedChangeSet> outbox;  // made, not yet receipted
  std::set<std::string> receipted;     // ids with a verified "accepted"/"duplicate" answer
  SeededRandom rng(7);
  int made = 0;
  auto make_some = [&](int n) {
    for (int i = 0; i < n; ++i) {
      const std::string row = "r" + std::to_string(made++);
      auto m = dev.make({Op{"progress_report", row, OpKind::put,
                            {{1, text("03808")}, {4, text("2026-H1")}, {5, Value{1.0}}, {6, text("on_track")},
                             {11, text("Lò Văn Minh")}, {12, Value{*Date::parse("2026-06-03")}}, {13, text("draft")}},
                            {}}});
      outbox.push_back(m.signed_cs);
    }
  };
  // One push of the outbox's head; receipts take change sets out of the outbox.
  auto push_once = [&]() -> bool {
    std::vector<SignedChangeSet> batch;
    {
      std::lock_guard lock(mu);
      for (size_t i = 0; i < outbox.size() && i < 20; ++i) batch.push_back(outbox[i]);
    }
    if (batch.empty()) return true;
    HttpResponse r = dev.push(batch);
    if (r.status == 401) return dev.login();
    if (r.status != 200) return false;
    dom::parser p;
    dom::element root;
    if (p.parse(r.body).get(root)) return false;
    std::lock_guard lock(mu);
    for (dom::element e : root["results"].get_array()) {
      std::string_view status = e["status"].get_string().value();
      if (status != "accepted" && status != "duplicate") return false;
      receipted.insert(std::string(std::string_view(e["id"].get_string().value())));
      outbox.pop_front();
    }
    return true;
  };

  int mid_push = 0;
  for (int k = 0; k < kills; ++k) {
    {
      std::lock_guard lock(mu);
      make_some(300);
    }
    std::atomic<bool> stop{false};
    std::thread pusher([&] {
      for (int i = 0; i < 500 && !stop; ++i) {
        if (!push_once()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(5 + rng.below(60)));
    {
      std::lock_guard lock(mu);
      if (!outbox.empty()) ++mid_push;  // killed with pushes still going
    }
    server.stop(SIGKILL);
    stop = true;
    pusher.join();
    server.start();
    dev.set_port(server.port());
    ASSERT_TRUE(dev.login());
  }
  // Drain whatever is left (bounded).
  for (int i = 0; i < 2000 && !outbox.empty(); ++i) ASSERT_TRUE(push_once());
  ASSERT_TRUE(outbox.empty());
  server.stop(SIGTERM);

  auto db = sql::Database::open(data + "/tram.db");
  ASSERT_TRUE(db.ok());
  auto check = db->prepare("PRAGMA integrity_check");
  ASSERT_TRUE(*check->step());
  EXPECT_EQ(check->column_text(0), "ok");
  auto count = db->prepare("SELECT count(*), count(DISTINCT id) FROM _srv_log WHERE device = ?");
  count->bind_blob(1, dev.key());
  ASSERT_TRUE(*count->step());
  EXPECT_EQ(count->column_int(0), made);  // every change set exactly once
  EXPECT_EQ(count->column_int(1), made);
  auto present = db->prepare("SELECT 1 FROM _srv_log WHERE id = ? AND accepted = 1");
  for (const auto& id : receipted) {
    present->reset();
    present->bind_blob(1, *from_hex<32>(id));
    EXPECT_TRUE(*present->step()) << "receipted change set " << id << " lost";
  }
  auto rows = db->prepare("SELECT count(*) FROM progress_report");
  ASSERT_TRUE(*rows->step());
  EXPECT_EQ(rows->column_int(0), made);
  EXPECT_GE(mid_push * 2, kills) << "most kills should land while pushes are under way";
  std::printf("%d kills (%d mid-push), %d change sets, %zu receipts, all present exactly once\n", kills, mid_push, made,
              receipted.size());
}

}  // namespace
}  // namespace tram::testing
