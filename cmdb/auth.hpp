// Roles, permissions and API tokens.
//
// Tokens are random secrets shown once; only their SHA-256 hash is stored. Each token has a
// name (the actor written to the transaction log) and one role. The permission matrix is
// documented in docs/security.md and enforced by Allows().
// Thread safety: pure functions, plus GenerateToken which reads the OS random source.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cmdb/status.hpp"

namespace cmdb {

enum class Role { kReader, kImporter, kChangeManager, kReleaseManager, kAdmin };
// "reader", "importer", "change-manager", "release-manager", "admin".
const char* RoleName(Role r);
std::optional<Role> ParseRole(std::string_view name);
std::vector<std::string> RoleNames();

enum class Permission {
  kRead,          // every GET, read-only queries, impact analysis
  kWriteCis,      // create, change, retire CIs and relationships
  kImport,        // bulk loads and discovery imports
  kRequestChanges,// change records: create, edit, submit, cancel, implement, comment
  kManageChanges, // change records: assess, approve, reject, schedule, close; windows
  kManageReleases,// baselines, releases, audits
  kAdmin,         // schema, tokens, deleting baselines, backups
};
const char* PermissionName(Permission p);
bool Allows(Role role, Permission permission);

struct TokenRecord {
  int64_t id = 0;
  std::string name;     // unique; the actor in the transaction log
  Role role = Role::kReader;
  std::string hash;     // hex SHA-256 of the secret
  int64_t created_at = 0;
  int64_t revoked_at = 0;  // 0 while valid
};

// Whether `name` is an actor the server writes itself ("anonymous" without authentication,
// "system" for the initial schema and demo data), compared without case: no token may take it.
bool IsReservedActorName(std::string_view name);

// A new random secret: "cmdb_" + 43 URL-safe characters (256 bits).
Result<std::string> GenerateToken();
// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);
// Lower-case hex of raw bytes (a digest).
std::string HexOf(const unsigned char* bytes, size_t len);

}  // namespace cmdb
