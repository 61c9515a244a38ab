// Impact analysis: what a failure of some CIs takes down (or what they depend on), following
// each relationship type's impact rule, with quorum redundancy, on the live graph.
//
// Runs Boost.Graph's breadth-first search on a view of the graph (impact_graph.hpp); nothing is
// copied per query. Cycles terminate (each CI is visited once). The caller holds a ReadView (or
// otherwise keeps the graph unchanged) for the duration of the call.
// Thread safety: pure function of its arguments.
#pragma once

#include <map>
#include <unordered_map>
#include <string>
#include <vector>

#include "cmdb/graph.hpp"
#include "cmdb/past_graph.hpp"
#include "cmdb/schema.hpp"
#include "cmdb/status.hpp"

namespace cmdb::analysis {

enum class ImpactDirection {
  kImpacted,   // what a failure of the seeds impacts
  kDependsOn,  // what the seeds depend on (the same rules, walked backwards; no quorum)
};

struct ImpactRequest {
  std::vector<CiId> seeds;
  ImpactDirection direction = ImpactDirection::kImpacted;
  int max_depth = 6;
  std::vector<std::string> types;    // relationship types to follow; empty: all with an impact rule
  std::vector<std::string> classes;  // report only CIs of these classes (subclasses included)
  bool redundancy = true;            // false: ignore QUORUM (plain reachability along impact rules)
};

enum class ImpactState { kSeed, kDown, kDegraded };
const char* ImpactStateName(ImpactState s);  // "seed", "down", "degraded"

struct ImpactedCi {
  CiId id = 0;
  int distance = 0;
  ImpactState state = ImpactState::kDown;
  // The explanation, one link back: the CI whose failure reached this one and the relationship
  // it came along (0 for seeds). PathOf() follows the links back to a seed.
  CiId parent = 0;
  RelId via = 0;
};

struct ImpactResult {
  std::vector<ImpactedCi> cis;                // seeds first, then by distance and id
  std::vector<CiId> services;                 // services reached, down or degraded (classes
                                              // the schema declares SERVICE; sorted)
  std::map<std::string, int64_t> per_class;   // impacted (not seeds) per class
  bool depth_limited = false;                 // max_depth stopped the search somewhere
  // With a class filter: the links of reached CIs that are not reported (sorted by id), so
  // PathOf can still explain through them.
  struct Link {
    CiId id, parent;
    RelId via;
  };
  std::vector<Link> hidden_links;
};

Result<ImpactResult> ComputeImpact(const Graph& graph, const Schema& schema, const ImpactRequest& request);
// The same on a past graph (AS OF, USE BASELINE): the impact as the graph was right after
// graph.tx(). Not thread-safe on one PastGraph (it fills caches as it is read).
Result<ImpactResult> ComputeImpact(const PastGraph& graph, const Schema& schema, const ImpactRequest& request);

// The criticality of a service CI: the value of the attribute its service class names with
// SERVICE CRITICALITY in the schema; null when the class is no service or names none, or the CI
// has no value.
Value ServiceCriticality(const Schema& schema, const CiRecord& ci);

// One explanation path for a CI of the result: the CIs from a seed to it and the relationships
// between them. `index` maps CI ids to positions in result.cis (see IndexOf).
struct ImpactPath {
  std::vector<CiId> cis;
  std::vector<RelId> rels;
};
std::unordered_map<CiId, size_t> IndexOf(const ImpactResult& result);
ImpactPath PathOf(const ImpactResult& result, const std::unordered_map<CiId, size_t>& index, CiId id);

// A Graphviz DOT picture of the impact: seeds, down and degraded CIs, explanation edges.
std::string ImpactToDot(const Graph& graph, const ImpactResult& result);
// The same for an impact computed on a past view (AS OF).
std::string ImpactToDot(const PastGraph& graph, const ImpactResult& result);

}  // namespace cmdb::analysis
