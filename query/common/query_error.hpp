// QueryError: how the query pipeline fails inside. Thrown by the binder, planner and executor
// and caught at the pipeline's one entry (QueryEngine::Run), which turns it into a Status.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

namespace cmdb::gql {

struct QueryError : std::runtime_error {
  QueryError(std::string type_, std::string detail_, const std::string& message, size_t offset_ = kNoOffset)
      : std::runtime_error(message), type(std::move(type_)), detail(std::move(detail_)), offset(offset_) {}
  static constexpr size_t kNoOffset = static_cast<size_t>(-1);
  std::string type;    // SyntaxError, SemanticError, TypeError, ArgumentError, ...
  std::string detail;  // UndefinedVariable, InvalidArgumentType, ... (the TCK's detail codes)
  size_t offset;       // where in the query, or kNoOffset
};

// `noun` after "a" or "an" as it is spoken ("an INTEGER", "a COUNT subquery", "an EXISTS ..."):
// "an" before a vowel letter, "a" otherwise.
inline std::string WithArticle(const std::string& noun) {
  char c = noun.empty() ? 'x' : static_cast<char>(noun[0] | 0x20);
  bool vowel = c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
  return (vowel ? "an " : "a ") + noun;
}

[[noreturn]] inline void ThrowSemantic(const std::string& detail, const std::string& message, size_t offset) {
  throw QueryError("SemanticError", detail, message, offset);
}
[[noreturn]] inline void ThrowType(const std::string& detail, const std::string& message, size_t offset) {
  throw QueryError("TypeError", detail, message, offset);
}
// `what` ("range()", "a list comprehension", ...) would hold more than the byte budget.
[[noreturn]] inline void ThrowByteBudget(const std::string& what, size_t limit, size_t offset) {
  throw QueryError("ResourceExhausted", "ByteBudget",
                   what + " needs more than " + std::to_string(limit) + " bytes (the byte budget, max_query_bytes)",
                   offset);
}
// A value built at `offset` would nest lists and maps deeper than `limit` levels.
[[noreturn]] inline void ThrowValueTooDeep(size_t limit, size_t offset) {
  throw QueryError("ResourceExhausted", "NestingTooDeep",
                   "a value built here nests lists and maps deeper than " + std::to_string(limit) + " levels", offset);
}
[[noreturn]] inline void ThrowArgument(const std::string& detail, const std::string& message, size_t offset) {
  throw QueryError("ArgumentError", detail, message, offset);
}

}  // namespace cmdb::gql
