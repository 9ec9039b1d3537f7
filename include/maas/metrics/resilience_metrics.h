// -----------------------------------------------------------------------------
// File: metrics/resilience_metrics.h
// -----------------------------------------------------------------------------
//
// Exporters for what the resilience decorators know and a call's report does
// not: a circuit breaker's state and transitions, and the retries a retry
// budget refused. (Retries made, fallbacks by reason and breaker refusals
// come from call reports: see `MetricsPredictor`.)
//
//   maas_circuit_state{model,backend}                gauge   0 closed, 1 open, 2 half-open
//   maas_circuit_transitions_total{model,backend,to} counter to = open, half_open, closed
//   maas_retries_throttled_total{model,backend}      counter retries the budget refused
//
// Each function registers a collector that reads the decorator's `stats()`
// at snapshot time and returns its registration: keep the registration no
// longer than the decorator (e.g. as a member of the object that owns the
// chain; `InstrumentedChain` in metrics/instrumented_chain.h does this).
//
// Example:
//
//   auto breaker = std::make_unique<maas::CircuitBreakerPredictor>(std::move(remote));
//   maas::MetricsRegistry::Registration reg =
//       maas::ExportCircuitBreaker(&registry, breaker.get(), "drag", "remote");

#ifndef MAAS_METRICS_RESILIENCE_METRICS_H_
#define MAAS_METRICS_RESILIENCE_METRICS_H_

#include <string>
#include <utility>

#include "maas/metrics/registry.h"
#include "maas/resilience/circuit_breaker.h"
#include "maas/resilience/retry.h"

namespace maas {

// ExportCircuitBreaker()
//
// `breaker` (not owned) must outlive the returned registration.
inline MetricsRegistry::Registration ExportCircuitBreaker(MetricsRegistry* registry,
                                                          const CircuitBreakerPredictor* breaker,
                                                          std::string model, std::string backend) {
  return registry->Add([breaker, model = std::move(model),
                        backend = std::move(backend)](MetricsBuilder& b) {
    const CircuitBreakerStats s = breaker->stats();
    b.Gauge("maas_circuit_state", "Circuit breaker state: 0 closed, 1 open, 2 half-open.",
            {{"model", model}, {"backend", backend}}, static_cast<double>(s.state));
    const std::pair<const char*, std::int64_t> to[] = {
        {"open", s.opened}, {"half_open", s.half_opened}, {"closed", s.closed}};
    for (const auto& t : to) {
      b.Counter("maas_circuit_transitions_total", "Circuit breaker transitions, by new state.",
                {{"model", model}, {"backend", backend}, {"to", t.first}},
                static_cast<double>(t.second));
    }
  });
}

// ExportRetry()
//
// `retry` (not owned) must outlive the returned registration.
inline MetricsRegistry::Registration ExportRetry(MetricsRegistry* registry,
                                                 const RetryingPredictor* retry, std::string model,
                                                 std::string backend) {
  return registry->Add([retry, model = std::move(model),
                        backend = std::move(backend)](MetricsBuilder& b) {
    b.Counter("maas_retries_throttled_total", "Retries the retry budget refused.",
              {{"model", model}, {"backend", backend}},
              static_cast<double>(retry->stats().retries_throttled));
  });
}

}  // namespace maas

#endif  // MAAS_METRICS_RESILIENCE_METRICS_H_
