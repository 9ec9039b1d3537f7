// The whole chain a simulation uses - Fallback(Retry(CircuitBreaker(
// NonFiniteGuard(remote))), local) - on scripted predictors and a fake clock,
// through an outage: the remote serves, fails and is retried, the breaker
// opens and the local model serves at once, a NaN reply is refused, the
// breaker probes and the remote serves again. Every step gets a result.
#include <algorithm>
#include <array>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "doctest/doctest.h"
#include "maas/resilience/circuit_breaker.h"
#include "maas/resilience/fallback.h"
#include "maas/resilience/non_finite_guard.h"
#include "maas/resilience/retry.h"
#include "maas/testing/fake_clock.h"
#include "resilience/scripted_predictor.h"
#include "testing/status_doctest.h"

TEST_SUITE("ResilienceChain") {

TEST_CASE("remote -> outage (retries, breaker opens, local serves) -> NaN refused -> remote again") {
  maas::testing::FakeClock clock;
  auto remote = std::make_unique<maas_test::ScriptedPredictor>("remote", maas::DataType::kFloat32, 100.0);
  maas_test::ScriptedPredictor* server = remote.get();
  maas::RetryPolicy rp;
  rp.seed = 7;
  rp.retry_connect_refused = false;
  maas::CircuitBreakerOptions cb;
  cb.window_size = 10;
  cb.minimum_calls = 4;
  cb.open_duration = absl::Seconds(2);
  cb.half_open_probes = 1;
  auto breaker = std::make_unique<maas::CircuitBreakerPredictor>(
      std::make_unique<maas::NonFiniteGuardPredictor>(std::move(remote)), cb, &clock);
  maas::CircuitBreakerPredictor* breaker_raw = breaker.get();
  auto retry = std::make_unique<maas::RetryingPredictor>(std::move(breaker), rp, &clock);
  auto chain = maas::FallbackPredictor::Create(
      std::move(retry), std::make_unique<maas_test::ScriptedPredictor>("local", maas::DataType::kFloat32, 200.0));
  REQUIRE(chain.ok());
  maas::Predictor& model = **chain;

  std::vector<std::string> served;
  auto step = [&](int i) {
    std::array<float, 2> x = {static_cast<float>(i), 0};
    std::array<float, 3> y = {-7, -7, -7};
    maas::CallReport r;
    absl::Status s = model.Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 2})},
                                   {maas::TensorView("y", absl::MakeSpan(y), {1, 3})}, {}, &r);
    REQUIRE_MESSAGE(s.ok(), s.ToString());
    const float want = (r.served_by == "remote" ? 100.f : 200.f) + static_cast<float>(i);
    CHECK(y[0] == want);
    served.emplace_back(r.served_by);
    clock.Advance(absl::Milliseconds(100));  // one time step of the simulation
    return r;
  };

  for (int i = 0; i < 5; ++i) CHECK(step(i).served_by == "remote");
  // The server goes down: refused connections, not retried (a fallback
  // exists), the local model serves; with 5 successes and 5 failures in the
  // window (50 %) the circuit opens.
  absl::Status refused = absl::UnavailableError("cannot connect");
  maas::MarkConnectRefused(&refused);
  server->Default(refused);
  for (int i = 5; i < 10; ++i) CHECK(step(i).fell_back);
  CHECK(breaker_raw->state() == maas::CircuitState::kOpen);
  const int calls_when_open = server->calls();
  for (int i = 10; i < 20; ++i) {
    maas::CallReport r = step(i);
    CHECK(r.circuit_open);
    CHECK(r.served_by == "local");
  }
  CHECK(server->calls() <= calls_when_open + 1);  // the open circuit spared the server
  // The server is back but answers NaN once: refused, local serves, the
  // probe fails and the circuit opens again.
  server->Default(absl::OkStatus());
  server->Value(std::nan(""));
  clock.Advance(absl::Seconds(2));
  maas::CallReport r = step(20);
  CHECK(r.non_finite);
  CHECK(r.served_by == "local");
  server->Value(100.0);
  clock.Advance(absl::Seconds(4));
  for (int i = 21; i < 30; ++i) CHECK(step(i).served_by == "remote");
  CHECK(breaker_raw->state() == maas::CircuitState::kClosed);
  // Every step served: 5 remote, 16 local, 9 remote.
  CHECK(std::count(served.begin(), served.end(), "local") == 16);
  CHECK(served.size() == 30);
}

}  // TEST_SUITE
