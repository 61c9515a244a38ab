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

Json ToJson(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull: return nullptr;
    case Value::Kind::kBool: return v.as_bool();
    case Value::Kind::kInt: return v.as_int();
    case Value::Kind::kFloat: return v.as_float();
    case Value::Kind::kString: return v.as_string();
    case Value::Kind::kList: {
      Json a = Json::array();
      for (const Value& e : v.as_list()) a.push_back(ToJson(e));
      return a;
    }
  }
  return nullptr;
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

Status CheckClassOf(const Txn& txn, CiId id, const std::string& cls) {
  const CiRecord* ci = txn.GetCi(id);
  if (!ci || ci->class_name == cls) return Status::Ok();
  return Status(StatusCode::kConflict, "CI " + std::to_string(id) + " is a " +
                                           std::string(ci->class_name) + ", not a " + cls +
                                           "; a CI keeps its class")
      .With("id", id)
      .With("class", std::string(ci->class_name))
      .With("given_class", cls);
}

namespace {

Result<Value> FromJsonAt(const Json& j, const std::string& where, int depth) {
  switch (j.type()) {
    case Json::value_t::null: return Value();
    case Json::value_t::boolean: return Value(j.get<bool>());
    case Json::value_t::number_integer: return Value(j.get<int64_t>());
    case Json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Status::Invalid(where + ": integer out of range");
      return Value(static_cast<int64_t>(u));
    }
    case Json::value_t::number_float: return Value(j.get<double>());
    case Json::value_t::string: return Value(j.get<std::string>());
    case Json::value_t::array: {
      if (depth >= kMaxJsonDepth)
        return Status(StatusCode::kResourceExhausted,
                      where + ": lists nest deeper than " + std::to_string(kMaxJsonDepth) +
                          " levels");
      ValueList list;
      for (size_t i = 0; i < j.size(); ++i) {
        auto e = FromJsonAt(j[i], where + "[" + std::to_string(i) + "]", depth + 1);
        if (!e.ok()) return e.status();
        list.push_back(std::move(*e));
      }
      return Value(std::move(list));
    }
    default:
      return Status::Invalid(where + ": objects are not attribute values");
  }
}

}  // namespace

Result<Value> FromJson(const Json& j, const std::string& where) { return FromJsonAt(j, where, 0); }

Json ToJson(const AttrMap& attrs) {
  Json o = Json::object();
  for (const auto& [k, v] : attrs) o[k] = ToJson(v);
  return o;
}

namespace {

// The value of member `k` of an attributes object: scalars directly; lists and errors through
// FromJson, which names the location.
Result<Value> MemberFromJson(const Json& v, const std::string& where, const std::string& k) {
  switch (v.type()) {
    case Json::value_t::null: return Value();
    case Json::value_t::boolean: return Value(v.get<bool>());
    case Json::value_t::number_integer: return Value(v.get<int64_t>());
    case Json::value_t::number_float: return Value(v.get<double>());
    case Json::value_t::string: return Value(v.get_ref<const std::string&>());
    default: return FromJson(v, where + "." + k);
  }
}

}  // namespace

Result<AttrPatch> PatchFromJson(const Json& j, const std::string& where) {
  if (!j.is_object()) return Status::Invalid(where + " must be a JSON object");
  AttrPatch out;
  out.reserve(j.size());
  for (auto it = j.begin(); it != j.end(); ++it) {
    auto val = MemberFromJson(*it, where, it.key());
    if (!val.ok()) return val.status();
    out.emplace_back(it.key(), std::move(*val));
  }
  return out;
}

Result<AttrMap> AttrsFromJson(const Json& j, const std::string& where) {
  if (j.is_null()) return AttrMap();
  if (!j.is_object()) return Status::Invalid(where + " must be a JSON object");
  AttrMap::Builder out;
  for (auto it = j.begin(); it != j.end(); ++it) {
    auto val = MemberFromJson(*it, where, it.key());
    if (!val.ok()) return val.status();
    out.Add(it.key(), std::move(*val));
  }
  return out.Build();
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
