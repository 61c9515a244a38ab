// Integration tests against the real cmdbd: HTTP end to end, restart, SIGKILL during a bulk
// load, readers during a bulk load, flags.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "integration/server_process.hpp"

using cmdb::testing::ServerProcess;
using cmdb::testing::TempDir;
using Json = nlohmann::json;

namespace {

Json Get(httplib::Client& c, const std::string& path, int expect = 200) {
  auto r = c.Get(path.c_str());
  REQUIRE(r);
  INFO(path << " -> " << r->body);
  CHECK(r->status == expect);
  return Json::parse(r->body);
}

Json Send(httplib::Client& c, const std::string& method, const std::string& path, const std::string& body,
          int expect, httplib::Headers headers = {}) {
  httplib::Result r = method == "POST"    ? c.Post(path.c_str(), headers, body, "application/json")
                      : method == "PATCH" ? c.Patch(path.c_str(), headers, body, "application/json")
                                          : c.Delete(path.c_str(), headers, body, "application/json");
  REQUIRE(r);
  INFO(method << " " << path << " -> " << r->body);
  CHECK(r->status == expect);
  return Json::parse(r->body);
}

// Sends only the head of a request announcing `length` body bytes and reads the answer the
// server gives before the body (a 413 is decided from Content-Length). Sending the body too would
// race the server's close: the client's write can meet a reset that discards the answer.
std::string HeadOnlyAnswer(int port, const std::string& token, const std::string& path,
                           size_t length) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  std::string head = "POST " + path + " HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer " +
                     token + "\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(length) + "\r\n\r\n";
  REQUIRE(::send(fd, head.data(), head.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(head.size()));
  std::string answer;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) answer.append(buf, n);
  ::close(fd);
  return answer;
}

// N VirtualMachines named <prefix>-i, each (but the first) DEPENDS_ON the previous one.
std::string BulkBody(const std::string& prefix, int n) {
  std::string out;
  out.reserve(n * 160);
  for (int i = 0; i < n; ++i) {
    out += R"({"op":"ci","ref":"v)" + std::to_string(i) + R"(","class":"VirtualMachine","attributes":{"name":")" +
           prefix + "-" + std::to_string(i) + R"(","cpu_count":4,"os":"linux"}})" "\n";
    if (i > 0)
      out += R"({"op":"rel","type":"DEPENDS_ON","from":{"ref":"v)" + std::to_string(i) + R"("},"to":{"ref":"v)" +
             std::to_string(i - 1) + R"("}})" "\n";
  }
  return out;
}

// `text` (a log, a listing, a token) with what varies from run to run normalised, so that tests
// can assert it whole: times (<time>), request durations (<ms>) and tokens (<token>).
std::string Normalised(std::string text) {
  static const std::regex kTime(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)");
  static const std::regex kDuration(R"( \d+(\.\d+)?ms\b)");
  static const std::regex kToken(R"(cmdb_[A-Za-z0-9_-]{43})");
  text = std::regex_replace(text, kTime, "<time>");
  text = std::regex_replace(text, kDuration, " <ms>");
  return std::regex_replace(text, kToken, "<token>");
}

// The lines of `text`, without their '\n'.
std::vector<std::string> LinesOf(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The request lines of a server log ("<time> GET /healthz 200 <ms>"), normalised.
std::vector<std::string> RequestLog(const std::string& log) {
  std::vector<std::string> out;
  for (const std::string& line : LinesOf(Normalised(log)))
    if (line.compare(0, 7, "<time> ") == 0) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("a new server loads the demo estate and serves the API over HTTP") {
  std::string dir = TempDir("demo");
  ServerProcess server(dir + "/cmdb.sqlite");
  auto c = server.Client();
  Json h = Get(c, "/healthz");
  CHECK(h["cis"] == 144);
  CHECK(h["relationships"] == 306);
  Json created = Send(c, "POST", "/v1/cis", R"({"class": "VirtualMachine", "attributes": {"name": "it-vm"}})", 201);
  int64_t id = created["id"];
  auto r = c.Get(("/v1/cis/" + std::to_string(id)).c_str());
  REQUIRE(r);
  CHECK(r->get_header_value("ETag") == "\"1\"");
  Send(c, "PATCH", "/v1/cis/" + std::to_string(id), R"({"os": "linux"})", 412, {{"If-Match", "5"}});
  Send(c, "PATCH", "/v1/cis/" + std::to_string(id), R"({"os": "linux"})", 200, {{"If-Match", "1"}});
  // 413 for an ordinary body over the limit (1 MiB by default), before a byte of it is read.
  std::string big = HeadOnlyAnswer(server.port(), server.token(), "/v1/cis", 2 << 20);
  INFO(big);
  CHECK(big.rfind("HTTP/1.1 413 ", 0) == 0);
  CHECK(big.find("\"code\":\"PayloadTooLarge\"") != std::string::npos);
  // Streamed bulk.
  Json bulk = Send(c, "POST", "/v1/bulk", BulkBody("it", 500), 200);
  CHECK(bulk["cis"]["created"] == 500);
  CHECK(bulk["relationships"]["created"] == 499);
  server.Stop();
  std::string log = server.Log();
  const std::string ci = "/v1/cis/" + std::to_string(id);
  CHECK(RequestLog(log) == std::vector<std::string>{
                               "<time> GET /healthz 200 <ms>", "<time> POST /v1/cis 201 <ms>",
                               "<time> GET " + ci + " 200 <ms>", "<time> PATCH " + ci + " 412 <ms>",
                               "<time> PATCH " + ci + " 200 <ms>", "<time> POST /v1/cis 413 refused",
                               "<time> POST /v1/bulk 200 <ms>"});
}

TEST_CASE("cmdbd serves its built-in OpenAPI file without a token; 405 names the allowed methods") {
  std::string dir = TempDir("openapi");
  ServerProcess server(dir + "/cmdb.sqlite", {"--no-demo"});
  httplib::Client anon("127.0.0.1", server.port());
  auto r = anon.Get("/v1/openapi.yaml");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(r->get_header_value("Content-Type") == "application/yaml");
  std::ifstream in(std::string(CMDB_SOURCE_DIR) + "/docs/openapi.yaml", std::ios::binary);
  std::string file((std::istreambuf_iterator<char>(in)), {});
  CHECK(r->body == file);
  auto c = server.Client();
  auto put = c.Put("/v1/cis", "{}", "application/json");
  REQUIRE(put);
  CHECK(put->status == 405);
  CHECK(put->get_header_value("Allow") == "GET, HEAD, POST");
}

TEST_CASE("restart: everything written is there again, history included") {
  std::string dir = TempDir("restart");
  int64_t id;
  {
    ServerProcess server(dir + "/cmdb.sqlite", {"--no-demo"});
    auto c = server.Client();
    id = Send(c, "POST", "/v1/cis", R"({"class": "VirtualMachine", "attributes": {"name": "r1", "cpu_count": 1}})", 201)["id"];
    Send(c, "PATCH", "/v1/cis/" + std::to_string(id), R"({"cpu_count": 2})", 200);
    Send(c, "POST", "/v1/schema", R"({"ddl": "CREATE NODE TYPE Printer CONTROLLED { ppm INT };"})", 200);
    // Process records: a change, a window, a baseline.
    Send(c, "POST", "/v1/changes", Json{{"title", "resize r1"}, {"affected", {id}}}.dump(), 201);
    Send(c, "POST", "/v1/windows", R"({"name": "freeze", "kind": "blackout", "start": "2027-01-01", "end": "2027-01-02", "scope": {"all": true}})", 201);
    Send(c, "POST", "/v1/baselines", R"({"name": "before", "scope": {"all": true}})", 201);
    std::string head = Get(c, "/v1/transactions/verify")["head"];
    CHECK(server.Stop() == 0);
    std::vector<std::string> lines = LinesOf(server.Log());
    REQUIRE(lines.size() >= 3);
    CHECK(std::vector<std::string>(lines.end() - 3, lines.end()) ==
          std::vector<std::string>{"cmdbd: signal 15, shutting down",
                                   "cmdbd: chain head at stop " + head +
                                       " (keep it outside the database; check with GET "
                                       "/v1/transactions/verify?head=...)",
                                   "cmdbd: stopped"});
  }
  ServerProcess server(dir + "/cmdb.sqlite", {"--no-demo"});
  auto c = server.Client();
  Json ci = Get(c, "/v1/cis/" + std::to_string(id));
  CHECK(ci["attributes"]["cpu_count"] == 2);
  CHECK(ci["version"] == 2);
  Json hist = Get(c, "/v1/cis/" + std::to_string(id) + "/history");
  REQUIRE(hist["versions"].size() == 2);
  CHECK(hist["versions"][0]["attributes"]["cpu_count"] == 1);
  Json schema = Get(c, "/v1/schema");
  CHECK(schema["version"] == 2);
  Send(c, "POST", "/v1/cis", R"({"class": "Printer", "attributes": {"name": "p1", "ppm": 20}})", 201);
  // The Printer class is CONTROLLED (kept by the schema): the write above was flagged.
  CHECK(Get(c, "/v1/unauthorized-changes")["transactions"].size() == 1);
  Json change = Get(c, "/v1/changes/1");
  CHECK(change["title"] == "resize r1");
  CHECK(change["affected"] == Json::array({id}));
  CHECK(Get(c, "/v1/windows")["windows"].size() == 1);
  Json baseline = Get(c, "/v1/baselines/before");
  CHECK(baseline["cis"] == 1);
  Json diff = Get(c, "/v1/baselines/before/diff?include_new=true");
  CHECK(diff["summary"]["cis"]["added"] == 1);  // p1 is new in scope
  Json q = Send(c, "POST", "/v1/query", R"({"query": "USE BASELINE 'before' MATCH (v) RETURN v.cpu_count"})", 200);
  CHECK(q["rows"][0][0] == 2);
  CHECK(Get(c, "/v1/transactions/verify")["ok"] == true);
  Json next = Send(c, "POST", "/v1/cis", R"({"class": "VirtualMachine", "attributes": {"name": "r2"}})", 201);
  CHECK(next["id"].get<int64_t>() > id + 1);  // ids are never reused
}

TEST_CASE("SIGKILL during a bulk load: after restart the whole batch or none of it") {
  std::string dir = TempDir("sigkill");
  const int n = 60000;
  std::string body = BulkBody("k", n);
  std::set<int64_t> outcomes;
  for (int attempt = 0; attempt < 3; ++attempt) {
    int64_t before;
    {
      ServerProcess server(dir + "/cmdb.sqlite", {"--no-demo"});
      auto c = server.Client();
      before = Get(c, "/healthz")["cis"];
      std::thread loader([&] {
        auto lc = server.Client();
        lc.Post("/v1/bulk", body, "application/x-ndjson");  // fails when killed; that is the point
      });
      // Kill at different moments: while the body streams, while committing, after.
      std::this_thread::sleep_for(std::chrono::milliseconds(150 + attempt * 400));
      server.Kill();
      loader.join();
    }
    ServerProcess server(dir + "/cmdb.sqlite", {"--no-demo"});
    auto c = server.Client();
    Json h = Get(c, "/healthz");
    int64_t after = h["cis"];
    INFO("attempt " << attempt << ": before " << before << ", after " << after);
    CHECK((after == before || after == before + n));
    int64_t rels = h["relationships"];
    CHECK(rels == after / n * (n - 1));  // relationships only with their batch
    outcomes.insert(after - before);
    // Upserts make a repeated batch idempotent: load it to completion now.
    Send(c, "POST", "/v1/bulk", body, 200);
    CHECK(Get(c, "/healthz")["cis"] == n);
    server.Stop();
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  CHECK(!outcomes.empty());
}

TEST_CASE("HTTP readers during a bulk load see the state before or after it, never between") {
  std::string dir = TempDir("readers");
  ServerProcess server(dir + "/cmdb.sqlite", {"--no-demo"});
  const int n = 20000;
  std::string body = BulkBody("c", n);
  std::atomic<bool> done{false};
  std::atomic<int> bad{0}, reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 2; ++t) {
    readers.emplace_back([&] {
      auto c = server.Client();
      while (!done) {
        auto r = c.Get("/healthz");
        if (!r) continue;
        Json h = Json::parse(r->body);
        int64_t cis = h["cis"], rels = h["relationships"];
        if (!((cis == 0 && rels == 0) || (cis == n && rels == n - 1))) ++bad;
        ++reads;
      }
    });
  }
  auto c = server.Client();
  auto r = c.Post("/v1/bulk", body, "application/x-ndjson");
  REQUIRE(r);
  CHECK(r->status == 200);
  done = true;
  for (auto& t : readers) t.join();
  CHECK(bad == 0);
  CHECK(reads > 0);
}

TEST_CASE("cmdbd --help and bad flags") {
  std::string help_out = TempDir("help") + "/out.txt";
  int rc = std::system((std::string(CMDBD_PATH) + " --help > " + help_out).c_str());
  CHECK(WEXITSTATUS(rc) == 0);
  std::ifstream in(help_out);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  // The options it lists, each on a line of its own ("  --db FILE  ...").
  std::vector<std::string> options;
  for (const std::string& line : LinesOf(text)) {
    if (line.compare(0, 4, "  --") == 0) options.push_back(line.substr(2, line.find(' ', 2) - 2));
  }
  CHECK(options == std::vector<std::string>{
                        "--db", "--store", "--listen", "--schema", "--demo", "--no-demo", "--open",
                        "--threads", "--max-body", "--max-bulk", "--max-import", "--sync",
                        "--port-file", "--tls-cert", "--tls-key", "--key-file", "--new-key",
                        "--max-query-rows", "--max-query-bytes", "--max-queries",
                        "--header-timeout", "--max-connections", "--max-connections-per-client",
                        "--min-body-rate", "--import-config", "--web", "--no-web", "--admin-token-file",
                        "--insecure-local", "--quiet", "--log-format", "--webhook-allow",
                        "--webhook-max-attempts", "--webhook-retry-base", "--webhook-retry-cap",
                        "--webhook-timeout", "--help"});
  rc = std::system((std::string(CMDBD_PATH) + " --bogus 2>/dev/null").c_str());
  CHECK(WEXITSTATUS(rc) == 2);
}

TEST_CASE("first start prints the admin token once; cmdbd token manages tokens on the file") {
  std::string dir = TempDir("tokens");
  std::string db = dir + "/cmdb.sqlite";
  {
    ServerProcess server(db, {"--no-demo", "--no-web"});
    std::vector<std::string> lines = LinesOf(server.Log());
    REQUIRE(lines.size() >= 4);
    CHECK(lines[1] == "cmdbd: created the admin token (shown once, store it now):");
    CHECK(lines[2] == "  " + server.token());
    CHECK(lines[3] == "cmdbd: and wrote it to " + db + ".admin-token");
    httplib::Client anon("127.0.0.1", server.port());
    auto r = anon.Get("/v1/cis");
    REQUIRE(r);
    CHECK(r->status == 401);
    CHECK(r->get_header_value("WWW-Authenticate") == "Bearer realm=\"cmdb\"");
    CHECK(anon.Get("/healthz")->status == 200);
    server.Stop();
  }
  // The CLI works on the database file.
  std::string out = dir + "/token.txt";
  std::string cmd = std::string(CMDBD_PATH) + " token create --name reporter --role reader --db " + db + " > " + out;
  REQUIRE(WEXITSTATUS(std::system(cmd.c_str())) == 0);
  std::ifstream in(out);
  std::string secret;
  in >> secret;
  CHECK(Normalised(secret) == "<token>");  // generated: "cmdb_" and 43 URL-safe characters
  ServerProcess server(db, {"--no-demo"});
  std::string log = server.Log();  // both starts append to one log: the token appears once
  std::vector<std::string> lines = LinesOf(log);
  CHECK(std::count(lines.begin(), lines.end(),
                   "cmdbd: created the admin token (shown once, store it now):") == 1);
  httplib::Client reader("127.0.0.1", server.port());
  reader.set_bearer_token_auth(secret.c_str());
  CHECK(reader.Get("/v1/cis")->status == 200);
  auto w = reader.Post("/v1/cis", R"({"class": "VirtualMachine", "attributes": {"name": "x"}})", "application/json");
  CHECK(w->status == 403);
  cmd = std::string(CMDBD_PATH) + " token list --db " + db + " > " + out;
  REQUIRE(WEXITSTATUS(std::system(cmd.c_str())) == 0);
  std::ifstream list(out);
  std::string listing((std::istreambuf_iterator<char>(list)), {});
  CHECK(Normalised(listing) == "admin\tadmin\tcreated <time>\nreporter\treader\tcreated <time>\n");  // no secret in it: only names, roles and times
  cmd = std::string(CMDBD_PATH) + " token revoke --name reporter --db " + db + " > /dev/null";
  REQUIRE(WEXITSTATUS(std::system(cmd.c_str())) == 0);
  // The server learns of it when its token cache entry expires (2 s; the expiry itself is
  // tested with a set clock in api_test.cpp): poll until then, with a bound.
  int status = 0;
  for (int i = 0; i < 100 && status != 401; ++i) {
    status = reader.Get("/v1/cis")->status;
    if (status != 401) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(status == 401);
}

TEST_CASE("a second cmdbd on the same database exits at once, naming the file and the holder") {
  std::string dir = TempDir("lock");
  std::string db = dir + "/cmdb.sqlite";
  ServerProcess server(db, {"--no-demo"});
  std::string out = dir + "/second.txt";
  std::string cmd = std::string(CMDBD_PATH) + " --db " + db + " --listen 127.0.0.1:0 --no-demo --schema " +
                    CMDB_SOURCE_DIR + "/schema > " + out + " 2>&1";
  int rc = std::system(cmd.c_str());
  CHECK(WEXITSTATUS(rc) == 2);
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  CHECK(text == "cmdbd: database '" + db + "' is in use by another cmdbd (pid " + std::to_string(server.pid()) +
                    "; lock file '" + db + ".lock')\n");
  // The first server is unharmed and still writes.
  auto c = server.Client();
  Send(c, "POST", "/v1/cis", R"({"class": "VirtualMachine", "attributes": {"name": "still-mine"}})", 201);
  // Once it is gone (even by SIGKILL) the database can be served again.
  server.Kill();
  ServerProcess next(db, {"--no-demo"});
  auto nc = next.Client();
  CHECK(Get(nc, "/healthz")["cis"] == 1);
}

TEST_CASE("--insecure-local is refused on a non-loopback address") {
  std::string cmd = std::string(CMDBD_PATH) + " --insecure-local --listen 0.0.0.0:0 2>/dev/null";
  CHECK(WEXITSTATUS(std::system(cmd.c_str())) == 2);
}

#include <sqlite3.h>

TEST_CASE("verify finds an edit made behind the server's back; backup copies a live database") {
  std::string dir = TempDir("audit");
  std::string db = dir + "/cmdb.sqlite";
  ServerProcess server(db);  // with the demo data
  auto c = server.Client();
  Json ok = Get(c, "/v1/transactions/verify");
  CHECK(ok["ok"] == true);
  CHECK(ok["transactions_checked"] == 2);
  CHECK(ok["first_broken"].is_null());
  Send(c, "PATCH", "/v1/cis/1", R"({"owner": "someone"})", 200);
  // Back up while the server runs, with a bulk load going on at the same time.
  std::thread loader([&] {
    auto lc = server.Client();
    lc.Post("/v1/bulk", BulkBody("bk", 5000), "application/x-ndjson");
  });
  std::string backup = dir + "/backup.sqlite";
  std::string cmd = std::string(CMDBD_PATH) + " backup --db " + db + " --to " + backup + " > /dev/null";
  CHECK(WEXITSTATUS(std::system(cmd.c_str())) == 0);
  loader.join();
  // Someone edits the database file directly.
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &raw) == SQLITE_OK);
  REQUIRE(sqlite3_exec(raw, "UPDATE transactions SET actor = 'mallory' WHERE id = 3", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(raw);
  Json broken = Get(c, "/v1/transactions/verify");
  CHECK(broken["ok"] == false);
  CHECK(broken["first_broken"]["tx"] == 3);
  server.Stop();
  // Restoring is starting a server on the copy: consistent, chain intact.
  ServerProcess restored(backup, {"--no-demo"});
  auto rc = restored.Client();
  rc.set_bearer_token_auth(server.token().c_str());  // the token table came along
  Json h = Get(rc, "/healthz");
  CHECK((h["cis"] == 144 || h["cis"] == 144 + 5000));  // before or after the bulk, never between
  CHECK(Get(rc, "/v1/transactions/verify")["ok"] == true);
  CHECK(Get(rc, "/v1/cis/1")["attributes"]["owner"] == "someone");
}

TEST_CASE("TLS: with --tls-cert and --tls-key the server speaks HTTPS") {
  std::string dir = TempDir("tls");
  std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -keyout " + dir +
                    "/key.pem -out " + dir + "/cert.pem 2>/dev/null";
  REQUIRE(WEXITSTATUS(std::system(cmd.c_str())) == 0);
  std::string db = dir + "/cmdb.sqlite";
  // Bad key: a clear refusal at start-up.
  std::string bad = std::string(CMDBD_PATH) + " --db " + db + " --tls-cert " + dir + "/cert.pem --tls-key " + dir +
                    "/missing.pem --listen 127.0.0.1:0 2>" + dir + "/err.txt";
  CHECK(WEXITSTATUS(std::system(bad.c_str())) == 2);
  ServerProcess server(db, {"--no-demo", "--tls-cert", dir + "/cert.pem", "--tls-key", dir + "/key.pem"});
  httplib::SSLClient tls("127.0.0.1", server.port());
  tls.enable_server_certificate_verification(false);
  tls.set_bearer_token_auth(server.token().c_str());
  auto r = tls.Get("/v1/whoami");
  REQUIRE(r);
  CHECK(r->status == 200);
  CHECK(Json::parse(r->body)["name"] == "admin");
  httplib::Client plain("127.0.0.1", server.port());
  CHECK_FALSE(plain.Get("/healthz"));  // no plain HTTP on a TLS port
}

TEST_CASE("cmdbd import sends a discovery file (or standard input) to a running server") {
  std::string dir = TempDir("import-cli");
  ServerProcess server(dir + "/cmdb.sqlite", {"--no-demo"});
  std::string base = std::string(CMDBD_PATH) + " import --url http://127.0.0.1:" + std::to_string(server.port()) +
                     " --token-file " + dir + "/cmdb.sqlite.admin-token";
  std::string file = std::string(CMDB_SOURCE_DIR) + "/tests/data/libnmap-2_hosts_version-localhost-scanme.xml";
  std::string out = dir + "/out.json";
  int rc = std::system((base + " --format nmap --source nmap-lab --dry-run " + file + " > " + out).c_str());
  CHECK(WEXITSTATUS(rc) == 0);
  Json dry = Json::parse(std::ifstream(out));
  CHECK(dry["mode"] == "dry-run");
  int64_t would = dry["cis"]["created"];
  CHECK(would > 2);
  rc = std::system((base + " --format nmap --source nmap-lab - < " + file + " > " + out).c_str());
  CHECK(WEXITSTATUS(rc) == 0);
  Json applied = Json::parse(std::ifstream(out));
  CHECK(applied["cis"]["created"] == would);
  // CSV with a named mapping shipped in schema/mappings.
  rc = std::system((base + " --format csv --mapping snipe-it-locations " + CMDB_SOURCE_DIR +
                    "/tests/data/snipe-it-locations-sample.csv > " + out).c_str());
  CHECK(WEXITSTATUS(rc) == 0);
  CHECK(Json::parse(std::ifstream(out))["cis"]["created"] == 17);
  // A bad file exits non-zero with the error body.
  rc = std::system((base + " --format terraform " + CMDB_SOURCE_DIR + "/tests/data/inframap-legacy-v3-state.json > " + out).c_str());
  CHECK(WEXITSTATUS(rc) == 1);
  CHECK(Json::parse(std::ifstream(out)) ==
        Json{{"error",
              {{"code", "BadRequest"},
               {"details", {{"path", "$.version"}}},
               {"message",
                "Terraform state format 3 is not supported: only format 4 (Terraform 0.12 and "
                "later) is; run `terraform state pull` with a current Terraform to upgrade it"}}}});
}

TEST_CASE("one reader: cmdbd import --format ndjson refuses the lines POST /v1/bulk refuses, alike") {
  std::string dir = TempDir("one-reader");
  ServerProcess server(dir + "/cmdb.sqlite");
  httplib::Client c = server.Client();
  Json vms = Get(c, "/v1/cis?class=VirtualMachine&limit=2");
  std::string vm1 = vms["items"].at(0)["id"].dump(), vm2 = vms["items"].at(1)["id"].dump();
  // A line without "op", an attribute holding an object, endpoints by id (fine), a malformed
  // line, an id and a key endpoint naming no CI, and a truncated last line.
  std::string file = dir + "/lines.ndjson";
  const std::string text =
      R"({"op": "ci", "ref": "a", "class": "VirtualMachine", "attributes": {"name": "r1"}})" "\n"
      R"({"class": "VirtualMachine", "attributes": {"name": "r2"}})" "\n"
      R"({"op": "ci", "class": "VirtualMachine", "attributes": {"name": "r3", "os": {"family": "linux"}}})" "\n"
      R"({"op": "rel", "type": "DEPENDS_ON", "from": {"ref": "a"}, "to": )" + vm1 + "}\n"
      R"({"op": "rel", "type": "DEPENDS_ON", "from": )" + vm1 + R"(, "to": )" + vm2 + "}\n"
      R"({"op": "ci", "class": )" "\n"
      R"({"op": "rel", "type": "DEPENDS_ON", "from": 999999, "to": )" + vm2 + "}\n"
      R"({"op": "rel", "type": "DEPENDS_ON", "from": {"ref": "a"}, "to": {"class": "VirtualMachine", "key": {"name": "nope"}}})" "\n"
      R"({"op": "ci", "class": "VirtualMachine", "attributes": {"name": "r7)";
  std::ofstream(file, std::ios::binary) << text;
  Json bulk = Send(c, "POST", "/v1/bulk", text, 400);
  std::string out = dir + "/out.json";
  std::string import = std::string(CMDBD_PATH) + " import --url http://127.0.0.1:" +
                       std::to_string(server.port()) + " --token-file " + dir +
                       "/cmdb.sqlite.admin-token --format ndjson ";
  int rc = std::system((import + file + " > " + out).c_str());
  CHECK(WEXITSTATUS(rc) == 1);
  Json imported = Json::parse(std::ifstream(out));
  rc = std::system((import + "--dry-run " + file + " > " + out).c_str());
  CHECK(WEXITSTATUS(rc) == 1);
  Json dry = Json::parse(std::ifstream(out));
  INFO(bulk.dump() << "\n" << imported.dump());
  CHECK(imported == bulk);
  CHECK(dry == bulk);
  std::vector<std::pair<int64_t, std::string>> refused;
  for (const Json& e : bulk["error"]["details"]["errors"])
    refused.emplace_back(e["line"].get<int64_t>(), e["message"]);
  CHECK(refused == std::vector<std::pair<int64_t, std::string>>{
                       {2, "missing \"op\" (\"ci\" or \"rel\")"},
                       {3, "attributes.os: objects are not attribute values"},
                       {6,
                        "malformed JSON at column 23: unexpected end of input; expected '[', "
                        "'{', or a literal"},
                       {7, "relationship source CI 999999 does not exist"},
                       {8, "\"to\": no VirtualMachine with key {\"name\":\"nope\"}"},
                       {9, "malformed JSON at column 67: invalid string: missing closing quote"}});
  CHECK(bulk["error"]["message"] == "6 of 9 lines are invalid; nothing was applied");
}
