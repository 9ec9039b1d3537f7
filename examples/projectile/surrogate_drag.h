// -----------------------------------------------------------------------------
// File: examples/projectile/surrogate_drag.h
// -----------------------------------------------------------------------------
//
// `SurrogateDrag` turns any `maas::Predictor` whose model maps log10(Re) to
// log10(Cd) (one input [-1, 1], one output [-1, 1], both FP64 or both FP32) into a drag
// law for physics.h. It only sees the `Predictor` interface, so the model may
// be a local network or, equally, a remote one.
//
// Example:
//
//   auto drag = SurrogateDrag::Create(predictor);
//   if (!drag.ok()) return drag.status();
//   absl::StatusOr<double> cd = (*drag)(1.0e4);
//
// Thread safety: one instance per thread (it counts calls); the predictor
// must outlive it.

#ifndef MAAS_EXAMPLES_PROJECTILE_SURROGATE_DRAG_H_
#define MAAS_EXAMPLES_PROJECTILE_SURROGATE_DRAG_H_

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "absl/time/time.h"
#include "maas/core/call.h"
#include "maas/core/data_type.h"
#include "maas/core/model_signature.h"
#include "maas/core/predictor.h"
#include "maas/core/status_payload.h"
#include "maas/core/tensor_view.h"

namespace projectile {

// SurrogateDrag
//
// See the file comment.
class SurrogateDrag {
 public:
  // SurrogateDrag::Create()
  //
  // Reads the predictor's signature and checks it has one input and one
  // output of shape [-1, 1] (or [1, 1]) and datatype FP64 or FP32. Fails with
  // `kInvalidArgument` naming what differs, or with `Signature()`'s status.
  static absl::StatusOr<SurrogateDrag> Create(maas::Predictor& predictor) {
    absl::StatusOr<maas::ModelSignature> sig = predictor.Signature();
    if (!sig.ok()) return sig.status();
    if (sig->inputs.size() != 1 || sig->outputs.size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "drag model '", sig->name, "': expected 1 input and 1 output, got ",
          sig->inputs.size(), " and ", sig->outputs.size()));
    }
    for (const maas::TensorSpec* t : {&sig->inputs[0], &sig->outputs[0]}) {
      const bool shape_ok = t->shape.rank() == 2 && t->shape.dim(1) == 1 &&
                            (t->shape.dim(0) == maas::kDynamic || t->shape.dim(0) == 1);
      if (!shape_ok || (t->dtype != maas::DataType::kFloat64 &&
                        t->dtype != maas::DataType::kFloat32)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "drag model '", sig->name, "': tensor '", t->name,
            "' must be FP64 or FP32 of shape [-1,1], got ",
            maas::DataTypeName(t->dtype), t->shape.ToString()));
      }
    }
    if (sig->inputs[0].dtype != sig->outputs[0].dtype) {
      return absl::InvalidArgumentError(absl::StrCat(
          "drag model '", sig->name, "': input and output datatypes differ (",
          maas::DataTypeName(sig->inputs[0].dtype), " vs ",
          maas::DataTypeName(sig->outputs[0].dtype), ")"));
    }
    return SurrogateDrag(predictor, *sig);
  }

  // SurrogateDrag::operator()
  //
  // Cd at Reynolds number `re` (> 0): 10^model(log10(re)). One
  // `Predictor::Predict` call on caller-owned scalars (no allocation for a
  // local model; the input is also appended to the replay record of
  // ReplayNsPerCall, at most 2^20 values). Fails with `kInvalidArgument` for
  // re <= 0 and with the predictor's status otherwise.
  absl::StatusOr<double> operator()(double re) {
    if (!(re > 0)) {
      return absl::InvalidArgumentError(absl::StrCat("Reynolds number ", re, " is not > 0"));
    }
    const double x = std::log10(re);
    if (replay_.size() < kMaxReplay) replay_.push_back(x);
    double y = 0;
    absl::Status s;
    if (call_timeout_ == absl::InfiniteDuration()) {
      s = Call(x, &y);
    } else {
      maas::CallReport report;
      s = Call(x, &y, &report);
      Record(report, s);
    }
    ++calls_;
    if (!s.ok()) return s;
    return std::pow(10.0, y);
  }

  // SurrogateDrag::ReplayNsPerCall()
  //
  // The cost of one `Predictor::Predict` call as the drag law makes it,
  // without a clock read per call: the model inputs of the calls so far (the
  // first 2^20) go through the predictor again in one timed loop, `rounds`
  // times; returns the median over the rounds of the mean wall time per call
  // in nanoseconds. Fails with the first call's error, or
  // `kFailedPrecondition` before any call. Meant for a local model (each
  // replayed call of a remote one is a network round trip).
  absl::StatusOr<double> ReplayNsPerCall(int rounds) {
    if (replay_.empty() || rounds < 1) {
      return absl::FailedPreconditionError("no drag-law calls to replay");
    }
    std::vector<double> means;
    double sink = 0;
    for (int r = 0; r < rounds; ++r) {
      const auto start = std::chrono::steady_clock::now();
      for (const double x : replay_) {
        double y = 0;
        if (absl::Status s = Call(x, &y); !s.ok()) return s;
        sink += y;
      }
      const std::chrono::duration<double, std::nano> t = std::chrono::steady_clock::now() - start;
      means.push_back(t.count() / static_cast<double>(replay_.size()));
    }
    sink_ = sink;
    std::sort(means.begin(), means.end());
    return means[means.size() / 2];
  }

  // SurrogateDrag::TrackBackends()
  //
  // From now on every call gets a deadline `timeout` from its start and a
  // `maas::CallReport`; `timeline()` then says which backend served which
  // calls (for a fallback chain: "remote" or "local").
  void TrackBackends(absl::Duration timeout) { call_timeout_ = timeout; }

  // Segment
  //
  // Calls [first, last] (1-based) served by `backend`; for a segment served
  // by a fallback, `reason` is the primary's status code (e.g. UNAVAILABLE).
  struct Segment {
    std::string backend;
    std::string reason;
    std::int64_t first = 0, last = 0;
  };

  // SurrogateDrag::timeline()
  //
  // The run-length record of who served (TrackBackends() mode).
  const std::vector<Segment>& timeline() const { return timeline_; }

  // calls()
  //
  // Number of Predict calls so far.
  std::int64_t calls() const { return calls_; }

  // model_name(), model_version()
  //
  // From the predictor's signature.
  const std::string& model_name() const { return name_; }
  const std::string& model_version() const { return version_; }
  const std::string& input_name() const { return input_; }
  const std::string& output_name() const { return output_; }

 private:
  SurrogateDrag(maas::Predictor& predictor, const maas::ModelSignature& sig)
      : predictor_(&predictor),
        name_(sig.name),
        version_(sig.version),
        input_(sig.inputs[0].name),
        output_(sig.outputs[0].name),
        fp64_(sig.inputs[0].dtype == maas::DataType::kFloat64) {}

  // One Predict call on x = log10(Re), writing log10(Cd) to *y; with a
  // deadline and a report when `report` is non-null. The views are built per
  // call, as a simulation's own loop would.
  absl::Status Call(double x, double* y, maas::CallReport* report = nullptr) {
    const float xf = static_cast<float>(x);
    float yf = 0;
    const maas::ConstTensorView in =
        fp64_ ? maas::ConstTensorView(input_, absl::MakeConstSpan(&x, 1), {1, 1})
              : maas::ConstTensorView(input_, absl::MakeConstSpan(&xf, 1), {1, 1});
    const maas::TensorView out = fp64_ ? maas::TensorView(output_, absl::MakeSpan(y, 1), {1, 1})
                                       : maas::TensorView(output_, absl::MakeSpan(&yf, 1), {1, 1});
    absl::Status s =
        report == nullptr
            ? predictor_->Predict({&in, 1}, {&out, 1})
            : predictor_->Predict({&in, 1}, {&out, 1}, maas::CallOptions::Timeout(call_timeout_),
                                  report);
    if (!fp64_ && s.ok()) *y = yf;
    return s;
  }

  void Record(const maas::CallReport& r, const absl::Status& s) {
    const std::string backend = s.ok() ? std::string(r.served_by) : std::string("failed");
    const std::string reason =
        r.fell_back && !r.primary_status.ok()
            ? (maas::IsCircuitOpen(r.primary_status)
                   ? std::string("circuit open")
                   : absl::StatusCodeToString(r.primary_status.code()))
            : std::string();
    const std::int64_t call = calls_ + 1;
    if (timeline_.empty() || timeline_.back().backend != backend) {
      timeline_.push_back(Segment{backend, reason, call, call});
    } else {
      timeline_.back().last = call;
      if (timeline_.back().reason.empty()) timeline_.back().reason = reason;
    }
  }

  maas::Predictor* predictor_;
  std::string name_, version_, input_, output_;
  bool fp64_;
  absl::Duration call_timeout_ = absl::InfiniteDuration();
  std::vector<Segment> timeline_;
  std::int64_t calls_ = 0;
  static constexpr std::size_t kMaxReplay = std::size_t{1} << 20;
  std::vector<double> replay_;
  double sink_ = 0;  // keeps the replayed results observable
};

}  // namespace projectile

#endif  // MAAS_EXAMPLES_PROJECTILE_SURROGATE_DRAG_H_
