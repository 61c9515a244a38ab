// Binder: resolves an AST against the schema and the variable scope (stage 2 of the pipeline).
//
// Variables become row slots; labels, relationship types and property keys are checked against
// the schema (closed mode: unknown names are SemanticErrors with a did-you-mean; open mode:
// anything goes); functions are looked up; aggregates are separated from grouping keys.
// Throws QueryError (caught at the pipeline's entry).
// This header keeps the AST out of its includers (the engine); the binder's own state, which
// walks the AST, is in binder_state.hpp.
// Thread safety: Bind is a pure function of its arguments.
#pragma once

#include <cstdint>

#include "cmdb/schema.hpp"
#include "query/binder/bound.hpp"
#include "query/parser/parse.hpp"

namespace cmdb::gql {

// How to bind. A plain value.
struct BindOptions {
  int64_t default_max_depth = 20;  // cap for unbounded variable-length patterns
};

// Binds `query` against `schema`. The result holds no reference to either.
BoundQuery Bind(const ParsedQuery& query, const Schema& schema, const BindOptions& options);

}  // namespace cmdb::gql
