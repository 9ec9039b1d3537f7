// -----------------------------------------------------------------------------
// File: observed_model.h
// -----------------------------------------------------------------------------
//
// `maas::ConnectObserved()`: the resilient chain of `ConnectWithFallback()`
// (resilient_model.h) with metrics on every level, and optionally
// micro-batching of concurrent calls before they reach the server:
//
//   Metrics[backend=<fallback label>](
//     Fallback( Retry( CircuitBreaker( NonFiniteGuard(
//                 [Batching]( Metrics[backend=remote]( RemoteModel( CountingTransport ) ) ) ) ) ),
//               Metrics[backend=local]( local ) ) )
//
// Everything is registered with the given `MetricsRegistry`:
//  * the top `MetricsPredictor`: what the simulation sees (calls by code,
//    durations, rows, in flight, retries, fallbacks by reason, breaker
//    refusals, refused NaN/Inf replies);
//  * the remote and local `MetricsPredictor`s: each backend's own calls
//    (with batching, the remote one counts server requests, i.e. batches);
//  * the circuit breaker's state and transitions, the retries the budget
//    refused (metrics/resilience_metrics.h);
//  * the transport's requests and body bytes:
//      maas_remote_requests_total{model,endpoint,result}   ok / failed
//      maas_remote_sent_bytes_total{model,endpoint}
//      maas_remote_received_bytes_total{model,endpoint}
//  * with batching, the batch counters (routing/batching.h).
// The `model` label is `ObservedOptions::metrics_model` (default: the model
// name). Include it with the `maas::http` target.
//
// Example:
//
//   maas::MetricsRegistry registry;
//   maas::ObservedOptions oo;
//   oo.batching = maas::BatchingOptions();   // coalesce the threads' calls
//   auto model = maas::ConnectObserved("http://127.0.0.1:8000", "drag",
//                                      maas::LoadDynamicModel("drag.json").value(),
//                                      &registry, oo);
//   ... (*model)->Predict(...) from many threads ...
//   maas::WritePrometheusTextFile("/var/lib/node_exporter/textfile/maas.prom",
//                                 maas::PrometheusText(registry));

#ifndef MAAS_OBSERVED_MODEL_H_
#define MAAS_OBSERVED_MODEL_H_

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "maas/core/detail/exception.h"
#include "maas/core/predictor.h"
#include "maas/metrics/metrics_predictor.h"
#include "maas/metrics/registry.h"
#include "maas/metrics/resilience_metrics.h"
#include "maas/remote/counting_transport.h"
#include "maas/remote/http_client_transport.h"
#include "maas/remote/remote_model.h"
#include "maas/resilience/circuit_breaker.h"
#include "maas/resilience/fallback.h"
#include "maas/resilience/non_finite_guard.h"
#include "maas/resilience/retry.h"
#include "maas/resilient_model.h"
#include "maas/routing/batching.h"

namespace maas {

// ObservedOptions
//
//  * `resilient`: the chain's settings, as for `ConnectWithFallback()`.
//  * `batching`: when set, concurrent calls are coalesced into server
//    requests with these options (their `metrics` fields are filled in).
//  * `metrics_model`: the `model` label; empty = the model name.
struct ObservedOptions {
  ResilientOptions resilient;
  std::optional<BatchingOptions> batching;
  std::string metrics_model;
};

// ObservedModel
//
// The chain described in the file comment, as one `Predictor`. Owns every
// part and unregisters its metrics when destroyed. Thread-safe.
class ObservedModel final : public Predictor {
 public:
  absl::StatusOr<ModelSignature> Signature() override { return top_->Signature(); }
  absl::string_view label() const override { return top_->label(); }

  // ObservedModel::transport_counters()
  //
  // Requests and body bytes through the remote model's transport.
  TransportCounters transport_counters() const { return transport_->counters(); }

  // ObservedModel::batching_stats()
  //
  // The batcher's counters; all zero without batching.
  BatchingStats batching_stats() const {
    return batching_ != nullptr ? batching_->stats() : BatchingStats();
  }

 protected:
  absl::Status DoPredict(absl::Span<const ConstTensorView> inputs,
                         absl::Span<const TensorView> outputs) override {
    return top_->Predict(inputs, outputs);
  }
  absl::Status DoPredictCall(absl::Span<const ConstTensorView> inputs,
                             absl::Span<const TensorView> outputs, const CallOptions& call,
                             CallReport* report) override {
    return top_->Predict(inputs, outputs, call, report);
  }

 private:
  friend absl::StatusOr<std::unique_ptr<ObservedModel>> ConnectObserved(
      absl::string_view, absl::string_view, std::unique_ptr<Predictor>, MetricsRegistry*,
      ObservedOptions);

  ObservedModel() = default;

  std::shared_ptr<CountingTransport> transport_;
  const BatchingPredictor* batching_ = nullptr;  // owned by the chain
  std::unique_ptr<Predictor> top_;
  // Declared after the chain: unregistered before it goes away.
  std::vector<MetricsRegistry::Registration> registrations_;
};

// ConnectObserved()
//
// The chain over `model` at `url` with `local` as the fallback, every part
// registered with `registry` (not owned; must outlive the model). Fails as
// `ConnectWithFallback()` does, and with `kInvalidArgument` for a null
// registry.
inline absl::StatusOr<std::unique_ptr<ObservedModel>> ConnectObserved(
    absl::string_view url, absl::string_view model, std::unique_ptr<Predictor> local,
    MetricsRegistry* registry, ObservedOptions options = {}) {
  try {
    if (registry == nullptr) return absl::InvalidArgumentError("ConnectObserved: registry is null");
    if (local == nullptr) return absl::InvalidArgumentError("ConnectObserved: the local model is null");
    ResilientOptions& ro = options.resilient;
    if (ro.remote.model.empty()) ro.remote.model = std::string(model);
    const std::string label = options.metrics_model.empty() ? ro.remote.model : options.metrics_model;
    absl::StatusOr<std::unique_ptr<HttpClientTransport>> http = HttpClientTransport::Create(url, ro.http);
    if (!http.ok()) return http.status();
    auto self = std::unique_ptr<ObservedModel>(new ObservedModel());
    self->transport_ = std::make_shared<CountingTransport>(std::shared_ptr<HttpTransport>(*std::move(http)));
    absl::StatusOr<std::unique_ptr<RemoteModel>> remote = RemoteModel::Create(ro.remote, self->transport_);
    if (!remote.ok()) return remote.status();
    const std::string endpoint = self->transport_->base_url();

    std::unique_ptr<Predictor> primary = std::make_unique<MetricsPredictor>(
        *std::move(remote), registry, MetricsOptions{label, "remote"});
    if (options.batching.has_value()) {
      BatchingOptions bo = *options.batching;
      bo.metrics = registry;
      bo.metrics_model = label;
      auto batching = std::make_unique<BatchingPredictor>(std::move(primary), bo);
      self->batching_ = batching.get();
      primary = std::move(batching);
    }
    if (ro.guard_non_finite) primary = std::make_unique<NonFiniteGuardPredictor>(std::move(primary));
    auto breaker = std::make_unique<CircuitBreakerPredictor>(std::move(primary), ro.breaker, ro.clock);
    self->registrations_.push_back(ExportCircuitBreaker(registry, breaker.get(), label, "remote"));
    auto retry = std::make_unique<RetryingPredictor>(std::move(breaker), ro.retry, ro.clock);
    self->registrations_.push_back(ExportRetry(registry, retry.get(), label, "remote"));
    std::unique_ptr<Predictor> local_m =
        std::make_unique<MetricsPredictor>(std::move(local), registry, MetricsOptions{label, "local"});
    absl::StatusOr<std::unique_ptr<FallbackPredictor>> chain =
        FallbackPredictor::Create(std::move(retry), std::move(local_m), ro.fallback);
    if (!chain.ok()) return chain.status();
    self->top_ = std::make_unique<MetricsPredictor>(*std::move(chain), registry,
                                                    MetricsOptions{label, ""});
    const CountingTransport* t = self->transport_.get();
    self->registrations_.push_back(registry->Add([t, label, endpoint](MetricsBuilder& b) {
      const TransportCounters c = t->counters();
      const MetricLabels l{{"model", label}, {"endpoint", endpoint}};
      MetricLabels ok = l, failed = l;
      ok.emplace_back("result", "ok");
      failed.emplace_back("result", "failed");
      b.Counter("maas_remote_requests_total", "HTTP requests sent, by whether a reply came.", ok,
                static_cast<double>(c.requests - c.failed));
      b.Counter("maas_remote_requests_total", "HTTP requests sent, by whether a reply came.",
                failed, static_cast<double>(c.failed));
      b.Counter("maas_remote_sent_bytes_total", "HTTP request body bytes sent.", l,
                static_cast<double>(c.bytes_sent));
      b.Counter("maas_remote_received_bytes_total", "HTTP reply body bytes received.", l,
                static_cast<double>(c.bytes_received));
    }));
    return self;
  } catch (...) {
    return detail::CurrentExceptionStatus("ConnectObserved");
  }
}

}  // namespace maas

#endif  // MAAS_OBSERVED_MODEL_H_
