// RegexCache: `=~` for one query. Patterns compile once per query with RE2 (linear-time
// matching, no backtracking, a memory bound per pattern), so no subject or pattern can overflow
// the stack or run for long. Only regex.cpp includes re2.h.
// Thread safety: one cache per query (per Executor), not shared.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

namespace re2 {
class RE2;
}  // namespace re2

namespace cmdb::gql {

// The memory one compiled pattern may use (program and matching caches; RE2::Options max_mem).
inline constexpr int64_t kRegexMaxMem = 8 << 20;
// Distinct patterns kept compiled per query; past it the cache starts again (bounds memory when
// patterns come from data).
inline constexpr size_t kRegexCacheSize = 16;

class RegexCache {
 public:
  RegexCache();
  ~RegexCache();
  RegexCache(const RegexCache&) = delete;
  RegexCache& operator=(const RegexCache&) = delete;

  // True when all of `text` matches `pattern` (RE2 syntax, UTF-8). Throws QueryError
  // (ArgumentError, InvalidArgumentValue) at `offset` naming the pattern when it is invalid,
  // uses syntax RE2 does not support (backreferences, lookaround) or is too large.
  bool FullMatch(const std::string& pattern, const std::string& text, size_t offset);

 private:
  std::unordered_map<std::string, std::unique_ptr<re2::RE2>> compiled_;
};

}  // namespace cmdb::gql
