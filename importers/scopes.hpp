// Identity scopes the parsers set (docs/importers.md, "Identification"): what an identifier is
// unique within. The default model scopes cloud resources by `account_id` and `region`,
// Kubernetes namespaces and nodes by `cluster`, and host-local IP addresses by `host`
// (IDENTIFIED ... SCOPED BY in schema/30_discovery.gql).
// Thread safety: pure functions.
#pragma once

#include <cctype>
#include <string>
#include <string_view>
#include <vector>

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

// Whether an IP address (IPv4 dotted or IPv6 text) is a loopback one: 127.0.0.0/8, ::1 (also
// written 0:0:0:0:0:0:0:1).
inline bool IsLoopbackAddress(std::string_view a) {
  return a.substr(0, 4) == "127." || a == "::1" || a == "0:0:0:0:0:0:0:1";
}

// Whether an IP address (IPv4 dotted or IPv6 text) is private: only unique within one network
// (a VPC, an account's region): RFC 1918 (10/8, 172.16/12, 192.168/16), shared address space
// (100.64/10), link-local (169.254/16, fe80::/10) and IPv6 unique local (fc00::/7).
inline bool IsPrivateAddress(std::string_view a) {
  if (a.find(':') != std::string_view::npos) {
    if (a.size() < 2) return false;
    char c0 = static_cast<char>(std::tolower(static_cast<unsigned char>(a[0])));
    char c1 = static_cast<char>(std::tolower(static_cast<unsigned char>(a[1])));
    if (c0 == 'f' && (c1 == 'c' || c1 == 'd') && a.size() > 4 && a[4] == ':') return true;
    return IsHostLocalAddress(a) && a != "::1";
  }
  auto octet = [&](size_t n) -> int {  // the n-th octet (0-based), -1 when missing
    size_t pos = 0;
    for (size_t i = 0; i < n; ++i) {
      pos = a.find('.', pos);
      if (pos == std::string_view::npos) return -1;
      ++pos;
    }
    int v = 0, digits = 0;
    for (; pos < a.size() && std::isdigit(static_cast<unsigned char>(a[pos])) && digits < 4;
         ++pos, ++digits)
      v = v * 10 + (a[pos] - '0');
    return digits ? v : -1;
  };
  int o0 = octet(0), o1 = octet(1);
  if (octet(3) < 0) return false;  // not four octets
  return o0 == 10 || (o0 == 172 && o1 >= 16 && o1 <= 31) || (o0 == 192 && o1 == 168) ||
         (o0 == 100 && o1 >= 64 && o1 <= 127) || (o0 == 169 && o1 == 254);
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
  // The region is the zone's dash-separated words up to the first that starts with a digit
  // (from the third on), and that word's digits: "us-east-1a", "us-gov-west-1a", and the Local
  // and Wavelength Zones "us-west-2-lax-1a" and "us-east-1-wl1-bos-wlz-1" (us-west-2,
  // us-east-1). Lower-case letters and digits only; anything else is no zone.
  std::vector<std::string> words;
  size_t start = 0;
  while (start <= zone.size()) {
    size_t end = zone.find('-', start);
    if (end == std::string::npos) end = zone.size();
    words.push_back(zone.substr(start, end - start));
    start = end + 1;
  }
  for (const std::string& w : words) {
    if (w.empty()) return "";
    for (char c : w)
      if (!std::islower(static_cast<unsigned char>(c)) && !std::isdigit(static_cast<unsigned char>(c)))
        return "";
  }
  for (size_t i = 2; i < words.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(words[i][0]))) continue;
    size_t digits = 0;
    while (digits < words[i].size() && std::isdigit(static_cast<unsigned char>(words[i][digits]))) ++digits;
    // A zone has a letter after the region's number ("1a") or more words ("2-lax-1a").
    if (digits == words[i].size() && i + 1 == words.size()) return "";
    std::string region;
    for (size_t j = 0; j < i; ++j) region += words[j] + "-";
    return region + words[i].substr(0, digits);
  }
  return "";
}

}  // namespace cmdb::importers
