// Terraform state (format 4): managed resource instances, mapped by resource type; dependencies
// and id references between resources become DEPENDS_ON relationships.
#include <algorithm>
#include <list>
#include <map>
#include <set>

#include "importers/formats.hpp"
#include "importers/json_util.hpp"
#include "importers/scopes.hpp"

namespace cmdb::importers {
namespace {

const std::map<std::string, std::string>& TypeClasses() {
  static const std::map<std::string, std::string> kMap = {
      {"aws_instance", "VirtualMachine"},
      {"google_compute_instance", "VirtualMachine"},
      {"openstack_compute_instance_v2", "VirtualMachine"},
      {"azurerm_virtual_machine", "VirtualMachine"},
      {"azurerm_linux_virtual_machine", "VirtualMachine"},
      {"azurerm_windows_virtual_machine", "VirtualMachine"},
      {"oci_core_instance", "VirtualMachine"},
      {"aws_vpc", "VPC"},
      {"aws_subnet", "Subnet"},
      {"google_compute_subnetwork", "Subnet"},
      {"openstack_networking_subnet_v2", "Subnet"},
      {"azurerm_subnet", "Subnet"},
      {"aws_lb", "LoadBalancer"},
      {"aws_alb", "LoadBalancer"},
      {"aws_elb", "LoadBalancer"},
      {"openstack_lb_loadbalancer_v2", "LoadBalancer"},
      {"aws_db_instance", "DatabaseInstance"}};
  return kMap;
}

bool LooksLikeIp(const std::string& s) {
  return !s.empty() && s.size() <= 45 &&
         (s.find_first_not_of("0123456789.") == std::string::npos ||
          s.find(':') != std::string::npos);
}

std::string IndexSuffix(const Json& inst) {
  if (!inst.contains("index_key")) return "";
  const Json& k = inst["index_key"];
  return k.is_string() ? "[\"" + k.get<std::string>() + "\"]" : "[" + JsonText(k) + "]";
}

// The nested attributes of a legacy `attributes_flat` map (Terraform 0.11 states upgraded to
// format 4): "tags.Name" -> {"tags": {"Name"}}, "network_interface.0.network_ip" ->
// {"network_interface": [{"network_ip"}]}; the "#" and "%" counts are dropped. Values stay
// strings, as the state has them. A key that clashes with another's path keeps the first; one
// nested deeper than 64 levels stays flat.
Json Unflatten(const Json& flat) {
  Json out = Json::object();
  if (!flat.is_object()) return out;
  for (const auto& [key, value] : flat.items()) {
    if (std::count(key.begin(), key.end(), '.') > 64) {  // deeper than any schema: kept flat
      if (!out.contains(key)) out[key] = value;
      continue;
    }
    Json* at = &out;
    size_t start = 0;
    bool ok = true;
    while (ok) {
      size_t dot = key.find('.', start);
      std::string part =
          key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
      if (part == "#" || part == "%") {
        ok = false;
        break;
      }
      if (!at->is_object()) {
        ok = false;
        break;
      }
      if (dot == std::string::npos) {
        if (!at->contains(part)) (*at)[part] = value;
        break;
      }
      if (!at->contains(part)) (*at)[part] = Json::object();
      at = &(*at)[part];
      start = dot + 1;
    }
  }
  // Objects whose keys are all indexes ("0", "1", ...) are lists, in index order.
  std::vector<Json*> stack = {&out};
  while (!stack.empty()) {
    Json* j = stack.back();
    stack.pop_back();
    if (!j->is_object()) continue;
    bool list = !j->empty();
    for (const auto& [k, v] : j->items())
      list = list && !k.empty() && k.size() < 9 &&
             k.find_first_not_of("0123456789") == std::string::npos;
    if (list) {
      std::map<int, Json> ordered;
      for (auto it = j->begin(); it != j->end(); ++it)
        ordered.emplace(std::stoi(it.key()), std::move(it.value()));
      Json arr = Json::array();
      for (auto& [k, v] : ordered) arr.push_back(std::move(v));
      *j = std::move(arr);
    }
    for (auto it = j->begin(); it != j->end(); ++it) stack.push_back(&*it);
  }
  return out;
}

}  // namespace

Status ParseTerraform(std::string_view text, CandidateSet& out) {
  auto doc = ParseJson(text, "Terraform state");
  if (!doc.ok()) return doc.status();
  const Json& state = *doc;
  if (!state.is_object() || !state.contains("version"))
    return Status::Invalid("not a Terraform state: no \"version\" at $.version")
        .With("path", "$.version");
  if (!state["version"].is_number_integer())
    return Status::Invalid("a Terraform state's \"version\" must be a whole number, not " +
                           JsonText(state["version"]))
        .With("path", "$.version");
  int64_t version = state["version"];
  const std::string lineage = Str(state, "lineage");  // the state's own id, kept across serials
  if (version != 4)
    return Status::Invalid("Terraform state format " + std::to_string(version) +
                           " is not supported: only format 4 (Terraform 0.12 and later) is; run "
                           "`terraform state pull` "
                           "with a current Terraform to upgrade it")
        .With("path", "$.version");
  if (!state.contains("resources") || !state["resources"].is_array())
    return Status::Invalid("a Terraform state needs a \"resources\" list")
        .With("path", "$.resources");

  std::map<std::string, std::vector<std::string>> by_address;  // resource address -> instance refs
  std::map<std::string, std::string> by_id;                    // cloud id -> ref
  struct Deps {
    std::string ref, location;
    std::vector<std::string> addresses;
    const Json* attrs;
  };
  std::vector<Deps> deps;
  std::list<Json> unflattened;         // attributes read from attributes_flat (stable addresses)
  std::set<std::string> data_sources;  // addresses of data sources (not imported)
  const Json& resources = state["resources"];
  for (size_t r = 0; r < resources.size(); ++r) {
    const Json& res = resources[r];
    std::string path = "$.resources[" + std::to_string(r) + "]";
    TypeProblems::SetRecord(path);
    if (!res.is_object()) {
      out.errors.push_back({path, "a resource must be a JSON object"});
      continue;
    }
    if (std::string mode = Str(res, "mode"); mode != "managed") {  // data sources are reads
      if (mode == "data") {
        std::string module = Str(res, "module");
        data_sources.insert((module.empty() ? "" : module + ".") + "data." + Str(res, "type") +
                            "." + Str(res, "name"));
        out.skipped.push_back({path, "data source " + Str(res, "type") + "." + Str(res, "name") +
                                         " (a read, not a resource)"});
      } else {
        out.errors.push_back({path, "\"mode\" must be \"managed\" or \"data\", not " +
                                        JsonText(Field(res, "mode"))});
      }
      continue;
    }
    std::string type = Str(res, "type"), name = Str(res, "name"), module = Str(res, "module");
    if (type.empty() || name.empty()) {
      out.errors.push_back({path, "a resource needs \"type\" and \"name\""});
      continue;
    }
    std::string address = (module.empty() ? "" : module + ".") + type + "." + name;
    auto cls_it = TypeClasses().find(type);
    std::string cls = cls_it == TypeClasses().end() ? "CloudResource" : cls_it->second;
    std::string provider = Str(res, "provider");
    if (res.contains("instances") && !res["instances"].is_array()) {
      out.errors.push_back({path, "\"instances\" must be a list"});
      continue;
    }
    const Json& instances = Items(res, "instances");
    for (size_t i = 0; i < instances.size(); ++i) {
      const Json& inst = instances[i];
      const Json* attrs = &Member(inst, "attributes");
      if (!inst.contains("attributes") && inst.contains("attributes_flat"))
        attrs = &unflattened.emplace_back(Unflatten(Member(inst, "attributes_flat")));
      const Json& a = *attrs;
      std::string inst_address = address + IndexSuffix(inst);
      Candidate c;
      c.class_name = cls;
      c.ref = "tf:" + inst_address;
      c.location = path + ".instances[" + std::to_string(i) + "] (" + inst_address + ")";
      TypeProblems::SetRecord(c.location);
      std::string id = Str(a, "id");
      // An RDS instance's "name" is its database's; the instance is its identifier.
      std::string label = cls == "DatabaseInstance" ? Str(a, "identifier") : "";
      if (label.empty()) label = Str(a, "name");
      if (label.empty() && a.contains("tags") && a["tags"].is_object())
        label = Str(a["tags"], "Name");
      if (label.empty()) label = inst_address;
      c.attrs.Set("name", Value(label));
      if (cls == "VPC") {
        c.attrs.Set("vpc_id", Value(id.empty() ? inst_address : id));
        SetFrom(c.attrs, "cidr", a, "cidr_block");
      } else if (!id.empty()) {
        c.attrs.Set("cloud_id", Value(id));
      }
      {  // the identity scope: account and region
        CloudScope scope = ScopeOfArn(Str(a, "arn"));
        if (scope.account_id.empty()) scope.account_id = Str(a, "owner_id");
        if (scope.region.empty()) scope.region = RegionOfZone(Str(a, "availability_zone"));
        if (!scope.account_id.empty()) c.attrs.Set("account_id", Value(scope.account_id));
        if (!scope.region.empty()) c.attrs.Set("region", Value(scope.region));
      }
      if (Str(a, "instance_state") == "terminated")  // lifecycle: never live
        c.attrs.Set("status", Value(std::string("retired")));
      if (cls == "CloudResource") {
        c.attrs.Set("resource_type", Value(type));
        c.attrs.Set("address", Value(inst_address));
        // An address is unique only within its state: scoped by the state's lineage (two
        // accounts' states both hold aws_account_password_policy.this).
        if (!lineage.empty()) c.attrs.Set("state_lineage", Value(lineage));
        if (!provider.empty()) c.attrs.Set("provider", Value(provider));
      } else if (cls == "VirtualMachine") {
        for (const char* k : {"instance_type", "machine_type", "flavor_name", "vm_size", "shape"})
          SetFrom(c.attrs, "instance_type", a, k);
        std::string ip = Str(a, "private_ip");
        if (ip.empty()) ip = Str(a, "access_ip_v4");
        if (ip.empty() && a.contains("network_interface") && a["network_interface"].is_array() &&
            !a["network_interface"].empty())
          ip = Str(a["network_interface"][0], "network_ip");
        if (LooksLikeIp(ip)) c.attrs.Set("ip_address", Value(ip));
        c.attrs.Set("hypervisor", Value(type.substr(0, type.find('_'))));
      } else if (cls == "Subnet") {
        SetFrom(c.attrs, "cidr", a, "cidr_block");
        SetFrom(c.attrs, "cidr", a, "ip_cidr_range");
        SetFrom(c.attrs, "cidr", a, "cidr");
      } else if (cls == "LoadBalancer") {
        SetFrom(c.attrs, "dns_name", a, "dns_name");
      } else if (cls == "DatabaseInstance") {
        SetFrom(c.attrs, "engine", a, "engine");
        SetFrom(c.attrs, "endpoint", a, "endpoint");
      }
      std::vector<std::string> dep_addresses;
      for (const char* key : {"dependencies", "depends_on"}) {
        for (const Json& d : Items(inst, key)) {
          if (d.is_string()) dep_addresses.push_back(d.get<std::string>());
        }
      }
      by_address[address].push_back(c.ref);
      if (!id.empty()) by_id[id] = c.ref;
      deps.push_back({c.ref, c.location, std::move(dep_addresses), &a});
      out.cis.push_back(std::move(c));
    }
  }
  // Relationships: explicit dependencies (dangling ones and data sources skipped) and id
  // references in attributes (subnet_id, vpc_id, ...).
  for (const Deps& d : deps) {
    std::set<std::string> targets;
    for (const std::string& addr : d.addresses) {
      if (auto it = by_address.find(addr); it != by_address.end())
        targets.insert(it->second.begin(), it->second.end());
      else  // listed, never dropped silently
        out.dangling.push_back(
            {d.location, "dependency on " + addr + " not created: " +
                             (data_sources.count(addr) ? "a data source (not imported)"
                                                       : "no managed resource of the state has "
                                                         "that address")});
    }
    for (const auto& [k, v] : d.attrs->items()) {
      if (k == "id" || k.size() < 3 || k.substr(k.size() - 3) != "_id" || !v.is_string()) continue;
      if (auto it = by_id.find(v.get<std::string>()); it != by_id.end()) targets.insert(it->second);
    }
    targets.erase(d.ref);
    for (const std::string& t : targets)
      out.rels.push_back({"DEPENDS_ON", d.ref, t, {}, d.location});
  }
  // A state lists every resource it manages, in the accounts and regions its resources are in: a
  // full scan covers the classes it maps to there (one state's account says nothing of another's;
  // a state without resources covers nothing). A resource without an ARN or zone covers the
  // CIs without account and region.
  const std::vector<std::pair<Value, Value>> scopes = AccountRegionsOf(out.cis);
  std::set<std::string> classes = {"CloudResource"};
  for (const auto& [type, cls] : TypeClasses()) classes.insert(cls);
  for (const std::string& cls : classes)
    for (const auto& [account, region] : scopes)
      out.covers.push_back(
          {cls, "account_id", account,
           {{"region", region}, {"state_lineage", lineage.empty() ? Value() : Value(lineage)}}});
  return Status::Ok();
}

}  // namespace cmdb::importers
