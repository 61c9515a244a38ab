// Identification, the first step of an import (import.hpp): which CI each candidate names.
//
// Candidates are taken parents first (a dependent identity, IDENTIFIED ... WITHIN, needs its
// parent's). Each candidate's attributes are normalized under the schema, and its identity keys
// are built from the IDENTIFIED BY rules of its class (the class KEY last), in rule order. The
// keys are matched first against the candidates identified so far (a match merges the candidate
// into that one: attributes combined, the first value of each wins), then against the committed
// CIs of the rule's class and its subclasses (dependent keys inside their parent); a candidate
// whose existing CI another candidate already named merges into that one too.
// Identification reads only the committed graph: it stages nothing.
// Thread safety: Identify reads `graph` and `schema`, which must not change while it runs (in an
// import, it runs inside the write, under the writer lock).
#pragma once

#include <cstddef>
#include <string>
#include <unordered_map>
#include <vector>

#include "cmdb/graph.hpp"
#include "cmdb/schema.hpp"
#include "importers/candidates.hpp"
#include "importers/import.hpp"

namespace cmdb::importers {

// One CI of the import: the candidates identified as the same CI, merged.
struct IdentifiedCi {
  size_t first = 0;            // index in CandidateSet::cis of its first candidate
  std::string class_name;      // the existing CI's class; else the first candidate's
  AttrMap attrs;               // normalized and merged: the first value of each attribute wins
  CiId existing = 0;           // the committed CI it identifies as; 0: none (a CI to create)
  bool reference_only = true;  // every merged candidate only referenced it
  std::string location;        // the first candidate's
};

// What identification found. Plain values.
struct IdentifiedSet {
  std::vector<IdentifiedCi> cis;  // parents before the CIs that depend on them
  // Per candidate (index in CandidateSet::cis): its index in `cis`; kUnidentified when the
  // candidate was refused.
  std::vector<size_t> slot;
  static constexpr size_t kUnidentified = SIZE_MAX;
  // A candidate ref -> the index in CandidateSet::cis of the first candidate with that ref.
  std::unordered_map<std::string, size_t> by_ref;

  // The identified CI a candidate ref names; nullptr when no candidate has the ref or its
  // candidate was refused. Valid while this set lives unchanged.
  const IdentifiedCi* FindRef(const std::string& ref) const;
};

// Identifies every candidate of `set` against the committed `graph` under `schema`. A candidate
// that cannot be identified (unknown class, attributes the schema refuses, a parent not in the
// source or itself refused) is appended to `report.errors` with its location and left
// unidentified; each candidate merged into another adds one to `report.merged`. Touches nothing
// else of `report`. The result does not refer to `graph`, `schema` or `set`.
IdentifiedSet Identify(const Graph& graph, const Schema& schema, const CandidateSet& set,
                       ImportReport& report);

}  // namespace cmdb::importers
