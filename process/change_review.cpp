// Post-implementation review: what changed on a change's CIs while it was implemented.
#include <algorithm>
#include <map>

#include "process/change_service.hpp"

namespace cmdb::process {
namespace {

constexpr const char* kCiChangeKindNames[] = {"created", "updated", "retired"};

}  // namespace

const char* CiChangeKindName(CiChangeKind k) { return kCiChangeKindNames[static_cast<int>(k)]; }

Result<ReviewReport> ChangeService::Review(int64_t id) {
  auto change = Get(id);
  if (!change) return Status::NotFound("change " + std::to_string(id) + " does not exist");
  if (change->implementation_started_at == 0)
    return Status::Conflict("change " + std::to_string(id) + " (state " +
                            ChangeStateName(change->state) +
                            ") has not started implementing; there is nothing to review yet")
        .With("state", ChangeStateName(change->state))
        .WithType("not_implemented");
  ReviewReport report;
  report.from_tx = change->implementation_start_tx;
  report.to_tx = change->implementation_end_tx ? change->implementation_end_tx : db_.Read().tx();
  // The CIs it affected and impacted: as assessed (the last assessment), plus the affected ones.
  std::vector<CiId> scope = change->affected;
  if (!change->assessments.empty()) {
    const auto& last = change->assessments.back().impacted;
    scope.insert(scope.end(), last.begin(), last.end());
  } else {
    auto live = ImpactScope(change->affected);
    if (!live.ok()) return live.status();
    scope.insert(scope.end(), live->begin(), live->end());
  }
  std::sort(scope.begin(), scope.end());
  scope.erase(std::unique(scope.begin(), scope.end()), scope.end());
  report.scope = scope;
  std::map<TxId, TxRecord> txs;
  Store* store = db_.store();
  for (CiId ci : scope) {
    auto history = store->CiHistory(ci);
    if (!history.ok()) return history.status();
    for (size_t i = 0; i < history->size(); ++i) {
      const CiRecord& v = (*history)[i];
      if (v.valid_from <= report.from_tx || v.valid_from > report.to_tx) continue;
      CiChange c;
      c.ci = ci;
      c.class_name = v.class_name;
      Value name = (v.retired && i > 0 ? (*history)[i - 1] : v).attrs.Get("name");
      c.name = name.is_string() ? name.as_string() : "";
      if (i == 0) {
        c.what = CiChangeKind::kCreated;
        c.diffs = DiffAttrs(AttrMap(), v.attrs);
      } else if (v.retired) {
        c.what = CiChangeKind::kRetired;
      } else {
        c.what = CiChangeKind::kUpdated;
        c.diffs = DiffAttrs((*history)[i - 1].attrs, v.attrs);
      }
      c.tx.id = v.valid_from;
      txs.emplace(v.valid_from, TxRecord{});
      report.changes.push_back(std::move(c));
    }
  }
  for (auto& [tx_id, rec] : txs) {
    auto one = store->Transactions(tx_id - 1, 1);
    if (!one.ok()) return one.status();
    if (!one->empty()) rec = one->front();
  }
  for (CiChange& c : report.changes) c.tx = txs[c.tx.id];
  std::sort(report.changes.begin(), report.changes.end(), [](const CiChange& a, const CiChange& b) {
    return std::tie(a.tx.id, a.ci) < std::tie(b.tx.id, b.ci);
  });
  // Flagged writes inside the planned window (or the implementation period when wider).
  int64_t from = change->planned_start, to = change->planned_end;
  if (change->implementation_started_at && (from == 0 || change->implementation_started_at < from))
    from = change->implementation_started_at;
  int64_t ended = change->implementation_ended_at ? change->implementation_ended_at : INT64_MAX;
  if (to == 0 || ended > to) to = ended;
  TxId since = 0;
  while (true) {
    auto flagged = store->FlaggedTransactions(since, 1000);
    if (!flagged.ok()) return flagged.status();
    for (const TxRecord& t : *flagged) {
      if (t.time >= from && t.time <= to) report.unauthorized.push_back(t);
    }
    if (flagged->size() < 1000) break;
    since = flagged->back().id;
  }
  return report;
}

}  // namespace cmdb::process
