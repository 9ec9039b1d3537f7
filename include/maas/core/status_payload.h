// -----------------------------------------------------------------------------
// File: core/status_payload.h
// -----------------------------------------------------------------------------
//
// Facts a failed call's `absl::Status` carries beyond its code, as payloads,
// so that decorators (retry, circuit breaker, fallback) can act on them
// without knowing which predictor failed:
//  * the HTTP status of the reply (`HttpStatusOf()`): 429 makes a
//    `kResourceExhausted` retryable, a size-limit `kResourceExhausted` not;
//  * the server's `Retry-After` (`RetryAfterOf()`), honoured by retries;
//  * a circuit breaker's refusal (`IsCircuitOpen()`), never retried;
//  * a connection that could not be made at all (`IsConnectRefused()`).
// All functions are pure and thread-safe.
//
// Example:
//
//   if (s.code() == absl::StatusCode::kResourceExhausted && maas::HttpStatusOf(s) == 429) {
//     absl::Duration wait = maas::RetryAfterOf(s).value_or(absl::Seconds(1));
//   }

#ifndef MAAS_CORE_STATUS_PAYLOAD_H_
#define MAAS_CORE_STATUS_PAYLOAD_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace maas {

// Payload keys (type URLs). The values are decimal text.
inline constexpr absl::string_view kHttpStatusPayloadUrl = "maas.dev/http_status";
inline constexpr absl::string_view kRetryAfterPayloadUrl = "maas.dev/retry_after_ms";
inline constexpr absl::string_view kCircuitOpenPayloadUrl = "maas.dev/circuit_open";
inline constexpr absl::string_view kConnectRefusedPayloadUrl = "maas.dev/connect_refused";

// HttpStatusOf()
//
// The HTTP status stored in `s` (by the remote model's status mapping), or
// nullopt for statuses that did not come from an HTTP reply.
inline std::optional<int> HttpStatusOf(const absl::Status& s) {
  auto payload = s.GetPayload(kHttpStatusPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  int value = 0;
  if (!absl::SimpleAtoi(std::string(*payload), &value)) return std::nullopt;
  return value;
}

// SetRetryAfter() / RetryAfterOf()
//
// The delay a server asked for before the next attempt (HTTP Retry-After),
// stored in milliseconds. RetryAfterOf() is nullopt when none was given.
inline void SetRetryAfter(absl::Status* s, absl::Duration d) {
  if (s->ok() || d < absl::ZeroDuration()) return;
  s->SetPayload(kRetryAfterPayloadUrl, absl::Cord(absl::StrCat(absl::ToInt64Milliseconds(d))));
}
inline std::optional<absl::Duration> RetryAfterOf(const absl::Status& s) {
  auto payload = s.GetPayload(kRetryAfterPayloadUrl);
  if (!payload.has_value()) return std::nullopt;
  std::int64_t ms = 0;
  if (!absl::SimpleAtoi(std::string(*payload), &ms) || ms < 0) return std::nullopt;
  return absl::Milliseconds(ms);
}

// CircuitOpenError() / IsCircuitOpen()
//
// The `kUnavailable` status of a call a circuit breaker refused without
// calling the backend, and its test. Retries never retry it; a fallback
// serves it.
inline absl::Status CircuitOpenError(absl::string_view message) {
  absl::Status s = absl::UnavailableError(message);
  s.SetPayload(kCircuitOpenPayloadUrl, absl::Cord("1"));
  return s;
}
inline bool IsCircuitOpen(const absl::Status& s) {
  return s.GetPayload(kCircuitOpenPayloadUrl).has_value();
}

// MarkConnectRefused() / IsConnectRefused()
//
// A transport failure where no connection could be made at all (refused,
// unreachable, DNS): the server is down, nothing was sent. A fallback chain
// answers at once instead of backing off to retry.
inline void MarkConnectRefused(absl::Status* s) {
  if (!s->ok()) s->SetPayload(kConnectRefusedPayloadUrl, absl::Cord("1"));
}
inline bool IsConnectRefused(const absl::Status& s) {
  return s.GetPayload(kConnectRefusedPayloadUrl).has_value();
}

}  // namespace maas

#endif  // MAAS_CORE_STATUS_PAYLOAD_H_
