// -----------------------------------------------------------------------------
// File: core/call.h
// -----------------------------------------------------------------------------
//
// Per-call options and the per-call report of `maas::Predictor::Predict`.
//
// `maas::CallOptions` gives one call an absolute deadline: retries, backoff
// waits, the fallback and the transport's socket waits all spend the same
// budget, so a time step never waits longer than the simulation allowed.
// `maas::CallReport` tells afterwards what happened: which predictor served
// the call, how many attempts the primary took, whether the call fell back
// and why.
//
// Example:
//
//   maas::CallReport report;
//   absl::Status s = model.Predict(
//       {in}, {out}, maas::CallOptions::Timeout(absl::Milliseconds(50)), &report);
//   if (s.ok() && report.fell_back) {
//     std::cerr << "step served by " << report.served_by << " after "
//               << report.primary_status << "\n";
//   }

#ifndef MAAS_CORE_CALL_H_
#define MAAS_CORE_CALL_H_

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace maas {

// CallOptions
//
// Options of one predict call. A plain value; cheap to copy.
//
//  * `deadline`: the absolute time by which the call must have returned.
//    `absl::InfiniteFuture()` (the default) means "no deadline of the
//    caller's": each predictor's own configured timeouts apply. A call whose
//    deadline has already passed fails at once with `kDeadlineExceeded`
//    without touching the outputs.
struct CallOptions {
  absl::Time deadline = absl::InfiniteFuture();

  // CallOptions::Timeout()
  //
  // Options with the deadline `timeout` from `now`.
  static CallOptions Timeout(absl::Duration timeout, absl::Time now = absl::Now()) {
    CallOptions o;
    o.deadline = now + timeout;
    return o;
  }

  // CallOptions::has_deadline()
  bool has_deadline() const { return deadline != absl::InfiniteFuture(); }
};

// CallReport
//
// What happened in one predict call; filled by `Predictor::Predict(inputs,
// outputs, options, report)` when `report` is non-null (the call resets it
// first). A plain value; not thread-safe to share between concurrent calls.
//
//  * `served_by`: the label of the predictor whose answer is in the outputs
//    ("local", "remote", or a label given to it); empty when the call
//    failed. The text is owned by that predictor: valid while it lives.
//  * `attempts`: attempts made at the primary backend, the first included
//    (0 when none was made, e.g. the circuit was open).
//  * `retry_wait`: total time slept between attempts (backoff, Retry-After).
//  * `fell_back`: the outputs come from a fallback predictor.
//  * `circuit_open`: a circuit breaker refused the primary without calling it.
//  * `non_finite`: a reply was rejected because it held NaN or Inf.
//  * `primary_status`: the primary's last failure (OK when it never failed);
//    on a failed call, the call's status is the last predictor's.
//  * `elapsed`: wall time of the whole call, as the outermost predictor
//    that keeps time measured it (zero when none did).
struct CallReport {
  absl::string_view served_by;
  int attempts = 0;
  absl::Duration retry_wait;
  bool fell_back = false;
  bool circuit_open = false;
  bool non_finite = false;
  absl::Status primary_status;
  absl::Duration elapsed;
};

// DeadlinePassedError()
//
// The status of a call refused because its deadline had passed before it
// started (or before a further attempt could start): `kDeadlineExceeded`.
inline absl::Status DeadlinePassedError(absl::string_view where) {
  return absl::DeadlineExceededError(
      absl::StrCat(where, ": the call's deadline has passed"));
}

}  // namespace maas

#endif  // MAAS_CORE_CALL_H_
