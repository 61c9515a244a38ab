// JSON helpers shared by the JSON-based parsers (nlohmann stays at this edge).
// Thread safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "cmdb/attr_map.hpp"
#include "cmdb/status.hpp"

namespace cmdb::importers {

using Json = nlohmann::json;

// The nesting limit of discovery files (Kubernetes and Terraform documents nest deeper than API
// bodies; api/json_codec.hpp has the API's).
inline constexpr int kMaxImportJsonDepth = 256;

// What makes JSON text unacceptable before it is parsed: nesting deeper than the limit, or a key
// given twice in one object (JSON leaves its meaning open; a parser keeps one and drops the
// other silently).
struct JsonShapeProblem {
  enum class Kind { kTooDeep, kDuplicateKey };
  Kind kind = Kind::kTooDeep;
  size_t offset = 0;  // the byte of the bracket past the limit, or of the repeated key's quote
  std::string key;    // kDuplicateKey: the key, unescaped
};
// Scans `text` once, without recursion, for the first problem. Only meaningful for text that
// parses (a malformed text may report nothing or an arbitrary problem; the parser names it).
std::optional<JsonShapeProblem> FindJsonShapeProblem(std::string_view text, int max_depth);

// Parses JSON without recursion: a syntax error names the line and column, and so does nesting
// deeper than `max_depth` (kResourceExhausted) and a duplicate key (kInvalidArgument), both
// checked before a document is built.
Result<Json> ParseJson(std::string_view text, const std::string& what,
                       int max_depth = kMaxImportJsonDepth);
// A JSON scalar or array of scalars as a Value (objects and nested arrays: null; never recurses
// past one level).
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

// `j` as compact JSON text for a message; bytes that are not UTF-8 (a key seen by the raw scan,
// before the document was validated) become U+FFFD instead of throwing.
inline std::string JsonText(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace cmdb::importers
