// Impact analysis on a small, realistic topology built through the write path.
#include <catch2/catch.hpp>

#include <map>
#include <set>

#include "analysis/impact.hpp"
#include "test_util.hpp"

using namespace cmdb;
using cmdb::analysis::ImpactDirection;
using cmdb::analysis::ImpactRequest;
using cmdb::analysis::ImpactState;
using cmdb::testing::Attrs;

namespace {

// svc -DEPENDS_ON-> app <-INSTANCE_OF- i1, i2 ; i1 -RUNS_ON-> vm1 -HOSTED_ON-> h1 ; i2 -RUNS_ON->
// vm2 -HOSTED_ON-> h2 ; h1, h2, h3 -MEMBER_OF-> cluster (QUORUM 50%) ; app -USES-> db
struct Topology {
  cmdb::testing::TestDb t;
  CiId svc, app, i1, i2, vm1, vm2, h1, h2, h3, cluster, db;

  Topology() {
    svc = t.Create("BusinessService", Attrs({{"name", "Shop"}, {"criticality", "critical"}}));
    app = t.Create("Application", Attrs({{"name", "shop-app"}}));
    i1 = t.Create("AppInstance", Attrs({{"name", "i1"}}));
    i2 = t.Create("AppInstance", Attrs({{"name", "i2"}}));
    vm1 = t.Create("VirtualMachine", Attrs({{"name", "vm1"}}));
    vm2 = t.Create("VirtualMachine", Attrs({{"name", "vm2"}}));
    h1 = t.Create("PhysicalServer", Attrs({{"name", "h1"}}));
    h2 = t.Create("PhysicalServer", Attrs({{"name", "h2"}}));
    h3 = t.Create("PhysicalServer", Attrs({{"name", "h3"}}));
    cluster = t.Create("HostCluster", Attrs({{"name", "esx"}}));
    db = t.Create("Database", Attrs({{"name", "orders"}}));
    t.Relate("DEPENDS_ON", svc, app);
    t.Relate("INSTANCE_OF", i1, app);
    t.Relate("INSTANCE_OF", i2, app);
    t.Relate("RUNS_ON", i1, vm1);
    t.Relate("RUNS_ON", i2, vm2);
    t.Relate("HOSTED_ON", vm1, h1);
    t.Relate("HOSTED_ON", vm2, h2);
    for (CiId h : {h1, h2, h3}) t.Relate("MEMBER_OF", h, cluster);
    t.Relate("USES", app, db);
  }

  analysis::ImpactResult Run(std::vector<CiId> seeds, ImpactDirection dir = ImpactDirection::kImpacted, int depth = 10,
                             std::vector<std::string> types = {}, std::vector<std::string> classes = {}) {
    ReadView view = t.db->Read();
    ImpactRequest r{std::move(seeds), dir, depth, std::move(types), std::move(classes)};
    auto res = analysis::ComputeImpact(view.graph(), view.schema(), r);
    REQUIRE(res.ok());
    return *res;
  }
};

const analysis::ImpactedCi* Find(const analysis::ImpactResult& r, CiId id) {
  for (const auto& c : r.cis) if (c.id == id) return &c;
  return nullptr;
}

}  // namespace

TEST_CASE("a failure travels along RUNS_ON, HOSTED_ON and DEPENDS_ON with distances and a path") {
  Topology topo;
  auto r = topo.Run({topo.db});  // the database fails: the app uses it, the service depends on the app
  REQUIRE(Find(r, topo.app));
  CHECK(Find(r, topo.app)->state == ImpactState::kDown);
  CHECK(Find(r, topo.app)->distance == 1);
  const auto* svc = Find(r, topo.svc);
  REQUIRE(svc);
  CHECK(svc->distance == 2);
  auto path = analysis::PathOf(r, analysis::IndexOf(r), topo.svc);
  CHECK(path.cis == std::vector<CiId>{topo.db, topo.app, topo.svc});
  CHECK(path.rels.size() == 2);
  CHECK(svc->parent == topo.app);
  CHECK(r.services == std::vector<CiId>{topo.svc});
  CHECK(r.per_class["Application"] == 1);
  CHECK(r.cis.front().state == ImpactState::kSeed);
}

TEST_CASE("redundancy: one instance down degrades the application, both take it down") {
  Topology topo;
  auto one = topo.Run({topo.h1});
  auto degraded_path = analysis::PathOf(one, analysis::IndexOf(one), topo.app);
  CHECK(degraded_path.cis == std::vector<CiId>{topo.h1, topo.vm1, topo.i1, topo.app});
  CHECK(Find(one, topo.vm1)->state == ImpactState::kDown);
  CHECK(Find(one, topo.i1)->state == ImpactState::kDown);
  CHECK(Find(one, topo.app)->state == ImpactState::kDegraded);  // INSTANCE_OF QUORUM 100%
  CHECK_FALSE(Find(one, topo.svc));                             // degraded does not propagate
  CHECK(Find(one, topo.cluster)->state == ImpactState::kDegraded);  // 1 of 3 members < 50%
  CHECK(one.services.empty());
  auto two = topo.Run({topo.h1, topo.h2});
  CHECK(Find(two, topo.app)->state == ImpactState::kDown);
  CHECK(Find(two, topo.svc)->state == ImpactState::kDown);
  CHECK(Find(two, topo.cluster)->state == ImpactState::kDown);  // 2 of 3 >= 50%
  CHECK(two.services == std::vector<CiId>{topo.svc});
}

TEST_CASE("cycles terminate, the depth cap and filters hold, and depends_on walks backwards") {
  Topology topo;
  // A dependency cycle: db depends on the service (nonsense, but it happens in real CMDBs).
  topo.t.Relate("DEPENDS_ON", topo.db, topo.svc);
  auto r = topo.Run({topo.db});
  CHECK(Find(r, topo.svc)->state == ImpactState::kDown);
  CHECK(r.cis.size() == 3);  // db (seed), app, svc: each once
  auto shallow = topo.Run({topo.h1, topo.h2}, ImpactDirection::kImpacted, 2);
  CHECK(Find(shallow, topo.i1));
  CHECK_FALSE(Find(shallow, topo.app));
  CHECK(shallow.depth_limited);
  auto typed = topo.Run({topo.h1}, ImpactDirection::kImpacted, 10, {"HOSTED_ON"});
  CHECK(Find(typed, topo.vm1));
  CHECK_FALSE(Find(typed, topo.i1));
  auto vms_only = topo.Run({topo.h1}, ImpactDirection::kImpacted, 10, {}, {"Computer"});
  CHECK(Find(vms_only, topo.vm1));
  CHECK_FALSE(Find(vms_only, topo.i1));
  CHECK(vms_only.per_class.size() == 1);
  auto deps = topo.Run({topo.svc}, ImpactDirection::kDependsOn);
  for (CiId id : {topo.app, topo.i1, topo.i2, topo.vm1, topo.vm2, topo.h1, topo.h2, topo.db}) {
    INFO("CI " << id);
    CHECK(Find(deps, id));
  }
  CHECK_FALSE(Find(deps, topo.h3));  // nothing the service needs runs there
}

TEST_CASE("impact output as Graphviz DOT, and bad input") {
  Topology topo;
  auto r = topo.Run({topo.h1});
  ReadView view = topo.t.db->Read();
  std::string dot = analysis::ImpactToDot(view.graph(), r);
  CHECK(dot.rfind("digraph impact {", 0) == 0);
  CHECK(dot.find("label=\"PhysicalServer\\nh1\"") != std::string::npos);
  CHECK(dot.find("style=dashed") != std::string::npos);  // the degraded edge
  ImpactRequest missing{{999999}, ImpactDirection::kImpacted, 6, {}, {}};
  CHECK(analysis::ComputeImpact(view.graph(), view.schema(), missing).status().code() == StatusCode::kNotFound);
  ImpactRequest bad_type{{topo.h1}, ImpactDirection::kImpacted, 6, {"RUN_ON"}, {}};
  CHECK(analysis::ComputeImpact(view.graph(), view.schema(), bad_type).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("impact over thousands of CIs is ordered by distance, then id") {
  // host <-HOSTED_ON- 6,000 VMs, each with a container RUNS_ON it: 12,000 CIs at distances 1 and
  // 2, created interleaved so that BFS order and id order differ (the large-result sort path).
  cmdb::testing::TestDb t;
  CiId host = t.Create("PhysicalServer", Attrs({{"name", "big-host"}}));
  std::vector<CiId> vms, ctrs;
  REQUIRE(t.db->Write(TxMeta{}, [&](Txn& txn) -> Status {
                for (int i = 0; i < 6000; ++i) {
                  auto c = txn.CreateCi("Container", Attrs({{"name", "c" + std::to_string(i)}}));
                  auto v = txn.CreateCi("VirtualMachine", Attrs({{"name", "v" + std::to_string(i)}}));
                  CMDB_RETURN_IF_ERROR(c.status());
                  CMDB_RETURN_IF_ERROR(v.status());
                  ctrs.push_back(*c);
                  vms.push_back(*v);
                }
                for (int i = 5999; i >= 0; --i) {  // adjacency order opposite to id order
                  CMDB_RETURN_IF_ERROR(txn.CreateRel("HOSTED_ON", vms[i], host, {}).status());
                  CMDB_RETURN_IF_ERROR(txn.CreateRel("RUNS_ON", ctrs[(i * 7) % 6000], vms[i], {}).status());
                }
                return Status::Ok();
              }).ok());
  ReadView view = t.db->Read();
  ImpactRequest req{{host}, ImpactDirection::kImpacted, 6, {}, {}};
  auto r = analysis::ComputeImpact(view.graph(), view.schema(), req);
  REQUIRE(r.ok());
  REQUIRE(r->cis.size() == 12001);
  CHECK(r->cis[0].id == host);
  for (size_t i = 1; i <= 6000; ++i) {
    CHECK(r->cis[i].distance == 1);
    CHECK(r->cis[i].id == vms[i - 1]);  // VM ids ascend with i
  }
  for (size_t i = 6001; i < r->cis.size(); ++i) {
    CHECK(r->cis[i].distance == 2);
    CHECK(r->cis[i].id == ctrs[i - 6001]);
  }
}

namespace {

// Reached CIs and distances of a plain breadth-first search along DEPENDS_ON (a failure of the
// target impacts the source), the reference for the engine on a random graph.
std::map<CiId, int> ReferenceDependents(const Graph& g, const std::vector<CiId>& seeds, int depth) {
  TypeId depends = *g.TypeIdOf("DEPENDS_ON");
  std::map<CiId, int> dist;
  std::vector<CiId> frontier;
  for (CiId s : seeds) dist.emplace(s, 0), frontier.push_back(s);
  for (int d = 1; d <= depth; ++d) {
    std::vector<CiId> next;
    for (CiId v : frontier) {
      for (const Adj& a : g.InOfType(v, depends)) {
        if (dist.emplace(a.other(), d).second) next.push_back(a.other());
      }
    }
    frontier.swap(next);
  }
  return dist;
}

std::vector<CiId> RandomDependencyGraph(cmdb::testing::TestDb& t, int cis, int rels, uint32_t seed) {
  std::vector<CiId> ids;
  Status st = t.db->Write(TxMeta{}, [&](Txn& txn) -> Status {
                for (int i = 0; i < cis; ++i) {
                  auto v = txn.CreateCi("VirtualMachine", Attrs({{"name", "vm" + std::to_string(i)}}));
                  CMDB_RETURN_IF_ERROR(v.status());
                  ids.push_back(*v);
                }
                auto sw = txn.CreateCi("Software", Attrs({{"name", "agent"}}));
                CMDB_RETURN_IF_ERROR(sw.status());
                uint32_t x = seed;
                auto next = [&] { return x = x * 1664525u + 1013904223u, x >> 8; };
                std::set<std::pair<CiId, CiId>> pairs;  // one relationship of a type per pair
                while (pairs.size() < size_t(rels)) {
                  CiId from = ids[next() % ids.size()], to = ids[next() % ids.size()];
                  if (!pairs.emplace(from, to).second) continue;
                  CMDB_RETURN_IF_ERROR(txn.CreateRel("DEPENDS_ON", from, to, {}).status());
                }
                for (size_t i = 0; i < ids.size(); i += 5)  // IMPACT NONE: never followed
                  CMDB_RETURN_IF_ERROR(txn.CreateRel("INSTALLED_ON", *sw, ids[i], {}).status());
                return Status::Ok();
              }).status();
  INFO(st.ToString());
  REQUIRE(st.ok());
  return ids;
}

}  // namespace

TEST_CASE("impact on a random graph reaches what a plain search reaches at the same distances") {
  // Large enough that the search queue runs ahead of the CI it expands (the prefetching path), and
  // queries repeated on one thread, with a query on another graph between them, so that every
  // query starts from a clean scratch.
  cmdb::testing::TestDb t;
  std::vector<CiId> ids = RandomDependencyGraph(t, 3000, 6000, 7);
  cmdb::testing::TestDb other;
  std::vector<CiId> other_ids = RandomDependencyGraph(other, 200, 300, 11);
  std::vector<std::pair<std::vector<CiId>, int>> queries;
  for (int i = 0; i < 40; ++i) {
    std::vector<CiId> seeds = {ids[(i * 977) % ids.size()]};
    if (i % 4 == 0) seeds.push_back(ids[(i * 131 + 5) % ids.size()]);
    queries.push_back({seeds, i % 7});
  }
  for (int round = 0; round < 2; ++round) {
    for (const auto& [seeds, depth] : queries) {
      ReadView view = t.db->Read();
      ImpactRequest req{seeds, ImpactDirection::kImpacted, depth, {}, {}};
      req.redundancy = false;
      auto r = analysis::ComputeImpact(view.graph(), view.schema(), req);
      REQUIRE(r.ok());
      std::map<CiId, int> want = ReferenceDependents(view.graph(), seeds, depth);
      std::map<CiId, int> got;
      for (const auto& c : r->cis) got.emplace(c.id, c.distance);
      CHECK(got == want);
      CHECK(r->cis.size() == want.size());
      for (size_t i = 1; i < r->cis.size(); ++i) {
        bool ordered = r->cis[i - 1].distance < r->cis[i].distance ||
                       (r->cis[i - 1].distance == r->cis[i].distance && r->cis[i - 1].id < r->cis[i].id);
        CHECK(ordered);
      }
      for (const auto& c : r->cis) {  // every link leads one step back toward a seed
        if (c.distance == 0) continue;
        CHECK(got.at(c.parent) == c.distance - 1);
        CHECK(view.graph().FindRel(c.via)->from == c.id);
      }
    }
    ReadView view = other.db->Read();  // a smaller graph on the same thread
    ImpactRequest req{{other_ids[3]}, ImpactDirection::kImpacted, 6, {}, {}};
    req.redundancy = false;
    auto r = analysis::ComputeImpact(view.graph(), view.schema(), req);
    REQUIRE(r.ok());
    std::map<CiId, int> got;
    for (const auto& c : r->cis) got.emplace(c.id, c.distance);
    CHECK(got == ReferenceDependents(view.graph(), {other_ids[3]}, 6));
  }
}
