// -----------------------------------------------------------------------------
// File: metrics/metrics_predictor.h
// -----------------------------------------------------------------------------
//
// `maas::MetricsPredictor` measures the predictor it wraps: every call's
// status code, duration and rows, the calls in flight, and what the call's
// report says happened below it (retries, fallbacks and why, circuit-breaker
// refusals, refused non-finite replies). Put one around the whole chain to
// see what the simulation sees, and one around each backend (remote, local)
// to see each side; they register with a `maas::MetricsRegistry`.
//
// Series (labels `model` and `backend`, set at construction; `backend`
// defaults to the wrapped predictor's `label()`):
//
//   maas_predict_requests_total{code}       counter   calls ended, by absl code
//                                                     ("OK", "UNAVAILABLE", ...)
//   maas_predict_rows_total                 counter   rows of the calls that
//                                                     succeeded (dim 0 of the
//                                                     first input)
//   maas_predict_duration_seconds           histogram every call's wall time,
//                                                     buckets 5 us .. 10 s
//   maas_in_flight_requests                 gauge     calls running now
//   maas_retries_total                      counter   attempts after the first
//                                                     at the primary backend
//   maas_fallbacks_total{reason}            counter   calls the fallback
//                                                     served, by the primary's
//                                                     code or "circuit_open"
//   maas_circuit_rejected_total             counter   calls a breaker refused
//   maas_non_finite_total                   counter   replies refused for
//                                                     NaN/Inf
//
// `maas_predict_requests_total{code="OK"}` and the histogram's count are
// exported even when zero.
//
// Cost: no lock and no allocation per call. A call reads the cycle counter
// twice and does a handful of uncontended atomic adds on the calling
// thread's own copy of the counters (metrics/detail/cells.h); measured in
// bench/metrics (docs/PERFORMANCE.md).
//
// Thread-safe when the wrapped predictor is. Owns it.
//
// Example:
//
//   maas::MetricsRegistry registry;
//   maas::MetricsOptions mo;
//   mo.model = "drag";
//   auto model = std::make_unique<maas::MetricsPredictor>(std::move(chain), &registry, mo);
//   ... model->Predict(...) ...
//   std::string text = maas::PrometheusText(registry);   // metrics/prometheus.h

#ifndef MAAS_METRICS_METRICS_PREDICTOR_H_
#define MAAS_METRICS_METRICS_PREDICTOR_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "maas/core/call.h"
#include "maas/core/predictor.h"
#include "maas/core/status_payload.h"
#include "maas/metrics/detail/cells.h"
#include "maas/metrics/registry.h"

namespace maas {

// The bucket bounds (seconds) of maas' duration histograms: 5 us to 10 s.
// Prometheus' default buckets start at 5 ms and would put every local call
// into the first one.
inline constexpr std::array<double, 20> kDurationBucketsSeconds = {
    5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3,
    1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

// MetricsOptions
//
//  * `model`: the `model` label (e.g. the model's name); "" allowed.
//  * `backend`: the `backend` label; empty = the wrapped predictor's label().
struct MetricsOptions {
  std::string model;
  std::string backend;
};

// DurationHistogram
//
// A lock-free histogram of durations over `kDurationBucketsSeconds`, kept in
// cycle-counter ticks. `Record()` is what `MetricsPredictor` does per call;
// public for the other instrumented parts. Thread-safe.
class DurationHistogram {
 public:
  static constexpr std::size_t kBuckets = kDurationBucketsSeconds.size() + 1;

  DurationHistogram() : cells_(kBuckets + 1) {
    const double spt = detail::CycleClock::SecondsPerTick();
    for (std::size_t i = 0; i < kDurationBucketsSeconds.size(); ++i) {
      bounds_[i] = static_cast<std::int64_t>(kDurationBucketsSeconds[i] / spt);
    }
  }

  // DurationHistogram::Record()
  //
  // Adds one observation of `ticks` (detail::CycleClock ticks).
  void Record(std::int64_t ticks) const { Record(cells_.Shard(), ticks); }

  // DurationHistogram::RecordSeconds()
  void RecordSeconds(double seconds) const {
    Record(static_cast<std::int64_t>(seconds / detail::CycleClock::SecondsPerTick()));
  }

  // DurationHistogram::Sample()
  //
  // The histogram as a snapshot series with `labels`.
  HistogramSample Sample(MetricLabels labels) const {
    HistogramSample h;
    h.labels = std::move(labels);
    h.upper_bounds.assign(kDurationBucketsSeconds.begin(), kDurationBucketsSeconds.end());
    h.bucket_counts.resize(kBuckets);
    for (std::size_t i = 0; i < kBuckets; ++i) {
      h.bucket_counts[i] = static_cast<std::uint64_t>(cells_.Sum(i));
    }
    h.sum = static_cast<double>(cells_.Sum(kBuckets)) * detail::CycleClock::SecondsPerTick();
    return h;
  }

 private:
  void Record(std::atomic<std::int64_t>* shard, std::int64_t ticks) const {
    if (ticks < 0) ticks = 0;  // a thread moved between cores with skewed counters
    std::size_t b = 0;
    while (b < bounds_.size() && ticks > bounds_[b]) ++b;
    shard[b].fetch_add(1, std::memory_order_relaxed);
    shard[kBuckets].fetch_add(ticks, std::memory_order_relaxed);
  }

  std::array<std::int64_t, kDurationBucketsSeconds.size()> bounds_{};
  detail::ShardedCells cells_;  // buckets, then the sum in ticks
};

// MetricsPredictor
//
// See the file comment.
class MetricsPredictor final : public Predictor {
 public:
  // `inner` must not be null; `registry` (not owned) must outlive this. A
  // null registry records without exporting (for measurements).
  MetricsPredictor(std::unique_ptr<Predictor> inner, MetricsRegistry* registry,
                   MetricsOptions options = {})
      : inner_(std::move(inner)),
        model_(std::move(options.model)),
        backend_(options.backend.empty() ? std::string(inner_->label())
                                         : std::move(options.backend)),
        cells_(kCells) {
    if (registry != nullptr) {
      registration_ = registry->Add([this](MetricsBuilder& b) { Collect(b); });
    }
  }

  absl::StatusOr<ModelSignature> Signature() override { return inner_->Signature(); }

  // MetricsPredictor::label()
  //
  // The wrapped predictor's label.
  absl::string_view label() const override { return inner_->label(); }

  // MetricsPredictor::calls()
  //
  // Calls ended so far (all codes).
  std::int64_t calls() const {
    std::int64_t n = 0;
    for (std::size_t c = 0; c < kCodes; ++c) n += cells_.Sum(kByCode + c);
    return n;
  }

  // MetricsPredictor::Collect()
  //
  // Adds this predictor's series to `b` (what the registry calls).
  void Collect(MetricsBuilder& b) const {
    for (std::size_t c = 0; c < kCodes; ++c) {
      const std::int64_t n = cells_.Sum(kByCode + c);
      if (n == 0 && c != 0) continue;
      b.Counter("maas_predict_requests_total", "Predict calls that ended, by status code.",
                Labels({{"code", absl::StatusCodeToString(static_cast<absl::StatusCode>(c))}}),
                static_cast<double>(n));
    }
    b.Counter("maas_predict_rows_total", "Rows of the predict calls that succeeded.", Labels(),
              static_cast<double>(cells_.Sum(kRows)));
    b.Histogram("maas_predict_duration_seconds", "Wall time of predict calls.",
                histogram_.Sample(Labels()));
    b.Gauge("maas_in_flight_requests", "Predict calls running now.", Labels(),
            static_cast<double>(cells_.Sum(kInFlight)));
    b.Counter("maas_retries_total", "Attempts after the first at the primary backend.", Labels(),
              static_cast<double>(cells_.Sum(kRetries)));
    for (std::size_t c = 0; c <= kCodes; ++c) {
      const std::int64_t n = cells_.Sum(kFallbackByCode + c);
      if (n == 0) continue;
      b.Counter("maas_fallbacks_total", "Calls the fallback served, by the primary's failure.",
                Labels({{"reason", c == kCodes ? std::string("circuit_open")
                                               : absl::StatusCodeToString(
                                                     static_cast<absl::StatusCode>(c))}}),
                static_cast<double>(n));
    }
    b.Counter("maas_circuit_rejected_total", "Calls a circuit breaker refused without calling.",
              Labels(), static_cast<double>(cells_.Sum(kCircuitRejected)));
    b.Counter("maas_non_finite_total", "Replies refused because they held NaN or Inf.", Labels(),
              static_cast<double>(cells_.Sum(kNonFinite)));
  }

 protected:
  // The two-argument form goes through the report form too, so that
  // retries and fallbacks are counted whichever form the caller uses.
  absl::Status DoPredict(absl::Span<const ConstTensorView> inputs,
                         absl::Span<const TensorView> outputs) override {
    return DoPredictCall(inputs, outputs, CallOptions(), nullptr);
  }

  absl::Status DoPredictCall(absl::Span<const ConstTensorView> inputs,
                             absl::Span<const TensorView> outputs, const CallOptions& call,
                             CallReport* report) override {
    std::atomic<std::int64_t>* shard = cells_.Shard();
    shard[kInFlight].fetch_add(1, std::memory_order_relaxed);
    CallReport local;
    CallReport* r = report != nullptr ? report : &local;
    const std::int64_t t0 = detail::CycleClock::Now();
    absl::Status s = inner_->Predict(inputs, outputs, call, r);
    const std::int64_t t1 = detail::CycleClock::Now();
    Finish(shard, s, t1 - t0, inputs, r);
    return s;
  }

 private:
  static constexpr std::size_t kCodes = 17;
  static constexpr std::size_t kByCode = 0;
  static constexpr std::size_t kRows = kByCode + kCodes;
  static constexpr std::size_t kInFlight = kRows + 1;
  static constexpr std::size_t kRetries = kInFlight + 1;
  static constexpr std::size_t kFallbackByCode = kRetries + 1;  // kCodes + circuit_open
  static constexpr std::size_t kCircuitRejected = kFallbackByCode + kCodes + 1;
  static constexpr std::size_t kNonFinite = kCircuitRejected + 1;
  static constexpr std::size_t kCells = kNonFinite + 1;

  void Finish(std::atomic<std::int64_t>* shard, const absl::Status& s, std::int64_t ticks,
              absl::Span<const ConstTensorView> inputs, const CallReport* r) const {
    shard[kInFlight].fetch_sub(1, std::memory_order_relaxed);
    histogram_.Record(ticks);
    const auto code = static_cast<std::size_t>(s.code());
    shard[kByCode + (code < kCodes ? code : 2)].fetch_add(1, std::memory_order_relaxed);
    if (s.ok() && !inputs.empty() && inputs[0].shape().rank() > 0) {
      shard[kRows].fetch_add(inputs[0].shape().dim(0), std::memory_order_relaxed);
    }
    if (r == nullptr) return;
    // attempts counts the primary's attempts plus one for a fallback that
    // was called.
    const int retries = r->attempts - 1 - (r->fell_back ? 1 : 0);
    if (retries > 0) shard[kRetries].fetch_add(retries, std::memory_order_relaxed);
    if (r->fell_back) {
      std::size_t reason = kCodes;  // circuit_open
      if (!r->circuit_open && !IsCircuitOpen(r->primary_status)) {
        reason = static_cast<std::size_t>(r->primary_status.code());
        if (reason >= kCodes) reason = 2;
      }
      shard[kFallbackByCode + reason].fetch_add(1, std::memory_order_relaxed);
    }
    if (r->circuit_open) shard[kCircuitRejected].fetch_add(1, std::memory_order_relaxed);
    if (r->non_finite) shard[kNonFinite].fetch_add(1, std::memory_order_relaxed);
  }

  MetricLabels Labels(MetricLabels extra = {}) const {
    MetricLabels l{{"model", model_}, {"backend", backend_}};
    for (auto& e : extra) l.push_back(std::move(e));
    return l;
  }

  const std::unique_ptr<Predictor> inner_;
  const std::string model_;
  const std::string backend_;
  detail::ShardedCells cells_;
  DurationHistogram histogram_;
  // Last member: unregistered first, before the counters go away.
  MetricsRegistry::Registration registration_;
};

}  // namespace maas

#endif  // MAAS_METRICS_METRICS_PREDICTOR_H_
