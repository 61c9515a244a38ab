// The HTTP handlers in-process (no socket): every endpoint and every error class.
#include <catch2/catch.hpp>
#include <atomic>
#include <set>
#include <thread>

#include "api/api_client.hpp"

using namespace cmdb;
using api::Json;
using cmdb::testing::Client;


TEST_CASE("health and schema endpoints") {
  Client c;
  auto [s, j] = c.Call("GET", "/healthz");
  CHECK(s == 200);
  CHECK(j["cis"] == 144);
  auto [s2, schema] = c.Call("GET", "/v1/schema");
  CHECK(s2 == 200);
  CHECK(schema["mode"] == "closed");
  CHECK(schema["classes"].size() > 30);
  bool found = false;
  for (const auto& r : schema["relationship_types"]) {
    if (r["name"] == "RUNS_ON") found = r["impact"] == "TO SOURCE" && r["cardinality"] == "MANY_TO_ONE";
  }
  CHECK(found);
}

TEST_CASE("POST /v1/schema applies DDL or answers a located error") {
  Client c;
  auto [s, j] = c.Call("POST", "/v1/schema", R"({"ddl": "CREATE NODE TYPE Printer { ppm INT };"})");
  CHECK(s == 200);
  CHECK(j["schema_version"] == 2);
  auto [s2, e] = c.Call("POST", "/v1/schema", R"({"ddl": "CREATE NODE TYPE Scanner { dpi INTT };"})");
  CHECK(s2 == 422);
  CHECK(e["error"]["line"] == 1);
  CHECK(e["error"]["column"] == 32);
  auto [s3, e3] = c.Call("POST", "/v1/schema", R"({"ddl": "CREATE NODE Scanner;"})");
  CHECK(s3 == 400);
  CHECK(e3["error"]["code"] == "BadRequest");
  auto [s4, p] = c.Call("POST", "/v1/cis", R"({"class": "Printer", "attributes": {"name": "p1", "ppm": 30}})");
  CHECK(s4 == 201);
}

TEST_CASE("CI lifecycle: create, read, patch with If-Match, history, delete") {
  Client c;
  auto [s, ci] = c.Call("POST", "/v1/cis", R"({"class": "VirtualMachine", "attributes": {"name": "vm-new", "cpu_count": 2}})");
  REQUIRE(s == 201);
  CiId id = ci["id"];
  CHECK(ci["version"] == 1);
  CHECK(ci["attributes"]["status"] == "live");
  auto [s2, got] = c.Call("GET", "/v1/cis/" + std::to_string(id));
  CHECK(s2 == 200);
  CHECK(got["attributes"]["name"] == "vm-new");
  auto [s3, patched] = c.Call("PATCH", "/v1/cis/" + std::to_string(id), R"({"cpu_count": 4, "os": "linux"})",
                              {{"if-match", "\"1\""}});
  CHECK(s3 == 200);
  CHECK(patched["version"] == 2);
  auto [s4, stale] = c.Call("PATCH", "/v1/cis/" + std::to_string(id), R"({"cpu_count": 8})", {{"if-match", "1"}});
  CHECK(s4 == 412);
  CHECK(stale["error"]["code"] == "PreconditionFailed");
  auto [s5, erased] = c.Call("PATCH", "/v1/cis/" + std::to_string(id), R"({"attributes": {"os": null}})");
  CHECK(s5 == 200);
  CHECK_FALSE(erased["attributes"].contains("os"));
  auto [s6, hist] = c.Call("GET", "/v1/cis/" + std::to_string(id) + "/history");
  CHECK(s6 == 200);
  REQUIRE(hist["versions"].size() == 3);
  CHECK(hist["versions"][0]["attributes"]["cpu_count"] == 2);
  CHECK(hist["versions"][1]["valid_to_tx"] == hist["versions"][2]["tx"]);
  auto [s7, del] = c.Call("DELETE", "/v1/cis/" + std::to_string(id));
  CHECK(s7 == 200);
  auto [s8, gone] = c.Call("GET", "/v1/cis/" + std::to_string(id));
  CHECK(s8 == 404);
  CHECK(gone["error"]["details"]["retired"] == true);
  auto [s9, hist2] = c.Call("GET", "/v1/cis/" + std::to_string(id) + "/history");
  CHECK(hist2["versions"].size() == 4);
  CHECK(hist2["versions"][3]["retired"] == true);
}

TEST_CASE("every error class answers its status with a JSON error body") {
  Client c;
  auto check = [&](const std::string& m, const std::string& path, const std::string& body, int status,
                   const std::string& code) {
    auto [s, j] = c.Call(m, path, body);
    INFO(m << " " << path << " -> " << j.dump());
    CHECK(s == status);
    CHECK(j["error"]["code"] == code);
    CHECK(j["error"]["message"].is_string());
  };
  check("POST", "/v1/cis", "{\"class\": ", 400, "BadRequest");
  check("GET", "/v1/cis/abc", "", 400, "BadRequest");
  check("GET", "/v1/cis?limit=-1", "", 400, "BadRequest");
  check("GET", "/v1/cis?class=Servr", "", 400, "BadRequest");
  check("GET", "/v1/cis/999999", "", 404, "NotFound");
  check("GET", "/v1/relationships/999999", "", 404, "NotFound");
  check("GET", "/v1/nothing", "", 404, "NotFound");
  check("PUT", "/v1/cis", "", 405, "BadRequest");
  check("POST", "/v1/cis", R"({"class": "PhysicalServer", "attributes": {"name": "fra1-esx01"}})", 409, "Conflict");
  check("POST", "/v1/cis", R"({"class": "PhysicalServer", "attributes": {"name": "x", "cpu_count": "many"}})", 422,
        "SchemaViolation");
  check("POST", "/v1/cis", R"({"class": "Hardware", "attributes": {"name": "x"}})", 422, "SchemaViolation");
  check("POST", "/v1/cis", R"({"class": "VirtualMachine", "attributes": {"name": {"a": 1}}})", 400, "BadRequest");
  auto [s, j] = c.Call("POST", "/v1/cis", R"({"class": "PhysicalServer", "attributes": {"name": "fra1-esx01"}})");
  CHECK(j["error"]["details"]["conflicting_id"] == c.IdOf("PhysicalServer", "fra1-esx01"));
  auto [s2, j2] = c.Call("POST", "/v1/cis", R"({"class": "PhysicalServer", "attributes": {"name": "x", "cpu_count": "many"}})");
  CHECK(j2["error"]["details"]["class"] == "PhysicalServer");
  CHECK(j2["error"]["details"]["attribute"] == "cpu_count");
  CHECK(j2["error"]["details"]["expected"] == "INT");
}

TEST_CASE("listing filters by class with subclasses and pages by a stable cursor") {
  Client c;
  std::set<int64_t> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto [s, j] = c.Call("GET", "/v1/cis?class=Hardware&limit=7" + (cursor.empty() ? "" : "&cursor=" + cursor));
    REQUIRE(s == 200);
    for (const auto& ci : j["items"]) {
      CHECK(seen.insert(ci["id"].get<int64_t>()).second);
      CHECK(ci["class"] != "VirtualMachine");
    }
    cursor = j["next_cursor"].is_null() ? "" : j["next_cursor"].get<std::string>();
    ++pages;
  } while (!cursor.empty() && pages < 100);
  // 24 hosts + per DC: 2 switches, firewall, router, load balancer, SAN.
  CHECK(seen.size() == 24 + 2 * 6);
  auto [s, lbs] = c.Call("GET", "/v1/cis?class=NetworkDevice&where.manufacturer=F5");
  CHECK(lbs["items"].size() == 2);
  auto [s2, tagged] = c.Call("GET", "/v1/cis?class=VirtualMachine&where.environment=test");
  CHECK(tagged["items"].size() == 2);
}

TEST_CASE("relationships: create, list by direction and type, delete") {
  Client c;
  CiId lb = c.IdOf("LoadBalancer", "fra1-lb1");
  auto [s, rels] = c.Call("GET", "/v1/cis/" + std::to_string(lb) + "/relationships?direction=out&type=ROUTES_TO");
  CHECK(s == 200);
  CHECK(rels["items"].size() > 3);
  for (const auto& r : rels["items"]) CHECK(r["from"] == lb);
  auto [s2, bad] = c.Call("GET", "/v1/cis/" + std::to_string(lb) + "/relationships?type=ROUTE_TO");
  CHECK(s2 == 400);
  CHECK(bad["error"]["message"] == "unknown relationship type 'ROUTE_TO' (did you mean 'ROUTES_TO'?)");
  CiId app = c.IdOf("Application", "hr-app");
  CiId db = c.IdOf("Database", "orders-db");
  auto [s3, rel] = c.Call("POST", "/v1/relationships",
                          Json{{"type", "USES"}, {"from", app}, {"to", db}}.dump());
  CHECK(s3 == 201);
  auto [s4, dup] = c.Call("POST", "/v1/relationships", Json{{"type", "USES"}, {"from", app}, {"to", db}}.dump());
  CHECK(s4 == 409);
  auto [s5, wrong] = c.Call("POST", "/v1/relationships", Json{{"type", "RUNS_ON"}, {"from", db}, {"to", app}}.dump());
  CHECK(s5 == 422);
  RelId rid = rel["id"];
  CHECK(c.Call("GET", "/v1/relationships/" + std::to_string(rid)).first == 200);
  CHECK(c.Call("DELETE", "/v1/relationships/" + std::to_string(rid)).first == 200);
  CHECK(c.Call("GET", "/v1/relationships/" + std::to_string(rid)).first == 404);
}

TEST_CASE("bulk: one transaction, refs and key endpoints, idempotent, all-or-nothing with every bad line") {
  Client c;
  std::string ndjson =
      R"({"op": "ci", "ref": "a", "class": "VirtualMachine", "attributes": {"name": "bulk-a"}})" "\n"
      R"({"op": "ci", "ref": "b", "class": "AppInstance", "attributes": {"name": "bulk-b"}})" "\n"
      "\n"
      R"({"op": "rel", "type": "RUNS_ON", "from": {"ref": "b"}, "to": {"ref": "a"}})" "\n"
      R"({"op": "rel", "type": "HOSTED_ON", "from": {"ref": "a"}, "to": {"class": "PhysicalServer", "key": {"name": "fra1-esx01"}}})";
  auto [s, r] = c.Call("POST", "/v1/bulk", ndjson);
  REQUIRE(s == 200);
  CHECK(r["cis"]["created"] == 2);
  CHECK(r["relationships"]["created"] == 2);
  CHECK(r["refs"]["a"].is_number());
  auto [s2, again] = c.Call("POST", "/v1/bulk", ndjson);
  CHECK(s2 == 200);
  CHECK(again["cis"]["created"] == 0);
  CHECK(again["cis"]["unchanged"] == 2);
  CHECK(again["relationships"]["unchanged"] == 2);
  CHECK(again["tx"].is_null());

  int64_t before = c.Call("GET", "/healthz").second["cis"];
  std::string bad =
      R"({"op": "ci", "class": "VirtualMachine", "attributes": {"name": "ok-1"}})" "\n"
      R"({"op": "ci", "class": "VirtualMachine", "attributes": {"name": "bad", "cpu_count": "x"}})" "\n"
      R"({"op": "ci", "class": "VirtualMachine", "attributes": {"name": "ok-2"}})" "\n"
      R"({"op": "rel", "type": "RUNS_ON", "from": {"ref": "nope"}, "to": 1})" "\n"
      "{not json\n";
  auto [s3, err] = c.Call("POST", "/v1/bulk", bad);
  CHECK(s3 == 422);
  CHECK(err["error"]["message"] == "3 of 5 lines are invalid; nothing was applied");
  REQUIRE(err["error"]["details"]["errors"].size() == 3);
  CHECK(err["error"]["details"]["errors"][0]["line"] == 2);
  CHECK(err["error"]["details"]["errors"][1]["line"] == 4);
  CHECK(err["error"]["details"]["errors"][2]["line"] == 5);
  CHECK(c.Call("GET", "/healthz").second["cis"] == before);
}

TEST_CASE("bulk: key endpoints see CIs staged earlier in the body and report bad keys by line") {
  Client c;
  std::string ndjson =
      R"({"op": "ci", "class": "VirtualMachine", "attributes": {"name": "key-vm"}})" "\n"
      R"({"op": "ci", "class": "PhysicalServer", "attributes": {"name": "key-host"}})" "\n"
      R"({"op": "rel", "type": "HOSTED_ON", "from": {"class": "VirtualMachine", "key": {"name": "key-vm"}},)"
      R"( "to": {"class": "PhysicalServer", "key": {"name": "key-host"}}})";
  auto [s, r] = c.Call("POST", "/v1/bulk", ndjson);
  REQUIRE(s == 200);
  CHECK(r["relationships"]["created"] == 1);
  std::string bad =
      R"({"op": "rel", "type": "HOSTED_ON", "from": {"class": "VirtualMachine", "key": {"name": "no-vm"}}, "to": 1})" "\n"
      R"({"op": "rel", "type": "HOSTED_ON", "from": 1, "to": {"class": "PhysicalServer", "key": {"name": {"a": 1}}}})" "\n"
      R"({"op": "rel", "type": "HOSTED_ON", "from": {"class": "NoSuchClass", "key": {"name": "x"}}, "to": 1})" "\n"
      R"({"op": "ci", "class": "VirtualMachine", "attributes": {"name": "key-vm-2", "cpu_count": "many"}})";
  auto [s2, err] = c.Call("POST", "/v1/bulk", bad);
  CHECK(s2 == 404);  // the status of the first bad line
  const Json& errors = err["error"]["details"]["errors"];
  REQUIRE(errors.size() == 4);
  CHECK(errors[0]["message"] == R"("from": no VirtualMachine with key {"name":"no-vm"})");
  CHECK(errors[1]["line"] == 2);
  CHECK(errors[1]["message"] == R"(to.key.name: objects are not attribute values)");
  CHECK(errors[2]["message"] == R"(unknown class 'NoSuchClass')");
  CHECK(errors[3]["line"] == 4);
  CHECK(errors[3]["message"] == R"(VirtualMachine.cpu_count: expected INT, got STRING 'many')");
}

TEST_CASE("bulk: long bodies keep line order and numbers across parse batches") {
  // 5,000 CIs then 5,000 relationships to refs defined thousands of lines earlier (the JSON is
  // parsed on a second thread in batches of 1,024 lines), with bad lines in several batches.
  std::string ndjson;
  for (int i = 0; i < 5000; ++i)
    ndjson += R"({"op": "ci", "ref": "v)" + std::to_string(i) + R"(", "class": "VirtualMachine", "attributes": {"name": "batch-)" +
              std::to_string(i) + "\"}}\n";
  ndjson += "\n";  // blank line 5001
  for (int i = 0; i < 5000; ++i)
    ndjson += R"({"op": "rel", "type": "DEPENDS_ON", "from": {"ref": "v)" + std::to_string(i) + R"("}, "to": {"ref": "v)" +
              std::to_string((i + 1) % 5000) + "\"}}\n";
  Client c;
  std::string bad = ndjson;
  // Break line 1,500 (JSON), line 3,000 (a value) and line 9,000 (an unknown ref).
  auto replace_line = [&](int n, const std::string& text) {
    size_t pos = 0;
    for (int k = 1; k < n; ++k) pos = bad.find('\n', pos) + 1;
    bad.replace(pos, bad.find('\n', pos) - pos, text);
  };
  replace_line(1500, "{oops");
  replace_line(3000, R"({"op": "ci", "class": "VirtualMachine", "attributes": {"name": "x", "cpu_count": "many"}})");
  replace_line(9000, R"({"op": "rel", "type": "DEPENDS_ON", "from": {"ref": "v1"}, "to": {"ref": "nowhere"}})");
  auto [s1, err] = c.Call("POST", "/v1/bulk", bad);
  CHECK(s1 == 400);  // the first bad line's code: malformed JSON
  // The broken CI lines lose their refs, so the relationships naming v1499 and v2999 fail too.
  CHECK(err["error"]["message"] == "7 of 10001 lines are invalid; nothing was applied");
  std::vector<int64_t> lines;
  for (const auto& e : err["error"]["details"]["errors"]) lines.push_back(e["line"]);
  CHECK(lines == std::vector<int64_t>{1500, 3000, 6500, 6501, 8000, 8001, 9000});
  CHECK(err["error"]["details"]["errors"][6]["message"] == R"("to": unknown ref "nowhere" (a ref must be defined on an earlier line))");

  auto [s2, ok] = c.Call("POST", "/v1/bulk", ndjson);
  REQUIRE(s2 == 200);
  CHECK(ok["cis"]["created"] == 5000);
  CHECK(ok["relationships"]["created"] == 5000);
  CHECK(ok["refs"].size() == 5000);
}

TEST_CASE("the transaction log pages and records the change reference") {
  Client c;
  c.Call("POST", "/v1/cis", R"({"class": "VirtualMachine", "attributes": {"name": "logged"}})",
         {{"x-change-id", "CHG-42"}});
  auto [s, j] = c.Call("GET", "/v1/transactions?since=0&limit=2");
  CHECK(s == 200);
  CHECK(j["items"].size() == 2);
  CHECK(j["next_since"] == 2);
  auto [s2, rest] = c.Call("GET", "/v1/transactions?since=2");
  CHECK(rest["items"].back()["change_ref"] == "CHG-42");
  CHECK(rest["items"].back()["actor"] == "admin-bot");
}

TEST_CASE("every endpoint but /healthz needs a valid token; roles limit what a token may do") {
  Client c;
  CHECK(c.Raw("GET", "/healthz", "", {}).first == 200);
  auto [s1, e1] = c.Raw("GET", "/v1/cis", "", {});
  CHECK(s1 == 401);
  CHECK(e1["error"]["code"] == "Unauthenticated");
  CHECK(e1["error"]["message"] == "authentication required; send 'Authorization: Bearer <token>'");
  CHECK(c.Raw("GET", "/v1/cis", "", {{"authorization", "Bearer cmdb_wrong"}}).first == 401);
  CHECK(c.Raw("GET", "/v1/cis", "", {{"authorization", "Basic abc"}}).first == 401);
  std::string vm = R"({"class": "VirtualMachine", "attributes": {"name": "role-test"}})";
  std::string line = R"({"op": "ci", "class": "VirtualMachine", "attributes": {"name": "role-bulk"}})";
  std::string ddl = R"({"ddl": "CREATE NODE TYPE Role1;"})";
  // reader: reads only.
  CHECK(c.As("reader", "GET", "/v1/cis").first == 200);
  CHECK(c.As("reader", "GET", "/v1/transactions").first == 200);
  auto [s2, e2] = c.As("reader", "POST", "/v1/cis", vm);
  CHECK(s2 == 403);
  CHECK(e2["error"]["code"] == "Forbidden");
  CHECK(e2["error"]["message"] == "token 'reader-bot' has role reader, which may not write CIs");
  CHECK(c.As("reader", "POST", "/v1/bulk", line).first == 403);
  // importer: CIs and bulk, not the schema or tokens.
  CHECK(c.As("importer", "POST", "/v1/bulk", line).first == 200);
  CHECK(c.As("importer", "POST", "/v1/schema", ddl).first == 403);
  CHECK(c.As("importer", "GET", "/v1/tokens").first == 403);
  // change-manager: CIs, not bulk imports.
  CHECK(c.As("change-manager", "POST", "/v1/cis", vm).first == 201);
  CHECK(c.As("change-manager", "POST", "/v1/bulk", line).first == 403);
  // release-manager: reads, no CI writes.
  CHECK(c.As("release-manager", "PATCH", "/v1/cis/1", R"({"owner": "x"})").first == 403);
  // admin: everything.
  CHECK(c.As("admin", "POST", "/v1/schema", ddl).first == 200);
  auto [s3, who] = c.As("importer", "GET", "/v1/whoami");
  CHECK(who["name"] == "importer-bot");
  CHECK(who["role"] == "importer");
  // The importer's write is logged under its token name.
  auto [s4, log] = c.Call("GET", "/v1/transactions?since=0&limit=1000");
  bool found = false;
  for (const auto& tx : log["items"]) found = found || (tx["actor"] == "importer-bot" && tx["source"] == "bulk");
  CHECK(found);
}

TEST_CASE("admins create, list and revoke tokens; a revoked token stops working at once") {
  Client c;
  auto [s, created] = c.Call("POST", "/v1/tokens", R"({"name": "ci-pipeline", "role": "importer"})");
  REQUIRE(s == 201);
  std::string secret = created["token"];
  CHECK(secret.rfind("cmdb_", 0) == 0);
  CHECK(secret.size() == 5 + 43);
  auto [s2, list] = c.Call("GET", "/v1/tokens");
  bool listed = false;
  for (const auto& t : list["items"]) {
    CHECK_FALSE(t.contains("token"));  // secrets are never listed
    CHECK_FALSE(t.contains("hash"));
    listed = listed || t["name"] == "ci-pipeline";
  }
  CHECK(listed);
  auto auth = std::map<std::string, std::string>{{"authorization", "Bearer " + secret}};
  CHECK(c.Raw("GET", "/v1/whoami", "", auth).first == 200);
  CHECK(c.Call("POST", "/v1/tokens", R"({"name": "ci-pipeline", "role": "reader"})").first == 409);
  CHECK(c.Call("POST", "/v1/tokens", R"({"name": "x", "role": "superuser"})").first == 400);
  CHECK(c.Call("POST", "/v1/tokens", R"({"name": "bad name!", "role": "reader"})").first == 400);
  CHECK(c.Call("DELETE", "/v1/tokens/ci-pipeline").first == 200);
  CHECK(c.Raw("GET", "/v1/whoami", "", auth).first == 401);
  CHECK(c.Call("DELETE", "/v1/tokens/ci-pipeline").first == 404);
  // Only the hash is stored.
  auto stored = c.t.store.ListTokens();
  for (const auto& t : *stored) CHECK(t.hash != secret);
  // Both events are in the hash-chained log, with who did them (never the secret).
  auto [s3, log] = c.Call("GET", "/v1/transactions?limit=1000");
  const Json& items = log["items"];
  REQUIRE(items.size() >= 2);
  CHECK(items[items.size() - 2]["message"] == "token 'ci-pipeline' created with role importer");
  CHECK(items.back()["message"] == "token 'ci-pipeline' revoked");
  CHECK(items.back()["actor"] == "admin-bot");
  CHECK(items.back()["source"] == "token");
  CHECK(log.dump().find(secret) == std::string::npos);
  CHECK(c.Call("GET", "/v1/transactions/verify").second["ok"] == true);
}

TEST_CASE("POST /v1/impact by ids or by query, JSON or DOT") {
  Client c;
  CiId dc = c.IdOf("Datacenter", "dc-fra1");
  auto [s, j] = c.As("reader", "POST", "/v1/impact", Json{{"cis", {dc}}, {"max_depth", 10}}.dump());
  REQUIRE(s == 200);
  CHECK(j["seeds"].size() == 1);
  CHECK(j["services"].size() == 4);
  CHECK(j["total"].get<int>() == static_cast<int>(j["impacted"].size()));
  CHECK(j["impacted"][0]["distance"] == 1);
  CHECK(j["impacted"][0]["path"]["cis"][0] == dc);
  auto [s2, q] = c.Call("POST", "/v1/impact",
                        R"({"query": "MATCH (h:PhysicalServer {name: 'fra1-esx02'}) RETURN h", "types": ["HOSTED_ON"]})");
  CHECK(s2 == 200);
  CHECK(q["counts"]["VirtualMachine"] == 2);
  CHECK(q["counts"].size() == 1);
  api::HttpRequest req;
  req.method = "POST";
  req.path = "/v1/impact";
  req.body = Json{{"cis", {dc}}, {"format", "dot"}}.dump();
  req.headers["authorization"] = "Bearer " + c.tokens["reader"];
  auto dot = c.api.Handle(req);
  CHECK(dot.content_type == "text/vnd.graphviz");
  CHECK(dot.body.rfind("digraph impact {", 0) == 0);
  CHECK(c.Call("POST", "/v1/impact", R"({"cis": [1], "query": "x"})").first == 400);
  CHECK(c.Call("POST", "/v1/impact", R"({"cis": [1], "direction": "up"})").first == 400);
  CHECK(c.Call("POST", "/v1/impact", R"({"cis": [999999]})").first == 404);
}

TEST_CASE("queries past the concurrency limit answer 503 with Retry-After") {
  cmdb::testing::TestDb t{true};
  api::Authenticator auth{&t.store, false};
  gql::QueryEngine engine{*t.db, gql::QueryOptions{}};
  api::ApiOptions options;
  options.max_concurrent_queries = 1;
  cmdb::testing::ApiServicesFor services{*t.db, engine};
  api::Api one{*t.db, auth, engine, services.Refs(), options};
  auto request = [](const std::string& q) {
    api::HttpRequest req;
    req.method = "POST";
    req.path = "/v1/query";
    req.body = Json{{"query", q}}.dump();
    return req;
  };
  std::atomic<int> long_status{0};
  std::thread slow([&] {
    long_status = one.Handle(request("MATCH (a), (b), (c) WHERE id(a) + id(b) + id(c) < 0 RETURN count(*)")).status;
  });
  // The slow query takes the one slot: wait until its read view is open, then ask again.
  while (t.db->readers() == 0 && long_status == 0) std::this_thread::yield();
  api::HttpResponse busy = one.Handle(request("RETURN 1"));
  slow.join();
  CHECK(long_status == 200);
  CHECK(busy.status == 503);
  CHECK(Json::parse(busy.body)["error"]["code"] == "Unavailable");
  bool retry_after = false;
  for (const auto& [k, v] : busy.headers) retry_after = retry_after || (k == "Retry-After" && v == "1");
  CHECK(retry_after);
  CHECK(one.Handle(request("RETURN 1")).status == 200);  // the slot is free again
}

TEST_CASE("POST /v1/imports: dangling references and skipped records, the same in a dry run") {
  Client c;
  // Two instances in subnets the CMDB does not have, one without an id, and a classic ELB.
  std::string aws = R"([{"Reservations": [{"Instances": [
      {"InstanceId": "i-1", "SubnetId": "subnet-a", "PrivateIpAddress": "10.7.0.1"},
      {"InstanceId": "i-2", "SubnetId": "subnet-b"}, {"InstanceType": "t3.micro"}]}]},
    {"LoadBalancerDescriptions": [{"LoadBalancerName": "lb1", "Instances": [{"InstanceId": "i-1"}]}]}])";
  auto [s1, dry] = c.As("importer", "POST", "/v1/imports?format=aws&mode=dry-run", aws);
  REQUIRE(s1 == 200);
  auto [s2, applied] = c.As("importer", "POST", "/v1/imports?format=aws", aws);
  REQUIRE(s2 == 200);
  for (const Json& r : {dry, applied}) {
    CHECK(r["cis"]["created"] == 4);  // two instances, an address, the load balancer
    CHECK(r["dangling_count"] == 2);
    CHECK(r["dangling"] ==
          Json::parse(R"([{"location": "$[0].Reservations[0].Instances[0]", "reason":
            "relationship CONTAINS not created: Subnet cloud_id=subnet-a is neither in the source nor in the CMDB"},
            {"location": "$[0].Reservations[0].Instances[1]", "reason":
            "relationship CONTAINS not created: Subnet cloud_id=subnet-b is neither in the source nor in the CMDB"}])"));
    CHECK(r["skipped_count"] == 2);
    CHECK(r["skipped"] == Json::parse(R"j([
            {"location": "$[0].Reservations[0].Instances[2]", "reason": "an instance without InstanceId"},
            {"location": "$[1].LoadBalancerDescriptions[0].Instances", "reason":
             "1 instance(s) behind the load balancer are not linked (no relationship type connects a LoadBalancer to a Computer)"}])j"));
  }
  CHECK(dry["changes"] == applied["changes"]);
  // A fact-cache entry without facts does not refuse the others.
  std::string facts = R"({"web1": {"ansible_hostname": "web1", "ansible_default_ipv4": {"address": "10.7.1.1"}},
                          "db7": {"discovered_interpreter_python": "/usr/bin/python3"}})";
  auto [s3, partial] = c.As("importer", "POST", "/v1/imports?format=ansible", facts);
  REQUIRE(s3 == 200);
  CHECK(partial["cis"]["created"] == 2);
  CHECK(partial["skipped"] == Json::parse(
            R"j([{"location": "$.db7 (db7)", "reason": "no host facts (only discovered_interpreter_python)"}])j"));
}

TEST_CASE("POST /v1/imports: apply, dry run, errors with locations, permissions, provenance") {
  Client c;
  std::string nmap = R"(<?xml version="1.0"?><nmaprun><host><status state="up"/><address addr="10.9.9.9" addrtype="ipv4"/>
<hostnames><hostname name="probe.example.org" type="PTR"/></hostnames>
<ports><port protocol="tcp" portid="22"><state state="open"/><service name="ssh" product="OpenSSH"/></port></ports></host></nmaprun>)";
  CHECK(c.As("reader", "POST", "/v1/imports?format=nmap", nmap).first == 403);
  auto [s1, dry] = c.As("importer", "POST", "/v1/imports?format=nmap&source=nmap-dc1&mode=dry-run", nmap);
  REQUIRE(s1 == 200);
  CHECK(dry["mode"] == "dry-run");
  CHECK(dry["tx"].is_null());
  CHECK(dry["cis"]["created"] == 3);  // host, address, port
  CHECK(c.Call("GET", "/v1/cis?class=DiscoveredHost").second["items"].empty());
  auto [s2, applied] = c.As("importer", "POST", "/v1/imports?format=nmap&source=nmap-dc1", nmap);
  REQUIRE(s2 == 200);
  CHECK(applied["changes"] == dry["changes"]);
  CiId host = applied["changes"][0]["op"] == "create" ? c.IdOf("DiscoveredHost", "probe.example.org") : 0;
  REQUIRE(host > 0);
  auto [s3, prov] = c.Call("GET", "/v1/cis/" + std::to_string(host) + "/provenance");
  CHECK(prov["sources"][0]["source"] == "nmap-dc1");
  CHECK(prov["sources"][0]["owns"].contains("ip_address"));
  auto [s4, log] = c.Call("GET", "/v1/transactions?limit=1000");
  CHECK(log["items"].back()["actor"] == "import:nmap-dc1");
  auto [s5, again] = c.As("importer", "POST", "/v1/imports?format=nmap&source=nmap-dc1", nmap);
  CHECK(again["cis"]["created"] == 0);
  CHECK(again["cis"]["unchanged"] == 3);
  // Errors: the format, the XML position, every bad CSV line.
  auto [s6, bad_format] = c.As("importer", "POST", "/v1/imports?format=excel", "x");
  CHECK(s6 == 400);
  auto [s7, bad_xml] = c.As("importer", "POST", "/v1/imports?format=nmap", "<nmaprun>\n<host>");
  CHECK(s7 == 400);
  CHECK(bad_xml["error"]["line"] == 2);
  CHECK(bad_xml["error"]["column"] == 7);
  CHECK(bad_xml["error"]["message"] ==
        "the nmap XML ends early at line 2, column 7: the file is truncated (no closing </nmaprun>)");
  std::string mapping = R"({"class": "VirtualMachine", "columns": {"name": "name", "ip": "ip_address"}})";
  auto [s8, bad_csv] = c.Raw("POST", "/v1/imports?format=csv", "name,ip\na\nb,10.0.0.1\nc,1,2\n",
                             {{"authorization", "Bearer " + c.tokens["importer"]}, {"x-import-mapping", mapping}});
  CHECK(s8 == 400);
  CHECK(bad_csv["error"]["code"] == "BadRequest");  // a code of the error table (api.md)
  REQUIRE(bad_csv["error"]["errors"].size() == 2);
  CHECK(bad_csv["error"]["errors"][1]["location"] == "line 4");
  CHECK(c.As("importer", "POST", "/v1/imports?format=csv&mapping=../../etc/passwd", "a").first == 404);
  CHECK(c.As("importer", "POST", "/v1/imports?format=nmap&mode=maybe", nmap).first == 400);
}

TEST_CASE("a JSON number too large for a double is a 400, not a 500 (found by fuzzing)") {
  Client c;
  auto [s, j] = c.Call("POST", "/v1/cis", R"({"class": "VirtualMachine", "attributes": {"name": "n", "cpu_count": 1e999999}})");
  CHECK(s == 400);
  CHECK(j["error"]["message"] == "invalid JSON body: number out of range ('1e999999')");
  // A syntax error: one position, the reason alone (no library text, no echo of the input).
  auto [s2, j2] = c.Call("POST", "/v1/query", R"({"query": "RETURN 1")");
  CHECK(s2 == 400);
  CHECK(j2["error"]["message"] ==
        "malformed JSON body at line 1, column 21: unexpected end of input; expected '}'");
  CHECK(j2["error"]["column"] == 21);
  auto [s3, j3] = c.Call("POST", "/v1/query", R"({"query": "x"} x)");
  CHECK(s3 == 400);
  CHECK(j3["error"]["message"] ==
        "malformed JSON body at line 1, column 16: invalid literal; expected end of input");
}

TEST_CASE("a token revoked outside the server stops working when its cache entry expires (settable clock)") {
  cmdb::testing::TestDb t;
  ManualClock clock(1'800'000'000'000'000);
  api::Authenticator auth{&t.store, true, &clock};
  auto issued = auth.Issue("outside", Role::kReader);
  REQUIRE(issued.ok());
  CHECK(issued->first.created_at == 1'800'000'000'000'000);
  const std::string header = "Bearer " + issued->second;
  REQUIRE(auth.Authenticate(header).ok());
  // `cmdbd token revoke` writes the store directly: the server learns of it from its cache's expiry.
  REQUIRE(t.store.RevokeToken("outside", clock.NowMicros()).ok());
  clock.Advance(int64_t{api::Authenticator::kCacheSeconds} * 1'000'000 - 1);
  CHECK(auth.Authenticate(header).ok());
  clock.Advance(1);
  auto refused = auth.Authenticate(header);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message() ==
        "invalid or revoked token; send 'Authorization: Bearer <token>'");
}

TEST_CASE("POST /v1/query answers \"plan\" for EXPLAIN and PROFILE only") {
  Client c;
  std::string text = "MATCH (a:Application {app_code: 'SHOP_API'}) RETURN a.name";
  auto query = [&](const std::string& q) {
    return c.Call("POST", "/v1/query", Json{{"query", q}}.dump());
  };
  auto [s1, run] = query(text);
  CHECK(s1 == 200);
  CHECK_FALSE(run.contains("plan"));
  CHECK(run["rows"].size() == 1);
  auto [s2, explain] = query("EXPLAIN " + text);
  CHECK(s2 == 200);
  CHECK(explain["plan"].get<std::string>().rfind("Match\n", 0) == 0);
  CHECK(explain["rows"].empty());
  auto [s3, profile] = query("PROFILE " + text);
  CHECK(s3 == 200);
  CHECK(profile["plan"].get<std::string>().rfind("Match: 1 rows, ", 0) == 0);
  CHECK(profile["rows"].size() == 1);
}

TEST_CASE("POST /v1/imports: merges, identity conflicts and the cluster scope in the answer") {
  Client c;
  // Two instances named web (another InstanceId each: two CIs, the second reported), and the
  // first one listed twice (merged by its id).
  auto instance = [](const std::string& id, const std::string& ip) {
    return R"({"InstanceId": ")" + id + R"(", "PrivateIpAddress": ")" + ip +
           R"(", "Placement": {"AvailabilityZone": "us-east-1a"}, "Tags": [{"Key": "Name", "Value": "web"}]})";
  };
  std::string body = R"({"Reservations": [{"OwnerId": "123456789012", "Instances": [)" +
                     instance("i-01", "10.0.0.1") + "," + instance("i-02", "10.0.0.2") + "," +
                     instance("i-01", "10.0.0.1") + "]}]}";
  auto [s1, dry] = c.As("importer", "POST", "/v1/imports?format=aws&mode=dry-run", body);
  REQUIRE(s1 == 200);
  auto [s2, r] = c.As("importer", "POST", "/v1/imports?format=aws", body);
  REQUIRE(s2 == 200);
  CHECK(dry["merges"] == r["merges"]);
  CHECK(dry["identity_conflicts"] == r["identity_conflicts"]);
  // Two instances and their two private addresses; i-01 listed again merges with its address.
  CHECK(r["cis"]["created"] == 4);
  CHECK(r["cis"]["merged"] == 2);
  // Candidates with a strong identifier (the instances) are identified before those without.
  CHECK(r["merges"] == Json::parse(R"([{"location": "$.Reservations[0].Instances[2]",
    "into": "$.Reservations[0].Instances[0]", "class": "VirtualMachine", "name": "web",
    "rule": "ref", "value": "aws:i-01", "strength": "ref"},
    {"location": "$.Reservations[0].Instances[2] address 10.0.0.1",
    "into": "$.Reservations[0].Instances[0] address 10.0.0.1", "class": "IPAddress",
    "name": "10.0.0.1", "rule": "ref", "value": "ip:10.0.0.1@123456789012/us-east-1", "strength": "ref"}])"));
  CHECK(r["identity_conflicts"] == Json::parse(R"([{"location": "$.Reservations[0].Instances[1]",
    "class": "VirtualMachine", "name": "web", "reason": "contradicted", "rule": "name",
    "value": "web", "policy": "create",
    "matches": [{"location": "$.Reservations[0].Instances[0]", "attribute": "cloud_id",
                 "theirs": "i-01", "ours": "i-02"}]}])"));
  CHECK(c.IdOf("VirtualMachine", "web (i-02)") > 0);
  // Kubernetes: the cluster parameter scopes namespaces; without it, the source does.
  std::string ns = R"({"kind": "NamespaceList", "items": [{"metadata": {"name": "kube-system"}}]})";
  CHECK(c.As("importer", "POST", "/v1/imports?format=kubernetes&cluster=eks", ns).second["cis"]["created"] == 1);
  CHECK(c.As("importer", "POST", "/v1/imports?format=kubernetes&cluster=gke", ns).second["cis"]["created"] == 1);
  CHECK(c.As("importer", "POST", "/v1/imports?format=kubernetes&cluster=gke", ns).second["cis"]["unchanged"] == 1);
  auto [s3, list] = c.Call("GET", "/v1/cis?class=K8sNamespace&where.name=kube-system");
  REQUIRE(list["items"].size() == 2);
  CHECK(list["items"][0]["attributes"]["cluster"] != list["items"][1]["attributes"]["cluster"]);
  // AWS: account and region for records that name none; checked; a full scan's coverage listed.
  std::string vpcs = R"({"Vpcs": [{"VpcId": "vpc-9", "OwnerId": "111111111111"}]})";
  auto [s4, full] = c.As("importer", "POST", "/v1/imports?format=aws&full=true&region=eu-west-1", vpcs);
  CHECK(s4 == 200);
  CHECK(full["coverage"] == Json::parse(R"([{"class": "VPC", "covers": true,
    "scope": "those with account_id '111111111111', region 'eu-west-1'"}])"));
  auto [s5, plain] = c.As("importer", "POST", "/v1/imports?format=aws&region=eu-west-1", vpcs);
  CHECK(plain["coverage"] == Json::array());
  auto [s6, bad] = c.As("importer", "POST", "/v1/imports?format=aws&account=12345", vpcs);
  CHECK(s6 == 400);
  CHECK(bad["error"]["details"]["parameter"] == "account");
  CHECK(bad["error"]["message"] == "account must be an AWS account id (12 digits)");
  auto [s7, bad2] = c.As("importer", "POST", "/v1/imports?format=aws&region=EU%20West", vpcs);
  CHECK(s7 == 400);
  CHECK(bad2["error"]["details"]["parameter"] == "region");
  auto [s8, bad3] = c.As("importer", "POST", "/v1/imports?format=kubernetes&region=eu-west-1", ns);
  CHECK(s8 == 400);
  CHECK(bad3["error"]["message"] == "account and region are parameters of the aws format");
  auto [s9, bad4] = c.As("importer", "POST", "/v1/imports?format=aws&cluster=eks", vpcs);
  CHECK(s9 == 400);
  CHECK(bad4["error"]["message"] == "cluster is a parameter of the kubernetes format");
}
