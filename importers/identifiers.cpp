#include "importers/identifiers.hpp"

#include <cctype>
#include <string_view>

namespace cmdb::importers {
namespace {

std::string Trimmed(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

bool IsPlaceholder(const std::string& s) {
  // Lower case. What BIOSes, hypervisors and fact gatherers print when there is no value.
  static constexpr std::string_view kPlaceholders[] = {"",
                                                       "na",
                                                       "n/a",
                                                       "none",
                                                       "unknown",
                                                       "localhost",
                                                       "localhost.localdomain",
                                                       "not specified",
                                                       "not applicable",
                                                       "default string",
                                                       "to be filled by o.e.m.",
                                                       "system serial number",
                                                       "chassis serial number",
                                                       "not available",
                                                       "not present",
                                                       "none provided",
                                                       "invalid",
                                                       "default",
                                                       "oem",
                                                       "o.e.m.",
                                                       "0123456789",
                                                       "123456789",
                                                       "1234567890"};
  const std::string v = Lower(Trimmed(s));
  for (std::string_view p : kPlaceholders)
    if (v == p) return true;
  // One digit over and over once separators are gone: "0", "0000000000", an all-zero UUID,
  // VMware's "VMware-00 00 ... 00" (a VM without a UUID), "FFFFFFFF".
  std::string digits;
  for (char c : v.rfind("vmware-", 0) == 0 ? v.substr(7) : v)
    if (std::isalnum(static_cast<unsigned char>(c))) digits += c;
  return !digits.empty() && (digits.find_first_not_of('0') == std::string::npos ||
                             (digits.size() >= 8 && digits.find_first_not_of('f') == std::string::npos));
}

MacAddress ReadMac(const std::string& s) {
  MacAddress out;
  const std::string v = Lower(Trimmed(s));
  if (IsPlaceholder(v)) return out;
  std::string hex;
  size_t group = 0;  // digits in the current group
  size_t groups = 1, group_size = 0;
  char sep = 0;
  for (char c : v) {
    if (std::isxdigit(static_cast<unsigned char>(c))) {
      hex += c;
      ++group;
      continue;
    }
    if ((c != ':' && c != '-' && c != '.') || (sep && c != sep) || group == 0 ||
        (group_size && group != group_size)) {
      out.kind = MacAddress::kMalformed;
      return out;
    }
    sep = c;
    group_size = group;
    group = 0;
    ++groups;
  }
  const bool pairs = sep != '.' && groups == 6 && group == 2 && (group_size == 2 || !sep);
  const bool quads = sep == '.' && groups == 3 && group == 4 && group_size == 4;
  if (hex.size() != 12 || !(pairs || quads)) {
    out.kind = MacAddress::kMalformed;
    return out;
  }
  if (hex == "000000000000" || hex == "ffffffffffff") return out;  // none, broadcast
  // Docker's bridge MACs (02:42 and the container's IPv4 address) repeat on every Docker host:
  // they identify no machine.
  if (hex.rfind("0242", 0) == 0) return out;
  // Virtual router MACs a whole group of routers answers with: VRRP (00:00:5e:00:01/02:xx),
  // HSRP (00:00:0c:07:ac:xx, v2 00:00:0c:9f:fx:xx), GLBP (00:07:b4:00:0x:xx).
  for (const char* shared : {"00005e0001", "00005e0002", "00000c07ac", "00000c9ff", "0007b400"})
    if (hex.rfind(shared, 0) == 0) return out;
  out.kind = MacAddress::kUsable;
  for (size_t i = 0; i < 12; i += 2) out.value += (i ? ":" : "") + hex.substr(i, 2);
  return out;
}

}  // namespace cmdb::importers
