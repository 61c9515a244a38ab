#include "query/runtime/graph_access.hpp"

#include <algorithm>

#include "query/common/query_error.hpp"

namespace cmdb::gql {
namespace {

template <typename G>
std::vector<std::string> Classes(const G& graph, const Schema& schema, const std::string& label) {
  if (label.empty()) {
    return graph.ClassesInUse();
  }
  if (!schema.FindClass(label)) return {label};  // open mode: classes made on first use
  return schema.ClassAndDescendants(label);
}

// Merges the sorted extents of several classes in id order.
template <typename G>
void ScanExtents(const G& graph, const std::vector<std::string>& classes, const std::function<void(CiId)>& fn) {
  if (classes.size() == 1) {
    for (CiId id : graph.Extent(classes[0])) fn(id);
    return;
  }
  std::vector<CiId> ids;
  for (const auto& c : classes) {
    auto e = graph.Extent(c);
    ids.insert(ids.end(), e.begin(), e.end());
  }
  std::sort(ids.begin(), ids.end());
  for (CiId id : ids) fn(id);
}

bool TypeMatches(const std::vector<std::string>& types, const std::string& t) {
  return types.empty() || std::find(types.begin(), types.end(), t) != types.end();
}

template <typename G>
void ExpandGraph(const G& graph, CiId id, Direction dir, const std::vector<std::string>& types,
                 const std::function<bool(RelId)>& visible, const std::function<void(RelId, CiId)>& fn) {
  auto walk = [&](bool out) {
    if (types.empty()) {
      for (const Adj& a : out ? graph.Out(id) : graph.In(id)) {
        if (!out && dir == Direction::kBoth && a.other() == id) continue;  // self-loop once
        if (visible(a.rel())) fn(a.rel(), a.other());
      }
      return;
    }
    for (const auto& t : types) {
      auto tid = graph.TypeIdOf(t);
      if (!tid) continue;
      for (const Adj& a : out ? graph.OutOfType(id, *tid) : graph.InOfType(id, *tid)) {
        if (!out && dir == Direction::kBoth && a.other() == id) continue;
        if (visible(a.rel())) fn(a.rel(), a.other());
      }
    }
  };
  if (dir != Direction::kIn) walk(true);
  if (dir != Direction::kOut) walk(false);
}

}  // namespace

void SnapshotAccess::ScanLabel(const std::string& label, const std::function<void(CiId)>& fn) const {
  if (label.empty()) {
    for (CiId id = 1; id < graph_.ci_id_bound(); ++id) {
      if (graph_.FindCi(id)) fn(id);
    }
    return;
  }
  ScanExtents(graph_, Classes(graph_, schema_, label), fn);
}

size_t SnapshotAccess::EstimateLabel(const std::string& label) const {
  if (label.empty()) return graph_.ci_count();
  size_t n = 0;
  for (const auto& c : Classes(graph_, schema_, label)) n += graph_.Extent(c).size();
  return n;
}

void SnapshotAccess::Expand(CiId id, Direction dir, const std::vector<std::string>& types,
                            const std::function<void(RelId, CiId)>& fn) const {
  ExpandGraph(graph_, id, dir, types, [](RelId) { return true; }, fn);
}

std::optional<CiId> SnapshotAccess::LookupKey(const std::string& cls, const AttrMap& key_values) const {
  auto key = KeyIndexKey(schema_, cls, key_values);
  if (!key) return std::nullopt;
  auto id = graph_.LookupIndex(*key, schema_);
  if (id && !schema_.IsA(graph_.FindCi(*id)->class_name, cls)) return std::nullopt;
  return id;
}

void PastAccess::ScanLabel(const std::string& label, const std::function<void(CiId)>& fn) const {
  if (label.empty()) {
    for (CiId id = 1; id < past_.ci_id_bound(); ++id) {
      if (past_.FindCi(id)) fn(id);
    }
    return;
  }
  ScanExtents(past_, Classes(past_, schema(), label), fn);
}

size_t PastAccess::EstimateLabel(const std::string& label) const {
  if (label.empty()) return past_.ci_count_estimate();
  size_t n = 0;
  for (const auto& c : Classes(past_, schema(), label)) n += past_.ExtentEstimate(c);
  return n;
}

void PastAccess::Expand(CiId id, Direction dir, const std::vector<std::string>& types,
                        const std::function<void(RelId, CiId)>& fn) const {
  ExpandGraph(past_, id, dir, types, [](RelId) { return true; }, fn);
}

std::optional<CiId> PastAccess::LookupKey(const std::string& cls, const AttrMap& key_values) const {
  auto key = KeyIndexKey(schema(), cls, key_values);
  if (!key) return std::nullopt;
  auto id = past_.LookupIndex(*key, schema());
  if (id && !schema().IsA(past_.FindCi(*id)->class_name, cls)) return std::nullopt;
  return id;
}

std::optional<CiId> PastAccess::LookupUnique(const std::string& cls, const std::string& attr,
                                             const Value& value) const {
  auto id = past_.LookupIndex(UniqueIndexKey(schema(), cls, attr, value), schema());
  if (id && !schema().IsA(past_.FindCi(*id)->class_name, cls)) return std::nullopt;
  return id;
}

void PastAccess::SafePoint() const {
  if (drain_ && drain_->pending()) {
    view_.Pause(drain_->send);
  } else if (!view_.Yield()) {
    return;
  }
  if (view_.tx() == past_.current_tx()) return;
  Status st = past_.CatchUp(view_.tx());
  if (!st.ok()) throw QueryError("InternalError", "StoreError", st.message());
}

void TxnAccess::ScanLabel(const std::string& label, const std::function<void(CiId)>& fn) const {
  std::vector<CiId> ids;
  auto add_graph = [&](CiId id) {
    if (txn_.GetCi(id)) ids.push_back(id);
  };
  if (label.empty()) {
    for (CiId id = 1; id < graph_.ci_id_bound(); ++id) {
      if (graph_.FindCi(id)) add_graph(id);
    }
  } else {
    ScanExtents(graph_, Classes(graph_, schema(), label), add_graph);
  }
  for (CiId id : txn_.staged_ci_ids()) {
    if (graph_.FindCi(id)) continue;  // already listed from the graph
    const CiRecord* ci = txn_.GetCi(id);
    if (ci && (label.empty() || ci->class_name == label || schema().IsA(ci->class_name, label))) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  for (CiId id : ids) fn(id);
}

size_t TxnAccess::EstimateLabel(const std::string& label) const {
  size_t n = txn_.staged_ci_ids().size();
  if (label.empty()) return graph_.ci_count() + n;
  for (const auto& c : Classes(graph_, schema(), label)) n += graph_.Extent(c).size();
  return n;
}

void TxnAccess::Expand(CiId id, Direction dir, const std::vector<std::string>& types,
                       const std::function<void(RelId, CiId)>& fn) const {
  ExpandGraph(graph_, id, dir, types, [&](RelId r) { return txn_.HasRel(r); }, fn);
  for (RelId r : txn_.StagedRelsOf(id)) {
    if (graph_.HasRel(r)) continue;
    std::optional<RelRecord> rel = txn_.GetRel(r);
    if (!rel || !TypeMatches(types, rel->type)) continue;
    if (rel->from == id && dir != Direction::kIn) {
      fn(r, rel->to);
    } else if (rel->to == id && dir != Direction::kOut) {
      fn(r, rel->from);
    }
  }
}

}  // namespace cmdb::gql
