#include "analysis/impact.hpp"

#include <algorithm>
#include <bit>
#include <boost/graph/breadth_first_search.hpp>
#include <boost/property_map/property_map.hpp>
#include <unordered_map>

#include "analysis/impact_graph.hpp"

namespace cmdb::analysis {
namespace {


struct Quorum {
  int needed = 0;
  bool percent = false;
  bool forward = true;  // impacts travel from `from` to `to` along this type
};

// Per-thread scratch, one 32-byte slot per CI id (one cache line holds two), reused across
// queries. A slot is valid only when its epoch equals the current query's, so nothing is cleared
// between queries.
struct Slot {
  uint32_t epoch = 0;
  int32_t dist = 0;
  int32_t redundant_down = 0;
  uint8_t state = 0;  // 0 unreached, else ImpactState + 1
  uint8_t color = 0;  // boost::default_color_type
  CiId parent = 0;
  RelId via = 0;
};
static_assert(sizeof(Slot) == 32);

struct Scratch {
  std::vector<Slot> slots;
  uint32_t current = 0;
  std::vector<CiId> touched;  // CIs with a slot this query, in the order they were reached

  void Begin(size_t bound) {
    if (slots.size() < bound) slots.resize(bound);
    if (++current == 0) {  // wrapped: clear once every 4 billion queries
      for (Slot& s : slots) s.epoch = 0;
      current = 1;
    }
    touched.clear();
  }
  // The slot of v, initialized for this query on first use.
  Slot& Touch(CiId v) {
    Slot& s = slots[v];
    if (s.epoch != current) {
      s = Slot{current, 0, 0, 0, static_cast<uint8_t>(boost::white_color), 0, 0};
      touched.push_back(v);
    }
    return s;
  }
  bool Has(CiId v) const { return slots[v].epoch == current; }
};

thread_local Scratch tls_scratch;

// The BFS buffer (Boost's Buffer concept): every CI enters at most once per query, so a vector
// and a read position beat a deque. Reused across queries on a thread.
class VectorQueue {
 public:
  using value_type = CiId;
  using size_type = size_t;
  void push(CiId v) { items_.push_back(v); }
  void pop() { ++head_; }
  CiId& top() { return items_[head_]; }
  const CiId& top() const { return items_[head_]; }
  bool empty() const { return head_ == items_.size(); }
  size_t size() const { return items_.size() - head_; }
  void clear() {
    items_.clear();
    head_ = 0;
  }

 private:
  std::vector<CiId> items_;
  size_t head_ = 0;
};

thread_local VectorQueue tls_queue;

// A Boost property map over the scratch colors (untouched CIs are white).
struct ColorMap {
  Scratch* s;
};

}  // namespace
}  // namespace cmdb::analysis

namespace boost {
template <>
struct property_traits<cmdb::analysis::ColorMap> {
  using key_type = cmdb::CiId;
  using value_type = boost::default_color_type;
  using reference = boost::default_color_type;
  using category = read_write_property_map_tag;
};
}  // namespace boost

namespace cmdb::analysis {
namespace {

inline boost::default_color_type get(const ColorMap& m, CiId v) {
  return m.s->Has(v) ? static_cast<boost::default_color_type>(m.s->slots[v].color) : boost::white_color;
}
inline void put(const ColorMap& m, CiId v, boost::default_color_type c) {
  m.s->Touch(v).color = static_cast<uint8_t>(c);
}

// Sorts CI ids (all below `bound`) ascending: std::sort for small sets, else an LSD radix sort
// with 11-bit digits (two passes up to 4 million CIs), which is several times faster on the
// hundreds of thousands of CIs a hub reaches.
void SortIds(std::vector<CiId>& ids, CiId bound) {
  if (ids.size() < 4096) {
    std::sort(ids.begin(), ids.end());
    return;
  }
  constexpr int kBits = 11;
  constexpr size_t kBuckets = size_t(1) << kBits;
  int bits = std::bit_width(static_cast<uint64_t>(std::max<CiId>(bound, 1)));
  std::vector<CiId> tmp(ids.size());
  std::vector<size_t> count(kBuckets + 1);
  for (int shift = 0; shift < bits; shift += kBits) {
    std::fill(count.begin(), count.end(), 0);
    for (CiId id : ids) ++count[((static_cast<uint64_t>(id) >> shift) & (kBuckets - 1)) + 1];
    for (size_t b = 1; b <= kBuckets; ++b) count[b] += count[b - 1];
    for (CiId id : ids) tmp[count[(static_cast<uint64_t>(id) >> shift) & (kBuckets - 1)]++] = id;
    ids.swap(tmp);
  }
}

ImpactState StateOf(const Slot& s) { return static_cast<ImpactState>(s.state - 1); }
void SetState(Slot& s, ImpactState st) { s.state = static_cast<uint8_t>(st) + 1; }

class ImpactVisitor : public boost::default_bfs_visitor {
 public:
  ImpactVisitor(const Graph& g, const std::vector<Quorum>& quorum, Scratch& s, VectorQueue& q)
      : g_(g), quorum_(quorum), s_(s), q_(q) {}

  template <typename G>
  void examine_edge(const ImpactEdge& e, const G&) const {
    Slot& t = s_.Touch(e.target);
    if (t.state != 0 && StateOf(t) != ImpactState::kDegraded) return;  // already down or a seed
    const Quorum* q = e.type < quorum_.size() && quorum_[e.type].needed > 0 ? &quorum_[e.type] : nullptr;
    if (!q) {
      // A direct impact: let the search discover v (undo a quorum block).
      if (t.state != 0) t.color = boost::white_color;
      return;
    }
    CiId v = e.target;
    int32_t dist = s_.slots[e.source].dist + 1;
    int down = ++t.redundant_down;
    if (down == 1) t.parent = e.source, t.via = e.rel, t.dist = dist;
    int total = static_cast<int>(q->forward ? g_.InOfType(v, e.type).size() : g_.OutOfType(v, e.type).size());
    int needed = q->percent ? std::max(1, (q->needed * total + 99) / 100) : q->needed;
    if (down >= needed) {
      SetState(t, ImpactState::kDown);
      t.dist = dist;
      t.parent = e.source;
      t.via = e.rel;
      t.color = boost::gray_color;
      q_.push(v);
    } else {
      SetState(t, ImpactState::kDegraded);
      t.color = boost::black_color;  // not discovered through this edge: no propagation
    }
  }

  template <typename G>
  void tree_edge(const ImpactEdge& e, const G&) const {
    int32_t dist = s_.slots[e.source].dist + 1;
    Slot& t = s_.Touch(e.target);
    t.dist = dist;
    t.parent = e.source;
    t.via = e.rel;
    SetState(t, ImpactState::kDown);
  }

 private:
  const Graph& g_;
  const std::vector<Quorum>& quorum_;
  Scratch& s_;
  VectorQueue& q_;
};

// The impact view with the depth limit applied, reading distances from the scratch.
class ScratchDepthGraph {
 public:
  ScratchDepthGraph(const ImpactGraph& g, const Scratch& s, int max_depth, bool& limited)
      : g_(g), s_(s), max_depth_(max_depth), limited_(limited) {}
  std::pair<ImpactGraph::OutEdgeIterator, ImpactGraph::OutEdgeIterator> OutEdges(CiId v) const {
    auto range = out_edges(v, g_);
    if (s_.Has(v) && s_.slots[v].dist >= max_depth_) {
      if (range.first != range.second) limited_ = true;
      return {range.second, range.second};
    }
    return range;
  }

 private:
  const ImpactGraph& g_;
  const Scratch& s_;
  int max_depth_;
  bool& limited_;
};

}  // namespace
}  // namespace cmdb::analysis

namespace boost {
template <>
struct graph_traits<cmdb::analysis::ScratchDepthGraph> : graph_traits<cmdb::analysis::ImpactGraph> {};
}  // namespace boost

namespace cmdb::analysis {
namespace {

std::pair<ImpactGraph::OutEdgeIterator, ImpactGraph::OutEdgeIterator> out_edges(CiId v, const ScratchDepthGraph& g) {
  return g.OutEdges(v);
}
std::size_t out_degree(CiId v, const ScratchDepthGraph& g) {
  auto [b, e] = g.OutEdges(v);
  return static_cast<std::size_t>(std::distance(b, e));
}
CiId source(const ImpactEdge& e, const ScratchDepthGraph&) { return e.source; }
CiId target(const ImpactEdge& e, const ScratchDepthGraph&) { return e.target; }

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
  Scratch& s = tls_scratch;
  s.Begin(static_cast<size_t>(graph.ci_id_bound()));
  bool limited = false;
  std::vector<CiId> seeds(request.seeds.begin(), request.seeds.end());
  std::sort(seeds.begin(), seeds.end());
  seeds.erase(std::unique(seeds.begin(), seeds.end()), seeds.end());
  for (CiId seed : seeds) SetState(s.Touch(seed), ImpactState::kSeed);
  ScratchDepthGraph depth_graph(impact_graph, s, request.max_depth, limited);
  VectorQueue& queue = tls_queue;
  queue.clear();
  ImpactVisitor visitor(graph, quorum, s, queue);
  boost::breadth_first_visit(depth_graph, seeds.begin(), seeds.end(), queue, visitor, ColorMap{&s});

  ImpactResult result;
  result.depth_limited = limited;
  bool has_services = schema.FindClass("BusinessService") != nullptr;
  struct ClassInfo {
    int64_t count = 0;
    bool seen = false;
    bool wanted = false;
    bool service = false;
  };
  std::vector<ClassInfo> classes(graph.class_id_bound());  // by the graph's class ids
  // Reached CIs ordered by (distance, id): ids sorted first, then a stable counting sort by
  // distance.
  std::vector<CiId> reached;
  reached.reserve(s.touched.size());
  std::vector<size_t> per_distance;
  for (CiId id : s.touched) {
    const Slot& slot = s.slots[id];
    if (slot.state == 0) continue;
    reached.push_back(id);
    if (per_distance.size() <= size_t(slot.dist)) per_distance.resize(slot.dist + 1);
    ++per_distance[slot.dist];
  }
  SortIds(reached, graph.ci_id_bound());
  std::vector<size_t> starts(per_distance.size() + 1);
  for (size_t d = 0; d < per_distance.size(); ++d) starts[d + 1] = starts[d] + per_distance[d];
  std::vector<CiId> ordered(reached.size());
  for (CiId id : reached) ordered[starts[s.slots[id].dist]++] = id;
  result.cis.reserve(ordered.size());
  for (CiId id : ordered) {
    const Slot& slot = s.slots[id];
    ImpactState state = StateOf(slot);
    ClassInfo& info = classes[graph.ClassIdOf(id)];
    if (!info.seen) {
      const std::string& cls = graph.ClassName(graph.ClassIdOf(id));
      info.seen = true;
      info.wanted = request.classes.empty() ||
                    std::any_of(request.classes.begin(), request.classes.end(),
                                [&](const std::string& c) { return schema.IsA(cls, c); });
      info.service = has_services && schema.IsA(cls, "BusinessService");
    }
    if (state != ImpactState::kSeed) {
      if (info.service) result.services.push_back(id);
      if (info.wanted) ++info.count;
    }
    if (info.wanted || state == ImpactState::kSeed)
      result.cis.push_back(ImpactedCi{id, slot.dist, state, slot.parent, slot.via});
  }
  for (ClassId c = 0; c < classes.size(); ++c) {
    if (classes[c].count) result.per_class[graph.ClassName(c)] = classes[c].count;
  }
  // Seeds first (distance 0 holds only seeds), then by distance and id.
  std::sort(result.services.begin(), result.services.end());
  if (!request.classes.empty()) {
    for (CiId id : s.touched) {
      const Slot& slot = s.slots[id];
      if (slot.state != 0) result.hidden_links.push_back({id, slot.parent, slot.via});
    }
    std::sort(result.hidden_links.begin(), result.hidden_links.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
  }
  return result;
}

std::unordered_map<CiId, size_t> IndexOf(const ImpactResult& result) {
  std::unordered_map<CiId, size_t> index;
  index.reserve(result.cis.size());
  for (size_t i = 0; i < result.cis.size(); ++i) index.emplace(result.cis[i].id, i);
  return index;
}

ImpactPath PathOf(const ImpactResult& result, const std::unordered_map<CiId, size_t>& index, CiId id) {
  ImpactPath path;
  for (CiId cur = id; cur != 0;) {
    path.cis.push_back(cur);
    CiId parent = 0;
    RelId via = 0;
    if (auto it = index.find(cur); it != index.end()) {
      parent = result.cis[it->second].parent;
      via = result.cis[it->second].via;
    } else {
      auto l = std::lower_bound(result.hidden_links.begin(), result.hidden_links.end(), cur,
                                [](const ImpactResult::Link& x, CiId v) { return x.id < v; });
      if (l != result.hidden_links.end() && l->id == cur) parent = l->parent, via = l->via;
    }
    if (parent == 0) break;
    path.rels.push_back(via);
    cur = parent;
    if (path.cis.size() > 10000) break;  // defensive: links always lead back to a seed
  }
  std::reverse(path.cis.begin(), path.cis.end());
  std::reverse(path.rels.begin(), path.rels.end());
  return path;
}

std::string ImpactToDot(const Graph& graph, const ImpactResult& result) {
  auto label = [&](CiId id) {
    const CiRecord* ci = graph.FindCi(id);
    std::string name(ci ? ci->attrs.Get("name").is_string() ? ci->attrs.Get("name").as_string() : "" : "");
    std::string text = (ci ? ci->class_name.str() : std::string("?")) + "\\n" + name;
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
    if (ci.parent == 0) continue;  // each CI draws the edge that reached it
    const RelRecord* r = graph.FindRel(ci.via);
    out += "  c" + std::to_string(ci.parent) + " -> c" + std::to_string(ci.id) + " [label=\"" +
           (r ? r->type.str() : std::string("?")) + "\"" + (ci.state == ImpactState::kDegraded ? ", style=dashed" : "") + "];\n";
  }
  return out + "}\n";
}

}  // namespace cmdb::analysis
