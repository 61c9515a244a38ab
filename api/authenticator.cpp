#include "api/authenticator.hpp"

#include <algorithm>
#include <cctype>

#include "cmdb/time_util.hpp"

namespace cmdb::api {

static Status Unauthenticated(const std::string& why) {
  return Status(StatusCode::kUnauthenticated, why + "; send 'Authorization: Bearer <token>'");
}

Result<std::pair<TokenRecord, std::string>> IssueToken(Store* store, const std::string& name, Role role,
                                                       const Clock* clock) {
  if (name.empty() || name.size() > 100)
    return Status::Invalid("a token name must have 1 to 100 characters");
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' && c != '@')
      return Status::Invalid("a token name may hold letters, digits and - _ . @ only, not '" + name + "'");
  }
  if (IsReservedActorName(name))
    return Status::Invalid("the token name '" + name +
                           "' is reserved: the server records its own writes under it")
        .With("field", "name");
  // Names are actors: two spellings of one name ("reader-bot", "READER-BOT") would read as one
  // actor in the log, so a name is unique without case (revoked tokens included: their names
  // stay in the log). The stored spelling is kept.
  auto tokens = store->ListTokens();
  if (!tokens.ok()) return tokens.status();
  for (const TokenRecord& t : *tokens) {
    if (t.name.size() != name.size() ||
        !std::equal(t.name.begin(), t.name.end(), name.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) ==
                 std::tolower(static_cast<unsigned char>(b));
        }))
      continue;
    return Status::Conflict("a token named '" + t.name + "' already exists" +
                            (t.name == name ? "" : " (token names are compared without case)"))
        .With("name", t.name);
  }
  auto secret = GenerateToken();
  if (!secret.ok()) return secret.status();
  TokenRecord rec;
  rec.name = name;
  rec.role = role;
  rec.hash = Sha256Hex(*secret);
  rec.created_at = clock->NowMicros();
  auto stored = store->CreateToken(rec);
  if (!stored.ok()) return stored.status();
  return std::make_pair(*stored, *secret);
}

Result<Principal> Authenticator::Authenticate(const std::string& authorization) {
  if (!enabled_) return Principal{"anonymous", Role::kAdmin};
  if (authorization.empty()) return Unauthenticated("authentication required");
  static const std::string kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), authorization.begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
    return Unauthenticated("the Authorization header is not a bearer token");
  std::string hash = Sha256Hex(std::string_view(authorization).substr(kBearer.size()));
  const int64_t now = clock_->SteadyMicros();
  {
    std::lock_guard l(mu_);
    auto it = cache_.find(hash);
    if (it != cache_.end() && it->second.expires > now) return it->second.principal;
  }
  auto found = store_->FindToken(hash);
  if (!found.ok()) return found.status();
  if (!*found) return Unauthenticated("invalid or revoked token");
  Principal p{(*found)->name, (*found)->role};
  std::lock_guard l(mu_);
  if (cache_.size() > 10000) cache_.clear();
  cache_[hash] = Cached{p, now + int64_t{kCacheSeconds} * 1000000};
  return p;
}

Result<std::pair<TokenRecord, std::string>> Authenticator::Issue(const std::string& name, Role role) {
  std::lock_guard issuing(revoke_mu_);  // two spellings of one name cannot both pass the check
  return IssueToken(store_, name, role, clock_);
}

Status Authenticator::Revoke(const std::string& name) {
  std::lock_guard revoking(revoke_mu_);
  auto tokens = store_->ListTokens();
  if (!tokens.ok()) return tokens.status();
  bool admin = false;
  int admins = 0;
  for (const TokenRecord& t : *tokens) {
    if (t.revoked_at != 0 || t.role != Role::kAdmin) continue;
    ++admins;
    admin = admin || t.name == name;
  }
  if (admin && admins == 1)
    return Status(StatusCode::kConflict,
                  "token '" + name +
                      "' is the last admin token; create another admin token before revoking it")
        .With("name", name);
  CMDB_RETURN_IF_ERROR(store_->RevokeToken(name, clock_->NowMicros()));
  std::lock_guard l(mu_);
  for (auto it = cache_.begin(); it != cache_.end();) {
    it = it->second.principal.name == name ? cache_.erase(it) : std::next(it);
  }
  return Status::Ok();
}

}  // namespace cmdb::api
