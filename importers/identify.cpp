#include "importers/identify.hpp"

#include <algorithm>
#include <functional>
#include <optional>
#include <unordered_set>

#include "bulk/bulk.hpp"

namespace cmdb::importers {
namespace {

// Identity keys of candidates and committed CIs, and an index of the committed CIs' keys, built
// once per rule scope.
class KeyIndex {
 public:
  KeyIndex(const Graph& graph, const Schema& schema) : graph_(graph), schema_(schema) {}

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

 private:
  const Identification& IdentificationFor(const std::string& cls) {
    auto it = ident_.find(cls);
    if (it == ident_.end()) it = ident_.emplace(cls, schema_.IdentificationOf(cls)).first;
    return it->second;
  }

  // The parent token of an existing CI for dependent identity: the id of an adjacent CI of the
  // WITHIN class.
  std::string ParentOf(CiId id, const std::string& within) {
    for (auto span : {graph_.Out(id), graph_.In(id)}) {
      for (const Adj& a : span) {
        const CiRecord* other = graph_.FindCi(a.other());
        if (other && schema_.IsA(other->class_name, within))
          return "ci:" + std::to_string(a.other());
      }
    }
    return "";
  }

  void BuildIndex(const Identification& id) {
    if (!indexed_.insert(id.scope).second) return;
    for (const std::string& cls : schema_.ClassAndDescendants(id.scope)) {
      for (CiId ci : graph_.Extent(cls)) {
        const CiRecord* rec = graph_.FindCi(ci);
        std::string parent = id.within.empty() ? "" : ParentOf(ci, id.within);
        for (auto& k : Keys(id.scope, rec->attrs, parent)) index_.emplace(std::move(k), ci);
      }
    }
  }

  const Graph& graph_;
  const Schema& schema_;
  std::unordered_map<std::string, Identification> ident_;
  std::unordered_set<std::string> indexed_;
  std::unordered_map<std::string, CiId> index_;
};

// The order candidates are identified in: parents before the candidates that depend on them
// (stable otherwise). Chains deeper than 64 count as roots.
std::vector<size_t> ParentsFirst(const CandidateSet& set,
                                 const std::unordered_map<std::string, size_t>& by_ref) {
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
  return order;
}

}  // namespace

const IdentifiedCi* IdentifiedSet::FindRef(const std::string& ref) const {
  auto it = by_ref.find(ref);
  if (it == by_ref.end() || slot[it->second] == kUnidentified) return nullptr;
  return &cis[slot[it->second]];
}

IdentifiedSet Identify(const Graph& graph, const Schema& schema, const CandidateSet& set,
                       ImportReport& report) {
  IdentifiedSet out;
  // A reference seen twice names the same CI: the later candidate merges into the first.
  for (size_t i = 0; i < set.cis.size(); ++i) out.by_ref.emplace(set.cis[i].ref, i);
  out.slot.assign(set.cis.size(), IdentifiedSet::kUnidentified);
  auto fail = [&](const std::string& where, const Status& why) {
    report.errors.push_back(SourceErrorOf(where, why));
  };
  KeyIndex index(graph, schema);
  std::unordered_map<std::string, size_t> import_keys;  // identity key -> index in out.cis
  std::unordered_map<CiId, size_t> by_existing;         // existing CI -> index in out.cis
  for (size_t i : ParentsFirst(set, out.by_ref)) {
    const Candidate& c = set.cis[i];
    std::string cls = c.class_name;
    if (c.id) {  // named by id (ndjson "id"): the bulk loader's rule, then the CI's class
      auto given = c.class_name.empty() ? std::nullopt : std::optional(c.class_name);
      if (Status named = bulk::CheckNamedCi(graph.FindCi(*c.id), *c.id, given); !named.ok()) {
        fail(c.location, named);
        continue;
      }
      cls = std::string(graph.FindCi(*c.id)->class_name);
    }
    if (!schema.FindClass(cls)) {
      fail(c.location, Status::Invalid(schema.UnknownClassMessage(cls)));
      continue;
    }
    AttrMap attrs = c.attrs;
    Status st = schema.NormalizeAttrs(cls, attrs);
    if (!st.ok()) {
      fail(c.location, st);
      continue;
    }
    std::string parent;
    if (!c.parent_ref.empty()) {
      auto p = out.by_ref.find(c.parent_ref);
      if (p == out.by_ref.end() || out.slot[p->second] == IdentifiedSet::kUnidentified) {
        fail(c.location,
             Status::Invalid("its parent '" + c.parent_ref + "' is not in the source"));
        continue;
      }
      const IdentifiedCi& pr = out.cis[out.slot[p->second]];
      parent = pr.existing ? "ci:" + std::to_string(pr.existing)
                           : "new:" + std::to_string(out.slot[p->second]);
    }
    auto keys = index.Keys(cls, attrs, parent);
    size_t target = IdentifiedSet::kUnidentified;
    for (const auto& k : keys) {
      if (auto it = import_keys.find(k); it != import_keys.end() && !c.id) {
        target = it->second;
        break;
      }
    }
    std::optional<CiId> existing;
    if (c.id) existing = c.id;  // that CI, not one found by identity
    else if (target == IdentifiedSet::kUnidentified) existing = index.FindExisting(cls, keys);
    if (target == IdentifiedSet::kUnidentified && existing) {
      if (auto it = by_existing.find(*existing); it != by_existing.end()) target = it->second;
    }
    if (target == IdentifiedSet::kUnidentified) {
      IdentifiedCi r;
      r.first = i;
      r.class_name = cls;
      r.location = c.location;
      if (existing) {
        r.existing = *existing;
        r.class_name = graph.FindCi(*existing)->class_name;
        by_existing[*existing] = out.cis.size();
      }
      out.cis.push_back(std::move(r));
      target = out.cis.size() - 1;
    } else {
      ++report.merged;
    }
    IdentifiedCi& r = out.cis[target];
    if (r.attrs.empty()) {
      r.attrs = std::move(attrs);
    } else {
      for (const auto& [k, v] : attrs) {
        if (!r.attrs.Has(k)) r.attrs.Set(k, v);
      }
    }
    r.reference_only = r.reference_only && c.reference_only;
    for (auto& k : keys) import_keys.emplace(std::move(k), target);
    out.slot[i] = target;
  }
  return out;
}

}  // namespace cmdb::importers
