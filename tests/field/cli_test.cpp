// tram-field's command line and languages (issue 14): typos are errors with exit code 2 and a
// hint; --version and --help; messages in Vietnamese under LANG=vi_VN.UTF-8 or --lang vi (even
// where the vi_VN.UTF-8 locale is not generated), English under LANG=C or --lang en. Ends with
// Vietnamese sessions against a real tram-server on loopback: an official's due, report, refused
// value, sync, status; then list, show, the reviewer's queue, a bundle and a dismissed rejection,
// each checked for its Vietnamese words and for English left in it.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server/harness.hpp"

namespace tram::testing {
namespace {

namespace fs = std::filesystem;

// tram-field with a clean language environment plus `env` ("LANG=vi_VN.UTF-8 ..."); stdout and
// stderr apart; bounded by timeout(1).
Proc field(const std::vector<std::string>& args, const std::string& env = "LANG=C") {
  std::string cmd = "env -u LC_ALL -u LC_MESSAGES -u LANGUAGE -u LANG " + env + " timeout 60 " + shell_quote(TRAM_FIELD_BIN);
  for (const auto& a : args) cmd += " " + shell_quote(a);
  return run_shell(cmd + " </dev/null", Stderr::apart);
}

bool has(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

TEST(FieldCli, VersionAndHelp) {
  const Proc v = field({"--version"});
  EXPECT_EQ(v.rc, 0) << v.err;
  EXPECT_EQ(v.out.rfind("tram-field ", 0), 0u) << v.out;
  EXPECT_TRUE(has(v.out, ".")) << v.out;
  const Proc h = field({"--help"});
  EXPECT_EQ(h.rc, 0);
  for (const char* cmd : {"init", "due", "report", "sync", "status", "--lang"}) EXPECT_TRUE(has(h.out, cmd)) << cmd << "\n" << h.out;
  const Proc rh = field({"report", "--help"});
  EXPECT_EQ(rh.rc, 0);
  EXPECT_TRUE(has(rh.out, "Usage: tram-field report")) << rh.out;
  // Help for a command with a required argument needs no argument.
  EXPECT_EQ(field({"show", "--help"}).rc, 0);
  // No command: the list on stderr, a usage error.
  const Proc none = field({});
  EXPECT_EQ(none.rc, 2);
  EXPECT_TRUE(has(none.err, "Commands:")) << none.err;
}

// Each mistake exits 2, says what was wrong (and what was meant where a near word exists), points
// at --help, and opens nothing: the home given does not exist and is not created.
TEST(FieldCli, TyposAreErrorsWithAHint) {
  const std::string home = (fs::temp_directory_path() / ("tram-field-cli-nohome-" + std::to_string(::getpid()))).string();
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"status", "--nonsense"}, "unknown option --nonsense for 'status'"},
      {{"report", "--indicatr", "CT-CAPNUOC-XA", "--progress", "done"}, "did you mean --indicator?"},
      {{"due", "--perod", "2026-H1"}, "did you mean --period?"},
      {{"sync", "--attempt", "3"}, "did you mean --attempts?"},
      {{"statsu"}, "did you mean 'status'?"},
      {{"frobnicate"}, "unknown command 'frobnicate'"},
      {{"init", "--code", "ABCD-EFGH-JKLM-NPQR"}, "--server is required for 'init'"},
      {{"return", "0f3c"}, "--comment is required for 'return'"},
      {{"show"}, "'show' takes 1 argument"},
      {{"show", "a", "b"}, "'show' takes 1 argument"},
      {{"status", "extra"}, "'status' takes no arguments"},
      {{"report", "--value", "1", "--value", "2"}, "--value given twice"},
      {{"report", "--indicator"}, "--indicator needs a value"},
      {{"due", "--lang", "fr"}, "--lang must be vi"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = c.args;
    args.insert(args.end(), {"--home", home});
    const Proc r = field(args);
    EXPECT_EQ(r.rc, 2) << c.args[0] << ": " << r.err;
    EXPECT_TRUE(has(r.err, c.says)) << "wanted \"" << c.says << "\" in:\n" << r.err;
    EXPECT_TRUE(has(r.err, "--help")) << r.err;
    EXPECT_TRUE(r.out.empty()) << r.out;
  }
  EXPECT_FALSE(fs::exists(home));
  // Options keep working in every place they worked before: before the command, with "=", a
  // negative number as a value, "--" before a positional.
  EXPECT_EQ(field({"--home", home, "status", "--json"}).rc, 1);  // parsed; fails only for want of a device
  EXPECT_EQ(field({"status", "--home=" + home}).rc, 1);
  EXPECT_EQ(field({"report", "--value", "-5", "--home", home}).rc, 1);
  EXPECT_EQ(field({"show", "--home", home, "--", "-abc"}).rc, 1);
  EXPECT_FALSE(fs::exists(home));
}

// The language: LANG (and LC_ALL, LC_MESSAGES, LANGUAGE as gettext reads them) or --lang, which
// wins; Vietnamese works whether or not the machine has the vi_VN.UTF-8 locale generated.
TEST(FieldCli, VietnameseByLocaleOrFlagEnglishOtherwise) {
  const std::vector<std::string> unknown = {"status", "--nonsense"};
  struct Case {
    std::string env;
    std::vector<std::string> extra;
    bool vietnamese;
  };
  const std::vector<Case> cases = {
      {"LANG=C", {}, false},
      {"LANG=en_US.UTF-8", {}, false},
      {"LANG=vi_VN.UTF-8", {}, true},
      {"LC_ALL=vi_VN.UTF-8 LANG=C", {}, true},
      {"LC_MESSAGES=vi_VN.UTF-8", {}, true},
      {"LANG=C.UTF-8 LANGUAGE=vi", {}, true},
      {"LANG=C", {"--lang", "vi"}, true},
      {"LANG=C", {"--lang=vi"}, true},
      {"LANG=vi_VN.UTF-8", {"--lang", "en"}, false},
      {"LC_ALL=C", {"--lang", "vi"}, true},
  };
  for (const auto& c : cases) {
    std::vector<std::string> args = unknown;
    args.insert(args.end(), c.extra.begin(), c.extra.end());
    const Proc r = field(args, c.env);
    EXPECT_EQ(r.rc, 2) << c.env;
    if (c.vietnamese) {
      EXPECT_TRUE(has(r.err, "lệnh 'status' không có tùy chọn --nonsense")) << c.env << ":\n" << r.err;
      EXPECT_TRUE(has(r.err, "để xem các tùy chọn của lệnh")) << c.env << ":\n" << r.err;
      EXPECT_FALSE(has(r.err, "không tìm thấy bản tiếng Việt")) << r.err;  // the catalogue was found
    } else {
      EXPECT_TRUE(has(r.err, "unknown option --nonsense for 'status'")) << c.env << ":\n" << r.err;
    }
  }
  // A machine without vi_VN.UTF-8 generated: LOCPATH holds only C.UTF-8 (glibc then reads no
  // other locale), and Vietnamese still comes through C.UTF-8 with LANGUAGE=vi.
  const fs::path only_c = fs::temp_directory_path() / ("tram-field-locpath-" + std::to_string(::getpid()));
  fs::remove_all(only_c);
  fs::create_directories(only_c);
  ASSERT_TRUE(fs::exists("/usr/lib/locale/C.utf8")) << "Debian's libc-bin ships C.UTF-8";
  fs::create_directory_symlink("/usr/lib/locale/C.utf8", only_c / "C.utf8");
  for (const std::string env : {"LANG=vi_VN.UTF-8", "LANG=C"}) {
    std::vector<std::string> args = {"frobnicate"};
    if (env == "LANG=C") args.insert(args.end(), {"--lang", "vi"});
    const Proc r = field(args, "LOCPATH=" + only_c.string() + " " + env);
    EXPECT_TRUE(has(r.err, "không có lệnh 'frobnicate'")) << env << ": " << r.err;
  }
  fs::remove_all(only_c);
  const Proc vi = field({"--help"}, "LANG=vi_VN.UTF-8");
  EXPECT_EQ(vi.rc, 0);
  EXPECT_TRUE(has(vi.out, "Cách dùng: tram-field LỆNH")) << vi.out;
  EXPECT_TRUE(has(vi.out, "những gì xã, phường phải báo cáo")) << vi.out;
  const Proc en = field({"due", "--help"}, "LANG=C");
  EXPECT_TRUE(has(en.out, "Usage: tram-field due")) << en.out;
  // The translation is UTF-8 even where the terminal's character set is plain C (no "?" for ư).
  const Proc c = field({"frobnicate", "--lang", "vi"}, "LC_ALL=C");
  EXPECT_TRUE(has(c.err, "không có lệnh 'frobnicate'")) << c.err;
}

// An official's session in Vietnamese against a real server: what is due, a refused value (in
// Vietnamese only, nothing signed), a report, sync, status. The same device answers in English
// under LANG=C.
class FieldVietnamese : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("tram-field-vi-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "server");
    ASSERT_EQ(run_cli({"seed", "--data", data()}).first, 0);
    server_ = std::make_unique<ServerProcess>(data());
  }
  void TearDown() override {
    server_.reset();
    if (!HasFailure()) fs::remove_all(root_);
  }
  std::string data() const { return (root_ / "server").string(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }
  Proc minh(std::vector<std::string> args, const std::string& lang = "LANG=vi_VN.UTF-8") { return as("minh", std::move(args), lang); }
  // tram-field on the device of `who` (its own home), in Vietnamese unless told otherwise.
  Proc as(const std::string& who, std::vector<std::string> args, const std::string& lang = "LANG=vi_VN.UTF-8") {
    args.insert(args.end(), {"--home", (root_ / who).string()});
    return field(args, lang + " TRAM_FIELD_KEY=7d3b0f2a9c51e8b46a0d2c7f1e9b83a5c4d6e0f1a2b3c4d5e6f708192a3b4c5d");
  }
  // Registers the user on the server (again: a second call changes their units) and, unless
  // `enrol` is false, enrols their device.
  void user(const std::string& who, const std::string& role, const std::string& units, const std::string& name, bool enrol = true) {
    std::vector<std::string> args = {"admin", "create-user", "--data", data(), "--id", who, "--role", role, "--name", name};
    if (units == "all") args.push_back("--all-units");
    else args.insert(args.end(), {"--units", units});
    ASSERT_EQ(run_cli(args).first, 0);
    if (!enrol) return;
    auto code = run_cli({"admin", "enrol-code", "--data", data(), "--user", who});
    ASSERT_EQ(code.first, 0) << code.second;
    code.second.erase(code.second.find_last_not_of(" \n") + 1);
    const Proc init = as(who, {"init", "--server", url(), "--code", code.second});
    ASSERT_EQ(init.rc, 0) << init.err;
  }
  fs::path root_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(FieldVietnamese, AnOfficialsSession) {
  ASSERT_EQ(run_cli({"admin", "create-user", "--data", data(), "--id", "minh", "--role", "official", "--units", "03808", "--name", "Lò Văn Minh"}).first, 0);
  auto code = run_cli({"admin", "enrol-code", "--data", data(), "--user", "minh"});
  ASSERT_EQ(code.first, 0) << code.second;
  code.second.erase(code.second.find_last_not_of(" \n") + 1);
  const Proc init = minh({"init", "--server", url(), "--code", code.second});
  ASSERT_EQ(init.rc, 0) << init.err;
  EXPECT_TRUE(has(init.out, "Đã đăng ký thiết bị")) << init.out;
  EXPECT_TRUE(has(init.out, "Có thể làm việc khi không có mạng")) << init.out;

  const Proc due = minh({"due", "--period", "2026-H1"});
  ASSERT_EQ(due.rc, 0) << due.err;
  EXPECT_TRUE(has(due.out, "Kỳ báo cáo 2026-H1")) << due.out;
  EXPECT_TRUE(has(due.out, "chưa báo cáo")) << due.out;
  EXPECT_TRUE(has(due.out, "CT-CAPNUOC-XA")) << due.out;

  // A percentage above 100: refused before anything is signed, in Vietnamese alone.
  const Proc over = minh({"report", "--indicator", "CT-CAPNUOC-XA", "--period", "2026-H1", "--value", "150", "--progress", "đúng tiến độ"});
  EXPECT_EQ(over.rc, 1);
  EXPECT_TRUE(has(over.err, "tỷ lệ phần trăm phải từ 0 đến 100 (đã nhập 150)")) << over.err;
  EXPECT_FALSE(has(over.err, "a percentage must be")) << over.err;

  const Proc rep = minh({"report", "--indicator", "CT-CAPNUOC-XA", "--period", "2026-H1", "--value", "78,5", "--progress", "đúng tiến độ",
                         "--narrative", "Bản Nà Lời: 126 hộ có nước sạch."});
  ASSERT_EQ(rep.rc, 0) << rep.err;
  EXPECT_TRUE(has(rep.out, "Đã ghi báo cáo ")) << rep.out;
  EXPECT_TRUE(has(rep.out, "trạng thái: bản nháp")) << rep.out;
  EXPECT_TRUE(has(rep.out, "lần cập nhật số")) << rep.out;
  EXPECT_FALSE(has(rep.out, "change set")) << rep.out;  // the internal term is not shown

  const Proc before = minh({"status"});
  EXPECT_TRUE(has(before.out, "1 lần cập nhật đang chờ gửi")) << before.out;

  const Proc sync = minh({"sync"});
  ASSERT_EQ(sync.rc, 0) << sync.err;
  EXPECT_TRUE(has(sync.out, "Đã đồng bộ: 1 lần cập nhật được máy chủ nhận")) << sync.out;

  const Proc st = minh({"status"});
  ASSERT_EQ(st.rc, 0) << st.err;
  EXPECT_TRUE(has(st.out, "0 lần cập nhật đang chờ gửi")) << st.out;
  EXPECT_TRUE(has(st.out, "Biên nhận")) << st.out;
  EXPECT_TRUE(has(st.out, "Lò Văn Minh")) << st.out;

  // The server's signed receipt, checked on the device, in plain words.
  const size_t at = rep.out.find("Đã ghi báo cáo ") + std::string("Đã ghi báo cáo ").size();
  const Proc receipt = minh({"receipt", rep.out.substr(at, 36)});
  ASSERT_EQ(receipt.rc, 0) << receipt.err;
  EXPECT_TRUE(has(receipt.out, "Biên nhận điện tử (bằng chứng tỉnh đã nhận)")) << receipt.out;
  EXPECT_TRUE(has(receipt.out, "chữ ký hợp lệ")) << receipt.out;

  // The same device in English.
  const Proc en = minh({"status"}, "LANG=C");
  EXPECT_TRUE(has(en.out, "0 change sets waiting to be sent")) << en.out;
}

// English words that must not reach an official reading Vietnamese (the statuses as the schema
// spells them, and the headings and phrases the commands print in English).
const std::vector<std::string> kEnglish = {"draft",   "submitted",  "accepted", "returned", "rejected", "Report",   "No reports", "not synced",
                                           "change set", "receipts:", "evidence:", "review ",  "comment by", " by ",     "recorded",   "Wrote",
                                           "Carry",   "Imported",   "Dismissed", "outbox"};

// Every wanted Vietnamese phrase is there, and none of the English ones.
void expect_vietnamese(const Proc& p, const std::vector<std::string>& wanted, const std::string& what) {
  const std::string all = p.out + p.err;
  for (const auto& w : wanted) EXPECT_TRUE(has(all, w)) << what << ": wanted \"" << w << "\" in:\n" << all;
  for (const auto& e : kEnglish) EXPECT_FALSE(has(all, e)) << what << ": English \"" << e << "\" left in:\n" << all;
}

// The reading commands in Vietnamese: the list of reports, one report with its review, comment,
// evidence and receipts, the reviewer's queue, a bundle carried by hand, and a refused change set
// dismissed; the same report and list still in English under LANG=C.
TEST_F(FieldVietnamese, ListShowReviewsBundleAndDismiss) {
  user("minh", "official", "03808", "Lò Văn Minh");
  user("huong", "reviewer", "all", "Nguyễn Thị Hương");
  if (HasFatalFailure()) return;
  const fs::path photo = root_ / "be-nuoc.png";
  std::ofstream(photo, std::ios::binary) << "\x89PNG\r\n\x1a\n tram-field cli test";
  const Proc rep = minh({"report", "--indicator", "CT-CAPNUOC-XA", "--period", "2026-H1", "--value", "78,5", "--progress", "đúng tiến độ", "--narrative",
                         "Bản Nà Lời: 126 hộ có nước sạch.", "--evidence", photo.string(), "--caption", "Bể nước bản Nà Lời"});
  ASSERT_EQ(rep.rc, 0) << rep.err;
  const size_t at = rep.out.find("Đã ghi báo cáo ");
  ASSERT_NE(at, std::string::npos) << rep.out;
  const std::string id = rep.out.substr(at + std::string("Đã ghi báo cáo ").size(), 36);

  const Proc list = minh({"list"});
  ASSERT_EQ(list.rc, 0) << list.err;
  expect_vietnamese(list, {"Báo cáo trên thiết bị này: 1", id, "bản nháp", "(chưa đồng bộ)"}, "list");

  ASSERT_EQ(minh({"submit", id}).rc, 0);
  ASSERT_EQ(minh({"comment", id, "--text", "Xã đã gửi ảnh bể nước."}).rc, 0);
  ASSERT_EQ(minh({"sync"}).rc, 0);
  ASSERT_EQ(as("huong", {"sync"}).rc, 0);

  const Proc queue = as("huong", {"reviews", "--period", "2026-H1"});
  ASSERT_EQ(queue.rc, 0) << queue.err;
  expect_vietnamese(queue, {"Báo cáo chờ duyệt: 1", id, "đã gửi", "Bản Nà Lời: 126 hộ", "người báo cáo: Lò Văn Minh, ngày ghi: "}, "reviews");

  ASSERT_EQ(as("huong", {"return", id, "--comment", "Thiếu danh sách hộ."}).rc, 0);
  ASSERT_EQ(as("huong", {"sync"}).rc, 0);
  ASSERT_EQ(minh({"sync"}).rc, 0);

  const Proc show = minh({"show", id});
  ASSERT_EQ(show.rc, 0) << show.err;
  expect_vietnamese(show,
                    {"Báo cáo " + id, "trả lại để chỉnh sửa", "lượt duyệt ", "(người duyệt: Nguyễn Thị Hương, ngày ", "Thiếu danh sách hộ.",
                     "ý kiến của Lò Văn Minh ngày ", "Xã đã gửi ảnh bể nước.", "minh chứng: Bể nước bản Nà Lời (image/png), mã kiểm tra ",
                     "biên nhận điện tử: 2 (`tram-field receipt MÃ`"},
                    "show");
  // The same report in English: the schema's status words and the English headings.
  const Proc en = minh({"show", id}, "LANG=C");
  ASSERT_EQ(en.rc, 0) << en.err;
  for (const std::string& w : std::vector<std::string>{"Report " + id, "returned by Nguyễn Thị Hương on ", "comment by Lò Văn Minh on ", "evidence: Bể nước bản Nà Lời (image/png)",
                              "receipts: 2 (`tram-field receipt ID` shows and verifies them)"}) {
    EXPECT_TRUE(has(en.out, w)) << "wanted \"" << w << "\" in:\n" << en.out;
  }
  EXPECT_FALSE(has(en.out, "Báo cáo " + id)) << en.out;
  const Proc en_list = minh({"list", "--lang", "en"});
  EXPECT_TRUE(has(en_list.out, "Reports on this device: 1")) << en_list.out;
  EXPECT_TRUE(has(en_list.out, " returned")) << en_list.out;

  // A second report carried to the office as a bundle, and the receipts read back.
  const Proc second = minh({"report", "--indicator", "CT-BACSI-TRAMYTE", "--period", "2026-H1", "--value", "1", "--progress", "có nguy cơ chậm"});
  ASSERT_EQ(second.rc, 0) << second.err;
  const std::string second_id = second.out.substr(second.out.find("Đã ghi báo cáo ") + std::string("Đã ghi báo cáo ").size(), 36);
  const std::string bundle = (root_ / "minh.bundle").string(), receipts = (root_ / "minh.receipts").string();
  const Proc exported = minh({"export-bundle", bundle});
  ASSERT_EQ(exported.rc, 0) << exported.err;
  expect_vietnamese(exported, {"Đã ghi 1 lần cập nhật đã ký số vào " + bundle, "Hãy mang tệp này đến nơi có mạng", "tram-field import-receipts"}, "export-bundle");
  const auto imported = run_cli({"admin", "import-bundle", "--data", data(), "--in", bundle, "--out", receipts});
  ASSERT_EQ(imported.first, 0) << imported.second;
  const Proc back = minh({"import-receipts", receipts});
  ASSERT_EQ(back.rc, 0) << back.err;
  expect_vietnamese(back, {"Đã đọc biên nhận: 1 lần cập nhật được máy chủ nhận", "Còn 0 lần cập nhật đang chờ gửi."}, "import-receipts");

  // An edit the server refuses (the administrator moved minh to another commune meanwhile),
  // then dismissed by its number.
  ASSERT_EQ(minh({"report", "--id", second_id, "--value", "2"}).rc, 0);
  user("minh", "official", "04240", "Lò Văn Minh", false);
  minh({"sync"});
  const Proc st = minh({"status", "--json"});
  const size_t key = st.out.find("\"rejected\":[{\"seq\":");
  ASSERT_NE(key, std::string::npos) << st.out;
  const std::string seq = std::to_string(std::stoull(st.out.substr(key + std::string("\"rejected\":[{\"seq\":").size())));
  const Proc wrong = minh({"dismiss", "số-hai"});
  EXPECT_EQ(wrong.rc, 1);
  expect_vietnamese(wrong, {"dismiss SỐ: số của lần cập nhật bị từ chối"}, "dismiss with a word");
  const Proc dismissed = minh({"dismiss", seq});
  ASSERT_EQ(dismissed.rc, 0) << dismissed.err;
  expect_vietnamese(dismissed, {"Đã bỏ lần cập nhật số " + seq + " bị máy chủ từ chối."}, "dismiss");
}

}  // namespace
}  // namespace tram::testing
