// Baselines: the membership of a scope (CIs and the relationships among them) captured at one
// transaction, kept as a process record of kind "baseline". The versions themselves stay in
// the full history, so a baseline costs a tx id and two id lists. Immutable once captured.
// Thread safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cmdb/records.hpp"
#include "process/record_fields.hpp"

namespace cmdb::process {

inline constexpr const char* kBaselineKind = "baseline";

// How a baseline's scope was given: the CIs a read query returns, root CIs and what they reach,
// or every CI.
enum class ScopeKind { kQuery, kRoots, kAll };
const char* ScopeKindName(ScopeKind k);  // "query", "roots", "all"
std::optional<ScopeKind> ParseScopeKind(std::string_view name);

// Which way a roots scope follows relationships from its roots (kNone for other scopes).
enum class ScopeFollow { kNone, kImpacted, kDependsOn };
const char* ScopeFollowName(ScopeFollow f);  // "", "impacted", "depends_on"
std::optional<ScopeFollow> ParseScopeFollow(std::string_view name);

struct Baseline {
  int64_t id = 0;
  std::string name;  // unique
  std::string description;
  // Scope as requested: kQuery (scope_query), kRoots (roots, follow, max_depth, types, classes,
  // redundancy) or kAll.
  ScopeKind scope_kind = ScopeKind::kAll;
  std::string scope_query;
  std::vector<CiId> roots;
  ScopeFollow follow = ScopeFollow::kNone;
  int max_depth = 0;
  std::vector<std::string> types, classes;  // empty: every type with an impact rule, every class
  bool redundancy = true;
  TxId tx = 0;  // captured right after this transaction
  int64_t captured_at = 0;
  std::string created_by;
  int64_t release_id = 0;   // captured automatically for this release (0: by hand)
  std::vector<CiId> cis;    // sorted
  std::vector<RelId> rels;  // sorted
};

// The stored fields of a baseline (see record_fields.hpp). None is editable: baselines are
// immutable; the api renders the scope and the membership in their own shapes.
const FieldTable<Baseline>& BaselineFieldTable();

// The process record of a baseline and back.
DocRecord BaselineToDoc(const Baseline& b);
Baseline BaselineFromDoc(const DocRecord& doc);

}  // namespace cmdb::process
