// ParseQuery: text -> AST, with syntax errors located by line and column.
// Thread safety: pure function; a ParsedQuery is immutable after parsing.
#pragma once

#include <memory>
#include <optional>
#include <string_view>
#include <string>

#include "cmdb/status.hpp"
#include "query/parser/ast.hpp"
#include "query/parser/config.hpp"

namespace cmdb::gql {

// A parsed query owns its source text and the positions of its tagged AST nodes.
struct ParsedQuery {
  std::string source;
  ast::Query ast;
  std::unique_ptr<parser::error_handler_type> positions;

  // The byte offset where a tagged node starts.
  size_t OffsetOf(const ast::x3::position_tagged& node) const { return positions->offset_of(node); }
  // The exact source text of a tagged node ("count(*)", "n.name").
  std::string TextOf(const ast::x3::position_tagged& node) const;
};

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
