// cmdb_bench: reproducible performance figures on a synthetic estate, side by side with SQLite
// recursive queries on the same database in the same run. See docs/benchmarks.md.
//
//   cmdb_bench --size 1000000 [--out results.json] [--dir /tmp/cmdb-bench] [--quick] [--check]
//              [--reuse] [--only impact,ql,search,http,asof,baselines,imports]
//
// --reuse keeps the database of an earlier run of the same size (no bulk load; for profiling).
// --only runs just the named sections after the cold start (default: all).
// --check fails (exit 1) when an impact set differs from SQLite's recursive CTE (CI smoke test),
// or the orphans by pattern predicate differ from those by OPTIONAL MATCH.
#include <sqlite3.h>
#include <malloc.h>
#if CMDB_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <deque>
#include <set>
#include <sstream>
#include <thread>

#include <httplib.h>

#include "analysis/impact.hpp"
#include "api/api.hpp"
#include "api/bootstrap.hpp"
#include "bulk/bulk.hpp"
#include "api/http_server.hpp"
#include "bench/as_of_bench.hpp"
#include "bench/metrics_cost.hpp"
#include "bench/feed_bench.hpp"
#include "bench/estate.hpp"
#include "bench/nmap_scale.hpp"
#include "bench/pg_bench.hpp"
#include "bench/webhook_bench.hpp"
#include "importers/formats.hpp"
#include "importers/import.hpp"
#include "process/audit_service.hpp"
#include "process/baseline_service.hpp"
#include "query/engine.hpp"
#include "store/sqlite_store.hpp"

using namespace cmdb;
using Json = nlohmann::json;
using SteadyClock = std::chrono::steady_clock;

namespace {

double Ms(SteadyClock::time_point a, SteadyClock::time_point b) { return std::chrono::duration<double, std::milli>(b - a).count(); }

#if CMDB_JEMALLOC
constexpr const char* kAllocator = "jemalloc";
// Heap bytes the program holds (jemalloc's size classes included), unaffected by memory freed
// earlier and kept by the allocator.
int64_t HeapInUse() {
  uint64_t epoch = 1;
  size_t len = sizeof epoch;
  mallctl("thread.tcache.flush", nullptr, nullptr, nullptr, 0);
  mallctl("epoch", &epoch, &len, &epoch, len);  // refreshes the statistics
  size_t allocated = 0;
  len = sizeof allocated;
  if (mallctl("stats.allocated", &allocated, &len, nullptr, 0) != 0) return 0;
  return static_cast<int64_t>(allocated);
}
// Returns freed memory to the system, so the RSS delta that follows counts new pages.
void ReleaseFreeMemory() {
  std::string purge = "arena." + std::to_string(MALLCTL_ARENAS_ALL) + ".purge";
  mallctl(purge.c_str(), nullptr, nullptr, nullptr, 0);
}
#else
constexpr const char* kAllocator = "glibc";
// Heap bytes in use (glibc), unaffected by memory freed earlier and kept by the allocator.
int64_t HeapInUse() {
  struct mallinfo2 m = mallinfo2();
  return static_cast<int64_t>(m.uordblks + m.hblkhd);
}
void ReleaseFreeMemory() { malloc_trim(0); }
#endif

int64_t RssBytes() {
  std::ifstream in("/proc/self/statm");
  int64_t size = 0, resident = 0;
  in >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// User and system CPU time of the whole process (all threads), in seconds.
double CpuSeconds() {
  struct rusage u {};
  getrusage(RUSAGE_SELF, &u);
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * (v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

template <typename F>
double MedianMs(int reps, F&& f) {
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    auto a = SteadyClock::now();
    f();
    t.push_back(Ms(a, SteadyClock::now()));
  }
  return Percentile(t, 0.5);
}

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

// The same reachability as the impact engine without quorum, as a SQLite recursive CTE.
std::set<int64_t> CteImpact(sqlite3* db, const Schema& schema, int64_t seed, int depth) {
  std::string fwd, back;
  for (const auto& [name, def] : schema.rel_types()) {
    bool to_target = def.impact == ImpactRule::kToTarget || def.impact == ImpactRule::kBoth;
    bool to_source = def.impact == ImpactRule::kToSource || def.impact == ImpactRule::kBoth;
    if (to_target) fwd += (fwd.empty() ? "'" : ",'") + name + "'";
    if (to_source) back += (back.empty() ? "'" : ",'") + name + "'";
  }
  std::string sql =
      "WITH RECURSIVE reach(id, depth) AS (SELECT ?1, 0 UNION "
      " SELECT r.to_id, reach.depth + 1 FROM reach JOIN rel_versions r ON r.from_id = reach.id"
      "  WHERE r.valid_to IS NULL AND r.retired = 0 AND reach.depth < ?2 AND r.type IN (" + fwd + ")"
      " UNION SELECT r.from_id, reach.depth + 1 FROM reach JOIN rel_versions r ON r.to_id = reach.id"
      "  WHERE r.valid_to IS NULL AND r.retired = 0 AND reach.depth < ?2 AND r.type IN (" + back + "))"
      " SELECT DISTINCT id FROM reach";
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr);
  sqlite3_bind_int64(st, 1, seed);
  sqlite3_bind_int(st, 2, depth);
  std::set<int64_t> out;
  while (sqlite3_step(st) == SQLITE_ROW) out.insert(sqlite3_column_int64(st, 0));
  sqlite3_finalize(st);
  return out;
}

}  // namespace

// Imports: NDJSON and CSV through identification and reconciliation into SQLite, against the
// plain bulk load of the same records, on fresh databases. Run by the main benchmark in a fresh
// process (`cmdb_bench --imports N`), so the numbers do not depend on the memory the estate
// holds. Returns false when a count is wrong.
bool ImportBench(int64_t n, const std::string& dir, const std::string& schema_dir, Json& results) {
  const bool check = true;
  // Write back the dirty pages of earlier sections (the estate's database) first: durable commits
  // here would otherwise wait behind the kernel writing hundreds of megabytes of someone else's.
  ::sync();
  std::string lines, csv = "name,fqdn,ip,cpus,os\n";
  char buf[320];
  for (int64_t i = 0; i < n; ++i) {
    std::snprintf(buf, sizeof buf,
                  "{\"op\": \"ci\", \"class\": \"VirtualMachine\", \"attributes\": {\"name\": \"imp-%06lld\", "
                  "\"fqdn\": \"imp-%06lld.bench.example\", \"ip_address\": \"10.%lld.%lld.%lld\", \"cpu_count\": 4, "
                  "\"os\": \"Linux\"}}\n",
                  (long long)i, (long long)i, (long long)(i >> 16) & 255, (long long)(i >> 8) & 255, (long long)i & 255);
    lines += buf;
    std::snprintf(buf, sizeof buf, "imp-%06lld,imp-%06lld.bench.example,10.%lld.%lld.%lld,4,Linux\n", (long long)i,
                  (long long)i, (long long)(i >> 16) & 255, (long long)(i >> 8) & 255, (long long)i & 255);
    csv += buf;
  }
  auto fresh = [&](const std::string& name) {
    std::string path = dir + "/" + name + ".sqlite";
    for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(path + ext);
    auto st = SqliteStore::Open(path);
    std::ostringstream l;
    auto d = api::OpenDatabase(st->get(), api::BootstrapOptions{schema_dir, "", false}, l);
    return std::make_pair(std::move(*st), std::move(*d));
  };
  auto run_import = [&](Database& d, const std::string& format, const std::string& text, const std::string& mapping) {
    importers::CandidateSet set;
    importers::ParseOptions po;
    po.mapping = mapping;
    auto schema = d.schema();
    po.schema = schema.get();
    importers::ImportReport report;
    Status st = importers::ParseSource(format, text, po, set);
    importers::ImportOptions opt;
    opt.source = format;
    if (st.ok()) st = importers::RunImport(d, set, opt, report);
    if (!st.ok()) std::cerr << "import failed: " << st.message() << "\n";
    return report;
  };
  // Each run happens in a forked child on its own fresh database, so every run starts from the
  // same process state (run in one process, whichever import ran later measured 10-15% slower).
  auto in_child = [&](const std::function<std::vector<double>()>& fn) {
    int fds[2];
    if (::pipe(fds) != 0) return std::vector<double>{};
    pid_t pid = ::fork();
    if (pid == 0) {
      ::close(fds[0]);
      std::vector<double> out = fn();
      if (::write(fds[1], out.data(), out.size() * sizeof(double)) < 0) ::_exit(1);
      ::_exit(0);
    }
    ::close(fds[1]);
    std::vector<double> got(8, 0.0);
    ssize_t n = ::read(fds[0], got.data(), got.size() * sizeof(double));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    got.resize(n > 0 ? static_cast<size_t>(n) / sizeof(double) : 0);
    return got;
  };
  auto bulk_run = in_child([&] {
    auto [bulk_store, bulk_db] = fresh("bench-bulk-baseline");
    bulk::BulkResult bulk;
    auto a0 = SteadyClock::now();
    bulk::RunBulk(*bulk_db, TxMeta{"bench", "bulk"}, bulk::StringReader(lines), lines.size(), bulk);
    return std::vector<double>{Ms(a0, SteadyClock::now()) / 1000, double(bulk.created)};
  });
  auto csv_run = in_child([&] {
    auto [csv_store, csv_db] = fresh("bench-import-csv");
    auto a3 = SteadyClock::now();
    auto r = run_import(*csv_db, "csv", csv,
                        R"({"class": "VirtualMachine", "columns": {"name": "name", "fqdn": "fqdn", "ip": "ip_address", "cpus": "cpu_count", "os": "os"}})");
    return std::vector<double>{Ms(a3, SteadyClock::now()) / 1000, double(r.created)};
  });
  auto nd_run = in_child([&] {
    auto [nd_store, nd_db] = fresh("bench-import-ndjson");
    auto a1 = SteadyClock::now();
    auto r1 = run_import(*nd_db, "ndjson", lines, "");
    double t1 = Ms(a1, SteadyClock::now()) / 1000;
    auto a2 = SteadyClock::now();
    auto r2 = run_import(*nd_db, "ndjson", lines, "");
    double t2 = Ms(a2, SteadyClock::now()) / 1000;
    return std::vector<double>{t1, double(r1.created), t2, double(r2.unchanged), double(r2.created)};
  });
  if (bulk_run.size() < 2 || csv_run.size() < 2 || nd_run.size() < 5) {
    std::cerr << "FAILED: an import benchmark child did not report\n";
    return false;
  }
  double bulk_s = bulk_run[0], csv_s = csv_run[0], nd_s = nd_run[0], again_s = nd_run[2];
  struct { int64_t created, unchanged; } first{int64_t(nd_run[1]), 0}, second{int64_t(nd_run[4]), int64_t(nd_run[3])},
      from_csv{int64_t(csv_run[1]), 0};
  results = {{"cis", n},
                        {"bulk_baseline_cis_per_s", n / bulk_s},
                        {"ndjson_cis_per_s", n / nd_s},
                        {"ndjson_reimport_unchanged_cis_per_s", n / again_s},
                        {"csv_cis_per_s", n / csv_s},
                        {"ndjson_vs_bulk", bulk_s / nd_s},
                        {"created", first.created}, {"reimport_unchanged", second.unchanged},
                        {"csv_created", from_csv.created}};
  if (check && (first.created != n || second.unchanged != n || second.created != 0 || from_csv.created != n)) {
    std::cerr << "FAILED: import counts wrong\n";
    return false;
  }
  return true;
}

int main(int argc, char** argv) {
  int64_t size = 10000;
  std::string out_path, dir = "/tmp/cmdb-bench", files_dir;
  bool quick = false, check = false, reuse = false;
  std::string only;
  int64_t imports_only = 0;
  int64_t nmap_large = 0;
  int64_t webhook_updates = 0;
  int64_t pg_writes = 0, pg_bulk = 20000;
  std::string pg_url;
  int64_t feed_txs = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--size") size = std::stoll(next());
    else if (a == "--out") out_path = next();
    else if (a == "--dir") dir = next();
    else if (a == "--quick") quick = true;
    else if (a == "--check") check = true;
    else if (a == "--write-files") files_dir = next();
    else if (a == "--imports") imports_only = std::stoll(next());
    else if (a == "--nmap-scaling") nmap_large = std::stoll(next());
    else if (a == "--webhooks") webhook_updates = std::stoll(next());
    else if (a == "--pg-writes") pg_writes = std::stoll(next());
    else if (a == "--pg-bulk") pg_bulk = std::stoll(next());
    else if (a == "--pg-url") pg_url = next();
    else if (a == "--feed") feed_txs = std::stoll(next());
    else if (a == "--reuse") reuse = true;
    else if (a == "--only") only = "," + next() + ",";
    else {
      std::cerr << "usage: cmdb_bench --size N [--out FILE] [--dir DIR] [--quick] [--check] [--write-files DIR]\n"
                   "                  [--reuse] [--only impact,ql,search,http,asof,baselines,imports]\n"
                   "       cmdb_bench --imports N [--dir DIR]   (only the import measurements, as JSON)\n"
                   "       cmdb_bench --nmap-scaling N          (nmap import of N/4 and N hosts: per-host\n"
                   "                                             time ratio, fails past 2)\n"
                   "       cmdb_bench --webhooks N [--dir DIR]  (N single-CI updates with 5 webhooks vs none,\n"
                   "                                             and the delivery throughput; sync FULL, NORMAL)\n"
                   "       cmdb_bench --feed N [--dir DIR]      (change feed read of N transactions\n"
                   "                                             against the log alone, as JSON)\n"
                   "       cmdb_bench --pg-writes N [--pg-bulk M] [--pg-url URL] [--dir DIR]\n"
                   "                                            (N single-CI writes, a bulk load of M CIs\n"
                   "                                             and cold starts, PostgreSQL beside SQLite)\n";
      return 2;
    }
  }
  if (pg_writes > 0) {  // bench/pg_bench.hpp
    Json result;
    bool ok = bench::PgBench(pg_writes, pg_bulk, pg_url, std::string(CMDB_SOURCE_DIR) + "/schema",
                             dir + "/pg", result);
    std::cout << result.dump(2) << std::endl;
    return ok ? 0 : 1;
  }
  if (webhook_updates > 0) {  // bench/webhook_bench.hpp
    Json result;
    bool ok = bench::WebhookBench(webhook_updates, 5, std::string(CMDB_SOURCE_DIR) + "/schema",
                                  dir + "/webhooks", result);
    std::cout << result.dump(2) << std::endl;
    return ok ? 0 : 1;
  }
  if (nmap_large > 0) {  // the nmap importer must stay linear (bench/nmap_scale.hpp)
    Json scaling;
    bool ok = bench::NmapScaling(std::max<int64_t>(nmap_large / 4, 1), nmap_large, 2.0,
                                 std::string(CMDB_SOURCE_DIR) + "/schema", scaling);
    std::cout << scaling.dump() << "\n";
    if (!ok) std::cerr << "FAILED: the nmap import grows faster than its input\n";
    return ok ? 0 : 1;
  }
  if (feed_txs > 0) {  // the change feed's read throughput (bench/feed_bench.hpp)
    Json feed;
    bool ok = bench::FeedBench(feed_txs, dir, std::string(CMDB_SOURCE_DIR) + "/schema", feed);
    std::cout << feed.dump() << "\n";
    return ok ? 0 : 1;
  }
  if (imports_only > 0) {  // the import section, in this fresh process (see ImportBench)
    std::filesystem::create_directories(dir);
    Json imports;
    bool ok = ImportBench(imports_only, dir, std::string(CMDB_SOURCE_DIR) + "/schema", imports);
    std::cout << imports.dump() << "\n";
    return ok ? 0 : 1;
  }
  const int reps = quick ? 3 : 7;
  Json results;
  results["machine"] = {{"cpu", CpuModel()}, {"cores", std::thread::hardware_concurrency()},
                        {"memory_gb", static_cast<double>(sysconf(_SC_PHYS_PAGES)) * sysconf(_SC_PAGESIZE) / (1 << 30)}};
  std::filesystem::create_directories(dir);
  std::string db_path = dir + "/bench-" + std::to_string(size) + ".sqlite";
  auto want = [&](const char* section) { return only.empty() || only.find("," + std::string(section) + ",") != std::string::npos; };
  bool load = !(reuse && std::filesystem::exists(db_path));
  if (load) {
    for (const char* ext : {"", "-wal", "-shm"}) std::filesystem::remove(db_path + ext);
  }

  // 1. Generate.
  auto t0 = SteadyClock::now();
  std::ostringstream ndjson;
  bench::EstateStats estate = bench::GenerateEstate(size, 20261121, ndjson);
  std::string body = ndjson.str();
  ndjson = std::ostringstream();
  if (!files_dir.empty()) {  // the files a server loads: POST /v1/bulk with estate.ndjson
    std::filesystem::create_directories(files_dir);
    std::ofstream(files_dir + "/estate.ndjson", std::ios::binary) << body;
    Json starts = Json::array();
    for (const auto& [cls, name] : estate.starts) starts.push_back({{"class", cls}, {"name", name}});
    std::ofstream(files_dir + "/starts.json") << starts.dump(2) << "\n";
  }
  results["estate"] = {{"cis", estate.cis}, {"relationships", estate.relationships},
                       {"relationships_per_ci", double(estate.relationships) / estate.cis},
                       {"ndjson_bytes", body.size()}, {"generate_ms", Ms(t0, SteadyClock::now())}};
  std::cerr << "estate: " << estate.cis << " CIs, " << estate.relationships << " relationships\n";

  // 2. Bulk load through the real write path (validation, one SQLite transaction, publish).
  std::string schema_dir = std::string(CMDB_SOURCE_DIR) + "/schema";

  if (load) {
    auto store = SqliteStore::Open(db_path);
    if (!store.ok()) return std::cerr << store.status().ToString() << "\n", 1;
    std::ostringstream log;
    auto db = api::OpenDatabase(store->get(), api::BootstrapOptions{schema_dir, "", false}, log);
    if (!db.ok()) return std::cerr << db.status().ToString() << "\n", 1;
    bulk::BulkResult bulk;
    double cpu0 = CpuSeconds();
    auto a = SteadyClock::now();
    Status st = bulk::RunBulk(**db, TxMeta{"bench", "bulk"}, bulk::StringReader(body), body.size(), bulk);
    double ms = Ms(a, SteadyClock::now());
    double cpu = CpuSeconds() - cpu0;
    if (!st.ok()) {
      std::cerr << "bulk load failed: " << st.message() << "\n";
      for (const auto& e : bulk.errors) std::cerr << "  line " << e.line << ": " << e.status.message() << "\n";
      return 1;
    }
    // CPU time of all threads: steadier than wall time on a shared machine, and with it the
    // cores kept busy (the load runs on up to four threads).
    results["bulk_load"] = {{"seconds", ms / 1000}, {"cis_per_s", estate.cis / (ms / 1000)},
                            {"relationships_per_s", estate.relationships / (ms / 1000)},
                            {"cpu_seconds", cpu}, {"cores_busy", cpu / (ms / 1000)}};
    std::cerr << "bulk load: " << ms / 1000 << " s (cpu " << cpu << " s)\n";
  }
  body.clear();
  body.shrink_to_fit();

  // 3. Cold start and resident memory.
  ReleaseFreeMemory();
  int64_t rss_before = RssBytes(), heap_before = HeapInUse();
  auto store = SqliteStore::Open(db_path);
  auto a = SteadyClock::now();
  std::ostringstream log;
  auto opened = api::OpenDatabase(store->get(), api::BootstrapOptions{}, log);
  if (!opened.ok()) return std::cerr << opened.status().ToString() << "\n", 1;
  Database& db = **opened;
  double cold_ms = Ms(a, SteadyClock::now());
  int64_t rss_after = RssBytes(), heap_after = HeapInUse();
  results["cold_start_seconds"] = cold_ms / 1000;
  // Graph, attributes and indexes together: the heap the loaded database holds (SQLite's page
  // cache included), per CI.
  results["memory"] = {{"allocator", kAllocator},
                       {"heap_bytes", heap_after - heap_before},
                       {"bytes_per_ci", double(heap_after - heap_before) / estate.cis},
                       {"rss_delta_bytes", rss_after - rss_before}};
  std::cerr << "cold start: " << cold_ms / 1000 << " s, " << double(heap_after - heap_before) / estate.cis << " B/CI\n";

  // 4. Impact queries for the 20 start CIs, and the same sets from a SQLite recursive CTE.
  std::vector<CiId> start_ids;
  sqlite3* raw = nullptr;
  sqlite3_open_v2(db_path.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
  // SQLite's best layout of those tried for this query: covering indexes over the current rows,
  // endpoint first (one seek a CI and direction; the type filtered in the index). On the 1M
  // estate's largest query: (from_id, type) 7.8-9.7 s, the same covering 5.4-5.6 s, this 4.1-4.3 s.
  sqlite3_exec(raw,
               "DROP INDEX IF EXISTS rel_cur_from; DROP INDEX IF EXISTS rel_cur_to;"
               "CREATE INDEX IF NOT EXISTS rel_cte_from ON rel_versions(from_id, to_id, type, retired, valid_to)"
               " WHERE valid_to IS NULL;"
               "CREATE INDEX IF NOT EXISTS rel_cte_to ON rel_versions(to_id, from_id, type, retired, valid_to)"
               " WHERE valid_to IS NULL;",
               nullptr, nullptr, nullptr);
  std::vector<double> engine_ms, cte_ms;
  Json per_query = Json::array();
  bool sets_equal = true;
  auto schema = db.schema();
  for (const auto& [cls, name] : estate.starts) {
    CiId id;
    {
      ReadView view = db.Read();
      AttrMap key;
      key.Set("name", Value(name));
      auto k = KeyIndexKey(view.schema(), cls, key);
      auto found = k ? view.graph().LookupIndex(*k, view.schema()) : std::nullopt;
      if (!found) return std::cerr << "start CI " << name << " not found\n", 1;
      id = *found;
      start_ids.push_back(id);
    }
    analysis::ImpactRequest req;
    req.seeds = {id};
    req.max_depth = 6;
    req.redundancy = false;  // plain reachability, comparable with the CTE
    size_t impacted = 0;
    std::set<int64_t> engine_set;
    double e = MedianMs(reps, [&] {
      ReadView view = db.Read();
      auto r = analysis::ComputeImpact(view.graph(), view.schema(), req);
      impacted = r->cis.size();
      if (engine_set.empty()) for (const auto& c : r->cis) engine_set.insert(c.id);
    });
    std::set<int64_t> cte_set;
    double c = 0;
    if (want("cte")) c = MedianMs(quick ? 1 : 3, [&] { cte_set = CteImpact(raw, *schema, id, 6); });
    if (want("cte") && cte_set != engine_set) {
      sets_equal = false;
      std::cerr << "MISMATCH for " << name << ": engine " << engine_set.size() << ", CTE " << cte_set.size() << "\n";
    }
    engine_ms.push_back(e);
    cte_ms.push_back(c);
    per_query.push_back({{"start", name}, {"class", cls}, {"impacted", impacted - 1}, {"engine_ms", e}, {"cte_ms", c}});
  }
  auto summary = [](const std::vector<double>& v) {
    double total = 0;
    for (double x : v) total += x;
    return Json{{"p50_ms", Percentile(v, 0.5)}, {"p95_ms", Percentile(v, 0.95)},
                {"max_ms", *std::max_element(v.begin(), v.end())}, {"total_ms", total}};
  };
  Json engine_sum = summary(engine_ms), cte_sum = summary(cte_ms);
  results["impact"] = {{"depth", 6}, {"queries", per_query}, {"engine", engine_sum}};
  if (want("cte")) {
    results["impact"]["sqlite_cte"] = cte_sum;
    results["impact"]["sets_identical"] = sets_equal;
    results["impact"]["speedup_total"] = cte_sum["total_ms"].get<double>() / engine_sum["total_ms"].get<double>();
  }
  std::cerr << "impact: engine total " << engine_sum["total_ms"] << " ms, CTE total " << cte_sum["total_ms"]
            << " ms, sets identical: " << sets_equal << "\n";
  sqlite3_close(raw);

  // 5. Query-language latency.
  gql::QueryEngine engine(db, gql::QueryOptions{});
  if (want("ql")) {
  auto run = [&](const std::string& text) {
    gql::QueryRequest q;
    q.text = text;
    auto r = engine.Run(q);
    if (!r.ok()) std::cerr << "query failed: " << r.status().message() << "\n";
    return r.ok() ? r->rows.size() : 0;
  };
  Json ql;
  std::string vm = "vm-0000042", host = "host-0000007";
  ql["point_lookup_by_key_ms"] = MedianMs(reps * 3, [&] { run("MATCH (v:VirtualMachine {name: '" + vm + "'}) RETURN v"); });
  ql["two_hop_ms"] = MedianMs(reps, [&] {
    run("MATCH (h:PhysicalServer {name: '" + host + "'})<-[:HOSTED_ON]-(v)<-[:RUNS_ON]-(x) RETURN x.name");
  });
  ql["reachability_ms"] = MedianMs(reps, [&] {
    run("MATCH (h:PhysicalServer {name: '" + host + "'})<-[:HOSTED_ON|RUNS_ON|INSTANCE_OF*1..4]-(x) RETURN DISTINCT x");
  });
  // The same search keeping a shortest path to every CI it reaches (ShortestPath(BFS)), against
  // reachability (a visited set only) in the same run.
  ql["shortest_paths_ms"] = MedianMs(reps, [&] {
    run("MATCH p = shortestPath((h:PhysicalServer {name: '" + host +
        "'})<-[:HOSTED_ON|RUNS_ON|INSTANCE_OF*1..4]-(x)) RETURN x, length(p)");
  });
  ql["shortest_paths_over_reachability"] =
      ql["shortest_paths_ms"].get<double>() / std::max(ql["reachability_ms"].get<double>(), 1e-3);
  ql["aggregation_by_class_ms"] = MedianMs(quick ? 1 : 3, [&] { run("MATCH (n) RETURN labels(n)[0] AS class, count(*)"); });
  // Orphans (VMs on no host) with a pattern predicate, against the same question asked with
  // OPTIONAL MATCH and a count (the way before pattern predicates): the ratio, same run.
  {
    auto count = [&](const std::string& text) -> int64_t {
      gql::QueryRequest q;
      q.text = text;
      auto r = engine.Run(q);
      if (!r.ok() || r->rows.size() != 1) {
        std::cerr << "query failed: " << (r.ok() ? "not one row" : r.status().message()) << "\n";
        return -1;
      }
      return r->rows[0][0].as_int();
    };
    const std::string predicate = "MATCH (v:VirtualMachine) WHERE NOT (v)-[:HOSTED_ON]->() RETURN count(v)";
    const std::string optional =
        "MATCH (v:VirtualMachine) OPTIONAL MATCH (v)-[h:HOSTED_ON]->() WITH v, count(h) AS hosts "
        "WHERE hosts = 0 RETURN count(v)";
    int64_t a = count(predicate), b = count(optional);
    if (a != b) std::cerr << "FAILED: orphans differ: pattern predicate " << a << ", OPTIONAL MATCH " << b << "\n";
    double pred_ms = MedianMs(quick ? 1 : 3, [&] { count(predicate); });
    double opt_ms = MedianMs(quick ? 1 : 3, [&] { count(optional); });
    ql["orphans_pattern_predicate_ms"] = pred_ms;
    ql["orphans_optional_match_ms"] = opt_ms;
    ql["orphans_predicate_to_optional_ratio"] = opt_ms > 0 ? pred_ms / opt_ms : 0.0;
    ql["orphans_same_answer"] = a == b;
    if (check && (a != b || a < 0)) return std::cerr << "FAILED: the two orphan queries disagree\n", 1;
  }
  results["query_language"] = ql;
  std::cerr << "query language: " << ql.dump() << "\n";
  }

  // 5b. Type-ahead search (GET /v1/search): every prefix a user types of a VM name and of an
  // IP, substrings and a miss, against the index the commit path keeps (cmdb/search_index.hpp),
  // and the same hits by a brute-force scan of the graph (the baseline and the oracle).
  bool search_identical = true;
  if (want("search")) {
    std::vector<std::string> queries;
    for (std::string full : {"vm-0000042", "10.1.2.3", "host-0000007"}) {
      for (size_t n = 1; n <= full.size(); ++n) queries.push_back(full.substr(0, n));
    }
    for (const char* q : {"0000042", "42", "-00001", "app", "nothing-like-this"}) queries.push_back(q);
    const size_t limit = 10;
    std::deque<std::string> texts;  // the folded texts the oracle's ranks view
    auto brute = [&](const ReadView& view, const std::string& query) {
      std::string q = FoldSearchText(query);
      std::vector<SearchRank> all;
      texts.clear();
      const Graph& g = view.graph();
      for (CiId id = 1; id < g.ci_id_bound(); ++id) {
        const CiRecord* ci = g.FindCi(id);
        if (!ci) continue;
        std::optional<SearchRank> best;
        for (const SearchFieldValue& f : SearchFieldsOf(view.schema(), *ci)) {
          const std::string& text = texts.emplace_back(FoldSearchText(f.text));
          if (auto m = MatchFolded(q, text)) {
            SearchRank r{*m, f.field, text, id};
            if (!best || r < *best) best = r;
          }
        }
        if (best) all.push_back(*best);
      }
      std::sort(all.begin(), all.end());
      if (all.size() > limit) all.resize(limit);
      return all;
    };
    std::vector<double> all_ms, index_medians, brute_medians;
    Json per = Json::array();
    for (const std::string& q : queries) {
      std::vector<double> runs;
      std::vector<SearchRank> got;
      for (int r = 0; r < (quick ? 5 : 21); ++r) {
        auto t = SteadyClock::now();
        ReadView view = db.Read();
        got = view.graph().search().Search(q, limit);
        runs.push_back(Ms(t, SteadyClock::now()));
      }
      all_ms.insert(all_ms.end(), runs.begin(), runs.end());
      std::vector<SearchRank> want_hits;
      double b = MedianMs(1, [&] { ReadView view = db.Read(); want_hits = brute(view, q); });
      if (got != want_hits) {
        search_identical = false;
        std::cerr << "SEARCH MISMATCH for '" << q << "'\n";
      }
      index_medians.push_back(Percentile(runs, 0.5));
      brute_medians.push_back(b);
      per.push_back({{"q", q}, {"hits", got.size()}, {"p50_ms", Percentile(runs, 0.5)}, {"max_ms", *std::max_element(runs.begin(), runs.end())},
                     {"brute_force_ms", b}});
    }
    double index_total = 0, brute_total = 0;
    for (double x : index_medians) index_total += x;
    for (double x : brute_medians) brute_total += x;
    ReadView view = db.Read();
    results["search"] = {{"queries", per}, {"limit", limit},
                         {"p50_ms", Percentile(all_ms, 0.5)}, {"p95_ms", Percentile(all_ms, 0.95)},
                         {"max_ms", *std::max_element(all_ms.begin(), all_ms.end())},
                         {"speedup_vs_brute_force", brute_total / index_total},
                         {"identical_to_brute_force", search_identical},
                         {"index_bytes_per_ci", double(view.graph().search().bytes()) / estate.cis}};
    std::cerr << "search: p50 " << Percentile(all_ms, 0.5) << " ms, p95 " << Percentile(all_ms, 0.95)
              << " ms, " << brute_total / index_total << "x the brute-force scan, identical: " << search_identical << "\n";
  }

  // 6. HTTP: point lookups and small impact queries with concurrent clients; durable updates.
  if (want("http")) {
    api::Authenticator auth(store->get(), false);
    process::ChangeService changes(db, engine);
    process::BaselineService baseline_service(db, engine);
    process::ReleaseService releases(db, changes, baseline_service);
    process::AuditService audits(db, baseline_service);
    gql::BaselineResolver baselines = baseline_service.Resolver();
    api::Api http_api(db, auth, engine, {changes, baseline_service, releases, audits, baselines},
                      api::ApiOptions{});
    api::ServerOptions server_options;
    server_options.port = 0;
    server_options.threads = 4;
    api::HttpServer server(http_api, server_options);
    int port = *server.Bind();
    std::thread serving([&] { server.Serve(); });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    int64_t max_id = db.Read().graph().ci_id_bound() - 1;
    auto throughput = [&](int clients, double seconds, auto&& request) {
      std::atomic<int64_t> done{0}, failed{0};
      auto end = SteadyClock::now() + std::chrono::duration<double>(seconds);
      std::vector<std::thread> ts;
      for (int c = 0; c < clients; ++c) {
        ts.emplace_back([&, c] {
          httplib::Client cl("127.0.0.1", port);
          cl.set_keep_alive(true);
          cl.set_tcp_nodelay(true);
          int64_t i = c * 7919;
          while (SteadyClock::now() < end) {
            if (request(cl, ++i)) ++done; else ++failed;
          }
        });
      }
      for (auto& t : ts) t.join();
      return std::make_pair(done.load() / seconds, failed.load());
    };
    double secs = quick ? 0.5 : 3;
    auto [lookups, lookup_fail] = throughput(4, secs, [&](httplib::Client& cl, int64_t i) {
      auto r = cl.Get(("/v1/cis/" + std::to_string(1 + i % max_id)).c_str());
      return r && (r->status == 200 || r->status == 404);
    });
    auto [impacts, impact_fail] = throughput(4, secs, [&](httplib::Client& cl, int64_t i) {
      Json q{{"cis", {1 + i % max_id}}, {"max_depth", 2}};
      auto r = cl.Post("/v1/impact", q.dump(), "application/json");
      return r && (r->status == 200 || r->status == 404);
    });
    // The 20 impact queries over HTTP (JSON with an explanation path per CI).
    std::vector<double> http_impact_ms;
    {
      httplib::Client ic("127.0.0.1", port);
      ic.set_tcp_nodelay(true);
      ic.set_read_timeout(300, 0);
      for (CiId id : start_ids) {
        http_impact_ms.push_back(MedianMs(quick ? 1 : 3, [&] {
          auto r = ic.Post("/v1/impact", Json{{"cis", {id}}, {"max_depth", 6}, {"redundancy", false}}.dump(),
                           "application/json");
          if (!r || r->status != 200) ++impact_fail;
        }));
      }
    }
    results["impact"]["http"] = summary(http_impact_ms);
    std::vector<double> update_ms;
    httplib::Client cl("127.0.0.1", port);
    cl.set_tcp_nodelay(true);
    int n_updates = quick ? 20 : 200;
    auto ua = SteadyClock::now();
    for (int i = 0; i < n_updates; ++i) {
      auto a2 = SteadyClock::now();
      auto r = cl.Patch(("/v1/cis/" + std::to_string(1 + (i * 104729) % max_id)).c_str(),
                        Json{{"owner", "bench-" + std::to_string(i)}}.dump(), "application/json");
      update_ms.push_back(Ms(a2, SteadyClock::now()));
      if (!r || r->status != 200) ++impact_fail;
    }
    double update_total = Ms(ua, SteadyClock::now());
    results["http"] = {{"clients", 4}, {"point_lookups_per_s", lookups}, {"small_impacts_per_s", impacts},
                       {"failed_requests", lookup_fail + impact_fail},
                       {"update_p50_ms", Percentile(update_ms, 0.5)}, {"update_p95_ms", Percentile(update_ms, 0.95)},
                       {"updates_per_s_one_client", n_updates / (update_total / 1000)}};
    std::cerr << "http: " << results["http"].dump() << "\n";
    server.Stop();
    serving.join();
    bench::MetricsCost(http_api, db, quick, results["metrics"]);
  }
  // 7. Baselines: capture a scope of up to 100k CIs, change 1% of them, capture again, diff.
  // The same-run baseline: reading those CIs' current rows from SQLite, which is what a
  // copy-based baseline has to do at the very least.
  if (want("baselines")) {
    process::BaselineService baselines(db, engine);
    int64_t scope = std::min<int64_t>(100000, db.Read().graph().ci_id_bound() - 1);
    process::BaselineSpec spec;
    spec.scope_kind = process::ScopeKind::kQuery;
    spec.query = "MATCH (n) WHERE id(n) <= " + std::to_string(scope) + " RETURN n";
    int n = 0;
    // Baseline names are unique per run: a --reuse database keeps the earlier runs' baselines.
    std::string run_tag = std::to_string(db.Read().tx());
    Result<process::Baseline> first = Status::Internal("not run");
    double capture_ms = MedianMs(quick ? 1 : 3, [&] {
      spec.name = "bench-a-" + run_tag + "-" + std::to_string(n++);
      first = baselines.Capture(spec, "bench");
    });
    if (!first.ok()) return std::cerr << "baseline: " << first.status().ToString() << "\n", 1;
    sqlite3* copy_db = nullptr;
    sqlite3_open_v2(db_path.c_str(), &copy_db, SQLITE_OPEN_READONLY, nullptr);
    double copy_ms = MedianMs(quick ? 1 : 3, [&] {
      sqlite3_stmt* st = nullptr;
      sqlite3_prepare_v2(copy_db, "SELECT id, class, attrs FROM ci_versions WHERE valid_to IS NULL AND id <= ?", -1, &st, nullptr);
      sqlite3_bind_int64(st, 1, scope);
      int64_t bytes = 0;
      while (sqlite3_step(st) == SQLITE_ROW) bytes += sqlite3_column_bytes(st, 2);
      sqlite3_finalize(st);
      if (bytes == 0) std::cerr << "copy baseline read nothing\n";
    });
    sqlite3_close(copy_db);
    int64_t changed = std::max<int64_t>(1, scope / 100);
    auto tx = db.Write(TxMeta{"bench", "api"}, [&](Txn& t) -> Status {
      for (int64_t i = 0; i < changed; ++i) {
        CiId id = 1 + (i * 7919) % scope;
        if (!t.GetCi(id)) continue;
        CMDB_RETURN_IF_ERROR(t.UpdateCi(id, {{"owner", Value("bench-changed-" + std::to_string(i))}}, std::nullopt));
      }
      return Status::Ok();
    });
    if (!tx.ok()) return std::cerr << "baseline edits: " << tx.status().ToString() << "\n", 1;
    spec.name = "bench-b-" + run_tag;
    auto second = baselines.Capture(spec, "bench");
    if (!second.ok()) return std::cerr << "baseline: " << second.status().ToString() << "\n", 1;
    Result<process::BaselineDiff> diff = Status::Internal("not run");
    process::DiffTarget against_b;
    against_b.kind = process::DiffTarget::kBaseline;
    against_b.baseline = "bench-b-" + run_tag;
    double diff_ms = MedianMs(quick ? 1 : 3, [&] { diff = baselines.Diff(*first, against_b); });
    Result<process::BaselineDiff> diff_now = Status::Internal("not run");
    double diff_now_ms = MedianMs(quick ? 1 : 3, [&] { diff_now = baselines.Diff(*first, process::DiffTarget{}); });
    if (!diff.ok() || !diff_now.ok()) return std::cerr << "diff failed\n", 1;
    results["baselines"] = {{"cis", first->cis.size()}, {"relationships", first->rels.size()},
                            {"capture_ms", capture_ms}, {"sqlite_copy_read_ms", copy_ms},
                            {"capture_vs_copy_read", capture_ms / copy_ms},
                            {"cis_changed", changed}, {"diff_two_baselines_ms", diff_ms},
                            {"diff_against_current_ms", diff_now_ms},
                            {"diff_found_changed", diff->counts.cis_changed}};
    std::cerr << "baselines: " << results["baselines"].dump() << "\n";
    if (check && diff->counts.cis_changed != changed) {
      std::cerr << "FAILED: the baseline diff found " << diff->counts.cis_changed << " changed CIs, expected " << changed << "\n";
      return 1;
    }
  }
  // 8. Time travel: AS OF and USE BASELINE after 1% of the CIs changed, against the present
  // (after the baselines: its retirements would change what their diff finds).
  bool as_of_failed = false;
  if (want("asof")) {
    Json as_of;
    bool ok = bench::AsOfBench(db, estate.starts, quick ? 1 : 3, quick, [] {
      ReleaseFreeMemory();
      return HeapInUse();
    }, as_of);
    results["as_of"] = as_of;
    if (!ok) {  // reported at the end, after the results are written
      std::cerr << "FAILED: AS OF\n";
      as_of_failed = true;
    }
  }
  // 9. Imports, measured in a fresh process of this program (see ImportBench).
  if (want("imports")) {
    int64_t n = std::min<int64_t>(50000, std::max<int64_t>(1000, size / 2));
    std::string out_file = dir + "/imports.json";
    std::string cmd = std::string(argv[0]) + " --imports " + std::to_string(n) + " --dir " + dir + " > " + out_file;
    int rc = std::system(cmd.c_str());
    Json imports;
    try {
      imports = Json::parse(std::ifstream(out_file));
    } catch (const std::exception& e) {
      std::cerr << "FAILED: the import benchmark printed no JSON: " << e.what() << "\n";
      return 1;
    }
    results["imports"] = imports;
    std::cerr << "imports: " << imports.dump() << "\n";
    if (rc != 0) {
      std::cerr << "FAILED: import counts wrong\n";
      return 1;
    }
  }
  std::string text = results.dump(2);
  if (!out_path.empty()) std::ofstream(out_path) << text << "\n";
  std::cout << text << "\n";
  if (as_of_failed) {
    std::cerr << "FAILED: AS OF (see the as of lines above)\n";
    return 1;
  }
  if (check && !sets_equal) {
    std::cerr << "FAILED: impact sets differ from the SQLite CTE\n";
    return 1;
  }
  if (check && !search_identical) {
    std::cerr << "FAILED: search hits differ from the brute-force scan\n";
    return 1;
  }
  if (check) std::cout << "bench check: 20 impact sets identical to SQLite's recursive CTE\n";
  return 0;
}
