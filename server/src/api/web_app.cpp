#include "web_app.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "tram/engine/gzip.hpp"

namespace tram::server::api {
namespace fs = std::filesystem;

namespace {

std::string content_type_of(const fs::path& p) {
  static const std::map<std::string, std::string> types = {
      {".html", "text/html; charset=utf-8"},       {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},  {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},               {".webmanifest", "application/manifest+json"},
      {".svg", "image/svg+xml"},                   {".png", "image/png"},
      {".ico", "image/x-icon"},                    {".txt", "text/plain; charset=utf-8"},
      {".woff2", "font/woff2"},                    {".jpg", "image/jpeg"}};
  auto it = types.find(p.extension().string());
  return it == types.end() ? "application/octet-stream" : it->second;
}

bool compressible(const std::string& type) {
  return type.starts_with("text/") || type.starts_with("application/") || type == "image/svg+xml";
}

}  // namespace

Result<WebApp> WebApp::load(const std::string& dir) {
  WebApp app;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status(Errc::not_found, "--web " + dir + ": not a directory (build it: make web)");
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    std::ifstream in(it->path(), std::ios::binary);
    std::ostringstream buf;
    buf << in.rdbuf();
    if (!in) return Status(Errc::storage_error, "cannot read " + it->path().string());
    File f;
    f.body = buf.str();
    f.content_type = content_type_of(it->path());
    if (compressible(f.content_type) && f.body.size() > 512) f.gzipped = gzip_compress(f.body, 9);
    app.files_["/" + fs::relative(it->path(), dir).generic_string()] = std::move(f);
  }
  if (ec) return Status(Errc::storage_error, "--web " + dir + ": " + ec.message());
  if (!app.files_.contains("/index.html")) return Status(Errc::not_found, "--web " + dir + ": no index.html (build it: make web)");
  return app;
}

std::optional<Response> WebApp::get(std::string_view path, bool accepts_gzip) const {
  if (path == "/") path = "/index.html";
  if (path.find("..") != std::string_view::npos || path.find('\\') != std::string_view::npos ||
      path.find('\0') != std::string_view::npos) {
    return std::nullopt;
  }
  auto it = files_.find(path);
  if (it == files_.end()) return std::nullopt;
  const File& f = it->second;
  Response r;
  r.content_type = f.content_type;
  const bool gz = accepts_gzip && !f.gzipped.empty();
  r.body = gz ? f.gzipped : f.body;
  if (gz) r.content_encoding = "gzip";
  // File names carry no version, so the browser asks again each time (a 200 of a few hundred
  // bytes for index.html, sw.js); offline, the service worker answers from its cache instead.
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  if (f.content_type.starts_with("text/html")) {
    // The app runs only its own code: an injected script (a record's text, say) cannot run.
    r.headers.emplace_back("Content-Security-Policy",
                           "default-src 'self'; img-src 'self' blob: data:; connect-src 'self'; style-src 'self' "
                           "'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'");
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
  }
  return r;
}

}  // namespace tram::server::api
