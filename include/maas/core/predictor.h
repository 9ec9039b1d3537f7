// -----------------------------------------------------------------------------
// File: core/predictor.h
// -----------------------------------------------------------------------------
//
// `maas::Predictor` is THE interface a simulation holds. A local compile-time
// network (`maas::LocalModel`), a remote model on an inference server, a
// fallback chain or a decorator (retries, metrics) all implement it, so the
// caller's code does not change when the model moves.
//
// Contract of every implementation:
//  * Inputs and outputs are validated against `Signature()` before any work:
//    a wrong name, datatype, shape, batch size or buffer size is
//    `kInvalidArgument`, with a message naming the tensor and the numbers.
//  * On any failure the caller's output buffers are left untouched.
//  * No exception leaves `Predict`: the public functions catch anything an
//    implementation throws (`kResourceExhausted` for an allocation failure,
//    `kInternal` otherwise).
//  * `Predict` may be called from many threads at once unless the
//    implementation's comment says otherwise.
//  * With `CallOptions` (core/call.h), the call returns by its deadline
//    (give or take the cost of one local forward pass) and fills the
//    `CallReport` when one is passed.
//
// Example:
//
//   std::unique_ptr<maas::Predictor> model = ...;   // local or remote
//   std::array<float, 16> x{};  std::array<float, 8> y{};
//   absl::Status s = model->Predict(
//       {maas::ConstTensorView("state", absl::MakeConstSpan(x), {1, 16})},
//       {maas::TensorView("force", absl::MakeSpan(y), {1, 8})});
//   if (!s.ok()) std::cerr << s << "\n";

#ifndef MAAS_CORE_PREDICTOR_H_
#define MAAS_CORE_PREDICTOR_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "maas/core/call.h"
#include "maas/core/detail/exception.h"
#include "maas/core/model_signature.h"
#include "maas/core/tensor.h"
#include "maas/core/tensor_view.h"

namespace maas {

// Predictor
//
// Abstract predict interface; see the file comment for the contract. The
// public functions are non-virtual and forward to the protected `Do*` hooks
// (so overloads never hide each other in implementations).
class Predictor {
 public:
  virtual ~Predictor() = default;

  // Predictor::Signature()
  //
  // The model's signature. Local models return it at once; remote models may
  // fetch it from the server on first use (and then fail with that call's
  // status, e.g. `kUnavailable`). Allocates (returns a copy).
  virtual absl::StatusOr<ModelSignature> Signature() = 0;

  // Predictor::Predict(inputs, outputs)
  //
  // Runs the model on `inputs`, writing into the caller's `outputs`. Fails
  // with `kInvalidArgument` for views that do not fit the signature, and with
  // the implementation's codes otherwise (`kUnavailable`, `kDeadlineExceeded`,
  // ... for remote models); on failure `outputs` are untouched.
  absl::Status Predict(absl::Span<const ConstTensorView> inputs,
                       absl::Span<const TensorView> outputs) {
    try {
      return DoPredict(inputs, outputs);
    } catch (...) {  // the barrier: nothing thrown inside leaves maas
      return detail::CurrentExceptionStatus(label());
    }
  }

  // Predictor::Predict(inputs, outputs, options, report)
  //
  // As above, within `options.deadline`: a deadline that has passed is
  // `kDeadlineExceeded` before any work; remote predictors cap their socket
  // waits by it; decorators (retry, fallback) spend it across attempts. When
  // `report` is non-null it is reset and then filled (see `CallReport`).
  //
  // Example:
  //
  //   maas::CallReport r;
  //   absl::Status s = model.Predict({in}, {out},
  //                                  maas::CallOptions::Timeout(absl::Milliseconds(20)), &r);
  absl::Status Predict(absl::Span<const ConstTensorView> inputs,
                       absl::Span<const TensorView> outputs,
                       const CallOptions& options, CallReport* report = nullptr) {
    try {
      if (report != nullptr) *report = CallReport();
      return DoPredictCall(inputs, outputs, options, report);
    } catch (...) {
      return detail::CurrentExceptionStatus(label());
    }
  }

  // Predictor::label()
  //
  // A short name for reports and metrics: "local" for `LocalModel`,
  // "remote" for `RemoteModel`, the configured label for decorators. The
  // text lives as long as the predictor.
  virtual absl::string_view label() const { return "predictor"; }

  // Predictor::Jacobian()
  //
  // The derivatives of the model's output with respect to its input at each
  // row of `inputs`, for models with one input and one output (local
  // networks; maas/local/jacobian.h has the method): `jacobian` receives
  // one output_size x input_size matrix per row, row-major (a view of shape
  // [batch, output_size, input_size] in the model's datatype), and
  // `outputs`, unless empty, the values, as `Predict` writes them (to
  // rounding). Fails with `kUnimplemented` ("<label>: ... offers no
  // derivatives") for a model without them (remote models: KServe V2 and TF
  // Serving have no derivative call), `kInvalidArgument` for views that do
  // not fit, and as the implementation says otherwise; on failure the
  // caller's buffers are untouched. Thread safety as `Predict`.
  //
  // Example (one row of 3 inputs and 2 outputs, double):
  //
  //   double x[3] = {...}, y[2], jac[6];
  //   absl::Status s = model.Jacobian(
  //       {maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 3})},
  //       {maas::TensorView("y", absl::MakeSpan(y), {1, 2})},
  //       maas::TensorView("dy_dx", absl::MakeSpan(jac), {1, 2, 3}));
  absl::Status Jacobian(absl::Span<const ConstTensorView> inputs,
                        absl::Span<const TensorView> outputs, const TensorView& jacobian) {
    try {
      return DoJacobian(inputs, outputs, jacobian);
    } catch (...) {
      return detail::CurrentExceptionStatus(label());
    }
  }

  // Predictor::Predict(inputs)
  //
  // Convenience overload that allocates one `Tensor` per signature output
  // (in signature order) and returns them. Same errors as above.
  absl::StatusOr<std::vector<Tensor>> Predict(
      absl::Span<const ConstTensorView> inputs) {
    try {
      return DoPredictAllocating(inputs);
    } catch (...) {
      return detail::CurrentExceptionStatus(label());
    }
  }

 protected:
  // DoPredict()
  //
  // The implementation of `Predict(inputs, outputs)`.
  virtual absl::Status DoPredict(absl::Span<const ConstTensorView> inputs,
                                 absl::Span<const TensorView> outputs) = 0;

  // DoPredictCall()
  //
  // The implementation of `Predict(inputs, outputs, options, report)`.
  // Default: refuses a passed deadline, calls `DoPredict`, and reports one
  // attempt served by `label()`. Predictors that can honour a deadline
  // inside the call (remote models) or that wrap others (decorators)
  // override it. `report` may be null.
  virtual absl::Status DoPredictCall(absl::Span<const ConstTensorView> inputs,
                                     absl::Span<const TensorView> outputs,
                                     const CallOptions& options,
                                     CallReport* report) {
    return SingleAttempt(options, report, [&] { return DoPredict(inputs, outputs); });
  }

  // SingleAttempt()
  //
  // The default `DoPredictCall` around `attempt` (a callable returning
  // `absl::Status`): a passed deadline is `kDeadlineExceeded` before any
  // work, otherwise `attempt()` runs once and the report (may be null) gets
  // one attempt, served by `label()` on success. For predictors that
  // override `DoPredictCall` only to call their own `DoPredict` without a
  // virtual call (local models).
  template <typename Attempt>
  absl::Status SingleAttempt(const CallOptions& options, CallReport* report, Attempt&& attempt) {
    if (options.has_deadline() && absl::Now() >= options.deadline) {
      return DeadlinePassedError(label());
    }
    absl::Status s = attempt();
    if (report != nullptr) {
      report->attempts = 1;
      if (s.ok()) report->served_by = label();
    }
    return s;
  }

  // DoJacobian()
  //
  // The implementation of `Jacobian`. Default: `kUnimplemented` naming
  // `label()`; local models override it, and so does `FallbackPredictor`.
  virtual absl::Status DoJacobian(absl::Span<const ConstTensorView> /*inputs*/,
                                  absl::Span<const TensorView> /*outputs*/,
                                  const TensorView& /*jacobian*/) {
    return absl::UnimplementedError(
        absl::StrCat(label(), ": this model offers no derivatives (Jacobian)"));
  }

  // DoPredictAllocating()
  //
  // Default: validates the inputs against `Signature()`, allocates outputs of
  // the expected shapes and calls `DoPredict`. Implementations whose output
  // shapes are only known after the call (remote models with dynamic output
  // dimensions) override it.
  virtual absl::StatusOr<std::vector<Tensor>> DoPredictAllocating(
      absl::Span<const ConstTensorView> inputs) {
    absl::StatusOr<ModelSignature> sig = Signature();
    if (!sig.ok()) return sig.status();
    std::vector<ConstTensorView> ordered(sig->inputs.size());
    absl::StatusOr<std::int64_t> batch =
        sig->ValidateInputs(inputs, absl::MakeSpan(ordered));
    if (!batch.ok()) return batch.status();
    std::vector<Tensor> result;
    result.reserve(sig->outputs.size());
    std::vector<TensorView> views;
    views.reserve(sig->outputs.size());
    for (std::size_t i = 0; i < sig->outputs.size(); ++i) {
      const Shape shape = sig->ExpectedOutputShape(i, *batch);
      if (!shape.is_fully_defined()) {
        return absl::UnimplementedError(absl::StrCat(
            "output '", sig->outputs[i].name, "' has dynamic shape ",
            shape.ToString(), "; this predictor cannot size it in advance"));
      }
      result.emplace_back(sig->outputs[i].name, sig->outputs[i].dtype, shape);
    }
    for (Tensor& t : result) views.push_back(t.view());
    if (absl::Status s = DoPredict(inputs, views); !s.ok()) return s;
    return result;
  }
};

}  // namespace maas

#endif  // MAAS_CORE_PREDICTOR_H_
