// Conversions between core records and the JSON the API speaks (nlohmann::json).
// Thread safety: pure functions.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "cmdb/records.hpp"
#include "cmdb/schema.hpp"
#include "cmdb/status.hpp"
#include "cmdb/txn.hpp"

namespace cmdb::api {

using Json = nlohmann::json;

// The nesting limit of every JSON request body, bulk line and parameter: deeper input is refused
// (kResourceExhausted, HTTP 400) before a document is built, so no conversion can run out of
// stack.
inline constexpr int kMaxJsonDepth = 64;

// Parses a request body: malformed JSON, nesting past kMaxJsonDepth and duplicate keys are
// refused with the line and column ("JSON body nests deeper than 64 levels at line 1, column
// 65"). Never throws, never recurses.
Result<Json> ParseRequestJson(std::string_view text);

// Refuses a member of the object `obj` that is not in `allowed`: kInvalidArgument
// `unknown field "cis_typo" in "scope" (did you mean 'cis'?); allowed: query, cis, all`, with
// details.field (the path) and details.allowed. `where` is the object's path ("" for the body).
// Non-objects pass (the caller checks the type).
Status CheckFields(const Json& obj, std::initializer_list<std::string_view> allowed,
                   const std::string& where);

Json ToJson(const Value& v);
// JSON scalars and arrays become Values; objects are refused (kInvalidArgument naming `where`).
// Lists nested deeper than kMaxJsonDepth are refused (kResourceExhausted), so the recursion is
// bounded whatever built the document.
Result<Value> FromJson(const Json& j, const std::string& where);
Json ToJson(const AttrMap& attrs);
// A JSON object of attributes as a patch: every member kept, a null member erases that
// attribute. Errors name `where` and the member.
Result<AttrPatch> PatchFromJson(const Json& j, const std::string& where);
// A JSON object of attributes (JSON null: none). A null member is the same as an absent one:
// the map holds no nulls. Errors name `where` and the member.
Result<AttrMap> AttrsFromJson(const Json& j, const std::string& where);

// {"id", "class", "attributes", "version", "created_at", "updated_at"}
Json CiToJson(const CiRecord& ci);
// {"id", "type", "from", "to", "attributes", "version", "created_at", "updated_at"}
Json RelToJson(const RelRecord& rel);
Json TxToJson(const TxRecord& tx);
Json SchemaToJson(const Schema& schema);

// {"error": {"code", "message", "details": {...}}} with "line"/"column" lifted when present.
Json ErrorJson(const Status& st);
// The string member `field` of object `obj`, or `fallback` when absent; another type is refused
// naming the field (`"<path>" must be a string`), never thrown. `where` is the object's path ("" for
// the body).
Result<std::string> StringField(const Json& obj, const char* field, const std::string& where,
                                std::string fallback = "");

// Refuses an update of CI `id` that names a class other than the CI's (kConflict: `CI 42 is a
// VirtualMachine, not a PhysicalServer; a CI keeps its class`). OK when the CI does not exist (the
// update reports that).
Status CheckClassOf(const Txn& txn, CiId id, const std::string& cls);

// The HTTP status for a Status code.
int HttpStatusOf(StatusCode code);

}  // namespace cmdb::api
