#include "pages.hpp"

#include <algorithm>

#include "responses.hpp"
#include "tram/engine/wire_writer.hpp"

namespace tram::server::api {
namespace {

// Adds a row to the page with its conflict records. `any_conflicts`: one query per page skips
// the per-row look-up while the replica holds no conflicts.
Status add_row(wire::PageWriter& page, ReadSnapshot& snap, bool any_conflicts, uint64_t version, std::string_view table,
               std::string_view id, const RowImage& image) {
  if (!any_conflicts) {
    page.add(version, table, id, image);
    return {};
  }
  auto conflicts = snap.rows().conflicts_of(table, id);
  if (!conflicts.ok()) return conflicts.status();
  page.add(version, table, id, image, *conflicts);
  return {};
}

// The page's body with the head of the log as the snapshot sees it, signed; that head in
// *signed_head when asked (a snapshot page made ahead is served only while it is current).
Result<std::string> finish(wire::PageWriter& page, ReadSnapshot& snap, const DeviceKey& key, uint64_t next, bool more,
                           const std::optional<std::string>& cursor, LogHead* signed_head = nullptr) {
  auto head = snap.head();
  if (!head.ok()) return head.status();
  if (signed_head) *signed_head = *head;
  return page.finish(next, more, cursor, wire::sign_head(head->server_seq, head->log_hash, key));
}

}  // namespace

Response Pages::pull(const Request& req, const UserRecord& user) {
  uint64_t after = 0;
  size_t limit = ctx_.config.max_page;
  {
    const std::string a = query_param(req.target, "after"), l = query_param(req.target, "limit");
    // 19 digits can exceed 2^63 - 1, which the database would read as negative: refused.
    if (!decimal(a) || !decimal(l) || (!a.empty() && std::stoull(a) > uint64_t{INT64_MAX})) {
      return error(400, "malformed", "after and limit are integers from 0 to 2^63 - 1");
    }
    if (!a.empty()) after = std::stoull(a);
    if (!l.empty()) limit = std::min<size_t>(std::stoull(l), ctx_.config.max_page);
  }
  if (limit == 0) limit = 1;
  const Principal who = user.principal();
  auto snap = ctx_.storage.read_snapshot();  // one snapshot for the page
  if (!snap.ok()) return error(503, "storage", snap.status().message());
  ReadSnapshot& s = **snap;
  auto changed = s.changed_rows(after, limit);
  if (!changed.ok()) return error(503, "storage", changed.status().message());
  const Schema& schema = s.rows().schema();
  const bool any_conflicts = s.rows().has_conflicts().value_or(true);
  wire::PageWriter page;
  uint64_t next = after;
  for (const RowVersion& rv : *changed) {
    next = rv.version;
    const TableDef* t = schema.table(rv.table);
    if (!t) continue;
    auto image = s.rows().row_image(rv.table, rv.row);
    // Never skip past a row we failed to read: the cursor would move beyond it for good.
    if (!image.ok()) return error(503, "storage", image.status().message());
    if (!*image) continue;
    if (!may_read(who, *t, **image)) continue;  // other units' rows never leave the server
    if (Status st = add_row(page, s, any_conflicts, rv.version, rv.table, rv.row, **image); !st.ok()) {
      return error(503, "storage", st.message());
    }
  }
  auto body = finish(page, s, ctx_.server_key, next, changed->size() == limit, std::nullopt);
  if (!body.ok()) return error(503, "storage", body.status().message());
  return ok(std::move(body).value());
}

// GET /v1/snapshot: the rows a fresh device may read as they are now, table by table in id
// order, so that the device's store appends them instead of inserting them at random places
// (the pull's order, by version, scatters them), and the server reads each table in one
// sequential scan. The first page fixes "next", the row version the device then pulls from:
// whatever changes while the snapshot is paged arrives again through the pull.
// Cursor: "<next>.<table index>.<hex of the last id>", opaque to the device.
Response Pages::snapshot(const Request& req, const UserRecord& user) {
  const std::string cursor = query_param(req.target, "cursor"), l = query_param(req.target, "limit");
  size_t limit = ctx_.config.max_page;
  if (!l.empty()) {
    if (!decimal(l, 9)) return error(400, "malformed", "limit is a non-negative integer");
    limit = std::clamp<size_t>(std::stoull(l), 1, ctx_.config.max_page);
  }
  auto at = parse_snapshot_cursor(cursor);
  if (!at) return error(400, "malformed", "cursor is the \"cursor\" of the previous snapshot page");
  const Principal who = user.principal();
  // What a page depends on besides the data: the reader and its scope (each part prefixed with
  // its length, so that no two readers share a key), the cursor and the limit.
  std::string reader = std::to_string(static_cast<int>(who.role)) + (who.all_units ? "*" : "-");
  for (const std::string* part : {&user.id, &who.name}) reader += std::to_string(part->size()) + ":" + *part;
  for (const auto& u : who.units) reader += std::to_string(u.size()) + ":" + u;
  const auto key_of = [&](const std::string& from) { return reader + "@" + from + "#" + std::to_string(limit); };
  std::optional<SnapshotAhead::Page> page = ahead_.take(key_of(cursor));
  if (page) {
    // Made ahead: served only when nothing was logged since, so it is the page this request
    // would have made.
    auto snap = ctx_.storage.read_snapshot();
    auto head = snap.ok() ? (*snap)->head() : Result<LogHead>(snap.status());
    if (!head.ok() || head->server_seq != page->server_seq || head->log_hash != page->log_hash) page.reset();
  }
  if (page) {
    ctx_.metrics.count_snapshot_page_ahead();
  } else {
    auto made = snapshot_page(who, *at, limit);
    if (!made.ok()) return error(503, "storage", made.status().message());
    page = std::move(made).value();
  }
  // The next page, made while this one travels, unless the writer is busy: a page made while
  // change sets are being merged would most likely be out of date before it is asked for.
  if (!page->next_cursor.empty() && ctx_.metrics.writer_waiting() == 0) {
    ahead_.prepare(key_of(page->next_cursor), [this, who, next = *parse_snapshot_cursor(page->next_cursor), limit] {
      return snapshot_page(who, next, limit);
    });
  }
  return ok(std::move(page->body));
}

std::optional<Pages::SnapshotAt> Pages::parse_snapshot_cursor(const std::string& cursor) {
  SnapshotAt at;
  if (cursor.empty()) return at;  // the first page: the snapshot is taken now
  const size_t d1 = cursor.find('.'), d2 = cursor.find('.', d1 == std::string::npos ? 0 : d1 + 1);
  auto number = [](std::string_view x) { return !x.empty() && decimal(x); };
  std::optional<std::string> id;
  if (d1 == std::string::npos || d2 == std::string::npos || !number(std::string_view(cursor).substr(0, d1)) ||
      !number(std::string_view(cursor).substr(d1 + 1, d2 - d1 - 1)) || !(id = from_hex_string(cursor.substr(d2 + 1)))) {
    return std::nullopt;
  }
  at.first = false;
  at.since = std::stoull(cursor.substr(0, d1));
  at.table = std::stoull(cursor.substr(d1 + 1, d2 - d1 - 1));
  at.after = std::move(*id);
  return at;
}

Result<SnapshotAhead::Page> Pages::snapshot_page(const Principal& who, SnapshotAt at, size_t limit) {
  auto snap = ctx_.storage.read_snapshot();
  if (!snap.ok()) return snap.status();
  ReadSnapshot& s = **snap;
  const Schema& schema = s.rows().schema();
  if (at.first) {
    auto v = s.row_version();
    if (!v.ok()) return v.status();
    at.since = *v;
  }
  const bool any_conflicts = s.rows().has_conflicts().value_or(true);
  wire::PageWriter page;
  // A page ends after `limit` rows sent or 8 x limit read: an official's rows are a small part
  // of each table, and a page must not read the whole province to fill itself.
  size_t read = 0;
  while (at.table < schema.tables.size()) {
    const size_t want = std::min(limit - page.rows(), 8 * limit - read);
    if (want == 0) break;
    const TableDef& t = schema.tables[at.table];
    auto n = s.rows().scan_images(t.name, at.after, want, [&](std::string_view id, RowImage&& image) -> Status {
      at.after.assign(id);
      if (!may_read(who, t, image)) return {};  // other units' rows never leave the server
      return add_row(page, s, any_conflicts, at.since, t.name, id, image);
    });
    if (!n.ok()) return n.status();
    read += *n;
    if (*n < want) {  // the table is done
      ++at.table;
      at.after.clear();
    }
  }
  SnapshotAhead::Page out;
  const bool more = at.table < schema.tables.size();
  if (more) out.next_cursor = std::to_string(at.since) + "." + std::to_string(at.table) + "." + to_hex_string(at.after);
  LogHead head;
  auto body = finish(page, s, ctx_.server_key, at.since, more, out.next_cursor, &head);
  if (!body.ok()) return body.status();
  out.body = std::move(body).value();
  out.server_seq = head.server_seq;
  out.log_hash = head.log_hash;
  return out;
}

}  // namespace tram::server::api
