#include "transport.hpp"

namespace tram::server::transport {

bool same_principal(const Principal& a, const Principal& b) {
  return a.role == b.role && a.units == b.units && a.all_units == b.all_units;
}

// Accept-Encoding (RFC 9110 §12.5.3): a list of codings with optional ";q=" weights. gzip is
// used when "gzip" (or its alias "x-gzip"), or failing that "*", has a weight above 0.
bool accepts_gzip(std::string_view header) {
  std::optional<bool> gzip, star;
  while (!header.empty()) {
    const size_t comma = header.find(',');
    std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
    auto trim = [](std::string_view v) {
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
      return v;
    };
    const size_t semi = item.find(';');
    const std::string_view coding = trim(item.substr(0, semi));
    bool positive = true;
    for (std::string_view params = semi == std::string_view::npos ? std::string_view() : item.substr(semi + 1); !params.empty();) {
      const size_t next = params.find(';');
      const std::string_view param = trim(params.substr(0, next));
      params = next == std::string_view::npos ? std::string_view() : params.substr(next + 1);
      if (param.size() >= 2 && (param[0] == 'q' || param[0] == 'Q') && param[1] == '=') {
        // q=0, 0.0, 0.00, 0.000 mean "not acceptable"; any other digit makes it positive.
        const std::string_view q = trim(param.substr(2));
        positive = q.find_first_of("123456789") != std::string_view::npos;
      }
    }
    if (beast::iequals(coding, "gzip") || beast::iequals(coding, "x-gzip")) gzip = positive;
    else if (coding == "*") star = positive;
  }
  return gzip ? *gzip : star.value_or(false);
}

// At most `max` bytes of `s` for a log line, bytes outside printable ASCII percent-encoded.
std::string log_safe(std::string_view s, size_t max) {
  std::string out;
  for (unsigned char c : s.substr(0, max)) {
    if (c >= 0x20 && c < 0x7f) {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

// The value of the query parameter "token" (exactly that name), for WebSocket clients that
// cannot set headers.
std::string query_token(std::string_view target) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  for (std::string_view rest = target.substr(q + 1); !rest.empty();) {
    const size_t amp = rest.find('&');
    const std::string_view kv = rest.substr(0, amp);
    if (kv.starts_with("token=")) return std::string(kv.substr(6));
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
  }
  return {};
}

std::string without_query_param(std::string_view target, std::string_view name) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return std::string(target);
  std::string out(target.substr(0, q));
  char sep = '?';
  for (std::string_view rest = target.substr(q + 1); !rest.empty();) {
    const size_t amp = rest.find('&');
    const std::string_view kv = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (kv.empty() || kv == name || (kv.starts_with(name) && kv.size() > name.size() && kv[name.size()] == '=')) continue;
    out.push_back(sep);
    out.append(kv);
    sep = '&';
  }
  return out;
}

http::response<http::string_body> make_response(unsigned version, bool keep_alive, const Response& r,
                                                const std::string& request_id) {
  http::response<http::string_body> res{static_cast<http::status>(r.status), version};
  res.set(http::field::server, "tram-server");
  res.set(http::field::content_type, r.content_type);
  res.set("X-Request-Id", request_id);
  // Every 429 and 503 says when to come back, whoever made it.
  const int retry_after = r.retry_after_s > 0 ? r.retry_after_s : (r.status == 429 || r.status == 503 ? kRetryAfterS : 0);
  if (retry_after > 0) res.set(http::field::retry_after, std::to_string(retry_after));
  for (const auto& [name, value] : r.headers) res.set(name, value);
  res.keep_alive(keep_alive);
  res.body() = r.body;
  res.prepare_payload();
  return res;
}

Response limit_error(int status, std::string_view code, std::string_view message) {
  return error_response(status, code, message);
}

}  // namespace tram::server::transport

namespace tram::server::transport {

void ConnectionTable::unlist(uint64_t id, Entry& e) {
  if (!e.sheddable) return;
  const std::pair key{e.since, id};
  sheddable_.erase(key);
  auto& q = e.device.empty() ? sheddable_by_ip_[e.ip] : sheddable_by_device_[e.device];
  q.erase(key);
  if (q.empty()) (e.device.empty() ? sheddable_by_ip_.erase(e.ip) : sheddable_by_device_.erase(e.device));
}

void ConnectionTable::list(uint64_t id, Entry& e) {
  if (!e.sheddable) return;
  const std::pair key{e.since, id};
  sheddable_.insert(key);
  (e.device.empty() ? sheddable_by_ip_[e.ip] : sheddable_by_device_[e.device]).insert(key);
}

std::optional<std::shared_ptr<Conn>> ConnectionTable::shed_first(const Queue& q) {
  if (q.empty()) return std::nullopt;
  const uint64_t id = q.begin()->second;  // copied: unlist() erases from q
  Entry& e = entries_.at(id);
  unlist(id, e);
  e.shed = true;
  --total_;
  auto& count = e.device.empty() ? strangers_[e.ip] : devices_[e.device];
  if (--count == 0) (e.device.empty() ? strangers_.erase(e.ip) : devices_.erase(e.device));
  return e.conn.lock();  // null before attach(): attach() then closes it
}

ConnectionTable::Admission ConnectionTable::admit(const std::string& ip) {
  std::lock_guard lock(mu_);
  Admission a;
  auto make_room = [&](const Queue* q, const char* reason, int refusal) {
    auto victim = q ? shed_first(*q) : std::nullopt;
    if (!victim) return a.refusal = refusal, false;
    a.shed.push_back(std::move(*victim));
    a.reasons.push_back(reason);
    return true;
  };
  if (auto it = strangers_.find(ip); it != strangers_.end() && it->second >= max_per_ip_) {
    auto q = sheddable_by_ip_.find(ip);
    if (!make_room(q == sheddable_by_ip_.end() ? nullptr : &q->second, "address", 429)) return a;
  }
  if (total_ >= max_total_ && !make_room(&sheddable_, "full", 503)) return a;
  a.id = next_id_++;
  Entry& e = entries_[a.id];
  e.ip = ip;
  e.since = Clock::now();
  list(a.id, e);
  ++strangers_[ip];
  ++total_;
  return a;
}

bool ConnectionTable::attach(uint64_t id, std::weak_ptr<Conn> conn) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.shed) return false;
  it->second.conn = std::move(conn);
  return true;
}

ConnectionTable::Turn ConnectionTable::working(uint64_t id, const std::string& device) {
  std::lock_guard lock(mu_);
  Turn t;
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.shed) return t.live = false, t;
  Entry& e = it->second;
  unlist(id, e);
  if (!device.empty() && e.device != device) {
    // Counted against the device from now (a connection rarely changes devices; if it does,
    // the newer session's device).
    auto& from = e.device.empty() ? strangers_[e.ip] : devices_[e.device];
    if (--from == 0) (e.device.empty() ? strangers_.erase(e.ip) : devices_.erase(e.device));
    e.device = device;
    if (++devices_[device] > max_per_device_) {
      auto q = sheddable_by_device_.find(device);
      auto victim = q == sheddable_by_device_.end() ? std::nullopt : shed_first(q->second);
      if (victim) {
        t.shed = std::move(*victim);
      } else {
        t.refusal = 429;  // the entry stays counted until release(): the answer closes it
      }
    }
  }
  // A stranger's request may still be shed (by its admission time); a device's may not.
  e.sheddable = e.device.empty();
  list(id, e);
  return t;
}

bool ConnectionTable::waiting(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.shed) return false;
  unlist(id, it->second);
  it->second.sheddable = true;
  it->second.since = Clock::now();
  list(id, it->second);
  return true;
}

bool ConnectionTable::subscribed(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.shed) return false;
  unlist(id, it->second);
  it->second.sheddable = false;
  return true;
}

std::shared_ptr<Conn> ConnectionTable::shed_oldest() {
  std::lock_guard lock(mu_);
  auto victim = shed_first(sheddable_);
  return victim ? *victim : nullptr;
}

void ConnectionTable::release(uint64_t id) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  if (!e.shed) {
    unlist(id, e);
    --total_;
    auto& count = e.device.empty() ? strangers_[e.ip] : devices_[e.device];
    if (--count == 0) (e.device.empty() ? strangers_.erase(e.ip) : devices_.erase(e.device));
  }
  entries_.erase(it);
}

}  // namespace tram::server::transport
