#include "importers/identify.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <unordered_set>

#include "bulk/bulk.hpp"
#include "importers/identifiers.hpp"

namespace cmdb::importers {
namespace {

bool Present(const std::optional<Value>& v) {
  return v && !v->is_null() && !(v->is_string() && v->as_string().empty());
}

std::string ValueText(const Value& v) {
  return v.is_string() ? std::string(v.as_string()) : v.ToLiteral();
}

// The values of `attrs` for `names`, joined with ", "; nullopt when one is missing.
std::optional<std::string> Values(const AttrMap& attrs, const std::vector<std::string>& names) {
  std::string out;
  for (const auto& a : names) {
    std::optional<Value> v = attrs.Find(a);
    if (!Present(v)) return std::nullopt;
    out += (out.empty() ? "" : ", ") + ValueText(*v);
  }
  return out;
}

// A value as identification compares it: a MAC address in its normal form, whatever form a CI
// holds it in (one stored upper-case by an older version, or edited by hand, still matches);
// every other value as it is.
Value IdentityValue(const std::string& attr, const Value& v) {
  if (attr != "mac_address" || !v.is_string()) return v;
  MacAddress mac = ReadMac(std::string(v.as_string()));
  return mac.kind == MacAddress::kUsable ? Value(mac.value) : v;
}

// Whether a status says no longer in service (retired or disposed).
bool GoneStatus(const std::optional<Value>& st) {
  return Present(st) && st->is_string() &&
         (st->as_string() == "retired" || st->as_string() == "disposed");
}

// Whether `value_of` gives a value for every attribute of one of the strong rules of `id`.
template <typename ValueOf>
bool HasStrongValues(const Identification& id, const ValueOf& value_of) {
  for (const auto& rule : id.rules) {
    if (!rule.strong) continue;
    bool all = true;
    for (const auto& a : rule.attrs) all = all && Present(value_of(a));
    if (all) return true;
  }
  return false;
}

std::string Joined(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// Identity keys of candidates and committed CIs, and an index of the committed CIs' keys, built
// once per identification scope (and of their KEY values, once per KEY scope).
class KeyIndex {
 public:
  KeyIndex(const Graph& graph, const Schema& schema) : graph_(graph), schema_(schema) {}

  const Identification& IdentificationFor(const std::string& cls) {
    auto it = ident_.find(cls);
    if (it == ident_.end()) it = ident_.emplace(cls, schema_.IdentificationOf(cls)).first;
    return it->second;
  }

  // The key of rule `r` for a candidate (or CI) with these attributes and parent; nullopt when
  // it lacks a value of the rule (or, dependent, its parent).
  std::optional<std::string> Key(const Identification& id, size_t r, const AttrMap& attrs,
                                 const std::string& parent) {
    if (!id.within.empty() && parent.empty()) return std::nullopt;
    std::string key;
    key.reserve(64);
    key += id.scope;
    key += '#';
    key += std::to_string(r);
    if (!id.within.empty()) key += parent;
    for (const auto& a : id.rules[r].attrs) {
      std::optional<Value> v = attrs.Find(a);
      if (!Present(v)) return std::nullopt;
      v = IdentityValue(a, *v);
      key += '|';
      if (v->is_string()) {  // length-prefixed: no escaping needed to keep keys distinct
        key += std::to_string(v->as_string().size());
        key += ':';
        key += v->as_string();
      } else {
        key += v->ToLiteral();
      }
    }
    return key;
  }

  // The committed CIs with this key of identification `id`.
  const std::vector<CiId>& Existing(const Identification& id, const std::string& key) {
    BuildIndex(id);
    auto it = index_.find(key);
    return it == index_.end() ? kNone : it->second;
  }

  // The committed CI holding these values of the class KEY of `cls` (its scope), if any.
  std::optional<CiId> KeyHolder(const std::string& cls, const AttrMap& attrs, std::string* key) {
    std::string scope;
    std::vector<std::string> names = schema_.KeyAttributes(cls, &scope);
    if (names.empty()) return std::nullopt;
    auto values = Values(attrs, names);
    if (!values) return std::nullopt;
    *key = scope + "|" + *values;
    if (key_indexed_.insert(scope).second) {
      for (const std::string& c : schema_.ClassAndDescendants(scope)) {
        for (CiId ci : graph_.Extent(c)) {
          if (auto v = Values(graph_.FindCi(ci)->attrs, names)) keys_.emplace(scope + "|" + *v, ci);
        }
      }
    }
    auto it = keys_.find(*key);
    if (it == keys_.end()) return std::nullopt;
    return it->second;
  }

 private:
  // The parent token of an existing CI for dependent identity: the id of an adjacent CI of the
  // WITHIN class, or of a class its identification is shared with (a port of a PhysicalServer
  // nmap found as the host it scanned).
  std::string ParentOf(CiId id, const std::string& within) {
    auto shared = within_shared_.find(within);
    if (shared == within_shared_.end())
      shared = within_shared_.emplace(within, schema_.IdentificationOf(within).shared_with).first;
    for (auto span : {graph_.Out(id), graph_.In(id)}) {
      for (const Adj& a : span) {
        const CiRecord* other = graph_.FindCi(a.other());
        if (!other) continue;
        bool parent = schema_.IsA(other->class_name, within);
        for (const std::string& s : shared->second) parent = parent || schema_.IsA(other->class_name, s);
        if (parent)
          return "ci:" + std::to_string(a.other());
      }
    }
    return "";
  }

  void BuildIndex(const Identification& id) {
    if (!indexed_.insert(id.scope).second) return;
    std::vector<std::string> classes = schema_.ClassAndDescendants(id.scope);
    for (const std::string& other : id.shared_with) {
      for (std::string& c : schema_.ClassAndDescendants(other)) classes.push_back(std::move(c));
    }
    for (const std::string& cls : classes) {
      for (CiId ci : graph_.Extent(cls)) {
        const CiRecord* rec = graph_.FindCi(ci);
        std::string parent = id.within.empty() ? "" : ParentOf(ci, id.within);
        for (size_t r = 0; r < id.rules.size(); ++r) {
          if (auto k = Key(id, r, rec->attrs, parent)) index_[std::move(*k)].push_back(ci);
        }
      }
    }
  }

  static inline const std::vector<CiId> kNone;
  const Graph& graph_;
  const Schema& schema_;
  std::unordered_map<std::string, Identification> ident_;
  std::unordered_map<std::string, std::vector<std::string>> within_shared_;  // WITHIN -> shared
  std::unordered_set<std::string> indexed_, key_indexed_;
  std::unordered_map<std::string, std::vector<CiId>> index_;
  std::unordered_map<std::string, CiId> keys_;
};

// The order candidates are identified in: parents before the candidates that depend on them;
// at each depth those in service before those whose status is retired or disposed, those with a
// strong identifier (`strong`) before those without, then the candidates in `first` before the
// others (stable otherwise). Chains deeper than 64 count as roots.
std::vector<size_t> ParentsFirst(const CandidateSet& set,
                                 const std::unordered_map<std::string, size_t>& by_ref,
                                 const std::vector<bool>& strong,
                                 const std::unordered_set<size_t>& first) {
  std::vector<int> depth(set.cis.size(), -1);
  std::function<int(size_t, int)> depth_of = [&](size_t i, int guard) -> int {
    if (depth[i] >= 0) return depth[i];
    const std::string& p = set.cis[i].parent_ref;
    auto it = p.empty() ? by_ref.end() : by_ref.find(p);
    depth[i] = (it == by_ref.end() || guard > 64) ? 0 : depth_of(it->second, guard + 1) + 1;
    return depth[i];
  };
  std::vector<bool> gone(set.cis.size());
  for (size_t i = 0; i < gone.size(); ++i) gone[i] = GoneStatus(set.cis[i].attrs.Find("status"));
  std::vector<size_t> order(set.cis.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i, depth_of(i, 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (depth[a] != depth[b]) return depth[a] < depth[b];
    if (gone[a] != gone[b]) return bool(gone[b]);
    if (strong[a] != strong[b]) return bool(strong[a]);
    return first.count(a) > first.count(b);
  });
  return order;
}

// A CI a key finds: one of this import (`slot`), else a committed one (`existing`).
struct Hit {
  size_t slot = IdentifiedSet::kUnidentified;
  CiId existing = 0;
  size_t rule = 0;  // the rule that found it
  bool operator==(const Hit& o) const { return slot == o.slot && existing == o.existing; }
};

// Identification of one import: the candidates identified so far, and how to find them.
class Identifier {
 public:
  // `reserved`: plain-name KEY values (as KeyIndex::KeyHolder builds them) -> the candidate
  // (index in `set`) that keeps that name; another new CI with it is qualified (PlainNameOwners).
  Identifier(const Graph& graph, const Schema& schema, const CandidateSet& set,
             ImportReport& report, IdentifiedSet& out,
             std::unordered_map<std::string, size_t> reserved = {})
      : graph_(graph),
        schema_(schema),
        set_(set),
        report_(report),
        out_(out),
        index_(graph, schema),
        reserved_(std::move(reserved)) {}

  // After Run: for each plain name that several new CIs of this import wanted (none held by a
  // committed CI) and that another than the first in text order of their strong identifiers'
  // values (in rule order; none first; then the source's order) got, that name -> that first
  // one's candidate. Empty when the order of the source decided nothing.
  std::unordered_map<std::string, size_t> PlainNameOwners() const {
    std::unordered_map<std::string, size_t> out;
    for (const auto& [key, wanted] : contenders_) {
      if (wanted.size() < 2) continue;
      auto first = std::min_element(wanted.begin(), wanted.end());
      if (first != wanted.begin()) out.emplace(key, first->second);
    }
    return out;
  }

  void Run() {
    for (size_t i = 0; i < set_.cis.size(); ++i) out_.by_ref.emplace(set_.cis[i].ref, i);
    out_.slot.assign(set_.cis.size(), IdentifiedSet::kUnidentified);
    // Candidates in service go before retired ones (the running instance, not the terminated
    // one, is the host already at their address, whatever the order), and the candidates a name
    // is kept for first (among their depth): each then takes its name and the others find it by
    // that name, as when the source lists it first, so what is reported (an identity conflict
    // on the name) does not depend on the source's order.
    std::unordered_set<size_t> owners;
    for (const auto& [key, candidate] : reserved_) owners.insert(candidate);
    std::vector<bool> strong(set_.cis.size(), true);
    for (size_t i = 0; i < set_.cis.size(); ++i) {
      const Candidate& c = set_.cis[i];
      if (c.id || !schema_.FindClass(c.class_name)) continue;  // named by id; or refused later
      strong[i] = HasStrongValues(index_.IdentificationFor(c.class_name),
                                  [&](const std::string& a) { return c.attrs.Find(a); });
    }
    for (size_t i : ParentsFirst(set_, out_.by_ref, strong, owners)) One(i);
  }

 private:
  // Records the refusal of the candidate at `where`, with the code and details of `why`.
  void Fail(const std::string& where, const Status& why) {
    report_.errors.push_back(SourceErrorOf(where, why));
  }

  // A value of a hit: the import's merged value first, else the committed CI's.
  std::optional<Value> AttrOf(const Hit& h, const std::string& a) const {
    if (h.slot != IdentifiedSet::kUnidentified) {
      const IdentifiedCi& r = out_.cis[h.slot];
      std::optional<Value> v = r.attrs.Find(a);
      if (Present(v) || !r.existing) return v;
      return graph_.FindCi(r.existing)->attrs.Find(a);
    }
    return graph_.FindCi(h.existing)->attrs.Find(a);
  }

  // Whether a hit's SCOPED BY values differ from the candidate's (a missing one matches any).
  bool OutOfScope(const Identification& id, const AttrMap& attrs, const Hit& h) const {
    for (const auto& a : id.scoped_by) {
      std::optional<Value> ours = attrs.Find(a), theirs = AttrOf(h, a);
      if (Present(ours) && Present(theirs) && *ours != *theirs) return true;
    }
    return false;
  }

  // Whether a hit's status says it is no longer in service.
  bool Gone(const Hit& h) const { return GoneStatus(AttrOf(h, "status")); }

  // Whether a hit of class `cls` has a value for every attribute of one of the strong rules of
  // `id` or of its own class's identification (an EC2 instance's cloud_id, which a
  // PhysicalServer's rules do not name).
  bool HasStrong(const Identification& id, const std::string& cls, const Hit& h) {
    auto value_of = [&](const std::string& a) { return AttrOf(h, a); };
    return HasStrongValues(id, value_of) ||
           HasStrongValues(index_.IdentificationFor(cls), value_of);
  }

  // The first strong rule whose values the candidate and the hit both have and that differ.
  std::optional<IdentityMatch> Contradiction(const Identification& id, const AttrMap& attrs,
                                             const Hit& h) const {
    for (const auto& rule : id.rules) {
      if (!rule.strong) continue;
      bool complete = true, differ = false;
      for (const auto& a : rule.attrs) {
        std::optional<Value> ours = attrs.Find(a), theirs = AttrOf(h, a);
        if (!Present(ours) || !Present(theirs)) {
          complete = false;
          break;
        }
        differ = differ || IdentityValue(a, *ours) != IdentityValue(a, *theirs);
      }
      if (!complete || !differ) continue;
      IdentityMatch m = Describe(h);
      m.attribute = Joined(rule.attrs);
      m.ours = Value(*Values(attrs, rule.attrs));
      std::string theirs;
      for (const auto& a : rule.attrs)
        theirs += (theirs.empty() ? "" : ", ") + ValueText(*AttrOf(h, a));
      m.theirs = Value(theirs);
      return m;
    }
    return std::nullopt;
  }

  IdentityMatch Describe(const Hit& h) const {
    IdentityMatch m;
    if (h.slot != IdentifiedSet::kUnidentified) {
      m.id = out_.cis[h.slot].existing;
      m.location = out_.cis[h.slot].location;
    } else {
      m.id = h.existing;
    }
    return m;
  }

  // The CIs rule `r`'s key finds, in scope, each once (a committed CI this import already
  // names is that slot).
  // On a weak rule, a candidate with a strong identifier (`has_strong`) does not find a CI of a
  // class its identification is only SHARED WITH that has one too (an EC2 instance is no
  // on-premises server with a serial at the same private address: a MAC or serial crosses, a
  // name or address only to or from a CI without strong identifiers, an nmap host seen
  // without its MAC).
  void Lookup(const Identification& id, size_t r, const std::string& key, const AttrMap& attrs,
              bool has_strong, std::vector<Hit>& hits) {
    const bool guarded = has_strong && !id.rules[r].strong;
    auto add = [&](Hit h) {
      h.rule = r;
      if (OutOfScope(id, attrs, h)) return;
      if (guarded) {
        const std::string& cls = h.slot != IdentifiedSet::kUnidentified
                                     ? out_.cis[h.slot].class_name
                                     : std::string(graph_.FindCi(h.existing)->class_name);
        if (!schema_.IsA(cls, id.scope) && HasStrong(id, cls, h)) return;
      }
      if (std::find(hits.begin(), hits.end(), h) == hits.end()) hits.push_back(h);
    };
    if (auto it = import_keys_.find(key); it != import_keys_.end()) {
      for (size_t s : it->second) add({s, 0, r});
    }
    for (CiId ci : index_.Existing(id, key)) {
      auto claimed = by_existing_.find(ci);
      if (claimed == by_existing_.end()) {
        add(Hit{IdentifiedSet::kUnidentified, ci, r});
        continue;
      }
      // A CI this import already names is found by the values it will have: not by a name the
      // import changes (found by its serial and renamed, it no longer answers to the old one).
      Hit h{claimed->second, 0, r};
      bool same = true;
      for (const auto& a : id.rules[r].attrs) {
        std::optional<Value> now = AttrOf(h, a), ours = attrs.Find(a);
        same = same && Present(now) && Present(ours) &&
               IdentityValue(a, *now) == IdentityValue(a, *ours);
      }
      if (same) add(h);
    }
  }

  void One(size_t i) {
    const Candidate& c = set_.cis[i];
    std::string cls = c.class_name;
    if (c.id) {  // named by id (ndjson "id"): the bulk loader's rule, then the CI's class
      auto given = c.class_name.empty() ? std::nullopt : std::optional(c.class_name);
      if (Status named = bulk::CheckNamedCi(graph_.FindCi(*c.id), *c.id, given); !named.ok()) {
        return Fail(c.location, named);
      }
      cls = std::string(graph_.FindCi(*c.id)->class_name);
    }
    if (!schema_.FindClass(cls))
      return Fail(c.location, Status::Invalid(schema_.UnknownClassMessage(cls)));
    AttrMap attrs = c.attrs;
    if (Status st = schema_.NormalizeAttrs(cls, attrs); !st.ok()) {
      AttrMap none;  // the class itself is fine (not abstract): only values are at fault
      if (set_.strict_types || st.code() != StatusCode::kSchemaViolation ||
          !schema_.NormalizeAttrs(cls, none).ok())
        return Fail(c.location, st);
      // A discovery source's value its attribute's type refuses (a kubelet version read as the
      // number 1.31): left out and listed, the record imported without it.
      attrs = AttrMap();
      for (const auto& [k, v] : c.attrs) {
        AttrMap one;
        one.Set(k, v);
        Status bad = schema_.FindAttribute(cls, k) ? schema_.NormalizeAttrs(cls, one) : Status();
        if (bad.ok()) {
          attrs.Set(k, v);
        } else {
          report_.skipped.push_back({c.location, bad.message() + ": the value is ignored"});
        }
      }
      if (Status again = schema_.NormalizeAttrs(cls, attrs); !again.ok())
        return Fail(c.location, again);
    }
    std::string parent;
    if (!c.parent_ref.empty()) {
      auto p = out_.by_ref.find(c.parent_ref);
      size_t ps = p == out_.by_ref.end() ? IdentifiedSet::kUnidentified : out_.slot[p->second];
      if (ps == IdentifiedSet::kRefused) {
        out_.slot[i] = IdentifiedSet::kRefused;
        report_.skipped.push_back(
            {c.location, "its parent '" + c.parent_ref + "' was refused by identification"});
        return;
      }
      if (ps == IdentifiedSet::kUnidentified)
        return Fail(c.location,
                    Status::Invalid("its parent '" + c.parent_ref + "' is not in the source"));
      const IdentifiedCi& pr = out_.cis[ps];
      parent = pr.existing ? "ci:" + std::to_string(pr.existing) : "new:" + std::to_string(ps);
    }
    const Identification& id = index_.IdentificationFor(cls);
    std::vector<std::optional<std::string>> keys;
    for (size_t r = 0; r < id.rules.size(); ++r) keys.push_back(index_.Key(id, r, attrs, parent));

    Hit target;
    bool found = false;
    IdentityConflict conflict;
    const size_t first = out_.by_ref.find(c.ref)->second;
    if (first != i && out_.slot[first] != IdentifiedSet::kUnidentified) {
      // A reference seen twice names the same CI: the later candidate merges into the first.
      size_t s = out_.slot[first];
      if (s == IdentifiedSet::kRefused) {
        out_.slot[i] = s;
        report_.skipped.push_back({c.location, "'" + c.ref + "' was refused by identification"});
        return;
      }
      target = {s, 0, SIZE_MAX};
      found = true;
    } else if (c.id) {
      auto claimed = by_existing_.find(*c.id);
      target = claimed == by_existing_.end() ? Hit{IdentifiedSet::kUnidentified, *c.id, SIZE_MAX}
                                             : Hit{claimed->second, 0, SIZE_MAX};
      found = true;
    } else {
      found = Decide(cls, id, attrs, keys, target, conflict);
    }
    if (!conflict.reason.empty()) {
      conflict.location = c.location;
      conflict.class_name = cls;
      conflict.name = ValueText(attrs.Get("name"));
      // Several CIs matching are never resolved by creating one more: the next import would
      // find it too, and one more each time. Refused, whatever the class's policy.
      conflict.policy = c.reference_only || conflict.reason == "several" ? IdentifyConflict::kRefuse
                                                                         : id.on_conflict;
      report_.identity_conflicts.push_back(conflict);
      if (conflict.policy == IdentifyConflict::kRefuse) {
        out_.slot[i] = IdentifiedSet::kRefused;
        report_.skipped.push_back(
            {c.location,
             "refused by identification: " + (conflict.reason == "several"
                                                  ? "several CIs match on " + conflict.rule
                                                  : "contradicted match on " + conflict.rule +
                                                        " (" + cls + " ON CONFLICT REFUSE)")});
        return;
      }
    }
    size_t slot;
    if (found && target.slot != IdentifiedSet::kUnidentified) {
      slot = target.slot;
      IdentifiedCi& r = out_.cis[slot];
      ImportMerge m;
      m.location = c.location;
      m.into_location = r.location;
      m.into_id = r.existing;
      m.class_name = r.class_name;
      m.name = ValueText(r.attrs.Get("name"));
      if (target.rule == SIZE_MAX) {
        m.rule = "ref";
        m.value = c.ref;
      } else {
        m.rule = Joined(id.rules[target.rule].attrs);
        m.value = *Values(attrs, id.rules[target.rule].attrs);
        m.strong = id.rules[target.rule].strong;
      }
      report_.merges.push_back(std::move(m));
      ++report_.merged;
      for (const auto& [k, v] : attrs) {
        if (!r.attrs.Has(k)) r.attrs.Set(k, v);
      }
    } else {
      IdentifiedCi r;
      r.first = i;
      r.class_name = cls;
      r.location = c.location;
      if (found) {
        r.existing = target.existing;
        r.class_name = graph_.FindCi(target.existing)->class_name;
        by_existing_[target.existing] = out_.cis.size();
      }
      r.attrs = std::move(attrs);
      slot = out_.cis.size();
      out_.cis.push_back(std::move(r));
      // A CI named by id (ndjson "id") takes what it is given as POST /v1/bulk does: a new name
      // another CI holds is refused by the write (its KEY conflict), not qualified or kept.
      if (!c.reference_only && !c.id && !QualifyName(id, slot)) {
        IdentifiedCi& last = out_.cis.back();
        if (last.existing) {
          // A CI found whose new name another CI holds keeps the name it has: reported.
          Value kept = graph_.FindCi(last.existing)->attrs.Get("name");
          report_.conflicts.push_back(
              {last.existing, "name", "key", c.location, last.attrs.Get("name"), kept});
          last.attrs.Set("name", kept);
        } else {
          // Its KEY is another CI's and nothing it has tells them apart: not a CI of its own.
          std::vector<std::string> key = schema_.KeyAttributes(cls, nullptr);
          report_.skipped.push_back({c.location, "refused by identification: its KEY value (" +
                                                     Joined(key) + " = " +
                                                     Values(last.attrs, key).value_or("") +
                                                     ") is another CI's and no identifier tells "
                                                     "them apart"});
          out_.cis.pop_back();
          out_.slot[i] = IdentifiedSet::kRefused;
          return;
        }
      }
    }
    IdentifiedCi& r = out_.cis[slot];
    r.reference_only = r.reference_only && c.reference_only;
    // Later candidates find this CI by the candidate's strong keys and by every key of the CI as
    // it now is (its weak keys: a qualified name, not the name the candidate gave).
    auto index_key = [&](std::optional<std::string> k) {
      if (!k) return;
      auto& slots = import_keys_[std::move(*k)];
      if (std::find(slots.begin(), slots.end(), slot) == slots.end()) slots.push_back(slot);
    };
    // A new CI whose name was not qualified has exactly the candidate's keys.
    const bool as_given = r.first == i && r.attrs.Get("name") == c.attrs.Get("name");
    for (size_t k = 0; k < keys.size(); ++k) {
      if (as_given) {
        index_key(std::move(keys[k]));
        continue;
      }
      if (id.rules[k].strong) index_key(keys[k]);
      index_key(index_.Key(id, k, r.attrs, parent));
    }
    out_.slot[i] = slot;
  }

  // Steps 1-3 of the header for one candidate: true with `target` when it is a CI found;
  // false when it is a new one. An ambiguity fills `conflict` (and returns false).
  bool Decide(const std::string& cls, const Identification& id, const AttrMap& attrs,
              const std::vector<std::optional<std::string>>& keys, Hit& target,
              IdentityConflict& conflict) {
    std::vector<Hit> hits;
    for (size_t r = 0; r < id.rules.size(); ++r) {
      if (id.rules[r].strong && keys[r]) Lookup(id, r, *keys[r], attrs, false, hits);
    }
    bool strong = !hits.empty();
    bool has_strong = false;
    for (size_t r = 0; r < id.rules.size(); ++r) has_strong = has_strong || (id.rules[r].strong && keys[r]);
    if (!strong) {
      for (size_t r = 0; r < id.rules.size() && hits.empty(); ++r) {
        if (!id.rules[r].strong && keys[r]) Lookup(id, r, *keys[r], attrs, has_strong, hits);
      }
      // A retired or disposed CI keeps its strong identifiers (a terminated instance's id
      // stays findable) but gives way to CIs in service on a weak key: the address a
      // terminated instance had is the running one's now. Alone, it is still found (a CSV row
      // naming a retired CI updates it).
      if (std::any_of(hits.begin(), hits.end(), [&](const Hit& h) { return !Gone(h); }))
        hits.erase(std::remove_if(hits.begin(), hits.end(), [&](const Hit& h) { return Gone(h); }),
                   hits.end());
    }
    if (hits.empty()) return QualifiedHolder(cls, id, attrs, target);
    std::vector<Hit> agree;
    std::vector<IdentityMatch> contradicted;
    for (const Hit& h : hits) {
      if (auto m = Contradiction(id, attrs, h))
        contradicted.push_back(std::move(*m));
      else
        agree.push_back(h);
    }
    if (agree.size() == 1) {
      target = agree[0];
      return true;
    }
    const auto& rule = id.rules[hits[0].rule].attrs;
    conflict.rule = Joined(rule);
    conflict.value = *Values(attrs, rule);
    if (agree.empty()) {
      conflict.reason = "contradicted";
      conflict.matches = std::move(contradicted);
    } else {
      conflict.reason = "several";
      for (const Hit& h : agree) conflict.matches.push_back(Describe(h));
    }
    return false;
  }

  // The qualifiers a name may get (QualifyName), shortest first: each strong identifier's values,
  // all of them, the scope values, both ("" for one it lacks).
  static std::vector<std::string> Qualifiers(const Identification& id, const AttrMap& attrs) {
    std::vector<std::string> qualifiers;
    std::string strong, scoped;
    for (const auto& rule : id.rules) {
      if (auto v = rule.strong ? Values(attrs, rule.attrs) : std::nullopt) {
        qualifiers.push_back(*v);
        strong += (strong.empty() ? "" : ", ") + *v;
      }
    }
    for (const auto& a : id.scoped_by) {
      if (auto v = attrs.Find(a); Present(v)) scoped += (scoped.empty() ? "" : "/") + ValueText(*v);
    }
    qualifiers.push_back(strong);
    qualifiers.push_back(scoped);
    if (!strong.empty() && !scoped.empty()) qualifiers.push_back(strong + ", " + scoped);
    return qualifiers;
  }

  // When no rule found a CI: a committed one holding the candidate's name as an earlier import
  // qualified it ("n1 (kb)", the plain name being another cluster's node), of its identification
  // scope, in scope and not contradicted, is the candidate's CI.
  bool QualifiedHolder(const std::string& cls, const Identification& id, const AttrMap& attrs,
                       Hit& target) {
    std::vector<std::string> names = schema_.KeyAttributes(cls, nullptr);
    if (std::find(names.begin(), names.end(), "name") == names.end() || !Present(attrs.Find("name")))
      return false;
    std::string plain = ValueText(attrs.Get("name"));
    for (const std::string& q : Qualifiers(id, attrs)) {
      if (q.empty()) continue;
      AttrMap renamed = attrs;
      renamed.Set("name", Value(QualifiedName(plain, q)));
      std::string key;
      std::optional<CiId> holder = index_.KeyHolder(cls, renamed, &key);
      if (!holder || by_existing_.count(*holder)) continue;
      const CiRecord* rec = graph_.FindCi(*holder);
      Hit h{IdentifiedSet::kUnidentified, *holder, SIZE_MAX};
      if (!rec || !schema_.IsA(rec->class_name, id.scope) || OutOfScope(id, attrs, h) ||
          Contradiction(id, attrs, h))
        continue;
      target = h;
      return true;
    }
    return false;
  }

  // A CI whose class KEY holds its name, and whose KEY values another CI (committed, or of this
  // import) holds, gets its name qualified by its strong identifiers' values (else, or when that
  // is taken too, also its scope values): two CIs known to differ never share a KEY. Its KEY
  // values are then claimed. False when they stay taken (the caller refuses the candidate).
  bool QualifyName(const Identification& id, size_t slot) {
    IdentifiedCi& r = out_.cis[slot];
    std::string scope;
    std::vector<std::string> names = schema_.KeyAttributes(r.class_name, &scope);
    if (names.empty()) return true;
    auto held_by_other = [&](const AttrMap& attrs, std::string* key) {
      std::optional<CiId> holder = index_.KeyHolder(r.class_name, attrs, key);
      if (key->empty()) return false;
      if (holder && *holder != r.existing) {
        // A committed CI this import identifies as this one is not another; one it identifies
        // as another CI of it holds the values that one will have (renamed, it lets go).
        auto claimed = by_existing_.find(*holder);
        if (claimed == by_existing_.end()) return true;
        if (claimed->second != slot) {
          std::string theirs;
          index_.KeyHolder(r.class_name, out_.cis[claimed->second].attrs, &theirs);
          if (theirs.empty() || theirs == *key) return true;
        }
      }
      auto it = claimed_keys_.find(*key);
      return it != claimed_keys_.end() && it->second != slot;
    };
    // A CI that has a qualified form of the name keeps it: names do not flip between imports.
    if (r.existing && r.attrs.Has("name")) {
      std::string plain = ValueText(r.attrs.Get("name"));
      std::string now = ValueText(graph_.FindCi(r.existing)->attrs.Get("name"));
      if (now.size() > plain.size() + 3 && now.compare(0, plain.size() + 2, plain + " (") == 0 &&
          now.back() == ')')
        r.attrs.Set("name", Value(now));
    }
    std::string key;
    const bool held = held_by_other(r.attrs, &key);
    if (!r.existing && !key.empty() && !index_.KeyHolder(r.class_name, r.attrs, &key)) {
      // A new CI wanting a name no committed CI holds: which of those wanting it keeps it must
      // not depend on the order of the source (PlainNameOwners; the caller runs again).
      std::string strong;
      for (const auto& rule : id.rules) {
        if (!rule.strong) continue;
        strong += '\x1f';
        strong += Values(r.attrs, rule.attrs).value_or("");
      }
      contenders_[key].emplace_back(std::move(strong), r.first);
    }
    auto reserved = key.empty() ? reserved_.end() : reserved_.find(key);
    if (!held && (reserved == reserved_.end() || reserved->second == r.first)) {
      if (!key.empty()) claimed_keys_.emplace(key, slot);
      return true;
    }
    if (std::find(names.begin(), names.end(), "name") == names.end() || !r.attrs.Has("name"))
      return false;
    std::string plain = ValueText(r.attrs.Get("name"));
    for (const std::string& q : Qualifiers(id, r.attrs)) {
      if (q.empty()) continue;
      AttrMap renamed = r.attrs;
      renamed.Set("name", Value(QualifiedName(plain, q)));
      std::string qkey;
      if (!held_by_other(renamed, &qkey)) {
        r.attrs = std::move(renamed);
        claimed_keys_.emplace(qkey, slot);
        return true;
      }
    }
    return false;
  }

  const Graph& graph_;
  const Schema& schema_;
  const CandidateSet& set_;
  ImportReport& report_;
  IdentifiedSet& out_;
  KeyIndex index_;
  std::unordered_map<std::string, std::vector<size_t>> import_keys_;  // key -> slots
  std::unordered_map<CiId, size_t> by_existing_;                      // committed CI -> its slot
  std::unordered_map<std::string, size_t> claimed_keys_;  // KEY values -> the slot holding them
  std::unordered_map<std::string, size_t> reserved_;      // see the constructor
  // Plain KEY values new CIs wanted -> (strong identifiers' values, candidate), in order.
  std::unordered_map<std::string, std::vector<std::pair<std::string, size_t>>> contenders_;
};

}  // namespace

std::string QualifiedName(const std::string& name, const std::string& qualifier) {
  return name + " (" + qualifier + ")";
}

const IdentifiedCi* IdentifiedSet::FindRef(const std::string& ref) const {
  auto it = by_ref.find(ref);
  if (it == by_ref.end() || slot[it->second] >= kRefused) return nullptr;
  return &cis[slot[it->second]];
}

IdentifiedSet Identify(const Graph& graph, const Schema& schema, const CandidateSet& set,
                       ImportReport& report) {
  ImportReport before = report;
  IdentifiedSet out;
  Identifier first(graph, schema, set, report, out);
  first.Run();
  // Several new CIs wanted one name and the order of the source gave it: again, with each such
  // name kept for the one its strong identifiers choose (docs/importers.md, "Names").
  std::unordered_map<std::string, size_t> owners = first.PlainNameOwners();
  if (owners.empty()) return out;
  report = std::move(before);
  out = IdentifiedSet();
  Identifier(graph, schema, set, report, out, std::move(owners)).Run();
  return out;
}

}  // namespace cmdb::importers
