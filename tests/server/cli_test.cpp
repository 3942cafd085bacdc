// tram-server's command line (issue 14): typos are errors with exit code 2 and a hint, never
// silently ignored; --version; unit codes an administrator types must exist in the reference
// data; admin users and admin units. The real binary, run as an operator would.
#include <gtest/gtest.h>

#include <fstream>

#include "harness.hpp"

namespace tram::testing {
namespace {

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = ::testing::TempDir() + "/tram-cli-" + ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::filesystem::remove_all(data_);
    ASSERT_EQ(run_cli({"seed", "--data", data_}).first, 0);
  }
  std::string data_;
};

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

  // admin units: the 75 communes and wards, with their names, so an operator finds a code.
  std::tie(rc, out) = run_cli({"admin", "units", "--data", data_});
  EXPECT_EQ(rc, 0) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 75) << out;
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

}  // namespace
}  // namespace tram::testing
