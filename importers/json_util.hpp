// JSON helpers shared by the JSON-based parsers (nlohmann stays at this edge).
// Thread safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bulk/json.hpp"
#include "cmdb/attr_map.hpp"
#include "cmdb/status.hpp"

namespace cmdb::importers {

using Json = bulk::Json;

// The nesting limit of discovery files (Kubernetes and Terraform documents nest deeper than API
// bodies; bulk/json.hpp has the API's).
inline constexpr int kMaxImportJsonDepth = 256;

// The JSON text rules are the bulk reader's, shared by every JSON input (bulk/json.hpp): the
// shape scan (nesting, duplicate keys, NUL bytes), the unknown-field rule and message texts.
using bulk::CheckJsonFields;
using bulk::FindJsonShapeProblem;
using bulk::JsonShapeProblem;
using bulk::JsonText;
using bulk::kNulByteMessage;

// Parses JSON without recursion: a syntax error names the line and column, and so does nesting
// deeper than `max_depth` (kResourceExhausted), a duplicate key (kInvalidArgument) and a NUL
// byte outside a string (kInvalidArgument, "malformed <what> at line 1, column 9: a NUL byte
// outside a string ..."), all checked before a document is built. The whole text is consumed:
// anything after the value but white space is refused.
Result<Json> ParseJson(std::string_view text, const std::string& what,
                       int max_depth = kMaxImportJsonDepth);
// Values of the wrong JSON type that the helpers below met and ignored (a key present and not
// null, of another type than the one read: Str given a number, Items an object, Member a string,
// SetFrom an object), collected while a TypeProblems lives on this thread, each once per record
// and key with the record being read (SetRecord): the parser reports them as skipped values, so
// a value is never dropped silently. One at a time per thread; not copyable.
class TypeProblems {
 public:
  TypeProblems();
  ~TypeProblems();
  TypeProblems(const TypeProblems&) = delete;
  TypeProblems& operator=(const TypeProblems&) = delete;
  // The location of the record the helpers read from now on ("$.items[3] (Pod x)"); nothing
  // when no TypeProblems lives on this thread.
  static void SetRecord(const std::string& location);
  // Called by the helpers: `j[key]` is not `expected` ("a string").
  static void Note(const char* key, const Json& value, const char* expected);
  // The problems met, in order: {location, message}.
  std::vector<std::pair<std::string, std::string>> Take();

 private:
  std::string record_;
  std::vector<std::pair<std::string, std::string>> problems_;
};

// A JSON scalar or array of scalars as a Value (objects and nested arrays: null; never recurses
// past one level).
Value ValueOf(const Json& j);
// The member `key` of an object when it is one, or a shared empty object (never a copy: pointers
// into the result stay valid as long as `j`).
const Json& Member(const Json& j, const char* key);
// The member `key` of an object whatever its type, or a shared null (for messages that show it).
const Json& Field(const Json& j, const char* key);
// Like Member, for a list: the member when it is an array, else a shared empty array.
const Json& Items(const Json& j, const char* key);
// The string at `key` of an object, or "" (no throw on other types; a value of another type is
// noted in TypeProblems).
std::string Str(const Json& j, const char* key);
// Sets attrs[name] from j[key] when it is a usable scalar (or list of scalars; another value is
// noted in TypeProblems).
void SetFrom(AttrMap& attrs, const std::string& name, const Json& j, const char* key);

}  // namespace cmdb::importers
