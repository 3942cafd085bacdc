// Ad hoc reports (báo cáo đột xuất, programme section III.3) in tram-field, end to end: real
// `tram-server` and `tram-field` processes on loopback, with tests/field/field_test.cpp's
// fixture (field_fixture.hpp). An official records a difficulty offline and submits it; the
// Department of Finance's reviewer lists it and answers; the official reads the answer; another
// commune never sees it; the schema's write rules and required fields hold.
#include <string>
#include <vector>

#include "field/field_fixture.hpp"

namespace tram::testing {
namespace {

using namespace field;  // FieldTest, Doc, Proc, run, kKey
using AdhocTest = FieldTest;

std::string field_of(simdjson::dom::element row, const char* name) {
  std::string_view s;
  if (row["fields"][name].get_string().get(s) != simdjson::SUCCESS) return "<missing>";
  return std::string(s);
}

const std::string kSubject = "Thiếu kinh phí sửa chữa công trình cấp nước bản Nà Lò";
const std::string kBody = "Công trình cấp nước tập trung bản Nà Lò hư hỏng sau mưa lũ, 120 hộ thiếu nước sinh hoạt.";
const std::string kResponse = "Sở Tài chính đã tiếp nhận, đề nghị xã lập dự toán gửi trước ngày 15/6/2026.";

TEST_F(AdhocTest, DifficultyReachesTheDepartmentAndTheResponseComesBack) {
  enrol("minh", "official", "03808");
  enrol("huong", "reviewer", "all");
  enrol("lan", "official", "04240");

  // Recorded on the phone as a draft, no signal needed: it waits in the outbox.
  const Doc rec = json("minh", {"adhoc", "--kind", "kho-khan", "--subject", kSubject, "--body", kBody, "--proposal", "Hỗ trợ 300 triệu đồng.",
                                "--task", "NV01.01"});
  const std::string id = rec.str({"id"});
  ASSERT_EQ(id.size(), 36u) << rec.text();
  EXPECT_EQ(rec.str({"status"}), "draft");
  EXPECT_EQ(rec.str({"adhoc_report", "fields", "kind"}), "difficulty");
  EXPECT_EQ(rec.str({"adhoc_report", "fields", "unit_code"}), "03808");
  EXPECT_EQ(rec.str({"adhoc_report", "fields", "author"}), "Cán bộ minh");
  EXPECT_EQ(rec.str({"adhoc_report", "fields", "task"}), "NV01.01");
  EXPECT_EQ(rec.str({"adhoc_report", "fields", "recorded_at"}).size(), 20u) << rec.text();
  EXPECT_EQ(rec.str({"adhoc_report", "fields", "device"}).size(), 64u) << rec.text();
  EXPECT_EQ(json("minh", {"adhoc", "--id", id.substr(0, 20), "--submit"}).str({"status"}), "submitted");  // a unique prefix
  EXPECT_EQ(json("minh", {"status"}).num({"pending"}), 2);
  // A submitted one is no longer the unit's to edit.
  const Proc late_edit = field("minh", {"adhoc", "--id", id, "--body", "Sửa lại."});
  EXPECT_EQ(late_edit.rc, 1);
  EXPECT_NE(late_edit.err.find("only a draft"), std::string::npos) << late_edit.err;
  const Doc sent = json("minh", {"sync"});
  EXPECT_EQ(sent.num({"accepted"}), 2) << sent.text();
  EXPECT_EQ(sent.num({"rejected"}), 0) << sent.text();

  // The reviewer of the Department of Finance sees it.
  json("huong", {"sync"});
  const Doc huong_list = json("huong", {"adhocs"});
  const auto waiting = huong_list.array("adhoc_reports");
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(std::string_view(waiting[0]["id"].get_string().value()), id);
  EXPECT_EQ(field_of(waiting[0], "status"), "submitted");
  EXPECT_EQ(field_of(waiting[0], "subject"), kSubject);
  const Proc text = field("huong", {"adhocs"});
  EXPECT_NE(text.out.find("03808 Mường La"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("difficulty (khó khăn, vướng mắc)"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find(kBody), std::string::npos) << text.out;  // the reviewer answers from the list
  EXPECT_NE(text.out.find("proposal: Hỗ trợ 300 triệu đồng."), std::string::npos) << text.out;

  // The reviewer answers; it cannot rewrite what the unit said (the schema's write rule), and
  // nothing is signed when it tries.
  const Proc rewrite = field("huong", {"adhoc", "--id", id, "--body", "Nội dung khác."});
  EXPECT_EQ(rewrite.rc, 1) << rewrite.out;
  EXPECT_NE(rewrite.err.find("refused"), std::string::npos) << rewrite.err;
  EXPECT_EQ(json("huong", {"status"}).num({"pending"}), 0);
  EXPECT_EQ(field("huong", {"adhoc-reply", id}).rc, 2);  // --response is required
  const Doc reply = json("huong", {"adhoc-reply", id, "--response", kResponse});
  EXPECT_EQ(reply.str({"status"}), "acknowledged");
  EXPECT_EQ(reply.str({"responded_by"}), "Cán bộ huong");
  EXPECT_EQ(json("huong", {"sync"}).num({"accepted"}), 1);
  // Answered once: a second answer is refused.
  EXPECT_EQ(field("huong", {"adhoc-reply", id, "--response", "Lần hai."}).rc, 1);

  // The official reads the answer, in Vietnamese on a Vietnamese phone.
  json("minh", {"sync"});
  const Doc minh_list = json("minh", {"adhocs"});
  const auto mine = minh_list.array("adhoc_reports");
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(field_of(mine[0], "status"), "acknowledged");
  EXPECT_EQ(field_of(mine[0], "response"), kResponse);
  EXPECT_EQ(field_of(mine[0], "responded_by"), "Cán bộ huong");
  EXPECT_EQ(field_of(mine[0], "body"), kBody);  // the reviewer's rewrite never happened
  const Proc vi = field("minh", {"adhocs", "--lang", "vi"});
  EXPECT_EQ(vi.rc, 0) << vi.err;
  for (const std::string& words : {std::string("Báo cáo đột xuất: 1"), std::string("khó khăn, vướng mắc"), std::string("đã phản hồi"),
                                   std::string("Phản hồi của Cán bộ huong: ") + kResponse, std::string("đề xuất, kiến nghị: Hỗ trợ 300 triệu đồng."), kSubject, std::string("03808 Mường La")}) {
    EXPECT_NE(vi.out.find(words), std::string::npos) << words << "\n" << vi.out;
  }
  for (const char* english : {"difficulty", "acknowledged", "response", "reported by"}) EXPECT_EQ(vi.out.find(english), std::string::npos) << english << "\n" << vi.out;

  // Another commune's official never receives it (scope unit_code).
  json("lan", {"sync"});
  const Doc lan_list = json("lan", {"adhocs"});
  EXPECT_TRUE(lan_list.array("adhoc_reports").empty()) << lan_list.text();
  EXPECT_EQ(field("lan", {"adhoc-reply", id, "--response", "x"}).rc, 1);
}

TEST_F(AdhocTest, EmptySubjectUnknownTaskAndBadKindAreRefusedBeforeSigning) {
  enrol("minh", "official", "03808");
  const Proc no_subject = field("minh", {"adhoc", "--kind", "difficulty", "--body", kBody, "--submit"});
  EXPECT_EQ(no_subject.rc, 1);
  EXPECT_NE(no_subject.err.find("--subject"), std::string::npos) << no_subject.err;
  const Proc blank = field("minh", {"adhoc", "--kind", "difficulty", "--subject", "   ", "--body", kBody, "--json"});
  EXPECT_EQ(blank.rc, 1);
  EXPECT_EQ(Doc(blank.out).str({"error", "code"}), "invalid_value") << blank.out;
  const Proc vi = field("minh", {"adhoc", "--kind", "khó khăn", "--subject", "", "--body", kBody, "--lang", "vi"});
  EXPECT_EQ(vi.rc, 1);
  EXPECT_NE(vi.err.find("tiêu đề"), std::string::npos) << vi.err;
  const Proc no_body = field("minh", {"adhoc", "--kind", "adjustment", "--subject", kSubject, "--lang", "vi"});
  EXPECT_EQ(no_body.rc, 1);
  EXPECT_NE(no_body.err.find("--body"), std::string::npos) << no_body.err;
  const Proc task = field("minh", {"adhoc", "--kind", "dieu-chinh", "--subject", kSubject, "--body", kBody, "--task", "NV99.99"});
  EXPECT_EQ(task.rc, 1);
  EXPECT_NE(task.err.find("no task NV99.99"), std::string::npos) << task.err;
  const Proc task_vi = field("minh", {"adhoc", "--kind", "dieu-chinh", "--subject", kSubject, "--body", kBody, "--task", "NV99.99", "--lang", "vi"});
  EXPECT_NE(task_vi.err.find("NV99.99"), std::string::npos) << task_vi.err;
  EXPECT_EQ(task_vi.err.find("no task"), std::string::npos) << task_vi.err;
  const Proc kind = field("minh", {"adhoc", "--kind", "complaint", "--subject", kSubject, "--body", kBody});
  EXPECT_EQ(kind.rc, 1);
  EXPECT_NE(kind.err.find("difficulty or adjustment"), std::string::npos) << kind.err;
  EXPECT_EQ(json("minh", {"status"}).num({"pending"}), 0);  // nothing was signed
  // The Vietnamese word for the kind is accepted, and the answer reads in Vietnamese.
  const Proc ok = field("minh", {"adhoc", "--kind", "điều chỉnh", "--subject", "Đề nghị điều chỉnh chỉ tiêu", "--body", kBody, "--submit", "--lang", "vi"});
  EXPECT_EQ(ok.rc, 0) << ok.err;
  EXPECT_NE(ok.out.find("Đã ghi báo cáo đột xuất"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("đề nghị điều chỉnh, bổ sung"), std::string::npos) << ok.out;
  EXPECT_NE(ok.out.find("đã gửi"), std::string::npos) << ok.out;
  EXPECT_EQ(json("minh", {"status"}).num({"pending"}), 1);
}

}  // namespace
}  // namespace tram::testing
