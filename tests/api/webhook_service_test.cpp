// WebhookService against a real SQLite store: each event's body is the change feed's element for
// its transaction through the webhook's filter (process::ReadFeed rendered by FeedTxToJson, the
// oracle), and definitions stored with the old exclude lists come back as the feed's filters.
// Events are parked at their first failed attempt (max_attempts 1; nothing listens on the
// destination), so the dead letters hold every body the router enqueued.
#include "api/webhook_service.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "api/feed_json.hpp"
#include "store/sqlite_store.hpp"
#include "test_util.hpp"

using namespace cmdb;
using cmdb::testing::Attrs;
using nlohmann::json;

namespace {

std::string TempDb(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() /
             ("cmdb_webhook_service_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto path = dir / name;
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  return path.string();
}

Result<std::unique_ptr<Database>> OpenDb(Store* store) {
  api::BootstrapOptions opts;
  opts.schema_dir = cmdb::testing::SourceDir() + "/schema";
  std::ostringstream log;
  return api::OpenDatabase(store, opts, log);
}

}  // namespace

TEST_CASE("webhooks: a body is the feed's element through the webhook's filter", "[webhook]") {
  auto store = SqliteStore::Open(TempDb("feed_bodies.sqlite"));
  REQUIRE(store.ok());
  auto db = OpenDb(store->get());
  REQUIRE(db.ok());
  // A definition stored before filters had not_actor/not_source.
  WebhookDef legacy;
  legacy.url = "http://127.0.0.1:9/legacy";
  legacy.secret = "0123456789abcdef";
  legacy.filter = R"({"class": "Computer"})";
  legacy.exclude_actors = {"sync"};
  legacy.exclude_sources = {"bulk"};
  auto stored = (*store)->CreateWebhook(legacy);
  REQUIRE(stored.ok());

  api::WebhookOptions options;
  options.allow = *api::AllowList::Parse("127.0.0.1");
  options.max_attempts = 1;
  api::WebhookService service(**store, **db, options);
  REQUIRE(service.Start().ok());
  auto got = service.Get(stored->id);
  REQUIRE(got.ok());
  CHECK((*got)["filter"] ==
        json{{"class", "Computer"}, {"not_actor", {"sync"}}, {"not_source", {"bulk"}}});
  CHECK(!got->contains("exclude_actors"));
  auto relisted = (*store)->ListWebhooks();
  REQUIRE(relisted.ok());
  CHECK((relisted->at(0).exclude_actors.empty() && relisted->at(0).exclude_sources.empty()));

  std::vector<json> filters = {json::object(), json{{"type", "HOSTED_ON"}},
                               json{{"not_source", "query"}, {"actor", {"admin", "sync"}}}};
  std::vector<int64_t> ids;
  for (size_t i = 0; i < filters.size(); ++i) {
    auto made = service.Create(json{{"url", "http://127.0.0.1:9/h" + std::to_string(i)},
                                    {"secret", "0123456789abcdef"},
                                    {"filter", filters[i]}});
    REQUIRE(made.ok());
    ids.push_back((*made)["id"].get<int64_t>());
  }
  filters.push_back((*got)["filter"]);
  ids.push_back(stored->id);
  auto bad = service.Create(json{{"url", "http://127.0.0.1:9/x"}, {"filter", {{"class", "Nope"}}}});
  CHECK(bad.status().message() == "unknown class 'Nope' in filter 'class'");

  auto head = (*store)->Head();
  REQUIRE(head.ok());
  const TxId start = head->tx;
  auto write = [&](const std::string& actor, const std::string& source, auto&& body) {
    auto tx = (*db)->Write(TxMeta{actor, source}, body);
    REQUIRE(tx.ok());
  };
  CiId vm = 0, server = 0;
  write("admin", "api", [&](Txn& t) {
    auto a = t.CreateCi("VirtualMachine",
                        Attrs({{"name", Value("wh-vm")}, {"cpu_count", Value(int64_t{2})}}));
    auto b = t.CreateCi("PhysicalServer", Attrs({{"name", Value("wh-ps")}}));
    if (!a.ok()) return a.status();
    if (!b.ok()) return b.status();
    vm = *a;
    server = *b;
    return Status::Ok();
  });
  write("sync", "bulk", [&](Txn& t) {
    return t.UpdateCi(vm, {{"cpu_count", Value(int64_t{4})}}, std::nullopt);
  });
  write("admin", "query",
        [&](Txn& t) { return t.CreateRel("HOSTED_ON", vm, server, AttrMap()).status(); });
  write("admin", "api", [&](Txn& t) {
    return t.UpdateCi(vm, {{"cpu_count", Value(int64_t{8})}}, std::nullopt);
  });
  write("admin", "api", [&](Txn& t) { return t.RetireCi(vm, std::nullopt); });

  std::shared_ptr<const Schema> schema = (*db)->schema();
  for (size_t i = 0; i < ids.size(); ++i) {
    INFO("filter " << filters[i].dump());
    auto filter = api::FeedFilterFromJson(filters[i], "filter", schema.get());
    REQUIRE(filter.ok());
    auto page = process::ReadFeed(**store, start, 100, *filter);
    REQUIRE(page.ok());
    std::vector<json> expected;
    for (const process::FeedTx& tx : page->txs) expected.push_back(api::FeedTxToJson(tx));
    REQUIRE(!expected.empty());
    std::vector<json> bodies;
    for (int tries = 0; tries < 3000; ++tries) {
      auto dead = service.DeadLetters(ids[i]);
      REQUIRE(dead.ok());
      if ((*dead)["items"].size() >= expected.size()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    auto dead = (*store)->DeadLetters(ids[i]);
    REQUIRE(dead.ok());
    for (const OutboxEvent& e : *dead) bodies.push_back(json::parse(e.body));
    CHECK(bodies == expected);
  }
  service.Stop();
}
