// PostgreSQL beside SQLite (issue 25): single-CI write latency (one transaction a write, through
// Database::Write) in alternating rounds on both stores in one process, and bulk-load throughput
// (one bulk transaction of N CIs and N-1 relationships) on both, then the cold start of each
// (a second database on the store loading the whole current graph). The PostgreSQL server is a
// throw-away one (tests/pg/start_pg.sh, with fsync on) unless a URL is given.
// Thread safety: single-threaded driver.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace cmdb::bench {

// `writes` single-CI creations per store (10 alternating rounds) and a bulk load of `bulk` CIs
// per store, on SQLite (synchronous=FULL) in `dir` and on PostgreSQL at `url` (empty: start one
// in `dir`). Fills `out` (medians, p99, throughput and the PostgreSQL/SQLite ratios); false
// when something failed.
bool PgBench(int64_t writes, int64_t bulk, const std::string& url, const std::string& schema_dir,
             const std::string& dir, nlohmann::json& out);

}  // namespace cmdb::bench
