// The network side of the client: enrolment, sessions, push, attachment upload and pull,
// with retries, backoff and adaptive batch sizes. Network calls never hold the database lock.
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <filesystem>
#include <fstream>
#include <functional>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <thread>
#include <random>

#include <simdjson.h>

#include "client_impl.hpp"
#include "tram/engine/gzip.hpp"
#include "tram/engine/json.hpp"
#include "tram/engine/wire_writer.hpp"

namespace tram::client {
namespace dom = simdjson::dom;

namespace {

Status fail(Errc c, std::string m) { return {c, std::move(m)}; }

std::string normalise_code(const std::string& typed) {
  std::string c;
  for (char ch : typed) {
    if (std::isalnum(static_cast<unsigned char>(ch))) c.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
  }
  if (c.size() != 16) return typed;
  return c.substr(0, 4) + "-" + c.substr(4, 4) + "-" + c.substr(8, 4) + "-" + c.substr(12, 4);
}

}  // namespace

Status Client::enroll(const std::string& server_url, const std::string& code) {
  Impl& m = *impl_;
  std::string pub_hex;
  {
    std::lock_guard lock(m.mu);
    if (!m.user.empty()) return fail(Errc::already_exists, "this device is enrolled already (user " + m.user + ")");
    if (!m.chain) {
      // The key is stored (encrypted) before the server hears of it: a lost answer can be
      // retried with the same key (protocol §5.4).
      DeviceKey key = DeviceKey::generate(m.random);
      std::array<uint8_t, 32> seed{};
      key.export_seed(seed);
      pub_hex = to_hex(key.public_key());
      const std::string ad = "tram-device-key-v1:" + pub_hex;
      std::vector<uint8_t> sealed(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + seed.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
      randombytes_buf(sealed.data(), crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
      unsigned long long n = 0;
      crypto_aead_xchacha20poly1305_ietf_encrypt(sealed.data() + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, &n, seed.data(),
                                                 seed.size(), reinterpret_cast<const uint8_t*>(ad.data()), ad.size(), nullptr,
                                                 sealed.data(), m.opt.wrapping_key.data());
      sodium_memzero(seed.data(), seed.size());
      auto tx = m.local->begin();
      if (!tx.ok()) return tx.status();
      TRAM_RETURN_IF_ERROR(m.set_meta("device", pub_hex));
      TRAM_RETURN_IF_ERROR(m.set_meta("device_key", to_hex(sealed)));
      TRAM_RETURN_IF_ERROR(m.set_meta("server_url", server_url));
      TRAM_RETURN_IF_ERROR(tx->commit());
      TRAM_RETURN_IF_ERROR(m.load_identity());
    } else {
      pub_hex = to_hex(*m.device);
      TRAM_RETURN_IF_ERROR(m.set_meta("server_url", server_url));
      m.server_url = server_url;
    }
    m.session->reconnect();
  }
  auto r = m.session->call("POST", "/v1/enroll", "{\"code\":" + json::quote(normalise_code(code)) + ",\"public_key\":\"" + pub_hex + "\"}", false);
  if (!r.ok()) return r.status();
  if (r->status == 200) return store_identity(m, r->body);
  if (r->status == 409) return m.refresh_identity();  // enrolled by an attempt whose answer was lost
  return server_error(*r);
}

// ---- sync --------------------------------------------------------------------------------

// Evidence files, in chunks sized to the link (SyncOptions): one chunk in flight at a time, and
// after a cut or a stall the server is asked what it holds (it keeps the part of a chunk that
// arrived) and the upload goes on from that byte. Three failures in a row with no byte more on
// the server end this round (Client::sync decides whether to go on).
Status Client::Impl::upload_attachments(SyncReport& report, const std::function<void(const Progress&)>& progress, Progress& p) {
  p.phase = "upload";
  std::vector<std::string> queued;
  {
    std::lock_guard lock(mu);
    auto q = local->queued_uploads();
    if (!q.ok()) return q.status();
    queued = std::move(q).value();
  }
  p.files_total = queued.size();
  p.upload_bytes_total = p.upload_bytes_done = 0;
  for (const std::string& hash : queued) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(opt.path + ".files/" + hash, ec);
    if (!ec) p.upload_bytes_total += size;
  }
  const size_t max_chunk = std::max<size_t>(4096, opt.sync.attachment_chunk_bytes);
  if (upload_chunk == 0) upload_chunk = std::clamp<size_t>(opt.sync.attachment_chunk_start, 4096, max_chunk);
  auto last_report = std::chrono::steady_clock::now();
  for (const std::string& hash : queued) {
    if (cancelled) return fail(Errc::cancelled, "sync cancelled");
    std::ifstream in(opt.path + ".files/" + hash, std::ios::binary);
    if (!in) continue;  // the file vanished: nothing to send; the server lists it as missing
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const uint64_t base = p.upload_bytes_done;  // this sync's bytes of the files before this one
    dom::parser parser;
    dom::element root;
    uint64_t offset = 0;
    bool complete = false, known = false, skip = false;
    int failures = 0;  // in a row, without a byte more on the server
    Status last_failure;
    auto failed = [&](const Status& st) {
      upload_chunk = std::max<size_t>(4096, upload_chunk / 2);  // a cut or a stall: smaller pieces
      known = false;                                            // ask the server what it kept
      last_failure = st;
      return ++failures >= 3;
    };
    for (int requests = 0; !complete && requests < 100'000; ++requests) {
      if (cancelled) return fail(Errc::cancelled, "sync cancelled");
      if (!known) {
        auto status = session->call("GET", "/v1/attachments/" + hash + "/status", "", true, &report);
        if (!status.ok()) {
          if (status.code() != Errc::unavailable || failed(status.status())) return status.status();
          continue;
        }
        if (status->status == 404) {  // its change set is not accepted yet: next sync
          skip = true;
          break;
        }
        if (status->status != 200) return server_error(*status);
        uint64_t held = 0;
        if (!parser.parse(status->body).get(root)) {
          if (root["received"].get_uint64().get(held)) {}
          if (root["complete"].get_bool().get(complete)) {}
        }
        if (held > offset) {
          confirmed += held - offset;  // what arrived of a chunk that was cut counts
          failures = 0;
        }
        offset = held;
        known = true;
        p.upload_bytes_done = base + std::min<uint64_t>(offset, bytes.size());
        if (progress) progress(p);
        continue;
      }
      const size_t len = std::min<size_t>(upload_chunk, bytes.size() - std::min<size_t>(offset, bytes.size()));
      const bool final = offset + len >= bytes.size();
      CallOptions how;
      how.compress = false;          // photos do not compress; a raw prefix is a prefix of the file
      how.resend_on_stale = false;   // after a failure, ask the server first (never two copies)
      how.on_progress = [&](uint64_t sent, uint64_t) {
        const auto now = std::chrono::steady_clock::now();
        if (!progress || now - last_report < std::chrono::milliseconds(250)) return;
        last_report = now;
        p.upload_bytes_done = base + offset + std::min<uint64_t>(sent, len);
        progress(p);
      };
      const auto t0 = std::chrono::steady_clock::now();
      auto r = session->call("PUT", "/v1/attachments/" + hash + "?offset=" + std::to_string(offset) + (final ? "&final=1" : ""),
                             bytes.substr(offset, len), true, &report, nullptr, &how);
      const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
      if (!r.ok()) {
        if (r.code() != Errc::unavailable || failed(r.status())) return r.status();
        continue;
      }
      uint64_t held = 0;
      if (r->status == 409 && !parser.parse(r->body).get(root) && !root["received"].get_uint64().get(held)) {
        offset = held;  // the server holds another count (a cut chunk it kept): go on from there
        continue;
      }
      if (r->status >= 500 || r->status == 429) {
        if (failed(server_error(*r))) return server_error(*r);
        continue;
      }
      if (r->status != 200) return server_error(*r);
      if (parser.parse(r->body).get(root) || root["complete"].get_bool().get(complete)) complete = false;
      if (!parser.parse(r->body).get(root) && !root["received"].get_uint64().get(held) && held == offset + len) {
        offset = held;
      } else {
        offset += len;
      }
      confirmed += len;
      failures = 0;
      // Size the next chunk to take about target_request_ms at the rate this one went.
      if (len >= upload_chunk / 2 && len > 0) {
        const double rate = static_cast<double>(len) * 1000.0 / static_cast<double>(std::max<int64_t>(ms, 1));
        const double want = rate * static_cast<double>(opt.sync.target_request_ms) / 1000.0;
        const size_t next = static_cast<size_t>(std::clamp(want, static_cast<double>(upload_chunk) / 2, static_cast<double>(upload_chunk) * 2));
        upload_chunk = std::clamp<size_t>(next, 4096, max_chunk);
      }
      p.upload_bytes_done = base + std::min<uint64_t>(offset, bytes.size());
      if (progress) progress(p);
      if (final && !complete) return fail(Errc::rejected, "attachment " + hash + " did not verify on the server");
    }
    p.upload_bytes_done = base + bytes.size();
    if (skip) continue;
    if (!complete) return last_failure.ok() ? fail(Errc::unavailable, "attachment " + hash + ": too many requests") : last_failure;
    std::lock_guard lock(mu);
    TRAM_RETURN_IF_ERROR(local->upload_done(hash));
    ++report.attachments_uploaded;
    ++p.files_done;
    if (progress) progress(p);
  }
  return {};
}

Status Client::Impl::sync_round(SyncReport& report, const std::function<void(const Progress&)>& progress) {
  PublicKey pinned{};
  {
    std::lock_guard lock(mu);
    if (!server_key) return fail(Errc::not_enrolled, "no pinned server key: enrol this device first");
    pinned = *server_key;
  }
  Status st = sync_steps(report, progress);
  if (st.code() == Errc::bad_signature) {
    // A head or receipt that the pinned key does not verify: the key may have been rotated since
    // this round looked. Follow it, and go once more if it moved.
    TRAM_RETURN_IF_ERROR(follow_server_key(report));
    if (*server_key != pinned) st = sync_steps(report, progress);
  }
  return st;
}

Status Client::Impl::sync_steps(SyncReport& report, const std::function<void(const Progress&)>& progress) {
  Progress p;
  p.attempt = report.attempts;
  TRAM_RETURN_IF_ERROR(refresh_identity(&report));
  {
    std::lock_guard lock(mu);
    TRAM_RETURN_IF_ERROR(prune_sent());
  }
  // A device that cannot heal the server still uploads and pulls; the sync then ends with the
  // server_lost_data error.
  std::optional<uint64_t> me;
  {
    std::lock_guard lock(mu);
    me = me_seq;
  }
  Status lost = pusher->heal_from_me(me, report);
  if (!lost.ok() && !is_server_lost_data(lost)) return lost;
  for (int pass = 0; pass < 3; ++pass) {
    Status st = pass == 0 && !lost.ok() ? lost : pusher->heal_if_needed(report);
    if (st.ok()) st = pusher->push(report, progress, p);
    if (st.ok()) st = pusher->heal_if_needed(report);  // a push answer's head showed the log went back
    if (!st.ok() && !is_server_lost_data(st)) return st;
    if (!st.ok()) lost = st;
    TRAM_RETURN_IF_ERROR(upload_attachments(report, progress, p));
    heads->reset_seen();
    PublicKey key{};
    std::string url;
    {
      std::lock_guard lock(mu);
      key = *server_key;
      url = server_url;
    }
    TRAM_RETURN_IF_ERROR(puller->pull(key, url, report, progress, p));
    if (!heads->behind_seen()) break;  // else: a pull head showed it; heal and pull from the start
  }
  return lost;
}

Result<SyncReport> Client::sync(const std::function<void(const Progress&)>& progress) {
  Impl& m = *impl_;
  std::lock_guard sync_lock(m.sync_mu);
  {
    std::lock_guard lock(m.mu);
    if (!m.chain || m.user.empty()) return fail(Errc::not_enrolled, "enrol this device first");
  }
  m.cancelled = false;
  SyncReport report;
  std::mt19937_64 jitter(std::random_device{}());
  Status last;
  const auto began = std::chrono::steady_clock::now();
  const int64_t max_time_ms = m.opt.sync.max_time_ms;
  // What this sync has moved: change sets settled or sent again, rows pulled, evidence bytes the
  // server confirmed. An attempt that moved any of it was not in vain.
  auto moved = [&] {
    return report.accepted + report.duplicates + report.rejected + report.resent + report.rows_pulled + report.attachments_uploaded +
           m.confirmed;
  };
  int idle = 0;  // attempts in a row that moved nothing
  for (int attempt = 1;; ++attempt) {
    report.attempts = attempt;
    const uint64_t before = moved();
    last = m.sync_round(report, progress);
    if (last.ok()) break;
    // Only a failure of the link or the server is worth retrying; a refusal is not.
    if (last.code() != Errc::unavailable) break;
    const bool progressed = moved() != before;
    idle = progressed ? 0 : idle + 1;
    int64_t left_ms = std::numeric_limits<int64_t>::max();
    if (max_time_ms > 0) {
      // Across cuts: on while it moves, until max_attempts in a row move nothing or time is up.
      left_ms = max_time_ms - std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - began).count();
      if (idle >= std::max(1, m.opt.sync.max_attempts)) break;
      if (left_ms <= 0) {
        last = Status(last.code(), last.message() + " (stopped after " + std::to_string(max_time_ms / 1000) + " s)");
        break;
      }
    } else if (attempt >= std::max(1, m.opt.sync.max_attempts)) {
      break;
    }
    // A cut in the middle of work that went well: go on at once. Otherwise back off (full
    // jitter), and open a new session in case the server lost ours.
    int64_t wait_ms = 0;
    if (!progressed) {
      m.session->forget();
      const int64_t cap = std::min<int64_t>(m.opt.sync.backoff_max_ms, m.opt.sync.backoff_initial_ms << std::min(std::max(idle, 1) - 1, 20));
      wait_ms = std::min(left_ms, std::uniform_int_distribution<int64_t>(0, cap)(jitter));
    }
    if (progress) {
      Progress w;
      w.phase = "wait";
      w.attempt = attempt;
      w.retry = last.message();
      w.retry_in_ms = wait_ms;
      w.bytes_sent = report.bytes_sent;
      w.bytes_received = report.bytes_received;
      progress(w);
    }
    sleep_unless_cancelled(wait_ms, m.cancelled);
    if (m.cancelled) {
      last = fail(Errc::cancelled, "sync cancelled");
      break;
    }
  }
  std::lock_guard lock(m.mu);
  if (last.ok()) {
    (void)m.set_meta("last_sync_ms", std::to_string(m.clock->now_ms()));
    (void)m.set_meta("last_error", "");
    return report;
  }
  (void)m.set_meta("last_error", last.to_string());
  return last;
}

void Client::cancel() { impl_->cancelled = true; }

void Client::start_background(std::chrono::milliseconds interval) {
  stop_background();
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.bg_mu);
    m.bg_stop = false;
  }
  m.background = std::thread([this, &m, interval] {
    std::unique_lock lock(m.bg_mu);
    while (!m.bg_stop) {
      lock.unlock();
      (void)sync();
      lock.lock();
      m.bg_cv.wait_for(lock, interval, [&] { return m.bg_stop; });
    }
  });
}

void Client::stop_background() {
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.bg_mu);
    if (!m.background.joinable()) return;
    m.bg_stop = true;
  }
  m.cancelled = true;
  m.bg_cv.notify_all();
  m.background.join();
}

}  // namespace tram::client
