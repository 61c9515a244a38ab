#include "analysis/impact.hpp"

#include <algorithm>
#include <boost/graph/breadth_first_search.hpp>
#include <boost/pending/queue.hpp>
#include <boost/property_map/property_map.hpp>
#include <unordered_map>

#include "analysis/impact_graph.hpp"

namespace cmdb::analysis {
namespace {

// The impact view with the depth limit applied: a CI at max_depth has no out-edges.
class DepthLimitedGraph {
 public:
  DepthLimitedGraph(const ImpactGraph& g, const std::unordered_map<CiId, int>& dist, int max_depth, bool& limited)
      : g_(g), dist_(dist), max_depth_(max_depth), limited_(limited) {}
  std::pair<ImpactGraph::OutEdgeIterator, ImpactGraph::OutEdgeIterator> OutEdges(CiId v) const {
    auto range = out_edges(v, g_);
    auto it = dist_.find(v);
    if (it != dist_.end() && it->second >= max_depth_) {
      if (range.first != range.second) limited_ = true;
      return {range.second, range.second};
    }
    return range;
  }

 private:
  const ImpactGraph& g_;
  const std::unordered_map<CiId, int>& dist_;
  int max_depth_;
  bool& limited_;
};

}  // namespace
}  // namespace cmdb::analysis

namespace boost {
template <>
struct graph_traits<cmdb::analysis::DepthLimitedGraph> : graph_traits<cmdb::analysis::ImpactGraph> {};
}  // namespace boost

namespace cmdb::analysis {
namespace {

std::pair<ImpactGraph::OutEdgeIterator, ImpactGraph::OutEdgeIterator> out_edges(CiId v, const DepthLimitedGraph& g) {
  return g.OutEdges(v);
}
std::size_t out_degree(CiId v, const DepthLimitedGraph& g) {
  auto [b, e] = g.OutEdges(v);
  return static_cast<std::size_t>(std::distance(b, e));
}
CiId source(const ImpactEdge& e, const DepthLimitedGraph&) { return e.source; }
CiId target(const ImpactEdge& e, const DepthLimitedGraph&) { return e.target; }

struct Quorum {
  int needed = 0;
  bool percent = false;
  bool forward = true;  // impacts travel from `from` to `to` along this type
};

struct SearchState {
  std::unordered_map<CiId, int> dist;
  std::unordered_map<CiId, std::pair<CiId, RelId>> parent;  // how each CI was reached
  std::unordered_map<CiId, ImpactState> state;
  std::unordered_map<CiId, boost::default_color_type> color;
  // Quorum bookkeeping for CIs reached only through redundant relationships so far.
  std::unordered_map<CiId, int> redundant_down;
  std::unordered_map<CiId, std::pair<CiId, RelId>> first_redundant;
};

class ImpactVisitor : public boost::default_bfs_visitor {
 public:
  ImpactVisitor(const Graph& g, const std::vector<Quorum>& quorum, SearchState& s, boost::queue<CiId>& q)
      : g_(g), quorum_(quorum), s_(s), q_(q) {}

  template <typename G>
  void examine_edge(const ImpactEdge& e, const G&) const {
    CiId v = e.target;
    auto st = s_.state.find(v);
    if (st != s_.state.end() && st->second != ImpactState::kDegraded) return;  // already down or a seed
    const Quorum* q = e.type < quorum_.size() && quorum_[e.type].needed > 0 ? &quorum_[e.type] : nullptr;
    if (!q) {
      // A direct impact: let the search discover v (undo a quorum block).
      if (st != s_.state.end()) s_.color[v] = boost::white_color;
      return;
    }
    int down = ++s_.redundant_down[v];
    if (!s_.first_redundant.count(v)) s_.first_redundant[v] = {e.source, e.rel};
    int total = 0;
    if (auto t = e.type; true) {
      total = static_cast<int>(q->forward ? g_.InOfType(v, t).size() : g_.OutOfType(v, t).size());
    }
    int needed = q->percent ? std::max(1, (q->needed * total + 99) / 100) : q->needed;
    if (down >= needed) {
      s_.state[v] = ImpactState::kDown;
      s_.dist[v] = s_.dist[e.source] + 1;
      s_.parent[v] = {e.source, e.rel};
      s_.color[v] = boost::gray_color;
      q_.push(v);
    } else {
      s_.state[v] = ImpactState::kDegraded;
      s_.color[v] = boost::black_color;  // not discovered through this edge: no propagation
    }
  }

  template <typename G>
  void tree_edge(const ImpactEdge& e, const G&) const {
    s_.dist[e.target] = s_.dist[e.source] + 1;
    s_.parent[e.target] = {e.source, e.rel};
    s_.state[e.target] = ImpactState::kDown;
  }

 private:
  const Graph& g_;
  const std::vector<Quorum>& quorum_;
  SearchState& s_;
  boost::queue<CiId>& q_;
};

}  // namespace

const char* ImpactStateName(ImpactState s) {
  switch (s) {
    case ImpactState::kSeed: return "seed";
    case ImpactState::kDown: return "down";
    case ImpactState::kDegraded: return "degraded";
  }
  return "?";
}

Result<ImpactResult> ComputeImpact(const Graph& graph, const Schema& schema, const ImpactRequest& request) {
  if (request.max_depth < 0) return Status::Invalid("max_depth must not be negative");
  for (CiId s : request.seeds) {
    if (!graph.FindCi(s)) return Status::NotFound("CI " + std::to_string(s) + " does not exist");
  }
  for (const auto& t : request.types) {
    if (!schema.FindRelType(t) && !schema.open_mode())
      return Status::Invalid("unknown relationship type '" + t + "'").With("type", t);
  }
  for (const auto& c : request.classes) {
    if (!schema.FindClass(c) && !schema.open_mode()) return Status::Invalid("unknown class '" + c + "'").With("class", c);
  }
  // Which way each relationship type carries a failure.
  bool reverse = request.direction == ImpactDirection::kDependsOn;
  std::vector<bool> forward, backward;
  std::vector<Quorum> quorum;
  for (const auto& [name, def] : schema.rel_types()) {
    auto tid = graph.TypeIdOf(name);
    if (!tid) continue;
    if (!request.types.empty() && std::find(request.types.begin(), request.types.end(), name) == request.types.end())
      continue;
    size_t t = *tid;
    if (forward.size() <= t) forward.resize(t + 1), backward.resize(t + 1), quorum.resize(t + 1);
    bool to_target = def.impact == ImpactRule::kToTarget || def.impact == ImpactRule::kBoth;
    bool to_source = def.impact == ImpactRule::kToSource || def.impact == ImpactRule::kBoth;
    forward[t] = reverse ? to_source : to_target;
    backward[t] = reverse ? to_target : to_source;
    if (!reverse && request.redundancy && def.quorum > 0 && def.impact != ImpactRule::kBoth)
      quorum[t] = Quorum{def.quorum, def.quorum_percent, to_target};
  }
  ImpactGraph impact_graph(graph, std::move(forward), std::move(backward));
  SearchState s;
  bool limited = false;
  for (CiId seed : request.seeds) {
    s.dist[seed] = 0;
    s.state[seed] = ImpactState::kSeed;
  }
  DepthLimitedGraph limited_graph(impact_graph, s.dist, request.max_depth, limited);
  boost::queue<CiId> queue;
  boost::associative_property_map<std::unordered_map<CiId, boost::default_color_type>> color(s.color);
  ImpactVisitor visitor(graph, quorum, s, queue);
  std::vector<CiId> seeds(request.seeds.begin(), request.seeds.end());
  std::sort(seeds.begin(), seeds.end());
  seeds.erase(std::unique(seeds.begin(), seeds.end()), seeds.end());
  boost::breadth_first_visit(limited_graph, seeds.begin(), seeds.end(), queue, visitor, color);

  ImpactResult result;
  result.depth_limited = limited;
  for (const auto& [id, state] : s.state) {
    const CiRecord* ci = graph.FindCi(id);
    if (!ci) continue;
    ImpactedCi out;
    out.id = id;
    out.state = state;
    if (state == ImpactState::kDegraded) {
      auto [from, rel] = s.first_redundant.at(id);
      out.distance = s.dist[from] + 1;
      out.path_cis.push_back(id);
      out.path_rels.push_back(rel);
      for (CiId cur = from;; ) {
        out.path_cis.push_back(cur);
        auto p = s.parent.find(cur);
        if (p == s.parent.end()) break;
        out.path_rels.push_back(p->second.second);
        cur = p->second.first;
      }
    } else {
      out.distance = s.dist[id];
      for (CiId cur = id;;) {
        out.path_cis.push_back(cur);
        auto p = s.parent.find(cur);
        if (p == s.parent.end()) break;
        out.path_rels.push_back(p->second.second);
        cur = p->second.first;
      }
    }
    std::reverse(out.path_cis.begin(), out.path_cis.end());
    std::reverse(out.path_rels.begin(), out.path_rels.end());
    bool wanted = request.classes.empty() ||
                  std::any_of(request.classes.begin(), request.classes.end(),
                              [&](const std::string& c) { return schema.IsA(ci->class_name, c); });
    if (state != ImpactState::kSeed) {
      if (schema.FindClass("BusinessService") && schema.IsA(ci->class_name, "BusinessService")) result.services.push_back(id);
      if (wanted) ++result.per_class[ci->class_name];
    }
    if (wanted || state == ImpactState::kSeed) result.cis.push_back(std::move(out));
  }
  std::sort(result.cis.begin(), result.cis.end(), [](const ImpactedCi& a, const ImpactedCi& b) {
    if ((a.state == ImpactState::kSeed) != (b.state == ImpactState::kSeed)) return a.state == ImpactState::kSeed;
    return a.distance != b.distance ? a.distance < b.distance : a.id < b.id;
  });
  std::sort(result.services.begin(), result.services.end());
  return result;
}

std::string ImpactToDot(const Graph& graph, const ImpactResult& result) {
  auto label = [&](CiId id) {
    const CiRecord* ci = graph.FindCi(id);
    std::string name = ci ? ci->attrs.Get("name").is_string() ? ci->attrs.Get("name").as_string() : "" : "";
    std::string text = (ci ? ci->class_name : std::string("?")) + "\\n" + name;
    std::string out;
    for (char c : text) out += c == '"' ? std::string("\\\"") : std::string(1, c);
    return out;
  };
  std::string out = "digraph impact {\n  rankdir=LR;\n  node [shape=box, style=filled, fontname=\"Helvetica\"];\n";
  for (const auto& ci : result.cis) {
    const char* fill = ci.state == ImpactState::kSeed ? "#d62728" : ci.state == ImpactState::kDown ? "#ff9896" : "#ffdd99";
    out += "  c" + std::to_string(ci.id) + " [label=\"" + label(ci.id) + "\", fillcolor=\"" + fill + "\"];\n";
  }
  for (const auto& ci : result.cis) {
    for (size_t i = 0; i + 1 < ci.path_cis.size(); ++i) {
      if (i + 2 != ci.path_cis.size()) continue;  // each CI draws the edge that reached it
      const RelRecord* r = graph.FindRel(ci.path_rels[i]);
      out += "  c" + std::to_string(ci.path_cis[i]) + " -> c" + std::to_string(ci.path_cis[i + 1]) + " [label=\"" +
             (r ? r->type : std::string("?")) + "\"" + (ci.state == ImpactState::kDegraded ? ", style=dashed" : "") + "];\n";
    }
  }
  return out + "}\n";
}

}  // namespace cmdb::analysis
