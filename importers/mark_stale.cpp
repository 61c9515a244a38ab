#include "importers/mark_stale.hpp"

#include <algorithm>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace cmdb::importers {
namespace {

std::string Literal(const Value& v) {
  return v.is_null() ? "none" : v.ToLiteral();
}

}  // namespace

ImportReport::Covered Describe(const Coverage& c) {
  ImportReport::Covered out{c.class_name, c.text, !c.none};
  if (c.none || !c.text.empty()) return out;
  if (c.class_name == kRootClass) {
    out.scope = "every CI and relationship";
    return out;
  }
  std::string scope;
  auto add = [&](const std::string& a, const Value& v) {
    scope += (scope.empty() ? "" : ", ") + a + " " + Literal(v);
  };
  if (!c.attribute.empty()) add(c.attribute, c.value);
  for (const auto& [a, v] : c.also) add(a, v);
  if (!c.via.empty()) {
    out.scope = "those a covered CI reaches through " + c.via + (scope.empty() ? "" : " with " + scope);
  } else {
    out.scope = scope.empty() ? "all" : "those with " + scope;
  }
  return out;
}

Status MarkStale(Txn& txn, const std::string& source, const CandidateSet& set,
                 const ReconciledSet& reconciled, ImportReport& report) {
  const Schema& schema = txn.schema();
  std::unordered_map<std::string, std::string> scope_of;  // class -> identification scope
  auto scope_of_class = [&](const std::string& cls) -> const std::string& {
    auto it = scope_of.find(cls);
    if (it == scope_of.end()) it = scope_of.emplace(cls, schema.IdentificationOf(cls).scope).first;
    return it->second;
  };
  std::vector<Coverage> covers = set.covers;
  if (covers.empty()) {
    std::unordered_set<std::string> classes;
    for (const Candidate& c : set.cis) {
      if (!c.reference_only && !c.id && classes.insert(c.class_name).second)
        covers.push_back({c.class_name, "", Value()});
    }
  }
  for (const Coverage& c : covers) report.coverage.push_back(Describe(c));
  // Coverage by scope; relationship ends: a covered scope, or one a candidate names.
  std::unordered_map<std::string, std::vector<const Coverage*>> covered;
  std::unordered_set<std::string> named;
  bool all = false;  // the root class: the source could hold anything (ndjson)
  for (const Coverage& c : covers) {
    all = all || c.class_name == kRootClass;
    if (!schema.FindClass(c.class_name)) continue;
    covered[scope_of_class(c.class_name)].push_back(&c);
    named.insert(scope_of_class(c.class_name));
    // A class the identification is SHARED WITH is covered alike: the PhysicalServer an nmap
    // run found by MAC is one of the hosts it scanned.
    for (const std::string& other : schema.IdentificationOf(c.class_name).shared_with) {
      if (!schema.FindClass(other)) continue;
      covered[scope_of_class(other)].push_back(&c);
      named.insert(scope_of_class(other));
    }
  }
  for (const Candidate& c : set.cis) {
    if (schema.FindClass(c.class_name)) named.insert(scope_of_class(c.class_name));
  }
  // Whether a CI is one `c` describes, its `via` aside. A condition on an attribute the CI's
  // class does not have does not apply (a VPC has an account but no region).
  auto holds = [&](const CiRecord& ci, const std::string& attr, const Value& v) {
    return !schema.FindAttribute(ci.class_name, attr) || ci.attrs.Get(attr) == v;
  };
  auto matches = [&](const CiRecord& ci, const Coverage& c) {
    if (c.none) return false;
    if (c.where && !c.where(ci.attrs)) return false;
    if (!c.attribute.empty() && !holds(ci, c.attribute, c.value)) return false;
    for (const auto& [a, v] : c.also) {
      if (!holds(ci, a, v)) return false;
    }
    return true;
  };
  // Whether a CI is covered by an entry without `via` (the CIs a `via` starts from).
  auto covered_directly = [&](const CiRecord& ci) {
    auto it = covered.find(scope_of_class(std::string(ci.class_name)));
    if (it == covered.end()) return false;
    for (const Coverage* c : it->second) {
      if (c->via.empty() && matches(ci, *c)) return true;
    }
    return false;
  };
  // Whether the source could have described the CI `id` (`ci`).
  auto ci_covered = [&](CiId id, const CiRecord& ci) {
    auto it = covered.find(scope_of_class(std::string(ci.class_name)));
    if (it == covered.end()) return false;
    for (const Coverage* c : it->second) {
      if (!matches(ci, *c)) continue;
      if (c->via.empty()) return true;
      std::optional<TypeId> via = txn.graph().TypeIdOf(c->via);
      if (!via) continue;
      for (const Adj& a : txn.graph().In(id)) {
        const CiRecord* from = a.type() == *via ? txn.GetCi(a.other()) : nullptr;
        if (from && covered_directly(*from)) return true;
      }
    }
    return false;
  };
  auto is_named = [&](const CiRecord& ci) {
    return named.count(scope_of_class(std::string(ci.class_name))) != 0;
  };
  auto could_contain = [&](const Provenance& p) {
    if (all) return true;
    if (!p.relationship) {
      const CiRecord* ci = txn.GetCi(p.id);
      return ci && ci_covered(p.id, *ci);
    }
    // A relationship is reported with the CI it belongs to: a CONTAINS with its content (the
    // pod a namespace holds, the instance in a subnet), every other type with its from end (a
    // pod's RUNS_ON and MEMBER_OF, a host's HAS_ADDRESS). Covered: that end is covered, and the
    // other end is of a class the file names (a pod list covers its pods' RUNS_ON nodes; a
    // Deployment list does not cover the ReplicaSets' MEMBER_OF, nor a ReplicaSet list the
    // namespace's CONTAINS of a Deployment).
    std::optional<RelRecord> rel = txn.GetRel(p.id);
    const CiRecord *a = rel ? txn.GetCi(rel->from) : nullptr,
                   *b = rel ? txn.GetCi(rel->to) : nullptr;
    if (!a || !b || !is_named(*a) || !is_named(*b)) return false;
    // The other end, when the file lists its class at all, must be one it covers too (a port
    // the run did not scan keeps its host's EXPOSES).
    auto other_ok = [&](CiId id, const CiRecord& ci) {
      return covered.count(scope_of_class(std::string(ci.class_name))) == 0 || ci_covered(id, ci);
    };
    bool contains = rel->type.view() == "CONTAINS";
    return contains ? ci_covered(rel->to, *b) && other_ok(rel->from, *a)
                    : ci_covered(rel->from, *a) && other_ok(rel->to, *b);
  };
  std::vector<Provenance> gone;
  txn.graph().provenance().ForSource(source, [&](const Provenance& p) {
    if (p.stale) return;
    bool seen = p.relationship ? reconciled.rels_seen.count(p.id) != 0
                               : reconciled.cis_seen.count(p.id) != 0;
    if (!seen) gone.push_back(p);
  });
  gone.erase(std::remove_if(gone.begin(), gone.end(),
                            [&](const Provenance& p) { return !could_contain(p); }),
             gone.end());
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
      // Only a live CI (or one without a status) becomes stale: a retired instance or a status
      // someone set (disposed, maintenance) stays. And not while another source still reports
      // it (its provenance is not stale): this source's provenance alone goes stale then.
      Value status = cur->attrs.Get("status");
      bool reported_elsewhere = false;
      for (const Provenance& other : txn.ProvenanceOf(false, p.id))
        reported_elsewhere = reported_elsewhere || (other.source != source && !other.stale);
      if ((status.is_null() || status == Value("live")) && !reported_elsewhere) {
        // Taken before the update, which may replace a staged version `cur` points to.
        ImportChange change;
        change.op = ImportOp::kStale;
        change.id = p.id;
        change.class_name = cur->class_name;
        change.name = ChangeName(cur->attrs);
        change.attrs.push_back({"status", std::move(status), Value("stale")});
        CMDB_RETURN_IF_ERROR(txn.UpdateCi(p.id, {{"status", Value("stale")}}, std::nullopt));
        report.changes.push_back(std::move(change));
        ++report.stale;
      }
    }
    p.stale = true;
    txn.PutProvenance(std::move(p));
  }
  return Status::Ok();
}

}  // namespace cmdb::importers
