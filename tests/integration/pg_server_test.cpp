// cmdbd on PostgreSQL (--store postgresql://...): writes answer with X-Tx, a restart finds the
// data, the history and one valid chain; `cmdbd verify --store` agrees. The server comes from
// the test harness (tests/store/pg_harness.hpp); without PostgreSQL 15 installed these tests
// are skipped with the reason.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "integration/server_process.hpp"
#include "store/pg_harness.hpp"

using cmdb::testing::PgServer;
using cmdb::testing::ServerProcess;
using cmdb::testing::TempDir;
using Json = nlohmann::json;

namespace {

// Sends a write; checks the status and returns the answer's X-Tx header ("" when none).
std::string Write(httplib::Client& c, const std::string& method, const std::string& path,
                  const std::string& body, int expect, Json* out = nullptr) {
  httplib::Result r = method == "POST"    ? c.Post(path.c_str(), body, "application/json")
                      : method == "PATCH" ? c.Patch(path.c_str(), body, "application/json")
                                          : c.Delete(path.c_str(), body, "application/json");
  REQUIRE(r);
  INFO(method << " " << path << " -> " << r->body);
  CHECK(r->status == expect);
  if (out) *out = Json::parse(r->body);
  return r->get_header_value("X-Tx");
}

Json Get(httplib::Client& c, const std::string& path, int expect = 200) {
  auto r = c.Get(path.c_str());
  REQUIRE(r);
  INFO(path << " -> " << r->body);
  CHECK(r->status == expect);
  return Json::parse(r->body);
}

}  // namespace

TEST_CASE("every write answer carries X-Tx, its transaction id (SQLite)") {
  std::string dir = TempDir("xtx");
  ServerProcess server(dir + "/cmdb.sqlite", {"--no-demo", "--no-web"});
  auto c = server.Client();
  Json ci;
  std::string tx = Write(c, "POST", "/v1/cis",
                         R"({"class": "VirtualMachine", "attributes": {"name": "x1"}})", 201, &ci);
  CHECK(tx == "2");  // 1 is the schema
  std::string id = std::to_string(ci["id"].get<int64_t>());
  CHECK(Write(c, "PATCH", "/v1/cis/" + id, R"({"cpu_count": 2})", 200) == "3");
  // A refused write and a read carry none.
  CHECK(Write(c, "POST", "/v1/cis", R"({"class": "NoSuchClass", "attributes": {}})", 422).empty());
  auto r = c.Get(("/v1/cis/" + id).c_str());
  REQUIRE(r);
  CHECK_FALSE(r->has_header("X-Tx"));
}

TEST_CASE("cmdbd on PostgreSQL: writes, restart, data and chain intact") {
  PgServer* pg = PgServer::Get();
  if (!pg) {
    WARN(PgServer::SkipReason());
    return;
  }
  std::string url = pg->NewDatabase("cmdbd_restart");
  std::string dir = TempDir("pg_restart");
  int64_t id = 0;
  std::string head;
  {
    ServerProcess server(dir + "/unused.sqlite", {"--store", url, "--no-demo", "--no-web"});
    CHECK(server.Log().find("database postgresql://cmdb@/cmdbd_restart_") != std::string::npos);
    auto c = server.Client();
    Json ci;
    CHECK(Write(c, "POST", "/v1/cis",
                R"({"class": "VirtualMachine", "attributes": {"name": "r1", "cpu_count": 1}})", 201,
                &ci) == "2");
    id = ci["id"];
    CHECK(Write(c, "PATCH", "/v1/cis/" + std::to_string(id), R"({"cpu_count": 2})", 200) == "3");
    Write(c, "POST", "/v1/schema", R"({"ddl": "CREATE NODE TYPE Printer CONTROLLED { ppm INT };"})",
          200);
    Write(c, "POST", "/v1/changes", Json{{"title", "resize r1"}, {"affected", {id}}}.dump(), 201);
    Json verify = Get(c, "/v1/transactions/verify");
    CHECK(verify["ok"] == true);
    head = verify["head"];
    CHECK(server.Stop() == 0);
  }
  // Nothing of it on disk here: the SQLite file was never created.
  CHECK_FALSE(std::filesystem::exists(dir + "/unused.sqlite"));
  // A token made with the command, on the database, while no server runs.
  std::string token_out = dir + "/token.txt";
  int made = std::system((std::string(CMDBD_PATH) + " token create --store '" + url +
                          "' --name reporter --role reader > " + token_out)
                             .c_str());
  REQUIRE(WEXITSTATUS(made) == 0);
  std::string reader_token;
  std::ifstream(token_out) >> reader_token;
  ServerProcess server(dir + "/unused.sqlite", {"--store", url, "--no-demo", "--no-web"});
  auto c = server.Client();
  {
    httplib::Client reader("127.0.0.1", server.port());
    reader.set_bearer_token_auth(reader_token.c_str());
    auto r = reader.Get(("/v1/cis/" + std::to_string(id)).c_str());
    REQUIRE(r);
    CHECK(r->status == 200);
    auto w = reader.Post("/v1/cis", R"({"class": "VirtualMachine", "attributes": {"name": "no"}})",
                         "application/json");
    REQUIRE(w);
    CHECK(w->status == 403);
  }
  Json ci = Get(c, "/v1/cis/" + std::to_string(id));
  CHECK(ci["attributes"]["cpu_count"] == 2);
  CHECK(ci["version"] == 2);
  Json hist = Get(c, "/v1/cis/" + std::to_string(id) + "/history");
  REQUIRE(hist["versions"].size() == 2);
  CHECK(hist["versions"][0]["attributes"]["cpu_count"] == 1);
  CHECK(Get(c, "/v1/schema")["version"] == 2);
  CHECK(Get(c, "/v1/changes/1")["title"] == "resize r1");
  Json verify = Get(c, "/v1/transactions/verify?head=" + head);
  CHECK(verify["ok"] == true);
  CHECK(verify["head"] == head);
  Json next;
  Write(c, "POST", "/v1/cis", R"({"class": "VirtualMachine", "attributes": {"name": "r2"}})", 201,
        &next);
  CHECK(next["id"].get<int64_t>() == id + 1);
  CHECK(server.Stop() == 0);
  // The offline check agrees.
  std::string out = dir + "/verify.txt";
  int rc =
      std::system((std::string(CMDBD_PATH) + " verify --store '" + url + "' > " + out).c_str());
  CHECK(WEXITSTATUS(rc) == 0);
  std::ifstream in(out);
  std::string line;
  std::getline(in, line);
  CHECK(line.rfind("ok: 6 transactions checked, head 6:", 0) == 0);
  // The token command on the same database lists both tokens.
  rc =
      std::system((std::string(CMDBD_PATH) + " token list --store '" + url + "' > " + out).c_str());
  CHECK(WEXITSTATUS(rc) == 0);
  std::ifstream list(out);
  std::string admin, reporter;
  std::getline(list, admin);
  std::getline(list, reporter);
  CHECK(admin.rfind("admin\tadmin\tcreated ", 0) == 0);
  CHECK(reporter.rfind("reporter\treader\tcreated ", 0) == 0);
}

namespace {

// Runs tests/pg/start_pg.sh with `args`; its standard output (trimmed) and exit status.
std::pair<std::string, int> PgScript(const std::string& args) {
  std::string cmd = PgServer::Script() + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {"", -1};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

}  // namespace

TEST_CASE("cmdbd on PostgreSQL: PostgreSQL down answers writes 503, reads go on, writes resume") {
  if (!PgServer::Get()) {
    WARN(PgServer::SkipReason());
    return;
  }
  // A server of its own: this test stops it.
  std::string dir = TempDir("pg_down");
  std::string pg_dir = dir + "/pg";
  auto [url, rc] = PgScript("start " + pg_dir);
  REQUIRE(rc == 0);
  struct Stop {
    std::string dir;
    ~Stop() { PgScript("stop " + dir); }
  } stop{pg_dir};
  ServerProcess server(dir + "/unused.sqlite", {"--store", url, "--no-demo", "--no-web"});
  auto c = server.Client();
  Json ci;
  CHECK(Write(c, "POST", "/v1/cis", R"({"class": "VirtualMachine", "attributes": {"name": "d1"}})",
              201, &ci) == "2");
  std::string id = std::to_string(ci["id"].get<int64_t>());
  REQUIRE(PgScript("halt " + pg_dir).second == 0);
  Json refused;
  CHECK(Write(c, "POST", "/v1/cis", R"({"class": "VirtualMachine", "attributes": {"name": "d2"}})",
              503, &refused)
            .empty());
  std::string port = url.substr(url.rfind('=') + 1);
  CHECK(refused["error"]["code"] == "Unavailable");
  CHECK(refused["error"]["message"].get<std::string>().rfind(
            "PostgreSQL database 'cmdb' at " + pg_dir + ":" + port + " is unreachable: ", 0) == 0);
  CHECK(Get(c, "/v1/cis/" + id)["attributes"]["name"] == "d1");  // reads go on from memory
  REQUIRE(PgScript("resume " + pg_dir).second == 0);
  CHECK(Write(c, "POST", "/v1/cis", R"({"class": "VirtualMachine", "attributes": {"name": "d2"}})",
              201) == "3");
  Json verify = Get(c, "/v1/transactions/verify");
  CHECK(verify["ok"] == true);
  CHECK(verify["transactions_checked"] == 3);
}

TEST_CASE("cmdbd migrate copies a SQLite database into PostgreSQL with its history and chain") {
  PgServer* pg = PgServer::Get();
  if (!pg) {
    WARN(PgServer::SkipReason());
    return;
  }
  std::string url = pg->NewDatabase("cmdbd_migrate");
  std::string dir = TempDir("pg_migrate");
  std::string db = dir + "/cmdb.sqlite";
  const std::string migrate = std::string(CMDBD_PATH) + " migrate --db " + db + " --to '" + url +
                              "' > " + dir + "/out.txt 2>&1";
  auto output = [&] {
    std::ifstream in(dir + "/out.txt");
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  // The oracle: what the SQLite server answers before the migration.
  Json before_query, before_history, before_webhooks;
  std::string head, token;
  const std::string query =
      R"q({"query": "MATCH (a)-[r]->(b) RETURN id(a), type(r), id(b), a.name, a.owner ORDER BY id(a), type(r), id(b)"})q";
  int64_t id = 0;
  {
    ServerProcess server(db, {"--no-web", "--webhook-allow", "127.0.0.1:9"});
    token = server.token();
    auto c = server.Client();
    Write(c, "POST", "/v1/query", R"({"query": "MATCH (s:Switch) SET s.owner = 'net' RETURN s"})",
          200);
    Json ci;
    Write(c, "POST", "/v1/cis", R"({"class": "VirtualMachine", "attributes": {"name": "m1"}})", 201,
          &ci);
    id = ci["id"];
    Write(c, "PATCH", "/v1/cis/" + std::to_string(id), R"({"cpu_count": 4})", 200);
    Write(c, "POST", "/v1/changes", Json{{"title", "move m1"}, {"affected", {id}}}.dump(), 201);
    Write(c, "POST", "/v1/webhooks",
          R"({"url": "http://127.0.0.1:9/hook", "secret": "0123456789abcdef0123456789abcdef"})", 201);
    // Migrating while a server holds the file is refused, and copies nothing.
    CHECK(WEXITSTATUS(std::system(migrate.c_str())) == 2);
    CHECK(output().find("cmdbd: ") == 0);
    auto r = c.Post("/v1/query", query, "application/json");
    REQUIRE(r);
    before_query = Json::parse(r->body)["rows"];
    before_history = Get(c, "/v1/cis/" + std::to_string(id) + "/history")["versions"];
    before_webhooks = Get(c, "/v1/webhooks");
    head = Get(c, "/v1/transactions/verify")["head"];
    CHECK(server.Stop() == 0);
  }
  REQUIRE(WEXITSTATUS(std::system(migrate.c_str())) == 0);
  std::string out = output();
  INFO(out);
  CHECK(out.find("transactions: " + head.substr(0, head.find(':')) + " rows\n") == 0);
  CHECK(out.find("ok: copied into postgresql://cmdb@/cmdbd_migrate_") != std::string::npos);
  CHECK(out.find("head " + head + "\n") != std::string::npos);
  // A second migration into the same database is refused: it holds data now.
  CHECK(WEXITSTATUS(std::system(migrate.c_str())) == 2);
  CHECK(output().find("the PostgreSQL database already holds cmdb data (") != std::string::npos);
  // A server on PostgreSQL answers as the SQLite one did, with the SQLite file's admin token.
  ServerProcess server(dir + "/unused.sqlite", {"--store", url, "--no-web", "--webhook-allow", "127.0.0.1:9"});
  httplib::Client c("127.0.0.1", server.port());
  c.set_bearer_token_auth(token.c_str());
  auto r = c.Post("/v1/query", query, "application/json");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  CHECK(Json::parse(r->body)["rows"] == before_query);
  CHECK(Get(c, "/v1/cis/" + std::to_string(id) + "/history")["versions"] == before_history);
  CHECK(Get(c, "/v1/changes/1")["title"] == "move m1");
  CHECK(Get(c, "/v1/webhooks") == before_webhooks);
  CHECK(Get(c, "/v1/transactions/verify?head=" + head)["ok"] == true);
  // The chain goes on from the copied head; new webhooks continue the copied ids.
  std::string tx = Write(c, "PATCH", "/v1/cis/" + std::to_string(id), R"({"cpu_count": 8})", 200);
  CHECK(tx == std::to_string(std::stoll(head.substr(0, head.find(':'))) + 1));
  Json hook;
  Write(c, "POST", "/v1/webhooks",
        R"({"url": "http://127.0.0.1:9/two", "secret": "0123456789abcdef0123456789abcdef"})", 201,
        &hook);
  CHECK(hook["id"] == before_webhooks["items"][0]["id"].get<int64_t>() + 1);
  CHECK(Get(c, "/v1/transactions/verify")["ok"] == true);
}
