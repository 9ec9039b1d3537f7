// -----------------------------------------------------------------------------
// File: local/network.h
// -----------------------------------------------------------------------------
//
// `maas::Network<T, Layers...>` is a multilayer perceptron whose sizes are
// template parameters: the architecture is the type, storage is inline, and
// `Forward` runs with no allocation, no locks and no exceptions. A network
// whose layer sizes do not chain fails to compile with a sentence naming the
// layer. `maas::ReproducibleNetwork<T, Layers...>` is the same network in
// the reproducible mode: bit-identical outputs on every instruction set,
// batch size and thread count (kernels/kernels.h says exactly when).
//
// Input standardisation ((x - mean) / std) and output scaling
// (y * scale + offset) are part of the network, so a model file's
// pre/post-processing cannot be forgotten by the caller.
//
// Structure: `Dense<>` descriptors (the type) and one `DenseParams<>` per
// layer (the data: weights packed by `SetLayer` in the layout the running
// kernels plan for the layer, kernels/layout.h; read them back with
// `DenseParams::weight(i, j)`). `ForwardBatch` fills a
// `kernels::NetworkView` (pointers into the network) and calls
// `kernels::Forward`, which runs the whole pass in one instruction set.
//
// Example:
//
//   using Net = maas::Network<float,
//                             maas::Dense<16, 64, maas::Relu>,
//                             maas::Dense<64, 64, maas::Relu>,
//                             maas::Dense<64, 8, maas::Softmax>>;
//   static_assert(Net::kInputSize == 16 && Net::kOutputSize == 8);
//   auto net = std::make_unique<Net>();          // ~23 KiB: keep it off small stacks
//   net->Forward(x, y);                           // one row
//   net->ForwardBatch(xs, rows, ys);              // rows x 16 -> rows x 8
//
// Thread safety: const member functions may run concurrently; setters must not
// run concurrently with anything else.

#ifndef MAAS_LOCAL_NETWORK_H_
#define MAAS_LOCAL_NETWORK_H_

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <limits>
#include <tuple>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "maas/local/activation.h"
#include "maas/local/kernels/kernels.h"
#include "maas/local/kernels/layout.h"

namespace maas {

// Dense<kIn, kOut, Act>
//
// A fully connected layer descriptor: `kIn` inputs, `kOut` units, activation
// tag `Act` (Identity, Relu, Sigmoid, Tanh, Softmax, Gelu, GeluTanh, Silu,
// Softplus, LeakyRelu or Elu; activation.h). It holds no data; the network
// stores the weights.
template <std::size_t kIn, std::size_t kOut, typename Act = Identity>
struct Dense {
  static_assert(kIn > 0 && kOut > 0,
                "maas::Dense: a layer needs at least one input and one unit");
  static constexpr std::size_t kInputSize = kIn;
  static constexpr std::size_t kOutputSize = kOut;
  static constexpr Activation kActivation = Act::kKind;
};

// DenseParams<T, kIn, kOut>
//
// The weights and bias of one dense layer, packed for the kernels
// (`kernels/layout.h`): `weights` holds the layer in `plan.layout`
// (Layout::kColumns: `weights[i * kStride + j]` connects input `i` to unit
// `j`; Layout::kRows: the transpose, rows of PaddedSize<T>(kIn)); padding
// lanes are zero. `alpha` is the activation's parameter (leaky ReLU, ELU; 0
// for the others).
template <typename T, std::size_t kIn, std::size_t kOut>
struct DenseParams {
  static constexpr std::size_t kStride = kernels::PaddedSize<T>(kOut);
  alignas(kernels::kAlignment) std::array<T, kernels::MaxWeightsSize<T>(kIn, kOut)> weights{};
  alignas(kernels::kAlignment) std::array<T, kStride> bias{};
  kernels::LayerPlan plan;
  T alpha = T(0);

  // weight()
  //
  // The weight from input `i` to unit `j`, whatever the layout.
  T weight(std::size_t i, std::size_t j) const {
    return weights[kernels::WeightIndex<T>(plan.layout, kIn, kOut, i, j)];
  }
};

namespace detail {

template <typename T>
struct IsDense : std::false_type {};
template <std::size_t kIn, std::size_t kOut, typename Act>
struct IsDense<Dense<kIn, kOut, Act>> : std::true_type {};

// Instantiated for each adjacent pair of layers. If the assertion fires, the
// compiler's "required from" line shows ChainCheck<layer, expects, produces>.
template <std::size_t kLayer, std::size_t kExpects, std::size_t kProduces>
struct ChainCheck {
  static_assert(kExpects == kProduces,
                "maas::Network: layer sizes do not chain: layer kLayer (counted "
                "from 0) expects kExpects inputs but the layer before it "
                "produces kProduces outputs; see the ChainCheck<kLayer, "
                "kExpects, kProduces> arguments below");
  static constexpr bool value = kExpects == kProduces;
};

template <typename Tuple, std::size_t... I>
constexpr bool ChainOk(std::index_sequence<I...>) {
  return (ChainCheck<I + 1, std::tuple_element_t<I + 1, Tuple>::kInputSize,
                     std::tuple_element_t<I, Tuple>::kOutputSize>::value &&
          ... && true);
}

}  // namespace detail

// BasicNetwork<T, kNumerics, Layers...>
//
// See the file comment; use it through the aliases `Network` (fast mode) and
// `ReproducibleNetwork`. `T` is float or double; `Layers` are `Dense<>`
// descriptors whose sizes chain.
template <typename T, Numerics kNumerics, typename... Layers>
class BasicNetwork {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "maas::Network: the element type must be float or double");
  static_assert(sizeof...(Layers) > 0,
                "maas::Network: a network needs at least one layer");
  static_assert((detail::IsDense<Layers>::value && ...),
                "maas::Network: every layer must be a maas::Dense<in, out, "
                "Activation>");
  using LayerTuple = std::tuple<Layers...>;
  static_assert(detail::ChainOk<LayerTuple>(
                    std::make_index_sequence<sizeof...(Layers) - 1>()),
                "maas::Network: layer sizes do not chain (see above)");

 public:
  using ValueType = T;
  static constexpr Numerics kNumericsMode = kNumerics;
  static constexpr std::size_t kNumLayers = sizeof...(Layers);
  static constexpr std::size_t kInputSize =
      std::tuple_element_t<0, LayerTuple>::kInputSize;
  static constexpr std::size_t kOutputSize =
      std::tuple_element_t<kNumLayers - 1, LayerTuple>::kOutputSize;
  // Widest padded activation row.
  static constexpr std::size_t kMaxWidth = std::max(
      {kernels::PaddedSize<T>(kInputSize),
       kernels::PaddedSize<T>(Layers::kOutputSize)...});

  // layer_input_size(), layer_output_size(), layer_activation()
  //
  // Sizes and activation of layer `i` (counted from 0), for loaders and
  // messages. `i` must be below kNumLayers.
  static constexpr std::size_t layer_input_size(std::size_t i) {
    constexpr std::size_t s[] = {Layers::kInputSize...};
    return s[i];
  }
  static constexpr std::size_t layer_output_size(std::size_t i) {
    constexpr std::size_t s[] = {Layers::kOutputSize...};
    return s[i];
  }
  static constexpr Activation layer_activation(std::size_t i) {
    constexpr Activation s[] = {Layers::kActivation...};
    return s[i];
  }

  // BasicNetwork()
  //
  // All weights and biases zero, identity input and output scaling, every
  // activation parameter at its default (activation_kind.h).
  BasicNetwork() {
    in_scale_.fill(T(1));
    out_scale_.fill(T(1));
    ForEachLayer([](auto i, auto& p) {
      p.alpha = static_cast<T>(DefaultActivationAlpha(layer_activation(i)));
      p.plan = kernels::ActivePlan<T>(layer_input_size(i), layer_output_size(i), kNumerics);
    });
  }

  // SetLayer()
  //
  // Sets layer `index`'s weights from `weights` (kIn x kOut, row-major:
  // `weights[i * kOut + j]` connects input i to unit j, as in scikit-learn's
  // `coefs_` and Keras' kernels) and `bias` (kOut values). Fails with
  // `kInvalidArgument` naming the layer and the sizes, or for a non-finite
  // value; on failure the network is unchanged.
  template <typename U>
  absl::Status SetLayer(std::size_t index, absl::Span<const U> weights,
                        absl::Span<const U> bias) {
    if (index >= kNumLayers) {
      return absl::InvalidArgumentError(absl::StrCat(
          "layer ", index, ": the network has only ", kNumLayers, " layers"));
    }
    absl::Status status;
    ForEachLayer([&](auto i, auto& p) {
      if (i != index) return;
      constexpr std::size_t in = std::tuple_element_t<i, LayerTuple>::kInputSize;
      constexpr std::size_t out = std::tuple_element_t<i, LayerTuple>::kOutputSize;
      status = CopyLayer<in, out>(index, weights, bias, p);
    });
    return status;
  }

  // SetLayerAlpha()
  //
  // Sets the parameter alpha of layer `index`'s activation (leaky ReLU: the
  // slope below 0; ELU: the scale of e^z - 1). Fails with `kInvalidArgument`
  // when the layer's activation takes no parameter or `alpha` is not finite
  // (or, for a float network, beyond float's range); on failure the network
  // is unchanged.
  absl::Status SetLayerAlpha(std::size_t index, double alpha) {
    if (index >= kNumLayers) {
      return absl::InvalidArgumentError(absl::StrCat(
          "layer ", index, ": the network has only ", kNumLayers, " layers"));
    }
    if (!ActivationHasAlpha(layer_activation(index))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "layer ", index, ": activation ", ActivationName(layer_activation(index)),
          " takes no alpha"));
    }
    if (!std::isfinite(alpha) ||
        std::abs(alpha) > static_cast<double>(std::numeric_limits<T>::max())) {
      return absl::InvalidArgumentError(
          absl::StrCat("layer ", index, ": alpha ", alpha, " is not a finite ",
                       std::is_same_v<T, float> ? "float" : "double"));
    }
    ForEachLayer([&](auto i, auto& p) {
      if (i == index) p.alpha = static_cast<T>(alpha);
    });
    return absl::OkStatus();
  }

  // layer_alpha()
  //
  // Layer `i`'s activation parameter (0 when it has none).
  T layer_alpha(std::size_t i) const {
    T a = T(0);
    ForEachLayer([&](auto j, const auto& p) {
      if (j == i) a = p.alpha;
    });
    return a;
  }

  // SetInputScaling()
  //
  // x is replaced by (x - mean) / stddev before the first layer. Both spans
  // hold kInputSize values; stddev values must be finite and non-zero.
  // Fails with `kInvalidArgument`; on failure the network is unchanged.
  template <typename U>
  absl::Status SetInputScaling(absl::Span<const U> mean,
                               absl::Span<const U> stddev) {
    if (absl::Status s = CheckVector("input mean", mean, kInputSize); !s.ok()) return s;
    if (absl::Status s = CheckVector("input std", stddev, kInputSize); !s.ok()) return s;
    for (std::size_t i = 0; i < kInputSize; ++i) {
      if (stddev[i] == U(0)) {
        return absl::InvalidArgumentError(
            absl::StrCat("input std[", i, "] is 0"));
      }
    }
    for (std::size_t i = 0; i < kInputSize; ++i) {
      in_shift_[i] = static_cast<T>(mean[i]);
      in_scale_[i] = static_cast<T>(U(1) / stddev[i]);
    }
    return absl::OkStatus();
  }

  // SetOutputScaling()
  //
  // y is replaced by y * scale + offset after the last layer. Both spans hold
  // kOutputSize finite values. Fails with `kInvalidArgument`; on failure the
  // network is unchanged.
  template <typename U>
  absl::Status SetOutputScaling(absl::Span<const U> scale,
                                absl::Span<const U> offset) {
    if (absl::Status s = CheckVector("output scale", scale, kOutputSize); !s.ok()) return s;
    if (absl::Status s = CheckVector("output offset", offset, kOutputSize); !s.ok()) return s;
    for (std::size_t j = 0; j < kOutputSize; ++j) {
      out_scale_[j] = static_cast<T>(scale[j]);
      out_offset_[j] = static_cast<T>(offset[j]);
    }
    return absl::OkStatus();
  }

  // params<I>()
  //
  // Layer I's stored parameters (kernel layout), e.g. for tests.
  template <std::size_t I>
  const auto& params() const { return std::get<I>(params_); }

  // input_shift(), input_scale(), output_scale(), output_offset()
  //
  // The stored scaling (for maas/local/jacobian.h): x' = (x - shift) * scale
  // (scale = 1 / std) over PaddedSize<T>(kInputSize) values, y = y' * scale +
  // offset over PaddedSize<T>(kOutputSize) values.
  const T* input_shift() const { return in_shift_.data(); }
  const T* input_scale() const { return in_scale_.data(); }
  const T* output_scale() const { return out_scale_.data(); }
  const T* output_offset() const { return out_offset_.data(); }

  // Forward()
  //
  // One row: x[0, kInputSize) -> y[0, kOutputSize). Any alignment; x and y
  // may alias. Real-time safe: no allocation, no locks, no exceptions. A NaN
  // input gives NaN in every output it reaches (every activation keeps NaN).
  void Forward(const T* x, T* y) const noexcept { ForwardBatch(x, 1, y); }

  // ForwardBatch()
  //
  // `rows` rows, each kInputSize values at x + r * kInputSize, to rows of
  // kOutputSize values at y + r * kOutputSize (nothing beyond is read or
  // written). A row's result does not depend on `rows`. Real-time safe: the
  // scratch lives on the stack (at most 2 x 48 KiB).
  void ForwardBatch(const T* x, std::size_t rows, T* y) const noexcept {
    // Each layer's view written once (an array filled member by member is
    // zeroed first: a `rep stos` in generic builds, ~8 ns per call).
    const std::array<kernels::LayerView<T>, kNumLayers> layers =
        LayerViews(std::make_index_sequence<kNumLayers>());
    kernels::NetworkView<T> view;
    view.layers = layers.data();
    view.num_layers = kNumLayers;
    view.n_in = kInputSize;
    view.n_out = kOutputSize;
    view.max_width = kMaxWidth;
    view.in_shift = in_shift_.data();
    view.in_scale = in_scale_.data();
    view.out_scale = out_scale_.data();
    view.out_offset = out_offset_.data();
    kernels::Forward<T, kNumerics,
                     kernels::LayerSpec<Layers::kInputSize, Layers::kOutputSize,
                                        Layers::kActivation>...>(view, x, rows, y);
  }

 private:
  using ParamTuple =
      std::tuple<DenseParams<T, Layers::kInputSize, Layers::kOutputSize>...>;

  // The kernels' view of every layer, each built in one aggregate
  // initialisation.
  template <std::size_t... I>
  std::array<kernels::LayerView<T>, kNumLayers> LayerViews(std::index_sequence<I...>) const {
    return {{kernels::LayerView<T>{std::get<I>(params_).weights.data(),
                                   std::get<I>(params_).bias.data(), layer_input_size(I),
                                   layer_output_size(I), layer_activation(I),
                                   std::get<I>(params_).plan, std::get<I>(params_).alpha}...}};
  }

  template <typename F, std::size_t... I>
  void ForEachLayerImpl(F&& f, std::index_sequence<I...>) {
    (f(std::integral_constant<std::size_t, I>(), std::get<I>(params_)), ...);
  }
  template <typename F>
  void ForEachLayer(F&& f) {
    ForEachLayerImpl(f, std::make_index_sequence<kNumLayers>());
  }
  template <typename F, std::size_t... I>
  void ForEachLayerImpl(F&& f, std::index_sequence<I...>) const {
    (f(std::integral_constant<std::size_t, I>(), std::get<I>(params_)), ...);
  }
  template <typename F>
  void ForEachLayer(F&& f) const {
    ForEachLayerImpl(f, std::make_index_sequence<kNumLayers>());
  }

  template <typename U>
  static absl::Status CheckVector(absl::string_view what,
                                  absl::Span<const U> v, std::size_t n) {
    if (v.size() != n) {
      return absl::InvalidArgumentError(absl::StrCat(
          what, ": expected ", n, " values, got ", v.size()));
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isfinite(static_cast<double>(v[i]))) {
        return absl::InvalidArgumentError(absl::StrCat(
            what, "[", i, "] is not finite (", static_cast<double>(v[i]), ")"));
      }
    }
    return absl::OkStatus();
  }

  template <std::size_t kIn, std::size_t kOut, typename U, typename P>
  static absl::Status CopyLayer(std::size_t index, absl::Span<const U> weights,
                                absl::Span<const U> bias, P& p) {
    const std::string where = absl::StrCat("layer ", index);
    if (weights.size() != kIn * kOut) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": expected ", kIn, "x", kOut, " = ", kIn * kOut,
          " weights, got ", weights.size()));
    }
    if (absl::Status s = CheckVector(absl::StrCat(where, " bias"), bias, kOut);
        !s.ok()) {
      return s;
    }
    if (absl::Status s = CheckVector(absl::StrCat(where, " weights"), weights,
                                     kIn * kOut);
        !s.ok()) {
      return s;
    }
    kernels::PackWeights<T>(p.plan.layout, kIn, kOut, weights.data(), p.weights.data());
    for (std::size_t j = 0; j < kOut; ++j) p.bias[j] = static_cast<T>(bias[j]);
    return absl::OkStatus();
  }

  ParamTuple params_;
  // Padded to whole vectors: shift and offset 0, scales 1 in the padding.
  alignas(kernels::kAlignment) std::array<T, kernels::PaddedSize<T>(kInputSize)> in_shift_{};
  alignas(kernels::kAlignment) std::array<T, kernels::PaddedSize<T>(kInputSize)> in_scale_{};
  alignas(kernels::kAlignment) std::array<T, kernels::PaddedSize<T>(kOutputSize)> out_scale_{};
  alignas(kernels::kAlignment) std::array<T, kernels::PaddedSize<T>(kOutputSize)> out_offset_{};
};

// Network<T, Layers...>
//
// The network in the fast mode (see the file comment).
template <typename T, typename... Layers>
using Network = BasicNetwork<T, Numerics::kFast, Layers...>;

// ReproducibleNetwork<T, Layers...>
//
// The network in the reproducible mode: the same outputs, bit for bit, on
// every instruction set maas supports, at every batch size and thread count
// (kernels/kernels.h lists the conditions). Measured cost against the fast
// mode: docs/PERFORMANCE.md.
template <typename T, typename... Layers>
using ReproducibleNetwork = BasicNetwork<T, Numerics::kReproducible, Layers...>;

}  // namespace maas

#endif  // MAAS_LOCAL_NETWORK_H_
