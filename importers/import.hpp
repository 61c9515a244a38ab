// RunImport: identification, reconciliation and one transaction for a parsed discovery source.
//
// Identification uses each class's IDENTIFIED BY rules (and its KEY) from the schema: attribute
// sets tried in order against existing CIs of the rule's class and its subclasses, dependent
// ones inside their parent CI; candidates of one import that identify as the same CI are merged.
// Reconciliation: per attribute, a source may not overwrite a value owned by a source of higher
// precedence unless that owner has not confirmed it for longer than `max_age`; refused values
// are reported as conflicts. Every value remembers its owner and when it was last confirmed
// (Provenance). Full-scan mode marks what this source reported before and not now as stale
// (CIs get status 'stale'; relationships a flag); seen again, they come back.
// Everything is applied in one transaction (actor "import:<source>") or, for a dry run, computed
// the same way and discarded: the report is the exact set of changes.
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

struct ImportOptions {
  std::string source;  // the source name (precedence, provenance, actor import:<source>)
  bool dry_run = false;
  bool full_scan = false;  // mark what this source no longer reports as stale
  int64_t max_age_micros = int64_t(30) * 24 * 3600 * 1000000;
  Precedence precedence;
  std::string change_ref;  // recorded in the transaction log
};

struct AttrChange {
  std::string name;
  Value before, after;
};

struct ImportChange {
  std::string op;  // "create", "update", "stale", "resurrect"
  CiId id = 0;     // in a dry run: the id it would get
  std::string class_name, name, location;
  std::vector<AttrChange> attrs;
};

struct ImportConflict {
  CiId id = 0;
  std::string attribute, owner, location;
  Value refused, kept;
};

struct ImportReport {
  bool dry_run = false;
  TxId tx = 0;
  int64_t created = 0, updated = 0, unchanged = 0, stale = 0, resurrected = 0, merged = 0;
  int64_t rels_created = 0, rels_updated = 0, rels_unchanged = 0, rels_stale = 0;
  std::vector<ImportChange> changes;
  std::vector<ImportConflict> conflicts;
  std::vector<SourceError> errors;
};

// Applies (or, dry, evaluates) a candidate set. Candidate errors or any failure return a status
// (errors listed in the report) and apply nothing.
Status RunImport(Database& db, const CandidateSet& set, const ImportOptions& options,
                 ImportReport& report);

}  // namespace cmdb::importers
