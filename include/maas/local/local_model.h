// -----------------------------------------------------------------------------
// File: local/local_model.h
// -----------------------------------------------------------------------------
//
// `maas::LocalModel<Net>` puts a compile-time `maas::Network` behind the one
// `maas::Predictor` interface: it owns the network and a `ModelSignature`
// (one input `[-1, kInputSize]`, one output `[-1, kOutputSize]`, datatype of
// the network's element type), validates views, then runs the network on the
// caller's memory directly (zero copies).
//
// Usually built by `maas::LoadLocalModel<Net>()` (model_file.h) from a model
// file; `Create()` takes a network you filled yourself.
//
// Example:
//
//   absl::StatusOr<std::unique_ptr<maas::LocalModel<Net>>> model =
//       maas::LoadLocalModel<Net>("drag.json");
//   if (!model.ok()) return model.status();
//   absl::Status s = (*model)->Predict({in}, {out});     // Predictor API
//   absl::Status t = (*model)->PredictRows(x, y);        // typed fast path
//
// Thread safety: Predict and PredictRows may be called from any number of
// threads at once; the model is immutable after construction.

#ifndef MAAS_LOCAL_LOCAL_MODEL_H_
#define MAAS_LOCAL_LOCAL_MODEL_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/optimization.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "maas/core/call.h"
#include "maas/core/data_type.h"
#include "maas/core/model_signature.h"
#include "maas/core/predictor.h"
#include "maas/core/shape.h"
#include "maas/core/tensor_view.h"
#include "maas/local/jacobian.h"
#include "maas/local/network.h"

namespace maas {

namespace detail {

// SameName()
//
// a == b, inline (tensor names are short; a library memcmp call costs more
// than the comparison).
inline bool SameName(absl::string_view a, const std::string& b) {
  std::size_t n = a.size();
  if (n != b.size()) return false;
  const char* p = a.data();
  const char* q = b.data();
  if (p == q) return true;
  for (; n >= 8; n -= 8, p += 8, q += 8) {
    std::uint64_t x, y;
    std::memcpy(&x, p, 8);
    std::memcpy(&y, q, 8);
    if (x != y) return false;
  }
  // The last n < 8 bytes as two overlapping 4- or 2-byte words.
  if (n >= 4) {
    std::uint32_t x0, y0, x1, y1;
    std::memcpy(&x0, p, 4);
    std::memcpy(&y0, q, 4);
    std::memcpy(&x1, p + n - 4, 4);
    std::memcpy(&y1, q + n - 4, 4);
    return ((x0 ^ y0) | (x1 ^ y1)) == 0;
  }
  if (n >= 2) {
    std::uint16_t x0, y0, x1, y1;
    std::memcpy(&x0, p, 2);
    std::memcpy(&y0, q, 2);
    std::memcpy(&x1, p + n - 2, 2);
    std::memcpy(&y1, q + n - 2, 2);
    return ((x0 ^ y0) | (x1 ^ y1)) == 0;
  }
  return n == 0 || *p == *q;
}

// OneInOneOutRows()
//
// The local models' fast path. True, with the row count, when the views are
// one input and one output that `ModelSignature::ValidateInputs` /
// `ValidateOutputs` would accept for a signature with one input `in_name`
// [-1, n_in] and one output `out_name` [-1, n_out] of `dtype` and batch
// limit `max_batch` (0: none): names (or empty names), datatypes, shapes
// [rows, n_in] and [rows, n_out], exact buffer sizes (checked so that no
// product can overflow), non-null data, the batch limit. False for anything
// else, including every error (the caller then runs the full validation,
// which words the message).
inline bool OneInOneOutRows(absl::Span<const ConstTensorView> inputs,
                            absl::Span<const TensorView> outputs, DataType dtype,
                            std::size_t n_in, std::size_t n_out,
                            const std::string& in_name, const std::string& out_name,
                            std::int64_t max_batch, std::size_t* rows) {
  if (inputs.size() != 1 || outputs.size() != 1) return false;
  const ConstTensorView& in = inputs[0];
  const TensorView& out = outputs[0];
  const Shape& is = in.shape();
  const Shape& os = out.shape();
  if (in.dtype() != dtype || out.dtype() != dtype || is.rank() != 2 || os.rank() != 2 ||
      !is.valid() || !os.valid()) {
    return false;
  }
  const std::int64_t batch = is.dim(0);
  if (batch < 0 || os.dim(0) != batch || is.dim(1) != static_cast<std::int64_t>(n_in) ||
      os.dim(1) != static_cast<std::int64_t>(n_out) ||
      (max_batch > 0 && batch > max_batch)) {
    return false;
  }
  const auto n = static_cast<std::size_t>(batch);
  const std::size_t elem = DataTypeSize(dtype);
  const std::size_t in_bytes = n_in * elem;
  const std::size_t out_bytes = n_out * elem;
  const std::size_t max_rows = ~std::size_t{0} / (in_bytes > out_bytes ? in_bytes : out_bytes);
  if (n > max_rows || in.byte_size() != n * in_bytes || out.byte_size() != n * out_bytes ||
      (n != 0 && (in.raw_data() == nullptr || out.raw_data() == nullptr))) {
    return false;
  }
  if ((!in.name().empty() && !SameName(in.name(), in_name)) ||
      (!out.name().empty() && !SameName(out.name(), out_name))) {
    return false;
  }
  *rows = n;
  return true;
}

}  // namespace detail

// LocalModel<Net>
//
// See the file comment. `Net` is a `maas::Network<T, Layers...>`.
template <typename Net>
class LocalModel final : public Predictor {
 public:
  using T = typename Net::ValueType;

  // LocalModel::DefaultSignature()
  //
  // Input "input" [-1, kInputSize] and output "output" [-1, kOutputSize] of
  // the network's datatype, with the given model name and version.
  static ModelSignature DefaultSignature(std::string name = "model",
                                         std::string version = "") {
    ModelSignature sig;
    sig.name = std::move(name);
    sig.version = std::move(version);
    sig.inputs.push_back(
        {"input", DataTypeOf<T>(),
         {kDynamic, static_cast<std::int64_t>(Net::kInputSize)}});
    sig.outputs.push_back(
        {"output", DataTypeOf<T>(),
         {kDynamic, static_cast<std::int64_t>(Net::kOutputSize)}});
    return sig;
  }

  // LocalModel::Create()
  //
  // Takes ownership of `net` (non-null) and checks that `signature` has one
  // input `[-1, kInputSize]` and one output `[-1, kOutputSize]` of the
  // network's datatype. Fails with `kInvalidArgument` saying what differs.
  static absl::StatusOr<std::unique_ptr<LocalModel>> Create(
      std::unique_ptr<const Net> net, ModelSignature signature) {
    if (net == nullptr) {
      return absl::InvalidArgumentError("LocalModel::Create: network is null");
    }
    const ModelSignature want = DefaultSignature();
    if (signature.inputs.size() != 1 || signature.outputs.size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a local network has 1 input and 1 output; the signature has ",
          signature.inputs.size(), " and ", signature.outputs.size()));
    }
    for (auto [spec, ref, kind] :
         {std::tuple(&signature.inputs[0], &want.inputs[0], "input"),
          std::tuple(&signature.outputs[0], &want.outputs[0], "output")}) {
      if (spec->dtype != ref->dtype || spec->shape != ref->shape) {
        return absl::InvalidArgumentError(absl::StrCat(
            kind, " '", spec->name, "': the network needs ",
            DataTypeName(ref->dtype), ref->shape.ToString(), ", the signature says ",
            DataTypeName(spec->dtype), spec->shape.ToString()));
      }
    }
    return std::unique_ptr<LocalModel>(
        new LocalModel(std::move(net), std::move(signature)));
  }

  // network(), signature()
  //
  // The wrapped network and signature (no copy).
  const Net& network() const { return *net_; }
  const ModelSignature& signature() const { return signature_; }

  // LocalModel::Signature()
  //
  // A copy of the signature; never fails.
  absl::StatusOr<ModelSignature> Signature() override { return signature_; }

  // LocalModel::label()
  //
  // "local".
  absl::string_view label() const override { return "local"; }

  // LocalModel::PredictRows()
  //
  // Typed fast path: `x` holds rows of kInputSize values, `y` the same number
  // of rows of kOutputSize. Fails with `kInvalidArgument` when the sizes do
  // not agree (y untouched). Real-time safe: no allocation, no locks, no
  // exceptions (on success).
  absl::Status PredictRows(absl::Span<const T> x, absl::Span<T> y) const {
    const std::size_t rows = x.size() / Net::kInputSize;
    if (x.size() % Net::kInputSize != 0 || y.size() != rows * Net::kOutputSize) {
      return absl::InvalidArgumentError(absl::StrCat(
          "PredictRows: ", x.size(), " inputs are not whole rows of ",
          Net::kInputSize, " matching ", y.size(), " outputs in rows of ",
          Net::kOutputSize));
    }
    net_->ForwardBatch(x.data(), rows, y.data());
    return absl::OkStatus();
  }

 protected:
  // DoPredict()
  //
  // A one-input, one-output call whose views fit (the common case) is
  // recognised by a few comparisons against values precomputed at
  // construction and runs at once; anything else goes through
  // `ModelSignature::ValidateInputs/ValidateOutputs`, which accept exactly the
  // same calls and word every rejection. Allocation-free on success.
  absl::Status DoPredict(absl::Span<const ConstTensorView> inputs,
                         absl::Span<const TensorView> outputs) override {
    std::size_t rows = 0;
    if (ABSL_PREDICT_TRUE(FastPathRows(inputs, outputs, &rows))) {
      net_->ForwardBatch(static_cast<const T*>(inputs[0].raw_data()), rows,
                         static_cast<T*>(outputs[0].raw_data()));
      return absl::OkStatus();
    }
    return ValidatedPredict(inputs, outputs);
  }

  // DoPredictCall()
  //
  // As `Predictor`'s default (a passed deadline is `kDeadlineExceeded`
  // before any work; the report gets one attempt served by "local"), with
  // the local call inlined.
  absl::Status DoPredictCall(absl::Span<const ConstTensorView> inputs,
                             absl::Span<const TensorView> outputs,
                             const CallOptions& options,
                             CallReport* report) override {
    return SingleAttempt(options, report, [&] { return LocalModel::DoPredict(inputs, outputs); });
  }

  // DoJacobian()
  //
  // The network's derivatives (maas/local/jacobian.h) through the views;
  // see `Predictor::Jacobian`. Allocation-free on success.
  absl::Status DoJacobian(absl::Span<const ConstTensorView> inputs,
                          absl::Span<const TensorView> outputs,
                          const TensorView& jacobian) override {
    return detail::JacobianThroughViews(*net_, signature_, inputs, outputs, jacobian);
  }

 private:
  LocalModel(std::unique_ptr<const Net> net, ModelSignature signature)
      : net_(std::move(net)),
        signature_(std::move(signature)),
        input_name_(signature_.inputs[0].name),
        output_name_(signature_.outputs[0].name),
        max_batch_(signature_.max_batch_size) {}

  bool FastPathRows(absl::Span<const ConstTensorView> inputs,
                    absl::Span<const TensorView> outputs,
                    std::size_t* rows) const {
    return detail::OneInOneOutRows(inputs, outputs, DataTypeOf<T>(), Net::kInputSize,
                                   Net::kOutputSize, input_name_, output_name_,
                                   max_batch_, rows);
  }

  // The full validation, with its messages.
  absl::Status ValidatedPredict(absl::Span<const ConstTensorView> inputs,
                                absl::Span<const TensorView> outputs) const {
    std::array<ConstTensorView, 1> in;
    absl::StatusOr<std::int64_t> batch =
        signature_.ValidateInputs(inputs, absl::MakeSpan(in));
    if (!batch.ok()) return batch.status();
    std::array<TensorView, 1> out;
    if (absl::Status s =
            signature_.ValidateOutputs(outputs, *batch, absl::MakeSpan(out));
        !s.ok()) {
      return s;
    }
    net_->ForwardBatch(static_cast<const T*>(in[0].raw_data()),
                       static_cast<std::size_t>(*batch),
                       static_cast<T*>(out[0].raw_data()));
    return absl::OkStatus();
  }

  std::unique_ptr<const Net> net_;
  ModelSignature signature_;
  std::string input_name_, output_name_;  // copies: compared on every call
  std::int64_t max_batch_;
};

}  // namespace maas

#endif  // MAAS_LOCAL_LOCAL_MODEL_H_
