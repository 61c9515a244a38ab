// Source locations for error messages: "line L, column C: message" followed by the source line
// and a caret under the column. Used by the DDL and query front ends.
// Thread safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "cmdb/status.hpp"

namespace cmdb::parsing {

// A Status with the located message and "line"/"column" details.
Status LocatedError(StatusCode code, std::string_view source, size_t offset, const std::string& message);
// The offset of the next token at or after `offset` (skips white space and comments).
size_t NextToken(std::string_view source, size_t offset);

}  // namespace cmdb::parsing
