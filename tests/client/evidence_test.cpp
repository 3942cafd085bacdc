// Evidence files (issue 14) against the real server process on loopback: a reviewer downloads
// an official's photo, in scope only and verified by hash; a download cut on a weak link goes on
// from the bytes already here; a store-and-forward bundle carries its photos, verified on
// import; and tram-field's `show --save` and `reset` on top of them.
#include <sys/wait.h>

#include "client/client_fixture.hpp"
#include "tram/tram.h"

namespace tram::testing {
namespace {

using client::Client;
using client::WriteTxn;
namespace fs = std::filesystem;

class EvidenceTest : public ClientTest {
 protected:
  std::unique_ptr<Client> device(const std::string& name, const std::string& user, int attempts = 3) {
    return enrolled(name, user, [&](client::Options& o) { o.sync.max_attempts = attempts; });
  }
  // A photo-sized file of random bytes (photos do not compress).
  std::string make_photo(const std::string& name, size_t size, uint64_t seed) {
    std::string bytes(size, '\0');
    std::mt19937_64 rng(seed);
    for (char& c : bytes) c = static_cast<char>(rng());
    std::ofstream(dir_ + "/" + name, std::ios::binary) << bytes;
    return bytes;
  }
  // Records a report in minh's commune with the photo as its evidence; returns the hash.
  Hash report_with_photo(Client& c, const std::string& photo_name, const std::string& narrative) {
    auto ref = c.add_attachment(dir_ + "/" + photo_name);
    EXPECT_TRUE(ref.ok()) << ref.status().to_string();
    auto fields = report_fields("03808", narrative);
    fields["evidence"] = Value{*ref};
    WriteTxn t;
    t.insert("progress_report", "", fields);
    must_commit(c, t);
    return ref.ok() ? ref->hash : Hash{};
  }
  std::string admin_token() { return run_cli({"admin", "token", "--data", data_}).second.substr(0, 64); }

};

TEST_F(EvidenceTest, AReviewerDownloadsAnOfficialsPhotoAndAnotherCommuneIsRefused) {
  auto minh = device("minh", "minh");
  ASSERT_TRUE(minh && minh->sync().ok());
  const std::string bytes = make_photo("anh.jpg", 300'000, 14);
  const Hash h = report_with_photo(*minh, "anh.jpg", "Ảnh nghiệm thu bể nước");
  auto up = minh->sync();
  ASSERT_TRUE(up.ok()) << up.status().to_string();
  ASSERT_EQ(up->attachments_uploaded, 1u);

  auto hoa = device("hoa", "hoa");  // the Department of Finance's reviewer
  ASSERT_TRUE(hoa && hoa->sync().ok());
  const std::string got = dir_ + "/hoa-anh.jpg";
  auto n = hoa->download_attachment(h, got);
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(*n, bytes.size());
  EXPECT_EQ(slurp(got), bytes);
  EXPECT_FALSE(fs::exists(got + ".part"));
  EXPECT_EQ(fs::status(got).permissions() & fs::perms::group_read, fs::perms::none);

  // An official of a ward elsewhere: the server's scoped answer, and no file.
  auto an = device("an", "an");
  ASSERT_TRUE(an && an->sync().ok());
  const std::string denied = dir_ + "/an-anh.jpg";
  auto refused = an->download_attachment(h, denied);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.code(), Errc::rejected);
  EXPECT_NE(refused.status().message().find("no attachment with this hash in your scope"), std::string::npos)
      << refused.status().to_string();
  EXPECT_FALSE(fs::exists(denied));
  EXPECT_FALSE(fs::exists(denied + ".part"));

  // The official's own device has the file: it is copied, with no server needed.
  server_->stop(SIGTERM);
  const std::string own = dir_ + "/minh-anh.jpg";
  auto mine = minh->download_attachment(h, own);
  ASSERT_TRUE(mine.ok()) << mine.status().to_string();
  EXPECT_EQ(slurp(own), bytes);
}

TEST_F(EvidenceTest, ACorruptedOrShortAnswerIsRejectedAndLeavesNoFile) {
  auto minh = device("minh", "minh");
  ASSERT_TRUE(minh && minh->sync().ok());
  const std::string bytes = make_photo("anh.jpg", 200'000, 15);
  const Hash h = report_with_photo(*minh, "anh.jpg", "Ảnh bị hỏng trên máy chủ");
  ASSERT_TRUE(minh->sync().ok());
  auto hoa = device("hoa", "hoa");
  ASSERT_TRUE(hoa && hoa->sync().ok());
  const std::string stored = data_ + "/attachments/" + to_hex(h);
  ASSERT_EQ(slurp(stored), bytes);
  const std::string got = dir_ + "/hoa-anh.jpg";

  // One byte flipped in what the server serves: same length, other bytes.
  std::string flipped = bytes;
  flipped[123'456] = static_cast<char>(flipped[123'456] ^ 0x40);
  std::ofstream(stored, std::ios::binary | std::ios::trunc) << flipped;
  auto bad = hoa->download_attachment(h, got);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.code(), Errc::bad_signature);
  EXPECT_EQ(bad.status().message().rfind("hash_mismatch", 0), 0u) << bad.status().to_string();
  EXPECT_FALSE(fs::exists(got));
  EXPECT_FALSE(fs::exists(got + ".part"));

  // A short answer: the server's file cut short.
  std::ofstream(stored, std::ios::binary | std::ios::trunc) << bytes.substr(0, 150'000);
  auto shorter = hoa->download_attachment(h, got);
  ASSERT_FALSE(shorter.ok());
  EXPECT_EQ(shorter.code(), Errc::bad_signature);
  EXPECT_FALSE(fs::exists(got));
  EXPECT_FALSE(fs::exists(got + ".part"));

  // Put right, the same call succeeds: a failure left nothing behind to trip it.
  std::ofstream(stored, std::ios::binary | std::ios::trunc) << bytes;
  auto good = hoa->download_attachment(h, got);
  ASSERT_TRUE(good.ok()) << good.status().to_string();
  EXPECT_EQ(slurp(got), bytes);
}

TEST_F(EvidenceTest, ADownloadCutOnAWeakLinkGoesOnFromTheBytesItHas) {
  auto minh = device("minh", "minh");
  ASSERT_TRUE(minh && minh->sync().ok());
  const std::string bytes = make_photo("anh.jpg", 700'000, 16);
  const Hash h = report_with_photo(*minh, "anh.jpg", "Ảnh qua sóng yếu");
  ASSERT_TRUE(minh->sync().ok());
  auto hoa = device("hoa", "hoa", 40);
  ASSERT_TRUE(hoa && hoa->sync().ok());

  // What a cut download left: the first 500 000 bytes. The next call asks only for the rest,
  // through a link that cuts every connection after 1 B..64 KiB each way.
  const std::string got = dir_ + "/hoa-anh.jpg";
  std::ofstream(got + ".part", std::ios::binary) << bytes.substr(0, 500'000);
  relay_.set_cuts(64 * 1024, 14);
  const uint64_t down_before = relay_.bytes_down();
  auto n = hoa->download_attachment(h, got);
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  const uint64_t down = relay_.bytes_down() - down_before;
  std::printf("relay cut %llu connections; %llu bytes came down for the 200000 missing\n",
              static_cast<unsigned long long>(relay_.cuts()), static_cast<unsigned long long>(down));
  EXPECT_GT(relay_.cuts(), 3u);
  EXPECT_LT(down, 450'000u);  // the missing part (with what cuts wasted), not the whole file again
  EXPECT_EQ(slurp(got), bytes);
  EXPECT_FALSE(fs::exists(got + ".part"));
}

TEST_F(EvidenceTest, TheCApiDownloadsAndRefusesABadHash) {
  auto minh = device("minh", "minh");
  ASSERT_TRUE(minh && minh->sync().ok());
  const std::string bytes = make_photo("anh.jpg", 100'000, 17);
  const Hash h = report_with_photo(*minh, "anh.jpg", "Qua API C");
  ASSERT_TRUE(minh->sync().ok());
  {
    auto hoa = device("hoa", "hoa");
    ASSERT_TRUE(hoa && hoa->sync().ok());
  }
  const auto key = test_key(7);
  const std::string opts = "{\"path\":\"" + dir_ + "/hoa.db\",\"schemas\":\"" + std::string(TRAM_SCHEMAS_DIR) + "/sonla-2026\"}";
  tram_client* c = nullptr;
  ASSERT_EQ(tram_open(opts.data(), opts.size(), key.data(), &c), TRAM_OK) << tram_last_error_message();
  const std::string hex = to_hex(h), dest = dir_ + "/c-anh.jpg";
  uint64_t size = 0;
  EXPECT_EQ(tram_download_attachment(c, hex.data(), hex.size(), dest.data(), dest.size(), &size), TRAM_OK) << tram_last_error_message();
  EXPECT_EQ(size, bytes.size());
  EXPECT_EQ(slurp(dest), bytes);
  EXPECT_EQ(tram_download_attachment(c, "abc", 3, dest.data(), dest.size(), &size), TRAM_ERR_INVALID_ARGUMENT);
  const std::string unknown(64, 'a'), nowhere = dir_ + "/none.jpg";
  EXPECT_EQ(tram_download_attachment(c, unknown.data(), unknown.size(), nowhere.data(), nowhere.size(), nullptr), TRAM_ERR_REJECTED);
  EXPECT_NE(std::string(tram_last_error_message()).find("not_found"), std::string::npos) << tram_last_error_message();
  EXPECT_FALSE(fs::exists(nowhere));
  tram_close(c);
}

// The bundle's photo reaches the server with it: the reviewer sees it though the phone never
// synced online, and the phone does not upload it again.
TEST_F(EvidenceTest, ABundleCarriesItsPhotosVerifiedByHash) {
  auto minh = device("minh", "minh");
  ASSERT_TRUE(minh && minh->sync().ok());
  const std::string bytes = make_photo("anh.jpg", 400'000, 18);
  const Hash h = report_with_photo(*minh, "anh.jpg", "Gửi qua USB, có ảnh");
  const std::string bundle = dir_ + "/minh.bundle", receipts = dir_ + "/minh.receipts";
  auto n = minh->export_bundle(bundle);
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(*n, 1u);
  const std::string written = slurp(bundle);
  EXPECT_EQ(written.rfind("{\"v\":2,", 0), 0u);
  EXPECT_NE(written.find("\"files\":[{\"hash\":\"" + to_hex(h) + "\",\"size\":400000,\"data\":\""), std::string::npos);

  // Tampered: one character of the photo's data changed. Refused whole, with the reason.
  std::string bad = written;
  const size_t at = bad.find("\"data\":\"") + 8 + 5000;
  bad[at] = bad[at] == 'A' ? 'B' : 'A';
  std::ofstream(dir_ + "/bad.bundle") << bad;
  auto [brc, bout] = run_cli({"admin", "import-bundle", "--data", data_, "--in", dir_ + "/bad.bundle"});
  EXPECT_NE(brc, 0);
  EXPECT_NE(bout.find("hash_mismatch"), std::string::npos) << bout;
  EXPECT_NE(bout.find("nothing was imported"), std::string::npos) << bout;
  auto hoa = device("hoa", "hoa");
  ASSERT_TRUE(hoa && hoa->sync().ok());
  client::Query q;
  q.table = "progress_report";
  q.where = {{client::Filter::eq, "unit_code", text("03808")}};
  EXPECT_EQ(hoa->query(q)->size(), 0u);  // the change set was not applied either

  // The bundle as written: imported with its photo.
  auto [rc, out] = run_cli({"admin", "import-bundle", "--data", data_, "--in", bundle, "--out", receipts});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("1 change set, 1 accepted"), std::string::npos) << out;
  EXPECT_NE(out.find("evidence files: 1 carried, 1 stored"), std::string::npos) << out;
  EXPECT_EQ(slurp(data_ + "/attachments/" + to_hex(h)), bytes);
  auto missing = http(server_->port(), "GET", "/v1/admin/attachments/missing", "", {"Authorization: Bearer " + admin_token()});
  EXPECT_EQ(missing.body, "{\"missing\":[]}");
  ASSERT_TRUE(hoa->sync().ok());
  ASSERT_EQ(hoa->query(q)->size(), 1u);
  auto got = hoa->download_attachment(h, dir_ + "/hoa-anh.jpg");
  ASSERT_TRUE(got.ok()) << got.status().to_string();
  EXPECT_EQ(slurp(dir_ + "/hoa-anh.jpg"), bytes);

  // Back on the phone: the receipts settle the outbox and the photo is not sent again.
  auto imported = minh->import_receipts(receipts);
  ASSERT_TRUE(imported.ok()) << imported.status().to_string();
  EXPECT_EQ(imported->accepted, 1u);
  EXPECT_EQ(imported->attachments_uploaded, 1u);
  const uint64_t up_before = relay_.bytes_up();
  auto r = minh->sync();
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->attachments_uploaded, 0u);
  EXPECT_LT(relay_.bytes_up() - up_before, 100'000u);

  // A bundle without photos is still version 1, as before.
  WriteTxn t;
  t.insert("progress_report", "", report_fields("03808", "Không có ảnh"));
  must_commit(*minh, t);
  ASSERT_TRUE(minh->export_bundle(bundle).ok());
  EXPECT_EQ(slurp(bundle).rfind("{\"v\":1,", 0), 0u);
  EXPECT_EQ(slurp(bundle).find("\"files\""), std::string::npos);
}

// A file no row names (added, never written into a report) travels but is not stored: a bundle
// grants nothing an upload would not. The bundle, with no change set at all, still imports.
TEST_F(EvidenceTest, ABundledFileThatNoRowNamesIsLeftOutWithTheReason) {
  auto minh = device("minh", "minh");
  ASSERT_TRUE(minh && minh->sync().ok());
  make_photo("le.jpg", 50'000, 19);
  auto ref = minh->add_attachment(dir_ + "/le.jpg");
  ASSERT_TRUE(ref.ok()) << ref.status().to_string();
  auto unsent = Client::unsent(dir_ + "/minh.db");
  ASSERT_TRUE(unsent.ok()) << unsent.status().to_string();
  EXPECT_EQ(unsent->changesets, 0u);
  EXPECT_EQ(unsent->files, 1u);
  EXPECT_EQ(unsent->file_bytes, 50'000u);
  const std::string bundle = dir_ + "/minh.bundle";
  auto n = minh->export_bundle(bundle);
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(*n, 0u);
  auto [rc, out] = run_cli({"admin", "import-bundle", "--data", data_, "--in", bundle});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("evidence file " + to_hex(ref->hash) + " not stored: no row of this device's units names it"), std::string::npos) << out;
  EXPECT_NE(out.find("evidence files: 1 carried, 0 stored"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(data_ + "/attachments/" + to_hex(ref->hash)));
}

// ---- tram-field: show --save / --open, reset ----------------------------------------------

constexpr const char* kFieldKey = "7d3b0f2a9c51e8b46a0d2c7f1e9b83a5c4d6e0f1a2b3c4d5e6f708192a3b4c5d";

using FieldRun = Proc;  // stdout and stderr together in out

// tram-field with a home, English messages, no terminal on stdin; `env` before the command.
FieldRun tram_field(const std::string& home, const std::vector<std::string>& args, const std::string& env = "") {
  // TRAM_RUN_PREFIX: qemu-user on the ARM64 cross build.
  std::string cmd = "LC_ALL=C TRAM_FIELD_KEY=" + std::string(kFieldKey) + " " + env + " " + TRAM_RUN_PREFIX + shell_quote(TRAM_FIELD_BIN);
  for (const auto& a : args) cmd += " " + shell_quote(a);
  return run_shell(cmd + " --home " + shell_quote(home) + " </dev/null");
}

class FieldEvidenceTest : public EvidenceTest {
 protected:
  std::string field_home(const std::string& user) {
    const std::string home = dir_ + "/field-" + user;
    const FieldRun r = tram_field(home, {"init", "--server", relay_.url(), "--code", enrol_code(data_, user)});
    EXPECT_EQ(r.rc, 0) << r.out;
    return home;
  }
  // A report with a photo recorded on the field app; its id.
  std::string field_report(const std::string& home, const std::string& photo, const std::string& caption,
                           const std::string& period = "2026-H1") {
    const FieldRun r = tram_field(home, {"report", "--indicator", "CT-CAPNUOC-XA", "--period", period, "--value", "80", "--progress",
                                         "on_track", "--evidence", dir_ + "/" + photo, "--caption", caption, "--json"});
    EXPECT_EQ(r.rc, 0) << r.out;
    const size_t at = r.out.find("\"id\":\"");
    return at == std::string::npos ? "" : r.out.substr(at + 6, 36);
  }
};

TEST_F(FieldEvidenceTest, ShowSavesTheReviewerTheOfficialsPhotoAndOpensIt) {
  const std::string minh = field_home("minh");
  const std::string bytes = make_photo("be-nuoc.jpg", 250'000, 21);
  const std::string id = field_report(minh, "be-nuoc.jpg", "Bể nước nghiệm thu");
  ASSERT_EQ(id.size(), 36u);
  ASSERT_EQ(tram_field(minh, {"sync"}).rc, 0);
  const std::string hex = to_hex(blake2b_256(bytes));

  const std::string hoa = field_home("hoa");
  const std::string saved = dir_ + "/saved";
  FieldRun r = tram_field(hoa, {"show", id, "--save", saved});
  ASSERT_EQ(r.rc, 0) << r.out;
  const std::string path = saved + "/" + hex + ".jpg";
  EXPECT_NE(r.out.find("evidence Bể nước nghiệm thu: saved to " + path), std::string::npos) << r.out;
  EXPECT_EQ(slurp(path), bytes);

  // --open with a viewer: xdg-open is given the verified file.
  const std::string bin = dir_ + "/bin", seen = dir_ + "/opened.txt";
  fs::create_directories(bin);
  {
    std::ofstream script(bin + "/xdg-open");
    script << "#!/bin/sh\necho \"$1\" >> " << shell_quote(seen) << "\n";
  }
  fs::permissions(bin + "/xdg-open", fs::perms::owner_all);
  r = tram_field(hoa, {"show", id, "--open"}, "PATH=" + shell_quote(bin + ":/usr/bin:/bin") + " TMPDIR=" + shell_quote(dir_));
  ASSERT_EQ(r.rc, 0) << r.out;
  std::string opened = slurp(seen);
  ASSERT_FALSE(opened.empty()) << r.out;
  opened.pop_back();  // echo's newline
  EXPECT_NE(r.out.find("opened " + opened), std::string::npos) << r.out;
  EXPECT_EQ(opened.rfind(dir_ + "/tram-evidence-", 0), 0u) << opened;
  EXPECT_EQ(slurp(opened), bytes);

  // Without a viewer it says where the file is.
  r = tram_field(hoa, {"show", id, "--open"}, "PATH=/nonexistent TMPDIR=" + shell_quote(dir_));
  ASSERT_EQ(r.rc, 0) << r.out;
  const size_t at = r.out.find("no viewer could open it (xdg-open); the file is ");
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string where = r.out.substr(at + 48, r.out.find(' ', at + 48) - at - 48);
  EXPECT_EQ(slurp(where), bytes) << where;

  // A damaged copy on the server: not saved, said, and a failure exit.
  std::string flipped = bytes;
  flipped[1000] = static_cast<char>(flipped[1000] ^ 1);
  std::ofstream(data_ + "/attachments/" + hex, std::ios::binary | std::ios::trunc) << flipped;
  r = tram_field(hoa, {"show", id, "--save", dir_ + "/saved2"});
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("not saved: bad_signature: hash_mismatch"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(dir_ + "/saved2/" + hex + ".jpg"));
}

TEST_F(FieldEvidenceTest, ResetOffersABundleBeforeLosingUnsentWork) {
  const std::string minh = field_home("minh");
  const std::string bytes = make_photo("lop-hoc.jpg", 120'000, 22);
  const std::string id = field_report(minh, "lop-hoc.jpg", "Lớp học mới");  // offline: never synced
  ASSERT_EQ(id.size(), 36u);

  // No terminal and no choice made: refused, nothing removed.
  FieldRun r = tram_field(minh, {"reset"});
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("1 change set(s) and 1 evidence file(s)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--export-bundle FILE"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(minh + "/device.db"));

  // With a bundle: written, then the home is cleared; the bundle brings report and photo.
  const std::string bundle = dir_ + "/minh-unsent.bundle";
  r = tram_field(minh, {"reset", "--export-bundle", bundle});
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("Wrote 1 change set(s) and 1 evidence file(s) to " + bundle), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(minh + "/device.db"));
  EXPECT_FALSE(fs::exists(minh + "/device.db.files"));
  auto [rc, out] = run_cli({"admin", "import-bundle", "--data", data_, "--in", bundle});
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("evidence files: 1 carried, 1 stored"), std::string::npos) << out;
  const std::string hoa = field_home("hoa");
  r = tram_field(hoa, {"show", id, "--save", dir_ + "/saved"});
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(slurp(dir_ + "/saved/" + to_hex(blake2b_256(bytes)) + ".jpg"), bytes);

  // A forgotten passphrase: the bundle cannot be signed, so only discarding resets.
  const std::string again = field_home("lan");
  ASSERT_FALSE(field_report(again, "lop-hoc.jpg", "Lần hai", "2027-H1").empty());
  const std::string wrong = "TRAM_FIELD_KEY=" + std::string(64, '1');
  r = tram_field(again, {"reset", "--export-bundle", dir_ + "/lan.bundle"}, wrong);
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_NE(r.out.find("cannot export them without this device's key"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(again + "/device.db"));
  EXPECT_FALSE(fs::exists(dir_ + "/lan.bundle"));
  r = tram_field(again, {"reset", "--discard-unsent"}, wrong);
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("Discarded 1 change set(s) and 1 evidence file(s)"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(again + "/device.db"));
  EXPECT_FALSE(fs::exists(again + "/passphrase.salt"));

  // On a terminal (script(1) gives it one) reset asks; "cancel" keeps everything, a file name
  // writes the bundle there and resets.
  auto [urc, uout] = run_cli({"admin", "create-user", "--data", data_, "--id", "tuan", "--role", "official", "--units", "03808"});
  ASSERT_EQ(urc, 0) << uout;
  const std::string tuan = field_home("tuan");
  ASSERT_FALSE(field_report(tuan, "lop-hoc.jpg", "Lần ba", "2028-H1").empty());
  const auto on_terminal = [&](const std::string& answer) {
    const std::string inner = "LC_ALL=C TRAM_FIELD_KEY=" + std::string(kFieldKey) + " " + TRAM_RUN_PREFIX + shell_quote(TRAM_FIELD_BIN) + " reset --home " +
                              shell_quote(tuan);
    return run_shell("printf '%s\\n' " + shell_quote(answer) + " | timeout 60 script -qec " + shell_quote(inner) + " /dev/null");
  };
  r = on_terminal("cancel");
  EXPECT_NE(r.out.find("Write them to a bundle file first?"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Nothing was reset."), std::string::npos) << r.out;
  EXPECT_TRUE(fs::exists(tuan + "/device.db"));
  const std::string typed = dir_ + "/typed.bundle";
  r = on_terminal(typed);
  ASSERT_NE(r.out.find("Wrote 1 change set(s) and 1 evidence file(s) to " + typed), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(tuan + "/device.db"));
  EXPECT_TRUE(fs::exists(typed));
}

}  // namespace
}  // namespace tram::testing
