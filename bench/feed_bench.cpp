#include "bench/feed_bench.hpp"

#include <chrono>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "api/bootstrap.hpp"
#include "api/feed_json.hpp"
#include "process/feed.hpp"
#include "store/sqlite_store.hpp"

namespace cmdb::bench {

namespace {

using SteadyClock = std::chrono::steady_clock;

double Seconds(SteadyClock::time_point a) {
  return std::chrono::duration<double>(SteadyClock::now() - a).count();
}

}  // namespace

bool FeedBench(int64_t txs, const std::string& dir, const std::string& schema_dir,
               nlohmann::json& out) {
  std::filesystem::create_directories(dir);
  std::string path = dir + "/bench-feed.sqlite";
  for (const char* s : {"", "-wal", "-shm", ".key", ".lock"}) std::filesystem::remove(path + s);
  SqliteOptions options;
  options.synchronous_full = false;
  options.lock = DbLock::kNone;
  auto store = SqliteStore::Open(path, options);
  if (!store.ok()) return std::cerr << store.status().ToString() << "\n", false;
  api::BootstrapOptions boot;
  boot.schema_dir = schema_dir;
  std::ostringstream log;
  auto db = api::OpenDatabase(store->get(), boot, log);
  if (!db.ok()) return std::cerr << db.status().ToString() << "\n", false;
  // A few hundred CIs, then `txs` transactions that each change one of them.
  constexpr int kCis = 500;
  std::vector<CiId> ids;
  auto created = (*db)->Write(TxMeta{"bench", "bulk", "", ""}, [&](Txn& t) {
    for (int i = 0; i < kCis; ++i) {
      AttrMap a;
      a.Set("name", Value("feed-vm-" + std::to_string(i)));
      a.Set("cpu_count", Value(int64_t{1}));
      auto id = t.CreateCi("VirtualMachine", std::move(a));
      if (!id.ok()) return id.status();
      ids.push_back(*id);
    }
    return Status::Ok();
  });
  if (!created.ok()) return std::cerr << created.status().ToString() << "\n", false;
  TxId first = created->id;
  auto write_start = SteadyClock::now();
  for (int64_t i = 0; i < txs; ++i) {
    auto tx = (*db)->Write(TxMeta{"bench", "api", "", ""}, [&](Txn& t) {
      return t.UpdateCi(ids[i % kCis], {{"cpu_count", Value(int64_t{2 + i})}}, std::nullopt);
    });
    if (!tx.ok()) return std::cerr << tx.status().ToString() << "\n", false;
  }
  double write_s = Seconds(write_start);
  Store& s = **store;
  // The baseline: the log alone, in pages of 1,000.
  auto log_start = SteadyClock::now();
  int64_t log_rows = 0;
  for (TxId since = first;;) {
    auto page = s.Transactions(since, 1000);
    if (!page.ok()) return false;
    if (page->empty()) break;
    log_rows += static_cast<int64_t>(page->size());
    since = page->back().id;
  }
  double log_s = Seconds(log_start);
  // The feed, and the feed rendered as JSON text (what GET /v1/feed does per transaction).
  auto read_feed = [&](bool render, int64_t& events, int64_t& kept) {
    events = kept = 0;
    size_t bytes = 0;
    for (TxId since = first;;) {
      auto page = process::ReadFeed(s, since, 1000, {});
      if (!page.ok()) return false;
      for (const process::FeedTx& tx : page->txs) {
        events += static_cast<int64_t>(tx.entries.size());
        if (render) bytes += api::FeedTxToJson(tx).dump().size();
      }
      kept += static_cast<int64_t>(page->txs.size());
      if (!page->more) break;
      since = page->next;
    }
    return bytes > 0 || !render;
  };
  int64_t events = 0, kept = 0;
  auto feed_start = SteadyClock::now();
  if (!read_feed(false, events, kept)) return false;
  double feed_s = Seconds(feed_start);
  int64_t json_events = 0, json_kept = 0;
  auto json_start = SteadyClock::now();
  if (!read_feed(true, json_events, json_kept)) return false;
  double json_s = Seconds(json_start);
  out = {{"transactions", txs},
         {"write_s", write_s},
         {"log_rows", log_rows},
         {"log_read_s", log_s},
         {"log_rows_per_s", log_rows / log_s},
         {"feed_events", events},
         {"feed_read_s", feed_s},
         {"feed_events_per_s", events / feed_s},
         {"feed_json_read_s", json_s},
         {"feed_json_events_per_s", json_events / json_s},
         {"feed_vs_log", feed_s / log_s},
         {"feed_json_vs_log", json_s / log_s}};
  return kept == txs && log_rows == txs && events == txs;
}

}  // namespace cmdb::bench
