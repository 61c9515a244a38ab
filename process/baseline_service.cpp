// Baselines: capture, contents, diff and the USE BASELINE resolver.
#include "process/baseline_service.hpp"

#include <algorithm>
#include <unordered_set>

#include "analysis/impact.hpp"
#include "cmdb/time_util.hpp"
#include "process/history.hpp"

namespace cmdb::process {
namespace {

constexpr const char* kSubjectNames[] = {"ci", "relationship"};
constexpr const char* kChangeNames[] = {"added", "removed", "changed"};

const CiRecord* NameOf(const CiRecord& c, std::string& out) {
  Value n = c.attrs.Get("name");
  out = n.is_string() ? n.as_string() : "";
  return &c;
}

}  // namespace

const char* DiffSubjectName(DiffSubject s) { return kSubjectNames[static_cast<int>(s)]; }
const char* DiffChangeName(DiffChange c) { return kChangeNames[static_cast<int>(c)]; }

Result<std::vector<CiId>> BaselineService::ScopeCis(const BaselineSpec& spec) const {
  std::vector<CiId> ids;
  if (spec.scope_kind == ScopeKind::kQuery) {
    gql::QueryRequest q;
    q.text = spec.query;
    q.allow_writes = false;
    auto rows = engine_.Run(q);
    if (!rows.ok()) {
      Status st = rows.status();
      return Status(st.code(), "the scope query failed: " + st.message())
          .WithType(st.type().empty() ? "invalid_scope" : st.type());
    }
    for (const auto& row : rows->rows) {
      for (const auto& v : row) {
        if (v.kind() == gql::QValue::Kind::kNode) ids.push_back(v.as_node().id);
      }
    }
  } else if (spec.scope_kind == ScopeKind::kRoots) {
    ReadView view = db_.Read();
    analysis::ImpactRequest req;
    for (CiId id : spec.roots) {
      if (!view.graph().FindCi(id))
        return Status::NotFound("root CI " + std::to_string(id) + " does not exist").With("ci", id);
      req.seeds.push_back(id);
    }
    req.direction = spec.follow_impacted ? analysis::ImpactDirection::kImpacted
                                         : analysis::ImpactDirection::kDependsOn;
    req.max_depth = spec.max_depth;
    req.types = spec.types;
    req.classes = spec.classes;
    req.redundancy = spec.redundancy;
    auto result = analysis::ComputeImpact(view.graph(), view.schema(), req);
    if (!result.ok()) return result.status();
    for (const auto& ci : result->cis) ids.push_back(ci.id);
  } else {  // kAll
    ReadView view = db_.Read();
    for (CiId id = 1; id < view.graph().ci_id_bound(); ++id) {
      if (view.graph().FindCi(id)) ids.push_back(id);
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

Result<Baseline> BaselineService::Capture(const BaselineSpec& spec, const std::string& actor,
                                          int64_t release_id) {
  Baseline b;
  TxMeta meta;
  meta.actor = actor;
  meta.source = "release";
  meta.message = "baseline captured: " + spec.name;
  auto tx = db_.Write(meta, [&](Txn& txn) { return CaptureIn(txn, spec, actor, release_id, b); });
  if (!tx.ok()) return tx.status();
  return b;
}

Status BaselineService::CaptureIn(Txn& txn, const BaselineSpec& spec, const std::string& actor,
                                  int64_t release_id, Baseline& b) const {
  // Inside the write: no other write can land between the scope and the tx it is pinned to.
  b.name = spec.name;
  CMDB_RETURN_IF_ERROR(CheckRequired(BaselineFieldTable(), b, "baseline"));
  for (const auto& [id, doc] : txn.graph().docs().All(kBaselineKind)) {
    if (doc->body.Get("name") == Value(spec.name))
      return Status::Conflict("a baseline named '" + spec.name +
                              "' already exists; baselines are immutable")
          .With("name", spec.name);
  }
  auto cis = ScopeCis(spec);
  if (!cis.ok()) return cis.status();
  const Graph& g = txn.graph();
  b.id = txn.NextDocId(kBaselineKind);
  b.name = spec.name;
  b.description = spec.description;
  b.scope_kind = spec.scope_kind;
  b.scope_query = spec.query;
  b.roots = spec.roots;
  b.follow = spec.scope_kind != ScopeKind::kRoots ? ScopeFollow::kNone
             : spec.follow_impacted               ? ScopeFollow::kImpacted
                                                  : ScopeFollow::kDependsOn;
  b.max_depth = spec.scope_kind == ScopeKind::kRoots ? spec.max_depth : 0;
  if (spec.scope_kind == ScopeKind::kRoots) {
    b.types = spec.types;
    b.classes = spec.classes;
    b.redundancy = spec.redundancy;
  }
  b.tx = txn.tx() - 1;
  b.captured_at = db_.clock().NowMicros();
  b.created_by = actor;
  b.release_id = release_id;
  b.cis = std::move(*cis);
  for (CiId id : b.cis) {
    for (const Adj& a : g.Out(id)) {
      if (std::binary_search(b.cis.begin(), b.cis.end(), a.other())) b.rels.push_back(a.rel());
    }
  }
  std::sort(b.rels.begin(), b.rels.end());
  return txn.PutDoc(BaselineToDoc(b), std::nullopt).status();
}

std::optional<Baseline> BaselineService::Get(const std::string& name) const {
  ReadView view = db_.Read();
  for (const auto& [id, doc] : view.graph().docs().All(kBaselineKind)) {
    if (doc->body.Get("name") == Value(name)) return BaselineFromDoc(*doc);
  }
  return std::nullopt;
}

std::vector<Baseline> BaselineService::List() const {
  ReadView view = db_.Read();
  std::vector<Baseline> out;
  for (const auto& [id, doc] : view.graph().docs().All(kBaselineKind))
    out.push_back(BaselineFromDoc(*doc));
  return out;
}

Status BaselineService::Delete(const std::string& name, const std::string& actor) {
  TxMeta meta;
  meta.actor = actor;
  meta.source = "release";
  meta.message = "baseline deleted: " + name;
  return db_
      .Write(meta,
             [&](Txn& txn) -> Status {
               for (const auto& [id, doc] : txn.graph().docs().All(kBaselineKind)) {
                 if (doc->body.Get("name") == Value(name)) {
                   DocRecord gone = *doc;
                   gone.retired = true;
                   return txn.PutDoc(std::move(gone), std::nullopt).status();
                 }
               }
               return Status::NotFound("no baseline named '" + name + "'");
             })
      .status();
}

Status BaselineService::Contents(const Baseline& b, size_t offset, size_t limit,
                                 std::vector<CiRecord>& cis, std::vector<RelRecord>& rels) const {
  // One page across the CIs, then the relationships.
  std::vector<CiPtr> ci_now;
  std::vector<std::optional<RelRecord>> rel_now;
  size_t ci_from = std::min(offset, b.cis.size()), ci_to = std::min(offset + limit, b.cis.size());
  size_t rel_from = offset > b.cis.size() ? offset - b.cis.size() : 0;
  size_t rel_to =
      offset + limit > b.cis.size() ? std::min(offset + limit - b.cis.size(), b.rels.size()) : 0;
  rel_from = std::min(rel_from, rel_to);
  {
    ReadView view = db_.Read();
    for (size_t i = ci_from; i < ci_to; ++i) ci_now.push_back(view.graph().GetCi(b.cis[i]));
    for (size_t i = rel_from; i < rel_to; ++i) rel_now.push_back(view.graph().FindRel(b.rels[i]));
  }
  Store& store = *db_.store();
  for (size_t i = ci_from; i < ci_to; ++i) {
    auto v = CiAt(store, ci_now[i - ci_from].get(), b.cis[i], b.tx);
    if (!v.ok()) return v.status();
    if (*v) cis.push_back(std::move(**v));
  }
  for (size_t i = rel_from; i < rel_to; ++i) {
    auto v = RelAt(store, rel_now[i - rel_from], b.rels[i], b.tx);
    if (!v.ok()) return v.status();
    if (*v) rels.push_back(std::move(**v));
  }
  return Status::Ok();
}

Result<BaselineDiff> BaselineService::Diff(const Baseline& a, const DiffTarget& target) const {
  BaselineDiff diff;
  diff.from_tx = a.tx;
  Store& store = *db_.store();
  // The other side: its tx, its CI ids and its relationship ids.
  std::vector<CiId> b_cis;
  std::vector<RelId> b_rels;
  std::optional<Baseline> other;
  if (target.kind == DiffTarget::kBaseline) {
    other = Get(target.baseline);
    if (!other)
      return Status::NotFound("no baseline named '" + target.baseline + "'")
          .With("parameter", "against");
    diff.to_tx = other->tx;
    b_cis = other->cis;
    b_rels = other->rels;
  } else if (target.kind == DiffTarget::kAsOf) {
    auto tx = store.TxAtTime(target.as_of);
    if (!tx.ok()) return tx.status();
    diff.to_tx = *tx;
    b_cis = a.cis;  // the same CIs, as they were then
  } else {
    diff.to_tx = db_.Read().tx();
    b_cis = a.cis;
  }
  // Current records for every id involved (one short read), then history where needed.
  std::vector<CiId> all_cis;
  std::set_union(a.cis.begin(), a.cis.end(), b_cis.begin(), b_cis.end(),
                 std::back_inserter(all_cis));
  std::vector<CiPtr> now(all_cis.size());
  {
    ReadView view = db_.Read();
    diff.to_tx = target.kind == DiffTarget::kCurrent ? view.tx() : diff.to_tx;
    for (size_t i = 0; i < all_cis.size(); ++i) now[i] = view.graph().GetCi(all_cis[i]);
    if (target.kind != DiffTarget::kBaseline) {
      // Relationships among the CIs on the other side: current adjacency, or for AS OF the
      // baseline's relationships and those of the CIs' current adjacency, resolved at that tx.
      std::unordered_set<RelId> seen(a.rels.begin(), a.rels.end());
      b_rels = a.rels;
      for (CiId id : b_cis) {
        for (const Adj& adj : view.graph().Out(id)) {
          if (std::binary_search(b_cis.begin(), b_cis.end(), adj.other()) &&
              seen.insert(adj.rel()).second)
            b_rels.push_back(adj.rel());
        }
      }
      std::sort(b_rels.begin(), b_rels.end());
    }
  }
  if (target.kind == DiffTarget::kCurrent && target.include_new) {
    BaselineSpec spec{a.name,        "",      a.scope_kind,
                      a.scope_query, a.roots, a.follow != ScopeFollow::kDependsOn,
                      a.max_depth,   a.types, a.classes,
                      a.redundancy};
    auto scope_now = ScopeCis(spec);
    if (!scope_now.ok()) return scope_now.status();
    std::vector<CiId> fresh;
    for (CiId id : *scope_now) {
      if (!std::binary_search(a.cis.begin(), a.cis.end(), id)) fresh.push_back(id);
    }
    ReadView view = db_.Read();
    for (CiId id : fresh) {
      const CiRecord* c = view.graph().FindCi(id);
      if (!c || c->created_at == 0) continue;
      auto at_capture = CiAt(store, nullptr, id, a.tx);  // existed then? (history)
      if (!at_capture.ok()) return at_capture.status();
      if (*at_capture) continue;  // it existed, it just was not in scope: not new
      DiffEntry e{DiffSubject::kCi,
                  DiffChange::kAdded,
                  id,
                  c->class_name,
                  "",
                  "",
                  0,
                  0,
                  DiffAttrs(AttrMap(), c->attrs)};
      NameOf(*c, e.name);
      diff.entries.push_back(std::move(e));
      ++diff.counts.cis_added;
    }
  }
  for (size_t i = 0; i < all_cis.size(); ++i) {
    CiId id = all_cis[i];
    bool in_a = std::binary_search(a.cis.begin(), a.cis.end(), id);
    bool in_b = std::binary_search(b_cis.begin(), b_cis.end(), id);
    std::optional<CiRecord> va, vb;
    if (in_a) {
      auto r = CiAt(store, now[i].get(), id, a.tx);
      if (!r.ok()) return r.status();
      va = std::move(*r);
    }
    if (in_b) {
      auto r = CiAt(store, now[i].get(), id, diff.to_tx);
      if (!r.ok()) return r.status();
      vb = std::move(*r);
    }
    if (!va && !vb) continue;
    DiffEntry e;
    e.what = DiffSubject::kCi;
    e.id = id;
    const CiRecord& shown = vb ? *vb : *va;
    e.class_name = shown.class_name;
    NameOf(shown, e.name);
    if (!vb) {
      e.change = DiffChange::kRemoved;
      ++diff.counts.cis_removed;
    } else if (!va) {
      e.change = DiffChange::kAdded;
      e.attrs = DiffAttrs(AttrMap(), vb->attrs);
      ++diff.counts.cis_added;
    } else {
      if (va->valid_from == vb->valid_from) continue;
      e.attrs = DiffAttrs(va->attrs, vb->attrs);
      if (e.attrs.empty() && va->class_name == vb->class_name) continue;
      e.change = DiffChange::kChanged;
      ++diff.counts.cis_changed;
    }
    diff.entries.push_back(std::move(e));
  }
  std::vector<RelId> all_rels;
  std::set_union(a.rels.begin(), a.rels.end(), b_rels.begin(), b_rels.end(),
                 std::back_inserter(all_rels));
  std::vector<std::optional<RelRecord>> rel_now(all_rels.size());
  {
    ReadView view = db_.Read();
    for (size_t i = 0; i < all_rels.size(); ++i) rel_now[i] = view.graph().FindRel(all_rels[i]);
  }
  for (size_t i = 0; i < all_rels.size(); ++i) {
    RelId id = all_rels[i];
    std::optional<RelRecord> va, vb;
    if (std::binary_search(a.rels.begin(), a.rels.end(), id)) {
      auto r = RelAt(store, rel_now[i], id, a.tx);
      if (!r.ok()) return r.status();
      va = std::move(*r);
    }
    if (std::binary_search(b_rels.begin(), b_rels.end(), id)) {
      auto r = RelAt(store, rel_now[i], id, diff.to_tx);
      if (!r.ok()) return r.status();
      vb = std::move(*r);
    }
    if (!va && !vb) continue;
    const RelRecord& shown = vb ? *vb : *va;
    DiffEntry e{DiffSubject::kRelationship,
                DiffChange::kChanged,
                id,
                "",
                "",
                shown.type,
                shown.from,
                shown.to,
                {}};
    if (!vb) {
      e.change = DiffChange::kRemoved;
      ++diff.counts.rels_removed;
    } else if (!va) {
      e.change = DiffChange::kAdded;
      ++diff.counts.rels_added;
    } else {
      if (va->valid_from == vb->valid_from) continue;
      e.attrs = DiffAttrs(va->attrs, vb->attrs);
      if (e.attrs.empty()) continue;
      e.change = DiffChange::kChanged;
      ++diff.counts.rels_changed;
    }
    diff.entries.push_back(std::move(e));
  }
  std::stable_sort(diff.entries.begin(), diff.entries.end(),
                   [](const DiffEntry& x, const DiffEntry& y) {
                     return std::tie(x.what, x.id) < std::tie(y.what, y.id);
                   });
  return diff;
}

gql::BaselineResolver BaselineService::Resolver() const {
  return [this](const std::string& name) -> Result<gql::BaselineSnapshot> {
    ReadView view = db_.Read();
    for (const auto& [id, doc] : view.graph().docs().All(kBaselineKind)) {
      if (doc->body.Get("name") != Value(name)) continue;
      // A baseline of everything (scope "all", captured inside its write) holds every CI and
      // relationship there at its tx: USE BASELINE reads it as AS OF tx, its members unread.
      Value tx = doc->body.Get("tx");
      if (doc->body.Get("scope_kind") == Value("all") && tx.is_int())
        return gql::BaselineSnapshot{tx.as_int(), {}, {}, true};
      Baseline b = BaselineFromDoc(*doc);
      return gql::BaselineSnapshot{b.tx, std::move(b.cis), std::move(b.rels), false};
    }
    return Status::NotFound("no baseline named '" + name + "'");
  };
}

}  // namespace cmdb::process
