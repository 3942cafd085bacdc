// A server that changes its key (`admin rotate-key`) or its address (`admin move`): devices follow
// the signed key statements from the key they pinned, with no user action and no re-enrolment,
// keep verifying what the old key signed, and refuse a key that no statement leads to. The real
// tram-server on loopback.
#include <set>

#include "client/client_support.hpp"
#include "tram/engine/json.hpp"

namespace tram::testing {
namespace {

namespace fs = std::filesystem;
using client::Client;
using client::WriteTxn;

void spit(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

class RotationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir(::testing::UnitTest::GetInstance()->current_test_info()->name());
    data_ = dir_ + "/server";
    fs::create_directories(data_);
    prepare_server(data_);
    server_ = std::make_unique<ServerProcess>(data_);
    relay_.set_upstream(server_->port());
  }

  // A device enrolled for `user` through the relay: the server's "address" for this test.
  std::unique_ptr<Client> device(const std::string& name, const std::string& user) {
    auto opened = Client::open(device_options(dir_ + "/" + name + ".db"));
    EXPECT_TRUE(opened.ok()) << opened.status().to_string();
    if (!opened.ok()) return nullptr;
    auto c = std::move(opened).value();
    Status st = c->enroll(relay_.url(), code_for(user));
    EXPECT_TRUE(st.ok()) << st.to_string();
    return c;
  }

  static HttpResponse admin_at(const ServerProcess& s, const std::string& method, const std::string& path,
                               const std::string& body = "") {
    const std::string token = slurp(s.data() + "/admin.token").substr(0, 64);
    return http(s.port(), method, path, body, {"Authorization: Bearer " + token});
  }
  std::string code_for(const std::string& user) {
    const HttpResponse r = admin_at(*server_, "POST", "/v1/admin/enrolment-codes", "{\"user\":\"" + user + "\"}");
    simdjson::dom::parser p;
    std::string_view code;
    EXPECT_FALSE(r.status != 200 || p.parse(r.body)["code"].get_string().get(code)) << r.status << " " << r.body;
    return std::string(code);
  }
  // Each device's chain head on a server.
  static std::map<std::string, uint64_t> chains(const ServerProcess& s) {
    const HttpResponse r = admin_at(s, "GET", "/v1/admin/devices");
    EXPECT_EQ(r.status, 200) << r.body;
    simdjson::dom::parser p;
    simdjson::dom::array list;
    std::map<std::string, uint64_t> out;
    if (p.parse(r.body)["devices"].get_array().get(list)) return out;
    for (auto d : list) out[std::string(d["device"].get_string().value())] = d["seq"].get_uint64().value();
    return out;
  }
  // The key a server signs with now, as it advertises it.
  static std::string advertised_key(const ServerProcess& s) {
    const HttpResponse r = http(s.port(), "GET", "/v1/server-key");
    simdjson::dom::parser p;
    std::string_view key;
    EXPECT_FALSE(r.status != 200 || p.parse(r.body)["key"].get_string().get(key)) << r.status << " " << r.body;
    return std::string(key);
  }
  // The operator's way to import a bundle while the server runs; the receipt bundle is written
  // to `out`, as a USB stick would carry it back.
  void import_bundle(const std::string& bundle, const std::string& out) {
    const HttpResponse r = admin_at(*server_, "POST", "/v1/admin/bundles", slurp(bundle));
    ASSERT_EQ(r.status, 200) << r.body;
    spit(out, r.body);
  }

  void stop_server() {
    server_->stop(SIGTERM);
    relay_.set_upstream(0);
  }
  void start_server() {
    server_->start();
    relay_.set_upstream(server_->port());
  }
  void admin_cli(const std::vector<std::string>& args) {
    auto [rc, out] = run_cli(args);
    ASSERT_EQ(rc, 0) << out;
  }

  std::string commit_report(Client& c, const std::string& text) {
    WriteTxn t;
    const std::string id = t.insert("progress_report", "", report_fields("03808", text));
    must_commit(c, t);
    return id;
  }
  static void expect_receipts_verify(Client& c, size_t n) {
    auto list = c.receipts();
    ASSERT_TRUE(list.ok()) << list.status().to_string();
    EXPECT_EQ(list->size(), n);
    for (const auto& r : *list) {
      Status st = c.verify_receipt(r);
      EXPECT_TRUE(st.ok()) << "receipt #" << r.seq << ": " << st.to_string();
    }
  }

  std::string dir_, data_;
  Relay relay_;
  std::unique_ptr<ServerProcess> server_;
};

// The operator rotates the key with the server stopped; the device's next sync follows the
// statement signed by the old key and goes on. What the old key signed keeps verifying: the
// stored receipts, and a receipt bundle made before the rotation but imported after it.
TEST_F(RotationTest, ADeviceFollowsARotatedKeyAndOldReceiptsStillVerify) {
  auto minh = device("minh", "minh");
  ASSERT_TRUE(minh);
  for (int k = 0; k < 2; ++k) commit_report(*minh, "Trước khi đổi khoá " + std::to_string(k));
  auto first = minh->sync();
  ASSERT_TRUE(first.ok()) << first.status().to_string();
  EXPECT_FALSE(first->server_key_rotated);
  EXPECT_EQ(first->server_moved_to, "");
  const std::string k0 = to_hex(minh->info().server_key);
  ASSERT_EQ(k0, advertised_key(*server_));
  // A bundle carried to the office before the rotation; its receipts come back after it.
  commit_report(*minh, "Gửi bằng USB");
  ASSERT_EQ(minh->export_bundle(dir_ + "/before.bundle").value_or(0), 1u);
  import_bundle(dir_ + "/before.bundle", dir_ + "/before.receipts");
  ASSERT_NE(slurp(dir_ + "/before.receipts").find("\"server\":\"" + k0 + "\""), std::string::npos);

  stop_server();
  admin_cli({"admin", "rotate-key", "--data", data_});
  start_server();
  const std::string k1 = advertised_key(*server_);
  ASSERT_NE(k1, k0);

  commit_report(*minh, "Sau khi đổi khoá");
  auto r = minh->sync();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->server_key_rotated);
  EXPECT_EQ(r->server_moved_to, "");
  EXPECT_EQ(r->accepted, 1u);
  EXPECT_EQ(r->duplicates, 1u);  // the bundle's change set, whose receipts are still on the stick
  EXPECT_EQ(minh->info().pending, 0u);
  EXPECT_EQ(to_hex(minh->info().server_key), k1);
  ASSERT_EQ(minh->info().previous_server_keys.size(), 1u);
  EXPECT_EQ(to_hex(minh->info().previous_server_keys[0]), k0);
  EXPECT_EQ(minh->info().last_error, "");
  expect_receipts_verify(*minh, 4);
  {
    auto list = minh->receipts().value();
    EXPECT_NE(list[0].body.find("\"server\":\"" + k0 + "\""), std::string::npos);
    EXPECT_NE(list[3].body.find("\"server\":\"" + k1 + "\""), std::string::npos);
  }

  // The receipt bundle of the old key, imported now: it verifies (its change set is settled).
  auto old = minh->import_receipts(dir_ + "/before.receipts");
  ASSERT_TRUE(old.ok()) << old.status().to_string();
  EXPECT_EQ(old->accepted + old->rejected, 0u);
  // Verified for real: a flipped signature is refused.
  {
    std::string text = slurp(dir_ + "/before.receipts");
    const size_t at = text.find("\"sig\":\"") + 7;
    text[at] = text[at] == '0' ? '1' : '0';
    spit(dir_ + "/forged.receipts", text);
    auto forged = minh->import_receipts(dir_ + "/forged.receipts");
    ASSERT_FALSE(forged.ok());
    EXPECT_EQ(forged.status().code(), Errc::bad_signature) << forged.status().to_string();
  }

  // A bundle after the rotation: its receipts (new key) settle the outbox.
  commit_report(*minh, "Gửi bằng USB sau khi đổi khoá");
  ASSERT_EQ(minh->export_bundle(dir_ + "/after.bundle").value_or(0), 1u);
  import_bundle(dir_ + "/after.bundle", dir_ + "/after.receipts");
  auto imported = minh->import_receipts(dir_ + "/after.receipts");
  ASSERT_TRUE(imported.ok()) << imported.status().to_string();
  EXPECT_EQ(imported->accepted, 1u);
  EXPECT_EQ(minh->info().pending, 0u);
  expect_receipts_verify(*minh, 5);

  // Followed once: the next sync is ordinary, and the trust survives a restart of the app.
  auto again = minh->sync();
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_FALSE(again->server_key_rotated);
  minh.reset();
  auto reopened = open_device(dir_ + "/minh.db");
  ASSERT_TRUE(reopened);
  EXPECT_EQ(to_hex(reopened->info().server_key), k1);
  ASSERT_EQ(reopened->info().previous_server_keys.size(), 1u);
  expect_receipts_verify(*reopened, 5);
  auto old_again = reopened->import_receipts(dir_ + "/before.receipts");
  EXPECT_TRUE(old_again.ok()) << old_again.status().to_string();

  // Two rotations in a row, followed by a device that slept through both; a device enrolled
  // after them pins the newest key and has nothing to follow.
  auto lan = device("lan", "lan");
  ASSERT_TRUE(lan && lan->sync().ok());
  stop_server();
  admin_cli({"admin", "rotate-key", "--data", data_});
  admin_cli({"admin", "rotate-key", "--data", data_});
  start_server();
  const std::string k3 = advertised_key(*server_);
  commit_report(*lan, "Sau hai lần đổi khoá");
  auto twice = lan->sync();
  ASSERT_TRUE(twice.ok()) << twice.status().to_string();
  EXPECT_TRUE(twice->server_key_rotated);
  EXPECT_EQ(to_hex(lan->info().server_key), k3);
  EXPECT_EQ(lan->info().previous_server_keys.size(), 2u);
  expect_receipts_verify(*lan, 1);
  auto an = device("an", "an");
  ASSERT_TRUE(an);
  auto fresh = an->sync();
  ASSERT_TRUE(fresh.ok()) << fresh.status().to_string();
  EXPECT_FALSE(fresh->server_key_rotated);
  EXPECT_EQ(to_hex(an->info().server_key), k3);
  EXPECT_TRUE(an->info().previous_server_keys.empty());
}

// Someone replaces the server's key and writes a statement that the pinned key did not sign:
// the device trusts nothing new, says why, and keeps its old trust and receipts.
TEST_F(RotationTest, AForgedRotationIsRefused) {
  auto minh = device("minh", "minh");
  ASSERT_TRUE(minh);
  commit_report(*minh, "Trước");
  ASSERT_TRUE(minh->sync().ok());
  const PublicKey k0 = minh->info().server_key;

  stop_server();
  SystemRandom random;
  std::array<uint8_t, 32> seed{};
  random.fill(std::as_writable_bytes(std::span(seed)));
  const PublicKey fake = DeviceKey::from_seed(seed).public_key();
  const DeviceKey other = DeviceKey::generate(random);
  auto statement = [&](const PublicKey& from, const DeviceKey& signer) {
    const std::string body = "{\"v\":1,\"kind\":\"tram-key-statement\",\"from\":\"" + to_hex(from) + "\",\"to\":\"" +
                             to_hex(fake) + "\",\"address\":\"\",\"at_ms\":1780000000000}";
    return "{\"body\":" + json::quote(body) + ",\"sig\":\"" + to_hex(signer.sign("tram-key-statement-v1:" + body)) + "\"}";
  };
  // One claims to come from the pinned key; one is a well-signed statement by a stranger.
  spit(data_ + "/key-statements.json", "[" + statement(k0, other) + "," + statement(other.public_key(), other) + "]\n");
  spit(data_ + "/server.key", to_hex(seed) + "\n");
  start_server();
  ASSERT_EQ(advertised_key(*server_), to_hex(fake));

  commit_report(*minh, "Sau");
  auto r = minh->sync();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Errc::bad_signature) << r.status().to_string();
  EXPECT_NE(r.status().message().find("refusing to trust it"), std::string::npos) << r.status().to_string();
  EXPECT_NE(minh->info().last_error.find("bad_signature"), std::string::npos) << minh->info().last_error;
  EXPECT_TRUE(minh->info().server_key == k0);
  EXPECT_TRUE(minh->info().previous_server_keys.empty());
  EXPECT_EQ(minh->info().pending, 1u);  // nothing was pushed to the server it does not trust
  expect_receipts_verify(*minh, 1);
  // The same after a restart of the app.
  minh.reset();
  auto reopened = open_device(dir_ + "/minh.db");
  ASSERT_TRUE(reopened);
  EXPECT_FALSE(reopened->sync().ok());
  EXPECT_TRUE(reopened->info().server_key == k0);
}

// The operator moves the server to a new address: the device learns it from a statement signed
// by the pinned key at the old address, and syncs with the new one from then on. A statement
// naming an address that does not answer with the trusted key is not followed.
TEST_F(RotationTest, ADeviceFollowsTheServerToItsNewAddress) {
  auto minh = device("minh", "minh");
  ASSERT_TRUE(minh);
  commit_report(*minh, "Ở địa chỉ cũ");
  ASSERT_TRUE(minh->sync().ok());
  const std::string device_hex = to_hex(minh->info().device);

  stop_server();
  admin_cli({"admin", "move", "--data", data_, "--address", "http://127.0.0.1:1"});  // a typo: nothing there
  start_server();
  auto stayed = minh->sync();
  ASSERT_TRUE(stayed.ok()) << stayed.status().to_string();
  EXPECT_EQ(stayed->server_moved_to, "");
  EXPECT_EQ(minh->info().server_url, relay_.url());

  // The data directory, copied to the new place and served there; then the old server signs
  // the move and is started again.
  stop_server();
  const std::string moved = dir_ + "/moved";
  fs::copy(data_, moved, fs::copy_options::recursive);
  ServerProcess there(moved);
  const std::string new_url = "http://127.0.0.1:" + std::to_string(there.port());
  admin_cli({"admin", "move", "--data", data_, "--address", new_url});
  start_server();

  commit_report(*minh, "Đang chuyển");
  auto r = minh->sync();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->server_moved_to, new_url);
  EXPECT_FALSE(r->server_key_rotated);
  EXPECT_EQ(r->accepted, 1u);
  EXPECT_EQ(minh->info().server_url, new_url);
  // The rest of that sync went to the new address already.
  EXPECT_EQ(chains(there)[device_hex], 2u);
  EXPECT_EQ(chains(*server_)[device_hex], 1u);

  // The old address is gone: the next sync still works.
  stop_server();
  commit_report(*minh, "Ở địa chỉ mới");
  auto after = minh->sync();
  ASSERT_TRUE(after.ok()) << after.status().to_string();
  EXPECT_EQ(after->server_moved_to, "");  // the copy's older statement (the typo) is not followed
  EXPECT_EQ(after->accepted, 1u);
  EXPECT_EQ(chains(there)[device_hex], 3u);
  expect_receipts_verify(*minh, 3);
  minh.reset();
  auto reopened = open_device(dir_ + "/minh.db");
  ASSERT_TRUE(reopened);
  EXPECT_EQ(reopened->info().server_url, new_url);
  auto again = reopened->sync();
  ASSERT_TRUE(again.ok()) << again.status().to_string();
}

}  // namespace
}  // namespace tram::testing
