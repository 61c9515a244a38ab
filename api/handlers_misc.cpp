// Handlers for health, the OpenAPI file, schema, the transaction log, bulk loading and tokens.
#include "importers/json_util.hpp"
#include "api/api.hpp"
#include "api/params.hpp"
#include "bulk/bulk.hpp"
#include "api/ddl_text.hpp"
#include "api/openapi.hpp"
#include "cmdb/time_util.hpp"
#include "query/ddl/ddl_parser.hpp"

namespace cmdb::api {

HttpResponse Api::Health(const Call&) {
  ReadView view = db_.Read();
  return JsonResponse(200, Json{{"status", "ok"},
                                {"tx", view.tx()},
                                {"schema_version", view.schema().version()},
                                {"cis", view.graph().ci_count()},
                                {"relationships", view.graph().rel_count()}});
}

HttpResponse Api::Metrics(const Call&) {
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = metrics_->Render();
  return r;
}

HttpResponse Api::OpenApi(const Call&) {
  HttpResponse r;
  r.content_type = "application/yaml";
  r.body = std::string(OpenApiYaml());
  return r;
}

HttpResponse Api::WhoAmI(const Call& call) {
  return JsonResponse(200, Json{{"name", call.who.name}, {"role", RoleName(call.who.role)}});
}

HttpResponse Api::GetSchema(const Call&) {
  auto schema = db_.schema();
  Json j = SchemaToJson(*schema);
  if (schema->open_mode()) {
    ReadView view = db_.Read();
    j["classes_in_use"] = view.graph().ClassesInUse();
  }
  j["ddl"] = schema->ToDdl();
  return JsonResponse(200, j);
}

HttpResponse Api::PostSchema(const Call& call) {
  const Principal& who = call.who;
  const HttpRequest& req = call.req;
  auto body = ParseRequestJson(req.body);
  if (!body.ok()) return ErrorResponse(body.status());
  if (!body->is_object() || !(*body)["ddl"].is_string())
    return ErrorResponse(Status::Invalid("body must be {\"ddl\": \"CREATE NODE TYPE ...\"}"));
  if (Status st = CheckFields(*body, {"ddl"}, ""); !st.ok()) return ErrorResponse(st);
  const std::string& ddl = (*body)["ddl"].get_ref<const std::string&>();
  if (!DdlHasStatement(ddl))
    return ErrorResponse(
        Status::Invalid("\"ddl\" holds no statement (CREATE, ALTER or DROP)").With("field", "ddl"));
  std::shared_ptr<const Schema> current = db_.schema();
  Schema next = *current;
  Status st = ddl::ApplyDdl(ddl, next);
  if (!st.ok()) return ErrorResponse(st);
  // A change that changes nothing writes nothing: no new version, no transaction.
  if (SameSchema(next, *current))
    return JsonResponse(200, Json{{"schema_version", current->version()},
                                  {"tx", nullptr},
                                  {"cis_rewritten", 0},
                                  {"changed", false}});
  auto tx = db_.ChangeSchema(MetaFor(req, who, "schema"), std::move(next));
  if (!tx.ok()) return ErrorResponse(tx.status());
  return JsonResponse(200, Json{{"schema_version", tx->schema_version},
                                {"tx", tx->id},
                                {"cis_rewritten", tx->cis_written},
                                {"changed", true}});
}

HttpResponse Api::Transactions(const Call& call) {
  const HttpRequest& req = call.req;
  auto limit = PageLimit(req);
  if (!limit.ok()) return ErrorResponse(limit.status());
  TxId since = 0;
  if (std::string s = req.Param("since"); !s.empty() && s != "0") {
    auto v = ParseId(s, "since");
    if (!v.ok()) return ErrorResponse(v.status());
    since = *v;
  }
  auto txs = db_.store()->Transactions(since, *limit);
  if (!txs.ok()) return ErrorResponse(txs.status());
  Json items = Json::array();
  for (const TxRecord& t : *txs) items.push_back(TxToJson(t));
  Json next = txs->size() == static_cast<size_t>(*limit) ? Json(txs->back().id) : Json(nullptr);
  return JsonResponse(200, Json{{"items", items}, {"next_since", next}});
}

HttpResponse Api::VerifyChain(const Call& call) {
  const HttpRequest& req = call.req;
  VerifyOptions options;
  if (std::string head = req.Param("head"); !head.empty()) {
    auto parsed = ParseChainHead(head);
    if (!parsed.ok()) return ErrorResponse(parsed.status());
    options.head = std::move(*parsed);
  }
  // The head first: a commit landing in between shows as a later head, never a missing one.
  auto head = db_.store()->Head();
  if (!head.ok()) return ErrorResponse(head.status());
  auto report = db_.store()->VerifyChain(options);
  if (!report.ok()) return ErrorResponse(report.status());
  Json broken = nullptr;
  if (report->first_broken != 0) broken = Json{{"tx", report->first_broken}, {"reason", report->reason}};
  Json problems = Json::array();
  for (const IntegrityProblem& p : report->problems) {
    problems.push_back(Json{{"table", p.table}, {"row", p.row}, {"reason", p.reason}});
  }
  return JsonResponse(200, Json{{"ok", report->ok},
                                {"transactions_checked", report->checked},
                                {"first_broken", broken},
                                {"problems", problems},
                                {"problems_omitted", report->problems_omitted},
                                {"head", FormatChainHead(*head)}});
}

HttpResponse LinesRefusedResponse(const Status& st, const std::vector<bulk::BulkError>& errors,
                                  int64_t error_count) {
  Json body = ErrorJson(st);
  Json listed = Json::array();
  for (const bulk::BulkError& e : errors) {
    Json ej = ErrorJson(e.status)["error"];
    ej["line"] = e.line;
    listed.push_back(std::move(ej));
  }
  body["error"]["details"]["errors"] = listed;
  body["error"]["details"]["error_count"] = error_count;
  return JsonResponse(HttpStatusOf(st.code()), body);
}

// Bulk loads have no source (their values have no owner; docs/importers.md): the routing table
// refuses a "source" parameter, saying so.
HttpResponse Api::Bulk(const Call& call) {
  const Principal& who = call.who;
  const HttpRequest& req = call.req;
  bulk::BulkResult result;
  BodyReader reader = req.read_body ? req.read_body : bulk::StringReader(req.body);
  Status st = bulk::RunBulk(db_, MetaFor(req, who, "bulk"), reader, options_.max_bulk_bytes, result);
  if (!st.ok()) return LinesRefusedResponse(st, result.errors, result.error_count);
  Json refs = nullptr;
  if (req.Param("refs", "true") == "true") {
    refs = Json::object();
    for (const auto& [ref, id] : result.refs.entries()) refs[ref] = id;
  }
  return JsonResponse(200, Json{{"tx", result.tx == 0 ? Json(nullptr) : Json(result.tx)},
                                {"lines", result.lines},
                                {"cis", {{"created", result.created},
                                         {"updated", result.updated},
                                         {"unchanged", result.unchanged}}},
                                {"relationships", {{"created", result.rels_created},
                                                   {"updated", result.rels_updated},
                                                   {"unchanged", result.rels_unchanged}}},
                                {"refs", std::move(refs)}});
}

static Json TokenJson(const TokenRecord& t) {
  return Json{{"name", t.name},
              {"role", RoleName(t.role)},
              {"created_at", FormatTimestamp(t.created_at)},
              {"revoked_at", t.revoked_at ? Json(FormatTimestamp(t.revoked_at)) : Json(nullptr)}};
}

HttpResponse Api::ListTokens(const Call&) {
  auto tokens = db_.store()->ListTokens();
  if (!tokens.ok()) return ErrorResponse(tokens.status());
  Json items = Json::array();
  for (const TokenRecord& t : *tokens) items.push_back(TokenJson(t));
  return JsonResponse(200, Json{{"items", items}});
}

namespace {

// Records a token event in the hash-chained transaction log, as a process record of kind
// "token" (never the secret or its hash): who created or revoked which token, with which role.
Status LogTokenEvent(Database& db, const std::string& actor, const TokenRecord& token, const std::string& event) {
  TxMeta meta;
  meta.actor = actor;
  meta.source = "token";
  meta.message = "token '" + token.name + "' " + event;
  return db.Write(meta, [&](Txn& txn) -> Status {
    DocRecord d;
    d.kind = "token";
    d.id = token.id;
    d.body.Set("name", Value(token.name));
    d.body.Set("role", Value(RoleName(token.role)));
    d.body.Set("event", Value(event));
    return txn.PutDoc(std::move(d), std::nullopt).status();
  }).status();
}

}  // namespace

HttpResponse Api::PostToken(const Call& call) {
  const Principal& who = call.who;
  auto body = ParseRequestJson(call.req.body);
  if (!body.ok()) return ErrorResponse(body.status());
  if (!body->is_object() || !(*body)["name"].is_string() || !(*body)["role"].is_string())
    return ErrorResponse(Status::Invalid("body must be {\"name\": \"...\", \"role\": \"reader\" | ...}"));
  if (Status st = CheckFields(*body, {"name", "role"}, ""); !st.ok()) return ErrorResponse(st);
  auto role = ParseRole((*body)["role"].get<std::string>());
  if (!role) {
    std::string roles;
    for (const auto& r : RoleNames()) roles += (roles.empty() ? "" : ", ") + r;
    return ErrorResponse(Status::Invalid("unknown role " + importers::JsonText((*body)["role"]) + " (" + roles + ")"));
  }
  auto issued = auth_.Issue((*body)["name"].get<std::string>(), *role);
  if (!issued.ok()) return ErrorResponse(issued.status());
  if (Status st = LogTokenEvent(db_, who.name, issued->first, std::string("created with role ") + RoleName(*role)); !st.ok())
    return ErrorResponse(st);
  Json j = TokenJson(issued->first);
  j["token"] = issued->second;
  return JsonResponse(201, j);
}

HttpResponse Api::DeleteToken(const Call& call) {
  const Principal& who = call.who;
  const std::string& name = call.name;
  TokenRecord token;
  if (auto list = db_.store()->ListTokens(); list.ok()) {
    for (const auto& t : *list) {
      if (t.name == name && t.revoked_at == 0) token = t;
    }
  }
  Status st = auth_.Revoke(name);
  if (!st.ok()) return ErrorResponse(st);
  if (Status logged = LogTokenEvent(db_, who.name, token, "revoked"); !logged.ok()) return ErrorResponse(logged);
  return JsonResponse(200, Json{{"name", name}, {"revoked", true}});
}

}  // namespace cmdb::api
