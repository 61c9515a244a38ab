// The cost of metrics on request latency: the same point lookups (GET /v1/cis/{id}, one client,
// keep-alive) against two HttpServers over the same Api in the same run, one recording request
// metrics (ServerOptions::record_metrics) and one not, in alternating rounds; and the time of a
// GET /metrics scrape with the process metrics registered (CIs by class and relationships by
// type are counted over the graph at scrape time).
// Thread safety: runs its own servers and client threads; reads `db` only.
#pragma once

#include <nlohmann/json.hpp>

#include "api/api.hpp"
#include "cmdb/database.hpp"

namespace cmdb::bench {

// Fills `out` with p50 latencies (ms) with and without metrics, their ratio and the scrape's
// median time. `api` must have been built over `db`; its registry gets the process metrics.
void MetricsCost(api::Api& api, Database& db, bool quick, nlohmann::json& out);

}  // namespace cmdb::bench
