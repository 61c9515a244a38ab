// The process-wide metrics of cmdbd, registered by the composition root (api/main.cpp): build
// info, start time and uptime, resident memory, the SQLite file and WAL sizes, CIs by class and
// relationships by type (read at scrape time), and the write path's transaction latency and size
// (through Database::SetCommitObserver). The API's own (requests, queries, impact, imports) are
// registered by Api (ApiMetrics).
// Thread safety: call once at start-up; the callbacks it installs are thread-safe.
#pragma once

#include <string>

#include "cmdb/database.hpp"
#include "cmdb/metrics.hpp"

namespace cmdb::api {

struct ServerMetricsOptions {
  std::string version;  // cmdb_build_info{version}
  std::string db_path;  // the SQLite file ("" or ":memory:": no file size metrics)
};

// Registers the metrics above in `registry` and installs `db`'s commit observer, which refers
// to the registry: `db` must outlive the registry's use (renders read it), and the registry
// must outlive the observer (clear it with db.SetCommitObserver(nullptr) first).
void RegisterServerMetrics(MetricsRegistry& registry, Database& db,
                           const ServerMetricsOptions& options);

// The resident set size of this process in bytes (/proc/self/statm), 0 when unknown.
double ResidentMemoryBytes();

}  // namespace cmdb::api
