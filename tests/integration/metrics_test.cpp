// GET /metrics, --log-format json and X-Request-Id against the real cmdbd.
#include <catch2/catch.hpp>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "integration/server_process.hpp"

using cmdb::testing::ServerProcess;
using cmdb::testing::TempDir;
using Json = nlohmann::json;

namespace {

// The samples of a text exposition: "name{labels}" -> value (comments skipped).
std::map<std::string, double> Samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    size_t space = line.rfind(' ');
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

std::string Scrape(httplib::Client& c) {
  auto r = c.Get("/metrics");
  REQUIRE(r);
  REQUIRE(r->status == 200);
  CHECK(r->get_header_value("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  return r->body;
}

}  // namespace

TEST_CASE("GET /metrics: a token is needed, counts grow with requests, gauges read the estate") {
  std::string dir = TempDir("metrics");
  ServerProcess server(dir + "/cmdb.sqlite", {"--log-format", "json"});
  httplib::Client anon("127.0.0.1", server.port());
  auto refused = anon.Get("/metrics");
  REQUIRE(refused);
  CHECK(refused->status == 401);
  CHECK(
      refused->body ==
      R"({"error":{"code":"Unauthenticated","details":{},"message":"authentication required; send 'Authorization: Bearer <token>'"}})");
  CHECK(refused->get_header_value("X-Request-Id").size() == 16);
  httplib::Client bad("127.0.0.1", server.port());
  bad.set_bearer_token_auth("cmdb_not-a-token");
  auto wrong = bad.Get("/metrics");
  REQUIRE(wrong);
  CHECK(wrong->status == 401);

  // A reader token (the role the docs give a scraper) may read them.
  auto c = server.Client();
  auto issued =
      c.Post("/v1/tokens", R"({"name": "prometheus", "role": "reader"})", "application/json");
  REQUIRE(issued);
  REQUIRE(issued->status == 201);
  httplib::Client scraper("127.0.0.1", server.port());
  scraper.set_bearer_token_auth(Json::parse(issued->body)["token"].get<std::string>().c_str());
  auto before = Samples(Scrape(scraper));
  const std::string healthz =
      R"(cmdb_http_requests_total{route="/healthz",method="GET",status="200"})";
  const std::string missing =
      R"(cmdb_http_requests_total{route="/v1/cis/{id}",method="GET",status="404"})";
  for (int i = 0; i < 3; ++i) REQUIRE(c.Get("/healthz"));
  for (int i = 0; i < 2; ++i) REQUIRE(c.Get(("/v1/cis/" + std::to_string(900000 + i)).c_str()));
  auto created = c.Post("/v1/cis", R"({"class": "VirtualMachine", "attributes": {"name": "m-vm"}})",
                        "application/json");
  REQUIRE(created);
  CHECK(created->status == 201);
  auto after = Samples(Scrape(scraper));
  CHECK(after[healthz] - before[healthz] == 3);
  CHECK(after[missing] - before[missing] == 2);
  CHECK(after[R"(cmdb_http_request_duration_seconds_count{route="/healthz",method="GET"})"] -
            before[R"(cmdb_http_request_duration_seconds_count{route="/healthz",method="GET"})"] ==
        3);
  // Raw paths never become labels: the 404s above are counted under their pattern only.
  for (const auto& [name, value] : after) CHECK(name.find("900000") == std::string::npos);
  CHECK(after[R"(cmdb_write_transaction_duration_seconds_count{source="api"})"] -
            before[R"(cmdb_write_transaction_duration_seconds_count{source="api"})"] ==
        1);
  CHECK(after[R"(cmdb_write_transaction_records_bucket{source="api",le="1"})"] >= 1);
  double cis = 0;
  for (const auto& [name, value] : after) {
    if (name.rfind("cmdb_cis{", 0) == 0) cis += value;
  }
  CHECK(cis == 145);  // the demo's 144 and m-vm
  double rels = 0;
  for (const auto& [name, value] : after) {
    if (name.rfind("cmdb_relationships{", 0) == 0) rels += value;
  }
  CHECK(rels == 306);
  CHECK(after["cmdb_sqlite_file_bytes"] > 0);
  CHECK(after.count("cmdb_sqlite_wal_bytes") == 1);
  CHECK(after["process_resident_memory_bytes"] > 1e6);
  CHECK(after["process_start_time_seconds"] > 1.7e9);
  CHECK(after["cmdb_uptime_seconds"] >= 0);
  CHECK(after[R"(cmdb_build_info{version="0.1.0"})"] == 1);

  // promtool (Debian's prometheus package) is the reference parser; the hostile suite has a
  // strict parser of its own for machines without it.
  if (std::system("command -v promtool >/dev/null 2>&1") == 0) {
    std::string file = dir + "/metrics.txt";
    std::ofstream(file) << Scrape(scraper);
    std::string cmd = "promtool check metrics < " + file + " > " + dir + "/promtool.out 2>&1";
    int rc = std::system(cmd.c_str());
    std::ifstream out(dir + "/promtool.out");
    std::string said((std::istreambuf_iterator<char>(out)), {});
    INFO(said);
    CHECK(rc == 0);
  }
}

TEST_CASE("--log-format json: one object per request carrying the X-Request-Id it answered") {
  std::string dir = TempDir("jsonlog");
  ServerProcess server(dir + "/cmdb.sqlite", {"--no-demo", "--log-format", "json"});
  auto c = server.Client();
  auto r = c.Get("/v1/whoami", {{"X-Request-Id", "it-trace-1"}});
  REQUIRE(r);
  CHECK(r->get_header_value("X-Request-Id") == "it-trace-1");
  auto generated = c.Get("/v1/cis/999999");
  REQUIRE(generated);
  CHECK(generated->status == 404);
  std::string id = generated->get_header_value("X-Request-Id");
  CHECK(id.size() == 16);
  auto bad = c.Get("/v1/whoami", {{"X-Request-Id", "has space"}});
  REQUIRE(bad);
  CHECK(bad->get_header_value("X-Request-Id") != "has space");
  CHECK(server.Stop() == 0);
  std::vector<Json> lines;
  std::istringstream in(server.Log());
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line[0] == '{') lines.push_back(Json::parse(line));
  }
  std::map<std::string, Json> by_id;
  std::vector<std::string> events;
  for (const Json& j : lines) {
    events.push_back(j["event"].get<std::string>());
    if (j["event"] == "request") by_id[j["request_id"].get<std::string>()] = j;
  }
  CHECK(events.front() == "start");
  CHECK(events.back() == "stopped");
  REQUIRE(by_id.count("it-trace-1") == 1);
  const Json& whoami = by_id["it-trace-1"];
  CHECK(whoami["method"] == "GET");
  CHECK(whoami["route"] == "/v1/whoami");
  CHECK(whoami["path"] == "/v1/whoami");
  CHECK(whoami["status"] == 200);
  CHECK(whoami["actor"] == "admin");
  CHECK(whoami["remote"] == "127.0.0.1");
  CHECK(whoami["bytes"] == r->body.size());
  CHECK(whoami["latency_ms"].is_number());
  CHECK(whoami["time"].get<std::string>().size() > 10);
  REQUIRE(by_id.count(id) == 1);
  CHECK(by_id[id]["status"] == 404);
  CHECK(by_id[id]["route"] == "/v1/cis/{id}");
  // Never a secret: no JSON line carries the token (the first start prints it once on stdout).
  for (const Json& j : lines) CHECK(j.dump().find(server.token()) == std::string::npos);
}
