// ParsedQuery: a query's AST with its source text and the positions of its tagged nodes. Only
// the parser and the binder include this header: the AST is made of Spirit X3 types
// (position_tagged, variant), which stay in those two stages.
// Thread safety: immutable after parsing; share freely.
#pragma once

#include <memory>
#include <string>

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

}  // namespace cmdb::gql
