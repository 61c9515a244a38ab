// The bound query: names resolved against the schema and the variable scope, variables turned
// into row slots, functions looked up, aggregates separated. Produced by the binder, read by the
// planner and the executor.
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "query/common/enums.hpp"
#include "query/runtime/value.hpp"

namespace cmdb::gql {

struct FunctionDef;

enum class ExprKind {
  kLiteral, kParameter, kVariable, kProperty, kIndex, kSlice, kLabelCheck, kList, kMap,
  kFunction, kAggregate, kAggregateRef, kCase, kListComprehension, kQuantifier, kUnary, kBinary,
  kSubquery, kMapProjection, kReduce,
};

// How deep a bound expression tree may be: every stage walks it recursively, so the binder
// refuses deeper ones (SyntaxError "NestingTooDeep", code ResourceExhausted). Long chains of
// one associative level (a AND b AND ..., 1 + 2 - 3 + ...) do not count: they bind flat.
inline constexpr int kMaxExprDepth = 500;

// How many nodes the patterns of one MATCH, CREATE or MERGE may have (ResourceExhausted past it).
inline constexpr size_t kMaxPatternNodes = 200;

struct BoundExpr {
  ExprKind kind = ExprKind::kLiteral;
  size_t offset = 0;             // where it was written (runtime errors point here)
  QValue literal;                // kLiteral
  std::string name;              // parameter, property key, map keys (joined by \x1f), function
  int slot = -1;                 // kVariable; kListComprehension: the element variable
  Op op = Op::kAnd;              // kUnary, kBinary (the first operator of a chain)
  // kBinary over more than two args: a left fold, ops[i] joining the result so far and
  // args[i + 1] (AND, OR, XOR, + - and * / % and ^ chains, so they evaluate without recursion).
  std::vector<Op> ops;
  int depth = 1;                 // of the tree rooted here (at most kMaxExprDepth)
  std::vector<BoundExpr> args;   // children
  std::vector<std::string> keys; // kMap keys; kLabelCheck labels
  const FunctionDef* fn = nullptr;
  bool distinct = false;         // kAggregate
  bool star = false;             // kAggregate count(*)
  int index = -1;                // kAggregateRef: which aggregate of the projection
  // kCase: args = [subject?] when/then pairs... [else?]
  bool has_subject = false, has_else = false;
  // kSlice: which bounds exist
  bool has_from = false, has_to = false;
  // kListComprehension: args = [list, where?, map?]; kQuantifier: name = all/any/none/single,
  // args = [list, where?]
  bool has_where = false, has_map = false;
  // kSubquery: index = the BoundQuery::subqueries entry, name = exists/count/collect, args = the
  // outer variables the subquery reads (kVariable; not evaluated, they tell the planner when
  // the subquery can run).
  // kMapProjection: args[0] the projected value, args[i + 1] the value of key keys[i]; the key
  // "*" (args[i + 1] unused) stands for all of the value's properties.
  // kReduce: args = [init, list, expression], index = the accumulator's slot, slot = the
  // element's.
};

struct BoundNode {
  int slot = -1;
  bool bound = false;  // bound by an earlier clause or part
  std::vector<std::string> labels;
  std::vector<std::pair<std::string, BoundExpr>> properties;
};

struct BoundRel {
  int slot = -1;
  bool bound = false;
  std::vector<std::string> types;  // empty: any
  Direction direction = Direction::kBoth;
  bool var_length = false;
  int64_t min_hops = 1;
  int64_t max_hops = 1;  // var_length with no upper bound: the configured depth cap
  bool unbounded = false;
  std::vector<std::pair<std::string, BoundExpr>> properties;
};

// Which paths of a pattern a MATCH keeps: every match (kEvery), or for each pair of end nodes
// the shortest ones: one (shortestPath, ANY SHORTEST), all of the least length
// (allShortestPaths, ALL SHORTEST) or the k shortest (SHORTEST k).
enum class PathSelect { kEvery, kAnyShortest, kAllShortest, kShortestK };

struct BoundPattern {
  int path_slot = -1;
  PathSelect select = PathSelect::kEvery;  // not kEvery: one variable-length relationship
  int64_t shortest_k = 1;                  // kShortestK
  std::vector<BoundNode> nodes;  // nodes.size() == rels.size() + 1
  std::vector<BoundRel> rels;
};

struct BoundMatch {
  bool optional = false;
  std::vector<BoundPattern> patterns;
  std::vector<BoundExpr> predicates;  // conjuncts of WHERE and of inline property maps
  std::vector<int> new_slots;         // variables this clause binds (nulls for OPTIONAL)
};

struct BoundUnwind {
  BoundExpr list;
  int slot = -1;
};

struct BoundItem {
  BoundExpr expr;
  std::string column;  // alias or exact source text
  int slot = -1;
  bool aggregating = false;
};

struct BoundSortItem {
  BoundExpr expr;
  bool descending = false;
};

struct BoundProjection {
  bool is_return = false;
  bool distinct = false;
  std::vector<BoundItem> items;
  std::vector<BoundExpr> aggregates;  // referenced from items by kAggregateRef
  bool aggregating = false;
  std::vector<BoundSortItem> order;
  std::optional<BoundExpr> skip, limit;
  std::optional<BoundExpr> where;  // WITH ... WHERE
};

struct BoundCreate {
  std::vector<BoundPattern> patterns;
};

struct BoundSetItem {
  enum class Kind { kProperty, kReplace, kMerge, kLabels } kind = Kind::kProperty;
  int slot = -1;
  std::string key;
  BoundExpr value;
  std::vector<std::string> labels;
  size_t offset = 0;
};

struct BoundSet {
  std::vector<BoundSetItem> items;
};

struct BoundDelete {
  bool detach = false;
  std::vector<BoundExpr> targets;
};

struct BoundMerge {
  BoundPattern pattern;
  std::vector<BoundExpr> predicates;
  std::vector<int> new_slots;
  std::vector<BoundSetItem> on_match, on_create;
};

// CALL impact(seeds [, options]) YIELD ci, distance, state, path
struct BoundCall {
  std::string procedure;  // canonical name: "impact", "db.labels", ... (query/runtime/procedures.hpp)
  std::vector<BoundExpr> args;
  std::vector<std::pair<std::string, int>> yields;  // field -> slot
  std::optional<BoundExpr> where;
  size_t offset = 0;
};

// FOREACH (x IN list | clauses): the clauses run once per element, as subquery `body`.
struct BoundForeach {
  BoundExpr list;
  int slot = -1;
  int body = -1;  // index into BoundQuery::subqueries
};

// [OPTIONAL] CALL [(scope)] { ... }: subquery `body` runs once per row; its RETURN columns join
// the row (`returns`: their slots), a unit subquery (no RETURN) passes the row on.
struct BoundCallSubquery {
  int body = -1;
  // CALL { ... UNION [ALL] ... }: the other parts' subqueries, whose RETURN columns (the same
  // names as body's) fill body's return slots; without ALL the rows of one call are distinct.
  std::vector<int> unions;
  bool union_all = false;
  bool optional = false;
  size_t offset = 0;
};

using BoundClause = std::variant<BoundMatch, BoundUnwind, BoundProjection, BoundCreate, BoundSet,
                                 BoundDelete, BoundMerge, BoundCall, BoundForeach, BoundCallSubquery>;

struct BoundSingleQuery {
  std::vector<BoundClause> clauses;
  std::vector<std::string> columns;  // of the final RETURN; empty when the query returns nothing
};

// A subquery (EXISTS/COUNT/COLLECT { }, a pattern predicate or comprehension, CALL { },
// FOREACH's clauses): its clauses run once per outer row, starting from a copy of that row.
struct BoundSubquery {
  BoundSingleQuery query;
  std::vector<int> imported;  // slots bound when the body starts (the planner's arguments)
  std::vector<int> reads;     // outer slots the body reads
  std::vector<int> returns;   // slots of its final RETURN's items, in column order
};

struct BoundQuery {
  std::vector<BoundSingleQuery> parts;  // joined by UNION
  std::vector<BoundSubquery> subqueries;  // referenced by index (kSubquery, FOREACH, CALL { })
  bool union_all = false;
  int num_slots = 0;
  bool writes = false;
  QueryMode mode = QueryMode::kRun;
  std::optional<BoundExpr> as_of;  // constant: a datetime string or a transaction id
  std::optional<BoundExpr> baseline;  // USE BASELINE: constant, the baseline's name
};

}  // namespace cmdb::gql
