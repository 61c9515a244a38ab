// Identifier values as the parsers read them: MAC addresses in one form, and the placeholder
// values (a serial of "Default string", a MAC of all ones) that identify nothing and so are never
// strong identifiers (docs/importers.md, "Identification").
// Thread safety: pure functions.
#pragma once

#include <string>

namespace cmdb::importers {

// What a MAC address given by a source is: usable (`value` is its normal form), a placeholder
// that identifies nothing (empty, "unknown", all zeros, all ones, Docker's bridge MACs
// 02:42:..., which repeat on every Docker host, and the virtual router MACs of VRRP, HSRP and
// GLBP, which a group of routers shares), or malformed ("zz:zz").
struct MacAddress {
  enum Kind { kUsable, kPlaceholder, kMalformed };
  Kind kind = kPlaceholder;
  std::string value;  // lower case, colon-separated ("08:00:27:f9:98:a7"); "" unless kUsable
};

// Reads `s`: six groups of two hex digits separated by ':' or '-' ("08:00:27:F9:98:A7",
// "08-00-27-f9-98-a7"), or three groups of four separated by '.' (Cisco "0800.27f9.98a7"),
// surrounding spaces ignored, in any case.
MacAddress ReadMac(const std::string& s);

// True when `s` is a placeholder that identifies nothing: empty or only spaces, "None", "N/A",
// "NA", "unknown", "localhost", "localhost.localdomain", "Not Specified", "Not Applicable",
// "Default string", "To Be Filled By O.E.M.", "System Serial Number", "Chassis Serial Number",
// "Not Available", "Not Present", "None Provided", "Invalid", "Default", "OEM", "O.E.M.",
// "0123456789", "123456789", "1234567890", and any value whose letters and digits are all zeros
// ("0000000000", an all-zero UUID, VMware's "VMware-00 00 ... 00") or, eight or more, all F
// (case-insensitive, surrounding spaces ignored).
bool IsPlaceholder(const std::string& s);

}  // namespace cmdb::importers
