// -----------------------------------------------------------------------------
// File: remote/http_status.h
// -----------------------------------------------------------------------------
//
// THE one table that turns remote failures into `absl::Status` codes. Retry,
// fallback and circuit-breaker decorators dispatch on these codes, so the
// mapping is a contract:
//
//   failure                                        code
//   ---------------------------------------------  ----------------------
//   connection refused / reset / closed, DNS,      kUnavailable
//     HTTP 502, HTTP 503
//   connect/read/write timeout, total deadline,    kDeadlineExceeded
//     HTTP 504
//   HTTP 429                                       kResourceExhausted
//   reply larger than the configured limit         kResourceExhausted (no
//                                                  HTTP status payload)
//   HTTP 400, 413, 422 (and other 4xx not listed)  kInvalidArgument
//   HTTP 401                                       kUnauthenticated
//   HTTP 403                                       kPermissionDenied
//   HTTP 404                                       kNotFound
//   HTTP 409                                       kAlreadyExists
//   HTTP 501                                       kUnimplemented
//   HTTP 500 and other 5xx                         kInternal
//   TLS certificate not trusted / host mismatch,   kFailedPrecondition
//     client certificate unusable
//   https:// without TLS support in the build      kUnimplemented
//   allocation failure inside the call             kResourceExhausted
//   unexpected exception inside the transport      kInternal
//   complete reply that does not parse, or whose   kDataLoss
//     tensors disagree with the signature
//
// Messages are lower-case, name the endpoint and path, and carry the
// server's own error text (as extracted by the protocol codec, e.g.
// `KServeV2ErrorMessage()`), e.g.
//
//   http://127.0.0.1:8080 POST /v2/models/drag/infer: HTTP 404 Not Found:
//   model drag does not exist
//
// An HTTP status travels as a payload under `kHttpStatusPayloadUrl` (read it
// back with `HttpStatusOf()`, core/status_payload.h), and a server's
// Retry-After as another (`RetryAfterOf()`); transport failures carry
// neither.
// Credentials are never part of a message: callers pass only URL and path.
//
// All functions are pure and thread-safe.

#ifndef MAAS_REMOTE_HTTP_STATUS_H_
#define MAAS_REMOTE_HTTP_STATUS_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "maas/core/status_payload.h"

namespace maas {

// TransportFailure
//
// Every way a transport can fail to obtain a complete HTTP response.
enum class TransportFailure {
  kConnectRefused,      // nothing listens / host unreachable / DNS failure
  kConnectionClosed,    // reset or closed before the reply was complete
  kConnectTimeout,      // no connection within connect_timeout
  kReadTimeout,         // a read waited longer than read_timeout
  kWriteTimeout,        // a write waited longer than write_timeout
  kDeadline,            // the total timeout passed
  kResponseTooLarge,    // the reply exceeds max_response_bytes
  kTlsVerification,     // certificate not trusted or wrong host
  kTlsUnsupported,      // https:// but the build has no TLS
  kMalformedReply,      // bytes arrived that are not HTTP
  kInvalidUrl,          // the base URL cannot be used
  kOutOfMemory,         // an allocation failed during the call
  kInternalError,       // an unexpected exception inside the transport
};

namespace detail {

struct TransportFailureRow {
  TransportFailure failure;
  absl::StatusCode code;
  absl::string_view text;
};

// The transport half of the table (the HTTP half is HttpStatusToCode()).
inline constexpr TransportFailureRow kTransportFailureTable[] = {
    {TransportFailure::kConnectRefused, absl::StatusCode::kUnavailable,
     "cannot connect"},
    {TransportFailure::kConnectionClosed, absl::StatusCode::kUnavailable,
     "connection closed before a complete reply"},
    {TransportFailure::kConnectTimeout, absl::StatusCode::kDeadlineExceeded,
     "connect timed out"},
    {TransportFailure::kReadTimeout, absl::StatusCode::kDeadlineExceeded,
     "timed out waiting for the reply"},
    {TransportFailure::kWriteTimeout, absl::StatusCode::kDeadlineExceeded,
     "timed out sending the request"},
    {TransportFailure::kDeadline, absl::StatusCode::kDeadlineExceeded,
     "total timeout exceeded"},
    {TransportFailure::kResponseTooLarge,
     absl::StatusCode::kResourceExhausted, "reply exceeds the size limit"},
    {TransportFailure::kTlsVerification,
     absl::StatusCode::kFailedPrecondition,
     "TLS server certificate verification failed"},
    {TransportFailure::kTlsUnsupported, absl::StatusCode::kUnimplemented,
     "https is not supported by this build (libcurl without TLS)"},
    {TransportFailure::kMalformedReply, absl::StatusCode::kDataLoss,
     "malformed HTTP reply"},
    {TransportFailure::kInvalidUrl, absl::StatusCode::kInvalidArgument,
     "invalid server URL"},
    {TransportFailure::kOutOfMemory, absl::StatusCode::kResourceExhausted,
     "out of memory"},
    {TransportFailure::kInternalError, absl::StatusCode::kInternal,
     "internal error in the transport"},
};

}  // namespace detail

// TransportFailureCode()
//
// The status code for a transport failure (see the table above).
constexpr absl::StatusCode TransportFailureCode(TransportFailure f) {
  for (const auto& row : detail::kTransportFailureTable) {
    if (row.failure == f) return row.code;
  }
  return absl::StatusCode::kUnknown;
}

// HttpStatusToCode()
//
// The status code for an HTTP status: `kOk` for 1xx-3xx (3xx are not
// followed; a caller that gets one decides), the table above otherwise.
constexpr absl::StatusCode HttpStatusToCode(int http_status) {
  switch (http_status) {
    case 400: return absl::StatusCode::kInvalidArgument;
    case 401: return absl::StatusCode::kUnauthenticated;
    case 403: return absl::StatusCode::kPermissionDenied;
    case 404: return absl::StatusCode::kNotFound;
    case 409: return absl::StatusCode::kAlreadyExists;
    case 429: return absl::StatusCode::kResourceExhausted;
    case 501: return absl::StatusCode::kUnimplemented;
    case 502: return absl::StatusCode::kUnavailable;
    case 503: return absl::StatusCode::kUnavailable;
    case 504: return absl::StatusCode::kDeadlineExceeded;
    default: break;
  }
  if (http_status >= 500 && http_status <= 599) {
    return absl::StatusCode::kInternal;
  }
  if (http_status >= 400 && http_status <= 499) {
    return absl::StatusCode::kInvalidArgument;
  }
  if (http_status >= 100 && http_status <= 399) return absl::StatusCode::kOk;
  return absl::StatusCode::kDataLoss;  // not an HTTP status at all
}

// HttpReasonPhrase()
//
// The standard reason phrase for common statuses ("Not Found"), else "".
constexpr absl::string_view HttpReasonPhrase(int http_status) {
  switch (http_status) {
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "";
  }
}

// HttpErrorStatus()
//
// The status for an HTTP reply with a non-success status: the code from
// `HttpStatusToCode()`, the message "<where>: HTTP <n> <reason>[: <server
// text>]" and the HTTP status as a payload. `where` names the endpoint and
// path (never credentials); `server_text` is the server's error text, already
// extracted from the body and shortened by the codec; `retry_after` is the
// reply's Retry-After (see `ParseRetryAfter()`), stored as a payload. Returns
// OK for statuses below 400.
inline absl::Status HttpErrorStatus(int http_status, absl::string_view where,
                                    absl::string_view server_text,
                                    std::optional<absl::Duration> retry_after = std::nullopt) {
  absl::StatusCode code = HttpStatusToCode(http_status);
  if (code == absl::StatusCode::kOk) return absl::OkStatus();
  std::string msg = absl::StrCat(where, ": HTTP ", http_status);
  absl::string_view reason = HttpReasonPhrase(http_status);
  if (!reason.empty()) absl::StrAppend(&msg, " ", reason);
  if (!server_text.empty()) absl::StrAppend(&msg, ": ", server_text);
  absl::Status s(code, msg);
  s.SetPayload(kHttpStatusPayloadUrl, absl::Cord(absl::StrCat(http_status)));
  if (retry_after.has_value()) SetRetryAfter(&s, *retry_after);
  return s;
}

// ParseRetryAfter()
//
// The delay of an HTTP Retry-After value at time `now`: delta-seconds
// ("120") or an HTTP-date ("Wed, 21 Oct 2026 07:28:00 GMT", a past date
// meaning 0). nullopt when the value is neither.
inline std::optional<absl::Duration> ParseRetryAfter(absl::string_view value, absl::Time now) {
  value = absl::StripAsciiWhitespace(value);
  std::int64_t seconds = 0;
  if (absl::SimpleAtoi(value, &seconds)) {
    if (seconds < 0) return std::nullopt;
    return absl::Seconds(std::min<std::int64_t>(seconds, 365LL * 86400));
  }
  absl::Time when;
  std::string err;
  if (absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", std::string(value), absl::UTCTimeZone(), &when,
                      &err)) {
    return when > now ? when - now : absl::ZeroDuration();
  }
  return std::nullopt;
}

// TransportErrorStatus()
//
// The status for a transport failure: the table's code and the message
// "<where>: <what happened>[ (<detail>)]". `detail` adds specifics such as
// "after 2s" or the OS error text; it must not contain credentials. A
// kConnectRefused failure is marked (`IsConnectRefused()`).
inline absl::Status TransportErrorStatus(TransportFailure failure,
                                         absl::string_view where,
                                         absl::string_view detail = "") {
  absl::string_view text = "transport failure";
  for (const auto& row : detail::kTransportFailureTable) {
    if (row.failure == failure) text = row.text;
  }
  std::string msg = absl::StrCat(where, ": ", text);
  if (!detail.empty()) absl::StrAppend(&msg, " (", detail, ")");
  absl::Status s(TransportFailureCode(failure), msg);
  if (failure == TransportFailure::kConnectRefused) MarkConnectRefused(&s);
  return s;
}

}  // namespace maas

#endif  // MAAS_REMOTE_HTTP_STATUS_H_
