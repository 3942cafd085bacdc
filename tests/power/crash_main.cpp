// tram-faultvfs-crash: turns a directory left by a SIGKILLed process that ran under
// libtram_faultvfs.so into the disk a power cut would have left (tests/power/README.md).
//
// Usage: tram-faultvfs-crash [--seed N] DIR
//   Without --seed every write since each file's last completed sync is dropped. With --seed a
//   random subset of them is dropped instead (a disk that reorders writes between syncs), which
//   SQLite must survive just as well. Every -shm file is deleted: it is never durable.
// Prints "files N records R restored-bytes B dropped-files D".
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

struct Record {
  char kind;
  uint64_t off;
  uint32_t len;
  std::string bytes;  // 'O': the old bytes
};

bool read_exact(FILE* f, void* p, size_t n) { return std::fread(p, 1, n, f) == n; }

}  // namespace

int main(int argc, char** argv) {
  std::optional<uint64_t> seed;
  std::string dir;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--seed" && i + 1 < argc) seed = std::strtoull(argv[++i], nullptr, 10);
    else dir = a;
  }
  if (dir.empty()) {
    std::fprintf(stderr, "usage: tram-faultvfs-crash [--seed N] DIR\n");
    return 2;
  }
  std::mt19937_64 rng(seed.value_or(0));
  auto coin = [&] { return seed && (rng() & 1); };
  size_t files = 0, records = 0, dropped_files = 0;
  uint64_t restored = 0;
  std::vector<fs::path> undo_logs, shm;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.ends_with("-faultundo")) undo_logs.push_back(e.path());
    else if (name.ends_with("-shm")) shm.push_back(e.path());
  }
  for (const fs::path& u : undo_logs) {
    std::string target = u.string();
    target.resize(target.size() - std::strlen("-faultundo"));
    FILE* in = std::fopen(u.c_str(), "rb");
    if (!in) return 1;
    char magic[4];
    uint64_t synced = 0;
    uint8_t created = 0;
    const bool whole = read_exact(in, magic, 4) && read_exact(in, &synced, 8) && read_exact(in, &created, 1);
    if (!whole) {
      // Killed between creating the log and writing its header: the write it was for had not
      // begun (a record always goes before its write), so there is nothing to undo.
      std::fclose(in);
      fs::remove(u);
      continue;
    }
    if (std::memcmp(magic, "TFU1", 4) != 0) {
      std::fprintf(stderr, "%s: not an undo log\n", u.c_str());
      return 1;
    }
    std::vector<Record> recs;
    for (;;) {
      Record r{};
      if (!read_exact(in, &r.kind, 1) || !read_exact(in, &r.off, 8) || !read_exact(in, &r.len, 4)) break;
      if (r.kind == 'O') {
        r.bytes.resize(r.len);
        if (!read_exact(in, r.bytes.data(), r.len)) break;  // torn tail: that write never happened
      }
      recs.push_back(std::move(r));
    }
    std::fclose(in);
    ++files;
    // Created and never synced: a power cut may lose the file itself (its directory entry too).
    if (created && !coin()) {
      fs::remove(target);
      fs::remove(u);
      ++dropped_files;
      continue;
    }
    const int fd = ::open(target.c_str(), O_RDWR);
    if (fd < 0) {
      fs::remove(u);
      continue;
    }
    // Newest first, so the oldest saved bytes of a region (those at the last sync) win.
    static const std::string zeros(1 << 16, '\0');
    for (auto it = recs.rbegin(); it != recs.rend(); ++it) {
      if (coin()) continue;  // this write reached the platter after all
      ++records;
      restored += it->len;
      if (it->kind == 'O') {
        if (::pwrite(fd, it->bytes.data(), it->len, static_cast<off_t>(it->off)) != static_cast<ssize_t>(it->len)) return 1;
      } else {
        for (uint64_t done = 0; done < it->len;) {
          const size_t n = static_cast<size_t>(std::min<uint64_t>(zeros.size(), it->len - done));
          if (::pwrite(fd, zeros.data(), n, static_cast<off_t>(it->off + done)) != static_cast<ssize_t>(n)) return 1;
          done += n;
        }
      }
    }
    // The size at the last sync; a reordering disk may have grown the file already.
    if (!coin() && ::ftruncate(fd, static_cast<off_t>(synced)) != 0) return 1;
    ::close(fd);
    fs::remove(u);
  }
  for (const fs::path& s : shm) fs::remove(s);
  std::printf("files %zu records %zu restored-bytes %llu dropped-files %zu\n", files, records,
              static_cast<unsigned long long>(restored), dropped_files);
  return 0;
}
