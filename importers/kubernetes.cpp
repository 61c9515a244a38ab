// Kubernetes JSON (kubectl get ... -o json): lists, single objects, or an array of them.
#include <map>
#include <set>

#include "importers/formats.hpp"
#include "importers/json_util.hpp"

namespace cmdb::importers {
namespace {

const std::set<std::string> kWorkloads = {"Deployment",  "ReplicaSet", "DaemonSet",
                                          "StatefulSet", "Job",        "CronJob"};

bool LooksLikeIp(const std::string& s) {
  if (s.empty() || s.size() > 45) return false;
  return s.find_first_not_of("0123456789.") == std::string::npos ||
         s.find(':') != std::string::npos;
}

struct Object {
  std::string kind, location;
  const Json* json;
};

bool IsListKind(const std::string& kind) {
  return kind.size() >= 4 && kind.compare(kind.size() - 4, 4, "List") == 0;
}

// Flattens the input (an object, a List, or an array of them; lists inside lists are read too)
// into objects with their kinds and locations. Anything else is an error naming its path:
// a List whose "items" is not a list, an item that is not an object.
Status Collect(const Json& j, const std::string& path, const std::string& list_kind,
               std::vector<Object>& out, std::set<std::string>& list_kinds) {
  if (j.is_array()) {
    for (size_t i = 0; i < j.size(); ++i) {
      if (!j[i].is_object())
        return Status::Invalid(path + "[" + std::to_string(i) +
                               "] is not a Kubernetes object (a JSON object)")
            .With("path", path + "[" + std::to_string(i) + "]");
      CMDB_RETURN_IF_ERROR(
          Collect(j[i], path + "[" + std::to_string(i) + "]", list_kind, out, list_kinds));
    }
    return Status::Ok();
  }
  if (!j.is_object())
    return Status::Invalid(path + " is not a Kubernetes object (a JSON object)").With("path", path);
  std::string kind = Str(j, "kind");
  if (j.contains("items") || IsListKind(kind)) {
    if (!j.contains("items") || !j["items"].is_array())
      return Status::Invalid(path + ".items must be a list of Kubernetes objects" +
                             (kind.empty() ? "" : " (in a " + kind + ")"))
          .With("path", path + ".items");
    std::string item_kind = IsListKind(kind) ? kind.substr(0, kind.size() - 4) : "";
    if (!item_kind.empty()) list_kinds.insert(item_kind);
    const Json& items = j["items"];
    std::string at = path + ".items";
    for (size_t i = 0; i < items.size(); ++i) {
      std::string item_path = at + "[" + std::to_string(i) + "]";
      if (!items[i].is_object())
        return Status::Invalid(item_path + " is not a Kubernetes object (a JSON object)")
            .With("path", item_path);
      CMDB_RETURN_IF_ERROR(Collect(items[i], item_path, item_kind, out, list_kinds));
    }
    return Status::Ok();
  }
  if (kind.empty()) kind = list_kind;
  out.push_back({kind, path, &j});
  return Status::Ok();
}

// The class a kind of object is imported as ("" for kinds that are not CIs).
std::string ClassOfKind(const std::string& kind) {
  if (kWorkloads.count(kind)) return "K8sWorkload";
  if (kind == "Namespace" || kind == "Node" || kind == "Pod" || kind == "Service" ||
      kind == "Ingress")
    return "K8s" + kind;
  return "";
}

}  // namespace

Status ParseKubernetes(std::string_view text, CandidateSet& out, const std::string& cluster) {
  auto doc = ParseJson(text, "Kubernetes JSON");
  if (!doc.ok()) return doc.status();
  std::vector<Object> objects;
  std::set<std::string> list_kinds;
  CMDB_RETURN_IF_ERROR(Collect(*doc, "$", "", objects, list_kinds));
  // A full scan covers the kinds the input lists (a ReplicaSetList says nothing of Deployments);
  // a namespaced kind only in the namespaces its objects in the input are in (`kubectl get pods
  // -n X` says nothing of the pods of other namespaces, and cannot be told from an `-A` list).
  std::map<std::string, std::set<std::string>> kind_namespaces;  // namespaced kind -> namespaces
  for (const Object& o : objects) {
    list_kinds.insert(o.kind);
    if (o.kind == "Namespace" || o.kind == "Node") continue;
    TypeProblems::SetRecord(o.location + " (" + o.kind + ")");
    std::string ns = Str(Member(*o.json, "metadata"), "namespace");
    kind_namespaces[o.kind].insert(ns.empty() ? "default" : ns);
  }
  // Only in this cluster (`cluster`; none given: only the CIs imported without one): a scan of
  // one cluster says nothing of another's same-named namespaces.
  const Value in_cluster = cluster.empty() ? Value() : Value(cluster);
  for (const std::string& kind : list_kinds) {
    std::string cls = ClassOfKind(kind);
    if (cls.empty()) continue;
    if (cls == "K8sNamespace" || cls == "K8sNode") {
      out.covers.push_back({cls, "cluster", in_cluster});
      continue;
    }
    for (const std::string& ns : kind_namespaces[kind]) {
      if (cls == "K8sWorkload")
        out.covers.push_back(
            {cls, "kind", Value(kind), {{"namespace", Value(ns)}, {"cluster", in_cluster}}});
      else
        out.covers.push_back({cls, "namespace", Value(ns), {{"cluster", in_cluster}}});
    }
  }
  if (objects.empty() && !(doc->is_object() && doc->contains("items")))
    return Status::Invalid(
        "no Kubernetes objects found (expected a List, an object or an array of them)");
  std::map<std::string, std::string> namespaces;   // name -> ref
  std::map<std::string, std::string> by_uid;       // uid -> ref
  std::map<std::string, std::string> nodes;        // name -> ref
  std::map<std::string, std::string> deployments;  // ns/name -> ref
  std::map<std::string, std::string> services;     // ns/name -> ref
  struct PodInfo {
    std::string ref, ns;
    const Json* labels;
  };
  std::vector<PodInfo> pods;
  struct Pending {
    std::string from_ref;
    const Json* owners;
    std::string ns, ns_ref, location;
  };
  std::vector<Pending> owned;
  std::vector<std::tuple<std::string, std::string, const Json*, std::string>>
      selectors;  // svc ref, ns, selector, location
  std::vector<std::tuple<std::string, std::string, std::vector<std::string>, std::string>>
      backends;  // ingress, ns, services
  std::vector<std::tuple<std::string, std::string, std::string>>
      pod_nodes;  // pod ref, node name, location
  std::set<std::string> known_kinds = {"Namespace", "Node", "Pod", "Service", "Ingress"};

  auto ensure_namespace = [&](const std::string& ns, const std::string& where) -> std::string {
    if (ns.empty()) return "";
    auto it = namespaces.find(ns);
    if (it != namespaces.end()) return it->second;
    Candidate c;
    c.class_name = "K8sNamespace";
    c.ref = "ns:" + ns;
    c.location = where;
    c.attrs.Set("name", Value(ns));
    if (!cluster.empty()) c.attrs.Set("cluster", Value(cluster));
    out.cis.push_back(std::move(c));
    return namespaces[ns] = "ns:" + ns;
  };
  // Namespaces and nodes first, so others can point at them.
  for (const Object& o : objects) {
    TypeProblems::SetRecord(o.location + " (" + o.kind + ")");  // until its name is known
    const Json& meta = Member((*o.json), "metadata");
    std::string name = Str(meta, "name"), uid = Str(meta, "uid");
    std::string where = o.location + " (" + o.kind + " " + name + ")";
    TypeProblems::SetRecord(where);
    if (o.kind == "Namespace") {
      if (name.empty()) {
        out.errors.push_back({where, "a Namespace without metadata.name"});
        continue;
      }
      if (namespaces.count(name)) continue;
      Candidate c{"ns:" + name, "K8sNamespace", {}, where, "", false};
      c.attrs.Set("name", Value(name));
      if (!cluster.empty()) c.attrs.Set("cluster", Value(cluster));
      if (!uid.empty()) c.attrs.Set("uid", Value(uid)), by_uid[uid] = c.ref;
      namespaces[name] = c.ref;
      out.cis.push_back(std::move(c));
    } else if (o.kind == "Node") {
      if (name.empty()) {
        out.errors.push_back({where, "a Node without metadata.name"});
        continue;
      }
      Candidate c{"node:" + name, "K8sNode", {}, where, "", false};
      c.attrs.Set("name", Value(name));
      if (!cluster.empty()) c.attrs.Set("cluster", Value(cluster));
      const Json& status = Member((*o.json), "status");
      const Json& info = Member(status, "nodeInfo");
      SetFrom(c.attrs, "kubelet_version", info, "kubeletVersion");
      SetFrom(c.attrs, "os_image", info, "osImage");
      for (const Json& a : Items(status, "addresses")) {  // the first (dual stack: two)
        if (Str(a, "type") == "InternalIP" && LooksLikeIp(Str(a, "address")) &&
            !c.attrs.Has("ip_address"))
          c.attrs.Set("ip_address", Value(Str(a, "address")));
      }
      nodes[name] = c.ref;
      out.cis.push_back(std::move(c));
    }
  }
  for (const Object& o : objects) {
    const Json& j = *o.json;
    if (o.kind == "Namespace" || o.kind == "Node") continue;
    TypeProblems::SetRecord(o.location + " (" + o.kind + ")");  // until its name is known
    const Json& meta = Member(j, "metadata");
    std::string name = Str(meta, "name"), uid = Str(meta, "uid"), ns = Str(meta, "namespace");
    std::string where = o.location + " (" + o.kind + " " + name + ")";
    TypeProblems::SetRecord(where);
    const Json& spec = Member(j, "spec");
    bool workload = kWorkloads.count(o.kind) > 0;
    if (!workload && !known_kinds.count(o.kind)) {  // other kinds are not CIs: say so
      out.skipped.push_back({where, o.kind.empty() ? "an object without \"kind\" is not imported"
                                                   : "kind " + o.kind + " is not imported"});
      continue;
    }
    if (name.empty()) {  // nothing to identify it by
      out.skipped.push_back({where, "an object without metadata.name is not imported"});
      continue;
    }
    if (ns.empty()) ns = "default";
    std::string ns_ref = ensure_namespace(ns, where);
    Candidate c;
    c.ref = uid.empty() ? o.kind + "/" + ns + "/" + name : "uid:" + uid;
    c.location = where;
    c.parent_ref = ns_ref;
    c.attrs.Set("name", Value(name));
    c.attrs.Set("namespace", Value(ns));
    if (!cluster.empty()) c.attrs.Set("cluster", Value(cluster));
    if (!uid.empty()) c.attrs.Set("uid", Value(uid)), by_uid[uid] = c.ref;
    if (workload) {
      c.class_name = "K8sWorkload";
      c.attrs.Set("kind", Value(o.kind));
      SetFrom(c.attrs, "replicas", spec, "replicas");
      if (o.kind == "Deployment") deployments[ns + "/" + name] = c.ref;
    } else if (o.kind == "Pod") {
      c.class_name = "K8sPod";
      const Json& status = Member(j, "status");
      SetFrom(c.attrs, "phase", status, "phase");
      std::string pod_ip = Str(status, "podIP");
      if (!LooksLikeIp(pod_ip) && !Items(status, "podIPs").empty())  // dual stack: the first
        pod_ip = Str(Items(status, "podIPs")[0], "ip");
      if (LooksLikeIp(pod_ip)) c.attrs.Set("pod_ip", Value(pod_ip));
      pods.push_back({c.ref, ns, meta.contains("labels") ? &meta["labels"] : nullptr});
      if (!Str(spec, "nodeName").empty())
        pod_nodes.emplace_back(c.ref, Str(spec, "nodeName"), where);
    } else if (o.kind == "Service") {
      c.class_name = "K8sService";
      SetFrom(c.attrs, "cluster_ip", spec, "clusterIP");
      SetFrom(c.attrs, "service_type", spec, "type");
      services[ns + "/" + name] = c.ref;
      if (spec.contains("selector") && spec["selector"].is_object())
        selectors.emplace_back(c.ref, ns, &spec["selector"], where);
    } else if (o.kind == "Ingress") {
      c.class_name = "K8sIngress";
      ValueList hosts;
      std::vector<std::string> svcs;
      for (const Json& rule : Items(spec, "rules")) {
        if (!Str(rule, "host").empty()) hosts.emplace_back(Str(rule, "host"));
        for (const Json& path : Items(Member(rule, "http"), "paths")) {
          const Json& backend = Member(path, "backend");
          std::string svc = Str(backend, "serviceName");
          if (svc.empty()) svc = Str(Member(backend, "service"), "name");
          if (!svc.empty()) svcs.push_back(svc);
        }
      }
      if (!hosts.empty()) c.attrs.Set("hosts", Value(std::move(hosts)));
      backends.emplace_back(c.ref, ns, std::move(svcs), where);
    }
    out.rels.push_back({"CONTAINS", ns_ref, c.ref, {}, where});
    if (meta.contains("ownerReferences"))
      owned.push_back({c.ref, &meta["ownerReferences"], ns, ns_ref, where});
    out.cis.push_back(std::move(c));
  }
  // An object outside the input, looked up in the CMDB when the import runs: linked when it is
  // there, else the relationship is reported as dangling (Candidate::optional).
  std::set<std::string> references;
  auto reference = [&](const std::string& ref, const std::string& cls, const std::string& attr,
                       const std::string& value, const std::string& parent,
                       const std::string& where) {
    if (references.insert(ref).second) {
      Candidate c{ref, cls, {}, where, parent, true};
      c.optional = true;
      c.attrs.Set(attr, Value(value));
      // A node is identified within its cluster (a workload or service within its namespace,
      // which carries the cluster): two clusters' same-named nodes are not one reference.
      if (cls == "K8sNode" && !cluster.empty()) c.attrs.Set("cluster", Value(cluster));
      out.cis.push_back(std::move(c));
    }
    return ref;
  };
  // ownerReferences: Pod -> workload, ReplicaSet -> Deployment (MEMBER_OF). An owner missing from
  // the source is found by name when it is a ReplicaSet of a Deployment that is there, else by
  // its uid in the CMDB; an owner of a kind that is not a CI (a Node, a custom resource) is
  // listed as skipped.
  for (const Pending& p : owned) {
    TypeProblems::SetRecord(p.location);
    if (!p.owners->is_array()) {
      TypeProblems::Note("ownerReferences", *p.owners, "a list");
      continue;
    }
    for (const Json& owner : *p.owners) {
      std::string target, kind = Str(owner, "kind"), uid = Str(owner, "uid");
      std::string what = "owner " + kind + " " + Str(owner, "name");
      if (auto it = by_uid.find(uid); it != by_uid.end())
        target = it->second;
      else if (kind == "ReplicaSet") {
        std::string rs = Str(owner, "name");
        if (auto dash = rs.rfind('-'); dash != std::string::npos) {
          if (auto d = deployments.find(p.ns + "/" + rs.substr(0, dash)); d != deployments.end())
            target = d->second;
        }
      }
      if (target.empty() && kWorkloads.count(kind) && !uid.empty())
        target = reference("uid:" + uid, "K8sWorkload", "uid", uid, p.ns_ref, p.location);
      if (target.empty()) {
        out.skipped.push_back(
            {p.location, what + " is not linked: " +
                             (kWorkloads.count(kind) ? std::string("it has no uid")
                                                     : "kind " + kind + " is not imported")});
        continue;
      }
      if (target != p.from_ref)
        out.rels.push_back({"MEMBER_OF", p.from_ref, target, {}, p.location});
    }
  }
  for (const auto& [pod, node, where] : pod_nodes) {
    auto it = nodes.find(node);
    std::string target = it != nodes.end()
                             ? it->second
                             : reference("node:" + node, "K8sNode", "name", node, "", where);
    out.rels.push_back({"RUNS_ON", pod, target, {}, where});
  }
  // Service -> Pod through the selector (within the input); Ingress -> Service through its
  // backends (a Service not in the input: looked up in the CMDB by name in the namespace).
  for (const auto& [svc, ns, selector, where] : selectors) {
    if (selector->empty()) continue;
    for (const PodInfo& pod : pods) {
      if (pod.ns != ns || !pod.labels || !pod.labels->is_object()) continue;
      bool match = true;
      for (const auto& [k, v] : selector->items()) {
        match = match && pod.labels->contains(k) && (*pod.labels)[k] == v;
      }
      if (match) out.rels.push_back({"ROUTES_TO", svc, pod.ref, {}, where});
    }
  }
  for (const auto& [ingress, ns, svcs, where] : backends) {
    std::set<std::string> done;
    for (const auto& s : svcs) {
      if (!done.insert(s).second) continue;
      auto it = services.find(ns + "/" + s);
      std::string target = it != services.end()
                               ? it->second
                               : reference("svc:" + ns + "/" + s, "K8sService", "name", s,
                                           namespaces.at(ns), where);  // a backend elsewhere
      out.rels.push_back({"ROUTES_TO", ingress, target, {}, where});
    }
  }
  return Status::Ok();
}

}  // namespace cmdb::importers
