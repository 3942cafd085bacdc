// The one timeliness rule (report/include/tram/report/timeliness.hpp, docs/operations.md §8).
#include "tram/report/timeliness.hpp"

#include <gtest/gtest.h>

namespace tram::reporting {
namespace {

constexpr const char* kDue = "2026-06-05";
// 2026-06-05 23:30 in Vietnam (16:30 UTC) and 2026-06-06 00:30 in Vietnam (17:30 UTC).
constexpr int64_t kLastHalfHourOfDueDay = 1780677000000;
constexpr int64_t kFirstHalfHourAfter = 1780680600000;

TEST(Timeliness, VietnamDateOfAReceipt) {
  EXPECT_EQ(vietnam_date(kLastHalfHourOfDueDay), "2026-06-05");
  EXPECT_EQ(vietnam_date(kFirstHalfHourAfter), "2026-06-06");
}

TEST(Timeliness, TheDueDateItselfIsOnTime) {
  EXPECT_EQ(judge("submitted", "2026-06-05", std::nullopt, kDue, "").timeliness, Timeliness::on_time);
  EXPECT_EQ(judge("submitted", "2026-06-06", std::nullopt, kDue, "").timeliness, Timeliness::late);
  EXPECT_EQ(judge("accepted", "2026-01-15", std::nullopt, kDue, "").timeliness, Timeliness::on_time);
}

TEST(Timeliness, AReturnedReportKeepsTheTimelinessOfItsSubmission) {
  // Returned after the deadline, submitted before it: not late (the return is a review outcome).
  const Standing on_time = judge("returned", "2026-06-03", std::nullopt, kDue, "2026-06-20");
  EXPECT_EQ(on_time.timeliness, Timeliness::on_time);
  EXPECT_FALSE(on_time.behind());
  // Submitted after the deadline, then returned: late, as it was when submitted.
  const Standing late = judge("returned", "2026-06-06", std::nullopt, kDue, "2026-06-20");
  EXPECT_EQ(late.timeliness, Timeliness::late);
  EXPECT_TRUE(late.behind());
}

TEST(Timeliness, DraftsAndNothingAreMissingAndOverdueOnlyAfterTheDueDate) {
  for (const char* status : {"draft", ""}) {
    const Standing before = judge(status, "2026-06-01", std::nullopt, kDue, "2026-06-05");
    EXPECT_EQ(before.timeliness, Timeliness::missing) << status;
    EXPECT_FALSE(before.overdue) << status;
    EXPECT_FALSE(before.behind()) << status;
    const Standing after = judge(status, "2026-06-01", std::nullopt, kDue, "2026-06-06");
    EXPECT_EQ(after.timeliness, Timeliness::missing) << status;
    EXPECT_TRUE(after.overdue) << status;
    EXPECT_TRUE(after.behind()) << status;
    EXPECT_TRUE(after.counted_on.empty());
  }
  // Without a "today" (the province report's lines), nothing is judged overdue.
  EXPECT_FALSE(judge("draft", "", std::nullopt, kDue, "").overdue);
}

TEST(Timeliness, APhoneAheadIsCappedAtTheServersReceipt) {
  // Recorded "2027-06-04" by a phone a year ahead, received on the due day: on time.
  const Standing s = judge("submitted", "2027-06-04", kLastHalfHourOfDueDay, kDue, "");
  EXPECT_EQ(s.timeliness, Timeliness::on_time);
  EXPECT_EQ(s.counted_on, "2026-06-05");
  EXPECT_TRUE(s.capped);
  // Received half an hour into the next day (Vietnam time) and recorded then: late.
  EXPECT_EQ(judge("submitted", "2026-06-06", kFirstHalfHourAfter, kDue, "").timeliness, Timeliness::late);
}

TEST(Timeliness, ARecordedDateBeforeTheReceiptCounts) {
  // Recorded offline on the due day, synced a week later: on time, and not capped.
  const Standing s = judge("submitted", "2026-06-05", kFirstHalfHourAfter + 7 * 86'400'000LL, kDue, "");
  EXPECT_EQ(s.timeliness, Timeliness::on_time);
  EXPECT_EQ(s.counted_on, "2026-06-05");
  EXPECT_FALSE(s.capped);
  // No recorded date at all: the receipt's date counts.
  EXPECT_EQ(judge("submitted", "", kFirstHalfHourAfter, kDue, "").counted_on, "2026-06-06");
  EXPECT_EQ(judge("submitted", "", std::nullopt, kDue, "").timeliness, Timeliness::late);
}

TEST(Timeliness, ASubmissionCountsFromItsSignedTimeBoundedByTheReceipt) {
  constexpr int64_t kHour = 3'600'000;
  // Made offline on the due day, received a week later: on time, shown as such.
  Submission offline{kLastHalfHourOfDueDay, kFirstHalfHourAfter + 7 * 24 * kHour, false};
  Standing s = judge_submission("submitted", offline, kDue);
  EXPECT_EQ(s.timeliness, Timeliness::on_time);
  EXPECT_EQ(s.counted_ms, kLastHalfHourOfDueDay);
  EXPECT_TRUE(s.offline_before_due);
  EXPECT_FALSE(s.clock_wrong);
  // A returned or accepted report keeps its submission's verdict.
  EXPECT_EQ(judge_submission("returned", offline, kDue).timeliness, Timeliness::on_time);
  // Submitted after the deadline: late, whatever recorded_on said (it plays no part).
  Submission after{kFirstHalfHourAfter, kFirstHalfHourAfter + kHour, false};
  s = judge_submission("accepted", after, kDue);
  EXPECT_EQ(s.timeliness, Timeliness::late);
  EXPECT_FALSE(s.offline_before_due);
  // A phone a year ahead, received on the due day: the receipt counts, the clock is flagged.
  Submission ahead{kLastHalfHourOfDueDay + 365 * 24 * kHour, kLastHalfHourOfDueDay, true};
  s = judge_submission("submitted", ahead, kDue);
  EXPECT_EQ(s.timeliness, Timeliness::on_time);
  EXPECT_EQ(s.counted_ms, kLastHalfHourOfDueDay);
  EXPECT_TRUE(s.capped);
  EXPECT_TRUE(s.clock_wrong);
  // A few seconds ahead of the receipt: capped, but within tolerance, not called wrong.
  Submission slightly{kFirstHalfHourAfter + 3000, kFirstHalfHourAfter, false};
  s = judge_submission("submitted", slightly, kDue);
  EXPECT_TRUE(s.capped);
  EXPECT_FALSE(s.clock_wrong);
  EXPECT_EQ(s.timeliness, Timeliness::late);
  // A draft is not a submission, whatever the log says.
  EXPECT_EQ(judge_submission("draft", offline, kDue).timeliness, Timeliness::missing);
}

TEST(Timeliness, Names) {
  EXPECT_EQ(timeliness_name(Timeliness::on_time), "on_time");
  EXPECT_EQ(timeliness_name(Timeliness::late), "late");
  EXPECT_EQ(timeliness_name(Timeliness::missing), "missing");
  EXPECT_TRUE(is_submitted("returned"));
  EXPECT_FALSE(is_submitted("draft"));
}

}  // namespace
}  // namespace tram::reporting
