// One reader of the bulk format: the same NDJSON bytes through POST /v1/bulk and through the
// ndjson import (POST /v1/imports?format=ndjson, which `cmdbd import` sends too: see the
// integration test) are accepted or refused alike, line by line: a refusal has the same HTTP
// status and the same body (codes, messages, details, lines), for format errors and for lines
// naming CIs that the data does not have or cannot take, in an apply and in a dry run.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "api/api_client.hpp"

using namespace cmdb;
using api::Json;
using cmdb::testing::Client;

namespace {

using Refusals = std::vector<std::pair<int64_t, std::string>>;

// The refused lines of a POST /v1/bulk answer.
Refusals FromBulk(const Json& answer) {
  Refusals out;
  for (const Json& e : answer["error"]["details"]["errors"])
    out.emplace_back(e["line"].get<int64_t>(), e["message"].get<std::string>());
  return out;
}

// Sends `file` to POST /v1/bulk, to the ndjson import and to its dry run; the three must answer
// with the same status and the same body. Returns the bulk answer.
std::pair<int, Json> SameAnswer(Client& c, const std::string& file) {
  auto [sb, bulk] = c.Call("POST", "/v1/bulk", file);
  auto [si, imported] = c.Call("POST", "/v1/imports?format=ndjson", file);
  auto [sd, dry] = c.Call("POST", "/v1/imports?format=ndjson&mode=dry-run&source=scan", file);
  INFO(file << "\n" << bulk.dump() << "\n" << imported.dump() << "\n" << dry.dump());
  CHECK(si == sb);
  CHECK(sd == sb);
  CHECK(imported == bulk);
  CHECK(dry == bulk);
  return {sb, bulk};
}

// The lines of `file` ('\n' ends a line; the last may lack it).
std::vector<std::string> Lines(const std::string& file) {
  std::vector<std::string> lines;
  for (size_t start = 0; start <= file.size();) {
    size_t end = std::min(file.find('\n', start), file.size());
    lines.push_back(file.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

// The number of transactions and CIs: unchanged by every refused request.
std::pair<int64_t, int64_t> State(Client& c) {
  auto [s, h] = c.Call("GET", "/healthz");
  return {h["tx"].get<int64_t>(), h["cis"].get<int64_t>()};
}

}  // namespace

TEST_CASE("one reader: POST /v1/bulk and the ndjson import refuse the same lines of a file alike") {
  Client c;
  std::string vm = std::to_string(c.IdOf("VirtualMachine", "pg-fra1-01"));
  std::string host = std::to_string(c.IdOf("PhysicalServer", "fra1-esx01"));
  const std::string file =
      // 1: fine, defines ref "a"
      R"({"op": "ci", "ref": "a", "class": "VirtualMachine", "attributes": {"name": "one-reader-1"}})" "\n"
      // 2: no "op" (the importer used to take it for a CI)
      R"({"class": "VirtualMachine", "attributes": {"name": "one-reader-2"}})" "\n"
      // 3: an attribute holding an object
      R"({"op": "ci", "class": "VirtualMachine", "attributes": {"name": "one-reader-3", "os": {"family": "linux"}}})" "\n"
      // 4: fine, endpoints by id (the importer used to refuse them)
      R"({"op": "rel", "type": "DEPENDS_ON", "from": )" + vm + R"(, "to": )" + host + "}\n"
      // 5: fine, a ref and an id
      R"({"op": "rel", "type": "DEPENDS_ON", "from": {"ref": "a"}, "to": )" + host + "}\n"
      // 6: malformed
      R"({"op": "ci", "class": "VirtualMachine" "attributes": {}})" "\n"
      // 7: blank
      "\n"
      // 8: ref "a" again
      R"({"op": "ci", "ref": "a", "class": "VirtualMachine", "attributes": {"name": "one-reader-8"}})" "\n"
      // 9: a ref no earlier line defines
      R"({"op": "rel", "type": "DEPENDS_ON", "from": {"ref": "later"}, "to": {"ref": "a"}})" "\n"
      // 10: fine, defines "later" (too late for line 9)
      R"({"op": "ci", "ref": "later", "id": )" + vm + R"(, "attributes": {"os": "linux"}})" "\n"
      // 11: "id" in the wrong type, an unknown field
      R"({"op": "ci", "id": "7", "attributes": {}})" "\n"
      R"({"op": "rel", "type": "DEPENDS_ON", "from": 1, "to": 2, "note": "x"})" "\n"
      // 13: truncated, the last line without its end
      R"({"op": "ci", "class": "VirtualMachine", "attributes": {"name": "one-rea)";
  const Refusals expected = {
      {2, "missing \"op\" (\"ci\" or \"rel\")"},
      {3, "attributes.os: objects are not attribute values"},
      {6, "malformed JSON at column 51: unexpected string literal; expected '}'"},
      {8, "ref \"a\" is defined twice, on lines 1 and 8 (a ref names one CI per request)"},
      {9, "\"from\": unknown ref \"later\" (a ref must be defined on an earlier line)"},
      {11, "\"id\" must be an integer"},
      {12, "unknown field \"note\"; allowed: op, ref, class, id, type, attributes, from, to"},
      {13, "malformed JSON at column 72: invalid string: missing closing quote"},
  };
  auto before = State(c);
  auto [status, bulk] = SameAnswer(c, file);
  CHECK(status == 400);
  CHECK(FromBulk(bulk) == expected);
  CHECK(bulk["error"]["details"]["error_count"] == expected.size());
  CHECK(bulk["error"]["code"] == "BadRequest");
  CHECK(bulk["error"]["message"] == "8 of 13 lines are invalid; nothing was applied");
  CHECK(State(c) == before);

  // Line by line: each bad line alone is refused alike.
  std::vector<std::string> lines = Lines(file);
  for (const std::string& line : {lines[1], lines[2], lines[5], lines[10], lines[11], lines[12]}) {
    auto [s1, b1] = SameAnswer(c, line);
    CHECK(s1 == 400);
    CHECK(FromBulk(b1).size() == 1);
  }
  CHECK(State(c) == before);
}

TEST_CASE("one reader: a good file is accepted by POST /v1/bulk and the ndjson import alike") {
  Client bulk_side, import_side;  // two demo databases: the same CIs, the same ids
  std::string vm = std::to_string(bulk_side.IdOf("VirtualMachine", "pg-fra1-01"));
  std::string host = std::to_string(bulk_side.IdOf("PhysicalServer", "fra1-esx01"));
  REQUIRE(import_side.IdOf("VirtualMachine", "pg-fra1-01") == std::stoll(vm));
  const std::string file =
      R"({"op": "ci", "ref": "n", "class": "VirtualMachine", "attributes": {"name": "one-reader-new", "cpu_count": 2, "description": null}})" "\n"
      R"({"op": "ci", "id": )" + vm + R"(, "class": "VirtualMachine", "attributes": {"os": "one-reader-os"}})" "\n"
      "\r\n"
      R"({"op": "rel", "type": "DEPENDS_ON", "from": )" + vm + R"(, "to": )" + host + "}\n"
      R"({"op": "rel", "type": "DEPENDS_ON", "from": {"ref": "n"}, "to": )" + vm + "}\r\n"
      R"({"op": "rel", "type": "DEPENDS_ON", "from": {"ref": "n"}, "to": {"class": "PhysicalServer", "key": {"name": "fra1-esx01"}}, "attributes": {"note": "by key"}})";
  auto [sb, bulk] = bulk_side.Call("POST", "/v1/bulk", file);
  auto [si, imported] = import_side.Call("POST", "/v1/imports?format=ndjson", file);
  INFO(bulk.dump() << "\n" << imported.dump());
  REQUIRE(sb == 200);
  REQUIRE(si == 200);
  for (const char* k : {"created", "updated", "unchanged"}) {
    CHECK(bulk["cis"][k] == imported["cis"][k]);
    CHECK(bulk["relationships"][k] == imported["relationships"][k]);
  }
  CHECK(bulk["cis"]["created"] == 1);
  CHECK(bulk["cis"]["updated"] == 1);
  CHECK(bulk["relationships"]["created"] == 3);
  // The same CIs and relationships, with the same attributes, on both sides.
  std::vector<Json> seen;
  for (Client* side : {&bulk_side, &import_side}) {
    auto [s1, made] = side->Call("GET", "/v1/cis?class=VirtualMachine&where.name=one-reader-new");
    REQUIRE(made["items"].size() == 1);
    Json attrs = made["items"][0]["attributes"];
    CHECK(attrs["cpu_count"] == 2);
    CHECK_FALSE(attrs.contains("description"));  // null: not set
    auto [s2, updated] = side->Call("GET", "/v1/cis/" + vm);
    CHECK(updated["attributes"]["os"] == "one-reader-os");
    auto [s3, rels] =
        side->Call("GET", "/v1/cis/" + made["items"][0]["id"].dump() + "/relationships");
    Json ends = Json::array();
    for (const Json& r : rels["items"])
      ends.push_back(Json{r["type"], r["from"], r["to"], r["attributes"]});
    seen.push_back(Json{attrs, updated["attributes"], ends});
  }
  CHECK(seen[0] == seen[1]);
  CHECK(seen[0][2].size() == 2);
}

TEST_CASE("one reader: a CI named by id must exist and keep its class, on both paths") {
  Client c;
  std::string vm = std::to_string(c.IdOf("VirtualMachine", "pg-fra1-01"));
  auto before = State(c);
  for (auto [line, status, message] : std::vector<std::tuple<std::string, int, std::string>>{
           {R"({"op": "ci", "id": 999999, "attributes": {"os": "x"}})", 404,
            "CI 999999 does not exist"},
           {R"({"op": "ci", "id": 0, "class": "VirtualMachine", "attributes": {"name": "zero"}})",
            404, "CI 0 does not exist"},
           {R"({"op": "ci", "id": )" + vm + R"(, "class": "PhysicalServer", "attributes": {}})",
            409,
            "CI " + vm + " is a VirtualMachine, not a PhysicalServer; a CI keeps its class"}}) {
    auto [s, bulk] = SameAnswer(c, line);
    CHECK(s == status);
    CHECK(FromBulk(bulk) == Refusals{{1, message}});
  }
  CHECK(State(c) == before);
}

TEST_CASE("one reader: lines naming CIs the data lacks or cannot take are refused alike") {
  Client c;
  std::string vm = std::to_string(c.IdOf("VirtualMachine", "pg-fra1-01"));
  std::string vm2 = std::to_string(c.IdOf("VirtualMachine", "pg-fra1-02"));
  std::string vm3 = std::to_string(c.IdOf("VirtualMachine", "pg-fra1-03"));
  std::string host = std::to_string(c.IdOf("PhysicalServer", "fra1-esx01"));
  std::string shop_web = std::to_string(c.IdOf("Application", "shop-web"));
  std::string shop_api = std::to_string(c.IdOf("Application", "shop-api"));
  const std::string file =
      // 1: fine, a new CI with ref "n"
      R"({"op": "ci", "ref": "n", "class": "VirtualMachine", "attributes": {"name": "one-reader-data"}})" "\n"
      // 2: a UNIQUE value another CI holds
      R"({"op": "ci", "class": "Application", "attributes": {"name": "one-reader-app", "app_code": "SHOP_WEB"}})" "\n"
      // 3: a key endpoint naming no CI
      R"({"op": "rel", "type": "LOCATED_IN", "from": )" + host + R"(, "to": {"class": "Rack", "key": {"name": "no-such-rack"}}})" "\n"
      // 4, 5: id endpoints naming no CI
      R"({"op": "rel", "type": "DEPENDS_ON", "from": 999999, "to": )" + host + "}\n"
      R"({"op": "rel", "type": "DEPENDS_ON", "from": {"ref": "n"}, "to": 999998})" "\n"
      // 6: an update to a KEY another CI holds
      R"({"op": "ci", "id": )" + vm + R"(, "attributes": {"name": "pg-fra1-02"}})" "\n"
      // 7: an update naming another class
      R"({"op": "ci", "id": )" + vm + R"(, "class": "PhysicalServer", "attributes": {}})" "\n"
      // 8: an update with a value of the wrong type, 9: a new CI with one
      R"({"op": "ci", "id": )" + vm + R"(, "attributes": {"cpu_count": "many"}})" "\n"
      R"({"op": "ci", "class": "VirtualMachine", "attributes": {"name": "one-reader-bad", "memory_gb": "lots"}})" "\n"
      // 10: endpoints the type does not connect
      R"({"op": "rel", "type": "RUNS_ON", "from": )" + vm + R"(, "to": )" + host + "}\n"
      // 11: a relationship attribute of the wrong type
      R"({"op": "rel", "type": "DEPENDS_ON", "from": {"ref": "n"}, "to": )" + host + R"(, "attributes": {"note": 5}})" "\n"
      // 12: an unknown relationship type
      R"({"op": "rel", "type": "DEPENDS_ONN", "from": {"ref": "n"}, "to": )" + host + "}\n"
      // 13: a ref on a line naming no CI, 14: so the ref is not defined
      R"({"op": "ci", "ref": "gone", "id": 999997, "attributes": {}})" "\n"
      R"({"op": "rel", "type": "DEPENDS_ON", "from": {"ref": "gone"}, "to": )" + host + "}\n"
      // 15: fine, a key endpoint naming the new CI of line 1
      R"({"op": "rel", "type": "DEPENDS_ON", "from": )" + host + R"(, "to": {"class": "VirtualMachine", "key": {"name": "one-reader-data"}}})" "\n"
      // 16: an update with an attribute the class lacks
      R"({"op": "ci", "id": )" + vm2 + R"(, "attributes": {"no_such": 1}})" "\n"
      // 17: a second LOCATED_IN of a host (MANY_TO_ONE)
      R"({"op": "rel", "type": "LOCATED_IN", "from": )" + host + R"(, "to": {"class": "Rack", "key": {"name": "fra1-rack02"}}})" "\n"
      // 18: fine, an update by id
      R"({"op": "ci", "id": )" + vm2 + R"(, "attributes": {"os": "one-reader-os"}})" "\n"
      // 19: a new CI with a UNIQUE value another CI holds, 20: so its ref "dup" is not defined
      R"({"op": "ci", "ref": "dup", "class": "Application", "attributes": {"name": "one-reader-app2", "app_code": "SHOP_API"}})" "\n"
      R"({"op": "rel", "type": "DEPENDS_ON", "from": )" + host + R"(, "to": {"ref": "dup"}})" "\n"
      // 21: an update to a KEY another CI holds, 22: so its ref "ren" is not defined
      R"({"op": "ci", "ref": "ren", "id": )" + vm3 + R"(, "attributes": {"name": "pg-fra1-01"}})" "\n"
      R"({"op": "rel", "type": "DEPENDS_ON", "from": {"ref": "ren"}, "to": )" + host + "}\n"
      // 23: fine, an update by id
      R"({"op": "ci", "id": )" + vm3 + R"(, "class": "VirtualMachine", "attributes": {}})";
  const std::vector<std::tuple<int64_t, std::string, std::string>> expected = {
      {2, "Conflict", "Application.app_code = 'SHOP_WEB' is already held by CI " + shop_web +
                          " ('shop-web')"},
      {3, "NotFound", "\"to\": no Rack with key {\"name\":\"no-such-rack\"}"},
      {4, "NotFound", "relationship source CI 999999 does not exist"},
      {5, "NotFound", "relationship target CI 999998 does not exist"},
      {6, "Conflict", "KEY of Computer ('pg-fra1-02') is already held by CI " + vm2 +
                          " ('pg-fra1-02')"},
      {7, "Conflict",
       "CI " + vm + " is a VirtualMachine, not a PhysicalServer; a CI keeps its class"},
      {8, "SchemaViolation", "VirtualMachine.cpu_count: expected INT, got STRING 'many'"},
      {9, "SchemaViolation", "VirtualMachine.memory_gb: expected FLOAT, got STRING 'lots'"},
      {10, "SchemaViolation",
       "relationship type RUNS_ON does not connect VirtualMachine -> PhysicalServer (allowed: "
       "AppInstance -> Computer, AppInstance -> PhysicalServer, AppInstance -> Container, "
       "AppInstance -> K8sPod, DatabaseInstance -> Computer, DatabaseInstance -> PhysicalServer, "
       "DatabaseInstance -> Container, Container -> Computer, Container -> PhysicalServer, "
       "K8sNode -> Computer, K8sNode -> PhysicalServer, K8sPod -> K8sNode)"},
      {11, "SchemaViolation", "DEPENDS_ON.note: expected STRING, got INT 5"},
      {12, "SchemaViolation",
       "unknown relationship type 'DEPENDS_ONN' (did you mean 'DEPENDS_ON'?)"},
      {13, "NotFound", "CI 999997 does not exist"},
      {14, "BadRequest",
       "\"from\": unknown ref \"gone\" (a ref must be defined on an earlier line)"},
      {16, "SchemaViolation", "class 'VirtualMachine' has no attribute 'no_such'"},
      {17, "Conflict",
       "CI " + host + " already has an outgoing LOCATED_IN relationship (MANY_TO_ONE)"},
      {19, "Conflict", "Application.app_code = 'SHOP_API' is already held by CI " + shop_api +
                           " ('shop-api')"},
      {20, "BadRequest",
       "\"to\": unknown ref \"dup\" (a ref must be defined on an earlier line)"},
      {21, "Conflict", "KEY of Computer ('pg-fra1-01') is already held by CI " + vm +
                           " ('pg-fra1-01')"},
      {22, "BadRequest",
       "\"from\": unknown ref \"ren\" (a ref must be defined on an earlier line)"},
  };
  auto before = State(c);
  auto [status, bulk] = SameAnswer(c, file);
  CHECK(status == 409);  // the first refused line's
  CHECK(bulk["error"]["code"] == "Conflict");
  CHECK(bulk["error"]["message"] == "19 of 23 lines are invalid; nothing was applied");
  CHECK(bulk["error"]["details"]["error_count"] == expected.size());
  std::vector<std::tuple<int64_t, std::string, std::string>> refused;
  for (const Json& e : bulk["error"]["details"]["errors"])
    refused.emplace_back(e["line"].get<int64_t>(), e["code"], e["message"]);
  REQUIRE(refused.size() == expected.size());
  for (size_t i = 0; i < refused.size(); ++i) {
    auto [line, code, message] = refused[i];
    INFO(line << " " << code << " " << message);
    CHECK(refused[i] == expected[i]);
  }
  // Details are kept too: the holder of the UNIQUE value, the attribute and type expected.
  CHECK(bulk["error"]["details"]["errors"][0]["details"] ==
        Json{{"conflicting_id", std::stoll(shop_web)}});
  CHECK(bulk["error"]["details"]["errors"][6]["details"] ==
        Json{{"attribute", "cpu_count"}, {"class", "VirtualMachine"}, {"expected", "INT"}});
  CHECK(State(c) == before);

  // Each bad line alone (15, 20 and 22 too: alone, they name no CI or ref): the same status and
  // body on both paths. Lines 1, 18 and 23 are good; the good file test covers good lines.
  std::vector<std::string> lines = Lines(file);
  for (size_t i = 1; i < lines.size(); ++i) {
    if (i == 17 || i == 22) continue;
    auto [s1, b1] = SameAnswer(c, lines[i]);
    CHECK(FromBulk(b1).size() == 1);
    CHECK(b1["error"]["message"] == "1 of 1 lines are invalid; nothing was applied");
  }
  CHECK(State(c) == before);
}
