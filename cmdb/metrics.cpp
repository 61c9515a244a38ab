#include "cmdb/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <type_traits>

namespace cmdb {
namespace {

void AtomicAdd(std::atomic<double>& a, double by) {
  double old = a.load(std::memory_order_relaxed);
  while (!a.compare_exchange_weak(old, old + by, std::memory_order_relaxed)) {
  }
}

bool ValidName(const std::string& n, bool label) {
  if (n.empty() || (label && n.rfind("__", 0) == 0)) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (!label && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

void CheckNames(const std::string& name, const std::vector<std::string>& labels, bool histogram) {
  if (!ValidName(name, false)) throw std::invalid_argument("invalid metric name '" + name + "'");
  for (const auto& l : labels) {
    if (!ValidName(l, true) || (histogram && l == "le"))
      throw std::invalid_argument("invalid label name '" + l + "' of metric " + name);
  }
}

// {a="x",b="y"} with `extra` (already formatted, e.g. le="0.5") appended; "" without labels.
std::string LabelText(const std::vector<std::string>& names, const Labels& values,
                      const std::string& extra = "") {
  if (names.empty() && extra.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < names.size(); ++i) {
    if (i) out += ",";
    out += names[i] + "=\"" + EscapeLabelValue(values[i]) + "\"";
  }
  if (!extra.empty()) out += (names.empty() ? "" : ",") + extra;
  return out + "}";
}

// HELP text escapes backslash and newline only.
std::string EscapeHelp(const std::string& h) {
  std::string out;
  for (char c : h) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

}  // namespace

void CounterSeries::Inc(double by) {
  if (by < 0) throw std::invalid_argument("a counter cannot decrease");
  AtomicAdd(value_, by);
}

void GaugeSeries::Add(double by) { AtomicAdd(value_, by); }

HistogramSeries::HistogramSeries(const std::vector<double>& bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void HistogramSeries::Observe(double v) {
  size_t i =
      static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) - bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  AtomicAdd(sum_, v);
}

std::vector<uint64_t> HistogramSeries::bucket_counts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i) out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

template <typename Series>
Series& Family<Series>::With(const Labels& values) {
  if (values.size() != label_names_.size())
    throw std::invalid_argument("metric " + name_ + " takes " +
                                std::to_string(label_names_.size()) + " label values, not " +
                                std::to_string(values.size()));
  std::lock_guard l(mu_);
  auto it = series_.find(values);
  if (it != series_.end()) return *it->second;
  Labels key = values;
  if (series_.size() >= kMaxSeries) {
    key.assign(values.size(), "other");
    it = series_.find(key);
    if (it != series_.end()) return *it->second;
  }
  std::unique_ptr<Series> s;
  if constexpr (std::is_same_v<Series, HistogramSeries>)
    s = std::make_unique<Series>(bounds_);
  else
    s = std::make_unique<Series>();
  return *series_.emplace(std::move(key), std::move(s)).first->second;
}

template class Family<CounterSeries>;
template class Family<GaugeSeries>;
template class Family<HistogramSeries>;

std::vector<double> DurationBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
}

std::vector<double> SizeBuckets() {
  return {1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576};
}

struct MetricsRegistry::Entry {
  std::string name, help, type;
  std::vector<std::string> label_names;
  std::unique_ptr<CounterFamily> counter;
  std::unique_ptr<GaugeFamily> gauge;
  std::unique_ptr<HistogramFamily> histogram;
  std::function<GaugeSamples()> read;
};

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

void MetricsRegistry::Add(std::unique_ptr<Entry> e) {
  std::lock_guard l(mu_);
  for (const auto& other : entries_) {
    if (other->name == e->name)
      throw std::invalid_argument("metric " + e->name + " is registered twice");
  }
  entries_.push_back(std::move(e));
}

CounterFamily& MetricsRegistry::Counter(const std::string& name, const std::string& help,
                                        std::vector<std::string> label_names) {
  CheckNames(name, label_names, false);
  auto e = std::make_unique<Entry>(Entry{name, help, "counter", label_names, {}, {}, {}, {}});
  e->counter = std::make_unique<CounterFamily>(name, help, std::move(label_names));
  CounterFamily& f = *e->counter;
  Add(std::move(e));
  return f;
}

GaugeFamily& MetricsRegistry::Gauge(const std::string& name, const std::string& help,
                                    std::vector<std::string> label_names) {
  CheckNames(name, label_names, false);
  auto e = std::make_unique<Entry>(Entry{name, help, "gauge", label_names, {}, {}, {}, {}});
  e->gauge = std::make_unique<GaugeFamily>(name, help, std::move(label_names));
  GaugeFamily& f = *e->gauge;
  Add(std::move(e));
  return f;
}

HistogramFamily& MetricsRegistry::Histogram(const std::string& name, const std::string& help,
                                            std::vector<std::string> label_names,
                                            std::vector<double> bounds) {
  CheckNames(name, label_names, true);
  if (bounds.empty() || !std::is_sorted(bounds.begin(), bounds.end()) ||
      std::adjacent_find(bounds.begin(), bounds.end()) != bounds.end() ||
      !std::isfinite(bounds.back()))
    throw std::invalid_argument("histogram " + name +
                                " needs finite, strictly ascending bucket bounds");
  auto e = std::make_unique<Entry>(Entry{name, help, "histogram", label_names, {}, {}, {}, {}});
  e->histogram =
      std::make_unique<HistogramFamily>(name, help, std::move(label_names), std::move(bounds));
  HistogramFamily& f = *e->histogram;
  Add(std::move(e));
  return f;
}

void MetricsRegistry::GaugeCallback(const std::string& name, const std::string& help,
                                    std::vector<std::string> label_names,
                                    std::function<GaugeSamples()> read) {
  CheckNames(name, label_names, false);
  Add(std::make_unique<Entry>(
      Entry{name, help, "gauge", std::move(label_names), {}, {}, {}, std::move(read)}));
}

std::string MetricsRegistry::Render() const {
  std::vector<const Entry*> entries;
  {
    std::lock_guard l(mu_);
    for (const auto& e : entries_) entries.push_back(e.get());
  }
  std::string out;
  for (const Entry* e : entries) {
    out += "# HELP " + e->name + " " + EscapeHelp(e->help) + "\n";
    out += "# TYPE " + e->name + " " + e->type + "\n";
    auto sample = [&](const std::string& suffix, const std::string& labels, double v) {
      out += e->name + suffix + labels + " " + FormatMetricValue(v) + "\n";
    };
    if (e->counter) {
      e->counter->ForEach([&](const Labels& l, const CounterSeries& s) {
        sample("", LabelText(e->label_names, l), s.value());
      });
    } else if (e->gauge) {
      e->gauge->ForEach([&](const Labels& l, const GaugeSeries& s) {
        sample("", LabelText(e->label_names, l), s.value());
      });
    } else if (e->histogram) {
      e->histogram->ForEach([&](const Labels& l, const HistogramSeries& s) {
        std::vector<uint64_t> counts = s.bucket_counts();
        uint64_t cumulative = 0;
        for (size_t i = 0; i < counts.size(); ++i) {
          cumulative += counts[i];
          std::string le = i < s.bounds().size() ? FormatMetricValue(s.bounds()[i]) : "+Inf";
          sample("_bucket", LabelText(e->label_names, l, "le=\"" + le + "\""),
                 static_cast<double>(cumulative));
        }
        sample("_sum", LabelText(e->label_names, l), s.sum());
        sample("_count", LabelText(e->label_names, l), static_cast<double>(cumulative));
      });
    } else if (e->read) {
      GaugeSamples samples;
      try {
        samples = e->read();
      } catch (...) {
        continue;
      }
      std::sort(samples.begin(), samples.end());
      for (const auto& [labels, v] : samples) {
        if (labels.size() != e->label_names.size()) continue;
        sample("", LabelText(e->label_names, labels), v);
      }
    }
  }
  return out;
}

std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string FormatMetricValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  char buf[32];  // the shortest text that reads back as `v`
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc() ? std::string(buf, end) : std::string("NaN");
}

}  // namespace cmdb
