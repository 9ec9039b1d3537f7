// CircuitBreakerPredictor on a scripted predictor and a fake clock: the
// state machine closed -> open -> half-open -> closed and -> open again, the
// growing open period, which codes count, and what an open circuit answers.
#include "maas/resilience/circuit_breaker.h"

#include <array>
#include <memory>
#include <vector>

#include "doctest/doctest.h"
#include "maas/testing/fake_clock.h"
#include "resilience/scripted_predictor.h"
#include "testing/status_doctest.h"

namespace {

using maas::CircuitState;
using maas_test::ScriptedPredictor;

struct Rig {
  maas::testing::FakeClock clock;
  ScriptedPredictor* inner = nullptr;
  std::unique_ptr<maas::CircuitBreakerPredictor> breaker;
  std::array<float, 2> x = {0.5f, 0};
  std::array<float, 3> y = {-7, -7, -7};

  explicit Rig(maas::CircuitBreakerOptions o = {}) {
    auto p = std::make_unique<ScriptedPredictor>("remote");
    inner = p.get();
    breaker = std::make_unique<maas::CircuitBreakerPredictor>(std::move(p), o, &clock);
  }
  absl::Status Call(maas::CallReport* r = nullptr) {
    return static_cast<maas::Predictor&>(*breaker).Predict(
        {maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 2})},
        {maas::TensorView("y", absl::MakeSpan(y), {1, 3})}, maas::CallOptions(), r);
  }
};

maas::CircuitBreakerOptions Small() {
  maas::CircuitBreakerOptions o;
  o.window_size = 10;
  o.minimum_calls = 4;
  o.failure_rate_threshold = 0.5;
  o.open_duration = absl::Seconds(5);
  o.max_open_duration = absl::Seconds(12);
  o.half_open_probes = 2;
  return o;
}

}  // namespace

TEST_SUITE("CircuitBreakerPredictor") {

TEST_CASE("stays closed below the minimum number of calls and below the threshold") {
  Rig rig(Small());
  rig.inner->Default(absl::UnavailableError("down"));
  for (int i = 0; i < 3; ++i) (void)rig.Call();
  CHECK(rig.breaker->state() == CircuitState::kClosed);  // 3 calls < minimum 4
  Rig rig2(Small());
  for (int i = 0; i < 4; ++i) REQUIRE(rig2.Call().ok());
  rig2.inner->Default(absl::UnavailableError("down"));
  for (int i = 0; i < 3; ++i) (void)rig2.Call();
  // 3 failures of 7: 43 % < 50 %.
  CHECK(rig2.breaker->state() == CircuitState::kClosed);
  (void)rig2.Call();  // 4 of 8: 50 %
  CHECK(rig2.breaker->state() == CircuitState::kOpen);
}

TEST_CASE("closed -> open -> half-open -> closed, and a failed probe -> open again for longer") {
  Rig rig(Small());
  rig.inner->Default(absl::UnavailableError("down"));
  for (int i = 0; i < 4; ++i) (void)rig.Call();
  CHECK(rig.breaker->state() == CircuitState::kOpen);
  CHECK(rig.breaker->stats().opened == 1);

  // Open: refused at once, the backend is not called, outputs untouched.
  const int calls = rig.inner->calls();
  maas::CallReport r;
  absl::Status s = rig.Call(&r);
  CHECK(s.code() == absl::StatusCode::kUnavailable);
  CHECK(maas::IsCircuitOpen(s));
  CHECK(r.circuit_open);
  CHECK(r.attempts == 0);
  CHECK(rig.inner->calls() == calls);
  CHECK(rig.y[0] == -7);

  // After the open period: half-open, probes go through; a failed probe
  // opens it again for twice as long.
  rig.clock.Advance(absl::Seconds(5));
  (void)rig.Call();  // probe fails
  CHECK(rig.breaker->state() == CircuitState::kOpen);
  rig.clock.Advance(absl::Seconds(9));  // 10 s now: still open
  CHECK(maas::IsCircuitOpen(rig.Call()));
  rig.clock.Advance(absl::Seconds(1));
  rig.inner->Default(absl::OkStatus());
  REQUIRE(rig.Call().ok());  // probe 1 of 2
  CHECK(rig.breaker->state() == CircuitState::kHalfOpen);
  REQUIRE(rig.Call().ok());  // probe 2 of 2: closed
  CHECK(rig.breaker->state() == CircuitState::kClosed);
  const maas::CircuitBreakerStats st = rig.breaker->stats();
  CHECK(st.opened == 2);
  CHECK(st.half_opened == 2);
  CHECK(st.closed == 1);
  CHECK(st.rejected >= 2);
}

TEST_CASE("the open period grows up to its maximum and resets after closing") {
  Rig rig(Small());
  rig.inner->Default(absl::UnavailableError("down"));
  for (int i = 0; i < 4; ++i) (void)rig.Call();
  absl::Duration period = absl::Seconds(5);
  for (absl::Duration want : {absl::Seconds(10), absl::Seconds(12), absl::Seconds(12)}) {
    rig.clock.Advance(period);
    (void)rig.Call();  // failed probe
    CHECK(rig.breaker->state() == CircuitState::kOpen);
    rig.clock.Advance(want - absl::Milliseconds(1));
    CHECK(maas::IsCircuitOpen(rig.Call()));
    rig.clock.Advance(absl::Milliseconds(1));
    period = absl::ZeroDuration();
  }
  rig.inner->Default(absl::OkStatus());
  REQUIRE(rig.Call().ok());
  REQUIRE(rig.Call().ok());
  CHECK(rig.breaker->state() == CircuitState::kClosed);
  rig.inner->Default(absl::UnavailableError("down again"));
  for (int i = 0; i < 4; ++i) (void)rig.Call();
  CHECK(rig.breaker->state() == CircuitState::kOpen);
  rig.clock.Advance(absl::Seconds(5));  // back to the base period
  rig.inner->Default(absl::OkStatus());
  CHECK(rig.Call().ok());
}

TEST_CASE("half-open admits only the configured number of probes at a time") {
  // A backend that, while answering its first probe, sees two more calls
  // arrive (re-entrantly, so the test needs no threads): with 2 probes
  // allowed, the second is admitted and the third refused.
  class Reentrant final : public maas::Predictor {
   public:
    maas::Predictor* outer = nullptr;
    int calls = 0;
    std::vector<absl::Status> nested;
    absl::StatusOr<maas::ModelSignature> Signature() override { return maas::ModelSignature(); }

   protected:
    absl::Status DoPredict(absl::Span<const maas::ConstTensorView>,
                           absl::Span<const maas::TensorView>) override {
      ++calls;
      if (failing) return absl::UnavailableError("down");
      if (calls == failures_before + 1) {
        nested.push_back(outer->Predict({}, {}));
        nested.push_back(outer->Predict({}, {}));
      }
      return absl::OkStatus();
    }

   public:
    bool failing = true;
    int failures_before = 0;
  };
  maas::testing::FakeClock clock;
  auto inner = std::make_unique<Reentrant>();
  Reentrant* raw = inner.get();
  maas::CircuitBreakerPredictor breaker(std::move(inner), Small(), &clock);
  raw->outer = &breaker;
  for (int i = 0; i < 4; ++i) (void)static_cast<maas::Predictor&>(breaker).Predict({}, {});
  REQUIRE(breaker.state() == CircuitState::kOpen);
  clock.Advance(absl::Seconds(5));
  raw->failing = false;
  raw->failures_before = raw->calls;
  REQUIRE(static_cast<maas::Predictor&>(breaker).Predict({}, {}).ok());
  REQUIRE(raw->nested.size() == 2);
  CHECK(raw->nested[0].ok());                  // second probe admitted
  CHECK(maas::IsCircuitOpen(raw->nested[1]));  // third refused
  CHECK(breaker.state() == CircuitState::kClosed);
}

TEST_CASE("caller errors count as neither failure nor success; 429 counts, a size limit does not") {
  Rig rig(Small());
  rig.inner->Default(absl::InvalidArgumentError("bad shape"));
  for (int i = 0; i < 20; ++i) (void)rig.Call();
  CHECK(rig.breaker->state() == CircuitState::kClosed);
  rig.inner->Default(absl::ResourceExhaustedError("reply exceeds the size limit"));
  for (int i = 0; i < 20; ++i) (void)rig.Call();
  CHECK(rig.breaker->state() == CircuitState::kClosed);
  rig.inner->Default(maas_test::HttpFailure(absl::StatusCode::kResourceExhausted, 429));
  for (int i = 0; i < 4; ++i) (void)rig.Call();
  CHECK(rig.breaker->state() == CircuitState::kOpen);
  Rig rig2(Small());
  rig2.inner->Default(absl::DataLossError("NaN in reply"));
  for (int i = 0; i < 4; ++i) (void)rig2.Call();
  CHECK(rig2.breaker->state() == CircuitState::kOpen);
}

}  // TEST_SUITE
