#include "analysis/impact.hpp"

#include <algorithm>
#include <bit>
#include <boost/graph/breadth_first_search.hpp>
#include <boost/property_map/property_map.hpp>
#include <unordered_map>

#include "analysis/impact_graph.hpp"
#include "analysis/impact_options.hpp"

namespace cmdb::analysis {
namespace {


struct Quorum {
  int needed = 0;
  bool percent = false;
  bool forward = true;  // impacts travel from `from` to `to` along this type
};

// Per-thread scratch reused across queries. Every CI id has a one-byte mark (touched, colour,
// state) and a 4-byte index into `reached`, which lists the CIs this query touched in the order
// it touched them, with their distance and the link that reached them. The search reads the
// mark of the far end of every edge it examines: at one byte a CI the marks of a million CIs
// stay in the core's cache, which 32-byte slots a CI did not (a hub's search examines about a
// million edges). Only the marks the previous query set are cleared.
struct Reached {
  CiId id = 0;
  CiId parent = 0;
  RelId via = 0;
  int32_t dist = 0;
  int32_t redundant_down = 0;
};

// Mark bits: bit 7 touched, bits 3-4 state (0 unreached, else ImpactState + 1), bits 0-2 the
// boost::default_color_type (white 0, gray 1, black 4).
constexpr uint8_t kTouched = 0x80;
constexpr uint8_t kColorBits = 0x07;
constexpr uint8_t kStateShift = 3;
constexpr uint8_t kStateBits = 0x03 << kStateShift;

struct Scratch {
  std::vector<uint8_t> marks;
  std::vector<uint32_t> where;  // index in `reached`, valid while the mark is set
  std::vector<Reached> reached;

  void Begin(size_t bound) {
    for (const Reached& r : reached) marks[r.id] = 0;
    reached.clear();
    if (marks.size() < bound) marks.resize(bound), where.resize(bound);
  }
  // The record of v, created for this query on first use.
  Reached& Touch(CiId v) {
    uint8_t& m = marks[v];
    if (!m) {
      m = kTouched;
      where[v] = static_cast<uint32_t>(reached.size());
      reached.push_back(Reached{v});
    }
    return reached[where[v]];
  }
  // Only for touched CIs.
  const Reached& Of(CiId v) const { return reached[where[v]]; }
  // 0 unreached, else ImpactState + 1.
  uint8_t State(CiId v) const { return (marks[v] & kStateBits) >> kStateShift; }
  void SetState(CiId v, ImpactState st) {
    uint8_t& m = marks[v];
    m = static_cast<uint8_t>((m & ~kStateBits) | ((static_cast<uint8_t>(st) + 1) << kStateShift));
  }
  void SetColor(CiId v, boost::default_color_type c) {
    uint8_t& m = marks[v];
    m = static_cast<uint8_t>((m & ~kColorBits) | static_cast<uint8_t>(c));
  }
};
static_assert(boost::white_color == 0 && boost::gray_color < 8 && boost::black_color < 8);

thread_local Scratch tls_scratch;

// The BFS buffer (Boost's Buffer concept): every CI enters at most once per query, so a vector
// and a read position beat a deque. Reused across queries on a thread. Each entry keeps the CI's
// distance (fixed once it is queued), so the search knows the distance of the CI it expands
// without looking it up. Taking a CI off the queue prefetches the adjacency of the CIs a little
// further on, which the search reads soon: on a large graph their rows are in no cache, and
// waiting for them one after the other was most of a hub's search.
template <typename G>
class VectorQueue {
 public:
  using value_type = CiId;
  using size_type = size_t;
  void push(CiId v) { items_.push_back(Item{v, scratch_->Of(v).dist}); }
  void pop() {
    current_ = items_[head_];
    ++head_;
    if (head_ + kRefsAhead < items_.size()) graph_->PrefetchRefs(items_[head_ + kRefsAhead].id);
    if (head_ + kRowsAhead < items_.size()) graph_->PrefetchRows(items_[head_ + kRowsAhead].id);
  }
  CiId& top() { return items_[head_].id; }
  const CiId& top() const { return items_[head_].id; }
  bool empty() const { return head_ == items_.size(); }
  size_t size() const { return items_.size() - head_; }
  // Empties the queue for a search of `graph` with `scratch`.
  void Reset(const G& graph, const Scratch& scratch) {
    graph_ = &graph;
    scratch_ = &scratch;
    items_.clear();
    head_ = 0;
    current_ = Item{};
  }
  // The distance of v: quick when v is the CI last taken off the queue (the one expanded).
  int32_t DistOf(CiId v) const { return v == current_.id ? current_.dist : scratch_->Of(v).dist; }

 private:
  static constexpr size_t kRefsAhead = 32;
  static constexpr size_t kRowsAhead = 16;
  struct Item {
    CiId id = 0;
    int32_t dist = 0;
  };
  const G* graph_ = nullptr;
  const Scratch* scratch_ = nullptr;
  std::vector<Item> items_;
  size_t head_ = 0;
  Item current_;
};

template <typename G>
VectorQueue<G>& TlsQueue() {
  thread_local VectorQueue<G> queue;
  return queue;
}

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
  return static_cast<boost::default_color_type>(m.s->marks[v] & kColorBits);
}
inline void put(const ColorMap& m, CiId v, boost::default_color_type c) {
  m.s->Touch(v);
  m.s->SetColor(v, c);
}

// A reached CI to put in order: its (distance, id) packed into `key`, and the place of its
// record in the scratch.
struct OrderKey {
  uint64_t key;
  uint32_t index;
};

// Sorts keys (all below 2^bits) ascending: std::sort for small sets, else an LSD radix sort with
// 11-bit digits (three passes for a million CIs at depth 6), several times faster on the hundreds
// of thousands of CIs a hub reaches.
// `tmp` is scratch space (its contents are replaced).
void SortKeys(std::vector<OrderKey>& keys, std::vector<OrderKey>& tmp, int bits) {
  if (keys.size() < 4096) {
    std::sort(keys.begin(), keys.end(), [](const OrderKey& a, const OrderKey& b) { return a.key < b.key; });
    return;
  }
  constexpr int kBits = 11;
  constexpr size_t kBuckets = size_t(1) << kBits;
  tmp.resize(keys.size());
  std::vector<size_t> count(kBuckets + 1);
  for (int shift = 0; shift < bits; shift += kBits) {
    std::fill(count.begin(), count.end(), 0);
    for (const OrderKey& k : keys) ++count[((k.key >> shift) & (kBuckets - 1)) + 1];
    for (size_t b = 1; b <= kBuckets; ++b) count[b] += count[b - 1];
    for (const OrderKey& k : keys) tmp[count[(k.key >> shift) & (kBuckets - 1)]++] = k;
    keys.swap(tmp);
  }
}

constexpr uint8_t kDegradedMark = static_cast<uint8_t>(ImpactState::kDegraded) + 1;

template <typename G>
class ImpactVisitor : public boost::default_bfs_visitor {
 public:
  ImpactVisitor(const G& g, const std::vector<Quorum>& quorum, Scratch& s, VectorQueue<G>& q)
      : g_(g), quorum_(quorum), s_(s), q_(q) {}

  template <typename View>
  void examine_edge(const ImpactEdge& e, const View&) const {
    CiId v = e.target;
    uint8_t state = s_.State(v);
    if (state != 0 && state != kDegradedMark) return;  // already down or a seed
    const Quorum* q = e.type < quorum_.size() && quorum_[e.type].needed > 0 ? &quorum_[e.type] : nullptr;
    if (!q) {
      // A direct impact: let the search discover v (undo a quorum block).
      if (state != 0) s_.SetColor(v, boost::white_color);
      return;
    }
    int32_t dist = q_.DistOf(e.source) + 1;
    Reached& t = s_.Touch(v);
    int down = ++t.redundant_down;
    if (down == 1) t.parent = e.source, t.via = e.rel, t.dist = dist;
    int total = static_cast<int>(q->forward ? g_.InOfType(v, e.type).size() : g_.OutOfType(v, e.type).size());
    int needed = q->percent ? std::max(1, (q->needed * total + 99) / 100) : q->needed;
    if (down >= needed) {
      t.dist = dist;
      t.parent = e.source;
      t.via = e.rel;
      s_.SetState(v, ImpactState::kDown);
      s_.SetColor(v, boost::gray_color);
      q_.push(v);
    } else {
      s_.SetState(v, ImpactState::kDegraded);
      s_.SetColor(v, boost::black_color);  // not discovered through this edge: no propagation
    }
  }

  template <typename View>
  void tree_edge(const ImpactEdge& e, const View&) const {
    int32_t dist = q_.DistOf(e.source) + 1;
    Reached& t = s_.Touch(e.target);
    t.dist = dist;
    t.parent = e.source;
    t.via = e.rel;
    s_.SetState(e.target, ImpactState::kDown);
  }

 private:
  const G& g_;
  const std::vector<Quorum>& quorum_;
  Scratch& s_;
  VectorQueue<G>& q_;
};

// The impact view with the depth limit applied; the distances come from the queue.
template <typename G>
class DepthLimitedGraph {
 public:
  using Iterator = typename BasicImpactGraph<G>::OutEdgeIterator;
  DepthLimitedGraph(const BasicImpactGraph<G>& g, const VectorQueue<G>& q, int max_depth, bool& limited)
      : g_(g), q_(q), max_depth_(max_depth), limited_(limited) {}
  std::pair<Iterator, Iterator> OutEdges(CiId v) const {
    auto range = out_edges(v, g_);
    if (q_.DistOf(v) >= max_depth_) {
      if (range.first != range.second) limited_ = true;
      return {range.second, range.second};
    }
    return range;
  }

 private:
  const BasicImpactGraph<G>& g_;
  const VectorQueue<G>& q_;
  int max_depth_;
  bool& limited_;
};

}  // namespace
}  // namespace cmdb::analysis

namespace boost {
template <typename G>
struct graph_traits<cmdb::analysis::DepthLimitedGraph<G>> : graph_traits<cmdb::analysis::BasicImpactGraph<G>> {};
}  // namespace boost

namespace cmdb::analysis {
namespace {

template <typename G>
std::pair<typename DepthLimitedGraph<G>::Iterator, typename DepthLimitedGraph<G>::Iterator> out_edges(
    CiId v, const DepthLimitedGraph<G>& g) {
  return g.OutEdges(v);
}
template <typename G>
std::size_t out_degree(CiId v, const DepthLimitedGraph<G>& g) {
  auto [b, e] = g.OutEdges(v);
  return static_cast<std::size_t>(std::distance(b, e));
}
template <typename G>
CiId source(const ImpactEdge& e, const DepthLimitedGraph<G>&) { return e.source; }
template <typename G>
CiId target(const ImpactEdge& e, const DepthLimitedGraph<G>&) { return e.target; }

}  // namespace

const char* ImpactStateName(ImpactState s) {
  switch (s) {
    case ImpactState::kSeed: return "seed";
    case ImpactState::kDown: return "down";
    case ImpactState::kDegraded: return "degraded";
  }
  return "?";
}

namespace {

// ComputeImpact on the present graph or on a past one (the same read API).
template <typename G>
Result<ImpactResult> ComputeImpactOn(const G& graph, const Schema& schema, const ImpactRequest& request) {
  if (request.max_depth < 0) return Status::Invalid("max_depth must not be negative");
  for (CiId s : request.seeds) {
    if (!graph.FindCi(s)) return Status::NotFound("CI " + std::to_string(s) + " does not exist");
  }
  CMDB_RETURN_IF_ERROR(CheckImpactNames(request, schema));
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
  BasicImpactGraph<G> impact_graph(graph, std::move(forward), std::move(backward));
  Scratch& s = tls_scratch;
  s.Begin(static_cast<size_t>(graph.ci_id_bound()));
  bool limited = false;
  std::vector<CiId> seeds(request.seeds.begin(), request.seeds.end());
  std::sort(seeds.begin(), seeds.end());
  seeds.erase(std::unique(seeds.begin(), seeds.end()), seeds.end());
  for (CiId seed : seeds) s.Touch(seed), s.SetState(seed, ImpactState::kSeed);
  VectorQueue<G>& queue = TlsQueue<G>();
  queue.Reset(graph, s);
  DepthLimitedGraph<G> depth_graph(impact_graph, queue, request.max_depth, limited);
  ImpactVisitor<G> visitor(graph, quorum, s, queue);
  boost::breadth_first_visit(depth_graph, seeds.begin(), seeds.end(), queue, visitor, ColorMap{&s});

  ImpactResult result;
  result.depth_limited = limited;
  struct ClassInfo {
    int64_t count = 0;
    bool seen = false;
    bool wanted = false;
    bool service = false;
  };
  std::vector<ClassInfo> classes(graph.class_id_bound());  // by the graph's class ids
  // Reached CIs ordered by (distance, id), read from the scratch in the order they were reached
  // (sequentially) and sorted as packed keys.
  int id_bits = std::bit_width(static_cast<uint64_t>(std::max<CiId>(graph.ci_id_bound(), 1)));
  int32_t max_dist = 0;
  for (const Reached& r : s.reached) max_dist = std::max(max_dist, r.dist);
  int bits = id_bits + std::bit_width(static_cast<uint32_t>(max_dist));
  // Per-thread buffers, kept across queries like the scratch: a hub's query would otherwise map
  // fresh pages for its millions of bytes of keys every time.
  thread_local std::vector<OrderKey> order, order_tmp;
  order.clear();
  order.reserve(s.reached.size());
  for (uint32_t i = 0; i < s.reached.size(); ++i) {
    const Reached& r = s.reached[i];
    if (s.State(r.id) == 0) continue;
    uint64_t key = bits <= 64 ? (static_cast<uint64_t>(r.dist) << id_bits) | static_cast<uint64_t>(r.id) : 0;
    order.push_back(OrderKey{key, i});
  }
  if (bits <= 64) {
    SortKeys(order, order_tmp, bits);
  } else {  // ids and depths too large to pack (not seen in practice)
    std::sort(order.begin(), order.end(), [&](const OrderKey& a, const OrderKey& b) {
      const Reached& x = s.reached[a.index];
      const Reached& y = s.reached[b.index];
      return x.dist != y.dist ? x.dist < y.dist : x.id < y.id;
    });
  }
  result.cis.reserve(order.size());
  constexpr size_t kAhead = 8;  // the records are scattered over the scratch: fetch them early
  for (size_t i = 0; i < order.size(); ++i) {
    __builtin_prefetch(&s.reached[order[std::min(i + kAhead, order.size() - 1)].index]);
    const Reached& slot = s.reached[order[i].index];
    CiId id = slot.id;
    ImpactState state = static_cast<ImpactState>(s.State(id) - 1);
    ClassInfo& info = classes[graph.ClassIdOf(id)];
    if (!info.seen) {
      const std::string& cls = graph.ClassName(graph.ClassIdOf(id));
      info.seen = true;
      info.wanted = request.classes.empty() ||
                    std::any_of(request.classes.begin(), request.classes.end(),
                                [&](const std::string& c) { return schema.IsA(cls, c); });
      info.service = schema.ServiceClassOf(cls) != nullptr;
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
    for (const Reached& r : s.reached) {
      if (s.State(r.id) != 0) result.hidden_links.push_back({r.id, r.parent, r.via});
    }
    std::sort(result.hidden_links.begin(), result.hidden_links.end(),
              [](const auto& a, const auto& b) { return a.id < b.id; });
  }
  return result;
}

}  // namespace

Result<ImpactResult> ComputeImpact(const Graph& graph, const Schema& schema, const ImpactRequest& request) {
  return ComputeImpactOn(graph, schema, request);
}

Result<ImpactResult> ComputeImpact(const PastGraph& graph, const Schema& schema, const ImpactRequest& request) {
  return ComputeImpactOn(graph, schema, request);
}

Value ServiceCriticality(const Schema& schema, const CiRecord& ci) {
  const ClassDef* service = schema.ServiceClassOf(ci.class_name);
  if (!service || service->criticality.empty()) return Value();
  return ci.attrs.Get(service->criticality);
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

namespace {

template <typename G>
std::string DotOf(const G& graph, const ImpactResult& result) {
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
    std::optional<RelRecord> r = graph.FindRel(ci.via);
    out += "  c" + std::to_string(ci.parent) + " -> c" + std::to_string(ci.id) + " [label=\"" +
           (r ? r->type.str() : std::string("?")) + "\"" + (ci.state == ImpactState::kDegraded ? ", style=dashed" : "") + "];\n";
  }
  return out + "}\n";
}

}  // namespace

std::string ImpactToDot(const Graph& graph, const ImpactResult& result) {
  return DotOf(graph, result);
}
std::string ImpactToDot(const PastGraph& graph, const ImpactResult& result) {
  return DotOf(graph, result);
}

}  // namespace cmdb::analysis
