// What an nmap run scanned, read from its report (<nmaprun args>, <scaninfo services>): which
// addresses and which ports, so that a full-scan import covers only those (docs/importers.md,
// "Full-scan mode"). Thread safety: plain values; const methods may be called from any thread.
#pragma once

#include <array>
#include <bitset>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace cmdb::importers {

// The targets of an nmap command line: IPv4 addresses, CIDR blocks and octet ranges
// ("10.0.0.1", "10.0.1.0/24", "10.0.0-3.1-254", "192.168.1.*"), IPv6 addresses and blocks, minus
// those --exclude names.
class NmapTargets {
 public:
  // Reads `args` (nmap's argv as its report prints it). nullopt when the targets cannot all be
  // read as addresses (a host name, -iL, -iR, --excludefile, an unreadable form): then which
  // addresses were scanned is not known.
  static std::optional<NmapTargets> FromArgs(const std::string& args);
  // Whether `address` (an IPv4 or IPv6 address) is one of the targets.
  bool Contains(const std::string& address) const;

 private:
  struct V4 {  // each octet: the values it may take
    std::array<std::bitset<256>, 4> octets;
  };
  struct V6 {
    std::array<uint8_t, 16> bytes{};
    int prefix = 128;
  };
  struct Set {
    std::vector<V4> v4;
    std::vector<V6> v6;
    bool Contains(const std::string& address) const;
  };
  static bool Add(const std::string& spec, Set& into);
  Set targets_, excluded_;
};

// The ports a run scanned, per protocol, from its <scaninfo protocol= services="1-1024,8080">.
class NmapPorts {
 public:
  // Adds one <scaninfo>'s services; false when `services` does not read as port ranges.
  bool Add(const std::string& protocol, const std::string& services);
  // Whether `port`/`protocol` was scanned.
  bool Contains(const std::string& protocol, int64_t port) const;
  bool empty() const { return ranges_.empty(); }

 private:
  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> ranges_;
};

}  // namespace cmdb::importers
