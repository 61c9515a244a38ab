// Checks and rewrites on bound query parts that need no AST: the slots a part mentions, grouping
// keys beside aggregates, ORDER BY over an aggregating projection, patterns used as values.
#include <algorithm>

#include "query/binder/binder_state.hpp"
#include "query/common/query_error.hpp"

namespace cmdb::gql::detail {
void ExprSlots(const BoundExpr& e, std::set<int>& out) {
  if (e.kind == ExprKind::kVariable) out.insert(e.slot);
  for (const auto& a : e.args) ExprSlots(a, out);
}

// Every slot a bound query part mentions (for the outer variables a subquery reads).
void QuerySlots(const BoundSingleQuery& q, const std::vector<BoundSubquery>& subqueries, std::set<int>& out) {
  auto expr = [&](const BoundExpr& e) { ExprSlots(e, out); };
  auto pattern = [&](const BoundPattern& p) {
    for (const auto& n : p.nodes) {
      out.insert(n.slot);
      for (const auto& [k, e] : n.properties) expr(e);
    }
    for (const auto& r : p.rels) {
      out.insert(r.slot);
      for (const auto& [k, e] : r.properties) expr(e);
    }
  };
  for (const auto& c : q.clauses) {
    std::visit([&](const auto& x) {
      using T = std::decay_t<decltype(x)>;
      if constexpr (std::is_same_v<T, BoundMatch>) {
        for (const auto& p : x.patterns) pattern(p);
        for (const auto& e : x.predicates) expr(e);
      } else if constexpr (std::is_same_v<T, BoundUnwind>) {
        expr(x.list);
      } else if constexpr (std::is_same_v<T, BoundProjection>) {
        for (const auto& i : x.items) expr(i.expr);
        for (const auto& a : x.aggregates) for (const auto& e : a.args) expr(e);
        for (const auto& o : x.order) expr(o.expr);
        if (x.where) expr(*x.where);
      } else if constexpr (std::is_same_v<T, BoundCreate>) {
        for (const auto& p : x.patterns) pattern(p);
      } else if constexpr (std::is_same_v<T, BoundSet>) {
        for (const auto& i : x.items) {
          out.insert(i.slot);
          expr(i.value);
        }
      } else if constexpr (std::is_same_v<T, BoundDelete>) {
        for (const auto& t : x.targets) expr(t);
      } else if constexpr (std::is_same_v<T, BoundMerge>) {
        pattern(x.pattern);
        for (const auto& e : x.predicates) expr(e);
        for (const auto* items : {&x.on_match, &x.on_create})
          for (const auto& i : *items) {
            out.insert(i.slot);
            expr(i.value);
          }
      } else if constexpr (std::is_same_v<T, BoundCall>) {
        for (const auto& a : x.args) expr(a);
        if (x.where) expr(*x.where);
      } else if constexpr (std::is_same_v<T, BoundForeach>) {
        expr(x.list);
        for (int slot : subqueries[x.body].reads) out.insert(slot);
      } else if constexpr (std::is_same_v<T, BoundCallSubquery>) {
        for (int slot : subqueries[x.body].reads) out.insert(slot);
        for (int part : x.unions)
          for (int slot : subqueries[part].reads) out.insert(slot);
      }
    }, c);
  }
}

// A pattern predicate is a test (WHERE, a boolean operand), not a value.
void RefuseBarePattern(const BoundExpr& e) {
  if (e.kind == ExprKind::kSubquery && e.keys.size() == 1 && e.keys[0] == "pattern")
    throw QueryError("SyntaxError", "UnexpectedSyntax",
                     "a pattern is a predicate here; to return its matches use a pattern comprehension "
                     "[p = (a)-->(b) | p] or COUNT { ... }",
                     e.offset);
}

// In an item that holds an aggregate, a variable outside the aggregates must be a grouping
// key of its own (`RETURN n, count(*) < n.p`); otherwise which row's value it takes is
// undefined (`RETURN count(n) < n.p`), and the projection is refused.
void CheckGroupingKeys(const BoundProjection& p) {
  // Grouping keys an aggregating item may read: a variable or one of its properties.
  std::vector<const BoundExpr*> keys;
  for (const auto& item : p.items) {
    const BoundExpr& k = item.expr;
    if (item.aggregating) continue;
    if (k.kind == ExprKind::kVariable ||
        (k.kind == ExprKind::kProperty && k.args.size() == 1 && k.args[0].kind == ExprKind::kVariable))
      keys.push_back(&k);
  }
  for (const auto& item : p.items) {
    if (!item.aggregating) continue;
    std::set<int> local;  // comprehension and reduce() variables
    std::vector<const BoundExpr*> walk{&item.expr};
    while (!walk.empty()) {
      const BoundExpr* e = walk.back();
      walk.pop_back();
      if (e->kind == ExprKind::kListComprehension || e->kind == ExprKind::kQuantifier) local.insert(e->slot);
      if (e->kind == ExprKind::kReduce) local.insert({e->slot, e->index});
      for (const auto& a : e->args) walk.push_back(&a);
    }
    std::vector<const BoundExpr*> todo{&item.expr};
    while (!todo.empty()) {
      const BoundExpr* e = todo.back();
      todo.pop_back();
      if (e->kind == ExprKind::kAggregateRef) continue;
      if (std::any_of(keys.begin(), keys.end(), [&](const BoundExpr* k) { return SameExpr(*k, *e); })) continue;
      if (e->kind == ExprKind::kVariable && !local.count(e->slot))
        ThrowSemantic("AmbiguousAggregationExpression",
                      "'" + item.column + "' mixes an aggregate with '" + e->name +
                          "', which is not a grouping key: return it on its own too",
                      e->offset);
      for (const auto& a : e->args) todo.push_back(&a);
    }
  }
}

bool SameExpr(const BoundExpr& a, const BoundExpr& b) {
  if (a.kind != b.kind || a.name != b.name || a.slot != b.slot || a.op != b.op || a.ops != b.ops ||
      a.keys != b.keys || a.fn != b.fn || a.distinct != b.distinct || a.star != b.star || a.index != b.index ||
      a.has_subject != b.has_subject || a.has_else != b.has_else || a.has_from != b.has_from ||
      a.has_to != b.has_to || a.has_where != b.has_where || a.has_map != b.has_map ||
      a.args.size() != b.args.size())
    return false;
  if (a.kind == ExprKind::kLiteral && !Equivalent(a.literal, b.literal)) return false;
  for (size_t i = 0; i < a.args.size(); ++i)
    if (!SameExpr(a.args[i], b.args[i])) return false;
  return true;
}

// Rewrites an aggregating projection's sort key `e` to read the projected row: its aggregates
// (`aggs`) become the projection's own, subexpressions equal to a grouping key read that key;
// any other variable must be projected (`visible`).
void ReadProjected(BoundExpr& e, const std::vector<BoundExpr>& aggs, const BoundProjection& p,
                   const std::set<int>& visible) {
  if (e.kind == ExprKind::kAggregateRef) {
    const BoundExpr& agg = aggs[e.index];
    for (size_t i = 0; i < p.aggregates.size(); ++i) {
      if (SameExpr(agg, p.aggregates[i])) {
        e.index = static_cast<int>(i);
        e.kind = ExprKind::kAggregateRef;
        // Read the projected value: the item holding exactly this aggregate, if any.
        for (const auto& item : p.items) {
          if (item.expr.kind == ExprKind::kAggregateRef && item.expr.index == static_cast<int>(i)) {
            size_t at = e.offset;
            e = BoundExpr();
            e.kind = ExprKind::kVariable;
            e.slot = item.slot;
            e.name = item.column;
            e.offset = at;
            return;
          }
        }
        ThrowSemantic("InvalidAggregation", "ORDER BY can only use aggregates that are projected", e.offset);
      }
    }
    ThrowSemantic("InvalidAggregation", "ORDER BY can only use aggregates that are projected", e.offset);
  }
  for (const auto& item : p.items) {
    if (item.aggregating || !SameExpr(item.expr, e)) continue;
    size_t at = e.offset;
    e = BoundExpr();
    e.kind = ExprKind::kVariable;
    e.slot = item.slot;
    e.name = item.column;
    e.offset = at;
    return;
  }
  if (e.kind == ExprKind::kVariable && !visible.count(e.slot))
    ThrowSemantic("UndefinedVariable", "variable '" + e.name + "' is not projected, so ORDER BY cannot use it",
                  e.offset);
  for (auto& a : e.args) ReadProjected(a, aggs, p, visible);
}

// A procedure call that is the whole query (`CALL db.labels()`) returns every field it yields,
// under the field's name, as if RETURN named them all.
BoundProjection ReturnEveryField(const BoundCall& call, BinderState& state, std::vector<std::string>& columns) {
  BoundProjection all;
  all.is_return = true;
  for (const auto& [field, slot] : call.yields) {
    BoundItem item;
    item.expr = VariableExpr(slot, call.offset, field);
    item.column = field;
    item.slot = state.NewSlot();
    all.items.push_back(std::move(item));
    columns.push_back(field);
  }
  return all;
}

}  // namespace cmdb::gql::detail
