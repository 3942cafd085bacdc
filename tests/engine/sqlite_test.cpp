// The SQLite wrapper's transactions: a connection that writes beside another process (the
// server's writer, and `tram-server admin …` on the same file) takes the write lock when its
// transaction begins, so a write after a read waits for the other writer instead of failing.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

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
    path_ = ::testing::TempDir() + "/tram-sqlite-tx.db";
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

}  // namespace
}  // namespace tram::sql
