#include <algorithm>
#include <set>

#include "query/planner/plan.hpp"
#include "query/runtime/graph_access.hpp"

namespace cmdb::gql {
namespace {

void CollectSlots(const BoundExpr& e, std::set<int>& out) {
  if (e.kind == ExprKind::kVariable) out.insert(e.slot);
  for (const auto& a : e.args) CollectSlots(a, out);
}

bool IsConstant(const BoundExpr& e) {
  if (e.kind == ExprKind::kVariable) return false;
  return std::all_of(e.args.begin(), e.args.end(), IsConstant);
}

// Can the start node be found through its class KEY? (all key attributes given as constants)
bool KeySeekable(const BoundNode& node, const GraphAccess& graph) {
  if (node.labels.size() != 1 || graph.schema().open_mode()) return false;
  std::vector<std::string> key = graph.schema().KeyAttributes(node.labels[0], nullptr);
  if (key.empty()) return false;
  for (const auto& k : key) {
    auto it = std::find_if(node.properties.begin(), node.properties.end(),
                           [&](const auto& p) { return p.first == k && IsConstant(p.second); });
    if (it == node.properties.end()) return false;
  }
  return true;
}

// A UNIQUE attribute of the node's class given as a constant, if any.
std::string UniqueSeekable(const BoundNode& node, const GraphAccess& graph) {
  if (node.labels.size() != 1 || graph.schema().open_mode() || !graph.schema().FindClass(node.labels[0])) return "";
  for (const AttributeDef* a : graph.schema().AllAttributes(node.labels[0])) {
    if (!a->unique) continue;
    for (const auto& [k, e] : node.properties) {
      if (k == a->name && IsConstant(e)) return k;
    }
  }
  return "";
}

class MatchPlanner {
 public:
  MatchPlanner(const GraphAccess& graph, std::set<int>& assigned) : graph_(graph), assigned_(assigned) {}

  MatchPlan Plan(const std::vector<BoundPattern>& patterns, const std::vector<BoundExpr>& predicates,
                 bool reachability_ok) {
    MatchPlan plan;
    // No relationship twice in a MATCH: a search that keeps no paths cannot keep another
    // relationship of the clause out of them, so it serves a clause of one relationship only.
    size_t rels = 0;
    for (const auto& pat : patterns) rels += pat.rels.size();
    if (rels > 1) reachability_ok = false;
    for (size_t p = 0; p < patterns.size(); ++p) PlanPattern(static_cast<int>(p), patterns[p], plan, reachability_ok);
    // Attach each conjunct to the first step after which all its variables are bound.
    std::vector<std::set<int>> bound_after(plan.steps.size());
    std::set<int> so_far = before_;
    for (size_t i = 0; i < plan.steps.size(); ++i) {
      const MatchStep& s = plan.steps[i];
      const BoundPattern& pat = patterns[s.pattern];
      so_far.insert(pat.nodes[s.node].slot);
      if (s.rel >= 0) so_far.insert(pat.rels[s.rel].slot);
      if (pat.path_slot >= 0 && i + 1 == plan.steps.size()) so_far.insert(pat.path_slot);
      if (pat.path_slot >= 0 && (i + 1 == plan.steps.size() || plan.steps[i + 1].pattern != s.pattern))
        so_far.insert(pat.path_slot);
      bound_after[i] = so_far;
    }
    for (const BoundExpr& pred : predicates) {
      std::set<int> need;
      CollectSlots(pred, need);
      bool placed = false;
      for (size_t i = 0; i < plan.steps.size() && !placed; ++i) {
        if (std::includes(bound_after[i].begin(), bound_after[i].end(), need.begin(), need.end())) {
          plan.steps[i].filters.push_back(&pred);
          placed = true;
        }
      }
      if (!placed) {
        if (plan.steps.empty()) plan.remaining.push_back(&pred);
        else plan.steps.back().filters.push_back(&pred);
      }
    }
    return plan;
  }

  void SetBefore(const std::set<int>& before) { before_ = before; }

 private:
  void PlanPattern(int p, const BoundPattern& pat, MatchPlan& plan, bool reachability_ok) {
    // Start: an already bound node, else a KEY seek, else the smallest class extent.
    int start = -1;
    for (size_t i = 0; i < pat.nodes.size() && start < 0; ++i) {
      if (assigned_.count(pat.nodes[i].slot)) start = static_cast<int>(i);
    }
    MatchStep first;
    first.pattern = p;
    if (start >= 0) {
      first.kind = MatchStep::Kind::kArgument;
    } else {
      size_t best_cost = SIZE_MAX;
      for (size_t i = 0; i < pat.nodes.size(); ++i) {
        const BoundNode& n = pat.nodes[i];
        size_t cost = KeySeekable(n, graph_) || !UniqueSeekable(n, graph_).empty()
                          ? 1
                          : graph_.EstimateLabel(n.labels.empty() ? "" : n.labels[0]) + 2;
        if (cost < best_cost) best_cost = cost, start = static_cast<int>(i);
      }
      const BoundNode& n = pat.nodes[start];
      first.kind = KeySeekable(n, graph_) ? MatchStep::Kind::kKeySeek : MatchStep::Kind::kScan;
      first.label = n.labels.empty() ? "" : n.labels[0];
      if (first.kind == MatchStep::Kind::kScan) {
        first.key = UniqueSeekable(n, graph_);
        if (!first.key.empty()) first.kind = MatchStep::Kind::kUniqueSeek;
      }
    }
    first.node = start;
    plan.steps.push_back(first);
    assigned_.insert(pat.nodes[start].slot);
    auto expand = [&](int rel, int from, int to, bool reversed) {
      MatchStep s;
      const BoundRel& r = pat.rels[rel];
      s.kind = r.var_length ? MatchStep::Kind::kVarExpand : MatchStep::Kind::kExpand;
      if (r.var_length && reachability_ok && pat.path_slot < 0 && !IsUsed(r.slot) && r.min_hops <= 1 &&
          r.properties.empty() && !assigned_.count(pat.nodes[to].slot))
        s.kind = MatchStep::Kind::kReach;
      if (pat.select != PathSelect::kEvery) s.kind = MatchStep::Kind::kShortest;
      s.pattern = p;
      s.rel = rel;
      s.from_node = from;
      s.node = to;
      s.reversed = reversed;
      plan.steps.push_back(s);
      assigned_.insert(pat.nodes[to].slot);
      assigned_.insert(r.slot);
    };
    for (int i = start; i + 1 < static_cast<int>(pat.nodes.size()); ++i) expand(i, i, i + 1, false);
    for (int i = start; i > 0; --i) expand(i - 1, i, i - 1, true);
  }

  bool IsUsed(int slot) const { return used_slots_ && used_slots_->count(slot); }

 public:
  const std::set<int>* used_slots_ = nullptr;

 private:
  const GraphAccess& graph_;
  std::set<int>& assigned_;
  std::set<int> before_;
};

// Variables read anywhere after a clause (so a var-length relationship variable nobody reads
// can be matched by reachability).
void CollectUsed(const BoundClause& c, std::set<int>& used, const std::vector<BoundSubquery>* subqueries) {
  std::visit([&](const auto& x) {
    using T = std::decay_t<decltype(x)>;
    if constexpr (std::is_same_v<T, BoundMatch>) {
      for (const auto& e : x.predicates) CollectSlots(e, used);
      for (const auto& p : x.patterns) {
        for (const auto& n : p.nodes) for (const auto& [k, e] : n.properties) CollectSlots(e, used);
        for (const auto& r : p.rels) {
          if (r.bound) used.insert(r.slot);
          for (const auto& [k, e] : r.properties) CollectSlots(e, used);
        }
      }
    } else if constexpr (std::is_same_v<T, BoundUnwind>) {
      CollectSlots(x.list, used);
    } else if constexpr (std::is_same_v<T, BoundCall>) {
      for (const auto& a : x.args) CollectSlots(a, used);
      if (x.where) CollectSlots(*x.where, used);
    } else if constexpr (std::is_same_v<T, BoundProjection>) {
      for (const auto& i : x.items) CollectSlots(i.expr, used);
      for (const auto& a : x.aggregates) CollectSlots(a, used);
      for (const auto& o : x.order) CollectSlots(o.expr, used);
      if (x.where) CollectSlots(*x.where, used);
    } else if constexpr (std::is_same_v<T, BoundSet>) {
      for (const auto& i : x.items) {
        used.insert(i.slot);
        CollectSlots(i.value, used);
      }
    } else if constexpr (std::is_same_v<T, BoundDelete>) {
      for (const auto& t : x.targets) CollectSlots(t, used);
    } else if constexpr (std::is_same_v<T, BoundCreate>) {
      for (const auto& p : x.patterns) for (const auto& n : p.nodes) {
        used.insert(n.slot);
        for (const auto& [k, e] : n.properties) CollectSlots(e, used);
      }
    } else if constexpr (std::is_same_v<T, BoundMerge>) {
      for (const auto& n : x.pattern.nodes) used.insert(n.slot);
    } else if constexpr (std::is_same_v<T, BoundForeach>) {
      CollectSlots(x.list, used);
      for (int slot : (*subqueries)[x.body].reads) used.insert(slot);
    } else if constexpr (std::is_same_v<T, BoundCallSubquery>) {
      for (int slot : (*subqueries)[x.body].reads) used.insert(slot);
      for (int part : x.unions)
        for (int slot : (*subqueries)[part].reads) used.insert(slot);
    }
  }, c);
}

// Plans one query part (or subquery body) whose variables `assigned` are bound when it starts.
PartPlan PlanPart(const BoundSingleQuery& part, std::set<int> assigned, const BoundQuery& query,
                  const GraphAccess& graph) {
    const std::vector<BoundSubquery>* subqueries = &query.subqueries;
    PartPlan pp;
    for (size_t ci = 0; ci < part.clauses.size(); ++ci) {
      const BoundClause& clause = part.clauses[ci];
      std::set<int> used;
      for (size_t j = ci + 1; j < part.clauses.size(); ++j) CollectUsed(part.clauses[j], used, subqueries);
      // Reachability is only exact when the next projection removes duplicates anyway.
      bool dedup_next = false;
      for (size_t j = ci + 1; j < part.clauses.size(); ++j) {
        if (auto* p = std::get_if<BoundProjection>(&part.clauses[j])) {
          dedup_next = p->distinct;
          break;
        }
        if (!std::holds_alternative<BoundMatch>(part.clauses[j])) break;
      }
      if (auto* m = std::get_if<BoundMatch>(&clause)) {
        std::set<int> before = assigned;
        MatchPlanner planner(graph, assigned);
        planner.SetBefore(before);
        planner.used_slots_ = &used;
        for (const auto& e : m->predicates) CollectSlots(e, used);
        pp.matches.push_back(planner.Plan(m->patterns, m->predicates, dedup_next && !m->optional));
      } else if (auto* mg = std::get_if<BoundMerge>(&clause)) {
        std::set<int> before = assigned;
        MatchPlanner planner(graph, assigned);
        planner.SetBefore(before);
        pp.matches.push_back(planner.Plan({mg->pattern}, mg->predicates, false));
      } else if (auto* u = std::get_if<BoundUnwind>(&clause)) {
        assigned.insert(u->slot);
      } else if (auto* cs = std::get_if<BoundCallSubquery>(&clause)) {
        for (int slot : query.subqueries[cs->body].returns) assigned.insert(slot);
      } else if (auto* call = std::get_if<BoundCall>(&clause)) {
        for (const auto& [f, slot] : call->yields) assigned.insert(slot);
      } else if (auto* p = std::get_if<BoundProjection>(&clause)) {
        assigned.clear();
        for (const auto& i : p->items) assigned.insert(i.slot);
      } else if (auto* c = std::get_if<BoundCreate>(&clause)) {
        for (const auto& pat : c->patterns) {
          for (const auto& n : pat.nodes) assigned.insert(n.slot);
          for (const auto& r : pat.rels) assigned.insert(r.slot);
          if (pat.path_slot >= 0) assigned.insert(pat.path_slot);
        }
      }
    }
    return pp;
}

}  // namespace

LogicalPlan PlanQuery(const BoundQuery& query, const GraphAccess& graph) {
  LogicalPlan plan;
  for (const auto& part : query.parts) plan.parts.push_back(PlanPart(part, {}, query, graph));
  for (const auto& sub : query.subqueries)
    plan.subqueries.push_back(PlanPart(sub.query, std::set<int>(sub.imported.begin(), sub.imported.end()), query, graph));
  return plan;
}

std::string ExplainPlan(const BoundQuery& query, const LogicalPlan& plan) {
  std::string out;
  auto explain_part = [&](const BoundSingleQuery& part, const PartPlan& part_plan) {
    size_t match_index = 0;
    for (const auto& clause : part.clauses) {
      std::visit([&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, BoundMatch> || std::is_same_v<T, BoundMerge>) {
          const MatchPlan& mp = part_plan.matches[match_index++];
          if constexpr (std::is_same_v<T, BoundMerge>) {
            out += "Merge\n";
          } else {
            out += x.optional ? "OptionalMatch\n" : "Match\n";
          }
          for (const auto& s : mp.steps) {
            static const char* kNames[] = {"Argument", "NodeScan", "KeySeek", "UniqueSeek", "Expand", "VarLengthExpand",
                                           "Reachability(BFS)", "ShortestPath(BFS)"};
            out += "  " + std::string(kNames[static_cast<int>(s.kind)]);
            if (!s.label.empty()) out += "(:" + s.label + (s.key.empty() ? "" : "." + s.key) + ")";
            if (s.rel >= 0) out += "(pattern " + std::to_string(s.pattern) + ", relationship " + std::to_string(s.rel) + ")";
            if (!s.filters.empty()) out += " + Filter(" + std::to_string(s.filters.size()) + ")";
            out += "\n";
          }
        } else if constexpr (std::is_same_v<T, BoundUnwind>) {
          out += "Unwind\n";
        } else if constexpr (std::is_same_v<T, BoundCall>) {
          out += x.procedure == "impact" ? "ProcedureCall(impact, Boost.Graph breadth-first search)\n"
                                         : "ProcedureCall(" + x.procedure + ")\n";
        } else if constexpr (std::is_same_v<T, BoundProjection>) {
          out += std::string(x.aggregating ? "Aggregate" : "Projection") + (x.distinct ? "(distinct)" : "") + "\n";
          if (x.where) out += "  Filter\n";
          if (!x.order.empty()) out += "  Sort\n";
          if (x.skip) out += "  Skip\n";
          if (x.limit) out += "  Limit\n";
        } else if constexpr (std::is_same_v<T, BoundCreate>) {
          out += "Create\n";
        } else if constexpr (std::is_same_v<T, BoundSet>) {
          out += "SetProperties\n";
        } else if constexpr (std::is_same_v<T, BoundDelete>) {
          out += x.detach ? "DetachDelete\n" : "Delete\n";
        } else if constexpr (std::is_same_v<T, BoundForeach>) {
          out += "Foreach(subquery " + std::to_string(x.body) + ")\n";
        } else if constexpr (std::is_same_v<T, BoundCallSubquery>) {
          out += std::string(x.optional ? "OptionalCallSubquery" : "CallSubquery") + "(subquery " +
                 std::to_string(x.body);
          for (int part : x.unions)
            out += std::string(x.union_all ? " UNION ALL " : " UNION ") + "subquery " +
                   std::to_string(part);
          out += ")\n";
        }
      }, clause);
    }
  };
  for (size_t p = 0; p < query.parts.size(); ++p) {
    if (p > 0) out += query.union_all ? "UnionAll\n" : "Union\n";
    explain_part(query.parts[p], plan.parts[p]);
  }
  // Subqueries (EXISTS/COUNT/COLLECT, pattern predicates and comprehensions, CALL, FOREACH).
  for (size_t i = 0; i < query.subqueries.size() && i < plan.subqueries.size(); ++i) {
    out += "Subquery " + std::to_string(i) + ":\n";
    explain_part(query.subqueries[i].query, plan.subqueries[i]);
  }
  return out;
}

}  // namespace cmdb::gql
