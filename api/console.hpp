// WebConsole: the built web console (web/dist, built by `npm run build` in web/), served by cmdbd
// at / while the API stays under /v1.
//
// The files are read once, when the server starts (Load), into memory: a request can only name
// a file that was enumerated then (no path is ever joined to the directory at request time, so
// no traversal), and the console is a few hundred kilobytes. A path that is not a file of the
// console and does not look like one (no dot in its last segment) answers index.html, so the
// console's own routes (/ci/42, /impact?...) load the application, which reads its URL. Every
// answer carries a strict Content-Security-Policy (scripts and styles from the server only,
// nothing inline, no frames) and X-Content-Type-Options: nosniff. No token is needed: the files
// are the same for everyone and public in the source; the data comes from /v1 with the token the
// user signs in with.
// Thread safety: immutable after Load; Serve may be called from any thread.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "api/http_types.hpp"
#include "cmdb/status.hpp"

namespace cmdb::api {

class WebConsole {
 public:
  // At most this many bytes of files are loaded (the built console is well below).
  static constexpr size_t kMaxBytes = size_t(64) << 20;

  // Loads every regular file under `dir` (not dot files or dot folders, not symbolic links).
  // Fails when `dir` has no index.html or holds more than kMaxBytes.
  static Result<std::shared_ptr<const WebConsole>> Load(const std::string& dir);
  // A console that was not built: every console path answers an HTML page (404) saying how to
  // build it, so a browser never sees a JSON 401.
  static std::shared_ptr<const WebConsole> Missing(const std::string& dir, const std::string& why);

  // Whether a request is the console's: a GET (or HEAD) of any path but /healthz, /metrics,
  // /v1 and /v1/...
  static bool Owns(std::string_view method, std::string_view path);
  // The answer to GET `path` (Owns is true): the file, index.html for a console route, or 404.
  HttpResponse Serve(std::string_view path) const;

  // The Content-Security-Policy every console answer carries.
  static const char* kContentSecurityPolicy;
  // The media type of a file name by its extension (application/octet-stream when unknown).
  static std::string ContentTypeOf(std::string_view name);

  size_t file_count() const { return files_.size(); }
  const std::string& dir() const { return dir_; }
  bool built() const { return missing_.empty(); }

 private:
  WebConsole() = default;
  HttpResponse Answer(int status, std::string content_type, std::string body,
                      bool immutable) const;

  std::string dir_;
  std::map<std::string, std::string, std::less<>> files_;  // relative path -> contents
  std::string missing_;  // why there is no console ("" when built)
};

}  // namespace cmdb::api
