// -----------------------------------------------------------------------------
// File: routing/router.h
// -----------------------------------------------------------------------------
//
// `maas::LatencyRouter` chooses, for every call, between two predictors of
// the same model — typically a local network and a remote server — the one
// expected to answer sooner for this call's batch size: small batches
// in-process, big batches to a server with a GPU (or more cores), with the
// crossover measured live rather than configured.
//
// Cost model: each side's wall time for a call of b rows is modelled as
// t(b) = per_call + per_row * b, fitted to its successful calls by
// exponentially weighted least squares (every observation multiplies the
// earlier ones' weight by `forgetting`, 0.95 by default: an EWMA over about
// 20 calls of each side), so the estimates follow a server that slows down
// or recovers. Until a side has `warmup_calls` observations the router
// alternates; while it has seen only one batch size, its time is taken as
// per-row (the cautious guess for bigger batches). Negative fits are
// clamped to 0.
//
// Each call goes to the side with the lower predicted time, except:
//  * exploration: an exact `explore_fraction` of the calls goes to the other
//    side, so its estimate stays current (a remote that recovered is
//    noticed);
//  * deadline-aware: when the call's remaining deadline is shorter than the
//    chosen side's prediction and the other side is predicted to make it,
//    the other side takes the call (in effect: no exploration of a side
//    that would miss the deadline);
//  * fallback: when the chosen side fails with a server-health code
//    (kUnavailable, kDeadlineExceeded, kInternal, kDataLoss, HTTP 429) the
//    other side is tried in the same call (the report says `fell_back`).
//
// `Predicted(rows)` and `CrossoverRows()` expose the model; with `metrics`
// the router exports `maas_router_calls_total{side}`,
// `maas_router_cost_seconds{side,term}` (term = per_call, per_row) and
// `maas_router_crossover_rows`.
//
// Thread-safe when both predictors are (one mutex around the few flops of
// the model; never held during a call). Owns both.
//
// Example:
//
//   auto router = std::make_unique<maas::LatencyRouter>(std::move(local), std::move(remote));
//   router->Predict({in}, {out});   // batch 1: local; batch 4096: remote (if faster there)

#ifndef MAAS_ROUTING_ROUTER_H_
#define MAAS_ROUTING_ROUTER_H_

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "maas/core/call.h"
#include "maas/core/clock.h"
#include "maas/core/predictor.h"
#include "maas/core/status_payload.h"
#include "maas/metrics/registry.h"

namespace maas {

// RouterOptions
//
// See the file comment. `names` label the two sides in metrics.
struct RouterOptions {
  double forgetting = 0.95;
  int warmup_calls = 3;
  double explore_fraction = 0.02;
  bool deadline_aware = true;
  bool fallback = true;
  std::array<std::string, 2> names = {"local", "remote"};
  Clock* clock = &RealClock();  // times the calls (tests inject a fake one)
  MetricsRegistry* metrics = nullptr;
  std::string metrics_model;
  std::string label = "router";
};

// RouterCost
//
// One side's fitted cost model: seconds = per_call + per_row * rows.
struct RouterCost {
  double per_call = 0;
  double per_row = 0;
  std::int64_t observations = 0;
  std::int64_t calls = 0;  // calls routed to this side (incl. fallbacks)

  double Seconds(std::int64_t rows) const { return per_call + per_row * static_cast<double>(rows); }
};

// LatencyRouter
//
// See the file comment. Side 0 is `first` (the local model, say), side 1
// `second`.
class LatencyRouter final : public Predictor {
 public:
  // Neither predictor may be null.
  LatencyRouter(std::unique_ptr<Predictor> first, std::unique_ptr<Predictor> second,
                RouterOptions options = {})
      : options_(Sanitized(std::move(options))) {
    sides_[0].predictor = std::move(first);
    sides_[1].predictor = std::move(second);
    if (options_.metrics != nullptr) {
      registration_ = options_.metrics->Add([this](MetricsBuilder& b) { Collect(b); });
    }
  }

  ~LatencyRouter() override { registration_.Reset(); }

  // LatencyRouter::Signature()
  //
  // The first side's, else the second's.
  absl::StatusOr<ModelSignature> Signature() override {
    absl::StatusOr<ModelSignature> s = sides_[0].predictor->Signature();
    return s.ok() ? s : sides_[1].predictor->Signature();
  }

  absl::string_view label() const override { return options_.label; }

  // LatencyRouter::Cost()
  //
  // Side `side`'s (0 or 1) fitted model now.
  RouterCost Cost(int side) const {
    std::lock_guard<std::mutex> lock(mu_);
    return CostLocked(sides_[side]);
  }

  // LatencyRouter::Choose()
  //
  // The side (0 or 1) the model prefers for `rows` rows, before exploration
  // and deadlines.
  int Choose(std::int64_t rows) const {
    std::lock_guard<std::mutex> lock(mu_);
    return PreferredLocked(rows);
  }

  // LatencyRouter::CrossoverRows()
  //
  // The batch size at which both sides are predicted equal (above it the
  // side with the smaller per-row cost wins), or -1 when the lines do not
  // cross at a positive size.
  double CrossoverRows() const {
    std::lock_guard<std::mutex> lock(mu_);
    const RouterCost a = CostLocked(sides_[0]), b = CostLocked(sides_[1]);
    const double dr = a.per_row - b.per_row;
    if (dr == 0) return -1;
    const double x = (b.per_call - a.per_call) / dr;
    return x > 0 ? x : -1;
  }

 protected:
  absl::Status DoPredict(absl::Span<const ConstTensorView> inputs,
                         absl::Span<const TensorView> outputs) override {
    return DoPredictCall(inputs, outputs, CallOptions(), nullptr);
  }

  absl::Status DoPredictCall(absl::Span<const ConstTensorView> inputs,
                             absl::Span<const TensorView> outputs, const CallOptions& call,
                             CallReport* report) override {
    const std::int64_t rows =
        !inputs.empty() && inputs[0].shape().rank() > 0 ? inputs[0].shape().dim(0) : 1;
    const int side = Route(rows, call);
    absl::Status s = Run(side, rows, inputs, outputs, call, report);
    if (s.ok() || !options_.fallback || !ServerHealthFailure(s)) return s;
    if (call.has_deadline() && absl::Now() >= call.deadline) return s;
    const absl::Status first = s;
    CallReport sub;
    s = Run(1 - side, rows, inputs, outputs, call, report != nullptr ? &sub : nullptr);
    if (report != nullptr) {
      const int attempts = report->attempts;
      *report = sub;
      report->attempts += attempts;
      report->fell_back = true;
      report->primary_status = first;
    }
    return s;
  }

 private:
  struct Side {
    std::unique_ptr<Predictor> predictor;
    // Exponentially weighted sums over observations (rows b, seconds t),
    // under mu_.
    double s0 = 0, s1 = 0, s2 = 0, t0 = 0, t1 = 0;
    std::int64_t observations = 0;
    std::int64_t calls = 0;
    std::int64_t min_rows = std::numeric_limits<std::int64_t>::max(), max_rows = 0;
  };

  static RouterOptions Sanitized(RouterOptions o) {
    o.forgetting = std::clamp(o.forgetting, 0.0, 1.0);
    o.warmup_calls = std::max(1, o.warmup_calls);
    o.explore_fraction = std::clamp(o.explore_fraction, 0.0, 0.5);
    return o;
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

  RouterCost CostLocked(const Side& s) const {
    RouterCost c;
    c.observations = s.observations;
    c.calls = s.calls;
    if (s.observations == 0 || s.s0 <= 0) return c;
    const double det = s.s0 * s.s2 - s.s1 * s.s1;
    if (s.min_rows == s.max_rows || det <= 1e-12 * s.s0 * s.s2) {
      c.per_row = s.s1 > 0 ? s.t0 / s.s1 : 0;  // one batch size seen: all per row
      return c;
    }
    c.per_row = (s.s0 * s.t1 - s.s1 * s.t0) / det;
    c.per_call = (s.t0 - c.per_row * s.s1) / s.s0;
    if (c.per_row < 0) {
      c.per_row = 0;
      c.per_call = s.t0 / s.s0;
    } else if (c.per_call < 0) {
      c.per_call = 0;
      c.per_row = s.t1 / s.s2;
    }
    return c;
  }

  int PreferredLocked(std::int64_t rows) const {
    for (int i = 0; i < 2; ++i) {
      if (sides_[i].observations < options_.warmup_calls) return i;
    }
    return CostLocked(sides_[1]).Seconds(rows) < CostLocked(sides_[0]).Seconds(rows) ? 1 : 0;
  }

  int Route(std::int64_t rows, const CallOptions& call) {
    std::lock_guard<std::mutex> lock(mu_);
    int side = PreferredLocked(rows);
    const bool warm = sides_[0].observations >= options_.warmup_calls &&
                      sides_[1].observations >= options_.warmup_calls;
    if (warm && options_.explore_fraction > 0) {
      const auto n = static_cast<double>(explore_counter_++);
      if (std::floor((n + 1) * options_.explore_fraction) > std::floor(n * options_.explore_fraction)) {
        side = 1 - side;
      }
    }
    if (warm && options_.deadline_aware && call.has_deadline()) {
      const double left = absl::ToDoubleSeconds(call.deadline - absl::Now());
      const double mine = CostLocked(sides_[side]).Seconds(rows);
      const double other = CostLocked(sides_[1 - side]).Seconds(rows);
      if (mine > left && other <= left) side = 1 - side;
    }
    ++sides_[side].calls;
    return side;
  }

  absl::Status Run(int side, std::int64_t rows, absl::Span<const ConstTensorView> inputs,
                   absl::Span<const TensorView> outputs, const CallOptions& call, CallReport* report) {
    const absl::Time t0 = options_.clock->Now();
    absl::Status s = sides_[side].predictor->Predict(inputs, outputs, call, report);
    if (!s.ok()) return s;
    const double t = absl::ToDoubleSeconds(options_.clock->Now() - t0);
    std::lock_guard<std::mutex> lock(mu_);
    Side& d = sides_[side];
    const double f = options_.forgetting, b = static_cast<double>(rows);
    d.s0 = d.s0 * f + 1;
    d.s1 = d.s1 * f + b;
    d.s2 = d.s2 * f + b * b;
    d.t0 = d.t0 * f + t;
    d.t1 = d.t1 * f + b * t;
    ++d.observations;
    d.min_rows = std::min(d.min_rows, rows);
    d.max_rows = std::max(d.max_rows, rows);
    return s;
  }

  void Collect(MetricsBuilder& b) const {
    RouterCost c[2];
    {
      std::lock_guard<std::mutex> lock(mu_);
      c[0] = CostLocked(sides_[0]);
      c[1] = CostLocked(sides_[1]);
    }
    for (int i = 0; i < 2; ++i) {
      const MetricLabels l{{"model", options_.metrics_model}, {"side", options_.names[i]}};
      b.Counter("maas_router_calls_total", "Calls the router sent to each side.", l,
                static_cast<double>(c[i].calls));
      MetricLabels pc = l, pr = l;
      pc.emplace_back("term", "per_call");
      pr.emplace_back("term", "per_row");
      b.Gauge("maas_router_cost_seconds", "Fitted cost of each side: per call and per row.", pc,
              c[i].per_call);
      b.Gauge("maas_router_cost_seconds", "Fitted cost of each side: per call and per row.", pr,
              c[i].per_row);
    }
    b.Gauge("maas_router_crossover_rows", "Batch size at which both sides cost the same (-1: none).",
            {{"model", options_.metrics_model}}, CrossoverRows());
  }

  const RouterOptions options_;
  std::array<Side, 2> sides_;
  mutable std::mutex mu_;
  std::uint64_t explore_counter_ = 0;
  MetricsRegistry::Registration registration_;
};

}  // namespace maas

#endif  // MAAS_ROUTING_ROUTER_H_
