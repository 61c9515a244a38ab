#include "importers/nmap_targets.hpp"

#include <arpa/inet.h>

#include <set>
#include <sstream>

namespace cmdb::importers {
namespace {

// nmap's options that take the next word as their argument (so it is not a target).
const std::set<std::string>& OptionsWithArgument() {
  static const std::set<std::string> kOptions = {
      "-p", "-oX", "-oN", "-oG", "-oA", "-oS", "-oM", "-e", "-S", "-D", "-g", "-b", "-sI",
      "--top-ports", "--port-ratio", "--exclude-ports", "--source-port", "--data-length",
      "--data", "--data-string", "--ttl", "--max-retries", "--host-timeout", "--scan-delay",
      "--max-scan-delay", "--max-rate", "--min-rate", "--min-hostgroup", "--max-hostgroup",
      "--min-parallelism", "--max-parallelism", "--min-rtt-timeout", "--max-rtt-timeout",
      "--initial-rtt-timeout", "--script", "--script-args", "--script-args-file",
      "--script-timeout", "--version-intensity", "--max-os-tries", "--datadir", "--dns-servers",
      "--stylesheet", "--resume", "--proxies", "--spoof-mac", "--mtu", "--servicedb",
      "--versiondb", "--send-eth", "--stats-every", "--exclude"};
  return kOptions;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string part;
  std::istringstream in(s);
  while (std::getline(in, part, sep)) out.push_back(part);
  return out;
}

bool Number(const std::string& s, int64_t max, int64_t& out) {
  if (s.empty() || s.size() > 5 || s.find_first_not_of("0123456789") != std::string::npos)
    return false;
  out = std::stoll(s);
  return out <= max;
}

}  // namespace

bool NmapTargets::Add(const std::string& spec, Set& into) {
  if (spec.find(':') != std::string::npos) {  // IPv6, with an optional /prefix
    V6 v;
    std::string addr = spec;
    if (size_t slash = spec.find('/'); slash != std::string::npos) {
      int64_t bits = 0;
      if (!Number(spec.substr(slash + 1), 128, bits)) return false;
      v.prefix = static_cast<int>(bits);
      addr = spec.substr(0, slash);
    }
    if (inet_pton(AF_INET6, addr.c_str(), v.bytes.data()) != 1) return false;
    into.v6.push_back(v);
    return true;
  }
  V4 v;
  std::string body = spec;
  int64_t bits = 32;
  if (size_t slash = spec.find('/'); slash != std::string::npos) {
    if (!Number(spec.substr(slash + 1), 32, bits)) return false;
    body = spec.substr(0, slash);
  }
  std::vector<std::string> octets = Split(body, '.');
  if (octets.size() != 4) return false;
  for (int i = 0; i < 4; ++i) {
    for (const std::string& item : Split(octets[i], ',')) {
      if (item == "*") {
        v.octets[i].set();
        continue;
      }
      size_t dash = item.find('-');
      int64_t lo = 0, hi = 255;
      if (dash == std::string::npos) {
        if (!Number(item, 255, lo)) return false;
        hi = lo;
      } else if ((dash > 0 && !Number(item.substr(0, dash), 255, lo)) ||
                 (dash + 1 < item.size() && !Number(item.substr(dash + 1), 255, hi)) || lo > hi) {
        return false;
      }
      for (int64_t o = lo; o <= hi; ++o) v.octets[i].set(static_cast<size_t>(o));
    }
    if (v.octets[i].none()) return false;
  }
  if (bits < 32) {  // a CIDR block: the base's single address widened by the prefix
    for (int i = 0; i < 4; ++i)
      if (v.octets[i].count() != 1) return false;  // 10.0.0-3.0/24: not a form nmap takes
    uint32_t base = 0;
    for (int i = 0; i < 4; ++i) {
      size_t o = 0;
      while (!v.octets[i].test(o)) ++o;
      base = (base << 8) | static_cast<uint32_t>(o);
    }
    uint32_t mask = bits == 0 ? 0 : ~uint32_t(0) << (32 - bits);
    uint32_t lo = base & mask, hi = lo | ~mask;
    for (int i = 0; i < 4; ++i) {
      int shift = 24 - 8 * i;
      v.octets[i].reset();
      for (uint32_t o = (lo >> shift) & 255; o <= ((hi >> shift) & 255); ++o) v.octets[i].set(o);
    }
  }
  into.v4.push_back(v);
  return true;
}

std::optional<NmapTargets> NmapTargets::FromArgs(const std::string& args) {
  NmapTargets t;
  std::vector<std::string> words;
  for (const std::string& w : Split(args, ' '))
    if (!w.empty()) words.push_back(w);
  bool any = false;
  for (size_t i = 1; i < words.size(); ++i) {  // words[0] is the program
    const std::string& w = words[i];
    if (w == "-iL" || w == "-iR" || w == "--excludefile" || w.rfind("--excludefile=", 0) == 0)
      return std::nullopt;
    if (w == "--exclude" || w.rfind("--exclude=", 0) == 0) {  // both forms nmap takes
      std::string list = w.size() > 9 ? w.substr(10) : "";
      if (list.empty()) {
        if (i + 1 >= words.size()) return std::nullopt;
        list = words[++i];
      }
      for (const std::string& e : Split(list, ','))
        if (!Add(e, t.excluded_)) return std::nullopt;
      continue;
    }
    if (!w.empty() && w[0] == '-') {  // an option; --name=value is one word
      if (OptionsWithArgument().count(w)) ++i;
      continue;
    }
    if (!Add(w, t.targets_)) return std::nullopt;  // a host name: which addresses is not known
    any = true;
  }
  if (!any) return std::nullopt;
  return t;
}

bool NmapTargets::Set::Contains(const std::string& address) const {
  if (address.find(':') != std::string::npos) {
    std::array<uint8_t, 16> a{};
    if (inet_pton(AF_INET6, address.c_str(), a.data()) != 1) return false;
    for (const V6& v : v6) {
      bool match = true;
      for (int bit = 0; bit < v.prefix && match; ++bit) {
        int byte = bit / 8, shift = 7 - bit % 8;
        match = ((a[byte] >> shift) & 1) == ((v.bytes[byte] >> shift) & 1);
      }
      if (match) return true;
    }
    return false;
  }
  std::array<uint8_t, 4> a{};
  if (inet_pton(AF_INET, address.c_str(), a.data()) != 1) return false;
  for (const V4& v : v4) {
    bool match = true;
    for (int i = 0; i < 4 && match; ++i) match = v.octets[i].test(a[i]);
    if (match) return true;
  }
  return false;
}

bool NmapTargets::Contains(const std::string& address) const {
  return targets_.Contains(address) && !excluded_.Contains(address);
}

bool NmapPorts::Add(const std::string& protocol, const std::string& services) {
  std::vector<std::pair<int64_t, int64_t>> ranges;
  for (const std::string& item : Split(services, ',')) {
    size_t dash = item.find('-');
    int64_t lo = 0, hi = 0;
    if (dash == std::string::npos) {
      if (!Number(item, 65535, lo)) return false;
      hi = lo;
    } else if (!Number(item.substr(0, dash), 65535, lo) ||
               !Number(item.substr(dash + 1), 65535, hi) || lo > hi) {
      return false;
    }
    ranges.emplace_back(lo, hi);
  }
  auto& into = ranges_[protocol];
  into.insert(into.end(), ranges.begin(), ranges.end());
  return true;
}

bool NmapPorts::Contains(const std::string& protocol, int64_t port) const {
  auto it = ranges_.find(protocol);
  if (it == ranges_.end()) return false;
  for (const auto& [lo, hi] : it->second)
    if (port >= lo && port <= hi) return true;
  return false;
}

}  // namespace cmdb::importers
