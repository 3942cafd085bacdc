// tram-server's command line (issue 14): typos are errors with exit code 2 and a hint, never
// silently ignored; --version; unit codes an administrator types must exist in the reference
// data; admin users and admin units. The real binary, run as an operator would.
#include <gtest/gtest.h>

#include <fstream>

#include "../support/scratch.hpp"
#include "harness.hpp"

namespace tram::testing {
namespace {

// The English tests below expect English whatever the developer's own locale: the language
// comes from the environment (LANG, LC_ALL, LC_MESSAGES, LANGUAGE), which popen passes on.
const bool kEnglishByDefault = [] {
  for (const char* name : {"LC_ALL", "LC_MESSAGES", "LANGUAGE"}) ::unsetenv(name);
  ::setenv("LANG", "C.UTF-8", 1);
  return true;
}();

// admin units lists the 75 communes and wards and the 16 departments of seed/agencies.csv.
constexpr long kUnitsAndDepartments = 75 + 16;

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = scratch_dir("tram-cli", ::testing::UnitTest::GetInstance()->current_test_info()->name()) + "/data";  // kept when the test fails
    ASSERT_EQ(run_cli({"seed", "--data", data_}).first, 0);
  }
  std::string data_;
};

// A server seeded before schema v3 (issue 14): seeding again brings the reference rows up to the
// current seed files (each task's full wording, the departments and who reports on each task,
// the 4-lane widening's invented deadline cleared), then is a no-op; departments are units an
// administrator can give a user, and the province report expects them.
TEST(CliSeedUpgrade, SeedingAgainBringsAnOlderSeedUpToDate) {
  namespace fs = std::filesystem;
  const std::string dir = ::testing::TempDir() + "/tram-cli-seed-upgrade";
  fs::remove_all(dir);
  const std::string old_schemas = dir + "/schemas", data = dir + "/data";
  fs::create_directories(old_schemas + "/sonla-2026/seed/rows");
  for (const char* v : {"v1.json", "v2.json"}) {
    fs::copy_file(std::string(TRAM_SCHEMAS_DIR) + "/sonla-2026/" + v, old_schemas + "/sonla-2026/" + v);
  }
  // What a v2 seed held of one task and its indicator.
  std::ofstream(old_schemas + "/sonla-2026/seed/rows/old.json")
      << R"({"table": "task", "rows": [{"id": "NV06.01", "code": "NV06.01", "task_group": "NV06", "title": "Tập trung đầu tư"}]})";
  std::ofstream(old_schemas + "/sonla-2026/seed/rows/old-indicator.json")
      << R"({"table": "indicator", "rows": [{"id": "CT-CAOTOC-HOABINH-MOCCHAU-4LAN", "code": "CT-CAOTOC-HOABINH-MOCCHAU-4LAN", "task": "NV06.01",)"
      << R"( "title": "Mở rộng 4 làn xe", "kind": "count", "comparator": "=", "target": 4.0, "deadline": "2030-12-31", "applies_to": "province"}]})";
  auto [rc, out] = run_cli({"seed", "--data", data, "--schemas", old_schemas});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("seeded 2 rows of sonla-2026 v2"), std::string::npos) << out;
  std::tie(rc, out) = run_cli({"admin", "create-user", "--data", data, "--id", "so-xd", "--role", "department", "--units", "SXD"});
  EXPECT_NE(rc, 0) << "no departments before v3: " << out;

  std::tie(rc, out) = run_cli({"seed", "--data", data});  // the installed schemas: v3 and its seed
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("updated "), std::string::npos) << out;
  EXPECT_NE(out.find("sonla-2026 v3"), std::string::npos) << out;
  std::tie(rc, out) = run_cli({"seed", "--data", data});
  EXPECT_EQ(rc, 0);
  EXPECT_NE(out.find("already seeded"), std::string::npos) << out;

  std::tie(rc, out) = run_cli({"admin", "units", "--data", data});
  EXPECT_NE(out.find("STC  Sở Tài chính"), std::string::npos) << out;
  EXPECT_NE(out.find("03808  xã Mường La"), std::string::npos) << out;
  std::tie(rc, out) = run_cli({"admin", "create-user", "--data", data, "--id", "so-xd", "--role", "department", "--units", "SXD"});
  EXPECT_EQ(rc, 0) << out;

  // The report: the widening has no deadline and is expected of its department, not "Toàn tỉnh";
  // every task is expected of someone.
  std::tie(rc, out) = run_cli({"report", "--data", data, "--period", "2026", "--json"});
  ASSERT_EQ(rc, 0) << out;
  const size_t lanes = out.find("\"indicator\":\"CT-CAOTOC-HOABINH-MOCCHAU-4LAN\"");
  ASSERT_NE(lanes, std::string::npos) << out.substr(0, 2000);
  const size_t line_start = out.rfind('{', lanes), line_end = out.find('}', lanes);
  const std::string line = out.substr(line_start, line_end - line_start);
  EXPECT_NE(line.find("\"unit_code\":\"SXD\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"unit_name\":\"Sở Xây dựng\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"target_deadline\":null"), std::string::npos) << line;
  EXPECT_NE(out.find("\"indicator\":\"NV07.06\",\"indicator_title\""), std::string::npos);  // a task line, from Sở Y tế
  // "Toàn tỉnh" is left only for the yes/no share lines, which are computed, not expected of anyone.
  auto count = [&](const std::string& what) {
    size_t n = 0;
    for (size_t at = out.find(what); at != std::string::npos; at = out.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("\"unit_name\":\"Toàn tỉnh\""), count("\"aggregate\":true"));
  fs::remove_all(dir);
}

TEST(CliNoData, VersionAndHelp) {
  auto [rc, out] = run_cli({"--version"});
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(out.rfind("tram-server ", 0), 0u) << out;
  EXPECT_NE(out.find('.'), std::string::npos) << out;
  std::tie(rc, out) = run_cli({"--help"});
  EXPECT_EQ(rc, 0);
  EXPECT_NE(out.find("admin restore"), std::string::npos) << out;
  std::tie(rc, out) = run_cli({"serve", "--help"});
  EXPECT_EQ(rc, 0);
  EXPECT_NE(out.find("--max-connections-per-device"), std::string::npos) << out;
}

// Each typo exits 2, says what was wrong and what was meant, and does nothing.
TEST_F(Cli, TyposAreErrorsWithAHint) {
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::vector<Case> cases = {
      {{"serve", "--data", data_, "--port", "8080"}, "did you mean --listen"},
      {{"report", "--data", data_, "--period", "2026-H1", "--cvs", "out.csv"}, "did you mean --csv"},
      {{"admin", "devices", "--data", data_, "--bogus"}, "--bogus: not an option of this command"},
      {{"admin", "create-user", "--data", data_, "--id", "x", "--role", "official", "--unit", "03808"}, "did you mean --units"},
      {{"serve", "--data", data_, "--max-connections", "lots"}, "a whole number"},
      {{"frob", "--data", data_}, "unknown command frob"},
      {{"admin", "devcies", "--data", data_}, "unknown command admin devcies"},
      {{"admin", "devices"}, "--data DIR is required"},
  };
  for (const auto& c : cases) {
    auto [rc, out] = run_cli(c.args);
    EXPECT_EQ(rc, 2) << c.args[0] << " " << c.args[1] << ": " << out;
    EXPECT_NE(out.find(c.says), std::string::npos) << out;
    EXPECT_NE(out.find("--help"), std::string::npos) << out;
  }
  // `report --cvs` wrote nothing.
  EXPECT_FALSE(std::filesystem::exists("out.csv"));
}

// A config file gives options as "key = value" lines, below the command line and the
// environment; an unknown key is an error like an unknown option.
TEST_F(Cli, ConfigFileKeysAreCheckedToo) {
  const std::string good = data_ + "/good.conf", bad = data_ + "/bad.conf";
  std::ofstream(good) << "# the province's server\ndata = " << data_ << "\n";
  std::ofstream(bad) << "data = " << data_ << "\nlisten-port = 8080\n";
  auto [rc, out] = run_cli({"admin", "units", "--config", good});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("03808"), std::string::npos) << out;
  std::tie(rc, out) = run_cli({"admin", "units", "--config", bad});
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("line 2: unknown option listen-port"), std::string::npos) << out;
}

// A unit code must exist in the reference data: "3808" (for 03808) and "99999" are refused with
// the code meant, and no user is created; an official needs units.
TEST_F(Cli, UnitCodesMustExist) {
  auto create = [&](const std::string& id, std::vector<std::string> extra) {
    std::vector<std::string> args = {"admin", "create-user", "--data", data_, "--id", id, "--role", "official"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_cli(args);
  };
  auto [rc, out] = create("typo", {"--units", "3808"});
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("unknown unit code 3808 (did you mean 03808, xã Mường La?)"), std::string::npos) << out;
  std::tie(rc, out) = create("nowhere", {"--units", "03808,99999"});
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("unknown unit code 99999"), std::string::npos) << out;
  std::tie(rc, out) = create("scopeless", {});
  EXPECT_NE(rc, 0);
  EXPECT_NE(out.find("needs the units"), std::string::npos) << out;
  std::tie(rc, out) = create("minh", {"--units", "03808,03646", "--name", "Lò Văn Minh"});
  EXPECT_EQ(rc, 0) << out;

  std::tie(rc, out) = run_cli({"admin", "users", "--data", data_});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("minh"), std::string::npos) << out;
  EXPECT_NE(out.find("03808,03646"), std::string::npos) << out;
  EXPECT_NE(out.find("Lò Văn Minh"), std::string::npos) << out;
  for (const char* refused : {"typo", "nowhere", "scopeless"}) EXPECT_EQ(out.find(refused), std::string::npos) << out;

  // admin units: the 75 communes and wards and the 16 departments (seed/agencies.csv), with their
  // names, so an operator finds a code.
  std::tie(rc, out) = run_cli({"admin", "units", "--data", data_});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), kUnitsAndDepartments) << out;
  EXPECT_NE(out.find("\nSYT  Sở Y tế\n"), std::string::npos) << out;
  EXPECT_NE(out.find("03808  xã Mường La"), std::string::npos) << out;
}

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Deleting a user revokes their devices (the server refuses them at once) and keeps what they
// sent; admin devices shows enrolment and last change set; the audit trail (DATA/audit.log) has a
// timestamped line for each administrative event, never an enrolment code; every line of the
// server's own log carries a timestamp, and a device's request names its user and device.
TEST_F(Cli, DeleteUserDevicesAuditTrailAndLogLines) {
  ASSERT_EQ(run_cli({"admin", "create-user", "--data", data_, "--id", "minh", "--role", "official", "--units", "03808"}).first, 0);
  auto [rc, out] = run_cli({"admin", "enrol-code", "--data", data_, "--user", "minh"});
  ASSERT_EQ(rc, 0) << out;
  const std::string code = out.substr(0, out.find('\n'));
  ServerProcess server(data_);
  TestDevice phone(server.port(), code, "minh", 7);
  ASSERT_TRUE(phone.enrolled()) << phone.enrol_body();
  ASSERT_TRUE(phone.login());
  // A report (schema sonla-2026 v2 field ids), so the device has a last change set.
  const std::vector<FieldWrite> report = {{1, Value{Text{"03808"}}},        {2, Value{Text{"CT-CAPNUOC-XA"}}},
                                          {4, Value{Text{"2026-H1"}}},      {5, Value{78.5}},
                                          {6, Value{Text{"on_track"}}},     {11, Value{Text{"Lò Văn Minh"}}},
                                          {12, Value{*Date::parse("2026-06-05")}}, {13, Value{Text{"draft"}}}};
  auto pushed = phone.push({phone.make({Op{"progress_report", "r-1", OpKind::put, report, {}}}).signed_cs});
  EXPECT_NE(pushed.body.find("\"accepted\""), std::string::npos) << pushed.body;

  std::tie(rc, out) = run_cli({"admin", "devices", "--data", data_});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find(to_hex(phone.key())), std::string::npos) << out;
  EXPECT_NE(out.find("enrolled 20"), std::string::npos) << out;
  EXPECT_NE(out.find("last sent 20"), std::string::npos) << out;  // a date, not "-"

  std::tie(rc, out) = run_cli({"admin", "delete-user", "--data", data_, "--id", "minh"});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("revoked"), std::string::npos) << out;
  std::tie(rc, out) = run_cli({"admin", "delete-user", "--data", data_, "--id", "minh"});
  EXPECT_EQ(rc, 1) << out;  // no such user
  std::tie(rc, out) = run_cli({"admin", "users", "--data", data_});
  EXPECT_EQ(out.find("minh"), std::string::npos) << out;
  std::tie(rc, out) = run_cli({"admin", "devices", "--data", data_});
  EXPECT_NE(out.find("revoked"), std::string::npos) << out;
  // The running server refuses the deleted user's phone at its next request.
  auto refused = phone.push({phone.make({Op{"progress_report", "r-2", OpKind::put, report, {}}}).signed_cs});
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_NE(refused.body.find("device_revoked"), std::string::npos) << refused.body;

  const auto audit = lines_of(data_ + "/audit.log");
  std::string all;
  for (const auto& l : audit) {
    all += l + "\n";
    EXPECT_EQ(l.rfind("{\"ts\":\"20", 0), 0u) << l;  // starts with its time
  }
  for (const char* event : {"\"user_saved\"", "\"enrolment_code_issued\"", "\"user_deleted\""}) {
    EXPECT_NE(all.find(event), std::string::npos) << event << "\n" << all;
  }
  EXPECT_EQ(all.find(code), std::string::npos) << "the trail must not hold the enrolment code";

  const auto log = lines_of(data_ + "/server.log");
  ASSERT_FALSE(log.empty());
  bool named = false;
  for (const auto& l : log) {
    EXPECT_EQ(l.rfind("{\"ts\":\"20", 0), 0u) << l;
    named = named || (l.find("\"path\":\"/v1/push\"") != std::string::npos && l.find("\"user\":\"minh\"") != std::string::npos &&
                      l.find("\"device\":\"" + to_hex(phone.key()).substr(0, 16) + "\"") != std::string::npos);
  }
  EXPECT_TRUE(named) << "a push's log line names its user and device";
}

// Rotating the key, moving and restoring are audited too (the server stopped, as they require).
TEST_F(Cli, KeyRotationMoveAndRestoreAreAudited) {
  ASSERT_EQ(run_cli({"admin", "backup", "--data", data_, "--to", data_ + "/../cli-audit-backup.db"}).first, 0);
  EXPECT_EQ(run_cli({"admin", "rotate-key", "--data", data_}).first, 0);
  EXPECT_EQ(run_cli({"admin", "move", "--data", data_, "--address", "https://tram.example:8443"}).first, 0);
  EXPECT_EQ(run_cli({"admin", "restore", "--data", data_, "--from", data_ + "/../cli-audit-backup.db"}).first, 0);
  std::string all;
  for (const auto& l : lines_of(data_ + "/audit.log")) all += l + "\n";
  for (const char* event : {"\"backup_written\"", "\"server_key_rotated\"", "\"server_moved\"", "\"restored\""}) {
    EXPECT_NE(all.find(event), std::string::npos) << event << "\n" << all;
  }
  std::filesystem::remove(data_ + "/../cli-audit-backup.db");
}

// The operator's messages in Vietnamese (po/tram-server/vi.po): with --lang vi, or LANG=vi_VN.UTF-8
// (which works without that locale generated). Codes (invalid_value), "seq=" and "listening on"
// stay as they are; the exit codes are the English path's.
constexpr const char* kVietnamese = "env -u LC_ALL -u LC_MESSAGES -u LANGUAGE LANG=vi_VN.UTF-8 ";

TEST_F(Cli, VietnameseErrorsNameTheCodeWithTheSameExitCode) {
  const std::vector<std::string> typo = {"admin", "create-user", "--data", data_, "--id", "typo", "--role", "official", "--units", "3808"};
  auto [rc_en, out_en] = run_cli(typo);
  EXPECT_NE(rc_en, 0);
  EXPECT_NE(out_en.find("unknown unit code 3808 (did you mean 03808, xã Mường La?)"), std::string::npos) << out_en;
  std::vector<std::string> args = {"--lang", "vi"};
  args.insert(args.end(), typo.begin(), typo.end());
  auto [rc, out] = run_cli(args);
  EXPECT_EQ(rc, rc_en) << out;
  EXPECT_NE(out.find("invalid_value: không có mã đơn vị 3808 (có phải ý là 03808, xã Mường La?)"), std::string::npos) << out;
  EXPECT_EQ(out.find("unknown unit"), std::string::npos) << out;
  // --lang after the command works too, and so does LANG.
  args = typo;
  args.back() = "99999";
  args.insert(args.end(), {"--lang", "vi"});
  std::tie(rc, out) = run_cli(args);
  EXPECT_EQ(rc, rc_en) << out;
  EXPECT_NE(out.find("không có mã đơn vị 99999 (lệnh tram-server admin units liệt kê các mã xã, phường)"), std::string::npos) << out;
  std::tie(rc, out) = run_cli({"admin", "create-user", "--data", data_, "--id", "x", "--role", "official"}, kVietnamese);
  EXPECT_EQ(rc, rc_en) << out;
  EXPECT_NE(out.find("cán bộ xã, phường cần có đơn vị mình báo cáo"), std::string::npos) << out;

  // Usage errors: exit 2 as in English, the hint and the way to --help in Vietnamese.
  std::tie(rc, out) = run_cli({"--lang", "vi", "serve", "--data", data_, "--port", "8080"});
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("--port: có phải ý là --listen HOST:PORT?"), std::string::npos) << out;
  EXPECT_NE(out.find("Chạy 'tram-server serve --help' để xem các tùy chọn."), std::string::npos) << out;
  std::tie(rc, out) = run_cli({"admin", "devcies", "--data", data_}, kVietnamese);
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("không có lệnh admin devcies (các lệnh: "), std::string::npos) << out;
  std::tie(rc, out) = run_cli({"--lang", "vi", "serve", "--data", data_, "--threads", "nhiều"});
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("cần một số nguyên (0, 1, 2, …), không phải nhiều"), std::string::npos) << out;
  // A language that is not offered is a usage error too, said in both languages.
  std::tie(rc, out) = run_cli({"--lang", "fr", "admin", "units", "--data", data_});
  EXPECT_EQ(rc, 2) << out;
  EXPECT_NE(out.find("--lang must be vi or en, not fr"), std::string::npos) << out;
  EXPECT_NE(out.find("--lang phải là vi (tiếng Việt) hoặc en (English)"), std::string::npos) << out;
}

TEST_F(Cli, VietnameseListingsHaveColumnNamesEnglishOnesAreUnchanged) {
  auto [rc, out] = run_cli({"admin", "units", "--data", data_}, kVietnamese);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out.rfind("MÃ     XÃ, PHƯỜNG HOẶC SỞ, BAN, NGÀNH\n", 0), 0u) << out;  // the column names first
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), kUnitsAndDepartments + 1) << out;
  EXPECT_NE(out.find("\n03808  xã Mường La\n"), std::string::npos) << out;  // the rows as in English
  // English, and --lang en over a Vietnamese LANG: the rows alone, as scripts read them.
  for (const std::string& prefix : {std::string(), std::string(kVietnamese)}) {
    std::vector<std::string> args = {"admin", "units", "--data", data_};
    if (!prefix.empty()) args.insert(args.begin(), {"--lang", "en"});
    std::tie(rc, out) = run_cli(args, prefix);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_EQ(out.rfind("03646  phường Tô Hiệu\n", 0), 0u) << out;  // no column names
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), kUnitsAndDepartments) << out;
  }

  std::tie(rc, out) = run_cli({"--lang", "vi", "admin", "create-user", "--data", data_, "--id", "minh", "--role", "official",
                               "--units", "03808", "--name", "Lò Văn Minh"});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("đã lưu tài khoản minh (vai trò official), phạm vi: 03808"), std::string::npos) << out;
  std::tie(rc, out) = run_cli({"--lang", "vi", "admin", "users", "--data", data_});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(out.rfind("TÀI KHOẢN", 0), 0u) << out;
  EXPECT_NE(out.find("VAI TRÒ"), std::string::npos) << out;
  EXPECT_NE(out.find("toàn tỉnh"), std::string::npos) << out;  // seed-admin's scope
  EXPECT_NE(out.find("03808"), std::string::npos) << out;
  std::tie(rc, out) = run_cli({"admin", "users", "--data", data_});
  EXPECT_EQ(out.find("TÀI KHOẢN"), std::string::npos) << out;
  EXPECT_NE(out.find("province"), std::string::npos) << out;

  // Confirmations of the admin commands.
  std::tie(rc, out) = run_cli({"--lang", "vi", "admin", "backup", "--data", data_, "--to", data_ + "/vi-backup.db"});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("đã ghi bản sao lưu vào"), std::string::npos) << out;
  std::tie(rc, out) = run_cli({"--lang", "vi", "admin", "delete-user", "--data", data_, "--id", "minh"});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("đã xóa tài khoản minh; các thiết bị của người này đã bị thu hồi"), std::string::npos) << out;
  std::tie(rc, out) = run_cli({"--lang", "vi", "admin", "delete-user", "--data", data_, "--id", "minh"});
  EXPECT_EQ(rc, 1) << out;  // as in English
  EXPECT_NE(out.find("not_found: không có tài khoản minh"), std::string::npos) << out;
  std::tie(rc, out) = run_cli({"--lang", "vi", "admin", "rotate-key", "--data", data_});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("đã đổi khóa ký của máy chủ (khóa dùng để ký biên nhận điện tử)"), std::string::npos) << out;
}

TEST_F(Cli, VietnameseHelpAndServeStartUpLines) {
  auto [rc, out] = run_cli({"--help"}, kVietnamese);
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("Cách dùng:"), std::string::npos) << out;
  EXPECT_NE(out.find("Các lệnh:"), std::string::npos) << out;
  EXPECT_NE(out.find("admin restore"), std::string::npos) << out;
  std::tie(rc, out) = run_cli({"--lang", "vi", "serve", "--help"});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("--max-connections-per-device"), std::string::npos) << out;
  EXPECT_NE(out.find("số kết nối của một thiết bị đã đăng nhập"), std::string::npos) << out;
  std::tie(rc, out) = run_cli({"serve", "--help"});
  EXPECT_NE(out.find("connections per device with a session"), std::string::npos) << out;

  // serve for 3 seconds: the start-up lines in Vietnamese keep "listening on HOST:PORT", which
  // scripts wait for; the server's log lines (stderr, JSON) stay English.
  std::tie(rc, out) = run_cli({"--lang", "vi", "serve", "--data", data_, "--listen", "127.0.0.1:0"}, "timeout -s INT 3 ");
  EXPECT_NE(out.find("tram-server đã sẵn sàng, nhận kết nối tại 127.0.0.1:"), std::string::npos) << out;
  EXPECT_NE(out.find("(listening on 127.0.0.1:"), std::string::npos) << out;
  EXPECT_NE(out.find("khóa ký của máy chủ (dùng để ký biên nhận điện tử): "), std::string::npos) << out;
}

}  // namespace
}  // namespace tram::testing
