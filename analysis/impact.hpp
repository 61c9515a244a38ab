// Impact analysis: what a failure of some CIs takes down (or what they depend on), following
// each relationship type's impact rule, with quorum redundancy, on the live graph.
//
// Runs Boost.Graph's breadth-first search on a view of the graph (impact_graph.hpp); nothing is
// copied per query. Cycles terminate (each CI is visited once). The caller holds a ReadView (or
// otherwise keeps the graph unchanged) for the duration of the call.
// Thread safety: pure function of its arguments.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cmdb/graph.hpp"
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
  // One explanation: the chain from a seed, as CIs [seed, ..., id] and the relationships
  // between them.
  std::vector<CiId> path_cis;
  std::vector<RelId> path_rels;
};

struct ImpactResult {
  std::vector<ImpactedCi> cis;                // seeds first, then by distance and id
  std::vector<CiId> services;                 // business services reached (down or degraded)
  std::map<std::string, int64_t> per_class;   // impacted (not seeds) per class
  bool depth_limited = false;                 // max_depth stopped the search somewhere
};

Result<ImpactResult> ComputeImpact(const Graph& graph, const Schema& schema, const ImpactRequest& request);

// A Graphviz DOT picture of the impact: seeds, down and degraded CIs, explanation edges.
std::string ImpactToDot(const Graph& graph, const ImpactResult& result);

}  // namespace cmdb::analysis
