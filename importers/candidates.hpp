// What a parsed discovery source proposes: candidate CIs and relationships, tagged with where
// in the source each came from. Parsers (formats.hpp) produce them; RunImport (import.hpp)
// identifies, reconciles and applies them.
// Thread safety: plain values.
#pragma once

#include <algorithm>
#include <functional>
#include <optional>
#include <utility>
#include <string>
#include <vector>

#include "cmdb/attr_map.hpp"
#include "cmdb/records.hpp"
#include "cmdb/status.hpp"

namespace cmdb::importers {

struct Candidate {
  std::string ref;  // unique within one import (parsers derive it from the source)
  std::string class_name;
  AttrMap attrs;
  std::string location;         // "line 12", "items[3] (Pod web-1)", "host[2] 10.0.0.1"
  std::string parent_ref;       // dependent identity (IDENTIFIED ... WITHIN): the parent candidate
  bool reference_only = false;  // only names an existing CI (never created or changed)
  // With reference_only: the CI may be missing from the CMDB too (an object the source refers
  // to but does not describe: an instance's subnet, a pod's node). Relationships to a missing
  // one are not created and are listed in the report's `dangling`, not refused.
  bool optional = false;
  // Names an existing CI by id (ndjson "id", an id endpoint): that CI, not what identification
  // finds (RunImport refuses an id naming no CI).
  std::optional<CiId> id;
};

struct CandidateRel {
  std::string type;
  std::string from_ref, to_ref;
  AttrMap attrs;
  std::string location;
};

// A problem with one record of the source; any of them refuses the whole import.
struct SourceError {
  std::string location;
  std::string message;
  // The code and details of the refusal when a rule of the write or of the bulk reader refused
  // the record (SourceErrorOf): an ndjson import answers with them as POST /v1/bulk does.
  StatusCode code = StatusCode::kInvalidArgument;
  Status::Details details;
};

// CIs a source lists completely: those of `class_name` (its identification scope: a
// DiscoveredHost is covered by VirtualMachine; the root class CI: every CI and relationship), and
// when `attribute` is not empty only those whose `attribute` holds `value` (and each attribute of
// `also` its value: a namespaced Kubernetes list covers the Deployments of namespace X). With
// `via`, only those a CI covered by another entry of the same list reaches through a `via`
// relationship (an `ec2 describe-instances` output: the IPAddresses its instances HAS_ADDRESS).
// With `where`, only those whose attributes it accepts (an nmap run: the addresses it scanned),
// which `text` then says in words for the report. With `none`, nothing (`text` says why: an AWS
// list whose records name no region cannot tell which region it was).
struct Coverage {
  std::string class_name;
  std::string attribute;
  Value value;
  std::vector<std::pair<std::string, Value>> also;
  std::string via;
  std::function<bool(const AttrMap&)> where;
  std::string text;
  bool none = false;
};

// The distinct (account_id, region) pairs of the candidates that are not reference-only, of class
// `cls` ("": of every class), in order of first appearance, a missing value as null: the
// accounts and regions a cloud source's full scan covers (AWS lists, Terraform states).
inline std::vector<std::pair<Value, Value>> AccountRegionsOf(const std::vector<Candidate>& cis,
                                                             const std::string& cls = "") {
  std::vector<std::pair<Value, Value>> out;
  for (const Candidate& c : cis) {
    if (c.reference_only || (!cls.empty() && c.class_name != cls)) continue;
    std::pair<Value, Value> scope{c.attrs.Get("account_id"), c.attrs.Get("region")};
    if (std::find(out.begin(), out.end(), scope) == out.end()) out.push_back(std::move(scope));
  }
  return out;
}

// The error of the record at `location` that `st` (not OK) refused: its message, code and details.
inline SourceError SourceErrorOf(std::string location, const Status& st) {
  return {std::move(location), st.message(), st.code(), st.details()};
}

struct CandidateSet {
  std::vector<Candidate> cis;
  std::vector<CandidateRel> rels;
  std::vector<SourceError> errors;
  // Records the format documents as not imported (a Kubernetes ConfigMap, an unreachable Ansible
  // host, an nmap host that is down, a Terraform data source), each with why: reported in the
  // answer, never dropped silently, and no reason to refuse the import.
  std::vector<SourceError> skipped;
  // What the source lists completely (an `ec2 describe-instances` output: every VirtualMachine;
  // a ReplicaSetList: the K8sWorkloads of kind ReplicaSet), for full-scan staleness
  // (mark_stale.hpp); empty: every CI of the classes of its candidates that are not
  // reference-only.
  std::vector<Coverage> covers;
  // References to objects the source does not describe and that cannot be looked up in the CMDB
  // (a Terraform dependency on an address the state lacks): the relationship is not created,
  // and the report lists it (ImportReport::dangling), with why.
  std::vector<SourceError> dangling;
  int64_t lines = 0;  // ndjson: the lines read, blank ones included (a refusal counts them)
  // A value its attribute's type refuses refuses the record (ndjson, as POST /v1/bulk does).
  // Off (the discovery formats): the value is left out and listed in skipped, the rest imported.
  bool strict_types = false;
  // ndjson: for each of `rels`, the refs its "from" and "to" named ("" for an id or key
  // endpoint) and the candidates (indexes in `cis`) they named, so that a refusal can name a
  // line whose ref names a refused line as a bulk load does (importers::NdjsonRefusal).
  struct RefUse {
    std::string from, to;
    size_t from_ci = 0, to_ci = 0;
  };
  std::vector<RefUse> rel_refs;
};

}  // namespace cmdb::importers
