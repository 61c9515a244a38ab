// What a full scan covers, as the report says it (docs/importers.md, "Full-scan mode"): AWS lists
// whose records name no region (describe-vpcs) or no account (a classic ELB) cover nothing unless
// the import's `account` and `region` say which they were taken from; every full scan lists its
// coverage in words. Cases found by an outside tester: a per-region describe-vpcs run marked the
// other region's VPCs stale, a classic ELB list of one account the other account's. And the
// identity cases the outside passes of this round found: identification SHARED WITH another
// class (nmap's host is Ansible's PhysicalServer, an EC2 instance is not), MACs a CI holds in
// another form, retired CIs and weak keys, qualified names found again, reports that do not
// depend on the order of the file.
#include <catch2/catch.hpp>
#include <algorithm>
#include <set>
#include <string>

#include "importers/formats.hpp"
#include "importers/import.hpp"
#include "importers/import_util.hpp"
#include "importers/json_util.hpp"
#include "test_util.hpp"

using namespace cmdb;
using namespace cmdb::importers;
using cmdb::testing::Data;
using cmdb::testing::DefaultPrecedence;
using cmdb::testing::FindWith;
using cmdb::testing::TestDb;

namespace {

// Parses `text` with the aws account and region given, imports it dry and then for real (the
// counts must agree); returns the apply's report.
ImportReport Apply(TestDb& t, const std::string& format, const std::string& text, bool full,
                   const std::string& account = "", const std::string& region = "") {
  ImportReport last;
  for (bool dry : {true, false}) {
    ParseOptions parse;
    parse.account = account;
    parse.region = region;
    ImportOptions opt;
    opt.source = format;
    opt.dry_run = dry;
    opt.full_scan = full;
    opt.precedence = DefaultPrecedence();
    ImportReport r = cmdb::testing::ParseAndImport(t, format, text, parse, opt);
    if (!dry) {
      CHECK(r.stale == last.stale);
      CHECK(r.coverage.size() == last.coverage.size());
    }
    last = std::move(r);
  }
  return last;
}

std::string StatusOf(TestDb& t, const std::string& cls, const std::string& name) {
  ReadView v = t.db->Read();
  for (CiId id : v.graph().Extent(cls)) {
    const CiRecord* r = v.graph().FindCi(id);
    if (r->attrs.Get("name") == Value(name)) return std::string(r->attrs.Get("status").as_string());
  }
  return "absent";
}

std::string Vpcs(const std::string& id, const std::string& name) {
  return R"({"Vpcs": [{"VpcId": ")" + id + R"(", "OwnerId": "111111111111", "CidrBlock": "10.0.0.0/16",
             "Tags": [{"Key": "Name", "Value": ")" + name + R"("}]}]})";
}

std::string ClassicElb(const std::string& name) {
  return R"({"LoadBalancerDescriptions": [{"LoadBalancerName": ")" + name +
         R"(", "DNSName": ")" + name + R"(.elb.amazonaws.com", "AvailabilityZones": ["us-east-1a"]}]})";
}

}  // namespace

TEST_CASE("coverage: describe-vpcs names no region, so without `region` a full scan covers nothing") {
  TestDb t;
  Apply(t, "aws", Vpcs("vpc-e1", "east"), true);
  ImportReport west = Apply(t, "aws", Vpcs("vpc-w1", "west"), true);
  CHECK(west.stale == 0);
  CHECK(StatusOf(t, "VPC", "east") == "live");
  REQUIRE(west.coverage.size() == 1);
  CHECK(west.coverage[0].class_name == "VPC");
  CHECK(!west.coverage[0].covers);
  CHECK(west.coverage[0].scope ==
        "its records name no region (account '111111111111'), so which the scan was of cannot be "
        "told: import with the `region` parameter for a full scan to mark them stale");
}

TEST_CASE("coverage: with `region`, per-region describe-vpcs runs mark only their region stale") {
  TestDb t;
  Apply(t, "aws", Vpcs("vpc-e1", "east"), true, "", "us-east-1");
  ImportReport west = Apply(t, "aws", Vpcs("vpc-w1", "west"), true, "", "eu-west-1");
  CHECK(west.stale == 0);
  REQUIRE(west.coverage.size() == 1);
  CHECK(west.coverage[0].covers);
  CHECK(west.coverage[0].scope == "those with account_id '111111111111', region 'eu-west-1'");
  CHECK(StatusOf(t, "VPC", "east") == "live");
  // us-east-1 again, with another VPC: vpc-e1 is gone from that region.
  ImportReport east = Apply(t, "aws", Vpcs("vpc-e2", "east-2"), true, "", "us-east-1");
  CHECK(east.stale == 1);
  CHECK(StatusOf(t, "VPC", "east") == "stale");
  CHECK(StatusOf(t, "VPC", "west") == "live");
  // A record's own region wins over the parameter: a subnet in us-east-1a stays in us-east-1.
  Apply(t, "aws",
        R"({"Subnets": [{"SubnetId": "subnet-1", "VpcId": "vpc-e2", "OwnerId": "111111111111",
            "AvailabilityZone": "us-east-1a", "CidrBlock": "10.0.1.0/24"}]})",
        false, "", "eu-west-1");
  ReadView v = t.db->Read();
  CHECK(v.graph().FindCi(v.graph().Extent("Subnet")[0])->attrs.Get("region") == Value("us-east-1"));
}

TEST_CASE("coverage: a classic ELB list names no account: covered only with `account`") {
  TestDb t;
  Apply(t, "aws", ClassicElb("lb-a"), true);
  ImportReport other = Apply(t, "aws", ClassicElb("lb-b"), true);
  CHECK(other.stale == 0);
  REQUIRE(other.coverage.size() == 1);
  CHECK(!other.coverage[0].covers);
  CHECK(other.coverage[0].scope.find("no account (region 'us-east-1')") != std::string::npos);
  CHECK(StatusOf(t, "LoadBalancer", "lb-a") == "live");
  // With the account given, each account's list covers its own load balancers.
  TestDb u;
  Apply(u, "aws", ClassicElb("lb-a"), true, "111111111111");
  CHECK(Apply(u, "aws", ClassicElb("lb-b"), true, "222222222222").stale == 0);
  CHECK(Apply(u, "aws", ClassicElb("lb-c"), true, "111111111111").stale == 1);
  CHECK(StatusOf(u, "LoadBalancer", "lb-a") == "stale");
  CHECK(StatusOf(u, "LoadBalancer", "lb-b") == "live");
}

TEST_CASE("coverage: an nmap run's report says which targets and ports it covered") {
  TestDb t;
  std::string xml = R"(<?xml version="1.0"?>
<nmaprun scanner="nmap" args="nmap -sS -p 22,443 10.0.1.0/24" start="1700000000">
<scaninfo type="syn" protocol="tcp" numservices="2" services="22,443"/>
<host><status state="up"/><address addr="10.0.1.5" addrtype="ipv4"/>
<ports><port protocol="tcp" portid="22"><state state="open"/></port></ports></host>
</nmaprun>)";
  ImportReport r = Apply(t, "nmap", xml, true);
  REQUIRE(r.coverage.size() == 3);
  CHECK(r.coverage[0].class_name == "DiscoveredHost");
  CHECK(r.coverage[0].scope == "those whose address is a target of `nmap -sS -p 22,443 10.0.1.0/24`");
  CHECK(r.coverage[2].class_name == "NetworkPort");
  CHECK(r.coverage[2].scope == "on a covered host, those of <scaninfo> tcp 22,443");
  // A ping scan covers no port, and says why.
  std::string ping = R"(<?xml version="1.0"?>
<nmaprun scanner="nmap" args="nmap -sn 10.0.1.0/24" start="1700000001">
<host><status state="up"/><address addr="10.0.1.5" addrtype="ipv4"/></host>
</nmaprun>)";
  ImportReport p = Apply(t, "nmap", ping, true);
  REQUIRE(p.coverage.size() == 3);
  CHECK(!p.coverage[2].covers);
  CHECK(p.coverage[2].scope == "no <scaninfo> says which ports were scanned");
  CHECK(p.stale == 0);
  // Not a full scan: no coverage.
  CHECK(Apply(t, "nmap", xml, false).coverage.empty());
}

// SHARED WITH (schema/30_discovery.gql): a host nmap scans (a DiscoveredHost, a Computer) and the
// PhysicalServer Ansible reported with the same MAC are one CI, in either order. Found by an
// outside tester: they stayed two CIs, with no conflict reported.
namespace {

const char* kBoxFacts = R"({"box1": {"ansible_facts": {
  "ansible_hostname": "box1", "ansible_fqdn": "box1", "ansible_domain": "",
  "ansible_virtualization_role": "host", "ansible_virtualization_type": "kvm",
  "ansible_default_ipv4": {"address": "10.0.1.1", "macaddress": "08:00:27:bb:00:01",
                           "interface": "eth0"},
  "ansible_all_ipv4_addresses": ["10.0.1.1"]}}})";

const char* kBoxScan = R"(<?xml version="1.0"?>
<nmaprun scanner="nmap" args="nmap -oX - 10.0.1.0/24" start="1700000000">
<host><status state="up"/><address addr="10.0.1.1" addrtype="ipv4"/>
<address addr="08:00:27:BB:00:01" addrtype="mac"/>
<hostnames><hostname name="box1.lan" type="PTR"/></hostnames>
<ports><port protocol="tcp" portid="22"><state state="open"/><service name="ssh"/></port></ports>
</host></nmaprun>)";

// The CIs of `cls` and its subclasses.
size_t Count(TestDb& t, const std::string& cls) { return cmdb::testing::CountOf(t, cls); }

}  // namespace

TEST_CASE("shared identity: Ansible's PhysicalServer and nmap's host with its MAC are one CI") {
  TestDb t;
  ImportReport facts = Apply(t, "ansible", kBoxFacts, false);
  CHECK(facts.created == 2);  // the server and its address
  ImportReport scan = Apply(t, "nmap", kBoxScan, false);
  CHECK(Count(t, "PhysicalServer") == 1);
  CHECK(Count(t, "DiscoveredHost") == 0);
  CHECK(scan.identity_conflicts.empty());
  CHECK(scan.created == 1);  // only the port: the host is the server, its address the server's
  {
    ReadView v = t.db->Read();  // released before the next import writes
    CiId server = v.graph().Extent("PhysicalServer")[0];
    auto exposes = v.graph().TypeIdOf("EXPOSES");
    REQUIRE(exposes);
    CHECK(v.graph().OutOfType(server, *exposes).size() == 1);
  }
  // Again: the port is found under the server (its parent), nothing is created.
  ImportReport again = Apply(t, "nmap", kBoxScan, true);
  CHECK(again.created == 0);
  CHECK(again.stale == 0);
}

TEST_CASE("shared identity: nmap's host first, then Ansible's server: one CI, its class kept") {
  TestDb t;
  Apply(t, "nmap", kBoxScan, false);
  ImportReport facts = Apply(t, "ansible", kBoxFacts, false);
  CHECK(Count(t, "DiscoveredHost") == 1);
  CHECK(Count(t, "PhysicalServer") == 0);
  CHECK(facts.identity_conflicts.empty());
  CHECK(facts.created == 0);
}

TEST_CASE("identity: a MAC a CI holds in another form (upper case, dashes) still identifies it") {
  // An older version stored MACs as sources gave them; a user may type one in upper case.
  TestDb t;
  CiId id = 0;
  auto tx = t.db->Write(TxMeta{"test", "manual"}, [&](Txn& txn) -> Status {
    AttrMap a;
    a.Set("name", Value(std::string("old-box")));
    a.Set("mac_address", Value(std::string("08-00-27-BB-00-01")));
    auto made = txn.CreateCi("PhysicalServer", std::move(a));
    if (!made.ok()) return made.status();
    id = *made;
    return Status::Ok();
  });
  REQUIRE(tx.ok());
  ImportReport facts = Apply(t, "ansible", kBoxFacts, false);
  CHECK(facts.identity_conflicts.empty());
  CHECK(Count(t, "PhysicalServer") == 1);
  ReadView v = t.db->Read();
  const CiRecord* box = v.graph().FindCi(id);
  REQUIRE(box);
  CHECK(box->attrs.Get("mac_address") == Value(std::string("08:00:27:bb:00:01")));  // normal form now
}

// Found by the third outside pass.
namespace {

std::string Instance(const std::string& id, const std::string& state, const std::string& ip,
                     const std::string& name) {
  return R"({"InstanceId": ")" + id + R"(", "Placement": {"AvailabilityZone": "us-east-1a"},
            "PrivateIpAddress": ")" + ip + R"(", "State": {"Name": ")" + state + R"("},
            "Tags": [{"Key": "Name", "Value": ")" + name + R"("}]})";
}

std::string Reservations(const std::vector<std::string>& instances, const std::string& tail = "") {
  std::string out = R"({"Reservations": [)";
  for (size_t i = 0; i < instances.size(); ++i)
    out += std::string(i ? "," : "") + R"({"OwnerId": "111111111111", "Instances": [)" +
           instances[i] + "]}";
  return out + "]" + tail + "}";
}

}  // namespace

TEST_CASE("shared identity: an EC2 instance is not the PhysicalServer at its private address") {
  TestDb t;
  Apply(t, "ansible", kBoxFacts, false);  // box1, a PhysicalServer at 10.0.1.1
  ImportReport aws = Apply(t, "aws", Reservations({Instance("i-0abc", "running", "10.0.1.1", "cloudweb")}), false);
  CHECK(aws.conflicts.empty());  // before: merged into box1, cloud_id refused as "schema"
  CHECK(Count(t, "PhysicalServer") == 1);
  CHECK(Count(t, "VirtualMachine") == 1);
  CHECK(StatusOf(t, "PhysicalServer", "box1") == "live");
  CHECK(StatusOf(t, "VirtualMachine", "cloudweb") == "live");
  // The other order too (the final pass found the server merged into the VM: its cloud_id, a
  // strong identifier of the VM's class, is not one PhysicalServer's rules name).
  TestDb u;
  Apply(u, "aws", Reservations({Instance("i-0abc", "running", "10.0.1.1", "cloudweb")}), false);
  ImportReport facts = Apply(u, "ansible", kBoxFacts, false);
  CHECK(facts.conflicts.empty());
  CHECK(Count(u, "PhysicalServer") == 1);
  CHECK(Count(u, "VirtualMachine") == 1);
  const CiRecord* vm = FindWith(u, "VirtualMachine", "cloud_id", Value(std::string("i-0abc")));
  REQUIRE(vm);
  CHECK(!vm->attrs.Has("mac_address"));
}

TEST_CASE("identity: a terminated instance never takes the live host at its address, in any order") {
  // An Ansible host web at 10.0.0.1 (no serial or MAC), then AWS lists the terminated i-a0
  // before the running i-a1, both at 10.0.0.1. Before: the live host merged into i-a0 and
  // became retired; listed the other way round it went to i-a1.
  Json facts = {{"web", {{"ansible_facts", {{"ansible_hostname", "web"}, {"ansible_fqdn", "web"},
                                            {"ansible_virtualization_role", "guest"},
                                            {"ansible_virtualization_type", "kvm"},
                                            {"ansible_default_ipv4", {{"address", "10.0.0.1"}}},
                                            {"ansible_all_ipv4_addresses", Json::array({"10.0.0.1"})}}}}}};
  std::string dead = Instance("i-a0", "terminated", "10.0.0.1", "web");
  std::string live = Instance("i-a1", "running", "10.0.0.1", "web");
  for (const auto& order : {Reservations({dead, live}), Reservations({live, dead})}) {
    TestDb t;
    Apply(t, "ansible", facts.dump(), false);
    ImportReport r = Apply(t, "aws", order, false);
    // i-a1 is identified first (in service) and is the host; i-a0 then finds the host by its
    // address and is contradicted by the id: a CI of its own, reported, in either order.
    REQUIRE(r.identity_conflicts.size() == 1);
    CHECK(r.identity_conflicts[0].reason == "contradicted");
    CHECK(r.identity_conflicts[0].matches[0].theirs == Value(std::string("i-a1")));
    ReadView v = t.db->Read();
    const CiRecord* host = nullptr;
    for (CiId id : v.graph().Extent("VirtualMachine")) {
      const CiRecord* c = v.graph().FindCi(id);
      if (c->attrs.Get("hostname") == Value(std::string("web"))) host = c;
    }
    REQUIRE(host);
    CHECK(host->attrs.Get("cloud_id") == Value(std::string("i-a1")));
    CHECK(host->attrs.Get("status") == Value(std::string("live")));
  }
}

TEST_CASE("identity: a Kubernetes node whose name another cluster's node holds is found again") {
  const char* nodes = R"({"kind": "NodeList", "items": [{"kind": "Node",
    "metadata": {"name": "n1", "uid": "node-1"},
    "status": {"addresses": [{"type": "InternalIP", "address": "10.1.0.1"}]}}]})";
  TestDb t;
  auto import = [&](const std::string& cluster, bool full) {
    ParseOptions parse;
    parse.cluster = cluster;
    ImportOptions opt;
    opt.source = "k8s-" + cluster;
    opt.full_scan = full;
    opt.precedence = DefaultPrecedence();
    return cmdb::testing::ParseAndImport(t, "kubernetes", nodes, parse, opt);
  };
  import("ka", true);
  CHECK(import("kb", true).created == 1);  // n1 (kb): cluster ka's node holds the plain name
  ImportReport again = import("kb", true);  // before: refused ("its KEY value ... is another CI's"), stale
  CHECK(again.skipped.empty());
  CHECK(again.created == 0);
  CHECK(again.stale == 0);
  CHECK(Count(t, "K8sNode") == 2);
  CHECK(StatusOf(t, "K8sNode", "n1 (kb)") == "live");
}

TEST_CASE("coverage: nmap's full scan covers the PhysicalServer it found by MAC, and its ports") {
  TestDb t;
  Apply(t, "ansible", kBoxFacts, false);
  Apply(t, "nmap", kBoxScan, true);
  // The same range again, box1 gone: it and its port go stale (this source's provenance only:
  // Ansible still reports box1, so its status stays live).
  std::string other = kBoxScan;
  other.replace(other.find("10.0.1.1\""), 9, "10.0.1.9\"");
  other.replace(other.find("08:00:27:BB:00:01"), 17, "08:00:27:BB:00:09");
  ImportReport r = Apply(t, "nmap", other, true);
  CHECK(r.rels_stale >= 1);  // box1's EXPOSES of port 22
  ReadView v = t.db->Read();
  size_t stale_marks = 0;
  v.graph().provenance().ForSource("nmap", [&](const Provenance& p) { stale_marks += p.stale; });
  CHECK(stale_marks >= 2);  // box1 and its port (and the EXPOSES), as the nmap source saw them
}

TEST_CASE("coverage: one page of a paginated AWS answer covers nothing") {
  TestDb t;
  Apply(t, "aws", Reservations({Instance("i-1", "running", "10.8.0.1", "a")}), true);
  ImportReport page = Apply(t, "aws", Reservations({Instance("i-2", "running", "10.8.0.2", "b")},
                                                   R"(, "NextToken": "eyJ9")"), true);
  CHECK(page.stale == 0);
  REQUIRE(page.coverage.size() == 2);  // the instances' addresses (through them), the instances
  CHECK(page.coverage[1].class_name == "VirtualMachine");
  CHECK(!page.coverage[1].covers);
  CHECK(page.coverage[1].scope.find("NextToken") != std::string::npos);
  // Every page in one file (an array): the last has no NextToken, the scan is whole.
  std::string all = "[" + Reservations({Instance("i-2", "running", "10.8.0.2", "b")}, R"(, "NextToken": "eyJ9")") +
                    "," + Reservations({Instance("i-3", "running", "10.8.0.3", "c")}) + "]";
  CHECK(Apply(t, "aws", all, true).stale == 2);  // i-1 and its address
  // A page followed by another account's list: that list does not complete the page (the
  // final outside pass found i-2 and i-3 marked stale).
  std::string other_account = Reservations({Instance("i-9", "running", "10.9.0.9", "z")});
  other_account.replace(other_account.find("111111111111"), 12, "222222222222");
  std::string mixed = "[" + Reservations({Instance("i-4", "running", "10.8.0.4", "d")}, R"(, "NextToken": "eyJ9")") +
                      "," + other_account + "]";
  CHECK(Apply(t, "aws", mixed, true).stale == 0);
  CHECK(StatusOf(t, "VirtualMachine", "b") == "live");
  // RDS and load balancers mark their pages with Marker and NextMarker.
  ImportReport rds = Apply(t, "aws", R"({"DBInstances": [{"DBInstanceIdentifier": "db1",
      "DbiResourceId": "db-1", "DBInstanceArn": "arn:aws:rds:us-east-1:111111111111:db:db1"}],
      "Marker": "m2"})", true);
  REQUIRE(rds.coverage.size() == 1);
  CHECK(!rds.coverage[0].covers);
  // An id of spaces is no id: the record is skipped, with why (before: a VPC named "   ").
  ImportReport blank = Apply(t, "aws", R"({"Vpcs": [{"VpcId": "   ", "OwnerId": "111111111111"}]})", false);
  CHECK(blank.created == 0);
  CHECK(Count(t, "VPC") == 0);
  // An empty list says why it covers nothing.
  ImportReport empty = Apply(t, "aws", R"({"Reservations": []})", true);
  REQUIRE(empty.coverage.size() == 2);  // the instances, and their addresses through them
  CHECK(!empty.coverage[1].covers);
}

TEST_CASE("identity: two subnets with one Name report the same conflict in either order") {
  // Found by an outside tester: listed a-then-b the file reported one identity conflict, b-then-a
  // none (the second run that keeps the plain name for subnet-0a identified subnet-0b first).
  auto subnet = [](const std::string& id, const std::string& cidr) {
    return Json{{"SubnetId", id},          {"VpcId", "vpc-1"},
                {"OwnerId", "111111111111"}, {"AvailabilityZone", "us-east-1a"},
                {"CidrBlock", cidr},        {"Tags", Json::array({{{"Key", "Name"}, {"Value", "private"}}})}};
  };
  Json a = subnet("subnet-0a", "10.0.1.0/24"), b = subnet("subnet-0b", "10.0.2.0/24");
  std::vector<std::string> reports;
  for (const Json& doc : {Json{{"Subnets", Json::array({a, b})}}, Json{{"Subnets", Json::array({b, a})}}}) {
    TestDb t;
    ImportReport r = Apply(t, "aws", doc.dump(), true);
    REQUIRE(r.identity_conflicts.size() == 1);
    CHECK(r.identity_conflicts[0].reason == "contradicted");
    CHECK(r.identity_conflicts[0].matches.size() == 1);
    CHECK(r.identity_conflicts[0].matches[0].ours == Value("subnet-0b"));
    CHECK(r.identity_conflicts[0].matches[0].theirs == Value("subnet-0a"));
    CHECK(FindWith(t, "Subnet", "cloud_id", Value("subnet-0a"))->attrs.Get("name") == Value("private"));
    CHECK(FindWith(t, "Subnet", "cloud_id", Value("subnet-0b"))->attrs.Get("name") ==
          Value("private (subnet-0b)"));
    reports.push_back(std::to_string(r.created) + "/" + std::to_string(r.merged) + "/" +
                      std::to_string(r.skipped.size()));
  }
  CHECK(reports[0] == reports[1]);
}

TEST_CASE("identity: a retired CI gives way to one in service on a weak identifier") {
  // A running and a terminated instance that both had 10.0.0.1 (the terminated one keeps the
  // plain name: its id comes first); then an Ansible host `web` at 10.0.0.1 with no serial or
  // MAC. Before, both instances matched its address: refused as ambiguous ("several").
  auto instance = [](const std::string& id, const std::string& state) {
    return Json{{"InstanceId", id},
                {"Placement", {{"AvailabilityZone", "us-east-1a"}}},
                {"Tags", Json::array({{{"Key", "Name"}, {"Value", "web"}}})},
                {"PrivateIpAddress", "10.0.0.1"},
                {"State", {{"Name", state}}},
                {"InstanceType", "t3.micro"}};
  };
  Json aws = {{"Reservations",
               Json::array({{{"OwnerId", "111111111111"},
                             {"Instances", Json::array({instance("i-a1", "running"),
                                                        instance("i-a0", "terminated")})}}})}};
  TestDb t;
  Apply(t, "aws", aws.dump(), true);
  const CiRecord* live = FindWith(t, "VirtualMachine", "cloud_id", Value("i-a1"));
  const CiRecord* dead = FindWith(t, "VirtualMachine", "cloud_id", Value("i-a0"));
  REQUIRE(live);
  REQUIRE(dead);
  CHECK(dead->attrs.Get("status") == Value("retired"));
  const CiId live_id = live->id, dead_id = dead->id;
  Json facts = {{"ansible_hostname", "web"},
                {"ansible_fqdn", "web"},
                {"ansible_virtualization_role", "guest"},
                {"ansible_virtualization_type", "kvm"},
                {"ansible_default_ipv4", {{"address", "10.0.0.1"}, {"interface", "eth0"}}},
                {"ansible_all_ipv4_addresses", Json::array({"10.0.0.1"})}};
  Json inventory = {{"web", {{"ansible_facts", facts}}}};
  ImportReport r = Apply(t, "ansible", inventory.dump(), false);
  CHECK(r.identity_conflicts.empty());
  CHECK(r.skipped.empty());
  CHECK(r.created == 0);  // the host is the running instance (its address is a CI already)
  CHECK(r.updated == 1);
  std::set<CiId> touched;
  for (const auto& c : r.changes) touched.insert(c.id);
  CHECK(touched.count(live_id) == 1);
  CHECK(touched.count(dead_id) == 0);
  ReadView v = t.db->Read();
  CHECK(v.graph().FindCi(dead_id)->attrs.Get("status") == Value("retired"));
}

// Found by the re-test of the third pass.
TEST_CASE("shared identity: nmap's host seen without its MAC, then Ansible's server: one CI") {
  std::string scan = kBoxScan;
  scan.erase(scan.find("<address addr=\"08:00:27:BB:00:01\" addrtype=\"mac\"/>"),
             std::string("<address addr=\"08:00:27:BB:00:01\" addrtype=\"mac\"/>").size());
  TestDb t;
  Apply(t, "nmap", scan, false);  // a DiscoveredHost at 10.0.1.1, no MAC
  ImportReport facts = Apply(t, "ansible", kBoxFacts, false);  // box1 with its MAC
  CHECK(Count(t, "DiscoveredHost") + Count(t, "PhysicalServer") == 1);
  CHECK(facts.identity_conflicts.empty());
  ImportReport again = Apply(t, "nmap", scan, true);  // found again, not ambiguous
  CHECK(again.skipped.empty());
  CHECK(again.created == 0);
  CHECK(again.stale == 0);
}

TEST_CASE("identity: a CSV row retiring a host by name, with its serial, updates it") {
  TestDb t;
  Apply(t, "ansible", kBoxFacts, false);  // box1, MAC, no serial
  ImportOptions opt;
  opt.source = "manual";  // above ansible: the status is the user's to set
  opt.precedence = DefaultPrecedence();
  ParseOptions parse;
  parse.mapping = R"({"class": "PhysicalServer", "columns": {"name": "name", "serial": "serial_number", "status": "status"}})";
  ImportReport r = cmdb::testing::ParseAndImport(t, "csv", "name,serial,status\nbox1,SER-B1,retired\n", parse, opt);
  CHECK(r.created == 0);
  CHECK(r.updated == 1);
  CHECK(Count(t, "PhysicalServer") == 1);
  CHECK(StatusOf(t, "PhysicalServer", "box1") == "retired");
}

TEST_CASE("identity: a host matched only by a weak key is judged against the whole file") {
  // Three Ansible hosts called centos7: A and C with serials, B with none (third outside pass:
  // B merged into A or C, or was refused, by the order of the file). Candidates with a strong
  // identifier are identified first, so B meets A and C in every order: it is the CI holding
  // the plain name (A: its serial comes first in text order).
  auto host = [](const std::string& serial, const std::string& ip) {
    return Json{{"ansible_facts",
                 {{"ansible_hostname", "centos7"}, {"ansible_fqdn", "centos7"},
                  {"ansible_product_serial", serial}, {"ansible_virtualization_role", "guest"},
                  {"ansible_virtualization_type", "VMware"},
                  {"ansible_default_ipv4", {{"address", ip}}},
                  {"ansible_all_ipv4_addresses", Json::array({ip})}}}};
  };
  std::vector<Json> hosts = {host("VMware-SER-A", "10.1.0.1"), host("", "10.1.0.2"),
                             host("VMware-SER-C", "10.1.0.3")};
  std::vector<int> order = {0, 1, 2};
  do {
    Json file = Json::array();
    for (int i : order) file.push_back(hosts[static_cast<size_t>(i)]);
    TestDb t;
    ImportReport r = Apply(t, "ansible", file.dump(), false);
    std::string outcome;
    for (const auto& m : r.merges) outcome += "merged by " + m.rule + ";";
    std::vector<std::string> names;
    {
      ReadView v = t.db->Read();
      for (CiId id : v.graph().Extent("VirtualMachine")) {
        const CiRecord* c = v.graph().FindCi(id);
        Value serial = c->attrs.Get("serial_number");
        names.push_back(std::string(c->attrs.Get("name").as_string()) + "=" +
                        (serial.is_string() ? std::string(serial.as_string()) : "-"));
      }
    }
    std::sort(names.begin(), names.end());
    for (const auto& n : names) outcome += n + ";";
    CHECK(outcome == "merged by name;centos7 (VMware-SER-C)=VMware-SER-C;centos7=VMware-SER-A;");
    CHECK(Apply(t, "ansible", file.dump(), false).changes.empty());  // idempotent
  } while (std::next_permutation(order.begin(), order.end()));
}
