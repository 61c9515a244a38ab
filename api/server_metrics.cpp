#include "api/server_metrics.hpp"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>

namespace cmdb::api {
namespace {

double FileBytes(const std::string& path) {
  std::error_code ec;
  auto n = std::filesystem::file_size(path, ec);
  return ec ? 0 : static_cast<double>(n);
}

}  // namespace

double ResidentMemoryBytes() {
  std::ifstream statm("/proc/self/statm");
  long long pages_total = 0, pages_resident = 0;
  if (!(statm >> pages_total >> pages_resident)) return 0;
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

void RegisterServerMetrics(MetricsRegistry& registry, Database& db,
                           const ServerMetricsOptions& options) {
  registry.Gauge("cmdb_build_info", "Always 1; the version of cmdbd as a label.", {"version"})
      .With({options.version})
      .Set(1);
  auto wall = std::chrono::system_clock::now().time_since_epoch();
  registry
      .Gauge("process_start_time_seconds", "Start time of the process since the Unix epoch.", {})
      .With({})
      .Set(std::chrono::duration<double>(wall).count());
  auto started = std::chrono::steady_clock::now();
  registry.GaugeCallback("cmdb_uptime_seconds", "Seconds since cmdbd started.", {}, [started] {
    return GaugeSamples{
        {{}, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()}};
  });
  registry.GaugeCallback("process_resident_memory_bytes",
                         "Resident memory size in bytes (/proc/self/statm).", {}, [] {
                           return GaugeSamples{{{}, ResidentMemoryBytes()}};
                         });
  if (!options.db_path.empty() && options.db_path != ":memory:") {
    std::string path = options.db_path;
    registry.GaugeCallback("cmdb_sqlite_file_bytes", "Size of the SQLite database file.", {},
                           [path] {
                             return GaugeSamples{{{}, FileBytes(path)}};
                           });
    registry.GaugeCallback("cmdb_sqlite_wal_bytes",
                           "Size of the SQLite write-ahead log (0 when there is none).", {},
                           [path] {
                             return GaugeSamples{{{}, FileBytes(path + "-wal")}};
                           });
  }
  registry.GaugeCallback("cmdb_cis", "Current CIs by class (exact class, no subclasses).",
                         {"class"}, [&db] {
                           GaugeSamples out;
                           ReadView view = db.Read();
                           const Graph& g = view.graph();
                           for (size_t c = 0; c < g.class_id_bound(); ++c) {
                             const std::string& name = g.ClassName(static_cast<ClassId>(c));
                             size_t n = g.Extent(name).size();
                             if (n > 0) out.push_back({{name}, static_cast<double>(n)});
                           }
                           return out;
                         });
  registry.GaugeCallback("cmdb_relationships", "Current relationships by type.", {"type"}, [&db] {
    ReadView view = db.Read();
    const Graph& g = view.graph();
    std::vector<double> counts(g.type_id_bound());
    for (CiId id = 1; id < g.ci_id_bound(); ++id) {
      for (const Adj& a : g.Out(id)) {
        if (a.type() < counts.size()) counts[a.type()] += 1;
      }
    }
    GaugeSamples out;
    for (size_t t = 0; t < counts.size(); ++t) {
      if (counts[t] > 0) out.push_back({{g.TypeName(static_cast<TypeId>(t))}, counts[t]});
    }
    return out;
  });
  HistogramFamily& seconds = registry.Histogram(
      "cmdb_write_transaction_duration_seconds",
      "Committed write transactions: writer lock taken to published (validate, persist, "
      "publish), by source.",
      {"source"}, DurationBuckets());
  HistogramFamily& records =
      registry.Histogram("cmdb_write_transaction_records",
                         "Committed write transactions: CIs and relationships written, by source.",
                         {"source"}, SizeBuckets());
  db.SetCommitObserver([&seconds, &records](const TxRecord& tx, double s) {
    seconds.With({tx.source}).Observe(s);
    records.With({tx.source}).Observe(static_cast<double>(tx.cis_written + tx.rels_written));
  });
}

}  // namespace cmdb::api
