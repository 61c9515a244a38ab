// ReleaseService: release and deployment management over the CMDB — named baselines and their
// diffs, baseline queries (the resolver behind USE BASELINE), release records with an automatic
// pre-deployment baseline and a recorded verification diff, and configuration audits.
//
// Records are process records written through Database::Write (logged, hash-chained, all or
// nothing). A baseline is captured inside one write, so its membership is exactly the state
// after the transaction it names even while other writes continue.
// Thread safety: all methods may be called concurrently. The referenced objects must outlive it.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cmdb/database.hpp"
#include "process/baseline.hpp"
#include "process/change_service.hpp"
#include "process/diff.hpp"
#include "process/release.hpp"
#include "query/engine.hpp"

namespace cmdb::process {

// What to capture.
struct BaselineSpec {
  std::string name, description;
  std::string scope_kind;  // "query", "roots" or "all"
  std::string query;
  std::vector<CiId> roots;
  bool follow_impacted = true;  // "impacted"; false: "depends_on"
  int max_depth = 6;
  // The other impact options of a roots scope (analysis/impact_options.hpp).
  std::vector<std::string> types, classes;
  bool redundancy = true;
};

// What to compare a baseline with.
struct DiffTarget {
  enum Kind { kCurrent, kBaseline, kAsOf } kind = kCurrent;
  std::string baseline;  // kBaseline
  int64_t as_of = 0;     // kAsOf: micros
  bool include_new =
      false;  // kCurrent: also CIs the scope selects now that did not exist at capture
};

// One difference. For CIs `from`/`to`/`type` are unset; for relationships `class_name` is.
struct DiffEntry {
  std::string what;    // "ci" or "relationship"
  std::string change;  // "added", "removed", "changed"
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

// A CI as a configuration audit expects it: identified by its class KEY.
struct ExpectedCi {
  std::string class_name;
  AttrMap attrs;
  int64_t line = 0;  // where it came from, for the report
};
struct ExpectedRel {
  std::string type;
  ExpectedCi from, to;  // identified like ExpectedCi (attrs hold the key)
  int64_t line = 0;
};

inline constexpr const char* kAuditKind = "audit";

struct AuditFinding {
  std::string kind;  // "missing", "unexpected", "attribute_drift", "relationship_drift"
  CiId ci = 0;
  std::string description;
  std::vector<AttrDiff> attrs;  // attribute drift: expected (before) and actual (after)
};

struct AuditReport {
  int64_t id = 0;
  std::string source;  // "baseline:<name>" or "expected"
  int64_t time = 0;
  std::string actor;
  TxId tx = 0;
  int64_t checked = 0;  // CIs compared
  int64_t missing = 0, unexpected = 0, attribute_drift = 0, relationship_drift = 0;
  std::vector<AuditFinding> findings;
};

class ReleaseService {
 public:
  ReleaseService(Database& db, gql::QueryEngine& engine, ChangeService& changes)
      : db_(db), engine_(engine), changes_(changes) {}

  Result<Baseline> CaptureBaseline(const BaselineSpec& spec, const std::string& actor,
                                   int64_t release_id = 0);
  std::optional<Baseline> GetBaseline(const std::string& name) const;
  std::vector<Baseline> ListBaselines() const;
  // Needs the admin role (checked by the caller); logged as a transaction.
  Status DeleteBaseline(const std::string& name, const std::string& actor);
  // The captured versions of a page of the baseline's CIs and relationships.
  Status BaselineContents(const Baseline& b, size_t offset, size_t limit,
                          std::vector<CiRecord>& cis, std::vector<RelRecord>& rels) const;
  Result<BaselineDiff> Diff(const Baseline& a, const DiffTarget& target) const;
  // The resolver for USE BASELINE.
  gql::BaselineResolver Resolver() const;

  Result<ReleaseRecord> CreateRelease(ReleaseRecord fields, const std::string& actor);
  std::optional<ReleaseRecord> GetRelease(int64_t id) const;
  std::vector<ReleaseRecord> ListReleases(std::optional<ReleaseState> state) const;
  // Edits name, version, description, type, changes, CIs, criteria and results (before
  // deploying); a comment goes to the journal.
  Result<ReleaseRecord> UpdateRelease(int64_t id, const ReleaseRecord& fields,
                                      const std::string& comment,
                                      std::optional<int64_t> expected_version,
                                      const std::string& actor);
  Result<ReleaseRecord> TransitionRelease(int64_t id, ReleaseState to, const std::string& comment,
                                          const std::string& actor);

  Result<AuditReport> AuditBaseline(const std::string& baseline, const std::string& actor);
  Result<AuditReport> AuditExpected(const std::vector<ExpectedCi>& cis,
                                    const std::vector<ExpectedRel>& rels, const std::string& actor);
  std::optional<AuditReport> GetAudit(int64_t id) const;
  std::vector<AuditReport> ListAudits() const;

 private:
  Result<std::vector<CiId>> ScopeCis(const BaselineSpec& spec) const;
  // Saves a release version; `before` (optional) stages more in the same transaction first.
  Result<ReleaseRecord> SaveRelease(
      ReleaseRecord r, int64_t expected_version, const std::string& actor,
      const std::string& message,
      const std::function<Status(Txn&, ReleaseRecord&)>& before = nullptr);
  // Stages a baseline capture in `txn` (see CaptureBaseline).
  Status CaptureIn(Txn& txn, const BaselineSpec& spec, const std::string& actor, int64_t release_id,
                   Baseline& out) const;
  Result<AuditReport> SaveAudit(AuditReport report);

  Database& db_;
  gql::QueryEngine& engine_;
  ChangeService& changes_;
};

}  // namespace cmdb::process
