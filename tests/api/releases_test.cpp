// Release management over HTTP (in-process): baselines (capture, immutability, contents, diff,
// USE BASELINE), releases with the automatic baseline and verification, configuration audits.
#include <atomic>
#include <catch2/catch.hpp>
#include <thread>

#include "api/api_client.hpp"
#include "cmdb/clock.hpp"
#include "cmdb/time_util.hpp"

using namespace cmdb;
using api::Json;
using cmdb::testing::Client;

namespace {

Json Capture(Client& c, const Json& body, int expect = 201) {
  auto [s, j] = c.As("release-manager", "POST", "/v1/baselines", body.dump());
  INFO(j.dump());
  REQUIRE(s == expect);
  return j;
}

Json Query(Client& c, const std::string& text) {
  auto [s, j] = c.Call("POST", "/v1/query", Json{{"query", text}}.dump());
  INFO(text << " -> " << j.dump());
  REQUIRE(s == 200);
  return j;
}

}  // namespace

TEST_CASE("baselines are captured atomically, immutable, paged and deletable only by an admin") {
  Client c;
  CiId shop = c.IdOf("Application", "shop-web");
  Json b =
      Capture(c, {{"name", "shop-before"},
                  {"description", "before 4.2"},
                  {"scope", {{"roots", {shop}}, {"follow", "depends_on"}, {"max_depth", 10}}}});
  CHECK(b["cis"].get<int>() > 5);
  CHECK(b["relationships"].get<int>() > 5);
  CHECK(b["scope"]["follow"] == "depends_on");
  auto [s1, dup] = c.As("release-manager", "POST", "/v1/baselines",
                        Json{{"name", "shop-before"}, {"scope", {{"all", true}}}}.dump());
  CHECK(s1 == 409);
  CHECK(c.As("importer", "POST", "/v1/baselines",
             Json{{"name", "x"}, {"scope", {{"all", true}}}}.dump())
            .first == 403);
  CHECK(c.Call("POST", "/v1/baselines", R"({"name":"x","scope":{"roots":[1],"follow":"sideways"}})")
            .first == 400);
  CHECK(c.Call("PATCH", "/v1/baselines/shop-before", "{}").first == 405);  // immutable

  // Contents, paged across CIs then relationships, never capped.
  size_t cis = 0, rels = 0;
  std::string next = "/v1/baselines/shop-before?limit=7";
  while (!next.empty()) {
    auto [s, page] = c.Call("GET", next);
    REQUIRE(s == 200);
    cis += page["items"]["cis"].size();
    rels += page["items"]["relationships"].size();
    next = page.value("next", std::string());
  }
  CHECK(cis == b["cis"].get<size_t>());
  CHECK(rels == b["relationships"].get<size_t>());

  CHECK(c.As("release-manager", "DELETE", "/v1/baselines/shop-before").first == 403);
  CHECK(c.Call("DELETE", "/v1/baselines/shop-before").first == 200);
  CHECK(c.Call("GET", "/v1/baselines/shop-before").first == 404);
  auto [s2, log] = c.Call("GET", "/v1/transactions?limit=1000");
  CHECK(log["items"].back()["message"] == "baseline deleted: shop-before");
  CHECK(log["items"].back()["actor"] == "admin-bot");
}

TEST_CASE("a baseline pins exactly the state of its transaction while writes continue") {
  Client c;
  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) {
      c.t.db->Write(TxMeta{"writer", "api"}, [&](Txn& t) {
        return t
            .CreateCi("VirtualMachine",
                      cmdb::testing::Attrs({{"name", "churn-" + std::to_string(i)}}))
            .status();
      });
      ++written;
    }
  });
  std::vector<Json> captured;
  for (int i = 0; i < 5; ++i) {
    for (int seen = written.load(); written.load() < seen + 3;)
      std::this_thread::yield();  // writes in between
    captured.push_back(
        Capture(c, {{"name", "all-" + std::to_string(i)}, {"scope", {{"all", true}}}}));
  }
  stop = true;
  writer.join();
  for (const Json& b : captured) {
    // The CMDB as of the baseline's tx holds exactly its CIs.
    Json count = Query(
        c, "AS OF " + std::to_string(b["tx"].get<int64_t>()) + " MATCH (n) RETURN count(n) AS n");
    CHECK(count["rows"][0][0] == b["cis"]);
    Json in_baseline = Query(
        c, "USE BASELINE '" + b["name"].get<std::string>() + "' MATCH (n) RETURN count(n) AS n");
    CHECK(in_baseline["rows"][0][0] == b["cis"]);
  }
  CHECK(captured.back()["cis"].get<int>() > captured.front()["cis"].get<int>());
}

TEST_CASE(
    "diffs report changed attributes, removed and added CIs and relationships, and new CIs in "
    "scope") {
  Client c;
  Json b = Capture(
      c, {{"name", "vms"},
          {"scope", {{"query", "MATCH (v:VirtualMachine)-[r:HOSTED_ON]->(h) RETURN v, h"}}}});
  std::string before_time = FormatTimestamp(cmdb::Clock::System()->NowMicros());
  CiId vm = c.IdOf("VirtualMachine", "pg-fra1-02");
  CiId gone = c.IdOf("VirtualMachine", "pg-fra1-03");
  REQUIRE(c.Call("PATCH", "/v1/cis/" + std::to_string(vm),
                 R"({"attributes":{"owner":"dba-team","cpu_count":17}})")
              .first == 200);
  REQUIRE(c.Call("DELETE", "/v1/cis/" + std::to_string(gone)).first == 200);
  Query(c,
        "CREATE (v:VirtualMachine {name: 'pg-fra1-99'}) WITH v MATCH (h:PhysicalServer {name: "
        "'fra1-esx01'}) CREATE (v)-[:HOSTED_ON]->(h)");

  auto [s1, d] = c.Call("GET", "/v1/baselines/vms/diff");
  REQUIRE(s1 == 200);
  CHECK(d["against"] == "current");
  CHECK(d["summary"]["cis"] == Json{{"added", 0}, {"removed", 1}, {"changed", 1}});
  CHECK(d["summary"]["relationships"]["removed"].get<int>() >=
        1);  // the retired VM's relationships
  Json changed;
  for (const auto& e : d["entries"]) {
    if (e["what"] == "ci" && e["id"] == vm) changed = e;
  }
  INFO(changed.dump());
  REQUIRE(changed.is_object());
  CHECK(changed["change"] == "changed");
  REQUIRE(changed["attributes"].size() == 2);
  CHECK(changed["attributes"][0]["attribute"] == "cpu_count");
  CHECK(changed["attributes"][0]["after"] == 17);
  CHECK(changed["attributes"][1] == Json{{"attribute", "owner"},
                                         {"before", changed["attributes"][1]["before"]},
                                         {"after", "dba-team"}});
  // New CIs the scope now selects (ServiceNow's baselines miss these).
  auto [s2, with_new] = c.Call("GET", "/v1/baselines/vms/diff?include_new=true");
  CHECK(with_new["summary"]["cis"]["added"] == 1);
  // Paging: every entry exactly once.
  size_t seen = 0;
  std::string next = "/v1/baselines/vms/diff?include_new=true&limit=1";
  while (!next.empty()) {
    auto [s, page] = c.Call("GET", next);
    REQUIRE(s == 200);
    seen += page["entries"].size();
    next = page.value("next", std::string());
  }
  CHECK(seen == with_new["total"].get<size_t>());
  // As of a time before the edits: nothing changed. Against a later baseline: the same changes.
  auto [s3, past] = c.Call("GET", "/v1/baselines/vms/diff?as_of=" + before_time);
  CHECK(past["total"] == 0);
  Capture(c, {{"name", "vms-after"},
              {"scope", {{"query", "MATCH (v:VirtualMachine)-[r:HOSTED_ON]->(h) RETURN v, h"}}}});
  auto [s4, ab] = c.Call("GET", "/v1/baselines/vms/diff?against=vms-after");
  CHECK(ab["summary"]["cis"] == Json{{"added", 1}, {"removed", 1}, {"changed", 1}});
  CHECK(c.Call("GET", "/v1/baselines/vms/diff?against=nope").first == 404);
  // USE BASELINE reads the captured values.
  Json old = Query(
      c,
      "USE BASELINE 'vms' MATCH (v:VirtualMachine {name: 'pg-fra1-02'}) RETURN v.owner AS owner");
  CHECK(old["rows"][0][0] != "dba-team");
  Json gone_then =
      Query(c, "USE BASELINE 'vms' MATCH (v:VirtualMachine {name: 'pg-fra1-03'}) RETURN count(v)");
  CHECK(gone_then["rows"][0][0] == 1);
  auto [s5, err] =
      c.Call("POST", "/v1/query", Json{{"query", "USE BASELINE 'nope' MATCH (n) RETURN n"}}.dump());
  CHECK(s5 == 400);
  CHECK(err["error"]["message"] ==
        "line 1, column 14: no baseline named 'nope'\n"
        "USE BASELINE 'nope' MATCH (n) RETURN n\n"
        "             ^");
  auto [s6, w] = c.Call("POST", "/v1/query",
                        Json{{"query", "USE BASELINE 'vms' MATCH (n) SET n.x = 1"}}.dump());
  CHECK(s6 == 400);
}

TEST_CASE(
    "a release walks its states, baselines itself on deploying and records its verification") {
  Client c;
  CiId db = c.IdOf("Database", "orders-db");
  auto [s0, change] =
      c.As("change-manager", "POST", "/v1/changes",
           Json{{"title", "orders-db schema migration"}, {"affected", {db}}}.dump());
  REQUIRE(s0 == 201);
  Json body{{"name", "orders"},
            {"release_version", "4.2.0"},
            {"type", "minor"},
            {"changes", {change["id"]}},
            {"criteria", {"smoke tests", "rollback rehearsed"}}};
  CHECK(c.As("change-manager", "POST", "/v1/releases", body.dump()).first == 403);
  auto [s1, rel] = c.As("release-manager", "POST", "/v1/releases", body.dump());
  REQUIRE(s1 == 201);
  std::string path = "/v1/releases/" + std::to_string(rel["id"].get<int64_t>());
  auto move = [&](const std::string& to) {
    return c.As("release-manager", "POST", path + "/transition", Json{{"to", to}}.dump());
  };
  CHECK(move("deploying").first == 409);
  CHECK(move("built").first == 200);
  CHECK(move("tested").first == 200);
  auto [s2, refused] = move("approved");
  CHECK(s2 == 409);
  CHECK(refused["error"]["code"] == "acceptance_failed");
  CHECK(refused["error"]["details"]["failing"] ==
        Json::array({"smoke tests", "rollback rehearsed"}));
  auto [s3, patched] = c.As(
      "release-manager", "PATCH", path,
      R"({"results":[{"criterion":"smoke tests","passed":true},{"criterion":"rollback rehearsed","passed":true,"note":"staging"}]})");
  REQUIRE(s3 == 200);
  CHECK(
      c.As("release-manager", "PATCH", path, R"({"results":[{"criterion":"other","passed":true}]})")
          .first == 400);
  CHECK(move("approved").first == 200);
  auto [s4, deploying] = move("deploying");
  REQUIRE(s4 == 200);
  std::string baseline = deploying["baseline"];
  CHECK(baseline == "release-" + std::to_string(rel["id"].get<int64_t>()) + "-before-deploy");
  auto [s5, b] = c.Call("GET", "/v1/baselines/" + baseline);
  CHECK(b["release"] == rel["id"]);
  CHECK(b["cis"].get<int>() > 1);  // the database and what it impacts
  CHECK(c.As("release-manager", "PATCH", path, R"({"name":"renamed"})").first == 409);
  REQUIRE(c.Call("PATCH", "/v1/cis/" + std::to_string(db),
                 R"({"attributes":{"owner":"orders-team-v2"}})")
              .first == 200);
  CHECK(move("deployed").first == 200);
  auto [s6, verified] = move("verified");
  REQUIRE(s6 == 200);
  CHECK(verified["verification"]["cis"]["changed"] == 1);
  CHECK(verified["verification"]["changed_cis"] == Json::array({db}));
  CHECK(move("rolled_back").first == 409);  // final
  CHECK(c.Call("GET", "/v1/releases?state=verified").second["total"] == 1);
}

TEST_CASE("configuration audits against a baseline and against expected CIs") {
  Client c;
  Capture(c, {{"name", "switches"}, {"scope", {{"query", "MATCH (s:Switch) RETURN s"}}}});
  CiId sw = c.IdOf("Switch", "fra1-core-sw1");
  REQUIRE(c.Call("PATCH", "/v1/cis/" + std::to_string(sw), R"({"attributes":{"owner":"netops-2"}})")
              .first == 200);
  Query(c, "CREATE (:Switch {name: 'fra1-core-sw9'})");
  auto [s1, a] = c.As("release-manager", "POST", "/v1/audits", R"({"baseline":"switches"})");
  REQUIRE(s1 == 201);
  CHECK(a["counts"] ==
        Json{{"missing", 0}, {"unexpected", 1}, {"attribute_drift", 1}, {"relationship_drift", 0}});
  CHECK(a["checked"] == 4);

  Json expected = Json::array({
      {{"op", "ci"},
       {"class", "Switch"},
       {"attributes", {{"name", "fra1-core-sw2"}, {"owner", "nobody"}}}},
      {{"op", "ci"}, {"class", "Switch"}, {"attributes", {{"name", "fra1-core-sw7"}}}},
      {{"op", "rel"},
       {"type", "CONNECTED_TO"},
       {"from", {{"class", "Switch"}, {"key", {{"name", "fra1-core-sw2"}}}}},
       {"to", {{"class", "Switch"}, {"key", {{"name", "ams1-core-sw1"}}}}}},
  });
  auto [s2, e] = c.As("release-manager", "POST", "/v1/audits", Json{{"expected", expected}}.dump());
  REQUIRE(s2 == 201);
  CHECK(e["counts"]["missing"] == 1);
  CHECK(e["counts"]["attribute_drift"] == 1);
  CHECK(e["counts"]["relationship_drift"] == 1);
  CHECK(e["counts"]["unexpected"].get<int>() >= 3);  // the other switches
  bool drift = false;
  for (const auto& f : e["findings"]) {
    if (f["kind"] == "attribute_drift") drift = f["attributes"][0]["expected"] == "nobody";
  }
  CHECK(drift);
  auto [s3, kept] = c.Call("GET", "/v1/audits/" + std::to_string(e["id"].get<int64_t>()));
  CHECK(kept["findings"].size() == e["findings"].size());
  CHECK(c.Call("GET", "/v1/audits").second["audits"].size() == 2);
  auto [s4, bad] = c.As("release-manager", "POST", "/v1/audits",
                        R"({"expected":[{"op":"ci","class":"Nope","attributes":{"name":"x"}}]})");
  CHECK(s4 == 422);
  CHECK(bad["error"]["message"].get<std::string>().find("line 1") != std::string::npos);
  CHECK(c.As("reader", "POST", "/v1/audits", R"({"baseline":"switches"})").first == 403);
}
