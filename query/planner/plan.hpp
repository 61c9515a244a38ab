// The logical plan (stage 3): for every MATCH, the order in which pattern nodes are found and
// relationships expanded, and after which step each WHERE conjunct can be checked (filters are
// pushed into the expansion). EXPLAIN prints it; PROFILE adds rows and time per operator.
#pragma once

#include <string>
#include <vector>

#include "query/binder/bound.hpp"

namespace cmdb::gql {

struct MatchStep {
  enum class Kind {
    kArgument,   // the start node is already bound: check it
    kScan,       // scan a class extent (or every node)
    kKeySeek,    // look the start node up by its class KEY
    kUniqueSeek, // look the start node up by a UNIQUE attribute (`key` names it)
    kExpand,     // follow one relationship
    kVarExpand,  // follow a variable-length relationship (paths)
    kReach,      // reachability: breadth-first with a visited set (no paths kept)
    kShortest,   // shortest paths (BoundPattern::select): breadth-first, level by level
  };
  Kind kind = Kind::kScan;
  int pattern = 0;
  int node = 0;       // the node this step binds (index in the pattern's nodes)
  int rel = -1;       // the relationship followed (expand steps)
  int from_node = -1; // where an expansion starts
  bool reversed = false;  // expanding against the written direction (right to left)
  std::string label;  // scan/seek label ("" = every node)
  std::string key;    // kUniqueSeek: the attribute
  std::vector<const BoundExpr*> filters;  // conjuncts checked right after this step
};

struct MatchPlan {
  std::vector<MatchStep> steps;
  std::vector<const BoundExpr*> remaining;  // conjuncts needing nothing from the pattern
};

struct PartPlan {
  std::vector<MatchPlan> matches;  // one per MATCH clause (and MERGE), in clause order
};

struct LogicalPlan {
  std::vector<PartPlan> parts;
  std::vector<PartPlan> subqueries;  // one per BoundQuery::subqueries entry
};

class GraphAccess;

// Plans every MATCH of a bound query against the current graph's statistics.
LogicalPlan PlanQuery(const BoundQuery& query, const GraphAccess& graph);
// "MATCH 1: KeySeek(s:Server) -> Expand(s)-[:RUNS_ON]->(a) ..." one operator per line.
std::string ExplainPlan(const BoundQuery& query, const LogicalPlan& plan);

}  // namespace cmdb::gql
