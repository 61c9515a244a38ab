#include <catch2/catch.hpp>
#include <filesystem>

#include "bulk/bulk.hpp"
#include "store/sqlite_store.hpp"
#include "test_util.hpp"

using namespace cmdb;
using cmdb::testing::Attrs;

namespace {
std::string TempDb(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("cmdb_store_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
  return path.string();
}
// A database on `store` with the default schema (created on first open).
Result<std::unique_ptr<Database>> OpenWithDefaultSchema(Store* store) {
  api::BootstrapOptions opts;
  opts.schema_dir = cmdb::testing::SourceDir() + "/schema";
  std::ostringstream log;
  return api::OpenDatabase(store, opts, log);
}

}  // namespace

TEST_CASE("SQLite store keeps every version and reloads the current graph") {
  std::string path = TempDb("history.sqlite");
  CiId vm = 0, inst = 0;
  {
    auto store = SqliteStore::Open(path);
    REQUIRE(store.ok());
    auto db = OpenWithDefaultSchema(store->get());
    REQUIRE(db.ok());
    auto tx = (*db)->Write(TxMeta{"bob", "api"}, [&](Txn& t) {
      vm = *t.CreateCi("VirtualMachine", Attrs({{"name", "vm1"}, {"cpu_count", 2}, {"tags", ValueList{Value("a")}}}));
      inst = *t.CreateCi("AppInstance", Attrs({{"name", "i1"}}));
      return t.CreateRel("RUNS_ON", inst, vm, {}).status();
    });
    REQUIRE(tx.ok());
    REQUIRE((*db)->Write(TxMeta{}, [&](Txn& t) { return t.UpdateCi(vm, {{"cpu_count", Value(4)}}, 1); }).ok());
    REQUIRE((*db)->Write(TxMeta{}, [&](Txn& t) { return t.RetireCi(inst, std::nullopt); }).ok());
    REQUIRE((*store)->IntegrityCheck().ok());
  }
  auto store = SqliteStore::Open(path);
  REQUIRE(store.ok());
  auto info = (*store)->Info();
  REQUIRE(info.ok());
  CHECK(info->initialized);
  CHECK(info->schema_version == 1);
  CHECK(info->max_ci_id == inst);
  api::BootstrapOptions opts;  // no schema dir: the stored schema must come back
  std::ostringstream log;
  auto db = api::OpenDatabase(store->get(), opts, log);
  REQUIRE(db.ok());
  {
  auto view = (*db)->Read();  // holds a shared lock: released before the write below
  REQUIRE(view.graph().ci_count() == 1);
  CHECK(view.graph().rel_count() == 0);
  const CiRecord* ci = view.graph().FindCi(vm);
  REQUIRE(ci);
  CHECK(ci->attrs.Get("cpu_count") == Value(4));
  CHECK(ci->attrs.Get("tags") == Value(ValueList{Value("a")}));
  CHECK(ci->version == 2);
  CHECK(view.schema().FindClass("VirtualMachine"));
  }
  auto hist = (*store)->CiHistory(vm);
  REQUIRE(hist->size() == 2);
  CHECK(hist->at(0).attrs.Get("cpu_count") == Value(2));
  CHECK(hist->at(0).valid_to == hist->at(1).valid_from);
  CHECK(hist->at(1).valid_to == kNoTx);
  auto txs = (*store)->Transactions(0, 100);
  REQUIRE(txs->size() == 4);  // schema, create, update, retire
  CHECK(txs->at(1).actor == "bob");
  CHECK((*store)->LatestCi(inst)->value().retired);
  // New ids continue after the stored maximum.
  CiId next = 0;
  REQUIRE((*db)->Write(TxMeta{}, [&](Txn& t) {
    auto r = t.CreateCi("VirtualMachine", Attrs({{"name", "vm2"}}));
    next = r.ok() ? *r : 0;
    return r.status();
  }).ok());
  CHECK(next == inst + 1);
}

TEST_CASE("opening an unusable path fails with a clear error") {
  auto store = SqliteStore::Open("/nonexistent-dir/x/cmdb.sqlite");
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().message().rfind("cannot open database '/nonexistent-dir/x/cmdb.sqlite'", 0) == 0);
}

#include <sqlite3.h>

TEST_CASE("the hash-chained log finds the first altered transaction") {
  std::string path = TempDb("chain.sqlite");
  {
    auto store = SqliteStore::Open(path);
    REQUIRE(store.ok());
    auto db = OpenWithDefaultSchema(store->get());
    REQUIRE(db.ok());
    for (int i = 0; i < 3; ++i) {
      REQUIRE((*db)->Write(TxMeta{"alice", "api"}, [&](Txn& t) {
        return t.CreateCi("VirtualMachine", Attrs({{"name", "vm" + std::to_string(i)}})).status();
      }).ok());
    }
    auto report = (*store)->VerifyChain();
    REQUIRE(report.ok());
    CHECK(report->ok);
    CHECK(report->checked == 4);
    auto txs = (*store)->Transactions(0, 10);
    CHECK(txs->at(0).prev_hash == kGenesisHash);
    CHECK(txs->at(1).prev_hash == txs->at(0).hash);
  }
  auto tamper = [&](const char* sql) {
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw, sql, nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(raw);
  };
  // Change who did transaction 3.
  tamper("UPDATE transactions SET actor = 'mallory' WHERE id = 3");
  {
    auto store = SqliteStore::Open(path);
    auto report = (*store)->VerifyChain();
    CHECK_FALSE(report->ok);
    CHECK(report->first_broken == 3);
    CHECK(report->reason == "its content does not match its hash");
  }
  tamper("UPDATE transactions SET actor = 'alice' WHERE id = 3");
  CHECK((*SqliteStore::Open(path))->VerifyChain()->ok);
  // Change what transaction 2 wrote (a CI's stored attributes).
  tamper("UPDATE ci_versions SET class = 'PhysicalServer' WHERE valid_from = 2");
  auto report = (*SqliteStore::Open(path))->VerifyChain();
  CHECK(report->first_broken == 2);
}

TEST_CASE("the chain hash of a write set staged out of id order matches the stored rows") {
  // Updates staged in descending id order, with relationships too: the commit hashes them in
  // canonical (id) order without copying; verification recomputes from the stored rows.
  std::string path = TempDb("chain-order.sqlite");
  auto store = SqliteStore::Open(path);
  REQUIRE(store.ok());
  auto db = OpenWithDefaultSchema(store->get());
  REQUIRE(db.ok());
  std::vector<CiId> ids;
  REQUIRE((*db)->Write(TxMeta{"alice", "api"}, [&](Txn& t) -> Status {
    for (int i = 0; i < 50; ++i) {
      auto id = t.CreateCi("VirtualMachine", Attrs({{"name", "order-" + std::to_string(i)}}));
      CMDB_RETURN_IF_ERROR(id.status());
      ids.push_back(*id);
    }
    return Status::Ok();
  }).ok());
  REQUIRE((*db)->Write(TxMeta{"bob", "api"}, [&](Txn& t) -> Status {
    for (size_t i = ids.size(); i-- > 1;) {
      CMDB_RETURN_IF_ERROR(t.UpdateCi(ids[i], {{"os", Value("linux-" + std::to_string(i))}}, std::nullopt));
      CMDB_RETURN_IF_ERROR(t.CreateRel("DEPENDS_ON", ids[i], ids[i - 1], {}).status());
    }
    return Status::Ok();
  }).ok());
  auto report = (*store)->VerifyChain();
  REQUIRE(report.ok());
  CHECK(report->ok);
  CHECK(report->first_broken == 0);
}

namespace {
int64_t PageCount(const std::string& path) {
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(raw, "PRAGMA page_count", -1, &st, nullptr);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  int64_t pages = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(raw);
  return pages;
}

// A database with the default schema on a store limited to `spare_pages` pages more than the
// schema needs: writing past them behaves like a full disk.
struct NearlyFull {
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<Database> db;
};
NearlyFull OpenNearlyFull(const std::string& name, int64_t spare_pages) {
  std::string path = TempDb(name);
  {
    auto store = SqliteStore::Open(path);
    REQUIRE(OpenWithDefaultSchema(store->get()).ok());
  }
  auto store = SqliteStore::Open(path, SqliteOptions{true, PageCount(path) + spare_pages});
  REQUIRE(store.ok());
  std::ostringstream log;
  auto db = api::OpenDatabase(store->get(), api::BootstrapOptions{}, log);
  REQUIRE(db.ok());
  return NearlyFull{std::move(*store), std::move(*db)};
}
}  // namespace

TEST_CASE("a full disk refuses writes with a clear error, applies nothing, and reads keep working") {
  // A size limit just above what the file holds now.
  NearlyFull t = OpenNearlyFull("full.sqlite", 2);
  auto& store = t.store;
  auto& db = t.db;
  Result<TxRecord> tx = TxRecord{};
  int written = 0;
  for (int batch = 0; batch < 200 && tx.ok(); ++batch) {
    tx = db->Write(TxMeta{}, [&](Txn& t) {
      for (int i = 0; i < 50; ++i) {
        auto id = t.CreateCi("VirtualMachine", Attrs({{"name", "full-" + std::to_string(batch) + "-" + std::to_string(i)},
                                                      {"description", std::string(200, 'x')}}));
        if (!id.ok()) return id.status();
      }
      return Status::Ok();
    });
    if (tx.ok()) written += 50;
  }
  REQUIRE_FALSE(tx.ok());
  CHECK(tx.status().code() == StatusCode::kUnavailable);
  CHECK(tx.status().message().rfind("the disk is full (or the database reached its size limit): the write was not applied", 0) == 0);
  // Nothing of the failed transaction is visible, and reads keep working.
  CHECK(db->Read().graph().ci_count() == static_cast<size_t>(written));
  CHECK(store->Transactions(0, 1000)->size() == static_cast<size_t>(written / 50 + 1));
  CHECK(store->IntegrityCheck().ok());
}

TEST_CASE("process records and unauthorized flags survive a restart and are hash-chained") {
  std::string path = TempDb("docs.sqlite");
  int64_t doc_id = 0;
  {
    auto store = SqliteStore::Open(path);
    REQUIRE(store.ok());
    auto db = OpenWithDefaultSchema(store->get());
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
    REQUIRE((*db)->Write(TxMeta{"dave", "api"}, [&](Txn& t) {
      return t.CreateCi("VirtualMachine", Attrs({{"name", "flagged-vm"}})).status();
    }).ok());
  }
  {
    auto store = SqliteStore::Open(path);
    auto db = OpenWithDefaultSchema(store->get());
    REQUIRE(db.ok());
    const DocRecord* d = (*db)->Read().graph().docs().Find("change", doc_id);
    REQUIRE(d);
    CHECK(d->version == 2);
    CHECK(d->body.Get("title") == Value("v2"));
    auto history = (*store)->DocHistory("change", doc_id);
    REQUIRE(history->size() == 2);
    CHECK(history->at(0).valid_to == history->at(1).valid_from);
    auto flagged = (*store)->FlaggedTransactions(0, 10);
    REQUIRE(flagged->size() == 1);
    CHECK(flagged->at(0).unauthorized == "flagged for the test");
    CHECK((*store)->VerifyChain()->ok);
  }
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
  REQUIRE(sqlite3_exec(raw, "UPDATE transactions SET unauthorized = NULL", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(raw);
  auto store = SqliteStore::Open(path);
  auto report = (*store)->VerifyChain();
  CHECK_FALSE(report->ok);
  CHECK(report->reason == "its content does not match its hash");
}

namespace {
// A bulk body long enough for the load to stream rows into SQLite before its commit (Txn::Flush):
// `n` VMs chained by DEPENDS_ON, then, after the stream has started, a changed VM and a changed
// relationship (their streamed rows must be rewritten), then `tail`.
std::string StreamedBody(int n, const std::string& tail) {
  std::string body;
  for (int i = 0; i < n; ++i) {
    body += R"({"op":"ci","ref":"vm)" + std::to_string(i) +
            R"(","class":"VirtualMachine","attributes":{"name":"svm-)" + std::to_string(i) +
            R"(","os":"linux"}})" "\n";
  }
  for (int i = 0; i + 1 < n; ++i) {
    body += R"({"op":"rel","type":"DEPENDS_ON","from":{"ref":"vm)" + std::to_string(i) +
            R"("},"to":{"ref":"vm)" + std::to_string(i + 1) + R"("},"attributes":{"note":"a"}})" "\n";
  }
  body += R"({"op":"ci","class":"VirtualMachine","attributes":{"name":"svm-0","os":"changed"}})" "\n";
  body += R"({"op":"rel","type":"DEPENDS_ON","from":{"ref":"vm0"},"to":{"ref":"vm1"},"attributes":{"note":"b"}})" "\n";
  return body + tail;
}
}  // namespace

TEST_CASE("a bulk load streamed into SQLite before its commit stores exactly what it staged") {
  std::string path = TempDb("stream.sqlite");
  CiId vm0 = 0;
  RelId rel0 = 0;
  {
    auto store = SqliteStore::Open(path);
    auto db = OpenWithDefaultSchema(store->get());
    REQUIRE(db.ok());
    bulk::BulkResult result;
    std::string body = StreamedBody(6000, "");
    REQUIRE(bulk::RunBulk(**db, TxMeta{"t", "bulk"}, bulk::StringReader(body), body.size(), result).ok());
    CHECK(result.created == 6000);
    CHECK(result.updated == 1);
    CHECK(result.rels_created == 5999);
    CHECK(result.rels_updated == 1);
    REQUIRE(result.refs.Find("vm0"));
    vm0 = *result.refs.Find("vm0");
    auto rels = (*db)->Read().graph().Out(vm0);
    REQUIRE(rels.size() == 1);
    rel0 = rels[0].rel();
    // The hash chain is recomputed from the stored rows: streamed, rewritten and committed rows
    // must be exactly the write set that was hashed.
    auto chain = (*store)->VerifyChain();
    REQUIRE(chain.ok());
    CHECK(chain->ok);
    auto history = (*store)->CiHistory(vm0);
    REQUIRE(history.ok());
    CHECK(history->size() == 1);  // rewritten in place: one version, the final one
  }
  auto store = SqliteStore::Open(path);
  auto db = OpenWithDefaultSchema(store->get());
  REQUIRE(db.ok());
  auto view = (*db)->Read();
  CHECK(view.graph().ci_count() == 6000);
  CHECK(view.graph().FindCi(vm0)->attrs.Get("os") == Value("changed"));
  CHECK(view.graph().FindRel(rel0)->attrs.Get("note") == Value("b"));
  CHECK((*store)->IntegrityCheck().ok());
}

TEST_CASE("a bulk load that fails after streaming rows leaves nothing in SQLite") {
  std::string path = TempDb("stream_fail.sqlite");
  auto store = SqliteStore::Open(path);
  auto db = OpenWithDefaultSchema(store->get());
  REQUIRE(db.ok());
  size_t txs = (*store)->Transactions(0, 1000)->size();
  bulk::BulkResult result;
  std::string body = StreamedBody(6000, R"({"op":"ci","class":"NoSuchClass","attributes":{}})" "\n");
  Status st = bulk::RunBulk(**db, TxMeta{"t", "bulk"}, bulk::StringReader(body), body.size(), result);
  CHECK_FALSE(st.ok());
  CHECK(st.message() == "1 of 12002 lines are invalid; nothing was applied");
  CHECK(result.error_count == 1);
  CHECK((*store)->Transactions(0, 1000)->size() == txs);
  // The store's transaction was rolled back and its lock released: the next write commits.
  auto next = (*db)->Write(TxMeta{}, [](Txn& t) {
    return t.CreateCi("VirtualMachine", Attrs({{"name", "after"}})).status();
  });
  REQUIRE(next.ok());
  // A second load beside the first store: without the database lock, which the first holds.
  auto reopened = SqliteStore::Open(path, SqliteOptions{.lock = DbLock::kNone});
  auto db2 = OpenWithDefaultSchema(reopened->get());
  REQUIRE(db2.ok());
  CHECK((*db2)->Read().graph().ci_count() == 1);
  CHECK((*reopened)->VerifyChain()->ok);
}

TEST_CASE("a full disk while a bulk load streams fails it with a clear error and applies nothing") {
  // Room for a few hundred rows: the stream's worker hits the limit mid-load.
  NearlyFull t = OpenNearlyFull("stream_full.sqlite", 40);
  auto& store = t.store;
  auto& db = t.db;
  size_t txs = store->Transactions(0, 1000)->size();
  bulk::BulkResult result;
  std::string body = StreamedBody(20000, "");
  Status st = bulk::RunBulk(*db, TxMeta{"t", "bulk"}, bulk::StringReader(body), body.size(), result);
  CHECK(st.code() == StatusCode::kUnavailable);
  CHECK(st.message().rfind("the disk is full (or the database reached its size limit)", 0) == 0);
  CHECK(db->Read().graph().ci_count() == 0);
  CHECK(store->Transactions(0, 1000)->size() == txs);
  CHECK(store->IntegrityCheck().ok());
  auto small = db->Write(TxMeta{}, [](Txn& t) {
    return t.CreateCi("VirtualMachine", Attrs({{"name", "small"}})).status();
  });
  CHECK(small.ok());  // the lock is released and the rolled-back space is free again
}

TEST_CASE("writes of many rows close every superseded version and reload the same graph") {
  // 150 CIs and 149 relationships a transaction: multi-row INSERTs plus a remainder, and in the
  // second transaction every row supersedes one (closes before inserts).
  std::string path = TempDb("many_rows.sqlite");
  constexpr int kCis = 150;
  std::vector<CiId> ids;
  std::vector<RelId> rels;
  {
    auto store = SqliteStore::Open(path);
    REQUIRE(store.ok());
    auto db = OpenWithDefaultSchema(store->get());
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
        CMDB_RETURN_IF_ERROR(t.UpdateCi(ids[i], {{"cpu_count", Value(int64_t{i})}}, std::nullopt));
      for (RelId r : rels) CMDB_RETURN_IF_ERROR(t.DeleteRel(r, std::nullopt));
      return Status::Ok();
    });
    REQUIRE(second.ok());
    for (size_t i = 0; i < ids.size(); ++i) {
      auto history = (*store)->CiHistory(ids[i]);
      REQUIRE(history.ok());
      REQUIRE(history->size() == 2);
      CHECK((*history)[0].valid_to == second->id);
      CHECK((*history)[1].valid_to == kNoTx);
      CHECK((*history)[1].attrs.Get("cpu_count") == Value(int64_t(i)));
    }
    auto rel_history = (*store)->RelHistory(rels.back());
    REQUIRE(rel_history.ok());
    REQUIRE(rel_history->size() == 2);
    CHECK((*rel_history)[1].retired);
    auto chain = (*store)->VerifyChain();
    REQUIRE(chain.ok());
    CHECK(chain->ok);
  }
  auto store = SqliteStore::Open(path);
  REQUIRE(store.ok());
  auto db = OpenWithDefaultSchema(store->get());
  REQUIRE(db.ok());
  auto view = (*db)->Read();
  CHECK(view.graph().FindCi(ids.back())->attrs.Get("cpu_count") == Value(int64_t{kCis - 1}));
  CHECK_FALSE(view.graph().HasRel(rels.front()));
  CHECK(view.graph().Out(ids.front()).empty());
}
