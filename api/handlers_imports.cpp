// POST /v1/imports: discovery imports with identification, reconciliation and dry runs.
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/api.hpp"
#include "cmdb/suggest.hpp"
#include "cmdb/time_util.hpp"
#include "importers/formats.hpp"
#include "importers/import.hpp"

namespace cmdb::api {
namespace {

Json ChangesJson(const std::vector<importers::AttrChange>& attrs) {
  Json out = Json::array();
  for (const auto& a : attrs)
    out.push_back(
        Json{{"attribute", a.name}, {"before", ToJson(a.before)}, {"after", ToJson(a.after)}});
  return out;
}

// An import operation as the report names it.
const char* OpName(importers::ImportOp op) {
  switch (op) {
    case importers::ImportOp::kCreate:
      return "create";
    case importers::ImportOp::kUpdate:
      return "update";
    case importers::ImportOp::kStale:
      return "stale";
    case importers::ImportOp::kResurrect:
      return "resurrect";
  }
  return "?";
}

// At most this many skipped records (and as many dangling references) are listed in an answer
// (all are counted).
constexpr size_t kMaxListedSkipped = 1000;

Json ReportJson(const importers::ImportReport& r, const importers::CandidateSet& candidates,
                const std::string& format, const std::string& source, bool full) {
  Json skipped = Json::array();
  for (const auto* list : {&candidates.skipped, &r.skipped}) {
    for (size_t i = 0; i < list->size() && skipped.size() < kMaxListedSkipped; ++i)
      skipped.push_back(Json{{"location", (*list)[i].location}, {"reason", (*list)[i].message}});
  }
  Json merges = Json::array(), identity = Json::array();
  for (const auto& m : r.merges) {
    Json j{{"location", m.location}, {"into", m.into_location}, {"class", m.class_name},
           {"name", m.name}, {"rule", m.rule}, {"value", m.value},
           {"strength", m.strong ? "strong" : m.rule == "ref" ? "ref" : "weak"}};
    if (m.into_id) j["into_id"] = m.into_id;
    merges.push_back(std::move(j));
  }
  for (const auto& c : r.identity_conflicts) {
    Json matches = Json::array();
    for (const auto& m : c.matches) {
      Json j = Json::object();
      if (m.id) j["id"] = m.id;
      if (!m.location.empty()) j["location"] = m.location;
      if (!m.attribute.empty()) {
        j["attribute"] = m.attribute;
        j["theirs"] = ToJson(m.theirs);
        j["ours"] = ToJson(m.ours);
      }
      matches.push_back(std::move(j));
    }
    const char* policy = c.policy == IdentifyConflict::kRefuse ? "refuse" : "create";
    identity.push_back(Json{{"location", c.location}, {"class", c.class_name}, {"name", c.name},
                            {"reason", c.reason}, {"rule", c.rule}, {"value", c.value},
                            {"matches", matches}, {"policy", policy}});
  }
  Json coverage = Json::array();
  for (const auto& c : r.coverage) {
    Json j{{"class", c.class_name}, {"covers", c.covers}};
    j[c.covers ? "scope" : "why"] = c.scope;
    coverage.push_back(std::move(j));
  }
  Json dangling = Json::array();
  for (size_t i = 0; i < r.dangling.size() && i < kMaxListedSkipped; ++i)
    dangling.push_back(
        Json{{"location", r.dangling[i].location}, {"reason", r.dangling[i].message}});
  Json changes = Json::array(), conflicts = Json::array();
  for (const auto& c : r.changes) {
    Json j{{"op", OpName(c.op)},
           {"id", c.id},
           {"class", c.class_name},
           {"name", c.name},
           {"attributes", ChangesJson(c.attrs)}};
    if (!c.location.empty()) j["location"] = c.location;
    changes.push_back(std::move(j));
  }
  for (const auto& c : r.conflicts) {
    conflicts.push_back(Json{{"id", c.id},
                             {"attribute", c.attribute},
                             {"owner", c.owner},
                             {"refused", ToJson(c.refused)},
                             {"kept", ToJson(c.kept)},
                             {"location", c.location}});
  }
  return Json{{"format", format},
              {"source", source},
              {"mode", r.dry_run ? "dry-run" : "apply"},
              {"full_scan", full},
              {"tx", r.dry_run || r.tx == 0 ? Json(nullptr) : Json(r.tx)},
              {"cis",
               {{"created", r.created},
                {"updated", r.updated},
                {"unchanged", r.unchanged},
                {"stale", r.stale},
                {"resurrected", r.resurrected},
                {"merged", r.merged}}},
              {"relationships",
               {{"created", r.rels_created},
                {"updated", r.rels_updated},
                {"unchanged", r.rels_unchanged},
                {"stale", r.rels_stale}}},
              {"changes", changes},
              {"conflicts", conflicts},
              {"merges", merges},
              {"identity_conflicts", identity},
              {"skipped", skipped},
              {"skipped_count", candidates.skipped.size() + r.skipped.size()},
              {"dangling", dangling},
              {"dangling_count", r.dangling.size()},
              {"coverage", coverage}};
}

// Where `source` stands in a precedence list: its position, or past the end when not listed.
size_t PositionIn(const std::vector<std::string>& order, const std::string& source) {
  return std::find(order.begin(), order.end(), source) - order.begin();
}

// A non-admin token imports as the format's own source or as one that ranks no higher than it,
// in the default order and in every per-attribute order: an importer cannot take ownership of
// values a stronger source (e.g. "manual") holds by naming that source. `may_rank_above`: the
// caller has the admin permission (declared in the route's row).
Status CheckSourceGrant(const Principal& who, bool may_rank_above,
                        const importers::Precedence& precedence, const std::string& format,
                        const std::string& source) {
  if (may_rank_above || source == format) return Status::Ok();
  auto above = [&](const std::vector<std::string>& order) {
    return PositionIn(order, source) < PositionIn(order, format);
  };
  bool stronger = above(precedence.order);
  for (const auto& [attr, order] : precedence.per_attribute) stronger = stronger || above(order);
  if (!stronger) return Status::Ok();
  return Status(StatusCode::kPermissionDenied,
                "token '" + who.name + "' has role " + RoleName(who.role) +
                    ", which may not import as source '" + source + "': it ranks above '" +
                    format + "' in the import precedence (an admin token may)")
      .With("parameter", "source")
      .With("role", RoleName(who.role))
      .With("needs", PermissionName(Permission::kAdmin));
}

}  // namespace

HttpResponse Api::Import(const Call& call) {
  const HttpRequest& req = call.req;
  const Principal& who = call.who;
  std::string format = req.Param("format");
  if (format.empty())
    return ErrorResponse(
        Status::Invalid("give the format: ?format=ndjson|csv|nmap|kubernetes|terraform|ansible|aws")
            .With("parameter", "format"));
  std::string source = req.Param("source").empty() ? format : req.Param("source");
  for (char c : source) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return ErrorResponse(Status::Invalid("source names use letters, digits, '-', '_' and '.'")
                               .With("parameter", "source"));
  }
  if (Status st = CheckSourceGrant(who, call.Allows(Permission::kAdmin),
                                   options_.import_config.precedence, format, source);
      !st.ok())
    return ErrorResponse(st);
  std::string mode = req.Param("mode").empty() ? "apply" : req.Param("mode");
  if (mode != "apply" && mode != "dry-run")
    return ErrorResponse(
        Status::Invalid("mode must be apply or dry-run").With("parameter", "mode"));
  std::string full = req.Param("full");  // CheckParams: absent, true or false
  importers::ParseOptions parse;
  parse.mapping = req.Header("x-import-mapping");
  if (std::string name = req.Param("mapping"); !name.empty()) {
    bool safe = name.find('/') == std::string::npos && name.find("..") == std::string::npos;
    std::ifstream in(options_.import_config.mappings_dir + "/" + name + ".json");
    if (!safe || !in)
      return ErrorResponse(
          Status::NotFound("no CSV mapping named '" + name + "'").With("parameter", "mapping"));
    std::stringstream text;
    text << in.rdbuf();
    parse.mapping = text.str();
  }
  // Kubernetes objects are scoped to their cluster: the `cluster` parameter, else the source.
  parse.cluster = req.Param("cluster").empty() ? source : req.Param("cluster");
  // AWS: the account and region of an output whose records do not say (describe-vpcs).
  parse.account = req.Param("account");
  parse.region = req.Param("region");
  if (!parse.account.empty() && (parse.account.size() != 12 ||
                                 parse.account.find_first_not_of("0123456789") != std::string::npos))
    return ErrorResponse(Status::Invalid("account must be an AWS account id (12 digits)")
                             .With("parameter", "account"));
  if (!parse.region.empty() &&
      (parse.region.size() > 32 ||
       parse.region.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos))
    return ErrorResponse(Status::Invalid(
                             "region must be an AWS region name such as eu-west-1 (lower-case "
                             "letters, digits and '-', at most 32)")
                             .With("parameter", "region"));
  if (!req.Param("cluster").empty() && format != "kubernetes")
    return ErrorResponse(Status::Invalid("cluster is a parameter of the kubernetes format")
                             .With("parameter", "cluster"));
  if ((!parse.account.empty() || !parse.region.empty()) && format != "aws")
    return ErrorResponse(Status::Invalid("account and region are parameters of the aws format")
                             .With("parameter", parse.account.empty() ? "region" : "account"));
  std::shared_ptr<const Schema> schema = db_.schema();  // ndjson lines are read against it
  parse.schema = schema.get();
  parse.db = &db_;  // and those naming CIs checked against its committed state
  importers::CandidateSet candidates;
  Status st = importers::ParseSource(format, req.body, parse, candidates);
  if (!st.ok()) return ErrorResponse(st);
  importers::ImportOptions opt;
  opt.source = source;
  opt.dry_run = mode == "dry-run";
  opt.full_scan = full == "true";
  opt.precedence = options_.import_config.precedence;
  opt.max_age_micros = options_.import_config.max_age_micros;
  opt.change_ref = MetaFor(req, who, "import").change_ref;
  importers::ImportReport report;
  // An ndjson import refuses lines as POST /v1/bulk refuses them: every refused line, in its shape.
  opt.every_error = format == "ndjson";
  opt.unique_refuses = format == "ndjson";
  st = importers::RunImport(db_, candidates, opt, report);
  if (!st.ok() && opt.every_error && !report.errors.empty()) {
    std::vector<bulk::BulkError> errors;
    int64_t error_count = 0;
    Status refused = importers::NdjsonRefusal(candidates, report, errors, error_count);
    return LinesRefusedResponse(refused, errors, error_count);
  }
  if (!st.ok()) {
    Json body = ErrorJson(st);
    Json errors = Json::array();
    for (const auto& e : report.errors)
      errors.push_back(Json{{"location", e.location}, {"message", e.message}});
    body["error"]["errors"] = errors;
    return JsonResponse(HttpStatusOf(st.code()), body);
  }
  return JsonResponse(200, ReportJson(report, candidates, format, source, opt.full_scan));
}

HttpResponse Api::Provenance(const Call& call) {
  CiId id = call.id;
  ReadView view = db_.Read();
  if (!view.graph().FindCi(id))
    return ErrorResponse(Status::NotFound("CI " + std::to_string(id) + " does not exist"));
  Json sources = Json::array();
  for (const auto& p : view.graph().provenance().Of(false, id)) {
    Json owned = Json::object();
    for (const auto& [attr, when] : p.owned)
      owned[attr] = Json{{"confirmed_at", FormatTimestamp(when.as_int())}};
    sources.push_back(Json{{"source", p.source},
                           {"last_seen", FormatTimestamp(p.last_seen)},
                           {"stale", p.stale},
                           {"owns", owned}});
  }
  return JsonResponse(200, Json{{"ci", id}, {"sources", sources}});
}

}  // namespace cmdb::api
