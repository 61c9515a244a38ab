// Identity scopes the parsers set (docs/importers.md, "Identification"): what an identifier is
// unique within. The default model scopes cloud resources by `account_id` and `region`,
// Kubernetes namespaces and nodes by `cluster`, and host-local IP addresses by `host`
// (IDENTIFIED ... SCOPED BY in schema/30_discovery.gql).
// Thread safety: pure functions.
#pragma once

#include <cctype>
#include <string>
#include <string_view>

namespace cmdb::importers {

// Whether an IP address (IPv4 dotted or IPv6 text) only means something on its own host:
// loopback (127.0.0.0/8, ::1), link-local (169.254.0.0/16, fe80::/10), and the default docker0
// (172.17.0.0/16) and libvirt virbr0 (192.168.122.0/24) bridges every such host has.
inline bool IsHostLocalAddress(std::string_view a) {
  auto starts = [&](std::string_view p) { return a.substr(0, p.size()) == p; };
  if (a.find(':') != std::string_view::npos) {
    std::string low;
    for (char c : a) low += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return low == "::1" || low.rfind("fe8", 0) == 0 || low.rfind("fe9", 0) == 0 ||
           low.rfind("fea", 0) == 0 || low.rfind("feb", 0) == 0;
  }
  return starts("127.") || starts("169.254.") || starts("172.17.") || starts("192.168.122.");
}

// The name of a host-local address of `host`: "address%host" (like an IPv6 zone).
inline std::string HostLocalName(const std::string& address, const std::string& host) {
  return address + "%" + host;
}

// The account and region an ARN names (arn:partition:service:region:account:resource); empty
// parts when it has none (global services) or is not an ARN.
struct CloudScope {
  std::string account_id, region;
};
inline CloudScope ScopeOfArn(std::string_view arn) {
  CloudScope out;
  if (arn.substr(0, 4) != "arn:") return out;
  size_t p1 = arn.find(':', 4), p2 = p1 == arn.npos ? arn.npos : arn.find(':', p1 + 1);
  size_t p3 = p2 == arn.npos ? arn.npos : arn.find(':', p2 + 1);
  size_t p4 = p3 == arn.npos ? arn.npos : arn.find(':', p3 + 1);
  if (p4 == arn.npos) return out;
  out.region = std::string(arn.substr(p2 + 1, p3 - p2 - 1));
  out.account_id = std::string(arn.substr(p3 + 1, p4 - p3 - 1));
  return out;
}

// The AWS region of an availability zone ("us-east-1a" -> "us-east-1"); "" for anything else.
inline std::string RegionOfZone(const std::string& zone) {
  if (zone.size() < 2 || !std::isalpha(static_cast<unsigned char>(zone.back())) ||
      !std::isdigit(static_cast<unsigned char>(zone[zone.size() - 2])))
    return "";
  return zone.substr(0, zone.size() - 1);
}

}  // namespace cmdb::importers
