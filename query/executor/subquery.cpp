// Subqueries (EXISTS/COUNT/COLLECT { }, pattern predicates and comprehensions, CALL { },
// FOREACH) and the expressions that iterate on their own (map projections, reduce()).
#include <unordered_set>

#include "query/common/query_error.hpp"
#include "query/executor/executor.hpp"

namespace cmdb::gql {
namespace {
using K = QValue::Kind;
}  // namespace

void Executor::InSubquery(const std::function<void()>& body) {
  // What the subquery's clauses charge is its own: given back when it returns, so the running
  // clause's account holds only what it keeps.
  struct Scope {
    Executor& ex;
    size_t rows, bytes;
    const std::vector<QValue>* aggregates;
    explicit Scope(Executor& x)
        : ex(x), rows(x.charged_rows_), bytes(x.charged_bytes_), aggregates(x.current_aggregates_) {
      ++ex.sub_depth_;
      ex.current_aggregates_ = nullptr;
    }
    ~Scope() {
      --ex.sub_depth_;
      ex.charged_rows_ = rows;
      ex.charged_bytes_ = bytes;
      ex.current_aggregates_ = aggregates;
    }
  } scope(*this);
  body();
}

std::vector<Row> Executor::RunSubquery(int index, const Row& outer) {
  if (!subqueries_ || !sub_plans_ || index < 0 || static_cast<size_t>(index) >= subqueries_->size())
    throw QueryError("InternalError", "Subquery", "a subquery was not planned");
  std::vector<Row> rows;
  InSubquery([&] {
    Charge(1, RowBytes(outer));
    rows = RunFrom((*subqueries_)[index].query, (*sub_plans_)[index], std::vector<Row>(1, outer));
  });
  return rows;
}

QValue Executor::EvalSubquery(const BoundExpr& e, Row& row) {
  const BoundSubquery& sub = (*subqueries_).at(e.index);
  const auto* match = sub.query.clauses.size() == 1 ? std::get_if<BoundMatch>(&sub.query.clauses[0]) : nullptr;
  if (match && !match->optional && (e.name == "exists" || e.name == "count")) {
    // A pattern (the short form and pattern predicates): its matches are counted as they are
    // found, never kept, and EXISTS stops at the first.
    int64_t n = 0;
    bool exists = e.name == "exists", found = false;
    InSubquery([&] {
      MatchRow(row, match->patterns, (*sub_plans_)[e.index].matches.at(0), [&](Row&) {
        ++n;
        found = exists;
      }, &found);
    });
    return exists ? QValue(n > 0) : QValue(n);
  }
  std::vector<Row> rows = RunSubquery(e.index, row);
  if (e.name == "exists") return QValue(!rows.empty());
  if (e.name == "count") return QValue(static_cast<int64_t>(rows.size()));
  int slot = (*subqueries_)[e.index].returns.at(0);
  QList out;
  out.reserve(rows.size());
  size_t bytes = 0;
  for (Row& r : rows) {
    out.push_back(std::move(r[slot]));
    ChargeBuilt(CopyBytes(&out.back(), &out.back() + 1), "a COLLECT subquery", e.offset);
    bytes += out.back().tree_bytes();
    if (bytes > options_.max_bytes) ThrowByteBudget("a COLLECT subquery", options_.max_bytes, e.offset);
  }
  return Built(QValue(std::move(out)), e.offset);
}

std::vector<Row> Executor::RunForeach(std::vector<Row> in, const BoundForeach& f) {
  for (Row& row : in) {
    CheckDeadline();
    QValue list = Eval(f.list, row);
    if (list.is_null()) continue;
    if (list.kind() != K::kList) ThrowType("InvalidArgumentType", "FOREACH expects a list, got " + std::string(list.kind_name()), f.list.offset);
    for (const QValue& item : list.as_list()) {
      CheckDeadline();
      Row r = row;
      r[f.slot] = item;
      RunSubquery(f.body, r);
    }
  }
  return in;
}

std::vector<Row> Executor::RunCallSubquery(std::vector<Row> in, const BoundCallSubquery& c) {
  const BoundSubquery& sub = (*subqueries_)[c.body];
  std::vector<Row> out;
  for (Row& row : in) {
    CheckDeadline();
    std::vector<Row> results = RunSubquery(c.body, row);
    // The parts after UNION: their columns moved to the first part's slots, then (without ALL)
    // the distinct rows of this call.
    for (int part : c.unions) {
      const BoundSubquery& other = (*subqueries_)[part];
      for (Row& r : RunSubquery(part, row)) {
        if (sub.returns.empty()) continue;
        Row moved = row;
        for (size_t k = 0; k < sub.returns.size() && k < other.returns.size(); ++k)
          moved[sub.returns[k]] = std::move(r[other.returns[k]]);
        results.push_back(std::move(moved));
      }
    }
    if (!c.unions.empty() && !c.union_all && !sub.returns.empty()) {
      struct KeyHash {
        size_t operator()(const std::vector<QValue>& k) const {
          size_t h = 7;
          for (const auto& v : k) h = h * 31 + Hash(v);
          return h;
        }
      };
      struct KeyEq {
        bool operator()(const std::vector<QValue>& a, const std::vector<QValue>& b) const {
          for (size_t i = 0; i < a.size(); ++i)
            if (!Equivalent(a[i], b[i])) return false;
          return true;
        }
      };
      std::unordered_set<std::vector<QValue>, KeyHash, KeyEq> seen;
      std::vector<Row> unique;
      for (Row& r : results) {
        std::vector<QValue> key;
        for (int slot : sub.returns) key.push_back(r[slot]);
        if (seen.insert(std::move(key)).second) unique.push_back(std::move(r));
      }
      results = std::move(unique);
    }
    if (sub.returns.empty()) {  // a unit subquery: the row goes on once
      Charge(1, RowBytes(row));
      out.push_back(std::move(row));
      continue;
    }
    if (results.empty() && c.optional) {
      for (int slot : sub.returns) row[slot] = QValue();
      Charge(1, RowBytes(row));
      out.push_back(std::move(row));
      continue;
    }
    for (Row& r : results) {
      Row joined = row;
      for (int slot : sub.returns) joined[slot] = std::move(r[slot]);
      Charge(1, RowBytes(joined));
      out.push_back(std::move(joined));
    }
  }
  return out;
}

QValue Executor::EvalMapProjection(const BoundExpr& e, Row& row) {
  QValue base = Eval(e.args[0], row);
  if (base.is_null()) return QValue();
  QMap out;
  for (size_t i = 0; i < e.keys.size(); ++i) {
    if (e.keys[i] != "*") continue;
    switch (base.kind()) {
      case K::kMap:
        out = base.as_map();
        break;
      case K::kNode: {
        const CiRecord* ci = graph_.Node(base.as_node().id);
        if (!ci) throw QueryError("EntityNotFound", "DeletedEntityAccess", "the node was deleted", e.offset);
        for (const auto& [k, v] : ci->attrs) out[k] = FromValue(v);
        break;
      }
      case K::kRel: {
        std::optional<RelRecord> r = graph_.Rel(base.as_rel().id);
        if (!r) throw QueryError("EntityNotFound", "DeletedEntityAccess", "the relationship was deleted", e.offset);
        for (const auto& [k, v] : r->attrs) out[k] = FromValue(v);
        break;
      }
      default:
        ThrowType("InvalidArgumentType", std::string("a map projection needs a node, relationship or map, got ") +
                                             base.kind_name(), e.offset);
    }
  }
  if (base.kind() != K::kMap && base.kind() != K::kNode && base.kind() != K::kRel)
    ThrowType("InvalidArgumentType",
              std::string("a map projection needs a node, relationship or map, got ") + base.kind_name(), e.offset);
  size_t bytes = 0;
  for (size_t i = 0; i < e.keys.size(); ++i) {
    if (e.keys[i] == "*") continue;
    QValue& slot = out[e.keys[i]] = Eval(e.args[i + 1], row);
    bytes += slot.tree_bytes();
    if (bytes > options_.max_bytes) ThrowByteBudget("a map projection", options_.max_bytes, e.offset);
    ChargeBuilt(CopyBytes(&slot, &slot + 1) + 64 + e.keys[i].size(), "a map projection", e.offset);
  }
  return Built(QValue(std::move(out)), e.offset);
}

QValue Executor::EvalReduce(const BoundExpr& e, Row& row) {
  QValue acc = Eval(e.args[0], row);
  QValue list = Eval(e.args[1], row);
  if (list.is_null()) return QValue();
  if (list.kind() != K::kList) ThrowType("InvalidArgumentType", "reduce() expects a list after IN", e.offset);
  QValue saved_acc = row[e.index], saved_item = row[e.slot];
  // Each step's value replaces the last: only the accumulator stays built, so what earlier steps
  // built is given back (an outside tester's 20,000-element list hit the 1 GiB budget when every
  // intermediate list was counted).
  const size_t base = built_bytes_;
  for (const QValue& item : list.as_list()) {
    CheckTime();
    row[e.index] = acc;
    row[e.slot] = item;
    acc = Eval(e.args[2], row);
    built_bytes_ = std::min(built_bytes_, base + acc.tree_bytes());
  }
  row[e.index] = std::move(saved_acc);
  row[e.slot] = std::move(saved_item);
  return acc;
}

}  // namespace cmdb::gql
