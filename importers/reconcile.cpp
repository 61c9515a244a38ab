#include "importers/reconcile.hpp"

#include <optional>
#include <utility>

namespace cmdb::importers {

std::string ChangeName(const AttrMap& attrs) {
  Value v = attrs.Get("name");
  return std::string(v.is_string() ? v.as_string() : "");
}

namespace {

// A reference candidate as a report names it: "Subnet cloud_id=subnet-1".
std::string DescribeReference(const Candidate& c) {
  std::string out = c.class_name;
  const char* sep = " ";
  for (const auto& [k, v] : c.attrs) {
    out +=
        sep + std::string(k) + "=" + (v.is_string() ? std::string(v.as_string()) : v.ToLiteral());
    sep = ", ";
  }
  return out;
}

// Whether the value `v` of attribute `attr` is UNIQUE in `cls` and held by a CI other than
// `self`: that CI.
std::optional<CiId> UniqueHolder(const Txn& txn, const std::string& cls, std::string_view attr,
                                 const Value& v, CiId self) {
  const AttributeDef* def = txn.schema().FindAttribute(cls, attr);
  if (!def || !def->unique || v.is_null()) return std::nullopt;
  std::optional<CiId> holder = txn.LookupIndexKey(UniqueIndexKey(txn.schema(), cls, attr, v));
  if (!holder || *holder == self) return std::nullopt;
  return holder;
}

// A UNIQUE value another CI holds, which identification said is a different CI (its strong
// identifiers differ: two hosts reporting one serial): the value is left out and the clash
// reported as an identity conflict ("unique"), instead of refusing the whole import.
void ReportUniqueClash(const Txn& txn, const IdentifiedCi& r, std::string_view attr,
                       const Value& v, CiId holder, ImportReport& report) {
  IdentityConflict c;
  c.location = r.location;
  c.class_name = r.class_name;
  c.name = ChangeName(r.attrs);
  c.reason = "unique";
  c.rule = std::string(attr);
  c.value = v.is_string() ? std::string(v.as_string()) : v.ToLiteral();
  const CiRecord* other = txn.GetCi(holder);
  IdentityMatch match{holder, "", std::string(attr), other ? other->attrs.Get(attr) : Value(), v};
  if (!txn.graph().FindCi(holder)) {  // made by this import: named by its location, as elsewhere
    match.id = 0;
    for (const ImportChange& ch : report.changes)
      if (ch.op == ImportOp::kCreate && ch.id == holder) match.location = ch.location;
  }
  c.matches.push_back(std::move(match));
  c.policy = IdentifyConflict::kCreate;
  report.identity_conflicts.push_back(std::move(c));
}

// Creates a new CI; this source owns every attribute it gave. Returns the id, 0 when refused
// (the error is in the report). A UNIQUE value another CI holds is left out (ReportUniqueClash).
CiId CreateIdentified(Txn& txn, const IdentifiedCi& r, const ImportOptions& opt, int64_t now,
                      Provenance& mine, ImportReport& report) {
  AttrMap attrs = r.attrs;
  for (const auto& [k, v] : r.attrs) {
    if (opt.unique_refuses) break;
    if (std::optional<CiId> holder = UniqueHolder(txn, r.class_name, k, v, 0)) {
      ReportUniqueClash(txn, r, k, v, *holder, report);
      attrs.Erase(k);
    }
  }
  auto id = txn.CreateCi(r.class_name, std::move(attrs));
  if (!id.ok()) {
    report.errors.push_back(SourceErrorOf(r.location, id.status()));
    return 0;
  }
  mine.id = *id;
  AttrMap::Builder owned;
  const CiRecord* made = txn.GetCi(*id);
  for (const auto& [k, v] : r.attrs)
    if (made->attrs.Has(k)) owned.Add(k, Value(now));
  mine.owned = owned.Build();
  const CiRecord* created = txn.GetCi(*id);
  ImportChange ch{ImportOp::kCreate, *id, r.class_name, ChangeName(created->attrs), r.location, {}};
  for (const auto& [k, v] : created->attrs) ch.attrs.push_back({k, Value(), v});
  report.changes.push_back(std::move(ch));
  ++report.created;
  return *id;
}

// Updates an existing CI with the values this source may write. Returns false when refused (the
// error is in the report).
bool UpdateIdentified(Txn& txn, const IdentifiedCi& r, const ImportOptions& opt, int64_t now,
                      Provenance& mine, ImportReport& report) {
  const Schema& schema = txn.schema();
  const CiId id = r.existing;
  const CiRecord* cur = txn.GetCi(id);
  std::vector<Provenance> others = txn.ProvenanceOf(false, id);
  AttrPatch patch;
  std::vector<AttrChange> diffs;
  for (const auto& [k, v] : r.attrs) {
    if (!schema.FindAttribute(cur->class_name, k)) {
      report.conflicts.push_back({id, k, "schema", r.location, v, Value()});
      continue;
    }
    Value have = cur->attrs.Get(k);
    if (have == v) {
      if (mine.owned.Has(k)) mine.owned.Set(k, now);  // confirmed
      continue;
    }
    if (std::optional<CiId> holder = opt.unique_refuses ? std::nullopt
                                     : UniqueHolder(txn, std::string(cur->class_name), k, v, id)) {
      ReportUniqueClash(txn, r, k, v, *holder, report);
      continue;
    }
    // Who owns the current value, and may this source replace it?
    const Provenance* owner = nullptr;
    for (const Provenance& p : others) {
      if (p.source != opt.source && p.owned.Has(k)) owner = &p;
    }
    if (owner) {
      bool stronger = opt.precedence.Rank(cur->class_name, k, owner->source) <
                      opt.precedence.Rank(cur->class_name, k, opt.source);
      bool fresh = now - owner->owned.Get(k).as_int() < opt.max_age_micros;
      if (stronger && fresh) {
        report.conflicts.push_back({id, k, owner->source, r.location, v, have});
        continue;
      }
      Provenance taken = *owner;
      taken.owned.Erase(k);
      txn.PutProvenance(std::move(taken));
    }
    patch.emplace_back(k, v);
    diffs.push_back({k, have, v});
    mine.owned.Set(k, now);
  }
  // Back from stale: counted as resurrected, not also as updated (its other changes are in the
  // same version, listed with the kResurrect change). Whichever source marked it stale: any
  // source that reports it again has seen it.
  bool resurrect = false;
  if (cur->attrs.Get("status") == Value("stale") && !r.attrs.Has("status")) {
    patch.emplace_back("status", Value("live"));
    diffs.push_back({"status", Value("stale"), Value("live")});
    resurrect = true;
  }
  if (patch.empty()) {
    ++report.unchanged;
    return true;
  }
  Status st = txn.UpdateCi(id, patch, std::nullopt);
  if (!st.ok()) {
    report.errors.push_back(SourceErrorOf(r.location, st));
    return false;
  }
  report.changes.push_back({resurrect ? ImportOp::kResurrect : ImportOp::kUpdate, id,
                            cur->class_name, ChangeName(txn.GetCi(id)->attrs), r.location,
                            std::move(diffs)});
  ++(resurrect ? report.resurrected : report.updated);
  return true;
}

}  // namespace

ReconciledSet ReconcileCis(Txn& txn, const CandidateSet& set, const IdentifiedSet& identified,
                           const ImportOptions& opt, int64_t now, ImportReport& report) {
  ReconciledSet out;
  out.ids.assign(identified.cis.size(), 0);
  for (size_t ri = 0; ri < identified.cis.size(); ++ri) {
    const IdentifiedCi& r = identified.cis[ri];
    if (r.reference_only) {
      if (!r.existing) {
        if (set.cis[r.first].optional) continue;  // its relationships are reported as dangling
        report.errors.push_back({r.location, "references a " + set.cis[r.first].class_name +
                                                 " that is not in the CMDB"});
        continue;
      }
      out.ids[ri] = r.existing;
      continue;
    }
    Provenance mine;
    if (r.existing) {
      if (const Provenance* p = txn.GetProvenance(false, r.existing, opt.source)) mine = *p;
    }
    mine.relationship = false;
    mine.source = opt.source;
    mine.last_seen = now;
    mine.stale = false;
    if (!r.existing) {
      if (CiId id = CreateIdentified(txn, r, opt, now, mine, report); id != 0) {
        out.ids[ri] = id;
      } else {
        continue;
      }
    } else {
      out.ids[ri] = r.existing;
      mine.id = r.existing;
      if (!UpdateIdentified(txn, r, opt, now, mine, report)) continue;
    }
    out.cis_seen.insert(out.ids[ri]);
    txn.PutProvenance(std::move(mine));
  }
  return out;
}

void ReconcileRels(Txn& txn, const CandidateSet& set, const IdentifiedSet& identified,
                   const ImportOptions& opt, int64_t now, ReconciledSet& reconciled,
                   ImportReport& report) {
  const auto& by_ref = identified.by_ref;
  const auto& slot = identified.slot;
  for (const CandidateRel& cr : set.rels) {
    auto from = by_ref.find(cr.from_ref), to = by_ref.find(cr.to_ref);
    bool from_refused = from != by_ref.end() && slot[from->second] == IdentifiedSet::kRefused;
    if (from_refused || (to != by_ref.end() && slot[to->second] == IdentifiedSet::kRefused)) {
      report.skipped.push_back({cr.location, "relationship " + cr.type + ": '" +
                                                 (from_refused ? cr.from_ref : cr.to_ref) +
                                                 "' was refused by identification"});
      continue;
    }
    if (from == by_ref.end() || to == by_ref.end() ||
        slot[from->second] == IdentifiedSet::kUnidentified ||
        slot[to->second] == IdentifiedSet::kUnidentified) {
      report.errors.push_back({cr.location, "relationship " + cr.type + " names '" +
                                                (from == by_ref.end() ? cr.from_ref : cr.to_ref) +
                                                "', which is not in the source"});
      continue;
    }
    CiId a = reconciled.ids[slot[from->second]], b = reconciled.ids[slot[to->second]];
    if (a == 0 || b == 0) {  // a refused CI (an error already) or a missing optional reference
      for (size_t end : {slot[from->second], slot[to->second]}) {
        const IdentifiedCi& r = identified.cis[end];
        if (r.reference_only && !r.existing && set.cis[r.first].optional)
          report.dangling.push_back({cr.location, "relationship " + cr.type + " not created: " +
                                                      DescribeReference(set.cis[r.first]) +
                                                      " is neither in the source nor in the CMDB"});
      }
      continue;
    }
    auto up = txn.UpsertRel(cr.type, a, b, cr.attrs);
    if (!up.ok()) {
      report.errors.push_back(SourceErrorOf(cr.location, up.status()));
      continue;
    }
    auto [rel, outcome] = *up;
    if (!reconciled.rels_seen.insert(rel).second) continue;
    if (outcome == Outcome::kCreated)
      ++report.rels_created;
    else if (outcome == Outcome::kUpdated)
      ++report.rels_updated;
    else
      ++report.rels_unchanged;
    Provenance p;
    if (const Provenance* old = txn.GetProvenance(true, rel, opt.source)) p = *old;
    p.relationship = true;
    p.id = rel;
    p.source = opt.source;
    p.last_seen = now;
    p.stale = false;
    txn.PutProvenance(std::move(p));
  }
}

}  // namespace cmdb::importers
