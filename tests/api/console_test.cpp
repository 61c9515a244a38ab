// The web console served at / (api/console.hpp) and GET /v1/search: files without a token, the
// Content-Security-Policy, content types, the SPA fallback, no path traversal, the API kept
// under /v1, a page (never JSON) when the console is not built; search answers ranked hits and
// sees every write at once.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "api/api_client.hpp"

using namespace cmdb;
using api::Json;
using cmdb::testing::Client;

namespace {

namespace fs = std::filesystem;

std::string HeaderOf(const api::HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

api::HttpResponse Get(api::Api& a, const std::string& path, const std::string& method = "GET") {
  api::HttpRequest req;
  req.method = method;
  req.path = path;
  return a.Handle(req);
}

// A built console in a fresh folder: index.html, a hashed asset, a dot file and a link out.
struct ConsoleDir {
  fs::path dir = fs::temp_directory_path() / ("cmdb-console-test-" + std::to_string(::getpid()));
  ConsoleDir() {
    fs::remove_all(dir);
    fs::create_directories(dir / "assets");
    fs::create_directories(dir / ".git");
    std::ofstream(dir / "index.html") << "<!doctype html><title>cmdb</title>";
    std::ofstream(dir / "assets" / "index-abc123.js") << "console.log(1)";
    std::ofstream(dir / "assets" / "index-abc123.css") << "body{}";
    std::ofstream(dir / "favicon.svg") << "<svg/>";
    std::ofstream(dir / ".env") << "SECRET=1";
    std::ofstream(dir / ".git" / "config") << "[core]";
    fs::create_symlink("/etc/hostname", dir / "host.txt");
  }
  ~ConsoleDir() { fs::remove_all(dir); }
};

}  // namespace

TEST_CASE("console: files at / without a token, with a strict CSP and their content types") {
  ConsoleDir d;
  auto console = api::WebConsole::Load(d.dir.string());
  REQUIRE(console.ok());
  CHECK((*console)->file_count() == 4);  // no dot files, no link
  Client c;
  api::ApiOptions options;
  options.console = *console;
  api::Api web(*c.t.db, c.auth, c.engine, c.services.Refs(), options);

  api::HttpResponse index = Get(web, "/");
  CHECK(index.status == 200);
  CHECK(index.content_type == "text/html; charset=utf-8");
  CHECK(index.body == "<!doctype html><title>cmdb</title>");
  CHECK(HeaderOf(index, "Content-Security-Policy") ==
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'");
  CHECK(HeaderOf(index, "X-Content-Type-Options") == "nosniff");
  CHECK(HeaderOf(index, "Cache-Control") == "no-cache");
  CHECK(web.Admit([] { api::HttpRequest r; r.method = "GET"; r.path = "/ci/42"; return r; }(), 0) == std::nullopt);

  api::HttpResponse js = Get(web, "/assets/index-abc123.js");
  CHECK(js.status == 200);
  CHECK(js.content_type == "text/javascript; charset=utf-8");
  CHECK(HeaderOf(js, "Cache-Control") == "public, max-age=31536000, immutable");
  CHECK(Get(web, "/assets/index-abc123.css").content_type == "text/css; charset=utf-8");
  CHECK(Get(web, "/favicon.svg").content_type == "image/svg+xml");
  CHECK(Get(web, "/assets/index-abc123.js", "HEAD").status == 200);

  // Console routes load the application.
  for (const char* route : {"/ci/42", "/impact", "/query/", "/browse/VirtualMachine", "/index.html"}) {
    INFO(route);
    api::HttpResponse r = Get(web, route);
    CHECK(r.status == 200);
    CHECK(r.body == "<!doctype html><title>cmdb</title>");
  }
  // Missing files, traversal, dot files and links: 404, never a file outside the console.
  for (const char* bad : {"/assets/nope.js", "/nope.png", "/../etc/passwd", "/assets/../../etc/passwd",
                          "/..", "/./index.html", "/.env", "/.git/config", "/host.txt",
                          "/assets\\..\\index.html", "/assets/"}) {
    INFO(bad);
    api::HttpResponse r = Get(web, bad);
    CHECK(r.status == 404);
    CHECK(r.content_type == "text/plain; charset=utf-8");
    CHECK(r.body == "not found\n");
  }
  // The API stays under /v1: JSON, with its 401 without a token.
  for (const char* path : {"/v1/cis", "/v1", "/v1/nope"}) {
    INFO(path);
    api::HttpResponse r = Get(web, path);
    CHECK(r.status == 401);
    CHECK(r.content_type == "application/json");
  }
  CHECK(Get(web, "/healthz").content_type == "application/json");
  CHECK(Get(web, "/", "POST").status == 401);  // only GET and HEAD are the console's
}

TEST_CASE("console: not built, / answers a page saying how to build it, never JSON") {
  ConsoleDir d;
  fs::remove(d.dir / "index.html");
  auto loaded = api::WebConsole::Load(d.dir.string());
  REQUIRE(!loaded.ok());
  CHECK(loaded.status().message() == "no built console in " + d.dir.string() + " (index.html is missing)");
  Client c;
  api::ApiOptions options;
  options.console = api::WebConsole::Missing(d.dir.string(), loaded.status().message());
  api::Api web(*c.t.db, c.auth, c.engine, c.services.Refs(), options);
  api::HttpResponse r = Get(web, "/");
  CHECK(r.status == 404);
  CHECK(r.content_type == "text/html; charset=utf-8");
  CHECK(r.body.find("The web console is not available: no built console in ") != std::string::npos);
  CHECK(r.body.find("scripts/setup.sh") != std::string::npos);
  CHECK(!HeaderOf(r, "Content-Security-Policy").empty());
}

TEST_CASE("search: ranked hits over names, keys, host names and IPs, current after every write") {
  Client c;
  auto [s, j] = c.As("reader", "GET", "/v1/search?q=SHOP-web&limit=3");
  REQUIRE(s == 200);
  REQUIRE(j["items"].size() == 3);
  CHECK(j["items"][0]["name"] == "shop-web");
  CHECK(j["items"][0]["class"] == "Application");
  CHECK(j["items"][0]["match"] == "exact");
  CHECK(j["items"][0]["field"] == "name");
  CHECK(j["items"][0]["attribute"] == "name");
  for (size_t i = 1; i < 3; ++i) CHECK(j["items"][i]["match"] == "prefix");

  auto [s2, ip] = c.Call("GET", "/v1/search?q=10.10.0.11");
  REQUIRE(s2 == 200);
  REQUIRE(!ip["items"].empty());
  CHECK(ip["items"][0]["name"] == "fra1-esx01");
  CHECK(ip["items"][0]["field"] == "ip");
  CHECK(ip["items"][0]["attribute"] == "ip_address");
  CHECK(ip["items"][0]["value"] == "10.10.0.11");
  CHECK(ip["items"][0]["match"] == "exact");

  // A rename is found at once, under its new name only.
  CiId id = c.IdOf("Application", "shop-web");
  auto [ps, pj] = c.Call("PATCH", "/v1/cis/" + std::to_string(id), R"({"name": "storefront-web"})");
  REQUIRE(ps == 200);
  auto [s3, renamed] = c.Call("GET", "/v1/search?q=storefront");
  REQUIRE(renamed["items"].size() == 1);
  CHECK(renamed["items"][0]["id"] == id);
  CHECK(renamed["items"][0]["match"] == "prefix");
  auto [s4, old] = c.Call("GET", "/v1/search?q=shop-web&limit=100");
  for (const Json& hit : old["items"]) CHECK(hit["id"] != id);
  // Retired: gone.
  REQUIRE(c.Call("DELETE", "/v1/cis/" + std::to_string(id)).first == 200);
  CHECK(c.Call("GET", "/v1/search?q=storefront").second["items"].empty());

  auto [e1, missing] = c.Call("GET", "/v1/search");
  CHECK(e1 == 400);
  CHECK(missing["error"]["message"] == "parameter 'q' is required: the text to search for");
  auto [e2, zero] = c.Call("GET", "/v1/search?q=a&limit=0");
  CHECK(e2 == 400);
  CHECK(zero["error"]["message"] == "invalid limit '0': expected a positive integer");
  auto [e3, huge] = c.Call("GET", "/v1/search?q=" + std::string(300, 'a'));
  CHECK(e3 == 400);
  CHECK(huge["error"]["message"] == "parameter 'q' is 300 bytes long; at most 256 are searched");
  CHECK(c.Call("GET", "/v1/search?q=a&limit=5000").second["items"].size() <= 100);
}
