// The query engine: the public face of query/. Callers (api/, process/, bench/, tests) include
// this header alone; it names what a query takes and gives and nothing of how it runs, so it
// pulls no parser, AST, binder, planner or executor header (the `layering` test checks that).
//
// QueryEngine::Run is the one entry of the pipeline: parse -> bind -> plan -> execute
// (query/engine.cpp). Language errors become a Status there: kInvalidArgument with type
// SyntaxError/SemanticError/TypeError/... and "line"/"column" details pointing at the source.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "cmdb/database.hpp"
#include "cmdb/past_graph.hpp"
#include "cmdb/status.hpp"
#include "query/common/enums.hpp"
#include "query/runtime/value.hpp"

namespace cmdb::gql {

// How deeply a query parameter's lists and maps may nest (deeper: kResourceExhausted); the
// same limit as for values the query builds.
inline constexpr size_t kMaxParameterDepth = kMaxValueDepth;

// The limits of one engine, fixed when it is made. A plain value.
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
  // How AS OF and USE BASELINE read the past. false: a view over the current graph with the
  // versions written since undone (cmdb/past_graph.hpp), costing what changed since. true: a
  // private graph rebuilt from every stored version, costing the whole history: the old way,
  // kept as the oracle the tests and the benchmark compare the view with.
  bool past_by_replay = false;
};

// What USE BASELINE reads: the state after transaction `tx`, restricted to these CIs and
// relationships (sorted ids), or, when `whole`, everything there then (cis and rels unused: a
// baseline of the whole estate reads like AS OF tx, without a member list to copy and test).
// A plain value.
struct BaselineSnapshot {
  TxId tx = 0;
  std::vector<CiId> cis;
  std::vector<RelId> rels;
  bool whole = false;
};
// Finds a baseline by name (kNotFound when there is none). Supplied by the caller, which owns
// baselines (process/), so the query layer stays below it. Called on the thread running the
// query, during Run.
using BaselineResolver = std::function<Result<BaselineSnapshot>(const std::string& name)>;

// Where Run hands a query's rows when the caller streams them (an export) instead of taking
// them in QueryResult::rows. Implemented by the caller; Run calls it on its own thread.
// Run may hold a read view while it calls Columns and Row, so they only render and buffer;
// the output goes out in Flush, which Run calls with no view held: at the executor's next safe
// point once WantsFlush() says so, and at the end of the rows (the caller flushes the rest
// after Run returns).
class RowStream {
 public:
  virtual ~RowStream() = default;
  // The columns, once, before any row.
  virtual void Columns(const std::vector<std::string>& columns) = 0;
  // One row of the answer, its nodes and relationships carrying their records.
  virtual void Row(std::vector<QValue>& row) = 0;
  // True when enough is buffered to be sent.
  virtual bool WantsFlush() const = 0;
  // Sends what is buffered; false when the receiver is gone (Run stops the query and answers
  // kUnavailable "the client went away"). The time it takes does not count against the
  // query's time limit.
  virtual bool Flush() = 0;
};

// One query to run. A plain value; the caller keeps `baselines` and `stream` alive during Run.
struct QueryRequest {
  std::string text;
  QMap parameters;
  TxMeta meta;  // actor, change reference; source is set to "query"
  int64_t timeout_ms = 0;  // 0: the engine default; capped by it
  bool allow_writes = true;  // false: a writing query answers kPermissionDenied
  const BaselineResolver* baselines = nullptr;  // needed by USE BASELINE
  // When set, the rows go to `stream` and QueryResult::rows stays empty; max_rows does not
  // apply (nothing is truncated). A read (the present, AS OF or USE BASELINE) is then streamed:
  // it reads one snapshot (the present as of the transaction it started at, however long it
  // runs; writes may commit meanwhile: see PastGraph) and hands each row of its RETURN to
  // `stream` as it is produced, when the clauses that end each UNION ALL part are
  // MATCH, OPTIONAL MATCH, UNWIND or WITH/RETURN without aggregation, DISTINCT or ORDER BY
  // (Executor::RunStreaming). Otherwise (a blocking clause at the end, UNION without ALL, a
  // writing query, EXPLAIN, PROFILE) the rows are built whole, within the row and byte budget,
  // and then handed over.
  RowStream* stream = nullptr;
};

// What a query did to the graph, and (PROFILE) what each clause produced. A plain value.
struct ExecStats {
  int64_t nodes_created = 0, nodes_deleted = 0;
  int64_t relationships_created = 0, relationships_deleted = 0;
  int64_t properties_set = 0;
  bool depth_capped = false;  // an unbounded pattern hit the depth cap
  // PROFILE: rows produced and microseconds per clause, in clause order.
  std::vector<std::pair<std::string, std::pair<int64_t, int64_t>>> profile;
};

// The answer: at most QueryOptions::max_rows rows (more: `truncated`), and the estimated bytes
// of its values written out in full, records included (what the HTTP layer renders), within
// max_query_bytes; past that, kResourceExhausted ("the answer needs more than ..."). A plain
// value: it holds its own copies of the records it shows, and outlives the engine.
struct QueryResult {
  std::vector<std::string> columns;
  std::vector<std::vector<QValue>> rows;  // nodes and relationships carry their records
  ExecStats stats;
  bool truncated = false;
  double elapsed_ms = 0;
  QueryMode mode = QueryMode::kRun;  // as the query was written
  // kExplain: the plan, one operator per line; kProfile: rows and time per clause; kRun: empty.
  std::string plan;
  TxId tx = 0;       // the transaction a writing query committed (0: none)
  TxId as_of_tx = 0; // AS OF or USE BASELINE: the transaction whose state was read
};

// The bytes all running queries of one engine have charged, against a server-wide limit.
// Executors reserve from it in chunks as they charge their budget and give it all back when
// they end. Thread safety: every method may be called from any thread.
class QueryMemory {
 public:
  explicit QueryMemory(size_t limit) : limit_(limit) {}
  // Adds `bytes` unless the total would pass the limit (then adds nothing and returns false).
  bool Reserve(size_t bytes) {
    size_t used = used_.load(std::memory_order_relaxed);
    do {
      if (bytes > limit_ || used > limit_ - bytes) return false;
    } while (!used_.compare_exchange_weak(used, used + bytes, std::memory_order_relaxed));
    return true;
  }
  // Gives back `bytes` an earlier Reserve took.
  void Release(size_t bytes) { used_.fetch_sub(bytes, std::memory_order_relaxed); }
  // The bytes reserved now, and the limit.
  size_t used() const { return used_.load(std::memory_order_relaxed); }
  size_t limit() const { return limit_; }

 private:
  std::atomic<size_t> used_{0};
  size_t limit_;
};

// Runs queries against one Database.
// Thread safety: Run may be called concurrently; reads share a ReadView, writes go through
// Database::Write one at a time.
class QueryEngine {
 public:
  // `db` must outlive the engine.
  QueryEngine(Database& db, QueryOptions options)
      : db_(db), options_(options), memory_(options.max_total_query_bytes) {}
  QueryEngine(const QueryEngine&) = delete;
  QueryEngine& operator=(const QueryEngine&) = delete;

  // Parses, binds, plans and runs `request` (EXPLAIN: plans only). Errors: kInvalidArgument
  // for language errors (located), kResourceExhausted past a budget or a nesting limit,
  // kUnavailable on timeout, kPermissionDenied for a write without allow_writes, and what the
  // write path refuses.
  Result<QueryResult> Run(const QueryRequest& request);
  // The options the engine was made with.
  const QueryOptions& options() const { return options_; }
  // What the running queries hold together (bytes reserved by their budgets), against
  // max_total_query_bytes. Owned by the engine. Thread-safe.
  QueryMemory& memory() { return memory_; }

  // AS OF (and USE BASELINE of everything) keeps the last past view it opened, for the next
  // query of the same transaction: the past does not change, so the next one only undoes what
  // was written since (PastGraph::CatchUp) instead of reading every change again. One view at
  // a time, only when it undoes at most kMaxCachedChanges CIs and relationships (its memory
  // follows them); a query of another transaction replaces it. A view serves one query at a
  // time: a concurrent one opens its own. Thread-safe.
  static constexpr size_t kMaxCachedChanges = 250000;
  // How many past views Run has opened (not taken from the cache). Thread-safe.
  int64_t past_views_opened() const { return past_views_opened_.load(); }
  // Releases the kept past view (its memory). Thread-safe.
  void DropPastView();

 private:
  // The kept view for `tx`, caught up with `view`, or null (then Run opens one).
  std::unique_ptr<PastGraph> TakePastView(TxId tx, const ReadView& view);
  void KeepPastView(std::unique_ptr<PastGraph> past, const ReadView& view);

  Database& db_;
  QueryOptions options_;
  QueryMemory memory_;
  std::mutex past_mu_;  // guards the two below
  std::unique_ptr<PastGraph> past_view_;
  const Schema* past_schema_ = nullptr;  // the schema past_view_ was opened or caught up under
  std::shared_ptr<const Schema> past_schema_hold_;  // keeps past_schema_ alive (no reuse of its address)
  std::atomic<int64_t> past_views_opened_{0};
};

// True when the text is schema DDL (CREATE NODE TYPE, ALTER EDGE TYPE, DROP NODE TYPE ...),
// which the query endpoint hands to the DDL front end. Thread-safe (a pure function).
bool IsDdl(const std::string& text);

}  // namespace cmdb::gql
