// The JSON reading rules every JSON input of cmdb shares — request bodies, bulk and ndjson import
// lines, discovery files — and the conversions between JSON and core values. They live here,
// below the API and the importers, because the bulk reader needs them and depends on the core
// only; api/json_codec.hpp and importers/json_util.hpp re-export them under their old names.
// nlohmann stays at the edges: here, the importers and the API.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cmdb/attr_map.hpp"
#include "cmdb/status.hpp"
#include "cmdb/txn.hpp"
#include "cmdb/value.hpp"

namespace cmdb::bulk {

using Json = nlohmann::json;

// The nesting limit of every JSON request body, bulk line and parameter: deeper input is refused
// (kResourceExhausted, HTTP 400) before a document is built, so no conversion can run out of
// stack.
inline constexpr int kMaxJsonDepth = 64;

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

// The reason in a JSON library's exception text, for a message after "malformed <what> at line
// L, column C: ": "unexpected end of input; expected '}'" (no second position, no "parse error",
// no "last read: ..." echo of the input); a number too large for a double is "number out of
// range ('1e999')".
std::string JsonErrorReason(const std::string& what);

// The message for a NUL byte outside a string, after "malformed <what> at <position>: ".
inline constexpr const char* kNulByteMessage =
    "a NUL byte outside a string (a JSON text is read to its end)";

// Refuses a member of the object `obj` that is not in `allowed`: kInvalidArgument
// `unknown field "colums" in "mapping" (did you mean 'columns'?); allowed: class, columns`, with
// details.field (the path: `where` + "." + the key) and details.allowed. `where` is the object's
// path ("" for a top-level object: no "in ..."). Non-objects pass (the caller checks the type).
// The one implementation of the rule (api::CheckFields calls it).
Status CheckJsonFields(const Json& obj, const std::vector<std::string_view>& allowed,
                       const std::string& where);

// `j` as compact JSON text for a message; bytes that are not UTF-8 (a key seen by the raw scan,
// before the document was validated) become U+FFFD instead of throwing.
inline std::string JsonText(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

// A value as JSON (null, a scalar, or an array for a list).
Json ToJson(const Value& v);
// JSON scalars and arrays become Values; objects are refused (kInvalidArgument naming `where`).
// Lists nested deeper than kMaxJsonDepth are refused (kResourceExhausted), so the recursion is
// bounded whatever built the document.
Result<Value> FromJson(const Json& j, const std::string& where);
// Attributes as a JSON object.
Json ToJson(const AttrMap& attrs);
// A JSON object of attributes (`where` names it in errors, e.g. "attributes") as a patch: nulls
// are kept (a patch's null erases); a value that is an object is refused (FromJson).
Result<AttrPatch> PatchFromJson(const Json& j, const std::string& where);
// The same as attributes: null for the whole is none, null values set nothing.
Result<AttrMap> AttrsFromJson(const Json& j, const std::string& where);

}  // namespace cmdb::bulk
