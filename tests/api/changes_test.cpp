// Change management over HTTP (in-process): the state machine, assessments, windows,
// collisions, blackout refusal, change control (detect and enforce) and review.
#include <catch2/catch.hpp>

#include "api/api_client.hpp"
#include "cmdb/clock.hpp"
#include "cmdb/time_util.hpp"

using namespace cmdb;
using api::Json;
using cmdb::testing::Client;

namespace {

constexpr int64_t kHour = 3600LL * 1000000;

std::string At(int64_t offset) { return FormatTimestamp(cmdb::Clock::System()->NowMicros() + offset); }

// Creates a change and returns its id.
int64_t NewChange(Client& c, Json body) {
  if (!body.contains("title")) body["title"] = "test change";
  auto [s, j] = c.As("change-manager", "POST", "/v1/changes", body.dump());
  REQUIRE(s == 201);
  return j["id"];
}

std::pair<int, Json> Move(Client& c, int64_t id, const std::string& to,
                          const std::string& role = "change-manager") {
  return c.As(role, "POST", "/v1/changes/" + std::to_string(id) + "/transition",
              Json{{"to", to}}.dump());
}

// Walks a normal change from draft to implementing.
void ToImplementing(Client& c, int64_t id) {
  for (const char* to : {"submitted", "assessed", "approved", "scheduled", "implementing"}) {
    auto [s, j] = Move(c, id, to);
    INFO(to << ": " << j.dump());
    REQUIRE(s == 200);
  }
}

}  // namespace

TEST_CASE("a normal change walks every state, and forbidden moves list the allowed ones") {
  Client c;
  CiId cluster = c.IdOf("DatabaseCluster", "pg-cluster-fra1");
  int64_t id = NewChange(c, {{"title", "Patch PostgreSQL cluster"},
                             {"affected", {cluster}},
                             {"planned_start", At(24 * kHour)},
                             {"planned_end", At(26 * kHour)}});
  auto [s0, draft] = c.Call("GET", "/v1/changes/" + std::to_string(id));
  CHECK(draft["state"] == "draft");
  CHECK(draft["ref"] == "CHG-" + std::to_string(id));
  CHECK(draft["requester"] == "change-manager-bot");

  auto [s1, bad] = Move(c, id, "approved");
  CHECK(s1 == 409);
  CHECK(bad["error"]["code"] == "forbidden_transition");
  CHECK(bad["error"]["details"]["allowed"] == Json::array({"submitted", "cancelled"}));

  CHECK(Move(c, id, "submitted").first == 200);
  // Only a change manager decides: an importer may not assess.
  auto [s2, denied] = Move(c, id, "assessed", "importer");
  CHECK(s2 == 403);
  auto [s3, assessed] = Move(c, id, "assessed");
  REQUIRE(s3 == 200);
  const Json& a = assessed["assessments"].at(0);
  CHECK(a["number"] == 1);
  CHECK(a["tx"].get<int64_t>() > 0);
  CHECK(a["impacted_count"].get<int>() > 5);
  bool shop = false;
  for (const auto& svc : a["services"]) shop = shop || svc["name"] == "Online Shop";
  CHECK(shop);
  CHECK(a["risk"]["score"].get<double>() > 0);
  CHECK(a["risk"]["explanation"].get<std::string>().find("normal change") != std::string::npos);
  // Re-assessing keeps the earlier assessment.
  auto [s4, again] = Move(c, id, "assessed");
  CHECK(s4 == 200);
  CHECK(again["assessments"].size() == 2);
  auto [s5, full] = c.Call("GET", "/v1/changes/" + std::to_string(id) + "/assessments");
  CHECK(full["assessments"].at(0)["impacted"].size() == a["impacted_count"].get<size_t>());

  for (const char* to : {"approved", "scheduled", "implementing", "review", "closed"}) {
    auto [s, j] = Move(c, id, to);
    INFO(to << ": " << j.dump());
    CHECK(s == 200);
    CHECK(j["state"] == to);
  }
  auto [s6, closed] = Move(c, id, "review");
  CHECK(s6 == 409);
  CHECK(closed["error"]["message"] == "a normal change in state closed cannot move to review; it is final");
  auto [s7, history] = c.Call("GET", "/v1/changes/" + std::to_string(id) + "/history");
  CHECK(history["versions"].size() == 9);  // created + 8 transitions
  auto [s8, listed] = c.Call("GET", "/v1/changes?state=closed");
  CHECK(listed["total"] == 1);
  CHECK(c.Call("GET", "/v1/changes?state=bogus").first == 400);
}

TEST_CASE("emergency changes implement before approval; standard ones are pre-approved") {
  Client c;
  CiId host = c.IdOf("PhysicalServer", "fra1-esx01");
  int64_t e = NewChange(c, {{"type", "emergency"},
                            {"affected", {host}},
                            {"planned_start", At(-kHour)},
                            {"planned_end", At(kHour)}});
  CHECK(Move(c, e, "submitted").first == 200);
  auto [s1, impl] = Move(c, e, "implementing", "importer");  // implementers need not be managers
  CHECK(s1 == 200);
  auto [s2, no_close] = Move(c, e, "closed");
  CHECK(s2 == 409);
  CHECK(no_close["error"]["details"]["allowed"] == Json::array({"review", "failed"}));
  CHECK(Move(c, e, "review").first == 200);
  CHECK(Move(c, e, "closed").first == 200);

  int64_t n = NewChange(c, {{"affected", {host}}});
  CHECK(Move(c, n, "submitted").first == 200);
  CHECK(Move(c, n, "implementing").first == 409);  // a normal change needs approval
  CHECK(Move(c, n, "approved").first == 409);      // ... after assessment
  int64_t st = NewChange(c, {{"type", "standard"}, {"affected", {host}}});
  CHECK(Move(c, st, "submitted").first == 200);
  CHECK(Move(c, st, "approved").first == 200);
  // Scheduling needs a planned window.
  auto [s3, unplanned] = Move(c, st, "scheduled");
  CHECK(s3 == 400);
  CHECK(unplanned["error"]["details"]["field"] == "planned_start");
}

TEST_CASE("change fields: validation, editing only before assessment, comments always") {
  Client c;
  CiId host = c.IdOf("PhysicalServer", "fra1-esx02");
  CHECK(c.As("reader", "POST", "/v1/changes", R"({"title":"x"})").first == 403);
  CHECK(c.Call("POST", "/v1/changes", R"({"affected":[1]})").first == 400);  // no title
  auto [s1, missing] = c.Call("POST", "/v1/changes", R"({"title":"x","affected":[999999]})");
  CHECK(s1 == 404);
  CHECK(missing["error"]["details"]["missing"] == Json::array({999999}));
  auto [s2, badtime] = c.Call("POST", "/v1/changes",
                              R"({"title":"x","planned_start":"tomorrow","planned_end":"x"})");
  CHECK(s2 == 400);
  CHECK(badtime["error"]["details"]["field"] == "planned_start");
  CHECK(c.Call("POST", "/v1/changes", R"({"title":"x","colour":"red"})").first == 400);
  auto [s3, reversed] = c.Call(
      "POST", "/v1/changes",
      Json{{"title", "x"}, {"planned_start", At(2 * kHour)}, {"planned_end", At(kHour)}}.dump());
  CHECK(s3 == 400);

  int64_t id = NewChange(c, {{"affected", {host}}});
  std::string path = "/v1/changes/" + std::to_string(id);
  auto [s4, edited] = c.Call("PATCH", path, R"({"description":"reboot after firmware update"})",
                             {{"if-match", "1"}});
  CHECK(s4 == 200);
  CHECK(edited["version"] == 2);
  CHECK(c.Call("PATCH", path, R"({"description":"stale"})", {{"if-match", "1"}}).first == 412);
  CHECK(Move(c, id, "submitted").first == 200);
  CHECK(Move(c, id, "assessed").first == 200);
  auto [s5, frozen] = c.Call("PATCH", path, R"({"title":"new title"})");
  CHECK(s5 == 409);
  CHECK(frozen["error"]["code"] == "not_editable");
  auto [s6, commented] = c.Call("PATCH", path, R"({"comment":"CAB on Tuesday"})");
  CHECK(s6 == 200);
  CHECK(commented["journal"].back()["text"] == "CAB on Tuesday");
}

TEST_CASE("collisions across transitive impact, blackouts and maintenance windows") {
  Client c;
  CiId cluster = c.IdOf("DatabaseCluster", "pg-cluster-fra1");
  CiId shop = c.IdOf("Application", "shop-web");
  CiId ams_host = c.IdOf("PhysicalServer", "ams1-esx13");
  // Two changes on different CIs whose impact sets meet (the cluster impacts the shop's service).
  int64_t a = NewChange(c, {{"affected", {cluster}},
                            {"planned_start", At(48 * kHour)},
                            {"planned_end", At(50 * kHour)}});
  int64_t b = NewChange(
      c,
      {{"affected", {shop}}, {"planned_start", At(49 * kHour)}, {"planned_end", At(51 * kHour)}});
  int64_t later = NewChange(
      c,
      {{"affected", {shop}}, {"planned_start", At(60 * kHour)}, {"planned_end", At(61 * kHour)}});
  CHECK(Move(c, b, "submitted").first == 200);
  CHECK(Move(c, later, "submitted").first == 200);
  auto [s1, report] = c.Call("GET", "/v1/changes/" + std::to_string(a) + "/conflicts");
  REQUIRE(s1 == 200);
  REQUIRE(report["collisions"].size() == 1);  // `later` does not overlap in time
  CHECK(report["collisions"][0]["id"] == b);
  CHECK(!report["collisions"][0]["shared_cis"].empty());
  CHECK(report["clear"] == false);

  // A blackout over the first change's window, scoped by a query to the cluster's databases.
  Json blackout{{"name", "year-end freeze"},
                {"kind", "blackout"},
                {"start", At(47 * kHour)},
                {"end", At(55 * kHour)},
                {"scope", {{"query", "MATCH (d:Database {name: 'orders-db'}) RETURN d"}}}};
  CHECK(c.As("importer", "POST", "/v1/windows", blackout.dump()).first == 403);
  auto [s2, w] = c.As("change-manager", "POST", "/v1/windows", blackout.dump());
  REQUIRE(s2 == 201);
  auto [s3, r2] = c.Call("GET", "/v1/changes/" + std::to_string(a) + "/conflicts");
  REQUIRE(r2["blackouts"].size() == 1);
  CHECK(r2["blackouts"][0]["id"] == w["id"]);
  CHECK(!r2["blackouts"][0]["cis"].empty());
  // Scheduling into the blackout is refused for a normal change ...
  for (const char* to : {"submitted", "assessed", "approved"}) REQUIRE(Move(c, a, to).first == 200);
  auto [s4, refused] = Move(c, a, "scheduled");
  CHECK(s4 == 409);
  CHECK(refused["error"]["code"] == "blackout");
  CHECK(refused["error"]["details"]["blackouts"] == Json::array({w["id"]}));
  // ... and allowed for an emergency.
  int64_t e = NewChange(c, {{"type", "emergency"},
                            {"affected", {cluster}},
                            {"planned_start", At(48 * kHour)},
                            {"planned_end", At(49 * kHour)}});
  for (const char* to : {"submitted", "assessed", "approved", "scheduled"})
    CHECK(Move(c, e, to).first == 200);
  // A change in Amsterdam does not touch the blackout's databases.
  int64_t ams = NewChange(c, {{"affected", {ams_host}},
                              {"planned_start", At(48 * kHour)},
                              {"planned_end", At(49 * kHour)}});
  auto [s5, r3] = c.Call("GET", "/v1/changes/" + std::to_string(ams) + "/conflicts");
  CHECK(r3["blackouts"].empty());

  // A weekly maintenance window on the Amsterdam host: a change outside it is reported.
  Json maint{{"name", "ams1 Sunday night"},
             {"kind", "maintenance"},
             {"weekly", {{"days", {"sun"}}, {"start", "01:00"}, {"duration_minutes", 180}}},
             {"scope", {{"cis", {ams_host}}}}};
  auto [s6, mw] = c.Call("POST", "/v1/windows", maint.dump());
  REQUIRE(s6 == 201);
  CHECK(mw["weekly"]["days"] == Json::array({"sun"}));
  auto [s7, r4] = c.Call("GET", "/v1/changes/" + std::to_string(ams) + "/conflicts");
  REQUIRE(r4["outside_maintenance"].size() == 1);
  CHECK(r4["outside_maintenance"][0]["ci"] == ams_host);
  CHECK(c.Call("GET", "/v1/windows").second["windows"].size() == 2);

  // Bad windows get clear errors.
  auto [s8, bad] = c.Call(
      "POST", "/v1/windows",
      R"({"name":"x","kind":"blackout","weekly":{"days":["someday"],"start":"01:00","duration_minutes":60}})");
  CHECK(s8 == 400);
  CHECK(bad["error"]["details"]["field"] == "weekly.days");
  auto [s9, badq] = c.Call(
      "POST", "/v1/windows",
      R"({"name":"x","kind":"blackout","start":"2027-01-01","end":"2027-01-02","scope":{"query":"MATCH (n:Nope) RETURN n"}})");
  CHECK(s9 == 400);
  CHECK(badq["error"]["message"] == 
        "the scope query of window 'x' failed: line 1, column 10: unknown class 'Nope'\n"
        "MATCH (n:Nope) RETURN n\n"
        "         ^");
  auto [s10, del] = c.Call("DELETE", "/v1/windows/" + std::to_string(w["id"].get<int64_t>()));
  CHECK(s10 == 200);
  CHECK(c.Call("GET", "/v1/windows").second["windows"].size() == 1);
}

TEST_CASE("CONTROLLED classes: detect flags, enforce refuses, an implementing change authorizes") {
  Client c;
  CiId host = c.IdOf("PhysicalServer", "fra1-esx03");
  CiId vm = c.IdOf("VirtualMachine", "pg-fra1-01");
  std::string host_path = "/v1/cis/" + std::to_string(host);
  auto ddl = [&](const std::string& text) {
    return c.Call("POST", "/v1/query", Json{{"query", text}}.dump());
  };
  REQUIRE(ddl("ALTER NODE TYPE Hardware SET CONTROLLED").first == 200);
  auto [s0, schema] = c.Call("GET", "/v1/schema");

  // Detect: the write lands and is flagged.
  auto [s1, patched] = c.Call("PATCH", host_path, R"({"attributes":{"owner":"night-shift"}})");
  CHECK(s1 == 200);
  auto [s2, flagged] = c.Call("GET", "/v1/unauthorized-changes");
  REQUIRE(flagged["transactions"].size() == 1);
  std::string why = flagged["transactions"][0]["unauthorized"];
  CHECK(why == "CI 14 (PhysicalServer fra1-esx03): the write names no change (X-Change-Id)");
  // Writes to uncontrolled classes are not flagged.
  CHECK(
      c.Call("PATCH", "/v1/cis/" + std::to_string(vm), R"({"attributes":{"owner":"dba"}})").first ==
      200);
  CHECK(c.Call("GET", "/v1/unauthorized-changes").second["transactions"].size() == 1);

  // An implementing change inside its window authorizes the write (header or ?change=).
  int64_t id = NewChange(
      c, {{"affected", {host}}, {"planned_start", At(-kHour)}, {"planned_end", At(kHour)}});
  ToImplementing(c, id);
  std::string ref = "CHG-" + std::to_string(id);
  CHECK(c.Call("PATCH", host_path, R"({"attributes":{"owner":"ops"}})", {{"x-change-id", ref}})
            .first == 200);
  CHECK(c.Call("PATCH", host_path + "?change=" + ref, R"({"attributes":{"owner":"ops2"}})").first ==
        200);
  CHECK(c.Call("GET", "/v1/unauthorized-changes").second["transactions"].size() == 1);
  // A change that is not implementing does not.
  int64_t other = NewChange(c, {{"affected", {host}}});
  c.Call("PATCH", host_path, R"({"attributes":{"owner":"x"}})",
         {{"x-change-id", "CHG-" + std::to_string(other)}});
  auto [s3, two] = c.Call("GET", "/v1/unauthorized-changes");
  REQUIRE(two["transactions"].size() == 2);
  CHECK(two["transactions"][1]["unauthorized"].get<std::string>().find(
            "is draft, not implementing") != std::string::npos);

  // Enforce: refused with 409, nothing written; relationships to a controlled CI count too.
  REQUIRE(ddl("ALTER NODE TYPE Hardware SET CONTROLLED ENFORCE").first == 200);
  auto [s4, before] = c.Call("GET", host_path);
  auto [s5, refused] = c.Call("PATCH", host_path, R"({"attributes":{"owner":"intruder"}})");
  CHECK(s5 == 409);
  CHECK(refused["error"]["code"] == "unauthorized_change");
  CHECK(c.Call("GET", host_path).second == before);
  auto [s6, rel] = c.Call(
      "POST", "/v1/relationships",
      Json{{"type", "CONNECTED_TO"}, {"from", host}, {"to", c.IdOf("Switch", "fra1-core-sw2")}}
          .dump());
  CHECK(s6 == 409);
  auto [s7, q] = c.Call(
      "POST", "/v1/query",
      Json{{"query", "MATCH (h:PhysicalServer {name: 'fra1-esx03'}) SET h.owner = 'q' RETURN h"}}
          .dump());
  CHECK(s7 == 409);
  auto [s8, ok] = c.Call(
      "POST", "/v1/query",
      Json{{"query", "MATCH (h:PhysicalServer {name: 'fra1-esx03'}) SET h.owner = 'q' RETURN h"},
           {"change", ref}}
          .dump());
  CHECK(s8 == 200);
  // The log names the change; the chain still verifies.
  auto [s9, txs] = c.Call("GET", "/v1/transactions?limit=1000");
  CHECK(txs["items"].back()["change_ref"] == ref);
  CHECK(c.Call("GET", "/v1/transactions/verify").second["ok"] == true);
  // UNCONTROLLED lifts it (subclasses may also opt out).
  REQUIRE(ddl("ALTER NODE TYPE PhysicalServer SET UNCONTROLLED").first == 200);
  CHECK(c.Call("PATCH", host_path, R"({"attributes":{"owner":"free"}})").first == 200);
}

TEST_CASE(
    "review shows what changed during implementation and the unauthorized writes in the window") {
  Client c;
  CiId host = c.IdOf("PhysicalServer", "fra1-esx04");
  CiId other = c.IdOf("PhysicalServer", "ams1-esx14");
  int64_t id = NewChange(
      c, {{"affected", {host}}, {"planned_start", At(-kHour)}, {"planned_end", At(kHour)}});
  c.Call("PATCH", "/v1/cis/" + std::to_string(host),
         R"({"attributes":{"owner":"before"}})");  // not in range
  CHECK(c.Call("GET", "/v1/changes/" + std::to_string(id) + "/review").first == 409);
  ToImplementing(c, id);
  REQUIRE(
      c.Call("POST", "/v1/query", Json{{"query", "ALTER NODE TYPE Hardware SET CONTROLLED"}}.dump())
          .first == 200);
  std::string ref = "CHG-" + std::to_string(id);
  CHECK(c.Call("PATCH", "/v1/cis/" + std::to_string(host), R"({"attributes":{"owner":"after"}})",
               {{"x-change-id", ref}})
            .first == 200);
  CHECK(c.Call("PATCH", "/v1/cis/" + std::to_string(other), R"({"attributes":{"owner":"sneaky"}})")
            .first == 200);
  CHECK(Move(c, id, "review").first == 200);
  c.Call("PATCH", "/v1/cis/" + std::to_string(host), R"({"attributes":{"owner":"later"}})",
         {{"x-change-id", ref}});
  auto [s, review] = c.Call("GET", "/v1/changes/" + std::to_string(id) + "/review");
  REQUIRE(s == 200);
  REQUIRE(review["changes"].size() == 1);  // the later write is after implementation ended
  const Json& ch = review["changes"][0];
  CHECK(ch["ci"] == host);
  CHECK(ch["what"] == "updated");
  CHECK(ch["attributes"][0] ==
        Json{{"attribute", "owner"}, {"before", "before"}, {"after", "after"}});
  CHECK(ch["tx"]["change_ref"] == ref);
  REQUIRE(review["unauthorized"].size() >= 1);
  bool sneaky = false;
  for (const auto& t : review["unauthorized"])
    sneaky = sneaky || t["unauthorized"].get<std::string>().find("ams1-esx14") != std::string::npos;
  CHECK(sneaky);
}
