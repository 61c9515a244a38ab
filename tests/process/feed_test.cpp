// The change feed (process/feed.hpp) on both stores, and its JSON edge (api/feed_json.hpp).
#include <catch2/catch.hpp>
#include <filesystem>
#include <thread>
#include <unistd.h>

#include "api/feed_json.hpp"
#include "api/feed_stream.hpp"
#include "core_util.hpp"
#include "process/feed.hpp"
#include "store/sqlite_store.hpp"

using namespace cmdb;
using cmdb::process::FeedFilter;
using cmdb::process::FeedOp;
using cmdb::process::ReadFeed;
using cmdb::testing::Attrs;

namespace {

std::string TempFeedDb() {
  auto dir = std::filesystem::temp_directory_path() / ("cmdb_feed_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / "feed.sqlite";
  for (const char* suffix : {"", "-wal", "-shm", ".key", ".lock"}) {
    std::filesystem::remove(path.string() + suffix);
  }
  return path.string();
}

// Writes: tx A creates two CIs and a relationship; tx B (actor "sync") updates one; tx C retires
// the relationship. Returns the ids of A, B, C.
std::vector<TxId> WriteStory(Database& db, CiId& app, CiId& srv, RelId& rel) {
  std::vector<TxId> txs;
  auto a = db.Write(TxMeta{"alice", "api", "CHG-1", ""}, [&](Txn& t) {
    auto x = t.CreateCi("Application", Attrs({{"name", Value("shop")}}));
    if (!x.ok()) return x.status();
    app = *x;
    auto y = t.CreateCi("Application", Attrs({{"name", Value("db")}, {"vendor", Value("acme")}}));
    if (!y.ok()) return y.status();
    srv = *y;
    auto r = t.CreateRel("DEPENDS_ON", app, srv, {});
    if (!r.ok()) return r.status();
    rel = *r;
    return Status::Ok();
  });
  REQUIRE(a.ok());
  txs.push_back(a->id);
  auto b = db.Write(TxMeta{"sync", "import", "", ""}, [&](Txn& t) {
    return t.UpdateCi(srv, {{"vendor", Value("globex")}}, std::nullopt);
  });
  REQUIRE(b.ok());
  txs.push_back(b->id);
  auto c = db.Write(TxMeta{"alice", "api", "", ""},
                    [&](Txn& t) { return t.DeleteRel(rel, std::nullopt); });
  REQUIRE(c.ok());
  txs.push_back(c->id);
  return txs;
}

void CheckStory(Store& store, Database& db) {
  CiId app = 0, srv = 0;
  RelId rel = 0;
  TxId before = db.store()->Head()->tx;
  std::vector<TxId> txs = WriteStory(db, app, srv, rel);

  auto page = ReadFeed(store, before, 100, FeedFilter{});
  REQUIRE(page.ok());
  REQUIRE(page->txs.size() == 3);
  CHECK(page->next == txs[2]);
  CHECK(page->head == txs[2]);
  CHECK_FALSE(page->more);
  const auto& a = page->txs[0];
  CHECK(a.id == txs[0]);
  CHECK(a.actor == "alice");
  CHECK(a.change_ref == "CHG-1");
  CHECK_FALSE(a.hash.empty());
  REQUIRE(a.entries.size() == 3);
  CHECK(a.entries[0].op == FeedOp::kCreated);
  CHECK(a.entries[0].id == app);
  CHECK(a.entries[0].class_or_type == "Application");
  CHECK(a.entries[2].relationship);
  CHECK(a.entries[2].from == app);
  CHECK(a.entries[2].to == srv);
  const auto& b = page->txs[1];
  REQUIRE(b.entries.size() == 1);
  CHECK(b.entries[0].op == FeedOp::kUpdated);
  REQUIRE(b.entries[0].changes.size() == 1);
  CHECK(b.entries[0].changes[0].name == "vendor");
  CHECK(b.entries[0].changes[0].before == Value("acme"));
  CHECK(b.entries[0].changes[0].after == Value("globex"));
  const auto& c = page->txs[2];
  REQUIRE(c.entries.size() == 1);
  CHECK(c.entries[0].op == FeedOp::kRetired);
  CHECK(c.entries[0].id == rel);

  // Resuming page by page sees the same transactions.
  auto one = ReadFeed(store, before, 1, FeedFilter{});
  REQUIRE(one.ok());
  REQUIRE(one->txs.size() == 1);
  CHECK(one->next == txs[0]);
  CHECK(one->more);
  auto two = ReadFeed(store, one->next, 1, FeedFilter{});
  REQUIRE(two.ok());
  REQUIRE(two->txs.size() == 1);
  CHECK(two->txs[0].id == txs[1]);

  // Filters: an excluded actor, a relationship type; skipped transactions still advance.
  FeedFilter not_sync;
  not_sync.not_actors = {"sync"};
  auto ns = ReadFeed(store, before, 100, not_sync);
  REQUIRE(ns.ok());
  REQUIRE(ns->txs.size() == 2);
  CHECK(ns->txs[1].id == txs[2]);
  FeedFilter deps;
  deps.types = {"DEPENDS_ON"};
  auto d = ReadFeed(store, before, 100, deps);
  REQUIRE(d.ok());
  REQUIRE(d->txs.size() == 2);
  CHECK(d->txs[0].entries.size() == 1);
  CHECK(d->txs[0].entries[0].relationship);
  FeedFilter none;
  none.sources = {"bulk"};
  auto n = ReadFeed(store, before, 100, none);
  REQUIRE(n.ok());
  CHECK(n->txs.empty());
  CHECK(n->next == txs[2]);

  // Out of range.
  CHECK(ReadFeed(store, -1, 10, {}).status().message() ==
        "since must be 0 or a transaction id, got -1");
  CHECK(ReadFeed(store, txs[2] + 5, 10, {}).status().message() ==
        "since " + std::to_string(txs[2] + 5) + " is past the last transaction " +
            std::to_string(txs[2]));
}

}  // namespace

TEST_CASE("The feed reads what each transaction wrote, in order, from the memory store", "[feed]") {
  cmdb::testing::CoreDb core;
  CheckStory(core.store, *core.db);
}

TEST_CASE("The feed reads what each transaction wrote, in order, from the SQLite store", "[feed]") {
  auto store = SqliteStore::Open(TempFeedDb());
  REQUIRE(store.ok());
  auto db = cmdb::testing::OpenCoreDatabase(store->get());
  CheckStory(**store, *db);
}

TEST_CASE("Feed filters parse from parameters and JSON with clear errors", "[feed]") {
  Schema schema = cmdb::testing::DefaultSchema();
  api::HttpRequest req;
  req.query.emplace("class", "Location");
  req.query.emplace("not_actor", "sync,bot");
  auto f = api::FeedFilterFromParams(req, &schema);
  REQUIRE(f.ok());
  CHECK(f->not_actors == std::vector<std::string>{"sync", "bot"});
  // not_source: writes made these ways are dropped (an integration skips its own echo).
  api::HttpRequest ns;
  ns.query.emplace("not_source", "bulk,import");
  auto g = api::FeedFilterFromParams(ns, &schema);
  REQUIRE(g.ok());
  CHECK(g->not_sources == std::vector<std::string>{"bulk", "import"});
  TxRecord by_bulk, by_api;
  by_bulk.source = "bulk";
  by_api.source = "api";
  CHECK(!TxMatches(*g, by_bulk));
  CHECK(TxMatches(*g, by_api));
  CHECK(api::FeedFilterToJson(*g) == api::Json{{"not_source", {"bulk", "import"}}});
  // A class selects its subclasses.
  CHECK(std::find(f->classes.begin(), f->classes.end(), "Rack") != f->classes.end());

  api::HttpRequest bad;
  bad.query.emplace("class", "Aplication");
  CHECK(api::FeedFilterFromParams(bad, &schema).status().message() ==
        "unknown class 'Aplication' (did you mean 'Application'?) in filter 'class'");
  api::HttpRequest empty;
  empty.query.emplace("actor", "a,");
  CHECK(api::FeedFilterFromParams(empty, &schema).status().message() ==
        "filter 'actor' has an empty name");

  auto j = api::FeedFilterFromJson(api::Json{{"type", "DEPENDS_ON"}, {"not_actor", {"hook"}}},
                                   "filter", &schema);
  REQUIRE(j.ok());
  CHECK(j->types == std::vector<std::string>{"DEPENDS_ON"});
  CHECK(api::FeedFilterToJson(*j) == api::Json{{"type", {"DEPENDS_ON"}}, {"not_actor", {"hook"}}});
  CHECK(api::FeedFilterFromJson(api::Json{{"class", 3}}, "filter", &schema).status().message() ==
        "\"filter.class\" must be a string or an array of strings");
  CHECK(api::FeedFilterFromJson(api::Json{{"type", "DEPENDS"}}, "filter", &schema)
            .status()
            .message()
            .rfind("unknown relationship type 'DEPENDS'", 0) == 0);
}

TEST_CASE("A feed stream that falls a buffer behind is told to resume; streams are bounded",
          "[feed]") {
  cmdb::testing::CoreDb core;
  api::FeedHub hub(core.store, 1, 2, std::chrono::milliseconds(5));
  auto sub = hub.Open({});
  REQUIRE(sub);
  CHECK(hub.Open({}) == nullptr);  // one stream at most
  std::vector<process::FeedTx> got;
  // One transaction arrives through the buffer.
  core.Create("Application", Attrs({{"name", Value("a0")}}));
  auto next = api::FeedSubscription::Next::kTimeout;
  for (int i = 0; i < 500 && next == api::FeedSubscription::Next::kTimeout; ++i) {
    next = sub->Wait(std::chrono::milliseconds(10), got);
  }
  REQUIRE(next == api::FeedSubscription::Next::kTxs);
  REQUIRE(got.size() == 1);
  CHECK(got[0].entries[0].op == FeedOp::kCreated);
  // Three more while nobody reads: past the buffer of two.
  for (int i = 1; i <= 3; ++i) core.Create("Application", Attrs({{"name", Value("a" + std::to_string(i))}}));
  TxId last = core.store.Head()->tx;
  for (int i = 0; i < 500 && hub.position() < last; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  REQUIRE(hub.position() == last);
  next = sub->Wait(std::chrono::milliseconds(0), got);
  // Reading nothing meanwhile, the stream overflows (it never saw the last three one by one).
  CHECK(next == api::FeedSubscription::Next::kOverflow);
  hub.Stop();
  CHECK(sub->Wait(std::chrono::milliseconds(0), got) == api::FeedSubscription::Next::kClosed);
}
