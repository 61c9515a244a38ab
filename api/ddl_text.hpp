// What a schema change request holds, for POST /v1/schema and DDL sent to POST /v1/query: whether
// the DDL text has a statement at all, and whether the schema it produces differs from the
// current one (a change that changes nothing writes nothing).
// Thread safety: pure functions.
#pragma once

#include <string_view>

#include "cmdb/schema.hpp"

namespace cmdb::api {

// False when `text` is only white space and -- or // comments (what the DDL grammar skips).
inline bool DdlHasStatement(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') continue;
    if (text.substr(i, 2) == "--" || text.substr(i, 2) == "//") {
      size_t eol = text.find('\n', i);
      if (eol == std::string_view::npos) return false;
      i = eol;
      continue;
    }
    return true;
  }
  return false;
}

// Whether `a` and `b` are the same schema as stored (the DDL the store keeps, and the mode),
// whatever their versions.
inline bool SameSchema(const Schema& a, const Schema& b) {
  return a.open_mode() == b.open_mode() && a.ToDdl() == b.ToDdl();
}

}  // namespace cmdb::api
