// -----------------------------------------------------------------------------
// File: resilient_model.h
// -----------------------------------------------------------------------------
//
// `maas::ConnectWithFallback()`: the common case in one call - a model on an
// inference server, with the small local network as its fallback, behind one
// `maas::Predictor`:
//
//   Fallback( Retry( CircuitBreaker( NonFiniteGuard( RemoteModel ) ) ), local )
//
// with defaults chosen for a simulation's time step (`ResilientOptions`):
//  * every call has a deadline (1 s when the caller gives none): retries,
//    backoff and the fallback share it, and the fallback keeps 1 ms of it;
//  * up to 3 attempts for transient failures (503, 429, a reset or a timed-out
//    attempt), but none for a refused connection: with a fallback at hand a
//    dead server costs microseconds, not a backoff;
//  * the circuit opens at 50 % failures of the last 20 calls (10 at least),
//    for 5 s doubling to 60 s, then 3 probes;
//  * replies with NaN or Inf are refused (kDataLoss) and the local model
//    serves instead;
//  * the local model serves on kUnavailable, kDeadlineExceeded,
//    kResourceExhausted, an open circuit, kDataLoss and kInternal (HTTP 500,
//    not retried); caller and configuration errors (kInvalidArgument,
//    kNotFound, kUnauthenticated, kPermissionDenied) are returned.
// Include it with the `maas::http` target (it uses the HTTP transport).
//
// Example:
//
//   auto model = maas::ConnectWithFallback("http://triton:8000", "drag_cd",
//                                          "drag_cd.json");   // local fallback
//   if (!model.ok()) { std::cerr << model.status() << "\n"; return 1; }
//   maas::CallReport r;
//   absl::Status s = (*model)->Predict({in}, {out}, maas::CallOptions(), &r);
//   // r.served_by: "remote" or "local"

#ifndef MAAS_RESILIENT_MODEL_H_
#define MAAS_RESILIENT_MODEL_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "maas/core/clock.h"
#include "maas/core/detail/exception.h"
#include "maas/core/predictor.h"
#include "maas/local/model_file.h"
#if __has_include("maas/local/dynamic_network.h")
#include "maas/local/dynamic_network.h"
#define MAAS_INTERNAL_HAVE_DYNAMIC_NETWORK 1
#endif
#include "maas/remote/http_client_transport.h"
#include "maas/remote/remote_model.h"
#include "maas/resilience/circuit_breaker.h"
#include "maas/resilience/fallback.h"
#include "maas/resilience/non_finite_guard.h"
#include "maas/resilience/retry.h"

namespace maas {

// ResilientOptions
//
// Every part of the chain; the defaults are described in the file comment.
// `remote.model` is set from ConnectWithFallback()'s argument when empty.
struct ResilientOptions {
  RemoteModelOptions remote;
  HttpTransportOptions http;
  RetryPolicy retry = DefaultRetry();
  CircuitBreakerOptions breaker;
  FallbackOptions fallback = DefaultFallback();
  bool guard_non_finite = true;
  Clock* clock = &RealClock();

  static RetryPolicy DefaultRetry() {
    RetryPolicy p;
    p.retry_connect_refused = false;
    return p;
  }
  static FallbackOptions DefaultFallback() {
    FallbackOptions f;
    f.default_timeout = absl::Seconds(1);
    f.on_internal = true;  // a server bug (HTTP 500) must not stop the run
    f.label = "remote+local";
    return f;
  }
};

// ConnectWithFallback(url, model, local, options)
//
// The chain over the model `model` at `url` and the given local predictor
// (any `Predictor`: a `LocalModel<Net>`, a `DynamicLocalModel`, ...). Does
// not need the server to be up: its signature is checked against the local
// model's now if it answers, else as soon as it does (see fallback.h).
// Fails with `kInvalidArgument` (bad URL or options, null local model),
// `kFailedPrecondition` (the two models do not fit), or the server's status
// when it answers but has no such model (`kNotFound`).
inline absl::StatusOr<std::unique_ptr<Predictor>> ConnectWithFallback(
    absl::string_view url, absl::string_view model, std::unique_ptr<Predictor> local,
    ResilientOptions options = {}) {
  try {
    if (local == nullptr) {
      return absl::InvalidArgumentError("ConnectWithFallback: the local model is null");
    }
    if (options.remote.model.empty()) options.remote.model = std::string(model);
    absl::StatusOr<std::unique_ptr<RemoteModel>> remote =
        ConnectRemoteModel(url, options.remote, options.http);
    if (!remote.ok()) return remote.status();
    std::unique_ptr<Predictor> primary = *std::move(remote);
    if (options.guard_non_finite) {
      primary = std::make_unique<NonFiniteGuardPredictor>(std::move(primary));
    }
    primary = std::make_unique<CircuitBreakerPredictor>(std::move(primary), options.breaker,
                                                        options.clock);
    primary = std::make_unique<RetryingPredictor>(std::move(primary), options.retry, options.clock);
    absl::StatusOr<std::unique_ptr<FallbackPredictor>> chain =
        FallbackPredictor::Create(std::move(primary), std::move(local), options.fallback);
    if (!chain.ok()) return chain.status();
    return std::unique_ptr<Predictor>(*std::move(chain));
  } catch (...) {
    return detail::CurrentExceptionStatus("ConnectWithFallback");
  }
}

#if defined(MAAS_INTERNAL_HAVE_DYNAMIC_NETWORK)
// ConnectWithFallback(url, model, local_model_file, options)
//
// As above, with the local fallback loaded from a maas model file as a
// run-time-sized network (`LoadDynamicModel()`, local/dynamic_network.h).
// Also fails as that loader does.
inline absl::StatusOr<std::unique_ptr<Predictor>> ConnectWithFallback(
    absl::string_view url, absl::string_view model, const std::string& local_model_file,
    ResilientOptions options = {}) {
  absl::StatusOr<std::unique_ptr<Predictor>> local = LoadDynamicModel(local_model_file);
  if (!local.ok()) return local.status();
  return ConnectWithFallback(url, model, *std::move(local), std::move(options));
}
#endif

// ConnectWithFallback<Net>(url, model, local_model_file, options)
//
// As above, with the fallback as the compile-time network `Net`
// (`LoadLocalModel<Net>()`, local/model_file.h): the fastest local path.
template <typename Net>
absl::StatusOr<std::unique_ptr<Predictor>> ConnectWithFallback(
    absl::string_view url, absl::string_view model, const std::string& local_model_file,
    ResilientOptions options = {}) {
  auto local = LoadLocalModel<Net>(local_model_file);
  if (!local.ok()) return local.status();
  return ConnectWithFallback(url, model, std::unique_ptr<Predictor>(*std::move(local)),
                             std::move(options));
}

}  // namespace maas

#undef MAAS_INTERNAL_HAVE_DYNAMIC_NETWORK

#endif  // MAAS_RESILIENT_MODEL_H_
