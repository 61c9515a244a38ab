// Metrics: counters, gauges and histograms with labels, rendered in the Prometheus text
// exposition format (version 0.0.4) for GET /metrics.
//
// Debian 12 has no prometheus-cpp package (libprometheus-cpp-dev is not in bookworm), so this is
// a small registry of our own: no third-party header, so any layer may register metrics.
//
// How a module adds its metrics (once, at start-up; the families live as long as the registry):
//
//   auto& sent = registry.Counter("cmdb_hook_deliveries_total", "Webhook deliveries.",
//                                 {"outcome"});
//   sent.With({"ok"}).Inc();                       // hot path: keep the series reference
//   auto& lag = registry.Histogram("cmdb_hook_delivery_seconds", "Delivery latency.", {},
//                                  DurationBuckets());
//   lag.With({}).Observe(0.012);
//   registry.GaugeCallback("cmdb_hook_backlog", "Undelivered events.", {},
//                          [&] { return GaugeSamples{{{}, double(outbox.size())}}; });
//
// Names follow Prometheus' rules ([a-zA-Z_:][a-zA-Z0-9_:]*, labels [a-zA-Z_][a-zA-Z0-9_]*, no
// "__" prefix); registering an invalid name, the same name twice, or With() with the wrong number
// of label values throws std::invalid_argument (a programming error, found by the first test).
// A family holds at most kMaxSeries label sets; the values of any further set are counted under
// one series whose every label is "other" (bounded cardinality whatever callers send).
// Thread safety: registering, With(), the series' updates and Render() may run concurrently;
// updates are lock-free atomics, With() takes the family's mutex. Gauge callbacks run on the
// thread that calls Render(), one at a time.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace cmdb {

using Labels = std::vector<std::string>;  // label values, in the family's label-name order

// A monotonically increasing count.
class CounterSeries {
 public:
  void Inc(double by = 1);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// A value that goes up and down.
class GaugeSeries {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double by);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted into cumulative buckets (upper bounds, ascending; +Inf is implicit).
class HistogramSeries {
 public:
  explicit HistogramSeries(const std::vector<double>& bounds);
  void Observe(double v);
  // Per-bucket (non-cumulative) counts, the +Inf bucket last; count and sum.
  std::vector<uint64_t> bucket_counts() const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;  // bounds_.size() + 1
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// A family: one metric name, its help and label names, and its series by label values.
// With() returns a reference that stays valid as long as the registry.
template <typename Series>
class Family {
 public:
  static constexpr size_t kMaxSeries = 1000;
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> bounds = {})
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        bounds_(std::move(bounds)) {}
  Series& With(const Labels& values);
  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  // Calls fn(labels, series) for every series, in label order, under the family's mutex.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    std::lock_guard l(mu_);
    for (const auto& [labels, series] : series_) fn(labels, *series);
  }

 private:
  std::string name_, help_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  std::map<Labels, std::unique_ptr<Series>> series_;
};

using CounterFamily = Family<CounterSeries>;
using GaugeFamily = Family<GaugeSeries>;
using HistogramFamily = Family<HistogramSeries>;

// What a gauge callback returns at scrape time: label values and value, one per series.
using GaugeSamples = std::vector<std::pair<Labels, double>>;

// Bucket bounds in seconds for request and transaction durations: 0.5 ms to 30 s.
std::vector<double> DurationBuckets();
// Bucket bounds for sizes (records per transaction): 1 to 1,000,000 by powers of 4 (about).
std::vector<double> SizeBuckets();

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  CounterFamily& Counter(const std::string& name, const std::string& help,
                         std::vector<std::string> label_names);
  GaugeFamily& Gauge(const std::string& name, const std::string& help,
                     std::vector<std::string> label_names);
  HistogramFamily& Histogram(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names, std::vector<double> bounds);
  // A gauge read when the metrics are rendered: `read` returns its series (it may take locks
  // of its module; it must not call back into the registry).
  void GaugeCallback(const std::string& name, const std::string& help,
                     std::vector<std::string> label_names, std::function<GaugeSamples()> read);

  // Every family in the text exposition format, in registration order: # HELP, # TYPE, then
  // the samples. An exception from a callback omits that family's samples (its # HELP stays).
  std::string Render() const;

 private:
  struct Entry;
  void Add(std::unique_ptr<Entry> e);
  mutable std::mutex mu_;
  std::vector<std::unique_ptr<Entry>> entries_;
};

// Escapes a label value for the text format: backslash, double quote and newline.
std::string EscapeLabelValue(const std::string& v);
// Formats a sample value: integers without a fraction, +Inf/-Inf/NaN as the format spells them.
std::string FormatMetricValue(double v);

}  // namespace cmdb
