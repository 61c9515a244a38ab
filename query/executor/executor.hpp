// Executor (stage 4): runs a planned, bound query part over a GraphAccess, clause by clause, on
// materialized rows. Writes go through the Txn of the query's one transaction.
// Throws QueryError for language errors and StatusError when the write path refuses a change.
// What it counts (ExecStats) and the server-wide account (QueryMemory) are in the public header,
// query/engine.hpp, because the engine's callers see them too.
// Thread safety: one Executor per query.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cmdb/txn.hpp"
#include "query/binder/bound.hpp"
#include "query/engine.hpp"
#include "query/executor/regex.hpp"
#include "query/planner/plan.hpp"
#include "query/runtime/functions.hpp"
#include "query/runtime/graph_access.hpp"

namespace cmdb::gql {

using Row = std::vector<QValue>;

// A write the core refused (schema violation, KEY conflict, ...), carried out of the executor.
struct StatusError : std::runtime_error {
  explicit StatusError(Status s) : std::runtime_error(s.message()), status(std::move(s)) {}
  Status status;
};

struct ExecOptions {
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  bool profile = false;
  // The memory budget: the rows (and their estimated bytes) one clause may materialize, and the
  // bytes one list built inside an expression may hold. Past it: ResourceExhausted.
  size_t max_rows = static_cast<size_t>(-1);
  size_t max_bytes = static_cast<size_t>(-1);
  // The server-wide account the charged bytes are also reserved from (null: none).
  QueryMemory* memory = nullptr;
  // The query's time: `timestamp()` answers it, the same value all through the query.
  int64_t now_micros = 0;
  // The store the database reads its history from (cmdb.created_tx), or null.
  Store* store = nullptr;
};

// The estimated memory of a value: its own size plus the payloads (strings, lists, maps, paths)
// it alone holds; payloads shared with other values are not counted again.
size_t ApproxBytes(const QValue& v);
// The estimated memory of a row (ApproxBytes of every slot).
size_t RowBytes(const Row& row);

// Where a clause hands each row it produces.
using RowSink = std::function<void(Row&)>;

class Executor : public BuildAccount {
 public:
  // `txn` is null for read-only queries. All references must outlive the executor.
  Executor(const GraphAccess& graph, Txn* txn, const QMap& params, int num_slots, const ExecOptions& options,
           ExecStats& stats)
      : graph_(graph), txn_(txn), params_(params), num_slots_(num_slots), options_(options), stats_(stats) {}
  ~Executor() override { ResetCharges(); }
  Executor(const Executor&) = delete;
  Executor& operator=(const Executor&) = delete;

  // Runs one part of a query (between UNIONs) and returns its rows (full width).
  std::vector<Row> Run(const BoundSingleQuery& part, const PartPlan& plan);
  // Runs one part and hands each row of its RETURN (full width) to `out`. The part's longest
  // run of last clauses that work row by row (StreamingStart) streams: each row of the clauses
  // before it (built whole) goes through them and out as soon as it is produced, and neither
  // those rows nor the answer are held or charged; a LIMIT there ends the search once reached.
  // A part that ends in a blocking clause (aggregation, DISTINCT, ORDER BY) is built whole,
  // within the budget, and then handed over. `out` may hold no record pointer past its return.
  void RunStreaming(const BoundSingleQuery& part, const PartPlan& plan, const RowSink& out);
  // The index of the first clause of the part's streamed run of last clauses: MATCH, OPTIONAL
  // MATCH, UNWIND, and WITH/RETURN without aggregation, DISTINCT or ORDER BY, ending with the
  // RETURN; clauses.size() when the RETURN itself blocks (nothing streams).
  static size_t StreamingStart(const BoundSingleQuery& part);
  // The query's subqueries and their plans (both must outlive the executor); needed before Run
  // when the query has any.
  void SetSubqueries(const std::vector<BoundSubquery>* subqueries, const std::vector<PartPlan>* plans) {
    subqueries_ = subqueries;
    sub_plans_ = plans;
  }

  // Evaluates an expression. The lists and strings it builds are charged before they are
  // allocated (ChargeBuilt) and held until the outermost Eval returns.
  QValue Eval(const BoundExpr& e, Row& row);
  // Charges `bytes` that an operator or function (`what`, at `offset`) is about to allocate for a
  // value built from others: against the byte budget together with what the running clause
  // holds, and against the server-wide account. Throws ResourceExhausted (ByteBudget or
  // TotalByteBudget) before anything is allocated. Released when the outermost Eval returns
  // (a value kept in a row is then charged with the row).
  void ChargeBuilt(size_t bytes, const char* what, size_t offset) override;
  // Throws a timeout error once the deadline has passed (checked every 1024 calls) and lets a
  // waiting writer publish: only where no record pointer is held.
  void CheckDeadline();
  // The deadline alone (checked every 1024 calls): safe anywhere, inside expressions too.
  void CheckTime();
  // Counts rows and bytes the running clause (or the answer, `what` = "the answer")
  // materializes; throws QueryError ("ResourceExhausted", "RowBudget" or "ByteBudget") past
  // options.max_rows / max_bytes, and ("ResourceExhausted", "TotalByteBudget") when the
  // server-wide account (options.memory) cannot take the bytes.
  void Charge(size_t rows, size_t bytes, const char* what = nullptr);
  // Starts a new account: the previous clause's rows are gone (its reservation is released).
  void ResetCharges();
  // Gives back `bytes` of what the running clause charged, for memory it has freed (a search's
  // working set, once the search is done); never below zero.
  void Release(size_t bytes) { charged_bytes_ -= std::min(bytes, charged_bytes_); }
  // A value built at `offset` (list, map, string, function or aggregate result): throws
  // ByteBudget when written out in full it needs more than max_bytes, NestingTooDeep when its
  // lists and maps nest deeper than kMaxValueDepth. Returns it.
  QValue Built(QValue v, size_t offset) const;

 private:
  // Clauses (executor.cpp).
  // Hands every matching row to `sink` (OPTIONAL MATCH: the input row with nulls when none).
  void RunMatch(std::vector<Row> in, const BoundMatch& m, const MatchPlan& plan, const RowSink& sink);
  std::vector<Row> RunMatch(std::vector<Row> in, const BoundMatch& m, const MatchPlan& plan);
  // `stop` (may be null): the sink sets it to end the search early.
  void MatchRow(const Row& row, const std::vector<BoundPattern>& patterns, const MatchPlan& plan,
                const RowSink& sink, const bool* stop = nullptr);
  std::vector<Row> RunUnwind(std::vector<Row> in, const BoundUnwind& u);
  std::vector<Row> RunProjection(std::vector<Row> in, const BoundProjection& p);
  // An aggregating projection's groups, fed one row at a time (executor.cpp).
  class Grouping;
  // DISTINCT, ORDER BY, SKIP, LIMIT and WITH ... WHERE over a projection's rows.
  std::vector<Row> FinishProjection(std::vector<Row> out, const BoundProjection& p);
  std::vector<Row> RunCall(std::vector<Row> in, const BoundCall& c);
  // The clauses of `part` before `end` over the rows `rows` (Run starts from one empty row).
  std::vector<Row> RunFrom(const BoundSingleQuery& part, const PartPlan& plan,
                           std::vector<Row> rows, size_t end = static_cast<size_t>(-1));
  // Streaming (streaming.cpp): clause `k` of the streamed run for one row, then the next.
  struct StreamState;
  void StreamClause(size_t k, size_t match_index, Row& row, StreamState& st);
  // Subqueries (subquery.cpp): subquery `index` run from a copy of `outer`; its rows are not
  // charged to the running clause once it returns (the caller charges what it keeps).
  std::vector<Row> RunSubquery(int index, const Row& outer);
  // Runs `body` as a subquery: charges it makes are given back afterwards, the outer
  // projection's aggregates are out of sight, the deadline is checked without yielding.
  void InSubquery(const std::function<void()>& body);
  std::vector<Row> RunForeach(std::vector<Row> in, const BoundForeach& f);
  std::vector<Row> RunCallSubquery(std::vector<Row> in, const BoundCallSubquery& c);
  QValue EvalSubquery(const BoundExpr& e, Row& row);
  QValue EvalMapProjection(const BoundExpr& e, Row& row);
  QValue EvalReduce(const BoundExpr& e, Row& row);
  // Writes (writes.cpp).
  std::vector<Row> RunCreate(std::vector<Row> in, const BoundCreate& c);
  void CreatePattern(Row& row, const BoundPattern& pattern);
  std::vector<Row> RunSet(std::vector<Row> in, const BoundSet& s);
  void ApplySet(Row& row, const BoundSetItem& item);
  std::vector<Row> RunDelete(std::vector<Row> in, const BoundDelete& d);
  std::vector<Row> RunMerge(std::vector<Row> in, const BoundMerge& m, const MatchPlan& plan);

  // Expressions (eval.cpp).
  QValue EvalNode(const BoundExpr& e, Row& row);
  // Gives back what ChargeBuilt took (the outermost Eval has returned).
  void ReleaseBuilt();
  // list + list, string + string, ...: charged, then built.
  QValue Add(Op op, const QValue& a, const QValue& b, size_t offset);
  QValue EvalBinary(const BoundExpr& e, Row& row);
  // A kBinary chain of more than two operands, folded left to right without recursion.
  QValue EvalChain(const BoundExpr& e, Row& row);
  QValue EvalProperty(const QValue& base, const std::string& key, size_t offset);
 public:
  bool IsTrue(const BoundExpr& e, Row& row);

 private:
  const GraphAccess& graph_;
  Txn* txn_;
  const QMap& params_;
  int num_slots_;
  const ExecOptions& options_;
  ExecStats& stats_;
  const std::vector<QValue>* current_aggregates_ = nullptr;
  uint32_t deadline_counter_ = 0;                // CheckTime's calls
  uint32_t safe_point_counter_ = 0;              // CheckDeadline's calls
  size_t charged_rows_ = 0, charged_bytes_ = 0;  // by the running clause
  size_t built_bytes_ = 0;  // charged by ChargeBuilt inside the running outermost Eval
  int eval_depth_ = 0;
  size_t reserved_ = 0;  // from options_.memory, at least charged_bytes_ + built_bytes_
  RegexCache regex_;  // =~ patterns, compiled once per query
  const std::vector<BoundSubquery>* subqueries_ = nullptr;
  const std::vector<PartPlan>* sub_plans_ = nullptr;
  int sub_depth_ = 0;  // > 0 while a subquery runs (inside an expression or a clause)
};

}  // namespace cmdb::gql
