#include <catch2/catch.hpp>
#include <atomic>
#include <thread>

#include "test_util.hpp"

using namespace cmdb;
using cmdb::testing::Attrs;
using cmdb::testing::TestDb;

TEST_CASE("a write commits, publishes and is logged with its actor") {
  TestDb t;
  TxMeta meta{"alice", "api", "CHG-1", "new host"};
  CiId id = 0;
  auto tx = t.db->Write(meta, [&](Txn& txn) {
    auto r = txn.CreateCi("VirtualMachine", Attrs({{"name", "vm1"}}));
    id = r.ok() ? *r : 0;
    return r.status();
  });
  REQUIRE(tx.ok());
  CHECK(t.db->Read().graph().FindCi(id)->attrs.Get("name") == Value("vm1"));
  auto log = t.store.Transactions(0, 100);
  REQUIRE(log.ok());
  CHECK(log->back().actor == "alice");
  CHECK(log->back().change_ref == "CHG-1");
  CHECK(log->back().cis_written == 1);
}

TEST_CASE("a failing body or commit changes nothing in memory or in the store") {
  TestDb t;
  CiId a = t.Create("VirtualMachine", Attrs({{"name", "a"}}));
  size_t txs = t.store.Transactions(0, 1000)->size();
  // The second operation fails: the first must not be applied either.
  auto tx = t.db->Write(TxMeta{}, [&](Txn& txn) {
    CMDB_RETURN_IF_ERROR(txn.UpdateCi(a, {{"os", Value("linux")}}, std::nullopt));
    return txn.CreateCi("VirtualMachine", Attrs({{"name", "a"}})).status();  // duplicate KEY
  });
  CHECK(tx.status().code() == StatusCode::kConflict);
  CHECK(t.db->Read().graph().FindCi(a)->attrs.Get("os").is_null());
  CHECK(t.store.Transactions(0, 1000)->size() == txs);
  // A store failure too.
  t.store.FailNextCommit();
  auto tx2 = t.db->Write(TxMeta{}, [&](Txn& txn) {
    return txn.CreateCi("VirtualMachine", Attrs({{"name", "b"}})).status();
  });
  CHECK(tx2.status().code() == StatusCode::kInternal);
  CHECK(t.db->Read().graph().ci_count() == 1);
  // Ids of the failed attempts are not visible; the next CI gets a fresh id.
  CiId c = t.Create("VirtualMachine", Attrs({{"name", "c"}}));
  CHECK(c > a);
}

TEST_CASE("KEY and UNIQUE conflicts name the CI holding the value") {
  TestDb t;
  CiId a = t.Create("PhysicalServer", Attrs({{"name", "h1"}, {"serial_number", "SN1"}}));
  auto tx = t.db->Write(TxMeta{}, [&](Txn& txn) {
    return txn.CreateCi("Switch", Attrs({{"name", "sw1"}, {"serial_number", "SN1"}})).status();
  });
  REQUIRE(tx.status().code() == StatusCode::kConflict);
  CHECK(tx.status().message() == "Hardware.serial_number = 'SN1' is already held by CI " +
                                     std::to_string(a) + " ('h1')");
  // A value given up in the same transaction can be taken.
  auto swap = t.db->Write(TxMeta{}, [&](Txn& txn) {
    CMDB_RETURN_IF_ERROR(txn.UpdateCi(a, {{"serial_number", Value("SN2")}}, std::nullopt));
    return txn.CreateCi("Switch", Attrs({{"name", "sw1"}, {"serial_number", "SN1"}})).status();
  });
  CHECK(swap.ok());
}

TEST_CASE("cardinality and duplicate relationships are enforced") {
  TestDb t;
  CiId inst = t.Create("AppInstance", Attrs({{"name", "i1"}}));
  CiId vm1 = t.Create("VirtualMachine", Attrs({{"name", "vm1"}}));
  CiId vm2 = t.Create("VirtualMachine", Attrs({{"name", "vm2"}}));
  t.Relate("RUNS_ON", inst, vm1);
  auto again = t.db->Write(TxMeta{}, [&](Txn& txn) { return txn.CreateRel("RUNS_ON", inst, vm1, {}).status(); });
  CHECK(again.status().code() == StatusCode::kConflict);
  auto second = t.db->Write(TxMeta{}, [&](Txn& txn) { return txn.CreateRel("RUNS_ON", inst, vm2, {}).status(); });
  CHECK(second.status().message() == "CI " + std::to_string(inst) +
                                         " already has an outgoing RUNS_ON relationship (MANY_TO_ONE)");
  auto bad_type = t.db->Write(TxMeta{}, [&](Txn& txn) { return txn.CreateRel("RUN_ON", inst, vm2, {}).status(); });
  CHECK(bad_type.status().message() ==
        "unknown relationship type 'RUN_ON' (did you mean 'RUNS_ON'?)");
}

TEST_CASE("retiring a CI ends its relationships and keeps history") {
  TestDb t;
  CiId inst = t.Create("AppInstance", Attrs({{"name", "i1"}}));
  CiId vm = t.Create("VirtualMachine", Attrs({{"name", "vm1"}}));
  RelId r = t.Relate("RUNS_ON", inst, vm);
  REQUIRE(t.db->Write(TxMeta{}, [&](Txn& txn) { return txn.RetireCi(vm, std::nullopt); }).ok());
  auto view = t.db->Read();
  CHECK_FALSE(view.graph().FindCi(vm));
  CHECK_FALSE(view.graph().FindRel(r));
  CHECK(view.graph().Out(inst).empty());
  auto hist = t.store.CiHistory(vm);
  REQUIRE(hist->size() == 2);
  CHECK(hist->back().retired);
  CHECK(hist->front().valid_to == hist->back().valid_from);
  CHECK(t.store.RelHistory(r)->back().retired);
}

TEST_CASE("optimistic versions: a stale version is refused with 412") {
  TestDb t;
  CiId a = t.Create("VirtualMachine", Attrs({{"name", "a"}}));
  REQUIRE(t.db->Write(TxMeta{}, [&](Txn& txn) { return txn.UpdateCi(a, {{"os", Value("x")}}, 1); }).ok());
  auto stale = t.db->Write(TxMeta{}, [&](Txn& txn) { return txn.UpdateCi(a, {{"os", Value("y")}}, 1); });
  CHECK(stale.status().code() == StatusCode::kPreconditionFailed);
  CHECK(t.db->Read().graph().FindCi(a)->version == 2);
}

TEST_CASE("upsert by KEY creates, updates, then leaves unchanged") {
  TestDb t;
  auto up = [&](AttrMap attrs) {
    Outcome out{};
    auto tx = t.db->Write(TxMeta{}, [&](Txn& txn) {
      auto r = txn.UpsertCi("VirtualMachine", std::move(attrs));
      if (r.ok()) out = r->second;
      return r.status();
    });
    REQUIRE(tx.ok());
    return std::make_pair(out, tx->id);
  };
  CHECK(up(Attrs({{"name", "vm"}, {"os", "linux"}})).first == Outcome::kCreated);
  CHECK(up(Attrs({{"name", "vm"}, {"os", "bsd"}})).first == Outcome::kUpdated);
  auto [o, tx] = up(Attrs({{"name", "vm"}, {"os", "bsd"}}));
  CHECK(o == Outcome::kUnchanged);
  CHECK(tx == 0);  // nothing written, nothing logged
  CHECK(t.db->Read().graph().ci_count() == 1);
}

TEST_CASE("schema changes revalidate existing CIs") {
  TestDb t;
  t.Create("VirtualMachine", Attrs({{"name", "vm1"}}));
  Schema next = *t.db->schema();
  REQUIRE(ddl::ApplyDdl("ALTER NODE TYPE VirtualMachine ADD { cost_center STRING NOT NULL };", next).ok());
  auto refused = t.db->ChangeSchema(TxMeta{}, next);
  REQUIRE(refused.status().code() == StatusCode::kSchemaViolation);
  CHECK(refused.status().message().find("VirtualMachine.cost_center is NOT NULL but has no value") != std::string::npos);
  CHECK(t.db->schema()->version() == 1);

  Schema with_default = *t.db->schema();
  REQUIRE(ddl::ApplyDdl("ALTER NODE TYPE VirtualMachine ADD { cost_center STRING NOT NULL DEFAULT 'IT' };",
                        with_default).ok());
  auto ok = t.db->ChangeSchema(TxMeta{}, with_default);
  REQUIRE(ok.ok());
  CHECK(ok->cis_written == 1);  // backfilled as a new version
  CHECK(t.db->Read().graph().FindCi(1)->attrs.Get("cost_center") == Value("IT"));
  CHECK(t.db->schema()->version() == 2);
  CHECK(t.store.Info()->schema_version == 2);
}

TEST_CASE("a record snapshot taken in a read view stays unchanged while writers update it") {
  TestDb t;
  auto created = t.db->Write(TxMeta{}, [&](Txn& txn) {
    for (int i = 0; i < 3000; ++i)  // three record chunks
      CMDB_RETURN_IF_ERROR(txn.CreateCi("VirtualMachine", Attrs({{"name", "snap" + std::to_string(i)}})).status());
    return Status::Ok();
  });
  REQUIRE(created.ok());
  std::atomic<bool> done{false};
  std::atomic<int> bad{0}, rounds{0};
  std::thread reader([&] {
    while (!done) {
      std::vector<CiPtr> snaps;
      {
        auto view = t.db->Read();
        for (CiId id = 1; id <= 3000; id += 7) snaps.push_back(view.graph().GetCi(id));
      }
      // After the view: the writer may be replacing these records right now.
      for (const CiPtr& c : snaps) {
        if (!c || c->attrs.Get("name").as_string().substr(0, 4) != "snap") {
          ++bad;
          continue;
        }
        // A snapshot is one whole version: its attributes match its version number.
        const Value& os = c->attrs.Get("os");
        if (c->version == 1 ? !os.is_null()
                            : os != Value("round-" + std::to_string(c->version - 2)))
          ++bad;
      }
      ++rounds;
    }
  });
  for (int round = 0; round < 20; ++round) {
    auto tx = t.db->Write(TxMeta{}, [&](Txn& txn) {
      for (CiId id = 1; id <= 3000; id += 3) {
        CMDB_RETURN_IF_ERROR(txn.UpdateCi(id, {{"os", Value("round-" + std::to_string(round))}}, std::nullopt));
      }
      return Status::Ok();
    });
    REQUIRE(tx.ok());
  }
  while (rounds < 5) std::this_thread::yield();
  done = true;
  reader.join();
  CHECK(bad == 0);
  CHECK(t.db->Read().graph().FindCi(1)->version == 21);
}

TEST_CASE("readers see a bulk transaction entirely or not at all") {
  TestDb t;
  std::atomic<bool> done{false};
  std::atomic<int> bad{0}, reads{0};
  std::thread reader([&] {
    while (!done) {
      auto view = t.db->Read();
      size_t n = view.graph().ci_count(), r = view.graph().rel_count();
      if (!((n == 0 && r == 0) || (n == 2000 && r == 1999))) ++bad;
      ++reads;
    }
  });
  auto tx = t.db->Write(TxMeta{}, [&](Txn& txn) {
    CiId prev = 0;
    for (int i = 0; i < 2000; ++i) {
      auto id = txn.CreateCi("VirtualMachine", Attrs({{"name", "vm" + std::to_string(i)}}));
      if (!id.ok()) return id.status();
      if (prev) CMDB_RETURN_IF_ERROR(txn.CreateRel("DEPENDS_ON", *id, prev, {}).status());
      prev = *id;
    }
    return Status::Ok();
  });
  while (reads < 50) std::this_thread::yield();
  done = true;
  reader.join();
  REQUIRE(tx.ok());
  CHECK(bad == 0);
  CHECK(t.db->Read().graph().ci_count() == 2000);
}

TEST_CASE("a relationship created, deleted and created again in one transaction is found again") {
  TestDb t;
  CiId app = t.Create("Application", Attrs({{"name", "shop"}}));
  CiId db1 = t.Create("Database", Attrs({{"name", "orders"}}));
  RelId first = 0, second = 0;
  auto tx = t.db->Write(TxMeta{}, [&](Txn& txn) -> Status {
    auto a = txn.CreateRel("DEPENDS_ON", app, db1, {});
    CMDB_RETURN_IF_ERROR(a.status());
    first = *a;
    // A duplicate in the same transaction is refused, found by its key.
    auto dup = txn.CreateRel("DEPENDS_ON", app, db1, {});
    if (dup.status().code() != StatusCode::kConflict) return Status::Internal("duplicate accepted");
    auto upsert = txn.UpsertRel("DEPENDS_ON", app, db1, {});
    if (!upsert.ok() || upsert->first != first || upsert->second != Outcome::kUnchanged)
      return Status::Internal("upsert did not find the staged relationship");
    CMDB_RETURN_IF_ERROR(txn.DeleteRel(first, std::nullopt));
    auto b = txn.UpsertRel("DEPENDS_ON", app, db1, {});  // the first is gone: a new one
    CMDB_RETURN_IF_ERROR(b.status());
    if (b->second != Outcome::kCreated) return Status::Internal("expected a new relationship");
    second = b->first;
    auto again = txn.UpsertRel("DEPENDS_ON", app, db1, {});
    if (!again.ok() || again->first != second) return Status::Internal("second one not found");
    return Status::Ok();
  });
  REQUIRE(tx.ok());
  CHECK(second != first);
  CHECK_FALSE(t.db->Read().graph().HasRel(first));
  CHECK(t.db->Read().graph().HasRel(second));
}

TEST_CASE("transaction ids past 32 bits are refused before anything is written") {
  TestDb t;
  CiId vm = t.Create("VirtualMachine", Attrs({{"name", "vm1"}}));
  t.store.SetLastTx(kMaxRecordTx - 1);
  Database db(&t.store);
  REQUIRE(db.Open(t.db->schema()).ok());
  auto rename = [&](const char* name) {
    return db.Write(TxMeta{}, [&](Txn& txn) {
      return txn.UpdateCi(vm, AttrPatch{{"name", Value(name)}}, std::nullopt);
    });
  };
  auto last = rename("vm2");  // the last id records can hold
  REQUIRE(last.ok());
  CHECK(last->id == kMaxRecordTx);
  CHECK(db.Read().graph().FindCi(vm)->valid_from == kMaxRecordTx);
  auto past = rename("vm3");
  REQUIRE_FALSE(past.ok());
  CHECK(past.status().message() == "transaction id space exhausted (ids up to 2^32-1)");
  CHECK(db.Read().graph().FindCi(vm)->attrs.Get("name") == Value("vm2"));
  CHECK(t.store.LatestCi(vm).value()->attrs.Get("name") == Value("vm2"));

  t.store.SetLastTx(kMaxRecordTx + 1);
  Database reopened(&t.store);
  Status st = reopened.Open(t.db->schema());
  CHECK(st.message() == "the store's last transaction id 4294967296 is past the largest this "
                        "server keeps (2^32-1)");
}

TEST_CASE("a CI created by upsert holds its KEY at once and is checked for UNIQUE values") {
  TestDb t;
  CiId held = t.Create("PhysicalServer", Attrs({{"name", "h1"}, {"serial_number", "SN1"}}));
  CiId created = 0;
  auto tx = t.db->Write(TxMeta{}, [&](Txn& txn) -> Status {
    auto first = txn.UpsertCi("VirtualMachine", Attrs({{"name", "vm"}, {"os", "linux"}}));
    CMDB_RETURN_IF_ERROR(first.status());
    created = first->first;
    // Found again by its KEY in the same transaction (staged KEY entry).
    auto again = txn.UpsertCi("VirtualMachine", Attrs({{"name", "vm"}, {"os", "bsd"}}));
    CMDB_RETURN_IF_ERROR(again.status());
    if (again->first != created || again->second != Outcome::kUpdated)
      return Status::Internal("the upserted CI was not found by its KEY");
    if (txn.LookupIndexKey(*KeyIndexKey(txn.schema(), "VirtualMachine", Attrs({{"name", "vm"}}))) != created)
      return Status::Internal("KEY entry not staged");
    return Status::Ok();
  });
  REQUIRE(tx.ok());
  CHECK(t.db->Read().graph().FindCi(created)->attrs.Get("os") == Value("bsd"));
  auto unique = t.db->Write(TxMeta{}, [&](Txn& txn) {
    return txn.UpsertCi("Switch", Attrs({{"name", "sw1"}, {"serial_number", "SN1"}})).status();
  });
  REQUIRE(unique.status().code() == StatusCode::kConflict);
  CHECK(unique.status().message() == "Hardware.serial_number = 'SN1' is already held by CI " +
                                         std::to_string(held) + " ('h1')");
}
