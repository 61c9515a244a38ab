// Identification, the first step of an import (import.hpp): which CI each candidate names.
//
// Candidates are taken parents first (a dependent identity, IDENTIFIED ... WITHIN, needs its
// parent's); at each depth those in service before retired ones, those with a strong identifier
// before those without (which then meet every CI of the source their weak keys find, whatever
// its order), and the one a contested name is kept for first. Each candidate's attributes are
// normalized under the schema, and its identity keys are built from the IDENTIFIED BY rules of
// its class (the class KEY last, as a weak rule). A key is looked up among the CIs identified so far in this import and the committed CIs of the
// rule's class and its subclasses (dependent keys inside their parent), keeping only those whose
// SCOPED BY values do not differ from the candidate's:
//  1. strong rules (STRONG): the CIs any of them finds. One that no other strong identifier
//     contradicts (a strong rule whose values both have and that differ) is the candidate's CI;
//  2. otherwise the weak rules, in order: the first that finds any CI decides. One CI that no
//     strong identifier contradicts is the candidate's CI. When a weak key finds CIs in service
//     and CIs whose status is retired or disposed, only those in service count;
//  3. anything else is ambiguous: an IdentityConflict. Every CI found contradicted: the class's
//     ON CONFLICT policy creates a CI or refuses the candidate; several CIs not contradicted:
//     refused (a CI created for it would be one more match for the next import).
// A candidate found to be a CI another candidate already names merges into it (attributes
// combined, the first value of each wins; an ImportMerge says why). A CI that is created, or
// updated, with a KEY value another CI holds gets its name qualified by the identifier that tells
// them apart: "web (i-0abc)" (see QualifiedName). Which of several new CIs wanting one name no
// committed CI holds keeps it does not depend on the order of the source: the one whose strong
// identifiers' values (in rule order; none first) come first in text order. When the source's
// order gave the name to another, identification runs a second time from the start with the
// name kept for that one, identified first among its depth (the first run's report entries are
// dropped): the report does not depend on the order either.
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
  // candidate could not be identified (an error), kRefused when its class's ON CONFLICT REFUSE
  // policy (or a refused parent) left it out.
  std::vector<size_t> slot;
  static constexpr size_t kUnidentified = SIZE_MAX;
  static constexpr size_t kRefused = SIZE_MAX - 1;
  // A candidate ref -> the index in CandidateSet::cis of the first candidate with that ref.
  std::unordered_map<std::string, size_t> by_ref;

  // The identified CI a candidate ref names; nullptr when no candidate has the ref or its
  // candidate was not identified or refused. Valid while this set lives unchanged.
  const IdentifiedCi* FindRef(const std::string& ref) const;
};

// `name` qualified by `qualifier`: "name (qualifier)". What a CI gets when its class KEY is its
// name and another CI, known to be a different one, holds that name.
std::string QualifiedName(const std::string& name, const std::string& qualifier);

// Identifies every candidate of `set` against the committed `graph` under `schema`. A candidate
// that cannot be identified (unknown class, attributes the schema refuses, a parent not in the
// source or not identified) is appended to `report.errors` with its location and left
// unidentified; each candidate merged into another adds one to `report.merged` and an entry to
// `report.merges`; each ambiguous one an entry to `report.identity_conflicts`; a refused one (and
// a candidate whose parent was refused) one to `report.skipped`. Touches nothing else of
// `report`. The result does not refer to `graph`, `schema` or `set`.
IdentifiedSet Identify(const Graph& graph, const Schema& schema, const CandidateSet& set,
                       ImportReport& report);

}  // namespace cmdb::importers
