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
