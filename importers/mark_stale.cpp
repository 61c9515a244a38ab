#include "importers/mark_stale.hpp"

#include <algorithm>
#include <tuple>
#include <vector>

namespace cmdb::importers {

Status MarkStale(Txn& txn, const std::string& source, const ReconciledSet& reconciled,
                 ImportReport& report) {
  std::vector<Provenance> gone;
  txn.graph().provenance().ForSource(source, [&](const Provenance& p) {
    if (p.stale) return;
    bool seen = p.relationship ? reconciled.rels_seen.count(p.id) != 0
                               : reconciled.cis_seen.count(p.id) != 0;
    if (!seen) gone.push_back(p);
  });
  std::sort(gone.begin(), gone.end(), [](const Provenance& a, const Provenance& b) {
    return std::tie(a.relationship, a.id) < std::tie(b.relationship, b.id);
  });
  for (Provenance& p : gone) {
    if (p.relationship) {
      if (!txn.HasRel(p.id)) continue;
      ++report.rels_stale;
    } else {
      const CiRecord* cur = txn.GetCi(p.id);
      if (!cur) continue;
      if (Value status = cur->attrs.Get("status"); status != Value("stale")) {
        // Taken before the update, which may replace a staged version `cur` points to.
        ImportChange change;
        change.op = ImportOp::kStale;
        change.id = p.id;
        change.class_name = cur->class_name;
        change.name = ChangeName(cur->attrs);
        change.attrs.push_back({"status", std::move(status), Value("stale")});
        CMDB_RETURN_IF_ERROR(txn.UpdateCi(p.id, {{"status", Value("stale")}}, std::nullopt));
        report.changes.push_back(std::move(change));
      }
      ++report.stale;
    }
    p.stale = true;
    txn.PutProvenance(std::move(p));
  }
  return Status::Ok();
}

}  // namespace cmdb::importers
