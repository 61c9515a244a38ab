// Services and their criticality as the schema declares them (SERVICE [CRITICALITY attr]):
// impact answers and change assessments under any class and attribute names, or none.
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
    api::Authenticator auth{&store, false};
    cmdb::testing::ApiServicesFor services{*db, *engine};
    api::Api a{*db, auth, *engine, services.Refs(), api::ApiOptions{}};
    api::HttpRequest req;
    req.method = "POST";
    req.path = "/v1/impact";
    req.body = Json{{"cis", {host}}}.dump();
    api::HttpResponse res = a.Handle(req);
    REQUIRE(res.status == 200);
    return Json::parse(res.body);
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
