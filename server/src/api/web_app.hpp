// The web app's files (web/dist, built by `npm run build` in web/), served at / beside the API so
// the app and the API share one origin (no CORS, and the service worker's scope is the site).
// Files are read once at start-up and kept with a gzip copy made at the highest level: the app
// shell crosses EDGE links once per version, so every byte saved there is seconds.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "service.hpp"
#include "tram/engine/status.hpp"

namespace tram::server::api {

class WebApp {
 public:
  // Reads every regular file under `dir` (not following links out of it). An empty dir: no app.
  static Result<WebApp> load(const std::string& dir);
  WebApp() = default;

  // The file for a GET of `path` ("/" is index.html), or nullopt when there is none: the caller
  // answers 404. Paths with "..", a backslash or a NUL never match.
  std::optional<Response> get(std::string_view path, bool accepts_gzip) const;
  size_t file_count() const { return files_.size(); }

 private:
  struct File {
    std::string body, gzipped, content_type;
  };
  std::map<std::string, File, std::less<>> files_;  // by URL path, "/app.js"
};

}  // namespace tram::server::api
