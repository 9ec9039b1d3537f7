// -----------------------------------------------------------------------------
// File: local/jacobian.h
// -----------------------------------------------------------------------------
//
// Derivatives of a local network with respect to its inputs: the full
// Jacobian (one `output_size x input_size` matrix per row, row-major:
// `jacobian[o * input_size + i]` = dy_o / dx_i), the value and the Jacobian
// in one pass, Jacobian-vector products (forward mode: J v) and
// vector-Jacobian products (reverse mode: u^T J). They work for the
// compile-time `maas::Network` / `maas::ReproducibleNetwork` (network.h) and
// the run-time `maas::DynamicNetwork` (dynamic_network.h) alike, and are
// exact (analytic) through every activation of activation.h and through the
// model file's input standardisation ((x - mean) / std) and output scaling
// (y * scale + offset).
//
// Example (Newton's method on g(x) = f(x) - r):
//
//   using Net = maas::Network<double, maas::Dense<3, 16, maas::Tanh>,
//                             maas::Dense<16, 3>>;
//   double y[3], jac[9];                              // 3 x 3, row-major
//   absl::Status s = maas::ValueAndJacobian(net, x, y, jac);
//   if (!s.ok()) return s;                            // only for huge layers
//
// Method. The value is computed once per call by plain loops in T (not by
// the SIMD kernels of `Forward`, so it agrees with `Forward` to rounding,
// not bit for bit). The full Jacobian runs in reverse mode (one adjoint pass
// per output after one forward pass that keeps every layer's activation
// derivative) when the network has fewer outputs than inputs, and in
// forward mode (the derivatives with respect to a block of inputs carried
// alongside the value; a block is as many inputs as the scratch holds, all
// of them for ordinary sizes) otherwise. Inner loops run along a layer's
// units (axpy) or, in the output-major weight layout, as dot products with
// eight partial sums, which the compiler vectorises for the instruction set
// it targets (-march). Derivatives at ReLU's and leaky ReLU's kink (z = 0)
// are taken as the left one (0 and alpha); ELU's as alpha e^0 = alpha.
// Softmax is differentiated as a row: ds_j = s_j (dz_j - sum_k s_k dz_k).
//
// Memory: every function works in a stack buffer of
// `kDerivativeScratchBytes` (96 KiB) and allocates nothing, takes no lock
// and throws nothing. A network whose widest layer is over
// kDerivativeScratchBytes / (6 sizeof(T)) values (4096 floats, 2048
// doubles) does not fit: every function then fails with
// `kResourceExhausted` (the only failure; outputs untouched).
//
// Pointers: x holds input_size values; y (nullable where stated)
// output_size; v input_size; u output_size. Any alignment. Outputs must not
// overlap inputs.
//
// Thread safety: the functions only read the network; any number may run at
// once on one network (but not while it is being modified).

#ifndef MAAS_LOCAL_JACOBIAN_H_
#define MAAS_LOCAL_JACOBIAN_H_

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "maas/core/data_type.h"
#include "maas/core/model_signature.h"
#include "maas/core/shape.h"
#include "maas/core/tensor_view.h"
#include "maas/local/activation.h"
#include "maas/local/kernels/layout.h"
#include "maas/local/kernels/math_constants.h"
#include "maas/local/kernels/network_view.h"

namespace maas {

// kDerivativeScratchBytes
//
// The stack scratch one derivative call uses.
inline constexpr std::size_t kDerivativeScratchBytes = 2 * 49152;

namespace derivative_internal {

// The network as the kernels see it. Compile-time networks (with
// kNumLayers) are viewed through their layer parameters; run-time networks
// hand out their view.
template <typename Net, typename = void>
struct HasStaticLayers : std::false_type {};
template <typename Net>
struct HasStaticLayers<Net, std::void_t<decltype(Net::kNumLayers)>> : std::true_type {};

template <typename Net, bool kStatic = HasStaticLayers<Net>::value>
class ViewOf;

template <typename Net>
class ViewOf<Net, true> {
 public:
  using T = typename Net::ValueType;
  explicit ViewOf(const Net& net) {
    Fill(net, std::make_index_sequence<Net::kNumLayers>());
    view_.layers = layers_;
    view_.num_layers = Net::kNumLayers;
    view_.n_in = Net::kInputSize;
    view_.n_out = Net::kOutputSize;
    view_.max_width = Net::kMaxWidth;
    view_.in_shift = net.input_shift();
    view_.in_scale = net.input_scale();
    view_.out_scale = net.output_scale();
    view_.out_offset = net.output_offset();
  }
  const kernels::NetworkView<T>& view() const { return view_; }

 private:
  template <std::size_t... I>
  void Fill(const Net& net, std::index_sequence<I...>) {
    ((layers_[I] = LayerOf<I>(net)), ...);
  }
  template <std::size_t I>
  static kernels::LayerView<T> LayerOf(const Net& net) {
    const auto& p = net.template params<I>();
    kernels::LayerView<T> l;
    l.w = p.weights.data();
    l.b = p.bias.data();
    l.n_in = Net::layer_input_size(I);
    l.n_out = Net::layer_output_size(I);
    l.act = Net::layer_activation(I);
    l.plan = p.plan;
    l.alpha = p.alpha;
    return l;
  }
  kernels::LayerView<T> layers_[Net::kNumLayers];
  kernels::NetworkView<T> view_;
};

template <typename Net>
class ViewOf<Net, false> {
 public:
  using T = typename Net::ValueType;
  explicit ViewOf(const Net& net) : view_(net.network_view()) {}
  const kernels::NetworkView<T>& view() const { return view_; }

 private:
  kernels::NetworkView<T> view_;
};

// Widest layer (inputs or outputs) without padding.
template <typename T>
std::size_t MaxUnpadded(const kernels::NetworkView<T>& v) {
  std::size_t w = v.n_in;
  for (std::size_t l = 0; l < v.num_layers; ++l) w = v.layers[l].n_out > w ? v.layers[l].n_out : w;
  return w;
}

// The one failure, built once (returning it allocates nothing).
template <typename T>
absl::Status TooWide() {
  static const absl::Status* const kStatus = new absl::Status(absl::ResourceExhaustedError(
      absl::StrCat("derivatives of the local network: a layer is wider than the derivative "
                   "scratch allows (",
                   kDerivativeScratchBytes / (6 * sizeof(T)), " units)")));
  return *kStatus;
}

// Dot()
//
// sum_i a_i b_i over n values, in 8 partial sums (so the compiler can
// vectorise it without reassociating on its own).
template <typename T>
T Dot(const T* a, const T* b, std::size_t n) {
  T acc[8] = {};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (std::size_t m = 0; m < 8; ++m) acc[m] += a[i + m] * b[i + m];
  }
  T tail = T(0);
  for (; i < n; ++i) tail += a[i] * b[i];
  return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])) + tail;
}

// Axpy()
//
// y[0, n) += a x[0, n).
template <typename T>
void Axpy(T a, const T* x, T* y, std::size_t n) {
  for (std::size_t j = 0; j < n; ++j) y[j] += a * x[j];
}

// z = x W + b for one row (x: l.n_in values, z: l.n_out values).
template <typename T>
void Affine(const kernels::LayerView<T>& l, const T* x, T* z) {
  if (l.plan.layout == kernels::Layout::kColumns) {
    const std::size_t stride = kernels::PaddedSize<T>(l.n_out);
    for (std::size_t j = 0; j < l.n_out; ++j) z[j] = l.b[j];
    for (std::size_t i = 0; i < l.n_in; ++i) Axpy(x[i], l.w + i * stride, z, l.n_out);
  } else {
    const std::size_t stride = kernels::PaddedSize<T>(l.n_in);
    for (std::size_t j = 0; j < l.n_out; ++j) z[j] = l.b[j] + Dot(l.w + j * stride, x, l.n_in);
  }
}

// The tangents of z for c directions, direction-major: tz[k * width + j] =
// sum_i w_ij t[k * width + i] (no bias). Zero input tangents are skipped
// (the first layer's are unit vectors when forming a Jacobian).
template <typename T>
void AffineTangent(const kernels::LayerView<T>& l, const T* t, std::size_t c, std::size_t width,
                   T* tz) {
  for (std::size_t k = 0; k < c; ++k) {
    const T* tk = t + k * width;
    T* tzk = tz + k * width;
    if (l.plan.layout == kernels::Layout::kColumns) {
      const std::size_t stride = kernels::PaddedSize<T>(l.n_out);
      for (std::size_t j = 0; j < l.n_out; ++j) tzk[j] = T(0);
      for (std::size_t i = 0; i < l.n_in; ++i) {
        if (tk[i] != T(0)) Axpy(tk[i], l.w + i * stride, tzk, l.n_out);
      }
    } else {
      const std::size_t stride = kernels::PaddedSize<T>(l.n_in);
      for (std::size_t j = 0; j < l.n_out; ++j) tzk[j] = Dot(l.w + j * stride, tk, l.n_in);
    }
  }
}

// gx[i] = sum_j w_ij gz[j]: the adjoint of x from the adjoint of z.
template <typename T>
void AffineAdjoint(const kernels::LayerView<T>& l, const T* gz, T* gx) {
  if (l.plan.layout == kernels::Layout::kColumns) {
    const std::size_t stride = kernels::PaddedSize<T>(l.n_out);
    for (std::size_t i = 0; i < l.n_in; ++i) gx[i] = Dot(l.w + i * stride, gz, l.n_out);
  } else {
    const std::size_t stride = kernels::PaddedSize<T>(l.n_in);
    for (std::size_t i = 0; i < l.n_in; ++i) gx[i] = T(0);
    for (std::size_t j = 0; j < l.n_out; ++j) {
      if (gz[j] != T(0)) Axpy(gz[j], l.w + j * stride, gx, l.n_in);
    }
  }
}

// g <- the adjoint of z from the adjoint g of a = act(z), given d from
// ActivateWithDerivative (act'(z), or the softmax values).
template <typename T>
void ActivationAdjoint(Activation act, const T* d, std::size_t n, T* g) {
  if (act == Activation::kSoftmax) {
    const T dot = Dot(d, g, n);
    for (std::size_t j = 0; j < n; ++j) g[j] = d[j] * (g[j] - dot);
  } else {
    for (std::size_t j = 0; j < n; ++j) g[j] *= d[j];
  }
}

template <typename T>
T Logistic(T z) {
  if (z >= T(0)) return T(1) / (T(1) + std::exp(-z));
  const T e = std::exp(z);
  return e / (T(1) + e);
}

// tanh z: 1 - 2 / (e^2|z| + 1) with z's sign (one exp, about half the
// cost of std::tanh), std::tanh below |z| = 1/8 where that form would lose
// more than 3 bits to cancellation.
template <typename T>
T Tanh(T z) {
  const T az = std::abs(z);
  if (az < T(0.125)) return std::tanh(z);
  const T t = T(1) - T(2) / (std::exp(T(2) * az) + T(1));
  return z < T(0) ? -t : t;
}

// a = act(z) and d: act'(z) for element-wise activations, the softmax
// values s (= a) for softmax. n >= 1 values; a and d may not alias z. A NaN
// z gives a NaN a and d (so a NaN input makes the value and the Jacobian
// NaN, never a finite number).
template <typename T>
void ActivateWithDerivative(Activation act, T alpha, const T* z, std::size_t n, T* a, T* d) {
  constexpr T kInvSqrt2 = T(0.70710678118654752440);
  constexpr T kInvSqrt2Pi = T(0.39894228040143267794);
  constexpr T kSqrt2OverPi = T(0.79788456080286535588);
  constexpr T kCubic = T(0.044715);
  constexpr T kGeluTanhClamp = T(::maas::kernels::detail::kGeluTanhClamp);
  switch (act) {
    case Activation::kIdentity:
      for (std::size_t j = 0; j < n; ++j) { a[j] = z[j]; d[j] = T(1); }
      return;
    case Activation::kRelu:
      for (std::size_t j = 0; j < n; ++j) {
        a[j] = z[j] < T(0) ? T(0) : z[j];
        d[j] = z[j] > T(0) ? T(1) : std::isnan(z[j]) ? z[j] : T(0);
      }
      return;
    case Activation::kSigmoid:
      for (std::size_t j = 0; j < n; ++j) {
        const T s = Logistic(z[j]);
        a[j] = s;
        d[j] = s * (T(1) - s);
      }
      return;
    case Activation::kTanh:
      for (std::size_t j = 0; j < n; ++j) {
        const T t = Tanh(z[j]);
        a[j] = t;
        d[j] = T(1) - t * t;
      }
      return;
    case Activation::kSoftmax: {
      T m = z[0];
      for (std::size_t j = 1; j < n; ++j) m = z[j] > m ? z[j] : m;
      T sum = T(0);
      for (std::size_t j = 0; j < n; ++j) {
        a[j] = std::exp(z[j] - m);
        sum += a[j];
      }
      const T inv = T(1) / sum;
      for (std::size_t j = 0; j < n; ++j) {
        a[j] *= inv;
        d[j] = a[j];
      }
      return;
    }
    case Activation::kGelu:
      // d/dz z Phi(z) = Phi(z) + z phi(z).
      for (std::size_t j = 0; j < n; ++j) {
        const T x = z[j];
        const T cdf = T(0.5) * std::erfc(-x * kInvSqrt2);
        a[j] = x * cdf;
        d[j] = cdf + x * kInvSqrt2Pi * std::exp(T(-0.5) * x * x);
      }
      return;
    case Activation::kGeluTanh:
      for (std::size_t j = 0; j < n; ++j) {
        const T x = z[j];
        // The cubic from x clamped where tanh is +-1 already (so 1 - t^2 = 0
        // and the derivative's second term 0, not 0 * inf); NaN passes.
        const T c = x < -kGeluTanhClamp ? -kGeluTanhClamp
                                        : (x > kGeluTanhClamp ? kGeluTanhClamp : x);
        const T t = Tanh(kSqrt2OverPi * (c + kCubic * c * c * c));
        a[j] = T(0.5) * x * (T(1) + t);
        d[j] = T(0.5) * (T(1) + t) +
               T(0.5) * x * (T(1) - t * t) * kSqrt2OverPi * (T(1) + T(3) * kCubic * c * c);
      }
      return;
    case Activation::kSilu:
      // d/dz z s(z) = s (1 + z (1 - s)).
      for (std::size_t j = 0; j < n; ++j) {
        const T s = Logistic(z[j]);
        a[j] = z[j] * s;
        d[j] = s * (T(1) + z[j] * (T(1) - s));
      }
      return;
    case Activation::kSoftplus:
      for (std::size_t j = 0; j < n; ++j) {
        const T x = z[j];
        a[j] = (x > T(0) ? x : T(0)) + std::log1p(std::exp(-std::abs(x)));
        d[j] = Logistic(x);
      }
      return;
    case Activation::kLeakyRelu:
      for (std::size_t j = 0; j < n; ++j) {
        a[j] = z[j] > T(0) ? z[j] : alpha * z[j];
        d[j] = z[j] > T(0) ? T(1) : std::isnan(z[j]) ? z[j] : alpha;
      }
      return;
    case Activation::kElu:
      for (std::size_t j = 0; j < n; ++j) {
        const T e = std::expm1(z[j]);
        a[j] = z[j] > T(0) ? z[j] : alpha * e;
        d[j] = z[j] > T(0) ? T(1) : alpha * (e + T(1));
      }
      return;
  }
}

// t <- the activation's derivative applied to tz (c directions,
// direction-major with row length `width`).
template <typename T>
void ActivationTangent(Activation act, const T* d, std::size_t n, const T* tz, std::size_t c,
                       std::size_t width, T* t) {
  for (std::size_t k = 0; k < c; ++k) {
    const T* tzk = tz + k * width;
    T* tk = t + k * width;
    if (act == Activation::kSoftmax) {
      // t_j = s_j (tz_j - sum_m s_m tz_m).
      const T dot = Dot(d, tzk, n);
      for (std::size_t j = 0; j < n; ++j) tk[j] = d[j] * (tzk[j] - dot);
    } else {
      for (std::size_t j = 0; j < n; ++j) tk[j] = d[j] * tzk[j];
    }
  }
}

// The forward pass of one row with tangents: inputs [i0, i0 + c) of the
// Jacobian (unit vectors, `dir` == nullptr) or the one direction dir
// (c == 1). Writes y (if non-null) and the output tangents, scaled, to
// out[o * out_stride + k]. Scratch: 3 W + 2 W c values.
template <typename T>
void ForwardTangents(const kernels::NetworkView<T>& v, const T* x, const T* dir, std::size_t i0,
                     std::size_t c, T* scratch, std::size_t width, T* y, T* out,
                     std::size_t out_stride) {
  T* a = scratch;
  T* z = a + width;
  T* d = z + width;
  T* t = d + width;
  T* tz = t + width * c;
  for (std::size_t i = 0; i < v.n_in; ++i) a[i] = (x[i] - v.in_shift[i]) * v.in_scale[i];
  for (std::size_t k = 0; k < c; ++k) {
    T* tk = t + k * width;
    for (std::size_t i = 0; i < v.n_in; ++i) {
      tk[i] = dir != nullptr ? dir[i] * v.in_scale[i] : i == i0 + k ? v.in_scale[i] : T(0);
    }
  }
  for (std::size_t l = 0; l < v.num_layers; ++l) {
    const kernels::LayerView<T>& layer = v.layers[l];
    Affine(layer, a, z);
    ActivateWithDerivative(layer.act, layer.alpha, z, layer.n_out, a, d);
    AffineTangent(layer, t, c, width, tz);
    ActivationTangent(layer.act, d, layer.n_out, tz, c, width, t);
  }
  for (std::size_t o = 0; o < v.n_out; ++o) {
    if (y != nullptr) y[o] = a[o] * v.out_scale[o] + v.out_offset[o];
    T* row = out + o * out_stride;
    for (std::size_t k = 0; k < c; ++k) row[k] = t[k * width + o] * v.out_scale[o];
  }
}

// Forward mode: the Jacobian in blocks of input columns. Needs 5 W <= cap.
template <typename T>
void RowJacobianForward(const kernels::NetworkView<T>& v, const T* x, T* y, T* jac, T* scratch,
                        std::size_t cap) {
  const std::size_t width = MaxUnpadded(v);
  std::size_t c = (cap - 3 * width) / (2 * width);
  if (c > v.n_in) c = v.n_in;
  for (std::size_t i0 = 0; i0 < v.n_in; i0 += c) {
    const std::size_t block = v.n_in - i0 < c ? v.n_in - i0 : c;
    ForwardTangents(v, x, static_cast<const T*>(nullptr), i0, block, scratch, width,
                    i0 == 0 ? y : nullptr, jac + i0, v.n_in);
  }
}

// Values needed by reverse mode besides the 2 W of the primal: every
// layer's derivative d, and 2 W per output row of adjoints.
template <typename T>
std::size_t ReverseScratch(const kernels::NetworkView<T>& v, std::size_t width) {
  std::size_t total = 0;
  for (std::size_t l = 0; l < v.num_layers; ++l) total += v.layers[l].n_out;
  return 2 * width + total;
}

// Reverse mode: the Jacobian in blocks of output rows (one adjoint pass
// per output, all sharing one forward pass). Needs ReverseScratch + 2 W
// <= cap.
template <typename T>
void RowJacobianReverse(const kernels::NetworkView<T>& v, const T* x, T* y, T* jac, T* scratch,
                        std::size_t cap) {
  const std::size_t width = MaxUnpadded(v);
  const std::size_t fixed = ReverseScratch(v, width);
  T* a = scratch;
  T* z = a + width;
  T* ds = z + width;  // layer l's d at ds + sum of the earlier layers' n_out
  T* g = scratch + fixed;
  std::size_t rb = (cap - fixed) / (2 * width);
  if (rb > v.n_out) rb = v.n_out;
  T* g2 = g + rb * width;
  for (std::size_t i = 0; i < v.n_in; ++i) a[i] = (x[i] - v.in_shift[i]) * v.in_scale[i];
  std::size_t off = 0;
  for (std::size_t l = 0; l < v.num_layers; ++l) {
    const kernels::LayerView<T>& layer = v.layers[l];
    Affine(layer, a, z);
    ActivateWithDerivative(layer.act, layer.alpha, z, layer.n_out, a, ds + off);
    off += layer.n_out;
  }
  if (y != nullptr) {
    for (std::size_t o = 0; o < v.n_out; ++o) y[o] = a[o] * v.out_scale[o] + v.out_offset[o];
  }
  for (std::size_t o0 = 0; o0 < v.n_out; o0 += rb) {
    const std::size_t rows = v.n_out - o0 < rb ? v.n_out - o0 : rb;
    for (std::size_t r = 0; r < rows; ++r) {
      T* gr = g + r * width;
      for (std::size_t o = 0; o < v.n_out; ++o) gr[o] = o == o0 + r ? v.out_scale[o] : T(0);
    }
    std::size_t end = off;
    T* cur = g;
    T* next = g2;
    for (std::size_t l = v.num_layers; l-- > 0;) {
      const kernels::LayerView<T>& layer = v.layers[l];
      end -= layer.n_out;
      for (std::size_t r = 0; r < rows; ++r) {
        ActivationAdjoint(layer.act, ds + end, layer.n_out, cur + r * width);
        AffineAdjoint(layer, cur + r * width, next + r * width);
      }
      T* tmp = cur;
      cur = next;
      next = tmp;
    }
    for (std::size_t r = 0; r < rows; ++r) {
      T* row = jac + (o0 + r) * v.n_in;
      const T* gr = cur + r * width;
      for (std::size_t i = 0; i < v.n_in; ++i) row[i] = gr[i] * v.in_scale[i];
    }
  }
}

// One row's value and full Jacobian: reverse mode when there are fewer
// outputs than inputs and its scratch fits, forward mode otherwise; false
// when the scratch is too small for either.
template <typename T>
bool RowJacobian(const kernels::NetworkView<T>& v, const T* x, T* y, T* jac) {
  const std::size_t width = MaxUnpadded(v);
  constexpr std::size_t kCap = kDerivativeScratchBytes / sizeof(T);
  if (6 * width > kCap) return false;
  alignas(kernels::kAlignment) T scratch[kCap];
  if (v.n_out < v.n_in && ReverseScratch(v, width) + 2 * width <= kCap) {
    RowJacobianReverse(v, x, y, jac, scratch, kCap);
  } else {
    RowJacobianForward(v, x, y, jac, scratch, kCap);
  }
  return true;
}

// u^T J by reverse mode. Keeps every layer's z when they fit, else
// recomputes the forward pass up to each layer.
template <typename T>
bool RowVjp(const kernels::NetworkView<T>& v, const T* x, const T* u, T* y, T* uj) {
  const std::size_t width = MaxUnpadded(v);
  constexpr std::size_t kCap = kDerivativeScratchBytes / sizeof(T);
  if (6 * width > kCap) return false;
  alignas(kernels::kAlignment) T scratch[kCap];
  T* a = scratch;
  T* d = a + width;
  T* g = d + width;
  T* g2 = g + width;
  T* ztmp = g2 + width;  // one z when recomputing
  T* zs = ztmp + width;  // every layer's z, when they fit
  std::size_t total = 0;
  for (std::size_t l = 0; l < v.num_layers; ++l) total += v.layers[l].n_out;
  const bool keep = 5 * width + total <= kCap;
  // Forward to the pre-activation of layer `upto` (into z); the output row
  // (into y) when upto == num_layers.
  auto forward = [&](std::size_t upto, T* z_out) {
    for (std::size_t i = 0; i < v.n_in; ++i) a[i] = (x[i] - v.in_shift[i]) * v.in_scale[i];
    T* z = keep ? zs : ztmp;
    for (std::size_t l = 0; l < v.num_layers && l <= upto; ++l) {
      const kernels::LayerView<T>& layer = v.layers[l];
      T* zl = keep ? z : (l == upto ? z_out : ztmp);
      Affine(layer, a, zl);
      if (l == upto) return;
      ActivateWithDerivative(layer.act, layer.alpha, zl, layer.n_out, a, d);
      if (keep) z += layer.n_out;
    }
  };
  forward(v.num_layers, ztmp);
  if (y != nullptr) {
    for (std::size_t o = 0; o < v.n_out; ++o) y[o] = a[o] * v.out_scale[o] + v.out_offset[o];
  }
  for (std::size_t o = 0; o < v.n_out; ++o) g[o] = u[o] * v.out_scale[o];
  std::size_t offset = total;
  for (std::size_t l = v.num_layers; l-- > 0;) {
    const kernels::LayerView<T>& layer = v.layers[l];
    offset -= layer.n_out;
    const T* z = zs + offset;
    if (!keep) {
      forward(l, ztmp);
      z = ztmp;
    }
    ActivateWithDerivative(layer.act, layer.alpha, z, layer.n_out, g2, d);
    ActivationAdjoint(layer.act, d, layer.n_out, g);
    AffineAdjoint(layer, g, g2);
    for (std::size_t i = 0; i < layer.n_in; ++i) g[i] = g2[i];
  }
  for (std::size_t i = 0; i < v.n_in; ++i) uj[i] = g[i] * v.in_scale[i];
  return true;
}

}  // namespace derivative_internal

// ValueAndJacobian()
//
// One row: y = f(x) (y may be null) and the Jacobian dy/dx into `jacobian`
// (output_size x input_size values, row-major), in one pass. Costs about
// min(input_size, output_size) forward passes' worth of arithmetic (the
// first layer's share less in forward mode), against 2 input_size + 1
// passes for central differences (measured: docs/PERFORMANCE.md,
// "Derivatives"). Fails only with `kResourceExhausted` (see the file
// comment), outputs untouched. No allocation, locks or exceptions.
template <typename Net>
absl::Status ValueAndJacobian(const Net& net, const typename Net::ValueType* x,
                              typename Net::ValueType* y,
                              typename Net::ValueType* jacobian) noexcept {
  const derivative_internal::ViewOf<Net> view(net);
  if (!derivative_internal::RowJacobian(view.view(), x, y, jacobian)) {
    return derivative_internal::TooWide<typename Net::ValueType>();
  }
  return absl::OkStatus();
}

// Jacobian()
//
// As ValueAndJacobian without the value.
template <typename Net>
absl::Status Jacobian(const Net& net, const typename Net::ValueType* x,
                      typename Net::ValueType* jacobian) noexcept {
  return ValueAndJacobian(net, x, nullptr, jacobian);
}

// JacobianBatch()
//
// `rows` rows of input_size values at x: their values into y (rows x
// output_size; y may be null) and one Jacobian per row into `jacobians`
// (row r's matrix at jacobians + r * output_size * input_size). Fails as
// ValueAndJacobian, before writing anything.
template <typename Net>
absl::Status JacobianBatch(const Net& net, const typename Net::ValueType* x, std::size_t rows,
                           typename Net::ValueType* y,
                           typename Net::ValueType* jacobians) noexcept {
  const derivative_internal::ViewOf<Net> view(net);
  const kernels::NetworkView<typename Net::ValueType>& v = view.view();
  const std::size_t width = derivative_internal::MaxUnpadded(v);
  if (6 * width > kDerivativeScratchBytes / sizeof(typename Net::ValueType)) {
    return derivative_internal::TooWide<typename Net::ValueType>();
  }
  for (std::size_t r = 0; r < rows; ++r) {
    derivative_internal::RowJacobian(v, x + r * v.n_in, y == nullptr ? nullptr : y + r * v.n_out,
                                     jacobians + r * v.n_out * v.n_in);
  }
  return absl::OkStatus();
}

// JacobianVectorProduct()
//
// Forward mode: jv = J(x) v (output_size values) and, if y is non-null,
// y = f(x), for the price of about two forward passes, without forming J.
// Fails as ValueAndJacobian.
template <typename Net>
absl::Status JacobianVectorProduct(const Net& net, const typename Net::ValueType* x,
                                   const typename Net::ValueType* v,
                                   typename Net::ValueType* y,
                                   typename Net::ValueType* jv) noexcept {
  using T = typename Net::ValueType;
  const derivative_internal::ViewOf<Net> view(net);
  const std::size_t width = derivative_internal::MaxUnpadded(view.view());
  constexpr std::size_t kCap = kDerivativeScratchBytes / sizeof(T);
  if (6 * width > kCap) return derivative_internal::TooWide<T>();
  alignas(kernels::kAlignment) T scratch[kCap];
  derivative_internal::ForwardTangents(view.view(), x, v, 0, 1, scratch, width, y, jv, 1);
  return absl::OkStatus();
}

// VectorJacobianProduct()
//
// Reverse mode: uj = u^T J(x) (input_size values; the gradient of
// sum_o u_o y_o) and, if y is non-null, y = f(x), for the price of about
// two or three forward passes, without forming J. Fails as
// ValueAndJacobian.
template <typename Net>
absl::Status VectorJacobianProduct(const Net& net, const typename Net::ValueType* x,
                                   const typename Net::ValueType* u,
                                   typename Net::ValueType* y,
                                   typename Net::ValueType* uj) noexcept {
  const derivative_internal::ViewOf<Net> view(net);
  if (!derivative_internal::RowVjp(view.view(), x, u, y, uj)) {
    return derivative_internal::TooWide<typename Net::ValueType>();
  }
  return absl::OkStatus();
}

namespace detail {

// JacobianThroughViews()
//
// `Predictor::Jacobian` for a local model holding `net` with `signature`
// (one input, one output): validates the views as `Predict` does (outputs
// only when given) and the Jacobian view (the network's datatype, shape
// [batch, n_out, n_in], exactly that many bytes), then runs JacobianBatch.
// Fails with `kInvalidArgument` naming what does not fit, or as
// JacobianBatch; nothing is written on failure.
template <typename Net>
absl::Status JacobianThroughViews(const Net& net, const ModelSignature& signature,
                                  absl::Span<const ConstTensorView> inputs,
                                  absl::Span<const TensorView> outputs,
                                  const TensorView& jacobian) {
  using T = typename Net::ValueType;
  std::array<ConstTensorView, 1> in;
  absl::StatusOr<std::int64_t> batch = signature.ValidateInputs(inputs, absl::MakeSpan(in));
  if (!batch.ok()) return batch.status();
  std::array<TensorView, 1> out;
  if (!outputs.empty()) {
    if (absl::Status s = signature.ValidateOutputs(outputs, *batch, absl::MakeSpan(out));
        !s.ok()) {
      return s;
    }
  }
  const derivative_internal::ViewOf<Net> view(net);
  const std::size_t n_in = view.view().n_in, n_out = view.view().n_out;
  const auto rows = static_cast<std::size_t>(*batch);
  const Shape want = {*batch, static_cast<std::int64_t>(n_out), static_cast<std::int64_t>(n_in)};
  if (jacobian.dtype() != DataTypeOf<T>() || jacobian.shape() != want ||
      jacobian.byte_size() != rows * n_out * n_in * sizeof(T) ||
      (rows != 0 && jacobian.raw_data() == nullptr)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "jacobian '", jacobian.name(), "': expected ", DataTypeName(DataTypeOf<T>()),
        want.ToString(), " (", rows * n_out * n_in * sizeof(T), " bytes), got ",
        DataTypeName(jacobian.dtype()), jacobian.shape().ToString(), " (", jacobian.byte_size(),
        " bytes)"));
  }
  if (rows == 0) return absl::OkStatus();
  return JacobianBatch(net, static_cast<const T*>(in[0].raw_data()), rows,
                       outputs.empty() ? nullptr : static_cast<T*>(out[0].raw_data()),
                       static_cast<T*>(jacobian.raw_data()));
}

}  // namespace detail

}  // namespace maas

#endif  // MAAS_LOCAL_JACOBIAN_H_
