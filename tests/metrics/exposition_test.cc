// The Prometheus text of a whole resilient chain, read back by a real
// Prometheus text parser (prometheus_client.parser from PyPI, in
// .venv-kserve): every series the text holds must be one the test expects,
// with the number the test's own calls imply (derived by hand below), and
// every expected series must be there.
//
// The chain (scripted backends, fake clock, fixed jitter seed):
//
//   Metrics[top]( Fallback( Retry( Breaker( Metrics[remote](remote) ) ),
//                           Metrics[local](local) ) )
//
// Retry: 2 attempts. Breaker: window 4, minimum 4 calls, opens at 50 %.
// The remote answers 3 calls, then fails with HTTP 503 for good. Call k
// (k = 1..10) sends k rows:
//   calls 1-3  remote OK (1 attempt each)                    rows 1+2+3 = 6
//   call 4     remote 503, retried once, 503 again -> local  rows 4
//              breaker window: ok ok ok fail, then fail over the first ok:
//              2 failures of 4 = 50 % -> open
//   calls 5-10 breaker open -> local without calling remote  rows 5+...+10 = 45
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "doctest/doctest.h"
#include "maas/metrics/metrics_predictor.h"
#include "maas/metrics/prometheus.h"
#include "maas/metrics/registry.h"
#include "maas/metrics/resilience_metrics.h"
#include "maas/resilience/circuit_breaker.h"
#include "maas/resilience/fallback.h"
#include "maas/resilience/retry.h"
#include "maas/testing/fake_clock.h"
#include "nlohmann/json.hpp"
#include "resilience/scripted_predictor.h"
#include "testing/status_doctest.h"

namespace {

using maas_test::ScriptedPredictor;
using nlohmann::json;

// One expected sample: exact value, or a [lo, hi] range.
json Exact(const std::string& name, json labels, double v) {
  return {{"name", name}, {"labels", std::move(labels)}, {"value", v}};
}
json Range(const std::string& name, json labels, double lo, double hi) {
  return {{"name", name}, {"labels", std::move(labels)}, {"min", lo}, {"max", hi}};
}

// The series MetricsPredictor exports for one backend.
void ExpectPredictor(json* exp, const std::string& model, const std::string& backend,
                     const std::vector<std::pair<std::string, double>>& by_code, double rows,
                     double retries, const std::vector<std::pair<std::string, double>>& fallbacks,
                     double rejected, double min_seconds, double max_seconds) {
  const json l = {{"model", model}, {"backend", backend}};
  double calls = 0;
  for (const auto& c : by_code) {
    json lc = l;
    lc["code"] = c.first;
    exp->push_back(Exact("maas_predict_requests_total", lc, c.second));
    calls += c.second;
  }
  exp->push_back(Exact("maas_predict_rows_total", l, rows));
  exp->push_back(Exact("maas_in_flight_requests", l, 0));
  exp->push_back(Exact("maas_retries_total", l, retries));
  for (const auto& f : fallbacks) {
    json lf = l;
    lf["reason"] = f.first;
    exp->push_back(Exact("maas_fallbacks_total", lf, f.second));
  }
  exp->push_back(Exact("maas_circuit_rejected_total", l, rejected));
  exp->push_back(Exact("maas_non_finite_total", l, 0));
  exp->push_back(Exact("maas_predict_duration_seconds_count", l, calls));
  exp->push_back(Range("maas_predict_duration_seconds_sum", l, 0, max_seconds));
  // Buckets: cumulative, the +Inf one equal to the count; each somewhere in
  // [0, calls] (the parser-side check verifies monotonicity).
  for (double le : maas::kDurationBucketsSeconds) {
    json lb = l;
    lb["le"] = maas::detail::PrometheusNumber(le);
    exp->push_back(le < min_seconds ? Exact("maas_predict_duration_seconds_bucket", lb, 0)
                                    : Range("maas_predict_duration_seconds_bucket", lb, 0, calls));
  }
  json inf = l;
  inf["le"] = "+Inf";
  exp->push_back(Exact("maas_predict_duration_seconds_bucket", inf, calls));
}

}  // namespace

TEST_SUITE("PrometheusExposition") {

TEST_CASE("a resilient chain's text, parsed by prometheus_client, holds exactly what the calls did") {
  if (::access(MAAS_TEST_PROMETHEUS_PYTHON, X_OK) != 0) {
    MESSAGE("MAAS_SKIPPED: " MAAS_TEST_PROMETHEUS_PYTHON
            " (with prometheus_client) is missing; tools/bootstrap.sh --kserve makes it");
    return;
  }
  maas::testing::FakeClock clock;
  maas::MetricsRegistry registry;

  auto remote = std::make_unique<ScriptedPredictor>("remote");
  remote->Script({absl::OkStatus(), absl::OkStatus(), absl::OkStatus()});
  remote->Default(maas_test::HttpFailure(absl::StatusCode::kUnavailable, 503));
  auto remote_m = std::make_unique<maas::MetricsPredictor>(std::move(remote), &registry,
                                                           maas::MetricsOptions{"drag", ""});
  maas::CircuitBreakerOptions bo;
  bo.window_size = 4;
  bo.minimum_calls = 4;
  auto breaker = std::make_unique<maas::CircuitBreakerPredictor>(std::move(remote_m), bo, &clock);
  auto breaker_reg = maas::ExportCircuitBreaker(&registry, breaker.get(), "drag", "remote");
  maas::RetryPolicy rp;
  rp.max_attempts = 2;
  rp.seed = 7;
  auto retry = std::make_unique<maas::RetryingPredictor>(std::move(breaker), rp, &clock);
  auto retry_reg = maas::ExportRetry(&registry, retry.get(), "drag", "remote");
  auto local_m = std::make_unique<maas::MetricsPredictor>(
      std::make_unique<ScriptedPredictor>("local"), &registry, maas::MetricsOptions{"drag", ""});
  auto chain = maas::FallbackPredictor::Create(std::move(retry), std::move(local_m));
  REQUIRE(chain.ok());
  maas::MetricsPredictor top(*std::move(chain), &registry, maas::MetricsOptions{"drag", ""});
  // A series whose label value needs every escape.
  maas::MetricsPredictor odd(std::make_unique<ScriptedPredictor>("odd"), &registry,
                             maas::MetricsOptions{"we\"ird\\model\nname", ""});

  const absl::Time t0 = absl::Now();
  for (int k = 1; k <= 10; ++k) {
    std::vector<float> x(static_cast<std::size_t>(k) * 2, 1.f), y(static_cast<std::size_t>(k) * 3);
    CHECK(top.Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {k, 2})},
                      {maas::TensorView("y", absl::MakeSpan(y), {k, 3})})
              .ok());
  }
  {
    std::vector<float> x(2, 1.f), y(3);
    CHECK(odd.Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 2})},
                      {maas::TensorView("y", absl::MakeSpan(y), {1, 3})})
              .ok());
  }
  const double wall = absl::ToDoubleSeconds(absl::Now() - t0) + 1e-3;

  json exp = json::array();
  // top: 10 calls OK, 55 rows, 1 retry (call 4), fallbacks: 1 UNAVAILABLE, 6 circuit_open.
  ExpectPredictor(&exp, "drag", "fallback", {{"OK", 10}}, 55, 1,
                  {{"UNAVAILABLE", 1}, {"circuit_open", 6}}, 6, 0, wall);
  // remote: 3 OK (rows 6), 2 UNAVAILABLE (call 4's two attempts).
  ExpectPredictor(&exp, "drag", "remote", {{"OK", 3}, {"UNAVAILABLE", 2}}, 6, 0, {}, 0, 0, wall);
  // local: calls 4-10, rows 4+...+10 = 49.
  ExpectPredictor(&exp, "drag", "local", {{"OK", 7}}, 49, 0, {}, 0, 0, wall);
  ExpectPredictor(&exp, "we\"ird\\model\nname", "odd", {{"OK", 1}}, 1, 0, {}, 0, 0, wall);
  const json lr = {{"model", "drag"}, {"backend", "remote"}};
  exp.push_back(Exact("maas_circuit_state", lr, 1));
  exp.push_back(Exact("maas_circuit_transitions_total", {{"model", "drag"}, {"backend", "remote"}, {"to", "open"}}, 1));
  exp.push_back(Exact("maas_circuit_transitions_total", {{"model", "drag"}, {"backend", "remote"}, {"to", "half_open"}}, 0));
  exp.push_back(Exact("maas_circuit_transitions_total", {{"model", "drag"}, {"backend", "remote"}, {"to", "closed"}}, 0));
  exp.push_back(Exact("maas_retries_throttled_total", lr, 0));
  const json doc = {
      {"samples", exp},
      {"types",
       {{"maas_predict_requests", "counter"}, {"maas_predict_rows", "counter"},
        {"maas_predict_duration_seconds", "histogram"}, {"maas_in_flight_requests", "gauge"},
        {"maas_retries", "counter"}, {"maas_fallbacks", "counter"},
        {"maas_circuit_rejected", "counter"}, {"maas_non_finite", "counter"},
        {"maas_circuit_state", "gauge"}, {"maas_circuit_transitions", "counter"},
        {"maas_retries_throttled", "counter"}}}};

  const std::string base = std::string(MAAS_TEST_BINARY_DIR) + "/exposition_" + std::to_string(::getpid());
  const std::string prom = base + ".prom", expect = base + ".expect.json";
  REQUIRE(maas::WritePrometheusTextFile(prom, maas::PrometheusText(registry)).ok());
  {
    std::ofstream out(expect);
    out << doc.dump(1);
  }
  const std::string cmd = std::string(MAAS_TEST_PROMETHEUS_PYTHON) + " " MAAS_TEST_SOURCE_DIR
                          "/tests/metrics/check_exposition.py --text " + prom + " --expect " + expect;
  const int rc = std::system(cmd.c_str());
  CHECK_MESSAGE(rc == 0, "check_exposition.py failed; text in " << prom);
  if (rc == 0) {
    std::remove(prom.c_str());
    std::remove(expect.c_str());
  }
}

}  // TEST_SUITE
