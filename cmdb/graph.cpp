#include "cmdb/graph.hpp"

#include <algorithm>

namespace cmdb {

std::optional<std::string> KeyIndexKey(const Schema& schema, std::string_view cls,
                                       const AttrMap& attrs) {
  std::string scope;
  std::vector<std::string> key = schema.KeyAttributes(cls, &scope);
  if (key.empty()) return std::nullopt;
  std::string out = "K|" + scope + "|";
  for (const auto& a : key) {
    const Value* v = attrs.Find(a);
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
  for (const AttributeDef* a : schema.AllAttributes(ci.class_name)) {
    if (!a->unique) continue;
    const Value* v = ci.attrs.Find(a->name);
    if (!v) continue;
    out.push_back(UniqueIndexKey(schema, ci.class_name, a->name, *v));
  }
  return out;
}

std::span<const Adj> Graph::OfType(std::span<const Adj> all, TypeId type) {
  auto lo = std::lower_bound(all.begin(), all.end(), type,
                             [](const Adj& a, TypeId t) { return a.type < t; });
  auto hi = std::upper_bound(lo, all.end(), type,
                             [](TypeId t, const Adj& a) { return t < a.type; });
  return all.subspan(static_cast<size_t>(lo - all.begin()), static_cast<size_t>(hi - lo));
}

std::optional<TypeId> Graph::TypeIdOf(std::string_view type) const {
  auto it = type_ids_.find(std::string(type));
  if (it == type_ids_.end()) return std::nullopt;
  return it->second;
}

TypeId Graph::InternType(const std::string& type) {
  auto [it, inserted] = type_ids_.emplace(type, static_cast<TypeId>(type_names_.size()));
  if (inserted) type_names_.push_back(type);
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

std::optional<CiId> Graph::LookupIndex(const std::string& key) const {
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

void Graph::RemoveCi(CiId id, const Schema& schema) {
  const CiPtr& old = cis_[id];
  for (const auto& k : IndexKeysOf(schema, *old)) {
    auto it = index_.find(k);
    if (it != index_.end() && it->second == id) index_.erase(it);
  }
  auto& ext = extents_[old->class_name];
  auto it = std::lower_bound(ext.begin(), ext.end(), id);
  if (it != ext.end() && *it == id) ext.erase(it);
  cis_[id] = nullptr;
  --ci_count_;
}

void Graph::InsertCi(CiPtr ci, const Schema& schema) {
  CiId id = ci->id;
  if (size_t(id) >= cis_.size()) {
    cis_.resize(id + 1);
    out_.resize(id + 1);
    in_.resize(id + 1);
  }
  for (auto& k : IndexKeysOf(schema, *ci)) index_[std::move(k)] = id;
  auto& ext = extents_[ci->class_name];
  if (ext.empty() || ext.back() < id) {
    ext.push_back(id);
  } else {
    ext.insert(std::lower_bound(ext.begin(), ext.end(), id), id);
  }
  cis_[id] = std::move(ci);
  ++ci_count_;
}

void Graph::RemoveRel(RelId id) {
  const RelPtr& r = rels_[id];
  TypeId t = type_ids_.at(r->type);
  auto drop = [&](std::vector<Adj>& list) {
    list.erase(std::remove_if(list.begin(), list.end(),
                              [&](const Adj& a) { return a.rel == id && a.type == t; }),
               list.end());
  };
  drop(out_[r->from]);
  drop(in_[r->to]);
  rels_[id] = nullptr;
  --rel_count_;
}

void Graph::InsertRel(RelPtr rel) {
  RelId id = rel->id;
  if (size_t(id) >= rels_.size()) rels_.resize(id + 1);
  TypeId t = InternType(rel->type);
  auto add = [&](std::vector<Adj>& list, CiId other) {
    Adj a{t, other, id};
    auto pos = std::upper_bound(list.begin(), list.end(), t,
                                [](TypeId x, const Adj& e) { return x < e.type; });
    list.insert(pos, a);
  };
  add(out_[rel->from], rel->to);
  add(in_[rel->to], rel->from);
  rels_[id] = std::move(rel);
  ++rel_count_;
}

void Graph::Apply(const WriteSet& ws, const Schema& schema) {
  // Relationships first when they go away, CIs after; CIs first when they arrive.
  for (const RelRecord& r : ws.rels) {
    if (r.id < rel_id_bound() && rels_[r.id]) RemoveRel(r.id);
  }
  for (const CiRecord& c : ws.cis) {
    if (c.id < ci_id_bound() && cis_[c.id]) RemoveCi(c.id, schema);
    if (!c.retired) InsertCi(std::make_shared<const CiRecord>(c), schema);
  }
  for (const RelRecord& r : ws.rels) {
    if (!r.retired) InsertRel(std::make_shared<const RelRecord>(r));
  }
  for (const DocRecord& d : ws.docs) docs_.Put(d);
  for (const Provenance& p : ws.provenance) provenance_.Put(p);
}

void Graph::PutCi(CiRecord&& ci, const Schema& schema) {
  InsertCi(std::make_shared<const CiRecord>(std::move(ci)), schema);
}

void Graph::PutRel(RelRecord&& rel) { InsertRel(std::make_shared<const RelRecord>(std::move(rel))); }

void Graph::RebuildIndexes(const Schema& schema) {
  index_.clear();
  for (const CiPtr& ci : cis_) {
    if (!ci) continue;
    for (auto& k : IndexKeysOf(schema, *ci)) index_[std::move(k)] = ci->id;
  }
}

}  // namespace cmdb
