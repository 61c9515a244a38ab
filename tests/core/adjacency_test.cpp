#include "cmdb/adjacency.hpp"

#include <catch2/catch.hpp>

#include "core_util.hpp"

using namespace cmdb;
using cmdb::testing::Attrs;
using TestDb = cmdb::testing::CoreDb;

namespace {

std::vector<std::tuple<TypeId, RelId, CiId>> RowOf(const Adjacency& a, CiId id) {
  std::vector<std::tuple<TypeId, RelId, CiId>> out;
  for (const Adj& x : a.Row(id)) out.emplace_back(x.type(), x.rel(), x.other());
  return out;
}

using Row = std::vector<std::tuple<TypeId, RelId, CiId>>;

}  // namespace

TEST_CASE("adjacency rows are built sorted by type and relationship id") {
  std::vector<std::pair<CiId, Adj>> entries = {{2, Adj{5, 30, 1}},
                                               {1, Adj{3, 10, 2}},
                                               {2, Adj{4, 20, 0}},
                                               {2, Adj{6, 11, 1}},
                                               {1, Adj{2, 9, 2}}};
  Adjacency a;
  a.Build(4, [&](auto&& emit) {
    for (const auto& [row, adj] : entries) emit(row, adj);
  });
  CHECK(RowOf(a, 1) == Row{{2, 9, 2}, {2, 10, 3}});
  CHECK(RowOf(a, 2) == Row{{0, 20, 4}, {1, 11, 6}, {1, 30, 5}});
  CHECK(a.Row(3).empty());
  CHECK(a.Row(0).empty());
  CHECK(a.Row(-1).empty());
  CHECK(a.Row(99).empty());
  CHECK(a.overlay_rows() == 0);

  SECTION("a write moves the row to the overlay and keeps it sorted; Compact folds it back") {
    a.Insert(2, Adj{7, 12, 1});
    a.Insert(5, Adj{1, 40, 0});  // a CI id past the end grows the table
    a.Remove(1, 9);
    a.Remove(1, 999);  // absent: nothing happens
    CHECK(a.overlay_rows() == 3);
    Row two{{0, 20, 4}, {1, 11, 6}, {1, 12, 7}, {1, 30, 5}};
    CHECK(RowOf(a, 2) == two);
    CHECK(RowOf(a, 1) == Row{{2, 10, 3}});
    CHECK(RowOf(a, 5) == Row{{0, 40, 1}});
    a.Compact();
    CHECK(a.overlay_rows() == 0);
    CHECK(RowOf(a, 2) == two);
    CHECK(RowOf(a, 1) == Row{{2, 10, 3}});
    CHECK(RowOf(a, 5) == Row{{0, 40, 1}});
    CHECK(a.Row(4).empty());
  }
}

TEST_CASE("a row moved to the overlay leaves its neighbours in the shared array intact") {
  // Rows end where the next starts: the moved row's start is flagged, not changed, so the rows
  // before and after it keep their extents.
  Adjacency a;
  a.Build(4, [&](auto&& emit) {
    for (CiId row = 1; row <= 3; ++row) {
      for (RelId r = 1; r <= row; ++r) emit(row, Adj{row * 10 + r, row * 100 + r, 0});
    }
  });
  a.Insert(2, Adj{99, 299, 1});
  CHECK(RowOf(a, 1) == Row{{0, 101, 11}});
  CHECK(RowOf(a, 2) == Row{{0, 201, 21}, {0, 202, 22}, {1, 299, 99}});
  CHECK(RowOf(a, 3) == Row{{0, 301, 31}, {0, 302, 32}, {0, 303, 33}});
  a.Remove(3, 302);
  a.Insert(7, Adj{1, 700, 0});  // grows the table: rows 4-6 empty, 7 in the overlay
  CHECK(RowOf(a, 1) == Row{{0, 101, 11}});
  CHECK(RowOf(a, 3) == Row{{0, 301, 31}, {0, 303, 33}});
  CHECK(a.Row(5).empty());
  CHECK(a.overlay_rows() == 3);
  a.Compact();
  CHECK(a.overlay_rows() == 0);
  CHECK(RowOf(a, 2) == Row{{0, 201, 21}, {0, 202, 22}, {1, 299, 99}});
  CHECK(RowOf(a, 3) == Row{{0, 301, 31}, {0, 303, 33}});
  CHECK(RowOf(a, 7) == Row{{0, 700, 1}});
  CHECK(a.Row(6).empty());
  CHECK(a.Row(8).empty());
}

TEST_CASE("the live adjacency after many writes and compactions equals a fresh load") {
  TestDb t;
  std::vector<CiId> hosts, vms;
  std::vector<RelId> rels;
  // Enough rows in one write to pass the compaction threshold (CIs / 8 + 4096 changed rows).
  auto tx = t.db->Write(TxMeta{}, [&](Txn& txn) {
    for (int i = 0; i < 300; ++i) {
      auto h = txn.CreateCi("PhysicalServer", Attrs({{"name", "h" + std::to_string(i)}}));
      CMDB_RETURN_IF_ERROR(h.status());
      hosts.push_back(*h);
    }
    for (int i = 0; i < 6000; ++i) {
      auto v = txn.CreateCi("VirtualMachine", Attrs({{"name", "v" + std::to_string(i)}}));
      CMDB_RETURN_IF_ERROR(v.status());
      vms.push_back(*v);
      auto r = txn.CreateRel("HOSTED_ON", *v, hosts[(i * 7) % hosts.size()], {});
      CMDB_RETURN_IF_ERROR(r.status());
      rels.push_back(*r);
    }
    return Status::Ok();
  });
  REQUIRE(tx.ok());
  CHECK(t.db->Read().graph().overlay_rows() == 0);  // a bulk write rebuilds the rows in one pass
  // Writes of 1,000 relationships each: rows move to the overlay until it passes the threshold
  // and is compacted.
  size_t most = 0, prev = 0;
  bool compacted = false;
  for (int w = 0; w < 6; ++w) {
    REQUIRE(t.db->Write(TxMeta{},
                        [&](Txn& txn) -> Status {
                          for (int i = w * 1000; i < (w + 1) * 1000; ++i)
                            CMDB_RETURN_IF_ERROR(
                                txn.CreateRel("DEPENDS_ON", vms[i], vms[(i + 1) % vms.size()], {})
                                    .status());
                          return Status::Ok();
                        })
                .ok());
    size_t now = t.db->Read().graph().overlay_rows();
    if (now < prev) {
      compacted = true;
      CHECK(now == 0);  // both directions passed the threshold in the same write
    } else {
      CHECK(now == prev + 2000);  // 1,000 rows out of the sources, 1,000 into the targets
    }
    most = std::max(most, now);
    prev = now;
  }
  CHECK(compacted);
  CHECK(most == 8000);  // 4,000 rows a direction; the fifth write passed 4,883 (CIs / 8 + 4096)
  // Small writes afterwards: moves, deletions and new relationships, each in its own transaction.
  for (int i = 0; i < 40; ++i) {
    REQUIRE(t.db->Write(TxMeta{},
                        [&](Txn& txn) -> Status {
                          CMDB_RETURN_IF_ERROR(txn.DeleteRel(rels[i * 3], std::nullopt));
                          return txn
                              .CreateRel("HOSTED_ON", vms[i * 3], hosts[(i + 1) % hosts.size()], {})
                              .status();
                        })
                .ok());
  }
  REQUIRE(
      t.db->Write(TxMeta{}, [&](Txn& txn) { return txn.RetireCi(hosts[5], std::nullopt); }).ok());

  // A second database over the same store, loaded from scratch.
  std::unique_ptr<Database> reopened = cmdb::testing::OpenCoreDatabase(&t.store);
  ReadView live = t.db->Read(), loaded = reopened->Read();
  REQUIRE(live.graph().ci_id_bound() == loaded.graph().ci_id_bound());
  size_t compared = 0;
  for (CiId id = 1; id < live.graph().ci_id_bound(); ++id) {
    for (bool out : {true, false}) {
      auto a = out ? live.graph().Out(id) : live.graph().In(id);
      auto b = out ? loaded.graph().Out(id) : loaded.graph().In(id);
      REQUIRE(a.size() == b.size());
      for (size_t i = 0; i < a.size(); ++i) {
        // Types are interned per graph: compare them by name.
        CHECK(live.graph().TypeName(a[i].type()) == loaded.graph().TypeName(b[i].type()));
        CHECK(a[i].rel() == b[i].rel());
        CHECK(a[i].other() == b[i].other());
        ++compared;
      }
    }
  }
  CHECK(compared == 2 * live.graph().rel_count());
  CHECK(live.graph().rel_count() < 12000);  // the retired host took its relationships along
  CHECK(live.graph().In(hosts[5]).empty());
  CHECK(live.graph().ClassName(live.graph().ClassIdOf(vms[0])) == "VirtualMachine");
}

TEST_CASE("an adjacency entry keeps 40-bit ids and 16-bit types in 12 bytes") {
  for (int64_t id : {int64_t{1}, int64_t{0xFFFFFFFF}, int64_t{0x100000000}, int64_t{0x123456789A}, kMaxAdjId}) {
    Adj a(id, kMaxAdjId - id + 1, 0xFFFF);
    CHECK(a.other() == id);
    CHECK(a.rel() == kMaxAdjId - id + 1);
    CHECK(a.type() == 0xFFFF);
  }
  CHECK(Adj().other() == 0);
  CHECK(Adj().rel() == 0);
}

TEST_CASE("the write path refuses ids an adjacency entry cannot hold") {
  TestDb t;
  ReadView view = t.db->Read();
  Txn near_ci(view.graph(), view.schema(), 1, 0, kMaxAdjId, 1);
  CHECK(near_ci.CreateCi("VirtualMachine", Attrs({{"name", "last"}})).ok());
  auto over = near_ci.CreateCi("VirtualMachine", Attrs({{"name", "one-too-many"}}));
  REQUIRE_FALSE(over.ok());
  CHECK(over.status().message() == "CI id space exhausted (ids up to 2^40)");
  Txn near_rel(view.graph(), view.schema(), 1, 0, 10, kMaxAdjId + 1);
  auto a = near_rel.CreateCi("VirtualMachine", Attrs({{"name", "a"}}));
  auto b = near_rel.CreateCi("VirtualMachine", Attrs({{"name", "b"}}));
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  auto rel = near_rel.CreateRel("DEPENDS_ON", *a, *b, {});
  REQUIRE_FALSE(rel.ok());
  CHECK(rel.status().message() == "relationship id space exhausted (ids up to 2^40)");
}
