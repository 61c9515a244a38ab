// Configuration audit records: what an audit compared (a baseline or a list of expected CIs
// and relationships) and what it found, kept as process records of kind "audit".
// Thread safety: plain values and pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cmdb/attr_map.hpp"
#include "cmdb/records.hpp"
#include "process/diff.hpp"
#include "process/record_fields.hpp"

namespace cmdb::process {

inline constexpr const char* kAuditKind = "audit";

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

// What a finding is about.
enum class FindingKind { kMissing, kUnexpected, kAttributeDrift, kRelationshipDrift };
// "missing", "unexpected", "attribute_drift", "relationship_drift"
const char* FindingKindName(FindingKind k);

struct AuditFinding {
  FindingKind kind = FindingKind::kMissing;
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

// The stored fields of an audit (see record_fields.hpp); the counts are stored together as
// "counts" and the findings as tuples. Audits are never edited.
const FieldTable<AuditReport>& AuditFieldTable();

// The process record of an audit and back.
DocRecord AuditToDoc(const AuditReport& a);
AuditReport AuditFromDoc(const DocRecord& doc);

}  // namespace cmdb::process
