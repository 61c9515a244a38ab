// Conversions between core records and the JSON the API speaks (nlohmann::json).
// Thread safety: pure functions.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "bulk/bulk.hpp"
#include "bulk/json.hpp"
#include "cmdb/records.hpp"
#include "cmdb/schema.hpp"
#include "cmdb/status.hpp"
#include "cmdb/txn.hpp"

namespace cmdb::api {

using Json = bulk::Json;

// The conversions between JSON and core values, the nesting limit and the class rule of updates
// are the bulk reader's, shared by every request body (bulk/json.hpp, bulk/bulk.hpp).
using bulk::AttrsFromJson;
using bulk::CheckClassOf;
using bulk::FromJson;
using bulk::kMaxJsonDepth;
using bulk::PatchFromJson;
using bulk::ToJson;

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

// The HTTP status for a Status code.
int HttpStatusOf(StatusCode code);

}  // namespace cmdb::api
