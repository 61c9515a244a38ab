// Maintenance and blackout windows, and the collisions of a change.
#include <algorithm>

#include "process/change_service.hpp"

namespace cmdb::process {
namespace {

std::vector<CiId> Intersect(const std::vector<CiId>& sorted_a, const std::vector<CiId>& sorted_b) {
  std::vector<CiId> out;
  std::set_intersection(sorted_a.begin(), sorted_a.end(), sorted_b.begin(), sorted_b.end(),
                        std::back_inserter(out));
  return out;
}

bool PlannedOverlap(const ChangeRecord& a, const ChangeRecord& b) {
  return a.planned_start && b.planned_start && a.planned_start < b.planned_end &&
         b.planned_start < a.planned_end;
}

}  // namespace

Result<Window> ChangeService::CreateWindow(Window window, const std::string& actor) {
  CMDB_RETURN_IF_ERROR(ValidateWindow(window));
  if (!window.cis.empty() && !window.query.empty())
    return Status::Invalid("scope a window by \"cis\" or by \"query\", not both")
        .With("field", "scope");
  std::sort(window.cis.begin(), window.cis.end());
  window.cis.erase(std::unique(window.cis.begin(), window.cis.end()), window.cis.end());
  CMDB_RETURN_IF_ERROR(CheckCisExist(window.cis));
  if (!window.query.empty()) {  // the scope query must run now, so it can later
    auto scope = WindowScope(window);
    if (!scope.ok()) return scope.status();
  }
  window.created_by = actor;
  DocRecord saved;
  TxMeta meta;
  meta.actor = actor;
  meta.source = "change";
  meta.message = std::string(WindowKindName(window.kind)) + " window created: " + window.name;
  auto tx = db_.Write(meta, [&](Txn& txn) -> Status {
    window.id = txn.NextDocId(kWindowKind);
    auto doc = txn.PutDoc(WindowToDoc(window), std::nullopt);
    if (!doc.ok()) return doc.status();
    saved = std::move(*doc);
    return Status::Ok();
  });
  if (!tx.ok()) return tx.status();
  return WindowFromDoc(saved);
}

std::optional<Window> ChangeService::GetWindow(int64_t id) const {
  ReadView view = db_.Read();
  const DocRecord* doc = view.graph().docs().Find(kWindowKind, id);
  if (!doc) return std::nullopt;
  return WindowFromDoc(*doc);
}

std::vector<Window> ChangeService::ListWindows() const {
  ReadView view = db_.Read();
  std::vector<Window> out;
  for (const auto& [id, doc] : view.graph().docs().All(kWindowKind))
    out.push_back(WindowFromDoc(*doc));
  return out;
}

Status ChangeService::DeleteWindow(int64_t id, const std::string& actor) {
  TxMeta meta;
  meta.actor = actor;
  meta.source = "change";
  meta.message = "window " + std::to_string(id) + " deleted";
  auto tx = db_.Write(meta, [&](Txn& txn) -> Status {
    const DocRecord* cur = txn.GetDoc(kWindowKind, id);
    if (!cur) return Status::NotFound("window " + std::to_string(id) + " does not exist");
    DocRecord gone = *cur;
    gone.retired = true;
    return txn.PutDoc(std::move(gone), std::nullopt).status();
  });
  return tx.status();
}

Result<std::optional<std::unordered_set<CiId>>> ChangeService::WindowScope(const Window& w) const {
  using Scope = std::optional<std::unordered_set<CiId>>;
  if (w.cis.empty() && w.query.empty()) return Scope();
  std::unordered_set<CiId> ids(w.cis.begin(), w.cis.end());
  if (!w.query.empty()) {
    gql::QueryRequest q;
    q.text = w.query;
    q.allow_writes = false;
    q.meta.actor = "window:" + std::to_string(w.id);
    auto rows = engine_.Run(q);
    if (!rows.ok()) {
      Status st = rows.status();
      return Status(st.code(), "the scope query of window '" + w.name + "' failed: " + st.message())
          .WithType(st.type().empty() ? "invalid_scope" : st.type());
    }
    for (const auto& row : rows->rows) {
      for (const auto& v : row) {
        if (v.kind() == gql::QValue::Kind::kNode) ids.insert(v.as_node().id);
      }
    }
  }
  return Scope(std::move(ids));
}

Result<std::vector<WindowHit>> ChangeService::BlackoutsFor(const ChangeRecord& change,
                                                           const std::vector<CiId>& scope) const {
  std::vector<WindowHit> hits;
  if (!change.planned_start) return hits;
  for (const Window& w : ListWindows()) {
    if (w.kind != WindowKind::kBlackout || !Overlaps(w, change.planned_start, change.planned_end))
      continue;
    auto in_scope = WindowScope(w);
    if (!in_scope.ok()) return in_scope.status();
    WindowHit hit{w, {}};
    if (!*in_scope) {
      hit.cis = scope;
    } else {
      for (CiId id : scope) {
        if ((*in_scope)->count(id)) hit.cis.push_back(id);
      }
      if (hit.cis.empty()) continue;
    }
    hits.push_back(std::move(hit));
  }
  return hits;
}

Result<ConflictReport> ChangeService::Conflicts(int64_t id) {
  auto change = Get(id);
  if (!change) return Status::NotFound("change " + std::to_string(id) + " does not exist");
  if (!change->planned_start)
    return Status::Invalid("change " + std::to_string(id) +
                           " has no planned window; set planned_start and planned_end")
        .With("field", "planned_start");
  ConflictReport report;
  auto scope = ImpactScope(change->affected, &report.tx);
  if (!scope.ok()) return scope.status();
  report.scope = std::move(*scope);
  for (const ChangeRecord& other : List(std::nullopt)) {
    if (other.id == id || !IsActive(other.state) || !PlannedOverlap(*change, other)) continue;
    auto other_scope = ImpactScope(other.affected);
    if (!other_scope.ok()) return other_scope.status();
    auto shared = Intersect(report.scope, *other_scope);
    if (!shared.empty()) report.collisions.push_back({other, std::move(shared)});
  }
  auto blackouts = BlackoutsFor(*change, report.scope);
  if (!blackouts.ok()) return blackouts.status();
  report.blackouts = std::move(*blackouts);
  // Affected CIs under maintenance windows: the change must fit inside one of them.
  std::vector<std::pair<Window, std::optional<std::unordered_set<CiId>>>> maintenance;
  for (const Window& w : ListWindows()) {
    if (w.kind != WindowKind::kMaintenance) continue;
    auto in_scope = WindowScope(w);
    if (!in_scope.ok()) return in_scope.status();
    maintenance.emplace_back(w, std::move(*in_scope));
  }
  for (CiId ci : change->affected) {
    OutsideMaintenance outside{ci, {}};
    bool governed = false, inside = false;
    for (const auto& [w, in_scope] : maintenance) {
      if (in_scope && !in_scope->count(ci)) continue;
      governed = true;
      outside.windows.push_back(w.id);
      if (Contains(w, change->planned_start, change->planned_end)) inside = true;
    }
    if (governed && !inside) report.outside_maintenance.push_back(std::move(outside));
  }
  return report;
}

}  // namespace cmdb::process
