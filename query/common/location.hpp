// Source locations for error messages: "line L, column C: message" followed by the source line
// and a caret under the column. Used by the DDL and query front ends.
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "cmdb/status.hpp"

namespace cmdb::parsing {

// A Status with the located message and "line"/"column" details. The column counts characters
// (code points, 1-based) from the start of the line; the caret line under the source line has one
// space for each character before the offset (a tab stays a tab).
Status LocatedError(StatusCode code, std::string_view source, size_t offset, const std::string& message);
// The token that starts at `offset`, for "found ..." in a message: a whole word or number, a
// quoted string, a two-character operator or one character (never part of one); cut after 40
// bytes with "...". Empty at the end of the source.
std::string TokenAt(std::string_view source, size_t offset);
// The offset of the next token at or after `offset` (skips white space and comments).
size_t NextToken(std::string_view source, size_t offset);

}  // namespace cmdb::parsing
