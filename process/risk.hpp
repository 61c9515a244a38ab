// The documented risk score of a change assessment (docs/change-management.md):
//   score = (service points + log2(1 + impacted CIs)) x type factor
// where each business service reached adds 1 (low), 2 (medium), 4 (high) or 8 (critical)
// criticality points, halved when the service is only degraded, and the type factor is 0.5 for
// a standard change, 1 for a normal one and 1.5 for an emergency. Levels: below 4 low, below 10
// medium, below 20 high, else very high.
// Thread safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "process/change.hpp"

namespace cmdb::process {

struct ServiceHit {
  std::string criticality;  // "low", "medium", "high", "critical" (other: medium)
  bool degraded = false;
};

struct Risk {
  double score = 0;
  RiskLevel level = RiskLevel::kLow;
  std::string explanation;  // the terms of the sum, for the record
};

Risk ScoreRisk(const std::vector<ServiceHit>& services, size_t impacted_cis, ChangeType type);

}  // namespace cmdb::process
