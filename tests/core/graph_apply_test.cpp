// Graph::Apply and FinishLoad split large writes over two threads; the result must not depend on
// it. Both graphs get the same write sets, one applying everything on one thread.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "cmdb/graph.hpp"
#include "core_util.hpp"

using namespace cmdb;
using cmdb::testing::Attrs;

namespace {

// A write set of `n` new VirtualMachines (ids from `first`) and a RUNS_ON chain between them.
WriteSet Bulk(CiId first, int n, RelId first_rel, TxId tx) {
  WriteSet ws;
  ws.tx.id = tx;
  for (int i = 0; i < n; ++i) {
    CiRecord c;
    c.id = first + i;
    c.class_name = i % 3 ? "VirtualMachine" : "PhysicalServer";
    c.attrs = Attrs({{"name", "host-" + std::to_string(c.id)}, {"cpu_count", int64_t{i % 16}}});
    c.valid_from = tx;
    ws.cis.push_back(std::move(c));
  }
  for (int i = 1; i < n; ++i) {
    RelRecord r;
    r.id = first_rel + i - 1;
    r.type = i % 2 ? "RUNS_ON" : "CONNECTED_TO";
    r.from = first + i;
    r.to = first + i / 3;  // an earlier CI
    r.valid_from = tx;
    ws.rels.push_back(std::move(r));
  }
  return ws;
}

std::string Describe(const Graph& g, const Schema& schema, CiId ci_bound, RelId rel_bound) {
  std::string out;
  for (CiId id = 1; id < ci_bound; ++id) {
    const CiRecord* c = g.FindCi(id);
    if (!c) continue;
    out += "ci " + std::to_string(id) + " " + std::string(c->class_name) + " v" +
           std::to_string(c->version) + " " + c->attrs.Get("name").ToLiteral() + " out:";
    for (const Adj& a : g.Out(id)) out += " " + std::to_string(a.rel()) + ">" + std::to_string(a.other());
    out += " in:";
    for (const Adj& a : g.In(id)) out += " " + std::to_string(a.rel()) + "<" + std::to_string(a.other());
    for (const std::string& k : IndexKeysOf(schema, *c)) {
      auto holder = g.LookupIndex(k, schema);
      out += " key:" + (holder ? std::to_string(*holder) : "none");
    }
    out += "\n";
  }
  for (RelId id = 1; id < rel_bound; ++id) {
    if (std::optional<RelRecord> r = g.FindRel(id))
      out += "rel " + std::to_string(id) + " " + std::string(r->type) + " " +
             std::to_string(r->from) + "->" + std::to_string(r->to) + "\n";
  }
  for (const char* cls : {"VirtualMachine", "PhysicalServer"}) {
    out += std::string(cls) + ":";
    for (CiId id : g.Extent(cls)) out += " " + std::to_string(id);
    out += "\n";
  }
  return out;
}

}  // namespace

TEST_CASE("large writes applied on two threads give the graph one thread gives") {
  Schema schema = cmdb::testing::DefaultSchema();
  Graph parallel, serial;
  parallel.set_parallel_min(0);
  serial.set_parallel_min(SIZE_MAX);
  const int n = 3000;
  for (Graph* g : {&parallel, &serial}) g->Apply(Bulk(1, n, 1, 1), schema);
  CHECK(parallel.ci_id_bound() == n + 1);
  std::string first = Describe(serial, schema, n + 1, n);
  CHECK(Describe(parallel, schema, n + 1, n) == first);
  CHECK(first.find("out: 1>") != std::string::npos);  // adjacency was built

  // A second large write: new CIs and relationships, changed, retired and removed ones.
  auto second = [&] {
    WriteSet ws = Bulk(n + 1, n, n, 2);
    for (CiId id = 1; id <= 300; ++id) {
      CiRecord c = *serial.FindCi(id);
      c.version = 2;
      c.valid_from = 2;
      if (id % 2) c.retired = true;
      else c.attrs.Set("name", Value("renamed-" + std::to_string(id)));
      ws.cis.push_back(std::move(c));
    }
    for (RelId id = 1; id <= 1000; ++id) {  // every one touching a retired CI
      RelRecord r = *serial.FindRel(id);
      r.version = 2;
      r.retired = true;
      ws.rels.push_back(std::move(r));
    }
    return ws;
  };
  WriteSet ws = second();
  parallel.Apply(second(), schema);
  serial.Apply(std::move(ws), schema);
  std::string both = Describe(serial, schema, 2 * n + 1, 2 * n);
  CHECK(Describe(parallel, schema, 2 * n + 1, 2 * n) == both);
  CHECK(both.find("renamed-2") != std::string::npos);
  CHECK(serial.FindCi(1) == nullptr);
  CHECK_FALSE(serial.HasRel(1));
}
