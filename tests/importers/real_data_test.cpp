// Importers on real discovery files from other projects (tests/data/{nmap,ansible,terraform,
// kubernetes}/, see tests/data/SOURCE.md). What each file holds is counted here independently of
// the importers — nmap by scanning the raw text, the JSON formats by walking the document with
// nlohmann directly — and compared with what was imported. Partial inventories import the good
// part and list the rest (skipped, dangling); re-imports change nothing; a dry run's report is
// the apply's.
#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "importers/formats.hpp"
#include "importers/import.hpp"
#include "importers/import_util.hpp"
#include "test_util.hpp"

using namespace cmdb;
using namespace cmdb::importers;
using cmdb::testing::TestDb;
using cmdb::testing::Data;
using cmdb::testing::DefaultPrecedence;
using Json = nlohmann::json;

namespace {

struct Imported {
  ImportReport report;
  CandidateSet set;  // the parse: its `skipped`
};

CandidateSet Parse(const std::string& format, const std::string& text) {
  CandidateSet set;
  Status st = ParseSource(format, text, {}, set);
  INFO(st.ToString());
  REQUIRE(st.ok());
  return set;
}

// Parses and imports (fails the test on any error).
Imported Import(TestDb& t, const std::string& format, const std::string& text, bool dry = false,
                const std::string& source = "") {
  Imported o;
  o.set = Parse(format, text);
  ImportOptions opt;
  opt.source = source.empty() ? format : source;
  opt.dry_run = dry;
  opt.precedence = DefaultPrecedence();
  Status st = RunImport(*t.db, o.set, opt, o.report);
  for (const auto& e : o.report.errors) UNSCOPED_INFO(e.location << ": " << e.message);
  INFO(st.ToString());
  REQUIRE(st.ok());
  return o;
}

// A report as text: counts, every change (with ids and values), conflict and dangling reference.
std::string Describe(const ImportReport& r) {
  std::ostringstream s;
  s << r.created << "/" << r.updated << "/" << r.unchanged << "/" << r.stale << "/" << r.resurrected
    << "/" << r.merged << " rels " << r.rels_created << "/" << r.rels_updated << "/"
    << r.rels_unchanged << "/" << r.rels_stale << "\n";
  for (const auto& c : r.changes) {
    s << static_cast<int>(c.op) << " " << c.id << " " << c.class_name << " " << c.name << " @ "
      << c.location << ":";
    for (const auto& a : c.attrs)
      s << " " << a.name << "=" << a.before.ToLiteral() << "->" << a.after.ToLiteral();
    s << "\n";
  }
  for (const auto& c : r.conflicts)
    s << "conflict " << c.id << " " << c.attribute << " " << c.owner << "\n";
  for (const auto& d : r.dangling) s << "dangling " << d.location << ": " << d.message << "\n";
  for (const auto& k : r.skipped) s << "skipped " << k.location << ": " << k.message << "\n";
  for (const auto& m : r.merges)
    s << "merge " << m.location << " > " << m.into_location << " " << m.into_id << " " << m.rule
      << "=" << m.value << "\n";
  for (const auto& c : r.identity_conflicts) {
    s << "identity " << c.location << " " << c.reason << " " << c.rule << "=" << c.value;
    for (const auto& m : c.matches) s << " [" << m.id << " " << m.location << " " << m.attribute << "]";
    s << "\n";
  }
  return s.str();
}

// Imports `text` dry, then for real, then again: the dry run's report is the apply's, and the
// re-import changes nothing. Returns the apply's outcome.
Imported DryApplyAgain(TestDb& t, const std::string& format, const std::string& text) {
  Imported dry = Import(t, format, text, true);
  Imported applied = Import(t, format, text);
  CHECK(Describe(dry.report) == Describe(applied.report));
  Imported again = Import(t, format, text);
  CHECK(again.report.created == 0);
  CHECK(again.report.updated == 0);
  CHECK(again.report.merged == applied.report.merged);
  CHECK(again.report.unchanged == applied.report.created + applied.report.unchanged);
  CHECK(again.report.rels_created == 0);
  CHECK(again.report.rels_unchanged == applied.report.rels_created + applied.report.rels_unchanged);
  CHECK(again.report.changes.empty());
  CHECK(again.report.dangling.size() == applied.report.dangling.size());
  return applied;
}

size_t Count(TestDb& t, const std::string& cls) { return cmdb::testing::CountOf(t, cls); }

const CiRecord* Find(TestDb& t, const std::string& cls, const std::string& attr,
                     const Value& value) {
  return cmdb::testing::FindWith(t, cls, attr, value);
}

size_t CountRels(TestDb& t, const std::string& type) {
  ReadView v = t.db->Read();
  auto tid = v.graph().TypeIdOf(type);
  if (!tid) return 0;
  size_t n = 0;
  for (const auto& cls : v.graph().ClassesInUse())
    for (CiId id : v.graph().Extent(cls)) n += v.graph().OutOfType(id, *tid).size();
  return n;
}

// --- nmap: the raw text, scanned without an XML parser -----------------------------------------

struct NmapCounts {
  size_t up = 0, open_ports = 0;
  std::set<std::string> addresses;  // IPv4 and IPv6 of up hosts
  size_t loopback = 0;              // up hosts whose only address is 127/8 or ::1 (skipped)
};

NmapCounts CountNmap(const std::string& text) {
  NmapCounts n;
  size_t pos = 0;
  while (true) {
    size_t a = text.find("<host", pos);
    if (a == std::string::npos) break;
    char next = text[a + 5];
    if (next != ' ' && next != '>') {  // <hostnames>, <hostname>, <hosthint>
      pos = a + 5;
      continue;
    }
    size_t b = text.find("</host>", a);
    REQUIRE(b != std::string::npos);
    std::string host = text.substr(a, b - a);
    pos = b;
    if (host.find("<status state=\"up\"") == std::string::npos) continue;
    static const std::regex kLoopback(R"re(<address addr="(127\.[0-9.]+|::1)" addrtype)re");
    static const std::regex kOther(R"re(<address addr="(?!127\.|::1")[^"]+")re");
    if (std::regex_search(host, kLoopback) && !std::regex_search(host, kOther)) {
      ++n.loopback;
      continue;
    }
    ++n.up;
    for (size_t p = host.find("<state state=\"open\""); p != std::string::npos;
         p = host.find("<state state=\"open\"", p + 1))
      ++n.open_ports;
    static const std::regex kAddr(R"re(<address addr="([^"]+)" addrtype="(ipv4|ipv6)")re");
    for (std::sregex_iterator it(host.begin(), host.end(), kAddr), end; it != end; ++it) {
      std::string a = (*it)[1];
      if (a.rfind("127.", 0) != 0 && a != "::1") n.addresses.insert(a);  // loopback: not imported
    }
  }
  return n;
}

}  // namespace

TEST_CASE("real nmap scans: up hosts, open ports and addresses as the raw file counts them") {
  for (const char* file :
       {"nmap/ruby-nmap-scanme-tcp-udp-os-scripts.xml", "nmap/ullaakut-nmap453-freshmeat-A.xml",
        "nmap/nmap-parser-4hosts-loopback-os.xml",
        "nmap/libnmap-dionaea-sV-O-scripts-traceroute.xml", "libnmap-full_sudo6-subnet-A-os.xml"}) {
    INFO(file);
    std::string text = Data(file);
    NmapCounts want = CountNmap(text);
    REQUIRE(want.up + want.loopback > 0);
    TestDb t;
    Imported o = DryApplyAgain(t, "nmap", text);
    CHECK(Count(t, "DiscoveredHost") == want.up);
    CHECK(Count(t, "NetworkPort") == want.open_ports);
    CHECK(Count(t, "IPAddress") == want.addresses.size());
    CHECK(o.report.created ==
          static_cast<int64_t>(want.up + want.open_ports + want.addresses.size()));
    CHECK(CountRels(t, "EXPOSES") == want.open_ports);
    // Every host that is not up, or is only a loopback address, is listed as skipped, with why.
    size_t hosts = 0, loopback = 0;
    for (size_t p = text.find("<host"); p != std::string::npos; p = text.find("<host", p + 5))
      hosts += text[p + 5] == ' ' || text[p + 5] == '>';
    CHECK(o.set.skipped.size() == hosts - want.up);
    for (const auto& s : o.set.skipped) {
      CHECK(s.message.rfind("the host is ", 0) == 0);
      loopback += s.message.find("loopback address") != std::string::npos;
    }
    CHECK(loopback == want.loopback);
  }
}

TEST_CASE("a truncated nmap file says it ends early, with the position of its end") {
  for (const char* file :
       {"nmap/ruby-nmap-scanme-tcp-udp-os-scripts.xml", "nmap/nmap-parser-4hosts-loopback-os.xml",
        "libnmap-2_hosts_version-localhost-scanme.xml"}) {
    std::string text = Data(file);
    for (size_t k = 1; k <= 12; ++k) {
      std::string cut = text.substr(0, text.size() * k / 13);
      INFO(file << " cut at " << cut.size());
      int64_t line = 1 + std::count(cut.begin(), cut.end(), '\n');
      int64_t column = static_cast<int64_t>(cut.size() - (cut.rfind('\n') + 1)) + 1;
      CandidateSet set;
      Status st = ParseSource("nmap", cut, {}, set);
      CHECK(st.code() == StatusCode::kInvalidArgument);
      CHECK(st.message() == "the nmap XML ends early at line " + std::to_string(line) +
                                ", column " + std::to_string(column) +
                                ": the file is truncated (no closing </nmaprun>)");
      CHECK(set.cis.empty());
    }
    // Cut right after a complete element, and with only white space after the cut.
    std::string at_host = text.substr(0, text.find("</host>") + 7) + "\n";
    CandidateSet set;
    CHECK(ParseSource("nmap", at_host, {}, set).message().rfind("the nmap XML ends early at", 0) ==
          0);
  }
  // A file that is whole but malformed still names the element the parser stopped at.
  CandidateSet set;
  CHECK(ParseSource("nmap", "<nmaprun><host></nmaprun>", {}, set)
            .message()
            .rfind("malformed XML at line 1, column", 0) == 0);
}

TEST_CASE("nmap IPv6 hosts: every address imported, the host named by it") {
  TestDb t;
  std::string scan = R"(<?xml version="1.0"?><nmaprun><host><status state="up"/>
<address addr="2001:db8::10" addrtype="ipv6"/><ports><port protocol="tcp" portid="443">
<state state="open"/><service name="https"/></port></ports></host></nmaprun>)";
  Imported o = DryApplyAgain(t, "nmap", scan);
  CHECK(o.report.created == 3);
  REQUIRE(Find(t, "IPAddress", "address", Value("2001:db8::10")));
  const CiRecord* host = Find(t, "DiscoveredHost", "ip_address", Value("2001:db8::10"));
  REQUIRE(host);
  CHECK(host->attrs.Get("name") == Value("2001:db8::10"));
}

// --- Ansible ------------------------------------------------------------------------------------

namespace {

// The facts of a setup or fact-cache file.
const Json& FactsOf(const Json& doc) {
  return doc.contains("ansible_facts") ? doc["ansible_facts"] : doc;
}

bool HostLocal(const std::string& a) {
  return a.rfind("127.", 0) == 0 || a.rfind("169.254.", 0) == 0 || a == "::1" ||
         a.rfind("fe80", 0) == 0;
}

// The host's routable addresses, as the raw facts give them: every "address" value anywhere
// under an ansible_* fact, and every element of the all-addresses lists.
std::set<std::string> AnsibleAddresses(const Json& facts) {
  std::set<std::string> out;
  std::vector<const Json*> stack = {&facts};
  while (!stack.empty()) {
    const Json* j = stack.back();
    stack.pop_back();
    if (j->is_object()) {
      for (auto it = j->begin(); it != j->end(); ++it) {
        if (it.key() == "address" && it->is_string()) out.insert(it->get<std::string>());
        if ((it.key() == "ansible_all_ipv4_addresses" || it.key() == "ansible_all_ipv6_addresses" ||
             it.key() == "ansible_ip_addresses") &&
            it->is_array())
          for (const Json& a : *it) out.insert(a.get<std::string>());
        stack.push_back(&*it);
      }
    } else if (j->is_array()) {
      for (const Json& e : *j) stack.push_back(&e);
    }
  }
  for (auto it = out.begin(); it != out.end();) it = HostLocal(*it) ? out.erase(it) : std::next(it);
  return out;
}

}  // namespace

TEST_CASE(
    "real Ansible facts (Windows, OpenBSD, Solaris, OpenVZ, a workstation, AWX): one host "
    "and every routable address each") {
  for (const char* file : {"ansible/ansible-cmdb-setup-win.dev.local.json",
                           "ansible/ansible-cmdb-setup-openbsd.dev.local.json",
                           "ansible/ansible-cmdb-setup-sol_host.json",
                           "ansible/ansible-cmdb-setup-openvz.debian.local.json",
                           "ansible/ansible-cmdb-setup-jib.electricmonk.nl.json",
                           "ansible/awx-ui-fixture-hostFacts-container.json"}) {
    INFO(file);
    std::string text = Data(file);
    std::set<std::string> want = AnsibleAddresses(FactsOf(Json::parse(text)));
    TestDb t;
    Imported o = DryApplyAgain(t, "ansible", text);
    CHECK(Count(t, "Computer") + Count(t, "PhysicalServer") == 1);
    CHECK(Count(t, "IPAddress") == want.size());
    CHECK(CountRels(t, "HAS_ADDRESS") == want.size());
    for (const auto& a : want) CHECK(Find(t, "IPAddress", "address", Value(a)));
    CHECK(o.set.skipped.empty());
  }
  // Solaris: ansible_fqdn "unknown", ansible_hostname "": named by its IP address, not refused.
  TestDb t;
  Import(t, "ansible", Data("ansible/ansible-cmdb-setup-sol_host.json"));
  const CiRecord* sol = Find(t, "Computer", "name", Value("10.0.2.15"));
  REQUIRE(sol);
  CHECK(sol->attrs.Get("mac_address") == Value("08:00:27:13:f7:38"));
  CHECK(sol->attrs.Get("memory_gb") == Value(1.5));  // ansible_memtotal_mb is the string "1536"
}

TEST_CASE("Windows facts give the host its IPs (IPv6 too) and the MAC of its routed interface") {
  TestDb t;
  Import(t, "ansible", Data("ansible/ansible-cmdb-setup-win.dev.local.json"));
  const CiRecord* win = Find(t, "Computer", "name", Value("win.dev.local"));
  REQUIRE(win);
  CHECK(win->attrs.Get("ip_address") == Value("10.0.0.3"));
  CHECK(win->attrs.Get("mac_address") == Value("ff:b1:1c:ff:7d:23"));  // the one with a gateway
  // Newer Windows facts list every address in ansible_ip_addresses.
  std::string facts =
      R"({"ansible_facts": {"ansible_hostname": "WIN-2019", "ansible_fqdn": "win-2019.corp.example",
    "ansible_os_family": "Windows", "ansible_ip_addresses": ["192.168.56.10", "fe80::5d2c:9e4b:1a2b:3c4d", "2001:db8:56::10"],
    "ansible_interfaces": [{"interface_name": "Intel(R) PRO/1000 MT", "macaddress": "08:00:27:AA:BB:CC",
      "default_gateway": "192.168.56.1", "interface_index": 6}]}})";
  Imported o = DryApplyAgain(t, "ansible", facts);
  const CiRecord* host = Find(t, "Computer", "name", Value("win-2019.corp.example"));
  REQUIRE(host);
  CHECK(host->attrs.Get("ip_address") == Value("192.168.56.10"));
  CHECK(host->attrs.Get("mac_address") == Value("08:00:27:aa:bb:cc"));  // one form
  CHECK(Find(t, "IPAddress", "address", Value("192.168.56.10")));
  CHECK(Find(t, "IPAddress", "address", Value("2001:db8:56::10")));
  CHECK_FALSE(Find(t, "IPAddress", "address", Value("fe80::5d2c:9e4b:1a2b:3c4d")));  // link-local
  CHECK(o.report.rels_created == 2);
}

TEST_CASE("a partial Ansible inventory of 30 hosts imports the good ones and lists the rest") {
  // Six real hosts, 20 generated ones, and four entries that cannot be imported, keyed by
  // inventory name (the shape of a fact cache read whole).
  Json inventory = Json::object();
  std::vector<std::string> real = {"ansible/ansible-cmdb-setup-win.dev.local.json",
                                   "ansible/ansible-cmdb-setup-openbsd.dev.local.json",
                                   "ansible/ansible-cmdb-setup-sol_host.json",
                                   "ansible/ansible-cmdb-setup-openvz.debian.local.json",
                                   "ansible/ansible-cmdb-setup-jib.electricmonk.nl.json",
                                   "ansible-cmdb-setup-centos.dev.local.json"};
  for (size_t i = 0; i < real.size(); ++i)
    inventory["real" + std::to_string(i)] = Json::parse(Data(real[i]));
  for (int i = 0; i < 20; ++i) {
    std::string n = std::to_string(i);
    inventory["web" + n] = Json{{"ansible_hostname", "web" + n},
                                {"ansible_fqdn", "web" + n + ".prod.example"},
                                {"ansible_product_serial", "SRV-" + n},
                                {"ansible_default_ipv4", {{"address", "10.20.0." + n}}}};
  }
  // A fact-cache entry of a host facts were never gathered for.
  inventory["db7"] = Json{{"discovered_interpreter_python", "/usr/bin/python3"}};
  inventory["dead"] = Json::parse(Data("ansible-cmdb-setup-dead.dev.local.json"));
  // "localhost" in every name, but a real IP, MAC and serial: named by its IP.
  inventory["localhost"] = Json{
      {"ansible_hostname", "localhost"},
      {"ansible_fqdn", "localhost.localdomain"},
      {"ansible_product_serial", "CZJ4711ABC"},
      {"ansible_default_ipv4", {{"address", "192.0.2.44"}, {"macaddress", "52:54:00:12:34:56"}}}};
  // Nothing to identify it by at all (its inventory name is a placeholder too).
  inventory["localhost.localdomain"] =
      Json{{"ansible_hostname", "localhost"}, {"ansible_fqdn", "localhost"}};
  inventory["bad"] = 42;
  REQUIRE(inventory.size() == 31);
  TestDb t;
  Imported o = DryApplyAgain(t, "ansible", inventory.dump());
  CHECK(Count(t, "Computer") + Count(t, "PhysicalServer") == 6 + 20 + 1);
  const CiRecord* local = Find(t, "Computer", "serial_number", Value("CZJ4711ABC"));
  REQUIRE(local);
  CHECK(local->attrs.Get("name") == Value("192.0.2.44"));
  CHECK(local->attrs.Get("mac_address") == Value("52:54:00:12:34:56"));
  CHECK_FALSE(local->attrs.Has("hostname"));
  std::map<std::string, std::string> skipped;
  for (const auto& s : o.set.skipped) skipped[s.location] = s.message;
  CHECK(skipped == std::map<std::string, std::string>{
                       {"$.bad (bad)",
                        "not Ansible facts (expected {\"ansible_facts\": {...}} or a bare facts "
                        "object), got number"},
                       {"$.db7 (db7)", "no host facts (only discovered_interpreter_python)"},
                       {"$.dead (dead)", "the host was unreachable (no facts)"},
                       {"$.localhost.localdomain",
                        "no usable identifier: no host name (ansible_fqdn \"localhost\", "
                        "ansible_hostname \"localhost\"), inventory name, IP address, serial "
                        "number or MAC address"}});
  // A file in which nothing is Ansible's is refused, not imported as empty.
  CandidateSet none;
  Status st = ParseSource("ansible", R"({"a": 1, "b": [2]})", {}, none);
  CHECK(st.message() ==
        "no Ansible facts at $.a (a) (expected {\"ansible_facts\": {...}} or a bare facts object)");
  // One cache file holding only the interpreter imports nothing and says why.
  CandidateSet interp = Parse("ansible", R"({"discovered_interpreter_python": "/usr/bin/python"})");
  CHECK(interp.cis.empty());
  REQUIRE(interp.skipped.size() == 1);
  CHECK(interp.skipped[0].message == "no host facts (only discovered_interpreter_python)");
}

// --- Terraform ----------------------------------------------------------------------------------

namespace {

struct TfCounts {
  size_t instances = 0, dangling = 0;
};

// Managed resource instances, and dependencies naming an address no managed resource has.
TfCounts CountTerraform(const std::string& text) {
  Json state = Json::parse(text);
  TfCounts n;
  std::set<std::string> managed;
  for (const Json& r : state["resources"]) {
    if (r.value("mode", "") != "managed") continue;
    std::string module = r.value("module", "");
    managed.insert((module.empty() ? "" : module + ".") + r["type"].get<std::string>() + "." +
                   r["name"].get<std::string>());
  }
  for (const Json& r : state["resources"]) {
    if (r.value("mode", "") != "managed") continue;
    for (const Json& i : r.value("instances", Json::array())) {
      ++n.instances;
      for (const char* key : {"dependencies", "depends_on"})
        for (const Json& d : i.value(key, Json::array())) n.dangling += !managed.count(d);
    }
  }
  return n;
}

}  // namespace

TEST_CASE("real Terraform states: one CI per managed instance; absent dependencies listed") {
  for (const char* file : {"terraform/driftctl-aws-lb-listener-vpc.tfstate",
                           "terraform/rnacentral-openstack-prod-19res.tfstate",
                           "terraform/infrahouse-oci-instance-small.tfstate",
                           "terraform/infrahouse-azure-vm-rg-small.tfstate",
                           "terraform/inframap-azure-vm-vnet-peering-trimmed.tfstate",
                           "terraform/inframap-openstack-lb-trimmed.tfstate.json",
                           "rnacentral-gcp-compute-16res.tfstate"}) {
    INFO(file);
    std::string text = Data(file);
    TfCounts want = CountTerraform(text);
    TestDb t;
    Imported o = DryApplyAgain(t, "terraform", text);
    CHECK(o.report.created == static_cast<int64_t>(want.instances));
    CHECK(o.report.merged == 0);
    CHECK(o.report.dangling.size() == want.dangling);
    for (const auto& d : o.report.dangling) CHECK(d.message.rfind("dependency on ", 0) == 0);
  }
}

TEST_CASE("Terraform: legacy attributes_flat is read; an RDS instance is its identifier") {
  std::string state = R"({"version": 4, "terraform_version": "0.12.31", "resources": [
    {"mode": "managed", "type": "aws_instance", "name": "web", "provider": "provider.aws",
     "instances": [{"schema_version": 1, "attributes_flat": {"id": "i-0abc", "instance_type": "t3.micro",
       "private_ip": "10.1.0.5", "subnet_id": "subnet-9", "tags.%": "1", "tags.Name": "web-1",
       "network_interface.#": "1", "network_interface.0.network_interface_id": "eni-1"}}]},
    {"mode": "managed", "type": "aws_subnet", "name": "a", "provider": "provider.aws",
     "instances": [{"attributes_flat": {"id": "subnet-9", "cidr_block": "10.1.0.0/24", "tags.%": "1",
       "tags.Name": "private-a"}}]},
    {"mode": "managed", "type": "aws_db_instance", "name": "main", "provider": "provider.aws",
     "instances": [{"attributes": {"id": "orders-prod", "identifier": "orders-prod", "name": "orders",
       "engine": "postgres", "endpoint": "orders-prod.abc.eu-west-1.rds.amazonaws.com:5432"}}]}]})";
  TestDb t;
  Imported o = DryApplyAgain(t, "terraform", state);
  CHECK(o.report.created == 3);
  const CiRecord* vm = Find(t, "VirtualMachine", "cloud_id", Value("i-0abc"));
  REQUIRE(vm);
  CHECK(vm->attrs.Get("name") == Value("web-1"));
  CHECK(vm->attrs.Get("instance_type") == Value("t3.micro"));
  CHECK(vm->attrs.Get("ip_address") == Value("10.1.0.5"));
  const CiRecord* subnet = Find(t, "Subnet", "cloud_id", Value("subnet-9"));
  REQUIRE(subnet);
  CHECK(subnet->attrs.Get("name") == Value("private-a"));
  CHECK(subnet->attrs.Get("cidr") == Value("10.1.0.0/24"));
  CHECK(CountRels(t, "DEPENDS_ON") == 1);  // subnet_id, read from the flat map
  const CiRecord* db = Find(t, "DatabaseInstance", "cloud_id", Value("orders-prod"));
  REQUIRE(db);
  CHECK(db->attrs.Get("name") == Value("orders-prod"));  // not the database's name, "orders"
}

// --- Kubernetes ---------------------------------------------------------------------------------

namespace {

// Objects of a kubectl list by kind (items without "kind" take the list's).
std::map<std::string, size_t> KindsOf(const std::string& text) {
  Json doc = Json::parse(text);
  std::map<std::string, size_t> out;
  if (!doc.contains("items")) {
    ++out[doc["kind"].get<std::string>()];
    return out;
  }
  std::string list = doc.value("kind", "");
  for (const Json& i : doc["items"]) ++out[i.value("kind", list.substr(0, list.size() - 4))];
  return out;
}

}  // namespace

TEST_CASE("real Kubernetes lists: every object of an imported kind is a CI") {
  const std::map<std::string, std::string> kClass = {{"Pod", "K8sPod"},
                                                     {"Deployment", "K8sWorkload"},
                                                     {"ReplicaSet", "K8sWorkload"},
                                                     {"DaemonSet", "K8sWorkload"},
                                                     {"Service", "K8sService"},
                                                     {"Node", "K8sNode"}};
  for (const char* file :
       {"kubernetes/k3s-pods-kube-system.json", "kubernetes/k3s-deployments-kube-system.json",
        "kubernetes/k3s-daemonsets-kube-system.json", "kubernetes/k3s-services-kube-system.json",
        "kubernetes/troubleshoot-testdata-nodes-7-mixed-redacted.json",
        "kubernetes/troubleshoot-testdata-replicasets-kotsadm.json",
        "kubernetes/troubleshoot-testdata-deployments-kotsadm.json",
        "kubernetes/k9s-testdata-node-single.json"}) {
    INFO(file);
    std::string text = Data(file);
    TestDb t;
    DryApplyAgain(t, "kubernetes", text);
    std::map<std::string, size_t> want_by_class;
    for (const auto& [kind, n] : KindsOf(text)) want_by_class[kClass.at(kind)] += n;
    for (const auto& [cls, n] : want_by_class) {
      INFO(cls);
      CHECK(Count(t, cls) == n);
    }
  }
}

TEST_CASE(
    "pods whose node and owners are outside the file: listed as dangling, then linked once "
    "they are in the CMDB") {
  std::string pods = Data("kubernetes/k3s-pods-kube-system.json");
  // What the file refers to, counted from the raw document.
  Json doc = Json::parse(pods);
  size_t with_node = 0;
  std::map<std::string, size_t> owners;
  for (const Json& p : doc["items"]) {
    with_node += p["spec"].contains("nodeName");
    for (const Json& o : p["metadata"]["ownerReferences"]) ++owners[o["kind"].get<std::string>()];
  }
  REQUIRE(with_node == 7);
  TestDb t;
  Imported first = DryApplyAgain(t, "kubernetes", pods);
  CHECK(CountRels(t, "RUNS_ON") == 0);
  CHECK(CountRels(t, "MEMBER_OF") == 0);
  size_t owned = owners["ReplicaSet"] + owners["Job"] + owners["DaemonSet"];
  CHECK(first.report.dangling.size() == with_node + owned);
  size_t runs_on = 0;
  for (const auto& d : first.report.dangling) {
    runs_on += d.message ==
               "relationship RUNS_ON not created: K8sNode name=c9b7eea91 is neither in the source "
               "nor in the CMDB";
  }
  CHECK(runs_on == with_node);
  // The node and the DaemonSet arrive (other files); the same pods now link to them.
  Import(t, "kubernetes", Data("k3s/nodes.json"));
  Import(t, "kubernetes", Data("kubernetes/k3s-daemonsets-kube-system.json"));
  Imported second = Import(t, "kubernetes", pods);
  CHECK(CountRels(t, "RUNS_ON") == with_node);
  CHECK(CountRels(t, "MEMBER_OF") == owners["DaemonSet"]);
  CHECK(second.report.dangling.size() == owners["ReplicaSet"] + owners["Job"]);
  // With their Deployments in the same input, the ReplicaSets' pods link to them by name.
  TestDb together;
  std::string both = "[" + pods + "," + Data("kubernetes/k3s-deployments-kube-system.json") + "]";
  Imported joined = DryApplyAgain(together, "kubernetes", both);
  CHECK(CountRels(together, "MEMBER_OF") == owners["ReplicaSet"]);
  CHECK(joined.report.dangling.size() == with_node + owners["Job"] + owners["DaemonSet"]);
  // An owner of a kind that is not a CI is listed as skipped.
  Imported kots = Import(together, "kubernetes",
                         Data("kubernetes/troubleshoot-testdata-deployments-kotsadm.json"));
  std::vector<std::string> skipped;
  for (const auto& s : kots.set.skipped) skipped.push_back(s.location + ": " + s.message);
  CHECK(skipped ==
        std::vector<std::string>{"$.items[2] (Deployment kotsadm-postgres-watch): owner Database "
                                 "kotsadm-postgres is not linked: kind Database is not imported"});
}

TEST_CASE("IPv6 in Kubernetes: a dual-stack node and an IPv6-only pod") {
  std::string objects = R"([{"kind": "Node", "metadata": {"name": "n6", "uid": "u-n6"},
      "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.6"},
                               {"type": "InternalIP", "address": "fd00::6"}]}},
    {"kind": "Pod", "metadata": {"name": "p6", "namespace": "v6", "uid": "u-p6"},
      "spec": {"nodeName": "n6"}, "status": {"phase": "Running", "podIPs": [{"ip": "fd00:10::7"}]}}])";
  TestDb t;
  Imported o = DryApplyAgain(t, "kubernetes", objects);
  CHECK(o.report.dangling.empty());
  const CiRecord* node = Find(t, "K8sNode", "name", Value("n6"));
  REQUIRE(node);
  CHECK(node->attrs.Get("ip_address") == Value("10.0.0.6"));  // the first, not the last
  const CiRecord* pod = Find(t, "K8sPod", "name", Value("p6"));
  REQUIRE(pod);
  CHECK(pod->attrs.Get("pod_ip") == Value("fd00:10::7"));
  CHECK(CountRels(t, "RUNS_ON") == 1);
}

// --- AWS ----------------------------------------------------------------------------------------

TEST_CASE("AWS instances and RDS whose subnets are not in the CMDB: imported, subnets dangling") {
  std::string instances = Data("aws/ec2-describe-instances.json");
  Json doc = Json::parse(instances);
  std::set<std::string> subnets;
  size_t n = 0;
  for (const Json& r : doc["Reservations"])
    for (const Json& i : r["Instances"]) ++n, subnets.insert(i["SubnetId"].get<std::string>());
  TestDb t;
  Imported o = DryApplyAgain(t, "aws", instances);
  CHECK(Count(t, "VirtualMachine") == n);
  CHECK(Count(t, "Subnet") == 0);  // no placeholder
  CHECK(o.report.dangling.size() == n);
  for (const auto& d : o.report.dangling) {
    CHECK(d.location.rfind("$.Reservations[0].Instances[", 0) == 0);
    CHECK(d.message.rfind("relationship CONTAINS not created: Subnet cloud_id=subnet-", 0) == 0);
  }
  CHECK(Count(t, "IPAddress") == n);  // each instance's private address
  Imported rds = DryApplyAgain(t, "aws", Data("aws/rds-describe-db-instances.json"));
  CHECK(Count(t, "DatabaseInstance") == 1);
  CHECK(rds.report.dangling.size() == 2);  // its subnet group's two subnets
  // Once the subnets are in the CMDB, the same files link to them.
  Import(t, "aws", Data("aws/ec2-describe-subnets.json"));
  Imported linked = Import(t, "aws", instances);
  CHECK(linked.report.dangling.empty());
  CHECK(linked.report.rels_created == static_cast<int64_t>(n));
  CHECK(Import(t, "aws", Data("aws/rds-describe-db-instances.json")).report.dangling.empty());
  // IPv6 addresses of an instance's interfaces.
  std::string v6 =
      R"({"Reservations": [{"Instances": [{"InstanceId": "i-6", "PrivateIpAddress": "10.9.0.6",
    "NetworkInterfaces": [{"MacAddress": "02:00:00:00:00:06", "PrivateIpAddresses": [{"PrivateIpAddress": "10.9.0.6"}],
    "Ipv6Addresses": [{"Ipv6Address": "2600:1f18::6"}]}]}]}]})";
  Import(t, "aws", v6);
  const CiRecord* addr = Find(t, "IPAddress", "address", Value("2600:1f18::6"));
  REQUIRE(addr);
  CHECK(addr->attrs.Get("mac_address") == Value("02:00:00:00:00:06"));
}

TEST_CASE("an Ingress whose Service is in another file: dangling, then linked once imported") {
  std::string ingress = Data("k9s-testdata-ingress-single.json");
  TestDb t;
  Imported first = DryApplyAgain(t, "kubernetes", ingress);
  REQUIRE(first.report.dangling.size() == 1);
  CHECK(first.report.dangling[0].message ==
        "relationship ROUTES_TO not created: K8sService name=test is neither in the source nor "
        "in the CMDB");
  Import(t, "kubernetes",
         R"({"kind": "Service", "metadata": {"name": "test", "namespace": "default", "uid": "s-1"},
             "spec": {"clusterIP": "10.96.0.20"}})");
  Imported linked = Import(t, "kubernetes", ingress);
  CHECK(linked.report.dangling.empty());
  CHECK(linked.report.rels_created == 1);
  CHECK(CountRels(t, "ROUTES_TO") == 1);
}

TEST_CASE("every real file: the dry run reports what the apply does; a re-import changes nothing") {
  // Each file of tests/data in its format, found by its folder or name, so that a file added
  // there is checked too. Not imported: SOURCE.md, the CSV exports (they need a mapping, and
  // import_test.cpp imports them with theirs) and the format-3 Terraform state (refused).
  namespace fs = std::filesystem;
  size_t checked = 0;
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(cmdb::testing::SourceDir() + "/tests/data"))
    if (e.is_regular_file()) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& path : files) {
    std::string dir = path.parent_path().filename().string(), name = path.filename().string();
    std::string format = dir == "nmap" || path.extension() == ".xml"       ? "nmap"
                         : dir == "ansible" || name.rfind("ansible-", 0) == 0 ? "ansible"
                         : dir == "aws"                                    ? "aws"
                         : dir == "k3s" || dir == "kubernetes" || name.rfind("k9s-", 0) == 0
                             ? "kubernetes"
                         : dir == "terraform" || name.find(".tfstate") != std::string::npos
                             ? "terraform"
                             : "";
    if (format.empty()) {
      CHECK((name == "SOURCE.md" || path.extension() == ".csv" ||
             name == "inframap-legacy-v3-state.json"));
      continue;
    }
    INFO(path.string());
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    TestDb t;
    DryApplyAgain(t, format, text.str());
    ++checked;
  }
  CHECK(checked == 45);
}
