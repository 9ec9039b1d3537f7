// -----------------------------------------------------------------------------
// File: resilience/circuit_breaker.h
// -----------------------------------------------------------------------------
//
// `maas::CircuitBreakerPredictor` stops calling a backend that keeps failing,
// so a simulation does not pay a timeout per step while a server is down,
// and probes it again later.
//
// States (transitions happen lazily, on calls: there is no timer thread; the
// time comes from the injected `Clock`):
//  * closed: calls pass; each result is recorded in a window of the last
//    `window_size` calls. When at least `minimum_calls` are recorded and the
//    failure rate is >= `failure_rate_threshold`, the circuit opens;
//  * open: calls are refused at once with `CircuitOpenError()`
//    (`kUnavailable`, `IsCircuitOpen()` true; a fallback serves them) until
//    the open period has passed; the period is `open_duration` and grows by
//    `open_duration_multiplier` each time a probe fails, up to
//    `max_open_duration`;
//  * half-open: `half_open_probes` calls go through as probes (more are
//    refused); if all succeed the circuit closes (window and period reset),
//    if one fails it opens again.
// Failures are the server-health codes: `kUnavailable`, `kDeadlineExceeded`,
// `kResourceExhausted` from HTTP 429, `kInternal` and `kDataLoss`. Caller
// errors (`kInvalidArgument`, `kNotFound`, ...) count as neither failure nor
// success. Defaults follow Hystrix/resilience4j scaled to one rank's call
// rate: 50 %, window 20, minimum 10, 5 s doubling to 60 s, 3 probes.
//
// Thread-safe when the wrapped predictor is: one mutex, held for a few
// instructions before and after each call (never during it).
//
// Example:
//
//   maas::CircuitBreakerOptions o;
//   o.open_duration = absl::Seconds(2);
//   auto breaker = std::make_unique<maas::CircuitBreakerPredictor>(std::move(remote), o);

#ifndef MAAS_RESILIENCE_CIRCUIT_BREAKER_H_
#define MAAS_RESILIENCE_CIRCUIT_BREAKER_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "maas/core/call.h"
#include "maas/core/clock.h"
#include "maas/core/detail/mutex.h"
#include "maas/core/predictor.h"
#include "maas/core/status_payload.h"
#include "maas/resilience/detail/views.h"

namespace maas {

// CircuitState
enum class CircuitState { kClosed = 0, kOpen = 1, kHalfOpen = 2 };

// CircuitStateName()
//
// "closed", "open", "half_open".
inline absl::string_view CircuitStateName(CircuitState s) {
  switch (s) {
    case CircuitState::kClosed: return "closed";
    case CircuitState::kOpen: return "open";
    case CircuitState::kHalfOpen: return "half_open";
  }
  return "unknown";
}

// CircuitBreakerOptions
//
// See the file comment.
struct CircuitBreakerOptions {
  double failure_rate_threshold = 0.5;
  int window_size = 20;
  int minimum_calls = 10;
  absl::Duration open_duration = absl::Seconds(5);
  double open_duration_multiplier = 2.0;
  absl::Duration max_open_duration = absl::Seconds(60);
  int half_open_probes = 3;
};

// CircuitBreakerStats
//
// Counters of a breaker since construction, and its state now.
struct CircuitBreakerStats {
  CircuitState state = CircuitState::kClosed;
  std::int64_t rejected = 0;         // calls refused while open
  std::int64_t opened = 0;           // transitions to open
  std::int64_t half_opened = 0;      // transitions to half-open
  std::int64_t closed = 0;           // transitions back to closed
};

// CircuitBreakerPredictor
//
// See the file comment. Owns the wrapped predictor.
class CircuitBreakerPredictor final : public Predictor {
 public:
  // `inner` must not be null; `clock` (not owned) must outlive this.
  CircuitBreakerPredictor(std::unique_ptr<Predictor> inner, CircuitBreakerOptions options = {},
                          Clock* clock = &RealClock())
      : inner_(std::move(inner)), options_(Sanitized(std::move(options))), clock_(clock),
        open_error_(CircuitOpenError(absl::StrCat(
            inner_->label(), ": circuit open after repeated failures; not called"))),
        open_period_(options_.open_duration),
        window_(static_cast<std::size_t>(options_.window_size), kEmpty) {}

  absl::StatusOr<ModelSignature> Signature() override { return inner_->Signature(); }

  // CircuitBreakerPredictor::label()
  //
  // The wrapped predictor's label.
  absl::string_view label() const override { return inner_->label(); }

  // CircuitBreakerPredictor::state() / stats()
  //
  // The state as of the last call (an open circuit whose period has passed
  // shows as open until the next call).
  CircuitState state() const ABSL_LOCKS_EXCLUDED(mu_) {
    detail::MutexLock lock(&mu_);
    return state_;
  }
  CircuitBreakerStats stats() const ABSL_LOCKS_EXCLUDED(mu_) {
    detail::MutexLock lock(&mu_);
    CircuitBreakerStats s = stats_;
    s.state = state_;
    return s;
  }

 protected:
  absl::Status DoPredict(absl::Span<const ConstTensorView> inputs,
                         absl::Span<const TensorView> outputs) override {
    return DoPredictCall(inputs, outputs, CallOptions(), nullptr);
  }

  absl::Status DoPredictCall(absl::Span<const ConstTensorView> inputs,
                             absl::Span<const TensorView> outputs, const CallOptions& call,
                             CallReport* report) override {
    bool probe = false;
    if (!Admit(&probe)) {
      if (report != nullptr) report->circuit_open = true;
      return open_error_;  // built once: refusing costs no allocation
    }
    CallReport sub;
    absl::Status s = inner_->Predict(inputs, outputs, call, &sub);
    detail::MergeReport(sub, report);
    Record(s, probe);
    return s;
  }

 private:
  static constexpr signed char kEmpty = -1;

  static CircuitBreakerOptions Sanitized(CircuitBreakerOptions o) {
    o.window_size = std::max(1, o.window_size);
    o.minimum_calls = std::clamp(o.minimum_calls, 1, o.window_size);
    o.half_open_probes = std::max(1, o.half_open_probes);
    o.open_duration_multiplier = std::max(1.0, o.open_duration_multiplier);
    return o;
  }

  // Failure, success, or neither (-1).
  static int Outcome(const absl::Status& s) {
    if (s.ok()) return 0;
    switch (s.code()) {
      case absl::StatusCode::kUnavailable:
      case absl::StatusCode::kDeadlineExceeded:
      case absl::StatusCode::kInternal:
      case absl::StatusCode::kDataLoss:
        return 1;
      case absl::StatusCode::kResourceExhausted:
        return HttpStatusOf(s) == 429 ? 1 : -1;
      default:
        return -1;
    }
  }

  bool Admit(bool* probe) ABSL_LOCKS_EXCLUDED(mu_) {
    detail::MutexLock lock(&mu_);
    if (state_ == CircuitState::kOpen) {
      if (clock_->Now() < open_until_) {
        ++stats_.rejected;
        return false;
      }
      state_ = CircuitState::kHalfOpen;
      ++stats_.half_opened;
      probes_started_ = probes_succeeded_ = 0;
    }
    if (state_ == CircuitState::kHalfOpen) {
      if (probes_started_ >= options_.half_open_probes) {
        ++stats_.rejected;
        return false;
      }
      ++probes_started_;
      *probe = true;
    }
    return true;
  }

  void Record(const absl::Status& s, bool probe) ABSL_LOCKS_EXCLUDED(mu_) {
    const int outcome = Outcome(s);
    detail::MutexLock lock(&mu_);
    if (probe) {
      if (state_ != CircuitState::kHalfOpen) return;  // another probe decided
      if (outcome == 1) {
        open_period_ = std::min(options_.max_open_duration,
                                open_period_ * options_.open_duration_multiplier);
        OpenLocked();
      } else if (++probes_succeeded_ >= options_.half_open_probes) {
        state_ = CircuitState::kClosed;
        ++stats_.closed;
        open_period_ = options_.open_duration;
        std::fill(window_.begin(), window_.end(), kEmpty);
        recorded_ = failures_ = 0;
      }
      return;
    }
    if (state_ != CircuitState::kClosed || outcome < 0) return;  // late result, or neutral
    signed char& slot = window_[next_];
    next_ = (next_ + 1) % window_.size();
    if (slot == kEmpty) {
      ++recorded_;
    } else {
      failures_ -= slot;
    }
    slot = static_cast<signed char>(outcome);
    failures_ += outcome;
    if (recorded_ >= options_.minimum_calls &&
        static_cast<double>(failures_) >= options_.failure_rate_threshold * recorded_) {
      OpenLocked();
    }
  }

  void OpenLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    state_ = CircuitState::kOpen;
    open_until_ = clock_->Now() + open_period_;
    ++stats_.opened;
  }

  const std::unique_ptr<Predictor> inner_;
  const CircuitBreakerOptions options_;
  Clock* const clock_;
  const absl::Status open_error_;
  mutable detail::Mutex mu_;
  CircuitState state_ ABSL_GUARDED_BY(mu_) = CircuitState::kClosed;
  absl::Duration open_period_ ABSL_GUARDED_BY(mu_);
  absl::Time open_until_ ABSL_GUARDED_BY(mu_);
  std::vector<signed char> window_ ABSL_GUARDED_BY(mu_);  // 1 failure, 0 success, -1 empty
  std::size_t next_ ABSL_GUARDED_BY(mu_) = 0;
  int recorded_ ABSL_GUARDED_BY(mu_) = 0;
  int failures_ ABSL_GUARDED_BY(mu_) = 0;
  int probes_started_ ABSL_GUARDED_BY(mu_) = 0;
  int probes_succeeded_ ABSL_GUARDED_BY(mu_) = 0;
  CircuitBreakerStats stats_ ABSL_GUARDED_BY(mu_);
};

}  // namespace maas

#endif  // MAAS_RESILIENCE_CIRCUIT_BREAKER_H_
