// Release management: /v1/baselines, /v1/releases, /v1/audits.
#include "importers/json_util.hpp"
#include "analysis/impact_options.hpp"
#include "api/api.hpp"
#include "api/impact_request.hpp"
#include "api/process_json.hpp"
#include "cmdb/time_util.hpp"

namespace cmdb::api {
namespace {

using process::ReleaseRecord;

Json BaselineJson(const process::Baseline& b) {
  Json scope;
  if (b.scope_kind == process::ScopeKind::kQuery) {
    scope = Json{{"query", b.scope_query}};
  } else if (b.scope_kind == process::ScopeKind::kRoots) {
    scope = Json{{"roots", b.roots},
                 {"follow", process::ScopeFollowName(b.follow)},
                 {"max_depth", b.max_depth}};
    if (!b.types.empty()) scope["types"] = b.types;
    if (!b.classes.empty()) scope["classes"] = b.classes;
    if (!b.redundancy) scope["redundancy"] = false;
  } else {
    scope = Json{{"all", true}};
  }
  Json j{{"id", b.id}, {"scope", scope}, {"cis", b.cis.size()}, {"relationships", b.rels.size()}};
  FieldsToJson(process::BaselineFieldTable(), b, j);
  if (b.release_id) j["release"] = b.release_id;
  return j;
}

Result<std::vector<int64_t>> Ids(const Json& body, const char* field) {
  std::vector<int64_t> ids;
  if (!body.contains(field)) return ids;
  if (!body[field].is_array())
    return Status::Invalid(std::string("\"") + field + "\" must be a list of ids")
        .With("field", field);
  for (const Json& v : body[field]) {
    if (!v.is_number_integer() || v.get<int64_t>() <= 0)
      return Status::Invalid(std::string("\"") + field + "\" must be a list of ids")
          .With("field", field);
    ids.push_back(v.get<int64_t>());
  }
  return ids;
}

Json ReleaseJson(const ReleaseRecord& r) {
  Json results = Json::array(), allowed = Json::array();
  for (const auto& res : r.results)
    results.push_back(
        Json{{"criterion", res.criterion}, {"passed", res.passed}, {"note", res.note}});
  for (auto s : process::AllowedTransitions(r)) allowed.push_back(process::ReleaseStateName(s));
  Json j{{"id", r.id},
         {"version", r.version},
         {"allowed_transitions", allowed},
         {"results", results},
         {"journal", JournalJson(r.events)},
         {"updated_at", TimeJson(r.updated_at)}};
  FieldsToJson(process::ReleaseFieldTable(), r, j);
  if (r.verification) {
    const auto& v = *r.verification;
    j["verification"] = Json{
        {"time", TimeJson(v.time)},
        {"tx", v.tx},
        {"cis", {{"added", v.cis_added}, {"removed", v.cis_removed}, {"changed", v.cis_changed}}},
        {"relationships",
         {{"added", v.rels_added}, {"removed", v.rels_removed}, {"changed", v.rels_changed}}},
        {"changed_cis", v.changed_cis}};
  }
  return j;
}

// Applies a JSON body to release fields (absent ones keep their value).
Status ReleaseFields(const Json& body, ReleaseRecord& r, std::string& comment) {
  if (!body.is_object()) return Status::Invalid("body must be a JSON object");
  static const std::vector<std::string> kKnown =
      EditableFieldNames(process::ReleaseFieldTable(), {"comment"});
  for (const auto& [k, v] : body.items()) {
    if (std::find(kKnown.begin(), kKnown.end(), k) == kKnown.end())
      return Status::Invalid("unknown release field \"" + k + "\"").With("field", k);
  }
  if (body.contains("comment")) {
    if (!body["comment"].is_string())
      return Status::Invalid("\"comment\" must be a string").With("field", "comment");
    comment = body["comment"].get<std::string>();
  }
  CMDB_RETURN_IF_ERROR(FieldsFromJson(process::ReleaseFieldTable(), body, r));
  if (body.contains("results")) {
    const Json& res = body["results"];
    if (!res.is_array())
      return Status::Invalid("\"results\" must be a list of {\"criterion\", \"passed\", \"note\"}")
          .With("field", "results");
    r.results.clear();
    for (const Json& x : res) {
      if (!x.is_object() || !x.contains("criterion") || !x["criterion"].is_string() ||
          !x.contains("passed") || !x["passed"].is_boolean())
        return Status::Invalid(
                   "\"results\" must be a list of {\"criterion\", \"passed\", \"note\"}")
            .With("field", "results");
      r.results.push_back({x["criterion"], x["passed"], x.value("note", std::string())});
    }
  }
  return Status::Ok();
}

// {"class", "attributes"} or {"class", "key"} of an expected CI.
Result<process::ExpectedCi> ExpectedCiFrom(const Json& j, int64_t line, const char* where) {
  if (!j.is_object() || !j.contains("class") || !j["class"].is_string())
    return Status::Invalid(std::string("expected line ") + std::to_string(line) + ": " + where +
                           " needs a \"class\"")
        .With("line", line);
  const Json& attrs = j.contains("attributes") ? j["attributes"]
                      : j.contains("key")      ? j["key"]
                                               : Json::object();
  auto m = AttrsFromJson(attrs, std::string("expected line ") + std::to_string(line));
  if (!m.ok()) return m.status();
  return process::ExpectedCi{j["class"], std::move(*m), line};
}

}  // namespace

HttpResponse Api::Baselines(const Call& call) {
  const HttpRequest& req = call.req;
  const Principal& who = call.who;
  const Segments& seg = call.segments;
  const std::string& m = req.method;
  if (seg.size() == 2 && m == "GET") {
    Json items = Json::array();
    for (const auto& b : baseline_service_.List()) items.push_back(BaselineJson(b));
    return JsonResponse(200, Json{{"baselines", items}});
  }
  if (seg.size() == 2) {  // POST
    auto body = ParseRequestJson(req.body);
    if (!body.ok()) return ErrorResponse(body.status());
    if (!body->is_object() || !body->contains("name") || !(*body)["name"].is_string() ||
        !body->contains("scope") || !(*body)["scope"].is_object())
      return ErrorResponse(
          Status::Invalid("body must be {\"name\", \"description\", \"scope\": {\"query\"} | "
                          "{\"roots\", \"follow\", \"max_depth\"} | {\"all\": true}}"));
    process::BaselineSpec spec;
    spec.name = (*body)["name"];
    spec.description = body->value("description", std::string());
    const Json& scope = (*body)["scope"];
    if (scope.contains("query")) {
      if (!scope["query"].is_string())
        return ErrorResponse(
            Status::Invalid("\"scope.query\" must be a string").With("field", "scope.query"));
      spec.scope_kind = process::ScopeKind::kQuery;
      spec.query = scope["query"];
    } else if (scope.contains("roots")) {
      auto roots = Ids(scope, "roots");
      if (!roots.ok()) return ErrorResponse(roots.status());
      spec.scope_kind = process::ScopeKind::kRoots;
      spec.roots = *roots;
      // The impact options, by the rules of POST /v1/impact and CALL impact; the direction is
      // "follow" here, and a baseline follows dependencies unless told otherwise.
      static const std::vector<std::pair<std::string, std::string>> kOptions = {
          {"follow", "direction"}, {"max_depth", "max_depth"}, {"types", "types"},
          {"classes", "classes"}, {"redundancy", "redundancy"}};
      analysis::ImpactRequest options;
      options.direction = analysis::ImpactDirection::kDependsOn;
      options.max_depth = spec.max_depth;
      Status st = analysis::ApplyImpactOptions(ImpactOptionsFromJson(scope, kOptions), options);
      if (!st.ok()) {
        std::string field;
        for (const auto& [key, value] : st.details()) {
          for (const auto& [member, option] : kOptions) {
            if (key == "option" && value == Value(option)) field = "scope." + member;
          }
        }
        if (!field.empty()) st.With("field", field);
        return ErrorResponse(st);
      }
      spec.follow_impacted = options.direction == analysis::ImpactDirection::kImpacted;
      spec.max_depth = options.max_depth;
      spec.types = options.types;
      spec.classes = options.classes;
      spec.redundancy = options.redundancy;
    } else if (scope.value("all", false)) {
      spec.scope_kind = process::ScopeKind::kAll;
    } else {
      return ErrorResponse(Status::Invalid("\"scope\" must be {\"query\"}, {\"roots\", \"follow\", "
                                           "\"max_depth\"} or {\"all\": true}")
                               .With("field", "scope"));
    }
    auto b = baseline_service_.Capture(spec, who.name);
    if (!b.ok()) return ErrorResponse(b.status());
    return JsonResponse(201, BaselineJson(*b));
  }
  auto b = baseline_service_.Get(seg[2]);
  if (!b) return ErrorResponse(Status::NotFound("no baseline named '" + seg[2] + "'"));
  auto limit = PageLimit(req);
  if (!limit.ok()) return ErrorResponse(limit.status());
  size_t offset = 0;
  if (std::string o = req.Param("offset"); !o.empty()) {
    auto v = ParseId("1" + o, "offset");  // allows 0
    if (!v.ok() || o.size() > 12)
      return ErrorResponse(
          Status::Invalid("offset must be a non-negative integer").With("parameter", "offset"));
    offset = static_cast<size_t>(std::stoll(o));
  }
  if (seg.size() == 3 && m == "DELETE") {  // admin only (the route's permission)
    Status st = baseline_service_.Delete(seg[2], who.name);
    return st.ok() ? JsonResponse(200, Json{{"deleted", seg[2]}}) : ErrorResponse(st);
  }
  if (seg.size() == 3) {
    std::vector<CiRecord> cis;
    std::vector<RelRecord> rels;
    Status st = baseline_service_.Contents(*b, offset, *limit, cis, rels);
    if (!st.ok()) return ErrorResponse(st);
    Json j = BaselineJson(*b), ci_items = Json::array(), rel_items = Json::array();
    for (const auto& c : cis) ci_items.push_back(CiToJson(c));
    for (const auto& r : rels) rel_items.push_back(RelToJson(r));
    j["items"] = Json{{"cis", ci_items}, {"relationships", rel_items}};
    j["offset"] = offset;
    size_t total = b->cis.size() + b->rels.size();
    if (offset + *limit < total)
      j["next"] = "/v1/baselines/" + b->name + "?offset=" + std::to_string(offset + *limit) +
                  "&limit=" + std::to_string(*limit);
    return JsonResponse(200, j);
  }
  // GET /v1/baselines/{name}/diff
  process::DiffTarget target;
  std::string against = req.Param("against");
  std::string as_of = req.Param("as_of");
  if (against.rfind("as_of=", 0) == 0) as_of = against.substr(6);
  if (!as_of.empty()) {
    auto t = ParseTimestamp(as_of);
    if (!t)
      return ErrorResponse(
          Status::Invalid("as_of must be an ISO-8601 time").With("parameter", "as_of"));
    target.kind = process::DiffTarget::kAsOf;
    target.as_of = *t;
  } else if (!against.empty() && against != "current") {
    target.kind = process::DiffTarget::kBaseline;
    target.baseline = against;
  }
  target.include_new = req.Param("include_new") == "true";  // CheckParams: true or false
  auto diff = baseline_service_.Diff(*b, target);
  if (!diff.ok()) return ErrorResponse(diff.status());
  Json entries = Json::array();
  for (size_t i = offset; i < diff->entries.size() && i < offset + *limit; ++i) {
    const auto& e = diff->entries[i];
    Json j{{"what", process::DiffSubjectName(e.what)},
           {"change", process::DiffChangeName(e.change)},
           {"id", e.id}};
    if (e.what == process::DiffSubject::kCi)
      j["class"] = e.class_name, j["name"] = e.name;
    else
      j["type"] = e.type, j["from"] = e.from, j["to"] = e.to;
    if (!e.attrs.empty()) j["attributes"] = AttrDiffsJson(e.attrs);
    entries.push_back(std::move(j));
  }
  const auto& c = diff->counts;
  Json out{
      {"baseline", b->name},
      {"against", target.kind == process::DiffTarget::kBaseline ? against
                  : target.kind == process::DiffTarget::kAsOf   ? "as_of=" + as_of
                                                                : "current"},
      {"from_tx", diff->from_tx},
      {"to_tx", diff->to_tx},
      {"summary",
       {{"cis", {{"added", c.cis_added}, {"removed", c.cis_removed}, {"changed", c.cis_changed}}},
        {"relationships",
         {{"added", c.rels_added}, {"removed", c.rels_removed}, {"changed", c.rels_changed}}}}},
      {"total", diff->entries.size()},
      {"offset", offset},
      {"entries", entries}};
  if (offset + *limit < diff->entries.size()) {
    std::string next = "/v1/baselines/" + b->name +
                       "/diff?offset=" + std::to_string(offset + *limit) +
                       "&limit=" + std::to_string(*limit);
    if (!against.empty()) next += "&against=" + against;
    if (!req.Param("as_of").empty()) next += "&as_of=" + req.Param("as_of");
    if (target.include_new) next += "&include_new=true";
    out["next"] = next;
  }
  return JsonResponse(200, out);
}

HttpResponse Api::Releases(const Call& call) {
  const HttpRequest& req = call.req;
  const Principal& who = call.who;
  const Segments& seg = call.segments;
  const std::string& m = req.method;
  if (seg.size() == 2 && m == "GET") {
    std::optional<process::ReleaseState> state;
    if (std::string s = req.Param("state"); !s.empty()) {
      state = process::ParseReleaseState(s);
      if (!state)
        return ErrorResponse(Status::Invalid("unknown release state '" + s + "'; states: " +
                                             importers::JsonText(Json(process::ReleaseStateNames())))
                                 .With("parameter", "state"));
    }
    Json items = Json::array();
    for (const auto& r : releases_.ListReleases(state)) {
      items.push_back(Json{{"id", r.id},
                           {"name", r.name},
                           {"release_version", r.release_version},
                           {"type", process::ReleaseTypeName(r.type)},
                           {"state", process::ReleaseStateName(r.state)}});
    }
    return JsonResponse(200, Json{{"releases", items}, {"total", items.size()}});
  }
  if (seg.size() == 2) {  // POST
    auto body = ParseRequestJson(req.body);
    if (!body.ok()) return ErrorResponse(body.status());
    ReleaseRecord r;
    std::string comment;
    Status st = ReleaseFields(*body, r, comment);
    if (!st.ok()) return ErrorResponse(st);
    auto created = releases_.CreateRelease(std::move(r), who.name);
    if (!created.ok()) return ErrorResponse(created.status());
    return JsonResponse(201, ReleaseJson(*created));
  }
  auto id = ParseId(seg[2], "release id");
  if (!id.ok()) return ErrorResponse(id.status());
  auto current = releases_.GetRelease(*id);
  if (!current)
    return ErrorResponse(Status::NotFound("release " + std::to_string(*id) + " does not exist"));
  if (m == "GET") {
    HttpResponse r = JsonResponse(200, ReleaseJson(*current));
    r.headers.emplace_back("ETag", "\"" + std::to_string(current->version) + "\"");
    return r;
  }
  auto body = ParseRequestJson(req.body);
  if (!body.ok()) return ErrorResponse(body.status());
  if (seg.size() == 4) {  // POST .../transition
    if (!body->is_object() || !body->contains("to") || !(*body)["to"].is_string())
      return ErrorResponse(
          Status::Invalid("body must be {\"to\": \"<state>\", \"comment\": \"...\"}"));
    auto to = process::ParseReleaseState((*body)["to"].get<std::string>());
    if (!to)
      return ErrorResponse(Status::Invalid("unknown release state " + importers::JsonText((*body)["to"]) +
                                           "; states: " + importers::JsonText(Json(process::ReleaseStateNames())))
                               .With("field", "to"));
    auto r = releases_.TransitionRelease(*id, *to, body->value("comment", std::string()), who.name);
    return r.ok() ? JsonResponse(200, ReleaseJson(*r)) : ErrorResponse(r.status());
  }
  auto expected = ParseIfMatch(req.Header("if-match"));
  if (!expected.ok()) return ErrorResponse(expected.status());
  ReleaseRecord fields = *current;
  std::string comment;
  Status st = ReleaseFields(*body, fields, comment);
  if (!st.ok()) return ErrorResponse(st);
  auto r = releases_.UpdateRelease(*id, fields, comment, *expected, who.name);
  return r.ok() ? JsonResponse(200, ReleaseJson(*r)) : ErrorResponse(r.status());
}

HttpResponse Api::Audits(const Call& call) {
  const HttpRequest& req = call.req;
  const Principal& who = call.who;
  const Segments& seg = call.segments;
  auto report_json = [](const process::AuditReport& a, bool findings) {
    Json j{{"id", a.id},
           {"counts",
            {{"missing", a.missing},
             {"unexpected", a.unexpected},
             {"attribute_drift", a.attribute_drift},
             {"relationship_drift", a.relationship_drift}}}};
    FieldsToJson(process::AuditFieldTable(), a, j);
    if (findings) {
      Json items = Json::array();
      for (const auto& f : a.findings) {
        Json x{{"kind", process::FindingKindName(f.kind)}, {"description", f.description}};
        if (f.ci) x["ci"] = f.ci;
        if (!f.attrs.empty()) {
          Json attrs = Json::array();
          for (const auto& d : f.attrs)
            attrs.push_back(Json{{"attribute", d.name},
                                 {"expected", ToJson(d.before)},
                                 {"actual", ToJson(d.after)}});
          x["attributes"] = attrs;
        }
        items.push_back(std::move(x));
      }
      j["findings"] = items;
    }
    return j;
  };
  if (seg.size() == 3) {
    auto id = ParseId(seg[2], "audit id");
    if (!id.ok()) return ErrorResponse(id.status());
    auto a = audits_.Get(*id);
    if (!a)
      return ErrorResponse(Status::NotFound("audit " + std::to_string(*id) + " does not exist"));
    return JsonResponse(200, report_json(*a, true));
  }
  if (req.method == "GET") {
    Json items = Json::array();
    for (const auto& a : audits_.List()) items.push_back(report_json(a, false));
    return JsonResponse(200, Json{{"audits", items}});
  }
  auto body = ParseRequestJson(req.body);
  if (!body.ok()) return ErrorResponse(body.status());
  if (!body->is_object() || body->contains("baseline") == body->contains("expected"))
    return ErrorResponse(
        Status::Invalid("body must be {\"baseline\": \"<name>\"} or {\"expected\": [CIs and "
                        "relationships as bulk lines]}"));
  Result<process::AuditReport> report = Status::Internal("unset");
  if (body->contains("baseline")) {
    if (!(*body)["baseline"].is_string())
      return ErrorResponse(
          Status::Invalid("\"baseline\" must be a name").With("field", "baseline"));
    report = audits_.AuditBaseline((*body)["baseline"], who.name);
  } else {
    const Json& lines = (*body)["expected"];
    if (!lines.is_array())
      return ErrorResponse(
          Status::Invalid("\"expected\" must be a list of bulk lines").With("field", "expected"));
    std::vector<process::ExpectedCi> cis;
    std::vector<process::ExpectedRel> rels;
    int64_t line = 0;
    for (const Json& l : lines) {
      ++line;
      std::string op = l.is_object() ? l.value("op", std::string("ci")) : "";
      if (op == "ci") {
        auto e = ExpectedCiFrom(l, line, "a CI");
        if (!e.ok()) return ErrorResponse(e.status());
        cis.push_back(std::move(*e));
      } else if (op == "rel" && l.contains("type") && l["type"].is_string() && l.contains("from") &&
                 l.contains("to")) {
        auto from = ExpectedCiFrom(l["from"], line, "\"from\"");
        if (!from.ok()) return ErrorResponse(from.status());
        auto to = ExpectedCiFrom(l["to"], line, "\"to\"");
        if (!to.ok()) return ErrorResponse(to.status());
        rels.push_back({l["type"], std::move(*from), std::move(*to), line});
      } else {
        return ErrorResponse(
            Status::Invalid("expected line " + std::to_string(line) +
                            ": must be {\"op\": \"ci\", \"class\", \"attributes\"} or {\"op\": "
                            "\"rel\", \"type\", \"from\": {\"class\", \"key\"}, \"to\": {...}}")
                .With("line", line));
      }
    }
    report = audits_.AuditExpected(cis, rels, who.name);
  }
  if (!report.ok()) return ErrorResponse(report.status());
  return JsonResponse(201, report_json(*report, true));
}

}  // namespace cmdb::api
