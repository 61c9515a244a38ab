// The store test suite, run against every Store implementation (tests/store/store_kinds.hpp):
// SQLite and PostgreSQL keep the same versions, log, hash chain, documents, tokens and
// provenance, and verification finds the same tampering.
#include <catch2/catch.hpp>
#include <sstream>
#include <thread>

#include "bulk/bulk.hpp"
#include "store/store_kinds.hpp"
#include "test_util.hpp"

using namespace cmdb;
using cmdb::testing::Attrs;
using cmdb::testing::StoreKind;

namespace {

// A database on `store` with the default schema (created on first open).
Result<std::unique_ptr<Database>> OpenWithDefaultSchema(Store* store) {
  api::BootstrapOptions opts;
  opts.schema_dir = cmdb::testing::SourceDir() + "/schema";
  std::ostringstream log;
  return api::OpenDatabase(store, opts, log);
}

std::unique_ptr<Store> MustOpen(const StoreKind& kind, const std::string& where) {
  auto store = kind.Open(where);
  INFO(store.status().message());
  REQUIRE(store.ok());
  return std::move(*store);
}

}  // namespace

TEST_CASE("a store keeps every version and reloads the current graph", "[store]") {
  FOR_EACH_STORE(kind) {
    std::string where = kind.Create("history");
    CiId vm = 0, inst = 0;
    {
      auto store = MustOpen(kind, where);
      auto db = OpenWithDefaultSchema(store.get());
      REQUIRE(db.ok());
      auto tx = (*db)->Write(TxMeta{"bob", "api"}, [&](Txn& t) {
        vm = *t.CreateCi(
            "VirtualMachine",
            Attrs({{"name", "vm1"}, {"cpu_count", 2}, {"tags", ValueList{Value("a")}}}));
        inst = *t.CreateCi("AppInstance", Attrs({{"name", "i1"}}));
        return t.CreateRel("RUNS_ON", inst, vm, {}).status();
      });
      REQUIRE(tx.ok());
      REQUIRE((*db)
                  ->Write(TxMeta{},
                          [&](Txn& t) {
                            return t.UpdateCi(vm, {{"cpu_count", Value(4)}}, 1);
                          })
                  .ok());
      REQUIRE((*db)->Write(TxMeta{}, [&](Txn& t) { return t.RetireCi(inst, std::nullopt); }).ok());
    }
    auto store = MustOpen(kind, where);
    auto info = store->Info();
    REQUIRE(info.ok());
    CHECK(info->initialized);
    CHECK(info->schema_version == 1);
    CHECK(info->max_ci_id == inst);
    CHECK(info->last_tx == 4);
    api::BootstrapOptions opts;  // no schema dir: the stored schema must come back
    std::ostringstream log;
    auto db = api::OpenDatabase(store.get(), opts, log);
    REQUIRE(db.ok());
    {
      auto view = (*db)->Read();
      REQUIRE(view.graph().ci_count() == 1);
      CHECK(view.graph().rel_count() == 0);
      const CiRecord* ci = view.graph().FindCi(vm);
      REQUIRE(ci);
      CHECK(ci->attrs.Get("cpu_count") == Value(4));
      CHECK(ci->attrs.Get("tags") == Value(ValueList{Value("a")}));
      CHECK(ci->version == 2);
      CHECK(view.schema().FindClass("VirtualMachine"));
    }
    auto hist = store->CiHistory(vm);
    REQUIRE(hist->size() == 2);
    CHECK(hist->at(0).attrs.Get("cpu_count") == Value(2));
    CHECK(hist->at(0).valid_to == hist->at(1).valid_from);
    CHECK(hist->at(1).valid_to == kNoTx);
    auto txs = store->Transactions(0, 100);
    REQUIRE(txs->size() == 4);  // schema, create, update, retire
    CHECK(txs->at(1).actor == "bob");
    CHECK(txs->at(1).source == "api");
    CHECK(store->Transactions(2, 1)->size() == 1);
    CHECK(store->LatestCi(inst)->value().retired);
    CHECK_FALSE(store->LatestCi(9999)->has_value());
    CHECK(*store->TxAtTime(txs->at(2).time) == 3);
    CHECK(*store->TxAtTime(0) == 0);
    // The graph as of transaction 2 (before the update and the retirement).
    std::vector<CiRecord> then;
    std::vector<RelRecord> then_rels;
    REQUIRE(store
                ->LoadAsOf(
                    2, [&](CiRecord&& c) { then.push_back(std::move(c)); },
                    [&](RelRecord&& r) { then_rels.push_back(std::move(r)); })
                .ok());
    REQUIRE(then.size() == 2);
    CHECK(then[0].attrs.Get("cpu_count") == Value(2));
    CHECK(then_rels.size() == 1);
    // What transactions 3..4 wrote, each with the version it superseded.
    std::vector<std::pair<CiRecord, std::optional<CiRecord>>> written;
    REQUIRE(store
                ->LoadWritten(
                    2, 4,
                    [&](CiRecord&& now, std::optional<CiRecord>&& before) {
                      written.emplace_back(std::move(now), std::move(before));
                    },
                    [](RelRecord&&, std::optional<RelRecord>&&) {})
                .ok());
    REQUIRE(written.size() == 2);
    CHECK(written[0].first.id == vm);
    REQUIRE(written[0].second);
    CHECK(written[0].second->attrs.Get("cpu_count") == Value(2));
    CHECK(written[1].first.retired);
    // What AS OF 2 undoes after 2: both CIs, each with its version at 2.
    std::vector<std::pair<CiId, bool>> changed;
    REQUIRE(store
                ->LoadChangedSince(
                    2, 2,
                    [&](CiId id, std::optional<CiRecord>&& c) {
                      changed.emplace_back(id, c.has_value());
                    },
                    [](RelId, std::optional<RelRecord>&&) {})
                .ok());
    CHECK(changed == std::vector<std::pair<CiId, bool>>{{vm, true}, {inst, true}});
    // New ids continue after the stored maximum.
    CiId next = 0;
    REQUIRE((*db)
                ->Write(TxMeta{},
                        [&](Txn& t) {
                          auto r = t.CreateCi("VirtualMachine", Attrs({{"name", "vm2"}}));
                          next = r.ok() ? *r : 0;
                          return r.status();
                        })
                .ok());
    CHECK(next == inst + 1);
    CHECK(store->VerifyChain()->ok);
  }
}

TEST_CASE("the hash-chained log finds the first altered transaction, on every store", "[store]") {
  FOR_EACH_STORE(kind) {
    std::string where = kind.Create("chain");
    {
      auto store = MustOpen(kind, where);
      auto db = OpenWithDefaultSchema(store.get());
      REQUIRE(db.ok());
      for (int i = 0; i < 3; ++i) {
        REQUIRE((*db)
                    ->Write(TxMeta{"alice", "api"},
                            [&](Txn& t) {
                              return t
                                  .CreateCi("VirtualMachine",
                                            Attrs({{"name", "vm" + std::to_string(i)}}))
                                  .status();
                            })
                    .ok());
      }
      auto report = store->VerifyChain();
      REQUIRE(report.ok());
      CHECK(report->ok);
      CHECK(report->checked == 4);
      auto txs = store->Transactions(0, 10);
      CHECK(txs->at(0).prev_hash == kGenesisHash);
      CHECK(txs->at(1).prev_hash == txs->at(0).hash);
      auto head = store->Head();
      REQUIRE(head.ok());
      CHECK(head->tx == 4);
      CHECK(head->hash == txs->at(3).hash);
    }
    kind.Sql(where, "UPDATE transactions SET actor = 'mallory' WHERE id = 3");
    {
      auto report = MustOpen(kind, where)->VerifyChain();
      REQUIRE(report.ok());
      CHECK_FALSE(report->ok);
      CHECK(report->first_broken == 3);
      CHECK(report->reason == "its content does not match its hash");
    }
    kind.Sql(where, "UPDATE transactions SET actor = 'alice' WHERE id = 3");
    CHECK(MustOpen(kind, where)->VerifyChain()->ok);
    // A current version closed by hand: the intervals check names it.
    kind.Sql(where, "UPDATE ci_versions SET valid_to = 4 WHERE valid_from = 2");
    {
      auto report = MustOpen(kind, where)->VerifyChain();
      REQUIRE(report.ok());
      CHECK_FALSE(report->ok);
      CHECK(report->first_broken == 0);
      REQUIRE(report->problems.size() == 1);
      CHECK(report->problems[0].table == "ci_versions");
      CHECK(report->problems[0].reason ==
            "valid_to is 4, but no later version of CI 1 exists (transaction 4 wrote none): the "
            "current version was closed outside the log");
    }
    kind.Sql(where, "UPDATE ci_versions SET valid_to = NULL WHERE valid_from = 2");
    // A head kept outside finds a truncated tail.
    auto store = MustOpen(kind, where);
    ChainHead head = *store->Head();
    store.reset();
    kind.Sql(where, "DELETE FROM ci_versions WHERE valid_from = 4");
    kind.Sql(where, "DELETE FROM transactions WHERE id = 4");
    {
      auto report = MustOpen(kind, where)->VerifyChain(VerifyOptions{head});
      REQUIRE(report.ok());
      CHECK_FALSE(report->ok);
      REQUIRE(report->problems.size() == 1);
      CHECK(report->problems[0].reason == "the head " + FormatChainHead(head) +
                                              " is no longer in the log, which ends at transaction "
                                              "3: transactions were removed from its tail");
    }
    // Change what transaction 2 wrote (a CI's stored class).
    kind.Sql(where, "UPDATE ci_versions SET class = 'PhysicalServer' WHERE valid_from = 2");
    auto report = MustOpen(kind, where)->VerifyChain();
    CHECK(report->first_broken == 2);
  }
}

TEST_CASE("SQLite and PostgreSQL chain a transaction with the same hash", "[store]") {
  // The same writes at the same times on both stores: the same chain, hash for hash.
  std::vector<std::string> hashes;
  FOR_EACH_STORE(kind) {
    auto store = MustOpen(kind, kind.Create("same_hash"));
    REQUIRE(store->Initialize(false).ok());
    WriteSet ws;
    ws.tx.id = 1;
    ws.tx.time = 1700000000000000;
    ws.tx.actor = "alice";
    ws.tx.source = "api";
    ws.tx.message = "same on both";
    CiRecord c;
    c.id = 1;
    c.version = 1;
    c.class_name = "VirtualMachine";
    c.attrs = Attrs({{"name", "vm1"}, {"cpu_count", 2}});
    c.created_at = c.updated_at = ws.tx.time;
    c.valid_from = 1;
    ws.cis.push_back(c);
    ws.tx.cis_written = 1;
    REQUIRE(store->Commit(ws).ok());
    auto txs = store->Transactions(0, 10);
    REQUIRE(txs->size() == 1);
    hashes.push_back(txs->at(0).hash);
    CHECK(store->VerifyChain()->ok);
    // The same transaction id again: refused, nothing applied.
    CHECK_FALSE(store->Commit(ws).ok());
    CHECK(store->Transactions(0, 10)->size() == 1);
  }
  if (hashes.size() == 2) CHECK(hashes[0] == hashes[1]);
}

TEST_CASE(
    "the chain hash of a write set staged out of id order matches the stored rows, on every store",
    "[store]") {
  FOR_EACH_STORE(kind) {
    auto store = MustOpen(kind, kind.Create("chain_order"));
    auto db = OpenWithDefaultSchema(store.get());
    REQUIRE(db.ok());
    std::vector<CiId> ids;
    REQUIRE((*db)
                ->Write(TxMeta{"alice", "api"},
                        [&](Txn& t) -> Status {
                          for (int i = 0; i < 150; ++i) {
                            auto id = t.CreateCi("VirtualMachine",
                                                 Attrs({{"name", "order-" + std::to_string(i)}}));
                            CMDB_RETURN_IF_ERROR(id.status());
                            ids.push_back(*id);
                          }
                          return Status::Ok();
                        })
                .ok());
    REQUIRE((*db)
                ->Write(TxMeta{"bob", "api"},
                        [&](Txn& t) -> Status {
                          for (size_t i = ids.size(); i-- > 1;) {
                            CMDB_RETURN_IF_ERROR(
                                t.UpdateCi(ids[i], {{"os", Value("linux-" + std::to_string(i))}},
                                           std::nullopt));
                            CMDB_RETURN_IF_ERROR(
                                t.CreateRel("DEPENDS_ON", ids[i], ids[i - 1], {}).status());
                          }
                          return Status::Ok();
                        })
                .ok());
    auto report = store->VerifyChain();
    REQUIRE(report.ok());
    CHECK(report->ok);
    CHECK(report->first_broken == 0);
    for (size_t i = 1; i < ids.size(); ++i) {
      auto history = store->CiHistory(ids[i]);
      REQUIRE(history->size() == 2);
      CHECK((*history)[0].valid_to == (*history)[1].valid_from);
    }
  }
}

TEST_CASE("process records, provenance and unauthorized flags survive a restart, hash-chained",
          "[store]") {
  FOR_EACH_STORE(kind) {
    std::string where = kind.Create("docs");
    int64_t doc_id = 0;
    CiId vm = 0;
    {
      auto store = MustOpen(kind, where);
      auto db = OpenWithDefaultSchema(store.get());
      REQUIRE(db.ok());
      for (int v = 1; v <= 2; ++v) {
        auto tx = (*db)->Write(TxMeta{"carol", "change"}, [&](Txn& t) {
          DocRecord d;
          d.kind = "change";
          d.id = v == 1 ? t.NextDocId("change") : doc_id;
          doc_id = d.id;
          d.body = Attrs({{"title", "v" + std::to_string(v)}});
          return t.PutDoc(std::move(d), std::nullopt).status();
        });
        REQUIRE(tx.ok());
      }
      (*db)->SetWritePolicy([](WriteSet& ws, const Graph&, const Schema&) {
        ws.tx.unauthorized = "flagged for the test";
        return Status::Ok();
      });
      REQUIRE((*db)
                  ->Write(TxMeta{"dave", "api"},
                          [&](Txn& t) -> Status {
                            auto id = t.CreateCi("VirtualMachine", Attrs({{"name", "flagged-vm"}}));
                            CMDB_RETURN_IF_ERROR(id.status());
                            vm = *id;
                            Provenance p;
                            p.id = vm;
                            p.source = "nmap";
                            p.last_seen = 1234;
                            p.owned = Attrs({{"os", "nmap"}});
                            t.PutProvenance(p);
                            return Status::Ok();
                          })
                  .ok());
    }
    {
      auto store = MustOpen(kind, where);
      auto db = OpenWithDefaultSchema(store.get());
      REQUIRE(db.ok());
      const DocRecord* d = (*db)->Read().graph().docs().Find("change", doc_id);
      REQUIRE(d);
      CHECK(d->version == 2);
      CHECK(d->body.Get("title") == Value("v2"));
      auto history = store->DocHistory("change", doc_id);
      REQUIRE(history->size() == 2);
      CHECK(history->at(0).valid_to == history->at(1).valid_from);
      auto flagged = store->FlaggedTransactions(0, 10);
      REQUIRE(flagged->size() == 1);
      CHECK(flagged->at(0).unauthorized == "flagged for the test");
      std::vector<Provenance> prov;
      REQUIRE(store->LoadProvenance([&](Provenance&& p) { prov.push_back(std::move(p)); }).ok());
      REQUIRE(prov.size() == 1);
      CHECK(prov[0].id == vm);
      CHECK(prov[0].source == "nmap");
      CHECK(prov[0].last_seen == 1234);
      CHECK(prov[0].owned.Get("os") == Value("nmap"));
      CHECK(store->VerifyChain()->ok);
    }
    kind.Sql(where, "UPDATE transactions SET unauthorized = NULL");
    auto report = MustOpen(kind, where)->VerifyChain();
    CHECK_FALSE(report->ok);
    CHECK(report->reason == "its content does not match its hash");
  }
}

TEST_CASE("tokens: unique names, lookup by hash, revocation, on every store", "[store]") {
  FOR_EACH_STORE(kind) {
    std::string where = kind.Create("tokens");
    auto store = MustOpen(kind, where);
    TokenRecord t;
    t.name = "ci-bot";
    t.role = Role::kImporter;
    t.hash = "h1";
    t.created_at = 10;
    auto made = store->CreateToken(t);
    REQUIRE(made.ok());
    CHECK(made->id == 1);
    t.hash = "h2";
    auto again = store->CreateToken(t);
    REQUIRE_FALSE(again.ok());
    CHECK(again.status().code() == StatusCode::kConflict);
    CHECK(again.status().message() == "a token named 'ci-bot' already exists");
    t.name = "reader";
    t.role = Role::kReader;
    REQUIRE(store->CreateToken(t)->id == 2);
    auto found = store->FindToken("h1");
    REQUIRE(found.ok());
    REQUIRE(found->has_value());
    CHECK((*found)->name == "ci-bot");
    CHECK((*found)->role == Role::kImporter);
    REQUIRE(store->RevokeToken("ci-bot", 99).ok());
    CHECK_FALSE(store->FindToken("h1")->has_value());
    CHECK(store->RevokeToken("ci-bot", 100).message() == "no valid token named 'ci-bot'");
    store.reset();
    auto list = MustOpen(kind, where)->ListTokens();
    REQUIRE(list->size() == 2);
    CHECK((*list)[0].revoked_at == 99);
    CHECK((*list)[1].name == "reader");
  }
}

TEST_CASE("a bulk load stores exactly what it staged, on every store", "[store]") {
  FOR_EACH_STORE(kind) {
    std::string where = kind.Create("bulk");
    size_t cis = 0;
    {
      auto store = MustOpen(kind, where);
      auto db = OpenWithDefaultSchema(store.get());
      REQUIRE(db.ok());
      std::string body;
      for (int i = 0; i < 5000; ++i) {
        body += R"({"op":"ci","ref":"vm)" + std::to_string(i) +
                R"(","class":"VirtualMachine","attributes":{"name":"bvm-)" + std::to_string(i) +
                R"("}})"
                "\n";
        if (i > 0)
          body += R"({"op":"rel","type":"DEPENDS_ON","from":{"ref":"vm)" + std::to_string(i) +
                  R"("},"to":{"ref":"vm)" + std::to_string(i - 1) +
                  R"("}})"
                  "\n";
      }
      bulk::BulkResult result;
      REQUIRE(
          bulk::RunBulk(**db, TxMeta{"t", "bulk"}, bulk::StringReader(body), body.size(), result)
              .ok());
      CHECK(result.created == 5000);
      CHECK(result.rels_created == 4999);
      cis = (*db)->Read().graph().ci_count();
      auto chain = store->VerifyChain();
      REQUIRE(chain.ok());
      CHECK(chain->ok);
    }
    auto store = MustOpen(kind, where);
    auto db = OpenWithDefaultSchema(store.get());
    REQUIRE(db.ok());
    CHECK((*db)->Read().graph().ci_count() == cis);
    CHECK((*db)->Read().graph().rel_count() == 4999);
  }
}

TEST_CASE("two servers on one PostgreSQL database: a stale writer is refused, one chain stays",
          "[store][postgres]") {
  cmdb::testing::PgServer* server = cmdb::testing::PgServer::Get();
  if (!server) {
    WARN(cmdb::testing::PgServer::SkipReason());
    return;
  }
  std::string url = server->NewDatabase("two_writers");
  auto a = PgStore::Open(url);
  REQUIRE(a.ok());
  auto db_a = OpenWithDefaultSchema(a->get());
  REQUIRE(db_a.ok());
  auto b = PgStore::Open(url);
  REQUIRE(b.ok());
  auto db_b = OpenWithDefaultSchema(b->get());
  REQUIRE(db_b.ok());
  auto create = [](Database& db, const std::string& name) {
    return db.Write(TxMeta{"t", "api"}, [&](Txn& t) {
      return t.CreateCi("VirtualMachine", Attrs({{"name", name}})).status();
    });
  };
  REQUIRE(create(**db_a, "from-a").ok());
  // B loaded the log before A's write: its transaction would fork the chain.
  auto stale = create(**db_b, "from-b");
  REQUIRE_FALSE(stale.ok());
  CHECK(stale.status().code() == StatusCode::kConflict);
  CHECK(stale.status().message() ==
        "the log in PostgreSQL is at transaction 2, not 1: another process wrote to this "
        "database, so this server's graph is out of date (restart it to load the current "
        "state); nothing of this write was applied");
  CHECK((*db_b)->Read().graph().ci_count() == 0);
  // Restarted, B sees A's write and continues the same chain.
  db_b->reset();
  b->reset();
  auto b2 = PgStore::Open(url);
  REQUIRE(b2.ok());
  auto db_b2 = OpenWithDefaultSchema(b2->get());
  REQUIRE(db_b2.ok());
  CHECK((*db_b2)->Read().graph().ci_count() == 1);
  REQUIRE(create(**db_b2, "from-b").ok());
  auto report = (*a)->VerifyChain();
  REQUIRE(report.ok());
  CHECK(report->ok);
  CHECK(report->checked == 3);
}

TEST_CASE("an unreachable PostgreSQL is a clear kUnavailable error", "[store][postgres]") {
  auto store =
      PgStore::Open("postgresql://cmdb@/cmdb?host=/nonexistent-dir&port=1&connect_timeout=2");
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == StatusCode::kUnavailable);
  CHECK(store.status().message().rfind(
            "cannot connect to PostgreSQL: connection to server on socket "
            "\"/nonexistent-dir/.s.PGSQL.1\" failed: No such file or directory",
            0) == 0);
}

TEST_CASE("writes of many rows close every superseded version and reload the same graph",
          "[store]") {
  FOR_EACH_STORE(kind) {
    // 150 CIs and 149 relationships a transaction: multi-row INSERTs plus a remainder, and in the
    // second transaction every row supersedes one (closes before inserts).
    std::string path = kind.Create("many_rows");
    constexpr int kCis = 150;
    std::vector<CiId> ids;
    std::vector<RelId> rels;
    {
      auto store = MustOpen(kind, path);
      auto db = OpenWithDefaultSchema(store.get());
      REQUIRE(db.ok());
      auto first = (*db)->Write(TxMeta{}, [&](Txn& t) {
        for (int i = 0; i < kCis; ++i) {
          auto id = t.CreateCi("VirtualMachine", Attrs({{"name", "vm" + std::to_string(i)}}));
          CMDB_RETURN_IF_ERROR(id.status());
          ids.push_back(*id);
          if (i == 0) continue;
          auto rel = t.CreateRel("DEPENDS_ON", ids[i - 1], *id, {});
          CMDB_RETURN_IF_ERROR(rel.status());
          rels.push_back(*rel);
        }
        return Status::Ok();
      });
      REQUIRE(first.ok());
      auto second = (*db)->Write(TxMeta{}, [&](Txn& t) {
        for (int i = 0; i < kCis; ++i)
          CMDB_RETURN_IF_ERROR(
              t.UpdateCi(ids[i], {{"cpu_count", Value(int64_t{i})}}, std::nullopt));
        for (RelId r : rels) CMDB_RETURN_IF_ERROR(t.DeleteRel(r, std::nullopt));
        return Status::Ok();
      });
      REQUIRE(second.ok());
      for (size_t i = 0; i < ids.size(); ++i) {
        auto history = store->CiHistory(ids[i]);
        REQUIRE(history.ok());
        REQUIRE(history->size() == 2);
        CHECK((*history)[0].valid_to == second->id);
        CHECK((*history)[1].valid_to == kNoTx);
        CHECK((*history)[1].attrs.Get("cpu_count") == Value(int64_t(i)));
      }
      auto rel_history = store->RelHistory(rels.back());
      REQUIRE(rel_history.ok());
      REQUIRE(rel_history->size() == 2);
      CHECK((*rel_history)[1].retired);
      auto chain = store->VerifyChain();
      REQUIRE(chain.ok());
      CHECK(chain->ok);
    }
    auto store = MustOpen(kind, path);
    auto db = OpenWithDefaultSchema(store.get());
    REQUIRE(db.ok());
    auto view = (*db)->Read();
    CHECK(view.graph().FindCi(ids.back())->attrs.Get("cpu_count") == Value(int64_t{kCis - 1}));
    CHECK_FALSE(view.graph().HasRel(rels.front()));
    CHECK(view.graph().Out(ids.front()).empty());
  }
}

TEST_CASE("writers in several connections to one PostgreSQL database get one order and one chain",
          "[store][postgres]") {
  cmdb::testing::PgServer* server = cmdb::testing::PgServer::Get();
  if (!server) {
    WARN(cmdb::testing::PgServer::SkipReason());
    return;
  }
  std::string url = server->NewDatabase("racing_writers");
  {
    auto first = PgStore::Open(url);
    REQUIRE(first.ok());
    REQUIRE((*first)->Initialize(true).ok());
  }
  // Each writer reads the head, commits the next transaction id and, when another writer got
  // there first (kConflict), reads the head again: as processes sharing a database would.
  constexpr int kWriters = 3, kEach = 40;
  std::vector<int> conflicts(kWriters, 0), committed(kWriters, 0);
  std::vector<std::string> errors(kWriters);
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      auto store = PgStore::Open(url);
      if (!store.ok()) {
        errors[w] = store.status().message();
        return;
      }
      for (int i = 0; i < kEach;) {
        auto head = (*store)->Head();
        if (!head.ok()) {
          errors[w] = head.status().message();
          return;
        }
        WriteSet ws;
        ws.tx.id = head->tx + 1;
        ws.tx.time = 1700000000000000 + ws.tx.id;
        ws.tx.actor = "writer-" + std::to_string(w);
        ws.tx.source = "test";
        CiRecord c;
        c.id = w * 1000 + i + 1;  // ids of each writer apart
        c.version = 1;
        c.class_name = "Thing";
        c.attrs = Attrs({{"name", "w" + std::to_string(w) + "-" + std::to_string(i)}});
        c.valid_from = static_cast<RecordTx>(ws.tx.id);
        ws.cis.push_back(c);
        ws.tx.cis_written = 1;
        Status st = (*store)->Commit(ws);
        if (st.code() == StatusCode::kConflict) {
          ++conflicts[w];
          continue;
        }
        if (!st.ok()) {
          errors[w] = st.message();
          return;
        }
        ++committed[w];
        ++i;
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int w = 0; w < kWriters; ++w) {
    INFO("writer " << w);
    CHECK(errors[w] == "");
    CHECK(committed[w] == kEach);
  }
  auto store = PgStore::Open(url);
  REQUIRE(store.ok());
  auto txs = (*store)->Transactions(0, 1000);
  REQUIRE(txs->size() == static_cast<size_t>(kWriters * kEach));
  for (size_t i = 0; i < txs->size(); ++i) {
    CHECK((*txs)[i].id == static_cast<TxId>(i + 1));
    CHECK((*txs)[i].prev_hash == (i == 0 ? std::string(kGenesisHash) : (*txs)[i - 1].hash));
  }
  auto report = (*store)->VerifyChain();
  REQUIRE(report.ok());
  CHECK(report->ok);
  CHECK(report->checked == kWriters * kEach);
}
