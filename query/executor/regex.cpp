#include "query/executor/regex.hpp"

#include <re2/re2.h>

#include "query/common/query_error.hpp"

namespace cmdb::gql {

RegexCache::RegexCache() = default;
RegexCache::~RegexCache() = default;

bool RegexCache::FullMatch(const std::string& pattern, const std::string& text, size_t offset) {
  auto it = compiled_.find(pattern);
  if (it == compiled_.end()) {
    RE2::Options options;
    options.set_max_mem(kRegexMaxMem);
    options.set_log_errors(false);
    auto re = std::make_unique<RE2>(pattern, options);
    if (!re->ok())
      ThrowArgument("InvalidArgumentValue", "invalid regular expression '" + pattern + "': " + re->error(), offset);
    if (compiled_.size() >= kRegexCacheSize) compiled_.clear();
    it = compiled_.emplace(pattern, std::move(re)).first;
  }
  return RE2::FullMatch(text, *it->second);
}

}  // namespace cmdb::gql
