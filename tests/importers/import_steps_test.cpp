// The steps of an import one by one (identify.hpp, reconcile.hpp, mark_stale.hpp): each given
// its input by hand and run on its own, the staging ones inside a dry-run write.
#include <catch2/catch.hpp>

#include "cmdb/time_util.hpp"
#include "importers/formats.hpp"
#include "importers/identify.hpp"
#include "importers/mark_stale.hpp"
#include "importers/reconcile.hpp"
#include "test_util.hpp"

using namespace cmdb;
using namespace cmdb::importers;
using cmdb::testing::Attrs;
using cmdb::testing::TestDb;

namespace {

Precedence DefaultOrder() {
  Precedence p;
  p.order = {"manual", "terraform", "aws", "kubernetes", "ansible", "csv", "ndjson", "nmap"};
  return p;
}

// Imports NDJSON text as `source` (full scan when asked); fails the test on any error.
void Apply(TestDb& t, const std::string& text, const std::string& source, bool full = false) {
  CandidateSet set;
  REQUIRE(ParseSource("ndjson", text, {"", t.db->schema().get()}, set).ok());
  ImportOptions opt;
  opt.source = source;
  opt.full_scan = full;
  opt.precedence = DefaultOrder();
  ImportReport report;
  Status st = RunImport(*t.db, set, opt, report);
  INFO(st.ToString());
  REQUIRE(st.ok());
}

Candidate Cand(const std::string& ref, const std::string& cls, AttrMap attrs,
               const std::string& location, const std::string& parent = "") {
  Candidate c;
  c.ref = ref;
  c.class_name = cls;
  c.attrs = std::move(attrs);
  c.location = location;
  c.parent_ref = parent;
  return c;
}

std::vector<std::string> Errors(const ImportReport& report) {
  std::vector<std::string> out;
  for (const auto& e : report.errors) out.push_back(e.location + ": " + e.message);
  return out;
}

// Runs `steps` on a transaction that is then discarded; fails the test when it does not succeed.
void InDryRun(TestDb& t, const std::function<void(Txn&)>& steps) {
  auto dry = t.db->DryRunWrite(TxMeta{}, [&](Txn& txn) {
    steps(txn);
    return Status::Ok();
  });
  INFO(dry.status().ToString());
  REQUIRE(dry.ok());
}

}  // namespace

TEST_CASE("identify: existing CIs by rule, merges inside the import, parents first, refusals") {
  TestDb t;
  CiId web = t.Create("VirtualMachine", Attrs({{"name", "web-1"}, {"fqdn", "web-1.x.org"}}));
  CandidateSet set;
  set.cis = {
      Cand("pod", "K8sPod", Attrs({{"name", "web"}}), "item 0", "ns"),
      Cand("host", "DiscoveredHost",
           Attrs({{"name", "web-1"}, {"fqdn", "web-1.x.org"}, {"os", "Linux"}}), "item 1"),
      Cand("b", "VirtualMachine", Attrs({{"name", "new-1"}, {"fqdn", "new-1.x.org"}, {"os", "A"}}),
           "item 2"),
      Cand("c", "VirtualMachine",
           Attrs({{"name", "new-1b"},
                  {"fqdn", "new-1.x.org"},
                  {"os", "B"},
                  {"cpu_count", int64_t{2}}}),
           "item 3"),
      Cand("d", "Nope", Attrs({{"name", "x"}}), "item 4"),
      Cand("e", "K8sPod", Attrs({{"name", "x"}}), "item 5", "missing"),
      Cand("f", "VirtualMachine", Attrs({{"name", "y"}, {"cpu_count", "four"}}), "item 6"),
      Cand("ns", "K8sNamespace", Attrs({{"name", "prod"}}), "item 7"),
  };
  set.strict_types = true;  // as ndjson and CSV read (discovery formats skip such a value)
  ImportReport report;
  ReadView view = t.db->Read();
  IdentifiedSet ids = Identify(view.graph(), view.schema(), set, report);
  CHECK(Errors(report) == std::vector<std::string>{
                              "item 4: unknown class 'Nope'",
                              "item 5: its parent 'missing' is not in the source",
                              "item 6: VirtualMachine.cpu_count: expected INT, got STRING 'four'",
                          });
  CHECK(report.merged == 1);
  CHECK(report.changes.empty());
  REQUIRE(ids.cis.size() == 4);
  // The DiscoveredHost is the existing VirtualMachine (same FQDN rule of Computer) and keeps its
  // class.
  CHECK(ids.cis[0].existing == web);
  CHECK(ids.cis[0].class_name == "VirtualMachine");
  CHECK(ids.cis[0].first == 1);
  CHECK(ids.cis[0].location == "item 1");
  CHECK(ids.cis[0].attrs.Get("os") == Value("Linux"));
  CHECK_FALSE(ids.cis[0].reference_only);
  // Two candidates with one FQDN are one new CI: the first value of each attribute wins.
  CHECK(ids.cis[1].existing == 0);
  CHECK(ids.cis[1].attrs.Get("name") == Value("new-1"));
  CHECK(ids.cis[1].attrs.Get("os") == Value("A"));
  CHECK(ids.cis[1].attrs.Get("cpu_count") == Value(int64_t{2}));
  // The namespace before the pod that depends on it, though the pod came first.
  CHECK(ids.cis[2].class_name == "K8sNamespace");
  CHECK(ids.cis[3].class_name == "K8sPod");
  CHECK(ids.cis[3].first == 0);
  const size_t no = IdentifiedSet::kUnidentified;
  CHECK(ids.slot == std::vector<size_t>{3, 0, 1, 1, no, no, no, 2});
  CHECK(ids.FindRef("c") == &ids.cis[1]);
  CHECK(ids.FindRef("b") == &ids.cis[1]);
  CHECK(ids.FindRef("d") == nullptr);
  CHECK(ids.FindRef("zzz") == nullptr);
}

TEST_CASE("identify: a dependent identity is found only inside its parent") {
  TestDb t;
  Apply(t,
        R"({"op": "ci", "ref": "ns", "class": "K8sNamespace", "attributes": {"name": "a"}}
{"op": "ci", "ref": "p", "class": "K8sPod", "attributes": {"name": "web"}}
{"op": "rel", "type": "CONTAINS", "from": {"ref": "ns"}, "to": {"ref": "p"}})",
        "kubernetes");
  CandidateSet set;
  set.cis = {Cand("ns-a", "K8sNamespace", Attrs({{"name", "a"}}), "1"),
             Cand("ns-b", "K8sNamespace", Attrs({{"name", "b"}}), "2"),
             Cand("pod-a", "K8sPod", Attrs({{"name", "web"}}), "3", "ns-a"),
             Cand("pod-b", "K8sPod", Attrs({{"name", "web"}}), "4", "ns-b")};
  ImportReport report;
  ReadView view = t.db->Read();
  IdentifiedSet ids = Identify(view.graph(), view.schema(), set, report);
  CHECK(report.errors.empty());
  REQUIRE(ids.cis.size() == 4);
  CHECK(ids.FindRef("ns-a")->existing != 0);
  CHECK(ids.FindRef("ns-b")->existing == 0);
  CHECK(ids.FindRef("pod-a")->existing != 0);  // 'web' inside 'a': the pod imported before
  CHECK(ids.FindRef("pod-b")->existing == 0);  // 'web' inside the new 'b': another pod
}

TEST_CASE("reconcile CIs: create, update, conflicts, provenance; a missing reference refused") {
  TestDb t;
  Apply(
      t,
      R"({"op": "ci", "class": "VirtualMachine", "attributes": {"name": "app-1", "fqdn": "app-1.x.org", "os": "Ubuntu"}})",
      "ansible");
  const CiId app = 1;
  CandidateSet set;
  set.cis = {Cand("a", "VirtualMachine", {}, "line 1"), Cand("n", "VirtualMachine", {}, "line 2"),
             Cand("g", "VirtualMachine", {}, "line 3")};
  IdentifiedSet ids;
  ids.cis = {
      {0, "VirtualMachine",
       Attrs({{"name", "app-1"},
              {"fqdn", "app-1.x.org"},
              {"os", "Linux"},
              {"cpu_count", int64_t{4}}}),
       app, false, "line 1"},
      {1, "VirtualMachine", Attrs({{"name", "new-1"}}), 0, false, "line 2"},
      {2, "VirtualMachine", Attrs({{"name", "ghost"}}), 0, true, "line 3"},
  };
  ImportOptions opt;
  opt.source = "nmap";
  opt.precedence = DefaultOrder();
  const int64_t now = t.db->clock().NowMicros();
  ImportReport report;
  InDryRun(t, [&](Txn& txn) {
    ReconciledSet out = ReconcileCis(txn, set, ids, opt, now, report);
    CHECK(out.ids == std::vector<CiId>{app, 2, 0});
    CHECK(out.cis_seen == std::unordered_set<CiId>{app, 2});
    CHECK(out.rels_seen.empty());
    // Staged: the allowed value, not the refused one; the new CI.
    CHECK(txn.GetCi(app)->attrs.Get("cpu_count") == Value(int64_t{4}));
    CHECK(txn.GetCi(app)->attrs.Get("os") == Value("Ubuntu"));
    REQUIRE(txn.GetCi(2));
    // Provenance: nmap owns what it wrote, ansible keeps 'os'.
    const Provenance* mine = txn.GetProvenance(false, app, "nmap");
    REQUIRE(mine);
    CHECK(mine->last_seen == now);
    CHECK(mine->owned.Has("cpu_count"));
    CHECK_FALSE(mine->owned.Has("os"));
    CHECK(txn.GetProvenance(false, app, "ansible")->owned.Has("os"));
    REQUIRE(txn.GetProvenance(false, 2, "nmap"));
    CHECK(txn.GetProvenance(false, 2, "nmap")->owned.Has("name"));
  });
  CHECK(Errors(report) ==
        std::vector<std::string>{"line 3: references a VirtualMachine that is not in the CMDB"});
  CHECK(report.created == 1);
  CHECK(report.updated == 1);
  CHECK(report.unchanged == 0);
  REQUIRE(report.conflicts.size() == 1);
  CHECK(report.conflicts[0].id == app);
  CHECK(report.conflicts[0].attribute == "os");
  CHECK(report.conflicts[0].owner == "ansible");
  CHECK(report.conflicts[0].location == "line 1");
  CHECK(report.conflicts[0].refused == Value("Linux"));
  CHECK(report.conflicts[0].kept == Value("Ubuntu"));
  REQUIRE(report.changes.size() == 2);
  const ImportChange& update = report.changes[0];
  CHECK(update.op == ImportOp::kUpdate);
  CHECK(update.id == app);
  CHECK(update.name == "app-1");
  REQUIRE(update.attrs.size() == 1);
  CHECK(update.attrs[0].name == "cpu_count");
  CHECK(update.attrs[0].before.is_null());
  CHECK(update.attrs[0].after == Value(int64_t{4}));
  const ImportChange& create = report.changes[1];
  CHECK(create.op == ImportOp::kCreate);
  CHECK(create.id == 2);
  CHECK(create.class_name == "VirtualMachine");
  CHECK(create.name == "new-1");
  CHECK(create.location == "line 2");
  // Nothing of it was kept.
  CHECK(t.db->Read().graph().ci_count() == 1);
  CHECK(t.db->Read().graph().FindCi(app)->attrs.Get("cpu_count").is_null());
}

TEST_CASE("reconcile relationships: each counted once, with provenance; bad ones refused") {
  TestDb t;
  CiId host = t.Create("DiscoveredHost", Attrs({{"name", "h1"}}));
  CiId ip = t.Create("IPAddress", Attrs({{"name", "10.0.0.1"}, {"address", "10.0.0.1"}}));
  CandidateSet set;
  set.cis = {Cand("h", "DiscoveredHost", {}, "line 1"), Cand("ip", "IPAddress", {}, "line 2")};
  auto rel = [](const std::string& type, const std::string& from, const std::string& to,
                const std::string& location) {
    CandidateRel r;
    r.type = type;
    r.from_ref = from;
    r.to_ref = to;
    r.location = location;
    return r;
  };
  set.rels = {rel("HAS_ADDRESS", "h", "ip", "line 3"), rel("HAS_ADDRESS", "h", "ip", "line 4"),
              rel("HAS_ADDRESS", "h", "zzz", "line 5"), rel("HAS_ADDRESS", "ip", "h", "line 6")};
  IdentifiedSet ids;
  ids.cis = {{0, "DiscoveredHost", {}, host, true, "line 1"},
             {1, "IPAddress", {}, ip, true, "line 2"}};
  ids.slot = {0, 1};
  ids.by_ref = {{"h", 0}, {"ip", 1}};
  ImportOptions opt;
  opt.source = "scan";
  const int64_t now = t.db->clock().NowMicros();
  ImportReport report;
  InDryRun(t, [&](Txn& txn) {
    ReconciledSet reconciled;
    reconciled.ids = {host, ip};
    ReconcileRels(txn, set, ids, opt, now, reconciled, report);
    REQUIRE(reconciled.rels_seen.size() == 1);
    RelId r = *reconciled.rels_seen.begin();
    CHECK(txn.GetRel(r)->from == host);
    const Provenance* p = txn.GetProvenance(true, r, "scan");
    REQUIRE(p);
    CHECK(p->last_seen == now);
    CHECK_FALSE(p->stale);
  });
  CHECK(report.rels_created == 1);
  CHECK(report.rels_unchanged == 0);
  CHECK(Errors(report) ==
        std::vector<std::string>{
            "line 5: relationship HAS_ADDRESS names 'zzz', which is not in the source",
            "line 6: relationship type HAS_ADDRESS does not connect IPAddress -> DiscoveredHost "
            "(allowed: Computer -> IPAddress, PhysicalServer -> IPAddress, NetworkDevice -> "
            "IPAddress, K8sPod -> IPAddress)",
        });
  CHECK(t.db->Read().graph().rel_count() == 0);
}

TEST_CASE("mark stale: what the source no longer reports, and only that source's") {
  TestDb t;
  Apply(t,
        R"({"op": "ci", "class": "VirtualMachine", "attributes": {"name": "a", "fqdn": "a.x.org"}}
{"op": "ci", "class": "VirtualMachine", "attributes": {"name": "b", "fqdn": "b.x.org"}}
{"op": "ci", "ref": "h", "class": "DiscoveredHost", "attributes": {"name": "h1", "ip_address": "10.1.1.1"}}
{"op": "ci", "ref": "ip", "class": "IPAddress", "attributes": {"name": "10.1.1.1", "address": "10.1.1.1"}}
{"op": "rel", "type": "HAS_ADDRESS", "from": {"ref": "h"}, "to": {"ref": "ip"}})",
        "scan", true);
  Apply(
      t,
      R"({"op": "ci", "class": "VirtualMachine", "attributes": {"name": "other", "fqdn": "o.x.org"}})",
      "ansible");
  const CiId a = 1, b = 2, h = 3, ip = 4, other = 5;
  const RelId rel = 1;
  const Value b_status = t.db->Read().graph().FindCi(b)->attrs.Get("status");
  // What the scan could have contained: every class it reported before.
  CandidateSet scan;
  scan.covers = {{"VirtualMachine", "", Value()}, {"IPAddress", "", Value()}};
  ImportReport report;
  InDryRun(t, [&](Txn& txn) {
    ReconciledSet seen;
    seen.cis_seen = {a, h, ip};
    REQUIRE(MarkStale(txn, "scan", scan, seen, report).ok());
    CHECK(txn.GetCi(b)->attrs.Get("status") == Value("stale"));
    CHECK(txn.GetProvenance(false, b, "scan")->stale);
    CHECK(txn.GetProvenance(true, rel, "scan")->stale);
    CHECK_FALSE(txn.GetProvenance(false, a, "scan")->stale);
    CHECK(txn.GetCi(other)->attrs.Get("status") == b_status);  // another source's CI
  });
  CHECK(report.stale == 1);
  CHECK(report.rels_stale == 1);
  REQUIRE(report.changes.size() == 1);
  const ImportChange& change = report.changes[0];
  CHECK(change.op == ImportOp::kStale);
  CHECK(change.id == b);
  CHECK(change.class_name == "VirtualMachine");
  CHECK(change.name == "b");
  CHECK(change.location.empty());
  REQUIRE(change.attrs.size() == 1);
  CHECK(change.attrs[0].name == "status");
  CHECK(change.attrs[0].before == b_status);
  CHECK(change.attrs[0].after == Value("stale"));
  // Everything seen: nothing to mark.
  ImportReport none;
  InDryRun(t, [&](Txn& txn) {
    ReconciledSet seen;
    seen.cis_seen = {a, b, h, ip};
    seen.rels_seen = {rel};
    REQUIRE(MarkStale(txn, "scan", scan, seen, none).ok());
  });
  CHECK(none.stale == 0);
  CHECK(none.rels_stale == 0);
  CHECK(none.changes.empty());
  // A scan that could only hold IP addresses marks no host stale, nor the relationship between
  // a host and an address (its source end is of a class the scan does not name).
  CandidateSet addresses;
  addresses.covers = {{"IPAddress", "", Value()}};
  ImportReport some;
  InDryRun(t, [&](Txn& txn) {
    ReconciledSet seen;
    REQUIRE(MarkStale(txn, "scan", addresses, seen, some).ok());
    CHECK(txn.GetCi(ip)->attrs.Get("status") == Value("stale"));
    CHECK(txn.GetCi(a)->attrs.Get("status") != Value("stale"));
  });
  CHECK(some.stale == 1);
  CHECK(some.rels_stale == 0);
  // With no covers, the classes of its candidates that are not reference-only.
  CandidateSet hosts;
  hosts.cis = {Cand("x", "DiscoveredHost", {}, "line 1"), Cand("y", "IPAddress", {}, "line 2")};
  hosts.cis[1].reference_only = true;
  ImportReport by_candidates;
  InDryRun(t, [&](Txn& txn) {
    ReconciledSet seen;
    REQUIRE(MarkStale(txn, "scan", hosts, seen, by_candidates).ok());
  });
  CHECK(by_candidates.stale == 3);  // a, b, h: Computers; not the address
  CHECK(by_candidates.rels_stale == 1);
  CHECK(t.db->Read().graph().FindCi(b)->attrs.Get("status") == b_status);
}
