// -----------------------------------------------------------------------------
// File: local/dynamic_network.h
// -----------------------------------------------------------------------------
//
// `maas::DynamicNetwork<T>` is the multilayer perceptron of a model file whose
// architecture is known only at run time (a C or Fortran caller, a command
// line tool loading any file): layer sizes and activations are values, not
// template parameters. It runs on the same kernels as the compile-time
// `maas::Network` (the same layouts and summation orders), so on the same
// machine and in the same numerics mode it gives the same bits for the same
// file. `maas::DynamicLocalModel<T>` puts it behind the `maas::Predictor`
// interface with the validation and messages of `maas::LocalModel`.
//
// Example:
//
//   absl::StatusOr<maas::ModelFile> file = maas::ReadModelFile("regime.json");
//   if (!file.ok()) return file.status();
//   absl::StatusOr<maas::DynamicNetwork<float>> net =
//       maas::DynamicNetwork<float>::FromModelFile(*file, {}, "regime.json");
//   if (!net.ok()) return net.status();
//   net->ForwardBatch(x, rows, y);               // rows x n_in -> rows x n_out
//
//   // Or as a Predictor, choosing float or double from the file:
//   absl::StatusOr<std::unique_ptr<maas::Predictor>> model =
//       maas::LoadDynamicModel("regime.json");
//
// Memory: the weights live in one 64-byte-aligned heap block, allocated at
// construction. `ForwardBatch` allocates nothing: it works in a stack buffer
// of at most 2 x 48 KiB, in blocks of rows that fit; a network with a layer
// so wide that one row does not fit (over 6144 floats or 3072 doubles) uses
// a scratch buffer allocated at construction, behind a mutex (calls then
// run one at a time), unless the caller passes its own `Workspace`.
//
// Thread safety: const member functions (Forward, ForwardBatch) may run
// concurrently on one network (for the very wide networks above, they
// serialise unless each thread passes its own Workspace). Construction,
// assignment and destruction must not run concurrently with anything else.

#ifndef MAAS_LOCAL_DYNAMIC_NETWORK_H_
#define MAAS_LOCAL_DYNAMIC_NETWORK_H_

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/base/optimization.h"
#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "maas/core/call.h"
#include "maas/core/data_type.h"
#include "maas/core/model_signature.h"
#include "maas/core/predictor.h"
#include "maas/core/tensor_view.h"
#include "maas/local/activation.h"
#include "maas/local/kernels/kernels.h"
#include "maas/local/kernels/layout.h"
#include "maas/local/jacobian.h"
#include "maas/local/kernels/network_view.h"
#include "maas/local/local_model.h"
#include "maas/local/model_file.h"

namespace maas {

// DynamicNetworkOptions
//
// `numerics`: Numerics::kFast (default) or kReproducible (the same bits on
// every instruction set; kernels/kernels.h).
struct DynamicNetworkOptions {
  Numerics numerics = Numerics::kFast;
};

namespace detail {

// A 64-byte-aligned array of T, zero-initialised.
template <typename T>
class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t n) : size_(n) {
    if (n == 0) return;
    data_ = static_cast<T*>(::operator new(n * sizeof(T), std::align_val_t{kernels::kAlignment}));
    for (std::size_t i = 0; i < n; ++i) data_[i] = T(0);
  }
  AlignedBuffer(const AlignedBuffer& other) : AlignedBuffer(other.size_) {
    for (std::size_t i = 0; i < size_; ++i) data_[i] = other.data_[i];
  }
  AlignedBuffer(AlignedBuffer&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
  AlignedBuffer& operator=(AlignedBuffer other) noexcept {
    std::swap(data_, other.data_);
    std::swap(size_, other.size_);
    return *this;
  }
  ~AlignedBuffer() {
    if (data_ != nullptr) ::operator delete(data_, std::align_val_t{kernels::kAlignment});
  }
  T* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  T* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace detail

// DynamicNetwork<T>
//
// See the file comment. `T` is float or double. Movable and copyable (a copy
// owns its own weights).
template <typename T>
class DynamicNetwork {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "maas::DynamicNetwork: the element type must be float or double");

 public:
  using ValueType = T;

  // Bytes of stack scratch a ForwardBatch call may use.
  static constexpr std::size_t kStackScratchBytes = 2 * 49152;

  // Workspace
  //
  // Scratch for ForwardBatch held by the caller (one per thread): for
  // networks too wide for the stack buffer, or to choose the block size.
  // Build it with `NewWorkspace()`; it allocates once, at construction.
  class Workspace {
   public:
    Workspace() = default;

   private:
    friend class DynamicNetwork;
    Workspace(std::size_t width, std::size_t rows) : buffer_(2 * width * rows), rows_(rows) {}
    detail::AlignedBuffer<T> buffer_;
    std::size_t rows_ = 0;
  };

  // DynamicNetwork::FromModelFile()
  //
  // A network holding `file`'s layers, weights and scaling (the file has been
  // checked by ParseModelFile / ReadModelFile). Fails with `kInvalidArgument`
  // naming `source` for a float network when a value (or 1 / input_std) is
  // beyond float's range, as `BuildNetwork` does. Allocates.
  static absl::StatusOr<DynamicNetwork> FromModelFile(const ModelFile& file,
                                                      DynamicNetworkOptions options = {},
                                                      absl::string_view source = "<memory>") {
    if (file.layers.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("model file '", source, "': the file has no layers"));
    }
    if constexpr (std::is_same_v<T, float>) {
      if (absl::Status s = detail::CheckFileFitsFloat(file, source); !s.ok()) return s;
    }
    for (std::size_t l = 1; l < file.layers.size(); ++l) {
      if (file.layers[l].inputs != file.layers[l - 1].units) {
        return absl::InvalidArgumentError(absl::StrCat(
            "model file '", source, "': layer ", l, ": has ", file.layers[l].inputs,
            " inputs (weight rows) but layer ", l - 1, " has ", file.layers[l - 1].units,
            " units"));
      }
    }
    DynamicNetwork net(file, options);
    return net;
  }

  DynamicNetwork(const DynamicNetwork& other)
      : storage_(other.storage_),
        layers_(other.layers_),
        numerics_(other.numerics_),
        n_in_(other.n_in_),
        n_out_(other.n_out_),
        max_width_(other.max_width_),
        offsets_(other.offsets_),
        forward_(other.forward_) {
    Rebase();
    if (other.heap_scratch_ != nullptr) heap_scratch_ = std::make_unique<HeapScratch>(max_width_);
  }
  DynamicNetwork(DynamicNetwork&& other) noexcept = default;
  DynamicNetwork& operator=(DynamicNetwork other) noexcept {
    std::swap(storage_, other.storage_);
    std::swap(layers_, other.layers_);
    std::swap(numerics_, other.numerics_);
    std::swap(n_in_, other.n_in_);
    std::swap(n_out_, other.n_out_);
    std::swap(max_width_, other.max_width_);
    std::swap(offsets_, other.offsets_);
    std::swap(forward_, other.forward_);
    std::swap(heap_scratch_, other.heap_scratch_);
    return *this;
  }
  ~DynamicNetwork() = default;

  // Sizes and layers.
  std::size_t input_size() const { return n_in_; }
  std::size_t output_size() const { return n_out_; }
  std::size_t num_layers() const { return layers_.size(); }
  std::size_t layer_input_size(std::size_t i) const { return layers_[i].n_in; }
  std::size_t layer_output_size(std::size_t i) const { return layers_[i].n_out; }
  Activation layer_activation(std::size_t i) const { return layers_[i].act; }
  T layer_alpha(std::size_t i) const { return layers_[i].alpha; }
  Numerics numerics() const { return numerics_; }

  // layer_plan()
  //
  // How layer `i` runs on this machine (kernels/layout.h).
  kernels::LayerPlan layer_plan(std::size_t i) const { return layers_[i].plan; }

  // layer_weight()
  //
  // The weight from input `in` to unit `out` of layer `l`.
  T layer_weight(std::size_t l, std::size_t in, std::size_t out) const {
    const kernels::LayerView<T>& v = layers_[l];
    return v.w[kernels::WeightIndex<T>(v.plan.layout, v.n_in, v.n_out, in, out)];
  }

  // Forward()
  //
  // One row: x[0, input_size()) -> y[0, output_size()). Any alignment.
  // Real-time safe (see the file comment for very wide networks).
  void Forward(const T* x, T* y) const noexcept { ForwardBatch(x, 1, y); }

  // ForwardBatch()
  //
  // `rows` rows of input_size() values at x to rows of output_size() values
  // at y (nothing beyond is read or written). A row's result does not depend
  // on `rows`. Allocates nothing; see the file comment for scratch and
  // threads.
  void ForwardBatch(const T* x, std::size_t rows, T* y) const noexcept {
    if (rows == 0) return;
    const std::size_t fit = kStackScratchBytes / (2 * max_width_ * sizeof(T));
    if (ABSL_PREDICT_TRUE(fit >= 1)) {
      alignas(kernels::kAlignment) unsigned char stack[kStackScratchBytes];
      forward_(View(), x, rows, y, reinterpret_cast<T*>(stack), fit);
      return;
    }
    absl::MutexLock lock(&heap_scratch_->mu);
    forward_(View(), x, rows, y, heap_scratch_->buffer.data(), 1);
  }

  // NewWorkspace()
  //
  // A Workspace for ForwardBatch(x, rows, y, workspace) holding `block_rows`
  // rows (>= 1) of this network's scratch. Allocates.
  Workspace NewWorkspace(std::size_t block_rows = 1) const {
    return Workspace(max_width_, block_rows < 1 ? 1 : block_rows);
  }

  // ForwardBatch(x, rows, y, workspace)
  //
  // As above in the caller's `workspace` (from this network's NewWorkspace,
  // or one of a network with the same max_width()); never locks.
  void ForwardBatch(const T* x, std::size_t rows, T* y, Workspace& workspace) const noexcept {
    if (rows == 0) return;
    forward_(View(), x, rows, y, workspace.buffer_.data(), workspace.rows_);
  }

  // max_width()
  //
  // The widest padded row (input or any layer's output), in elements.
  std::size_t max_width() const { return max_width_; }

  // network_view()
  //
  // The network as the kernels see it (kernels/network_view.h; for
  // maas/local/jacobian.h), pointing into this network: valid while it
  // lives and is not assigned to.
  kernels::NetworkView<T> network_view() const { return View(); }

 private:
  struct HeapScratch {
    explicit HeapScratch(std::size_t width) : buffer(2 * width) {}
    absl::Mutex mu;
    detail::AlignedBuffer<T> buffer ABSL_GUARDED_BY(mu);
  };

  // Offsets of each array in storage_ (in elements, multiples of the
  // alignment): per layer weights and bias, then the four scaling vectors.
  struct Offsets {
    std::vector<std::size_t> w, b;
    std::size_t in_shift = 0, in_scale = 0, out_scale = 0, out_offset = 0;
  };

  DynamicNetwork(const ModelFile& file, DynamicNetworkOptions options)
      : numerics_(options.numerics),
        n_in_(file.layers.front().inputs),
        n_out_(file.layers.back().units),
        forward_(kernels::ActiveForwardDynamic<T>(options.numerics)) {
    const std::size_t n = file.layers.size();
    layers_.resize(n);
    offsets_.w.resize(n);
    offsets_.b.resize(n);
    std::size_t total = 0;
    max_width_ = kernels::PaddedSize<T>(n_in_);
    for (std::size_t l = 0; l < n; ++l) {
      const ModelFileLayer& f = file.layers[l];
      kernels::LayerView<T>& v = layers_[l];
      v.n_in = f.inputs;
      v.n_out = f.units;
      v.act = f.activation;
      v.alpha = static_cast<T>(f.alpha);
      v.plan = kernels::ActivePlan<T>(f.inputs, f.units, numerics_);
      offsets_.w[l] = total;
      total += kernels::PaddedSize<T>(kernels::WeightsSize<T>(v.plan.layout, f.inputs, f.units));
      offsets_.b[l] = total;
      total += kernels::PaddedSize<T>(f.units);
      max_width_ = std::max(max_width_, kernels::PaddedSize<T>(f.units));
    }
    const std::size_t in_pad = kernels::PaddedSize<T>(n_in_);
    const std::size_t out_pad = kernels::PaddedSize<T>(n_out_);
    offsets_.in_shift = total;
    offsets_.in_scale = total + in_pad;
    offsets_.out_scale = total + 2 * in_pad;
    offsets_.out_offset = total + 2 * in_pad + out_pad;
    storage_ = detail::AlignedBuffer<T>(total + 2 * in_pad + 2 * out_pad);
    T* s = storage_.data();
    for (std::size_t l = 0; l < n; ++l) {
      const ModelFileLayer& f = file.layers[l];
      kernels::PackWeights<T>(layers_[l].plan.layout, f.inputs, f.units, f.weights.data(),
                              s + offsets_.w[l]);
      for (std::size_t j = 0; j < f.units; ++j) s[offsets_.b[l] + j] = static_cast<T>(f.bias[j]);
    }
    for (std::size_t i = 0; i < in_pad; ++i) s[offsets_.in_scale + i] = T(1);
    for (std::size_t j = 0; j < out_pad; ++j) s[offsets_.out_scale + j] = T(1);
    for (std::size_t i = 0; i < file.input_mean.size(); ++i) {
      s[offsets_.in_shift + i] = static_cast<T>(file.input_mean[i]);
      s[offsets_.in_scale + i] = static_cast<T>(1.0 / file.input_std[i]);
    }
    for (std::size_t j = 0; j < file.output_scale.size(); ++j) {
      s[offsets_.out_scale + j] = static_cast<T>(file.output_scale[j]);
      s[offsets_.out_offset + j] = static_cast<T>(file.output_offset[j]);
    }
    Rebase();
    if (kStackScratchBytes / (2 * max_width_ * sizeof(T)) < 1) {
      heap_scratch_ = std::make_unique<HeapScratch>(max_width_);
    }
  }

  // Points every LayerView into storage_ (after construction or a copy).
  void Rebase() {
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      layers_[l].w = storage_.data() + offsets_.w[l];
      layers_[l].b = storage_.data() + offsets_.b[l];
    }
  }

  kernels::NetworkView<T> View() const {
    kernels::NetworkView<T> v;
    v.layers = layers_.data();
    v.num_layers = layers_.size();
    v.n_in = n_in_;
    v.n_out = n_out_;
    v.max_width = max_width_;
    v.in_shift = storage_.data() + offsets_.in_shift;
    v.in_scale = storage_.data() + offsets_.in_scale;
    v.out_scale = storage_.data() + offsets_.out_scale;
    v.out_offset = storage_.data() + offsets_.out_offset;
    return v;
  }

  detail::AlignedBuffer<T> storage_;
  std::vector<kernels::LayerView<T>> layers_;
  Numerics numerics_ = Numerics::kFast;
  std::size_t n_in_ = 0, n_out_ = 0, max_width_ = 0;
  Offsets offsets_;
  kernels::ForwardDynamicFn<T> forward_ = nullptr;
  std::unique_ptr<HeapScratch> heap_scratch_;
};

// DynamicLocalModel<T>
//
// A `DynamicNetwork<T>` behind the `Predictor` interface: one input
// `[-1, input_size]` and one output `[-1, output_size]` named as in the
// file, datatype of T, validated exactly as `LocalModel` does (same fast
// path, same messages, outputs untouched on failure). label() is "local".
//
// Thread safety: Predict may be called from any number of threads at once.
template <typename T>
class DynamicLocalModel final : public Predictor {
 public:
  // DynamicLocalModel::Create()
  //
  // Takes `net` and checks that `signature` has one input `[-1, n_in]` and
  // one output `[-1, n_out]` of T's datatype. Fails with `kInvalidArgument`
  // saying what differs.
  static absl::StatusOr<std::unique_ptr<DynamicLocalModel>> Create(DynamicNetwork<T> net,
                                                                   ModelSignature signature) {
    if (signature.inputs.size() != 1 || signature.outputs.size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "a local network has 1 input and 1 output; the signature has ",
          signature.inputs.size(), " and ", signature.outputs.size()));
    }
    const std::pair<TensorSpec*, std::size_t> specs[] = {
        {&signature.inputs[0], net.input_size()}, {&signature.outputs[0], net.output_size()}};
    for (const auto& [spec, n] : specs) {
      const Shape want = {kDynamic, static_cast<std::int64_t>(n)};
      if (spec->dtype != DataTypeOf<T>() || spec->shape != want) {
        return absl::InvalidArgumentError(absl::StrCat(
            spec == &signature.inputs[0] ? "input" : "output", " '", spec->name,
            "': the network needs ", DataTypeName(DataTypeOf<T>()), want.ToString(),
            ", the signature says ", DataTypeName(spec->dtype), spec->shape.ToString()));
      }
    }
    return std::unique_ptr<DynamicLocalModel>(
        new DynamicLocalModel(std::move(net), std::move(signature)));
  }

  // network(), signature()
  const DynamicNetwork<T>& network() const { return net_; }
  const ModelSignature& signature() const { return signature_; }

  // DynamicLocalModel::Signature()
  //
  // A copy of the signature; never fails.
  absl::StatusOr<ModelSignature> Signature() override { return signature_; }

  // DynamicLocalModel::label()
  //
  // "local".
  absl::string_view label() const override { return "local"; }

  // DynamicLocalModel::PredictRows()
  //
  // Typed fast path: `x` holds rows of input_size values, `y` as many rows of
  // output_size. Fails with `kInvalidArgument` when the sizes do not agree
  // (y untouched).
  absl::Status PredictRows(absl::Span<const T> x, absl::Span<T> y) const {
    const std::size_t n_in = net_.input_size(), n_out = net_.output_size();
    const std::size_t rows = x.size() / n_in;
    if (x.size() % n_in != 0 || y.size() != rows * n_out) {
      return absl::InvalidArgumentError(absl::StrCat(
          "PredictRows: ", x.size(), " inputs are not whole rows of ", n_in, " matching ",
          y.size(), " outputs in rows of ", n_out));
    }
    net_.ForwardBatch(x.data(), rows, y.data());
    return absl::OkStatus();
  }

 protected:
  absl::Status DoPredict(absl::Span<const ConstTensorView> inputs,
                         absl::Span<const TensorView> outputs) override {
    std::size_t rows = 0;
    if (ABSL_PREDICT_TRUE(detail::OneInOneOutRows(
            inputs, outputs, DataTypeOf<T>(), net_.input_size(), net_.output_size(),
            input_name_, output_name_, signature_.max_batch_size, &rows))) {
      net_.ForwardBatch(static_cast<const T*>(inputs[0].raw_data()), rows,
                        static_cast<T*>(outputs[0].raw_data()));
      return absl::OkStatus();
    }
    std::array<ConstTensorView, 1> in;
    absl::StatusOr<std::int64_t> batch = signature_.ValidateInputs(inputs, absl::MakeSpan(in));
    if (!batch.ok()) return batch.status();
    std::array<TensorView, 1> out;
    if (absl::Status s = signature_.ValidateOutputs(outputs, *batch, absl::MakeSpan(out));
        !s.ok()) {
      return s;
    }
    net_.ForwardBatch(static_cast<const T*>(in[0].raw_data()), static_cast<std::size_t>(*batch),
                      static_cast<T*>(out[0].raw_data()));
    return absl::OkStatus();
  }

  absl::Status DoPredictCall(absl::Span<const ConstTensorView> inputs,
                             absl::Span<const TensorView> outputs, const CallOptions& options,
                             CallReport* report) override {
    return SingleAttempt(options, report, [&] { return DynamicLocalModel::DoPredict(inputs, outputs); });
  }

  // DoJacobian()
  //
  // The network's derivatives (maas/local/jacobian.h) through the views;
  // see `Predictor::Jacobian`.
  absl::Status DoJacobian(absl::Span<const ConstTensorView> inputs,
                          absl::Span<const TensorView> outputs,
                          const TensorView& jacobian) override {
    return detail::JacobianThroughViews(net_, signature_, inputs, outputs, jacobian);
  }

 private:
  DynamicLocalModel(DynamicNetwork<T> net, ModelSignature signature)
      : net_(std::move(net)),
        signature_(std::move(signature)),
        input_name_(signature_.inputs[0].name),
        output_name_(signature_.outputs[0].name) {}

  DynamicNetwork<T> net_;
  ModelSignature signature_;
  std::string input_name_, output_name_;
};

// DynamicLocalModelFromFile<T>()
//
// A DynamicLocalModel<T> of a parsed file; the signature's names, model name
// and version come from the file, the datatype from T.
template <typename T>
absl::StatusOr<std::unique_ptr<DynamicLocalModel<T>>> DynamicLocalModelFromFile(
    const ModelFile& file, DynamicNetworkOptions options = {},
    absl::string_view source = "<memory>") {
  auto net = DynamicNetwork<T>::FromModelFile(file, options, source);
  if (!net.ok()) return net.status();
  ModelSignature sig = file.signature;
  sig.inputs[0].dtype = DataTypeOf<T>();
  sig.outputs[0].dtype = DataTypeOf<T>();
  return DynamicLocalModel<T>::Create(std::move(*net), std::move(sig));
}

// DynamicModelOptions
//
// `dtype`: DataType::kFloat32 or kFloat64 for the network's precision, or
// kInvalid (default) to take the file's input "datatype" (FP32 when the file
// has none). `numerics`: as DynamicNetworkOptions.
struct DynamicModelOptions {
  DataType dtype = DataType::kInvalid;
  Numerics numerics = Numerics::kFast;
};

// DynamicModelFromFile()
//
// A float or double DynamicLocalModel (see DynamicModelOptions) as a
// `Predictor`. Fails with `kInvalidArgument` for another dtype, or as
// DynamicNetwork::FromModelFile.
inline absl::StatusOr<std::unique_ptr<Predictor>> DynamicModelFromFile(
    const ModelFile& file, DynamicModelOptions options = {},
    absl::string_view source = "<memory>") {
  DataType dtype = options.dtype;
  if (dtype == DataType::kInvalid) dtype = file.signature.inputs[0].dtype;
  if (dtype == DataType::kFloat32) {
    auto m = DynamicLocalModelFromFile<float>(file, {options.numerics}, source);
    if (!m.ok()) return m.status();
    return std::unique_ptr<Predictor>(std::move(*m));
  }
  if (dtype == DataType::kFloat64) {
    auto m = DynamicLocalModelFromFile<double>(file, {options.numerics}, source);
    if (!m.ok()) return m.status();
    return std::unique_ptr<Predictor>(std::move(*m));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "model file '", source, "': a local network runs in FP32 or FP64, not ",
      DataTypeName(dtype)));
}

// LoadDynamicModel()
//
// Reads and checks the model file at `path` and returns its network as a
// `Predictor` (label() "local"), float or double per `options`. Errors as
// ReadModelFile and DynamicModelFromFile. Allocates; not for the hot path.
inline absl::StatusOr<std::unique_ptr<Predictor>> LoadDynamicModel(
    const std::string& path, DynamicModelOptions options = {}) {
  auto file = ReadModelFile(path);
  if (!file.ok()) return file.status();
  return DynamicModelFromFile(*file, options, path);
}

// LoadDynamicModelFromText()
//
// As LoadDynamicModel, from model-file text in memory; `source` names it in
// messages.
inline absl::StatusOr<std::unique_ptr<Predictor>> LoadDynamicModelFromText(
    absl::string_view text, absl::string_view source = "<memory>",
    DynamicModelOptions options = {}) {
  auto file = ParseModelFile(text, source);
  if (!file.ok()) return file.status();
  return DynamicModelFromFile(*file, options, source);
}

}  // namespace maas

#endif  // MAAS_LOCAL_DYNAMIC_NETWORK_H_
