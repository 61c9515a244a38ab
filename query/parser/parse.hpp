// ParseQuery: text -> AST, with syntax errors located by line and column.
// This header names the parsed query without defining it, so that the engine can hand it from
// the parser to the binder without compiling Spirit; its definition (the AST) is in
// parsed_query.hpp, for the parser and the binder.
// Thread safety: pure function; a ParsedQuery is immutable after parsing.
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <string>

#include "cmdb/status.hpp"

namespace cmdb::gql {

// A query's AST with its source text (query/parser/parsed_query.hpp).
struct ParsedQuery;

// How deeply brackets ( [ { and CASE ... END may nest in a query. The grammar recurses once per
// level, so this bounds the parser's stack; deeper text is refused before parsing.
inline constexpr int kMaxQueryNesting = 64;

// Errors: kInvalidArgument of type "SyntaxError" with "line" and "column" details and a caret;
// kResourceExhausted (type "SyntaxError", detail "NestingTooDeep") at the bracket or CASE that
// opens level kMaxQueryNesting + 1. Text that is not valid UTF-8 is a syntax error at the first
// bad byte.
Result<std::shared_ptr<ParsedQuery>> ParseQuery(std::string source);

// For tests of the nesting limit: the deepest bracket/CASE nesting the scan ahead of the parser
// counts in `text`, and the deepest the grammar's expressions nest when it parses `text`
// without that scan (nullopt: past kMaxQueryNesting + 1, where it stops). The grammar never
// goes deeper than the scan's count + 1 (the top level).
namespace detail {
int ScanNestingDepth(std::string_view text);
std::optional<int> GrammarNestingDepth(const std::string& text);
}  // namespace detail

}  // namespace cmdb::gql
