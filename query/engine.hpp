// QueryEngine: the one entry of the query pipeline. parse -> bind -> plan -> execute, visible in
// Run(). Language errors thrown inside become a Status here: kInvalidArgument with type
// SyntaxError/SemanticError/TypeError/... and "line"/"column" details pointing at the source.
// Thread safety: Run may be called concurrently; reads share a ReadView, writes go through
// Database::Write one at a time.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "cmdb/database.hpp"
#include "query/executor/executor.hpp"
#include "query/runtime/value.hpp"

namespace cmdb::gql {

// How deeply a query parameter's lists and maps may nest (deeper: kResourceExhausted); the
// same limit as for values the query builds.
inline constexpr size_t kMaxParameterDepth = kMaxValueDepth;

struct QueryOptions {
  int64_t default_max_depth = 20;      // cap for unbounded variable-length patterns
  int64_t timeout_ms = 30000;          // per query
  size_t max_rows = 100000;            // result rows kept; more sets "truncated"
  // The memory budget of one query: rows one clause may materialize (MATCH results, UNWIND,
  // projections, aggregation groups) and their estimated bytes (also the bound of one list
  // comprehension). Past either: kResourceExhausted naming the budget. A MATCH feeding an
  // aggregation streams its rows, so `RETURN count(p)` holds no rows.
  size_t max_query_rows = 4'000'000;
  size_t max_query_bytes = size_t{1} << 30;  // 1 GiB
  // The bytes all running queries of this engine may charge together (their row and byte
  // budgets, reserved from one counter): a query that would pass it fails with
  // kResourceExhausted naming the server-wide budget.
  size_t max_total_query_bytes = size_t{2} << 30;  // 2 GiB
};

// What USE BASELINE reads: the state after transaction `tx`, restricted to these CIs and
// relationships (sorted ids).
struct BaselineSnapshot {
  TxId tx = 0;
  std::vector<CiId> cis;
  std::vector<RelId> rels;
};
// Finds a baseline by name (kNotFound when there is none). Supplied by the caller, which owns
// baselines (process/), so the query layer stays below it.
using BaselineResolver = std::function<Result<BaselineSnapshot>(const std::string& name)>;

struct QueryRequest {
  std::string text;
  QMap parameters;
  TxMeta meta;  // actor, change reference; source is set to "query"
  int64_t timeout_ms = 0;  // 0: the engine default; capped by it
  bool allow_writes = true;  // false: a writing query answers kPermissionDenied
  const BaselineResolver* baselines = nullptr;  // needed by USE BASELINE
};

// The answer: at most QueryOptions::max_rows rows (more: `truncated`), and the estimated bytes
// of its values written out in full, records included (what the HTTP layer renders), within
// max_query_bytes; past that, kResourceExhausted ("the answer needs more than ...").
struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<QValue>> rows;  // nodes and relationships carry their records
  ExecStats stats;
  bool truncated = false;
  double elapsed_ms = 0;
  std::string plan;  // EXPLAIN / PROFILE
  TxId tx = 0;       // the transaction a writing query committed (0: none)
  TxId as_of_tx = 0; // AS OF or USE BASELINE: the transaction whose state was read
};

class QueryEngine {
 public:
  // `db` must outlive the engine.
  QueryEngine(Database& db, QueryOptions options)
      : db_(db), options_(options), memory_(options.max_total_query_bytes) {}
  Result<QueryResult> Run(const QueryRequest& request);
  const QueryOptions& options() const { return options_; }
  // What the running queries hold together (bytes reserved by their budgets), against
  // max_total_query_bytes. Thread-safe.
  QueryMemory& memory() { return memory_; }

 private:
  // The transaction AS OF or USE BASELINE reads, and the baseline's members (throws QueryError).
  std::pair<TxId, std::optional<BaselineSnapshot>> ResolvePast(const BoundQuery& bound, const QueryRequest& request);
  Database& db_;
  QueryOptions options_;
  QueryMemory memory_;
};

// True when the text is schema DDL (CREATE NODE TYPE, ALTER EDGE TYPE, DROP NODE TYPE ...),
// which the query endpoint hands to the DDL front end.
bool IsDdl(const std::string& text);

}  // namespace cmdb::gql
