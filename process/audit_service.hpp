// AuditService: configuration audits — a baseline, or a list of expected CIs and relationships,
// compared with the CMDB now; each audit is kept as a process record (see audit.hpp) written
// through Database::Write as one logged transaction (source "release").
// Thread safety: all methods may be called concurrently. `db` and `baselines` must outlive it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cmdb/database.hpp"
#include "process/audit.hpp"
#include "process/baseline_service.hpp"

namespace cmdb::process {

class AuditService {
 public:
  AuditService(Database& db, const BaselineService& baselines) : db_(db), baselines_(baselines) {}

  // Audits against baseline `name` (kNotFound "no baseline named 'x'" when there is none):
  // its CIs now missing, CIs of its scope new since, attribute and relationship drift.
  Result<AuditReport> AuditBaseline(const std::string& name, const std::string& actor);
  // Audits the expected CIs (identified by their class KEY) and relationships: missing ones,
  // unexpected CIs of the audited classes, attribute drift. An unknown class, a bad attribute
  // or a CI without its KEY fails the audit with a message naming the line.
  Result<AuditReport> AuditExpected(const std::vector<ExpectedCi>& cis,
                                    const std::vector<ExpectedRel>& rels, const std::string& actor);
  // The audit with id `id`, findings included; nullopt when there is none.
  std::optional<AuditReport> Get(int64_t id) const;
  // Every audit in id order, without findings (summaries).
  std::vector<AuditReport> List() const;

 private:
  Result<AuditReport> Save(AuditReport report);

  Database& db_;
  const BaselineService& baselines_;
};

}  // namespace cmdb::process
