// Ansible facts (setup output and fact cache) and AWS CLI JSON (describe-* outputs).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "importers/formats.hpp"
#include "importers/identifiers.hpp"
#include "importers/json_util.hpp"
#include "importers/scopes.hpp"

namespace cmdb::importers {
namespace {

// Placeholder values facts and inventories carry that identify nothing (identifiers.hpp).
bool Junk(const std::string& s) { return IsPlaceholder(s); }

// `s` in lower case (ASCII): AWS states compared whatever their case.
std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool LooksLikeIp(const std::string& s) {
  return !s.empty() && s.size() <= 45 &&
         (s.find_first_not_of("0123456789.") == std::string::npos ||
          s.find(':') != std::string::npos);
}

// An address that names nothing outside its host: loopback (127/8, ::1), IPv4 and IPv6
// link-local (169.254/16, fe80::/10), the unspecified address. Not imported as IPAddress CIs.
bool HostLocalIp(const std::string& s) {
  std::string lower;
  for (char c : s) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.rfind("127.", 0) == 0 || lower.rfind("169.254.", 0) == 0 || lower == "::1" ||
         lower == "::" || lower == "0.0.0.0" || lower.rfind("fe8", 0) == 0 ||
         lower.rfind("fe9", 0) == 0 || lower.rfind("fea", 0) == 0 || lower.rfind("feb", 0) == 0;
}

// Whether an interface is a virtual bridge or tunnel of the host's containers or VMs (Docker,
// libvirt, LXC, podman, Kubernetes CNIs): its addresses are this host's alone.
bool BridgeInterface(const std::string& name) {
  for (const char* prefix : {"docker", "br-", "virbr", "cni", "flannel", "cali", "veth", "tunl",
                             "weave", "kube-", "lxcbr", "lxdbr", "podman", "cilium", "vxlan"})
    if (name.rfind(prefix, 0) == 0) return true;
  return false;
}

// A MAC address that identifies an interface, in its normal form (identifiers.hpp); "" for a
// placeholder (empty, "unknown", all zeros) or a malformed one.
std::string UsableMac(const std::string& s) {
  MacAddress m = ReadMac(s);
  return m.kind == MacAddress::kUsable ? m.value : "";
}

constexpr int64_t kMaxCpus = 1 << 20;             // far beyond any machine
constexpr double kMaxMemoryMb = 1099511627776.0;  // 2^40 MiB

// The addresses of one interface's facts: Linux gives "ipv4" as an object, BSD as a list of
// them; "ipv4_secondaries" and "ipv6" are lists. Windows interfaces carry none.
std::vector<std::string> InterfaceAddresses(const Json& info) {
  std::vector<std::string> out;
  auto take = [&](const Json& j) {
    if (j.is_object()) {
      if (std::string a = Str(j, "address"); !a.empty()) out.push_back(a);
    } else if (j.is_array()) {
      for (const Json& e : j) {
        if (std::string a = Str(e, "address"); !a.empty()) out.push_back(a);
      }
    }
  };
  take(Field(info, "ipv4"));  // an object or a list
  take(Items(info, "ipv4_secondaries"));
  take(Items(info, "ipv6"));
  return out;
}

// One host's facts: a host candidate and an IPAddress per address (HAS_ADDRESS). Its name is
// the first usable of ansible_fqdn (with a dot), ansible_hostname, the inventory name, the
// default (else first) IP address, the serial number and the MAC address; a host with none is
// skipped, with why. Unusable counts (a CPU count of "many") are errors.
void AnsibleHost(const Json& facts, const std::string& inventory_name, const std::string& where,
                 CandidateSet& out) {
  TypeProblems::SetRecord(inventory_name.empty() ? where : where + " (" + inventory_name + ")");
  std::string hostname = Str(facts, "ansible_hostname"), fqdn = Str(facts, "ansible_fqdn"),
              domain = Str(facts, "ansible_domain");
  std::string role = Str(facts, "ansible_virtualization_role"),
              vtype = Str(facts, "ansible_virtualization_type");
  std::string serial = Str(facts, "ansible_product_serial");
  if (Junk(serial)) serial.clear();
  // Addresses, in order: every interface's (with its MAC), then the lists of all addresses
  // (Windows facts have only those: ansible_ip_addresses).
  std::vector<std::pair<std::string, std::string>> addresses;  // address, MAC
  std::set<std::string> seen;
  std::set<std::string> bridged;  // addresses of the host's virtual bridges (BridgeInterface)
  std::string first_mac, gateway_mac;
  auto add_address = [&](const std::string& addr, const std::string& mac, bool bridge = false) {
    if (!LooksLikeIp(addr) || HostLocalIp(addr)) return;
    std::string bare = addr.substr(0, addr.find('%'));  // fe80::1%lo0: no zone
    if (bridge) bridged.insert(bare);
    if (seen.insert(bare).second) addresses.emplace_back(bare, mac);
  };
  // An address only this host's containers or VMs reach: docker0's and virbr0's ranges, or any
  // address of a virtual bridge interface.
  // A container's own addresses are on its host's container network (172.18.0.2 on every
  // Compose network): they scope to the container too, and never identify it.
  const bool container = role == "guest" && (vtype == "docker" || vtype == "podman" ||
                                             vtype == "containerd" || vtype == "container");
  auto host_local = [&](const std::string& addr) {
    return container || IsHostLocalAddress(addr) || bridged.count(addr) > 0;
  };
  for (const Json& iface : Items(facts, "ansible_interfaces")) {
    if (iface.is_object()) {  // Windows: {interface_name, macaddress, default_gateway, ...}
      std::string mac = UsableMac(Str(iface, "macaddress"));
      if (mac.empty()) continue;
      if (first_mac.empty()) first_mac = mac;
      if (gateway_mac.empty() && !Str(iface, "default_gateway").empty()) gateway_mac = mac;
      continue;
    }
    if (!iface.is_string() || iface == "lo" || iface == "lo0") continue;
    std::string key = "ansible_" + iface.get<std::string>();
    for (char& ch : key)
      if (ch == '-' || ch == ':' || ch == '.') ch = '_';
    const Json& info = Member(facts, key.c_str());
    std::string mac = UsableMac(Str(info, "macaddress"));
    bool bridge = BridgeInterface(iface.get<std::string>());
    for (const std::string& addr : InterfaceAddresses(info)) add_address(addr, mac, bridge);
  }
  for (const char* list :
       {"ansible_ip_addresses", "ansible_all_ipv4_addresses", "ansible_all_ipv6_addresses"}) {
    for (const Json& a : Items(facts, list)) {
      if (a.is_string()) add_address(a.get<std::string>(), "");
    }
  }
  const Json& def = Member(facts, "ansible_default_ipv4");
  // The host's own address (a weak identifier): never one of its bridges' (every Docker host
  // has 172.17.0.1, every container may be 172.17.0.2).
  std::string ip = Str(def, "address");
  if (!LooksLikeIp(ip) || HostLocalIp(ip) || host_local(ip))
    ip = Str(Member(facts, "ansible_default_ipv6"), "address");
  if (!LooksLikeIp(ip) || HostLocalIp(ip) || host_local(ip)) {
    ip.clear();
    for (const auto& [addr, addr_mac] : addresses)
      if (ip.empty() && !host_local(addr)) ip = addr;
  }
  // The default interface's MAC, the host's strong identifier: a malformed one is not used,
  // and said so (in skipped: the host itself is imported).
  const std::string def_mac = Str(def, "macaddress");
  if (ReadMac(def_mac).kind == MacAddress::kMalformed)
    out.skipped.push_back({where + " ansible_default_ipv4.macaddress",
                           "not a MAC address: " + JsonText(Field(def, "macaddress")) +
                               " (not used as an identifier)"});
  std::string mac = UsableMac(def_mac);
  if (!ip.empty()) add_address(ip, mac);
  if (mac.empty()) mac = !gateway_mac.empty() ? gateway_mac : first_mac;
  bool has_fqdn = !Junk(fqdn) && fqdn.find('.') != std::string::npos;
  std::string name = has_fqdn                ? fqdn
                     : !Junk(hostname)       ? hostname
                     : !Junk(inventory_name) ? inventory_name
                     : !ip.empty()           ? ip
                     : !serial.empty()       ? serial
                                             : mac;
  if (name.empty()) {
    out.skipped.push_back(
        {where, "no usable identifier: no host name (ansible_fqdn " +
                    JsonText(Field(facts, "ansible_fqdn")) + ", ansible_hostname " +
                    JsonText(Field(facts, "ansible_hostname")) +
                    "), inventory name, IP address, serial number or MAC address"});
    return;
  }
  Candidate h;
  h.class_name = role == "guest"  ? "VirtualMachine"
                 : role == "host" ? "PhysicalServer"
                                  : "DiscoveredHost";
  h.ref = "host:" + where;  // one per entry: identification decides which are the same host
  h.location = where;
  h.attrs.Set("name", Value(name));
  if (!Junk(hostname)) h.attrs.Set("hostname", Value(hostname));
  if (has_fqdn) h.attrs.Set("fqdn", Value(fqdn));
  if (!Junk(domain)) h.attrs.Set("domain", Value(domain));
  std::string os = Str(facts, "ansible_distribution");
  if (!os.empty()) h.attrs.Set("os", Value(os));
  std::string os_version = Str(facts, "ansible_distribution_version");
  if (!os_version.empty()) h.attrs.Set("os_version", Value(os_version));
  // Counts that are present but unusable are errors naming the fact, never dropped.
  auto bad = [&](const char* fact, const std::string& why) {
    out.errors.push_back(
        {where, std::string(fact) + ": " + why + ", got " + JsonText(facts[fact])});
  };
  // Some platforms (Solaris) give counts as decimal strings: "1536" is read as 1536.
  auto number = [&](const Json& v) -> Json {
    if (!v.is_string()) return v;
    const std::string& s = v.get_ref<const std::string&>();
    if (s.empty() || s.size() > 20 || s.find_first_not_of("0123456789.") != std::string::npos ||
        std::count(s.begin(), s.end(), '.') > 1 || s.front() == '.' || s.back() == '.')
      return v;
    return s.find('.') == std::string::npos ? Json(std::stoll(s)) : Json(std::stod(s));
  };
  for (const char* k : {"ansible_processor_vcpus", "ansible_processor_count"}) {
    if (h.attrs.Has("cpu_count") || !facts.contains(k) || facts[k].is_null()) continue;
    const Json v = number(facts[k]);
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > kMaxCpus)
      return bad(k, "expected a whole number of CPUs from 0 to " + std::to_string(kMaxCpus));
    h.attrs.Set("cpu_count", Value(v.get<int64_t>()));
  }
  if (facts.contains("ansible_memtotal_mb") && !facts["ansible_memtotal_mb"].is_null()) {
    const Json v = number(facts["ansible_memtotal_mb"]);
    if (!v.is_number() || v.get<double>() < 0 || v.get<double>() > kMaxMemoryMb)
      return bad("ansible_memtotal_mb", "expected a number of MiB from 0 to 2^40");
    h.attrs.Set("memory_gb", Value(std::round(v.get<double>() / 1024.0 * 100) / 100));
  }
  if (!serial.empty()) h.attrs.Set("serial_number", Value(serial));
  if (h.class_name == "VirtualMachine" && !vtype.empty()) h.attrs.Set("hypervisor", Value(vtype));
  if (!ip.empty()) h.attrs.Set("ip_address", Value(ip));
  if (!mac.empty()) h.attrs.Set("mac_address", Value(mac));
  for (const auto& [addr, addr_mac] : addresses) {
    Candidate a;
    a.class_name = "IPAddress";
    a.ref = "ip:" + addr;
    a.location = where + " address " + addr;
    a.attrs.Set("name", Value(addr));
    a.attrs.Set("address", Value(addr));
    if (host_local(addr)) {  // docker0, virbr0, cni0...: this host's own bridge
      a.ref = "ip:" + addr + "%" + h.ref;
      a.attrs.Set("name", Value(HostLocalName(addr, name)));
      // Scoped by the host: its name and, when it has one, its serial number or MAC (two hosts
      // named "web" have two 172.17.0.1).
      std::string strong = !serial.empty() ? serial : mac;
      a.attrs.Set("host", Value(strong.empty() ? name : name + "/" + strong));
    }
    if (!addr_mac.empty()) a.attrs.Set("mac_address", Value(addr_mac));
    out.rels.push_back({"HAS_ADDRESS", h.ref, a.ref, {}, a.location});
    out.cis.push_back(std::move(a));
  }
  out.cis.push_back(std::move(h));
}

bool IsFacts(const Json& j) {
  if (!j.is_object()) return false;
  for (const auto& [k, v] : j.items()) {
    if (k.rfind("ansible_", 0) == 0 && k != "ansible_facts") return true;
  }
  return false;
}

// A fact-cache entry holding no host facts: only what Ansible caches besides them
// (discovered_interpreter_python, module_setup, gather_subset, ...).
bool IsFactlessCacheEntry(const Json& j) {
  if (!j.is_object() || j.empty()) return false;
  for (const auto& [k, v] : j.items()) {
    if (k.rfind("discovered_interpreter_", 0) != 0 && k != "module_setup" && k != "gather_subset")
      return false;
  }
  return true;
}

}  // namespace

Status ParseAnsible(std::string_view text, CandidateSet& out) {
  auto doc = ParseJson(text, "Ansible facts");
  if (!doc.ok()) return doc.status();
  std::vector<std::tuple<const Json*, std::string, std::string>>
      hosts;                // facts, inventory name, location
  bool recognized = false;  // an entry that is facts, or says why it has none
  // One entry: a host's facts, or a record of why there are none (skipped, with the reason).
  auto add = [&](const Json& j, const std::string& inventory, const std::string& path) {
    std::string named = inventory.empty() ? path : path + " (" + inventory + ")";
    if (j.is_object() && j.contains("unreachable") && j["unreachable"] == Json(true)) {
      out.skipped.push_back({named, "the host was unreachable (no facts)"});
    } else if (j.is_object() && j.contains("ansible_facts") && IsFacts(j["ansible_facts"])) {
      hosts.emplace_back(&j["ansible_facts"], inventory, path + ".ansible_facts");
    } else if (IsFacts(j)) {
      hosts.emplace_back(&j, inventory, path);
    } else if (j.is_object() && j.contains("failed") && j["failed"] == Json(true)) {
      out.skipped.push_back({named, "fact gathering failed (no facts): " + Str(j, "msg")});
    } else if (IsFactlessCacheEntry(j) ||
               (j.is_object() && j.contains("ansible_facts") && j["ansible_facts"].is_object())) {
      std::string keys;
      for (const auto& [k, v] : (j.contains("ansible_facts") ? j["ansible_facts"] : j).items())
        keys += (keys.empty() ? "" : ", ") + k;
      out.skipped.push_back(
          {named, "no host facts (" + (keys.empty() ? "empty" : "only " + keys) + ")"});
    } else {
      out.skipped.push_back({named,
                             "not Ansible facts (expected {\"ansible_facts\": {...}} or a "
                             "bare facts object), got " +
                                 std::string(j.type_name())});
      return;
    }
    recognized = true;
  };
  const Json& root = *doc;
  if (root.is_array()) {
    for (size_t i = 0; i < root.size(); ++i) add(root[i], "", "$[" + std::to_string(i) + "]");
  } else if (root.is_object() && !root.contains("ansible_facts") && !IsFacts(root) &&
             !root.contains("unreachable") && !root.contains("failed") &&
             !IsFactlessCacheEntry(root)) {
    for (const auto& [name, v] : root.items()) add(v, name, "$." + name);  // inventory -> facts
  } else {
    add(root, "", "$");
  }
  // A file in which no entry is Ansible's is not facts at all: refused, not imported as empty.
  if (!recognized && !(root.is_array() && root.empty())) {
    std::string at = out.skipped.empty() ? "$" : out.skipped.front().location;
    out.skipped.clear();
    return Status::Invalid("no Ansible facts at " + at +
                           " (expected {\"ansible_facts\": {...}} or a bare facts object)")
        .With("path", at);
  }
  for (const auto& [facts, inventory, path] : hosts) AnsibleHost(*facts, inventory, path, out);
  return Status::Ok();
}

namespace {

// The value of the "Name" tag, else `fallback`.
std::string NameOr(const Json& tags, const std::string& fallback) {
  for (const Json& t : tags) {
    if (Str(t, "Key") == "Name" && !Str(t, "Value").empty()) return Str(t, "Value");
  }
  return fallback;
}

// A scope value for a report: its literal, or "none".
std::string Literal(const Value& v) { return v.is_null() ? "none" : v.ToLiteral(); }

// The key of a class's records of one account and region.
std::string PageKey(const std::string& cls, const Value& account, const Value& region) {
  return cls + '\x1f' + Literal(account) + '\x1f' + Literal(region);
}

// Whether an id is missing: empty, or only spaces and control characters.
bool Blank(const std::string& id) {
  return std::all_of(id.begin(), id.end(),
                     [](unsigned char c) { return c <= 0x20 || c == 0x7f; });
}

// Sets a candidate's account_id and region (the identity scope of cloud resources) from what the
// record says: an ARN, else the owner account and an availability zone.
// `given`: the import's account and region parameters, for what the record does not say.
void SetCloudScope(Candidate& c, const std::string& arn, const std::string& owner,
                   const std::string& zone, const CloudScope& given) {
  CloudScope scope = ScopeOfArn(arn);
  if (scope.account_id.empty()) scope.account_id = owner;
  if (scope.region.empty()) scope.region = RegionOfZone(zone);
  if (scope.account_id.empty()) scope.account_id = given.account_id;
  if (scope.region.empty()) scope.region = given.region;
  if (!scope.account_id.empty()) c.attrs.Set("account_id", Value(scope.account_id));
  if (!scope.region.empty()) c.attrs.Set("region", Value(scope.region));
}

}  // namespace

Status ParseAws(std::string_view text, CandidateSet& out, const CloudScope& given) {
  auto doc = ParseJson(text, "AWS CLI JSON");
  if (!doc.ok()) return doc.status();
  std::vector<const Json*> parts;
  if (doc->is_array()) {
    for (const Json& p : *doc) parts.push_back(&p);
  } else {
    parts.push_back(&*doc);
  }
  std::set<std::string> refs;
  auto reference = [&](const std::string& cls, const std::string& attr, const std::string& value,
                       const std::string& where) {
    std::string ref = "aws:" + value;
    if (refs.count(ref)) return ref;
    std::string key_ref = "ref:" + cls + ":" + value;
    if (refs.insert(key_ref).second) {
      Candidate c{key_ref, cls, {}, where, "", true};
      c.optional = true;  // not in the CMDB either: the relationship is reported as dangling
      c.attrs.Set(attr, Value(value));
      out.cis.push_back(std::move(c));
    }
    return key_ref;
  };
  std::vector<std::tuple<std::string, std::string, std::string, std::string, std::string>>
      links;  // type, from, to-id, to class, where
  bool any = false;
  std::set<std::string> covered_classes;  // the classes of the lists present
  // Per class and (account, region) of its records: whether the last list that held records of
  // that account and region was one page of a longer answer.
  std::map<std::string, bool> paged;  // key: PageKey
  // Records a candidate, and its containment in `parent_id` (a VPC or subnet id) when given.
  auto add = [&](Candidate c, const std::string& parent_id, const char* parent_class) {
    refs.insert(c.ref);
    if (!parent_id.empty())
      links.emplace_back("CONTAINS", parent_id, c.ref, parent_class, c.location);
    out.cis.push_back(std::move(c));
  };
  for (size_t p = 0; p < parts.size(); ++p) {
    const Json& part = *parts[p];
    std::string base = parts.size() > 1 ? "$[" + std::to_string(p) + "]" : "$";
    // Every item of a recognized list is imported or named in the errors: a list that is not a
    // list, an item that is not an object, or one without its identifier is refused.
    auto each = [&](const char* key, const char* id_key, const char* what,
                    const std::function<void(const Json&, const std::string&)>& fn) {
      if (!part.is_object() || !part.contains(key)) return;
      any = true;
      // A full scan covers the class this list holds, and only it (docs/importers.md).
      static const std::map<std::string, std::string> kCovers = {
          {"Vpcs", "VPC"}, {"Subnets", "Subnet"}, {"Reservations", "VirtualMachine"},
          {"LoadBalancerDescriptions", "LoadBalancer"}, {"LoadBalancers", "LoadBalancer"},
          {"DBInstances", "DatabaseInstance"}};
      covered_classes.insert(kCovers.at(key));
      // One page of a longer answer (its NextToken, or Marker for RDS and NextMarker for load
      // balancers, names the next): unless a later page of the same account and region follows
      // in the file, the scan of that account and region is not whole.
      const bool page = !Str(part, "NextToken").empty() || !Str(part, "Marker").empty() ||
                        !Str(part, "NextMarker").empty();
      const std::string cls = kCovers.at(key);
      const size_t first = out.cis.size();
      // An instance list also holds its instances' addresses: those its instances have.
      if (std::string(key) == "Reservations")
        out.covers.push_back({"IPAddress", "", Value(), {}, "HAS_ADDRESS"});
      if (!part[key].is_array()) {
        out.errors.push_back({base + "." + key, std::string(key) + " must be a list"});
        return;
      }
      for (size_t i = 0; i < part[key].size(); ++i) {
        const Json& item = part[key][i];
        std::string where = base + "." + key + "[" + std::to_string(i) + "]";
        if (!item.is_object()) {
          out.errors.push_back({where, std::string("a ") + what + " entry must be an object"});
        } else if (id_key && Blank(Str(item, id_key))) {  // nothing to identify it by
          out.skipped.push_back({where, std::string("a ") + what + " without " + id_key});
        } else {
          TypeProblems::SetRecord(where);
          fn(item, where);
        }
      }
      std::vector<Candidate> mine(out.cis.begin() + static_cast<std::ptrdiff_t>(first), out.cis.end());
      for (const auto& [account, region] : AccountRegionsOf(mine, cls))
        paged[PageKey(cls, account, region)] = page;
    };
    each("Vpcs", "VpcId", "VPC", [&](const Json& v, const std::string& where) {
      Candidate c{"aws:" + Str(v, "VpcId"), "VPC", {}, where, "", false};
      c.attrs.Set("name", Value(NameOr(Items(v, "Tags"), Str(v, "VpcId"))));
      SetFrom(c.attrs, "vpc_id", v, "VpcId");
      SetFrom(c.attrs, "cidr", v, "CidrBlock");
      SetCloudScope(c, "", Str(v, "OwnerId"), "", given);  // describe-vpcs names no region
      add(std::move(c), "", "VPC");
    });
    each("Subnets", "SubnetId", "subnet", [&](const Json& s, const std::string& where) {
      Candidate c{"aws:" + Str(s, "SubnetId"), "Subnet", {}, where, "", false};
      c.attrs.Set("name", Value(NameOr(Items(s, "Tags"), Str(s, "SubnetId"))));
      SetFrom(c.attrs, "cloud_id", s, "SubnetId");
      SetFrom(c.attrs, "cidr", s, "CidrBlock");
      SetCloudScope(c, Str(s, "SubnetArn"), Str(s, "OwnerId"), Str(s, "AvailabilityZone"), given);
      add(std::move(c), Str(s, "VpcId"), "VPC");
    });
    each("Reservations", nullptr, "reservation", [&](const Json& r, const std::string& rwhere) {
      if (r.contains("Instances") && !r["Instances"].is_array()) {
        out.errors.push_back({rwhere + ".Instances", "Instances must be a list"});
        return;
      }
      const Json& instances = Items(r, "Instances");
      for (size_t i = 0; i < instances.size(); ++i) {
        const Json& in = instances[i];
        std::string where = rwhere + ".Instances[" + std::to_string(i) + "]";
        TypeProblems::SetRecord(where);
        if (!in.is_object()) {
          out.errors.push_back({where, "an instance entry must be an object"});
          continue;
        }
        Candidate c{"aws:" + Str(in, "InstanceId"), "VirtualMachine", {}, where, "", false};
        if (Blank(Str(in, "InstanceId"))) {
          out.skipped.push_back({where, "an instance without InstanceId"});
          continue;
        }
        c.attrs.Set("name", Value(NameOr(Items(in, "Tags"), Str(in, "InstanceId"))));
        SetFrom(c.attrs, "cloud_id", in, "InstanceId");
        SetFrom(c.attrs, "instance_type", in, "InstanceType");
        if (LooksLikeIp(Str(in, "PrivateIpAddress")))
          c.attrs.Set("ip_address", Value(Str(in, "PrivateIpAddress")));
        SetFrom(c.attrs, "fqdn", in, "PrivateDnsName");
        c.attrs.Set("hypervisor", Value(std::string("aws")));
        SetCloudScope(c, "", Str(r, "OwnerId"), Str(Member(in, "Placement"), "AvailabilityZone"),
                      given);
        // Lifecycle: a terminated instance is retired, never live (its id stays findable).
        std::string state = Lower(Str(Member(in, "State"), "Name"));  // "Terminated" too
        if (state == "terminated" || state == "shutting-down")
          c.attrs.Set("status", Value(std::string("retired")));
        // Its addresses: every interface's private IPv4 and IPv6 addresses, and the instance's
        // own (HAS_ADDRESS); the interface's MAC goes with its addresses. A private address is
        // identified within its VPC (else the instance's account and region): 10.0.0.5 in two
        // VPCs is two IPAddress CIs. Public ones are global.
        std::set<std::string> addresses;
        const std::string vpc = Str(in, "VpcId");
        auto address = [&](const std::string& addr, const std::string& mac,
                           const std::string& iface_vpc) {
          if (!LooksLikeIp(addr) || !addresses.insert(addr).second) return;
          Candidate a{"ip:" + addr, "IPAddress", {}, where + " address " + addr, "", false};
          a.attrs.Set("name", Value(addr));
          a.attrs.Set("address", Value(addr));
          if (IsPrivateAddress(addr)) {
            std::string in_vpc = iface_vpc.empty() ? vpc : iface_vpc;
            if (!in_vpc.empty()) {
              a.attrs.Set("vpc_id", Value(in_vpc));
              a.ref += "@" + in_vpc;
            }
            std::string scope_ref;  // account/region: the ref's scope without a VPC
            for (const char* scope : {"account_id", "region"}) {
              std::optional<Value> v = c.attrs.Find(scope);
              if (!v) continue;
              a.attrs.Set(scope, *v);
              scope_ref += (scope_ref.empty() ? "" : "/") + std::string(v->as_string());
            }
            if (in_vpc.empty() && !scope_ref.empty()) a.ref += "@" + scope_ref;
          }
          if (!mac.empty()) a.attrs.Set("mac_address", Value(mac));
          out.rels.push_back({"HAS_ADDRESS", c.ref, a.ref, {}, a.location});
          out.cis.push_back(std::move(a));
        };
        for (const Json& ni : Items(in, "NetworkInterfaces")) {
          std::string mac = UsableMac(Str(ni, "MacAddress")), ni_vpc = Str(ni, "VpcId");
          address(Str(ni, "PrivateIpAddress"), mac, ni_vpc);
          for (const Json& p : Items(ni, "PrivateIpAddresses"))
            address(Str(p, "PrivateIpAddress"), mac, ni_vpc);
          for (const Json& p : Items(ni, "Ipv6Addresses"))
            address(Str(p, "Ipv6Address"), mac, ni_vpc);
        }
        address(Str(in, "PrivateIpAddress"), "", "");
        address(Str(in, "Ipv6Address"), "", "");
        for (const Json& p : Items(in, "Ipv6Addresses")) address(Str(p, "Ipv6Address"), "", "");
        if (!c.attrs.Has("ip_address") && LooksLikeIp(Str(in, "Ipv6Address")))
          c.attrs.Set("ip_address", Value(Str(in, "Ipv6Address")));
        add(std::move(c), Str(in, "SubnetId"), "Subnet");
      }
    });
    each("LoadBalancerDescriptions", "LoadBalancerName", "load balancer", [&](const Json& lb, const std::string& where) {  // classic ELB
      Candidate c{"aws:" + Str(lb, "LoadBalancerName"), "LoadBalancer", {}, where, "", false};
      c.attrs.Set("name", Value(Str(lb, "LoadBalancerName")));
      c.attrs.Set("cloud_id", Value("elb:" + Str(lb, "LoadBalancerName")));
      SetFrom(c.attrs, "dns_name", lb, "DNSName");
      const Json& zones = Items(lb, "AvailabilityZones");
      std::string zone = zones.empty() || !zones[0].is_string() ? "" : zones[0].get<std::string>();
      SetCloudScope(c, "", "", zone, given);  // a classic ELB names no account
      if (!Items(lb, "Instances").empty())  // the schema relates no load balancer to a computer
        out.skipped.push_back({where + ".Instances",
                               std::to_string(Items(lb, "Instances").size()) +
                                   " instance(s) behind the load balancer are not linked (no "
                                   "relationship type connects a LoadBalancer to a Computer)"});
      add(std::move(c), Str(lb, "VPCId"), "VPC");
    });
    each("LoadBalancers", "LoadBalancerArn", "load balancer", [&](const Json& lb, const std::string& where) {  // elbv2
      Candidate c{"aws:" + Str(lb, "LoadBalancerArn"), "LoadBalancer", {}, where, "", false};
      c.attrs.Set("name", Value(Str(lb, "LoadBalancerName")));
      SetFrom(c.attrs, "cloud_id", lb, "LoadBalancerArn");
      SetFrom(c.attrs, "dns_name", lb, "DNSName");
      SetCloudScope(c, Str(lb, "LoadBalancerArn"), "", "", given);
      add(std::move(c), Str(lb, "VpcId"), "VPC");
    });
    each("DBInstances", "DBInstanceIdentifier", "DB instance", [&](const Json& db, const std::string& where) {
      Candidate c{
          "aws:" + Str(db, "DBInstanceIdentifier"), "DatabaseInstance", {}, where, "", false};
      c.attrs.Set("name", Value(Str(db, "DBInstanceIdentifier")));
      SetFrom(c.attrs, "cloud_id", db, "DbiResourceId");
      if (!c.attrs.Has("cloud_id")) SetFrom(c.attrs, "cloud_id", db, "DBInstanceArn");
      SetFrom(c.attrs, "engine", db, "Engine");
      SetFrom(c.attrs, "release", db, "EngineVersion");
      SetCloudScope(c, Str(db, "DBInstanceArn"), "", Str(db, "AvailabilityZone"), given);
      if (Lower(Str(db, "DBInstanceStatus")) == "deleting")
        c.attrs.Set("status", Value(std::string("retired")));
      SetFrom(c.attrs, "endpoint", Member(db, "Endpoint"), "Address");
      if (db.contains("Endpoint") && db["Endpoint"].is_object() && db["Endpoint"].contains("Port")) {
        const Json& port = db["Endpoint"]["Port"];
        if (!port.is_number_integer() || port.get<int64_t>() < 0 || port.get<int64_t>() > 65535) {
          out.errors.push_back({where + ".Endpoint.Port", "a port must be a whole number from 0 to 65535, got " +
                                                              JsonText(port)});
          return;
        }
        c.attrs.Set("port", Value(port.get<int64_t>()));
      }
      refs.insert(c.ref);
      std::string subnet_where = where + ".DBSubnetGroup";
      const Json& group = Member(db, "DBSubnetGroup");
      for (const Json& s : Items(group, "Subnets")) {
        if (!Str(s, "SubnetIdentifier").empty())
          links.emplace_back("CONTAINS", Str(s, "SubnetIdentifier"), c.ref, "Subnet", subnet_where);
      }
      out.cis.push_back(std::move(c));
    });
  }
  if (!any)
    return Status::Invalid(
        "no AWS CLI output recognized: expected Reservations, Vpcs, Subnets, LoadBalancers, "
        "LoadBalancerDescriptions or DBInstances at the top level");
  // A full scan covers a list's class only in the accounts and regions of its records (a scan of
  // one account and region says nothing of another's; an empty list covers nothing): one entry
  // per (account_id, region) pair seen.
  // Records that name no account or no region (describe-vpcs has no region, a classic ELB no
  // account) cannot tell which the scan was of: without the import's `account` and `region`
  // parameters they cover nothing (a scan of eu-west-1's VPCs must not mark us-east-1's stale).
  for (const std::string& cls : covered_classes) {
    std::vector<std::pair<Value, Value>> scopes = AccountRegionsOf(out.cis, cls);
    if (scopes.empty())
      out.covers.push_back({cls, "", Value(), {}, "", {},
                            "the list is empty: it names no account or region, so it covers "
                            "nothing",
                            true});
    for (auto& [account, region] : scopes) {
      if (paged[PageKey(cls, account, region)]) {
        out.covers.push_back({cls, "", Value(), {}, "", {},
                              "the list of account " + Literal(account) + ", region " +
                                  Literal(region) +
                                  " is one page of a longer answer (it has a NextToken, Marker "
                                  "or NextMarker): import every page in one file, an array of "
                                  "the outputs, for a full scan to mark them stale",
                              true});
        continue;
      }
      if (account.is_null() || region.is_null()) {
        const bool both = account.is_null() && region.is_null();
        std::string text = std::string("its records name ") +
                           (both ? "no account and no region"
                            : account.is_null() ? "no account (region " + region.ToLiteral() + ")"
                                                : "no region (account " + account.ToLiteral() + ")") +
                           ", so which the scan was of cannot be told: import with the " +
                           (both ? "`account` and `region` parameters"
                            : account.is_null() ? "`account` parameter"
                                                : "`region` parameter") +
                           " for a full scan to mark them stale";
        out.covers.push_back({cls, "", Value(), {}, "", {}, std::move(text), true});
        continue;
      }
      out.covers.push_back({cls, "account_id", std::move(account), {{"region", std::move(region)}}});
    }
  }
  // Containment: the parent from this import, else an existing CI found by its id.
  for (const auto& [type, parent_id, child, parent_class, where] : links) {
    std::string parent = refs.count("aws:" + parent_id) ? "aws:" + parent_id
                         : parent_class == "VPC"
                             ? reference(parent_class, "vpc_id", parent_id, where)
                             : reference(parent_class, "cloud_id", parent_id, where);
    out.rels.push_back({type, parent, child, {}, where});
  }
  return Status::Ok();
}

Status ParseSource(const std::string& format, std::string_view text, const ParseOptions& options,
                   CandidateSet& out) {
  if (format == "ndjson") {
    if (!options.schema) return Status::Internal("ndjson is read against a schema; none was given");
    return ParseNdjson(text, *options.schema, options.db, out);
  }
  if (format == "csv") return ParseCsv(text, options.mapping, out);
  if (format == "nmap") return ParseNmap(text, out);
  // The JSON formats: a value of the wrong type is listed in skipped, never dropped silently.
  auto json_format = [&](const std::function<Status()>& parse) {
    TypeProblems problems;
    Status st = parse();
    for (auto& [location, message] : problems.Take())
      out.skipped.push_back({std::move(location), std::move(message)});
    return st;
  };
  if (format == "kubernetes")
    return json_format([&] { return ParseKubernetes(text, out, options.cluster); });
  if (format == "terraform") return json_format([&] { return ParseTerraform(text, out); });
  if (format == "ansible") return json_format([&] { return ParseAnsible(text, out); });
  if (format == "aws")
    return json_format([&] { return ParseAws(text, out, {options.account, options.region}); });
  std::string names;
  for (const auto& n : FormatNames()) names += (names.empty() ? "" : ", ") + n;
  return Status::Invalid("unknown import format '" + format + "'; formats: " + names)
      .With("parameter", "format");
}

std::vector<std::string> FormatNames() {
  return {"ndjson", "csv", "nmap", "kubernetes", "terraform", "ansible", "aws"};
}

}  // namespace cmdb::importers
