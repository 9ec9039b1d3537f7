// -----------------------------------------------------------------------------
// File: local/kernels/scalar.h
// -----------------------------------------------------------------------------
//
// The portable scalar reference kernels, namespace `maas::kernels::scalar`.
// Always compiled; every SIMD kernel is tested against these. Layout rules are
// in `layout.h`: weights input-major with rows of `PaddedSize<T>(kOut)`.
//
// Real-time safe: no allocation, no locks, no exceptions.

#ifndef MAAS_LOCAL_KERNELS_SCALAR_H_
#define MAAS_LOCAL_KERNELS_SCALAR_H_

#include <cmath>
#include <cstddef>
#include <cstring>
#include <initializer_list>

#include "maas/local/kernels/activation_kind.h"
#include "maas/local/kernels/layout.h"
#include "maas/local/kernels/math_constants.h"
#include "maas/local/kernels/network_view.h"

namespace maas {
namespace kernels {
namespace scalar {

// Sigmoid()
//
// 1 / (1 + e^-x), evaluated without overflow for large |x|.
template <typename T>
inline T Sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  const T e = std::exp(x);
  return e / (T(1) + e);
}

// SoftmaxRow()
//
// In-place stable softmax over y[0, n): subtracts the maximum before exp, so
// logits of 1e4 give finite results. n must be at least 1.
template <typename T>
inline void SoftmaxRow(T* y, std::size_t n) {
  T m = y[0];
  for (std::size_t j = 1; j < n; ++j) m = y[j] > m ? y[j] : m;
  T sum = T(0);
  for (std::size_t j = 0; j < n; ++j) {
    y[j] = std::exp(y[j] - m);
    sum += y[j];
  }
  const T inv = T(1) / sum;
  for (std::size_t j = 0; j < n; ++j) y[j] *= inv;
}

// Activate()
//
// One element-wise activation (not softmax), by the textbook formulas and
// the standard library's functions.
template <typename T, Activation kAct>
inline T Activate(T x, T alpha) {
  if constexpr (kAct == Activation::kRelu) {
    return x < T(0) ? T(0) : x;  // NaN stays NaN
  } else if constexpr (kAct == Activation::kSigmoid) {
    return Sigmoid(x);
  } else if constexpr (kAct == Activation::kTanh) {
    return std::tanh(x);
  } else if constexpr (kAct == Activation::kGelu) {
    // x Phi(x) = x/2 erfc(-x / sqrt 2)
    return T(0.5) * x * std::erfc(-x * T(0.70710678118654752440));
  } else if constexpr (kAct == Activation::kGeluTanh) {
    // y from x clamped where tanh y is +-1 already, so x^3 cannot overflow
    // (math_constants.h); comparisons keep a NaN x.
    constexpr T kClamp = static_cast<T>(detail::kGeluTanhClamp);
    const T c = x < -kClamp ? -kClamp : (x > kClamp ? kClamp : x);
    const T y = T(0.79788456080286535588) * (c + T(0.044715) * c * c * c);
    return T(0.5) * x * (T(1) + std::tanh(y));
  } else if constexpr (kAct == Activation::kSilu) {
    return x * Sigmoid(x);
  } else if constexpr (kAct == Activation::kSoftplus) {
    return (x > T(0) ? x : T(0)) + std::log1p(std::exp(-std::abs(x)));
  } else if constexpr (kAct == Activation::kLeakyRelu) {
    return x > T(0) ? x : alpha * x;
  } else if constexpr (kAct == Activation::kElu) {
    return x > T(0) ? x : alpha * std::expm1(x);
  } else {
    (void)alpha;
    return x;
  }
}

// ActivateRow()
//
// Applies `kAct` in place to y[0, n); `alpha` is leaky ReLU's and ELU's
// parameter (ignored by the others).
template <typename T, Activation kAct>
inline void ActivateRow(T* y, std::size_t n, T alpha = T(0)) {
  if constexpr (kAct == Activation::kSoftmax) {
    (void)alpha;
    SoftmaxRow(y, n);
  } else {
    for (std::size_t j = 0; j < n; ++j) y[j] = Activate<T, kAct>(y[j], alpha);
  }
}

// Dense()
//
// For each of `rows` rows: y = act(x W + b) (alpha: the activation's
// parameter, if it has one), with x of `kIn` values read at
// `x + r * x_stride` and y written at `y + r * y_stride`. `w` has `kIn` rows
// of `PaddedSize<T>(kOut)` values, `b` `kOut` values. Lanes [kOut,
// PaddedSize<T>(kOut)) of every output row are set to 0; lanes beyond are not
// touched. Any alignment is accepted. x and y must not overlap.
template <typename T, std::size_t kIn, std::size_t kOut, Activation kAct>
inline void Dense(const T* w, const T* b, const T* x, std::size_t x_stride,
                  T* y, std::size_t y_stride, std::size_t rows, T alpha) {
  constexpr std::size_t kStride = PaddedSize<T>(kOut);
  for (std::size_t r = 0; r < rows; ++r) {
    const T* xr = x + r * x_stride;
    T* yr = y + r * y_stride;
    for (std::size_t j = 0; j < kOut; ++j) yr[j] = b[j];
    for (std::size_t i = 0; i < kIn; ++i) {
      const T xi = xr[i];
      const T* wi = w + i * kStride;
      for (std::size_t j = 0; j < kOut; ++j) yr[j] += xi * wi[j];
    }
    ActivateRow<T, kAct>(yr, kOut, alpha);
    for (std::size_t j = kOut; j < kStride; ++j) yr[j] = T(0);
  }
}

// PlanLayer<T>()
//
// The scalar kernels use Layout::kColumns; they sum in input order (no
// partial sums).
template <typename T>
constexpr LayerPlan PlanLayer(std::size_t, std::size_t, Numerics) {
  return {Layout::kColumns, 1};
}

// ActivateRowAs()
//
// ActivateRow for an activation known at run time.
template <typename T>
inline void ActivateRowAs(Activation act, T* y, std::size_t n, T alpha) {
  switch (act) {
    case Activation::kIdentity: ActivateRow<T, Activation::kIdentity>(y, n, alpha); break;
    case Activation::kRelu: ActivateRow<T, Activation::kRelu>(y, n, alpha); break;
    case Activation::kSigmoid: ActivateRow<T, Activation::kSigmoid>(y, n, alpha); break;
    case Activation::kTanh: ActivateRow<T, Activation::kTanh>(y, n, alpha); break;
    case Activation::kSoftmax: ActivateRow<T, Activation::kSoftmax>(y, n, alpha); break;
    case Activation::kGelu: ActivateRow<T, Activation::kGelu>(y, n, alpha); break;
    case Activation::kGeluTanh: ActivateRow<T, Activation::kGeluTanh>(y, n, alpha); break;
    case Activation::kSilu: ActivateRow<T, Activation::kSilu>(y, n, alpha); break;
    case Activation::kSoftplus: ActivateRow<T, Activation::kSoftplus>(y, n, alpha); break;
    case Activation::kLeakyRelu: ActivateRow<T, Activation::kLeakyRelu>(y, n, alpha); break;
    case Activation::kElu: ActivateRow<T, Activation::kElu>(y, n, alpha); break;
  }
}

// DenseDynamic()
//
// Dense() for a layer of run-time size and activation (kColumns layout).
template <typename T>
inline void DenseDynamic(const LayerView<T>& l, const T* x, std::size_t x_stride, T* y,
                         std::size_t y_stride, std::size_t rows) {
  const std::size_t stride = PaddedSize<T>(l.n_out);
  for (std::size_t r = 0; r < rows; ++r) {
    const T* xr = x + r * x_stride;
    T* yr = y + r * y_stride;
    for (std::size_t j = 0; j < l.n_out; ++j) yr[j] = l.b[j];
    for (std::size_t i = 0; i < l.n_in; ++i) {
      const T xi = xr[i];
      const T* wi = l.w + i * stride;
      for (std::size_t j = 0; j < l.n_out; ++j) yr[j] += xi * wi[j];
    }
    ActivateRowAs<T>(l.act, yr, l.n_out, l.alpha);
    for (std::size_t j = l.n_out; j < stride; ++j) yr[j] = T(0);
  }
}

// ForwardDynamic<T, kNum>()
//
// The forward pass of a network described by `view` (every LayerView field
// set, weights in kColumns), one row at a time through `scratch` (2 *
// view.max_width values; block_rows is not used).
template <typename T, Numerics kNum>
inline void ForwardDynamic(const NetworkView<T>& view, const T* x, std::size_t rows, T* y,
                           T* scratch, std::size_t block_rows) noexcept {
  static_assert(kNum == Numerics::kFast,
                "maas::kernels::scalar runs the fast mode; kReproducible uses portable");
  (void)block_rows;
  T* a = scratch;
  T* b = scratch + view.max_width;
  for (std::size_t r = 0; r < rows; ++r) {
    const T* xr = x + r * view.n_in;
    for (std::size_t i = 0; i < view.n_in; ++i) {
      a[i] = (xr[i] - view.in_shift[i]) * view.in_scale[i];
    }
    T* in = a;
    T* out = b;
    for (std::size_t l = 0; l < view.num_layers; ++l) {
      DenseDynamic<T>(view.layers[l], in, view.max_width, out, view.max_width, 1);
      T* t = in;
      in = out;
      out = t;
    }
    T* yr = y + r * view.n_out;
    for (std::size_t j = 0; j < view.n_out; ++j) {
      yr[j] = in[j] * view.out_scale[j] + view.out_offset[j];
    }
  }
}

// Forward<T, kNum, Specs...>()
//
// The forward pass of a compile-time network (every LayerView field set),
// one row at a time through stack scratch.
template <typename T, Numerics kNum, typename... Specs>
inline void Forward(const NetworkView<T>& view, const T* x, std::size_t rows, T* y) noexcept {
  constexpr std::size_t kWidth = [] {
    std::size_t w = 0;
    for (std::size_t n : {PaddedSize<T>(Specs::kInputSize)...,
                          PaddedSize<T>(Specs::kOutputSize)...}) {
      w = n > w ? n : w;
    }
    return w;
  }();
  alignas(64) T scratch[2 * kWidth];
  ForwardDynamic<T, kNum>(view, x, rows, y, scratch, 1);
}

}  // namespace scalar
}  // namespace kernels
}  // namespace maas

#endif  // MAAS_LOCAL_KERNELS_SCALAR_H_
