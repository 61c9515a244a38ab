// Scopes and coverage on real files (docs/importers.md, "Scopes per format" and "Full scans"):
// private cloud addresses stay inside their VPC or account, a full describe-instances covers its
// instances' addresses, a namespaced Kubernetes list covers its namespaces only, which of two
// same-named CIs keeps the plain name does not depend on the order of the source, nmap's
// loopback hosts are skipped; full scans limited to the accounts, regions, clusters, states,
// scanned targets and ports of their file, relationships through their reporting end, only live
// CIs going stale; values of the wrong JSON type listed; UNIQUE clashes reported; the identifier
// readers (MACs, placeholders, scopes). Files from tests/data (tests/data/SOURCE.md), altered in
// memory where a case needs records the public files do not hold (said where it is done).
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <string>

#include "importers/formats.hpp"
#include "importers/identifiers.hpp"
#include "importers/import.hpp"
#include "importers/import_util.hpp"
#include "importers/json_util.hpp"
#include "importers/nmap_targets.hpp"
#include "importers/scopes.hpp"
#include "test_util.hpp"

using namespace cmdb;
using namespace cmdb::importers;
using cmdb::testing::Data;
using cmdb::testing::DefaultPrecedence;
using cmdb::testing::TestDb;

namespace {

// Parses and imports `text` (dry first: the dry run's counts must be the apply's); fails the
// test on any error. Returns the apply's report.
ImportReport Apply(TestDb& t, const std::string& format, const std::string& text,
                   const std::string& source, bool full = false, const std::string& cluster = "") {
  ImportReport last;
  for (bool dry : {true, false}) {
    CandidateSet set;
    ParseOptions parse;
    parse.cluster = cluster;
    auto schema = t.db->schema();  // ndjson lines are read against it
    parse.schema = schema.get();
    Status parsed = ParseSource(format, text, parse, set);
    INFO(parsed.ToString());
    REQUIRE(parsed.ok());
    ImportOptions opt;
    opt.source = source;
    opt.dry_run = dry;
    opt.full_scan = full;
    opt.precedence = DefaultPrecedence();
    ImportReport r;
    Status st = RunImport(*t.db, set, opt, r);
    for (const auto& e : r.errors) UNSCOPED_INFO(e.location << ": " << e.message);
    INFO(st.ToString());
    REQUIRE(st.ok());
    if (!dry) {
      CHECK(r.created == last.created);
      CHECK(r.updated == last.updated);
      CHECK(r.stale == last.stale);
      CHECK(r.rels_stale == last.rels_stale);
      CHECK(r.resurrected == last.resurrected);
      CHECK(r.merged == last.merged);
      CHECK(r.skipped.size() == last.skipped.size());
    }
    last = std::move(r);
  }
  return last;
}

Json DataJson(const std::string& name) {
  auto j = ParseJson(Data(name), name);
  REQUIRE(j.ok());
  return *j;
}

std::vector<const CiRecord*> All(TestDb& t, const std::string& cls) {
  ReadView v = t.db->Read();
  std::vector<const CiRecord*> out;
  for (const auto& c : v.schema().ClassAndDescendants(cls)) {
    for (CiId id : v.graph().Extent(c)) out.push_back(v.graph().FindCi(id));
  }
  return out;
}

std::string Text(const Value& v) { return v.is_null() ? "-" : std::string(v.as_string()); }

// One EC2 instance as describe-instances lists it: an id, a Name tag, a private address (the
// instance's and its interface's), a VPC unless `vpc` is empty.
Json Instance(const std::string& id, const std::string& name, const std::string& ip,
              const std::string& vpc) {
  Json ni = {{"MacAddress", "0e:00:00:00:00:" + id.substr(id.size() - 2)},
             {"PrivateIpAddress", ip},
             {"PrivateIpAddresses", {{{"PrivateIpAddress", ip}, {"Primary", true}}}}};
  Json in = {{"InstanceId", id},
             {"InstanceType", "t3.micro"},
             {"PrivateIpAddress", ip},
             {"Placement", {{"AvailabilityZone", "us-east-1a"}}},
             {"State", {{"Code", 16}, {"Name", "running"}}},
             {"Tags", {{{"Key", "Name"}, {"Value", name}}}},
             {"NetworkInterfaces", {ni}}};
  if (!vpc.empty()) in["VpcId"] = vpc, in["NetworkInterfaces"][0]["VpcId"] = vpc;
  return in;
}

Json Reservations(const std::string& owner, const std::vector<Json>& instances) {
  return {{"Reservations", {{{"OwnerId", owner}, {"Instances", instances}}}}};
}

// address -> the scope values (vpc_id/account_id) of each IPAddress CI with it.
std::multimap<std::string, std::string> Addresses(TestDb& t) {
  std::multimap<std::string, std::string> out;
  for (const CiRecord* ip : All(t, "IPAddress"))
    out.emplace(Text(ip->attrs.Get("address")),
                Text(ip->attrs.Get("vpc_id")) + "/" + Text(ip->attrs.Get("account_id")));
  return out;
}

}  // namespace

TEST_CASE("scopes: one private address in two VPCs or two accounts is two IPAddress CIs") {
  TestDb t;
  // Two VPCs of one account reuse 10.0.1.5; an instance of another account without a VPC too
  // (EC2-Classic outputs have none: its account and region scope it). 2600:1f18::5 is public.
  Apply(t, "aws",
        Reservations("111111111111", {Instance("i-0a01", "web", "10.0.1.5", "vpc-a"),
                                      Instance("i-0b02", "web", "10.0.1.5", "vpc-b")})
            .dump(),
        "aws");
  Json other = Reservations("222222222222", {Instance("i-0c03", "db", "10.0.1.5", "")});
  other["Reservations"][0]["Instances"][0]["Ipv6Address"] = "2600:1f18::5";
  Apply(t, "aws", other.dump(), "aws");
  Json again = Reservations("111111111111", {Instance("i-0d04", "api", "100.64.0.9", "vpc-a")});
  again["Reservations"][0]["Instances"][0]["Ipv6Address"] = "2600:1f18::5";
  Apply(t, "aws", again.dump(), "aws");
  CHECK(Addresses(t) == std::multimap<std::string, std::string>{
                            {"10.0.1.5", "vpc-a/111111111111"},
                            {"10.0.1.5", "vpc-b/111111111111"},
                            {"10.0.1.5", "-/222222222222"},
                            {"100.64.0.9", "vpc-a/111111111111"},
                            {"2600:1f18::5", "-/-"}});  // public: one CI, both instances'
  // Each instance has its own private address; re-imports find them again.
  ImportReport re = Apply(t, "aws",
                          Reservations("111111111111",
                                       {Instance("i-0b02", "web", "10.0.1.5", "vpc-b"),
                                        Instance("i-0a01", "web", "10.0.1.5", "vpc-a")})
                              .dump(),
                          "aws");
  CHECK(re.created + re.updated + re.merged == 0);
  CHECK(re.identity_conflicts.empty());
}

TEST_CASE("full scan: an instance gone from describe-instances takes its addresses stale") {
  TestDb t;
  Json doc = DataJson("aws/ec2-describe-instances.json");
  Apply(t, "aws", doc.dump(), "aws", true);
  std::map<std::string, std::string> before;
  for (const CiRecord* ip : All(t, "IPAddress"))
    before[Text(ip->attrs.Get("address"))] = Text(ip->attrs.Get("status"));
  REQUIRE(before.size() == 3);
  const Json& gone = doc["Reservations"][0]["Instances"][2];
  std::string gone_ip = gone["PrivateIpAddress"].get<std::string>();
  doc["Reservations"][0]["Instances"].erase(2);
  ImportReport r = Apply(t, "aws", doc.dump(), "aws", true);
  CHECK(r.stale == 2);  // the instance and its address
  std::map<std::string, std::string> after;
  for (const CiRecord* ip : All(t, "IPAddress"))
    after[Text(ip->attrs.Get("address"))] = Text(ip->attrs.Get("status"));
  for (const auto& [address, status] : after)
    CHECK(status == (address == gone_ip ? "stale" : "live"));
  // A describe-subnets file says nothing of addresses: a full scan of it leaves them.
  Apply(t, "aws", Data("aws/ec2-describe-subnets.json"), "aws", true);
  for (const CiRecord* ip : All(t, "IPAddress"))
    CHECK(Text(ip->attrs.Get("status")) ==
          (Text(ip->attrs.Get("address")) == gone_ip ? "stale" : "live"));
}

TEST_CASE("full scan: a namespaced pod list marks stale only pods of its namespaces") {
  TestDb t;
  Apply(t, "kubernetes", Data("kubernetes/k3s-pods-kube-system.json"), "k8s", true);
  Json pods = DataJson("k3s/pods-default.json");
  Apply(t, "kubernetes", pods.dump(), "k8s", true);
  size_t system = 0;
  for (const CiRecord* p : All(t, "K8sPod")) system += p->attrs.Get("namespace") == Value("kube-system");
  REQUIRE(system > 0);
  // `kubectl get pods -n default` again, one pod fewer: only that pod goes stale.
  std::string gone = pods["items"][0]["metadata"]["name"].get<std::string>();
  pods["items"].erase(0);
  ImportReport r = Apply(t, "kubernetes", pods.dump(), "k8s", true);
  CHECK(r.stale == 1);
  for (const CiRecord* p : All(t, "K8sPod")) {
    INFO(Text(p->attrs.Get("name")));
    CHECK(Text(p->attrs.Get("status")) == (Text(p->attrs.Get("name")) == gone ? "stale" : "live"));
  }
  // An empty namespaced list covers no namespace: nothing goes stale.
  ImportReport none =
      Apply(t, "kubernetes", R"({"kind": "PodList", "items": []})", "k8s", true);
  CHECK(none.stale == 0);
  // A Deployment list of namespace default covers only its namespace's Deployments.
  Apply(t, "kubernetes", Data("kubernetes/k3s-deployments-kube-system.json"), "k8s", true);
  Json deps = DataJson("k3s/deployments-default.json");
  Apply(t, "kubernetes", deps.dump(), "k8s", true);
  deps["items"].erase(0);
  CHECK(Apply(t, "kubernetes", deps.dump(), "k8s", true).stale == 1);
}

TEST_CASE("full scan: describe-instances covers only the accounts and regions of its records") {
  TestDb t;
  auto in_region = [](Json in, const std::string& zone) {
    in["Placement"]["AvailabilityZone"] = zone;
    return in;
  };
  auto status = [&](const std::string& name) {
    for (const CiRecord* vm : All(t, "VirtualMachine"))
      if (vm->attrs.Get("name") == Value(name)) return Text(vm->attrs.Get("status"));
    return std::string("absent");
  };
  Apply(t, "aws", Reservations("111111111111", {Instance("i-0a01", "a", "10.0.1.5", "vpc-a")}).dump(),
        "aws", true);
  // Another account's scan, then another region's of the same account, under the same source.
  ImportReport other = Apply(
      t, "aws", Reservations("222222222222", {Instance("i-0c03", "c", "10.0.1.6", "")}).dump(),
      "aws", true);
  CHECK(other.stale == 0);
  CHECK(other.rels_stale == 0);
  ImportReport west = Apply(
      t, "aws",
      Reservations("111111111111", {in_region(Instance("i-0e05", "e", "10.0.2.5", "vpc-w"),
                                              "us-west-2b")})
          .dump(),
      "aws", true);
  CHECK(west.stale == 0);
  CHECK(status("a") == "live");
  // An empty list says nothing of any account: nothing goes stale.
  CHECK(Apply(t, "aws", R"({"Reservations": []})", "aws", true).stale == 0);
  // 111111111111 in us-east-1 again without i-0a01: it and its address go stale, nothing else.
  ImportReport east = Apply(
      t, "aws", Reservations("111111111111", {Instance("i-0f06", "f", "10.0.1.7", "vpc-a")}).dump(),
      "aws", true);
  CHECK(east.stale == 2);
  CHECK(east.rels_stale == 1);  // its HAS_ADDRESS
  CHECK(status("a") == "stale");
  for (const char* live : {"c", "e", "f"}) CHECK(status(live) == "live");
}

TEST_CASE("full scan: only a live CI goes stale, and not while another source reports it") {
  TestDb t;
  auto status = [&](const std::string& name) {
    for (const CiRecord* vm : All(t, "VirtualMachine"))
      if (vm->attrs.Get("name") == Value(name)) return Text(vm->attrs.Get("status"));
    return std::string("absent");
  };
  Json gone = Instance("i-0a01", "gone", "10.0.1.5", "vpc-a");
  gone["State"]["Name"] = "Terminated";  // any case
  Json running = Instance("i-0b02", "running", "10.0.1.6", "vpc-a");
  Apply(t, "aws", Reservations("111111111111", {gone, running}).dump(), "aws", true);
  REQUIRE(status("gone") == "retired");
  // The terminated instance leaves the list: it stays retired (not laundered into stale, and
  // not later into live).
  ImportReport r = Apply(t, "aws", Reservations("111111111111", {running}).dump(), "aws", true);
  CHECK(r.stale == 1);  // its address
  CHECK(status("gone") == "retired");
  // A CI two sources report: one full scan without it leaves it live.
  auto vm = [](const std::string& name) {
    return R"({"op": "ci", "class": "VirtualMachine", "attributes": {"name": ")" + name +
           R"(", "fqdn": ")" + name + R"(.x.org"}})" + "\n";
  };
  Apply(t, "ndjson", vm("shared") + vm("mine"), "scan", true);
  Apply(t, "ndjson", vm("shared"), "cmdb-csv");
  ImportReport scan = Apply(t, "ndjson", vm("other"), "scan", true);
  CHECK(scan.stale == 1);  // 'mine'
  CHECK(status("shared") == "live");
  CHECK(status("mine") == "stale");
  // Another source that reports a stale CI brings it back.
  ImportReport back = Apply(t, "ndjson", vm("mine"), "cmdb-csv");
  CHECK(back.resurrected == 1);
  CHECK(back.updated == 0);
  CHECK(status("mine") == "live");
}

// A Kubernetes list as `kubectl get <kind> -n <ns> -o json` prints it.
std::string K8sList(const std::string& kind, const std::vector<Json>& items) {
  return Json{{"kind", kind + "List"}, {"apiVersion", "v1"}, {"items", items}}.dump();
}

Json K8sObject(const std::string& kind, const std::string& ns, const std::string& name,
               const std::string& uid, const std::string& owner_kind = "",
               const std::string& owner_uid = "") {
  Json o = {{"kind", kind}, {"metadata", {{"name", name}, {"namespace", ns}, {"uid", uid}}}};
  if (!owner_kind.empty())
    o["metadata"]["ownerReferences"] = {{{"kind", owner_kind}, {"name", "-"}, {"uid", owner_uid}}};
  return o;
}

TEST_CASE("full scan: a list's relationships only, in its cluster, its kinds, its namespaces") {
  TestDb t;
  Json deployment = K8sObject("Deployment", "shop", "web", "d-1");
  Json replica_set = K8sObject("ReplicaSet", "shop", "web-1", "r-1", "Deployment", "d-1");
  Json pod = K8sObject("Pod", "shop", "web-1-x", "p-1", "ReplicaSet", "r-1");
  Json db = K8sObject("Pod", "data", "db-0", "p-2");
  Apply(t, "kubernetes", K8sList("Deployment", {deployment}), "k8s", true, "a");
  Apply(t, "kubernetes", K8sList("ReplicaSet", {replica_set}), "k8s", true, "a");
  Apply(t, "kubernetes", K8sList("Pod", {pod}), "k8s", true, "a");
  Apply(t, "kubernetes", K8sList("Pod", {db}), "k8s", true, "a");
  // A ReplicaSet list again: the namespace's CONTAINS of the Deployment and the pod's MEMBER_OF
  // its ReplicaSet were never in it; the ReplicaSet's MEMBER_OF its Deployment is seen.
  ImportReport rs = Apply(t, "kubernetes", K8sList("ReplicaSet", {replica_set}), "k8s", true, "a");
  CHECK(rs.stale == 0);
  CHECK(rs.rels_stale == 0);
  // A Deployment list: the ReplicaSet's MEMBER_OF its Deployment is the ReplicaSet's to report.
  ImportReport dep = Apply(t, "kubernetes", K8sList("Deployment", {deployment}), "k8s", true, "a");
  CHECK(dep.stale == 0);
  CHECK(dep.rels_stale == 0);
  // The pods of namespace data: nothing of namespace shop's pods, CIs or relationships.
  ImportReport data = Apply(t, "kubernetes", K8sList("Pod", {db}), "k8s", true, "a");
  CHECK(data.stale == 0);
  CHECK(data.rels_stale == 0);
  // The same namespace in cluster b, under the same source: cluster a's pods stay live.
  ImportReport b = Apply(t, "kubernetes", K8sList("Pod", {K8sObject("Pod", "data", "db-0", "q-2")}),
                         "k8s", true, "b");
  CHECK(b.created == 2);  // cluster b's namespace and pod
  CHECK(b.stale == 0);
  CHECK(b.rels_stale == 0);
  for (const CiRecord* p : All(t, "K8sPod")) CHECK(Text(p->attrs.Get("status")) == "live");
  // The pod gone from shop's pod list: it, its CONTAINS and its MEMBER_OF go stale.
  ImportReport gone = Apply(t, "kubernetes", K8sList("Pod", {}), "k8s", true, "a");
  CHECK(gone.stale == 0);  // an empty namespaced list covers no namespace (documented)
  Json other = K8sObject("Pod", "shop", "web-1-y", "p-3", "ReplicaSet", "r-1");
  ImportReport moved = Apply(t, "kubernetes", K8sList("Pod", {other}), "k8s", true, "a");
  CHECK(moved.created == 1);
  CHECK(moved.stale == 1);
  CHECK(moved.rels_stale == 2);
  // Back again: the pod is resurrected, counted once (not also as updated).
  ImportReport back = Apply(t, "kubernetes", K8sList("Pod", {pod, other}), "k8s", true, "a");
  CHECK(back.resurrected == 1);
  CHECK(back.updated == 0);
}

TEST_CASE("naming: which same-named CI keeps the plain name does not depend on file order") {
  // Three instances called web (other ids); the same inventory in two orders, into two CMDBs.
  std::vector<Json> web = {Instance("i-0c03", "web", "10.0.1.7", "vpc-a"),
                           Instance("i-0a01", "web", "10.0.1.5", "vpc-a"),
                           Instance("i-0b02", "web", "10.0.1.6", "vpc-a")};
  auto names = [&](const std::vector<Json>& order) {
    TestDb t;
    Apply(t, "aws", Reservations("111111111111", order).dump(), "aws");
    std::map<std::string, std::string> out;  // cloud id -> name
    for (const CiRecord* vm : All(t, "VirtualMachine"))
      out[Text(vm->attrs.Get("cloud_id"))] = Text(vm->attrs.Get("name"));
    return out;
  };
  std::map<std::string, std::string> want = {
      {"i-0a01", "web"}, {"i-0b02", "web (i-0b02)"}, {"i-0c03", "web (i-0c03)"}};
  CHECK(names(web) == want);
  CHECK(names({web[2], web[1], web[0]}) == want);
  CHECK(names({web[1], web[0], web[2]}) == want);
  // An existing CI keeps its name: i-0c03 imported first keeps "web" when the others come.
  TestDb t;
  Apply(t, "aws", Reservations("111111111111", {web[0]}).dump(), "aws");
  Apply(t, "aws", Reservations("111111111111", {web[1], web[2]}).dump(), "aws");
  std::map<std::string, std::string> got;
  for (const CiRecord* vm : All(t, "VirtualMachine"))
    got[Text(vm->attrs.Get("cloud_id"))] = Text(vm->attrs.Get("name"));
  CHECK(got == std::map<std::string, std::string>{
                   {"i-0a01", "web (i-0a01)"}, {"i-0b02", "web (i-0b02)"}, {"i-0c03", "web"}});
  // And a re-import of all three, in any order, renames nothing.
  ImportReport again =
      Apply(t, "aws", Reservations("111111111111", {web[1], web[2], web[0]}).dump(), "aws");
  CHECK(again.updated == 0);
  CHECK(again.created == 0);
}

TEST_CASE("nmap: a host that is only a loopback address is skipped, with why") {
  std::string scan = R"(<?xml version="1.0"?>
<nmaprun scanner="nmap" args="nmap 127.0.0.1 ::1 192.0.2.10" start="1" version="7.94">
<host><status state="up"/><address addr="127.0.0.1" addrtype="ipv4"/>
<hostnames><hostname name="localhost" type="user"/></hostnames>
<ports><port protocol="tcp" portid="22"><state state="open"/></port></ports></host>
<host><status state="up"/><address addr="::1" addrtype="ipv6"/></host>
<host><status state="up"/><address addr="192.0.2.10" addrtype="ipv4"/>
<ports><port protocol="tcp" portid="22"><state state="open"/></port></ports></host>
</nmaprun>)";
  TestDb t;
  ImportReport r = Apply(t, "nmap", scan, "nmap");
  CHECK(r.created == 3);  // 192.0.2.10: the host, its address and its port
  REQUIRE(All(t, "IPAddress").size() == 1);
  CHECK(All(t, "IPAddress")[0]->attrs.Get("address") == Value("192.0.2.10"));
  CandidateSet set;
  REQUIRE(ParseSource("nmap", scan, {}, set).ok());
  REQUIRE(set.skipped.size() == 2);
  CHECK(set.skipped[0].location == "<host> #1 (line 3)");
  CHECK(set.skipped[0].message ==
        "the host is the scanning machine's loopback address 127.0.0.1 (not a host of the "
        "network)");
  CHECK(set.skipped[1].message ==
        "the host is the scanning machine's loopback address ::1 (not a host of the network)");
  // A loopback address beside a MAC: the host is imported by its MAC, without the address.
  std::string with_mac = R"(<?xml version="1.0"?><nmaprun scanner="nmap" version="7.94">
<host><status state="up"/><address addr="127.0.0.1" addrtype="ipv4"/>
<address addr="00:09:5B:3F:7D:5E" addrtype="mac"/></host></nmaprun>)";
  TestDb m;
  CHECK(Apply(m, "nmap", with_mac, "nmap").created == 1);
  REQUIRE(All(m, "DiscoveredHost").size() == 1);
  CHECK(All(m, "DiscoveredHost")[0]->attrs.Get("name") == Value("00:09:5b:3f:7d:5e"));
  CHECK(All(m, "IPAddress").empty());
}

TEST_CASE("Terraform: one private IP in two accounts' states is two instances, no conflict") {
  auto state = [](const std::string& account, const std::string& id) {
    Json attrs = {{"id", id},
                  {"arn", "arn:aws:ec2:eu-west-1:" + account + ":instance/" + id},
                  {"private_ip", "10.0.0.5"},
                  {"instance_type", "t3.micro"},
                  {"availability_zone", "eu-west-1a"},
                  {"tags", {{"Name", "app"}}}};
    Json res = {{"mode", "managed"},
                {"type", "aws_instance"},
                {"name", "app"},
                {"provider", "provider[\"registry.terraform.io/hashicorp/aws\"]"},
                {"instances", {{{"schema_version", 1}, {"attributes", attrs}}}}};
    return Json{{"version", 4}, {"terraform_version", "1.5.7"}, {"serial", 1},
                {"resources", {res}}}.dump();
  };
  TestDb t;
  Apply(t, "terraform", state("111111111111", "i-0aaa"), "tf-a");
  ImportReport r = Apply(t, "terraform", state("222222222222", "i-0bbb"), "tf-b");
  CHECK(r.created == 1);
  CHECK(r.identity_conflicts.empty());
  CHECK(All(t, "Computer").size() == 2);
}

TEST_CASE("scopes: private and loopback addresses, edges and hostile forms") {
  for (const char* a : {"10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.9", "192.168.0.1",
                        "100.64.0.1", "100.127.255.255", "169.254.1.1", "fd00::1", "FC00:1::2",
                        "fe80::1"}) {
    INFO(a);
    CHECK(IsPrivateAddress(a));
  }
  for (const char* a : {"11.0.0.1", "172.15.0.1", "172.32.0.1", "192.169.0.1", "100.63.0.1",
                        "100.128.0.1", "8.8.8.8", "2600:1f18::5", "::1", "127.0.0.1", "", "10",
                        "fd::1", "1000.0.0.1", "x"}) {
    INFO(a);
    CHECK_FALSE(IsPrivateAddress(a));
  }
  for (const char* a : {"127.0.0.1", "127.255.0.9", "::1", "0:0:0:0:0:0:0:1"}) {
    INFO(a);
    CHECK(IsLoopbackAddress(a));
  }
  for (const char* a : {"128.0.0.1", "::2", "", "12.7.0.0.1", "::"}) {
    INFO(a);
    CHECK_FALSE(IsLoopbackAddress(a));
  }
}

TEST_CASE("a discovery value its attribute's type refuses is skipped, the record imported") {
  TestDb t;
  // A kubelet version read as the number 1.31, a phase as 7 (YAML accidents): the node and the
  // pod are imported without them, each listed; ndjson and CSV refuse such a line instead.
  ImportReport r = Apply(t, "kubernetes", R"({"kind": "List", "items": [
      {"kind": "Node", "metadata": {"name": "n1"}, "status": {"nodeInfo": {"kubeletVersion": 1.31}}},
      {"kind": "Pod", "metadata": {"name": "p", "namespace": "a"}, "status": {"phase": 7}}]})",
                         "k8s");
  CHECK(r.created == 3);  // the node, the namespace, the pod
  std::vector<std::string> skipped;
  for (const auto& s : r.skipped) skipped.push_back(s.location + ": " + s.message);
  CHECK(skipped == std::vector<std::string>{
                       "$.items[0] (Node n1): K8sNode.kubelet_version: expected STRING, got FLOAT 1.31: "
                       "the value is ignored",
                       "$.items[1] (Pod p): K8sPod.phase: expected STRING, got INT 7: the value is ignored"});
}

TEST_CASE("values of the wrong JSON type are listed in skipped, never dropped silently") {
  auto skipped = [](const std::string& format, const std::string& text) {
    CandidateSet set;
    Status st = ParseSource(format, text, {}, set);
    INFO(st.ToString());
    REQUIRE(st.ok());
    std::vector<std::string> out;
    for (const auto& s : set.skipped) out.push_back(s.location + ": " + s.message);
    return out;
  };
  // AWS: the instance is imported without the values; each is named with its record.
  CHECK(skipped("aws", R"({"Reservations": [{"OwnerId": "1", "Instances": [
      {"InstanceId": "i-1", "Tags": "web", "PrivateIpAddress": 10, "Placement": "eu-west-1a"},
      {"InstanceId": "i-2", "Tags": [{"Key": "Name", "Value": 7}], "NetworkInterfaces": {"x": 1}}]}]})") ==
        std::vector<std::string>{
            R"($.Reservations[0].Instances[0]: "Tags" is a string ("web"), not a list: the value is ignored)",
            R"($.Reservations[0].Instances[0]: "PrivateIpAddress" is a number (10), not a string: the value is ignored)",
            R"($.Reservations[0].Instances[0]: "Placement" is a string ("eu-west-1a"), not an object: the value is ignored)",
            R"($.Reservations[0].Instances[1]: "Value" is a number (7), not a string: the value is ignored)",
            R"($.Reservations[0].Instances[1]: "NetworkInterfaces" is an object ({"x":1}), not a list: the value is ignored)"});
  // Kubernetes: a pod whose node name is a number, a service whose spec is a list.
  CHECK(skipped("kubernetes", R"({"kind": "List", "items": [
      {"kind": "Pod", "metadata": {"name": "p", "namespace": "a"}, "spec": {"nodeName": 5}},
      {"kind": "Service", "metadata": {"name": "s", "namespace": "a"}, "spec": [1]}]})") ==
        std::vector<std::string>{
            R"($.items[0] (Pod p): "nodeName" is a number (5), not a string: the value is ignored)",
            R"($.items[1] (Service s): "spec" is a list ([1]), not an object: the value is ignored)"});
  // Ansible: a host name that is a number; the host is named by its IP address instead.
  CHECK(skipped("ansible", R"({"ansible_facts": {"ansible_hostname": 42,
      "ansible_default_ipv4": {"address": "192.0.2.7"}}})") ==
        std::vector<std::string>{
            R"($.ansible_facts: "ansible_hostname" is a number (42), not a string: the value is ignored)"});
  // Terraform: an id that is an object.
  CHECK(skipped("terraform", R"({"version": 4, "resources": [{"mode": "managed", "type": "aws_vpc",
      "name": "main", "instances": [{"attributes": {"id": {"x": 1}, "cidr_block": "10.0.0.0/16"}}]}]})") ==
        std::vector<std::string>{
            R"($.resources[0].instances[0] (aws_vpc.main): "id" is an object ({"x":1}), not a string: the value is ignored)"});
}

TEST_CASE("identity: a UNIQUE value two different CIs report is a conflict, not a refused file") {
  TestDb t;
  // Two hosts, one serial (cloned VMs), different MACs, names and addresses: two CIs, the
  // second without the serial the first holds, and the clash reported with both values.
  auto host = [](const std::string& name, const std::string& mac, const std::string& ip) {
    return Json{{"ansible_facts",
                 {{"ansible_hostname", name},
                  {"ansible_fqdn", name + ".example.org"},
                  {"ansible_product_serial", "CZJ-CLONED-1"},
                  {"ansible_virtualization_role", "host"},
                  {"ansible_default_ipv4", {{"address", ip}, {"macaddress", mac}}}}}};
  };
  Apply(t, "ansible", host("a1", "08:00:27:aa:00:01", "10.9.0.1").dump(), "ansible");
  ImportReport r = Apply(t, "ansible", host("b2", "08:00:27:aa:00:02", "10.9.0.2").dump(), "ansible");
  std::vector<std::string> unique;
  for (const IdentityConflict& c : r.identity_conflicts)
    if (c.reason == "unique") unique.push_back(c.class_name + " " + c.name + " " + c.rule + "=" + c.value);
  CHECK(unique == std::vector<std::string>{"PhysicalServer b2.example.org serial_number=CZJ-CLONED-1"});
  std::map<std::string, std::string> serials;
  for (const CiRecord* h : All(t, "PhysicalServer"))
    serials[Text(h->attrs.Get("name"))] = Text(h->attrs.Get("serial_number"));
  CHECK(serials == std::map<std::string, std::string>{{"a1.example.org", "CZJ-CLONED-1"},
                                                      {"b2.example.org", "-"}});
  // Both in one file, dry: the holder is named by its location (it is no CI yet).
  {
    TestDb both;
    CandidateSet set;
    Json inventory = {{"a", host("a1", "08:00:27:aa:00:01", "10.9.0.1")["ansible_facts"]},
                      {"b", host("b2", "08:00:27:aa:00:02", "10.9.0.2")["ansible_facts"]}};
    REQUIRE(ParseSource("ansible", inventory.dump(), {}, set).ok());
    ImportOptions opt;
    opt.source = "ansible";
    opt.dry_run = true;
    opt.precedence = DefaultPrecedence();
    ImportReport dry;
    REQUIRE(RunImport(*both.db, set, opt, dry).ok());
    std::vector<std::string> holders;
    for (const IdentityConflict& c : dry.identity_conflicts)
      if (c.reason == "unique")
        for (const IdentityMatch& m : c.matches) holders.push_back(std::to_string(m.id) + " " + m.location);
    CHECK(holders == std::vector<std::string>{"0 $.a"});
  }
  // Again: the same report, nothing new.
  ImportReport again = Apply(t, "ansible", host("b2", "08:00:27:aa:00:02", "10.9.0.2").dump(), "ansible");
  CHECK(again.created == 0);
  CHECK(again.updated == 0);
}

TEST_CASE("full scan: a Terraform state covers only the accounts and regions of its resources") {
  TestDb t;
  auto state = [](const std::vector<std::pair<std::string, std::string>>& instances) {
    Json resources = Json::array();
    for (const auto& [name, arn] : instances) {
      std::string id = arn.substr(arn.rfind('/') + 1);
      resources.push_back({{"mode", "managed"}, {"type", "aws_instance"}, {"name", name},
                           {"instances", {{{"attributes", {{"id", id}, {"arn", arn}}}}}}});
    }
    return Json{{"version", 4}, {"resources", resources}}.dump();
  };
  auto status = [&](const std::string& name) {
    for (const CiRecord* vm : All(t, "VirtualMachine"))
      if (vm->attrs.Get("name") == Value("aws_instance." + name))  // named by its address
        return Text(vm->attrs.Get("status"));
    return std::string("absent");
  };
  const std::string a1 = "arn:aws:ec2:us-east-1:111111111111:instance/i-a1",
                    a2 = "arn:aws:ec2:us-east-1:111111111111:instance/i-a2",
                    b1 = "arn:aws:ec2:eu-west-1:222222222222:instance/i-b1";
  Apply(t, "terraform", state({{"a1", a1}, {"a2", a2}}), "terraform", true);
  // Another account's state under the same source: account 111's instances stay live.
  CHECK(Apply(t, "terraform", state({{"b1", b1}}), "terraform", true).stale == 0);
  CHECK(status("a1") == "live");
  // An empty state says nothing of any account.
  CHECK(Apply(t, "terraform", R"({"version": 4, "resources": []})", "terraform", true).stale == 0);
  // Account 111's state without a2: a2 goes stale, nothing else.
  CHECK(Apply(t, "terraform", state({{"a1", a1}}), "terraform", true).stale == 1);
  CHECK(status("a2") == "stale");
  CHECK(status("b1") == "live");
}

TEST_CASE("nmap: IPv6 addresses in one form; a portid that is no port number is skipped") {
  std::string scan = R"(<?xml version="1.0"?><nmaprun scanner="nmap" version="7.94">
<host><status state="up"/><address addr="2001:DB8:0:0:0:0:0:10" addrtype="ipv6"/>
<ports><port protocol="tcp" portid="22"><state state="open"/></port>
<port protocol="tcp" portid="ssh"><state state="open"/></port>
<port protocol="tcp" portid="70000"><state state="open"/></port>
<port protocol="tcp" portid="-1"><state state="open"/></port>
<port protocol="TCP" portid="22"><state state="open"/></port>
<port protocol="" portid="23"><state state="open"/></port></ports></host></nmaprun>)";
  CandidateSet set;
  REQUIRE(ParseSource("nmap", scan, {}, set).ok());
  std::vector<std::string> names, skipped;
  for (const Candidate& c : set.cis) names.push_back(c.class_name + " " + Text(c.attrs.Get("name")));
  for (const auto& s : set.skipped) skipped.push_back(s.location + ": " + s.message);
  // "TCP" is tcp: the same port again (merged by identification, not a second CI).
  CHECK(names == std::vector<std::string>{"IPAddress 2001:db8::10", "NetworkPort 22/tcp",
                                          "NetworkPort 22/tcp", "DiscoveredHost 2001:db8::10"});
  CHECK(skipped == std::vector<std::string>{
                       R"(<host> #1 (line 2) port ssh/tcp: portid "ssh" is not a port number (0 to 65535): the port is not imported)",
                       R"(<host> #1 (line 2) port 70000/tcp: portid "70000" is not a port number (0 to 65535): the port is not imported)",
                       R"(<host> #1 (line 2) port -1/tcp: portid "-1" is not a port number (0 to 65535): the port is not imported)",
                       R"(<host> #1 (line 2) port 23: a port without a protocol is not imported)"});
}

TEST_CASE("Terraform: one address in two states (lineages) is two CloudResources") {
  TestDb t;
  auto state = [](const std::string& lineage, const std::string& length) {
    return Json{{"version", 4},
                {"lineage", lineage},
                {"resources",
                 {{{"mode", "managed"},
                   {"type", "aws_iam_account_password_policy"},
                   {"name", "this"},
                   {"instances",
                    {{{"attributes", {{"id", "iam-account-password-policy"},
                                      {"minimum_password_length", length}}}}}}}}}}
        .dump();
  };
  Apply(t, "terraform", state("11111111-aaaa", "14"), "terraform", true);
  ImportReport two = Apply(t, "terraform", state("22222222-bbbb", "20"), "terraform", true);
  CHECK(two.created == 1);
  CHECK(two.stale == 0);  // the first state's policy is not this state's
  CHECK(two.merged == 0);
  std::multimap<std::string, std::string> policies;
  for (const CiRecord* c : All(t, "CloudResource"))
    policies.emplace(Text(c->attrs.Get("address")), Text(c->attrs.Get("state_lineage")));
  CHECK(policies == std::multimap<std::string, std::string>{
                        {"aws_iam_account_password_policy.this", "11111111-aaaa"},
                        {"aws_iam_account_password_policy.this", "22222222-bbbb"}});
  CHECK(Apply(t, "terraform", state("11111111-aaaa", "14"), "terraform", true).created == 0);
}

TEST_CASE("nmap: the targets and ports a run scanned, read from its report") {
  auto t = NmapTargets::FromArgs("nmap -sV -p 22,443 -oX out.xml 10.0.1.0/24");
  REQUIRE(t);
  CHECK(t->Contains("10.0.1.5"));
  CHECK(t->Contains("10.0.1.255"));
  CHECK_FALSE(t->Contains("10.0.2.5"));
  auto ranges = NmapTargets::FromArgs("/usr/bin/nmap 10.0.0-3.1-254 --exclude 10.0.1.7,10.0.2.0/30 192.168.1.* 2001:db8::/64");
  REQUIRE(ranges);
  for (const char* in : {"10.0.2.9", "10.0.0.1", "192.168.1.0", "2001:db8::10"}) CHECK(ranges->Contains(in));
  for (const char* out : {"10.0.1.7", "10.0.2.2", "10.0.4.1", "10.0.0.255", "2001:db9::1"})
    CHECK_FALSE(ranges->Contains(out));
  for (const char* unknown : {"nmap scanme.nmap.org", "nmap -iL hosts.txt", "nmap -sn",
                              "nmap 10.0.0.300", "nmap --excludefile x 10.0.0.1"})
    CHECK_FALSE(NmapTargets::FromArgs(unknown));
  NmapPorts ports;
  CHECK(ports.Add("tcp", "1-1024,8080"));
  CHECK(ports.Contains("tcp", 22));
  CHECK(ports.Contains("tcp", 8080));
  CHECK_FALSE(ports.Contains("tcp", 9090));
  CHECK_FALSE(ports.Contains("udp", 53));
  CHECK_FALSE(ports.Add("udp", "53,ssh"));
}

TEST_CASE("full scan: an nmap run covers the addresses and ports it scanned") {
  TestDb t;
  auto scan = [](const std::string& targets, const std::string& services,
                 const std::vector<std::pair<std::string, std::vector<int>>>& hosts) {
    std::string xml = R"(<?xml version="1.0"?><nmaprun scanner="nmap" args="nmap -sS -oX - )" +
                      targets + R"(" version="7.94"><scaninfo type="syn" protocol="tcp" services=")" +
                      services + R"("/>)";
    for (const auto& [ip, open] : hosts) {
      xml += R"(<host><status state="up"/><address addr=")" + ip + R"(" addrtype="ipv4"/><ports>)";
      for (int p : open)
        xml += R"(<port protocol="tcp" portid=")" + std::to_string(p) + R"("><state state="open"/></port>)";
      xml += "</ports></host>";
    }
    return xml + "</nmaprun>";
  };
  auto live = [&](const std::string& cls, const std::string& name) {
    for (const CiRecord* c : All(t, cls))
      if (c->attrs.Get("name") == Value(name)) return Text(c->attrs.Get("status")) == "live";
    return false;
  };
  Apply(t, "nmap", scan("10.0.1.0/24", "22,443", {{"10.0.1.5", {22, 443}}}), "nmap", true);
  // Another subnet's scan under the same source: 10.0.1.5, its address and ports stay live.
  ImportReport other = Apply(t, "nmap", scan("10.0.2.0/24", "22", {{"10.0.2.9", {22}}}), "nmap", true);
  CHECK(other.stale == 0);
  CHECK(other.rels_stale == 0);
  // The first subnet, port 22 only: 443 was not scanned, so it stays.
  CHECK(Apply(t, "nmap", scan("10.0.1.0/24", "22", {{"10.0.1.5", {22}}}), "nmap", true).stale == 0);
  CHECK(live("NetworkPort", "443/tcp"));
  // Both ports scanned, 443 closed now: it goes stale, with its EXPOSES.
  ImportReport closed = Apply(t, "nmap", scan("10.0.1.0/24", "22,443", {{"10.0.1.5", {22}}}), "nmap", true);
  CHECK(closed.stale == 1);
  CHECK(closed.rels_stale == 1);
  CHECK_FALSE(live("NetworkPort", "443/tcp"));
  // A ping scan (no <scaninfo>) of the subnet covers no port; one whose services do not read
  // as ports neither; targets that are not all addresses (a host name, an impossible block,
  // --excludefile) cover nothing at all.
  std::string ping = scan("10.0.1.0/24", "22", {{"10.0.1.5", {}}});
  ping.erase(ping.find("<scaninfo"), ping.find("/>", ping.find("<scaninfo")) + 2 - ping.find("<scaninfo"));
  CHECK(Apply(t, "nmap", ping, "nmap", true).stale == 0);
  CHECK(Apply(t, "nmap", scan("10.0.1.0/24", "22,,443", {{"10.0.1.5", {}}}), "nmap", true).stale == 0);
  for (const char* unknown : {"10.0.1.0/24 gw.example.org", "10.0.1.0/33", "--excludefile x 10.0.1.0/24"})
    CHECK(Apply(t, "nmap", scan(unknown, "22", {}), "nmap", true).stale == 0);
  CHECK(live("NetworkPort", "22/tcp"));
  // --exclude=list as --exclude list: the excluded host is not covered.
  CHECK(Apply(t, "nmap", scan("--exclude=10.0.1.5 10.0.1.0/24", "22", {}), "nmap", true).stale == 0);
  // The first subnet with nobody up: the host, its address and port 22 go stale; 10.0.2.9 stays.
  ImportReport down = Apply(t, "nmap", scan("10.0.1.0/24", "22,443", {}), "nmap", true);
  CHECK(down.stale == 3);
  CHECK(live("DiscoveredHost", "10.0.2.9"));
  CHECK_FALSE(live("DiscoveredHost", "10.0.1.5"));
}

TEST_CASE("scopes: host-local addresses, ARNs and availability zones, hostile forms included") {
  for (const char* local : {"127.0.0.1", "127.255.0.9", "::1", "fe80::1", "FE80::a:b",
                            "169.254.1.1", "172.17.0.1", "192.168.122.1"})
    CHECK(IsHostLocalAddress(local));
  for (const char* global : {"10.0.0.1", "172.18.0.1", "192.168.1.1", "2001:db8::1", "fec0::1", "",
                             "1", "::", "1.2.3.4.5"})
    CHECK_FALSE(IsHostLocalAddress(global));
  CHECK(HostLocalName("172.17.0.1", "alpha") == "172.17.0.1%alpha");
  CloudScope s = ScopeOfArn("arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-1");
  CHECK(s.region == "eu-west-1");
  CHECK(s.account_id == "123456789012");
  CloudScope global = ScopeOfArn("arn:aws:s3:::bucket");  // S3: no region, no account
  CHECK(global.region.empty());
  CHECK(global.account_id.empty());
  for (const char* bad : {"", "arn:", "arn:aws", "arn:aws:ec2:eu-west-1", "nope:aws:ec2:r:a:x"}) {
    CloudScope none = ScopeOfArn(bad);
    CHECK(none.region.empty());
    CHECK(none.account_id.empty());
  }
  CHECK(RegionOfZone("us-east-1a") == "us-east-1");
  CHECK(RegionOfZone("ap-northeast-1c") == "ap-northeast-1");
  CHECK(RegionOfZone("us-gov-west-1a") == "us-gov-west-1");
  // Local and Wavelength Zones (found by an outside tester: us-west-2-lax-1 was taken for a
  // region, and the Wavelength zone gave none, so Terraform's ARN and AWS's zone disagreed).
  CHECK(RegionOfZone("us-west-2-lax-1a") == "us-west-2");
  CHECK(RegionOfZone("us-east-1-wl1-bos-wlz-1") == "us-east-1");
  for (const char* bad : {"", "a", "us-east-1", "apne1-az4x1", "zone", "us--east-1a", "US-EAST-1A"})
    CHECK(RegionOfZone(bad).empty());
}

TEST_CASE("identity: MACs are read in one form; placeholders and malformed ones identify nothing") {
  CHECK(ReadMac("08:00:27:F9:98:A7").value == "08:00:27:f9:98:a7");
  CHECK(ReadMac(" 08-00-27-f9-98-a7 ").value == "08:00:27:f9:98:a7");
  CHECK(ReadMac("0800.27F9.98A7").value == "08:00:27:f9:98:a7");
  CHECK(ReadMac("08:00:27:F9:98:A7").kind == MacAddress::kUsable);
  for (const char* none : {"", "  ", "unknown", "00:00:00:00:00:00", "FF:FF:FF:FF:FF:FF",
                           "ff-ff-ff-ff-ff-ff", "N/A", "02:42:ac:11:00:02", "02:42:AC:11:00:03",
                           "00:00:5E:00:01:01", "00:00:0c:07:ac:0a", "00:00:0c:9f:f0:01",
                           "00:07:b4:00:01:02"}) {
    INFO(none);
    CHECK(ReadMac(none).kind == MacAddress::kPlaceholder);
    CHECK(ReadMac(none).value.empty());
  }
  for (const char* bad : {"zz:zz", "zz:zz:zz:zz:zz:zz", "08:00:27:f9:98", "08:00:27:f9:98:a7:01",
                          "08:00-27:f9:98:a7", "080027f998a7", "8:0:27:f9:98:a7", "08::27:f9:98:a7",
                          "a0:00:02:20:fe:80:00:00:00:00:00:00:00:00:00:00:00:00:00:01"}) {
    INFO(bad);
    CHECK(ReadMac(bad).kind == MacAddress::kMalformed);
    CHECK(ReadMac(bad).value.empty());
  }
  for (const char* p : {"Default string", "DEFAULT STRING", "System Serial Number",
                        "Chassis Serial Number", "0123456789", "Not Applicable",
                        "To Be Filled By O.E.M.", "To be filled by O.E.M.", " ", "None", "N/A",
                        "0", "00000000", "123456789", "Not Available", "not available",
                        "0000000000", "00000000-0000-0000-0000-000000000000",
                        "VMware-00 00 00 00 00 00 00 00-00 00 00 00 00 00 00 00", "FFFFFFFF",
                        "ffff-ffff-ffff", "1234567890", "OEM", "Invalid", "None Provided"})
    CHECK(IsPlaceholder(p));
  for (const char* real : {"VMware-56 4d 01", "CZJ1234567", "01234567890", "00000001", "ff",
                           "fff", "02:43:ac:11:00:02"})
    CHECK_FALSE(IsPlaceholder(real));
}

TEST_CASE("nmap: an entity XML does not define refuses the file (no host named '&lol9;')") {
  std::string laughs = R"(<?xml version="1.0"?>
<!DOCTYPE nmaprun [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>
<nmaprun scanner="nmap" args="nmap 10.0.0.1"><!-- &comment; is fine here -->
<host><status state="up"/><address addr="10.0.0.1" addrtype="ipv4"/>
<hostnames><hostname name="&lol2;" type="user"/></hostnames></host></nmaprun>)";
  CandidateSet set;
  Status st = ParseSource("nmap", laughs, {}, set);
  CHECK(st.ToString() ==
        "BadRequest: malformed XML at line 2, column 54: the entity &lol; is not defined (nmap XML uses "
        "only XML's own: &amp; &lt; &gt; &quot; &apos;)");
  // XML's own entities and character references are read as usual.
  CandidateSet fine;
  REQUIRE(ParseSource("nmap", R"(<?xml version="1.0"?><nmaprun scanner="nmap" args="nmap &amp; 10.0.0.1">
<host><status state="up"/><address addr="10.0.0.1" addrtype="ipv4"/>
<hostnames><hostname name="a&#45;b&amp;c" type="user"/></hostnames></host></nmaprun>)", {}, fine).ok());
  std::vector<std::string> names;
  for (const Candidate& c : fine.cis) names.push_back(Text(c.attrs.Get("name")));
  CHECK(names == std::vector<std::string>{"10.0.0.1", "a-b&c"});
}
