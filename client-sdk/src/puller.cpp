#include "puller.hpp"

#include <algorithm>
#include <chrono>

namespace tram::client {

namespace {
Status fail(Errc c, std::string m) { return {c, std::move(m)}; }
}  // namespace

// A device that never pulled takes the snapshot first (§8.3: current rows, table by table in id
// order, which its store appends instead of inserting at random places), then pulls what changed
// since. "snapshot_cursor" is kept until the snapshot is complete, so an interrupted one resumes
// where it stopped.
Result<PageCursor> Puller::start() {
  std::lock_guard lock(p_.mu);
  auto pulled = p_.local.meta("pull_cursor");
  auto snap = p_.local.meta("snapshot_cursor");
  if (!pulled.ok() || !snap.ok()) return fail(Errc::storage_error, "pull: cannot read the cursor");
  PageCursor at;
  at.snapshot = !*pulled || *snap;
  at.at = at.snapshot ? snap->value_or("") : **pulled;
  return at;
}

// One request for the page at `c` (a server from before snapshots answers 404 to one: then pull
// from the start instead).
FetchedPage Puller::fetch(Transport* via, PageCursor c, size_t limit) {
  for (int tries = 0; tries < 2; ++tries) {
    const auto t0 = std::chrono::steady_clock::now();
    const std::string target = c.snapshot ? "/v1/snapshot?limit=" + std::to_string(limit) + "&cursor=" + c.at
                                          : "/v1/pull?after=" + c.at + "&limit=" + std::to_string(limit);
    FetchedPage f{p_.session.call("GET", target, "", true, nullptr, via), 0, {}, c};
    f.ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    if (!(c.snapshot && f.response.ok() && f.response->status == 404)) return f;
    c = PageCursor{false, "0"};
  }
  return FetchedPage{fail(Errc::rejected, "pull: the server answered 404 to the pull"), 0, {}, c};
}

Status Puller::pull(const PublicKey& server_key, const std::string& server_url, SyncReport& report,
                    const std::function<void(const Progress&)>& progress, Progress& p) {
  p.phase = "pull";
  auto at = start();
  if (!at.ok()) return at.status();
  // Read-ahead only with the default transport: an app's own may not allow two requests at once.
  std::unique_ptr<Transport> second;
  if (!p_.session.app_transport() && p_.opt.sync.read_ahead) {
    auto t = make_http_transport(server_url, p_.opt.transport_options);
    if (t.ok()) second = std::move(t).value();
  }
  PageReader reader(p_.schema, p_.opt.sync, [this](Transport* via, PageCursor c, size_t limit) { return fetch(via, std::move(c), limit); },
                    std::move(second), std::move(at).value(), page_size_);
  for (int pages = 0; pages < 1'000'000; ++pages) {
    if (p_.cancelled) return fail(Errc::cancelled, "sync cancelled");
    auto fetched = reader.next();
    if (!fetched) break;
    FetchedPage& got = *fetched;
    auto& r = got.response;
    if (!r.ok()) {
      page_size_ = std::max(p_.opt.sync.pull_page_min, page_size_ / 2);
      return r.status();
    }
    report.bytes_sent += r->bytes_sent;
    report.bytes_received += r->bytes_received;
    if (r->status != 200) return server_error(*r);
    auto& page = *got.page;
    if (!page.ok()) return page.status();
    if (!wire::verify_head(page->head, server_key)) return fail(Errc::bad_signature, "pull: the log head is not signed by the pinned server key");
    {
      std::lock_guard lock(p_.mu);
      TRAM_RETURN_IF_ERROR(p_.heads.note(page->head.server_seq, report, /*persist=*/false));  // with the page, below
    }
    if (p_.heads.behind_seen()) return {};  // the log went back: the cursor is reset; heal, then pull again
    const std::optional<PageCursor> next = next_cursor(got.from, page->more, page->next, page->cursor);
    Touched changed;
    TRAM_RETURN_IF_ERROR(store_page(got, *page, next, changed));
    p_.notify(changed);
    report.rows_pulled += page->rows.size();
    p.rows_pulled = report.rows_pulled;
    p.bytes_sent = report.bytes_sent;
    p.bytes_received = report.bytes_received;
    if (progress) progress(p);
    if (!next) break;
  }
  reader.stop();  // its page size is the thread's until it has ended
  page_size_ = reader.page_size();
  return {};
}

// One page and its cursor in one transaction. It may skip the fsync (synchronous=NORMAL): WAL
// keeps it atomic with its cursor, and a page lost to a power cut is pulled again. The device's
// own writes keep synchronous=FULL.
Status Puller::store_page(const FetchedPage& got, const wire::PullPage& page, const std::optional<PageCursor>& next,
                          Touched& changed) {
  std::lock_guard lock(p_.mu);
  LocalStore& ls = p_.local;
  auto relaxed = ls.relax_sync();
  if (!relaxed.ok()) return relaxed.status();
  auto tx = ls.begin();
  if (!tx.ok()) return tx.status();
  TRAM_RETURN_IF_ERROR(ls.put_pulled_rows(page.rows, changed));
  if (next && next->snapshot) {
    TRAM_RETURN_IF_ERROR(ls.set_meta("snapshot_cursor", next->at));
  } else if (next || !got.from.snapshot) {
    TRAM_RETURN_IF_ERROR(ls.set_meta("pull_cursor", next ? next->at : std::to_string(page.next)));
    TRAM_RETURN_IF_ERROR(ls.erase_meta("snapshot_cursor"));
  }
  TRAM_RETURN_IF_ERROR(ls.set_meta("server_seq", std::to_string(page.head.server_seq)));
  TRAM_RETURN_IF_ERROR(ls.set_meta("head_seq", std::to_string(p_.heads.known().value_or(page.head.server_seq))));
  return tx->commit();
}

}  // namespace tram::client
