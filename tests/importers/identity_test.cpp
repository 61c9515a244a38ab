// Identity (docs/importers.md, "Identification"): strong identifiers that differ are different
// CIs whatever the names say; ambiguity is reported and decided by the class's ON CONFLICT
// policy; scopes keep clusters, accounts and hosts apart; lifecycle states are kept; a full scan
// marks stale only what the file could have contained; dry runs report what applies do. On the
// real files of tests/data (tests/data/SOURCE.md), altered in memory where a case needs two
// records the public files do not hold (each such change is said where it is made), and on
// generated inventories checked against a brute-force oracle.
#include <catch2/catch.hpp>
#include <algorithm>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "importers/formats.hpp"
#include "importers/identifiers.hpp"
#include "importers/identify.hpp"
#include "importers/import.hpp"
#include "importers/json_util.hpp"
#include "importers/scopes.hpp"
#include "query/ddl/ddl_parser.hpp"
#include "importers/import_util.hpp"
#include "test_util.hpp"

using namespace cmdb;
using namespace cmdb::importers;
using cmdb::testing::TestDb;
using cmdb::testing::Data;
using cmdb::testing::DefaultPrecedence;

namespace {

Json DataJson(const std::string& name) {
  auto j = ParseJson(Data(name), name);
  REQUIRE(j.ok());
  return *j;
}

struct Run {
  Status status;
  ImportReport report;
};

Run Try(TestDb& t, const std::string& format, const std::string& text, const std::string& source,
        bool dry = false, bool full = false, const std::string& cluster = "") {
  CandidateSet set;
  ParseOptions po;
  auto schema = t.db->schema();
  po.schema = schema.get();
  po.cluster = cluster;
  Status st = ParseSource(format, text, po, set);
  INFO(st.ToString());
  REQUIRE(st.ok());
  ImportOptions opt;
  opt.source = source;
  opt.dry_run = dry;
  opt.full_scan = full;
  opt.precedence.order = {"manual",  "terraform", "aws",    "kubernetes",
                          "ansible", "csv",       "ndjson", "nmap"};
  Run r;
  r.status = RunImport(*t.db, set, opt, r.report);
  return r;
}

ImportReport Import(TestDb& t, const std::string& format, const std::string& text,
                    const std::string& source, bool dry = false, bool full = false,
                    const std::string& cluster = "") {
  Run r = Try(t, format, text, source, dry, full, cluster);
  for (const auto& e : r.report.errors) UNSCOPED_INFO(e.location << ": " << e.message);
  INFO(r.status.ToString());
  REQUIRE(r.status.ok());
  return r.report;
}

std::vector<const CiRecord*> All(TestDb& t, const std::string& cls) {
  ReadView v = t.db->Read();
  std::vector<const CiRecord*> out;
  for (const auto& c : v.schema().ClassAndDescendants(cls)) {
    for (CiId id : v.graph().Extent(c)) out.push_back(v.graph().FindCi(id));
  }
  return out;
}

const CiRecord* With(TestDb& t, const std::string& cls, const std::string& attr,
                     const Value& value) {
  const CiRecord* found = nullptr;
  for (const CiRecord* r : All(t, cls)) {
    if (r->attrs.Get(attr) == value) {
      REQUIRE(found == nullptr);  // one CI per value
      found = r;
    }
  }
  return found;
}

std::set<CiId> Neighbours(TestDb& t, CiId id, const std::string& type) {
  ReadView v = t.db->Read();
  std::set<CiId> out;
  auto tid = v.graph().TypeIdOf(type);
  if (!tid) return out;
  for (const Adj& a : v.graph().OutOfType(id, *tid)) out.insert(a.other());
  for (const Adj& a : v.graph().InOfType(id, *tid)) out.insert(a.other());
  return out;
}

// The report's content that must not differ between a dry run and an apply.
std::string Summary(const ImportReport& r) {
  std::ostringstream s;
  s << r.created << "/" << r.updated << "/" << r.unchanged << "/" << r.stale << "/" << r.resurrected
    << "/" << r.merged << " rels " << r.rels_created << "/" << r.rels_updated << "/"
    << r.rels_unchanged << "/" << r.rels_stale << "\n";
  for (const auto& c : r.changes) {
    s << int(c.op) << " " << c.id << " " << c.class_name << " " << c.name << " " << c.location;
    for (const auto& a : c.attrs) s << " " << a.name << "=" << a.after.ToLiteral();
    s << "\n";
  }
  for (const auto& m : r.merges)
    s << "merge " << m.location << " > " << m.into_location << " " << m.into_id << " " << m.rule
      << "=" << m.value << "\n";
  for (const auto& c : r.identity_conflicts) {
    s << "conflict " << c.location << " " << c.reason << " " << c.rule << "=" << c.value;
    for (const auto& m : c.matches)
      s << " [" << m.id << " " << m.location << " " << m.attribute << " " << m.theirs.ToLiteral()
        << " " << m.ours.ToLiteral() << "]";
    s << "\n";
  }
  for (const auto& k : r.skipped) s << "skipped " << k.location << ": " << k.message << "\n";
  for (const auto& c : r.conflicts) s << "attr " << c.id << " " << c.attribute << "\n";
  return s.str();
}

// Imports dry, then for real: the reports must be equal. Returns the apply's.
ImportReport DryThenApply(TestDb& t, const std::string& format, const std::string& text,
                          const std::string& source, bool full = false,
                          const std::string& cluster = "") {
  ImportReport dry = Import(t, format, text, source, true, full, cluster);
  ImportReport applied = Import(t, format, text, source, false, full, cluster);
  CHECK(Summary(dry) == Summary(applied));
  return applied;
}

// A Terraform state with one resource block per entry: type, name, instances' attributes.
Json TfState(const std::vector<std::tuple<std::string, std::string, std::vector<Json>>>& blocks) {
  Json resources = Json::array();
  for (const auto& [type, name, instances] : blocks) {
    Json inst = Json::array();
    for (size_t i = 0; i < instances.size(); ++i) {
      Json one = {{"schema_version", 1}, {"attributes", instances[i]}};
      if (instances.size() > 1) one["index_key"] = i;
      inst.push_back(one);
    }
    resources.push_back({{"mode", "managed"},
                         {"type", type},
                         {"name", name},
                         {"provider", "provider[\"registry.terraform.io/hashicorp/aws\"]"},
                         {"instances", inst}});
  }
  return {{"version", 4}, {"terraform_version", "1.5.7"}, {"serial", 3}, {"resources", resources}};
}

}  // namespace

TEST_CASE("identity: six aws_subnet resources under two Name tags are six subnets, linked") {
  // The shape of the state the issue reports (its file is not public): aws_subnet.private and
  // aws_subnet.public with count = 3, every instance tagged with its block's Name; one route
  // table association per subnet refers to it by subnet_id. Attributes as the AWS provider
  // writes them (tfstate-lookup-aws-modules-foreach.tfstate has the same aws_subnet form).
  std::vector<Json> priv, pub, assoc;
  for (int i = 0; i < 3; ++i) {
    auto subnet = [&](const std::string& tag, int n) {
      std::string id = "subnet-0" + std::to_string(n) + "aa0000000000" + std::to_string(n);
      return Json{{"id", id},
                  {"arn", "arn:aws:ec2:eu-west-1:123456789012:subnet/" + id},
                  {"cidr_block", "10.0." + std::to_string(n) + ".0/24"},
                  {"availability_zone", "eu-west-1" + std::string(1, char('a' + i))},
                  {"owner_id", "123456789012"},
                  {"vpc_id", "vpc-0abc"},
                  {"tags", {{"Name", tag}}}};
    };
    priv.push_back(subnet("private", i));
    pub.push_back(subnet("public", 10 + i));
  }
  for (const auto& s : priv)
    assoc.push_back({{"id", "rtbassoc-" + s["id"].get<std::string>()}, {"subnet_id", s["id"]}});
  for (const auto& s : pub)
    assoc.push_back({{"id", "rtbassoc-" + s["id"].get<std::string>()}, {"subnet_id", s["id"]}});
  std::string state = TfState({{"aws_subnet", "private", priv},
                               {"aws_subnet", "public", pub},
                               {"aws_route_table_association", "a", assoc}})
                          .dump();
  TestDb t;
  ImportReport r = DryThenApply(t, "terraform", state, "terraform");
  CHECK(r.created == 12);
  CHECK(r.merged == 0);
  CHECK(r.rels_created == 6);
  REQUIRE(All(t, "Subnet").size() == 6);
  // Each subnet keeps its id, CIDR and its own association; names tell them apart.
  std::set<std::string> names;
  for (const auto& s : priv) {
    const CiRecord* sub = With(t, "Subnet", "cloud_id", Value(s["id"].get<std::string>()));
    REQUIRE(sub);
    CHECK(sub->attrs.Get("cidr") == Value(s["cidr_block"].get<std::string>()));
    CHECK(sub->attrs.Get("account_id") == Value("123456789012"));
    CHECK(sub->attrs.Get("region") == Value("eu-west-1"));
    names.insert(std::string(sub->attrs.Get("name").as_string()));
    const CiRecord* a =
        With(t, "CloudResource", "cloud_id", Value("rtbassoc-" + s["id"].get<std::string>()));
    REQUIRE(a);
    CHECK(Neighbours(t, sub->id, "DEPENDS_ON") == std::set<CiId>{a->id});
  }
  CHECK(names == std::set<std::string>{"private", "private (subnet-01aa00000000001)",
                                       "private (subnet-02aa00000000002)"});
  // The second and third of each Name were contradicted by their cloud ids: reported.
  REQUIRE(r.identity_conflicts.size() == 4);
  const IdentityConflict& c = r.identity_conflicts[0];
  CHECK(c.reason == "contradicted");
  CHECK(c.rule == "name");
  CHECK(c.value == "private");
  CHECK(c.class_name == "Subnet");
  CHECK(c.policy == IdentifyConflict::kCreate);
  REQUIRE(c.matches.size() == 1);
  CHECK(c.matches[0].attribute == "cloud_id");
  CHECK(c.matches[0].theirs == Value("subnet-00aa00000000000"));
  CHECK(c.matches[0].ours == Value("subnet-01aa00000000001"));
  CHECK(c.matches[0].location == "$.resources[0].instances[0] (aws_subnet.private[0])");
  // Re-imported: nothing changes, nothing is renamed.
  ImportReport again = DryThenApply(t, "terraform", state, "terraform");
  CHECK(again.created == 0);
  CHECK(again.updated == 0);
  CHECK(again.unchanged == 12);
  CHECK(All(t, "Subnet").size() == 6);
}

TEST_CASE("identity: a terminated and a running EC2 instance with one Name are two CIs") {
  TestDb t;
  Import(t, "aws", Data("aws/ec2-describe-vpcs.json"), "aws");
  Import(t, "aws", Data("aws/ec2-describe-subnets.json"), "aws");
  // The real describe-instances, plus a terminated predecessor of Web1 (same Name tag and
  // private IP, another InstanceId, State terminated) as AWS lists one for an hour after.
  Json doc = DataJson("aws/ec2-describe-instances.json");
  Json dead = doc["Reservations"][0]["Instances"][1];
  dead["InstanceId"] = "i-0dead0000000000001";
  dead["State"] = {{"Code", 48}, {"Name", "terminated"}};
  doc["Reservations"][0]["Instances"].insert(doc["Reservations"][0]["Instances"].begin(), dead);
  ImportReport r = DryThenApply(t, "aws", doc.dump(), "aws", true);
  // Four instances and their three private addresses (Web1's is its predecessor's too).
  CHECK(r.created == 7);
  CHECK(All(t, "IPAddress").size() == 3);
  CHECK(r.stale == 0);  // a full describe-instances says nothing of VPCs and subnets
  const CiRecord* old = With(t, "VirtualMachine", "cloud_id", Value("i-0dead0000000000001"));
  const CiRecord* live = With(t, "VirtualMachine", "cloud_id", Value("i-00000000000000001"));
  REQUIRE(old);
  REQUIRE(live);
  CHECK(old->id != live->id);
  CHECK(old->attrs.Get("status") == Value("retired"));
  CHECK(live->attrs.Get("status") == Value("live"));
  // The smaller instance id keeps the plain name, whatever the order of the file.
  CHECK(old->attrs.Get("name") == Value("Web1 (i-0dead0000000000001)"));
  CHECK(live->attrs.Get("name") == Value("Web1"));
  CHECK(live->attrs.Get("ip_address") == Value("10.0.2.1"));
  CHECK(live->attrs.Get("account_id") == Value("123456789012"));
  CHECK(live->attrs.Get("region") == Value("us-east-1"));
  // The running instance is identified first (in service before retired), so the terminated
  // one finds it by its Name and is contradicted by its id, whatever the order of the file.
  REQUIRE(r.identity_conflicts.size() == 1);
  CHECK(r.identity_conflicts[0].reason == "contradicted");
  CHECK(r.identity_conflicts[0].rule == "fqdn");  // the first weak rule that matched
  CHECK(r.identity_conflicts[0].matches[0].attribute == "cloud_id");
  // Every subnet and the VPC are still live; both instances are in their subnet.
  for (const CiRecord* s : All(t, "Subnet")) CHECK(s->attrs.Get("status") == Value("live"));
  CHECK(All(t, "VPC")[0]->attrs.Get("status") == Value("live"));
  const CiRecord* subnet = With(t, "Subnet", "cloud_id", Value("subnet-00000003"));
  REQUIRE(subnet);
  CHECK(Neighbours(t, subnet->id, "CONTAINS").count(live->id) == 1);
  CHECK(Neighbours(t, subnet->id, "CONTAINS").count(old->id) == 1);
  // Stable: the same file again changes nothing.
  ImportReport again = DryThenApply(t, "aws", doc.dump(), "aws", true);
  CHECK(again.created + again.updated + again.stale == 0);
}

TEST_CASE("identity: two Ansible hosts called centos7 with other serials and MACs are two CIs") {
  // The real CentOS facts twice, as two machines both named centos7 (hostname and fqdn set to
  // it), each with its own serial number, MAC and IP.
  Json facts = DataJson("ansible-cmdb-setup-centos.dev.local.json")["ansible_facts"];
  auto host = [&](const std::string& serial, const std::string& mac, const std::string& ip) {
    Json f = facts;
    f["ansible_hostname"] = "centos7";
    f["ansible_fqdn"] = "centos7";
    f["ansible_domain"] = "";
    f["ansible_product_serial"] = serial;
    f["ansible_default_ipv4"]["macaddress"] = mac;
    f["ansible_default_ipv4"]["address"] = ip;
    f["ansible_eth0"]["macaddress"] = mac;
    f["ansible_eth0"]["ipv4"]["address"] = ip;
    f["ansible_all_ipv4_addresses"] = Json::array({ip});  // the same address in the list
    return f;
  };
  Json inventory = {{"web-a", host("VMware-56 4d 01", "08:00:27:00:00:01", "192.168.56.11")},
                    {"web-b", host("VMware-56 4d 02", "08:00:27:00:00:02", "192.168.56.12")}};
  TestDb t;
  ImportReport r = DryThenApply(t, "ansible", inventory.dump(), "ansible");
  CHECK(r.merged == 0);
  auto a = With(t, "Computer", "serial_number", Value("VMware-56 4d 01"));
  auto b = With(t, "Computer", "serial_number", Value("VMware-56 4d 02"));
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->id != b->id);
  CHECK(a->attrs.Get("mac_address") == Value("08:00:27:00:00:01"));
  CHECK(b->attrs.Get("mac_address") == Value("08:00:27:00:00:02"));
  CHECK(a->attrs.Get("name") == Value("centos7"));
  CHECK(b->attrs.Get("name") == Value("centos7 (VMware-56 4d 02)"));
  // Each host has its own address.
  auto ip_a = With(t, "IPAddress", "address", Value("192.168.56.11"));
  auto ip_b = With(t, "IPAddress", "address", Value("192.168.56.12"));
  REQUIRE(ip_a);
  REQUIRE(ip_b);
  CHECK(Neighbours(t, a->id, "HAS_ADDRESS") == std::set<CiId>{ip_a->id});
  CHECK(Neighbours(t, b->id, "HAS_ADDRESS") == std::set<CiId>{ip_b->id});
  // Stable across re-imports, in either order: identity attributes never flip.
  CiId ida = a->id, idb = b->id;
  for (int round = 0; round < 2; ++round) {
    Json swapped = {{"web-b", inventory["web-b"]}, {"web-a", inventory["web-a"]}};
    ImportReport again =
        DryThenApply(t, "ansible", (round ? inventory : swapped).dump(), "ansible");
    CHECK(again.created == 0);
    CHECK(again.updated == 0);
    CHECK(With(t, "Computer", "serial_number", Value("VMware-56 4d 01"))->id == ida);
    CHECK(With(t, "Computer", "serial_number", Value("VMware-56 4d 02"))->id == idb);
  }
  CHECK(All(t, "Computer").size() == 2);
}

TEST_CASE("identity: an S3 bucket and its companion resources are three CIs") {
  // aws_s3_bucket with the separate resources AWS provider 4+ uses for its settings; all three
  // have the bucket name as their id. Companions are CloudResources of their own (DEPENDS_ON
  // the bucket), told apart by Terraform address and (resource_type, cloud_id).
  Json bucket = {{"id", "logs-123"},
                 {"arn", "arn:aws:s3:::logs-123"},
                 {"bucket", "logs-123"},
                 {"tags", Json::object()}};
  Json block = {{"id", "logs-123"}, {"bucket", "logs-123"}, {"block_public_acls", true}};
  Json sse = {{"id", "logs-123"}, {"bucket", "logs-123"}};
  Json state = TfState({{"aws_s3_bucket", "logs", {bucket}},
                        {"aws_s3_bucket_public_access_block", "logs", {block}},
                        {"aws_s3_bucket_server_side_encryption_configuration", "logs", {sse}}});
  state["resources"][1]["instances"][0]["dependencies"] = {"aws_s3_bucket.logs"};
  state["resources"][2]["instances"][0]["dependencies"] = {"aws_s3_bucket.logs"};
  TestDb t;
  ImportReport r = DryThenApply(t, "terraform", state.dump(), "terraform");
  CHECK(r.created == 3);
  CHECK(r.merged == 0);
  std::set<std::string> types;
  CiId bucket_id = 0;
  for (const CiRecord* c : All(t, "CloudResource")) {
    CHECK(c->attrs.Get("cloud_id") == Value("logs-123"));
    types.insert(std::string(c->attrs.Get("resource_type").as_string()));
    if (c->attrs.Get("resource_type") == Value("aws_s3_bucket")) bucket_id = c->id;
  }
  CHECK(types == std::set<std::string>{"aws_s3_bucket", "aws_s3_bucket_public_access_block",
                                       "aws_s3_bucket_server_side_encryption_configuration"});
  CHECK(Neighbours(t, bucket_id, "DEPENDS_ON").size() == 2);
  ImportReport again = DryThenApply(t, "terraform", state.dump(), "terraform");
  CHECK(again.unchanged == 3);
}

TEST_CASE("identity: a kube-system of another cluster does not join this one") {
  // The real k3s namespaces, and the same list as another cluster reports it (a GKE cluster has
  // the same four namespaces under other uids): each cluster its own namespaces.
  std::string eks = Data("k3s/namespaces.json");
  Json gke = DataJson("k3s/namespaces.json");
  for (auto& ns : gke["items"])
    ns["metadata"]["uid"] = "gke-" + ns["metadata"]["uid"].get<std::string>();
  TestDb t;
  DryThenApply(t, "kubernetes", eks, "k8s", false, "eks-prod");
  ImportReport r = DryThenApply(t, "kubernetes", gke.dump(), "k8s", false, "gke-dev");
  CHECK(r.created == 4);
  CHECK(r.identity_conflicts.empty());  // other scope: not even a candidate
  std::vector<const CiRecord*> ks;
  for (const CiRecord* c : All(t, "K8sNamespace"))
    if (c->attrs.Get("name") == Value("kube-system")) ks.push_back(c);
  REQUIRE(ks.size() == 2);
  CHECK(ks[0]->attrs.Get("cluster") != ks[1]->attrs.Get("cluster"));
  // Pods that name their namespace only (no Namespace object, no uid): found in their own
  // cluster, never in the other.
  Json pods = DataJson("k3s/pods-default.json");
  ImportReport p1 = DryThenApply(t, "kubernetes", pods.dump(), "k8s", false, "eks-prod");
  for (auto& pod : pods["items"])  // the other cluster's pods have their own uids
    pod["metadata"]["uid"] = "gke-" + pod["metadata"]["uid"].get<std::string>();
  ImportReport p2 = DryThenApply(t, "kubernetes", pods.dump(), "k8s", false, "gke-dev");
  CHECK(p1.created == p2.created);
  size_t defaults = 0;
  for (const CiRecord* c : All(t, "K8sNamespace"))
    defaults += c->attrs.Get("name") == Value("default");
  CHECK(defaults == 2);
  // Without a cluster, the same names still never merge across uids: reported and created.
  Json other = DataJson("k3s/namespaces.json");
  for (auto& ns : other["items"])
    ns["metadata"]["uid"] = "x-" + ns["metadata"]["uid"].get<std::string>();
  ImportReport r3 = DryThenApply(t, "kubernetes", other.dump(), "k8s");
  CHECK(r3.created == 4);
  REQUIRE(r3.identity_conflicts.size() == 4);
  // Unscoped, a name finds both clusters' namespaces; each uid contradicts it.
  CHECK(r3.identity_conflicts[0].reason == "contradicted");
  CHECK(r3.identity_conflicts[0].matches.size() == 2);
}

TEST_CASE("identity: ON CONFLICT REFUSE leaves the candidate and what depends on it out") {
  TestDb t;
  Schema next = *t.db->schema();
  REQUIRE(ddl::ApplyDdl("ALTER NODE TYPE Subnet SET IDENTIFIED BY STRONG (cloud_id) SCOPED BY "
                        "(account_id, region) ON CONFLICT REFUSE;",
                        next)
              .ok());
  REQUIRE(t.db->ChangeSchema(TxMeta{"test", "schema", "", ""}, next).ok());
  Import(t, "aws", Data("aws/ec2-describe-vpcs.json"), "aws");
  // Two subnets of the real file, the second renamed to the first's Name.
  Json doc = DataJson("aws/ec2-describe-subnets.json");
  Json& subnets = doc["Subnets"];
  subnets[1]["Tags"] = subnets[0].contains("Tags") ? subnets[0]["Tags"] : Json::array();
  if (subnets[1]["Tags"].empty()) {
    subnets[0]["Tags"] = Json::array({{{"Key", "Name"}, {"Value", "shared"}}});
    subnets[1]["Tags"] = subnets[0]["Tags"];
  }
  ImportReport r = DryThenApply(t, "aws", doc.dump(), "aws");
  CHECK(r.created == int64_t(subnets.size()) - 1);
  REQUIRE(r.identity_conflicts.size() == 1);
  CHECK(r.identity_conflicts[0].policy == IdentifyConflict::kRefuse);
  CHECK(r.identity_conflicts[0].location == "$.Subnets[1]");
  REQUIRE(r.skipped.size() == 2);
  CHECK(r.skipped[0].location == "$.Subnets[1]");
  CHECK(r.skipped[0].message ==
        "refused by identification: contradicted match on name (Subnet ON CONFLICT REFUSE)");
  CHECK(r.skipped[1].message == "relationship CONTAINS: '" + std::string("aws:") +
                                    subnets[1]["SubnetId"].get<std::string>() +
                                    "' was refused by identification");
  CHECK_FALSE(With(t, "Subnet", "cloud_id", Value(subnets[1]["SubnetId"].get<std::string>())));
}

TEST_CASE("identity: host-local addresses belong to their host") {
  Json facts = DataJson("ansible-cmdb-setup-centos.dev.local.json")["ansible_facts"];
  auto host = [&](const std::string& name, const std::string& serial) {
    Json f = facts;
    f["ansible_hostname"] = name;
    f["ansible_fqdn"] = name + ".local";
    f["ansible_product_serial"] = serial;
    f["ansible_default_ipv4"]["macaddress"] = "08:00:27:00:00:" + serial;
    f["ansible_default_ipv4"]["address"] = "192.168.56." + serial;
    f["ansible_eth0"]["ipv4"]["address"] = "192.168.56." + serial;
    // Both have docker0 with docker's default address.
    f["ansible_interfaces"].push_back("docker0");
    f["ansible_docker0"] = {{"device", "docker0"}, {"ipv4", {{"address", "172.17.0.1"}}}};
    return f;
  };
  Json inventory = {{"a", host("alpha", "21")}, {"b", host("beta", "22")}};
  TestDb t;
  DryThenApply(t, "ansible", inventory.dump(), "ansible");
  std::map<std::string, std::string> docker;
  for (const CiRecord* ip : All(t, "IPAddress")) {
    if (ip->attrs.Get("address") == Value("172.17.0.1"))
      docker[std::string(ip->attrs.Get("host").as_string())] = ip->attrs.Get("name").as_string();
  }
  // Scoped by the host's name and serial number.
  CHECK(docker == std::map<std::string, std::string>{{"alpha.local/21", "172.17.0.1%alpha.local"},
                                                     {"beta.local/22", "172.17.0.1%beta.local"}});
  ImportReport again = DryThenApply(t, "ansible", inventory.dump(), "ansible");
  CHECK(again.created == 0);
  // Two hosts of one name (different serials), each with a Docker network on a br- bridge and a
  // Kubernetes cni0: every bridge address is its host's own, and neither host's address is one.
  auto bridged = [&](const std::string& serial) {
    Json f = host("web", serial);
    f["ansible_interfaces"].push_back("br-5f0c1e2d3a4b");
    f["ansible_br_5f0c1e2d3a4b"] = {{"device", "br-5f0c1e2d3a4b"}, {"ipv4", {{"address", "172.18.0.1"}}}};
    f["ansible_interfaces"].push_back("cni0");
    f["ansible_cni0"] = {{"device", "cni0"}, {"ipv4", {{"address", "10.42.0.1"}}}};
    return f;
  };
  TestDb same;
  DryThenApply(same, "ansible", Json{{"a", bridged("31")}, {"b", bridged("32")}}.dump(), "ansible");
  std::multimap<std::string, std::string> scoped;
  for (const CiRecord* ip : All(same, "IPAddress")) {
    Value h = ip->attrs.Get("host");
    std::string address(ip->attrs.Get("address").as_string());
    if (address.find(':') != std::string::npos) continue;  // the facts' IPv6 addresses
    scoped.emplace(address, h.is_null() ? "-" : std::string(h.as_string()));
  }
  CHECK(scoped == std::multimap<std::string, std::string>{
                      {"10.42.0.1", "web.local/31"}, {"10.42.0.1", "web.local/32"},
                      {"172.17.0.1", "web.local/31"}, {"172.17.0.1", "web.local/32"},
                      {"172.18.0.1", "web.local/31"}, {"172.18.0.1", "web.local/32"},
                      {"192.168.56.31", "-"}, {"192.168.56.32", "-"},
                      {"192.168.56.8", "-"}});  // in both copies' ansible_all_ipv4_addresses
  // Two containers on a Compose network, both at 172.18.0.2: two CIs, each with its own address.
  auto container = [&](const std::string& id) {
    Json f = {{"ansible_hostname", id}, {"ansible_virtualization_role", "guest"},
              {"ansible_virtualization_type", "docker"},
              {"ansible_default_ipv4", {{"address", "172.18.0.2"}, {"interface", "eth0"}}},
              {"ansible_interfaces", {"lo", "eth0"}},
              {"ansible_eth0", {{"device", "eth0"}, {"ipv4", {{"address", "172.18.0.2"}}}}}};
    return f;
  };
  TestDb boxes;
  DryThenApply(boxes, "ansible", Json{{"ansible_facts", container("aaaa11112222")}}.dump(), "ansible");
  ImportReport second =
      DryThenApply(boxes, "ansible", Json{{"ansible_facts", container("bbbb33334444")}}.dump(), "ansible");
  CHECK(second.updated == 0);
  CHECK(second.merges.empty());
  std::set<std::string> names;
  for (const CiRecord* c : All(boxes, "Computer")) names.insert(std::string(c->attrs.Get("name").as_string()));
  CHECK(names == std::set<std::string>{"aaaa11112222", "bbbb33334444"});
}

TEST_CASE("full scan: a describe-instances file marks only instances (and their addresses) stale") {
  TestDb t;
  Import(t, "aws", Data("aws/ec2-describe-vpcs.json"), "aws", false, true);
  Import(t, "aws", Data("aws/ec2-describe-subnets.json"), "aws", false, true);
  Import(t, "aws", Data("aws/ec2-describe-instances.json"), "aws", false, true);
  // One instance gone: it (and its containment) is stale; VPC and subnets are not.
  Json doc = DataJson("aws/ec2-describe-instances.json");
  doc["Reservations"][0]["Instances"].erase(2);
  ImportReport r = DryThenApply(t, "aws", doc.dump(), "aws", true);
  CHECK(r.stale == 2);        // it and its address
  CHECK(r.rels_stale == 2);  // its containment in its subnet and HAS_ADDRESS to its address
  REQUIRE(r.changes.size() == 2);
  CHECK(std::set<std::string>{r.changes[0].class_name, r.changes[1].class_name} ==
        std::set<std::string>{"VirtualMachine", "IPAddress"});
  for (const CiRecord* s : All(t, "Subnet")) CHECK(s->attrs.Get("status") == Value("live"));
  // A ReplicaSet list says nothing of Deployments (both K8sWorkload): only ReplicaSets go stale.
  TestDb k;
  Import(k, "kubernetes", Data("k3s/deployments-default.json"), "k8s", false, true);
  ImportReport rs =
      DryThenApply(k, "kubernetes", R"({"kind": "ReplicaSetList", "items": []})", "k8s", true);
  CHECK(rs.stale == 0);
  // A DeploymentList of namespace default with one Deployment: the two others go stale.
  Json one = DataJson("k3s/deployments-default.json");
  one["items"].erase(2);
  one["items"].erase(1);
  ImportReport deps = DryThenApply(k, "kubernetes", one.dump(), "k8s", true);
  CHECK(deps.stale == 2);
}

// Generated inventories: observations of machines, each machine with its own cloud id, serial
// number and MAC, each observation showing a random subset of them under a name drawn from a
// pool of three (so names collide across machines), imported in random batches. Which CI each
// observation became is read from identification itself (Identify on the same committed state,
// then the created ids from the apply's changes). The oracle, by brute force over every pair of
// observations imported so far: two whose values of one strong identifier differ never share a
// CI (and a CI holds every strong value of each observation in it). Re-imports change nothing,
// and every dry run reports what the apply then does.
TEST_CASE("identity property: items with different strong identifiers never share a CI") {
  std::mt19937 rng(20261203);
  const char* kStrong[] = {"cloud_id", "serial_number", "mac_address"};
  for (int round = 0; round < 10; ++round) {
    TestDb t;
    struct Item {
      std::string values[3];  // per kStrong; "" when not shown
      CiId ci = 0;
    };
    std::vector<Item> seen;
    const int machines = 2 + int(rng() % 5);
    for (int batch = 0; batch < 4; ++batch) {
      std::vector<Item> items;
      std::ostringstream ndjson;
      const int n = 1 + int(rng() % 6);
      for (int i = 0; i < n; ++i) {
        Item it;
        int m = int(rng() % machines);
        Json attrs = {{"name", "host-" + std::to_string(rng() % 3)}};
        for (int k = 0; k < 3; ++k) {
          if (rng() % 2) continue;
          it.values[k] = std::string(k == 0   ? "i-"
                                     : k == 1 ? "SN"
                                              : "02:00:00:00:00:") +
                         std::to_string(10 + m);
          attrs[kStrong[k]] = it.values[k];
        }
        ndjson << Json{{"op", "ci"}, {"class", "VirtualMachine"}, {"attributes", attrs}}.dump()
               << "\n";
        items.push_back(it);
      }
      // Identification on the state the import will see.
      CandidateSet set;
      auto schema = t.db->schema();
      REQUIRE(ParseSource("ndjson", ndjson.str(), {"", schema.get()}, set).ok());
      ImportReport scratch;
      IdentifiedSet ids;
      {
        ReadView v = t.db->Read();
        ids = Identify(v.graph(), v.schema(), set, scratch);
      }
      ImportReport applied = DryThenApply(t, "ndjson", ndjson.str(), "gen");
      CHECK(scratch.merged == applied.merged);  // the import identified as Identify did
      CHECK(scratch.identity_conflicts.size() == applied.identity_conflicts.size());
      size_t refused = 0;
      for (size_t i = 0; i < items.size(); ++i) {
        if (ids.slot[i] == IdentifiedSet::kRefused) {  // several CIs match: left out, reported
          ++refused;
          continue;
        }
        REQUIRE(ids.slot[i] < ids.cis.size());
        const IdentifiedCi& r = ids.cis[ids.slot[i]];
        items[i].ci = r.existing;
        for (const auto& c : applied.changes) {
          if (!r.existing && c.op == ImportOp::kCreate && c.location == r.location)
            items[i].ci = c.id;
        }
        REQUIRE(items[i].ci != 0);
      }
      CHECK(applied.skipped.size() == refused);
      for (const Item& it : items) {
        if (it.ci) seen.push_back(it);
      }
      {
        ReadView v = t.db->Read();
        for (const Item& it : seen) {
          const CiRecord* c = v.graph().FindCi(it.ci);
          REQUIRE(c);
          for (int k = 0; k < 3; ++k) {
            if (!it.values[k].empty()) CHECK(c->attrs.Get(kStrong[k]) == Value(it.values[k]));
          }
        }
      }
      for (size_t a = 0; a < seen.size(); ++a) {
        for (size_t b = a + 1; b < seen.size(); ++b) {
          bool differ = false;
          for (int k = 0; k < 3; ++k) {
            differ = differ || (!seen[a].values[k].empty() && !seen[b].values[k].empty() &&
                                seen[a].values[k] != seen[b].values[k]);
          }
          if (differ) CHECK(seen[a].ci != seen[b].ci);
        }
      }
      // Idempotent: the same batch again changes nothing.
      ImportReport again = DryThenApply(t, "ndjson", ndjson.str(), "gen");
      INFO(ndjson.str() << "first:\n" << Summary(applied) << "again:\n" << Summary(again));
      CHECK(again.created == 0);
      CHECK(again.updated == 0);
      CHECK(again.changes.empty());
    }
  }
}

TEST_CASE("identity: a CI found cannot take a name another CI holds; the refusal is reported") {
  TestDb t;
  CiId a = t.Create("VirtualMachine", cmdb::testing::Attrs({{"name", "a"}, {"fqdn", "a.x.org"}}));
  CiId b = t.Create("VirtualMachine", cmdb::testing::Attrs({{"name", "b"}, {"fqdn", "b.x.org"}}));
  // Identified by its FQDN as 'a', the candidate would rename it to 'b', which 'b' holds as its
  // KEY, and it has no strong identifier to qualify the name with: 'a' keeps its name.
  const std::string line =
      R"({"op": "ci", "class": "VirtualMachine", "attributes": {"name": "b", "fqdn": "a.x.org", "os": "Linux"}})";
  ImportReport r = DryThenApply(t, "ndjson", line, "ndjson");
  CHECK(r.updated == 1);
  REQUIRE(r.conflicts.size() == 1);
  CHECK(r.conflicts[0].id == a);
  CHECK(r.conflicts[0].attribute == "name");
  CHECK(r.conflicts[0].owner == "key");
  CHECK(r.conflicts[0].refused == Value("b"));
  CHECK(r.conflicts[0].kept == Value("a"));
  ReadView v = t.db->Read();
  CHECK(v.graph().FindCi(a)->attrs.Get("name") == Value("a"));
  CHECK(v.graph().FindCi(a)->attrs.Get("os") == Value("Linux"));
  CHECK(v.graph().FindCi(b)->attrs.Get("name") == Value("b"));
}

TEST_CASE("lifecycle: a terminated Terraform instance is retired, a deleting RDS instance too") {
  Json vm = {{"id", "i-0aaa"}, {"instance_state", "terminated"}, {"private_ip", "10.1.0.5"},
             {"arn", "arn:aws:ec2:eu-west-1:123456789012:instance/i-0aaa"},
             {"tags", {{"Name", "app"}}}};
  Json up = vm;
  up["id"] = "i-0bbb";
  up["instance_state"] = "running";
  up["arn"] = "arn:aws:ec2:eu-west-1:123456789012:instance/i-0bbb";
  TestDb t;
  DryThenApply(t, "terraform", TfState({{"aws_instance", "app", {vm, up}}}).dump(), "terraform");
  const CiRecord* dead = With(t, "VirtualMachine", "cloud_id", Value("i-0aaa"));
  const CiRecord* live = With(t, "VirtualMachine", "cloud_id", Value("i-0bbb"));
  REQUIRE(dead);
  REQUIRE(live);
  CHECK(dead->attrs.Get("status") == Value("retired"));
  CHECK(live->attrs.Get("status") == Value("live"));
  // The real RDS output, its instance being deleted.
  Json rds = DataJson("aws/rds-describe-db-instances.json");
  rds["DBInstances"][0]["DBInstanceStatus"] = "deleting";
  Import(t, "aws", Data("aws/ec2-describe-vpcs.json"), "aws");
  Import(t, "aws", Data("aws/ec2-describe-subnets.json"), "aws");
  DryThenApply(t, "aws", rds.dump(), "aws");
  REQUIRE(All(t, "DatabaseInstance").size() == 1);
  CHECK(All(t, "DatabaseInstance")[0]->attrs.Get("status") == Value("retired"));
}

TEST_CASE("identity: an nmap upper-case MAC and Ansible's lower-case one are one CI, no conflict") {
  // nmap prints MACs in upper case, Ansible in lower case: the same machine, seen by both.
  std::string scan = R"(<?xml version="1.0"?><nmaprun scanner="nmap" version="7.94">
<host><status state="up"/><address addr="192.168.56.11" addrtype="ipv4"/>
<address addr="08:00:27:F9:98:A7" addrtype="mac"/></host></nmaprun>)";
  Json facts = DataJson("ansible-cmdb-setup-centos.dev.local.json")["ansible_facts"];
  facts["ansible_default_ipv4"]["macaddress"] = "08:00:27:f9:98:a7";
  facts["ansible_default_ipv4"]["address"] = "192.168.56.11";
  facts["ansible_eth0"]["macaddress"] = "08:00:27:f9:98:a7";
  facts["ansible_eth0"]["ipv4"]["address"] = "192.168.56.11";
  TestDb t;
  ImportReport n = DryThenApply(t, "nmap", scan, "nmap");
  CHECK(n.skipped.empty());
  REQUIRE(All(t, "Computer").size() == 1);
  CHECK(All(t, "Computer")[0]->attrs.Get("mac_address") == Value("08:00:27:f9:98:a7"));
  ImportReport a = DryThenApply(t, "ansible", Json{{"ansible_facts", facts}}.dump(), "ansible");
  CHECK(a.identity_conflicts.empty());
  for (const ImportChange& c : a.changes)  // the host is updated, only addresses are new
    CHECK_FALSE((c.op == ImportOp::kCreate && c.class_name != "IPAddress"));
  REQUIRE(All(t, "Computer").size() == 1);
  const CiRecord* host = All(t, "Computer")[0];
  CHECK(host->attrs.Get("mac_address") == Value("08:00:27:f9:98:a7"));
  CHECK(host->attrs.Get("ip_address") == Value("192.168.56.11"));
  CHECK(host->attrs.Get("fqdn") == facts["ansible_fqdn"].get<std::string>());
}

TEST_CASE("identity: two Ansible hosts with the serial 'Default string' are two CIs") {
  // Cheap boards print "Default string" as their serial; neither host has a usable MAC (all
  // zeros, broadcast). Names and IPs differ: two machines, no conflict.
  Json facts = DataJson("ansible-cmdb-setup-centos.dev.local.json")["ansible_facts"];
  auto host = [&](const std::string& name, const std::string& serial, const std::string& mac,
                  const std::string& ip) {
    Json f = facts;
    f["ansible_hostname"] = name;
    f["ansible_fqdn"] = name + ".example.net";
    f["ansible_product_serial"] = serial;
    f["ansible_default_ipv4"]["macaddress"] = mac;
    f["ansible_default_ipv4"]["address"] = ip;
    f["ansible_eth0"]["macaddress"] = mac;
    f["ansible_eth0"]["ipv4"]["address"] = ip;
    f["ansible_all_ipv4_addresses"] = Json::array({ip});
    return f;
  };
  Json inventory = {
      {"a", host("alpha", "Default string", "00:00:00:00:00:00", "192.168.56.21")},
      {"b", host("beta", " DEFAULT STRING ", "FF:FF:FF:FF:FF:FF", "192.168.56.22")}};
  TestDb t;
  ImportReport r = DryThenApply(t, "ansible", inventory.dump(), "ansible");
  CHECK(r.merged == 0);
  CHECK(r.identity_conflicts.empty());
  CHECK(r.skipped.empty());  // placeholders are dropped without a word: they are documented
  REQUIRE(All(t, "Computer").size() == 2);
  for (const CiRecord* c : All(t, "Computer")) {
    CHECK_FALSE(c->attrs.Has("serial_number"));
    CHECK_FALSE(c->attrs.Has("mac_address"));
  }
  CHECK(With(t, "Computer", "name", Value("alpha.example.net")));
  CHECK(With(t, "Computer", "name", Value("beta.example.net")));
  ImportReport again = DryThenApply(t, "ansible", inventory.dump(), "ansible");
  CHECK(again.created == 0);
  CHECK(again.updated == 0);
}

TEST_CASE("identity: a malformed MAC is not an identifier, and is reported") {
  // Two hosts that report the same malformed MAC: two CIs, each told in skipped.
  std::string scan = R"(<?xml version="1.0"?><nmaprun scanner="nmap" version="7.94">
<host><status state="up"/><address addr="192.0.2.1" addrtype="ipv4"/>
<address addr="zz:zz" addrtype="mac"/></host>
<host><status state="up"/><address addr="192.0.2.2" addrtype="ipv4"/>
<address addr="zz:zz" addrtype="mac"/></host></nmaprun>)";
  TestDb t;
  ImportReport r = DryThenApply(t, "nmap", scan, "nmap");
  REQUIRE(All(t, "Computer").size() == 2);
  for (const CiRecord* c : All(t, "Computer")) CHECK_FALSE(c->attrs.Has("mac_address"));
  CHECK(r.merged == 0);
  CHECK(r.identity_conflicts.empty());
  CandidateSet set;
  REQUIRE(ParseSource("nmap", scan, {}, set).ok());
  REQUIRE(set.skipped.size() == 2);
  CHECK(set.skipped[0].location == "<host> #1 (line 2) mac address");
  CHECK(set.skipped[0].message == "not a MAC address: \"zz:zz\" (not used as an identifier)");
  // Ansible: the default interface's malformed MAC is not the host's.
  Json facts = DataJson("ansible-cmdb-setup-centos.dev.local.json")["ansible_facts"];
  facts["ansible_default_ipv4"]["macaddress"] = "zz:zz";
  CandidateSet aset;
  REQUIRE(ParseSource("ansible", Json{{"ansible_facts", facts}}.dump(), {}, aset).ok());
  REQUIRE(aset.skipped.size() == 1);
  CHECK(aset.skipped[0].location == "$.ansible_facts ansible_default_ipv4.macaddress");
  CHECK(aset.skipped[0].message == "not a MAC address: \"zz:zz\" (not used as an identifier)");
  auto h = std::find_if(aset.cis.begin(), aset.cis.end(),
                        [](const Candidate& c) { return c.class_name != "IPAddress"; });
  REQUIRE(h != aset.cis.end());
  CHECK_FALSE(h->attrs.Has("mac_address"));
  // The interface's own (well-formed) MAC still goes with its address, not with the host.
  auto ip = std::find_if(aset.cis.begin(), aset.cis.end(),
                         [](const Candidate& c) { return c.class_name == "IPAddress"; });
  REQUIRE(ip != aset.cis.end());
  CHECK(ip->attrs.Get("mac_address") == Value("08:00:27:7b:c9:a5"));
}
