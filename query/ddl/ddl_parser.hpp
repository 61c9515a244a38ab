// The schema DDL front end: parse a GQL-style DDL script and apply it to a Schema.
//
// Syntax errors and semantic errors (unknown class, duplicate attribute, bad type...) carry the
// line and column of the offending text, and the message shows the source line with a caret
// (this exact text is asserted in tests/query/ddl_test.cpp):
//
//   line 1, column 13: expected TYPE
//   CREATE NODE Server EXTENDS Hardware;
//               ^
// Thread safety: pure functions of their arguments.
#pragma once

#include <string>
#include <string_view>

#include "cmdb/schema.hpp"
#include "cmdb/status.hpp"

namespace cmdb::ddl {

// How deeply brackets ( [ { may nest in a DDL script. The grammar nests none today (an
// attribute list, a string list or an endpoint list is one level), so deeper text is a syntax
// error anyway; a scan ahead of the parser refuses it first, so a future recursive rule cannot
// turn a long run of brackets into a stack overflow.
inline constexpr size_t kMaxDdlNesting = 64;

// Applies every statement of `source` to `schema`, in order. All or nothing: on error `schema`
// is left as it was. Errors: kInvalidArgument for syntax errors; kResourceExhausted for brackets
// nested deeper than kMaxDdlNesting (at the bracket opening the level past it); kSchemaViolation,
// kConflict or kNotFound for semantic ones. Details: "line", "column".
Status ApplyDdl(std::string_view source, Schema& schema);

// Applies the *.gql files of folder `dir` to `schema`, in name order (the default model in
// schema/). Errors: kNotFound for a missing folder or an unreadable file; ApplyDdl's errors,
// their message prefixed with the file's path.
Status LoadSchemaDir(const std::string& dir, Schema& schema);

}  // namespace cmdb::ddl
