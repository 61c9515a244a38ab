// Conversions between core records and the JSON the API speaks (nlohmann::json).
// Thread safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include "cmdb/records.hpp"
#include "cmdb/schema.hpp"
#include "cmdb/status.hpp"
#include "cmdb/txn.hpp"

namespace cmdb::api {

using Json = nlohmann::json;

Json ToJson(const Value& v);
// JSON scalars and arrays become Values; objects are refused (kInvalidArgument naming `where`).
Result<Value> FromJson(const Json& j, const std::string& where);
Json ToJson(const AttrMap& attrs);
// A JSON object of attributes. `allow_null` keeps nulls (for patches: null erases).
Result<AttrPatch> PatchFromJson(const Json& j, const std::string& where);
Result<AttrMap> AttrsFromJson(const Json& j, const std::string& where);

// {"id", "class", "attributes", "version", "created_at", "updated_at"}
Json CiToJson(const CiRecord& ci);
// {"id", "type", "from", "to", "attributes", "version", "created_at", "updated_at"}
Json RelToJson(const RelRecord& rel);
Json TxToJson(const TxRecord& tx);
Json SchemaToJson(const Schema& schema);

// {"error": {"code", "message", "details": {...}}} with "line"/"column" lifted when present.
Json ErrorJson(const Status& st);
// The HTTP status for a Status code.
int HttpStatusOf(StatusCode code);

}  // namespace cmdb::api
