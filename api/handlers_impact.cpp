// POST /v1/impact: what a failure of some CIs impacts, or what they depend on.
#include "analysis/impact.hpp"
#include "api/api.hpp"
#include "cmdb/suggest.hpp"

namespace cmdb::api {

HttpResponse Api::Impact(const Call& call) {
  const HttpRequest& req = call.req;
  const Principal& who = call.who;
  auto body = ParseRequestJson(req.body);
  if (!body.ok()) return ErrorResponse(body.status());
  if (!body->is_object()) return ErrorResponse(Status::Invalid("body must be a JSON object"));
  if (Status st = CheckFields(*body, {"cis", "query", "direction", "max_depth", "types", "classes",
                                      "redundancy", "format"},
                              "");
      !st.ok())
    return ErrorResponse(st);
  analysis::ImpactRequest request;
  auto direction_field = StringField(*body, "direction", "", "impacted");
  if (!direction_field.ok()) return ErrorResponse(direction_field.status());
  std::string direction = *direction_field;
  if (direction == "depends_on") request.direction = analysis::ImpactDirection::kDependsOn;
  else if (direction != "impacted")
    return ErrorResponse(Status::Invalid("direction must be \"impacted\" or \"depends_on\", not \"" + direction + "\""));
  if (body->contains("max_depth")) {
    if (!(*body)["max_depth"].is_number_integer() || (*body)["max_depth"].get<int64_t>() < 0 ||
        (*body)["max_depth"].get<int64_t>() > 100)
      return ErrorResponse(Status::Invalid("max_depth must be an integer from 0 to 100"));
    request.max_depth = (*body)["max_depth"].get<int>();
  }
  for (const char* field : {"types", "classes"}) {
    if (!body->contains(field)) continue;
    const Json& list = (*body)[field];
    if (!list.is_array()) return ErrorResponse(Status::Invalid(std::string("\"") + field + "\" must be a list of names"));
    for (const auto& item : list) {
      if (!item.is_string()) return ErrorResponse(Status::Invalid(std::string("\"") + field + "\" must be a list of names"));
      (std::string(field) == "types" ? request.types : request.classes).push_back(item.get<std::string>());
    }
  }
  if (body->contains("redundancy")) {
    if (!(*body)["redundancy"].is_boolean()) return ErrorResponse(Status::Invalid("\"redundancy\" must be true or false"));
    request.redundancy = (*body)["redundancy"].get<bool>();
  }
  auto format_field = StringField(*body, "format", "", "json");
  if (!format_field.ok()) return ErrorResponse(format_field.status());
  std::string format = *format_field;
  if (format != "json" && format != "dot")
    return ErrorResponse(Status::Invalid("format must be \"json\" or \"dot\""));
  if (body->contains("cis") == body->contains("query"))
    return ErrorResponse(Status::Invalid("give the seed CIs as \"cis\": [ids] or as \"query\": \"MATCH ... RETURN n\""));
  if (body->contains("cis")) {
    if (!(*body)["cis"].is_array()) return ErrorResponse(Status::Invalid("\"cis\" must be a list of CI ids"));
    for (const auto& id : (*body)["cis"]) {
      if (!id.is_number_integer()) return ErrorResponse(Status::Invalid("\"cis\" must be a list of CI ids"));
      request.seeds.push_back(id.get<int64_t>());
    }
  } else {
    if (!(*body)["query"].is_string()) return ErrorResponse(Status::Invalid("\"query\" must be a string"));
    gql::QueryRequest q;
    q.text = (*body)["query"];
    q.allow_writes = false;
    q.meta = MetaFor(req, who, "query");
    auto seeds = engine_.Run(q);
    if (!seeds.ok()) return ErrorResponse(seeds.status());
    for (const auto& row : seeds->rows) {
      for (const auto& v : row) {
        if (v.kind() == gql::QValue::Kind::kNode) request.seeds.push_back(v.as_node().id);
      }
    }
  }
  ReadView view = db_.Read();
  auto result = analysis::ComputeImpact(view.graph(), view.schema(), request);
  if (!result.ok()) return ErrorResponse(result.status());
  if (format == "dot") {
    HttpResponse r;
    r.status = 200;
    r.content_type = "text/vnd.graphviz";
    r.body = analysis::ImpactToDot(view.graph(), *result);
    return r;
  }
  const Graph& g = view.graph();
  Json seeds = Json::array(), impacted = Json::array(), services = Json::array();
  auto index = analysis::IndexOf(*result);
  for (const auto& ci : result->cis) {
    const CiRecord* rec = g.FindCi(ci.id);
    Json j{{"id", ci.id}, {"class", rec->class_name}, {"name", ToJson(rec->attrs.Get("name"))}};
    if (ci.state == analysis::ImpactState::kSeed) {
      seeds.push_back(std::move(j));
      continue;
    }
    j["distance"] = ci.distance;
    j["state"] = analysis::ImpactStateName(ci.state);
    analysis::ImpactPath path = analysis::PathOf(*result, index, ci.id);
    j["path"] = Json{{"cis", path.cis}, {"relationships", path.rels}};
    impacted.push_back(std::move(j));
  }
  for (CiId id : result->services) {
    const CiRecord* rec = g.FindCi(id);
    services.push_back(Json{{"id", id}, {"name", ToJson(rec->attrs.Get("name"))},
                            {"criticality", ToJson(rec->attrs.Get("criticality"))}});
  }
  return JsonResponse(200, Json{{"direction", direction},
                                {"max_depth", request.max_depth},
                                {"tx", view.tx()},
                                {"seeds", seeds},
                                {"impacted", impacted},
                                {"total", impacted.size()},
                                {"services", services},
                                {"counts", result->per_class},
                                {"depth_limited", result->depth_limited}});
}

}  // namespace cmdb::api
