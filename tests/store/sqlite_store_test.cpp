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
// (The tests every store passes are in store_contract_test.cpp.)
// A database on `store` with the default schema (created on first open).
Result<std::unique_ptr<Database>> OpenWithDefaultSchema(Store* store) {
  api::BootstrapOptions opts;
  opts.schema_dir = cmdb::testing::SourceDir() + "/schema";
  std::ostringstream log;
  return api::OpenDatabase(store, opts, log);
}

}  // namespace


TEST_CASE("opening an unusable path fails with a clear error") {
  auto store = SqliteStore::Open("/nonexistent-dir/x/cmdb.sqlite");
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().message().rfind("cannot open database '/nonexistent-dir/x/cmdb.sqlite'", 0) == 0);
}

#include <sqlite3.h>



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

