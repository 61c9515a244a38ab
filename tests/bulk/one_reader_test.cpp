// One reader of the bulk format: the same NDJSON bytes through POST /v1/bulk and through the
// ndjson import (POST /v1/imports?format=ndjson, which `cmdbd import` sends too: see the
// integration test) are accepted or refused alike, line by line, with the same messages.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
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

// The refused lines of a POST /v1/imports answer ({"location": "line 12", "message"}).
Refusals FromImport(const Json& answer) {
  Refusals out;
  for (const Json& e : answer["error"]["errors"]) {
    std::string where = e["location"];
    REQUIRE(where.rfind("line ", 0) == 0);
    out.emplace_back(std::stoll(where.substr(5)), e["message"].get<std::string>());
  }
  return out;
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
      {6, "malformed JSON at column 51: parse error at line 1, column 51: syntax error while "
          "parsing object - unexpected string literal; expected '}'"},
      {8, "ref \"a\" is defined twice, on lines 1 and 8 (a ref names one CI per request)"},
      {9, "\"from\": unknown ref \"later\" (a ref must be defined on an earlier line)"},
      {11, "\"id\" must be an integer"},
      {12, "unknown field \"note\"; allowed: op, ref, class, id, type, attributes, from, to"},
      {13, "malformed JSON at column 72: parse error at line 1, column 72: syntax error while "
           "parsing value - invalid string: missing closing quote; last read: '\"one-rea'"},
  };
  auto before = State(c);
  auto [sb, bulk] = c.Call("POST", "/v1/bulk", file);
  auto [si, imported] = c.Call("POST", "/v1/imports?format=ndjson", file);
  auto [sd, dry] = c.Call("POST", "/v1/imports?format=ndjson&mode=dry-run&source=scan", file);
  INFO(bulk.dump() << "\n" << imported.dump());
  CHECK(sb == 400);
  CHECK(si == 400);
  CHECK(sd == 400);
  CHECK(FromBulk(bulk) == expected);
  CHECK(bulk["error"]["details"]["error_count"] == expected.size());
  CHECK(FromImport(imported) == expected);
  CHECK(FromImport(dry) == expected);
  CHECK(bulk["error"]["message"] == "8 of 13 lines are invalid; nothing was applied");
  CHECK(imported["error"]["message"] ==
        "8 record(s) of the source are invalid; first at line 2: missing \"op\" (\"ci\" or "
        "\"rel\"); nothing was imported");
  CHECK(State(c) == before);

  // Line by line: each bad line alone is refused alike, and each good one accepted by both.
  std::vector<std::string> lines;
  for (size_t start = 0; start <= file.size();) {
    size_t end = std::min(file.find('\n', start), file.size());
    lines.push_back(file.substr(start, end - start));
    start = end + 1;
  }
  for (const std::string& line : {lines[1], lines[2], lines[5], lines[10], lines[11], lines[12]}) {
    INFO(line);
    auto [s1, b1] = c.Call("POST", "/v1/bulk", line);
    auto [s2, i2] = c.Call("POST", "/v1/imports?format=ndjson&mode=dry-run", line);
    CHECK(s1 == 400);
    CHECK(s2 == 400);
    CHECK(FromBulk(b1) == FromImport(i2));
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
  for (auto [line, message] : std::vector<std::pair<std::string, std::string>>{
           {R"({"op": "ci", "id": 999999, "attributes": {"os": "x"}})",
            "CI 999999 does not exist"},
           {R"({"op": "ci", "id": 0, "class": "VirtualMachine", "attributes": {"name": "zero"}})",
            "CI 0 does not exist"},
           {R"({"op": "ci", "id": )" + vm + R"(, "class": "PhysicalServer", "attributes": {}})",
            "CI " + vm + " is a VirtualMachine, not a PhysicalServer; a CI keeps its class"}}) {
    INFO(line);
    auto [s1, bulk] = c.Call("POST", "/v1/bulk", line);
    auto [s2, imported] = c.Call("POST", "/v1/imports?format=ndjson", line);
    CHECK(FromBulk(bulk) == Refusals{{1, message}});
    CHECK(FromImport(imported) == Refusals{{1, message}});
  }
  CHECK(State(c) == before);
}
