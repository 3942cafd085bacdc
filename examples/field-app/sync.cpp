// tram-field sync: the outbox out, evidence up, changes down, with a progress bar.
#include "app.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>

namespace fs = std::filesystem;

namespace tram::field {

using namespace tram::client;

namespace {

// One line that updates on a terminal; on a pipe or file, plain lines: each phase's end, each
// retry, and during an upload one line every 15 s. The rate is what moved over the last 20 s,
// the time left what remains at that rate.
class ProgressBar {
 public:
  explicit ProgressBar(bool quiet) : quiet_(quiet), tty_(::isatty(2)) {}
  void operator()(const Progress& p) {
    if (quiet_) return;
    std::fflush(stdout);  // keep what was printed before the bar ahead of it when both go to one pipe
    const auto now = Clock::now();
    if (p.phase == "wait") {
      finish_line();
      const std::string line = p.retry_in_ms > 0 ? "  " + fmt(_("retry in {1} s (attempt {2}): {3}"), std::to_string((p.retry_in_ms + 999) / 1000),
                                                                std::to_string(p.attempt + 1), p.retry)
                                                : "  " + fmt(_("cut: {1}; going on from where the server stands"), p.retry);
      std::fprintf(stderr, "%s\n", line.c_str());
      return;
    }
    if (p.phase != phase_ && !phase_.empty()) finish_line();
    if (p.phase != phase_) samples_.clear();
    phase_ = p.phase;
    const uint64_t moved = p.phase == "upload" ? p.upload_bytes_done : p.phase == "pull" ? p.bytes_received : p.bytes_sent;
    samples_.emplace_back(now, moved);
    while (samples_.size() > 2 && now - samples_.front().first > std::chrono::seconds(20)) samples_.pop_front();
    last_ = render(p);
    if (tty_) {
      std::fprintf(stderr, "\r%s\033[K", last_.c_str());
      std::fflush(stderr);
    } else if (p.phase == "upload" && now - printed_ > std::chrono::seconds(15)) {
      printed_ = now;
      std::fprintf(stderr, "%s\n", last_.c_str());
    }
  }
  // Ends the current line; on a pipe the final state of each phase is printed.
  void finish_line() {
    if (quiet_ || last_.empty()) return;
    std::fprintf(stderr, tty_ ? "\n" : "%s\n", last_.c_str());
    last_.clear();
  }

 private:
  using Clock = std::chrono::steady_clock;

  // Bytes per second over the window; 0 until there is a second of it.
  double rate() const {
    if (samples_.size() < 2) return 0;
    const double s = std::chrono::duration<double>(samples_.back().first - samples_.front().first).count();
    if (s < 1) return 0;
    return static_cast<double>(samples_.back().second - std::min(samples_.back().second, samples_.front().second)) / s;
  }

  // The time left in the reader's words ("4 phút"); the number keeps its C form.
  static std::string duration(double s) {
    char buf[32];
    if (s < 90) {
      std::snprintf(buf, sizeof buf, "%.0f", s);
      return fmt(_("{1} s"), buf);
    }
    if (s < 5400) {
      std::snprintf(buf, sizeof buf, "%.0f", s / 60);
      return fmt(_("{1} min"), buf);
    }
    std::snprintf(buf, sizeof buf, "%.1f", s / 3600);
    return fmt(_("{1} h"), buf);
  }

  std::string render(const Progress& p) const {
    const double r = rate();
    char speed[48] = "";
    if (r > 0) std::snprintf(speed, sizeof speed, ", %.1f KiB/s", r / 1024);
    if (p.phase == "upload") {
      const uint64_t total = std::max<uint64_t>(p.upload_bytes_total, 1);
      const uint64_t done = std::min(p.upload_bytes_done, total);
      std::string left;
      if (r > 0 && done < total) left = ", " + fmt(_("{1} left"), duration(static_cast<double>(total - done) / r));
      return "  " + fmt(P_("upload  [{1}] {2}/{3} evidence file, {4} of {5}", "upload  [{1}] {2}/{3} evidence files, {4} of {5}", p.files_total),
                        fill(done, total), std::to_string(p.files_done), std::to_string(p.files_total), kib(p.upload_bytes_done),
                        kib(p.upload_bytes_total)) +
             speed + left;
    }
    if (p.phase == "pull") {
      return "  " + fmt(P_("pull    {1} row received, {2}", "pull    {1} rows received, {2}", p.rows_pulled), std::to_string(p.rows_pulled), kib(p.bytes_received)) +
             speed;
    }
    const uint64_t total = std::max<uint64_t>(p.changesets_total, 1);
    // TRANSLATORS: {1} is the phase (push), a change set is one signed batch of edits from this device.
    return "  " + fmt(_("{1} [{2}] {3}/{4} change sets, {5} sent"), cell(p.phase, 7), fill(std::min(p.changesets_done, total), total),
                      std::to_string(p.changesets_done), std::to_string(p.changesets_total), kib(p.bytes_sent)) +
           speed;
  }
  static std::string fill(uint64_t done, uint64_t total) {
    const int width = 24;
    const int filled = static_cast<int>(done * width / std::max<uint64_t>(total, 1));
    std::string bar(static_cast<size_t>(filled), '#');
    bar.append(static_cast<size_t>(width - filled), '.');
    return bar;
  }
  bool quiet_, tty_;
  std::string phase_, last_;
  std::deque<std::pair<Clock::time_point, uint64_t>> samples_;
  Clock::time_point printed_{};
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
      return app.fail(Status(r.code(), fmt(_("{1} (this device's own records are intact; the outbox waits)"), r.status().message())));
    }
    auto outbox = app.client->outbox();
    const size_t waiting = outbox.ok() ? outbox->size() : 0;
    return app.fail(Status(r.code(), fmt(P_("sync did not finish: {1} ({2} change set stays in the outbox; nothing is lost)",
                                            "sync did not finish: {1} ({2} change sets stay in the outbox; nothing is lost)", waiting),
                                         r.status().message(), std::to_string(waiting))));
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
  auto n = [](uint64_t v) { return std::to_string(v); };
  std::string sent;
  auto add = [&](const std::string& part) { sent += (sent.empty() ? "" : ", ") + part; };
  if (s.accepted) add(fmt(P_("{1} change set accepted", "{1} change sets accepted", s.accepted), n(s.accepted)));
  if (s.duplicates) add(fmt(P_("{1} already held", "{1} already held", s.duplicates), n(s.duplicates)));
  if (s.rejected) add(fmt(P_("{1} change set REJECTED", "{1} change sets REJECTED", s.rejected), n(s.rejected)));
  if (s.attachments_uploaded) add(fmt(P_("{1} evidence file uploaded", "{1} evidence files uploaded", s.attachments_uploaded), n(s.attachments_uploaded)));
  std::printf("%s\n", fmt(P_("Synced: {1}; received {2} row ({3} up, {4} down)", "Synced: {1}; received {2} rows ({3} up, {4} down)", s.rows_pulled),
                          sent.empty() ? std::string(_("nothing to send")) : sent, n(s.rows_pulled), kib(s.bytes_sent), kib(s.bytes_received))
                          .c_str());
  if (s.server_log_behind) {
    std::printf("  %s\n", fmt(P_("the server had lost part of its log (restored from a backup?): {1} change set sent again from this device",
                                 "the server had lost part of its log (restored from a backup?): {1} change sets sent again from this device", s.resent),
                              n(s.resent))
                              .c_str());
  }
  for (const auto& e : *outbox) {
    if (e.state == OutboxEntry::rejected) std::printf("  %s\n", fmt(_("rejected #{1}  {2}: {3}"), n(e.seq), e.code, e.message).c_str());
  }
  if (!returned->empty() && !app.info.all_units) {
    std::printf("  %s\n", fmt(P_("{1} report returned for correction: see `tram-field status`", "{1} reports returned for correction: see `tram-field status`",
                                 returned->size()),
                              n(returned->size()))
                              .c_str());
  }
  if (app.info.conflicts > conflicts_before) {
    const uint64_t fresh = app.info.conflicts - conflicts_before;
    std::printf("  %s\n", fmt(P_("{1} new conflict recorded (two people edited the same report): see `tram-field status`",
                                 "{1} new conflicts recorded (two people edited the same report): see `tram-field status`", fresh),
                              n(fresh))
                              .c_str());
  }
  if (app.info.clock_ahead) std::printf("  %s\n", _("warning: the server says this phone's clock is ahead; set the date and time"));
  return 0;
}

}  // namespace tram::field
