#include "importers/import.hpp"

#include <algorithm>

#include "cmdb/time_util.hpp"
#include "importers/identify.hpp"
#include "importers/mark_stale.hpp"
#include "importers/reconcile.hpp"

namespace cmdb::importers {

size_t Precedence::Rank(const std::string& cls, const std::string& attr,
                        const std::string& source) const {
  const std::vector<std::string>* list = &order;
  if (auto it = per_attribute.find(cls + "." + attr); it != per_attribute.end())
    list = &it->second;
  else if (auto it2 = per_attribute.find(attr); it2 != per_attribute.end())
    list = &it2->second;
  auto pos = std::find(list->begin(), list->end(), source);
  return pos == list->end() ? list->size() : static_cast<size_t>(pos - list->begin());
}

namespace {

// The refusal of an import whose records have errors (report.errors, not empty): how many, and
// the first. A BadRequest like any bad input (docs/api.md's error table); the answer lists
// every record in error.errors. `what` says at which point: "of the source are invalid" or
// "could not be imported".
Status RecordsRefused(const ImportReport& report, const std::string& what) {
  return Status::Invalid(std::to_string(report.errors.size()) + " record(s) " + what +
                         "; first at " + report.errors[0].location + ": " +
                         report.errors[0].message + "; nothing was imported");
}

TxMeta ImportMeta(const ImportOptions& opt) {
  TxMeta meta;
  meta.actor = "import:" + opt.source;
  meta.source = "import";
  meta.change_ref = opt.change_ref;
  meta.message = std::string(opt.full_scan ? "full-scan " : "") + "import from " + opt.source;
  return meta;
}

// The steps, staged into `txn`; stops after the first step that found record errors unless
// opt.every_error.
Status StageImport(Txn& txn, const CandidateSet& set, const ImportOptions& opt, int64_t now,
                   ImportReport& report) {
  report.dangling = set.dangling;  // the parser's; reconciliation adds those the CMDB lacks
  auto stop = [&] { return !report.errors.empty() && !opt.every_error; };
  IdentifiedSet identified = Identify(txn.graph(), txn.schema(), set, report);
  if (stop()) return RecordsRefused(report, "could not be imported");
  ReconciledSet reconciled = ReconcileCis(txn, set, identified, opt, now, report);
  if (stop()) return RecordsRefused(report, "could not be imported");
  ReconcileRels(txn, set, identified, opt, now, reconciled, report);
  if (!report.errors.empty())
    return RecordsRefused(report, set.errors.empty() ? "could not be imported"
                                                     : "of the source are invalid");
  if (opt.full_scan) return MarkStale(txn, opt.source, set, reconciled, report);
  return Status::Ok();
}

}  // namespace

Status RunImport(Database& db, const CandidateSet& set, const ImportOptions& opt,
                 ImportReport& report) {
  report = ImportReport();
  report.dry_run = opt.dry_run;
  report.errors = set.errors;
  if (!report.errors.empty() && !opt.every_error)
    return RecordsRefused(report, "of the source are invalid");
  const int64_t now = db.clock().NowMicros();
  auto stage = [&](Txn& txn) { return StageImport(txn, set, opt, now, report); };
  if (opt.dry_run) return db.DryRunWrite(ImportMeta(opt), stage).status();
  Result<TxRecord> tx = db.Write(ImportMeta(opt), stage);
  if (!tx.ok()) return tx.status();
  report.tx = tx->id;
  return Status::Ok();
}

}  // namespace cmdb::importers
