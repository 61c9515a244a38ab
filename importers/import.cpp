#include "importers/import.hpp"

#include <algorithm>
#include <functional>
#include <optional>
#include <unordered_map>
#include <unordered_set>

#include "bulk/bulk.hpp"
#include "cmdb/time_util.hpp"

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

std::string NameOf(const AttrMap& attrs) {
  Value v = attrs.Get("name");
  return std::string(v.is_string() ? v.as_string() : "");
}

// Identification of candidates against existing CIs and each other.
class Identifier {
 public:
  Identifier(const Txn& txn, const Schema& schema) : txn_(txn), schema_(schema) {}

  // The keys a candidate (or CI) of class `cls` with these attributes and parent has, in rule
  // order.
  std::vector<std::string> Keys(const std::string& cls, const AttrMap& attrs,
                                const std::string& parent) {
    const Identification& id = IdentificationFor(cls);
    std::vector<std::string> keys;
    if (!id.within.empty() && parent.empty()) return keys;  // a dependent identity needs its parent
    keys.reserve(id.rules.size());
    for (size_t r = 0; r < id.rules.size(); ++r) {
      const auto& rule = id.rules[r];
      std::string key;
      key.reserve(64);
      key += id.scope;
      key += '#';
      key += static_cast<char>('0' + r % 64);
      if (!id.within.empty()) key += parent;
      bool complete = true;
      for (const auto& a : rule) {
        std::optional<Value> v = attrs.Find(a);
        if (!v || v->is_null() || (v->is_string() && v->as_string().empty())) {
          complete = false;
          break;
        }
        key += '|';
        if (v->is_string()) {  // length-prefixed: no escaping needed to keep keys distinct
          key += std::to_string(v->as_string().size());
          key += ':';
          key += v->as_string();
        } else {
          key += v->ToLiteral();
        }
      }
      if (complete) keys.push_back(std::move(key));
    }
    return keys;
  }

  // An existing CI with one of these keys (in order), if any.
  std::optional<CiId> FindExisting(const std::string& cls, const std::vector<std::string>& keys) {
    const Identification& id = IdentificationFor(cls);
    BuildIndex(id);
    for (const auto& k : keys) {
      auto it = index_.find(k);
      if (it != index_.end()) return it->second;
    }
    return std::nullopt;
  }

  const Identification& IdentificationFor(const std::string& cls) {
    auto it = ident_.find(cls);
    if (it == ident_.end()) it = ident_.emplace(cls, schema_.IdentificationOf(cls)).first;
    return it->second;
  }

  // The parent token of an existing CI for dependent identity: the id of an adjacent CI of the
  // WITHIN class.
  std::string ParentOf(CiId id, const std::string& within) {
    const Graph& g = txn_.graph();
    for (auto span : {g.Out(id), g.In(id)}) {
      for (const Adj& a : span) {
        const CiRecord* other = g.FindCi(a.other());
        if (other && schema_.IsA(other->class_name, within)) return "ci:" + std::to_string(a.other());
      }
    }
    return "";
  }

 private:
  void BuildIndex(const Identification& id) {
    if (!indexed_.insert(id.scope).second) return;
    const Graph& g = txn_.graph();
    for (const std::string& cls : schema_.ClassAndDescendants(id.scope)) {
      for (CiId ci : g.Extent(cls)) {
        const CiRecord* rec = g.FindCi(ci);
        std::string parent = id.within.empty() ? "" : ParentOf(ci, id.within);
        for (auto& k : Keys(id.scope, rec->attrs, parent)) index_.emplace(std::move(k), ci);
      }
    }
  }

  const Txn& txn_;
  const Schema& schema_;
  std::unordered_map<std::string, Identification> ident_;
  std::unordered_set<std::string> indexed_;
  std::unordered_map<std::string, CiId> index_;
};

// One CI of the import after merging.
struct Resolved {
  size_t first = 0;  // index of the first candidate
  std::string class_name;
  AttrMap attrs;
  CiId existing = 0;           // 0: to create
  CiId id = 0;                 // final id
  bool reference_only = true;  // every merged candidate only referenced it
  std::string location;
};

}  // namespace

Status RunImport(Database& db, const CandidateSet& set, const ImportOptions& opt,
                 ImportReport& report) {
  report = ImportReport();
  report.dry_run = opt.dry_run;
  report.errors = set.errors;
  if (!report.errors.empty()) {
    return Status::Invalid(std::to_string(report.errors.size()) +
                           " record(s) of the source are invalid; first at " +
                           report.errors[0].location + ": " + report.errors[0].message +
                           "; nothing was imported")
        .WithType("invalid_source");
  }
  TxMeta meta;
  meta.actor = "import:" + opt.source;
  meta.source = "import";
  meta.change_ref = opt.change_ref;
  meta.message = std::string(opt.full_scan ? "full-scan " : "") + "import from " + opt.source;
  const int64_t now = NowMicros();
  auto fail = [&](const std::string& where, const std::string& message) {
    report.errors.push_back({where, message});
  };
  auto tx = db.Write(meta, [&](Txn& txn) -> Status {
    const Schema& schema = txn.schema();
    const Graph& g = txn.graph();
    Identifier ident(txn, schema);
    // 1. Order: parents before the candidates that depend on them.
    std::unordered_map<std::string, size_t> by_ref;
    // A reference seen twice names the same CI: the later candidate merges into the first.
    for (size_t i = 0; i < set.cis.size(); ++i) by_ref.emplace(set.cis[i].ref, i);
    std::vector<int> depth(set.cis.size(), -1);
    std::function<int(size_t, int)> depth_of = [&](size_t i, int guard) -> int {
      if (depth[i] >= 0) return depth[i];
      const std::string& p = set.cis[i].parent_ref;
      auto it = p.empty() ? by_ref.end() : by_ref.find(p);
      depth[i] = (it == by_ref.end() || guard > 64) ? 0 : depth_of(it->second, guard + 1) + 1;
      return depth[i];
    };
    std::vector<size_t> order(set.cis.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i, depth_of(i, 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return depth[a] < depth[b]; });

    // 2. Identify and merge.
    std::vector<Resolved> resolved;
    std::vector<size_t> slot(set.cis.size(), SIZE_MAX);   // candidate -> resolved
    std::unordered_map<std::string, size_t> import_keys;  // identity key -> resolved
    std::unordered_map<CiId, size_t> by_existing;         // existing CI -> resolved
    for (size_t i : order) {
      const Candidate& c = set.cis[i];
      std::string cls = c.class_name;
      if (c.id) {  // named by id (ndjson "id"): the bulk loader's rule, then the CI's class
        auto given = c.class_name.empty() ? std::nullopt : std::optional(c.class_name);
        if (Status named = bulk::CheckNamedCi(txn, *c.id, given); !named.ok()) {
          fail(c.location, named.message());
          continue;
        }
        cls = std::string(g.FindCi(*c.id)->class_name);
      }
      if (!schema.FindClass(cls)) {
        fail(c.location, "unknown class '" + cls + "'");
        continue;
      }
      AttrMap attrs = c.attrs;
      Status st = schema.NormalizeAttrs(cls, attrs);
      if (!st.ok()) {
        fail(c.location, st.message());
        continue;
      }
      std::string parent;
      if (!c.parent_ref.empty()) {
        auto p = by_ref.find(c.parent_ref);
        if (p == by_ref.end() || slot[p->second] == SIZE_MAX) {
          fail(c.location, "its parent '" + c.parent_ref + "' is not in the source");
          continue;
        }
        const Resolved& pr = resolved[slot[p->second]];
        parent = pr.existing ? "ci:" + std::to_string(pr.existing)
                             : "new:" + std::to_string(slot[p->second]);
      }
      auto keys = ident.Keys(cls, attrs, parent);
      size_t target = SIZE_MAX;
      for (const auto& k : keys) {
        if (auto it = import_keys.find(k); it != import_keys.end() && !c.id) {
          target = it->second;
          break;
        }
      }
      std::optional<CiId> existing;
      if (c.id) existing = c.id;  // that CI, not one found by identity
      else if (target == SIZE_MAX) existing = ident.FindExisting(cls, keys);
      if (target == SIZE_MAX && existing) {
        if (auto it = by_existing.find(*existing); it != by_existing.end()) target = it->second;
      }
      if (target == SIZE_MAX) {
        Resolved r;
        r.first = i;
        r.class_name = cls;
        r.location = c.location;
        if (existing) {
          r.existing = *existing;
          r.class_name = g.FindCi(*existing)->class_name;
          by_existing[*existing] = resolved.size();
        }
        resolved.push_back(std::move(r));
        target = resolved.size() - 1;
      } else {
        ++report.merged;
      }
      Resolved& r = resolved[target];
      if (r.attrs.empty()) {
        r.attrs = std::move(attrs);
      } else {
        for (const auto& [k, v] : attrs) {
          if (!r.attrs.Has(k)) r.attrs.Set(k, v);
        }
      }
      r.reference_only = r.reference_only && c.reference_only;
      for (auto& k : keys) import_keys.emplace(std::move(k), target);
      slot[i] = target;
    }
    if (!report.errors.empty()) return Status::Invalid("invalid candidates");

    // 3. Reconcile and stage CIs.
    std::unordered_set<CiId> seen;
    for (size_t ri = 0; ri < resolved.size(); ++ri) {
      Resolved& r = resolved[ri];
      if (r.reference_only) {
        if (!r.existing) {
          fail(r.location,
               "references a " + set.cis[r.first].class_name + " that is not in the CMDB");
          continue;
        }
        r.id = r.existing;
        continue;
      }
      Provenance mine;
      if (r.existing) {
        if (const Provenance* p = txn.GetProvenance(false, r.existing, opt.source)) mine = *p;
      }
      mine.relationship = false;
      mine.source = opt.source;
      mine.last_seen = now;
      bool was_stale = mine.stale;
      mine.stale = false;
      if (!r.existing) {
        AttrMap attrs = r.attrs;
        auto id = txn.CreateCi(r.class_name, std::move(attrs));
        if (!id.ok()) {
          fail(r.location, id.status().message());
          continue;
        }
        r.id = *id;
        mine.id = r.id;
        AttrMap::Builder owned;
        for (const auto& [k, v] : r.attrs) owned.Add(k, Value(now));
        mine.owned = owned.Build();
        ImportChange ch{"create",   r.id, r.class_name, NameOf(txn.GetCi(r.id)->attrs),
                        r.location, {}};
        for (const auto& [k, v] : txn.GetCi(r.id)->attrs) ch.attrs.push_back({k, Value(), v});
        report.changes.push_back(std::move(ch));
        ++report.created;
      } else {
        r.id = r.existing;
        mine.id = r.id;
        const CiRecord* cur = txn.GetCi(r.id);
        std::vector<Provenance> others = txn.ProvenanceOf(false, r.id);
        AttrPatch patch;
        std::vector<AttrChange> diffs;
        for (const auto& [k, v] : r.attrs) {
          if (!schema.FindAttribute(cur->class_name, k)) {
            report.conflicts.push_back({r.id, k, "schema", r.location, v, Value()});
            continue;
          }
          Value have = cur->attrs.Get(k);
          if (have == v) {
            if (mine.owned.Has(k)) mine.owned.Set(k, now);  // confirmed
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
              report.conflicts.push_back({r.id, k, owner->source, r.location, v, have});
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
        if (was_stale && cur->attrs.Get("status") == Value("stale") && !r.attrs.Has("status")) {
          patch.emplace_back("status", Value("live"));
          diffs.push_back({"status", Value("stale"), Value("live")});
          ++report.resurrected;
        }
        if (!patch.empty()) {
          Status st = txn.UpdateCi(r.id, patch, std::nullopt);
          if (!st.ok()) {
            fail(r.location, st.message());
            continue;
          }
          report.changes.push_back({was_stale ? "resurrect" : "update", r.id, cur->class_name,
                                    NameOf(txn.GetCi(r.id)->attrs), r.location, std::move(diffs)});
          ++report.updated;
        } else {
          ++report.unchanged;
        }
      }
      seen.insert(r.id);
      txn.PutProvenance(std::move(mine));
    }
    if (!report.errors.empty()) return Status::Invalid("invalid candidates");

    // 4. Relationships.
    std::unordered_set<RelId> rels_seen;
    for (const CandidateRel& cr : set.rels) {
      auto from = by_ref.find(cr.from_ref), to = by_ref.find(cr.to_ref);
      if (from == by_ref.end() || to == by_ref.end() || slot[from->second] == SIZE_MAX ||
          slot[to->second] == SIZE_MAX) {
        fail(cr.location, "relationship " + cr.type + " names '" +
                              (from == by_ref.end() ? cr.from_ref : cr.to_ref) +
                              "', which is not in the source");
        continue;
      }
      CiId a = resolved[slot[from->second]].id, b = resolved[slot[to->second]].id;
      if (a == 0 || b == 0) continue;
      auto up = txn.UpsertRel(cr.type, a, b, cr.attrs);
      if (!up.ok()) {
        fail(cr.location, up.status().message());
        continue;
      }
      auto [rel, outcome] = *up;
      if (!rels_seen.insert(rel).second) continue;
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
    if (!report.errors.empty()) return Status::Invalid("invalid candidates");

    // 5. Full scan: what this source reported before and not now is stale (never deleted).
    if (opt.full_scan) {
      std::vector<Provenance> gone;
      g.provenance().ForSource(opt.source, [&](const Provenance& p) {
        if (p.stale) return;
        if (p.relationship ? rels_seen.count(p.id) == 0 : seen.count(p.id) == 0) gone.push_back(p);
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
          if (cur->attrs.Get("status") != Value("stale")) {
            CMDB_RETURN_IF_ERROR(txn.UpdateCi(p.id, {{"status", Value("stale")}}, std::nullopt));
            report.changes.push_back({"stale",
                                      p.id,
                                      cur->class_name,
                                      NameOf(cur->attrs),
                                      "",
                                      {{"status", cur->attrs.Get("status"), Value("stale")}}});
          }
          ++report.stale;
        }
        p.stale = true;
        txn.PutProvenance(std::move(p));
      }
    }
    if (opt.dry_run) return Status(StatusCode::kConflict, "dry run: discarded").WithType("dry_run");
    return Status::Ok();
  });
  if (!tx.ok()) {
    if (tx.status().type() == "dry_run") return Status::Ok();
    if (!report.errors.empty())
      return Status::Invalid(std::to_string(report.errors.size()) +
                             " record(s) could not be imported; first at " +
                             report.errors[0].location + ": " + report.errors[0].message +
                             "; nothing was imported")
          .WithType("invalid_source");
    return tx.status();
  }
  report.tx = tx->id;
  return Status::Ok();
}

}  // namespace cmdb::importers
