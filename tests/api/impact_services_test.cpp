// Services and their criticality as the schema declares them (SERVICE [CRITICALITY attr]):
// impact answers and change assessments under any class and attribute names, or none.
#include <algorithm>
#include <catch2/catch.hpp>
#include <sstream>

#include "analysis/impact.hpp"
#include "api/api_client.hpp"
#include "api/bootstrap.hpp"
#include "process/change_service.hpp"
#include "query/ddl/ddl_parser.hpp"

using namespace cmdb;
using cmdb::testing::Attrs;
using cmdb::testing::Json;

namespace {

// A database on a MemStore with a small model on top of the built-in schema: a host, an
// application running on it and a service depending on the application, of class `service` with
// its criticality in attribute `criticality` — declared SERVICE CRITICALITY unless `declared` is
// false.
struct Model {
  MemStore store;
  std::unique_ptr<Database> db;
  std::unique_ptr<gql::QueryEngine> engine;
  CiId host = 0, app = 0, svc = 0;

  Model(const std::string& service, const std::string& criticality, bool declared = true) {
    std::ostringstream log;
    auto opened = api::OpenDatabase(&store, api::BootstrapOptions{}, log);
    if (!opened.ok()) throw std::runtime_error(opened.status().ToString());
    db = std::move(*opened);
    engine = std::make_unique<gql::QueryEngine>(*db, gql::QueryOptions{});
    std::string option = !declared ? "" : " SERVICE CRITICALITY " + criticality;
    std::string ddl =
        "CREATE NODE TYPE Host; CREATE NODE TYPE App;\n"
        "CREATE NODE TYPE " +
        service + option + " { " + criticality +
        " ENUM('low', 'medium', 'high', 'critical') };\n"
        "CREATE EDGE TYPE RUNS_ON CONNECTING (App -> Host) IMPACT TO SOURCE;\n"
        "CREATE EDGE TYPE NEEDS CONNECTING (" +
        service + " -> App) IMPACT TO SOURCE;";
    Schema next = *db->schema();
    Status st = ddl::ApplyDdl(ddl, next);
    if (!st.ok()) throw std::runtime_error(st.ToString());
    auto tx = db->ChangeSchema(TxMeta{"test", "schema", "", ""}, next);
    if (!tx.ok()) throw std::runtime_error(tx.status().ToString());
    host = Create("Host", Attrs({{"name", "h"}}));
    app = Create("App", Attrs({{"name", "a"}}));
    svc = Create(service, Attrs({{"name", "s"}, {criticality.c_str(), "critical"}}));
    Relate("RUNS_ON", app, host);
    Relate("NEEDS", svc, app);
  }
  CiId Create(const std::string& cls, AttrMap attrs) {
    return cmdb::testing::CreateCi(*db, cls, std::move(attrs));
  }
  void Relate(const std::string& type, CiId from, CiId to) {
    cmdb::testing::CreateRel(*db, type, from, to);
  }
  // The impact of the host as POST /v1/impact answers it.
  Json Impact() {
    api::HttpResponse res = Post(Json{{"cis", {host}}});
    REQUIRE(res.status == 200);
    return Json::parse(res.body);
  }
  // POST /v1/impact with `body`.
  api::HttpResponse Post(const Json& body) {
    api::Authenticator auth{&store, false};
    cmdb::testing::ApiServicesFor services{*db, *engine};
    api::Api a{*db, auth, *engine, services.Refs(), api::ApiOptions{}};
    api::HttpRequest req;
    req.method = "POST";
    req.path = "/v1/impact";
    req.body = body.dump();
    return a.Handle(req);
  }
  // The assessment of a change to the host.
  process::Assessment Assess() {
    process::ChangeService changes{*db, *engine};
    process::ChangeFields fields;
    fields.values.title = "patch h";
    fields.values.affected = std::vector<CiId>{host};
    fields.given = {"title", "affected"};
    auto c = changes.Create(fields, "tester");
    REQUIRE(c.ok());
    REQUIRE(changes.Transition(c->id, process::ChangeState::kSubmitted, "", "tester").ok());
    auto assessed = changes.Transition(c->id, process::ChangeState::kAssessed, "", "tester");
    REQUIRE(assessed.ok());
    return assessed->assessments.at(0);
  }
};

}  // namespace

TEST_CASE("services and their criticality are what the schema declares, under any name") {
  Model usual("BusinessService", "criticality"), renamed("Product", "importance");
  Json a = usual.Impact(), b = renamed.Impact();
  REQUIRE(a["services"].size() == 1);
  CHECK(a["services"] == b["services"]);
  CHECK(b["services"][0] ==
        Json({{"id", renamed.svc}, {"name", "s"}, {"criticality", "critical"}}));
  CHECK(a["impacted"].size() == b["impacted"].size());
  process::Assessment x = usual.Assess(), y = renamed.Assess();
  CHECK(y.services == std::vector<CiId>{renamed.svc});
  CHECK(y.service_criticality == std::vector<std::string>{"critical"});
  CHECK(x.service_criticality == y.service_criticality);
  CHECK(x.risk_score == y.risk_score);
  CHECK(x.risk_explanation == y.risk_explanation);
  CHECK(y.risk_explanation.find("8.0 service points for 1 services") != std::string::npos);
}

TEST_CASE("a schema without services: impact and assessments answer, listing none") {
  Model none("Product", "importance", /*declared=*/false);
  Json j = none.Impact();
  CHECK(j["services"].empty());
  CHECK(j["impacted"].size() == 2);  // the application and the product
  process::Assessment a = none.Assess();
  CHECK(a.services.empty());
  CHECK(a.impacted.size() == 2);
  CHECK(a.risk_explanation.find("0.0 service points for 0 services") != std::string::npos);
  // An open database (no schema at all) lists none either.
  cmdb::testing::TestDb open{false, true};
  CiId x = open.Create("Thing", Attrs({{"name", "x"}}));
  ReadView view = open.db->Read();
  analysis::ImpactRequest r;
  r.seeds = {x};
  auto result = analysis::ComputeImpact(view.graph(), view.schema(), r);
  REQUIRE(result.ok());
  CHECK(result->services.empty());
}

TEST_CASE("SERVICE is kept with the schema the store saves and read back from it") {
  cmdb::testing::TestDb t;
  const ClassDef* svc = t.db->schema()->ServiceClassOf("BusinessService");
  REQUIRE(svc);
  CHECK(svc->name == "BusinessService");
  CHECK(svc->criticality == "criticality");
  CHECK_FALSE(t.db->schema()->ServiceClassOf("TechnicalService"));
  std::ostringstream log;
  auto reopened = api::OpenDatabase(&t.store, api::BootstrapOptions{}, log);
  REQUIRE(reopened.ok());
  const ClassDef* back = (*reopened)->schema()->ServiceClassOf("BusinessService");
  REQUIRE(back);
  CHECK(back->criticality == "criticality");
}

TEST_CASE("POST /v1/impact with as_of answers the impact as it was after that transaction") {
  Model m("BusinessService", "criticality");
  TxId before = m.db->Read().tx();
  CiId late = m.Create("App", Attrs({{"name", "late"}}));
  m.Relate("RUNS_ON", late, m.host);
  auto ids = [](const Json& answer) {
    std::vector<int64_t> out;
    for (const auto& i : answer["impacted"]) out.push_back(i["id"].get<int64_t>());
    std::sort(out.begin(), out.end());
    return out;
  };
  Json now = m.Impact();
  CHECK(ids(now) == std::vector<int64_t>{m.app, m.svc, late});
  api::HttpResponse res = m.Post(Json{{"cis", {m.host}}, {"as_of", before}});
  REQUIRE(res.status == 200);
  Json past = Json::parse(res.body);
  CHECK(ids(past) == std::vector<int64_t>{m.app, m.svc});
  CHECK(past["tx"] == before);
  CHECK(past["services"].size() == 1);
  // The DOT picture of the past has no trace of the later CI.
  res = m.Post(Json{{"cis", {m.host}}, {"as_of", before}, {"format", "dot"}});
  REQUIRE(res.status == 200);
  CHECK(res.body.find("c" + std::to_string(late)) == std::string::npos);
  CHECK(res.body.find("c" + std::to_string(m.app)) != std::string::npos);
  // A seed that did not exist then.
  res = m.Post(Json{{"cis", {late}}, {"as_of", before}});
  CHECK(res.status == 404);
  CHECK(Json::parse(res.body)["error"]["message"] ==
        "CI " + std::to_string(late) + " does not exist");
  auto error = [&](const Json& body) {
    api::HttpResponse r = m.Post(body);
    CHECK(r.status == 400);
    return Json::parse(r.body)["error"]["message"].get<std::string>();
  };
  TxId latest = m.db->Read().tx();
  CHECK(error(Json{{"cis", {m.host}}, {"as_of", latest + 1}}) ==
        "as_of transaction " + std::to_string(latest + 1) + " does not exist (the latest is " +
            std::to_string(latest) + ")");
  CHECK(error(Json{{"cis", {m.host}}, {"as_of", true}}) ==
        "as_of must be a transaction id or an ISO-8601 time");
  CHECK(error(Json{{"cis", {m.host}}, {"as_of", "yesterday"}}) ==
        "as_of needs an ISO-8601 date-time such as '2026-01-31T12:00:00Z'");
  CHECK(error(Json{{"cis", {m.host}}, {"as_of", "2999-01-01T00:00:00Z"}}) ==
        "as_of '2999-01-01T00:00:00Z' is in the future");
  CHECK(error(Json{{"query", "MATCH (h:Host) RETURN h"}, {"as_of", before}}) ==
        "as_of takes the seeds as \"cis\"; a seed query says AS OF itself");
}
