// JSON helpers shared by the JSON-based parsers (nlohmann stays at this edge).
// Thread safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "cmdb/attr_map.hpp"
#include "cmdb/status.hpp"

namespace cmdb::importers {

using Json = nlohmann::json;

// Parses JSON; a syntax error names the line and column.
Result<Json> ParseJson(std::string_view text, const std::string& what);
// A JSON scalar or array of scalars as a Value (objects and nested arrays: null).
Value ValueOf(const Json& j);
// The member `key` of an object, or a shared empty object (never a copy: pointers into the
// result stay valid as long as `j`).
const Json& Member(const Json& j, const char* key);
// Like Member, for a list: the member when it is an array, else a shared empty array.
const Json& Items(const Json& j, const char* key);
// The string at `key` of an object, or "" (no throw on other types).
std::string Str(const Json& j, const char* key);
// Sets attrs[name] from j[key] when it is a usable scalar.
void SetFrom(AttrMap& attrs, const std::string& name, const Json& j, const char* key);

}  // namespace cmdb::importers
