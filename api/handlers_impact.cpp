// POST /v1/impact: what a failure of some CIs impacts, or what they depend on.
#include <functional>

#include "analysis/impact.hpp"
#include "analysis/impact_options.hpp"
#include "api/api.hpp"
#include "api/impact_request.hpp"
#include "cmdb/past_graph.hpp"
#include "cmdb/time_util.hpp"

namespace cmdb::api {
namespace {

// The answer: DOT, or JSON with the seeds, the impacted CIs with their paths, the services
// reached with their criticality, counts per class and the transaction it reflects.
// `G` is the committed Graph or a PastGraph (as_of); `tx` is the transaction it shows.
template <typename G>
HttpResponse Render(const G& g, const Schema& schema, TxId tx,
                    const analysis::ImpactRequest& request, const analysis::ImpactResult& result,
                    const std::string& format) {
  const std::string direction =
      request.direction == analysis::ImpactDirection::kDependsOn ? "depends_on" : "impacted";
  if (format == "dot") {
    HttpResponse r;
    r.status = 200;
    r.content_type = "text/vnd.graphviz";
    r.body = analysis::ImpactToDot(g, result);
    return r;
  }
  Json seeds = Json::array(), impacted = Json::array(), services = Json::array();
  auto index = analysis::IndexOf(result);
  for (const auto& ci : result.cis) {
    const CiRecord* rec = g.FindCi(ci.id);
    Json j{{"id", ci.id}, {"class", rec->class_name}, {"name", ToJson(rec->attrs.Get("name"))}};
    if (ci.state == analysis::ImpactState::kSeed) {
      seeds.push_back(std::move(j));
      continue;
    }
    j["distance"] = ci.distance;
    j["state"] = analysis::ImpactStateName(ci.state);
    analysis::ImpactPath path = analysis::PathOf(result, index, ci.id);
    j["path"] = Json{{"cis", path.cis}, {"relationships", path.rels}};
    impacted.push_back(std::move(j));
  }
  for (CiId id : result.services) {
    const CiRecord* rec = g.FindCi(id);
    services.push_back(Json{{"id", id},
                            {"name", ToJson(rec->attrs.Get("name"))},
                            {"criticality", ToJson(analysis::ServiceCriticality(schema, *rec))}});
  }
  return JsonResponse(200, Json{{"direction", direction},
                                {"max_depth", request.max_depth},
                                {"tx", tx},
                                {"seeds", seeds},
                                {"impacted", impacted},
                                {"total", impacted.size()},
                                {"services", services},
                                {"counts", result.per_class},
                                {"depth_limited", result.depth_limited}});
}

// The transaction an "as_of" member names: a transaction id (at most `latest`), or an ISO-8601
// time (the last transaction at or before it, not in the future).
Result<TxId> ResolveAsOf(const Json& as_of, TxId latest, Store& store, int64_t now_micros) {
  if (as_of.is_number_integer()) {
    int64_t tx = as_of.get<int64_t>();
    if (tx < 1 || static_cast<TxId>(tx) > latest)
      return Status::Invalid("as_of transaction " + std::to_string(tx) +
                             " does not exist (the latest is " + std::to_string(latest) + ")")
          .With("field", "as_of");
    return static_cast<TxId>(tx);
  }
  if (!as_of.is_string())
    return Status::Invalid("as_of must be a transaction id or an ISO-8601 time")
        .With("field", "as_of");
  const std::string text = as_of.get<std::string>();
  auto micros = ParseTimestamp(text);
  if (!micros)
    return Status::Invalid("as_of needs an ISO-8601 date-time such as '2026-01-31T12:00:00Z'")
        .With("field", "as_of");
  if (*micros > now_micros)
    return Status::Invalid("as_of '" + text + "' is in the future").With("field", "as_of");
  auto found = store.TxAtTime(*micros);
  if (!found.ok()) return found.status();
  if (*found == 0)
    return Status::Invalid("as_of '" + text + "' is before the first transaction")
        .With("field", "as_of");
  return *found;
}

}  // namespace

HttpResponse Api::Impact(const Call& call) {
  const HttpRequest& req = call.req;
  const Principal& who = call.who;
  auto body = ParseRequestJson(req.body);
  if (!body.ok()) return ErrorResponse(body.status());
  if (!body->is_object()) return ErrorResponse(Status::Invalid("body must be a JSON object"));
  if (Status st = CheckFields(*body,
                              {"cis", "query", "direction", "max_depth", "types", "classes",
                               "redundancy", "format", "as_of"},
                              "");
      !st.ok())
    return ErrorResponse(st);
  analysis::ImpactRequest request;
  Status options =
      analysis::ApplyImpactOptions(ImpactOptionsFromJson(*body, {{"direction", "direction"},
                                                                 {"max_depth", "max_depth"},
                                                                 {"types", "types"},
                                                                 {"classes", "classes"},
                                                                 {"redundancy", "redundancy"}}),
                                   request);
  if (!options.ok()) return ErrorResponse(options);
  auto format_field = StringField(*body, "format", "", "json");
  if (!format_field.ok()) return ErrorResponse(format_field.status());
  std::string format = *format_field;
  if (format != "json" && format != "dot")
    return ErrorResponse(Status::Invalid("format must be \"json\" or \"dot\""));
  if (body->contains("cis") == body->contains("query"))
    return ErrorResponse(Status::Invalid(
        "give the seed CIs as \"cis\": [ids] or as \"query\": \"MATCH ... RETURN n\""));
  std::function<Result<std::vector<CiId>>()> select_seeds;
  if (body->contains("cis")) {
    if (!(*body)["cis"].is_array())
      return ErrorResponse(Status::Invalid("\"cis\" must be a list of CI ids"));
    for (const auto& id : (*body)["cis"]) {
      if (!id.is_number_integer())
        return ErrorResponse(Status::Invalid("\"cis\" must be a list of CI ids"));
      request.seeds.push_back(id.get<int64_t>());
    }
    select_seeds = [&]() -> Result<std::vector<CiId>> { return request.seeds; };
  } else {
    if (!(*body)["query"].is_string())
      return ErrorResponse(Status::Invalid("\"query\" must be a string"));
    select_seeds = [&]() -> Result<std::vector<CiId>> {
      gql::QueryRequest q;
      q.text = (*body)["query"];
      q.allow_writes = false;
      q.meta = MetaFor(req, who, "query");
      auto rows = engine_.Run(q);
      if (!rows.ok()) return rows.status();
      std::vector<CiId> seeds;
      for (const auto& row : rows->rows) {
        for (const auto& v : row) {
          if (v.kind() == gql::QValue::Kind::kNode) seeds.push_back(v.as_node().id);
        }
      }
      return seeds;
    };
  }
  if (body->contains("as_of")) {
    // The impact as it was right after a past transaction: the seeds are ids, read then.
    if (!body->contains("cis"))
      return ErrorResponse(
          Status::Invalid("as_of takes the seeds as \"cis\"; a seed query says AS OF itself"));
    ReadView view = db_.Read();
    auto tx = ResolveAsOf((*body)["as_of"], view.tx(), *db_.store(), db_.clock().NowMicros());
    if (!tx.ok()) return ErrorResponse(tx.status());
    auto past = PastGraph::Open(view.graph(), view.tx(), *db_.store(), *tx, view.schema());
    if (!past.ok()) return ErrorResponse(past.status());
    auto result = analysis::ComputeImpact(**past, view.schema(), request);
    if (!result.ok()) return ErrorResponse(result.status());
    return Render(**past, view.schema(), *tx, request, *result, format);
  }
  // The seeds and their impact come from one committed state (see ImpactOfSelectedSeeds); the
  // answer is rendered while that state is held.
  HttpResponse response;
  Status st = ImpactOfSelectedSeeds(
      db_, select_seeds, request,
      [&](const ReadView& view, const analysis::ImpactResult& result) -> Status {
        response = Render(view.graph(), view.schema(), view.tx(), request, result, format);
        return Status::Ok();
      });
  if (!st.ok()) return ErrorResponse(st);
  return response;
}

}  // namespace cmdb::api
