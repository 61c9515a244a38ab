#include "cmdb/auth.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>

namespace cmdb {

const char* RoleName(Role r) {
  switch (r) {
    case Role::kReader: return "reader";
    case Role::kImporter: return "importer";
    case Role::kChangeManager: return "change-manager";
    case Role::kReleaseManager: return "release-manager";
    case Role::kAdmin: return "admin";
  }
  return "?";
}

std::vector<std::string> RoleNames() {
  return {"reader", "importer", "change-manager", "release-manager", "admin"};
}

std::optional<Role> ParseRole(std::string_view name) {
  for (Role r : {Role::kReader, Role::kImporter, Role::kChangeManager, Role::kReleaseManager, Role::kAdmin}) {
    if (name == RoleName(r)) return r;
  }
  return std::nullopt;
}

const char* PermissionName(Permission p) {
  switch (p) {
    case Permission::kRead: return "read";
    case Permission::kWriteCis: return "write CIs";
    case Permission::kImport: return "import";
    case Permission::kRequestChanges: return "request changes";
    case Permission::kManageChanges: return "manage changes";
    case Permission::kManageReleases: return "manage releases";
    case Permission::kAdmin: return "administer";
  }
  return "?";
}

bool Allows(Role role, Permission p) {
  if (role == Role::kAdmin || p == Permission::kRead) return true;
  if (p == Permission::kRequestChanges) return role != Role::kReader;
  switch (role) {
    case Role::kImporter: return p == Permission::kWriteCis || p == Permission::kImport;
    case Role::kChangeManager: return p == Permission::kWriteCis || p == Permission::kManageChanges;
    case Role::kReleaseManager: return p == Permission::kManageReleases;
    default: return false;
  }
}

bool IsReservedActorName(std::string_view name) {
  for (std::string_view reserved : {"anonymous", "system"}) {
    if (name.size() == reserved.size() &&
        std::equal(name.begin(), name.end(), reserved.begin(),
                   [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; }))
      return true;
  }
  return false;
}

Result<std::string> GenerateToken() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) return Status::Internal("no randomness for a token");
  static const char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out = "cmdb_";
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char b : bytes) {  // base64url without padding
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      out += kAlphabet[(acc >> (bits - 6)) & 63];
      bits -= 6;
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

std::string HexOf(const unsigned char* bytes, size_t len) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (size_t i = 0; i < len; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  return HexOf(digest, len);
}

}  // namespace cmdb
