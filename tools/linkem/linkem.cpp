// linkem: a user-space TCP relay that behaves like a weak radio link (issue 16). The kernel here
// has no netem, so tests put this between tram-field and tram-server:
//
//   linkem --listen 127.0.0.1:0 --to 127.0.0.1:PORT --shared --down-kbps 64 --up-kbps 32 --rtt-ms 600
//
// What it models (README.md says what it does not): a bottleneck of a given rate in each direction,
// shared by all connections (--shared, as a radio link is: fair round-robin between them) or one
// per connection; propagation delay (half the RTT each way, plus up to --jitter-ms, delivered in
// order) and an RTT before a new connection carries data (the handshake); loss as stalls (the link
// carries and delivers nothing for --stall-ms, starting in a slot of that length with probability
// --stall-prob); cuts (every open connection reset on both sides) every --cut-every-s seconds or
// after a random number of link bytes in --cut-bytes MIN:MAX, at most --max-cuts times; a fixed
// --seed. --cut-mode silent resets only the client side and leaves the server side open and mute
// until the server closes it. One thread, poll(), plain POSIX sockets; loopback only; every loop
// is bounded.
//
// Prints "linkem listening on 127.0.0.1:PORT" on stdout; writes its totals as JSON to --stats
// every second and at exit (SIGTERM, SIGINT).
// One file on purpose (~550 lines): a single poll() loop whose shaping, delay lines and cuts share
// one clock and one connection table; it builds in seconds with no dependency.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

volatile sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

[[noreturn]] void usage(const char* why, int code = 2) {
  std::fprintf(code == 0 ? stdout : stderr,
               "linkem: %s\n"
               "Usage: linkem --listen 127.0.0.1:PORT --to 127.0.0.1:PORT [--down-kbps K] [--up-kbps K] [--shared]\n"
               "              [--rtt-ms MS] [--jitter-ms MS] [--stall-prob P --stall-ms MS]\n"
               "              [--cut-every-s S | --cut-bytes MIN:MAX] [--max-cuts N] [--cut-mode reset|silent]\n"
               "              [--buffer-kb KB] [--seed S] [--stats FILE] [--max-connections N]\n"
               "Rates in kbit/s (1000 bit/s), 0 = unlimited. Up is client -> server. Loopback only.\n",
               why);
  std::exit(code);
}

struct Options {
  sockaddr_in listen{}, to{};
  double down_kbps = 0, up_kbps = 0;
  bool shared = false;
  int64_t rtt_ms = 0, jitter_ms = 0;
  double stall_prob = 0;
  int64_t stall_ms = 1000;
  int64_t cut_every_s = 0;
  uint64_t cut_min = 0, cut_max = 0;
  uint64_t max_cuts = UINT64_MAX;
  bool silent = false;
  size_t buffer = 32 * 1024;
  uint64_t seed = 1;
  std::string stats;
  size_t max_connections = 256;
};

sockaddr_in parse_addr(const std::string& s) {
  const size_t colon = s.rfind(':');
  if (colon == std::string::npos) usage("an address is HOST:PORT");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  if (::inet_pton(AF_INET, s.substr(0, colon).c_str(), &a.sin_addr) != 1) usage("an address must be a dotted IPv4 address");
  if ((ntohl(a.sin_addr.s_addr) >> 24) != 127) usage("linkem relays on loopback only (127.x.x.x)");
  const long port = std::strtol(s.substr(colon + 1).c_str(), nullptr, 10);
  if (port < 0 || port > 65535) usage("bad port");
  a.sin_port = htons(static_cast<uint16_t>(port));
  return a;
}

Options parse(int argc, char** argv) {
  Options o;
  bool have_listen = false, have_to = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(("missing value for " + a).c_str());
      return argv[++i];
    };
    if (a == "--listen") o.listen = parse_addr(value()), have_listen = true;
    else if (a == "--to") o.to = parse_addr(value()), have_to = true;
    else if (a == "--down-kbps") o.down_kbps = std::atof(value().c_str());
    else if (a == "--up-kbps") o.up_kbps = std::atof(value().c_str());
    else if (a == "--shared") o.shared = true;
    else if (a == "--rtt-ms") o.rtt_ms = std::atoll(value().c_str());
    else if (a == "--jitter-ms") o.jitter_ms = std::atoll(value().c_str());
    else if (a == "--stall-prob") o.stall_prob = std::atof(value().c_str());
    else if (a == "--stall-ms") o.stall_ms = std::max<int64_t>(1, std::atoll(value().c_str()));
    else if (a == "--cut-every-s") o.cut_every_s = std::atoll(value().c_str());
    else if (a == "--cut-bytes") {
      const std::string v = value();
      const size_t c = v.find(':');
      if (c == std::string::npos) usage("--cut-bytes MIN:MAX");
      o.cut_min = std::strtoull(v.substr(0, c).c_str(), nullptr, 10);
      o.cut_max = std::strtoull(v.substr(c + 1).c_str(), nullptr, 10);
      if (o.cut_min == 0 || o.cut_max < o.cut_min) usage("--cut-bytes needs 0 < MIN <= MAX");
    } else if (a == "--cut-mode") {
      const std::string v = value();
      if (v != "reset" && v != "silent") usage("--cut-mode reset|silent");
      o.silent = v == "silent";
    } else if (a == "--max-cuts") o.max_cuts = std::strtoull(value().c_str(), nullptr, 10);
    else if (a == "--buffer-kb") o.buffer = std::max<size_t>(1, std::strtoull(value().c_str(), nullptr, 10)) * 1024;
    else if (a == "--seed") o.seed = std::strtoull(value().c_str(), nullptr, 10);
    else if (a == "--stats") o.stats = value();
    else if (a == "--max-connections") o.max_connections = std::max<size_t>(1, std::strtoull(value().c_str(), nullptr, 10));
    else if (a == "--help" || a == "-h") usage("a weak-radio-link relay (tools/linkem/README.md)", 0);
    else usage(("unknown option " + a).c_str());
  }
  if (!have_listen || !have_to) usage("--listen and --to are required");
  if (o.cut_every_s && o.cut_min) usage("--cut-every-s and --cut-bytes exclude each other");
  if (o.stall_prob < 0 || o.stall_prob > 1) usage("--stall-prob is between 0 and 1");
  return o;
}

// A token bucket: `rate` bytes per second, at most `cap` saved up. Rate 0 = unlimited.
struct Bucket {
  double rate = 0, tokens = 0, cap = 0;
  int64_t last = 0;
  void init(double kbps, int64_t t) {
    rate = kbps * 1000.0 / 8.0;
    cap = std::max(1024.0, rate * 0.05);
    tokens = 0;
    last = t;
  }
  void refill(int64_t t, bool frozen) {
    if (!frozen && rate > 0) tokens = std::min(cap, tokens + rate * static_cast<double>(t - last) / 1e6);
    last = t;
  }
  size_t available(size_t want) const { return rate <= 0 ? want : std::min(want, static_cast<size_t>(tokens)); }
  void take(size_t n) {
    if (rate > 0) tokens -= static_cast<double>(n);
  }
};

// One direction of one connection: bytes read from `src` wait in `queued` (the radio's buffer),
// cross the bottleneck into `flight` (each piece due after the propagation delay, in order), then
// go out to `dst` from `out`.
struct Dir {
  int src = -1, dst = -1;
  std::string queued;
  size_t queued_off = 0;
  struct Piece {
    int64_t due;
    std::string bytes;
  };
  std::deque<Piece> flight;
  std::string out;
  size_t out_off = 0;
  int64_t last_due = 0;
  bool src_eof = false, dst_shut = false;
  Bucket own;

  size_t waiting() const { return queued.size() - queued_off; }
  size_t held() const {
    size_t n = waiting() + out.size() - out_off;
    for (const auto& p : flight) n += p.bytes.size();
    return n;
  }
  bool drained() const { return src_eof && held() == 0; }
};

struct Conn {
  uint64_t id = 0;
  int client = -1, server = -1;
  Dir up, down;  // up: client -> server
  int64_t ready = 0;
  bool dead = false;
  int64_t silent_since = 0;  // --cut-mode silent: the client was reset at this time, the server side is left hanging
};

struct Stats {
  uint64_t bytes_up = 0, bytes_down = 0, connections = 0, cuts = 0, connections_cut = 0, bytes_lost_in_cuts = 0;
  uint64_t stalls = 0, stall_ms = 0, refused = 0, max_open = 0;
  uint64_t silent_closed_by_server = 0, silent_expired = 0;  // --cut-mode silent: how the server's side ended
  double silent_seconds_max = 0;                               // the longest the server kept a dead connection
};

class Relay {
 public:
  explicit Relay(Options o)
      : o_(std::move(o)), rng_(o_.seed), stall_rng_(o_.seed ^ 0x5354414c4cULL), cut_rng_(o_.seed ^ 0x435554ULL) {}

  int run() {
    lfd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    // Small kernel buffers, so the sender feels the link instead of filling megabytes of loopback buffer.
    small_buffers(lfd_);
    if (::bind(lfd_, reinterpret_cast<sockaddr*>(&o_.listen), sizeof o_.listen) != 0 || ::listen(lfd_, 64) != 0) {
      std::fprintf(stderr, "linkem: cannot listen: %s\n", std::strerror(errno));
      return 1;
    }
    sockaddr_in bound{};
    socklen_t len = sizeof bound;
    ::getsockname(lfd_, reinterpret_cast<sockaddr*>(&bound), &len);
    char host[INET_ADDRSTRLEN];
    ::inet_ntop(AF_INET, &bound.sin_addr, host, sizeof host);
    std::printf("linkem listening on %s:%u\n", host, ntohs(bound.sin_port));
    std::fflush(stdout);

    start_ = now_us();
    up_.init(o_.up_kbps, start_);
    down_.init(o_.down_kbps, start_);
    next_slot_ = start_;
    next_cut_ = o_.cut_every_s ? start_ + o_.cut_every_s * 1'000'000 : INT64_MAX;
    pick_cut_bytes();
    int64_t next_stats = start_;
    while (!g_stop) {
      const int64_t t = now_us();
      tick(t);
      if (!o_.stats.empty() && t >= next_stats) {
        write_stats(t);
        next_stats = t + 1'000'000;
      }
      wait(t);
    }
    for (auto& c : conns_) close_conn(*c, false);
    if (!o_.stats.empty()) write_stats(now_us());
    ::close(lfd_);
    return 0;
  }

 private:
  static void small_buffers(int fd) {
    const int n = 16 * 1024;
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &n, sizeof n);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &n, sizeof n);
  }

  void pick_cut_bytes() {
    if (o_.cut_min == 0) return;
    std::uniform_int_distribution<uint64_t> d(o_.cut_min, o_.cut_max);
    cut_after_ = d(cut_rng_);
    since_cut_ = 0;
  }

  bool stalled(int64_t t) const { return t < stall_until_; }

  void tick(int64_t t) {
    // Stalls: the time is cut in slots of stall-ms; each starts a stall with probability stall-prob.
    if (o_.stall_prob > 0) {
      for (int k = 0; k < 1000 && t >= next_slot_; ++k) {
        if (std::bernoulli_distribution(o_.stall_prob)(stall_rng_)) {
          stall_until_ = next_slot_ + o_.stall_ms * 1000;
          stats_.stalls++;
          stats_.stall_ms += static_cast<uint64_t>(o_.stall_ms);
        }
        next_slot_ += o_.stall_ms * 1000;
      }
    }
    const bool frozen = stalled(t);
    up_.refill(t, frozen);
    down_.refill(t, frozen);
    for (auto& c : conns_) {
      c->up.own.refill(t, frozen);
      c->down.own.refill(t, frozen);
    }
    if (t >= next_cut_) {
      if (stats_.cuts < o_.max_cuts) cut_all();
      next_cut_ += o_.cut_every_s * 1'000'000;
    }
    if (!frozen) {
      transmit(t, true);
      transmit(t, false);
      for (auto& c : conns_) {
        deliver(*c, c->up, t);
        deliver(*c, c->down, t);
      }
    }
    if (o_.cut_min && since_cut_ >= cut_after_ && stats_.cuts < o_.max_cuts) {
      cut_all();
      pick_cut_bytes();
    }
    reap();
  }

  // Moves bytes across the bottleneck, round-robin between connections in 512-byte pieces.
  void transmit(int64_t t, bool upward) {
    constexpr size_t kQuantum = 512;
    const size_t n = conns_.size();
    if (n == 0) return;
    size_t& rr = upward ? rr_up_ : rr_down_;
    for (int round = 0; round < 4096; ++round) {
      bool moved = false;
      for (size_t k = 0; k < n; ++k) {
        Conn& c = *conns_[(rr + k) % n];
        if (c.dead || c.silent_since || t < c.ready) continue;
        Dir& d = upward ? c.up : c.down;
        Bucket& b = o_.shared ? (upward ? up_ : down_) : d.own;
        const size_t want = std::min(kQuantum, d.waiting());
        if (want == 0) continue;
        const size_t can = b.available(want);
        if (can < want) continue;  // whole pieces only
        b.take(can);
        int64_t due = t + o_.rtt_ms * 500;
        if (o_.jitter_ms > 0) due += std::uniform_int_distribution<int64_t>(0, o_.jitter_ms * 1000)(rng_);
        due = std::max(due, d.last_due);  // in order
        d.last_due = due;
        d.flight.push_back({due, d.queued.substr(d.queued_off, can)});
        d.queued_off += can;
        if (d.queued_off == d.queued.size()) d.queued.clear(), d.queued_off = 0;
        (upward ? stats_.bytes_up : stats_.bytes_down) += can;
        since_cut_ += can;
        moved = true;
      }
      rr = (rr + 1) % n;
      if (!moved) break;
    }
  }

  void deliver(Conn& c, Dir& d, int64_t t) {
    if (c.dead || c.silent_since) return;
    for (size_t k = 0; k < 100'000 && !d.flight.empty() && d.flight.front().due <= t; ++k) {
      d.out.append(d.flight.front().bytes);
      d.flight.pop_front();
    }
    while (d.out_off < d.out.size()) {
      const ssize_t w = ::send(d.dst, d.out.data() + d.out_off, d.out.size() - d.out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (w < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
        close_conn(c, true);
        return;
      }
      d.out_off += static_cast<size_t>(w);
    }
    if (d.out_off == d.out.size()) d.out.clear(), d.out_off = 0;
    if (d.drained() && !d.dst_shut) {
      ::shutdown(d.dst, SHUT_WR);
      d.dst_shut = true;
    }
    if (c.up.dst_shut && c.down.dst_shut) close_conn(c, false);
  }

  void read_from(Conn& c, Dir& d) {
    if (d.src_eof) return;
    char buf[16384];
    for (int k = 0; k < 8 && d.held() < o_.buffer; ++k) {
      const size_t room = std::min(sizeof buf, o_.buffer - d.held());
      const ssize_t n = ::recv(d.src, buf, room, MSG_DONTWAIT);
      if (n > 0) {
        d.queued.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0) {
        d.src_eof = true;
      } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        close_conn(c, true);  // a reset on one side resets the other
      }
      return;
    }
  }

  // A connection cut silently: reads and drops what the server sends, until it closes its side
  // (or 600 s pass: every loop and every connection is bounded).
  void swallow(Conn& c, int64_t t) {
    char buf[16384];
    for (int k = 0; k < 8; ++k) {
      const ssize_t n = ::recv(c.server, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) break;
      stats_.silent_closed_by_server++;
      stats_.silent_seconds_max = std::max(stats_.silent_seconds_max, static_cast<double>(t - c.silent_since) / 1e6);
      close_conn(c, false);
      return;
    }
    if (t - c.silent_since > 600'000'000) {
      stats_.silent_expired++;
      close_conn(c, true);
    }
  }

  void accept_new(int64_t t) {
    for (int k = 0; k < 16; ++k) {
      const int fd = ::accept4(lfd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;
      if (conns_.size() >= o_.max_connections) {
        ::close(fd);
        stats_.refused++;
        continue;
      }
      const int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      small_buffers(s);
      if (::connect(s, reinterpret_cast<sockaddr*>(&o_.to), sizeof o_.to) != 0) {  // loopback: immediate
        ::close(s);
        ::close(fd);
        stats_.refused++;
        continue;
      }
      ::fcntl(s, F_SETFL, ::fcntl(s, F_GETFL) | O_NONBLOCK);
      small_buffers(fd);
      const int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      ::setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      auto c = std::make_unique<Conn>();
      c->id = ++stats_.connections;
      c->client = fd;
      c->server = s;
      c->up.src = fd, c->up.dst = s;
      c->down.src = s, c->down.dst = fd;
      c->up.own.init(o_.up_kbps, t);
      c->down.own.init(o_.down_kbps, t);
      c->ready = t + o_.rtt_ms * 1000;  // the handshake takes a round trip
      conns_.push_back(std::move(c));
      stats_.max_open = std::max<uint64_t>(stats_.max_open, conns_.size());
    }
  }

  // Resets both sides (SO_LINGER 0: the peers see a reset, as a phone does when its bearer drops).
  void close_conn(Conn& c, bool reset) {
    if (c.dead) return;
    c.dead = true;
    for (int fd : {c.client, c.server}) {
      if (fd < 0) continue;
      if (reset) {
        linger l{1, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      }
      ::close(fd);
    }
  }

  void cut_all() {
    stats_.cuts++;
    for (auto& c : conns_) {
      if (c->dead || c->silent_since) continue;
      stats_.connections_cut++;
      stats_.bytes_lost_in_cuts += c->up.held() + c->down.held();
      if (!o_.silent) {
        close_conn(*c, true);
        continue;
      }
      // The phone sees its bearer drop (a reset); the server sees nothing: its side stays open,
      // and whatever it sends is swallowed, until it gives up on the connection itself.
      linger l{1, 0};
      ::setsockopt(c->client, SOL_SOCKET, SO_LINGER, &l, sizeof l);
      ::close(c->client);
      c->client = -1;
      c->silent_since = now_us();
      c->up = Dir{};
      c->down = Dir{};
    }
    std::fprintf(stderr, "linkem: cut %llu at %.1f s\n", static_cast<unsigned long long>(stats_.cuts), static_cast<double>(now_us() - start_) / 1e6);
  }

  void reap() {
    conns_.erase(std::remove_if(conns_.begin(), conns_.end(), [](const auto& c) { return c->dead; }), conns_.end());
  }

  // Sleeps in poll() until a socket is ready or the next piece is due (at most 20 ms).
  void wait(int64_t t) {
    std::vector<pollfd> fds;
    fds.push_back({lfd_, POLLIN, 0});
    int64_t next = t + 20'000;
    bool waiting_tokens = false;
    for (auto& c : conns_) {
      if (c->silent_since) {
        fds.push_back({c->server, POLLIN, 0});
        continue;
      }
      if (c->ready > t) {  // until the handshake's round trip is over, bytes wait in the kernel
        next = std::min(next, c->ready);
        continue;
      }
      for (Dir* d : {&c->up, &c->down}) {
        if (!d->src_eof && d->held() < o_.buffer) fds.push_back({d->src, POLLIN, 0});
        if (d->out_off < d->out.size()) fds.push_back({d->dst, POLLOUT, 0});
        if (!d->flight.empty()) next = std::min(next, d->flight.front().due);
        if (d->waiting()) waiting_tokens = true;
      }
    }
    if (waiting_tokens) next = std::min(next, t + 2'000);
    if (stalled(t)) next = std::min(next, stall_until_);
    if (o_.stall_prob > 0) next = std::min(next, next_slot_);
    next = std::min(next, next_cut_);
    const int ms = static_cast<int>(std::clamp<int64_t>((next - t + 999) / 1000, 0, 20));
    if (::poll(fds.data(), fds.size(), ms) <= 0) return;
    const int64_t t2 = now_us();
    if (fds[0].revents & POLLIN) accept_new(t2);
    for (auto& c : conns_) {
      if (c->silent_since) {
        swallow(*c, t2);
        continue;
      }
      if (c->ready > t2) continue;
      if (!c->dead) read_from(*c, c->up);
      if (!c->dead) read_from(*c, c->down);
    }
  }

  void write_stats(int64_t t) {
    const std::string tmp = o_.stats + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "w");
    if (!f) return;
    std::fprintf(f,
                 "{\"elapsed_s\": %.3f, \"bytes_up\": %llu, \"bytes_down\": %llu, \"connections\": %llu, \"open\": %zu, "
                 "\"max_open\": %llu, \"cuts\": %llu, \"connections_cut\": %llu, \"bytes_lost_in_cuts\": %llu, \"stalls\": %llu, "
                 "\"stall_ms\": %llu, \"refused\": %llu, \"silent_closed_by_server\": %llu, \"silent_expired\": %llu, "
                 "\"silent_seconds_max\": %.1f, \"seed\": %llu, \"shared\": %s, \"up_kbps\": %g, \"down_kbps\": %g, \"rtt_ms\": %lld}\n",
                 static_cast<double>(t - start_) / 1e6, static_cast<unsigned long long>(stats_.bytes_up),
                 static_cast<unsigned long long>(stats_.bytes_down), static_cast<unsigned long long>(stats_.connections), conns_.size(),
                 static_cast<unsigned long long>(stats_.max_open), static_cast<unsigned long long>(stats_.cuts),
                 static_cast<unsigned long long>(stats_.connections_cut), static_cast<unsigned long long>(stats_.bytes_lost_in_cuts),
                 static_cast<unsigned long long>(stats_.stalls), static_cast<unsigned long long>(stats_.stall_ms),
                 static_cast<unsigned long long>(stats_.refused), static_cast<unsigned long long>(stats_.silent_closed_by_server),
                 static_cast<unsigned long long>(stats_.silent_expired), stats_.silent_seconds_max, static_cast<unsigned long long>(o_.seed), o_.shared ? "true" : "false",
                 o_.up_kbps, o_.down_kbps, static_cast<long long>(o_.rtt_ms));
    std::fclose(f);
    std::rename(tmp.c_str(), o_.stats.c_str());
  }

  Options o_;
  // Three streams, so that the stall schedule (slot by slot) and the cut offsets depend on the
  // seed alone, not on how much jitter was drawn before them.
  std::mt19937_64 rng_, stall_rng_, cut_rng_;
  int lfd_ = -1;
  std::vector<std::unique_ptr<Conn>> conns_;
  Bucket up_, down_;
  size_t rr_up_ = 0, rr_down_ = 0;
  int64_t start_ = 0, next_slot_ = 0, stall_until_ = 0, next_cut_ = INT64_MAX;
  uint64_t cut_after_ = 0, since_cut_ = 0;
  Stats stats_;
};

}  // namespace

int main(int argc, char** argv) {
  Options o = parse(argc, argv);
  struct sigaction sa{};
  sa.sa_handler = on_signal;
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  return Relay(std::move(o)).run();
}
