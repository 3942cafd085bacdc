// What an app embedding the SDK relies on beyond the C++ API: plain C programs (the C API's
// test and examples/c) enrol, write, sync and read; TLS with a CA file or a pinned certificate;
// the shared library exports the C API and nothing else.
#include "client/client_fixture.hpp"

namespace tram::testing {
namespace {

using client::Client;

std::pair<int, std::string> run(const std::string& cmd) {
  Proc r = run_shell(cmd);
  return {r.rc, std::move(r.out)};
}

TEST_F(ClientTest, PlainCProgramsEnrolWriteSyncAndRead) {
  const std::string schemas = std::string(TRAM_SCHEMAS_DIR) + "/sonla-2026";
  auto [rc, out] = run(std::string(TRAM_C_TEST_BIN) + " " + relay_.url() + " " + enrol_code(data_, "minh") + " " + schemas + " " +
                       dir_ + "/c.db");
  EXPECT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("all checks passed"), std::string::npos) << out;
  std::filesystem::create_directories(dir_ + "/example");
  auto [erc, eout] = run(std::string(TRAM_C_EXAMPLE_BIN) + " " + relay_.url() + " " + enrol_code(data_, "lan") + " " + schemas +
                         " " + dir_ + "/example");
  EXPECT_EQ(erc, 0) << eout;
  EXPECT_NE(eout.find("\"accepted\":1"), std::string::npos) << eout;
}

// TLS with the default Beast transport: a CA file, certificate pinning, and refusals.
TEST(ClientTls, VerifiesTheServerCertificateOrItsPin) {
  const std::string dir = temp_dir("tls"), data = dir + "/server";
  std::filesystem::create_directories(data);
  prepare_server(data);
  const std::string pin = make_test_certificate(data);
  ASSERT_EQ(pin.size(), 64u);
  ServerProcess server(data, {"--tls-cert", data + "/cert.pem", "--tls-key", data + "/key.pem"});
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port());
  auto attempt = [&](const std::string& name, const std::string& ca, const std::string& pin_hex) {
    client::Options o = device_options(dir + "/" + name + ".db");
    o.transport_options.ca_file = ca;
    o.transport_options.pin_sha256 = pin_hex;
    auto c = Client::open(o);
    EXPECT_TRUE(c.ok());
    Status st = (*c)->enroll(url, enrol_code(data, "minh"));
    if (st.ok()) st = (*c)->sync().status();
    return st;
  };
  Status with_ca = attempt("ca", data + "/cert.pem", "");
  EXPECT_TRUE(with_ca.ok()) << with_ca.to_string();
  Status pinned = attempt("pinned", "", pin);
  EXPECT_TRUE(pinned.ok()) << pinned.to_string();
  Status untrusted = attempt("untrusted", "", "");
  EXPECT_EQ(untrusted.code(), Errc::unavailable) << untrusted.to_string();
  std::string wrong = pin;
  wrong[0] = wrong[0] == '0' ? '1' : '0';
  Status mismatch = attempt("wrong-pin", data + "/cert.pem", wrong);
  EXPECT_EQ(mismatch.code(), Errc::bad_signature) << mismatch.to_string();
}

// The shared library shows the C API and nothing else: no engine, Beast, OpenSSL or libstdc++
// symbols for an app's other libraries to collide with.
TEST(ClientLibrary, ExportsOnlyTheCApi) {
  const auto [rc, out] = run("nm -D --defined-only " + std::string(TRAM_CLIENT_SO));
  ASSERT_EQ(rc, 0) << out;
  size_t functions = 0;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    const std::string name = line.substr(line.rfind(' ') + 1);
    EXPECT_TRUE(name.starts_with("tram_")) << "exported: " << name;
    functions += name.starts_with("tram_");
  }
  EXPECT_GE(functions, 20u);
}

}  // namespace
}  // namespace tram::testing
