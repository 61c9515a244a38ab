#include "bench/metrics_cost.hpp"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "api/http_server.hpp"
#include "api/server_metrics.hpp"

namespace cmdb::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

void MetricsCost(api::Api& api, Database& db, bool quick, nlohmann::json& out) {
  struct Running {
    std::unique_ptr<api::HttpServer> server;
    std::thread thread;
    int port = 0;
  };
  auto start = [&](bool record) {
    api::ServerOptions o;
    o.port = 0;
    o.threads = 2;
    o.record_metrics = record;
    Running r;
    r.server = std::make_unique<api::HttpServer>(api, o);
    r.port = *r.server->Bind();
    r.thread = std::thread([s = r.server.get()] { s->Serve(); });
    return r;
  };
  Running with = start(true), without = start(false);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  int64_t max_id = db.Read().graph().ci_id_bound() - 1;
  httplib::Client a("127.0.0.1", with.port), b("127.0.0.1", without.port);
  for (auto* c : {&a, &b}) c->set_keep_alive(true), c->set_tcp_nodelay(true);
  std::vector<double> with_ms, without_ms;
  int rounds = quick ? 4 : 20, per_round = quick ? 200 : 1000;
  int64_t i = 0;
  for (int round = 0; round < rounds; ++round) {
    for (auto [client, into] : {std::pair{&a, &with_ms}, std::pair{&b, &without_ms}}) {
      for (int k = 0; k < per_round; ++k) {
        std::string path = "/v1/cis/" + std::to_string(1 + (++i * 7919) % max_id);
        auto t0 = Clock::now();
        auto r = client->Get(path.c_str());
        into->push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (!r) std::cerr << "metrics bench: request failed\n";
      }
    }
  }
  api::RegisterServerMetrics(api.metrics(), db, {"bench", ""});
  std::vector<double> scrape_ms;
  size_t scrape_bytes = 0;
  for (int k = 0; k < (quick ? 3 : 9); ++k) {
    auto t0 = Clock::now();
    scrape_bytes = api.metrics().Render().size();
    scrape_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
  }
  double p50_with = Median(with_ms), p50_without = Median(without_ms);
  out = {{"requests_each", with_ms.size()},       {"p50_ms_with_metrics", p50_with},
         {"p50_ms_without_metrics", p50_without}, {"ratio_with_to_without", p50_with / p50_without},
         {"scrape_ms", Median(scrape_ms)},        {"scrape_bytes", scrape_bytes}};
  std::cerr << "metrics: " << out.dump() << "\n";
  for (Running* r : {&with, &without}) {
    r->server->Stop();
    r->thread.join();
  }
  // The registry dies with `api`; the commit observer it registered must not outlive it.
  db.SetCommitObserver(nullptr);
}

}  // namespace cmdb::bench
