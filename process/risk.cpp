#include "process/risk.hpp"

#include <cmath>
#include <cstdio>

namespace cmdb::process {
namespace {

double CriticalityPoints(const std::string& c) {
  if (c == "low") return 1;
  if (c == "high") return 4;
  if (c == "critical") return 8;
  return 2;
}

std::string Fixed(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

}  // namespace

Risk ScoreRisk(const std::vector<ServiceHit>& services, size_t impacted_cis, ChangeType type) {
  double service_points = 0;
  for (const ServiceHit& s : services)
    service_points += CriticalityPoints(s.criticality) * (s.degraded ? 0.5 : 1.0);
  double breadth = std::log2(1.0 + static_cast<double>(impacted_cis));
  double factor = type == ChangeType::kStandard ? 0.5 : type == ChangeType::kEmergency ? 1.5 : 1.0;
  Risk r;
  r.score = std::round((service_points + breadth) * factor * 10.0) / 10.0;
  r.level = r.score < 4    ? RiskLevel::kLow
            : r.score < 10 ? RiskLevel::kMedium
            : r.score < 20 ? RiskLevel::kHigh
                           : RiskLevel::kVeryHigh;
  r.explanation = "(" + Fixed(service_points) + " service points for " +
                  std::to_string(services.size()) + " services + " + Fixed(breadth) + " for " +
                  std::to_string(impacted_cis) + " impacted CIs) x " + Fixed(factor) + " for a " +
                  ChangeTypeName(type) + " change";
  return r;
}

}  // namespace cmdb::process
