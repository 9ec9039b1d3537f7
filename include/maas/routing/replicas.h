// -----------------------------------------------------------------------------
// File: routing/replicas.h
// -----------------------------------------------------------------------------
//
// `maas::ReplicaSetPredictor` is one predictor over N replicas of the same
// model (typically `RemoteModel`s on N servers or endpoints):
//
//  * Choice: power of two choices (Envoy's `least_request`, Finagle's
//    `p2cPeakEwma`): two distinct available replicas are drawn at random and
//    the one with the lower cost takes the call, cost = peak-EWMA latency x
//    (calls in flight + 1). The peak EWMA jumps to a slower observation at
//    once and decays towards faster ones with time constant `decay`, so a
//    replica that slows down loses traffic immediately. A replica not yet
//    measured costs 0 (it is tried soon).
//  * Outlier ejection (Envoy / gRPC A50 `consecutive_5xx`): after
//    `consecutive_failures` server-health failures in a row (kUnavailable,
//    kDeadlineExceeded, kInternal, kDataLoss, HTTP 429) a replica is ejected
//    for `base_ejection` x (times ejected so far), at most `max_ejection`,
//    and gets no calls. When the time is up it is tried again; one more
//    failure ejects it again for longer, `consecutive_failures` successes
//    reset the multiplier. At most `max_ejected_fraction` of the replicas
//    are ejected at once, and never the last one available.
//  * Failover: a call that fails with a server-health code (or could not
//    connect) is tried on another replica not tried yet in this call, while
//    the call's deadline allows, so one dead server costs a refused
//    connection, not a failed step. The report counts every attempt.
//
// The time for ejections comes from the injected `Clock`; latencies are
// measured with the real clock. Thread-safe when the replicas are: the
// choice and the bookkeeping take one mutex for a few instructions, never
// during a call. Owns the replicas.
//
// Example:
//
//   std::vector<std::unique_ptr<maas::Predictor>> replicas;
//   for (const char* url : {"http://node1:8000", "http://node2:8000"}) {
//     replicas.push_back(*maas::ConnectRemoteModel(url, opts));
//   }
//   maas::ReplicaOptions ro;
//   ro.names = {"node1", "node2"};
//   auto model = maas::ReplicaSetPredictor::Create(std::move(replicas), ro);
//
// Metrics (labels `model`, `endpoint`; when `metrics` is set):
//   maas_endpoint_requests_total{result}  counter  attempts by ok / error
//   maas_endpoint_in_flight               gauge
//   maas_endpoint_ejected                 gauge    1 while ejected
//   maas_endpoint_ejections_total         counter
//   maas_endpoint_latency_seconds         gauge    the peak EWMA
//   maas_endpoint_failovers_total{model}  counter  calls moved to another replica

#ifndef MAAS_ROUTING_REPLICAS_H_
#define MAAS_ROUTING_REPLICAS_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "maas/core/call.h"
#include "maas/core/clock.h"
#include "maas/core/detail/exception.h"
#include "maas/core/predictor.h"
#include "maas/core/status_payload.h"
#include "maas/metrics/registry.h"

namespace maas {

// ReplicaOptions
//
// See the file comment. Defaults: Envoy's 5 consecutive failures and 30 s
// base ejection capped at 300 s, Finagle's 10 s decay; up to half of the
// replicas ejected.
struct ReplicaOptions {
  std::vector<std::string> names;  // one per replica; default "0", "1", ...
  absl::Duration decay = absl::Seconds(10);
  int consecutive_failures = 5;
  absl::Duration base_ejection = absl::Seconds(30);
  absl::Duration max_ejection = absl::Seconds(300);
  double max_ejected_fraction = 0.5;
  bool failover = true;
  std::uint64_t seed = 0;  // 0: from the address of the set
  Clock* clock = &RealClock();
  MetricsRegistry* metrics = nullptr;
  std::string metrics_model;
  std::string label = "replicas";
};

// ReplicaStats
//
// One replica's counters and state.
struct ReplicaStats {
  std::string name;
  std::int64_t calls = 0;      // attempts sent to it
  std::int64_t failures = 0;   // of which failed (any code)
  int in_flight = 0;
  bool ejected = false;
  std::int64_t ejections = 0;
  double latency_seconds = 0;  // peak EWMA; 0 before the first answer
};

// ReplicaSetPredictor
//
// See the file comment.
class ReplicaSetPredictor final : public Predictor {
 public:
  // ReplicaSetPredictor::Create()
  //
  // Fails with `kInvalidArgument` for no replicas, a null one, or a `names`
  // list of another length.
  static absl::StatusOr<std::unique_ptr<ReplicaSetPredictor>> Create(
      std::vector<std::unique_ptr<Predictor>> replicas, ReplicaOptions options = {}) {
    try {
      if (replicas.empty()) return absl::InvalidArgumentError("ReplicaSetPredictor: no replicas");
      for (const auto& r : replicas) {
        if (r == nullptr) return absl::InvalidArgumentError("ReplicaSetPredictor: a replica is null");
      }
      if (!options.names.empty() && options.names.size() != replicas.size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "ReplicaSetPredictor: ", options.names.size(), " names for ", replicas.size(), " replicas"));
      }
      return std::unique_ptr<ReplicaSetPredictor>(
          new ReplicaSetPredictor(std::move(replicas), std::move(options)));
    } catch (...) {
      return detail::CurrentExceptionStatus("ReplicaSetPredictor::Create");
    }
  }

  ~ReplicaSetPredictor() override { registration_.Reset(); }

  // ReplicaSetPredictor::Signature()
  //
  // The first replica's (in order) that can tell it.
  absl::StatusOr<ModelSignature> Signature() override {
    absl::Status last;
    for (auto& r : replicas_) {
      absl::StatusOr<ModelSignature> s = r->predictor->Signature();
      if (s.ok()) return s;
      last = s.status();
    }
    return last;
  }

  absl::string_view label() const override { return options_.label; }

  // ReplicaSetPredictor::stats()
  std::vector<ReplicaStats> stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    const absl::Time now = options_.clock->Now();
    std::vector<ReplicaStats> out;
    for (const auto& r : replicas_) {
      ReplicaStats s;
      s.name = r->name;
      s.calls = r->calls;
      s.failures = r->failures;
      s.in_flight = r->in_flight;
      s.ejected = r->ejected_until > now;
      s.ejections = r->ejections;
      s.latency_seconds = r->cost_seconds;
      out.push_back(std::move(s));
    }
    return out;
  }

  // ReplicaSetPredictor::failovers()
  //
  // Calls that were moved to another replica after a failure.
  std::int64_t failovers() const {
    std::lock_guard<std::mutex> lock(mu_);
    return failovers_;
  }

 protected:
  absl::Status DoPredict(absl::Span<const ConstTensorView> inputs,
                         absl::Span<const TensorView> outputs) override {
    return DoPredictCall(inputs, outputs, CallOptions(), nullptr);
  }

  absl::Status DoPredictCall(absl::Span<const ConstTensorView> inputs,
                             absl::Span<const TensorView> outputs, const CallOptions& call,
                             CallReport* report) override {
    absl::InlinedVector<bool, 8> tried(replicas_.size(), false);
    absl::Status last;
    for (std::size_t attempt = 0; attempt < replicas_.size(); ++attempt) {
      if (attempt > 0 && call.has_deadline() && absl::Now() >= call.deadline) break;
      const std::size_t i = Choose(tried);
      if (i == replicas_.size()) break;  // nothing left to try
      tried[i] = true;
      Replica& r = *replicas_[i];
      CallReport sub;
      const auto t0 = std::chrono::steady_clock::now();
      last = r.predictor->Predict(inputs, outputs, call, &sub);
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      Record(i, last, seconds);
      if (report != nullptr) {
        report->attempts += sub.attempts;
        report->retry_wait += sub.retry_wait;
        report->non_finite = report->non_finite || sub.non_finite;
        report->circuit_open = report->circuit_open || sub.circuit_open;
        if (!last.ok()) report->primary_status = last;
        if (last.ok()) report->served_by = sub.served_by;
      }
      if (last.ok() || !options_.failover || !ServerHealthFailure(last)) return last;
      if (attempt + 1 < replicas_.size()) {
        std::lock_guard<std::mutex> lock(mu_);
        ++failovers_;
      }
    }
    return last.ok() ? absl::UnavailableError(absl::StrCat(label(), ": no replica available")) : last;
  }

 private:
  struct Replica {
    std::unique_ptr<Predictor> predictor;
    std::string name;
    // Under mu_.
    std::int64_t calls = 0, failures = 0;
    int in_flight = 0;
    double cost_seconds = 0;  // peak EWMA of latency; 0 = not measured
    std::chrono::steady_clock::time_point cost_time{};
    int consecutive_failures = 0, consecutive_successes = 0;
    absl::Time ejected_until = absl::InfinitePast();
    bool on_probation = false;  // back from an ejection: one failure ejects again
    std::int64_t ejections = 0;
    int multiplier = 0;
  };

  ReplicaSetPredictor(std::vector<std::unique_ptr<Predictor>> replicas, ReplicaOptions options)
      : options_(std::move(options)) {
    options_.consecutive_failures = std::max(1, options_.consecutive_failures);
    options_.max_ejected_fraction = std::clamp(options_.max_ejected_fraction, 0.0, 1.0);
    for (std::size_t i = 0; i < replicas.size(); ++i) {
      auto r = std::make_unique<Replica>();
      r->predictor = std::move(replicas[i]);
      r->name = options_.names.empty() ? absl::StrCat(i) : options_.names[i];
      replicas_.push_back(std::move(r));
    }
    rng_ = options_.seed != 0 ? options_.seed : reinterpret_cast<std::uintptr_t>(this) | 1;
    if (options_.metrics != nullptr) {
      registration_ = options_.metrics->Add([this](MetricsBuilder& b) { Collect(b); });
    }
  }

  static bool ServerHealthFailure(const absl::Status& s) {
    switch (s.code()) {
      case absl::StatusCode::kUnavailable:
      case absl::StatusCode::kDeadlineExceeded:
      case absl::StatusCode::kInternal:
      case absl::StatusCode::kDataLoss:
        return true;
      case absl::StatusCode::kResourceExhausted:
        return HttpStatusOf(s) == 429;
      default:
        return false;
    }
  }

  std::uint64_t NextRandom() {  // xorshift64*, under mu_
    rng_ ^= rng_ >> 12;
    rng_ ^= rng_ << 25;
    rng_ ^= rng_ >> 27;
    return rng_ * 2685821657736338717ull;
  }

  // Picks a replica not in `tried` by two random choices among the
  // available ones (ejected replicas only when no other is left); marks it
  // in flight. replicas_.size() when every replica was tried.
  std::size_t Choose(absl::Span<const bool> tried) {
    std::lock_guard<std::mutex> lock(mu_);
    const absl::Time now = options_.clock->Now();
    absl::InlinedVector<std::size_t, 8> candidates;
    for (std::size_t i = 0; i < replicas_.size(); ++i) {
      if (!tried[i] && replicas_[i]->ejected_until <= now) candidates.push_back(i);
    }
    if (candidates.empty()) {
      // Every untried replica is ejected: the one back soonest, rather than
      // no answer.
      std::size_t best = replicas_.size();
      for (std::size_t i = 0; i < replicas_.size(); ++i) {
        if (tried[i]) continue;
        if (best == replicas_.size() || replicas_[i]->ejected_until < replicas_[best]->ejected_until) {
          best = i;
        }
      }
      if (best == replicas_.size()) return best;
      candidates.push_back(best);
    }
    std::size_t pick = candidates[0];
    if (candidates.size() > 1) {
      const std::size_t a = NextRandom() % candidates.size();
      std::size_t b = NextRandom() % (candidates.size() - 1);
      if (b >= a) ++b;
      pick = Cost(candidates[b]) < Cost(candidates[a]) ? candidates[b] : candidates[a];
    }
    Replica& r = *replicas_[pick];
    if (r.ejected_until != absl::InfinitePast() && r.ejected_until <= now) {
      r.ejected_until = absl::InfinitePast();  // back from an ejection
      r.on_probation = true;
    }
    ++r.in_flight;
    ++r.calls;
    return pick;
  }

  double Cost(std::size_t i) const {
    const Replica& r = *replicas_[i];
    return DecayedCost(r, std::chrono::steady_clock::now()) * (r.in_flight + 1);
  }

  double DecayedCost(const Replica& r, std::chrono::steady_clock::time_point now) const {
    if (r.cost_seconds == 0) return 0;
    const double dt = std::chrono::duration<double>(now - r.cost_time).count();
    const double tau = absl::ToDoubleSeconds(options_.decay);
    return tau > 0 ? r.cost_seconds * std::exp(-std::max(0.0, dt) / tau) : r.cost_seconds;
  }

  void Record(std::size_t i, const absl::Status& s, double seconds) {
    std::lock_guard<std::mutex> lock(mu_);
    Replica& r = *replicas_[i];
    --r.in_flight;
    const auto now = std::chrono::steady_clock::now();
    // Peak EWMA: a slower answer counts at once, faster ones pull it down
    // with weight 1 - exp(-dt / decay).
    if (r.cost_seconds == 0 || seconds > r.cost_seconds) {
      r.cost_seconds = seconds;
    } else {
      const double tau = absl::ToDoubleSeconds(options_.decay);
      const double dt = std::chrono::duration<double>(now - r.cost_time).count();
      const double w = tau > 0 ? std::exp(-std::max(0.0, dt) / tau) : 0;
      r.cost_seconds = r.cost_seconds * w + seconds * (1 - w);
    }
    r.cost_time = now;
    if (s.ok()) {
      r.consecutive_failures = 0;
      if (++r.consecutive_successes >= options_.consecutive_failures) {
        r.multiplier = 0;
        r.on_probation = false;
      }
      return;
    }
    ++r.failures;
    if (!ServerHealthFailure(s)) return;
    r.consecutive_successes = 0;
    ++r.consecutive_failures;
    if (r.consecutive_failures < options_.consecutive_failures && !r.on_probation) return;
    MaybeEjectLocked(r);
  }

  void MaybeEjectLocked(Replica& r) {
    const absl::Time now = options_.clock->Now();
    if (r.ejected_until > now) return;
    std::size_t available = 0, ejected = 0;
    for (const auto& o : replicas_) (o->ejected_until > now ? ejected : available)++;
    const double limit = options_.max_ejected_fraction * static_cast<double>(replicas_.size());
    if (available <= 1 || static_cast<double>(ejected + 1) > limit + 1e-9) return;  // keep one
    ++r.multiplier;
    ++r.ejections;
    r.ejected_until = now + std::min(options_.max_ejection, options_.base_ejection * r.multiplier);
    r.consecutive_failures = 0;
    r.on_probation = false;
  }

  void Collect(MetricsBuilder& b) const {
    const std::vector<ReplicaStats> st = stats();
    for (const ReplicaStats& s : st) {
      const MetricLabels l{{"model", options_.metrics_model}, {"endpoint", s.name}};
      MetricLabels ok = l, err = l;
      ok.emplace_back("result", "ok");
      err.emplace_back("result", "error");
      b.Counter("maas_endpoint_requests_total", "Attempts sent to each replica, by result.", ok,
                static_cast<double>(s.calls - s.failures - s.in_flight));
      b.Counter("maas_endpoint_requests_total", "Attempts sent to each replica, by result.", err,
                static_cast<double>(s.failures));
      b.Gauge("maas_endpoint_in_flight", "Calls running on each replica.", l, s.in_flight);
      b.Gauge("maas_endpoint_ejected", "1 while a replica is ejected.", l, s.ejected ? 1 : 0);
      b.Counter("maas_endpoint_ejections_total", "Times each replica was ejected.", l,
                static_cast<double>(s.ejections));
      b.Gauge("maas_endpoint_latency_seconds", "Peak-EWMA latency of each replica.", l,
              s.latency_seconds);
    }
    b.Counter("maas_endpoint_failovers_total", "Calls moved to another replica after a failure.",
              {{"model", options_.metrics_model}}, static_cast<double>(failovers()));
  }

  ReplicaOptions options_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  mutable std::mutex mu_;
  std::uint64_t rng_;
  std::int64_t failovers_ = 0;
  MetricsRegistry::Registration registration_;
};

}  // namespace maas

#endif  // MAAS_ROUTING_REPLICAS_H_
