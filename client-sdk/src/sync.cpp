// The network side of the client: enrolment, sessions, push, attachment upload and pull,
// with retries, backoff and adaptive batch sizes. Network calls never hold the database lock.
#include <sodium.h>

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
#include "tram/engine/json.hpp"

namespace tram::client {
namespace dom = simdjson::dom;

namespace {

Status fail(Errc c, std::string m) { return {c, std::move(m)}; }

// The server's error envelope {"error":{"code","message"}} as a Status.
Status server_error(const HttpResponse& r) {
  dom::parser p;
  dom::element root;
  std::string_view code = "http_" + std::to_string(r.status), message = r.body;
  std::string code_s = "http_" + std::to_string(r.status);
  if (!p.parse(r.body).get(root)) {
    if (root["error"]["code"].get_string().get(code)) {}
    if (root["error"]["message"].get_string().get(message)) {}
    code_s = code;
  }
  const Errc errc = r.status >= 500 || r.status == 429 ? Errc::unavailable
                    : r.status == 401                  ? Errc::unauthenticated
                                                       : Errc::rejected;
  return fail(errc, code_s + ": " + std::string(message));
}

std::string normalise_code(const std::string& typed) {
  std::string c;
  for (char ch : typed) {
    if (std::isalnum(static_cast<unsigned char>(ch))) c.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(ch))));
  }
  if (c.size() != 16) return typed;
  return c.substr(0, 4) + "-" + c.substr(4, 4) + "-" + c.substr(8, 4) + "-" + c.substr(12, 4);
}

}  // namespace

std::vector<PushResult> parse_results(dom::array results) {
  std::vector<PushResult> out;
  for (dom::element e : results) {
    PushResult r;
    std::string_view s;
    if (!e["status"].get_string().get(s)) r.status = s;
    if (!e["code"].get_string().get(s)) r.code = s;
    if (!e["message"].get_string().get(s)) r.message = s;
    if (e["seq"].get_uint64().get(r.seq)) {}
    if (e["expected_seq"].get_uint64().get(r.expected_seq)) {}
    if (!e["receipt"]["body"].get_string().get(s)) r.receipt_body = s;
    if (!e["receipt"]["sig"].get_string().get(s)) r.receipt_sig = s;
    out.push_back(std::move(r));
  }
  return out;
}

Status Client::Impl::ensure_transport() {
  if (transport) return {};
  if (opt.transport) {
    transport = opt.transport;
    return {};
  }
  if (server_url.empty()) return fail(Errc::not_enrolled, "no server URL: enrol this device first");
  auto t = make_http_transport(server_url, opt.transport_options);
  if (!t.ok()) return t.status();
  transport = std::move(t).value();
  return {};
}

Result<HttpResponse> Client::Impl::call(const std::string& method, const std::string& target, const std::string& body,
                                        bool authenticated, SyncReport* report, Transport* via) {
  TRAM_RETURN_IF_ERROR(ensure_transport());
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (authenticated && token.empty()) TRAM_RETURN_IF_ERROR(login());
    HttpRequest req{method, target, {}, body};
    if (authenticated) req.headers.emplace_back("Authorization", "Bearer " + token);
    auto r = (via ? via : transport.get())->send(req, cancelled);
    if (!r.ok()) return r.status();
    if (report) {
      report->bytes_sent += r->bytes_sent;
      report->bytes_received += r->bytes_received;
    }
    // Sessions live in the server's memory: after a restart or expiry, open a new one once.
    if (authenticated && r->status == 401 && attempt == 0) {
      token.clear();
      continue;
    }
    return r;
  }
  return fail(Errc::unauthenticated, "the server refused a fresh session");
}

Status Client::Impl::login() {
  PublicKey dev;
  {
    std::lock_guard lock(mu);
    if (!device || !chain) return fail(Errc::not_enrolled, "enrol this device first");
    dev = *device;
  }
  auto c = call("POST", "/v1/auth/challenge", "{\"device\":\"" + to_hex(dev) + "\"}", false);
  if (!c.ok()) return c.status();
  if (c->status != 200) return server_error(*c);
  dom::parser p;
  std::string_view challenge_v;
  if (p.parse(c->body)["challenge"].get_string().get(challenge_v)) return fail(Errc::malformed_json, "challenge: unexpected answer");
  const std::string challenge(challenge_v);
  Signature sig;
  {
    std::lock_guard lock(mu);
    sig = chain->key().sign("tram-session-v1:" + challenge);
  }
  auto s = call("POST", "/v1/auth/session",
                "{\"device\":\"" + to_hex(dev) + "\",\"challenge\":\"" + challenge + "\",\"signature\":\"" + to_hex(sig) + "\"}",
                false);
  if (!s.ok()) return s.status();
  if (s->status != 200) return server_error(*s);
  std::string_view tok;
  if (p.parse(s->body)["token"].get_string().get(tok)) return fail(Errc::malformed_json, "session: unexpected answer");
  token = tok;
  return {};
}

// Stores who this device acts for, from an enrolment answer or GET /v1/me.
static Status store_identity(Client::Impl& m, const std::string& body) {
  dom::parser p;
  dom::object o;
  std::string_view user, role, key;
  bool all = false;
  dom::array units;
  if (p.parse(body).get_object().get(o) || o["user"].get_string().get(user) || o["role"].get_string().get(role) ||
      o["server_key"].get_string().get(key) || o["units"].get_array().get(units) || o["all_units"].get_bool().get(all)) {
    return fail(Errc::malformed_json, "identity: unexpected answer");
  }
  const auto server = from_hex<32>(key);
  if (!server) return fail(Errc::malformed_json, "identity: server_key is not 64 hex digits");
  std::string list;
  for (dom::element u : units) {
    std::string_view code;
    if (!u.get_string().get(code)) list += (list.empty() ? "" : ",") + std::string(code);
  }
  std::lock_guard lock(m.mu);
  if (m.server_key && *m.server_key != *server) {
    return fail(Errc::bad_signature, "the server's key changed since enrolment: refusing to trust it");
  }
  auto tx = sql::Transaction::begin(m.store->db());
  if (!tx.ok()) return tx.status();
  TRAM_RETURN_IF_ERROR(m.set_meta("user", std::string(user)));
  TRAM_RETURN_IF_ERROR(m.set_meta("role", std::string(role)));
  TRAM_RETURN_IF_ERROR(m.set_meta("units", list));
  TRAM_RETURN_IF_ERROR(m.set_meta("all_units", all ? "1" : "0"));
  TRAM_RETURN_IF_ERROR(m.set_meta("server_key", to_hex(*server)));
  TRAM_RETURN_IF_ERROR(tx->commit());
  return m.load_identity();
}

Status Client::Impl::refresh_identity() {
  auto r = call("GET", "/v1/me", "", true);
  if (!r.ok()) return r.status();
  if (r->status != 200) return server_error(*r);
  return store_identity(*this, r->body);
}

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
      auto tx = sql::Transaction::begin(m.store->db());
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
    m.transport.reset();
  }
  auto r = m.call("POST", "/v1/enroll", "{\"code\":" + json::quote(normalise_code(code)) + ",\"public_key\":\"" + pub_hex + "\"}", false);
  if (!r.ok()) return r.status();
  if (r->status == 200) return store_identity(m, r->body);
  if (r->status == 409) return m.refresh_identity();  // enrolled by an attempt whose answer was lost
  return server_error(*r);
}

// ---- sync --------------------------------------------------------------------------------

Status Client::Impl::push_outbox(SyncReport& report, const std::function<void(const Progress&)>& progress, Progress& p) {
  p.phase = "push";
  {
    std::lock_guard lock(mu);
    auto st = store->db().prepare("SELECT COUNT(*) FROM _client_outbox WHERE state = 0");
    if (st.ok() && st->step().value_or(false)) p.changesets_total = static_cast<uint64_t>(st->column_int(0));
  }
  uint64_t after = 0;
  for (int round = 0; round < 100'000; ++round) {
    if (cancelled) return fail(Errc::cancelled, "sync cancelled");
    std::string body = "{\"changesets\":[";
    size_t n = 0;
    uint64_t last_seq = after;
    {
      std::lock_guard lock(mu);
      auto st = store->db().prepare("SELECT seq, bytes, sig FROM _client_outbox WHERE state = 0 AND seq > ? ORDER BY seq LIMIT ?");
      if (!st.ok()) return st.status();
      st->bind_int(1, static_cast<int64_t>(after));
      st->bind_int(2, static_cast<int64_t>(push_batch));
      while (st->step().value_or(false)) {
        last_seq = static_cast<uint64_t>(st->column_int(0));
        auto bytes = st->column_blob(1);
        body += (n++ ? "," : "") + std::string("{\"cs\":\"") +
                to_base64(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size())) + "\",\"sig\":\"" +
                to_hex(st->column_blob(2)) + "\"}";
      }
    }
    if (n == 0) return {};
    body += "]}";
    const auto t0 = std::chrono::steady_clock::now();
    auto r = call("POST", "/v1/push", body, true, &report);
    const int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    if (!r.ok() || r->status == 413) {
      push_batch = std::max(opt.sync.push_batch_min, push_batch / 2);  // a weak link: smaller requests
      if (!r.ok()) return r.status();
      if (n == 1) return server_error(*r);
      continue;
    }
    if (r->status != 200) return server_error(*r);
    dom::parser parser;
    dom::array results;
    if (parser.parse(r->body)["results"].get_array().get(results)) return fail(Errc::malformed_json, "push: unexpected answer");
    Touched changed;
    Status st;
    {
      std::lock_guard lock(mu);
      st = record_results(parse_results(results), report, changed);
    }
    notify(changed);
    if (!st.ok()) return st;
    if (ms < opt.sync.slow_request_ms / 4) push_batch = std::min(opt.sync.push_batch_max, push_batch * 2);
    if (ms > opt.sync.slow_request_ms) push_batch = std::max(opt.sync.push_batch_min, push_batch / 2);
    after = last_seq;
    p.changesets_done += n;
    p.bytes_sent = report.bytes_sent;
    p.bytes_received = report.bytes_received;
    if (progress) progress(p);
  }
  return {};
}

Status Client::Impl::upload_attachments(SyncReport& report, const std::function<void(const Progress&)>& progress, Progress& p) {
  p.phase = "upload";
  std::vector<std::string> queued;
  {
    std::lock_guard lock(mu);
    auto st = store->db().prepare("SELECT hash FROM _client_uploads WHERE done = 0 ORDER BY hash");
    if (!st.ok()) return st.status();
    while (st->step().value_or(false)) queued.emplace_back(st->column_text(0));
  }
  p.files_total = queued.size();
  for (const std::string& hash : queued) {
    if (cancelled) return fail(Errc::cancelled, "sync cancelled");
    std::ifstream in(opt.path + ".files/" + hash, std::ios::binary);
    if (!in) continue;  // the file vanished: nothing to send; the server lists it as missing
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto status = call("GET", "/v1/attachments/" + hash + "/status", "", true, &report);
    if (!status.ok()) return status.status();
    if (status->status == 404) continue;  // its change set is not accepted yet: next sync
    if (status->status != 200) return server_error(*status);
    dom::parser parser;
    uint64_t offset = 0;
    bool complete = false;
    dom::element root;
    if (!parser.parse(status->body).get(root)) {
      if (root["received"].get_uint64().get(offset)) {}
      if (root["complete"].get_bool().get(complete)) {}
    }
    for (int chunks = 0; !complete && chunks < 10'000; ++chunks) {
      if (cancelled) return fail(Errc::cancelled, "sync cancelled");
      const size_t len = std::min<size_t>(opt.sync.attachment_chunk_bytes, bytes.size() - std::min<size_t>(offset, bytes.size()));
      const bool final = offset + len >= bytes.size();
      auto r = call("PUT", "/v1/attachments/" + hash + "?offset=" + std::to_string(offset) + (final ? "&final=1" : ""),
                    bytes.substr(offset, len), true, &report);
      if (!r.ok()) return r.status();
      if (r->status == 409 && !parser.parse(r->body).get(root) && !root["received"].get_uint64().get(offset)) continue;
      if (r->status != 200) return server_error(*r);
      if (parser.parse(r->body).get(root) || root["complete"].get_bool().get(complete)) complete = false;
      offset += len;
      if (final && !complete) return fail(Errc::rejected, "attachment " + hash + " did not verify on the server");
    }
    std::lock_guard lock(mu);
    auto st = store->db().prepare("UPDATE _client_uploads SET done = 1 WHERE hash = ?");
    if (!st.ok()) return st.status();
    st->bind_text(1, hash);
    TRAM_RETURN_IF_ERROR(st->run());
    ++report.attachments_uploaded;
    ++p.files_done;
    if (progress) progress(p);
  }
  return {};
}

Status Client::Impl::pull(SyncReport& report, const std::function<void(const Progress&)>& progress, Progress& p) {
  p.phase = "pull";
  // Where a page starts: a snapshot cursor, or a pull cursor (a row version).
  struct Cursor {
    bool snapshot = false;
    std::string at;
  };
  struct Fetched {
    Result<HttpResponse> response;
    int64_t ms = 0;
    std::optional<Result<wire::PullPage>> page;  // parsed where it was fetched (a 200 answer)
    Cursor from;                                 // what it was fetched with
  };
  // A device that never pulled takes the snapshot first (§8.3: current rows, table by table in
  // id order, which its store appends instead of inserting at random places), then pulls what
  // changed since. "snapshot_cursor" is kept until the snapshot is complete, so an interrupted
  // one resumes where it stopped.
  Cursor at;
  {
    std::lock_guard lock(mu);
    auto pulled = meta("pull_cursor");
    auto snap = meta("snapshot_cursor");
    if (!pulled.ok() || !snap.ok()) return fail(Errc::storage_error, "pull: cannot read the cursor");
    at.snapshot = !*pulled || *snap;
    at.at = at.snapshot ? snap->value_or("") : **pulled;
  }
  // The page after one fetched at `c` that says `more`, `next` and `cursor`; nullopt after the
  // last one. After the snapshot's last page comes the pull from the row version it was taken at.
  auto next_of = [](const Cursor& c, bool more, uint64_t next, const std::string& cursor) -> std::optional<Cursor> {
    if (!more && !c.snapshot) return std::nullopt;
    const bool snap = c.snapshot && more;
    return Cursor{snap, snap ? cursor : std::to_string(next)};
  };
  wire::PullParser parser;  // used by whichever thread parses
  size_t size = pull_page;
  // One request for the page at `c` (a server from before snapshots answers 404 to one: then
  // pull from the start instead).
  auto fetch_at = [this](Transport* via, Cursor c, size_t limit) -> Fetched {
    for (int tries = 0; tries < 2; ++tries) {
      const auto t0 = std::chrono::steady_clock::now();
      const std::string target = c.snapshot ? "/v1/snapshot?limit=" + std::to_string(limit) + "&cursor=" + c.at
                                            : "/v1/pull?after=" + c.at + "&limit=" + std::to_string(limit);
      Fetched f{call("GET", target, "", true, nullptr, via), 0, {}, c};
      f.ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
      if (!(c.snapshot && f.response.ok() && f.response->status == 404)) return f;
      c = Cursor{false, "0"};
    }
    return Fetched{fail(Errc::rejected, "pull: the server answered 404 to the pull"), 0, {}, c};
  };
  // Parses a fetched page, adapts the page size to how long its request took, and names the
  // page after it (nullopt: none, or this one failed). `early`, when given, is called with that
  // cursor as soon as the page's first bytes name it (wire::peek_page), before the rows are parsed.
  auto take = [&](Fetched& f, const std::function<void(const Cursor&)>& early) -> std::optional<Cursor> {
    if (!f.response.ok() || f.response->status != 200) return std::nullopt;
    if (f.ms < opt.sync.slow_request_ms / 4) size = std::min(opt.sync.pull_page_max, size * 2);
    if (f.ms > opt.sync.slow_request_ms) size = std::max(opt.sync.pull_page_min, size / 2);
    std::optional<Cursor> next;
    std::optional<wire::PageLead> lead;
    if (early && (lead = wire::peek_page(f.response->body))) {
      next = next_of(f.from, lead->more, lead->next, lead->cursor);
      if (next) early(*next);
    }
    f.page = parser.parse(f.response->body, *schema);
    if (!f.page->ok()) return std::nullopt;
    if (!lead) {
      next = next_of(f.from, (*f.page)->more, (*f.page)->next, (*f.page)->cursor);
      if (next && early) early(*next);
    }
    return next;
  };

  // Pages are fetched and parsed ahead, on a second connection and a thread of their own, while
  // this thread writes them to the store: the link, the server and the parsing work while the
  // phone writes. The request for the next page leaves as soon as a page's first bytes name it
  // (wire::peek_page), before that page is parsed. Only with the default transport (an app's
  // own transport may not allow two requests at once); otherwise one page at a time.
  std::unique_ptr<Transport> second;
  if (!opt.transport && opt.sync.read_ahead) {
    auto t = make_http_transport(server_url, opt.transport_options);
    if (t.ok()) second = std::move(t).value();
  }
  const bool ahead = second != nullptr;
  std::mutex qmu;
  std::condition_variable qcv;
  std::deque<Fetched> queue;
  bool stop = false, finished = false;
  std::thread producer;
  if (ahead) {
    producer = std::thread([&] {
      // One request in flight at a time, on its own short-lived thread, while this one parses.
      auto request = [&](const Cursor& c) { return std::async(std::launch::async, fetch_at, second.get(), c, size); };
      std::future<Fetched> inflight = request(at);
      for (int pages = 0; pages < 1'000'000; ++pages) {
        Fetched f = inflight.get();
        const bool last = !take(f, [&](const Cursor& c) { inflight = request(c); });
        std::unique_lock lock(qmu);
        qcv.wait(lock, [&] { return queue.size() < 2 || stop; });
        if (stop) break;
        queue.push_back(std::move(f));
        qcv.notify_all();
        if (last) break;
      }
      // (A request still in flight is waited for when `inflight` goes: cancel() makes it short.)
      std::lock_guard lock(qmu);
      finished = true;
      qcv.notify_all();
    });
  }
  // Stops the producer and waits for it: when the pull ends, however it ends.
  auto stop_producer = [&] {
    if (!producer.joinable()) return;
    {
      std::lock_guard lock(qmu);
      stop = true;
    }
    qcv.notify_all();
    producer.join();
  };
  struct OnExit {
    std::function<void()> f;
    ~OnExit() { f(); }
  } on_exit{stop_producer};
  bool done = false;  // one page at a time: after the last one
  auto next_fetched = [&]() -> std::optional<Fetched> {
    if (!ahead) {
      if (done) return std::nullopt;
      Fetched f = fetch_at(nullptr, at, size);
      auto next = take(f, {});
      if (next) at = std::move(*next);
      done = !next;
      return f;
    }
    std::unique_lock lock(qmu);
    qcv.wait(lock, [&] { return !queue.empty() || finished; });
    if (queue.empty()) return std::nullopt;
    Fetched f = std::move(queue.front());
    queue.pop_front();
    qcv.notify_all();
    return f;
  };

  for (int pages = 0; pages < 1'000'000; ++pages) {
    if (cancelled) return fail(Errc::cancelled, "sync cancelled");
    auto fetched = next_fetched();
    if (!fetched) break;
    Fetched& got = *fetched;
    auto& r = got.response;
    if (r.ok()) {
      report.bytes_sent += r->bytes_sent;
      report.bytes_received += r->bytes_received;
    }
    if (!r.ok()) {
      pull_page = std::max(opt.sync.pull_page_min, pull_page / 2);
      return r.status();
    }
    if (r->status != 200) return server_error(*r);
    auto& page = *got.page;
    if (!page.ok()) return page.status();
    if (!wire::verify_head(page->head, *server_key)) return fail(Errc::bad_signature, "pull: the log head is not signed by the pinned server key");
    const std::optional<Cursor> next = next_of(got.from, page->more, page->next, page->cursor);
    Touched changed;
    {
      std::lock_guard lock(mu);
      // A pulled page may skip the fsync (synchronous=NORMAL): WAL keeps it atomic with its
      // cursor, and a page lost to a power cut is pulled again. The device's own writes keep
      // synchronous=FULL.
      TRAM_RETURN_IF_ERROR(store->db().exec("PRAGMA synchronous=NORMAL"));
      struct Restore {
        sql::Database& db;
        ~Restore() { (void)db.exec("PRAGMA synchronous=FULL"); }
      } restore{store->db()};
      auto tx = sql::Transaction::begin(store->db());
      if (!tx.ok()) return tx.status();
      auto& db = store->db();
      bool any_pending = false;
      {
        auto st = db.prepare("SELECT EXISTS (SELECT 1 FROM _client_base)");
        if (!st.ok()) return st.status();
        any_pending = st->step().value_or(true) && st->column_int(0) != 0;
      }
      auto has_base = db.prepare("UPDATE _client_base SET image = ? WHERE tbl = ? AND row_id = ?");
      auto add_conflict = db.prepare(
          "INSERT OR IGNORE INTO _client_conflicts(tbl, row_id, field, winner, loser, mine_lost, loser_value) VALUES (?, ?, ?, ?, ?, ?, ?)");
      if (!has_base.ok() || !add_conflict.ok()) return fail(Errc::storage_error, "pull: prepare failed");
      Touched rebuild;
      for (const wire::PulledRow& row : page->rows) {
        changed[row.table].insert(row.id);
        bool based = false;
        if (any_pending) {
          // A row with pending edits: keep the server's image as its base and rebuild.
          has_base->reset();
          has_base->bind_text(1, wire::row_image_to_json(row.image));
          has_base->bind_text(2, row.table);
          has_base->bind_text(3, row.id);
          TRAM_RETURN_IF_ERROR(has_base->run());
          based = db.changes() > 0;
        }
        if (based) {
          rebuild[row.table].insert(row.id);
        } else {
          TRAM_RETURN_IF_ERROR(store->put_row_image(row.table, row.id, row.image));
        }
        for (const ConflictRecord& c : row.conflicts) {
          auto loser_mine = is_own_changeset(c.loser);
          auto winner_mine = is_own_changeset(c.winner);
          if (!loser_mine.ok() || !winner_mine.ok()) return fail(Errc::storage_error, "pull: conflicts");
          if (!*loser_mine && !*winner_mine) continue;  // other devices' business
          std::string v;
          json::append_value(v, c.loser_value);
          add_conflict->reset();
          add_conflict->bind_text(1, c.table);
          add_conflict->bind_text(2, c.row);
          add_conflict->bind_int(3, c.field);
          add_conflict->bind_blob(4, c.winner);
          add_conflict->bind_blob(5, c.loser);
          add_conflict->bind_int(6, *loser_mine);
          add_conflict->bind_text(7, v);
          TRAM_RETURN_IF_ERROR(add_conflict->run());
        }
      }
      TRAM_RETURN_IF_ERROR(rebuild_rows(rebuild));
      if (next && next->snapshot) {
        TRAM_RETURN_IF_ERROR(set_meta("snapshot_cursor", next->at));
      } else if (next || !got.from.snapshot) {
        TRAM_RETURN_IF_ERROR(set_meta("pull_cursor", next ? next->at : std::to_string(page->next)));
        auto clear = db.prepare("DELETE FROM _client_meta WHERE k = 'snapshot_cursor'");
        if (!clear.ok()) return clear.status();
        TRAM_RETURN_IF_ERROR(clear->run());
      }
      TRAM_RETURN_IF_ERROR(set_meta("server_seq", std::to_string(page->head.server_seq)));
      TRAM_RETURN_IF_ERROR(tx->commit());
    }
    notify(changed);
    report.rows_pulled += page->rows.size();
    p.rows_pulled = report.rows_pulled;
    p.bytes_sent = report.bytes_sent;
    p.bytes_received = report.bytes_received;
    if (progress) progress(p);
    if (!next) break;
  }
  stop_producer();  // `size` is the producer's until it has ended
  pull_page = size;  // a later sync starts with what this one learnt about the link
  return {};
}

Status Client::Impl::sync_round(SyncReport& report, const std::function<void(const Progress&)>& progress) {
  Progress p;
  TRAM_RETURN_IF_ERROR(refresh_identity());
  TRAM_RETURN_IF_ERROR(push_outbox(report, progress, p));
  TRAM_RETURN_IF_ERROR(upload_attachments(report, progress, p));
  return pull(report, progress, p);
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
  for (int attempt = 1; attempt <= std::max(1, m.opt.sync.max_attempts); ++attempt) {
    report.attempts = attempt;
    last = m.sync_round(report, progress);
    if (last.ok()) break;
    // Only a failure of the link or the server is worth retrying; a refusal is not.
    if (last.code() != Errc::unavailable || attempt == m.opt.sync.max_attempts) break;
    m.token.clear();
    const int64_t cap = std::min<int64_t>(m.opt.sync.backoff_max_ms, m.opt.sync.backoff_initial_ms << std::min(attempt - 1, 20));
    sleep_unless_cancelled(std::uniform_int_distribution<int64_t>(0, cap)(jitter), m.cancelled);  // full jitter
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
