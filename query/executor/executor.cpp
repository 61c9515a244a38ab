// Reading clauses: MATCH (pattern search following the plan), UNWIND, WITH/RETURN projections
// with grouping, DISTINCT, ORDER BY, SKIP and LIMIT.
#include <algorithm>
#include <chrono>
#include <deque>
#include <unordered_map>
#include <unordered_set>

#include "query/common/query_error.hpp"
#include "query/executor/executor.hpp"

namespace cmdb::gql {
namespace {

using K = QValue::Kind;

struct RowHash {
  size_t operator()(const std::vector<QValue>& r) const {
    size_t h = 7;
    for (const auto& v : r) h = h * 31 + Hash(v);
    return h;
  }
};
struct RowEq {
  bool operator()(const std::vector<QValue>& a, const std::vector<QValue>& b) const {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) if (!Equivalent(a[i], b[i])) return false;
    return true;
  }
};

Direction Flip(Direction d) {
  return d == Direction::kOut ? Direction::kIn : d == Direction::kIn ? Direction::kOut : d;
}

// Searches one row's matches, step by step (depth first).
class PatternSearch {
 public:
  PatternSearch(Executor& ex, const GraphAccess& g, const std::vector<BoundPattern>& patterns,
                const MatchPlan& plan, ExecStats& stats, std::function<QValue(const BoundExpr&, Row&)> eval,
                std::function<bool(const BoundExpr&, Row&)> is_true)
      : ex_(ex), g_(g), patterns_(patterns), plan_(plan), stats_(stats), eval_(std::move(eval)),
        is_true_(std::move(is_true)) {}

  void Run(Row row, std::vector<Row>& out) {
    out_ = &out;
    for (const BoundExpr* f : plan_.remaining) {
      if (!is_true_(*f, row)) return;
    }
    for (const auto& p : patterns_) {
      for (const auto& n : p.nodes) if (n.bound) assigned_.insert(n.slot);
      for (const auto& r : p.rels) if (r.bound) assigned_.insert(r.slot);
    }
    Step(0, row);
  }

 private:
  bool NodeOk(const BoundNode& n, CiId id, Row& row) {
    const CiRecord* ci = g_.Node(id);
    if (!ci) return false;
    for (const auto& l : n.labels) {
      if (ci->class_name != l && !(g_.schema().IsA(ci->class_name, l) && !ci->class_name.empty())) return false;
    }
    return PropsOk(n.properties, ci->attrs, row);
  }
  bool PropsOk(const std::vector<std::pair<std::string, BoundExpr>>& props, const AttrMap& attrs, Row& row) {
    for (const auto& [key, expr] : props) {
      QValue want = eval_(expr, row);
      if (key.empty()) {  // a parameter map
        if (want.kind() != K::kMap) return false;
        for (const auto& [k, v] : want.as_map()) {
          if (!Equals(FromValue(attrs.Get(k)), v).value_or(false)) return false;
        }
        continue;
      }
      if (!Equals(FromValue(attrs.Get(key)), want).value_or(false)) return false;
    }
    return true;
  }
  bool RelOk(const BoundRel& r, RelId id, Row& row) {
    if (r.properties.empty()) return true;
    std::optional<RelRecord> rel = g_.Rel(id);
    return rel && PropsOk(r.properties, rel->attrs, row);
  }

  bool Filters(const MatchStep& s, Row& row) {
    for (const BoundExpr* f : s.filters) {
      if (!is_true_(*f, row)) return false;
    }
    return true;
  }

  // Binds `slot` to `value` unless already bound (then it must be equal); recurses; undoes.
  template <typename F>
  void BindAnd(int slot, const QValue& value, Row& row, F&& next) {
    if (assigned_.count(slot)) {
      if (Equals(row[slot], value).value_or(false)) next();
      return;
    }
    assigned_.insert(slot);
    row[slot] = value;
    next();
    row[slot] = QValue();
    assigned_.erase(slot);
  }

  void Finish(size_t i, Row& row) {
    const MatchStep& s = plan_.steps[i];
    const BoundPattern& pat = patterns_[s.pattern];
    bool last_of_pattern = i + 1 == plan_.steps.size() || plan_.steps[i + 1].pattern != s.pattern;
    if (last_of_pattern && pat.path_slot >= 0) row[pat.path_slot] = BuildPath(pat, row);
    if (Filters(s, row)) Step(i + 1, row);
    if (last_of_pattern && pat.path_slot >= 0) row[pat.path_slot] = QValue();
  }

  QValue BuildPath(const BoundPattern& pat, Row& row) {
    PathValue path;
    CiId cur = row[pat.nodes[0].slot].as_node().id;
    path.nodes.push_back(NodeRef{cur, nullptr});
    for (size_t i = 0; i < pat.rels.size(); ++i) {
      const QValue& rv = row[pat.rels[i].slot];
      std::vector<RelId> rels;
      if (rv.kind() == K::kList) {
        for (const auto& r : rv.as_list()) rels.push_back(r.as_rel().id);
      } else {
        rels.push_back(rv.as_rel().id);
      }
      for (RelId r : rels) {
        std::optional<RelRecord> rec = g_.Rel(r);
        cur = rec->from == cur ? rec->to : rec->from;
        path.rels.push_back(RelRef{r, nullptr});
        path.nodes.push_back(NodeRef{cur, nullptr});
      }
    }
    return QValue(std::move(path));
  }

  void Step(size_t i, Row& row) {
    ex_.CheckDeadline();
    if (i == plan_.steps.size()) {
      out_->push_back(row);
      return;
    }
    const MatchStep& s = plan_.steps[i];
    const BoundPattern& pat = patterns_[s.pattern];
    const BoundNode& node = pat.nodes[s.node];
    switch (s.kind) {
      case MatchStep::Kind::kArgument: {
        const QValue& v = row[node.slot];
        if (v.kind() != K::kNode || !NodeOk(node, v.as_node().id, row)) return;
        Finish(i, row);
        return;
      }
      case MatchStep::Kind::kScan:
      case MatchStep::Kind::kUniqueSeek:
      case MatchStep::Kind::kKeySeek: {
        auto visit = [&](CiId id) {
          if (!NodeOk(node, id, row)) return;
          BindAnd(node.slot, QValue(NodeRef{id, nullptr}), row, [&] { Finish(i, row); });
        };
        if (s.kind == MatchStep::Kind::kKeySeek) {
          AttrMap key;
          for (const auto& [k, e] : node.properties) {
            auto v = ToValue(eval_(e, row));
            if (v) key.Set(k, *v);
          }
          AttrMap normalized = key;
          if (!g_.schema().NormalizeLookup(s.label, normalized).ok()) return;
          if (auto id = g_.LookupKey(s.label, normalized)) visit(*id);
          return;
        }
        if (s.kind == MatchStep::Kind::kUniqueSeek) {
          for (const auto& [k, e] : node.properties) {
            if (k != s.key) continue;
            auto v = ToValue(eval_(e, row));
            if (!v) return;
            AttrMap one;
            one.Set(k, *v);
            if (!g_.schema().NormalizeLookup(s.label, one).ok()) return;
            if (auto id = g_.LookupUnique(s.label, k, one.Get(k))) visit(*id);
            return;
          }
          return;
        }
        std::vector<CiId> ids;
        g_.ScanLabel(s.label, [&](CiId id) { ids.push_back(id); });
        for (CiId id : ids) visit(id);
        return;
      }
      case MatchStep::Kind::kExpand: {
        const BoundRel& rel = pat.rels[s.rel];
        const QValue& from = row[pat.nodes[s.from_node].slot];
        if (from.kind() != K::kNode) return;
        std::vector<std::pair<RelId, CiId>> hits;
        g_.Expand(from.as_node().id, s.reversed ? Flip(rel.direction) : rel.direction, rel.types,
                  [&](RelId r, CiId other) { hits.emplace_back(r, other); });
        for (const auto& hit : hits) {
          RelId r = hit.first;
          CiId other = hit.second;
          if (used_rels_.count(r) || !RelOk(rel, r, row) || !NodeOk(node, other, row)) continue;
          used_rels_.insert(r);
          BindAnd(rel.slot, QValue(RelRef{r, nullptr}), row, [&] {
            BindAnd(node.slot, QValue(NodeRef{other, nullptr}), row, [&] { Finish(i, row); });
          });
          used_rels_.erase(r);
        }
        return;
      }
      case MatchStep::Kind::kVarExpand: {
        const BoundRel& rel = pat.rels[s.rel];
        const QValue& from = row[pat.nodes[s.from_node].slot];
        if (from.kind() != K::kNode) return;
        std::vector<RelId> path;
        VarExpand(i, rel, node, from.as_node().id, path, row);
        return;
      }
      case MatchStep::Kind::kReach: {
        const BoundRel& rel = pat.rels[s.rel];
        const QValue& from = row[pat.nodes[s.from_node].slot];
        if (from.kind() != K::kNode) return;
        Direction dir = s.reversed ? Flip(rel.direction) : rel.direction;
        std::unordered_set<CiId> visited{from.as_node().id};
        std::vector<CiId> frontier{from.as_node().id};
        std::vector<CiId> reached;
        if (rel.min_hops == 0) reached.push_back(from.as_node().id);
        for (int64_t depth = 1; depth <= rel.max_hops && !frontier.empty(); ++depth) {
          std::vector<CiId> next;
          for (CiId c : frontier) {
            g_.Expand(c, dir, rel.types, [&](RelId, CiId other) {
              if (visited.insert(other).second) next.push_back(other);
            });
          }
          for (CiId c : next) reached.push_back(c);
          frontier = std::move(next);
          if (depth == rel.max_hops && rel.unbounded && !frontier.empty()) stats_.depth_capped = true;
        }
        for (CiId id : reached) {
          if (!NodeOk(node, id, row)) continue;
          BindAnd(node.slot, QValue(NodeRef{id, nullptr}), row, [&] { Finish(i, row); });
        }
        return;
      }
    }
  }

  void VarExpand(size_t i, const BoundRel& rel, const BoundNode& node, CiId at, std::vector<RelId>& path,
                 Row& row) {
    const MatchStep& s = plan_.steps[i];
    int64_t depth = static_cast<int64_t>(path.size());
    if (depth >= rel.min_hops && NodeOk(node, at, row)) {
      QList rels;
      for (RelId r : path) rels.push_back(QValue(RelRef{r, nullptr}));
      if (s.reversed) std::reverse(rels.begin(), rels.end());
      BindAnd(rel.slot, QValue(std::move(rels)), row, [&] {
        BindAnd(node.slot, QValue(NodeRef{at, nullptr}), row, [&] { Finish(i, row); });
      });
    }
    if (depth >= rel.max_hops) {
      if (rel.unbounded) {
        g_.Expand(at, s.reversed ? Flip(rel.direction) : rel.direction, rel.types, [&](RelId r, CiId) {
          if (!used_rels_.count(r)) stats_.depth_capped = true;
        });
      }
      return;
    }
    std::vector<std::pair<RelId, CiId>> hits;
    g_.Expand(at, s.reversed ? Flip(rel.direction) : rel.direction, rel.types,
              [&](RelId r, CiId other) { hits.emplace_back(r, other); });
    for (auto [r, other] : hits) {
      if (used_rels_.count(r) || !RelOk(rel, r, row)) continue;
      used_rels_.insert(r);
      path.push_back(r);
      VarExpand(i, rel, node, other, path, row);
      path.pop_back();
      used_rels_.erase(r);
    }
  }

  Executor& ex_;
  const GraphAccess& g_;
  const std::vector<BoundPattern>& patterns_;
  const MatchPlan& plan_;
  ExecStats& stats_;
  std::function<QValue(const BoundExpr&, Row&)> eval_;
  std::function<bool(const BoundExpr&, Row&)> is_true_;
  std::vector<Row>* out_ = nullptr;
  std::unordered_set<int> assigned_;
  std::unordered_set<RelId> used_rels_;
};

}  // namespace

std::vector<Row> Executor::Run(const BoundSingleQuery& part, const PartPlan& plan) {
  std::vector<Row> rows(1, Row(num_slots_));
  size_t match_index = 0;
  for (const auto& clause : part.clauses) {
    auto start = std::chrono::steady_clock::now();
    std::string name;
    std::visit([&](const auto& c) {
      using T = std::decay_t<decltype(c)>;
      if constexpr (std::is_same_v<T, BoundMatch>) {
        name = c.optional ? "OptionalMatch" : "Match";
        rows = RunMatch(std::move(rows), c, plan.matches[match_index++]);
      } else if constexpr (std::is_same_v<T, BoundUnwind>) {
        name = "Unwind";
        rows = RunUnwind(std::move(rows), c);
      } else if constexpr (std::is_same_v<T, BoundProjection>) {
        name = c.is_return ? "Return" : "With";
        rows = RunProjection(std::move(rows), c);
      } else if constexpr (std::is_same_v<T, BoundCreate>) {
        name = "Create";
        rows = RunCreate(std::move(rows), c);
      } else if constexpr (std::is_same_v<T, BoundSet>) {
        name = "Set";
        rows = RunSet(std::move(rows), c);
      } else if constexpr (std::is_same_v<T, BoundDelete>) {
        name = "Delete";
        rows = RunDelete(std::move(rows), c);
      } else if constexpr (std::is_same_v<T, BoundCall>) {
        name = "Call";
        rows = RunCall(std::move(rows), c);
      } else if constexpr (std::is_same_v<T, BoundMerge>) {
        name = "Merge";
        rows = RunMerge(std::move(rows), c, plan.matches[match_index++]);
      }
    }, clause);
    if (options_.profile) {
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
      stats_.profile.push_back({name, {static_cast<int64_t>(rows.size()), us}});
    }
  }
  return rows;
}

std::vector<Row> Executor::RunMatch(std::vector<Row> in, const BoundMatch& m, const MatchPlan& plan) {
  std::vector<Row> out;
  for (Row& row : in) {
    size_t before = out.size();
    MatchRow(row, m.patterns, plan, out);
    if (m.optional && out.size() == before) {
      for (int slot : m.new_slots) row[slot] = QValue();
      out.push_back(std::move(row));
    }
  }
  return out;
}

void Executor::MatchRow(const Row& row, const std::vector<BoundPattern>& patterns, const MatchPlan& plan,
                        std::vector<Row>& out) {
  PatternSearch search(*this, graph_, patterns, plan, stats_,
                       [this](const BoundExpr& e, Row& r) { return Eval(e, r); },
                       [this](const BoundExpr& e, Row& r) { return IsTrue(e, r); });
  search.Run(row, out);
}

std::vector<Row> Executor::RunUnwind(std::vector<Row> in, const BoundUnwind& u) {
  std::vector<Row> out;
  for (Row& row : in) {
    QValue list = Eval(u.list, row);
    if (list.is_null()) continue;
    if (list.kind() != K::kList) {
      row[u.slot] = list;
      out.push_back(std::move(row));
      continue;
    }
    for (const auto& item : list.as_list()) {
      Row r = row;
      r[u.slot] = item;
      out.push_back(std::move(r));
    }
  }
  return out;
}

std::vector<Row> Executor::RunProjection(std::vector<Row> in, const BoundProjection& p) {
  std::vector<Row> out;
  if (!p.aggregating) {
    out.reserve(in.size());
    for (Row& row : in) {
      CheckDeadline();
      for (const auto& item : p.items) row[item.slot] = Eval(item.expr, row);
      out.push_back(std::move(row));
    }
  } else {
    struct Group {
      Row first;
      std::vector<std::unique_ptr<Aggregator>> aggs;
      std::vector<std::unordered_set<std::vector<QValue>, RowHash, RowEq>> seen;
    };
    std::unordered_map<std::vector<QValue>, size_t, RowHash, RowEq> index;
    std::vector<Group> groups;
    auto new_group = [&](const Row& first) {
      Group g;
      g.first = first;
      for (const auto& a : p.aggregates) g.aggs.push_back(a.fn->make_aggregator());
      g.seen.resize(p.aggregates.size());
      groups.push_back(std::move(g));
      return groups.size() - 1;
    };
    for (Row& row : in) {
      CheckDeadline();
      std::vector<QValue> key;
      for (const auto& item : p.items) {
        if (!item.aggregating) key.push_back(Eval(item.expr, row));
      }
      auto it = index.find(key);
      size_t gi = it == index.end() ? index.emplace(key, new_group(row)).first->second : it->second;
      Group& g = groups[gi];
      for (size_t a = 0; a < p.aggregates.size(); ++a) {
        const BoundExpr& agg = p.aggregates[a];
        std::vector<QValue> args;
        for (const auto& arg : agg.args) args.push_back(Eval(arg, row));
        if (agg.distinct) {
          if (!args.empty() && args[0].is_null()) continue;
          if (!g.seen[a].insert(args).second) continue;
        }
        g.aggs[a]->Add(args, FnEnv{graph_, agg.offset});
      }
    }
    bool has_keys = std::any_of(p.items.begin(), p.items.end(), [](const BoundItem& i) { return !i.aggregating; });
    if (groups.empty() && !has_keys) new_group(Row(num_slots_));
    for (Group& g : groups) {
      std::vector<QValue> results;
      for (auto& a : g.aggs) results.push_back(a->Result());
      current_aggregates_ = &results;
      Row row = g.first;
      for (const auto& item : p.items) row[item.slot] = Eval(item.expr, row);
      current_aggregates_ = nullptr;
      out.push_back(std::move(row));
    }
  }
  if (p.distinct) {
    std::unordered_set<std::vector<QValue>, RowHash, RowEq> seen;
    std::vector<Row> unique;
    for (Row& row : out) {
      std::vector<QValue> key;
      for (const auto& item : p.items) key.push_back(row[item.slot]);
      if (seen.insert(std::move(key)).second) unique.push_back(std::move(row));
    }
    out = std::move(unique);
  }
  if (!p.order.empty()) {
    std::vector<std::pair<std::vector<QValue>, size_t>> keys;
    keys.reserve(out.size());
    for (size_t i = 0; i < out.size(); ++i) {
      std::vector<QValue> k;
      for (const auto& o : p.order) k.push_back(Eval(o.expr, out[i]));
      keys.emplace_back(std::move(k), i);
    }
    std::stable_sort(keys.begin(), keys.end(), [&](const auto& a, const auto& b) {
      for (size_t j = 0; j < p.order.size(); ++j) {
        int c = CompareForSort(a.first[j], b.first[j]);
        if (c) return p.order[j].descending ? c > 0 : c < 0;
      }
      return false;
    });
    std::vector<Row> sorted;
    sorted.reserve(out.size());
    for (auto& k : keys) sorted.push_back(std::move(out[k.second]));
    out = std::move(sorted);
  }
  auto count = [&](const std::optional<BoundExpr>& e, const char* what) -> int64_t {
    Row empty(num_slots_);
    QValue v = Eval(*e, empty);
    if (v.kind() != K::kInt || v.as_int() < 0)
      ThrowArgument(v.kind() == K::kInt ? "NegativeIntegerArgument" : "InvalidArgumentType",
                    std::string(what) + " must be a non-negative integer", e->offset);
    return v.as_int();
  };
  if (p.skip) {
    int64_t n = count(p.skip, "SKIP");
    out.erase(out.begin(), out.begin() + std::min<int64_t>(n, out.size()));
  }
  if (p.limit) {
    int64_t n = count(p.limit, "LIMIT");
    if (static_cast<size_t>(n) < out.size()) out.resize(n);
  }
  if (p.where) {
    std::vector<Row> kept;
    for (Row& row : out) if (IsTrue(*p.where, row)) kept.push_back(std::move(row));
    out = std::move(kept);
  }
  return out;
}

}  // namespace cmdb::gql
