// RunImport: a parsed discovery source applied in steps, in one transaction.
//
// 1. Identify (identify.hpp): each candidate is matched to the CI it names, using each class's
//    IDENTIFIED BY rules (and its KEY) from the schema: strong identifiers first, then weak ones
//    that no strong one contradicts, against existing CIs of the rule's class and its subclasses
//    in the same scope (dependent ones inside their parent CI); ambiguity is reported and
//    decided by the class's ON CONFLICT policy; candidates of one import that identify as the
//    same CI are merged (each merge reported with its reason).
// 2. Reconcile (reconcile.hpp): per attribute, a source may not overwrite a value owned by a
//    source of higher precedence unless that owner has not confirmed it for longer than
//    `max_age`; refused values are reported as conflicts. Every value remembers its owner and
//    when it was last confirmed (Provenance). Then the source's relationships.
// 3. Mark stale (mark_stale.hpp), in full-scan mode: what this source reported before and not
//    now is marked stale (CIs get status 'stale'; relationships a flag); seen again, they come
//    back (step 2).
// The steps run in order inside one write; steps 2 and 3 stage into its Txn, committed as one
// transaction (actor "import:<source>") by Database::Write or, for a dry run, validated and
// discarded by Database::DryRunWrite: the same steps and the same checks, so the report is the
// exact set of changes an apply makes.
// Thread safety: like Database::Write.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "cmdb/database.hpp"
#include "importers/candidates.hpp"

namespace cmdb::importers {

// Source precedence: earlier sources win. Per-attribute lists ("Class.attr" or "attr") override
// the default order; sources not listed rank after every listed one.
struct Precedence {
  std::vector<std::string> order;
  std::map<std::string, std::vector<std::string>> per_attribute;
  // Lower is stronger.
  size_t Rank(const std::string& cls, const std::string& attr, const std::string& source) const;
};

// How to run one import. Plain values.
struct ImportOptions {
  std::string source;      // the source name (precedence, provenance, actor import:<source>)
  bool dry_run = false;    // Database::DryRunWrite instead of Database::Write
  bool full_scan = false;  // mark what this source no longer reports as stale
  int64_t max_age_micros = int64_t(30) * 24 * 3600 * 1000000;
  Precedence precedence;
  std::string change_ref;  // recorded in the transaction log
  // Run every step even when the source or an earlier step has record errors, so that every
  // refused record is reported (the ndjson import reports every refused line, as POST /v1/bulk
  // does); the import is refused all the same. Off: the first step that finds errors ends it.
  bool every_error = false;
  // A UNIQUE value another CI holds refuses the record, as POST /v1/bulk does (the ndjson
  // import). Off (discovery formats): the value is left out of the CI identification made, and
  // the clash is reported in identity_conflicts (reason "unique").
  bool unique_refuses = false;
};

// One attribute of a change: its value before and after (null: absent). Plain values.
struct AttrChange {
  std::string name;
  Value before, after;
};

// What an import does to one CI. Its text ("create", ...) belongs to the report's edge (api/).
enum class ImportOp {
  kCreate,     // a new CI
  kUpdate,     // an existing CI's attributes changed
  kStale,      // full scan: no longer reported, status set to 'stale'
  kResurrect,  // reported again after being marked stale (status back to 'live')
};

// A CI the import creates or changes (a new version), with where in the source it came from
// ("" for a stale mark). Plain values.
struct ImportChange {
  ImportOp op = ImportOp::kCreate;
  CiId id = 0;  // in a dry run: the id it would get
  std::string class_name, name, location;
  std::vector<AttrChange> attrs;
};

// A value the source gave but may not write: `owner` (a source of higher precedence, "schema"
// for an attribute the CI's class lacks, or "key" for a name another CI holds as its KEY, which
// nothing qualifies: identify.hpp) keeps `kept`. Plain values.
struct ImportConflict {
  CiId id = 0;
  std::string attribute, owner, location;
  Value refused, kept;
};

// A candidate identified as a CI another candidate of the same import already names: what was
// merged into what, and why (the rule whose values matched). Plain values.
struct ImportMerge {
  std::string location;       // the merged candidate's
  std::string into_location;  // the first candidate of the CI it merged into
  CiId into_id = 0;           // that CI when it already exists; 0: a CI this import creates
  std::string class_name, name;
  std::string rule;   // "cloud_id", "hostname, domain", or "ref" (the same source reference)
  std::string value;  // the matching values, as the rule lists them
  bool strong = false;  // the rule is a strong identifier
};

// One CI an ambiguous candidate matched: an existing CI (`id`) or one this import makes (`id` 0,
// named by its first candidate's `location`), with the strong identifier that tells them apart
// (`attribute` "" when none does: several candidates matched). Plain values.
struct IdentityMatch {
  CiId id = 0;
  std::string location;
  std::string attribute;
  Value theirs, ours;
};

// A candidate whose identity was ambiguous (IDENTIFIED BY ... ON CONFLICT): a weak match that
// strong identifiers contradict ("contradicted"), or several CIs matching ("several"). `policy`
// says what was done: kCreate made it a CI of its own, kRefuse left it out (and what depends on
// it, listed in ImportReport::skipped); "several" is always refused, "contradicted" as the
// class's ON CONFLICT says. Plain values.
struct IdentityConflict {
  std::string location, class_name, name;
  std::string reason;  // "contradicted" or "several"
  std::string rule;    // the rule that matched ("name", "serial_number", ...)
  std::string value;   // its values
  std::vector<IdentityMatch> matches;
  IdentifyConflict policy = IdentifyConflict::kCreate;
};

// What an import did (or, dry, would do): counts, changes in staging order, conflicts, and the
// record errors that refused it. Plain values.
struct ImportReport {
  bool dry_run = false;
  TxId tx = 0;
  int64_t created = 0, updated = 0, unchanged = 0, stale = 0, resurrected = 0, merged = 0;
  int64_t rels_created = 0, rels_updated = 0, rels_unchanged = 0, rels_stale = 0;
  std::vector<ImportChange> changes;
  std::vector<ImportConflict> conflicts;
  std::vector<ImportMerge> merges;  // one per merged candidate (merged == merges.size())
  std::vector<IdentityConflict> identity_conflicts;
  // Records left out by the import's steps (a candidate its class's ON CONFLICT REFUSE policy
  // refused, the candidates and relationships that depend on it), each with why.
  std::vector<SourceError> skipped;
  std::vector<SourceError> errors;
  // Relationships not created because one end is outside the source and not in the CMDB (an
  // optional reference that found no CI, CandidateSet::dangling): where, and which end.
  std::vector<SourceError> dangling;
  // A full scan's coverage (mark_stale.hpp): per entry, the class and what of it the source
  // could have contained, in words; `covers` false when nothing (`scope` then says why).
  struct Covered {
    std::string class_name;
    std::string scope;
    bool covers = true;
  };
  std::vector<Covered> coverage;
};

// Applies (or, with options.dry_run, evaluates and discards) a candidate set: the steps above,
// in order, inside Database::Write or Database::DryRunWrite. `report` is reset and filled; for an
// apply, report.tx is the transaction (0 when nothing changed), for a dry run always 0. Record
// errors of the source, or of any step, return an invalid-argument status naming the first one
// (all are listed in report.errors, in the order the steps found them; with every_error, those of
// every step); other errors of the write (the write policy, the store) are returned unchanged. A
// dry run returns the same status an apply of the same set on the same state would. On any error
// nothing is applied.
Status RunImport(Database& db, const CandidateSet& set, const ImportOptions& options,
                 ImportReport& report);

}  // namespace cmdb::importers
