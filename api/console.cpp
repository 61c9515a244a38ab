#include "api/console.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace cmdb::api {
namespace fs = std::filesystem;

const char* WebConsole::kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'";

Result<std::shared_ptr<const WebConsole>> WebConsole::Load(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_regular_file(fs::path(dir) / "index.html", ec))
    return Status::NotFound("no built console in " + dir + " (index.html is missing)");
  std::shared_ptr<WebConsole> c(new WebConsole());
  c->dir_ = dir;
  size_t total = 0;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end;
  if (ec) return Status::Invalid("cannot read the console in " + dir + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return Status::Invalid("cannot read the console in " + dir + ": " + ec.message());
    const fs::path& p = it->path();
    std::string leaf = p.filename().string();
    fs::file_status st = it->symlink_status(ec);
    if (!leaf.empty() && leaf[0] == '.') {
      if (fs::is_directory(st)) it.disable_recursion_pending();
      continue;
    }
    if (!fs::is_regular_file(st)) continue;  // folders are walked; links and devices are not served
    std::ifstream in(p, std::ios::binary);
    std::ostringstream bytes;
    bytes << in.rdbuf();
    total += bytes.str().size();
    if (total > kMaxBytes)
      return Status::Invalid("the console in " + dir + " holds more than " +
                             std::to_string(kMaxBytes) + " bytes");
    c->files_.emplace(fs::relative(p, dir).generic_string(), bytes.str());
  }
  return std::shared_ptr<const WebConsole>(std::move(c));
}

std::shared_ptr<const WebConsole> WebConsole::Missing(const std::string& dir,
                                                      const std::string& why) {
  std::shared_ptr<WebConsole> c(new WebConsole());
  c->dir_ = dir;
  c->missing_ = why.empty() ? "the console is not built" : why;
  return c;
}

bool WebConsole::Owns(std::string_view method, std::string_view path) {
  if (method != "GET" && method != "HEAD") return false;
  if (path == "/healthz" || path == "/metrics" || path == "/v1" || path.rfind("/v1/", 0) == 0)
    return false;
  return !path.empty() && path[0] == '/';
}

std::string WebConsole::ContentTypeOf(std::string_view name) {
  static const std::pair<std::string_view, std::string_view> kTypes[] = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".webmanifest", "application/manifest+json"}};
  for (const auto& [ext, type] : kTypes) {
    if (name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext)
      return std::string(type);
  }
  return "application/octet-stream";
}

HttpResponse WebConsole::Answer(int status, std::string content_type, std::string body,
                                bool immutable) const {
  HttpResponse r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  r.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Cache-Control",
                         immutable ? "public, max-age=31536000, immutable" : "no-cache");
  return r;
}

HttpResponse WebConsole::Serve(std::string_view path) const {
  if (!missing_.empty()) {
    return Answer(404, "text/html; charset=utf-8",
                  "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>cmdb"
                  "</title></head><body><h1>cmdb</h1><p>The web console is not available: " +
                      missing_ +
                      ".</p><p>Build it with <code>scripts/setup.sh</code> (it installs Node.js "
                      "and runs <code>npm ci</code> and <code>npm run build</code> in "
                      "<code>web/</code>), or start cmdbd with <code>--web DIR</code>. The API "
                      "is served under <code>/v1</code>.</p></body></html>\n",
                  false);
  }
  // Segments: none may be empty past the first slash, ".", ".." or hold a backslash or NUL.
  std::string_view rel = path.substr(1);
  bool looks_like_file = false;
  size_t start = 0;
  while (start < rel.size()) {
    size_t slash = rel.find('/', start);
    std::string_view seg = rel.substr(start, slash == std::string_view::npos ? rel.npos : slash - start);
    if (seg == "." || seg == ".." || seg.find('\\') != seg.npos || seg.find('\0') != seg.npos ||
        (!seg.empty() && seg[0] == '.'))
      return Answer(404, "text/plain; charset=utf-8", "not found\n", false);
    looks_like_file = seg.find('.') != seg.npos;
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (!rel.empty()) {
    auto it = files_.find(rel);
    if (it != files_.end())
      return Answer(200, ContentTypeOf(rel), it->second, rel.rfind("assets/", 0) == 0);
    if (looks_like_file || rel.rfind("assets/", 0) == 0)
      return Answer(404, "text/plain; charset=utf-8", "not found\n", false);
  }
  auto index = files_.find(std::string_view("index.html"));
  return Answer(200, "text/html; charset=utf-8", index->second, false);
}

}  // namespace cmdb::api
