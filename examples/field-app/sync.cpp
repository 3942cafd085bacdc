// tram-field sync: the outbox out, evidence up, changes down, with a progress bar.
#include "app.hpp"

#include <unistd.h>

#include <algorithm>

namespace fs = std::filesystem;

namespace tram::field {

using namespace tram::client;

namespace {

class ProgressBar {
 public:
  explicit ProgressBar(bool quiet) : quiet_(quiet), tty_(::isatty(2)) {}
  void operator()(const Progress& p) {
    if (quiet_) return;
    std::fflush(stdout);  // keep what was printed before the bar ahead of it when both go to one pipe
    if (p.phase != phase_ && !phase_.empty()) finish_line();
    phase_ = p.phase;
    // Progress has no file counts; each upload callback is one file done.
    files_ += p.phase == "upload";
    last_ = render(p, files_);
    if (tty_) {
      std::fprintf(stderr, "\r%s\033[K", last_.c_str());
      std::fflush(stderr);
    }
  }
  // Ends the current line; on a pipe only the final state of each phase is printed.
  void finish_line() {
    if (quiet_ || last_.empty()) return;
    std::fprintf(stderr, tty_ ? "\n" : "%s\n", last_.c_str());
    last_.clear();
  }

 private:
  static std::string render(const Progress& p, uint64_t files) {
    std::string bar;
    char buf[160];
    if (p.phase == "upload") {
      std::snprintf(buf, sizeof buf, "  upload  %llu evidence file%s sent, %s", static_cast<unsigned long long>(files), files == 1 ? "" : "s",
                    kib(p.bytes_sent).c_str());
      return buf;
    }
    if (p.phase == "pull") {
      std::snprintf(buf, sizeof buf, "  pull    %llu row%s received, %s", static_cast<unsigned long long>(p.rows_pulled), p.rows_pulled == 1 ? "" : "s",
                    kib(p.bytes_received).c_str());
      return buf;
    }
    const uint64_t total = std::max<uint64_t>(p.changesets_total, 1);
    const uint64_t done = std::min(p.changesets_done, total);
    const int width = 24;
    const int filled = static_cast<int>(done * width / total);
    bar.assign(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(width - filled), '.');
    std::snprintf(buf, sizeof buf, "  %-7s [%s] %llu/%llu change sets, %s sent", p.phase.c_str(), bar.c_str(),
                  static_cast<unsigned long long>(p.changesets_done), static_cast<unsigned long long>(p.changesets_total), kib(p.bytes_sent).c_str());
    return buf;
  }
  bool quiet_, tty_;
  std::string phase_, last_;
  uint64_t files_ = 0;
};

}  // namespace

Result<SyncReport> run_sync(App& app) {
  ProgressBar bar(app.json);
  auto r = app.client->sync([&](const Progress& p) { bar(p); });
  bar.finish_line();
  app.info = app.client->info();
  return r;
}

int cmd_sync(App& app) {
  const uint64_t conflicts_before = app.info.conflicts;
  auto r = run_sync(app);
  if (!r.ok()) {
    if (r.status().message().starts_with("server_lost_data")) {
      return app.fail(Status(r.code(), r.status().message() + " (this device's own records are intact; the outbox waits)"));
    }
    auto outbox = app.client->outbox();
    const size_t waiting = outbox.ok() ? outbox->size() : 0;
    return app.fail(Status(r.code(), "sync did not finish: " + r.status().message() + " (" + std::to_string(waiting) +
                                         (waiting == 1 ? " change set stays" : " change sets stay") + " in the outbox; nothing is lost)"));
  }
  auto outbox = app.client->outbox();
  auto returned = all_rows(*app.client, kReports, {eq("status", "returned")});
  if (!outbox.ok()) return app.fail(outbox.status());
  if (!returned.ok()) return app.fail(returned.status());
  const SyncReport& s = *r;
  if (app.json) {
    Json j;
    j.begin_object().kv("accepted", s.accepted).kv("duplicates", s.duplicates).kv("rejected", s.rejected).kv("rows_pulled", s.rows_pulled);
    j.kv("attachments_uploaded", s.attachments_uploaded).kv("bytes_sent", s.bytes_sent).kv("bytes_received", s.bytes_received).kv("attempts", s.attempts);
    j.kv("server_log_behind", s.server_log_behind).kv("resent", s.resent);
    j.kv("clock_ahead", app.info.clock_ahead).kv("conflicts", app.info.conflicts).kv("returned", static_cast<uint64_t>(returned->size()));
    j.key("rejections").begin_array();
    for (const auto& e : *outbox) {
      if (e.state == OutboxEntry::rejected) j.begin_object().kv("seq", e.seq).kv("code", e.code).kv("message", e.message).end_object();
    }
    return app.emit(j.end_array().end_object());
  }
  auto count = [](uint64_t n, const char* one, const char* many) { return std::to_string(n) + " " + (n == 1 ? one : many); };
  std::string sent;
  if (s.accepted) sent += count(s.accepted, "change set", "change sets") + " accepted";
  if (s.duplicates) sent += (sent.empty() ? "" : ", ") + count(s.duplicates, "already held", "already held");
  if (s.rejected) sent += (sent.empty() ? "" : ", ") + count(s.rejected, "change set", "change sets") + " REJECTED";
  if (s.attachments_uploaded) sent += (sent.empty() ? "" : ", ") + count(s.attachments_uploaded, "evidence file", "evidence files") + " uploaded";
  std::printf("Synced: %s; received %s (%s up, %s down)\n", sent.empty() ? "nothing to send" : sent.c_str(),
              count(s.rows_pulled, "row", "rows").c_str(), kib(s.bytes_sent).c_str(), kib(s.bytes_received).c_str());
  if (s.server_log_behind) {
    std::printf("  the server had lost part of its log (restored from a backup?): %s sent again from this device\n",
                count(s.resent, "change set", "change sets").c_str());
  }
  for (const auto& e : *outbox) {
    if (e.state == OutboxEntry::rejected) std::printf("  rejected #%llu  %s: %s\n", static_cast<unsigned long long>(e.seq), e.code.c_str(), e.message.c_str());
  }
  if (!returned->empty() && !app.info.all_units) {
    std::printf("  %zu report%s returned for correction: see `tram-field status`\n", returned->size(), returned->size() == 1 ? "" : "s");
  }
  if (app.info.conflicts > conflicts_before) {
    const uint64_t fresh = app.info.conflicts - conflicts_before;
    std::printf("  %llu new conflict%s recorded: see `tram-field status`\n", static_cast<unsigned long long>(fresh), fresh == 1 ? "" : "s");
  }
  if (app.info.clock_ahead) std::printf("  warning: the server says this phone's clock is ahead; set the date and time\n");
  return 0;
}

}  // namespace tram::field
