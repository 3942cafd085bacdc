// Applying change sets to SQLite: clean merges, concurrent edits, tombstones, re-creation,
// idempotency, batches in one transaction and validation against the schema.
#include "tram/engine/store.hpp"

#include <gtest/gtest.h>

#include "test_support.hpp"
#include "tram/engine/device_chain.hpp"

namespace tram {
namespace {

using testing::del;
using testing::put;
using testing::text;
using testing::must;

class StoreTest : public ::testing::Test {
 protected:
  FakeClock wall{1'780'000'000'000};
  HybridClock clock_a{wall, 300'000}, clock_b{wall, 300'000};
  SeededRandom rng{9};
  DeviceChain a{DeviceKey::generate(rng), clock_a, "a", "sonla-2026", 1};
  DeviceChain b{DeviceKey::generate(rng), clock_b, "b", "sonla-2026", 1};
  std::unique_ptr<Store> store = std::move(Store::open(":memory:", testing::report_schema())).value();

  ApplyOutcome apply(const DeviceChain::Made& m, ClockTrust trust = ClockTrust::trusted) {
    ApplyItem item{&m.cs, m.id, trust};
    auto r = store->apply({&item, 1});
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return r.ok() ? *r : ApplyOutcome{};
  }
  RowState row(const std::string& id) {
    auto r = store->get_row("progress_report", id);
    EXPECT_TRUE(r.ok() && r->has_value());
    return r.ok() && r->has_value() ? **r : RowState{};
  }
  WriterId writer(const std::string& id, size_t field_index) { return *row(id).fields[field_index].writer; }
};

TEST_F(StoreTest, InsertThenSequentialEditsMergeCleanly) {
  auto c1 = must(a.make({put("r1", {{1, text("03808")}, {2, Value{10.0}}, {3, text("bắt đầu")}})}));
  EXPECT_EQ(apply(c1).applied, 1u);
  const WriterId w = WriterId::of(c1.id);
  // A edits the value, B (who saw the same version) edits the narrative: different fields.
  wall.advance(10);
  auto ea = must(a.make({put("r1", {{2, Value{20.0}}}, {{0, w}, {2, w}})}));
  wall.advance(10);
  auto eb = must(b.make({put("r1", {{3, text("đang làm")}}, {{0, w}, {3, w}})}));
  EXPECT_EQ(apply(ea).conflicts, 0u);
  EXPECT_EQ(apply(eb).conflicts, 0u);
  RowState r = row("r1");
  EXPECT_EQ(r.fields[0].value, text("03808"));
  EXPECT_EQ(r.fields[1].value, Value{20.0});
  EXPECT_EQ(r.fields[2].value, text("đang làm"));
  EXPECT_FALSE(r.deleted);
  EXPECT_TRUE(store->conflicts()->empty());
}

TEST_F(StoreTest, ConcurrentEditsOfOneFieldKeepTheLoser) {
  auto c1 = must(a.make({put("r1", {{2, Value{10.0}}})}));
  apply(c1);
  const WriterId w = WriterId::of(c1.id);
  wall.advance(10);
  auto ea = must(a.make({put("r1", {{2, Value{20.0}}}, {{0, w}, {2, w}})}));
  wall.advance(10);  // B's edit is later: B wins whatever the arrival order
  auto eb = must(b.make({put("r1", {{2, Value{30.0}}}, {{0, w}, {2, w}})}));
  EXPECT_EQ(apply(eb).conflicts, 0u);
  EXPECT_EQ(apply(ea).conflicts, 1u);
  EXPECT_EQ(row("r1").fields[1].value, Value{30.0});
  auto conflicts = store->conflicts();
  ASSERT_EQ(conflicts->size(), 1u);
  const ConflictRecord& c = conflicts->front();
  EXPECT_EQ(c.field, 2u);
  EXPECT_EQ(c.winner, eb.id);
  EXPECT_EQ(c.loser, ea.id);
  EXPECT_EQ(c.loser_value, Value{20.0});
}

// Two concurrent edits of one field, applied in both orders to two replicas: the same rows
// (hash), and the winner and conflict record the merge rule names — not only equal hashes.
// Once where the clocks decide, once where they tie exactly and the change-set id decides.
class StoreArrivalOrder : public StoreTest, public ::testing::WithParamInterface<bool> {};

TEST_P(StoreArrivalOrder, SameOutcomeInEitherArrivalOrder) {
  const bool tie = GetParam();
  auto c1 = must(a.make({put("r1", {{2, Value{10.0}}})}));
  const WriterId w = WriterId::of(c1.id);
  if (tie) {
    ASSERT_TRUE(clock_b.update(c1.cs.hlc).ok());  // B has seen A's clock: their next stamps are equal
  }
  auto ea = must(a.make({put("r1", {{2, Value{20.0}}}, {{0, w}, {2, w}})}));
  auto eb = must(b.make({put("r1", {{2, Value{30.0}}, {3, text("x")}}, {{0, w}, {2, w}})}));
  if (tie) {
    ASSERT_EQ(ea.cs.hlc, eb.cs.hlc);
  } else {
    ASSERT_GT(ea.cs.hlc, eb.cs.hlc);  // A's clock had ticked for c1: A's edit ranks higher
  }
  // docs/merge.md §5: the greater (rank, id) wins; with equal ranks, the greater id.
  const bool a_wins = tie ? eb.id < ea.id : true;
  const auto& winner = a_wins ? ea : eb;
  const auto& loser = a_wins ? eb : ea;
  const Value win_value = a_wins ? Value{20.0} : Value{30.0}, lose_value = a_wins ? Value{30.0} : Value{20.0};

  auto other = std::move(Store::open(":memory:", testing::report_schema())).value();
  apply(c1);
  EXPECT_EQ(apply(ea).conflicts, 0u);
  EXPECT_EQ(apply(eb).conflicts, 1u);
  uint32_t other_conflicts = 0;
  for (const auto* m : {&c1, &eb, &ea}) {
    ApplyItem item{&m->cs, m->id, ClockTrust::trusted};
    auto r = other->apply({&item, 1});
    ASSERT_TRUE(r.ok());
    other_conflicts += r->conflicts;
  }
  EXPECT_EQ(other_conflicts, 1u);
  EXPECT_EQ(*store->state_hash(), *other->state_hash());
  for (Store* s : {store.get(), other.get()}) {
    auto r = must(s->get_row("progress_report", "r1"));
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->deleted);
    EXPECT_EQ(r->fields[1].value, win_value);
    EXPECT_EQ(r->fields[1].writer, WriterId::of(winner.id));
    EXPECT_EQ(r->fields[2].value, text("x"));  // B alone wrote the narrative: no contest
    EXPECT_EQ(r->fields[2].writer, WriterId::of(eb.id));
    EXPECT_EQ(r->liveness_writer, WriterId::of(winner.id));  // equal values: the greater keeps the metadata
    auto image = must(s->row_image("progress_report", "r1"));
    ASSERT_TRUE(image);
    EXPECT_EQ(image->cells[2].writer, std::optional(winner.id));
    EXPECT_EQ(image->cells[2].rank, winner.cs.hlc.packed);
    auto conflicts = must(s->conflicts());
    ASSERT_EQ(conflicts.size(), 1u);  // the value field only: liveness was equal on both sides
    const ConflictRecord& c = conflicts.front();
    EXPECT_EQ(c.table, "progress_report");
    EXPECT_EQ(c.row, "r1");
    EXPECT_EQ(c.field, 2u);
    EXPECT_EQ(c.winner, winner.id);
    EXPECT_EQ(c.loser, loser.id);
    EXPECT_EQ(c.loser_value, lose_value);
  }
}

INSTANTIATE_TEST_SUITE_P(ClocksDecideOrTie, StoreArrivalOrder, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& i) { return i.param ? "RankTieIdDecides" : "RankDecides"; });

TEST_F(StoreTest, ClockFarAheadNeverWins) {
  auto c1 = must(a.make({put("r1", {{2, Value{10.0}}})}));
  apply(c1);
  const WriterId w = WriterId::of(c1.id);
  wall.advance(5LL * 365 * 24 * 3600 * 1000);  // B's phone is 5 years ahead
  auto eb = must(b.make({put("r1", {{2, Value{99.0}}}, {{2, w}})}));
  wall.advance(-5LL * 365 * 24 * 3600 * 1000);
  auto ea = must(a.make({put("r1", {{2, Value{20.0}}}, {{2, w}})}));
  apply(eb, ClockTrust::ahead);
  apply(ea);
  EXPECT_EQ(row("r1").fields[1].value, Value{20.0});
  ASSERT_EQ(store->conflicts()->size(), 1u);
  EXPECT_EQ(store->conflicts()->front().loser, eb.id);
}

TEST_F(StoreTest, DeleteIsATombstoneAndRecreateWorks) {
  auto c1 = must(a.make({put("r1", {{1, text("03808")}, {2, Value{10.0}}})}));
  apply(c1);
  auto d = must(a.make({del("r1", {{0, WriterId::of(c1.id)}})}));
  apply(d);
  RowState r = row("r1");
  EXPECT_TRUE(r.deleted);
  EXPECT_EQ(r.fields[1].value, Value{10.0});  // tombstones keep values for a reviewer
  // Re-creating: a put based on what the device saw of the tombstone.
  const WriterId seen = WriterId::of(c1.id);
  auto re = must(a.make({put("r1", {{1, text("03808")}, {2, Value{5.0}}, {3, Value{}}},
                        {{0, WriterId::of(d.id)}, {1, seen}, {2, seen}})}));
  EXPECT_EQ(apply(re).conflicts, 0u);
  r = row("r1");
  EXPECT_FALSE(r.deleted);
  EXPECT_EQ(r.fields[1].value, Value{5.0});
  EXPECT_TRUE(store->conflicts()->empty());
}

TEST_F(StoreTest, ConcurrentDeleteAndEditIsDecidedAndRecorded) {
  auto c1 = must(a.make({put("r1", {{2, Value{10.0}}})}));
  apply(c1);
  const WriterId w = WriterId::of(c1.id);
  wall.advance(10);
  auto d = must(a.make({del("r1", {{0, w}})}));
  wall.advance(10);
  auto e = must(b.make({put("r1", {{2, Value{11.0}}}, {{0, w}, {2, w}})}));  // later: the edit wins
  apply(d);
  apply(e);
  EXPECT_FALSE(row("r1").deleted);
  auto conflicts = store->conflicts();
  ASSERT_EQ(conflicts->size(), 1u);
  EXPECT_EQ(conflicts->front().field, kLivenessField);
  EXPECT_EQ(conflicts->front().loser, d.id);
  EXPECT_EQ(conflicts->front().loser_value, Value{int64_t{1}});
}

TEST_F(StoreTest, DeleteOfUnknownRowLeavesATombstone) {
  auto d = must(a.make({del("ghost")}));
  apply(d);
  EXPECT_TRUE(row("ghost").deleted);
}

TEST_F(StoreTest, ApplyingTwiceChangesNothing) {
  auto c1 = must(a.make({put("r1", {{2, Value{10.0}}})}));
  auto c2 = must(b.make({put("r1", {{2, Value{20.0}}})}));  // concurrent: a conflict record
  apply(c1);
  apply(c2);
  const Hash before = *store->state_hash();
  ApplyItem items[] = {{&c1.cs, c1.id, ClockTrust::trusted}, {&c2.cs, c2.id, ClockTrust::trusted}};
  auto r = store->apply(items);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->already_applied, 2u);
  EXPECT_EQ(r->applied, 0u);
  EXPECT_EQ(*store->state_hash(), before);
  EXPECT_EQ(*store->applied_at(c1.cs.device, c1.cs.seq), std::optional(c1.id));
}

TEST_F(StoreTest, AnotherChangeSetAtAnAppliedSequenceIsAForkNotADuplicate) {
  auto c1 = must(a.make({put("r1", {{2, Value{1.0}}})}));
  apply(c1);
  ChangeSet other = c1.cs;
  other.ops[0].fields[0].value = Value{2.0};
  const Hash other_id = blake2b_256(encode(other));
  ApplyItem item{&other, other_id, ClockTrust::trusted};
  EXPECT_EQ(store->apply({&item, 1}).code(), Errc::fork_detected);
  EXPECT_EQ(row("r1").fields[1].value, Value{1.0});
}

TEST_F(StoreTest, BatchIsOneTransactionAndInvalidInputAppliesNothing) {
  auto good = must(a.make({put("r1", {{2, Value{1.0}}})}));
  auto bad_type = must(a.make({put("r2", {{2, text("not a number")}})}));
  auto bad_table = must(a.make({Op{"no_such_table", "x", OpKind::put, {}, {}}}));
  auto bad_field = must(a.make({put("r3", {{99, Value{1.0}}})}));
  const Hash empty = *store->state_hash();
  for (const auto* bad : {&bad_type, &bad_table, &bad_field}) {
    ApplyItem items[] = {{&good.cs, good.id, ClockTrust::trusted}, {&bad->cs, bad->id, ClockTrust::trusted}};
    auto r = store->apply(items);
    EXPECT_FALSE(r.ok());
    EXPECT_EQ(*store->state_hash(), empty);
    EXPECT_FALSE(store->applied_at(good.cs.device, good.cs.seq)->has_value());
  }
  ApplyItem t[] = {{&bad_type.cs, bad_type.id, ClockTrust::trusted}};
  EXPECT_EQ(store->apply(t).code(), Errc::type_mismatch);
  EXPECT_NE(store->apply(t).status().message().find("progress_report/r2/value"), std::string::npos);
  ApplyItem u[] = {{&bad_table.cs, bad_table.id, ClockTrust::trusted}};
  EXPECT_EQ(store->apply(u).code(), Errc::unknown_table);
  ApplyItem f[] = {{&bad_field.cs, bad_field.id, ClockTrust::trusted}};
  EXPECT_EQ(store->apply(f).code(), Errc::unknown_field_id);
}

TEST_F(StoreTest, PersistsAcrossReopen) {
  const std::string path = ::testing::TempDir() + "/tram-store-test.db";
  std::remove(path.c_str());
  auto c1 = must(a.make({put("r1", {{3, text("Sốp Cộp")}})}));
  Hash h;
  {
    auto s = std::move(Store::open(path, testing::report_schema())).value();
    ApplyItem item{&c1.cs, c1.id, ClockTrust::trusted};
    ASSERT_TRUE(s->apply({&item, 1}).ok());
    h = *s->state_hash();
  }
  auto s = std::move(Store::open(path, testing::report_schema())).value();
  EXPECT_EQ(*s->state_hash(), h);
  EXPECT_EQ(*s->applied_at(c1.cs.device, c1.cs.seq), std::optional(c1.id));
}

TEST_F(StoreTest, RefusesChangeSetsForAnotherOrNewerSchema) {
  DeviceChain other{DeviceKey::generate(rng), clock_a, "o", "another-schema", 1};
  DeviceChain newer{DeviceKey::generate(rng), clock_a, "n", "sonla-2026", 2};
  DeviceChain older{DeviceKey::generate(rng), clock_a, "n", "sonla-2026", 0};
  auto x = must(other.make({put("r1", {})}));
  auto y = must(newer.make({put("r1", {})}));
  auto z = must(older.make({put("r1", {})}));
  ApplyItem ix{&x.cs, x.id, ClockTrust::trusted}, iy{&y.cs, y.id, ClockTrust::trusted};
  EXPECT_EQ(store->apply({&ix, 1}).code(), Errc::schema_mismatch);
  EXPECT_EQ(store->apply({&iy, 1}).code(), Errc::schema_mismatch);
  EXPECT_EQ(apply(z).applied, 1u);  // an older version's change sets stay valid
}

TEST(Schema, RejectsBadDefinitions) {
  Schema s = testing::report_schema();
  EXPECT_TRUE(s.validate().ok());
  s.tables[0].fields.push_back(FieldDef{1, "again", ValueType::text});
  EXPECT_EQ(s.validate().code(), Errc::invalid_value);
  Schema t = testing::report_schema();
  t.tables[0].fields.push_back(FieldDef{0, "zero", ValueType::text});
  EXPECT_FALSE(t.validate().ok());
  Schema u = testing::report_schema();
  u.tables[0].name = "_tram_x";
  EXPECT_FALSE(u.validate().ok());
}


TEST(StoreImages, AReplicaFedWithRowImagesMatchesTheSource) {
  FakeClock wall{1'780'000'000'000};
  HybridClock clock{wall, 300'000};
  SeededRandom rng{11};
  DeviceChain a{DeviceKey::generate(rng), clock, "a", "sonla-2026", 1};
  auto source = testing::must(Store::open(":memory:", testing::report_schema()));
  auto copy = testing::must(Store::open(":memory:", testing::report_schema()));
  auto c1 = testing::must(a.make({testing::put("r1", {{1, testing::text("03808")}, {2, Value{1.5}}}),
                                  testing::del("r2")}));
  ApplyItem item{&c1.cs, c1.id, ClockTrust::trusted};
  ASSERT_TRUE(source->apply({&item, 1}).ok());
  for (const char* row : {"r1", "r2"}) {
    auto image = testing::must(source->row_image("progress_report", row));
    ASSERT_TRUE(image.has_value());
    ASSERT_TRUE(copy->put_row_image("progress_report", row, *image).ok());
  }
  EXPECT_EQ(*copy->state_hash(), *source->state_hash());
  // A later edit based on what the copy shows merges the same way on both.
  auto row = testing::must(copy->get_row("progress_report", "r1"));
  auto e = testing::must(a.make({testing::put("r1", {{2, Value{2.5}}}, {{0, *row->liveness_writer}, {2, *row->fields[1].writer}})}));
  ApplyItem ie{&e.cs, e.id, ClockTrust::trusted};
  ASSERT_TRUE(source->apply({&ie, 1}).ok());
  ASSERT_TRUE(copy->apply({&ie, 1}).ok());
  EXPECT_EQ(*copy->state_hash(), *source->state_hash());
  RowImage bad;
  EXPECT_EQ(copy->put_row_image("progress_report", "r3", bad).code(), Errc::invalid_value);
}

}  // namespace
}  // namespace tram
