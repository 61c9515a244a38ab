// JSON helpers shared by the JSON-based parsers (nlohmann stays at this edge).
// Thread safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cmdb/attr_map.hpp"
#include "cmdb/status.hpp"

namespace cmdb::importers {

using Json = nlohmann::json;

// The nesting limit of discovery files (Kubernetes and Terraform documents nest deeper than API
// bodies; api/json_codec.hpp has the API's).
inline constexpr int kMaxImportJsonDepth = 256;

// What makes JSON text unacceptable before it is parsed: nesting deeper than the limit, a key
// given twice in one object (JSON leaves its meaning open; a parser keeps one and drops the
// other silently), or a NUL byte outside a string (nlohmann's lexer takes a NUL for the end of
// the input and would silently ignore whatever follows it; inside a string the parser refuses
// it as an unescaped control character).
struct JsonShapeProblem {
  enum class Kind { kTooDeep, kDuplicateKey, kNulByte };
  Kind kind = Kind::kTooDeep;
  // the byte of the bracket past the limit, of the repeated key's quote, or of the NUL
  size_t offset = 0;
  std::string key;    // kDuplicateKey: the key, unescaped
};
// Scans `text` once, without recursion, for the first problem. Only meaningful for text that
// parses (a malformed text may report nothing or an arbitrary problem; the parser names it).
std::optional<JsonShapeProblem> FindJsonShapeProblem(std::string_view text, int max_depth);

// The message for a NUL byte outside a string, after "malformed <what> at <position>: ".
inline constexpr const char* kNulByteMessage =
    "a NUL byte outside a string (a JSON text is read to its end)";

// Parses JSON without recursion: a syntax error names the line and column, and so does nesting
// deeper than `max_depth` (kResourceExhausted), a duplicate key (kInvalidArgument) and a NUL
// byte outside a string (kInvalidArgument, "malformed <what> at line 1, column 9: a NUL byte
// outside a string ..."), all checked before a document is built. The whole text is consumed:
// anything after the value but white space is refused.
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

// Refuses a member of the object `obj` that is not in `allowed`: kInvalidArgument
// `unknown field "colums" in "mapping" (did you mean 'columns'?); allowed: class, columns`, with
// details.field (the path: `where` + "." + the key) and details.allowed. `where` is the object's
// path ("" for a top-level object: no "in ..."). Non-objects pass (the caller checks the type).
// The one implementation of the rule (api::CheckFields calls it).
Status CheckJsonFields(const Json& obj, const std::vector<std::string_view>& allowed,
                       const std::string& where);

// The rule both NDJSON line formats (POST /v1/bulk and the ndjson import) share: a "ref" names one
// CI per request, so a second line defining it is refused: `ref "a" is defined twice, on lines 1
// and 3 (a ref names one CI per request)`, with details.ref and details.first_line.
Status RefDefinedTwice(const std::string& ref, int64_t first_line, int64_t line);

// `j` as compact JSON text for a message; bytes that are not UTF-8 (a key seen by the raw scan,
// before the document was validated) become U+FFFD instead of throwing.
inline std::string JsonText(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace cmdb::importers
