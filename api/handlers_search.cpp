// GET /v1/search: type-ahead over CI names, keys, host names and IPs (cmdb/search_index.hpp).
#include "api/api.hpp"

namespace cmdb::api {

HttpResponse Api::Search(const Call& call) {
  const HttpRequest& req = call.req;
  std::string q = req.Param("q");
  if (q.empty())
    return ErrorResponse(Status::Invalid("parameter 'q' is required: the text to search for")
                             .With("parameter", "q"));
  if (q.size() > kMaxSearchQuery)
    return ErrorResponse(Status::Invalid("parameter 'q' is " + std::to_string(q.size()) +
                                         " bytes long; at most " +
                                         std::to_string(kMaxSearchQuery) + " are searched")
                             .With("parameter", "q"));
  size_t limit = kDefaultSearchLimit;
  if (std::string text = req.Param("limit"); !text.empty()) {
    auto v = ParseId(text, "limit");
    if (!v.ok()) return ErrorResponse(v.status());
    limit = static_cast<size_t>(std::min<int64_t>(*v, kMaxSearchLimit));
  }
  ReadView view = db_.Read();
  const Graph& g = view.graph();
  std::vector<SearchRank> ranks = g.search().Search(q, limit);
  Json items = Json::array();
  for (const SearchRank& r : ranks) {
    const CiRecord* ci = g.FindCi(r.id);
    if (!ci) continue;  // cannot happen: the index is the graph's (its contract)
    // The field that gave the rank, with the attribute and its text as stored.
    Json hit{{"id", ci->id}, {"class", std::string(ci->class_name)},
             {"name", ci->attrs.Has("name") && ci->attrs.Get("name").is_string()
                          ? Json(std::string(ci->attrs.Get("name").as_string()))
                          : Json(nullptr)},
             {"match", SearchMatchName(r.match)}, {"field", SearchFieldName(r.field)}};
    for (const SearchFieldValue& f : SearchFieldsOf(view.schema(), *ci)) {
      if (f.field != r.field || FoldSearchText(f.text) != r.text) continue;
      hit["attribute"] = f.attribute;
      hit["value"] = f.text;
      break;
    }
    items.push_back(std::move(hit));
  }
  return JsonResponse(200, Json{{"query", q}, {"items", items}, {"tx", view.tx()}});
}

}  // namespace cmdb::api
