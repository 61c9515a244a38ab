#include "bench/pg_bench.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <vector>

#include "api/bootstrap.hpp"
#include "bulk/bulk.hpp"
#include "store/pg_store.hpp"
#include "store/sqlite_store.hpp"

namespace cmdb::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

// Runs a shell command; its standard output (trimmed) and exit status.
std::pair<std::string, int> Shell(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {"", -1};
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = ::pclose(p);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return {out, WIFEXITED(status) ? WEXITSTATUS(status) : -1};
}

struct Side {
  std::string name;
  std::unique_ptr<Store> store;
  std::unique_ptr<Database> db;
  std::vector<double> write_us;
  int64_t n = 0;
};

bool OpenSide(Side& side, const std::string& schema_dir) {
  std::ostringstream log;
  auto db = api::OpenDatabase(side.store.get(), api::BootstrapOptions{schema_dir, "", false}, log);
  if (!db.ok()) {
    std::cerr << "pg bench: " << side.name << ": " << db.status().message() << "\n";
    return false;
  }
  side.db = std::move(*db);
  return true;
}

bool CreateOne(Side& side) {
  AttrMap attrs;
  attrs.Set("name", Value("bench-pg-vm-" + std::to_string(++side.n)));
  attrs.Set("cpu_count", Value(static_cast<int64_t>(side.n % 64 + 1)));
  auto start = Clock::now();
  bool ok = side.db
                ->Write(TxMeta{"bench", "api"},
                        [&](Txn& txn) { return txn.CreateCi("VirtualMachine", attrs).status(); })
                .ok();
  side.write_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  return ok;
}

// Seconds for one bulk transaction of `n` CIs chained by DEPENDS_ON.
double BulkLoad(Side& side, int64_t n, bool& ok) {
  std::string body;
  body.reserve(static_cast<size_t>(n) * 160);
  for (int64_t i = 0; i < n; ++i) {
    body += R"({"op":"ci","ref":"v)" + std::to_string(i) +
            R"(","class":"VirtualMachine","attributes":{"name":"bulk-)" + std::to_string(i) +
            R"("}})"
            "\n";
    if (i > 0)
      body += R"({"op":"rel","type":"DEPENDS_ON","from":{"ref":"v)" + std::to_string(i) +
              R"("},"to":{"ref":"v)" + std::to_string(i - 1) +
              R"("}})"
              "\n";
  }
  bulk::BulkResult result;
  auto start = Clock::now();
  Status st = bulk::RunBulk(*side.db, TxMeta{"bench", "bulk"}, bulk::StringReader(body),
                            body.size(), result);
  double s = std::chrono::duration<double>(Clock::now() - start).count();
  if (!st.ok()) std::cerr << "pg bench: bulk on " << side.name << ": " << st.message() << "\n";
  ok = ok && st.ok();
  return s;
}

}  // namespace

bool PgBench(int64_t writes, int64_t bulk, const std::string& url_in, const std::string& schema_dir,
             const std::string& dir, nlohmann::json& out) {
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string url = url_in, pg_dir;
  if (url.empty()) {
    pg_dir = dir + "/pg";
    auto [printed, rc] = Shell("CMDB_PG_FSYNC=on " + std::string(CMDB_SOURCE_DIR) +
                               "/tests/pg/start_pg.sh start " + pg_dir);
    if (rc != 0) {
      std::cerr << "pg bench: cannot start PostgreSQL: " << printed << "\n";
      return false;
    }
    url = printed;
  }
  bool ok = true;
  {
    Side lite{"SQLite"}, pg{"PostgreSQL"};
    auto s = SqliteStore::Open(dir + "/db.sqlite", SqliteOptions{true, 0, DbLock::kNone});
    auto p = PgStore::Open(url);
    if (!s.ok() || !p.ok()) {
      std::cerr << "pg bench: " << (s.ok() ? p.status() : s.status()).message() << "\n";
      ok = false;
    } else {
      lite.store = std::move(*s);
      pg.store = std::move(*p);
      ok = OpenSide(lite, schema_dir) && OpenSide(pg, schema_dir);
    }
    const int kRounds = 10;
    int64_t per_round = std::max<int64_t>(writes / kRounds, 1);
    for (int round = 0; ok && round < kRounds; ++round) {
      for (Side* side : {&lite, &pg}) {
        for (int64_t i = 0; ok && i < per_round; ++i) ok = CreateOne(*side);
      }
    }
    if (ok) {
      double lite_bulk = BulkLoad(lite, bulk, ok);
      double pg_bulk = BulkLoad(pg, bulk, ok);
      double lite_p50 = Quantile(lite.write_us, 0.5), pg_p50 = Quantile(pg.write_us, 0.5);
      out = {{"writes_per_store", per_round * kRounds},
             {"sqlite_write_us_p50", lite_p50},
             {"sqlite_write_us_p99", Quantile(lite.write_us, 0.99)},
             {"pg_write_us_p50", pg_p50},
             {"pg_write_us_p99", Quantile(pg.write_us, 0.99)},
             {"pg_over_sqlite_write_p50", lite_p50 > 0 ? pg_p50 / lite_p50 : 0},
             {"bulk_cis", bulk},
             {"sqlite_bulk_s", lite_bulk},
             {"pg_bulk_s", pg_bulk},
             {"sqlite_bulk_cis_per_s", lite_bulk > 0 ? static_cast<double>(bulk) / lite_bulk : 0},
             {"pg_bulk_cis_per_s", pg_bulk > 0 ? static_cast<double>(bulk) / pg_bulk : 0},
             {"pg_over_sqlite_bulk_time", lite_bulk > 0 ? pg_bulk / lite_bulk : 0},
             {"pg_fsync",
              url_in.empty() ? "on (a throw-away server on a unix socket)" : "as configured"}};
      auto chain = pg.store->VerifyChain();
      ok = chain.ok() && chain->ok;
      out["pg_chain_ok"] = ok;
    }
    // Cold start: a second database opened on each store loads the whole current graph.
    for (Side* side : {&lite, &pg}) {
      if (!ok) break;
      std::ostringstream log;
      auto start = Clock::now();
      auto again = api::OpenDatabase(side->store.get(), api::BootstrapOptions{}, log);
      double s = std::chrono::duration<double>(Clock::now() - start).count();
      ok = again.ok() && (*again)->Read().graph().ci_count() == side->db->Read().graph().ci_count();
      out[side == &lite ? "sqlite_cold_start_s" : "pg_cold_start_s"] = s;
    }
    if (ok) {
      out["cold_start_cis"] = lite.db->Read().graph().ci_count();
      out["pg_over_sqlite_cold_start"] =
          out["pg_cold_start_s"].get<double>() / out["sqlite_cold_start_s"].get<double>();
    }
  }
  if (!pg_dir.empty()) Shell(std::string(CMDB_SOURCE_DIR) + "/tests/pg/start_pg.sh stop " + pg_dir);
  return ok;
}

}  // namespace cmdb::bench
