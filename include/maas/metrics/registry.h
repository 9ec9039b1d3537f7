// -----------------------------------------------------------------------------
// File: metrics/registry.h
// -----------------------------------------------------------------------------
//
// `maas::MetricsRegistry` collects the metrics of every instrumented part of a
// predictor chain (`maas::MetricsPredictor`, the resilience decorators'
// exporters, batching, rollouts, replicas, routers) into one
// `maas::MetricsSnapshot`: a plain struct the program can read, render as
// Prometheus text (metrics/prometheus.h), or hand to its own monitoring
// through a `maas::MetricsSink`.
//
// Recording never goes through the registry: each instrumented object keeps
// its own lock-free counters and registers a *collector*, a function that
// adds the object's current values to a snapshot under construction. The
// registry only runs collectors when a snapshot is taken, so the cost of a
// snapshot is paid by the reader, never by a predict call.
//
// Naming follows the Prometheus conventions: prefix `maas_`, base units
// (seconds, bytes), counters end in `_total`, labels for dimensions with few
// values (`model`, `backend`, `code`, `endpoint`, `reason`, `output`).
//
// Lifetime: a collector is removed when the `Registration` returned for it is
// destroyed (the instrumented object holds it), which waits for a snapshot
// being taken at that moment. The registry must outlive every registration.
//
// Example:
//
//   maas::MetricsRegistry registry;
//   auto model = std::make_unique<maas::MetricsPredictor>(std::move(remote), &registry,
//                                                         maas::MetricsOptions{"drag"});
//   ... model->Predict(...) from many threads ...
//   maas::MetricsSnapshot snap = registry.Snapshot();
//   double calls = snap.Sum("maas_predict_requests_total", {{"model", "drag"}});

#ifndef MAAS_METRICS_REGISTRY_H_
#define MAAS_METRICS_REGISTRY_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "maas/core/detail/exception.h"
#include "maas/core/detail/mutex.h"

namespace maas {

// MetricType
//
// The Prometheus metric types maas exports.
enum class MetricType { kCounter, kGauge, kHistogram };

// MetricLabels
//
// Label name/value pairs of one series, in the order they were given.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

// MetricSample
//
// One counter or gauge series.
struct MetricSample {
  MetricLabels labels;
  double value = 0;
};

// HistogramSample
//
// One histogram series. `upper_bounds` are the finite bucket bounds in
// ascending order; `bucket_counts` has one more entry (the +Inf bucket) and
// is *per bucket* (not cumulative): an observation `v` is counted in the
// first bucket with `v <= bound`. `count` is the sum of `bucket_counts`.
struct HistogramSample {
  MetricLabels labels;
  std::vector<double> upper_bounds;
  std::vector<std::uint64_t> bucket_counts;
  double sum = 0;
  std::uint64_t count = 0;
};

// MetricFamily
//
// All series of one metric name. Counters and gauges use `samples`,
// histograms `histograms`.
struct MetricFamily {
  std::string name;
  std::string help;
  MetricType type = MetricType::kCounter;
  std::vector<MetricSample> samples;
  std::vector<HistogramSample> histograms;
};

// MetricsSnapshot
//
// The values of every registered metric at one moment, as plain data.
// Families appear in the order their first series was added. Not
// thread-safe to modify; safe to read from many threads.
struct MetricsSnapshot {
  std::vector<MetricFamily> families;

  // MetricsSnapshot::Find()
  //
  // The family `name`, or null.
  const MetricFamily* Find(absl::string_view name) const {
    for (const MetricFamily& f : families) {
      if (f.name == name) return &f;
    }
    return nullptr;
  }

  // MetricsSnapshot::Sum()
  //
  // The sum of the counter or gauge series of `name` whose labels include
  // every pair of `match` (all series when `match` is empty); for a
  // histogram, the sum of the matching series' counts. 0 when none match.
  double Sum(absl::string_view name, const MetricLabels& match = {}) const {
    const MetricFamily* f = Find(name);
    if (f == nullptr) return 0;
    double s = 0;
    for (const MetricSample& m : f->samples) {
      if (Matches(m.labels, match)) s += m.value;
    }
    for (const HistogramSample& h : f->histograms) {
      if (Matches(h.labels, match)) s += static_cast<double>(h.count);
    }
    return s;
  }

  // MetricsSnapshot::Value()
  //
  // The value of the one counter or gauge series of `name` whose labels
  // include `match`; nullopt when none or several match.
  std::optional<double> Value(absl::string_view name, const MetricLabels& match = {}) const {
    const MetricFamily* f = Find(name);
    if (f == nullptr) return std::nullopt;
    std::optional<double> v;
    for (const MetricSample& m : f->samples) {
      if (!Matches(m.labels, match)) continue;
      if (v.has_value()) return std::nullopt;
      v = m.value;
    }
    return v;
  }

  // MetricsSnapshot::Histogram()
  //
  // The one histogram series of `name` whose labels include `match`, or
  // null when none or several match.
  const HistogramSample* Histogram(absl::string_view name, const MetricLabels& match = {}) const {
    const MetricFamily* f = Find(name);
    if (f == nullptr) return nullptr;
    const HistogramSample* found = nullptr;
    for (const HistogramSample& h : f->histograms) {
      if (!Matches(h.labels, match)) continue;
      if (found != nullptr) return nullptr;
      found = &h;
    }
    return found;
  }

  // MetricsSnapshot::Matches()
  //
  // True when `labels` holds every pair of `match`.
  static bool Matches(const MetricLabels& labels, const MetricLabels& match) {
    for (const auto& want : match) {
      bool found = false;
      for (const auto& have : labels) {
        if (have.first == want.first) {
          found = have.second == want.second;
          break;
        }
      }
      if (!found) return false;
    }
    return true;
  }
};

// MetricsBuilder
//
// What a collector adds series to. Series of one name are grouped into one
// family (the first help text and type given for a name win; a series of
// another type under a used name is dropped).
class MetricsBuilder {
 public:
  // MetricsBuilder::Counter() / Gauge()
  void Counter(absl::string_view name, absl::string_view help, MetricLabels labels,
               double value) {
    Add(name, help, MetricType::kCounter, std::move(labels), value);
  }
  void Gauge(absl::string_view name, absl::string_view help, MetricLabels labels,
             double value) {
    Add(name, help, MetricType::kGauge, std::move(labels), value);
  }

  // MetricsBuilder::Histogram()
  //
  // `sample.count` is set from the bucket counts.
  void Histogram(absl::string_view name, absl::string_view help, HistogramSample sample) {
    MetricFamily* f = FamilyFor(name, help, MetricType::kHistogram);
    if (f == nullptr) return;
    sample.count = 0;
    for (std::uint64_t c : sample.bucket_counts) sample.count += c;
    f->histograms.push_back(std::move(sample));
  }

  // MetricsBuilder::Take()
  //
  // The snapshot built so far (the builder is left empty).
  MetricsSnapshot Take() {
    index_.clear();
    return std::move(snapshot_);
  }

 private:
  MetricFamily* FamilyFor(absl::string_view name, absl::string_view help, MetricType type) {
    auto it = index_.find(std::string(name));
    if (it != index_.end()) {
      MetricFamily& f = snapshot_.families[it->second];
      return f.type == type ? &f : nullptr;
    }
    index_.emplace(std::string(name), snapshot_.families.size());
    MetricFamily f;
    f.name = std::string(name);
    f.help = std::string(help);
    f.type = type;
    snapshot_.families.push_back(std::move(f));
    return &snapshot_.families.back();
  }

  void Add(absl::string_view name, absl::string_view help, MetricType type,
           MetricLabels labels, double value) {
    MetricFamily* f = FamilyFor(name, help, type);
    if (f != nullptr) f->samples.push_back(MetricSample{std::move(labels), value});
  }

  MetricsSnapshot snapshot_;
  std::map<std::string, std::size_t> index_;
};

// MetricsSink
//
// Where `MetricsRegistry::PublishTo()` sends a snapshot: implement it to
// forward maas' metrics to your own monitoring (a log line, a StatsD
// client, an in-house database). See also `PrometheusTextFileSink`
// (metrics/prometheus.h) and `PeriodicPublisher` (metrics/publisher.h).
// `Publish` is called from the publishing thread only (one call at a time
// per publisher); it returns how it went.
class MetricsSink {
 public:
  virtual ~MetricsSink() = default;

  // MetricsSink::Publish()
  virtual absl::Status Publish(const MetricsSnapshot& snapshot) = 0;
};

// MetricsRegistry
//
// See the file comment. Thread-safe: collectors may be added and removed,
// and snapshots taken, from any thread; collectors run one snapshot at a
// time.
class MetricsRegistry {
 public:
  using Collector = std::function<void(MetricsBuilder&)>;

  // MetricsRegistry::Registration
  //
  // Keeps a collector registered; removes it when destroyed or `Reset()`.
  // Move-only.
  class Registration {
   public:
    Registration() = default;
    Registration(Registration&& o) noexcept : registry_(o.registry_), id_(o.id_) {
      o.registry_ = nullptr;
    }
    Registration& operator=(Registration&& o) noexcept {
      if (this != &o) {
        Reset();
        registry_ = o.registry_;
        id_ = o.id_;
        o.registry_ = nullptr;
      }
      return *this;
    }
    Registration(const Registration&) = delete;
    Registration& operator=(const Registration&) = delete;
    ~Registration() { Reset(); }

    // Registration::Reset()
    //
    // Removes the collector (waits for a snapshot that is running it).
    void Reset() {
      if (registry_ != nullptr) registry_->Remove(id_);
      registry_ = nullptr;
    }

   private:
    friend class MetricsRegistry;
    Registration(MetricsRegistry* r, std::uint64_t id) : registry_(r), id_(id) {}
    MetricsRegistry* registry_ = nullptr;
    std::uint64_t id_ = 0;
  };

  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // MetricsRegistry::Add()
  //
  // Registers `collector` until the returned registration goes away.
  // Allocates; not for the hot path.
  ABSL_MUST_USE_RESULT Registration Add(Collector collector) ABSL_LOCKS_EXCLUDED(mu_) {
    detail::MutexLock lock(&mu_);
    const std::uint64_t id = ++next_id_;
    collectors_.emplace(id, std::move(collector));
    return Registration(this, id);
  }

  // MetricsRegistry::Snapshot()
  //
  // Runs every collector (in registration order) and returns what they
  // added. Allocates.
  MetricsSnapshot Snapshot() const ABSL_LOCKS_EXCLUDED(mu_) {
    MetricsBuilder b;
    detail::MutexLock lock(&mu_);
    for (const auto& c : collectors_) c.second(b);
    return b.Take();
  }

  // MetricsRegistry::PublishTo()
  //
  // Takes a snapshot and gives it to `sink`; returns the sink's status, or
  // `kResourceExhausted`/`kInternal` if building the snapshot threw.
  absl::Status PublishTo(MetricsSink& sink) const {
    try {
      return sink.Publish(Snapshot());
    } catch (...) {
      return detail::CurrentExceptionStatus("MetricsRegistry::PublishTo");
    }
  }

  // MetricsRegistry::size()
  //
  // The number of registered collectors.
  std::size_t size() const ABSL_LOCKS_EXCLUDED(mu_) {
    detail::MutexLock lock(&mu_);
    return collectors_.size();
  }

 private:
  void Remove(std::uint64_t id) ABSL_LOCKS_EXCLUDED(mu_) {
    detail::MutexLock lock(&mu_);
    collectors_.erase(id);
  }

  mutable detail::Mutex mu_;
  std::uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<std::uint64_t, Collector> collectors_ ABSL_GUARDED_BY(mu_);
};

}  // namespace maas

#endif  // MAAS_METRICS_REGISTRY_H_
