// Impact options read by one set of rules through POST /v1/impact, CALL impact and baseline
// scopes; seeds chosen by a query and their impact on one committed state.
#include <catch2/catch.hpp>

#include "analysis/impact.hpp"
#include "api/api_client.hpp"
#include "api/impact_request.hpp"

using namespace cmdb;
using cmdb::testing::Client;
using cmdb::testing::Json;

namespace {

// The error message of a refused call (fails the test when it was not refused with `status`).
std::string Refusal(const std::pair<int, Json>& answer, int status = 400) {
  INFO(answer.second.dump());
  CHECK(answer.first == status);
  return answer.second["error"]["message"].get<std::string>();
}

// The located message of CALL impact refusing `options` (given as a map literal) at its column.
std::string Located(const std::string& query, const std::string& message) {
  size_t column = query.find(", {") + 3;
  return "line 1, column " + std::to_string(column) + ": " + message + "\n" + query + "\n" +
         std::string(column - 1, ' ') + "^";
}

}  // namespace

TEST_CASE(
    "impact options: every rule has one message through POST /v1/impact, CALL impact and "
    "baseline scopes") {
  Client c;
  CiId dc = c.IdOf("Datacenter", "dc-fra1");
  struct Case {
    const char* json;     // the option as a JSON member ("follow" for a baseline's direction)
    const char* literal;  // the option in a query map literal
    std::string message;
  };
  const std::vector<Case> cases = {
      {R"("direction": "up")", "direction: 'up'",
       R"(direction must be "impacted" or "depends_on", not "up")"},
      {R"("direction": 3)", "direction: 3", R"(direction must be "impacted" or "depends_on")"},
      {R"("max_depth": -1)", "max_depth: -1", "max_depth must be an integer from 0 to 100"},
      {R"("max_depth": 101)", "max_depth: 101", "max_depth must be an integer from 0 to 100"},
      {R"("max_depth": 2.5)", "max_depth: 2.5", "max_depth must be an integer from 0 to 100"},
      {R"("max_depth": "3")", "max_depth: '3'", "max_depth must be an integer from 0 to 100"},
      {R"("types": "HOSTED_ON")", "types: 'HOSTED_ON'", "types must be a list of names"},
      {R"("classes": ["Rack", 1])", "classes: ['Rack', 1]", "classes must be a list of names"},
      {R"("types": ["HOSTS_ON"])", "types: ['HOSTS_ON']",
       "unknown relationship type 'HOSTS_ON' (did you mean 'HOSTED_ON'?)"},
      {R"("classes": ["VirtualMachin"])", "classes: ['VirtualMachin']",
       "unknown class 'VirtualMachin' (did you mean 'VirtualMachine'?)"},
      {R"("redundancy": "no")", "redundancy: 'no'", "redundancy must be true or false"},
      {R"("redundancy": 0)", "redundancy: 0", "redundancy must be true or false"},
  };
  for (const Case& k : cases) {
    INFO(k.json);
    std::string member = k.json;
    std::string impact = R"({"cis": [)" + std::to_string(dc) + "], " + member + "}";
    CHECK(Refusal(c.Call("POST", "/v1/impact", impact)) == k.message);
    std::string scope_member = member.rfind(R"("direction")", 0) == 0
                                   ? R"("follow")" + member.substr(member.find(':'))
                                   : member;
    std::string baseline =
        R"({"name": "b", "scope": {"roots": [)" + std::to_string(dc) + "], " + scope_member + "}}";
    auto refused = c.Call("POST", "/v1/baselines", baseline);
    CHECK(Refusal(refused) == k.message);
    std::string query =
        "CALL impact(" + std::to_string(dc) + ", {" + k.literal + "}) YIELD ci RETURN ci";
    auto call = c.Call("POST", "/v1/query", Json{{"query", query}}.dump());
    CHECK(Refusal(call) == Located(query, k.message));
    CHECK(call.second["error"]["code"] == "ArgumentError");
  }
  // The baseline names the member it read, as "follow" for the direction.
  auto follow = c.Call("POST", "/v1/baselines",
                       R"({"name": "b", "scope": {"roots": [1], "follow": "sideways"}})");
  CHECK(follow.second["error"]["details"]["field"] == "scope.follow");
  CHECK(follow.second["error"]["details"]["option"] == "direction");
  // Null is the same as leaving an option out, everywhere.
  CHECK(c.Call("POST", "/v1/impact", R"({"cis": [1], "max_depth": null, "types": null})").first ==
        200);
  CHECK(c.Call("POST", "/v1/query",
               Json{{"query",
                     "CALL impact(1, {max_depth: null, redundancy: null}) YIELD ci RETURN ci"}}
                   .dump())
            .first == 200);
  // Unknown options: POST /v1/impact refuses unknown fields of its body; CALL impact names them.
  auto unknown =
      c.Call("POST", "/v1/query",
             Json{{"query", "CALL impact(1, {redundancey: false}) YIELD ci RETURN ci"}}.dump());
  CHECK(Refusal(unknown) ==
        Located(
            "CALL impact(1, {redundancey: false}) YIELD ci RETURN ci",
            "unknown impact option 'redundancey' (did you mean 'redundancy'?); options: direction, "
            "max_depth, types, classes, redundancy"));
  // Nothing was captured by the refused baselines.
  CHECK(c.Call("GET", "/v1/baselines").second["baselines"].empty());
}

TEST_CASE("CALL impact takes redundancy and answers as POST /v1/impact does") {
  Client c;
  CiId host = c.IdOf("PhysicalServer", "fra1-esx02");
  // (id, distance, state) of every impacted CI, in order.
  auto by_api = [&](bool redundancy) {
    auto [s, j] =
        c.Call("POST", "/v1/impact",
               Json{{"cis", {host}}, {"max_depth", 10}, {"redundancy", redundancy}}.dump());
    REQUIRE(s == 200);
    std::vector<std::tuple<int64_t, int64_t, std::string>> out;
    for (const auto& ci : j["impacted"]) out.emplace_back(ci["id"], ci["distance"], ci["state"]);
    return out;
  };
  auto by_call = [&](bool redundancy) {
    std::string query = "CALL impact(" + std::to_string(host) +
                        ", {max_depth: 10, redundancy: " + (redundancy ? "true" : "false") +
                        "}) YIELD ci, distance, state RETURN id(ci) AS id, distance, state";
    auto [s, j] = c.Call("POST", "/v1/query", Json{{"query", query}}.dump());
    REQUIRE(s == 200);
    std::vector<std::tuple<int64_t, int64_t, std::string>> out;
    for (const auto& row : j["rows"]) out.emplace_back(row[0], row[1], row[2]);
    return out;
  };
  auto with = by_api(true), without = by_api(false);
  auto degraded = [](const auto& rows) {
    return std::count_if(rows.begin(), rows.end(),
                         [](const auto& r) { return std::get<2>(r) == "degraded"; });
  };
  CHECK(degraded(with) > 0);      // the cluster this host belongs to is only degraded
  CHECK(degraded(without) == 0);  // without redundancy every reached CI is down
  CHECK(with != without);
  CHECK(by_call(true) == with);
  CHECK(by_call(false) == without);
}

TEST_CASE("a baseline's roots scope takes the impact options and keeps them") {
  Client c;
  CiId host = c.IdOf("PhysicalServer", "fra1-esx02");
  Json options = {{"types", {"HOSTED_ON", "MEMBER_OF"}}, {"redundancy", false}};
  Json impact = options;
  impact["cis"] = {host};
  auto [s1, answer] = c.Call("POST", "/v1/impact", impact.dump());
  REQUIRE(s1 == 200);
  Json scope = options;
  scope["roots"] = {host};
  scope["follow"] = "impacted";
  auto [s2, b] = c.Call("POST", "/v1/baselines", Json{{"name", "esx02"}, {"scope", scope}}.dump());
  REQUIRE(s2 == 201);
  CHECK(b["cis"] == answer["seeds"].size() + answer["impacted"].size());
  auto [s3, back] = c.Call("GET", "/v1/baselines/esx02");
  REQUIRE(s3 == 200);
  CHECK(back["scope"] == Json({{"roots", {host}},
                               {"follow", "impacted"},
                               {"max_depth", 6},
                               {"types", {"HOSTED_ON", "MEMBER_OF"}},
                               {"redundancy", false}}));
  // Left out, redundancy is on, and not shown.
  scope.erase("redundancy");
  impact.erase("redundancy");
  auto [s4, with] =
      c.Call("POST", "/v1/baselines", Json{{"name", "esx02-q"}, {"scope", scope}}.dump());
  REQUIRE(s4 == 201);
  CHECK(with["scope"].count("redundancy") == 0);
  auto [s5, answer_with] = c.Call("POST", "/v1/impact", impact.dump());
  REQUIRE(s5 == 200);
  CHECK(with["cis"] == answer_with["seeds"].size() + answer_with["impacted"].size());
}

TEST_CASE("seeds chosen by a query and their impact come from one committed state") {
  cmdb::testing::TestDb t{true};
  gql::QueryEngine engine{*t.db, gql::QueryOptions{}};
  auto id_of = [&](const std::string& name) {
    gql::QueryRequest q;
    q.text = "MATCH (h:PhysicalServer {name: '" + name + "'}) RETURN id(h)";
    auto r = engine.Run(q);
    REQUIRE(r.ok());
    REQUIRE(r->rows.size() == 1);
    return static_cast<CiId>(r->rows[0][0].as_int());
  };
  CiId esx01 = id_of("fra1-esx01"), esx02 = id_of("fra1-esx02");
  // The seed query picks the hosts in maintenance; a write moving maintenance from esx01 to
  // esx02 lands right after the first selection, before the impact would be computed.
  auto set_status = [&](CiId id, const char* status) {
    auto tx = t.db->Write(TxMeta{}, [&](Txn& txn) {
      return txn.UpdateCi(id, {{"status", Value(status)}}, std::nullopt);
    });
    REQUIRE(tx.ok());
    return tx->id;
  };
  set_status(esx01, "maintenance");
  int selections = 0;
  int writes_during = 1;  // how many selections a write follows
  TxId last_write = 0;
  auto select = [&]() -> Result<std::vector<CiId>> {
    ++selections;
    gql::QueryRequest q;
    q.text = "MATCH (h:PhysicalServer {status: 'maintenance'}) RETURN h";
    q.allow_writes = false;
    auto r = engine.Run(q);
    if (!r.ok()) return r.status();
    std::vector<CiId> seeds;
    for (const auto& row : r->rows) seeds.push_back(row[0].as_node().id);
    if (selections <= writes_during) {  // the write between selection and traversal
      bool on01 = selections % 2 == 1;
      set_status(on01 ? esx01 : esx02, "live");
      last_write = set_status(on01 ? esx02 : esx01, "maintenance");
    }
    return seeds;
  };
  analysis::ImpactRequest request;
  request.max_depth = 10;
  // What the impact of `seed` is on the current state, computed afresh.
  auto fresh = [&](CiId seed) {
    ReadView view = t.db->Read();
    analysis::ImpactRequest r = request;
    r.seeds = {seed};
    auto result = analysis::ComputeImpact(view.graph(), view.schema(), r);
    REQUIRE(result.ok());
    std::vector<CiId> ids;
    for (const auto& ci : result->cis) ids.push_back(ci.id);
    return ids;
  };
  int uses = 0;
  TxId answered_tx = 0;
  std::vector<CiId> answer;
  auto use = [&](const ReadView& view, const analysis::ImpactResult& result) -> Status {
    ++uses;
    answered_tx = view.tx();
    answer.clear();
    for (const auto& ci : result.cis) answer.push_back(ci.id);
    return Status::Ok();
  };

  SECTION("a write after the selection makes it run again on the new state") {
    REQUIRE(api::ImpactOfSelectedSeeds(*t.db, select, request, use).ok());
    CHECK(selections == 2);
    CHECK(uses == 1);
    CHECK(answered_tx == last_write);
    CHECK(answer.front() == esx02);  // the seed of the state answered, not the one before
    CHECK(answer == fresh(esx02));
    CHECK(answer != fresh(esx01));
  }
  SECTION("writes after every optimistic selection: the last one holds writers off") {
    writes_during = api::kSeedSelectionAttempts;
    REQUIRE(api::ImpactOfSelectedSeeds(*t.db, select, request, use).ok());
    CHECK(selections == api::kSeedSelectionAttempts + 1);
    CHECK(uses == 1);
    CHECK(answered_tx == last_write);
    CiId now = api::kSeedSelectionAttempts % 2 == 1 ? esx02 : esx01;
    CHECK(answer.front() == now);
    CHECK(answer == fresh(now));
  }
  SECTION("no write: one selection") {
    writes_during = 0;
    REQUIRE(api::ImpactOfSelectedSeeds(*t.db, select, request, use).ok());
    CHECK(selections == 1);
    CHECK(answer == fresh(esx01));
  }
  SECTION("the selection's error is returned unchanged and nothing is used") {
    auto failing = [&]() -> Result<std::vector<CiId>> { return Status::Invalid("bad seeds"); };
    Status st = api::ImpactOfSelectedSeeds(*t.db, failing, request, use);
    CHECK(st.message() == "bad seeds");
    CHECK(uses == 0);
  }
}
