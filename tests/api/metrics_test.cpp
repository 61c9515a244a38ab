// The metrics registry and its text rendering (cmdb/metrics.hpp), request ids and the JSON log
// (api/request_log.hpp), GET /metrics through the Api (permission, content) and the server's
// X-Request-Id on a socket pair. Against a real cmdbd: tests/integration/server_test.cpp; the
// output through promtool or a strict parser: tests/hostile/hostile_test.py.
#include "cmdb/metrics.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "api/api_client.hpp"
#include "api/http_server.hpp"
#include "api/request_log.hpp"
#include "socket_exchange.hpp"

using namespace cmdb;
using cmdb::testing::Client;

TEST_CASE("the registry renders counters, gauges, histograms and callbacks in the text format") {
  MetricsRegistry r;
  auto& requests =
      r.Counter("t_requests_total", "Requests.\nSecond line \\ here.", {"route", "status"});
  requests.With({"/v1/cis/{id}", "200"}).Inc();
  requests.With({"/v1/cis/{id}", "200"}).Inc(2);
  requests.With({"a\"b\\c\nd", "404"}).Inc();
  r.Gauge("t_temperature", "A gauge.", {}).With({}).Set(-1.5);
  auto& h = r.Histogram("t_seconds", "A histogram.", {}, {0.1, 1});
  h.With({}).Observe(0.05);
  h.With({}).Observe(0.1);  // le is inclusive
  h.With({}).Observe(3);
  r.GaugeCallback("t_things", "Things by kind.", {"kind"}, [] {
    return GaugeSamples{{{"z"}, 2}, {{"a"}, 1}};
  });
  CHECK(r.Render() ==
        "# HELP t_requests_total Requests.\\nSecond line \\\\ here.\n"
        "# TYPE t_requests_total counter\n"
        "t_requests_total{route=\"/v1/cis/{id}\",status=\"200\"} 3\n"
        "t_requests_total{route=\"a\\\"b\\\\c\\nd\",status=\"404\"} 1\n"
        "# HELP t_temperature A gauge.\n"
        "# TYPE t_temperature gauge\n"
        "t_temperature -1.5\n"
        "# HELP t_seconds A histogram.\n"
        "# TYPE t_seconds histogram\n"
        "t_seconds_bucket{le=\"0.1\"} 2\n"
        "t_seconds_bucket{le=\"1\"} 2\n"
        "t_seconds_bucket{le=\"+Inf\"} 3\n"
        "t_seconds_sum 3.15\n"
        "t_seconds_count 3\n"
        "# HELP t_things Things by kind.\n"
        "# TYPE t_things gauge\n"
        "t_things{kind=\"a\"} 1\n"
        "t_things{kind=\"z\"} 2\n");
}

TEST_CASE("the registry refuses bad names, duplicates and wrong label counts") {
  MetricsRegistry r;
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  CHECK(message([&] { r.Counter("1bad", "", {}); }) == "invalid metric name '1bad'");
  CHECK(message([&] { r.Counter("ok_total", "", {"__reserved"}); }) ==
        "invalid label name '__reserved' of metric ok_total");
  CHECK(message([&] { r.Histogram("h", "", {"le"}, {1}); }) ==
        "invalid label name 'le' of metric h");
  CHECK(message([&] {
          r.Histogram("h", "", {}, {2, 1});
        }) == "histogram h needs finite, strictly ascending bucket bounds");
  auto& c = r.Counter("c_total", "", {"a"});
  CHECK(message([&] { r.Gauge("c_total", "", {}); }) == "metric c_total is registered twice");
  CHECK(message([&] { c.With({"x", "y"}); }) == "metric c_total takes 1 label values, not 2");
  CHECK(message([&] { c.With({"x"}).Inc(-1); }) == "a counter cannot decrease");
}

TEST_CASE("a family past its series limit counts new label sets under 'other'") {
  MetricsRegistry r;
  auto& c = r.Counter("many_total", "", {"k"});
  for (size_t i = 0; i < CounterFamily::kMaxSeries + 5; ++i) c.With({std::to_string(i)}).Inc();
  std::string text = r.Render();
  CHECK(text.find("many_total{k=\"other\"} 5\n") != std::string::npos);
  CHECK(text.find("many_total{k=\"1004\"}") == std::string::npos);
  CHECK(text.find("many_total{k=\"999\"} 1\n") != std::string::npos);
}

TEST_CASE("request ids: a well-formed X-Request-Id is kept, anything else is replaced") {
  CHECK(api::RequestIdFor("abc-123_x.y:z") == "abc-123_x.y:z");
  std::string generated = api::RequestIdFor("");
  CHECK(generated.size() == 16);
  CHECK(generated.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(api::RequestIdFor("") != generated);
  CHECK(api::RequestIdFor(std::string(128, 'a')) == std::string(128, 'a'));
  CHECK(api::RequestIdFor(std::string(129, 'a')).size() == 16);
  CHECK(api::RequestIdFor("a\nb").size() == 16);
  CHECK(api::RequestIdFor("a b").size() == 16);
  CHECK(api::RequestIdFor("{\"x\"}").size() == 16);
}

TEST_CASE("the JSON log writes one parseable object per request and per event") {
  std::ostringstream out;
  api::EventLog log(&out, api::LogFormat::kJson);
  api::RequestLogEntry e;
  e.request_id = "r1";
  e.method = "GET";
  e.route = "/v1/cis/{id}";
  e.path = "/v1/cis/7\n{\"forged\":1}";
  e.status = 200;
  e.latency_ms = 1.23456;
  e.bytes = 42;
  e.actor = "reader-bot";
  e.remote = "127.0.0.1";
  log.Request(e);
  log.Event("import", {{"source", "nmap"}, {"outcome", "ok"}});
  std::istringstream lines(out.str());
  std::string line;
  std::vector<nlohmann::json> parsed;
  while (std::getline(lines, line)) parsed.push_back(nlohmann::json::parse(line));
  REQUIRE(parsed.size() == 2);
  CHECK(parsed[0]["event"] == "request");
  CHECK(parsed[0]["request_id"] == "r1");
  CHECK(parsed[0]["route"] == "/v1/cis/{id}");
  CHECK(parsed[0]["path"] == "/v1/cis/7\n{\"forged\":1}");
  CHECK(parsed[0]["status"] == 200);
  CHECK(parsed[0]["latency_ms"] == 1.234);
  CHECK(parsed[0]["bytes"] == 42);
  CHECK(parsed[0]["actor"] == "reader-bot");
  CHECK(parsed[0]["remote"] == "127.0.0.1");
  CHECK(parsed[1]["event"] == "import");
  CHECK(parsed[1]["source"] == "nmap");
}

TEST_CASE("GET /metrics needs a token with read, and counts what the API did") {
  Client c;
  auto get = [&](const std::string& token) {
    api::HttpRequest req;
    req.method = "GET";
    req.path = "/metrics";
    if (!token.empty()) req.headers.emplace("authorization", "Bearer " + token);
    return c.api.Handle(req);
  };
  auto anonymous = get("");
  CHECK(anonymous.status == 401);
  CHECK(
      anonymous.body ==
      R"({"error":{"code":"Unauthenticated","details":{},"message":"authentication required; send 'Authorization: Bearer <token>'"}})");
  CHECK(
      c.As("reader", "POST", "/v1/query", R"({"query": "MATCH (n) RETURN count(*) AS n"})").first ==
      200);
  auto r = get(c.tokens["reader"]);
  REQUIRE(r.status == 200);
  CHECK(r.content_type == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(r.route == "/metrics");
  CHECK(r.actor == "reader-bot");
  CHECK(r.body.find("# TYPE cmdb_query_duration_seconds histogram\n") != std::string::npos);
  CHECK(r.body.find("cmdb_query_duration_seconds_count 1\n") != std::string::npos);
}

TEST_CASE("every answer carries an X-Request-Id, the client's when well-formed, and is counted") {
  Client c;
  std::ostringstream log;
  api::ServerOptions options;
  options.log = &log;
  options.log_format = api::LogFormat::kJson;
  api::HttpServer server(c.api, options);
  std::string auth = "Authorization: Bearer " + c.tokens["reader"] + "\r\n";
  std::string ok = cmdb::testing::ExchangeOverSocketPair(
      server,
      "GET /v1/cis/1 HTTP/1.1\r\n" + auth + "X-Request-Id: trace-42\r\nConnection: close\r\n\r\n");
  CHECK(ok.find("\r\nX-Request-Id: trace-42\r\n") != std::string::npos);
  // Refused before the body is read (401) and with a request id too long to keep.
  std::string refused = cmdb::testing::ExchangeOverSocketPair(
      server, "POST /v1/cis HTTP/1.1\r\nX-Request-Id: " + std::string(200, 'x') +
                  "\r\nContent-Length: 2\r\n\r\n{}");
  CHECK(refused.rfind("HTTP/1.1 401 Unauthorized", 0) == 0);
  size_t at = refused.find("\r\nX-Request-Id: ");
  REQUIRE(at != std::string::npos);
  CHECK(refused.substr(at + 16, 17).find_first_of("\r") == 16);  // a generated 16-digit id
  std::istringstream lines(log.str());
  std::string line;
  std::vector<nlohmann::json> parsed;
  while (std::getline(lines, line)) parsed.push_back(nlohmann::json::parse(line));
  REQUIRE(parsed.size() == 2);
  CHECK(parsed[0]["request_id"] == "trace-42");
  CHECK(parsed[0]["route"] == "/v1/cis/{id}");
  CHECK(parsed[0]["actor"] == "reader-bot");
  CHECK(parsed[0]["status"] == 200);
  CHECK(parsed[1]["status"] == 401);
  CHECK(parsed[1]["refused"] == true);
  CHECK(parsed[1]["request_id"] == refused.substr(at + 16, 16));
  std::string text = c.api.metrics().Render();
  CHECK(text.find(
            "cmdb_http_requests_total{route=\"/v1/cis/{id}\",method=\"GET\",status=\"200\"} 1\n") !=
        std::string::npos);
  CHECK(
      text.find("cmdb_http_requests_total{route=\"/v1/cis\",method=\"POST\",status=\"401\"} 1\n") !=
      std::string::npos);
}
