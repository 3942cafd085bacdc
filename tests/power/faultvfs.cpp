// libtram_faultvfs.so: a SQLite VFS shim for power-loss and I/O-fault tests (tests/power/README.md).
//
// LD_PRELOADed into a real process (tram-server, an SDK writer), it registers itself as the
// default VFS and passes every call to the "unix" VFS. Two additions:
//
// 1. An undo log per file (`<file>-faultundo`): before a write or truncate it saves the bytes the
//    file held at its last completed xSync (or that the region lay past that size). xSync clears
//    the log. After SIGKILL the page cache still holds every write; `tram-faultvfs-crash` then
//    applies the logs and leaves the disk as a power cut would: nothing written since the last
//    sync (what LevelDB's FaultInjectionTestEnv and SQLite's test6.c do). The log is written with
//    plain write(2) before the real write: a SIGKILL cannot separate them, and that is the only
//    crash a test process can cause.
// 2. Faults on demand: a spec "OP ERRNO [SKIP [COUNT]]" (OP write|sync|truncate, ERRNO EIO|ENOSPC,
//    SKIP calls let through first, then COUNT failures, or all calls without COUNT) from TRAM_FAULTVFS_FAIL, or from the file named by
//    TRAM_FAULTVFS_CTL, re-read whenever it changes (empty: no fault), so a test turns a full
//    disk on and off in a running server.
// TRAM_FAULTVFS_TRACE names a file that gets a line per file opened through the shim.
//
// A failed fsync leaves what it covered lost for good, unless rewritten (Linux marks the pages
// clean: "fsyncgate"). Not covered: files written without SQLite, deletes and directory entries
// (taken as durable), and the -shm file (never durable; the crash tool deletes it).
#include <sqlite3.h>

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace {

sqlite3_vfs* g_real = nullptr;
sqlite3_vfs g_vfs;
std::mutex g_mu;  // guards everything below and orders each save-then-write

// ---- fault specs ---------------------------------------------------------------------------

enum class Op { none, write, sync, truncate };
struct Fault {
  Op op = Op::none;
  int err = 0;
  long skip = 0;   // calls of `op` still let through
  long count = -1;  // failures still to give; -1: every call from then on
};
Fault g_fault;
struct CtlStamp {
  ino_t ino = 0;
  long long mtime_ns = -1, size = -1;
  bool operator==(const CtlStamp&) const = default;
};
CtlStamp g_ctl_stamp;

Fault parse_fault(const std::string& s) {
  Fault f;
  char op[16] = {0}, err[16] = {0};
  long skip = 0, count = 0;
  if (std::sscanf(s.c_str(), "%15s %15s %ld %ld", op, err, &skip, &count) < 2) return f;
  f.count = count > 0 ? count : -1;
  const std::string o(op), e(err);
  f.op = o == "write" ? Op::write : o == "sync" ? Op::sync : o == "truncate" ? Op::truncate : Op::none;
  f.err = e == "ENOSPC" ? ENOSPC : EIO;
  f.skip = skip;
  return f;
}

// Re-reads the control file when it changed (a test replaces it by rename: a new inode).
void refresh_fault() {
  const char* ctl = std::getenv("TRAM_FAULTVFS_CTL");
  if (!ctl) return;
  struct stat st {};
  CtlStamp now;
  if (::stat(ctl, &st) == 0) now = {st.st_ino, st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec, st.st_size};
  if (now == g_ctl_stamp) return;
  g_ctl_stamp = now;
  std::string text;
  if (FILE* f = std::fopen(ctl, "r")) {
    char buf[256];
    const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    text.assign(buf, n);
    std::fclose(f);
  }
  g_fault = parse_fault(text);
}

// True when this call of `op` must fail (errno set as the kernel would).
bool should_fail(Op op) {
  refresh_fault();
  if (g_fault.op != op) return false;
  if (g_fault.skip > 0) {
    --g_fault.skip;
    return false;
  }
  if (g_fault.count == 0) return false;
  if (g_fault.count > 0) --g_fault.count;
  errno = g_fault.err;
  return true;
}

// ---- undo logs -----------------------------------------------------------------------------

// Undo file: "TFU1", u64 synced size, u8 created-since-open-and-never-synced; then records
// u8 kind ('O' old bytes follow, 'Z' region lay past the synced size), u64 offset, u32 length.
struct Tracked {
  std::string path;
  int refs = 0;
  int undo_fd = -1;
  uint64_t synced_size = 0;
  bool created = false;
  std::set<std::pair<int64_t, int>> saved;  // regions saved since the last sync
  std::string records;                      // the log's records since the last sync, as written
  // Records of writes a failed fsync covered and nothing rewrote since: as Linux does after an
  // fsync error, their pages are clean in the cache but the disk kept the old bytes, and a later
  // successful fsync does not write them ("fsyncgate").
  std::vector<std::string> poisoned;
  std::vector<std::string> repaired;  // poisoned, rewritten since: safe after the next good fsync
};
std::map<std::string, std::unique_ptr<Tracked>> g_files;

std::string undo_path(const std::string& p) { return p + "-faultundo"; }

void put(std::string& out, const void* p, size_t n) { out.append(static_cast<const char*>(p), n); }

bool write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

bool open_undo(Tracked& t) {
  if (t.undo_fd >= 0) return true;
  t.undo_fd = ::open(undo_path(t.path).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (t.undo_fd < 0) return false;
  std::string h = "TFU1";
  put(h, &t.synced_size, 8);
  const uint8_t c = t.created ? 1 : 0;
  put(h, &c, 1);
  return write_all(t.undo_fd, h);
}

struct FaultFile {
  sqlite3_file base;
  Tracked* t;       // nullptr: not tracked (temp files)
  sqlite3_file* real;  // the unix VFS's file, allocated right after this struct
};

// Saves what [off, off+len) held at the last sync, once per region between syncs.
int save_region(FaultFile* f, int64_t off, int len) {
  Tracked& t = *f->t;
  if (len <= 0 || !t.saved.insert({off, len}).second) return SQLITE_OK;
  if (!open_undo(t)) return SQLITE_IOERR_WRITE;
  std::string rec;
  const int64_t end = off + len;
  const int64_t synced = static_cast<int64_t>(t.synced_size);
  auto record = [&](char kind, int64_t o, int64_t n, const std::string* bytes) {
    put(rec, &kind, 1);
    const uint64_t uo = static_cast<uint64_t>(o);
    const uint32_t un = static_cast<uint32_t>(n);
    put(rec, &uo, 8);
    put(rec, &un, 4);
    if (bytes) rec += *bytes;
  };
  if (off < synced) {
    const int64_t n = std::min(end, synced) - off;
    std::string old(static_cast<size_t>(n), '\0');
    const int rc = f->real->pMethods->xRead(f->real, old.data(), static_cast<int>(n), off);
    if (rc != SQLITE_OK && rc != SQLITE_IOERR_SHORT_READ) return rc;  // short: zero-filled, as the file after a truncate
    record('O', off, n, &old);
  }
  if (end > synced) {
    const int64_t from = std::max(off, synced);
    record('Z', from, end - from, nullptr);
  }
  t.records += rec;
  return write_all(t.undo_fd, rec) ? SQLITE_OK : SQLITE_IOERR_WRITE;
}

// Splits a run of records into single records.
std::vector<std::string> split_records(const std::string& run) {
  std::vector<std::string> out;
  for (size_t at = 0; at + 13 <= run.size();) {
    uint32_t len = 0;
    std::memcpy(&len, run.data() + at + 9, 4);
    const size_t size = 13 + (run[at] == 'O' ? len : 0);
    out.push_back(run.substr(at, size));
    at += size;
  }
  return out;
}

// A write over a poisoned region makes it dirty again: once the next fsync succeeds, the disk
// has it. Until then the poisoned record (older in the log, so it wins) says what the disk holds.
void unpoison(Tracked& t, int64_t off, int len) {
  for (size_t i = 0; i < t.poisoned.size();) {
    uint64_t o = 0;
    uint32_t n = 0;
    std::memcpy(&o, t.poisoned[i].data() + 1, 8);
    std::memcpy(&n, t.poisoned[i].data() + 9, 4);
    if (static_cast<int64_t>(o) < off + len && off < static_cast<int64_t>(o + n)) {
      t.repaired.push_back(std::move(t.poisoned[i]));
      t.poisoned.erase(t.poisoned.begin() + static_cast<std::ptrdiff_t>(i));
    } else {
      ++i;
    }
  }
}

// ---- io methods ----------------------------------------------------------------------------

FaultFile* ff(sqlite3_file* p) { return reinterpret_cast<FaultFile*>(p); }

int x_close(sqlite3_file* p) {
  FaultFile* f = ff(p);
  const int rc = f->real->pMethods ? f->real->pMethods->xClose(f->real) : SQLITE_OK;
  if (f->t) {
    std::lock_guard lock(g_mu);
    if (--f->t->refs == 0) {
      if (f->t->undo_fd >= 0) ::close(f->t->undo_fd);
      g_files.erase(f->t->path);  // the undo file stays: what was not synced is still at risk
    }
  }
  return rc;
}
int x_read(sqlite3_file* p, void* buf, int n, sqlite3_int64 off) { return ff(p)->real->pMethods->xRead(ff(p)->real, buf, n, off); }
int x_write(sqlite3_file* p, const void* buf, int n, sqlite3_int64 off) {
  FaultFile* f = ff(p);
  std::lock_guard lock(g_mu);
  if (should_fail(Op::write)) return errno == ENOSPC ? SQLITE_FULL : SQLITE_IOERR_WRITE;
  if (f->t) {
    const int rc = save_region(f, off, n);
    if (rc != SQLITE_OK) return rc;
    unpoison(*f->t, off, n);
  }
  return f->real->pMethods->xWrite(f->real, buf, n, off);
}
int x_truncate(sqlite3_file* p, sqlite3_int64 size) {
  FaultFile* f = ff(p);
  std::lock_guard lock(g_mu);
  if (should_fail(Op::truncate)) return SQLITE_IOERR_TRUNCATE;
  if (f->t) {
    sqlite3_int64 cur = 0;
    if (f->real->pMethods->xFileSize(f->real, &cur) == SQLITE_OK && cur > size) {
      const int rc = save_region(f, size, static_cast<int>(std::min<sqlite3_int64>(cur - size, INT32_MAX)));
      if (rc != SQLITE_OK) return rc;
    }
  }
  return f->real->pMethods->xTruncate(f->real, size);
}
int x_sync(sqlite3_file* p, int flags) {
  FaultFile* f = ff(p);
  std::lock_guard lock(g_mu);
  // A failed fsync leaves the data at risk (Linux may even drop the dirty pages): keep the log.
  if (should_fail(Op::sync)) {
    if (f->t) {
      for (std::string& r : split_records(f->t->records)) f->t->poisoned.push_back(std::move(r));
      for (std::string& r : f->t->repaired) f->t->poisoned.push_back(std::move(r));
      f->t->repaired.clear();
      f->t->records.clear();
      f->t->saved.clear();  // what is written from now on must be saved again
    }
    return SQLITE_IOERR_FSYNC;
  }
  const int rc = f->real->pMethods->xSync(f->real, flags);
  if (rc == SQLITE_OK && f->t) {
    Tracked& t = *f->t;
    sqlite3_int64 size = 0;
    if (f->real->pMethods->xFileSize(f->real, &size) != SQLITE_OK) return SQLITE_IOERR_FSYNC;
    t.synced_size = static_cast<uint64_t>(size);
    t.created = false;
    t.saved.clear();
    t.records.clear();
    t.repaired.clear();
    if (t.undo_fd >= 0) ::close(t.undo_fd);
    t.undo_fd = -1;
    ::unlink(undo_path(t.path).c_str());
    if (!t.poisoned.empty()) {
      // The poisoned regions stay at risk: a new log starts with them, their 'Z' (never on the
      // disk) turned into old bytes of zeros, as the file is now longer than they are.
      if (!open_undo(t)) return SQLITE_IOERR_FSYNC;
      std::string rec;
      for (const std::string& r : t.poisoned) {
        if (r[0] == 'O') {
          rec += r;
          continue;
        }
        uint32_t n = 0;
        std::memcpy(&n, r.data() + 9, 4);
        rec += 'O';
        rec.append(r, 1, 12);
        rec.append(n, '\0');
      }
      if (!write_all(t.undo_fd, rec)) return SQLITE_IOERR_FSYNC;
    }
  }
  return rc;
}
int x_file_size(sqlite3_file* p, sqlite3_int64* s) { return ff(p)->real->pMethods->xFileSize(ff(p)->real, s); }
int x_lock(sqlite3_file* p, int l) { return ff(p)->real->pMethods->xLock(ff(p)->real, l); }
int x_unlock(sqlite3_file* p, int l) { return ff(p)->real->pMethods->xUnlock(ff(p)->real, l); }
int x_check_reserved(sqlite3_file* p, int* r) { return ff(p)->real->pMethods->xCheckReservedLock(ff(p)->real, r); }
int x_file_control(sqlite3_file* p, int op, void* arg) { return ff(p)->real->pMethods->xFileControl(ff(p)->real, op, arg); }
int x_sector_size(sqlite3_file* p) { return ff(p)->real->pMethods->xSectorSize(ff(p)->real); }
int x_device_chars(sqlite3_file* p) { return ff(p)->real->pMethods->xDeviceCharacteristics(ff(p)->real); }
int x_shm_map(sqlite3_file* p, int pg, int sz, int ext, void volatile** out) {
  return ff(p)->real->pMethods->xShmMap(ff(p)->real, pg, sz, ext, out);
}
int x_shm_lock(sqlite3_file* p, int off, int n, int flags) { return ff(p)->real->pMethods->xShmLock(ff(p)->real, off, n, flags); }
void x_shm_barrier(sqlite3_file* p) { ff(p)->real->pMethods->xShmBarrier(ff(p)->real); }
int x_shm_unmap(sqlite3_file* p, int del) { return ff(p)->real->pMethods->xShmUnmap(ff(p)->real, del); }
int x_fetch(sqlite3_file* p, sqlite3_int64 off, int n, void** out) { return ff(p)->real->pMethods->xFetch(ff(p)->real, off, n, out); }
int x_unfetch(sqlite3_file* p, sqlite3_int64 off, void* ptr) { return ff(p)->real->pMethods->xUnfetch(ff(p)->real, off, ptr); }

// Version 3, as the unix VFS: WAL needs the shm methods, and xFetch only maps pages for reading
// (SQLite never writes through a mapping), so every write still passes x_write.
const sqlite3_io_methods g_methods = {3,           x_close,       x_read,          x_write,      x_truncate,       x_sync,
                                      x_file_size, x_lock,        x_unlock,        x_check_reserved, x_file_control, x_sector_size,
                                      x_device_chars, x_shm_map,  x_shm_lock,      x_shm_barrier, x_shm_unmap,     x_fetch,
                                      x_unfetch};

// ---- vfs methods ---------------------------------------------------------------------------

int v_open(sqlite3_vfs*, sqlite3_filename name, sqlite3_file* p, int flags, int* out_flags) {
  FaultFile* f = ff(p);
  f->t = nullptr;
  f->real = reinterpret_cast<sqlite3_file*>(f + 1);
  std::memset(f->real, 0, static_cast<size_t>(g_real->szOsFile));
  const bool durable_kind = flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL | SQLITE_OPEN_MAIN_JOURNAL | SQLITE_OPEN_SUPER_JOURNAL);
  bool existed = true;
  if (name && durable_kind) existed = ::access(name, F_OK) == 0;
  const int rc = g_real->xOpen(g_real, name, f->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    p->pMethods = nullptr;
    return rc;
  }
  p->pMethods = &g_methods;
  if (!name || !durable_kind) return SQLITE_OK;
  std::lock_guard lock(g_mu);
  auto& slot = g_files[name];
  if (!slot) {
    slot = std::make_unique<Tracked>();
    slot->path = name;
    // An undo log left by an earlier process still describes what is not yet synced.
    if (FILE* u = std::fopen(undo_path(name).c_str(), "rb")) {
      char magic[4];
      uint8_t created = 0;
      if (std::fread(magic, 1, 4, u) == 4 && std::fread(&slot->synced_size, 8, 1, u) == 1 && std::fread(&created, 1, 1, u) == 1) {
        slot->created = created != 0;
        slot->undo_fd = ::open(undo_path(name).c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
      }
      std::fclose(u);
    }
    if (slot->undo_fd < 0) {
      sqlite3_int64 size = 0;
      (void)f->real->pMethods->xFileSize(f->real, &size);
      slot->synced_size = static_cast<uint64_t>(size);
      slot->created = !existed;
    }
  }
  ++slot->refs;
  f->t = slot.get();
  // TRAM_FAULTVFS_TRACE: one line per tracked open, so a test knows the shim is in the process.
  if (const char* trace = std::getenv("TRAM_FAULTVFS_TRACE")) {
    if (FILE* t = std::fopen(trace, "a")) {
      std::fprintf(t, "open %d %s\n", static_cast<int>(::getpid()), name);
      std::fclose(t);
    }
  }
  return SQLITE_OK;
}
int v_delete(sqlite3_vfs*, const char* name, int sync_dir) {
  {
    std::lock_guard lock(g_mu);
    if (!g_files.count(name)) ::unlink(undo_path(name).c_str());  // deleted: nothing to undo
  }
  return g_real->xDelete(g_real, name, sync_dir);
}
int v_access(sqlite3_vfs*, const char* n, int f, int* r) { return g_real->xAccess(g_real, n, f, r); }
int v_full_pathname(sqlite3_vfs*, const char* n, int sz, char* out) { return g_real->xFullPathname(g_real, n, sz, out); }
void* v_dl_open(sqlite3_vfs*, const char* n) { return g_real->xDlOpen(g_real, n); }
void v_dl_error(sqlite3_vfs*, int n, char* m) { g_real->xDlError(g_real, n, m); }
void (*v_dl_sym(sqlite3_vfs*, void* h, const char* s))(void) { return g_real->xDlSym(g_real, h, s); }
void v_dl_close(sqlite3_vfs*, void* h) { g_real->xDlClose(g_real, h); }
int v_randomness(sqlite3_vfs*, int n, char* out) { return g_real->xRandomness(g_real, n, out); }
int v_sleep(sqlite3_vfs*, int us) { return g_real->xSleep(g_real, us); }
int v_current_time(sqlite3_vfs*, double* t) { return g_real->xCurrentTime(g_real, t); }
int v_get_last_error(sqlite3_vfs*, int n, char* m) { return g_real->xGetLastError(g_real, n, m); }
int v_current_time_int64(sqlite3_vfs*, sqlite3_int64* t) { return g_real->xCurrentTimeInt64(g_real, t); }

__attribute__((constructor)) void register_faultvfs() {
  g_real = sqlite3_vfs_find("unix");
  if (!g_real) return;
  if (const char* spec = std::getenv("TRAM_FAULTVFS_FAIL")) g_fault = parse_fault(spec);
  g_vfs = sqlite3_vfs{};
  g_vfs.iVersion = 2;
  g_vfs.szOsFile = static_cast<int>(sizeof(FaultFile)) + g_real->szOsFile;
  g_vfs.mxPathname = g_real->mxPathname;
  g_vfs.zName = "tram-faultvfs";
  g_vfs.xOpen = v_open;
  g_vfs.xDelete = v_delete;
  g_vfs.xAccess = v_access;
  g_vfs.xFullPathname = v_full_pathname;
  g_vfs.xDlOpen = v_dl_open;
  g_vfs.xDlError = v_dl_error;
  g_vfs.xDlSym = v_dl_sym;
  g_vfs.xDlClose = v_dl_close;
  g_vfs.xRandomness = v_randomness;
  g_vfs.xSleep = v_sleep;
  g_vfs.xCurrentTime = v_current_time;
  g_vfs.xGetLastError = v_get_last_error;
  g_vfs.xCurrentTimeInt64 = v_current_time_int64;
  sqlite3_vfs_register(&g_vfs, 1);
}

}  // namespace
