// Updating clauses: CREATE, MERGE, SET, REMOVE, DELETE — all through the query's one Txn, so the
// schema checks, history and transaction log are those of every other write.
#include <algorithm>
#include <unordered_set>

#include "query/common/query_error.hpp"
#include "query/executor/executor.hpp"

namespace cmdb::gql {
namespace {

using K = QValue::Kind;

void Check(const Status& st) {
  if (!st.ok()) throw StatusError(st);
}

Value Storable(const QValue& v, size_t offset) {
  auto out = ToValue(v);
  if (!out)
    ThrowType("InvalidPropertyType", std::string("a property cannot hold ") + v.kind_name(), offset);
  return *out;
}

}  // namespace

void Executor::CreatePattern(Row& row, const BoundPattern& pattern) {
  if (!txn_) throw QueryError("SemanticError", "InvalidClauseComposition", "writes need a write transaction");
  auto props = [&](const std::vector<std::pair<std::string, BoundExpr>>& in, size_t offset) {
    AttrMap attrs;
    for (const auto& [key, expr] : in) {
      QValue v = Eval(expr, row);
      if (key.empty()) {
        if (v.kind() != K::kMap) ThrowType("InvalidArgumentType", "a property map parameter must be a map", offset);
        for (const auto& [k, x] : v.as_map()) attrs.Set(k, Storable(x, offset));
        continue;
      }
      attrs.Set(key, Storable(v, expr.offset));
    }
    return attrs;
  };
  for (const BoundNode& n : pattern.nodes) {
    if (n.bound || !row[n.slot].is_null()) {
      if (row[n.slot].kind() != K::kNode)
        throw QueryError("SemanticError", "VariableTypeConflict", "CREATE needs a node here");
      continue;
    }
    if (n.labels.size() > 1)
      throw QueryError("SemanticError", "MultipleLabels", "a CI has exactly one class; give one label");
    AttrMap attrs = props(n.properties, 0);
    stats_.properties_set += static_cast<int64_t>(attrs.size());
    auto id = txn_->CreateCi(n.labels.empty() ? "" : n.labels[0], std::move(attrs));
    if (!id.ok()) throw StatusError(id.status());
    row[n.slot] = QValue(NodeRef{*id, nullptr});
    ++stats_.nodes_created;
  }
  for (size_t i = 0; i < pattern.rels.size(); ++i) {
    const BoundRel& r = pattern.rels[i];
    CiId a = row[pattern.nodes[i].slot].as_node().id, b = row[pattern.nodes[i + 1].slot].as_node().id;
    if (r.direction == Direction::kIn) std::swap(a, b);
    AttrMap attrs = props(r.properties, 0);
    stats_.properties_set += static_cast<int64_t>(attrs.size());
    auto id = txn_->CreateRel(r.types[0], a, b, std::move(attrs));
    if (!id.ok()) throw StatusError(id.status());
    row[r.slot] = QValue(RelRef{*id, nullptr});
    ++stats_.relationships_created;
  }
  if (pattern.path_slot >= 0) {
    PathValue path;
    for (size_t i = 0; i < pattern.nodes.size(); ++i) {
      path.nodes.push_back(row[pattern.nodes[i].slot].as_node());
      if (i < pattern.rels.size()) path.rels.push_back(row[pattern.rels[i].slot].as_rel());
    }
    row[pattern.path_slot] = QValue(std::move(path));
  }
}

std::vector<Row> Executor::RunCreate(std::vector<Row> in, const BoundCreate& c) {
  for (Row& row : in) {
    for (const auto& p : c.patterns) CreatePattern(row, p);
  }
  return in;
}

void Executor::ApplySet(Row& row, const BoundSetItem& item) {
  if (!txn_) throw QueryError("SemanticError", "InvalidClauseComposition", "writes need a write transaction");
  const QValue target = row[item.slot];
  if (target.is_null()) return;
  if (target.kind() != K::kNode && target.kind() != K::kRel)
    ThrowType("InvalidArgumentType", std::string("SET needs a node or relationship, got ") + target.kind_name(), item.offset);
  bool node = target.kind() == K::kNode;
  AttrMap current;
  if (node) {
    const CiRecord* ci = txn_->GetCi(target.as_node().id);
    if (!ci) throw QueryError("EntityNotFound", "DeletedEntityAccess", "the node was deleted", item.offset);
    current = ci->attrs;
  } else {
    std::optional<RelRecord> r = txn_->GetRel(target.as_rel().id);
    if (!r) throw QueryError("EntityNotFound", "DeletedEntityAccess", "the relationship was deleted", item.offset);
    current = std::move(r->attrs);
  }
  AttrPatch patch;
  switch (item.kind) {
    case BoundSetItem::Kind::kProperty:
      patch.emplace_back(item.key, Storable(Eval(item.value, row), item.offset));
      break;
    case BoundSetItem::Kind::kReplace:
    case BoundSetItem::Kind::kMerge: {
      QValue v = Eval(item.value, row);
      QMap map;
      if (v.kind() == K::kMap) {
        map = v.as_map();
      } else if (v.kind() == K::kNode || v.kind() == K::kRel) {
        AttrMap src = v.kind() == K::kNode ? txn_->GetCi(v.as_node().id)->attrs
                                           : txn_->GetRel(v.as_rel().id)->attrs;
        for (const auto& [k, x] : src) map[k] = FromValue(x);
      } else if (!v.is_null()) {
        ThrowType("InvalidArgumentType", "SET n = ... needs a map", item.offset);
      }
      if (item.kind == BoundSetItem::Kind::kReplace) {
        for (const auto& [k, x] : current) {
          if (!map.count(k)) patch.emplace_back(k, Value());
        }
      }
      for (const auto& [k, x] : map) patch.emplace_back(k, Storable(x, item.offset));
      break;
    }
    case BoundSetItem::Kind::kLabels: {
      if (!node) ThrowType("InvalidArgumentType", "labels belong to nodes", item.offset);
      const CiRecord* ci = txn_->GetCi(target.as_node().id);
      for (const auto& l : item.labels) {
        bool removing = l[0] == '-';
        std::string label = removing ? l.substr(1) : l;
        bool has = ci->class_name == label || txn_->schema().IsA(ci->class_name, label);
        if (has != removing) continue;  // nothing to do
        throw QueryError("SemanticError", "ClassChange",
                         "a CI's class cannot change (" + std::string(removing ? "REMOVE" : "SET") + " :" + label + ")",
                         item.offset);
      }
      return;
    }
  }
  int64_t changed = 0;
  for (const auto& [k, v] : patch) {
    if (current.Get(k) != v) ++changed;
  }
  if (node) Check(txn_->UpdateCi(target.as_node().id, patch, std::nullopt));
  else Check(txn_->UpdateRel(target.as_rel().id, patch));
  stats_.properties_set += changed;
}

std::vector<Row> Executor::RunSet(std::vector<Row> in, const BoundSet& s) {
  for (Row& row : in) {
    for (const auto& item : s.items) ApplySet(row, item);
  }
  return in;
}

std::vector<Row> Executor::RunDelete(std::vector<Row> in, const BoundDelete& d) {
  if (!txn_) throw QueryError("SemanticError", "InvalidClauseComposition", "writes need a write transaction");
  std::vector<CiId> nodes;
  std::vector<RelId> rels;
  std::function<void(const QValue&, size_t)> collect = [&](const QValue& v, size_t offset) {
    switch (v.kind()) {
      case K::kNull: return;
      case K::kNode: nodes.push_back(v.as_node().id); return;
      case K::kRel: rels.push_back(v.as_rel().id); return;
      case K::kPath:
        for (const auto& n : v.as_path().nodes) nodes.push_back(n.id);
        for (const auto& r : v.as_path().rels) rels.push_back(r.id);
        return;
      case K::kList:
        for (const auto& x : v.as_list()) collect(x, offset);
        return;
      default:
        ThrowType("InvalidArgumentType", std::string("DELETE needs a node, relationship or path, got ") + v.kind_name(), offset);
    }
  };
  for (Row& row : in) {
    for (const auto& t : d.targets) collect(Eval(t, row), t.offset);
  }
  for (RelId r : rels) {
    if (!txn_->HasRel(r)) continue;
    Check(txn_->DeleteRel(r, std::nullopt));
    ++stats_.relationships_deleted;
  }
  for (CiId n : nodes) {
    if (!txn_->GetCi(n)) continue;
    auto attached = txn_->RelsOf(n);
    if (!attached.empty() && !d.detach)
      throw QueryError("ConstraintVerificationFailed", "DeleteConnectedNode",
                       "CI " + std::to_string(n) + " still has relationships; use DETACH DELETE");
    stats_.relationships_deleted += static_cast<int64_t>(attached.size());
    Check(txn_->RetireCi(n, std::nullopt));
    ++stats_.nodes_deleted;
  }
  return in;
}

std::vector<Row> Executor::RunMerge(std::vector<Row> in, const BoundMerge& m, const MatchPlan& plan) {
  std::vector<Row> out;
  for (Row& row : in) {
    std::vector<Row> found;
    MatchRow(row, {m.pattern}, plan, [&](Row& f) {
      Charge(1, RowBytes(f));
      found.push_back(f);
    });
    if (!found.empty()) {
      for (Row& f : found) {
        for (const auto& item : m.on_match) ApplySet(f, item);
        out.push_back(std::move(f));
      }
      continue;
    }
    // What MERGE creates must match it next time: a null property value never would.
    auto check_null = [&](const std::vector<std::pair<std::string, BoundExpr>>& props) {
      for (const auto& [key, expr] : props) {
        if (key.empty() || !Eval(expr, row).is_null()) continue;
        throw QueryError("SemanticError", "MergeReadOwnWrites",
                         "MERGE cannot create an entity whose property '" + key +
                             "' is null (it would never match itself); use a value, or MATCH",
                         expr.offset);
      }
    };
    for (const auto& n : m.pattern.nodes)
      if (!n.bound && row[n.slot].is_null()) check_null(n.properties);
    for (const auto& r : m.pattern.rels) check_null(r.properties);
    CreatePattern(row, m.pattern);
    for (const auto& item : m.on_create) ApplySet(row, item);
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace cmdb::gql
