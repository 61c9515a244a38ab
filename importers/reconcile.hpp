// Reconciliation, the second step of an import (import.hpp): what the identified CIs and the
// source's relationships change, staged in the import's transaction.
//
// Per attribute, a source may not overwrite a value owned by a source of higher precedence
// unless that owner has not confirmed it for longer than `max_age`; refused values are reported
// as conflicts and the rest of the CI is still reconciled. Every value the source writes or
// confirms is recorded in its Provenance (owner and last confirmation).
// Thread safety: like the Txn the steps stage into (one writer).
#pragma once

#include <cstdint>
#include <unordered_set>
#include <vector>

#include "cmdb/txn.hpp"
#include "importers/candidates.hpp"
#include "importers/identify.hpp"
#include "importers/import.hpp"

namespace cmdb::importers {

// What reconciliation staged, for the relationships and the full-scan step. Plain values.
struct ReconciledSet {
  // Per IdentifiedSet::cis: the CI it is (created or existing); 0 when it was refused.
  std::vector<CiId> ids;
  std::unordered_set<CiId> cis_seen;    // CIs the source reported (reference-only ones are not)
  std::unordered_set<RelId> rels_seen;  // relationships the source reported
};

// The CI name shown in a change of the report ("" when the CI has no string name).
std::string ChangeName(const AttrMap& attrs);

// Stages every CI of `identified` in `txn`. A new CI is created (the source owns every attribute
// it gives: kCreate); an existing one gets the values this source may write (kUpdate, or
// kResurrect for a CI this source had marked stale and reports again, whose status goes back to
// 'live': counted in `resurrected` only, not also in `updated`), conflicts for the values it may not (and for attributes its class lacks, owner
// "schema"), and is counted unchanged when nothing differs. Either way this source's provenance
// is staged (values confirmed at `now`; a value taken over leaves its previous owner's
// provenance). A reference-only CI is only looked up: when it does not exist, that is an error,
// unless the reference is optional (Candidate::optional; ReconcileRels reports it).
// Problems with one CI are appended to `report.errors` with its location (the import then
// fails whole); changes, conflicts and counts are appended to `report`.
ReconciledSet ReconcileCis(Txn& txn, const CandidateSet& set, const IdentifiedSet& identified,
                           const ImportOptions& options, int64_t now, ImportReport& report);

// Stages the source's relationships between the reconciled CIs (created, updated or unchanged:
// each relationship counted once) with this source's provenance (seen at `now`, not stale), and
// adds each to `reconciled.rels_seen`. A relationship naming a ref no candidate has or whose CI
// could not be identified, or one the schema refuses, is appended to `report.errors` with its
// location; one naming a candidate identification refused (IdentifiedSet::kRefused) to
// `report.skipped`; one whose end is an optional reference that found no CI is not created and is
// appended to `report.dangling` (location, and the missing end).
void ReconcileRels(Txn& txn, const CandidateSet& set, const IdentifiedSet& identified,
                   const ImportOptions& options, int64_t now, ReconciledSet& reconciled,
                   ImportReport& report);

}  // namespace cmdb::importers
