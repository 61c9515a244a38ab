#include "bench/webhook_bench.hpp"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <thread>
#include <vector>

#include "api/bootstrap.hpp"
#include "api/webhook_service.hpp"
#include "store/sqlite_store.hpp"

namespace cmdb::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// One configuration of WebhookBench: the store with synchronous=FULL (`fsync`) or NORMAL.
bool RunOne(int64_t updates, int hooks, bool fsync, const std::string& schema_dir,
            const std::string& dir, nlohmann::json& out) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  // The receiver: answers 204 to everything, counts.
  httplib::Server rx;
  std::atomic<int64_t> received{0};
  rx.Post(".*", [&](const httplib::Request&, httplib::Response& res) {
    received.fetch_add(1);
    res.status = 204;
  });
  int port = rx.bind_to_any_port("127.0.0.1");
  std::thread rx_thread([&] { rx.listen_after_bind(); });

  bool ok = false;
  {
    auto store = SqliteStore::Open(dir + "/db.sqlite", SqliteOptions{fsync, 0, DbLock::kNone});
    if (!store.ok()) {
      std::cerr << "webhook bench: " << store.status().message() << "\n";
    } else {
      std::ostringstream log;
      auto db = api::OpenDatabase(store->get(), api::BootstrapOptions{schema_dir, "", false}, log);
      api::WebhookOptions options;
      options.allow = *api::AllowList::Parse("127.0.0.1");
      if (!db.ok()) {
        std::cerr << "webhook bench: " << db.status().message() << "\n";
        rx.stop();
        rx_thread.join();
        return false;
      }
      api::WebhookService service(**store, **db, options);
      std::vector<int64_t> ids;
      bool setup = service.Start().ok();
      for (int i = 0; setup && i < hooks; ++i) {
        auto made = service.Create(nlohmann::json{
            {"url", "http://127.0.0.1:" + std::to_string(port) + "/h" + std::to_string(i)},
            {"secret", "bench-secret-bench-secret"},
            {"enabled", false}});
        if (!made.ok())
          setup = false;
        else
          ids.push_back((*made)["id"].get<int64_t>());
      }
      int64_t n = 0;
      auto update = [&]() -> bool {
        AttrMap attrs;
        attrs.Set("name", Value(std::string_view("bench-webhook-vm")));
        attrs.Set("cpu_count", Value(static_cast<int64_t>(++n % 64 + 1)));
        return (*db)
            ->Write(TxMeta{},
                    [&](Txn& txn) { return txn.UpsertCi("VirtualMachine", attrs).status(); })
            .ok();
      };
      if (setup) setup = update();
      std::vector<double> off_us, on_us;
      const int kRounds = 10;
      int64_t per_round = std::max<int64_t>(updates / kRounds, 1);
      for (int r = 0; setup && r < 2 * kRounds; ++r) {
        bool on = r % 2 == 1;
        for (int64_t id : ids) service.Change(id, nlohmann::json{{"enabled", on}});
        for (int64_t i = 0; i < per_round && setup; ++i) {
          auto t0 = Clock::now();
          setup = update();
          double us = std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
          (on ? on_us : off_us).push_back(us);
        }
      }
      // Delivery: wait for the outbox to drain (what the enabled rounds enqueued).
      auto t0 = Clock::now();
      int64_t start_received = received.load();
      while (setup) {
        auto backlog = (*store)->Backlog();
        if (!backlog.ok() || *backlog == 0) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      double drain_s = std::chrono::duration<double>(Clock::now() - t0).count();
      int64_t enqueued = static_cast<int64_t>(on_us.size()) * hooks;
      service.Stop();
      if (setup) {
        double off = Median(off_us), on = Median(on_us);
        out = nlohmann::json{
            {"updates_per_configuration", off_us.size()},
            {"webhooks", hooks},
            {"update_median_us_without", off},
            {"update_median_us_with", on},
            {"ratio", off > 0 ? on / off : 0},
            {"events_enqueued", enqueued},
            {"events_delivered", received.load()},
            {"drain_seconds", drain_s},
            {"delivered_during_drain", received.load() - start_received},
            {"drain_events_per_second",
             drain_s > 0 ? static_cast<double>(received.load() - start_received) / drain_s : 0.0}};
        ok = received.load() >= enqueued;
      } else {
        std::cerr << "webhook bench: setup or write failed\n";
      }
    }
  }
  rx.stop();
  rx_thread.join();
  return ok;
}

}  // namespace

bool WebhookBench(int64_t updates, int hooks, const std::string& schema_dir, const std::string& dir,
                  nlohmann::json& out) {
  // With fsync the commit's flush dominates an update; without, the router's work (the feed
  // transaction and one JSON body per webhook) is what the ratio shows.
  nlohmann::json fsync, no_fsync;
  bool ok = RunOne(updates, hooks, true, schema_dir, dir + "/fsync", fsync);
  ok = RunOne(updates, hooks, false, schema_dir, dir + "/no-fsync", no_fsync) && ok;
  out = nlohmann::json{{"synchronous_full", fsync}, {"synchronous_normal", no_fsync}};
  return ok;
}

}  // namespace cmdb::bench
