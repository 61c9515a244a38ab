#include <catch2/catch.hpp>
#include <atomic>
#include <thread>

#include "core_util.hpp"

using namespace cmdb;
using cmdb::testing::Attrs;
using TestDb = cmdb::testing::CoreDb;

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

TEST_CASE("transaction times come from the database's clock") {
  ManualClock clock(1'800'000'000'000'000);
  TestDb t(&clock);
  auto first = t.db->Write(TxMeta{}, [&](Txn& txn) {
    return txn.CreateCi("VirtualMachine", Attrs({{"name", "vm-clock-1"}})).status();
  });
  REQUIRE(first.ok());
  CHECK(first->time == 1'800'000'000'000'000);
  clock.Advance(90'000'000);
  auto second = t.db->Write(TxMeta{}, [&](Txn& txn) {
    return txn.CreateCi("VirtualMachine", Attrs({{"name", "vm-clock-2"}})).status();
  });
  REQUIRE(second.ok());
  CHECK(second->time == 1'800'000'090'000'000);
  CHECK(t.store.Transactions(0, 1000)->back().time == 1'800'000'090'000'000);
}

namespace {

// What a test compares to show that a dry run changed nothing: the last transaction, the graph's
// counts, the store's log and its head.
struct Observed {
  TxId tx = 0;
  size_t cis = 0, rels = 0, logged = 0;
  std::string head;

  static Observed Of(TestDb& t) {
    Observed o;
    {
      ReadView v = t.db->Read();
      o.tx = v.tx();
      o.cis = v.graph().ci_count();
      o.rels = v.graph().rel_count();
    }
    o.logged = t.store.Transactions(0, 1 << 20)->size();
    o.head = FormatChainHead(*t.store.Head());
    return o;
  }
  bool operator==(const Observed&) const = default;
};

}  // namespace

TEST_CASE("a dry-run write returns what the write then commits, and changes nothing") {
  TestDb t;
  CiId a = t.Create("VirtualMachine", Attrs({{"name", "a"}}));
  CiId app = t.Create("AppInstance", Attrs({{"name", "i1"}}));
  const TxMeta meta{"alice", "api", "CHG-7", "dry then real"};
  auto body = [&](Txn& txn) -> Status {
    CMDB_RETURN_IF_ERROR(txn.UpdateCi(a, {{"os", Value("linux")}}, std::nullopt));
    auto b = txn.CreateCi("VirtualMachine", Attrs({{"name", "b"}}));
    CMDB_RETURN_IF_ERROR(b.status());
    return txn.CreateRel("RUNS_ON", app, *b, {}).status();
  };
  const Observed before = Observed::Of(t);
  auto dry = t.db->DryRunWrite(meta, body);
  REQUIRE(dry.ok());
  CHECK(Observed::Of(t) == before);  // no tx id consumed, nothing published, nothing stored
  CHECK(t.db->Read().graph().FindCi(a)->attrs.Get("os").is_null());
  CHECK(t.store.CiHistory(a)->size() == 1);
  // The write set a commit would persist: the tx id it would get, the metadata and counts, the
  // versions with their ids, version numbers and valid_from; the chain hashes are the store's.
  CHECK(dry->tx.id == before.tx + 1);
  CHECK(dry->tx.actor == "alice");
  CHECK(dry->tx.change_ref == "CHG-7");
  CHECK(dry->tx.message == "dry then real");
  CHECK(dry->tx.cis_written == 2);
  CHECK(dry->tx.rels_written == 1);
  CHECK(dry->tx.hash.empty());
  REQUIRE(dry->cis.size() == 2);
  CHECK(dry->cis[0].id == a);
  CHECK(dry->cis[0].version == 2);
  CHECK(dry->cis[0].valid_from == dry->tx.id);
  CHECK(dry->cis[1].id == app + 1);
  CHECK(dry->cis[1].version == 1);
  REQUIRE(dry->rels.size() == 1);
  CHECK(dry->rels[0].from == app);
  CHECK(dry->rels[0].to == app + 1);

  auto real = t.db->Write(meta, body);
  REQUIRE(real.ok());
  CHECK(real->id == dry->tx.id);
  CHECK(real->cis_written == dry->tx.cis_written);
  CHECK(real->rels_written == dry->tx.rels_written);
  for (const CiRecord& staged : dry->cis) {
    auto stored = t.store.LatestCi(staged.id);
    REQUIRE(stored.ok());
    REQUIRE(stored->has_value());
    CHECK((*stored)->version == staged.version);
    CHECK((*stored)->valid_from == staged.valid_from);
    CHECK((*stored)->class_name == staged.class_name);
    CHECK((*stored)->attrs == staged.attrs);
  }
  CHECK(t.store.RelHistory(dry->rels[0].id)->size() == 1);
  // Nothing staged: an empty write set, as Write logs nothing.
  auto nothing = t.db->DryRunWrite(meta, [](Txn&) { return Status::Ok(); });
  REQUIRE(nothing.ok());
  CHECK(nothing->tx.id == 0);
  CHECK(nothing->cis.empty());
}

TEST_CASE("a dry-run write refuses what the write would refuse, with the same error") {
  TestDb t;
  t.Create("VirtualMachine", Attrs({{"name", "a"}}));
  const Observed before = Observed::Of(t);
  auto duplicate = [](Txn& txn) {
    return txn.CreateCi("VirtualMachine", Attrs({{"name", "a"}})).status();
  };
  auto dry = t.db->DryRunWrite(TxMeta{}, duplicate);
  REQUIRE_FALSE(dry.ok());
  CHECK(dry.status().code() == StatusCode::kConflict);
  CHECK(dry.status().message() == "KEY of Computer ('a') is already held by CI 1 ('a')");
  auto real = t.db->Write(TxMeta{}, duplicate);
  CHECK(real.status().ToString() == dry.status().ToString());
  CHECK(Observed::Of(t) == before);

  // Checks made after the body, before the store: the write policy (refuse or flag)...
  t.db->SetWritePolicy([](WriteSet& ws, const Graph&, const Schema&) -> Status {
    for (const CiRecord& ci : ws.cis) {
      if (ci.class_name == "Switch")
        return Status::Conflict("switches need a change").WithType("unauthorized_change");
    }
    ws.tx.unauthorized = "flagged for the test";
    return Status::Ok();
  });
  auto a_switch = [](Txn& txn) {
    return txn.CreateCi("Switch", Attrs({{"name", "sw1"}})).status();
  };
  auto refused = t.db->DryRunWrite(TxMeta{}, a_switch);
  CHECK(refused.status().message() == "switches need a change");
  CHECK(refused.status().type() == "unauthorized_change");
  CHECK(t.db->Write(TxMeta{}, a_switch).status().ToString() == refused.status().ToString());
  auto flagged = t.db->DryRunWrite(TxMeta{}, [](Txn& txn) {
    return txn.CreateCi("VirtualMachine", Attrs({{"name", "b"}})).status();
  });
  REQUIRE(flagged.ok());
  CHECK(flagged->tx.unauthorized == "flagged for the test");
  CHECK(Observed::Of(t) == before);
  // ...and the metadata, checked before anything is staged.
  TxMeta bad;
  bad.message = "\xff";
  auto bad_meta = t.db->DryRunWrite(bad, a_switch);
  CHECK(bad_meta.status().message() == "the transaction's message is not valid UTF-8 (byte 0)");
  CHECK(t.db->Write(bad, a_switch).status().ToString() == bad_meta.status().ToString());
}

TEST_CASE("a dry-run write refuses a transaction id past 32 bits like the write") {
  TestDb t;
  CiId vm = t.Create("VirtualMachine", Attrs({{"name", "vm1"}}));
  t.store.SetLastTx(kMaxRecordTx);
  Database db(&t.store);
  REQUIRE(db.Open(t.db->schema()).ok());
  auto rename = [&](Txn& txn) {
    return txn.UpdateCi(vm, AttrPatch{{"name", Value("vm2")}}, std::nullopt);
  };
  auto dry = db.DryRunWrite(TxMeta{}, rename);
  CHECK(dry.status().message() == "transaction id space exhausted (ids up to 2^32-1)");
  CHECK(db.Write(TxMeta{}, rename).status().ToString() == dry.status().ToString());
}

namespace {

// A MemStore that counts the calls that would write: a dry run must make none.
class CountingStore : public MemStore {
 public:
  Status Commit(const WriteSet& ws) override {
    ++writes;
    return MemStore::Commit(ws);
  }
  Result<std::unique_ptr<StoreStream>> BeginStream(TxId tx) override {
    ++writes;
    return MemStore::BeginStream(tx);  // no stream: this store writes at commit
  }
  int writes = 0;
};

}  // namespace

TEST_CASE("a dry-run write never calls the store, even when its body flushes a large write") {
  CountingStore store;
  std::unique_ptr<Database> db = cmdb::testing::OpenCoreDatabase(&store);
  const int start = store.writes;  // the schema's transaction
  auto many = [](Txn& txn) {
    for (int i = 0; i < 9000; ++i) {  // past Txn::kStreamBatch
      CMDB_RETURN_IF_ERROR(
          txn.CreateCi("VirtualMachine", Attrs({{"name", "vm" + std::to_string(i)}})).status());
    }
    return txn.Flush();
  };
  auto dry = db->DryRunWrite(TxMeta{}, many);
  REQUIRE(dry.ok());
  CHECK(dry->cis.size() == 9000);
  CHECK(store.writes == start);
  CHECK(db->Read().graph().ci_count() == 0);
  // The same body written: a stream is asked for, then the commit.
  REQUIRE(db->Write(TxMeta{}, many).ok());
  CHECK(store.writes == start + 2);
}
