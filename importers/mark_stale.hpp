// Full-scan staleness, the last step of a full-scan import (import.hpp): what the source reported
// before and does not report now is marked stale, never deleted.
// Thread safety: like the Txn it stages into (one writer).
#pragma once

#include <string>

#include "cmdb/status.hpp"
#include "cmdb/txn.hpp"
#include "importers/import.hpp"
#include "importers/reconcile.hpp"

namespace cmdb::importers {

// What a coverage entry covers, in words, for the report: "those with account_id
// '111111111111', region 'eu-west-1'"; its `text` when it has one.
ImportReport::Covered Describe(const Coverage& c);

// Stages, for every CI and relationship whose committed provenance of `source` is not stale,
// that is not in `reconciled` (cis_seen, rels_seen) and that `set` could have contained (a CI
// one of set.covers describes, class compared by identification scope: a DiscoveredHost is
// covered by VirtualMachine, and an entry also covers the classes its class's identification is
// SHARED WITH (nmap's DiscoveredHost entry, a PhysicalServer it found by MAC); with no covers, a CI of the scope of a candidate's class that is
// not reference-only; a relationship whose reporting end, its content for CONTAINS and its from
// end otherwise, is such a CI, whose other end is such a CI too unless no entry of set.covers is of
// its scope, and both of whose ends are of the scope of a class some candidate names), a stale
// mark: a CI still present whose status is 'live' or absent, and that no other
// source's provenance (not stale) still reports, gets status 'stale' (a new version, reported as
// ImportOp::kStale) and is counted in `report.stale`; a relationship still present is counted in
// `report.rels_stale`; either way the provenance is staged as stale. Taken in (relationship, id)
// order. A covered CI reached through `via` is looked up in the committed graph (txn.graph()).
// An error staging a status is returned unchanged (the import then fails whole). Each entry of
// set.covers (or of the classes used in its place) is described in `report.coverage`.
Status MarkStale(Txn& txn, const std::string& source, const CandidateSet& set,
                 const ReconciledSet& reconciled, ImportReport& report);

}  // namespace cmdb::importers
