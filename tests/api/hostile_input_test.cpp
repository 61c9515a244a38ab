// Hostile input at the API and importer edges (docs/security.md, "Limits and hostile input"):
// deep JSON, unknown fields and duplicate keys, token rules, bulk refs and classes, invalid UTF-8
// and importers that skip or drop input. Each refusal is checked for its exact text and for
// having changed nothing.
#include <catch2/catch.hpp>
#include <string>

#include "api/api_client.hpp"

using namespace cmdb;
using api::Json;
using cmdb::testing::Client;

namespace {

std::string Repeat(const std::string& s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

// The number of transactions and CIs: unchanged by every refused request.
std::pair<int64_t, int64_t> State(Client& c) {
  auto [s, h] = c.Call("GET", "/healthz");
  return {h["tx"].get<int64_t>(), h["cis"].get<int64_t>()};
}

std::string Message(const Json& j) { return j["error"]["message"].get<std::string>(); }

}  // namespace

TEST_CASE("hostile input: JSON nested past the limit is refused at its position, never applied") {
  Client c;
  auto before = State(c);
  std::string arrays = Repeat("[", 50000) + Repeat("]", 50000);
  std::string objects = Repeat("{\"a\":", 100000) + "1" + Repeat("}", 100000);
  // POST /v1/cis, attribute values nested 50,000 arrays deep.
  auto [s1, e1] = c.Call("POST", "/v1/cis",
                         R"({"class": "VirtualMachine", "attributes": {"name": )" + arrays + "}}");
  CHECK(s1 == 400);
  CHECK(e1["error"]["code"] == "ResourceExhausted");
  CHECK(Message(e1) == "JSON body nests deeper than 64 levels at line 1, column 114");
  CHECK(e1["error"]["line"] == 1);
  CHECK(e1["error"]["column"] == 114);
  // PATCH, 100,000 objects.
  CiId id = c.IdOf("VirtualMachine", "pg-fra1-01");
  auto [s2, e2] = c.Call("PATCH", "/v1/cis/" + std::to_string(id), R"({"os": )" + objects + "}");
  CHECK(s2 == 400);
  CHECK(Message(e2) == "JSON body nests deeper than 64 levels at line 1, column 323");
  // Query parameters, 20,000 levels.
  auto [s3, e3] = c.Call("POST", "/v1/query",
                         R"({"query": "RETURN $p", "parameters": {"p": )" + Repeat("[", 20000) +
                             Repeat("]", 20000) + "}}");
  CHECK(s3 == 400);
  CHECK(Message(e3) == "JSON body nests deeper than 64 levels at line 1, column 106");
  // The deepest parameter a body carries is 62 levels (the body and "parameters" take two), as
  // docs/query-language.md says; one more is refused at the 63rd bracket.
  const std::string prefix = R"({"query": "RETURN size($p) AS s", "parameters": {"p": )";
  auto [s62, a62] = c.Call("POST", "/v1/query", prefix + Repeat("[", 62) + Repeat("]", 62) + "}}");
  CHECK(s62 == 200);
  CHECK(a62["rows"][0][0] == 1);
  auto [s63, e63] = c.Call("POST", "/v1/query", prefix + Repeat("[", 63) + Repeat("]", 63) + "}}");
  CHECK(s63 == 400);
  CHECK(Message(e63) == "JSON body nests deeper than 64 levels at line 1, column " +
                            std::to_string(prefix.size() + 63));
  // Bulk: the document way (the fast way only reads flat attributes).
  auto [s4, e4] = c.Call("POST", "/v1/bulk",
                         "{\"op\": \"ci\", \"class\": \"VirtualMachine\", \"attributes\": {\"name\": \"deep\"}}\n"
                         "{\"op\": \"ci\", \"class\": \"VirtualMachine\", \"attributes\": {\"name\": " +
                             arrays + "}}\n");
  CHECK(s4 == 400);
  CHECK(Message(e4) == "1 of 2 lines are invalid; nothing was applied");
  CHECK(e4["error"]["details"]["errors"][0]["line"] == 2);
  CHECK(e4["error"]["details"]["errors"][0]["message"] ==
        "JSON nests deeper than 64 levels at column 126");
  // NDJSON import: the bulk reader's message, in the answer POST /v1/bulk gives.
  auto [s5, e5] = c.Call("POST", "/v1/imports?format=ndjson",
                         "{\"op\": \"ci\", \"class\": \"VirtualMachine\", \"attributes\": {\"name\": " +
                             objects + "}}\n");
  CHECK(s5 == 400);
  CHECK(Message(e5) == "1 of 1 lines are invalid; nothing was applied");
  CHECK(e5["error"]["details"]["errors"][0]["line"] == 1);
  CHECK(e5["error"]["details"]["errors"][0]["message"] ==
        "JSON nests deeper than 64 levels at column 374");
  CHECK(State(c) == before);
}

TEST_CASE("hostile input: FromJson bounds its recursion whatever built the document") {
  Json deep = Json::array();
  Json* at = &deep;
  for (int i = 0; i < 100; ++i) at = &at->emplace_back(Json::array());
  auto v = api::FromJson(deep, "attributes.x");
  REQUIRE(!v.ok());
  CHECK(v.status().message() ==
        "attributes.x[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
        "[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0]"
        "[0][0][0][0][0][0][0][0]: lists nest deeper than 64 levels");
}

TEST_CASE("hostile input: unknown fields and duplicate keys are refused, naming the field") {
  Client c;
  auto before = State(c);
  const std::string window =
      R"({"name": "freeze", "kind": "blackout", "start": "2026-12-15T00:00:00Z", "end": "2027-01-05T00:00:00Z")";
  auto [s1, e1] = c.Call("POST", "/v1/windows", window + R"(, "scope": {"cis_typo": [57]}})");
  CHECK(s1 == 400);
  CHECK(Message(e1) ==
        "unknown field \"cis_typo\" in \"scope\"; allowed: query, cis, all");
  CHECK(e1["error"]["details"]["field"] == "scope.cis_typo");
  auto [s2, e2] = c.Call("POST", "/v1/windows", window + R"(, "scope": {}})");
  CHECK(s2 == 400);
  CHECK(Message(e2) ==
        "\"scope\" must be one of {\"query\": ...}, {\"cis\": [...]} or {\"all\": true}");
  auto [s3, e3] = c.Call("POST", "/v1/windows", window + R"(, "scope": {"all": false}})");
  CHECK(s3 == 400);
  CHECK(Message(e3) ==
        "\"scope.all\" must be true (name the CIs with \"cis\" or \"query\" otherwise)");
  auto [s4, e4] = c.Call("POST", "/v1/windows", window + R"(, "scope": {"cis": []}})");
  CHECK(s4 == 400);
  CHECK(Message(e4) == "\"scope.cis\" must name at least one CI");
  auto [s5, e5] = c.Call("POST", "/v1/windows", window + "}");
  CHECK(s5 == 400);
  CHECK(Message(e5) ==
        "a window needs a scope: \"scope\" must be one of {\"query\": ...}, {\"cis\": [...]} or "
        "{\"all\": true}");
  auto [s6, w6] = c.Call("GET", "/v1/windows");
  CHECK(w6["windows"].empty());
  // Bodies of other routes.
  auto [s7, e7] = c.Call("POST", "/v1/cis", R"({"class": "VirtualMachine", "atributes": {"name": "x"}})");
  CHECK(s7 == 400);
  CHECK(Message(e7) == "unknown field \"atributes\" (did you mean 'attributes'?); allowed: class, attributes");
  auto [s8, e8] = c.Call("POST", "/v1/impact", R"({"cis": [1], "max_dept": 2})");
  CHECK(s8 == 400);
  CHECK(Message(e8) ==
        "unknown field \"max_dept\" (did you mean 'max_depth'?); allowed: cis, query, direction, "
        "max_depth, types, classes, redundancy, format, as_of");
  auto [s9, e9] = c.Call("POST", "/v1/impact", R"({"cis": [1], "direction": 3})");
  CHECK(s9 == 400);
  CHECK(Message(e9) == "direction must be \"impacted\" or \"depends_on\"");
  auto [s10, e10] = c.Call("POST", "/v1/bulk",
                           R"({"op": "ci", "clas": "VirtualMachine", "attributes": {"name": "typo"}})");
  CHECK(s10 == 400);
  CHECK(e10["error"]["details"]["errors"][0]["message"] ==
        "unknown field \"clas\" (did you mean 'class'?); allowed: op, ref, class, id, type, "
        "attributes, from, to");
  // Duplicate keys, at the body and inside attributes (bulk: the fast way falls back).
  auto [s11, e11] = c.Call("POST", "/v1/cis",
                           R"({"class": "VirtualMachine", "attributes": {"name": "a", "name": "b"}})");
  CHECK(s11 == 400);
  CHECK(Message(e11) == "duplicate key \"name\" in JSON body at line 1, column 57");
  auto [s12, e12] = c.Call("POST", "/v1/bulk",
                           R"({"op": "ci", "class": "VirtualMachine", "attributes": {"name": "a", "name": "b"}})");
  CHECK(s12 == 400);
  CHECK(e12["error"]["details"]["errors"][0]["message"] == "duplicate key \"name\" at column 69");
  CHECK(State(c) == before);
}

TEST_CASE("hostile input: token rules") {
  Client c;
  // The last admin token cannot be revoked; with a second one it can.
  auto [s1, e1] = c.Call("DELETE", "/v1/tokens/admin-bot");
  CHECK(s1 == 409);
  CHECK(Message(e1) ==
        "token 'admin-bot' is the last admin token; create another admin token before revoking it");
  auto [s2, e2] = c.Call("POST", "/v1/tokens", R"({"name": "anonymous", "role": "reader"})");
  CHECK(s2 == 400);
  CHECK(Message(e2) ==
        "the token name 'anonymous' is reserved: the server records its own writes under it");
  auto [s3, e3] = c.Call("POST", "/v1/tokens", R"({"name": "System", "role": "admin"})");
  CHECK(s3 == 400);
  CHECK(Message(e3) == "the token name 'System' is reserved: the server records its own writes under it");
  // Names are unique without case; the stored spelling is kept and named.
  auto [s6, t6] = c.Call("POST", "/v1/tokens", R"({"name": "Reader-Bot2", "role": "reader"})");
  CHECK(s6 == 201);
  CHECK(t6["name"] == "Reader-Bot2");
  auto [s7, e7] = c.Call("POST", "/v1/tokens", R"({"name": "READER-BOT2", "role": "admin"})");
  CHECK(s7 == 409);
  CHECK(Message(e7) ==
        "a token named 'Reader-Bot2' already exists (token names are compared without case)");
  CHECK(e7["error"]["details"]["name"] == "Reader-Bot2");
  auto [s8, e8] = c.Call("POST", "/v1/tokens", R"({"name": "Reader-Bot2", "role": "reader"})");
  CHECK(s8 == 409);
  CHECK(Message(e8) == "a token named 'Reader-Bot2' already exists");
  auto [s4, t4] = c.Call("POST", "/v1/tokens", R"({"name": "admin-2", "role": "admin"})");
  REQUIRE(s4 == 201);
  auto [s5, r5] = c.Call("DELETE", "/v1/tokens/admin-bot");
  CHECK(s5 == 200);
}

TEST_CASE("hostile input: an importer token cannot claim a stronger source") {
  Client c;
  api::ApiOptions options;
  options.import_config.precedence.order = {"manual", "terraform", "aws", "kubernetes", "ansible",
                                            "csv",    "ndjson",    "nmap"};
  options.import_config.precedence.per_attribute["os"] = {"ansible", "terraform", "aws", "nmap"};
  api::Api with_precedence(*c.t.db, c.auth, c.engine, c.services.Refs(), options);
  // Calls `with_precedence` as the token of `role`.
  auto as = [&](const std::string& role, const std::string& path,
                const std::multimap<std::string, std::string>& query, const std::string& body) {
    api::HttpRequest req;
    req.method = "POST";
    req.path = path;
    req.query = query;
    req.body = body;
    req.headers["authorization"] = "Bearer " + c.tokens[role];
    api::HttpResponse res = with_precedence.Handle(req);
    return std::make_pair(res.status, Json::parse(res.body));
  };
  auto before = State(c);
  const std::string line =
      R"({"op": "ci", "class": "VirtualMachine", "attributes": {"name": "owned"}})";
  auto [s1, e1] = as("importer", "/v1/imports", {{"format", "ndjson"}, {"source", "manual"}}, line);
  CHECK(s1 == 403);
  CHECK(Message(e1) ==
        "token 'importer-bot' has role importer, which may not import as source 'manual': it ranks "
        "above 'ndjson' in the import precedence (an admin token may)");
  // Stronger in a per-attribute order only.
  auto [s2, e2] = as("importer", "/v1/imports", {{"format", "nmap"}, {"source", "ansible"}}, "<nmaprun/>");
  CHECK(s2 == 403);
  // Bulk loads have no source at all.
  auto [s3, e3] = as("importer", "/v1/bulk", {{"source", "manual"}}, line);
  CHECK(s3 == 400);
  CHECK(Message(e3) ==
        "unknown parameter 'source' for POST /v1/bulk (bulk loads have no source; import with POST "
        "/v1/imports?format=ndjson&source=... instead); allowed: refs, change");
  CHECK(State(c) == before);
  // A weaker or unlisted source, and the admin, may.
  auto [s4, r4] = as("importer", "/v1/imports", {{"format", "ndjson"}, {"source", "ndjson-dc1"}}, line);
  CHECK(s4 == 200);
  auto [s5, r5] = as("admin", "/v1/imports", {{"format", "ndjson"}, {"source", "manual"}}, line);
  CHECK(s5 == 200);
}

TEST_CASE("hostile input: bulk refs are defined once; an id keeps its class") {
  Client c;
  auto before = State(c);
  auto [s1, e1] = c.Call("POST", "/v1/bulk",
                         "{\"op\": \"ci\", \"ref\": \"a\", \"class\": \"VirtualMachine\", \"attributes\": {\"name\": \"r1\"}}\n"
                         "\n"
                         "{\"op\": \"ci\", \"ref\": \"a\", \"class\": \"VirtualMachine\", \"attributes\": {\"name\": \"r2\"}}\n");
  CHECK(s1 == 400);
  CHECK(e1["error"]["details"]["errors"][0]["line"] == 3);
  CHECK(e1["error"]["details"]["errors"][0]["message"] ==
        "ref \"a\" is defined twice, on lines 1 and 3 (a ref names one CI per request)");
  // The NDJSON import: the same rule, the same message.
  auto [s1i, e1i] = c.Call("POST", "/v1/imports?format=ndjson",
                           "{\"op\": \"ci\", \"ref\": \"a\", \"class\": \"VirtualMachine\", \"attributes\": {\"name\": \"r1\"}}\n"
                           "\n"
                           "{\"op\": \"ci\", \"ref\": \"a\", \"class\": \"VirtualMachine\", \"attributes\": {\"name\": \"r2\"}}\n"
                           "{\"op\": \"ci\", \"ref\": 7, \"class\": \"VirtualMachine\", \"attributes\": {\"name\": \"r3\"}}\n");
  CHECK(s1i == 400);
  CHECK(e1i["error"]["message"] == "2 of 4 lines are invalid; nothing was applied");
  const Json& listed = e1i["error"]["details"]["errors"];  // the shape of POST /v1/bulk
  REQUIRE(listed.size() == 2);
  CHECK(listed[0]["line"] == 3);
  CHECK(listed[0]["message"] ==
        "ref \"a\" is defined twice, on lines 1 and 3 (a ref names one CI per request)");
  CHECK(listed[1]["line"] == 4);
  CHECK(listed[1]["message"] == "\"ref\" must be a string");
  CiId vm = c.IdOf("VirtualMachine", "pg-fra1-01");
  auto [s2, e2] = c.Call("POST", "/v1/bulk",
                         "{\"op\": \"ci\", \"id\": " + std::to_string(vm) +
                             ", \"class\": \"PhysicalServer\", \"attributes\": {\"os\": \"x\"}}\n");
  CHECK(s2 == 409);
  CHECK(e2["error"]["details"]["errors"][0]["code"] == "Conflict");
  CHECK(e2["error"]["details"]["errors"][0]["message"] ==
        "CI " + std::to_string(vm) + " is a VirtualMachine, not a PhysicalServer; a CI keeps its class");
  auto [s3, e3] = c.Call("PATCH", "/v1/cis/" + std::to_string(vm),
                         R"({"class": "PhysicalServer", "attributes": {"os": "x"}})");
  CHECK(s3 == 409);
  CHECK(Message(e3) ==
        "CI " + std::to_string(vm) + " is a VirtualMachine, not a PhysicalServer; a CI keeps its class");
  CHECK(State(c) == before);
  auto [s4, ok4] = c.Call("PATCH", "/v1/cis/" + std::to_string(vm),
                          R"({"class": "VirtualMachine", "attributes": {"os": "x"}})");
  CHECK(s4 == 200);
}

TEST_CASE("hostile input: invalid UTF-8 is never stored") {
  Client c;
  auto before = State(c);
  CiId vm = c.IdOf("VirtualMachine", "pg-fra1-01");
  auto [s1, e1] = c.Call("PATCH", "/v1/cis/" + std::to_string(vm), R"({"os": "linux"})",
                         {{"x-message", "bad \xff byte"}});
  CHECK(s1 == 400);
  CHECK(Message(e1) == "the transaction's message is not valid UTF-8 (byte 4)");
  auto [s2, e2] = c.Call("PATCH", "/v1/cis/" + std::to_string(vm), R"({"os": "linux"})",
                         {{"x-change-id", "CHG-\xc3"}});
  CHECK(s2 == 400);
  CHECK(Message(e2) == "the transaction's change reference is not valid UTF-8 (byte 4)");
  // The core refuses it whatever the front end (JSON parsers refuse it already).
  auto tx = c.t.db->Write(TxMeta{"t", "test", "", ""}, [](Txn& txn) {
    AttrMap attrs;
    attrs.Set("name", Value(std::string("caf\xe9")));
    return txn.CreateCi("VirtualMachine", std::move(attrs)).status();
  });
  REQUIRE(!tx.ok());
  CHECK(tx.status().message() == "VirtualMachine.name: the value is not valid UTF-8 (byte 3)");
  // CSV, with its position.
  const std::string mapping = R"({"class": "VirtualMachine", "columns": {"Name": "name"}})";
  auto [s3, e3] = c.Call("POST", "/v1/imports?format=csv", "Name\nok\ncaf\xe9\n",
                         {{"x-import-mapping", mapping}});
  CHECK(s3 == 400);
  CHECK(Message(e3) ==
        "the CSV file is not valid UTF-8 at line 3, column 4 (convert it, e.g. iconv -f latin1 -t "
        "utf-8)");
  CHECK(e3["error"]["line"] == 3);
  CHECK(State(c) == before);
}

TEST_CASE("hostile input: importers refuse what they cannot use and report what they skip") {
  Client c;
  auto before = State(c);
  auto [s1, e1] = c.Call("POST", "/v1/imports?format=kubernetes", R"({"kind": "List", "items": "x"})");
  CHECK(s1 == 400);
  CHECK(Message(e1) == "$.items must be a list of Kubernetes objects (in a List)");
  auto [s2, e2] = c.Call("POST", "/v1/imports?format=kubernetes", R"({"kind": "PodList", "items": [3]})");
  CHECK(s2 == 400);
  CHECK(Message(e2) == "$.items[0] is not a Kubernetes object (a JSON object)");
  auto facts = [](const std::string& vcpus) {
    return R"({"ansible_facts": {"ansible_hostname": "db7", "ansible_processor_vcpus": )" + vcpus + "}}";
  };
  auto [s3, e3] = c.Call("POST", "/v1/imports?format=ansible", facts("\"many\""));
  CHECK(s3 == 400);
  CHECK(e3["error"]["errors"][0]["location"] == "$.ansible_facts");
  CHECK(e3["error"]["errors"][0]["message"] ==
        "ansible_processor_vcpus: expected a whole number of CPUs from 0 to 1048576, got \"many\"");
  auto [s4, e4] = c.Call("POST", "/v1/imports?format=ansible", facts("1e30"));
  CHECK(s4 == 400);
  CHECK(e4["error"]["errors"][0]["message"] ==
        "ansible_processor_vcpus: expected a whole number of CPUs from 0 to 1048576, got 1e+30");
  auto [s5, e5] = c.Call("POST", "/v1/imports?format=ndjson",
                         R"({"op": "ci", "class": "VirtualMachine", "attributes": {"name": "n", "os": {"family": "linux"}}})");
  CHECK(s5 == 400);
  CHECK(e5["error"]["details"]["errors"][0]["message"] ==
        "attributes.os: objects are not attribute values");  // ndjson answers as POST /v1/bulk
  CHECK(State(c) == before);
  // Skipped records are listed in the answer.
  auto [s6, r6] = c.Call("POST", "/v1/imports?format=kubernetes&mode=dry-run",
                         R"({"kind": "List", "items": [{"kind": "ConfigMap", "metadata": {"name": "cfg"}},
                             {"kind": "Namespace", "metadata": {"name": "prod"}}]})");
  CHECK(s6 == 200);
  CHECK(r6["skipped_count"] == 1);
  CHECK(r6["skipped"][0] == Json{{"location", "$.items[0] (ConfigMap cfg)"},
                                 {"reason", "kind ConfigMap is not imported"}});
}

TEST_CASE("hostile input: a NUL byte does not end a JSON text; what follows it is refused") {
  Client c;
  auto before = State(c);
  const std::string nul("\0", 1);
  const std::string body = R"({"class":"VirtualMachine","attributes":{"name":"n3"}})";
  auto [s1, e1] = c.Call("POST", "/v1/cis", body + nul + "garbage");
  CHECK(s1 == 400);
  CHECK(Message(e1) ==
        "malformed JSON body at line 1, column 54: a NUL byte outside a string (a JSON text is "
        "read to its end)");
  CHECK(e1["error"]["column"] == 54);
  // A NUL alone after the value, and one between members.
  auto [s2, e2] = c.Call("POST", "/v1/cis", body + nul);
  CHECK(s2 == 400);
  auto [s3, e3] = c.Call("POST", "/v1/cis", R"({"class":"VirtualMachine",)" + nul + R"("attributes":{}})");
  CHECK(s3 == 400);
  CHECK(Message(e3) ==
        "malformed JSON body at line 1, column 27: a NUL byte outside a string (a JSON text is "
        "read to its end)");
  // Inside a string it is an unescaped control character.
  auto [s4, e4] = c.Call("POST", "/v1/cis", R"({"class":"VirtualMachine","attributes":{"name":"a)" + nul + R"(b"}})");
  CHECK(s4 == 400);
  // Bulk lines (the document way: the fast way reads no control characters).
  const std::string line = R"({"op":"ci","class":"VirtualMachine","attributes":{"name":"n3"}})";
  auto [s5, e5] = c.Call("POST", "/v1/bulk", line + nul + "garbage\n");
  CHECK(s5 == 400);
  CHECK(e5["error"]["details"]["errors"][0]["message"] ==
        "malformed JSON at column 64: a NUL byte outside a string (a JSON text is read to its end)");
  // NDJSON import lines: read as bulk lines are.
  auto [s6, e6] = c.Call("POST", "/v1/imports?format=ndjson", line + nul + "garbage\n");
  CHECK(s6 == 400);
  CHECK(e6 == e5);  // the same answer as POST /v1/bulk
  CHECK(State(c) == before);
}

TEST_CASE("hostile input: a schema change without a statement, or changing nothing, writes nothing") {
  Client c;
  auto [s0, schema0] = c.Call("GET", "/v1/schema");
  auto before = State(c);
  auto [s1, e1] = c.Call("POST", "/v1/schema", R"({"ddl": "  "})");
  CHECK(s1 == 400);
  CHECK(Message(e1) == "\"ddl\" holds no statement (CREATE, ALTER or DROP)");
  CHECK(e1["error"]["details"]["field"] == "ddl");
  auto [s2, e2] = c.Call("POST", "/v1/schema", R"({"ddl": "-- only a comment\n // and another"})");
  CHECK(s2 == 400);
  CHECK(Message(e2) == "\"ddl\" holds no statement (CREATE, ALTER or DROP)");
  // A statement that leaves the schema as it is: 200, the current version, nothing written.
  const std::string same =
      "ALTER NODE TYPE PhysicalServer SET IDENTIFIED BY STRONG (serial_number), STRONG "
      "(mac_address), (fqdn), (hostname, domain), (ip_address) SHARED WITH (Computer);";
  auto [s3, r3] = c.Call("POST", "/v1/schema", Json{{"ddl", same}}.dump());
  CHECK(s3 == 200);
  CHECK(r3 == Json{{"schema_version", schema0["version"]}, {"tx", nullptr}, {"cis_rewritten", 0},
                   {"changed", false}});
  auto [s4, r4] = c.Call("POST", "/v1/query", Json{{"query", same}}.dump());
  CHECK(s4 == 200);
  CHECK(r4["stats"]["changed"] == false);
  CHECK(r4["stats"]["tx"] == nullptr);
  CHECK(State(c) == before);
  auto [s5, schema5] = c.Call("GET", "/v1/schema");
  CHECK(schema5["version"] == schema0["version"]);
  // A real change still writes one.
  auto [s6, r6] = c.Call("POST", "/v1/schema", R"({"ddl": "ALTER NODE TYPE VirtualMachine ADD { h19_note STRING };"})");
  CHECK(s6 == 200);
  CHECK(r6["changed"] == true);
  CHECK(r6["schema_version"] == schema0["version"].get<int64_t>() + 1);
}

TEST_CASE("hostile input: query parameters are named, given once and well formed") {
  Client c;
  auto before = State(c);
  auto refused = [&](const std::string& method, const std::string& target, const std::string& message,
                     const std::string& parameter, const std::string& body = "") {
    auto [s, e] = c.Call(method, target, body);
    INFO(method + " " + target);
    CHECK(s == 400);
    CHECK(Message(e) == message);
    CHECK(e["error"]["details"]["parameter"] == parameter);
  };
  const std::string line = R"({"op": "ci", "class": "VirtualMachine", "attributes": {"name": "p1"}})";
  // Repeated: never resolved silently.
  refused("POST", "/v1/bulk?refs=false&refs=true", "parameter 'refs' is given 2 times; give it once",
          "refs", line);
  refused("POST", "/v1/imports?format=ndjson&format=nmap",
          "parameter 'format' is given 2 times; give it once", "format", line);
  refused("GET", "/v1/cis?limit=1&limit=5", "parameter 'limit' is given 2 times; give it once", "limit");
  refused("GET", "/v1/cis?where.name=a&where.name=b",
          "parameter 'where.name' is given 2 times; give it once", "where.name");
  // Malformed values.
  refused("POST", "/v1/bulk?refs=maybe", "invalid refs 'maybe': expected true or false", "refs", line);
  refused("GET", "/v1/transactions?limit=abc", "invalid limit 'abc': expected a positive integer", "limit");
  refused("GET", "/v1/transactions?since=-1", "invalid since '-1': expected a non-negative integer", "since");
  refused("GET", "/v1/cis?limit=", "invalid limit '': expected a positive integer", "limit");
  refused("GET", "/v1/unauthorized-changes?limit=0", "invalid limit '0': expected a positive integer", "limit");
  // Unknown ones, with a did-you-mean; a parameter where the route takes none.
  refused("GET", "/v1/changes?limit=abc",
          "unknown parameter 'limit' for GET /v1/changes; allowed: state", "limit");
  refused("GET", "/v1/cis?foo=1",
          "unknown parameter 'foo' for GET /v1/cis; allowed: class, where.<attribute>, limit, cursor",
          "foo");
  refused("GET", "/v1/cis?lmit=1",
          "unknown parameter 'lmit' for GET /v1/cis (did you mean 'limit'?); allowed: class, "
          "where.<attribute>, limit, cursor",
          "lmit");
  refused("POST", "/v1/tokens?role=admin",
          "unknown parameter 'role' for POST /v1/tokens; allowed: none", "role",
          R"({"name": "p-bot", "role": "reader"})");
  // Empty names, and a prefix naming nothing.
  refused("GET", "/v1/cis?where.=x", "parameter 'where.' of GET /v1/cis names nothing after 'where.'",
          "where.");
  refused("GET", "/v1/cis?limit=1&", "a query parameter of GET /v1/cis has no name", "");
  refused("GET", "/v1/cis?=1", "a query parameter of GET /v1/cis has no name", "");
  CHECK(State(c) == before);
  // What the routes document still works.
  auto [s1, r1] = c.Call("POST", "/v1/bulk?refs=false&change=CHG-1",
                         R"({"op": "ci", "ref": "p", "class": "VirtualMachine", "attributes": {"name": "p2"}})");
  CHECK(s1 == 200);
  CHECK(r1["refs"] == nullptr);
  auto [s2, r2] = c.Call("GET", "/v1/cis?class=VirtualMachine&where.name=p2&limit=5");
  CHECK(s2 == 200);
  CHECK(r2["items"].size() == 1);
  auto [s3, r3] = c.Call("GET", "/v1/transactions?since=0&limit=2");
  CHECK(s3 == 200);
}
