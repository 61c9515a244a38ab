// The binder's state while it walks one query's AST: the variable scope, the slots, the
// aggregates of the projection being bound. Shared by the clause binder (binder.cpp) and the
// expression binder (binder_expr.cpp); nothing else includes it (it brings the AST, and with it
// Spirit's AST types).
// Thread safety: one BinderState per query.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "cmdb/schema.hpp"
#include "query/binder/binder.hpp"
#include "query/binder/bound.hpp"
#include "query/parser/parsed_query.hpp"

namespace cmdb::gql {
namespace detail {

// kValue: known to hold no node, relationship or path (a literal, list or map).
enum class VarType { kAny, kNode, kRel, kRelList, kPath, kValue };

struct Variable {
  int slot = -1;
  VarType type = VarType::kAny;
  std::string label;  // first label of a node variable, for property checks
};

// State shared by the expression and clause binders.
class BinderState {
 public:
  BinderState(const ParsedQuery& q, const Schema& s, const BindOptions& o) : query(q), schema(s), options(o) {}

  // Expressions (binder_expr.cpp).
  BoundExpr BindExpr(const ast::Expression& e);
  BoundExpr BindExprUnchecked(const ast::Expression& e);
  BoundExpr BindOperand(const ast::Operand& o, size_t offset);
  // Binds an expression that may hold aggregates, collecting them into `aggregates`.
  BoundExpr BindProjectionExpr(const ast::Expression& e, std::vector<BoundExpr>* aggregates);
  // Sets e.depth from its children; throws NestingTooDeep past kMaxExprDepth.
  static void Nest(BoundExpr& e);
  void CheckLabel(const ast::Name& label) const;
  void CheckRelType(const ast::Name& type) const;

  // Binds a subquery expression (binder.cpp): `kind` exists/count/collect over `body`, which sees
  // the variables in scope and declares its own (they do not leak out).
  BoundExpr BindSubqueryExpr(const std::string& kind, const ast::SingleQuery& body, size_t offset);
  // A pattern predicate (`kind` exists) or comprehension (collect of `map`), as a subquery.
  BoundExpr BindPatternExpr(const std::string& kind, const ast::PatternPart& pattern,
                            const boost::optional<ast::Expression>& where, const ast::Expression* map,
                            const ast::x3::position_tagged& at);

  int NewSlot() { return num_slots++; }
  size_t Offset(const ast::x3::position_tagged& node) const { return query.OffsetOf(node); }

  const ParsedQuery& query;
  const Schema& schema;
  const BindOptions& options;
  std::map<std::string, Variable> scope;
  int num_slots = 0;
  std::vector<BoundExpr>* aggregates_ = nullptr;  // non-null while binding a projection item
  bool in_aggregate_ = false;
  std::vector<BoundSubquery> subqueries;
};

// A reference to the variable in `slot` (named `name`, for messages), at `offset`.
inline BoundExpr VariableExpr(int slot, size_t offset, std::string name = "") {
  BoundExpr e;
  e.kind = ExprKind::kVariable;
  e.slot = slot;
  e.offset = offset;
  e.name = std::move(name);
  return e;
}

// The RETURN of a procedure call that is the whole query: every field it yields, under its
// name; the columns are appended to `columns`.
BoundProjection ReturnEveryField(const BoundCall& call, BinderState& state, std::vector<std::string>& columns);

// The value of a number literal's text (decimal, 0x hex, 0o octal, or a float), negated when
// `negative`. Throws QueryError (with `offset`) for an invalid or out-of-range literal.
QValue ParseNumber(const std::string& text, bool negative, size_t offset);

// Checks on bound query parts (binder_checks.cpp).
// Every variable slot `e` reads (a subquery's by the outer slots it reads).
void ExprSlots(const BoundExpr& e, std::set<int>& out);
// Every slot `q` mentions (subquery clauses by the outer slots they read, from `subqueries`).
void QuerySlots(const BoundSingleQuery& q, const std::vector<BoundSubquery>& subqueries, std::set<int>& out);
// Throws UnexpectedSyntax when `e` is a bare pattern predicate used as a value.
void RefuseBarePattern(const BoundExpr& e);
// In an aggregating projection, a variable outside the aggregates of an item must be a grouping
// key of its own (or be read through a projected key `v` or `v.key`): else
// AmbiguousAggregationExpression at the variable.
void CheckGroupingKeys(const BoundProjection& p);
// The same expression (offsets aside).
bool SameExpr(const BoundExpr& a, const BoundExpr& b);
// Rewrites the sort key `e` of aggregating projection `p` (its aggregates in `aggs`) to read the
// projected row; a variable not in `visible` is an UndefinedVariable error.
void ReadProjected(BoundExpr& e, const std::vector<BoundExpr>& aggs, const BoundProjection& p,
                   const std::set<int>& visible);

}  // namespace detail
}  // namespace cmdb::gql
