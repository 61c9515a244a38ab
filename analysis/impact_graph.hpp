// ImpactGraph: a Boost.Graph IncidenceGraph view of cmdb::Graph (or of a cmdb::PastGraph, for
// AS OF: any G with Out/In rows) whose edges are the directions in which failures travel. Vertices are CI ids; an out-edge of v leads to a CI that v's failure
// impacts (or, reversed, that v depends on). Private to the analysis layer.
#pragma once

#include <boost/graph/graph_traits.hpp>
#include <boost/iterator/iterator_facade.hpp>
#include <span>
#include <vector>

#include "cmdb/graph.hpp"
#include "cmdb/past_graph.hpp"

namespace cmdb::analysis {

struct ImpactEdge {
  RelId rel = 0;
  CiId source = 0;
  CiId target = 0;
  TypeId type = 0;
  friend bool operator==(const ImpactEdge& a, const ImpactEdge& b) {
    return a.rel == b.rel && a.source == b.source && a.target == b.target;
  }
  friend bool operator!=(const ImpactEdge& a, const ImpactEdge& b) { return !(a == b); }
};

template <typename G>
class BasicImpactGraph {
 public:
  // `forward[t]`/`backward[t]`: whether an impact travels from `from` to `to` (forward) or from
  // `to` to `from` (backward) along relationships of type id t.
  BasicImpactGraph(const G& g, std::vector<bool> forward, std::vector<bool> backward)
      : g_(g), forward_(std::move(forward)), backward_(std::move(backward)) {}

  class OutEdgeIterator
      : public boost::iterator_facade<OutEdgeIterator, ImpactEdge, boost::forward_traversal_tag, ImpactEdge> {
   public:
    OutEdgeIterator() = default;
    OutEdgeIterator(const BasicImpactGraph* ig, CiId v, bool end) : ig_(ig), v_(v) {
      out_ = ig->g_.Out(v);
      in_ = ig->g_.In(v);
      if (end) {
        i_ = out_.size() + in_.size();
      } else {
        Skip();
      }
    }

   private:
    friend class boost::iterator_core_access;
    bool Usable(size_t i) const {
      if (i < out_.size()) return out_[i].type() < ig_->forward_.size() && ig_->forward_[out_[i].type()];
      const Adj& a = in_[i - out_.size()];
      return a.type() < ig_->backward_.size() && ig_->backward_[a.type()];
    }
    void Skip() {
      while (i_ < out_.size() + in_.size() && !Usable(i_)) ++i_;
    }
    void increment() {
      ++i_;
      Skip();
    }
    bool equal(const OutEdgeIterator& o) const { return i_ == o.i_ && v_ == o.v_; }
    ImpactEdge dereference() const {
      const Adj& a = i_ < out_.size() ? out_[i_] : in_[i_ - out_.size()];
      return ImpactEdge{a.rel(), v_, a.other(), a.type()};
    }

    const BasicImpactGraph* ig_ = nullptr;
    CiId v_ = 0;
    std::span<const Adj> out_, in_;
    size_t i_ = 0;
  };

  const G& graph() const { return g_; }

 private:
  const G& g_;
  std::vector<bool> forward_, backward_;
};

using ImpactGraph = BasicImpactGraph<Graph>;

}  // namespace cmdb::analysis

namespace boost {
template <typename G>
struct graph_traits<cmdb::analysis::BasicImpactGraph<G>> {
  using vertex_descriptor = cmdb::CiId;
  using edge_descriptor = cmdb::analysis::ImpactEdge;
  using directed_category = directed_tag;
  using edge_parallel_category = allow_parallel_edge_tag;
  using traversal_category = incidence_graph_tag;
  using out_edge_iterator = typename cmdb::analysis::BasicImpactGraph<G>::OutEdgeIterator;
  using degree_size_type = std::size_t;
  using vertices_size_type = std::size_t;
  using edges_size_type = std::size_t;
  static vertex_descriptor null_vertex() { return 0; }
};
}  // namespace boost

namespace cmdb::analysis {

template <typename G>
std::pair<typename BasicImpactGraph<G>::OutEdgeIterator, typename BasicImpactGraph<G>::OutEdgeIterator> out_edges(
    CiId v, const BasicImpactGraph<G>& g) {
  using It = typename BasicImpactGraph<G>::OutEdgeIterator;
  return {It(&g, v, false), It(&g, v, true)};
}
template <typename G>
std::size_t out_degree(CiId v, const BasicImpactGraph<G>& g) {
  auto [b, e] = out_edges(v, g);
  return static_cast<std::size_t>(std::distance(b, e));
}
template <typename G>
CiId source(const ImpactEdge& e, const BasicImpactGraph<G>&) { return e.source; }
template <typename G>
CiId target(const ImpactEdge& e, const BasicImpactGraph<G>&) { return e.target; }

}  // namespace cmdb::analysis
