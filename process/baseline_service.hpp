// BaselineService: named baselines over the CMDB — capture (one transaction pins the scope's
// membership), contents at capture time, diffs against now, another baseline or a past time,
// and the resolver behind USE BASELINE in queries.
//
// Baselines are process records written through Database::Write (logged, hash-chained, all or
// nothing). A baseline is captured inside one write, so its membership is exactly the state
// after the transaction it names even while other writes continue. Baselines are immutable;
// deleting one retires its record (it stays in the history).
// Thread safety: all methods may be called concurrently. `db` and `engine` must outlive it; the
// resolver it hands out refers to it, so it must outlive the resolver too.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cmdb/database.hpp"
#include "process/baseline.hpp"
#include "process/diff.hpp"
#include "query/engine.hpp"

namespace cmdb::process {

// What to capture.
struct BaselineSpec {
  std::string name, description;
  ScopeKind scope_kind = ScopeKind::kAll;
  std::string query;            // kQuery: a read query; the nodes it returns are the scope
  std::vector<CiId> roots;      // kRoots: the roots ...
  bool follow_impacted = true;  // ... following what they impact (false: what they depend on)
  int max_depth = 6;            // ... up to this depth
  // ... and the other impact options of a roots scope (analysis/impact_options.hpp).
  std::vector<std::string> types, classes;
  bool redundancy = true;
};

// What to compare a baseline with.
struct DiffTarget {
  enum Kind { kCurrent, kBaseline, kAsOf } kind = kCurrent;
  std::string baseline;  // kBaseline
  int64_t as_of = 0;     // kAsOf: micros
  // kCurrent: also CIs the scope selects now that did not exist at capture.
  bool include_new = false;
};

// What a diff entry is about, and how it differs.
enum class DiffSubject { kCi, kRelationship };
enum class DiffChange { kAdded, kRemoved, kChanged };
const char* DiffSubjectName(DiffSubject s);  // "ci", "relationship"
const char* DiffChangeName(DiffChange c);    // "added", "removed", "changed"

// One difference. For CIs `from`/`to`/`type` are unset; for relationships `class_name` is.
struct DiffEntry {
  DiffSubject what = DiffSubject::kCi;
  DiffChange change = DiffChange::kChanged;
  int64_t id = 0;
  std::string class_name, name;  // CIs
  std::string type;              // relationships
  CiId from = 0, to = 0;
  std::vector<AttrDiff> attrs;  // changed: old and new values
};

struct DiffCounts {
  int64_t cis_added = 0, cis_removed = 0, cis_changed = 0;
  int64_t rels_added = 0, rels_removed = 0, rels_changed = 0;
};

struct BaselineDiff {
  TxId from_tx = 0, to_tx = 0;
  DiffCounts counts;
  std::vector<DiffEntry> entries;  // CIs by id, then relationships by id
};

class BaselineService {
 public:
  BaselineService(Database& db, gql::QueryEngine& engine) : db_(db), engine_(engine) {}

  // Captures a baseline of `spec`'s scope as one transaction (source "release"). kConflict when
  // the name is taken; the scope's errors (a failing query, a missing root) as they are.
  // `release_id` names the release it is captured for (0: by hand).
  Result<Baseline> Capture(const BaselineSpec& spec, const std::string& actor,
                           int64_t release_id = 0);
  // Stages a capture in `txn` (the caller's write), filling `out`; what Capture does inside.
  Status CaptureIn(Txn& txn, const BaselineSpec& spec, const std::string& actor, int64_t release_id,
                   Baseline& out) const;
  // The baseline named `name`; nullopt when there is none.
  std::optional<Baseline> Get(const std::string& name) const;
  // Every baseline in id order.
  std::vector<Baseline> List() const;
  // Retires a baseline (kNotFound "no baseline named 'x'"). Needs the admin role (checked by
  // the caller); logged as a transaction.
  Status Delete(const std::string& name, const std::string& actor);
  // Appends to `cis` and `rels` the captured versions of one page (`offset`, `limit`) across
  // the baseline's CIs, then its relationships.
  Status Contents(const Baseline& b, size_t offset, size_t limit, std::vector<CiRecord>& cis,
                  std::vector<RelRecord>& rels) const;
  // The differences between `a` and `target`, CIs then relationships, each by id.
  Result<BaselineDiff> Diff(const Baseline& a, const DiffTarget& target) const;
  // The resolver for USE BASELINE (refers to this service).
  gql::BaselineResolver Resolver() const;

 private:
  // The CIs of a scope now, ascending.
  Result<std::vector<CiId>> ScopeCis(const BaselineSpec& spec) const;

  Database& db_;
  gql::QueryEngine& engine_;
};

}  // namespace cmdb::process
