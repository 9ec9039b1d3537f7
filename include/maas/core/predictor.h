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
//  * No exception leaves `Predict`.
//  * `Predict` may be called from many threads at once unless the
//    implementation's comment says otherwise.
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
#include "absl/types/span.h"
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
    return DoPredict(inputs, outputs);
  }

  // Predictor::Predict(inputs)
  //
  // Convenience overload that allocates one `Tensor` per signature output
  // (in signature order) and returns them. Same errors as above.
  absl::StatusOr<std::vector<Tensor>> Predict(
      absl::Span<const ConstTensorView> inputs) {
    return DoPredictAllocating(inputs);
  }

 protected:
  // DoPredict()
  //
  // The implementation of `Predict(inputs, outputs)`.
  virtual absl::Status DoPredict(absl::Span<const ConstTensorView> inputs,
                                 absl::Span<const TensorView> outputs) = 0;

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
