#include "cmdb/past_graph.hpp"

#include <algorithm>

namespace cmdb {

Result<std::unique_ptr<PastGraph>> PastGraph::Open(const Graph& current, TxId current_tx, Store& store, TxId tx,
                                                   const Schema& schema, const std::vector<CiId>* member_cis,
                                                   const std::vector<RelId>* member_rels) {
  if (tx > current_tx)
    return Status::Internal("the past view of transaction " + std::to_string(tx) + " is after the present (" +
                            std::to_string(current_tx) + ")");
  std::unique_ptr<PastGraph> past(new PastGraph(current, store, tx, schema));
  if (member_cis || member_rels) {
    past->filter_ = true;
    if (member_cis) {
      for (CiId id : *member_cis) past->member_cis_.Set(id);
      past->member_ci_total_ = member_cis->size();
    }
    if (member_rels) {
      for (RelId id : *member_rels) past->member_rels_.Set(id);
    }
  }
  CMDB_RETURN_IF_ERROR(past->Load(tx));
  past->seen_tx_ = current_tx;
  past->Rebuild();
  return past;
}

Status PastGraph::CatchUp(TxId current_tx) {
  if (current_tx <= seen_tx_) return Status::Ok();
  CMDB_RETURN_IF_ERROR(Load(seen_tx_));
  seen_tx_ = current_tx;
  Rebuild();
  return Status::Ok();
}

Status PastGraph::Load(TxId after) {
  // An id already undone keeps its state (the state right after tx_ does not change); the store
  // may also report transactions newer than the current graph, whose undoing changes nothing.
  return store_.LoadChangedSince(
      tx_, after,
      [&](CiId id, std::optional<CiRecord>&& then) {
        if (cis_.count(id)) return;
        cis_.emplace(id, PastCi{std::move(then), 0});
        changed_cis_.Set(id);
      },
      [&](RelId id, std::optional<RelRecord>&& then) {
        if (rels_.count(id)) return;
        rels_.emplace(id, std::move(then));
        changed_rels_.Set(id);
      });
}

ClassId PastGraph::InternClass(const std::string& cls) {
  if (auto it = class_ids_.find(cls); it != class_ids_.end()) return it->second;  // no node made
  ClassId id = static_cast<ClassId>(g_.class_id_bound() + extra_classes_.size());
  class_ids_.emplace(cls, id);
  extra_classes_.push_back(cls);
  return id;
}

TypeId PastGraph::InternType(const std::string& type) {
  if (auto t = g_.TypeIdOf(type)) return *t;
  if (auto it = type_ids_.find(type); it != type_ids_.end()) return it->second;
  TypeId id = static_cast<TypeId>(g_.type_id_bound() + extra_types_.size());
  type_ids_.emplace(type, id);
  extra_types_.push_back(type);
  return id;
}

void PastGraph::Rebuild() {
  ci_bound_ = g_.ci_id_bound();
  rel_bound_ = g_.rel_id_bound();
  for (const auto& [id, p] : cis_) ci_bound_ = std::max(ci_bound_, id + 1);
  for (const auto& [id, r] : rels_) rel_bound_ = std::max(rel_bound_, id + 1);
  // Class ids: the current graph's, then past-only names.
  class_ids_.clear();
  extra_classes_.clear();
  for (ClassId c = 0; c < g_.class_id_bound(); ++c) class_ids_.emplace(g_.ClassName(c), c);
  past_extents_.clear();
  touched_classes_.clear();
  size_t now_present = 0, then_present = 0;
  for (auto& [id, p] : cis_) {
    if (const CiRecord* now = g_.FindCi(id)) {
      touched_classes_.try_emplace(now->class_name.str(), true);
      if (Member(id)) ++now_present;
    }
    if (!p.then) continue;
    const std::string& cls = p.then->class_name.str();
    p.cls = InternClass(cls);
    touched_classes_.try_emplace(cls, true);
    if (!Member(id)) continue;
    ++then_present;
    past_extents_[cls].push_back(id);
  }
  for (auto& [cls, ids] : past_extents_) std::sort(ids.begin(), ids.end());
  // Type ids: the current graph's (TypeIdOf), then past-only names.
  type_ids_.clear();
  extra_types_.clear();
  touched_.Reset(0);
  past_out_.clear();
  past_in_.clear();
  size_t rels_now = 0, rels_then = 0;
  for (auto& [id, then] : rels_) {
    if (std::optional<RelRecord> now = g_.FindRel(id)) {
      touched_.Set(now->from);
      touched_.Set(now->to);
      if (MemberRel(id)) ++rels_now;
    }
    if (!then) continue;
    touched_.Set(then->from);
    touched_.Set(then->to);
    if (!MemberRel(id)) continue;
    ++rels_then;
    TypeId t = InternType(then->type.str());
    past_out_[then->from].push_back(Adj{then->to, id, t});
    past_in_[then->to].push_back(Adj{then->from, id, t});
  }
  ci_count_ = g_.ci_count() - now_present + then_present;
  rel_count_ = g_.rel_count() - rels_now + rels_then;
  counted_ = !filter_;  // with a filter, CountMembers counts the members there then
  out_rows_.clear();
  in_rows_.clear();
  out_done_.Reset(ci_bound_);
  in_done_.Reset(ci_bound_);
  extents_.clear();
  past_keys_.reset();
}

void PastGraph::CountMembers() const {
  if (counted_) return;
  counted_ = true;
  ci_count_ = 0;
  member_cis_.ForEach([&](CiId id) { ci_count_ += FindCi(id) != nullptr; });
  rel_count_ = 0;
  member_rels_.ForEach([&](RelId id) { rel_count_ += HasRel(id); });
}

const CiRecord* PastGraph::FindCi(CiId id) const {
  if (!Member(id)) return nullptr;
  if (changed_cis_.Test(id)) {
    const PastCi& p = cis_.find(id)->second;
    return p.then ? &*p.then : nullptr;
  }
  return g_.FindCi(id);
}

std::optional<RelRecord> PastGraph::FindRel(RelId id) const {
  if (!MemberRel(id)) return std::nullopt;
  if (changed_rels_.Test(id)) return rels_.find(id)->second;
  return g_.FindRel(id);
}

bool PastGraph::HasRel(RelId id) const {
  if (!MemberRel(id)) return false;
  if (changed_rels_.Test(id)) return rels_.find(id)->second.has_value();
  return g_.HasRel(id);
}

ClassId PastGraph::ClassIdOf(CiId id) const {
  if (changed_cis_.Test(id)) return cis_.find(id)->second.cls;
  return g_.ClassIdOf(id);
}

const std::string& PastGraph::ClassName(ClassId id) const {
  if (id < g_.class_id_bound()) return g_.ClassName(id);
  return extra_classes_[id - g_.class_id_bound()];
}

std::optional<TypeId> PastGraph::TypeIdOf(std::string_view type) const {
  if (auto t = g_.TypeIdOf(type)) return t;
  auto it = type_ids_.find(std::string(type));
  if (it == type_ids_.end()) return std::nullopt;
  return it->second;
}

const std::string& PastGraph::TypeName(TypeId id) const {
  if (id < g_.type_id_bound()) return g_.TypeName(id);
  return extra_types_[id - g_.type_id_bound()];
}

std::span<const Adj> PastGraph::OfType(std::span<const Adj> all, TypeId type) {
  auto lo = std::lower_bound(all.begin(), all.end(), type, [](const Adj& a, TypeId t) { return a.type() < t; });
  auto hi = std::upper_bound(lo, all.end(), type, [](TypeId t, const Adj& a) { return t < a.type(); });
  return all.subspan(static_cast<size_t>(lo - all.begin()), static_cast<size_t>(hi - lo));
}

std::span<const Adj> PastGraph::Row(CiId id, bool out) const {
  std::span<const Adj> now = out ? g_.Out(id) : g_.In(id);
  if (!filter_ && !touched_.Test(id)) return now;
  if (!FindCi(id)) return {};
  Bits& done = out ? out_done_ : in_done_;
  auto& rows = out ? out_rows_ : in_rows_;
  if (done.Test(id)) {
    auto it = rows.find(id);
    return it == rows.end() ? now : std::span<const Adj>(it->second);
  }
  done.Set(id);
  std::vector<Adj> row;
  bool differs = false;
  for (const Adj& a : now) {
    if (changed_rels_.Test(a.rel()) || !MemberRel(a.rel())) {
      differs = true;
    } else {
      row.push_back(a);
    }
  }
  const auto& past = out ? past_out_ : past_in_;
  if (auto it = past.find(id); it != past.end()) {
    differs = true;
    row.insert(row.end(), it->second.begin(), it->second.end());
  }
  if (!differs) return now;
  // Sorted like a graph row: by type, then relationship id.
  std::sort(row.begin(), row.end(), [](const Adj& a, const Adj& b) {
    return a.type() != b.type() ? a.type() < b.type() : a.rel() < b.rel();
  });
  return rows[id] = std::move(row);
}

std::span<const CiId> PastGraph::Extent(std::string_view cls) const {
  std::string name(cls);
  if (!filter_ && !touched_classes_.count(name)) return g_.Extent(cls);
  if (auto it = extents_.find(name); it != extents_.end()) return it->second;
  std::vector<CiId> ids;
  for (CiId id : g_.Extent(cls)) {
    if (!changed_cis_.Test(id) && Member(id)) ids.push_back(id);
  }
  if (auto it = past_extents_.find(name); it != past_extents_.end()) {
    size_t mid = ids.size();
    ids.insert(ids.end(), it->second.begin(), it->second.end());
    std::inplace_merge(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(mid), ids.end());
  }
  return extents_[name] = std::move(ids);
}

size_t PastGraph::ExtentEstimate(std::string_view cls) const {
  std::string name(cls);
  if (auto it = extents_.find(name); it != extents_.end()) return it->second.size();
  size_t n = g_.Extent(cls).size();
  if (auto it = past_extents_.find(name); it != past_extents_.end()) n += it->second.size();
  return n;
}

std::vector<std::string> PastGraph::ClassesInUse() const {
  std::vector<std::string> candidates = g_.ClassesInUse();
  for (const auto& [cls, ids] : past_extents_) candidates.push_back(cls);
  std::sort(candidates.begin(), candidates.end());
  candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
  std::vector<std::string> out;
  for (auto& cls : candidates) {
    if (!Extent(cls).empty()) out.push_back(std::move(cls));
  }
  return out;
}

std::optional<CiId> PastGraph::LookupIndex(const std::string& key, const Schema& schema) const {
  // A CI holding the entry now holds it then unless it changed since (entries are unique).
  std::optional<CiId> now = g_.LookupIndex(key, schema);
  if (now && !changed_cis_.Test(*now) && Member(*now)) return now;
  if (!past_keys_) {
    past_keys_.emplace();
    for (const auto& [id, p] : cis_) {
      if (!p.then || !Member(id)) continue;
      for (auto& k : IndexKeysOf(schema, *p.then)) past_keys_->emplace(std::move(k), id);
    }
  }
  auto it = past_keys_->find(key);
  if (it == past_keys_->end()) return std::nullopt;
  return it->second;
}

}  // namespace cmdb
