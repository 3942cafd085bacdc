// The SQLite wrapper's transactions: a connection that writes beside another process (the
// server's writer, and `tram-server admin …` on the same file) takes the write lock when its
// transaction begins, so a write after a read waits for the other writer instead of failing.
// And the connection's cache of compiled statements.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <unistd.h>

#include "tram/engine/sqlite.hpp"

namespace tram::sql {
namespace {

// One transaction that reads a counter, then writes it back plus one (what enrolment does
// with a code: read it, then mark it used).
Status read_then_write(Database& db, const std::function<void()>& between = {}) {
  auto tx = Transaction::begin(db);
  if (!tx.ok()) return tx.status();
  auto get = db.prepare("SELECT n FROM counter");
  if (!get.ok()) return get.status();
  auto has = get->step();
  if (!has.ok()) return has.status();
  const int64_t n = get->column_int(0);
  get->reset();
  if (between) between();
  TRAM_RETURN_IF_ERROR(db.exec("UPDATE counter SET n = " + std::to_string(n + 1)));
  return tx->commit();
}

class SqliteTx : public ::testing::Test {
 protected:
  void SetUp() override {
    // One file per test and process: ctest runs the tests of this fixture at the same time.
    path_ = ::testing::TempDir() + "/tram-sqlite-tx-" + ::testing::UnitTest::GetInstance()->current_test_info()->name() + "-" +
            std::to_string(::getpid()) + ".db";
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
    auto db = Database::open(path_);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(db->exec("CREATE TABLE counter(n INTEGER); INSERT INTO counter VALUES (0)").ok());
  }
  int64_t counter() {
    auto db = Database::open(path_);
    auto st = db->prepare("SELECT n FROM counter");
    EXPECT_TRUE(st->step().value());
    return st->column_int(0);
  }
  void TearDown() override {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path_ + suffix);
  }
  std::string path_;
};

// The failure this prevents: a deferred transaction that read, then another connection
// committed, cannot write — SQLite fails it at once ("database is locked"), without waiting.
TEST_F(SqliteTx, ADeferredTransactionFailsWhenAnotherCommittedAfterItsRead) {
  auto a = Database::open(path_), b = Database::open(path_);
  ASSERT_TRUE(a.ok() && b.ok());
  const Status st = read_then_write(*a, [&] { ASSERT_TRUE(b->exec("UPDATE counter SET n = n + 1").ok()); });
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("locked"), std::string::npos) << st.message();
}

// With immediate transactions the other writer waits for the lock (busy timeout) instead, and
// both increments count.
TEST_F(SqliteTx, AnImmediateTransactionMakesTheOtherWriterWait) {
  auto a = Database::open(path_), b = Database::open(path_);
  ASSERT_TRUE(a.ok() && b.ok());
  a->set_immediate_transactions(true);
  std::thread other;
  const Status st = read_then_write(*a, [&] {
    other = std::thread([&] { EXPECT_TRUE(b->exec("UPDATE counter SET n = n + 1").ok()); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // b is waiting for the lock now
  });
  other.join();
  EXPECT_TRUE(st.ok()) << st.to_string();
  EXPECT_EQ(counter(), 2);
  // Nested transactions inside an immediate one are savepoints: a rolled-back inner one leaves
  // the outer one's write.
  {
    auto outer = Transaction::begin(*a);
    ASSERT_TRUE(outer.ok());
    ASSERT_TRUE(a->exec("UPDATE counter SET n = 10").ok());
    {
      auto inner = Transaction::begin(*a);
      ASSERT_TRUE(inner.ok());
      ASSERT_TRUE(a->exec("UPDATE counter SET n = 99").ok());
    }  // rolled back
    ASSERT_TRUE(outer->commit().ok());
  }
  EXPECT_EQ(counter(), 10);
  // A transaction dropped without commit() leaves nothing, and the lock is free again.
  {
    auto dropped = Transaction::begin(*a);
    ASSERT_TRUE(dropped.ok());
    ASSERT_TRUE(a->exec("UPDATE counter SET n = 77").ok());
  }
  EXPECT_EQ(counter(), 10);
  EXPECT_TRUE(b->exec("UPDATE counter SET n = n + 1").ok());
  EXPECT_EQ(counter(), 11);
}


// The compiled statements on `db` whose text is `sql`, with how many times each was run: a
// statement the cache lent again keeps its run count.
std::vector<int> runs_of(Database& db, std::string_view sql) {
  std::vector<int> runs;
  for (sqlite3_stmt* st = sqlite3_next_stmt(db.handle(), nullptr); st; st = sqlite3_next_stmt(db.handle(), st)) {
    if (sqlite3_sql(st) && std::string_view(sqlite3_sql(st)) == sql) runs.push_back(sqlite3_stmt_status(st, SQLITE_STMTSTATUS_RUN, 0));
  }
  return runs;
}

int select_one(Database& db, std::string_view sql) {
  auto st = db.prepare(sql);
  EXPECT_TRUE(st.ok());
  EXPECT_TRUE(st->step().value());
  return static_cast<int>(st->column_int(0));
}

TEST(SqliteStatementCache, AStatementIsCompiledOnceWhateverItsTextEndsWith) {
  auto db = Database::open(":memory:");
  ASSERT_TRUE(db.ok());
  // sqlite3_sql() drops nothing here, but the cache must not depend on it: the key is the
  // caller's text.
  for (int i = 0; i < 5; ++i) EXPECT_EQ(select_one(*db, "SELECT 7 ;  "), 7);
  EXPECT_EQ(runs_of(*db, "SELECT 7 ;"), std::vector<int>{5});
  // Two in use at once: two compiled copies, both kept and lent again.
  {
    auto a = db->prepare("SELECT 8");
    auto b = db->prepare("SELECT 8");
    ASSERT_TRUE(a->step().value());
    ASSERT_TRUE(b->step().value());
  }
  for (int i = 0; i < 3; ++i) EXPECT_EQ(select_one(*db, "SELECT 8"), 8);
  auto runs = runs_of(*db, "SELECT 8");
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0] + runs[1], 5);
}

// SQL with values written into its text (never the same twice) must not fill the cache for
// good: the oldest idle statement makes room, and the hot ones stay compiled.
TEST(SqliteStatementCache, OneOffStatementsDoNotCrowdOutTheHotOnes) {
  auto db = Database::open(":memory:");
  ASSERT_TRUE(db.ok());
  for (int i = 0; i < 2000; ++i) EXPECT_EQ(select_one(*db, "SELECT " + std::to_string(1000 + i)), 1000 + i);
  // A statement first used once the cache is full is still kept.
  for (int i = 0; i < 100; ++i) EXPECT_EQ(select_one(*db, "SELECT 9"), 9);
  EXPECT_EQ(runs_of(*db, "SELECT 9"), std::vector<int>{100});
  int compiled = 0;
  for (sqlite3_stmt* st = sqlite3_next_stmt(db->handle(), nullptr); st; st = sqlite3_next_stmt(db->handle(), st)) ++compiled;
  EXPECT_LE(compiled, 256 + 8);  // the cache's bound, and a few transaction statements
  // A statement outlives its connection: it is finalized, not returned.
  auto late = db->prepare("SELECT 10");
  ASSERT_TRUE(late.ok());
  *db = std::move(Database::open(":memory:").value());
  late = Statement();
}

}  // namespace
}  // namespace tram::sql
