// Authenticator: checks bearer tokens against the store and issues and revokes them.
//
// Valid tokens are cached for a short time (kCacheSeconds) so a request costs a hash and a map
// lookup; revocations through this object take effect at once, those made by another process
// (the `cmdbd token` command) within kCacheSeconds.
// Thread safety: all methods may be called concurrently.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "cmdb/auth.hpp"
#include "cmdb/clock.hpp"
#include "cmdb/store.hpp"

namespace cmdb::api {

// Who is calling: the token name (the actor) and its role.
struct Principal {
  std::string name;
  Role role = Role::kReader;
};

class Authenticator {
 public:
  static constexpr int kCacheSeconds = 2;

  // `store` and `clock` must outlive the authenticator. `enabled` false: every request is
  // "anonymous" with the admin role (the explicit --insecure-local mode). Token creation and
  // revocation times and the cache's expiry come from `clock`.
  Authenticator(Store* store, bool enabled, const Clock* clock = Clock::System())
      : store_(store), enabled_(enabled), clock_(clock) {}

  bool enabled() const { return enabled_; }
  // Checks an Authorization header value ("Bearer <token>"). kUnauthenticated when absent or
  // not a valid token.
  Result<Principal> Authenticate(const std::string& authorization);
  // Creates a token; returns its record and the secret (shown once, never stored). Issues are
  // serialized with each other and with revocations.
  Result<std::pair<TokenRecord, std::string>> Issue(const std::string& name, Role role);
  // Revokes the token `name`. The last valid admin token cannot be revoked (kConflict): nobody
  // could manage tokens or the schema afterwards. Revocations through one Authenticator are
  // serialized, so two concurrent ones cannot both pass that check.
  Status Revoke(const std::string& name);

 private:
  struct Cached {
    Principal principal;
    int64_t expires;  // Clock::SteadyMicros
  };
  Store* store_;
  bool enabled_;
  const Clock* clock_;
  std::mutex mu_;
  std::mutex revoke_mu_;  // serializes Issue and Revoke (the name and last-admin checks)
  std::unordered_map<std::string, Cached> cache_;  // by token hash
};

// Creates a token directly in a store (used by the command line and on first start). Names are
// 1 to 100 letters, digits and - _ . @, and not reserved (IsReservedActorName); unique without
// case (kConflict naming the existing token: "a token named 'reader-bot' already exists (token
// names are compared without case)"), the given spelling kept.
Result<std::pair<TokenRecord, std::string>> IssueToken(Store* store, const std::string& name, Role role,
                                                       const Clock* clock = Clock::System());

}  // namespace cmdb::api
