// Configuration audits: a baseline or a list of expected CIs compared with the CMDB now.
#include "process/audit_service.hpp"

#include <algorithm>
#include <map>
#include <set>

#include "cmdb/time_util.hpp"

namespace cmdb::process {
namespace {

std::string Label(const std::string& cls, std::string_view name, CiId id) {
  return cls + " " + (name.empty() ? "#" + std::to_string(id) : std::string(name)) +
         (id ? " (CI " + std::to_string(id) + ")" : "");
}

}  // namespace

Result<AuditReport> AuditService::Save(AuditReport report) {
  TxMeta meta;
  meta.actor = report.actor;
  meta.source = "release";
  meta.message = "configuration audit against " + report.source;
  auto tx = db_.Write(meta, [&](Txn& txn) -> Status {
    report.id = txn.NextDocId(kAuditKind);
    return txn.PutDoc(AuditToDoc(report), std::nullopt).status();
  });
  if (!tx.ok()) return tx.status();
  return report;
}

Result<AuditReport> AuditService::AuditBaseline(const std::string& name, const std::string& actor) {
  auto b = baselines_.Get(name);
  if (!b) return Status::NotFound("no baseline named '" + name + "'").With("field", "baseline");
  DiffTarget now;
  now.include_new = true;
  auto diff = baselines_.Diff(*b, now);
  if (!diff.ok()) return diff.status();
  AuditReport r;
  r.source = "baseline:" + name;
  r.time = db_.clock().NowMicros();
  r.actor = actor;
  r.tx = diff->to_tx;
  r.checked = static_cast<int64_t>(b->cis.size());
  for (const DiffEntry& e : diff->entries) {
    AuditFinding f;
    if (e.what == DiffSubject::kCi) {
      bool removed = e.change == DiffChange::kRemoved, added = e.change == DiffChange::kAdded;
      f.ci = e.id;
      f.kind = removed ? FindingKind::kMissing
               : added ? FindingKind::kUnexpected
                       : FindingKind::kAttributeDrift;
      f.description = Label(e.class_name, e.name, e.id) +
                      (removed ? " is in the baseline but no longer in the CMDB"
                       : added ? " is in scope now but not in the baseline"
                               : " differs from the baseline");
      if (e.change == DiffChange::kChanged) f.attrs = e.attrs;
      (removed ? r.missing : added ? r.unexpected : r.attribute_drift)++;
    } else {
      f.kind = FindingKind::kRelationshipDrift;
      f.description = "relationship " + std::to_string(e.id) + " (" + std::to_string(e.from) +
                      " -[" + e.type + "]-> " + std::to_string(e.to) + ") was " +
                      DiffChangeName(e.change) + " since the baseline";
      f.attrs = e.attrs;
      ++r.relationship_drift;
    }
    r.findings.push_back(std::move(f));
  }
  return Save(std::move(r));
}

Result<AuditReport> AuditService::AuditExpected(const std::vector<ExpectedCi>& cis,
                                                const std::vector<ExpectedRel>& rels,
                                                const std::string& actor) {
  AuditReport r;
  r.source = "expected";
  r.time = db_.clock().NowMicros();
  r.actor = actor;
  {
    ReadView view = db_.Read();
    const Graph& g = view.graph();
    const Schema& schema = view.schema();
    r.tx = view.tx();
    // Identify each expected CI by its class KEY; errors name the line.
    auto identify = [&](const ExpectedCi& e, std::optional<CiId>& found) -> Status {
      if (!schema.FindClass(e.class_name))
        return Status::Schema("line " + std::to_string(e.line) + ": " +
                              schema.UnknownClassMessage(e.class_name))
            .With("line", e.line);
      AttrMap attrs = e.attrs;
      Status st = schema.NormalizeAttrs(e.class_name, attrs);
      if (!st.ok())
        return Status(st.code(), "line " + std::to_string(e.line) + ": " + st.message())
            .With("line", e.line);
      auto key = KeyIndexKey(schema, e.class_name, attrs);
      if (!key)
        return Status::Invalid("line " + std::to_string(e.line) + ": class " + e.class_name +
                               " needs its KEY attributes to identify the CI")
            .With("line", e.line);
      found = g.LookupIndex(*key, schema);
      return Status::Ok();
    };
    std::set<CiId> matched;
    std::set<std::string> classes;
    for (const ExpectedCi& e : cis) {
      std::optional<CiId> id;
      CMDB_RETURN_IF_ERROR(identify(e, id));
      classes.insert(e.class_name);
      ++r.checked;
      Value name = e.attrs.Get("name");
      if (!id) {
        r.findings.push_back({FindingKind::kMissing,
                              0,
                              Label(e.class_name, name.is_string() ? name.as_string() : "", 0) +
                                  " (line " + std::to_string(e.line) + ") is not in the CMDB",
                              {}});
        ++r.missing;
        continue;
      }
      matched.insert(*id);
      const CiRecord* actual = g.FindCi(*id);
      AttrMap expected = e.attrs;
      (void)schema.NormalizeAttrs(e.class_name, expected);
      std::vector<AttrDiff> drift;
      for (const auto& [k, v] : expected) {
        Value have = actual->attrs.Get(k);
        if (!(have == v)) drift.push_back({k, v, have});
      }
      if (!drift.empty()) {
        r.findings.push_back(
            {FindingKind::kAttributeDrift, *id,
             Label(actual->class_name, name.is_string() ? name.as_string() : "", *id) +
                 " differs from what line " + std::to_string(e.line) + " expects",
             std::move(drift)});
        ++r.attribute_drift;
      }
    }
    // Unexpected: CIs of the audited classes that nothing expected.
    for (const std::string& cls : classes) {
      for (CiId id : g.Extent(cls)) {
        if (matched.count(id)) continue;
        const CiRecord* c = g.FindCi(id);
        Value name = c->attrs.Get("name");
        r.findings.push_back({FindingKind::kUnexpected,
                              id,
                              Label(cls, name.is_string() ? name.as_string() : "", id) +
                                  " is in the CMDB but not expected",
                              {}});
        ++r.unexpected;
      }
    }
    for (const ExpectedRel& e : rels) {
      std::optional<CiId> from, to;
      CMDB_RETURN_IF_ERROR(identify(e.from, from));
      CMDB_RETURN_IF_ERROR(identify(e.to, to));
      bool present = false;
      if (from && to) {
        auto type = g.TypeIdOf(e.type);
        if (type) {
          for (const Adj& a : g.OutOfType(*from, *type)) present = present || a.other() == *to;
        }
      }
      if (!present) {
        r.findings.push_back({FindingKind::kRelationshipDrift,
                              from.value_or(0),
                              "expected relationship " + e.from.class_name + " -[" + e.type +
                                  "]-> " + e.to.class_name + " (line " + std::to_string(e.line) +
                                  ") is not in the CMDB",
                              {}});
        ++r.relationship_drift;
      }
    }
  }
  return Save(std::move(r));
}

std::optional<AuditReport> AuditService::Get(int64_t id) const {
  ReadView view = db_.Read();
  const DocRecord* doc = view.graph().docs().Find(kAuditKind, id);
  if (!doc) return std::nullopt;
  return AuditFromDoc(*doc);
}

std::vector<AuditReport> AuditService::List() const {
  ReadView view = db_.Read();
  std::vector<AuditReport> out;
  for (const auto& [id, doc] : view.graph().docs().All(kAuditKind)) {
    AuditReport a = AuditFromDoc(*doc);
    a.findings.clear();  // summaries
    out.push_back(std::move(a));
  }
  return out;
}

}  // namespace cmdb::process
