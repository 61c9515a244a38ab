// The nmap importer's scaling check: synthetic `nmap -oX` reports of a small and a large number
// of hosts, parsed and imported (identification and reconciliation, applied to an in-memory
// store), and the time per host of the large run against the small one's — a ratio measured in
// one process, never an absolute time.
// Thread safety: single-threaded.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace cmdb::bench {

// An nmap XML report of `hosts` hosts that are up (IPv4 and MAC addresses, a PTR name, two OS
// matches, three open ports and one closed), plus one host that is down per 50.
std::string NmapXml(int64_t hosts);

// Times parse + import of NmapXml(small) and NmapXml(large) on fresh databases built from
// `schema_dir`. Fills `out` with seconds, hosts per second and the per-host ratio; returns false
// when the ratio exceeds `max_ratio` (the import grows faster than its input) or an import fails.
bool NmapScaling(int64_t small, int64_t large, double max_ratio, const std::string& schema_dir,
                 nlohmann::json& out);

}  // namespace cmdb::bench
