// A server whose log went back (its database restored from an older backup, or its WAL lost)
// and devices that heal it with no user action: they keep what they sent, notice the signed
// head going backwards or a seq_gap below their receipts, send their change sets again and pull
// from the start. Also the field app's enrolment: nothing left behind on failure, private files,
// TLS trust (--ca-file, --pin) kept for later commands. The real tram-server on loopback.
// Longer than ~400 lines: each healing case needs a backup, a restore and a second sync of the same
// fixture; they are kept together so the recovery rules read in one place.
#include <sys/stat.h>

#include <set>

#include "client/client_fixture.hpp"

namespace tram::testing {
namespace {

namespace fs = std::filesystem;
using client::Client;
using client::WriteTxn;

mode_t mode_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 0777;
}

// The receipts as the official holds them: what must not change.
std::vector<std::string> receipt_texts(Client& c) {
  std::vector<std::string> out;
  auto list = c.receipts();
  EXPECT_TRUE(list.ok()) << list.status().to_string();
  if (!list.ok()) return out;
  for (const auto& r : *list) out.push_back(std::to_string(r.seq) + " " + r.body + " " + r.sig);
  return out;
}

std::set<std::string> report_ids(Client& c) {
  client::Query q;
  q.table = "progress_report";
  q.limit = 100'000;
  auto rows = c.query(q);
  EXPECT_TRUE(rows.ok()) << rows.status().to_string();
  std::set<std::string> out;
  if (rows.ok()) {
    for (const auto& r : *rows) out.insert(r.id);
  }
  return out;
}

class HealTest : public ClientTest {
 protected:
  // A device enrolled for `user` through the relay (its address survives server restarts), with
  // a code asked of the running server.
  std::unique_ptr<Client> device(const std::string& name, const std::string& user, int keep_sent_days = 30) {
    return enrolled(name, user, [&](client::Options& o) { o.keep_sent_days = keep_sent_days; }, code_for(user));
  }

  // Admin calls over HTTP: the CLI would open the database beside the running server.
  HttpResponse admin(const std::string& method, const std::string& path, const std::string& body = "") {
    const std::string token = slurp(data_ + "/admin.token").substr(0, 64);
    return http(server_->port(), method, path, body, {"Authorization: Bearer " + token});
  }
  std::string code_for(const std::string& user) {
    const HttpResponse r = admin("POST", "/v1/admin/enrolment-codes", "{\"user\":\"" + user + "\"}");
    simdjson::dom::parser p;
    std::string_view code;
    EXPECT_FALSE(r.status != 200 || p.parse(r.body)["code"].get_string().get(code)) << r.status << " " << r.body;
    return std::string(code);
  }
  // How many lines of the province report name each report row.
  std::map<std::string, int> province_report() {
    const HttpResponse r = admin("GET", "/v1/admin/report?period=2026-H1");
    EXPECT_EQ(r.status, 200) << r.body;
    simdjson::dom::parser p;
    simdjson::dom::array lines;
    std::map<std::string, int> out;
    if (p.parse(r.body)["lines"].get_array().get(lines)) {
      ADD_FAILURE() << r.body;
      return out;
    }
    for (auto line : lines) {
      std::string_view id;
      if (!line["report"].get_string().get(id)) ++out[std::string(id)];
    }
    return out;
  }
  // Each device's chain head on the server.
  std::map<std::string, uint64_t> chains() {
    const HttpResponse r = admin("GET", "/v1/admin/devices");
    EXPECT_EQ(r.status, 200) << r.body;
    simdjson::dom::parser p;
    simdjson::dom::array list;
    std::map<std::string, uint64_t> out;
    if (p.parse(r.body)["devices"].get_array().get(list)) return out;
    for (auto d : list) out[std::string(d["device"].get_string().value())] = d["seq"].get_uint64().value();
    return out;
  }

  void start_server() {
    server_->start();
    relay_.set_upstream(server_->port());
  }
  // What an operator does after losing the disk: the last backup goes back in place.
  void restore(const std::string& backup) {
    server_->stop(SIGTERM);
    relay_.set_upstream(0);
    if (run_cli({"--help"}).second.find("admin restore") != std::string::npos) {
      auto [rc, out] = run_cli({"admin", "restore", "--data", data_, "--from", backup});
      ASSERT_EQ(rc, 0) << out;
    } else {
      fs::copy_file(backup, data_ + "/tram.db", fs::copy_options::overwrite_existing);
      fs::remove(data_ + "/tram.db-wal");
      fs::remove(data_ + "/tram.db-shm");
    }
    start_server();
  }
  // A crash that takes the WAL with it: everything since the last checkpoint is gone.
  void lose_wal() {
    server_->stop(SIGKILL);
    relay_.set_upstream(0);
    ASSERT_TRUE(fs::exists(data_ + "/tram.db-wal"));
    fs::remove(data_ + "/tram.db-wal");
    fs::remove(data_ + "/tram.db-shm");
    start_server();
  }

  std::string photo(const std::string& name, int seed) {
    const std::string path = dir_ + "/" + name;
    std::ofstream out(path, std::ios::binary);
    for (int k = 0; k < 300'000; ++k) out.put(static_cast<char>((k * 31 + seed) % 251));
    return path;
  }
  std::string commit_report(Client& c, const std::string& unit, const std::string& text, std::optional<AttachmentRef> evidence = {}) {
    auto fields = report_fields(unit, text);
    if (evidence) fields["evidence"] = Value{*evidence};
    WriteTxn t;
    const std::string id = t.insert("progress_report", "", fields);
    must_commit(c, t);
    return id;
  }

  // Three officials and a reviewer work; then `checkpoint` (a backup, or a clean restart that
  // puts everything in the database file); then more reports, one with a photo; then `lose`
  // takes the server back to the checkpoint. Each device syncs once: the server must hold every
  // receipted change set exactly once again, with the photo.
  void heal_after(const std::function<void()>& checkpoint, const std::function<void()>& lose) {
    auto minh = device("minh", "minh"), lan = device("lan", "lan"), an = device("an", "an"), hoa = device("hoa", "hoa");
    ASSERT_TRUE(minh && lan && an && hoa);
    const std::string verifier_code = code_for("hoa"), download_code = code_for("hoa");  // survive the loss
    struct Official {
      Client* c;
      std::string unit;
    };
    const std::vector<Official> officials = {{minh.get(), "03808"}, {lan.get(), "03808"}, {an.get(), "03646"}};
    std::set<std::string> ids;
    for (const auto& o : officials) {
      for (int k = 0; k < 2; ++k) ids.insert(commit_report(*o.c, o.unit, "Trước khi sao lưu " + std::to_string(k)));
      ASSERT_TRUE(o.c->sync().ok());
    }
    checkpoint();
    auto ref = minh->add_attachment(photo("anh.jpg", 7));
    ASSERT_TRUE(ref.ok()) << ref.status().to_string();
    ids.insert(commit_report(*minh, "03808", "Có ảnh minh chứng", *ref));
    for (const auto& o : officials) {
      for (int k = 0; k < (o.c == minh.get() ? 2 : 3); ++k) {
        ids.insert(commit_report(*o.c, o.unit, "Sau khi sao lưu " + std::to_string(k)));
        if (o.c == lan.get()) {
          ASSERT_TRUE(o.c->sync().ok());  // one push each
        }
      }
    }
    for (Client* c : {minh.get(), lan.get(), an.get(), hoa.get()}) {
      auto r = c->sync();
      ASSERT_TRUE(r.ok()) << r.status().to_string();
    }
    ASSERT_EQ(report_ids(*hoa), ids);
    const auto before = province_report();
    ASSERT_EQ(before.size(), ids.size());
    const auto heads = chains();
    std::map<Client*, std::vector<std::string>> receipts;
    for (const auto& o : officials) {
      receipts[o.c] = receipt_texts(*o.c);
      EXPECT_EQ(receipts[o.c].size(), 5u);
      EXPECT_EQ(o.c->info().kept, 5u);     // every change set sent, kept after its receipt
      EXPECT_EQ(o.c->info().pending, 0u);  // and the outbox is empty as before
      EXPECT_TRUE(o.c->outbox().value().empty());
    }

    lose();
    // The server lost three change sets of each official (the old SDK stayed like this).
    EXPECT_EQ(province_report().size(), 6u);
    for (const auto& o : officials) EXPECT_EQ(chains()[to_hex(o.c->info().device)], 2u);

    for (Client* c : {minh.get(), lan.get(), an.get(), hoa.get()}) {
      auto r = c->sync();
      ASSERT_TRUE(r.ok()) << r.status().to_string();
      if (c != hoa.get()) {
        EXPECT_TRUE(r->server_log_behind);
        EXPECT_EQ(r->resent, 3u);
        EXPECT_EQ(r->rejected, 0u);
      }
    }
    EXPECT_EQ(minh->info().last_error, "");
    // Every receipted change set is on the server exactly once: each chain as long as before,
    // each report once in the province report, nothing else.
    EXPECT_EQ(chains(), heads);
    EXPECT_EQ(province_report(), before);
    for (const auto& o : officials) {
      EXPECT_EQ(receipt_texts(*o.c), receipts[o.c]);  // the official's proof is unchanged
      EXPECT_EQ(o.c->info().pending, 0u);
      EXPECT_TRUE(o.c->outbox().value().empty());
      EXPECT_EQ(o.c->info().receipts, 5u);
    }
    // A reviewer's device enrolled now pulls everything from the server.
    auto fresh = Client::open(device_options(dir_ + "/verifier.db"));
    ASSERT_TRUE(fresh.ok());
    ASSERT_TRUE((*fresh)->enroll(relay_.url(), verifier_code).ok());
    ASSERT_TRUE((*fresh)->sync().ok());
    EXPECT_EQ(report_ids(**fresh), ids);
    EXPECT_EQ(report_ids(*hoa), ids);
    // The photo is downloadable again.
    TestDevice reviewer(server_->port(), download_code, "Cầm Thị Hoa", 99);
    ASSERT_TRUE(reviewer.enrolled()) << reviewer.enrol_body();
    const HttpResponse got = reviewer.raw("GET", "/v1/attachments/" + to_hex(ref->hash), "", {});
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_TRUE(blake2b_256(got.body) == ref->hash);

    // Healed once: the next syncs are ordinary, and work goes on.
    for (const auto& o : officials) {
      auto again = o.c->sync();
      ASSERT_TRUE(again.ok()) << again.status().to_string();
      EXPECT_FALSE(again->server_log_behind);
      EXPECT_EQ(again->resent, 0u);
    }
    commit_report(*an, "03646", "Sau khi khôi phục");
    auto after = an->sync();
    ASSERT_TRUE(after.ok()) << after.status().to_string();
    EXPECT_EQ(after->accepted, 1u);
    EXPECT_EQ(chains()[to_hex(an->info().device)], 6u);
  }

};

TEST_F(HealTest, DevicesHealAServerRestoredFromAnOlderBackup) {
  const std::string backup = dir_ + "/tram-backup.db";
  heal_after(
      [&] {
        auto [rc, out] = run_cli({"admin", "backup", "--data", data_, "--to", backup});
        ASSERT_EQ(rc, 0) << out;
      },
      [&] { restore(backup); });
}

TEST_F(HealTest, DevicesHealAServerThatLostItsWal) {
  heal_after(
      [&] {
        // A clean stop checkpoints: enrolments and the first reports are in tram.db itself.
        server_->stop(SIGTERM);
        start_server();
      },
      [&] { lose_wal(); });
}

// A device with new work in its outbox meets the restored server: the push answers seq_gap
// below its receipts, and it sends what the server lost first, in the same sync.
TEST_F(HealTest, ASeqGapBelowTheReceiptsIsFilledInTheSameSync) {
  auto minh = device("minh", "minh");
  ASSERT_TRUE(minh);
  std::set<std::string> ids;
  for (int k = 0; k < 2; ++k) ids.insert(commit_report(*minh, "03808", "Một " + std::to_string(k)));
  ASSERT_TRUE(minh->sync().ok());
  const std::string backup = dir_ + "/tram-backup.db";
  ASSERT_EQ(run_cli({"admin", "backup", "--data", data_, "--to", backup}).first, 0);
  for (int k = 0; k < 2; ++k) ids.insert(commit_report(*minh, "03808", "Hai " + std::to_string(k)));
  ASSERT_TRUE(minh->sync().ok());
  const auto receipts = receipt_texts(*minh);
  restore(backup);
  ids.insert(commit_report(*minh, "03808", "Ba"));  // written while the server was down
  auto r = minh->sync();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->server_log_behind);
  EXPECT_EQ(r->resent, 2u);
  EXPECT_EQ(r->accepted, 1u);
  EXPECT_EQ(minh->info().pending, 0u);
  const auto now = receipt_texts(*minh);
  ASSERT_EQ(now.size(), 5u);
  EXPECT_EQ(std::vector<std::string>(now.begin(), now.begin() + 4), receipts);
  EXPECT_EQ(chains()[to_hex(minh->info().device)], 5u);
  auto lan = device("lan", "lan");
  ASSERT_TRUE(lan && lan->sync().ok());
  EXPECT_EQ(report_ids(*lan), ids);
}

// A device with nothing to send syncs only after the restored server's log has grown past the
// highest head it verified (others sent theirs again and wrote more): no head goes back, no push
// draws a seq_gap, but /v1/me says its chain there stops short of its receipts.
TEST_F(HealTest, ADeviceHealsAServerWhoseLogGrewPastItsMark) {
  auto minh = device("minh", "minh"), lan = device("lan", "lan");
  ASSERT_TRUE(minh && lan);
  std::set<std::string> ids;
  for (int k = 0; k < 2; ++k) ids.insert(commit_report(*minh, "03808", "Một " + std::to_string(k)));
  ASSERT_TRUE(minh->sync().ok());
  const std::string backup = dir_ + "/tram-backup.db";
  ASSERT_EQ(run_cli({"admin", "backup", "--data", data_, "--to", backup}).first, 0);
  for (int k = 0; k < 2; ++k) ids.insert(commit_report(*minh, "03808", "Hai " + std::to_string(k)));
  ASSERT_TRUE(minh->sync().ok());
  const auto receipts = receipt_texts(*minh);
  const auto heads = chains();
  auto mark = [&] {
    auto j = minh->sql_json("SELECT CAST(v AS INTEGER) AS v FROM _client_meta WHERE k = 'head_seq'");
    EXPECT_TRUE(j.ok()) << j.status().to_string();
    simdjson::dom::parser p;
    uint64_t v = 0;
    if (j.ok()) {
      EXPECT_FALSE(p.parse(*j).at(0)["v"].get_uint64().get(v)) << *j;
    }
    return v;
  };
  const uint64_t minh_mark = mark();
  ASSERT_GT(minh_mark, 0u);

  restore(backup);
  for (int k = 0; k < 6; ++k) ids.insert(commit_report(*lan, "03808", "Của Lan " + std::to_string(k)));
  ASSERT_TRUE(lan->sync().ok());
  uint64_t server_head = 0;
  const auto lan_receipts = lan->receipts().value();  // a copy: the Result is a temporary
  for (const auto& r : lan_receipts) server_head = std::max(server_head, r.server_seq);
  ASSERT_GT(server_head, minh_mark);  // the precondition: minh sees no head below its mark
  EXPECT_EQ(chains()[to_hex(minh->info().device)], 2u);

  auto r = minh->sync();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->server_log_behind);
  EXPECT_EQ(r->resent, 2u);
  EXPECT_EQ(r->accepted + r->rejected, 0u);
  EXPECT_EQ(receipt_texts(*minh), receipts);
  EXPECT_EQ(chains()[to_hex(minh->info().device)], heads.at(to_hex(minh->info().device)));
  const auto lines = province_report();
  EXPECT_EQ(lines.size(), ids.size());
  for (const auto& id : ids) EXPECT_EQ(lines.count(id) ? lines.at(id) : 0, 1) << id;
  EXPECT_EQ(report_ids(*minh), ids);
  // Healed: the next sync has nothing to do.
  auto again = minh->sync();
  ASSERT_TRUE(again.ok()) << again.status().to_string();
  EXPECT_FALSE(again->server_log_behind);
  EXPECT_EQ(again->resent, 0u);
}

// A device that pruned what the server lost says so clearly, every sync, instead of looping.
TEST_F(HealTest, ADeviceThatNoLongerKeepsWhatTheServerLostSaysSo) {
  auto minh = device("minh", "minh", /*keep_sent_days=*/0);
  ASSERT_TRUE(minh);
  commit_report(*minh, "03808", "Trước");
  ASSERT_TRUE(minh->sync().ok());
  const std::string backup = dir_ + "/tram-backup.db";
  ASSERT_EQ(run_cli({"admin", "backup", "--data", data_, "--to", backup}).first, 0);
  for (int k = 0; k < 3; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // receipts at distinct server times
    commit_report(*minh, "03808", "Sau " + std::to_string(k));
    ASSERT_TRUE(minh->sync().ok());
  }
  restore(backup);
  for (int k = 0; k < 2; ++k) {
    auto r = minh->sync();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Errc::rejected);
    EXPECT_TRUE(r.status().message().starts_with("server_lost_data")) << r.status().to_string();
    EXPECT_NE(minh->info().last_error.find("server_lost_data"), std::string::npos);
  }
  EXPECT_EQ(minh->info().kept, 1u);  // only the newest is kept with 0 days
  EXPECT_EQ(minh->info().receipts, 4u);
}

// The SDK's own files are private whatever the app's umask: the database with its -wal and
// -shm, evidence copies and their directory, bundles.
TEST_F(HealTest, TheDevicesFilesArePrivate) {
  const mode_t old = ::umask(022);
  auto minh = device("minh", "minh");
  ASSERT_TRUE(minh && minh->sync().ok());
  const std::string db = dir_ + "/minh.db";
  EXPECT_EQ(mode_of(db), 0600u);
  ASSERT_TRUE(fs::exists(db + "-wal"));
  EXPECT_EQ(mode_of(db + "-wal"), 0600u);
  EXPECT_EQ(mode_of(db + "-shm"), 0600u);
  auto ref = minh->add_attachment(photo("anh.jpg", 3));
  ASSERT_TRUE(ref.ok());
  EXPECT_EQ(mode_of(db + ".files"), 0700u);
  EXPECT_EQ(mode_of(db + ".files/" + to_hex(ref->hash)), 0600u);
  commit_report(*minh, "03808", "Gói");
  ASSERT_TRUE(minh->export_bundle(dir_ + "/minh.bundle").ok());
  EXPECT_EQ(mode_of(dir_ + "/minh.bundle"), 0600u);
  ::umask(old);
}

// ---- tram-field ---------------------------------------------------------------------------

constexpr const char* kFieldKey = "7d3b0f2a9c51e8b46a0d2c7f1e9b83a5c4d6e0f1a2b3c4d5e6f708192a3b4c5d";

Proc field(const std::string& home, const std::vector<std::string>& args, const std::string& key = kFieldKey) {
  std::string cmd = "TRAM_FIELD_KEY=" + key + " " + TRAM_RUN_PREFIX + shell_quote(TRAM_FIELD_BIN);  // prefix: qemu on a cross build
  for (const auto& a : args) cmd += " " + shell_quote(a);
  return run_shell(cmd + " --home " + shell_quote(home) + " --json </dev/null", Stderr::apart);  // stdout: the JSON alone
}

// Every file under `dir` 0600 and every directory 0700 (the directory itself included).
void expect_private_tree(const std::string& dir) {
  EXPECT_EQ(mode_of(dir), 0700u) << dir;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    EXPECT_EQ(mode_of(e.path().string()), e.is_directory() ? 0700u : 0600u) << e.path();
  }
}

TEST_F(HealTest, FieldInitThatFailsLeavesNothingAndItsFilesArePrivate) {
  const std::string home = dir_ + "/field";
  // A wrong code, and a server that is not there: nothing stays in --home.
  Proc wrong = field(home, {"init", "--server", relay_.url(), "--code", "AAAA-BBBB-CCCC-DDDD"});
  EXPECT_EQ(wrong.rc, 1) << wrong.out;
  EXPECT_NE(wrong.out.find("enrolment_refused"), std::string::npos) << wrong.out;
  EXPECT_FALSE(fs::exists(home + "/device.db"));
  EXPECT_FALSE(fs::exists(home));
  fs::create_directories(home);  // a home the user made: it stays, empty
  Proc down = field(home, {"init", "--server", "http://127.0.0.1:1", "--code", code_for("minh"), "--attempts", "1"});
  EXPECT_EQ(down.rc, 1) << down.out;
  EXPECT_FALSE(fs::exists(home + "/device.db"));
  EXPECT_TRUE(fs::is_empty(home));
  // Another key (passphrase) works afterwards: nothing of the failed attempts refuses it.
  const std::string other_key(64, 'a');
  Proc ok = field(home, {"init", "--server", relay_.url(), "--code", code_for("minh")}, other_key);
  ASSERT_EQ(ok.rc, 0) << ok.out;
  EXPECT_NE(ok.out.find("\"enrolled\":true"), std::string::npos) << ok.out;
  const std::string evidence = photo("anh.jpg", 5);
  Proc rep = field(home, {"report", "--indicator", "CT-CAPNUOC-XA", "--period", "2026-H1", "--progress", "on_track", "--value", "50",
                          "--evidence", evidence},
                   other_key);
  ASSERT_EQ(rep.rc, 0) << rep.out;
  ASSERT_EQ(field(home, {"export-bundle", home + "/out.bundle"}, other_key).rc, 0);
  ASSERT_EQ(field(home, {"sync"}, other_key).rc, 0);
  EXPECT_TRUE(fs::exists(home + "/device.db"));
  EXPECT_TRUE(fs::exists(home + "/device.db.files"));
  expect_private_tree(home);
}

TEST(FieldTls, CaFileAndPinAreKeptForLaterCommands) {
  const std::string dir = temp_dir("field-tls"), data = dir + "/server";
  std::filesystem::create_directories(data);
  prepare_server(data);
  const std::string pin = make_test_certificate(data);
  ASSERT_EQ(pin.size(), 64u);
  std::string wrong = pin;
  wrong[0] = wrong[0] == '0' ? '1' : '0';
  ServerProcess server(data, {"--tls-cert", data + "/cert.pem", "--tls-key", data + "/key.pem"});
  const std::string url = "https://127.0.0.1:" + std::to_string(server.port());

  // Trust by a CA file: enrolment, then a later sync with no option given.
  const std::string ca_home = dir + "/ca";
  Proc ca = field(ca_home, {"init", "--server", url, "--code", enrol_code(data, "minh"), "--ca-file", data + "/cert.pem"});
  ASSERT_EQ(ca.rc, 0) << ca.out;
  EXPECT_NE(ca.out.find("\"synced\":true"), std::string::npos) << ca.out;
  Proc ca_sync = field(ca_home, {"sync"});
  EXPECT_EQ(ca_sync.rc, 0) << ca_sync.out;

  // Trust by a pin (given as openssl prints fingerprints): the same.
  std::string colons;
  for (size_t k = 0; k < pin.size(); k += 2) colons += (k ? ":" : "") + pin.substr(k, 2);
  for (char& c : colons) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const std::string pin_home = dir + "/pinned";
  Proc pinned = field(pin_home, {"init", "--server", url, "--code", enrol_code(data, "lan"), "--pin", colons});
  ASSERT_EQ(pinned.rc, 0) << pinned.out;
  EXPECT_NE(pinned.out.find("\"pin\":\"" + pin + "\""), std::string::npos) << pinned.out;
  EXPECT_EQ(field(pin_home, {"sync"}).rc, 0);
  // The kept pin is what later commands check: another certificate's pin fails the sync.
  {
    std::string conf = slurp(pin_home + "/field.conf");
    conf.replace(conf.find(pin), pin.size(), wrong);
    std::ofstream(pin_home + "/field.conf") << conf;
  }
  Proc refused = field(pin_home, {"sync"});
  EXPECT_EQ(refused.rc, 1) << refused.out;
  EXPECT_NE(refused.out.find("bad_signature"), std::string::npos) << refused.out;

  // A wrong pin, no trust at all, or a pin that is not a SHA-256: enrolment fails, nothing stays.
  const std::string code = enrol_code(data, "an");
  for (const auto& extra : std::vector<std::vector<std::string>>{{"--pin", wrong}, {}, {"--pin", "abc"}, {"--ca-file", dir + "/none.pem"}}) {
    const std::string home = dir + "/refused";
    std::vector<std::string> args = {"init", "--server", url, "--code", code};
    args.insert(args.end(), extra.begin(), extra.end());
    Proc r = field(home, args);
    EXPECT_EQ(r.rc, 1) << r.out;
    EXPECT_FALSE(fs::exists(home)) << (extra.empty() ? "no trust" : extra[0] + " " + extra[1]);
  }
  // The code was not used by the failures.
  Proc last = field(dir + "/an", {"init", "--server", url, "--code", code, "--pin", pin});
  EXPECT_EQ(last.rc, 0) << last.out;
}

}  // namespace
}  // namespace tram::testing
