// tram-field end to end: real `tram-server` and `tram-field` processes on loopback. Each test
// seeds a fresh server, enrols devices with codes from the admin CLI and drives the field app
// through its --json output: enrolment, offline reports, submit, sync, rejections with the
// server's reason, signed receipts, the review cycle, bundles, conflicts, Vietnamese text.
// Longer than ~400 lines: the field app end to end, one fixture of homes and a server for all cases.
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "field/field_fixture.hpp"

namespace tram::testing {
namespace {

using namespace field;  // FieldTest, Doc, Proc, run, quote, kKey

TEST_F(FieldTest, HelpForEveryCommandAndUsageErrors) {
  const Proc top = run(TRAM_FIELD_BIN, {"--help"});
  EXPECT_EQ(top.rc, 0);
  for (const char* cmd : {"init", "due", "report", "list", "show", "submit", "comment", "status", "sync", "receipt", "export-bundle",
                          "import-receipts", "dismiss", "reviews", "accept", "return", "adhoc", "adhocs", "adhoc-reply"}) {
    EXPECT_NE(top.out.find(cmd), std::string::npos) << cmd;
    const Proc h = run(TRAM_FIELD_BIN, {cmd, "--help"});
    EXPECT_EQ(h.rc, 0) << cmd << ": " << h.err;
    EXPECT_NE(h.out.find("Usage: tram-field " + std::string(cmd)), std::string::npos) << h.out;
  }
  EXPECT_EQ(run(TRAM_FIELD_BIN, {"frobnicate"}).rc, 2);
  const Proc bad = run(TRAM_FIELD_BIN, {"status", "--nonsense"});
  EXPECT_EQ(bad.rc, 2);
  EXPECT_NE(bad.err.find("--nonsense"), std::string::npos);
  // A home with no device: a clear message, not a crash.
  const Proc none = field("nobody", {"status", "--json"});
  EXPECT_EQ(none.rc, 1);
  EXPECT_NE(none.err.find("init"), std::string::npos) << none.err;
  EXPECT_EQ(Doc(none.out).str({"error", "code"}), "not_enrolled");
  // A wrong key format is refused before anything is opened.
  const Proc badkey = run(TRAM_FIELD_BIN, {"status", "--home", home("nobody2")}, "TRAM_FIELD_KEY=abc");
  EXPECT_NE(badkey.rc, 0);
}

TEST_F(FieldTest, InitReportSubmitSyncAndVerifiedReceipt) {
  enrol("lan", "official", "03646");
  // What the ward owes: its four indicators, listed with deadlines.
  const Doc due = json("lan", {"due", "--period", "2026-H1"});
  EXPECT_EQ(due.str({"period", "unit_due"}), "2026-06-05");
  std::string items = due.text();
  for (const char* ind : {"CT-BACSI-TRAMYTE", "CT-NUOCTHAI-PHUONG", "CT-CAPNUOC-PHUONG", "CT-KHONGMATUY-XAPHUONG"}) {
    EXPECT_NE(items.find(ind), std::string::npos) << ind;
  }
  EXPECT_NE(items.find("\"state\":\"missing\""), std::string::npos);

  const fs::path photo = root_ / "anh.jpg";
  std::ofstream(photo, std::ios::binary) << "\xff\xd8\xff\xe0 not really a JPEG but bytes all the same \xff\xd9";
  const std::string id = new_report("lan", {"--indicator", "CT-CAPNUOC-PHUONG", "--period", "2026-H1", "--value", "97,2", "--progress", "đúng tiến độ",
                                            "--narrative", "Tỷ lệ hộ dân được cấp nước sạch đạt 97,2%.", "--evidence", photo.string()});
  Doc shown = json("lan", {"show", id});
  EXPECT_EQ(shown.str({"report", "fields", "status"}), "draft");
  EXPECT_EQ(shown.str({"report", "fields", "progress"}), "on_track");
  EXPECT_EQ(shown.str({"report", "fields", "value"}), "97.2");
  EXPECT_EQ(shown.str({"report", "fields", "measure"}), "%");
  EXPECT_EQ(shown.str({"report", "fields", "author"}), "Cán bộ lan");
  EXPECT_EQ(shown.array("evidence").size(), 1u);

  // Offline so far: the change set waits in the outbox.
  EXPECT_EQ(json("lan", {"status"}).num({"pending"}), 1);
  const Doc sub = json("lan", {"submit", id.substr(0, 30)});  // a unique prefix is enough
  EXPECT_EQ(sub.str({"status"}), "submitted");
  EXPECT_EQ(json("lan", {"status"}).num({"pending"}), 2);
  // Submitting twice is refused with the reason.
  const Proc again = field("lan", {"submit", id});
  EXPECT_EQ(again.rc, 1);
  EXPECT_NE(again.err.find("submitted"), std::string::npos) << again.err;

  const Doc synced = json("lan", {"sync"});
  EXPECT_EQ(synced.num({"accepted"}), 2) << synced.text();
  EXPECT_EQ(synced.num({"rejected"}), 0);
  EXPECT_EQ(synced.num({"attachments_uploaded"}), 1);
  const Doc st = json("lan", {"status"});
  EXPECT_EQ(st.num({"pending"}), 0);
  EXPECT_GE(st.num({"receipts"}), 2);
  EXPECT_NE(st.str({"last_sync"}), "null");

  const Doc receipt = json("lan", {"receipt", id});
  EXPECT_EQ(receipt.num({"verified"}), 1) << receipt.text();
  size_t n = 0;
  for (auto rc : receipt.array("receipts")) {
    ++n;
    EXPECT_EQ(std::string_view(rc["status"].get_string().value()), "accepted");
    EXPECT_GT(rc["server_seq"].get_int64().value(), 0);
    EXPECT_TRUE(rc["verified"].get_bool().value());
    EXPECT_FALSE(rc["clock_ahead"].get_bool().value());
  }
  EXPECT_EQ(n, 2u);
  const Proc text = field("lan", {"receipt", id});
  EXPECT_EQ(text.rc, 0);
  EXPECT_NE(text.out.find("signature verified"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("server_seq"), std::string::npos);
}

TEST_F(FieldTest, WriteOutsideTheCommuneIsRefusedAndServerRejectionShowsItsReason) {
  enrol("minh", "official", "03808");
  // Another commune's record: refused on the device, with the reason, and nothing signed.
  const Proc other = field("minh", {"report", "--unit", "03646", "--indicator", "CT-BACSI-TRAMYTE", "--period", "2026-H1", "--progress", "on_track"});
  EXPECT_EQ(other.rc, 1);
  EXPECT_NE(other.err.find("03646"), std::string::npos) << other.err;
  EXPECT_EQ(json("minh", {"status"}).num({"pending"}), 0);

  // Recorded offline for 03808; meanwhile the administrator moves minh to another commune.
  const std::string id = new_report("minh", {"--indicator", "CT-BACSI-TRAMYTE", "--period", "2026-H1", "--value", "2", "--progress", "done"});
  user("minh", "official", "04240");
  const Doc synced = json("minh", {"sync"});
  EXPECT_EQ(synced.num({"rejected"}), 1) << synced.text();
  const Doc st = json("minh", {"status"});
  EXPECT_EQ(st.num({"rejected_count"}), 1);
  bool seen = false;
  for (auto e : st.array("rejected")) {
    seen = true;
    EXPECT_EQ(std::string_view(e["code"].get_string().value()), "forbidden_scope");
    EXPECT_NE(std::string_view(e["message"].get_string().value()).find("03808"), std::string::npos);
    // The official gives up on it; it leaves the list.
    const Doc dismissed = json("minh", {"dismiss", std::to_string(e["seq"].get_int64().value())});
    EXPECT_GT(dismissed.num({"dismissed"}), 0);
  }
  EXPECT_TRUE(seen) << st.text();
  const Proc text = field("minh", {"status"});
  EXPECT_EQ(text.rc, 0);
  EXPECT_EQ(json("minh", {"status"}).num({"rejected_count"}), 0);
  // The rejected report's receipt says so, and still verifies: proof of what the server decided.
  const Doc receipt = json("minh", {"receipt", id});
  ASSERT_EQ(receipt.array("receipts").size(), 1u) << receipt.text();
  for (auto rc : receipt.array("receipts")) {
    EXPECT_EQ(std::string_view(rc["status"].get_string().value()), "rejected");
    EXPECT_EQ(std::string_view(rc["code"].get_string().value()), "forbidden_scope");
    EXPECT_TRUE(rc["verified"].get_bool().value());
  }
}

// A value outside its indicator's range is refused before anything is signed (issue 14,
// docs/schema-format.md §9.1), in Vietnamese naming the field as the form does, then in English.
TEST_F(FieldTest, AValueOutsideItsIndicatorsRangeIsRefusedBeforeSigning) {
  enrol("minh", "official", "03808");
  const Proc over = field("minh", {"report", "--indicator", "CT-CAPNUOC-XA", "--period", "2026-H1", "--value", "150", "--progress", "on_track"});
  EXPECT_EQ(over.rc, 1);
  EXPECT_NE(over.err.find("Kết quả: tỷ lệ phần trăm phải từ 0 đến 100 (đã nhập 150)"), std::string::npos) << over.err;
  EXPECT_NE(over.err.find("a percentage must be from 0 to 100 (entered 150)"), std::string::npos) << over.err;
  EXPECT_EQ(over.err.find("min 0.000000"), std::string::npos) << over.err;
  const Proc neg = field("minh", {"report", "--indicator", "CT-CAPNUOC-XA", "--period", "2026-H1", "--value", "-5", "--progress", "on_track"});
  EXPECT_EQ(neg.rc, 1);
  EXPECT_NE(neg.err.find("Kết quả: tỷ lệ phần trăm phải từ 0 đến 100 (đã nhập -5)"), std::string::npos) << neg.err;
  EXPECT_EQ(neg.err.find("min 0.000000"), std::string::npos) << neg.err;
  // A count: whole doctors; --json keeps the code invalid_value with both wordings.
  const Proc half = field("minh", {"report", "--indicator", "CT-BACSI-TRAMYTE", "--period", "2026-H1", "--value", "2,5", "--progress", "on_track", "--json"});
  EXPECT_EQ(half.rc, 1);
  const Doc err(half.out);
  EXPECT_EQ(err.str({"error", "code"}), "invalid_value") << half.out;
  EXPECT_EQ(err.str({"error", "message"}), "Kết quả: số lượng (bác sĩ/trạm) phải là số nguyên, không âm (đã nhập 2,5)") << half.out;
  EXPECT_EQ(err.str({"error", "message_en"}), "value: a count (bác sĩ/trạm) must be a whole number, not negative (entered 2.5)") << half.out;
  EXPECT_EQ(json("minh", {"status"}).num({"pending"}), 0);  // nothing was signed
  // In range it is recorded; an edit to 150 is refused the same way.
  const std::string id = new_report("minh", {"--indicator", "CT-CAPNUOC-XA", "--period", "2026-H1", "--value", "100", "--progress", "on_track"});
  const Proc edit = field("minh", {"report", "--id", id, "--value", "150"});
  EXPECT_EQ(edit.rc, 1);
  EXPECT_NE(edit.err.find("Kết quả: tỷ lệ phần trăm phải từ 0 đến 100 (đã nhập 150)"), std::string::npos) << edit.err;
  EXPECT_EQ(json("minh", {"status"}).num({"pending"}), 1);
}

// A yes_no indicator (schema v3): the commune answers có or không (yes/no, 1/0), stored as 1 or
// 0; a number is refused before anything is signed, and `due` shows the target as "có".
TEST_F(FieldTest, AYesNoIndicatorIsAnsweredCoOrKhong) {
  enrol("minh", "official", "03808");
  const Proc hundred = field("minh", {"report", "--indicator", "CT-KHONGMATUY-XAPHUONG", "--period", "2026-H1", "--value", "100", "--progress", "on_track"});
  EXPECT_EQ(hundred.rc, 1);
  EXPECT_NE(hundred.err.find("có"), std::string::npos) << hundred.err;
  EXPECT_EQ(json("minh", {"status"}).num({"pending"}), 0);
  const std::string id = new_report("minh", {"--indicator", "CT-KHONGMATUY-XAPHUONG", "--period", "2026-H1", "--value", "Không", "--progress", "at_risk"});
  EXPECT_EQ(std::stod(json("minh", {"show", id}).str({"report", "fields", "value"})), 0.0);
  json("minh", {"report", "--id", id, "--value", "CÓ"});  // any case; NFC or NFD alike
  EXPECT_EQ(std::stod(json("minh", {"show", id}).str({"report", "fields", "value"})), 1.0);
  json("minh", {"report", "--id", id, "--value", "no"});
  EXPECT_EQ(std::stod(json("minh", {"show", id}).str({"report", "fields", "value"})), 0.0);
  // The due list: the target is "có" (with its deadline), not "= 100 %" (the province share's).
  const Doc due = json("minh", {"due", "--period", "2026-H1"});
  std::string target;
  for (auto u : due.array("units")) {
    for (auto it : u["items"].get_array()) {
      if (std::string_view(it["code"].get_string().value()) == "CT-KHONGMATUY-XAPHUONG") target = std::string(it["target"].get_string().value());
    }
  }
  EXPECT_EQ(target, "yes, by 2030-12-31") << due.text();
  const Proc vi = field("minh", {"due", "--period", "2026-H1", "--lang", "vi"});
  EXPECT_NE(vi.out.find("có, hạn 2030-12-31"), std::string::npos) << vi.out;
  const Proc refused_vi = field("minh", {"report", "--id", id, "--value", "75", "--lang", "vi"});
  EXPECT_EQ(refused_vi.rc, 1);
  EXPECT_NE(refused_vi.err.find("chỉ tiêu này trả lời có hoặc không"), std::string::npos) << refused_vi.err;
}

TEST_F(FieldTest, ReviewCycleReturnFixResubmitAccept) {
  enrol("hoa", "official", "04240");
  enrol("huong", "reviewer", "all");
  const std::string id = new_report("hoa", {"--indicator", "CT-KHONGMATUY-XAPHUONG", "--period", "2026-H1", "--value", "có", "--progress", "done",
                                            "--narrative", "Xã giữ vững 100% bản không có ma túy.", "--submit"});
  ASSERT_EQ(json("hoa", {"sync"}).num({"accepted"}), 1);

  // Reviewers cannot create reports.
  EXPECT_NE(field("huong", {"report", "--unit", "04240", "--indicator", "CT-BACSI-TRAMYTE", "--period", "2026-H1", "--progress", "done"}).rc, 0);
  json("huong", {"sync"});
  const Doc waiting = json("huong", {"reviews", "--period", "2026-H1"});
  EXPECT_NE(waiting.text().find(id), std::string::npos) << waiting.text();
  // Returning without a comment is refused (the schema requires review_comment): --comment is a
  // required option, so it is a usage error (exit 2) before anything is opened.
  EXPECT_EQ(field("huong", {"return", id}).rc, 2);
  const std::string comment = "Đề nghị bổ sung biên bản xác nhận của Công an xã.";
  const Doc ret = json("huong", {"return", id, "--comment", comment});
  EXPECT_EQ(ret.str({"status"}), "returned");
  ASSERT_EQ(json("huong", {"sync"}).num({"accepted"}), 1);

  // The official sees why, edits and resubmits.
  const Doc hs = json("hoa", {"sync"});
  EXPECT_EQ(hs.num({"returned"}), 1);
  const Doc st = json("hoa", {"status"});
  bool seen = false;
  for (auto r : st.array("returned")) {
    seen = true;
    EXPECT_EQ(std::string_view(r["id"].get_string().value()), id);
    EXPECT_EQ(std::string_view(r["review_comment"].get_string().value()), comment);
  }
  EXPECT_TRUE(seen) << st.text();
  EXPECT_EQ(json("hoa", {"show", id}).str({"report", "fields", "review_comment"}), comment);
  json("hoa", {"report", "--id", id, "--narrative", "Xã giữ vững 100% bản không có ma túy; đã bổ sung biên bản xác nhận."});
  json("hoa", {"comment", id, "--text", "Xã đã bổ sung biên bản, kính đề nghị Sở xem xét."});
  EXPECT_EQ(json("hoa", {"submit", id}).str({"status"}), "submitted");
  const Doc resent = json("hoa", {"sync"});
  EXPECT_EQ(resent.num({"accepted"}), 3);
  EXPECT_EQ(resent.num({"rejected"}), 0);

  json("huong", {"sync"});
  // Accepted without a comment: the return's comment ("fix this") must not stay next to it.
  EXPECT_EQ(json("huong", {"accept", id}).str({"status"}), "accepted");
  ASSERT_EQ(json("huong", {"sync"}).num({"accepted"}), 1);
  json("hoa", {"sync"});
  const Doc final_state = json("hoa", {"show", id});
  EXPECT_EQ(final_state.str({"report", "fields", "status"}), "accepted");
  EXPECT_EQ(final_state.str({"report", "fields", "reviewed_by"}), "Cán bộ huong");
  const std::string cleared = final_state.str({"report", "fields", "review_comment"});
  EXPECT_TRUE(cleared == "<missing>" || cleared == "null" || cleared.empty()) << cleared;
  EXPECT_EQ(final_state.array("reviews").size(), 2u);
  EXPECT_EQ(final_state.array("comments").size(), 1u);
  // Accepted is locked: the official can no longer edit it.
  const Proc locked = field("hoa", {"report", "--id", id, "--value", "99"});
  EXPECT_EQ(locked.rc, 1);
  EXPECT_NE(locked.err.find("accepted"), std::string::npos) << locked.err;
}

TEST_F(FieldTest, OutboxTravelsAsABundle) {
  enrol("tuan", "official", "03808");
  const std::string id = new_report("tuan", {"--indicator", "CT-CAPNUOC-XA", "--period", "2026-H1", "--value", "78.5", "--progress", "on_track", "--submit"});
  new_report("tuan", {"--indicator", "CT-KHONGMATUY-XAPHUONG", "--period", "2026-H1", "--progress", "on_track"});
  const std::string bundle = (root_ / "outbox.bundle").string(), receipts = (root_ / "outbox.receipts").string();
  const Doc exported = json("tuan", {"export-bundle", bundle});
  EXPECT_EQ(exported.num({"changesets"}), 2);
  const auto imported = run_cli({"admin", "import-bundle", "--data", data(), "--in", bundle, "--out", receipts});
  ASSERT_EQ(imported.first, 0) << imported.second;
  const Doc back = json("tuan", {"import-receipts", receipts});
  EXPECT_EQ(back.num({"accepted"}), 2) << back.text();
  EXPECT_EQ(json("tuan", {"status"}).num({"pending"}), 0);
  const Doc receipt = json("tuan", {"receipt", id});
  EXPECT_EQ(receipt.num({"verified"}), 1) << receipt.text();
  // A later sync finds nothing left to send.
  EXPECT_EQ(json("tuan", {"sync"}).num({"accepted"}), 0);
}

TEST_F(FieldTest, ConcurrentEditsOfOneReportLeaveAConflictRecord) {
  enrol("minh", "official", "03808");
  enrol("tuan", "official", "03808");
  const std::string id = new_report("minh", {"--indicator", "CT-CAPNUOC-XA", "--period", "2026-H1", "--value", "78.5", "--progress", "on_track"});
  json("minh", {"sync"});
  json("tuan", {"sync"});
  ASSERT_EQ(json("tuan", {"show", id}).str({"report", "fields", "status"}), "draft");
  json("minh", {"report", "--id", id, "--narrative", "Bản Nà Lời: 126 hộ có nước sạch."});
  json("tuan", {"report", "--id", id, "--narrative", "Bản Pá Ngà: công trình cấp nước đang sửa chữa."});
  EXPECT_EQ(json("minh", {"sync"}).num({"accepted"}), 1);
  EXPECT_EQ(json("tuan", {"sync"}).num({"accepted"}), 1);
  json("minh", {"sync"});
  size_t conflicts = 0;
  for (const char* device : {"minh", "tuan"}) {
    const Doc st = json(device, {"status"});
    for (auto c : st.array("conflicts")) {
      ++conflicts;
      EXPECT_EQ(std::string_view(c["row"].get_string().value()), id);
      EXPECT_EQ(std::string_view(c["field"].get_string().value()), "narrative");
    }
  }
  EXPECT_GE(conflicts, 1u);
  // Both replicas converge on the same winner.
  EXPECT_EQ(json("minh", {"show", id}).str({"report", "fields", "narrative"}), json("tuan", {"show", id}).str({"report", "fields", "narrative"}));
}

// Issue 14. A commune's phone receives only its own units' indicator_unit rows: `due` lists what
// Mường La owes, not the wards' indicators (whose rows it never sees), and before an
// indicator's deadline its target is "not yet due".
TEST_F(FieldTest, DueOnACommunesPhoneListsOnlyItsOwnIndicators) {
  enrol("minh", "official", "03808");
  const Doc due = json("minh", {"due", "--period", "2026-H1"});
  std::set<std::string> codes;
  std::map<std::string, std::string> target;
  for (auto u : due.array("units")) {
    EXPECT_EQ(std::string_view(u["code"].get_string().value()), "03808");
    for (auto it : u["items"].get_array()) {
      const std::string code(it["code"].get_string().value());
      codes.insert(code);
      target[code] = std::string(it["target_status"].get_string().value());
    }
  }
  for (const char* mine : {"CT-CAPNUOC-XA", "CT-BACSI-TRAMYTE", "CT-KHONGMATUY-XAPHUONG"}) {
    EXPECT_TRUE(codes.count(mine)) << mine << " in " << due.text();
    EXPECT_EQ(target[mine], "not_due") << mine;  // deadlines 2027, 2028, 2030
  }
  for (const char* theirs : {"CT-CAPNUOC-PHUONG", "CT-NUOCTHAI-PHUONG", "CT-NMXLNT-MAISON", "CT-NMXLNT-YENCHAU", "CT-NMXLNT-PHUYEN"}) {
    EXPECT_FALSE(codes.count(theirs)) << theirs << " is not Mường La's: " << due.text();
  }
}

// Issue 14, schema v3. A department reports as itself: Sở Y tế's phone owes the health tasks
// assigned to it (not a commune's indicators), reads each task's whole wording (`due --full`;
// NV07.06's title kept 7 % of it), records a report under its own code, and the province report
// names it.
TEST_F(FieldTest, ADepartmentOwesItsTasksAndReadsTheirFullWording) {
  enrol("yte", "department", "SYT");
  const Doc due = json("yte", {"due", "--period", "2026-H1"});
  std::map<std::string, std::string> text;
  for (auto u : due.array("units")) {
    EXPECT_EQ(std::string_view(u["code"].get_string().value()), "SYT");
    for (auto it : u["items"].get_array()) text[std::string(it["code"].get_string().value())] = std::string(it["text"].get_string().value());
  }
  EXPECT_TRUE(text.count("NV07.04")) << due.text();
  EXPECT_FALSE(text.count("CT-CAPNUOC-XA")) << due.text();  // a commune's indicator
  EXPECT_FALSE(text.count("NV06.01")) << due.text();        // Sở Xây dựng's task
  ASSERT_TRUE(text.count("NV07.06")) << due.text();
  EXPECT_GT(text["NV07.06"].size(), 600u);
  EXPECT_TRUE(text["NV07.06"].ends_with("trong lĩnh vực y tế.")) << text["NV07.06"];
  const Proc full = field("yte", {"due", "--period", "2026-H1", "--full", "--lang", "en"});
  EXPECT_EQ(full.rc, 0) << full.err;
  EXPECT_NE(full.out.find("điện tử, đơn thuốc điện tử"), std::string::npos) << full.out;  // past the title
  const Proc brief = field("yte", {"due", "--period", "2026-H1", "--lang", "en"});
  EXPECT_EQ(brief.out.find("điện tử, đơn thuốc điện tử"), std::string::npos) << brief.out;

  new_report("yte", {"--task", "NV07.06", "--period", "2026-H1", "--progress", "on_track", "--narrative", "Đã triển khai sổ sức khỏe điện tử"});
  ASSERT_EQ(json("yte", {"sync"}).num({"rejected"}), 0);
  const auto rep = run_cli({"report", "--data", data(), "--period", "2026-H1", "--json"});
  ASSERT_EQ(rep.first, 0);
  EXPECT_NE(rep.second.find("\"indicator\":\"NV07.06\",\"indicator_title\""), std::string::npos);
  EXPECT_NE(rep.second.find("\"unit_code\":\"SYT\",\"unit_name\":\"Sở Y tế\""), std::string::npos) << rep.second.substr(0, 3000);
}

// Issue 14. What is due and late is counted in Vietnam's calendar (UTC+7), not UTC: at 18:30 UTC on
// 5 June it is already 6 June in Sơn La, past the 2026-H1 deadline; at 16:30 UTC it is not yet.
TEST_F(FieldTest, DueCountsTheDayInVietnam) {
  enrol("lan", "official", "03646");
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto at = [&](int64_t utc_s) { return "TRAM_FIELD_CLOCK_OFFSET_S=" + std::to_string(utc_s - now_s); };
  constexpr int64_t k1830Utc = 1780617600 + 18 * 3600 + 1800;  // 2026-06-05T18:30:00Z = 06-06 01:30 in Vietnam
  constexpr int64_t k1630Utc = 1780617600 + 16 * 3600 + 1800;  // 2026-06-05T16:30:00Z = 06-05 23:30 in Vietnam
  const Doc after = json("lan", {"due", "--period", "2026-H1"}, at(k1830Utc));
  EXPECT_EQ(after.str({"today"}), "2026-06-06") << after.text();
  EXPECT_EQ(after.num({"period", "overdue"}), 1) << after.text();
  size_t missing = 0, late = 0;
  for (auto u : after.array("units")) {
    for (auto it : u["items"].get_array()) {
      if (std::string_view(it["state"].get_string().value()) != "missing") continue;
      ++missing;
      late += it["late"].get_bool().value();
    }
  }
  EXPECT_GT(missing, 0u);
  EXPECT_EQ(late, missing);
  const Doc before = json("lan", {"due", "--period", "2026-H1"}, at(k1630Utc));
  EXPECT_EQ(before.str({"today"}), "2026-06-05") << before.text();
  EXPECT_EQ(before.num({"period", "overdue"}), 0) << before.text();
  // A report recorded then carries Vietnam's date too.
  const Doc made = json("lan", {"report", "--indicator", "CT-CAPNUOC-PHUONG", "--period", "2026-H1", "--value", "97", "--progress", "on_track"},
                        at(k1830Utc));
  const Doc shown = json("lan", {"show", made.str({"id"})});
  EXPECT_NE(shown.text().find("2026-06-06"), std::string::npos) << shown.text();
}

// One rule for "on time / late" in the field app and the province report (docs/operations.md §8):
// a report submitted before the deadline and returned by the reviewer keeps the timeliness of its
// submission, in `due` (not LATE) and in `tram-server report` (on time); a missing item is LATE
// once the deadline has passed. (Before the report library, `due` counted the returned report
// as LATE while the server's report counted it on time.)
TEST_F(FieldTest, DueAndTheProvinceReportJudgeAReturnedReportAlike) {
  enrol("hoa", "official", "04240");
  enrol("huong", "reviewer", "all");
  // 2027-H1 is due on 2027-06-05: today's report is well in time.
  const std::string id = new_report("hoa", {"--indicator", "CT-KHONGMATUY-XAPHUONG", "--period", "2027-H1", "--value", "có", "--progress", "done", "--submit"});
  ASSERT_EQ(json("hoa", {"sync"}).num({"accepted"}), 1);
  json("huong", {"sync"});
  EXPECT_EQ(json("huong", {"return", id, "--comment", "Đề nghị bổ sung biên bản."}).str({"status"}), "returned");
  ASSERT_EQ(json("huong", {"sync"}).num({"accepted"}), 1);
  json("hoa", {"sync"});

  // A year on, the deadline has passed: the returned report is not late, what is missing is.
  const Doc due = json("hoa", {"due", "--period", "2027-H1", "--clock-offset-days", "365"});
  size_t returned = 0, missing_late = 0, missing = 0;
  for (auto u : due.array("units")) {
    for (auto it : u["items"].get_array()) {
      const std::string_view state = it["state"].get_string().value();
      if (state == "returned") {
        ++returned;
        EXPECT_FALSE(it["late"].get_bool().value());
        EXPECT_EQ(std::string_view(it["timeliness"].get_string().value()), "on_time");
      }
      if (state == "missing") {
        ++missing;
        missing_late += it["late"].get_bool().value();
      }
    }
  }
  EXPECT_EQ(returned, 1u) << due.text();
  EXPECT_GT(missing, 0u);
  EXPECT_EQ(missing_late, missing);

  const auto report = run_cli({"report", "--data", data(), "--period", "2027-H1", "--json"});
  ASSERT_EQ(report.first, 0) << report.second;
  const Doc rep(report.second);
  ASSERT_TRUE(rep.ok()) << report.second;
  size_t seen = 0;
  for (auto l : rep.array("lines")) {
    std::string_view r;
    if (l["report"].get_string().get(r) != simdjson::SUCCESS || r != id) continue;
    ++seen;
    EXPECT_EQ(std::string_view(l["timeliness"].get_string().value()), "on_time");
    EXPECT_EQ(std::string_view(l["review_state"].get_string().value()), "returned");
  }
  EXPECT_EQ(seen, 1u);
}

TEST_F(FieldTest, VietnameseTextIsStoredAsNfcAndAWrongClockIsFlagged) {
  enrol("vi", "official", "03646", {"--clock-offset-days", "365"});
  // "Hoàn thành" typed with combining marks (NFD) comes back precomposed (NFC).
  const std::string nfd = "Ho\x61\xcc\x80n tha\xcc\x80nh", nfc = "Ho\xc3\xa0n th\xc3\xa0nh";
  const std::string id = new_report("vi", {"--indicator", "CT-BACSI-TRAMYTE", "--period", "2026-H1", "--value", "2", "--progress", "done", "--narrative", nfd, "--submit"});
  EXPECT_EQ(json("vi", {"show", id}).str({"report", "fields", "narrative"}), nfc);
  json("vi", {"sync"});
  EXPECT_EQ(json("vi", {"status"}).num({"clock_ahead"}), 1);
  const Doc receipt = json("vi", {"receipt", id});
  EXPECT_EQ(receipt.num({"verified"}), 1);
  for (auto rc : receipt.array("receipts")) EXPECT_TRUE(rc["clock_ahead"].get_bool().value());
  // The phone wrote a date a year ahead; the server's time of receipt is the real one.
  std::string received;
  for (auto rc : receipt.array("receipts")) received = std::string(rc["received_at"].get_string().value());
  const std::string recorded_on = json("vi", {"show", id}).str({"report", "fields", "recorded_on"});
  ASSERT_EQ(received.size(), 20u);
  EXPECT_GT(recorded_on, received.substr(0, 10));
}

}  // namespace
}  // namespace tram::testing
