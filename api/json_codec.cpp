#include "api/json_codec.hpp"

#include <algorithm>

#include "cmdb/suggest.hpp"
#include "cmdb/time_util.hpp"
#include "importers/json_util.hpp"

namespace cmdb::api {

Result<Json> ParseRequestJson(std::string_view text) {
  return importers::ParseJson(text, "JSON body", kMaxJsonDepth);
}

Status CheckFields(const Json& obj, std::initializer_list<std::string_view> allowed,
                   const std::string& where) {
  return importers::CheckJsonFields(obj, std::vector<std::string_view>(allowed), where);
}

Result<std::string> StringField(const Json& obj, const char* field, const std::string& where,
                                std::string fallback) {
  auto it = obj.is_object() ? obj.find(field) : obj.end();
  if (!obj.is_object() || it == obj.end()) return fallback;
  std::string path = where.empty() ? field : where + "." + field;
  if (!it->is_string())
    return Status::Invalid("\"" + path + "\" must be a string").With("field", path);
  return it->get<std::string>();
}

Json CiToJson(const CiRecord& ci) {
  return Json{{"id", ci.id},
              {"class", ci.class_name},
              {"attributes", ToJson(ci.attrs)},
              {"version", ci.version},
              {"created_at", FormatTimestamp(ci.created_at)},
              {"updated_at", FormatTimestamp(ci.updated_at)}};
}

Json RelToJson(const RelRecord& rel) {
  return Json{{"id", rel.id},
              {"type", rel.type},
              {"from", rel.from},
              {"to", rel.to},
              {"attributes", ToJson(rel.attrs)},
              {"version", rel.version},
              {"created_at", FormatTimestamp(rel.created_at)},
              {"updated_at", FormatTimestamp(rel.updated_at)}};
}

Json TxToJson(const TxRecord& tx) {
  Json j{{"tx", tx.id},
         {"time", FormatTimestamp(tx.time)},
         {"actor", tx.actor},
         {"source", tx.source},
         {"change_ref", tx.change_ref.empty() ? Json(nullptr) : Json(tx.change_ref)},
         {"message", tx.message.empty() ? Json(nullptr) : Json(tx.message)},
         {"cis_written", tx.cis_written},
         {"relationships_written", tx.rels_written}};
  if (tx.schema_version) j["schema_version"] = tx.schema_version;
  if (!tx.unauthorized.empty()) j["unauthorized"] = tx.unauthorized;
  if (!tx.hash.empty()) {
    j["prev_hash"] = tx.prev_hash;
    j["hash"] = tx.hash;
  }
  return j;
}

static Json AttrDefJson(const AttributeDef& a) {
  Json j{{"name", a.name}, {"type", AttrTypeName(a.type)}, {"not_null", a.not_null},
         {"unique", a.unique}};
  if (a.type == AttrType::kEnum) j["values"] = a.enum_values;
  if (a.default_value) j["default"] = ToJson(*a.default_value);
  return j;
}

Json SchemaToJson(const Schema& schema) {
  Json classes = Json::array();
  for (const auto& [name, c] : schema.classes()) {
    Json attrs = Json::array();
    for (const AttributeDef* a : schema.AllAttributes(name)) {
      Json aj = AttrDefJson(*a);
      aj["declared_in"] = schema.DeclaringClass(name, a->name);
      attrs.push_back(std::move(aj));
    }
    std::string scope;
    classes.push_back(Json{{"name", name},
                           {"parent", c.parent.empty() ? Json(nullptr) : Json(c.parent)},
                           {"abstract", c.is_abstract},
                           {"key", schema.KeyAttributes(name, &scope)},
                           {"attributes", attrs}});
  }
  Json rels = Json::array();
  for (const auto& [name, r] : schema.rel_types()) {
    Json pairs = Json::array();
    for (const auto& p : r.pairs) pairs.push_back(Json{{"from", p.from}, {"to", p.to}});
    Json attrs = Json::array();
    for (const auto& a : r.attributes) attrs.push_back(AttrDefJson(a));
    rels.push_back(Json{{"name", name},
                        {"pairs", pairs},
                        {"cardinality", CardinalityName(r.cardinality)},
                        {"impact", ImpactRuleName(r.impact)},
                        {"quorum", r.quorum == 0 ? Json(nullptr) : Json(std::to_string(r.quorum) + (r.quorum_percent ? "%" : ""))},
                        {"attributes", attrs}});
  }
  return Json{{"version", schema.version()},
              {"mode", schema.open_mode() ? "open" : "closed"},
              {"classes", classes},
              {"relationship_types", rels}};
}

int HttpStatusOf(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return 200;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kUnauthenticated: return 401;
    case StatusCode::kPermissionDenied: return 403;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kConflict: return 409;
    case StatusCode::kPreconditionFailed: return 412;
    case StatusCode::kPayloadTooLarge: return 413;
    case StatusCode::kSchemaViolation: return 422;
    case StatusCode::kResourceExhausted: return 400;
    case StatusCode::kUnavailable: return 503;
    case StatusCode::kInternal: return 500;
  }
  return 500;
}

Json ErrorJson(const Status& st) {
  Json err{{"code", st.type().empty() ? StatusCodeName(st.code()) : st.type()}, {"message", st.message()}};
  Json details = Json::object();
  for (const auto& [k, v] : st.details()) {
    if (k == "line" || k == "column") {
      err[k] = ToJson(v);
    } else {
      details[k] = ToJson(v);
    }
  }
  err["details"] = details;
  return Json{{"error", err}};
}

}  // namespace cmdb::api
