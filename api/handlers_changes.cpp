// Change management: /v1/changes, /v1/windows, /v1/unauthorized-changes.
#include "importers/json_util.hpp"
#include "api/api.hpp"
#include "api/process_json.hpp"
#include "cmdb/time_util.hpp"

namespace cmdb::api {
namespace {

using process::ChangeRecord;

Status ReadString(const Json& body, const char* field, std::optional<std::string>& out) {
  if (!body.contains(field)) return Status::Ok();
  if (!body[field].is_string())
    return Status::Invalid(std::string("\"") + field + "\" must be a string").With("field", field);
  out = body[field].get<std::string>();
  return Status::Ok();
}

Result<std::vector<CiId>> ReadIds(const Json& v, const char* field) {
  std::vector<CiId> ids;
  if (!v.is_array())
    return Status::Invalid(std::string("\"") + field + "\" must be a list of CI ids")
        .With("field", field);
  for (const Json& id : v) {
    if (!id.is_number_integer() || id.get<int64_t>() <= 0)
      return Status::Invalid(std::string("\"") + field + "\" must be a list of CI ids")
          .With("field", field);
    ids.push_back(id.get<int64_t>());
  }
  return ids;
}

Result<process::ChangeFields> ChangeFieldsFromJson(const Json& body) {
  if (!body.is_object()) return Status::Invalid("body must be a JSON object");
  static const std::vector<std::string> kKnown =
      EditableFieldNames(process::ChangeFieldTable(), {"comment"});
  for (const auto& [k, v] : body.items()) {
    if (std::find(kKnown.begin(), kKnown.end(), k) == kKnown.end())
      return Status::Invalid("unknown change field \"" + k + "\"").With("field", k);
  }
  process::ChangeFields f;
  CMDB_RETURN_IF_ERROR(ReadString(body, "comment", f.comment));
  CMDB_RETURN_IF_ERROR(FieldsFromJson(process::ChangeFieldTable(), body, f.values, &f.given));
  return f;
}

Json AssessmentJson(const process::Assessment& a, bool full) {
  Json services = Json::array();
  for (size_t i = 0; i < a.services.size(); ++i) {
    services.push_back(
        Json{{"id", a.services[i]},
             {"name", i < a.service_names.size() ? a.service_names[i] : ""},
             {"criticality", i < a.service_criticality.size() ? a.service_criticality[i] : ""}});
  }
  Json j{{"number", a.number},
         {"time", FormatTimestamp(a.time)},
         {"actor", a.actor},
         {"tx", a.tx},
         {"affected", a.affected},
         {"impacted_count", a.impacted.size()},
         {"degraded_count", a.degraded.size()},
         {"services", services},
         {"counts", a.per_class},
         {"risk", Json{{"score", a.risk_score},
                       {"level", process::RiskLevelName(a.risk_level)},
                       {"explanation", a.risk_explanation}}}};
  if (full) {
    j["impacted"] = a.impacted;
    j["degraded"] = a.degraded;
  }
  return j;
}

Json ChangeJson(const ChangeRecord& c) {
  Json assessments = Json::array(), allowed = Json::array();
  for (const auto& a : c.assessments) assessments.push_back(AssessmentJson(a, false));
  for (auto s : process::AllowedTransitions(c)) allowed.push_back(process::ChangeStateName(s));
  Json j{{"id", c.id},
         {"ref", process::ChangeRef(c.id)},
         {"version", c.version},
         {"allowed_transitions", allowed},
         {"assessments", assessments},
         {"journal", JournalJson(c.events)},
         {"updated_at", TimeJson(c.updated_at)}};
  FieldsToJson(process::ChangeFieldTable(), c, j);
  if (c.implementation_started_at) {
    j["implementation"] =
        Json{{"started_at", TimeJson(c.implementation_started_at)},
             {"ended_at", TimeJson(c.implementation_ended_at)},
             {"after_tx", c.implementation_start_tx},
             {"until_tx", c.implementation_end_tx ? Json(c.implementation_end_tx) : Json(nullptr)}};
  }
  return j;
}

Json ChangeSummaryJson(const ChangeRecord& c) {
  return Json{{"id", c.id},
              {"ref", process::ChangeRef(c.id)},
              {"title", c.title},
              {"type", process::ChangeTypeName(c.type)},
              {"state", process::ChangeStateName(c.state)},
              {"planned_start", TimeJson(c.planned_start)},
              {"planned_end", TimeJson(c.planned_end)}};
}

Json WindowJson(const process::Window& w) {
  Json j{{"id", w.id}, {"version", w.version}};
  FieldsToJson(process::WindowFieldTable(), w, j);
  if (w.weekly) {
    char hhmm[32];
    std::snprintf(hhmm, sizeof hhmm, "%02d:%02d", w.start_minute / 60, w.start_minute % 60);
    j["weekly"] = Json{{"days", process::WeekdayNames(w.days)},
                       {"start", hhmm},
                       {"duration_minutes", w.duration_minutes}};
  }
  if (!w.query.empty())
    j["scope"] = Json{{"query", w.query}};
  else if (!w.cis.empty())
    j["scope"] = Json{{"cis", w.cis}};
  else
    j["scope"] = Json{{"all", true}};
  return j;
}

Result<process::Window> WindowFromJson(const Json& body) {
  if (!body.is_object()) return Status::Invalid("body must be a JSON object");
  CMDB_RETURN_IF_ERROR(
      CheckFields(body, {"name", "kind", "description", "start", "end", "weekly", "scope"}, ""));
  process::Window w;
  CMDB_RETURN_IF_ERROR(FieldsFromJson(process::WindowFieldTable(), body, w, nullptr, true));
  if (body.contains("weekly")) {
    const Json& wk = body["weekly"];
    CMDB_RETURN_IF_ERROR(CheckFields(wk, {"days", "start", "duration_minutes"}, "weekly"));
    if (!wk.is_object() || !wk.contains("days") || !wk["days"].is_array() ||
        !wk.contains("start") || !wk["start"].is_string() || !wk.contains("duration_minutes") ||
        !wk["duration_minutes"].is_number_integer())
      return Status::Invalid(
                 "\"weekly\" must be {\"days\": [\"sat\", ...], \"start\": \"HH:MM\", "
                 "\"duration_minutes\": n}")
          .With("field", "weekly");
    w.weekly = true;
    for (const Json& d : wk["days"]) {
      auto bit = d.is_string() ? process::ParseWeekday(d.get<std::string>()) : std::nullopt;
      if (!bit)
        return Status::Invalid("unknown weekday " + importers::JsonText(d) + " (use mon ... sun)")
            .With("field", "weekly.days");
      w.days |= *bit;
    }
    std::string hhmm = wk["start"];
    int h = -1, m = -1;
    if (hhmm.size() != 5 || hhmm[2] != ':' || std::sscanf(hhmm.c_str(), "%2d:%2d", &h, &m) != 2 ||
        h < 0 || h > 23 || m < 0 || m > 59)
      return Status::Invalid("weekly \"start\" must be a time of day HH:MM (UTC)")
          .With("field", "weekly.start");
    w.start_minute = h * 60 + m;
    w.duration_minutes = wk["duration_minutes"].get<int>();
  }
  // The scope names its CIs explicitly: a typo, an empty list or "all": false must not become
  // every CI.
  const char* kScopeShape = "\"scope\" must be one of {\"query\": ...}, {\"cis\": [...]} or {\"all\": true}";
  if (!body.contains("scope"))
    return Status::Invalid(std::string("a window needs a scope: ") + kScopeShape).With("field", "scope");
  {
    const Json& sc = body["scope"];
    if (!sc.is_object()) return Status::Invalid(kScopeShape).With("field", "scope");
    CMDB_RETURN_IF_ERROR(CheckFields(sc, {"query", "cis", "all"}, "scope"));
    if (sc.size() != 1) return Status::Invalid(kScopeShape).With("field", "scope");
    if (sc.contains("all") && sc["all"] != Json(true))
      return Status::Invalid("\"scope.all\" must be true (name the CIs with \"cis\" or \"query\" otherwise)")
          .With("field", "scope.all");
    if (sc.contains("query")) {
      if (!sc["query"].is_string())
        return Status::Invalid("\"scope.query\" must be a string").With("field", "scope.query");
      w.query = sc["query"];
      if (w.query.empty())
        return Status::Invalid("\"scope.query\" must not be empty").With("field", "scope.query");
    }
    if (sc.contains("cis")) {
      auto ids = ReadIds(sc["cis"], "scope.cis");
      if (!ids.ok()) return ids.status();
      if (ids->empty())
        return Status::Invalid("\"scope.cis\" must name at least one CI").With("field", "scope.cis");
      w.cis = std::move(*ids);
    }
  }
  return w;
}

}  // namespace

HttpResponse Api::ListChanges(const Call& call) {
  const HttpRequest& req = call.req;
  std::optional<process::ChangeState> state;
  if (std::string s = req.Param("state"); !s.empty()) {
    state = process::ParseChangeState(s);
    if (!state) {
      Json names = process::ChangeStateNames();
      return ErrorResponse(Status::Invalid("unknown state '" + s + "'; states: " + importers::JsonText(names))
                               .With("parameter", "state"));
    }
  }
  Json items = Json::array();
  for (const auto& c : changes_.List(state)) items.push_back(ChangeSummaryJson(c));
  return JsonResponse(200, Json{{"changes", items}, {"total", items.size()}});
}

HttpResponse Api::PostChange(const Call& call) {
  const Principal& who = call.who;
  auto body = ParseRequestJson(call.req.body);
  if (!body.ok()) return ErrorResponse(body.status());
  auto fields = ChangeFieldsFromJson(*body);
  if (!fields.ok()) return ErrorResponse(fields.status());
  auto c = changes_.Create(*fields, who.name);
  if (!c.ok()) return ErrorResponse(c.status());
  return JsonResponse(201, ChangeJson(*c));
}

HttpResponse Api::GetChange(const Call& call) {
  int64_t id = call.id;
  std::string sub = call.segments.size() == 4 ? call.segments[3] : "";
  if (sub == "history") {
    auto versions = changes_.History(id);
    if (!versions.ok()) return ErrorResponse(versions.status());
    Json items = Json::array();
    for (const auto& c : *versions) items.push_back(ChangeJson(c));
    return JsonResponse(200, Json{{"versions", items}});
  }
  if (sub == "conflicts") {
    auto report = changes_.Conflicts(id);
    if (!report.ok()) return ErrorResponse(report.status());
    Json collisions = Json::array(), blackouts = Json::array(), outside = Json::array();
    for (const auto& c : report->collisions) {
      Json j = ChangeSummaryJson(c.other);
      j["shared_cis"] = c.shared;
      collisions.push_back(std::move(j));
    }
    for (const auto& b : report->blackouts) {
      Json j = WindowJson(b.window);
      j["cis"] = b.cis;
      blackouts.push_back(std::move(j));
    }
    for (const auto& o : report->outside_maintenance)
      outside.push_back(Json{{"ci", o.ci}, {"windows", o.windows}});
    bool clear = collisions.empty() && blackouts.empty() && outside.empty();
    return JsonResponse(200, Json{{"change", id},
                                  {"tx", report->tx},
                                  {"scope_size", report->scope.size()},
                                  {"clear", clear},
                                  {"collisions", collisions},
                                  {"blackouts", blackouts},
                                  {"outside_maintenance", outside}});
  }
  if (sub == "review") {
    auto report = changes_.Review(id);
    if (!report.ok()) return ErrorResponse(report.status());
    Json changes = Json::array(), flagged = Json::array();
    for (const auto& c : report->changes) {
      changes.push_back(Json{{"ci", c.ci},
                             {"class", c.class_name},
                             {"name", c.name},
                             {"what", process::CiChangeKindName(c.what)},
                             {"attributes", AttrDiffsJson(c.diffs)},
                             {"tx", TxToJson(c.tx)}});
    }
    for (const auto& t : report->unauthorized) flagged.push_back(TxToJson(t));
    return JsonResponse(200, Json{{"change", id},
                                  {"after_tx", report->from_tx},
                                  {"until_tx", report->to_tx},
                                  {"scope_size", report->scope.size()},
                                  {"changes", changes},
                                  {"unauthorized", flagged}});
  }
  auto c = changes_.Get(id);
  if (!c)
    return ErrorResponse(Status::NotFound("change " + std::to_string(id) + " does not exist"));
  if (sub == "assessments") {
    Json items = Json::array();
    for (const auto& a : c->assessments) items.push_back(AssessmentJson(a, true));
    return JsonResponse(200, Json{{"change", id}, {"assessments", items}});
  }
  HttpResponse r = JsonResponse(200, ChangeJson(*c));
  r.headers.emplace_back("ETag", "\"" + std::to_string(c->version) + "\"");
  return r;
}

HttpResponse Api::PatchChange(const Call& call) {
  const Principal& who = call.who;
  const HttpRequest& req = call.req;
  int64_t id = call.id;
  auto expected = ParseIfMatch(req.Header("if-match"));
  if (!expected.ok()) return ErrorResponse(expected.status());
  auto body = ParseRequestJson(req.body);
  if (!body.ok()) return ErrorResponse(body.status());
  auto fields = ChangeFieldsFromJson(*body);
  if (!fields.ok()) return ErrorResponse(fields.status());
  auto c = changes_.Update(id, *fields, *expected, who.name);
  if (!c.ok()) return ErrorResponse(c.status());
  return JsonResponse(200, ChangeJson(*c));
}

HttpResponse Api::TransitionChange(const Call& call) {
  const Principal& who = call.who;
  int64_t id = call.id;
  auto body = ParseRequestJson(call.req.body);
  if (!body.ok()) return ErrorResponse(body.status());
  if (!body->is_object() || !body->contains("to") || !(*body)["to"].is_string())
    return ErrorResponse(
        Status::Invalid("body must be {\"to\": \"<state>\", \"comment\": \"...\"}"));
  if (Status st = CheckFields(*body, {"to", "comment"}, ""); !st.ok()) return ErrorResponse(st);
  std::string to_name = (*body)["to"];
  auto to = process::ParseChangeState(to_name);
  if (!to) {
    Json names = process::ChangeStateNames();
    return ErrorResponse(Status::Invalid("unknown state '" + to_name + "'; states: " + importers::JsonText(names))
                             .With("field", "to"));
  }
  // Deciding on a change (assess, approve, reject, schedule, close) is the change manager's
  // (declared in the route's row; requesting changes, the route's permission, was checked).
  using S = process::ChangeState;
  bool deciding = *to == S::kAssessed || *to == S::kApproved || *to == S::kRejected ||
                  *to == S::kScheduled || *to == S::kClosed;
  if (deciding) {
    if (auto denied = call.Require(Permission::kManageChanges, "move a change to " + to_name))
      return *denied;
  }
  std::optional<std::string> comment;
  Status st = ReadString(*body, "comment", comment);
  if (!st.ok()) return ErrorResponse(st);
  auto c = changes_.Transition(id, *to, comment.value_or(""), who.name);
  if (!c.ok()) return ErrorResponse(c.status());
  return JsonResponse(200, ChangeJson(*c));
}

HttpResponse Api::Windows(const Call& call) {
  const HttpRequest& req = call.req;
  const Principal& who = call.who;
  int64_t id = call.id;  // 0: /v1/windows
  if (id == 0 && req.method == "GET") {
    Json items = Json::array();
    for (const auto& w : changes_.ListWindows()) items.push_back(WindowJson(w));
    return JsonResponse(200, Json{{"windows", items}});
  }
  if (id == 0) {  // POST
    auto body = ParseRequestJson(req.body);
    if (!body.ok()) return ErrorResponse(body.status());
    auto w = WindowFromJson(*body);
    if (!w.ok()) return ErrorResponse(w.status());
    auto created = changes_.CreateWindow(std::move(*w), who.name);
    if (!created.ok()) return ErrorResponse(created.status());
    return JsonResponse(201, WindowJson(*created));
  }
  if (req.method == "DELETE") {
    Status st = changes_.DeleteWindow(id, who.name);
    return st.ok() ? JsonResponse(200, Json{{"deleted", id}}) : ErrorResponse(st);
  }
  auto w = changes_.GetWindow(id);
  if (!w)
    return ErrorResponse(Status::NotFound("window " + std::to_string(id) + " does not exist"));
  return JsonResponse(200, WindowJson(*w));
}

HttpResponse Api::UnauthorizedChanges(const Call& call) {
  const HttpRequest& req = call.req;
  auto limit = PageLimit(req);
  if (!limit.ok()) return ErrorResponse(limit.status());
  int64_t since = 0;
  if (std::string s = req.Param("since"); !s.empty()) {
    auto v = ParseId(s, "since");
    if (!v.ok()) return ErrorResponse(v.status());
    since = *v;
  }
  auto txs = db_.store()->FlaggedTransactions(since, *limit);
  if (!txs.ok()) return ErrorResponse(txs.status());
  Json items = Json::array();
  for (const auto& t : *txs) items.push_back(TxToJson(t));
  Json out{{"transactions", items}};
  if (static_cast<int>(txs->size()) == *limit)
    out["next"] = "/v1/unauthorized-changes?since=" + std::to_string(txs->back().id);
  return JsonResponse(200, out);
}

}  // namespace cmdb::api
