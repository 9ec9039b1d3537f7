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
#include <memory>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "maas/core/data_type.h"
#include "maas/core/model_signature.h"
#include "maas/core/predictor.h"
#include "maas/core/tensor_view.h"
#include "maas/local/network.h"

namespace maas {

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
  absl::Status DoPredict(absl::Span<const ConstTensorView> inputs,
                         absl::Span<const TensorView> outputs) override {
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

 private:
  LocalModel(std::unique_ptr<const Net> net, ModelSignature signature)
      : net_(std::move(net)), signature_(std::move(signature)) {}

  std::unique_ptr<const Net> net_;
  ModelSignature signature_;
};

}  // namespace maas

#endif  // MAAS_LOCAL_LOCAL_MODEL_H_
