// RetryingPredictor on a scripted predictor and a fake clock: what is
// retried and what never is, backoff bounds and jitter, Retry-After, the
// deadline spent across attempts, the retry budget, outputs and the report.
#include "maas/resilience/retry.h"

#include <algorithm>
#include <array>
#include <memory>
#include <vector>

#include "doctest/doctest.h"
#include "maas/testing/fake_clock.h"
#include "resilience/scripted_predictor.h"
#include "testing/status_doctest.h"

namespace {

using maas_test::ScriptedPredictor;

struct Rig {
  maas::testing::FakeClock clock;
  ScriptedPredictor* inner = nullptr;
  std::unique_ptr<maas::RetryingPredictor> retry;
  std::array<float, 2> x = {0.5f, 0};
  std::array<float, 3> y = {-7, -7, -7};

  explicit Rig(maas::RetryPolicy policy = {}) {
    if (policy.seed == 0) policy.seed = 42;
    auto p = std::make_unique<ScriptedPredictor>("remote");
    inner = p.get();
    retry = std::make_unique<maas::RetryingPredictor>(std::move(p), policy, &clock);
  }
  absl::Status Call(maas::CallOptions o = {}, maas::CallReport* r = nullptr) {
    return static_cast<maas::Predictor&>(*retry).Predict(
        {maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 2})},
        {maas::TensorView("y", absl::MakeSpan(y), {1, 3})}, o, r);
  }
  bool Untouched() const { return y[0] == -7 && y[1] == -7 && y[2] == -7; }
};

}  // namespace

TEST_SUITE("RetryingPredictor") {

TEST_CASE("retries kUnavailable up to max_attempts, then returns the last error with outputs untouched") {
  Rig rig;
  rig.inner->Default(absl::UnavailableError("down"));
  maas::CallReport r;
  absl::Status s = rig.Call({}, &r);
  CHECK(s.code() == absl::StatusCode::kUnavailable);
  CHECK(rig.inner->calls() == 3);
  CHECK(rig.Untouched());
  CHECK(r.attempts == 3);
  CHECK(r.primary_status.code() == absl::StatusCode::kUnavailable);
  CHECK(r.served_by.empty());
  CHECK(rig.clock.sleeps().size() == 2);
  CHECK(rig.retry->stats().retries == 2);
}

TEST_CASE("a failure then a success: outputs from the success, report counts the attempts and the wait") {
  Rig rig;
  rig.inner->Script({absl::UnavailableError("blip")});
  maas::CallReport r;
  REQUIRE(rig.Call({}, &r).ok());
  CHECK(rig.y[0] == doctest::Approx(1.5));
  CHECK(r.attempts == 2);
  CHECK(r.served_by == "remote");
  CHECK(r.primary_status.ok());
  CHECK(r.retry_wait == rig.clock.sleeps()[0]);
}

TEST_CASE("codes that cannot succeed on a second try are never retried") {
  for (absl::StatusCode code :
       {absl::StatusCode::kInvalidArgument, absl::StatusCode::kNotFound,
        absl::StatusCode::kUnauthenticated, absl::StatusCode::kPermissionDenied,
        absl::StatusCode::kDataLoss, absl::StatusCode::kFailedPrecondition,
        absl::StatusCode::kUnimplemented, absl::StatusCode::kInternal}) {
    CAPTURE(code);
    Rig rig;
    rig.inner->Default(absl::Status(code, "no"));
    CHECK(rig.Call().code() == code);
    CHECK(rig.inner->calls() == 1);
    CHECK(rig.clock.sleeps().empty());
  }
  // kResourceExhausted without HTTP 429 (a size limit): not retried.
  Rig rig;
  rig.inner->Default(absl::ResourceExhaustedError("reply exceeds the size limit"));
  CHECK(rig.Call().code() == absl::StatusCode::kResourceExhausted);
  CHECK(rig.inner->calls() == 1);
}

TEST_CASE("HTTP 500 is retried only when retry_internal is set") {
  maas::RetryPolicy p;
  p.retry_internal = true;
  Rig rig(p);
  rig.inner->Default(maas_test::HttpFailure(absl::StatusCode::kInternal, 500));
  CHECK(rig.Call().code() == absl::StatusCode::kInternal);
  CHECK(rig.inner->calls() == 3);
}

TEST_CASE("a circuit breaker's refusal is never retried; refused connections only when asked") {
  Rig rig;
  rig.inner->Default(maas::CircuitOpenError("open"));
  CHECK(rig.Call().code() == absl::StatusCode::kUnavailable);
  CHECK(rig.inner->calls() == 1);
  maas::RetryPolicy p;
  p.retry_connect_refused = false;
  Rig rig2(p);
  absl::Status refused = absl::UnavailableError("cannot connect");
  maas::MarkConnectRefused(&refused);
  rig2.inner->Default(refused);
  CHECK(rig2.Call().code() == absl::StatusCode::kUnavailable);
  CHECK(rig2.inner->calls() == 1);
}

TEST_CASE("backoff: full jitter within [0, min(initial * 2^(n-1), max)], spread over the range") {
  maas::RetryPolicy p;
  p.initial_backoff = absl::Milliseconds(100);
  p.max_backoff = absl::Milliseconds(300);
  Rig rig(p);
  const absl::Status fail = absl::UnavailableError("x");
  for (int retry = 1; retry <= 4; ++retry) {
    const absl::Duration cap = std::min(absl::Milliseconds(100) * (1 << (retry - 1)), absl::Milliseconds(300));
    absl::Duration lo = absl::InfiniteDuration(), hi = absl::ZeroDuration(), sum;
    const int n = 2000;
    for (int i = 0; i < n; ++i) {
      const absl::Duration d = *rig.retry->RetryDelay(retry, fail);
      CHECK(d >= absl::ZeroDuration());
      CHECK(d <= cap);
      lo = std::min(lo, d);
      hi = std::max(hi, d);
      sum += d;
    }
    // Uniform on [0, cap]: the extremes come close to both ends, the mean is
    // cap / 2 (standard error cap / sqrt(12 n) ~ 0.6 % of cap).
    CHECK(lo < cap * 0.01);
    CHECK(hi > cap * 0.99);
    CHECK(std::abs(absl::FDivDuration(sum / n, cap) - 0.5) < 0.03);
  }
}

TEST_CASE("429 backs off on the throttling scale and honours Retry-After") {
  maas::RetryPolicy p;
  p.throttle_initial_backoff = absl::Seconds(1);
  Rig rig(p);
  const absl::Status throttled = maas_test::HttpFailure(absl::StatusCode::kResourceExhausted, 429);
  const absl::Duration d = *rig.retry->RetryDelay(1, throttled);
  CHECK(d <= absl::Seconds(1));
  const absl::Status with_ra =
      maas_test::HttpFailure(absl::StatusCode::kResourceExhausted, 429, absl::Seconds(3));
  CHECK(*rig.retry->RetryDelay(1, with_ra) == absl::Seconds(3));
  // A Retry-After longer than max_retry_after: no retry at all.
  const absl::Status too_long =
      maas_test::HttpFailure(absl::StatusCode::kUnavailable, 503, absl::Minutes(10));
  CHECK_FALSE(rig.retry->RetryDelay(1, too_long).has_value());

  rig.inner->Script({with_ra});
  REQUIRE(rig.Call(maas::CallOptions::Timeout(absl::Seconds(10), rig.clock.Now())).ok());
  REQUIRE(rig.clock.sleeps().size() == 1);
  CHECK(rig.clock.sleeps()[0] == absl::Seconds(3));
}

TEST_CASE("a Retry-After past the deadline is not waited for: the error returns at once") {
  Rig rig;
  rig.inner->Default(maas_test::HttpFailure(absl::StatusCode::kUnavailable, 503, absl::Seconds(5)));
  const absl::Time t0 = rig.clock.Now();
  absl::Status s = rig.Call(maas::CallOptions::Timeout(absl::Seconds(1), t0));
  CHECK(s.code() == absl::StatusCode::kUnavailable);
  CHECK(rig.inner->calls() == 1);
  CHECK(rig.clock.sleeps().empty());
  CHECK(rig.clock.Now() == t0);
}

TEST_CASE("the deadline is spent across attempts: each attempt gets what is left") {
  maas::RetryPolicy p;
  p.attempt_timeout = absl::Milliseconds(300);
  p.initial_backoff = absl::Milliseconds(10);
  p.max_backoff = absl::Milliseconds(10);
  Rig rig(p);
  // Each attempt times out after using its whole 300 ms.
  rig.inner->Latency(&rig.clock, absl::Milliseconds(300));
  rig.inner->Default(absl::DeadlineExceededError("attempt timed out"));
  const absl::Time t0 = rig.clock.Now();
  absl::Status s = rig.Call(maas::CallOptions::Timeout(absl::Milliseconds(700), t0));
  CHECK(s.code() == absl::StatusCode::kDeadlineExceeded);
  const std::vector<absl::Time> d = rig.inner->deadlines();
  REQUIRE(d.size() == 3);
  CHECK(d[0] == t0 + absl::Milliseconds(300));           // capped by attempt_timeout
  CHECK(d[2] == t0 + absl::Milliseconds(700));           // capped by the call's deadline
  CHECK(rig.clock.Now() <= t0 + absl::Milliseconds(700) + absl::Milliseconds(300));
  // A deadline exceeded with no time left is not retried.
  Rig rig2;
  rig2.inner->Latency(&rig2.clock, absl::Milliseconds(500));
  rig2.inner->Default(absl::DeadlineExceededError("call deadline"));
  CHECK(rig2.Call(maas::CallOptions::Timeout(absl::Milliseconds(400), rig2.clock.Now())).code() ==
        absl::StatusCode::kDeadlineExceeded);
  CHECK(rig2.inner->calls() == 1);
}

TEST_CASE("a passed deadline fails at once without calling the predictor") {
  Rig rig;
  maas::CallOptions o;
  o.deadline = rig.clock.Now() - absl::Milliseconds(1);
  CHECK(rig.Call(o).code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(rig.inner->calls() == 0);
}

TEST_CASE("the retry budget stops retries when failures dominate, and successes refill it") {
  maas::RetryPolicy p;
  p.budget_max_tokens = 10;
  p.budget_token_ratio = 0.1;
  Rig rig(p);
  rig.inner->Default(absl::UnavailableError("storm"));
  // 10 tokens, retries only while more than 5 are left; every failed
  // attempt costs one: call 1 makes 3 attempts (7 left), call 2 two (5
  // left), calls 3-5 one each (2 left).
  for (int i = 0; i < 5; ++i) (void)rig.Call();
  CHECK(rig.inner->calls() == 3 + 2 + 1 + 1 + 1);
  CHECK(rig.retry->stats().retries_throttled > 0);
  const int before = rig.inner->calls();
  (void)rig.Call();
  CHECK(rig.inner->calls() == before + 1);  // no retry now
  // 2 tokens are left; successes give back 0.1 each: after 60 there are 8,
  // and a failure (-1) leaves 7 > 5: retried again.
  rig.inner->Default(absl::OkStatus());
  for (int i = 0; i < 60; ++i) REQUIRE(rig.Call().ok());
  rig.inner->Script({absl::UnavailableError("blip")});
  REQUIRE(rig.Call().ok());  // retried again
}

}  // TEST_SUITE
