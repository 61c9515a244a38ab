// The routing table (api/route_table.cpp): the matcher's 404 and 405, every permission check in
// the table (each role against each route through Api::Handle), and the permission checks a
// handler makes by the request's content only as its row declares them.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "api/api_client.hpp"

using namespace cmdb;
using api::Json;
using cmdb::testing::Client;

namespace {

// A concrete path for a pattern: {id} and {name} name nothing that exists.
std::string PathOf(std::string_view pattern) {
  std::string out(pattern);
  for (auto [arg, value] : {std::pair{"{id}", "999999"}, {"{name}", "no-such-name"}}) {
    if (size_t at = out.find(arg); at != std::string::npos)
      out.replace(at, std::string_view(arg).size(), value);
  }
  return out;
}

std::string HeaderOf(const api::HttpResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

api::HttpResponse Send(Client& c, const std::string& role, const std::string& method,
                       const std::string& path, const std::string& body = "") {
  api::HttpRequest req;
  req.method = method;
  req.path = path;
  req.body = body;
  if (!role.empty()) req.headers["authorization"] = "Bearer " + c.tokens[role];
  return c.api.Handle(req);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The operations of an OpenAPI file written as docs/openapi.yaml is (paths at two spaces,
// methods at four): "GET /v1/cis" -> the operation's text.
std::map<std::string, std::string> OpenApiOperations(const std::string& yaml) {
  std::map<std::string, std::string> ops;
  std::istringstream in(yaml);
  std::string line, path, op;
  bool in_paths = false;
  while (std::getline(in, line)) {
    size_t indent = line.find_first_not_of(' ');
    if (indent == std::string::npos) continue;
    if (indent == 0) {
      in_paths = line == "paths:";
      continue;
    }
    if (!in_paths) continue;
    if (indent == 2 && line[2] == '/' && line.back() == ':') {
      path = line.substr(2, line.size() - 3);
      op.clear();
      continue;
    }
    if (indent == 4) {
      op.clear();
      std::string key = line.substr(4, line.find(':') - 4);
      for (const char* m : {"get", "put", "post", "patch", "delete", "head", "options"}) {
        if (key == m) {
          std::transform(key.begin(), key.end(), key.begin(), ::toupper);
          op = key + " " + path;
          ops[op] = line.substr(line.find(':') + 1) + "\n";
        }
      }
      continue;
    }
    if (!op.empty()) ops[op] += line + "\n";
  }
  return ops;
}

// The rows of the Markdown table in `doc` whose header line starts with `header`: the cells of
// each row, trimmed, backticks removed.
std::vector<std::vector<std::string>> MarkdownTable(const std::string& doc,
                                                    const std::string& header) {
  std::vector<std::vector<std::string>> rows;
  size_t at = doc.find("\n" + header);
  if (at == std::string::npos) return rows;
  std::istringstream in(doc.substr(at + 1));
  std::string line;
  while (std::getline(in, line) && !line.empty() && line[0] == '|') {
    std::vector<std::string> cells;
    size_t start = 1;
    for (size_t bar; (bar = line.find('|', start)) != std::string::npos; start = bar + 1) {
      std::string cell = line.substr(start, bar - start);
      cell.erase(std::remove(cell.begin(), cell.end(), '`'), cell.end());
      size_t first = cell.find_first_not_of(' '), last = cell.find_last_not_of(' ');
      cells.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
    }
    if (cells.empty() || cells[0].rfind("---", 0) == 0 || cells[0].rfind(":-", 0) == 0) continue;
    rows.push_back(std::move(cells));
  }
  return rows;
}

const Permission kPermissions[] = {Permission::kRead,           Permission::kWriteCis,
                                   Permission::kImport,         Permission::kRequestChanges,
                                   Permission::kManageChanges,  Permission::kManageReleases,
                                   Permission::kAdmin};

// A permission by its name ("write CIs"); nullopt for another text.
std::optional<Permission> PermissionNamed(const std::string& name) {
  for (Permission p : kPermissions) {
    if (name == PermissionName(p)) return p;
  }
  return std::nullopt;
}

// A route as docs/security.md's route table writes it: permission, then what the handler checks
// besides ("write CIs; administer"), without the explanations in parentheses.
std::string DocRow(const api::Route& r) {
  std::string out = r.access.token ? PermissionName(r.access.permission) : "none (no token)";
  out += " |";
  for (size_t i = 0; i < r.also.size(); ++i)
    out += std::string(i ? ";" : "") + " " + PermissionName(r.also[i]);
  return out;
}

const Role kRoles[] = {Role::kReader, Role::kImporter, Role::kChangeManager, Role::kReleaseManager,
                       Role::kAdmin};

}  // namespace

TEST_CASE("routes: an unknown path is 404, a known path with another method 405 with Allow") {
  Client c;
  auto nothing = Send(c, "admin", "GET", "/v1/nothing");
  CHECK(nothing.status == 404);
  CHECK(Json::parse(nothing.body)["error"]["message"] == "no such endpoint: GET /v1/nothing");
  // Sub-paths that no route has are unknown, whatever the method.
  CHECK(Send(c, "admin", "GET", "/v1/cis/1/nothing").status == 404);
  CHECK(Send(c, "admin", "POST", "/v1/cis/1/nothing").status == 404);
  CHECK(Send(c, "admin", "GET", "/v1/changes/1/nothing").status == 404);
  CHECK(Send(c, "admin", "GET", "/v2/cis").status == 404);

  auto put = Send(c, "admin", "PUT", "/v1/cis");
  CHECK(put.status == 405);
  CHECK(HeaderOf(put, "Allow") == "GET, HEAD, POST");
  Json e = Json::parse(put.body)["error"];
  CHECK(e["code"] == "BadRequest");
  CHECK(e["message"] == "method PUT is not allowed on /v1/cis");
  CHECK(e["details"]["allowed"] == "GET, HEAD, POST");
  CHECK(HeaderOf(Send(c, "admin", "POST", "/v1/cis/1"), "Allow") == "GET, HEAD, PATCH, DELETE");
  CHECK(HeaderOf(Send(c, "admin", "GET", "/v1/changes/1/transition"), "Allow") == "POST");
  CHECK(HeaderOf(Send(c, "admin", "PATCH", "/v1/baselines/b"), "Allow") == "GET, HEAD, DELETE");
  CHECK(HeaderOf(Send(c, "admin", "POST", "/healthz"), "Allow") == "GET, HEAD");
  // The method is checked before the role: a reader learns the same 405.
  CHECK(Send(c, "reader", "PUT", "/v1/schema").status == 405);

  // Without a token: 401 everywhere but on the routes that need none.
  CHECK(Send(c, "", "GET", "/v1/nothing").status == 401);
  CHECK(Send(c, "", "POST", "/healthz").status == 401);
  CHECK(Send(c, "", "GET", "/healthz").status == 200);
  CHECK(Send(c, "", "HEAD", "/healthz").status == 200);

  // Empty segments are ignored, as a path's ids are checked before the handler runs.
  CHECK(Send(c, "admin", "GET", "//v1//whoami/").status == 200);
  auto bad = Send(c, "admin", "GET", "/v1/changes/abc/history");
  CHECK(bad.status == 400);
  CHECK(Json::parse(bad.body)["error"]["message"] ==
        "invalid change id 'abc': expected a positive integer");
  CHECK(Json::parse(Send(c, "admin", "DELETE", "/v1/windows/0").body)["error"]["message"] ==
        "invalid window id '0': expected a positive integer");
}

TEST_CASE("routes: the table is well formed") {
  std::set<std::pair<std::string_view, std::string_view>> seen;
  for (const api::Route& r : api::Api::Routes()) {
    INFO(r.method << " " << r.pattern);
    CHECK(seen.insert({r.method, r.pattern}).second);  // one row per method and pattern
    CHECK(std::set<std::string_view>{"GET", "POST", "PUT", "PATCH", "DELETE"}.count(r.method) == 1);
    CHECK(r.pattern.front() == '/');
    CHECK(r.handler != nullptr);
    // Every route but the public ones needs a token; a public one is a GET.
    if (!r.access.token) CHECK(r.method == "GET");
    // A GET reads: it needs no permission beyond read, but the admin-only token list and
    // webhooks (their destinations and delivery logs are configuration).
    if (r.method == "GET" && r.access.token && r.pattern != "/v1/tokens" &&
        r.pattern.rfind("/v1/webhooks", 0) != 0)
      CHECK(r.access.permission == Permission::kRead);
    // Every {id} names what it is ("invalid CI id 'x'"), so its collection is known.
    auto segments = api::PathSegments(r.pattern);
    for (size_t i = 0; i < segments.size(); ++i) {
      if (segments[i].front() == '{') {
        CHECK((segments[i] == "{id}" || segments[i] == "{name}"));
        REQUIRE(i > 0);
        if (segments[i] == "{id}")
          CHECK(std::set<std::string>{"cis", "relationships", "changes", "windows", "releases",
                                      "audits", "webhooks"}
                    .count(segments[i - 1]) == 1);
      }
    }
    // Each route matches itself and nothing else matches its method and path.
    CHECK(api::MatchRoute(api::Api::Routes(), r.method, PathOf(r.pattern)).route == &r);
  }
}

TEST_CASE("routes: every permission check is the table's; each role against each route") {
  Client c;
  for (const api::Route& r : api::Api::Routes()) {
    std::string path = PathOf(r.pattern);
    for (Role role : kRoles) {
      INFO(r.method << " " << path << " as " << RoleName(role));
      // An empty body and ids that name nothing: no allowed call below changes anything.
      auto res = Send(c, RoleName(role), std::string(r.method), path);
      Json j = res.content_type == "application/json" ? Json::parse(res.body) : Json();
      if (r.access.token && !Allows(role, r.access.permission)) {
        REQUIRE(res.status == 403);
        CHECK(j["error"]["code"] == "Forbidden");
        CHECK(j["error"]["message"] == "token '" + std::string(RoleName(role)) + "-bot' has role " +
                                           RoleName(role) + ", which may not " +
                                           PermissionName(r.access.permission));
        CHECK(j["error"]["details"]["needs"] == PermissionName(r.access.permission));
      } else {
        INFO(res.body);
        CHECK(res.status != 403);
        CHECK(res.status != 405);
        CHECK(res.status != 401);
        if (res.status == 404)
          CHECK(j["error"]["message"] != "no such endpoint: " + std::string(r.method) + " " + path);
      }
    }
  }
  // In particular, a reader may call no route that writes.
  for (const api::Route& r : api::Api::Routes()) {
    if (r.method == "GET" || r.access.permission == Permission::kRead) continue;
    INFO(r.method << " " << r.pattern);
    CHECK(Send(c, "reader", std::string(r.method), PathOf(r.pattern)).status == 403);
  }
}

TEST_CASE("routes: a handler checks by content only the permissions its row declares") {
  Client c;
  // The declared ones, each exercised: DDL in a query needs administer, a writing query write
  // CIs, a decision on a change manage changes, a stronger import source administer.
  auto ddl = c.As("release-manager", "POST", "/v1/query",
                  R"({"query": "CREATE NODE TYPE Printer { ppm INT };"})");
  CHECK(ddl.first == 403);
  CHECK(ddl.second["error"]["message"] ==
        "token 'release-manager-bot' has role release-manager, which may not administer");
  CHECK(ddl.second["error"]["details"]["needs"] == "administer");
  std::string create = Json{{"query", "CREATE (:VirtualMachine {name: 'q-vm'})"}}.dump();
  auto write = c.As("reader", "POST", "/v1/query", create);
  CHECK(write.first != 200);
  INFO(write.second.dump());
  CHECK(c.As("importer", "POST", "/v1/query", create).first == 200);
  auto [s, change] = c.As("importer", "POST", "/v1/changes", R"({"title": "t"})");
  REQUIRE(s == 201);
  std::string transition =
      "/v1/changes/" + std::to_string(change["id"].get<int64_t>()) + "/transition";
  auto decide = c.As("importer", "POST", transition, R"({"to": "assessed"})");
  CHECK(decide.first == 403);
  CHECK(decide.second["error"]["message"] ==
        "token 'importer-bot' has role importer, which may not move a change to assessed");
  CHECK(decide.second["error"]["details"]["needs"] == "manage changes");

  // An undeclared one is refused, never granted: Allows says no, Require answers a 500 naming
  // the route.
  const api::Route* transactions =
      api::MatchRoute(api::Api::Routes(), "GET", "/v1/transactions").route;
  REQUIRE(transactions);
  api::HttpRequest req;
  api::Principal admin{"root", Role::kAdmin};
  api::Call call{req, admin, *transactions};
  CHECK(call.Allows(Permission::kRead));
  CHECK_FALSE(call.Allows(Permission::kAdmin));
  auto refused = call.Require(Permission::kAdmin);
  REQUIRE(refused);
  CHECK(refused->status == 500);
  CHECK(Json::parse(refused->body)["error"]["message"] ==
        "the route GET /v1/transactions checks the permission 'administer', which its row of the "
        "routing table does not declare");
}

TEST_CASE("routes: handlers make no role decision of their own") {
  // Permission checks live in the table (api/route_table.cpp) and, for what depends on a
  // request's content, in Call::Allows and Call::Require, which hold the handler to its row.
  namespace fs = std::filesystem;
  int files = 0;
  for (const auto& entry : fs::directory_iterator(cmdb::testing::SourceDir() + "/api")) {
    std::string file = entry.path().filename().string();
    if (file.rfind("handlers_", 0) != 0) continue;
    ++files;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    INFO(file);
    for (const char* banned :
         {"Allows(who", "Allows(call.who", "cmdb::Allows(", ".role ==", ".role !=", "Role::k"}) {
      INFO(banned);
      CHECK(text.str().find(banned) == std::string::npos);
    }
  }
  CHECK(files >= 7);
}

TEST_CASE("routes: GET /v1/openapi.yaml serves docs/openapi.yaml as built in, without a token") {
  Client c;
  auto r = Send(c, "", "GET", "/v1/openapi.yaml");
  CHECK(r.status == 200);
  CHECK(r.content_type == "application/yaml");
  std::string file = ReadFile(cmdb::testing::SourceDir() + "/docs/openapi.yaml");
  REQUIRE(!file.empty());
  CHECK(r.body == file);  // the binary holds the file as it is now
  CHECK(Send(c, "reader", "GET", "/v1/openapi.yaml").status == 200);
  CHECK(HeaderOf(Send(c, "reader", "POST", "/v1/openapi.yaml"), "Allow") == "GET, HEAD");
}

TEST_CASE("routes: the OpenAPI file has every route of the table and nothing more") {
  Client c;
  auto ops = OpenApiOperations(Send(c, "", "GET", "/v1/openapi.yaml").body);
  REQUIRE(ops.size() > 40);
  std::set<std::string> table;
  for (const api::Route& r : api::Api::Routes()) {
    std::string op = std::string(r.method) + " " + std::string(r.pattern);
    table.insert(op);
    INFO(op << " (a row of api/route_table.cpp)");
    REQUIRE(ops.count(op) == 1);
    const std::string& text = ops[op];
    // Public exactly where the table needs no token.
    CHECK((text.find("security: []") != std::string::npos) == !r.access.token);
    // The spec promises a next page (next, next_cursor, next_since) exactly where the route
    // takes a limit, and the code answers it (tested below and in the routes' own tests); the
    // search's limit is how many of the best hits, which do not page.
    bool pages = op != "GET /v1/search" &&
                 std::any_of(r.params.begin(), r.params.end(),
                             [](const api::ParamSpec& p) { return p.name == "limit"; });
    CHECK((text.find("next") != std::string::npos) == pages);
  }
  for (const auto& [op, text] : ops) {
    INFO(op << " (in docs/openapi.yaml)");
    CHECK(table.count(op) == 1);
  }
}

TEST_CASE("routes: next comes while more follow, as the OpenAPI file says") {
  Client c;
  // GET /v1/unauthorized-changes: three flagged writes, pages of two.
  REQUIRE(c.Call("POST", "/v1/query", R"({"query": "ALTER NODE TYPE Hardware SET CONTROLLED"})")
              .first == 200);
  std::string host = "/v1/cis/" + std::to_string(c.IdOf("PhysicalServer", "fra1-esx03"));
  for (const char* owner : {"a", "b", "c"})
    REQUIRE(c.Call("PATCH", host, Json{{"owner", owner}}.dump()).first == 200);
  auto [s1, first] = c.Call("GET", "/v1/unauthorized-changes?limit=2");
  REQUIRE(first["transactions"].size() == 2);
  CHECK(first["next"] == "/v1/unauthorized-changes?since=" +
                             std::to_string(first["transactions"][1]["tx"].get<int64_t>()));
  auto [s2, last] = c.Call("GET", first["next"].get<std::string>());
  CHECK(last["transactions"].size() == 1);
  CHECK_FALSE(last.contains("next"));
  auto [s3, all] = c.Call("GET", "/v1/unauthorized-changes?limit=3");
  CHECK(all["transactions"].size() == 3);
  CHECK(all.contains("next"));  // a full page: the following one may be empty
  CHECK(c.Call("GET", all["next"].get<std::string>()).second["transactions"].empty());

  // GET /v1/baselines/{name} and its /diff: offset pages.
  REQUIRE(c.Call("POST", "/v1/baselines", R"({"name": "all", "scope": {"all": true}})").first ==
          201);
  auto [s4, page] = c.Call("GET", "/v1/baselines/all?limit=100");
  CHECK(page["next"] == "/v1/baselines/all?offset=100&limit=100");
  int64_t total = page["cis"].get<int64_t>() + page["relationships"].get<int64_t>();
  auto [s5, end] = c.Call("GET", "/v1/baselines/all?offset=" + std::to_string(total - 1));
  CHECK(end["items"]["relationships"].size() == 1);
  CHECK_FALSE(end.contains("next"));
  for (const char* owner : {"d", "e"})
    REQUIRE(c.Call("PATCH", host, Json{{"owner", owner}}.dump()).first == 200);
  REQUIRE(c.Call("POST", "/v1/cis", R"({"class": "VirtualMachine", "attributes": {"name": "n1"}})")
              .first == 201);
  auto [s6, diff] = c.Call("GET", "/v1/baselines/all/diff?limit=1&include_new=true");
  INFO(diff.dump());
  REQUIRE(diff["total"] == 2);  // the host changed, the VM is new
  CHECK(diff["next"] == "/v1/baselines/all/diff?offset=1&limit=1&include_new=true");
  auto [s7, rest] = c.Call("GET", diff["next"].get<std::string>());
  CHECK(rest["entries"].size() == 1);
  CHECK_FALSE(rest.contains("next"));
}

TEST_CASE("routes: docs/security.md's role table is Allows(), both ways") {
  std::string doc = ReadFile(cmdb::testing::SourceDir() + "/docs/security.md");
  auto rows = MarkdownTable(doc, "| permission | what it covers |");
  REQUIRE(rows.size() == std::size(kPermissions) + 1);
  const auto& header = rows[0];
  REQUIRE(header.size() == 2 + std::size(kRoles));
  for (size_t col = 0; col < std::size(kRoles); ++col)
    CHECK(header[2 + col] == RoleName(kRoles[col]));
  std::set<Permission> seen;
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto& row = rows[i];
    INFO("docs/security.md: | " << row[0] << " | ...");
    auto p = PermissionNamed(row[0]);
    REQUIRE(p);
    CHECK(seen.insert(*p).second);
    REQUIRE(row.size() == header.size());
    for (size_t col = 0; col < std::size(kRoles); ++col) {
      INFO(RoleName(kRoles[col]));
      CHECK((row[2 + col] == "✓") == Allows(kRoles[col], *p));
      CHECK((row[2 + col] == "✓" || row[2 + col].empty()));
    }
  }
  CHECK(seen.size() == std::size(kPermissions));
}

TEST_CASE("routes: docs/security.md's route table is the routing table, both ways") {
  std::string doc = ReadFile(cmdb::testing::SourceDir() + "/docs/security.md");
  auto rows = MarkdownTable(doc, "| method | path | permission |");
  REQUIRE(rows.size() > 1);
  // The document's rows as "METHOD /path" -> "permission | also; also", explanations dropped.
  std::map<std::string, std::string> documented;
  for (size_t i = 1; i < rows.size(); ++i) {
    const auto& row = rows[i];
    REQUIRE(row.size() == 4);
    std::string also;
    std::istringstream list(row[3]);
    for (std::string item; std::getline(list, item, ';');) {
      item = item.substr(0, item.find('('));
      size_t first = item.find_first_not_of(' '), last = item.find_last_not_of(' ');
      if (first == std::string::npos) continue;
      std::string name = item.substr(first, last - first + 1);
      INFO(row[0] << " " << row[1] << ": " << name);
      CHECK(PermissionNamed(name));
      also += std::string(also.empty() ? "" : ";") + " " + name;
    }
    std::string key = row[0] + " " + row[1];
    INFO(key);
    CHECK(documented.count(key) == 0);
    documented[key] = row[2] + " |" + also;
  }
  // Each row of the table, as the document should have it (permission | also), is there.
  std::string expected;
  for (const api::Route& r : api::Api::Routes()) {
    std::string key = std::string(r.method) + " " + std::string(r.pattern);
    expected += "| " + std::string(r.method) + " | `" + std::string(r.pattern) + "` | " +
                DocRow(r) + " |\n";
    INFO(key << " should read: " << DocRow(r));
    REQUIRE(documented.count(key) == 1);
    CHECK(documented[key] == DocRow(r));
    documented.erase(key);
  }
  // And nothing else is.
  INFO("the routing table as docs/security.md writes it (add the explanations in parentheses):\n"
       << expected);
  for (const auto& [key, row] : documented) {
    INFO(key << " is documented but not in api/route_table.cpp");
    CHECK(false);
  }
}
