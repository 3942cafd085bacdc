// Evidence files coming down (protocol §14.3): a reviewer's device downloads an official's photo
// in parts into DEST.part, so that a cut on a weak link goes on from the bytes already here, and
// renames it to DEST only once the whole file hashes to its name. Nothing unverified is ever
// left at DEST.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <simdjson.h>

#include "client_impl.hpp"

namespace tram::client {
namespace fs = std::filesystem;
namespace dom = simdjson::dom;

namespace {

Status fail(Errc c, std::string m) { return {c, std::move(m)}; }

// Appends to a file only this user may read (evidence photos are the officials').
Status append_private(const std::string& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return fail(Errc::storage_error, "cannot write " + path);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n <= 0) {
      ::close(fd);
      return fail(Errc::storage_error, "cannot write " + path);
    }
    done += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  return synced ? Status{} : fail(Errc::storage_error, "cannot write " + path);
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Checks the part file against the hash and moves it to dest, or removes it.
Result<uint64_t> finish(const std::string& part, const std::string& dest, const Hash& hash) {
  const std::string bytes = read_all(part);
  std::error_code ec;
  if (blake2b_256(bytes) != hash) {
    fs::remove(part, ec);
    return fail(Errc::bad_signature, "hash_mismatch: the downloaded bytes do not hash to " + to_hex(hash) +
                                         "; nothing was kept (download again)");
  }
  fs::rename(part, dest, ec);
  if (ec) return fail(Errc::storage_error, "cannot write " + dest + ": " + ec.message());
  return static_cast<uint64_t>(bytes.size());
}

}  // namespace

Result<uint64_t> Client::download_attachment(const Hash& hash, const std::string& dest_path) {
  Impl& m = *impl_;
  const std::string hex = to_hex(hash), part = dest_path + ".part";
  std::error_code ec;
  // This device's own copy (its official added the photo): no network, and offline too.
  const std::string own = m.opt.path + ".files/" + hex;
  if (fs::exists(own, ec)) {
    fs::remove(part, ec);
    if (Status st = append_private(part, read_all(own)); !st.ok()) return st;
    auto r = finish(part, dest_path, hash);
    if (r.ok()) return r;  // a damaged own copy falls through to the server
  }
  {
    std::lock_guard lock(m.mu);
    if (!m.server_key) return fail(Errc::not_enrolled, "enrol this device first");
  }
  std::lock_guard sync_lock(m.sync_mu);  // one network user of the session at a time
  m.cancelled = false;
  dom::parser parser;
  dom::element root;
  // What the server holds: 404 when no row this device may read names the hash (its scope).
  uint64_t size = 0;
  bool complete = false;
  int failures = 0;
  for (;;) {
    auto st = m.session->call("GET", "/v1/attachments/" + hex + "/status", "", true);
    if (st.ok() && st->status == 200) {
      if (parser.parse(st->body).get(root) || root["received"].get_uint64().get(size) || root["complete"].get_bool().get(complete)) {
        return fail(Errc::malformed_json, "attachment status: unexpected answer");
      }
      break;
    }
    const Status why = st.ok() ? server_error(*st) : st.status();
    if (why.code() != Errc::unavailable || ++failures >= std::max(1, m.opt.sync.max_attempts)) return why;
    sleep_unless_cancelled(std::min<int64_t>(m.opt.sync.backoff_max_ms, m.opt.sync.backoff_initial_ms << std::min(failures, 10)), m.cancelled);
    if (m.cancelled) return fail(Errc::cancelled, "download cancelled");
  }
  if (!complete) return fail(Errc::not_found, "attachment " + hex + " has not reached the server completely yet (its device uploads it at its next sync)");
  // Resume from what an earlier, cut download left, unless it cannot be a prefix of this file.
  uint64_t offset = fs::exists(part, ec) ? fs::file_size(part, ec) : 0;
  if (ec || offset > size) {
    fs::remove(part, ec);
    offset = 0;
  }
  const size_t max_chunk = std::max<size_t>(4096, m.opt.sync.attachment_chunk_bytes);
  size_t chunk = std::clamp<size_t>(m.opt.sync.attachment_chunk_start, 4096, max_chunk);
  failures = 0;
  for (int requests = 0; offset < size && requests < 100'000; ++requests) {
    if (m.cancelled) return fail(Errc::cancelled, "download cancelled");
    const uint64_t want = std::min<uint64_t>(chunk, size - offset);
    CallOptions how;
    how.resend_on_stale = false;
    auto r = m.session->call("GET", "/v1/attachments/" + hex + "?offset=" + std::to_string(offset) + "&length=" + std::to_string(want), "",
                             true, nullptr, nullptr, &how);
    if (!r.ok() || r->status >= 500 || r->status == 429) {
      // A cut or an overloaded server: smaller parts, and again from the same byte.
      const Status why = r.ok() ? server_error(*r) : r.status();
      if (why.code() != Errc::unavailable || ++failures >= std::max(1, m.opt.sync.max_attempts)) return why;
      chunk = std::max<size_t>(4096, chunk / 2);
      sleep_unless_cancelled(std::min<int64_t>(m.opt.sync.backoff_max_ms, m.opt.sync.backoff_initial_ms << std::min(failures, 10)), m.cancelled);
      continue;
    }
    if (r->status != 200) return server_error(*r);
    if (r->body.size() > want) {
      // A server without parts sends the whole file: take it whole.
      if (r->body.size() != size) return fail(Errc::malformed_json, "attachment " + hex + ": an answer of unexpected length");
      fs::remove(part, ec);
      offset = 0;
    }
    if (r->body.empty()) return fail(Errc::malformed_json, "attachment " + hex + ": an empty part before the end");
    if (Status st = append_private(part, r->body); !st.ok()) return st;
    offset += r->body.size();
    failures = 0;
    chunk = std::min(max_chunk, chunk * 2);
  }
  if (offset < size) return fail(Errc::unavailable, "attachment " + hex + ": too many requests");
  return finish(part, dest_path, hash);
}

}  // namespace tram::client
