// Reading clauses: MATCH (pattern search following the plan), UNWIND, WITH/RETURN projections
// with grouping, DISTINCT, ORDER BY, SKIP and LIMIT.
#include <algorithm>
#include <chrono>
#include <deque>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "query/common/query_error.hpp"
#include "query/executor/executor.hpp"
#include "query/runtime/temporal.hpp"

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
// A hash-set entry beyond its key: node, bucket and hash.
constexpr size_t kRowSetEntryBytes = 48;

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

  // `stop` (may be null): once the sink sets it, the search ends without looking further.
  void Run(Row row, const RowSink& sink, const bool* stop = nullptr) {
    sink_ = &sink;
    stop_ = stop;
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
    return PropsOk(n.properties, ci->attrs, ci->class_name.str(), false, row);
  }
  // `owner` is the CI's class or the relationship's type: a DATE or DATETIME attribute compares
  // with a temporal value as one.
  bool PropsOk(const std::vector<std::pair<std::string, BoundExpr>>& props, const AttrMap& attrs,
               const std::string& owner, bool relationship, Row& row) {
    // The attribute as the language sees it (a DATE is a date, so it never equals a string, as
    // in WHERE; found by the outside tester: `{eol_date: '2026-04-30'}` matched).
    auto have = [&](const std::string& key, const QValue&) {
      return AttrToQValue(g_.schema(), owner, relationship, key, attrs.Get(key));
    };
    for (const auto& [key, expr] : props) {
      QValue want = eval_(expr, row);
      if (key.empty()) {  // a parameter map
        if (want.kind() != K::kMap) return false;
        for (const auto& [k, v] : want.as_map()) {
          if (!Equals(have(k, v), v).value_or(false)) return false;
        }
        continue;
      }
      if (!Equals(have(key, want), want).value_or(false)) return false;
    }
    return true;
  }
  bool RelOk(const BoundRel& r, RelId id, Row& row) {
    if (r.properties.empty()) return true;
    std::optional<RelRecord> rel = g_.Rel(id);
    return rel && PropsOk(r.properties, rel->attrs, rel->type.str(), true, row);
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

  bool Stopped() const { return stop_ && *stop_; }

  void Step(size_t i, Row& row) {
    if (Stopped()) return;
    ex_.CheckDeadline();
    if (i == plan_.steps.size()) {
      (*sink_)(row);
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
        for (CiId id : ids) {
          if (Stopped()) return;
          visit(id);
        }
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
          if (Stopped()) return;
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
      case MatchStep::Kind::kShortest: {
        const QValue& from = row[pat.nodes[s.from_node].slot];
        if (from.kind() != K::kNode) return;
        Shortest(i, pat, node, from.as_node().id, row);
        return;
      }
      case MatchStep::Kind::kVarExpand: {
        const BoundRel& rel = pat.rels[s.rel];
        const QValue& from = row[pat.nodes[s.from_node].slot];
        if (from.kind() != K::kNode) return;
        VarExpand(i, rel, node, from.as_node().id, row);
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
            ex_.CheckDeadline();
            g_.Expand(c, dir, rel.types, [&](RelId, CiId other) {
              if (visited.insert(other).second) next.push_back(other);
            });
          }
          for (CiId c : next) reached.push_back(c);
          frontier = std::move(next);
          if (depth == rel.max_hops && rel.unbounded && !frontier.empty()) stats_.depth_capped = true;
        }
        // The visited set never re-enters the start: it is reached iff a closed trail through it
        // fits the bounds (the pattern's rule: no relationship twice).
        if (rel.min_hops >= 1 && NodeOk(node, from.as_node().id, row) &&
            ShortestClosedTrail(from.as_node().id, dir, rel) <= rel.max_hops)
          reached.push_back(from.as_node().id);
        for (CiId id : reached) {
          if (Stopped()) return;
          if (!NodeOk(node, id, row)) continue;
          BindAnd(node.slot, QValue(NodeRef{id, nullptr}), row, [&] { Finish(i, row); });
        }
        return;
      }
    }
  }

  // The length of the shortest closed trail (no relationship twice) from `start` back to it along
  // `rel`'s types in direction `dir`, searched to rel.max_hops; INT64_MAX when there is none.
  // Directed: the shortest cycle, 1 + the BFS depth of a node with a relationship into the start.
  // Undirected: the shortest cycle through the start (a closed trail splits into cycles): BFS
  // labels each node with its first relationship out of the start (its branch); a relationship
  // that is no tree edge closes a cycle of d(u) + d(v) + 1 when its ends lie in different
  // branches (or it joins the start to a node whose branch it is not).
  int64_t ShortestClosedTrail(CiId start, Direction dir, const BoundRel& rel) {
    constexpr int64_t kNone = std::numeric_limits<int64_t>::max();
    struct Seen {
      int64_t depth;
      RelId branch;  // the first relationship of the BFS path from the start (-1: the start)
      RelId parent;  // the last one (-1: the start)
    };
    std::unordered_map<CiId, Seen> seen{{start, Seen{0, -1, -1}}};
    std::vector<CiId> order{start};
    for (size_t k = 0; k < order.size(); ++k) {
      CiId c = order[k];
      Seen sc = seen.at(c);
      if (sc.depth + 1 >= rel.max_hops) continue;  // a node this deep closes no shorter cycle
      ex_.CheckDeadline();
      g_.Expand(c, dir, rel.types, [&](RelId r, CiId other) {
        if (seen.count(other)) return;
        seen.emplace(other, Seen{sc.depth + 1, sc.branch < 0 ? r : sc.branch, r});
        order.push_back(other);
      });
    }
    int64_t best = kNone;
    for (CiId u : order) {
      const Seen su = seen.at(u);
      g_.Expand(u, dir, rel.types, [&](RelId r, CiId v) {
        if (v == start) {
          if (u == start)
            best = 1;  // a loop
          else if (dir != Direction::kBoth || r != su.parent)
            best = std::min(best, su.depth + 1);
          return;
        }
        if (dir != Direction::kBoth || u == start) return;
        auto it = seen.find(v);
        if (it == seen.end() || it->second.branch == su.branch) return;
        best = std::min(best, su.depth + it->second.depth + 1);
      });
    }
    return best;
  }

  // One entry of a shortest-path search tree: the trail from the start to `node`, whose last
  // relationship is `rel` and whose entry before is `parent` (-1 for the start).
  struct TrailEntry {
    CiId node;
    RelId rel;
    int64_t parent;
  };
  // A kept trail: its entry and its share of the search's hash maps.
  static constexpr size_t kTrailBytes = sizeof(TrailEntry) + 40;
  static bool OnTrail(const std::vector<TrailEntry>& tree, int64_t idx, RelId r) {
    for (; tree[idx].parent >= 0; idx = tree[idx].parent) {
      if (tree[idx].rel == r) return true;
    }
    return false;
  }

  // The selected paths of a shortest-path pattern (BoundPattern::select) from `start`. A cycle
  // back to the start of an undirected pattern is searched apart: pruning by first depth (see
  // ShortestSearch) would miss it, since its way out and its way back share nodes.
  void Shortest(size_t i, const BoundPattern& pat, const BoundNode& node, CiId start, Row& row) {
    const BoundRel& rel = pat.rels[plan_.steps[i].rel];
    std::optional<CiId> target;
    if (assigned_.count(node.slot)) {
      const QValue& t = row[node.slot];
      if (t.kind() != K::kNode || !NodeOk(node, t.as_node().id, row)) return;
      target = t.as_node().id;
    }
    const bool prune = pat.select != PathSelect::kShortestK;
    const bool cycles_apart = prune && rel.direction == Direction::kBoth && rel.min_hops >= 1;
    if (!target || *target != start || !cycles_apart) ShortestSearch(i, pat, node, start, target, prune, cycles_apart, row);
    // The unpruned search for cycles back to the start is only worth it when the start may end
    // the pattern (found by an outside tester: a shortestPath between two different CIs with an
    // unbounded `*` enumerated every trail from the first one).
    if (cycles_apart && (!target || *target == start) && NodeOk(node, start, row))
      ShortestSearch(i, pat, node, start, start, false, false, row);
  }

  // SHORTEST k: which trails the breadth-first search keeps to extend. Keeping every trail is
  // exponential on a dense graph; keeping the first k that reach a node is not enough for
  // trails, since those k may all hold the relationship the next step needs. So a trail that
  // reaches `node` is kept when it is among the first k there, or when for some relationship
  // of `node` it does not hold fewer than k kept ones avoid it: at most k per relationship, so
  // at most k x (degree + 1) trails per node, and each is extended once.
  struct ShortestKState {
    struct PairHash {
      size_t operator()(const std::pair<CiId, RelId>& p) const {
        return std::hash<int64_t>()(static_cast<int64_t>(p.first) * 1'000'003 ^
                                    static_cast<int64_t>(p.second));
      }
    };
    std::unordered_map<CiId, int64_t> arrivals;
    std::unordered_map<std::pair<CiId, RelId>, int64_t, PairHash> avoiding;
    std::vector<std::pair<RelId, CiId>> around;
  };
  bool KeepForShortestK(const std::vector<TrailEntry>& tree, int64_t idx, RelId r, CiId node,
                        Direction dir, const BoundRel& rel, int64_t k, ShortestKState& st) {
    st.around.clear();
    g_.Expand(node, dir, rel.types,
              [&](RelId next, CiId other) { st.around.emplace_back(next, other); });
    bool keep = st.arrivals[node]++ < k;
    // The relationships of `node` this trail (tree[idx] then r) does not hold.
    size_t free_end = 0;
    for (size_t j = 0; j < st.around.size(); ++j) {
      RelId next = st.around[j].first;
      if (next != r && !OnTrail(tree, idx, next)) st.around[free_end++].first = next;
    }
    for (size_t j = 0; j < free_end && !keep; ++j)
      keep = st.avoiding[{node, st.around[j].first}] < k;
    if (keep)
      for (size_t j = 0; j < free_end; ++j) ++st.avoiding[{node, st.around[j].first}];
    return keep;
  }

  // Breadth-first, level by level, over the trails (no relationship twice, like every match)
  // from `start`: for each end node (only `target` when given; not the start when `skip_start`)
  // shortestPath and ANY SHORTEST bind one trail of the least length, allShortestPaths and ALL
  // SHORTEST every trail of the least length, SHORTEST k the k shortest (among equally long ones,
  // those found first; KeepForShortestK says which trails go on). With `prune` a node is
  // extended only by trails as short as the first that reached it (a shortest path's prefixes
  // are shortest paths); without it every trail is extended, up to the length bound and within the
  // deadline and the byte budget (each trail kept is charged kTrailBytes while the search runs, and
  // given back when it is done).
  void ShortestSearch(size_t i, const BoundPattern& pat, const BoundNode& node, CiId start, std::optional<CiId> target,
                      bool prune, bool skip_start, Row& row) {
    const MatchStep& s = plan_.steps[i];
    const BoundRel& rel = pat.rels[s.rel];
    const Direction dir = s.reversed ? Flip(rel.direction) : rel.direction;
    const PathSelect mode = pat.select;
    const int64_t want = mode == PathSelect::kShortestK ? pat.shortest_k
                         : mode == PathSelect::kAnyShortest ? 1 : INT64_MAX;
    std::vector<TrailEntry> tree{{start, 0, -1}};
    std::unordered_map<CiId, int64_t> first_depth{{start, 0}};  // prune: where a node was first reached
    ShortestKState k_state;
    // What the search holds is charged as it grows and given back when it ends (the rows it
    // produced are charged on their own by whoever keeps them).
    struct Held {
      Executor& ex;
      size_t bytes = 0;
      ~Held() { ex.Release(bytes); }
    } held{ex_};
    struct Emitted {
      int64_t count = 0;
      int64_t length = 0;  // of the first
    };
    std::unordered_map<CiId, Emitted> emitted;
    auto satisfied = [&](CiId end) {
      auto it = emitted.find(end);
      return it != emitted.end() && it->second.count > 0 &&
             (it->second.count >= want || mode == PathSelect::kAllShortest);
    };
    auto emit = [&](int64_t idx, int64_t depth) {
      CiId end = tree[idx].node;
      if (depth < rel.min_hops || (target && end != *target) || (skip_start && end == start)) return;
      Emitted& e = emitted.try_emplace(end, Emitted{0, depth}).first->second;
      if (e.count >= want || (mode == PathSelect::kAllShortest && depth > e.length)) return;
      if (!NodeOk(node, end, row)) return;
      ++e.count;
      std::vector<RelId> rels;
      for (int64_t k = idx; tree[k].parent >= 0; k = tree[k].parent) rels.push_back(tree[k].rel);
      if (!s.reversed) std::reverse(rels.begin(), rels.end());  // as written: from the pattern's first node
      QList list;
      list.reserve(rels.size());
      for (RelId r : rels) {
        list.push_back(QValue(RelRef{r, nullptr}));
        used_rels_.insert(r);
      }
      BindAnd(rel.slot, QValue(std::move(list)), row, [&] {
        BindAnd(node.slot, QValue(NodeRef{end, nullptr}), row, [&] { Finish(i, row); });
      });
      for (RelId r : rels) used_rels_.erase(r);
    };
    // Whether the trail at `idx` may go on along `r` to `other` (and then where it is kept).
    auto may_extend = [&](int64_t idx, RelId r, CiId other, int64_t depth) {
      if (used_rels_.count(r) || ((!prune || other == start) && OnTrail(tree, idx, r)) || !RelOk(rel, r, row))
        return false;
      if (mode == PathSelect::kShortestK)
        return KeepForShortestK(tree, idx, r, other, dir, rel, want, k_state);
      if (!prune || other == start) return true;
      auto [it, fresh] = first_depth.try_emplace(other, depth);
      return fresh || (it->second == depth && mode == PathSelect::kAllShortest);
    };
    emit(0, 0);
    std::vector<int64_t> frontier{0};
    std::vector<std::pair<RelId, CiId>> hits;
    int64_t depth = 1;
    for (; depth <= rel.max_hops && !frontier.empty() && !(target && satisfied(*target)); ++depth) {
      std::vector<int64_t> next;
      for (int64_t idx : frontier) {
        ex_.CheckDeadline();
        hits.clear();
        g_.Expand(tree[idx].node, dir, rel.types, [&](RelId r, CiId other) { hits.emplace_back(r, other); });
        for (const auto& [r, other] : hits) {
          if (!may_extend(idx, r, other, depth)) continue;
          tree.push_back({other, r, idx});
          next.push_back(static_cast<int64_t>(tree.size()) - 1);
        }
      }
      ex_.Charge(0, next.size() * kTrailBytes);
      held.bytes += next.size() * kTrailBytes;
      for (int64_t idx : next) emit(idx, depth);
      // With pruning a trail back to the start is a candidate, never extended.
      if (prune) next.erase(std::remove_if(next.begin(), next.end(), [&](int64_t idx) { return tree[idx].node == start; }),
                            next.end());
      frontier = std::move(next);
    }
    // Stopped by the depth cap where a trail could have gone on.
    if (rel.unbounded && depth > rel.max_hops && !(target && satisfied(*target))) {
      for (int64_t idx : frontier) {
        g_.Expand(tree[idx].node, dir, rel.types, [&](RelId r, CiId other) {
          if (!used_rels_.count(r) && !OnTrail(tree, idx, r) && (!prune || !first_depth.count(other)))
            stats_.depth_capped = true;
        });
      }
    }
  }

  // Every trail (no relationship twice) of rel.min_hops..rel.max_hops hops from `start`, depth
  // first with an explicit stack: no recursion however long the trails, and the deadline is
  // checked at every node reached.
  void VarExpand(size_t i, const BoundRel& rel, const BoundNode& node, CiId start, Row& row) {
    const MatchStep& s = plan_.steps[i];
    const Direction dir = s.reversed ? Flip(rel.direction) : rel.direction;
    struct Frame {
      std::vector<std::pair<RelId, CiId>> hits;
      size_t next = 0;
      bool descended = false;  // path and used_rels_ hold hits[next - 1]
    };
    std::vector<RelId> path;
    std::vector<Frame> stack;
    // `at` is reached by `path`: emit it when deep enough; push its frame unless at max depth.
    auto enter = [&](CiId at) {
      ex_.CheckDeadline();
      int64_t depth = static_cast<int64_t>(path.size());
      if (depth >= rel.min_hops && NodeOk(node, at, row)) {
        QList rels;
        rels.reserve(path.size());
        for (RelId r : path) rels.push_back(QValue(RelRef{r, nullptr}));
        if (s.reversed) std::reverse(rels.begin(), rels.end());
        BindAnd(rel.slot, QValue(std::move(rels)), row, [&] {
          BindAnd(node.slot, QValue(NodeRef{at, nullptr}), row, [&] { Finish(i, row); });
        });
      }
      if (depth >= rel.max_hops) {
        if (rel.unbounded) {
          g_.Expand(at, dir, rel.types, [&](RelId r, CiId) {
            if (!used_rels_.count(r)) stats_.depth_capped = true;
          });
        }
        return;
      }
      Frame f;
      g_.Expand(at, dir, rel.types, [&](RelId r, CiId other) { f.hits.emplace_back(r, other); });
      stack.push_back(std::move(f));
    };
    enter(start);
    while (!stack.empty() && !Stopped()) {
      Frame& top = stack.back();
      if (top.descended) {
        used_rels_.erase(path.back());
        path.pop_back();
        top.descended = false;
      }
      if (top.next == top.hits.size()) {
        stack.pop_back();
        continue;
      }
      auto [r, other] = top.hits[top.next++];
      if (used_rels_.count(r) || !RelOk(rel, r, row)) continue;
      used_rels_.insert(r);
      path.push_back(r);
      top.descended = true;
      enter(other);  // may push a frame: `top` is not used after this
    }
  }

  Executor& ex_;
  const GraphAccess& g_;
  const std::vector<BoundPattern>& patterns_;
  const MatchPlan& plan_;
  ExecStats& stats_;
  std::function<QValue(const BoundExpr&, Row&)> eval_;
  std::function<bool(const BoundExpr&, Row&)> is_true_;
  const RowSink* sink_ = nullptr;
  const bool* stop_ = nullptr;
  std::unordered_set<int> assigned_;
  std::unordered_set<RelId> used_rels_;
};

}  // namespace

// The groups of an aggregating projection: each row adds to its group's aggregators; the
// first row of a group is kept for the grouping keys. Charges every group, every value an
// aggregate keeps (collect, percentiles, standard deviations) and every DISTINCT entry to the
// budget; a collect() list is also held to the byte budget written out in full, and to the
// nesting limit, as it grows (before its group's other rows arrive, not after).
class Executor::Grouping {
 public:
  Grouping(Executor& ex, const BoundProjection& p) : ex_(ex), p_(p) {
    for (const auto& a : p.aggregates) {
      const std::string& n = a.fn->name;
      keeps_.push_back(!(n == "count" || n == "sum" || n == "avg" || n == "min" || n == "max"));
      collects_.push_back(n == "collect");
    }
  }

  void Add(Row& row) {
    ex_.CheckDeadline();
    std::vector<QValue> key;
    for (const auto& item : p_.items) {
      if (!item.aggregating) key.push_back(ex_.Eval(item.expr, row));
    }
    auto it = index_.find(key);
    size_t gi = it == index_.end() ? index_.emplace(key, NewGroup(row)).first->second : it->second;
    Group& g = groups_[gi];
    for (size_t a = 0; a < p_.aggregates.size(); ++a) {
      const BoundExpr& agg = p_.aggregates[a];
      std::vector<QValue> args;
      for (const auto& arg : agg.args) args.push_back(ex_.Eval(arg, row));
      if (agg.distinct) {
        if (!args.empty() && args[0].is_null()) continue;
        if (!g.seen[a].insert(args).second) continue;
        ex_.Charge(0, kSetEntryBytes + RowBytes(args));
      }
      if (keeps_[a] && !args.empty()) {
        ex_.Charge(0, ApproxBytes(args[0]) + sizeof(QValue));  // + the list's growth slack
        if (collects_[a] && !args[0].is_null()) {  // the list collect() will return
          g.kept[a] += args[0].tree_bytes();
          if (g.kept[a] > ex_.options_.max_bytes) ThrowByteBudget("collect()", ex_.options_.max_bytes, agg.offset);
          if (args[0].depth() + 1 > kMaxValueDepth) ThrowValueTooDeep(kMaxValueDepth, agg.offset);
        }
      }
      g.aggs[a]->Add(args, FnEnv{ex_.graph_, agg.offset, ex_.options_.max_bytes, nullptr,
                                 ex_.options_.now_micros, ex_.options_.store});
    }
  }

  // One row per group (one for no rows and no grouping keys), the items evaluated.
  std::vector<Row> Finish() {
    bool has_keys = std::any_of(p_.items.begin(), p_.items.end(), [](const BoundItem& i) { return !i.aggregating; });
    if (groups_.empty() && !has_keys) NewGroup(Row(ex_.num_slots_));
    std::vector<Row> out;
    out.reserve(groups_.size());
    for (Group& g : groups_) {
      ex_.CheckDeadline();
      std::vector<QValue> results;
      for (size_t a = 0; a < g.aggs.size(); ++a) {
        results.push_back(ex_.Built(g.aggs[a]->Result(), p_.aggregates[a].offset));
        g.aggs[a].reset();  // its state is in the result now (collect) or no longer needed
      }
      ex_.current_aggregates_ = &results;
      Row row = std::move(g.first);
      for (const auto& item : p_.items) row[item.slot] = ex_.Eval(item.expr, row);
      ex_.current_aggregates_ = nullptr;
      out.push_back(std::move(row));
    }
    return out;
  }

 private:
  // A hash-set entry beyond its key: node, bucket and hash.
  static constexpr size_t kSetEntryBytes = 48;
  struct Group {
    Row first;
    std::vector<std::unique_ptr<Aggregator>> aggs;
    std::vector<std::unordered_set<std::vector<QValue>, RowHash, RowEq>> seen;
    std::vector<size_t> kept;  // per collect(): the tree bytes of its list so far
  };
  size_t NewGroup(const Row& first) {
    ex_.Charge(1, RowBytes(first) + kSetEntryBytes);
    Group g;
    g.first = first;
    for (const auto& a : p_.aggregates) g.aggs.push_back(a.fn->make_aggregator());
    g.seen.resize(p_.aggregates.size());
    g.kept.resize(p_.aggregates.size(), 0);
    groups_.push_back(std::move(g));
    return groups_.size() - 1;
  }

  Executor& ex_;
  const BoundProjection& p_;
  std::vector<bool> keeps_;     // the aggregate keeps its values (collect, percentiles, stDev)
  std::vector<bool> collects_;  // it is collect()
  std::unordered_map<std::vector<QValue>, size_t, RowHash, RowEq> index_;
  std::vector<Group> groups_;
};

std::vector<Row> Executor::Run(const BoundSingleQuery& part, const PartPlan& plan) {
  return RunFrom(part, plan, std::vector<Row>(1, Row(num_slots_)));
}

std::vector<Row> Executor::RunFrom(const BoundSingleQuery& part, const PartPlan& plan,
                                   std::vector<Row> rows, size_t end) {
  size_t match_index = 0;
  for (size_t k = 0; k < std::min(end, part.clauses.size()); ++k) {
    const BoundClause& clause = part.clauses[k];
    auto start = std::chrono::steady_clock::now();
    std::string name;
    if (sub_depth_ == 0) ResetCharges();
    // A MATCH followed by an aggregating WITH/RETURN streams its rows into the groups instead
    // of materializing them first.
    const BoundProjection* next = k + 1 < part.clauses.size() ? std::get_if<BoundProjection>(&part.clauses[k + 1]) : nullptr;
    if (const auto* m = std::get_if<BoundMatch>(&clause); m && next && next->aggregating &&
        (!options_.profile || sub_depth_ > 0)) {
      Grouping groups(*this, *next);
      RunMatch(std::move(rows), *m, plan.matches[match_index++], [&](Row& row) { groups.Add(row); });
      rows = FinishProjection(groups.Finish(), *next);
      ++k;
      continue;
    }
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
      } else if constexpr (std::is_same_v<T, BoundForeach>) {
        name = "Foreach";
        rows = RunForeach(std::move(rows), c);
      } else if constexpr (std::is_same_v<T, BoundCallSubquery>) {
        name = c.optional ? "OptionalCallSubquery" : "CallSubquery";
        rows = RunCallSubquery(std::move(rows), c);
      }
    }, clause);
    if (options_.profile && sub_depth_ == 0) {
      auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
      stats_.profile.push_back({name, {static_cast<int64_t>(rows.size()), us}});
    }
  }
  return rows;
}

void Executor::RunMatch(std::vector<Row> in, const BoundMatch& m, const MatchPlan& plan, const RowSink& sink) {
  size_t matched = 0;
  RowSink counting = [&](Row& row) {
    ++matched;
    sink(row);
  };
  for (Row& row : in) {
    size_t before = matched;
    MatchRow(row, m.patterns, plan, counting);
    if (m.optional && matched == before) {
      for (int slot : m.new_slots) row[slot] = QValue();
      sink(row);
    }
    row = Row();  // consumed: its memory goes now, not after the whole input
  }
}

std::vector<Row> Executor::RunMatch(std::vector<Row> in, const BoundMatch& m, const MatchPlan& plan) {
  std::vector<Row> out;
  RunMatch(std::move(in), m, plan, [&](Row& row) {
    Charge(1, RowBytes(row));
    out.push_back(row);
  });
  return out;
}

void Executor::MatchRow(const Row& row, const std::vector<BoundPattern>& patterns, const MatchPlan& plan,
                        const RowSink& sink, const bool* stop) {
  PatternSearch search(*this, graph_, patterns, plan, stats_,
                       [this](const BoundExpr& e, Row& r) { return Eval(e, r); },
                       [this](const BoundExpr& e, Row& r) { return IsTrue(e, r); });
  search.Run(row, sink, stop);
}

std::vector<Row> Executor::RunUnwind(std::vector<Row> in, const BoundUnwind& u) {
  std::vector<Row> out;
  for (Row& row : in) {
    QValue list = Eval(u.list, row);
    if (list.is_null()) continue;
    if (list.kind() != K::kList) {
      row[u.slot] = list;
      Charge(1, RowBytes(row));
      out.push_back(std::move(row));
      continue;
    }
    for (const auto& item : list.as_list()) {
      CheckDeadline();
      Row r = row;
      r[u.slot] = item;
      Charge(1, RowBytes(r));
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
      Charge(1, RowBytes(row));
      out.push_back(std::move(row));
    }
  } else {
    Grouping groups(*this, p);
    for (Row& row : in) {
      groups.Add(row);
      row = Row();
    }
    out = groups.Finish();
  }
  return FinishProjection(std::move(out), p);
}

std::vector<Row> Executor::FinishProjection(std::vector<Row> out, const BoundProjection& p) {
  if (p.distinct) {
    std::unordered_set<std::vector<QValue>, RowHash, RowEq> seen;
    std::vector<Row> unique;
    for (Row& row : out) {
      CheckDeadline();
      std::vector<QValue> key;
      for (const auto& item : p.items) key.push_back(row[item.slot]);
      if (seen.insert(std::move(key)).second) {
        Charge(0, kRowSetEntryBytes + sizeof(QValue) * p.items.size());  // the set's copy (payloads shared)
        unique.push_back(std::move(row));
      }
    }
    out = std::move(unique);
  }
  auto count = [&](const std::optional<BoundExpr>& e, const char* what) -> int64_t {
    Row empty(num_slots_);
    QValue v = Eval(*e, empty);
    if (v.kind() != K::kInt || v.as_int() < 0)
      ThrowArgument(v.kind() == K::kInt ? "NegativeIntegerArgument" : "InvalidArgumentType",
                    std::string(what) + " must be a non-negative integer", e->offset);
    return v.as_int();
  };
  std::optional<int64_t> skip, limit;
  if (p.skip) skip = count(p.skip, "SKIP");
  if (p.limit) limit = count(p.limit, "LIMIT");
  if (!p.order.empty()) {
    // With a LIMIT only the first SKIP + LIMIT rows need their order (the page of a class list
    // sorted by an attribute): a partial sort, n log k instead of n log n. A deep page (k a
    // large part of n) sorts everything: the heap of a partial sort is slower there.
    size_t keep = out.size();
    if (limit) {
      uint64_t wanted = static_cast<uint64_t>(skip.value_or(0)) + static_cast<uint64_t>(*limit);
      if (wanted < keep) keep = static_cast<size_t>(wanted);
    }
    std::vector<std::pair<std::vector<QValue>, size_t>> keys;
    keys.reserve(out.size());
    for (size_t i = 0; i < out.size(); ++i) {
      CheckDeadline();
      std::vector<QValue> k;
      for (const auto& o : p.order) k.push_back(Eval(o.expr, out[i]));
      Charge(0, RowBytes(k));
      keys.emplace_back(std::move(k), i);
    }
    // The comparisons check the deadline too (a throw leaves `keys` valid, and it is dropped).
    // Equal keys keep their input order (the index breaks ties), as a stable sort would.
    auto before = [&](const auto& a, const auto& b) {
      CheckTime();
      for (size_t j = 0; j < p.order.size(); ++j) {
        int c = CompareForSort(a.first[j], b.first[j]);
        if (c) return p.order[j].descending ? c > 0 : c < 0;
      }
      return a.second < b.second;
    };
    auto middle = keys.begin() + static_cast<std::ptrdiff_t>(keep);
    if (keep < keys.size() / 8)
      std::partial_sort(keys.begin(), middle, keys.end(), before);
    else
      std::sort(keys.begin(), keys.end(), before);
    std::vector<Row> sorted;
    sorted.reserve(keep);
    for (auto k = keys.begin(); k != middle; ++k) sorted.push_back(std::move(out[k->second]));
    out = std::move(sorted);
  }
  if (skip) out.erase(out.begin(), out.begin() + std::min<int64_t>(*skip, out.size()));
  if (limit && static_cast<size_t>(*limit) < out.size()) out.resize(*limit);
  if (p.where) {
    std::vector<Row> kept;
    for (Row& row : out) {
      CheckDeadline();
      if (IsTrue(*p.where, row)) kept.push_back(std::move(row));
    }
    out = std::move(kept);
  }
  return out;
}

}  // namespace cmdb::gql
