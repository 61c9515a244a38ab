// Change records: creation, edits, the state machine and assessments.
#include "process/change_service.hpp"

#include <algorithm>

#include "analysis/impact.hpp"
#include "cmdb/time_util.hpp"
#include "process/risk.hpp"

namespace cmdb::process {
namespace {

// The log entry of a change edit; a new change (id 0) gets its reference in the record itself.
TxMeta ChangeMeta(const std::string& actor, int64_t id, const std::string& message) {
  TxMeta meta;
  meta.actor = actor;
  meta.source = "change";
  if (id) meta.change_ref = ChangeRef(id);
  meta.message = message;
  return meta;
}

std::vector<CiId> Unique(std::vector<CiId> ids) {
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

// Applies the given fields; returns what changed ("title, risk"), for the journal.
Result<std::string> ApplyFields(ChangeRecord& c, const ChangeFields& f) {
  const FieldTable<ChangeRecord>& table = ChangeFieldTable();
  for (const auto& name : f.given) {
    const FieldDef<ChangeRecord>* field = FindField(table, name);
    if (!field || !field->editable)
      return Status::Invalid("unknown change field \"" + name + "\"").With("field", name);
  }
  ChangeRecord values = f.values;
  values.affected = Unique(std::move(values.affected));
  std::string changed;
  for (const auto& field : table) {
    if (!f.given.count(field.name)) continue;
    Value v = field.get(values);
    if (field.get(c) == v) continue;
    field.set(c, v);
    changed += (changed.empty() ? "" : ", ") + std::string(field.name);
  }
  return changed;
}

Status CheckPlanned(const ChangeRecord& c) {
  if ((c.planned_start == 0) != (c.planned_end == 0))
    return Status::Invalid("give both planned_start and planned_end").With("field", "planned_end");
  if (c.planned_start && c.planned_start >= c.planned_end)
    return Status::Invalid("planned_start must be before planned_end").With("field", "planned_end");
  return Status::Ok();
}

}  // namespace

Status ChangeService::CheckCisExist(const std::vector<CiId>& ids) const {
  ReadView view = db_.Read();
  ValueList missing;
  for (CiId id : ids) {
    if (!view.graph().FindCi(id)) missing.emplace_back(id);
  }
  if (missing.empty()) return Status::Ok();
  return Status::NotFound(
             "affected CI " + missing.front().ToLiteral() + " does not exist" +
             (missing.size() > 1 ? " (and " + std::to_string(missing.size() - 1) + " more)" : ""))
      .With("missing", Value(std::move(missing)));
}

Result<ChangeRecord> ChangeService::Save(ChangeRecord change, int64_t expected_version,
                                         const std::string& actor, const std::string& message) {
  DocRecord saved;
  auto tx = db_.Write(ChangeMeta(actor, change.id, message), [&](Txn& txn) -> Status {
    if (change.id == 0) change.id = txn.NextDocId(kChangeKind);
    std::optional<int64_t> expected;
    if (expected_version) expected = expected_version;
    auto doc = txn.PutDoc(ChangeToDoc(change), expected);
    if (!doc.ok()) return doc.status();
    saved = std::move(*doc);
    return Status::Ok();
  });
  if (!tx.ok()) return tx.status();
  return ChangeFromDoc(saved);
}

Result<ChangeRecord> ChangeService::Create(const ChangeFields& fields, const std::string& actor) {
  ChangeRecord c;
  c.requester = actor;
  auto changed = ApplyFields(c, fields);
  if (!changed.ok()) return changed.status();
  CMDB_RETURN_IF_ERROR(CheckRequired(ChangeFieldTable(), c, "change"));
  CMDB_RETURN_IF_ERROR(CheckPlanned(c));
  CMDB_RETURN_IF_ERROR(CheckCisExist(c.affected));
  c.created_at = db_.clock().NowMicros();
  c.events.push_back({c.created_at, actor, EventKind::kCreated, "", ChangeStateName(c.state),
                      fields.comment.value_or("")});
  return Save(std::move(c), 0, actor, "change created");
}

std::optional<ChangeRecord> ChangeService::Get(int64_t id) const {
  ReadView view = db_.Read();
  const DocRecord* doc = view.graph().docs().Find(kChangeKind, id);
  if (!doc) return std::nullopt;
  return ChangeFromDoc(*doc);
}

std::vector<ChangeRecord> ChangeService::List(std::optional<ChangeState> state) const {
  std::vector<DocPtr> docs;
  {
    ReadView view = db_.Read();
    for (const auto& [id, doc] : view.graph().docs().All(kChangeKind)) docs.push_back(doc);
  }
  std::vector<ChangeRecord> out;
  for (const DocPtr& d : docs) {
    ChangeRecord c = ChangeFromDoc(*d);
    if (!state || c.state == *state) out.push_back(std::move(c));
  }
  return out;
}

Result<std::vector<ChangeRecord>> ChangeService::History(int64_t id) const {
  auto docs = db_.store()->DocHistory(kChangeKind, id);
  if (!docs.ok()) return docs.status();
  if (docs->empty()) return Status::NotFound("change " + std::to_string(id) + " does not exist");
  std::vector<ChangeRecord> out;
  for (const DocRecord& d : *docs) out.push_back(ChangeFromDoc(d));
  return out;
}

Result<ChangeRecord> ChangeService::Update(int64_t id, const ChangeFields& fields,
                                           std::optional<int64_t> expected_version,
                                           const std::string& actor) {
  auto current = Get(id);
  if (!current) return Status::NotFound("change " + std::to_string(id) + " does not exist");
  ChangeRecord c = *current;
  auto applied = ApplyFields(c, fields);
  if (!applied.ok()) return applied.status();
  const std::string& changed = *applied;
  if (!changed.empty() && !IsEditable(c.state))
    return Status::Conflict(
               "a change in state " + std::string(ChangeStateName(c.state)) +
               " cannot be edited (only draft and submitted ones can; comments are always "
               "accepted)")
        .With("state", ChangeStateName(c.state))
        .WithType("not_editable");
  CMDB_RETURN_IF_ERROR(CheckRequired(ChangeFieldTable(), c, "change"));
  CMDB_RETURN_IF_ERROR(CheckPlanned(c));
  if (fields.given.count("affected")) CMDB_RETURN_IF_ERROR(CheckCisExist(c.affected));
  if (changed.empty() && !fields.comment) return c;  // nothing to do
  int64_t now = db_.clock().NowMicros();
  if (!changed.empty()) c.events.push_back({now, actor, EventKind::kUpdated, "", "", changed});
  if (fields.comment)
    c.events.push_back({now, actor, EventKind::kComment, "", "", *fields.comment});
  return Save(std::move(c), expected_version.value_or(current->version), actor,
              changed.empty() ? "comment" : "updated " + changed);
}

Result<std::vector<CiId>> ChangeService::ImpactScope(const std::vector<CiId>& affected,
                                                     TxId* tx) const {
  analysis::ImpactRequest req;
  req.seeds = affected;
  req.max_depth = kScopeDepth;
  ReadView view = db_.Read();
  std::vector<CiId> scope;
  for (CiId id : affected) {
    if (view.graph().FindCi(id)) scope.push_back(id);
  }
  req.seeds = scope;
  if (!scope.empty()) {
    auto result = analysis::ComputeImpact(view.graph(), view.schema(), req);
    if (!result.ok()) return result.status();
    for (const auto& ci : result->cis) scope.push_back(ci.id);
  }
  if (tx) *tx = view.tx();
  return Unique(std::move(scope));
}

Result<Assessment> ChangeService::Assess(const ChangeRecord& change,
                                         const std::string& actor) const {
  if (change.affected.empty())
    return Status::Invalid("a change needs affected CIs to be assessed").With("field", "affected");
  analysis::ImpactRequest req;
  req.seeds = change.affected;
  req.max_depth = kScopeDepth;
  ReadView view = db_.Read();
  for (CiId id : change.affected) {
    if (!view.graph().FindCi(id))
      return Status::NotFound("affected CI " + std::to_string(id) + " no longer exists")
          .With("ci", id);
  }
  auto result = analysis::ComputeImpact(view.graph(), view.schema(), req);
  if (!result.ok()) return result.status();
  Assessment a;
  a.number = static_cast<int64_t>(change.assessments.size()) + 1;
  a.time = db_.clock().NowMicros();
  a.actor = actor;
  a.tx = view.tx();
  a.affected = change.affected;
  for (const auto& ci : result->cis) {
    if (ci.state == analysis::ImpactState::kSeed) continue;
    a.impacted.push_back(ci.id);
    if (ci.state == analysis::ImpactState::kDegraded) a.degraded.push_back(ci.id);
  }
  std::sort(a.impacted.begin(), a.impacted.end());
  std::sort(a.degraded.begin(), a.degraded.end());
  std::vector<ServiceHit> hits;
  for (CiId id : result->services) {
    const CiRecord* svc = view.graph().FindCi(id);
    a.services.push_back(id);
    a.service_names.emplace_back(
        svc->attrs.Get("name").is_string() ? svc->attrs.Get("name").as_string() : "");
    Value crit = analysis::ServiceCriticality(view.schema(), *svc);
    a.service_criticality.emplace_back(crit.is_string() ? crit.as_string() : "");
    bool degraded = std::binary_search(a.degraded.begin(), a.degraded.end(), id);
    hits.push_back({a.service_criticality.back(), degraded});
  }
  a.per_class = result->per_class;
  Risk risk = ScoreRisk(hits, a.impacted.size(), change.type);
  a.risk_score = risk.score;
  a.risk_level = risk.level;
  a.risk_explanation = risk.explanation;
  return a;
}

Result<ChangeRecord> ChangeService::Transition(int64_t id, ChangeState to,
                                               const std::string& comment,
                                               const std::string& actor) {
  auto current = Get(id);
  if (!current) return Status::NotFound("change " + std::to_string(id) + " does not exist");
  ChangeRecord c = *current;
  CMDB_RETURN_IF_ERROR(CheckTransition(c, to));
  using S = ChangeState;
  if (to == S::kSubmitted && c.affected.empty())
    return Status::Invalid("name the affected CIs before submitting").With("field", "affected");
  if ((to == S::kScheduled || to == S::kImplementing) && c.planned_start == 0)
    return Status::Invalid("set planned_start and planned_end before the change is " +
                           std::string(ChangeStateName(to)))
        .With("field", "planned_start");
  if (to == S::kAssessed) {
    auto a = Assess(c, actor);
    if (!a.ok()) return a.status();
    c.assessments.push_back(std::move(*a));
  }
  if (to == S::kScheduled && c.type != ChangeType::kEmergency) {
    auto scope = ImpactScope(c.affected);
    if (!scope.ok()) return scope.status();
    auto blackouts = BlackoutsFor(c, *scope);
    if (!blackouts.ok()) return blackouts.status();
    if (!blackouts->empty()) {
      const WindowHit& first = blackouts->front();
      ValueList ids;
      for (const auto& b : *blackouts) ids.emplace_back(b.window.id);
      return Status::Conflict("the planned window " + FormatTimestamp(c.planned_start) + " .. " +
                              FormatTimestamp(c.planned_end) + " falls in blackout window " +
                              std::to_string(first.window.id) + " (" + first.window.name + ")" +
                              (blackouts->size() > 1
                                   ? " and " + std::to_string(blackouts->size() - 1) + " more"
                                   : "") +
                              "; only an emergency change may be scheduled into a blackout")
          .With("blackouts", Value(std::move(ids)))
          .WithType("blackout");
    }
  }
  int64_t now = db_.clock().NowMicros();
  if (to == S::kImplementing) {
    c.implementation_start_tx = db_.Read().tx();
    c.implementation_started_at = now;
    c.implementation_end_tx = 0;
  }
  if (c.state == S::kImplementing) {
    c.implementation_end_tx = db_.Read().tx();
    c.implementation_ended_at = now;
  }
  c.events.push_back(
      {now, actor, EventKind::kTransition, ChangeStateName(c.state), ChangeStateName(to), comment});
  std::string message = std::string(ChangeStateName(c.state)) + " -> " + ChangeStateName(to);
  c.state = to;
  return Save(std::move(c), current->version, actor, message);
}

}  // namespace cmdb::process
