#include "cmdb/graph.hpp"

#include <algorithm>
#include <future>
#include <stdexcept>

namespace cmdb {

std::optional<std::string> KeyIndexKey(const Schema& schema, std::string_view cls,
                                       const AttrMap& attrs) {
  const ClassDef* owner = schema.KeyOwner(cls);
  if (!owner) return std::nullopt;
  std::string out;
  out.reserve(owner->name.size() + 24);
  out += "K|";
  out += owner->name;
  out += '|';
  for (const auto& a : owner->key) {
    std::optional<Value> v = attrs.Find(a);
    if (!v) return std::nullopt;
    out += v->ToLiteral();
    out += '\x1f';
  }
  return out;
}

std::string UniqueIndexKey(const Schema& schema, std::string_view cls, std::string_view attr, const Value& value) {
  return "U|" + schema.DeclaringClass(cls, attr) + "." + std::string(attr) + "|" + value.ToLiteral();
}

std::vector<std::string> IndexKeysOf(const Schema& schema, const CiRecord& ci) {
  std::vector<std::string> out;
  if (auto k = KeyIndexKey(schema, ci.class_name, ci.attrs)) out.push_back(std::move(*k));
  AppendUniqueKeys(schema, ci, out);
  return out;
}

void AppendUniqueKeys(const Schema& schema, const CiRecord& ci, std::vector<std::string>& out) {
  for (const AttributeDef* a : schema.AllAttributes(ci.class_name)) {
    if (!a->unique) continue;
    std::optional<Value> v = ci.attrs.Find(a->name);
    if (!v) continue;
    out.push_back(UniqueIndexKey(schema, ci.class_name, a->name, *v));
  }
}

std::span<const Adj> Graph::OfType(std::span<const Adj> all, TypeId type) {
  auto lo = std::lower_bound(all.begin(), all.end(), type,
                             [](const Adj& a, TypeId t) { return a.type() < t; });
  auto hi = std::upper_bound(lo, all.end(), type,
                             [](TypeId t, const Adj& a) { return t < a.type(); });
  return all.subspan(static_cast<size_t>(lo - all.begin()), static_cast<size_t>(hi - lo));
}

std::optional<TypeId> Graph::TypeIdOf(std::string_view type) const {
  auto it = type_ids_.find(std::string(type));
  if (it == type_ids_.end()) return std::nullopt;
  return it->second;
}

ClassId Graph::InternClass(const std::string& cls) {
  auto [it, inserted] = class_ids_.emplace(cls, static_cast<ClassId>(class_names_.size()));
  if (inserted) class_names_.push_back(cls);
  return it->second;
}

TypeId Graph::InternType(const std::string& type) {
  auto [it, inserted] = type_ids_.emplace(type, static_cast<TypeId>(type_names_.size()));
  if (inserted) {
    if (type_names_.size() > 0xffff) throw std::length_error("more than 65,536 relationship types");
    type_names_.push_back(type);
  }
  return it->second;
}

std::span<const CiId> Graph::Extent(std::string_view cls) const {
  auto it = extents_.find(std::string(cls));
  if (it == extents_.end()) return {};
  return it->second;
}

std::vector<std::string> Graph::ClassesInUse() const {
  std::vector<std::string> out;
  for (const auto& [cls, ids] : extents_) {
    if (!ids.empty()) out.push_back(cls);
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool HoldsIndexKey(const Schema& schema, const CiRecord& ci, const std::string& key) {
  if (key.rfind("K|", 0) == 0) {  // a KEY entry: only the KEY needs recomputing
    auto k = KeyIndexKey(schema, ci.class_name, ci.attrs);
    return k && *k == key;
  }
  for (const std::string& k : IndexKeysOf(schema, ci)) {
    if (k == key) return true;
  }
  return false;
}

std::optional<CiId> Graph::LookupIndex(const std::string& key, const Schema& schema) const {
  // The index holds hashes: confirm the candidate really has this entry.
  std::optional<CiId> found;
  index_.FindIf(HashIndex::HashOf(key), [&](CiId id) {
    const CiRecord* ci = FindCi(id);
    if (!ci || !HoldsIndexKey(schema, *ci, key)) return false;
    found = id;
    return true;
  });
  return found;
}

void Graph::RemoveCi(CiId id, const Schema& schema) {
  const CiRecord& old = *cis_.Find(id);
  for (const auto& k : IndexKeysOf(schema, old)) index_.Erase(HashIndex::HashOf(k), id);
  search_.Erase(id);
  auto& ext = extents_[old.class_name];
  auto it = std::lower_bound(ext.begin(), ext.end(), id);
  if (it != ext.end() && *it == id) ext.erase(it);
  cis_.Clear(id);
  --ci_count_;
}

void Graph::InsertCi(CiRecord&& ci, const Schema& schema) {
  CiId id = ci.id;
  // Adjacency rows grow on their first relationship (Adjacency::Insert).
  if (size_t(id) >= class_of_.size()) class_of_.resize(id + 1);
  class_of_[id] = InternClass(ci.class_name);
  for (const auto& k : IndexKeysOf(schema, ci)) index_.Insert(HashIndex::HashOf(k), id);
  search_.Put(schema, ci);
  auto& ext = extents_[ci.class_name];
  if (ext.empty() || ext.back() < id) {
    ext.push_back(id);
  } else {
    ext.insert(std::lower_bound(ext.begin(), ext.end(), id), id);
  }
  cis_.Put(std::move(ci));
  ++ci_count_;
}

void Graph::RemoveRel(RelId id, bool adjacency) {
  const RelTable::Packed& r = *rels_.FindPacked(id);
  if (adjacency) {
    out_.Remove(r.from(), id);
    in_.Remove(r.to(), id);
  }
  rels_.Clear(id);
  --rel_count_;
}

void Graph::InsertRel(RelRecord&& rel, bool adjacency) {
  RelId id = rel.id;
  TypeId t = InternType(rel.type);
  if (adjacency) {
    out_.Insert(rel.from, Adj{rel.to, id, t});
    in_.Insert(rel.to, Adj{rel.from, id, t});
  }
  rels_.Put(std::move(rel));
  ++rel_count_;
}

void Graph::Apply(WriteSet&& ws, const Schema& schema) {
  // A write of many relationships (a bulk load) rebuilds the adjacency in one pass afterwards
  // instead of moving most rows to the overlay one entry at a time.
  bool rebuild = ws.rels.size() > rel_count_ / 4 + 4096;
  auto apply_cis = [&] {
    for (CiRecord& c : ws.cis) {
      if (cis_.Find(c.id)) RemoveCi(c.id, schema);
      if (!c.retired) InsertCi(std::move(c), schema);
    }
  };
  // Without the adjacency, CIs and relationships touch disjoint members: a large write applies
  // its CIs on a second thread meanwhile (the caller holds the graph exclusively).
  std::future<void> cis_done;
  if (rebuild && ws.cis.size() >= parallel_min_) cis_done = std::async(std::launch::async, apply_cis);
  // Relationships first when they go away, CIs after; CIs first when they arrive.
  for (const RelRecord& r : ws.rels) {
    if (rels_.Has(r.id)) RemoveRel(r.id, !rebuild);
  }
  if (!cis_done.valid()) apply_cis();
  for (RelRecord& r : ws.rels) {
    if (!r.retired) InsertRel(std::move(r), !rebuild);
  }
  if (rebuild) {
    loading_.clear();
    loading_.reserve(rel_count_);
    for (RelId id = 1; id < rels_.bound(); ++id) {
      const RelTable::Packed* r = rels_.FindPacked(id);
      if (r) loading_.push_back(LoadEdge{r->from(), r->to(), id, type_ids_.find(r->type)->second});
    }
  }
  if (cis_done.valid()) cis_done.get();  // rethrows what the CI thread threw
  for (DocRecord& d : ws.docs) docs_.Put(std::move(d));
  for (Provenance& p : ws.provenance) provenance_.Put(std::move(p));
  search_.Settle();
  if (rebuild) {
    FinishLoad();
    return;
  }
  // Fold changed rows back into the shared arrays once they are a noticeable share: O(E) now and
  // then keeps writes O(row) amortized and traversals on contiguous rows.
  size_t limit = size_t(cis_.bound()) / 8 + 4096;
  if (out_.overlay_rows() > limit) out_.Compact();
  if (in_.overlay_rows() > limit) in_.Compact();
}

void Graph::Reserve(CiId ci_bound, RelId rel_bound) {
  cis_.Reserve(ci_bound);
  class_of_.reserve(size_t(ci_bound));
  index_.Reserve(size_t(ci_bound));
  rels_.Reserve(rel_bound);
  loading_.reserve(size_t(rel_bound));
}

void Graph::FinishLoad() {
  CiId bound = ci_id_bound();
  auto build = [&](Adjacency& table, bool out) {
    table.Build(size_t(bound), [&](auto&& emit) {
      for (const LoadEdge& e : loading_) {
        if (e.from >= bound || e.to >= bound) continue;
        if (out) emit(e.from, Adj{e.to, e.id, e.type});
        else emit(e.to, Adj{e.from, e.id, e.type});
      }
    });
  };
  // The two directions are independent: a large graph builds them on two threads.
  if (loading_.size() >= parallel_min_) {
    auto in_done = std::async(std::launch::async, [&] { build(in_, false); });
    build(out_, true);
    in_done.get();  // rethrows what the other thread threw
  } else {
    build(out_, true);
    build(in_, false);
  }
  loading_ = std::vector<LoadEdge>();  // releases the storage (`= {}` would keep it)
  // The extents grew by doubling while loading: give back the unused tail.
  for (auto& [cls, ids] : extents_) ids.shrink_to_fit();
  search_.Trim();
}

void Graph::PutCi(CiRecord&& ci, const Schema& schema) {
  InsertCi(std::move(ci), schema);
}

void Graph::PutRel(RelRecord&& rel) {
  // Records only; FinishLoad builds the adjacency of all of them at once.
  RelId id = rel.id;
  loading_.push_back(LoadEdge{rel.from, rel.to, id, InternType(rel.type)});
  rels_.Put(std::move(rel));
  ++rel_count_;
}

void Graph::RebuildIndexes(const Schema& schema) {
  index_.Clear();
  search_.Clear();
  for (CiId id = 1; id < cis_.bound(); ++id) {
    const CiRecord* ci = cis_.Find(id);
    if (!ci) continue;
    for (const auto& k : IndexKeysOf(schema, *ci)) index_.Insert(HashIndex::HashOf(k), id);
    search_.Put(schema, *ci);
  }
  search_.Trim();
}

}  // namespace cmdb
