// Tests for remote/http_status.h: the one failure -> absl code table.
#include "maas/remote/http_status.h"

#include <string>

#include "absl/status/status.h"
#include "doctest/doctest.h"
#include "testing/status_doctest.h"

using absl::StatusCode;

TEST_SUITE("HttpStatus") {
  TEST_CASE("HTTP statuses map to the documented codes") {
    struct Row {
      int http;
      StatusCode code;
    };
    const Row rows[] = {
        {200, StatusCode::kOk},
        {204, StatusCode::kOk},
        {302, StatusCode::kOk},
        {400, StatusCode::kInvalidArgument},
        {401, StatusCode::kUnauthenticated},
        {403, StatusCode::kPermissionDenied},
        {404, StatusCode::kNotFound},
        {409, StatusCode::kAlreadyExists},
        {413, StatusCode::kInvalidArgument},
        {422, StatusCode::kInvalidArgument},
        {429, StatusCode::kResourceExhausted},
        {500, StatusCode::kInternal},
        {501, StatusCode::kUnimplemented},
        {502, StatusCode::kUnavailable},
        {503, StatusCode::kUnavailable},
        {504, StatusCode::kDeadlineExceeded},
        {507, StatusCode::kInternal},
        {599, StatusCode::kInternal},
        {0, StatusCode::kDataLoss},
        {999, StatusCode::kDataLoss},
    };
    for (const Row& r : rows) {
      CAPTURE(r.http);
      CHECK(maas::HttpStatusToCode(r.http) == r.code);
    }
  }

  TEST_CASE("transport failures map to the documented codes") {
    using F = maas::TransportFailure;
    CHECK(maas::TransportFailureCode(F::kConnectRefused) == StatusCode::kUnavailable);
    CHECK(maas::TransportFailureCode(F::kConnectionClosed) == StatusCode::kUnavailable);
    CHECK(maas::TransportFailureCode(F::kConnectTimeout) == StatusCode::kDeadlineExceeded);
    CHECK(maas::TransportFailureCode(F::kReadTimeout) == StatusCode::kDeadlineExceeded);
    CHECK(maas::TransportFailureCode(F::kWriteTimeout) == StatusCode::kDeadlineExceeded);
    CHECK(maas::TransportFailureCode(F::kDeadline) == StatusCode::kDeadlineExceeded);
    CHECK(maas::TransportFailureCode(F::kResponseTooLarge) == StatusCode::kResourceExhausted);
    CHECK(maas::TransportFailureCode(F::kTlsVerification) == StatusCode::kFailedPrecondition);
    CHECK(maas::TransportFailureCode(F::kTlsUnsupported) == StatusCode::kUnimplemented);
    CHECK(maas::TransportFailureCode(F::kMalformedReply) == StatusCode::kDataLoss);
    CHECK(maas::TransportFailureCode(F::kInvalidUrl) == StatusCode::kInvalidArgument);
  }

  TEST_CASE("an HTTP error status carries where, reason, server text and the HTTP status payload") {
    absl::Status s = maas::HttpErrorStatus(
        404, "http://127.0.0.1:8080 POST /v2/models/drag/infer",
        "model drag does not exist");
    CHECK(s.code() == StatusCode::kNotFound);
    CHECK(s.message() ==
          "http://127.0.0.1:8080 POST /v2/models/drag/infer: HTTP 404 Not "
          "Found: model drag does not exist");
    REQUIRE(maas::HttpStatusOf(s).has_value());
    CHECK(*maas::HttpStatusOf(s) == 404);
  }

  TEST_CASE("an HTTP error status without server text or known reason stays readable") {
    absl::Status s = maas::HttpErrorStatus(418, "here", "");
    CHECK(s.code() == StatusCode::kInvalidArgument);
    CHECK(s.message() == "here: HTTP 418");
    CHECK(maas::HttpStatusOf(s) == 418);
  }

  TEST_CASE("success statuses give OK") {
    CHECK(maas::HttpErrorStatus(200, "here", "ignored").ok());
  }

  TEST_CASE("transport errors have a message and no HTTP status payload") {
    absl::Status s = maas::TransportErrorStatus(
        maas::TransportFailure::kReadTimeout, "http://h:1 GET /v2", "after 2s");
    CHECK(s.code() == StatusCode::kDeadlineExceeded);
    CHECK(s.message() == "http://h:1 GET /v2: timed out waiting for the reply (after 2s)");
    CHECK_FALSE(maas::HttpStatusOf(s).has_value());
    CHECK_FALSE(maas::HttpStatusOf(absl::UnavailableError("x")).has_value());
  }
}

TEST_SUITE("Retry-After") {
  TEST_CASE("delta-seconds and HTTP-dates are parsed; garbage is not") {
    const absl::Time now = absl::FromUnixSeconds(1700000000);  // Tue, 14 Nov 2023 22:13:20 GMT
    CHECK(maas::ParseRetryAfter("120", now) == absl::Seconds(120));
    CHECK(maas::ParseRetryAfter(" 0 ", now) == absl::ZeroDuration());
    CHECK(maas::ParseRetryAfter("Tue, 14 Nov 2023 22:13:50 GMT", now) == absl::Seconds(30));
    CHECK(maas::ParseRetryAfter("Tue, 14 Nov 2023 22:00:00 GMT", now) == absl::ZeroDuration());
    CHECK_FALSE(maas::ParseRetryAfter("-5", now).has_value());
    CHECK_FALSE(maas::ParseRetryAfter("soon", now).has_value());
    CHECK(maas::ParseRetryAfter("99999999999", now) == absl::Seconds(365LL * 86400));
  }

  TEST_CASE("an HTTP error status carries Retry-After as a payload") {
    absl::Status s = maas::HttpErrorStatus(503, "http://h:1 POST /x", "busy", absl::Seconds(2));
    CHECK(s.code() == absl::StatusCode::kUnavailable);
    CHECK(maas::RetryAfterOf(s) == absl::Seconds(2));
    CHECK(maas::HttpStatusOf(s) == 503);
    CHECK_FALSE(maas::RetryAfterOf(maas::HttpErrorStatus(503, "w", "t")).has_value());
  }
}
