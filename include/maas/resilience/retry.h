// -----------------------------------------------------------------------------
// File: resilience/retry.h
// -----------------------------------------------------------------------------
//
// `maas::RetryingPredictor` retries a wrapped predictor when a second try can
// succeed, within the call's deadline, with capped exponential backoff and
// full jitter, honouring a server's Retry-After, and with a retry budget that
// stops retry storms against a struggling server.
//
// What is retried (everything else is returned at once):
//  * `kUnavailable` (server down, connection reset, HTTP 502/503), except a
//    circuit breaker's refusal and, when `retry_connect_refused` is false, a
//    connection that could not be made at all;
//  * `kResourceExhausted` from HTTP 429 (a size-limit `kResourceExhausted`
//    is not: it would fail again), with the throttling backoff;
//  * `kDeadlineExceeded` of one attempt (its `attempt_timeout`, or the
//    transport's own timeout) while the call's deadline still has room;
//  * `kInternal` (HTTP 500) only when `retry_internal` is set.
// Never retried: `kInvalidArgument`, `kNotFound`, `kUnauthenticated`,
// `kPermissionDenied`, `kDataLoss`, `kFailedPrecondition`, ...
//
// Backoff before retry n (1, 2, ...): uniform in [0, min(initial * 2^(n-1),
// max)] ("full jitter"); `throttle_*` for 429. A server's Retry-After
// replaces it when longer, up to `max_retry_after`. A wait that would pass
// the call's deadline is not taken: the last failure is returned at once
// (a fallback then still has the rest of the budget).
//
// Retry budget (gRPC's retryThrottling): a token bucket per
// RetryingPredictor, `budget_max_tokens` full at start; every retryable
// failure takes one token, every success gives back `budget_token_ratio`;
// retries happen only while more than half the tokens are left. With the
// defaults (10, 0.1) retries stop when failures exceed ~10 % of calls.
//
// The outputs are written only by the attempt that succeeds (every
// predictor leaves them untouched when it fails). Thread-safe when the
// wrapped predictor is; time comes from the injected `Clock`.
//
// Example:
//
//   maas::RetryPolicy policy;
//   policy.max_attempts = 3;
//   policy.attempt_timeout = absl::Milliseconds(200);
//   auto retrying = std::make_unique<maas::RetryingPredictor>(std::move(remote), policy);
//   absl::Status s = retrying->Predict({in}, {out},
//                                      maas::CallOptions::Timeout(absl::Seconds(1)));

#ifndef MAAS_RESILIENCE_RETRY_H_
#define MAAS_RESILIENCE_RETRY_H_

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
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

// RetryPolicy
//
// See the file comment. Defaults follow AWS's standard mode and gRPC:
// 3 attempts (at most 5), 50 ms initial / 1 s maximum backoff, 1 s / 20 s for
// 429 throttling, budget 10 tokens with ratio 0.1.
struct RetryPolicy {
  int max_attempts = 3;
  absl::Duration initial_backoff = absl::Milliseconds(50);
  absl::Duration max_backoff = absl::Seconds(1);
  absl::Duration throttle_initial_backoff = absl::Seconds(1);
  absl::Duration throttle_max_backoff = absl::Seconds(20);
  bool honor_retry_after = true;
  absl::Duration max_retry_after = absl::Seconds(30);
  absl::Duration attempt_timeout = absl::InfiniteDuration();
  bool retry_connect_refused = true;
  bool retry_internal = false;
  double budget_max_tokens = 10;
  double budget_token_ratio = 0.1;
  std::uint64_t seed = 0;  // jitter; 0 = from std::random_device
};

// RetryStats
//
// Counters of a RetryingPredictor since construction.
struct RetryStats {
  std::int64_t calls = 0;
  std::int64_t retries = 0;
  std::int64_t retries_throttled = 0;  // retries the budget refused
};

// RetryingPredictor
//
// See the file comment. Owns the wrapped predictor.
class RetryingPredictor final : public Predictor {
 public:
  static constexpr int kMaxAttemptsCap = 5;

  // `inner` must not be null; `clock` (not owned) must outlive this.
  RetryingPredictor(std::unique_ptr<Predictor> inner, RetryPolicy policy,
                    Clock* clock = &RealClock())
      : inner_(std::move(inner)),
        policy_(std::move(policy)),
        clock_(clock),
        tokens_milli_(static_cast<std::int64_t>(policy_.budget_max_tokens * 1000)),
        rng_(policy_.seed != 0 ? policy_.seed : std::random_device{}()) {
    policy_.max_attempts = std::clamp(policy_.max_attempts, 1, kMaxAttemptsCap);
  }

  absl::StatusOr<ModelSignature> Signature() override { return inner_->Signature(); }

  // RetryingPredictor::label()
  //
  // The wrapped predictor's label.
  absl::string_view label() const override { return inner_->label(); }

  // RetryingPredictor::stats()
  RetryStats stats() const {
    RetryStats s;
    s.calls = calls_.load(std::memory_order_relaxed);
    s.retries = retries_.load(std::memory_order_relaxed);
    s.retries_throttled = throttled_.load(std::memory_order_relaxed);
    return s;
  }

  // RetryingPredictor::RetryDelay()
  //
  // The backoff before retry number `retry` (1 = the first retry) after a
  // failure `s`, before the deadline check: full jitter over the capped
  // exponential, or the server's Retry-After when longer; nullopt when the
  // server asked for more than `max_retry_after`. Public for tests.
  std::optional<absl::Duration> RetryDelay(int retry, const absl::Status& s) ABSL_LOCKS_EXCLUDED(mu_) {
    const bool throttled = s.code() == absl::StatusCode::kResourceExhausted;
    const absl::Duration initial = throttled ? policy_.throttle_initial_backoff : policy_.initial_backoff;
    const absl::Duration cap = throttled ? policy_.throttle_max_backoff : policy_.max_backoff;
    absl::Duration ceiling = initial;
    for (int i = 1; i < retry && ceiling < cap; ++i) ceiling *= 2;
    ceiling = std::min(ceiling, cap);
    double u;
    {
      detail::MutexLock lock(&mu_);
      u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
    }
    absl::Duration wait = ceiling * u;
    if (policy_.honor_retry_after) {
      if (std::optional<absl::Duration> ra = RetryAfterOf(s)) {
        if (*ra > policy_.max_retry_after) return std::nullopt;
        wait = std::max(wait, *ra);
      }
    }
    return wait;
  }

 protected:
  absl::Status DoPredict(absl::Span<const ConstTensorView> inputs,
                         absl::Span<const TensorView> outputs) override {
    return DoPredictCall(inputs, outputs, CallOptions(), nullptr);
  }

  absl::Status DoPredictCall(absl::Span<const ConstTensorView> inputs,
                             absl::Span<const TensorView> outputs, const CallOptions& call,
                             CallReport* report) override {
    calls_.fetch_add(1, std::memory_order_relaxed);
    absl::Status last;
    for (int attempt = 1;; ++attempt) {
      const absl::Time now = clock_->Now();
      if (now >= call.deadline) {
        return last.ok() ? DeadlinePassedError(label()) : last;
      }
      CallOptions attempt_options;
      attempt_options.deadline = policy_.attempt_timeout == absl::InfiniteDuration()
                                     ? call.deadline
                                     : std::min(call.deadline, now + policy_.attempt_timeout);
      CallReport sub;
      last = inner_->Predict(inputs, outputs, attempt_options, &sub);
      detail::MergeReport(sub, report);
      if (last.ok()) {
        Refund();
        if (report != nullptr) report->primary_status = absl::OkStatus();
        return last;
      }
      if (report != nullptr) report->primary_status = last;
      if (!Retryable(last, call.deadline)) return last;
      Spend();
      if (attempt >= policy_.max_attempts) return last;
      if (!BudgetAllowsRetry()) {
        throttled_.fetch_add(1, std::memory_order_relaxed);
        return last;
      }
      const std::optional<absl::Duration> wait = RetryDelay(attempt, last);
      if (!wait.has_value()) return last;  // the server asked for too long a pause
      const absl::Time wake = clock_->Now() + *wait;
      if (wake >= call.deadline) return last;  // no time left for another try
      clock_->SleepUntil(wake);
      if (report != nullptr) report->retry_wait += *wait;
      retries_.fetch_add(1, std::memory_order_relaxed);
    }
  }

 private:
  bool Retryable(const absl::Status& s, absl::Time deadline) {
    switch (s.code()) {
      case absl::StatusCode::kUnavailable:
        if (IsCircuitOpen(s)) return false;
        return policy_.retry_connect_refused || !IsConnectRefused(s);
      case absl::StatusCode::kResourceExhausted:
        return HttpStatusOf(s) == 429;
      case absl::StatusCode::kDeadlineExceeded:
        return clock_->Now() < deadline;  // the attempt's own timeout; time left
      case absl::StatusCode::kInternal:
        return policy_.retry_internal;
      default:
        return false;
    }
  }

  void Spend() { AddTokens(-1000); }
  void Refund() {
    AddTokens(static_cast<std::int64_t>(policy_.budget_token_ratio * 1000));
  }
  void AddTokens(std::int64_t delta) {
    const auto max = static_cast<std::int64_t>(policy_.budget_max_tokens * 1000);
    std::int64_t cur = tokens_milli_.load(std::memory_order_relaxed);
    while (!tokens_milli_.compare_exchange_weak(cur, std::clamp<std::int64_t>(cur + delta, 0, max),
                                                std::memory_order_relaxed)) {
    }
  }
  bool BudgetAllowsRetry() const {
    return tokens_milli_.load(std::memory_order_relaxed) * 2 >
           static_cast<std::int64_t>(policy_.budget_max_tokens * 1000);
  }

  const std::unique_ptr<Predictor> inner_;
  RetryPolicy policy_;
  Clock* const clock_;
  std::atomic<std::int64_t> tokens_milli_;
  std::atomic<std::int64_t> calls_{0}, retries_{0}, throttled_{0};
  detail::Mutex mu_;
  std::mt19937_64 rng_ ABSL_GUARDED_BY(mu_);
};

}  // namespace maas

#endif  // MAAS_RESILIENCE_RETRY_H_
