// Release records: creation, edits, the state machine with the automatic baseline and the
// recorded verification.
#include "process/release_service.hpp"

#include <algorithm>

#include "cmdb/time_util.hpp"

namespace cmdb::process {

Result<ReleaseRecord> ReleaseService::SaveRelease(
    ReleaseRecord r, int64_t expected_version, const std::string& actor, const std::string& message,
    const std::function<Status(Txn&, ReleaseRecord&)>& before) {
  DocRecord saved;
  TxMeta meta;
  meta.actor = actor;
  meta.source = "release";
  meta.message = message;
  auto tx = db_.Write(meta, [&](Txn& txn) -> Status {
    if (r.id == 0) r.id = txn.NextDocId(kReleaseKind);
    if (before) CMDB_RETURN_IF_ERROR(before(txn, r));
    auto doc =
        txn.PutDoc(ReleaseToDoc(r),
                   expected_version ? std::optional<int64_t>(expected_version) : std::nullopt);
    if (!doc.ok()) return doc.status();
    saved = std::move(*doc);
    return Status::Ok();
  });
  if (!tx.ok()) return tx.status();
  return ReleaseFromDoc(saved);
}

namespace {

Status CheckLinks(const ChangeService& changes, const Database& db, const ReleaseRecord& r) {
  for (int64_t id : r.changes) {
    if (!changes.Get(id))
      return Status::NotFound("linked change " + std::to_string(id) + " does not exist")
          .With("change", id);
  }
  ReadView view = db.Read();
  for (CiId id : r.cis) {
    if (!view.graph().FindCi(id))
      return Status::NotFound("CI " + std::to_string(id) + " does not exist").With("ci", id);
  }
  return Status::Ok();
}

}  // namespace

Result<ReleaseRecord> ReleaseService::CreateRelease(ReleaseRecord r, const std::string& actor) {
  CMDB_RETURN_IF_ERROR(CheckRequired(ReleaseFieldTable(), r, "release"));
  CMDB_RETURN_IF_ERROR(CheckLinks(changes_, db_, r));
  r.id = 0;
  r.state = ReleaseState::kPlanned;
  r.created_at = db_.clock().NowMicros();
  r.events = {{r.created_at, actor, EventKind::kCreated, "", "planned", ""}};
  r.baseline.clear();
  r.verification.reset();
  return SaveRelease(std::move(r), 0, actor, "release created");
}

std::optional<ReleaseRecord> ReleaseService::GetRelease(int64_t id) const {
  ReadView view = db_.Read();
  const DocRecord* doc = view.graph().docs().Find(kReleaseKind, id);
  if (!doc) return std::nullopt;
  return ReleaseFromDoc(*doc);
}

std::vector<ReleaseRecord> ReleaseService::ListReleases(std::optional<ReleaseState> state) const {
  ReadView view = db_.Read();
  std::vector<ReleaseRecord> out;
  for (const auto& [id, doc] : view.graph().docs().All(kReleaseKind)) {
    ReleaseRecord r = ReleaseFromDoc(*doc);
    if (!state || r.state == *state) out.push_back(std::move(r));
  }
  return out;
}

Result<ReleaseRecord> ReleaseService::UpdateRelease(int64_t id, const ReleaseRecord& f,
                                                    const std::string& comment,
                                                    std::optional<int64_t> expected_version,
                                                    const std::string& actor) {
  auto current = GetRelease(id);
  if (!current) return Status::NotFound("release " + std::to_string(id) + " does not exist");
  ReleaseRecord r = *current;
  bool editable = r.state == ReleaseState::kPlanned || r.state == ReleaseState::kBuilt ||
                  r.state == ReleaseState::kTested;
  bool changed = false;
  for (const auto& field : ReleaseFieldTable()) {
    if (field.editable && !(field.get(f) == field.get(r))) changed = true;
  }
  if (changed && !editable)
    return Status::Conflict("a release in state " + std::string(ReleaseStateName(r.state)) +
                            " cannot be edited (only planned, built and tested ones can; comments "
                            "are always accepted)")
        .WithType("not_editable");
  CMDB_RETURN_IF_ERROR(CheckRequired(ReleaseFieldTable(), f, "release"));
  for (const auto& res : f.results) {
    if (std::find(f.criteria.begin(), f.criteria.end(), res.criterion) == f.criteria.end())
      return Status::Invalid("result for unknown acceptance criterion '" + res.criterion + "'")
          .With("field", "results");
  }
  CMDB_RETURN_IF_ERROR(CheckLinks(changes_, db_, f));
  if (!changed && comment.empty()) return r;
  int64_t now = db_.clock().NowMicros();
  if (changed) {
    for (const auto& field : ReleaseFieldTable()) {
      if (field.editable) field.set(r, field.get(f));
    }
    r.events.push_back({now, actor, EventKind::kUpdated, "", "", ""});
  }
  if (!comment.empty()) r.events.push_back({now, actor, EventKind::kComment, "", "", comment});
  return SaveRelease(std::move(r), expected_version.value_or(current->version), actor,
                     changed ? "release updated" : "comment");
}

Result<ReleaseRecord> ReleaseService::TransitionRelease(int64_t id, ReleaseState to,
                                                        const std::string& comment,
                                                        const std::string& actor) {
  auto current = GetRelease(id);
  if (!current) return Status::NotFound("release " + std::to_string(id) + " does not exist");
  ReleaseRecord r = *current;
  CMDB_RETURN_IF_ERROR(CheckTransition(r, to));
  using S = ReleaseState;
  std::function<Status(Txn&, ReleaseRecord&)> capture;
  if (to == S::kApproved) {
    ValueList failing;
    for (const auto& c : r.criteria) {
      auto it = std::find_if(r.results.begin(), r.results.end(),
                             [&](const AcceptanceResult& res) { return res.criterion == c; });
      if (it == r.results.end() || !it->passed) failing.emplace_back(c);
    }
    if (!failing.empty())
      return Status::Conflict(
                 "release " + std::to_string(id) + " cannot be approved: acceptance criterion '" +
                 std::string(failing.front().as_string()) + "' has no passing result" +
                 (failing.size() > 1 ? " (and " + std::to_string(failing.size() - 1) + " more)"
                                     : ""))
          .With("failing", Value(std::move(failing)))
          .WithType("acceptance_failed");
  }
  if (to == S::kDeploying) {
    // The scope: the release's CIs and its changes' affected CIs, with everything they impact.
    BaselineSpec spec;
    spec.name = "release-" + std::to_string(r.id) + "-before-deploy";
    spec.description =
        "captured when release " + r.name + " " + r.release_version + " started deploying";
    spec.scope_kind = ScopeKind::kRoots;
    spec.roots = r.cis;
    for (int64_t change_id : r.changes) {
      if (auto c = changes_.Get(change_id))
        spec.roots.insert(spec.roots.end(), c->affected.begin(), c->affected.end());
    }
    std::sort(spec.roots.begin(), spec.roots.end());
    spec.roots.erase(std::unique(spec.roots.begin(), spec.roots.end()), spec.roots.end());
    {
      ReadView view = db_.Read();  // CIs retired since they were linked drop out of the scope
      spec.roots.erase(std::remove_if(spec.roots.begin(), spec.roots.end(),
                                      [&](CiId ci) { return !view.graph().FindCi(ci); }),
                       spec.roots.end());
    }
    if (spec.roots.empty())
      return Status::Invalid("release " + std::to_string(id) +
                             " has no CIs in scope: link changes with affected CIs or CIs")
          .With("field", "cis");
    spec.follow_impacted = true;
    spec.max_depth = ChangeService::kScopeDepth;
    if (auto old = baselines_.Get(spec.name))
      spec.name += "-" + std::to_string(db_.clock().NowMicros());  // redeploy after rollback
    // The baseline and the release's new state commit together, or neither does.
    capture = [this, spec, actor](Txn& txn, ReleaseRecord& rec) -> Status {
      Baseline b;
      CMDB_RETURN_IF_ERROR(baselines_.CaptureIn(txn, spec, actor, rec.id, b));
      rec.baseline = b.name;
      return Status::Ok();
    };
  }
  if (to == S::kVerified) {
    auto b = baselines_.Get(r.baseline);
    if (!b)
      return Status::Conflict("the pre-deployment baseline '" + r.baseline + "' no longer exists")
          .WithType("baseline_missing");
    auto diff = baselines_.Diff(*b, DiffTarget{});
    if (!diff.ok()) return diff.status();
    Verification v;
    v.time = db_.clock().NowMicros();
    v.tx = diff->to_tx;
    v.cis_added = diff->counts.cis_added;
    v.cis_removed = diff->counts.cis_removed;
    v.cis_changed = diff->counts.cis_changed;
    v.rels_added = diff->counts.rels_added;
    v.rels_removed = diff->counts.rels_removed;
    v.rels_changed = diff->counts.rels_changed;
    for (const auto& e : diff->entries) {
      if (e.what == DiffSubject::kCi) v.changed_cis.push_back(e.id);
    }
    r.verification = std::move(v);
  }
  r.events.push_back({db_.clock().NowMicros(), actor, EventKind::kTransition, ReleaseStateName(r.state),
                      ReleaseStateName(to), comment});
  std::string message =
      std::string("release ") + ReleaseStateName(r.state) + " -> " + ReleaseStateName(to);
  r.state = to;
  return SaveRelease(std::move(r), current->version, actor, message, capture);
}

}  // namespace cmdb::process
