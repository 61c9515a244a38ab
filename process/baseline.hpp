// Baselines: the membership of a scope (CIs and the relationships among them) captured at one
// transaction, kept as a process record of kind "baseline". The versions themselves stay in
// the full history, so a baseline costs a tx id and two id lists. Immutable once captured.
// Thread safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cmdb/records.hpp"

namespace cmdb::process {

inline constexpr const char* kBaselineKind = "baseline";

struct Baseline {
  int64_t id = 0;
  std::string name;  // unique
  std::string description;
  // Scope as requested: "query" (scope_query), "roots" (roots, follow, max_depth, types,
  // classes, redundancy) or "all".
  std::string scope_kind;
  std::string scope_query;
  std::vector<CiId> roots;
  std::string follow;  // "impacted" or "depends_on"
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

DocRecord BaselineToDoc(const Baseline& b);
Baseline BaselineFromDoc(const DocRecord& doc);

}  // namespace cmdb::process
