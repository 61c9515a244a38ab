// Binder: resolves an AST against the schema and the variable scope (stage 2 of the pipeline).
//
// Variables become row slots; labels, relationship types and property keys are checked against
// the schema (closed mode: unknown names are SemanticErrors with a did-you-mean; open mode:
// anything goes); functions are looked up; aggregates are separated from grouping keys.
// Throws QueryError (caught at the pipeline's entry).
// Thread safety: one Binder per query.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cmdb/schema.hpp"
#include "query/binder/bound.hpp"
#include "query/parser/parse.hpp"

namespace cmdb::gql {

struct BindOptions {
  int64_t default_max_depth = 20;  // cap for unbounded variable-length patterns
};

BoundQuery Bind(const ParsedQuery& query, const Schema& schema, const BindOptions& options);

namespace detail {

enum class VarType { kAny, kNode, kRel, kRelList, kPath };

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
  BoundExpr BindOperand(const ast::Operand& o, size_t offset);
  // Binds an expression that may hold aggregates, collecting them into `aggregates`.
  BoundExpr BindProjectionExpr(const ast::Expression& e, std::vector<BoundExpr>* aggregates);
  // Sets e.depth from its children; throws NestingTooDeep past kMaxExprDepth.
  static void Nest(BoundExpr& e);
  void CheckLabel(const ast::Name& label) const;
  void CheckRelType(const ast::Name& type) const;

  int NewSlot() { return num_slots++; }
  size_t Offset(const ast::x3::position_tagged& node) const { return query.OffsetOf(node); }

  const ParsedQuery& query;
  const Schema& schema;
  const BindOptions& options;
  std::map<std::string, Variable> scope;
  int num_slots = 0;
  std::vector<BoundExpr>* aggregates_ = nullptr;  // non-null while binding a projection item
  bool in_aggregate_ = false;
};

}  // namespace detail
}  // namespace cmdb::gql
