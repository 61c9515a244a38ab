// A deterministic generator of a realistic synthetic estate for benchmarks: business services
// -> applications -> instances -> VMs and containers -> hosts -> racks -> datacenters, shared
// database clusters, load balancers, switches, storage arrays, host clusters. About 2.3
// relationships per CI, with hubs (core switches, storage, datacenters) so impact sets range from
// a few CIs to about a fifth of the estate. Same seed, same bytes.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace cmdb::bench {

struct EstateStats {
  int64_t cis = 0;
  int64_t relationships = 0;
  // 20 impact start CIs (names), from leaves to hubs.
  std::vector<std::pair<std::string, std::string>> starts;  // (class, name)
};

// Writes bulk NDJSON for an estate of about `size` CIs to `out`.
EstateStats GenerateEstate(int64_t size, uint64_t seed, std::ostream& out);

}  // namespace cmdb::bench
