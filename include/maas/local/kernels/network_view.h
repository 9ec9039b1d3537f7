// -----------------------------------------------------------------------------
// File: local/kernels/network_view.h
// -----------------------------------------------------------------------------
//
// What the kernels see of a network: plain pointers and sizes, no ownership.
// `maas::BasicNetwork` (network.h) and `maas::DynamicNetwork`
// (dynamic_network.h) fill a `NetworkView` and hand it, with the caller's
// rows, to `maas::kernels::Forward` / `ForwardDynamic` (kernels.h), which run
// the whole forward pass (input standardisation, every layer, output
// scaling) inside one instruction set's code: one dispatch per call.
//
// Abseil-free, like every kernel header.

#ifndef MAAS_LOCAL_KERNELS_NETWORK_VIEW_H_
#define MAAS_LOCAL_KERNELS_NETWORK_VIEW_H_

#include <cstddef>

#include "maas/local/kernels/activation_kind.h"
#include "maas/local/kernels/layout.h"

namespace maas {
namespace kernels {

// LayerView<T>
//
// One dense layer: weights `w` in `plan.layout` (layout.h), bias `b` of
// PaddedSize<T>(n_out) values, activation and its parameter.
template <typename T>
struct LayerView {
  const T* w = nullptr;
  const T* b = nullptr;
  std::size_t n_in = 0;
  std::size_t n_out = 0;
  Activation act = Activation::kIdentity;
  LayerPlan plan;
  T alpha = T(0);
};

// NetworkView<T>
//
// `num_layers` layers whose sizes chain; x' = (x - in_shift) * in_scale
// before the first (n_in values each), y = y' * out_scale + out_offset after
// the last (PaddedSize<T>(n_out) values each, padding lanes 1 and 0).
// `max_width` is the widest PaddedSize<T>() of the input and every layer's
// output.
template <typename T>
struct NetworkView {
  const LayerView<T>* layers = nullptr;
  std::size_t num_layers = 0;
  std::size_t n_in = 0;
  std::size_t n_out = 0;
  std::size_t max_width = 0;
  const T* in_shift = nullptr;
  const T* in_scale = nullptr;
  const T* out_scale = nullptr;
  const T* out_offset = nullptr;
};

// LayerSpec<kIn, kOut, kAct>
//
// A layer's compile-time shape, for the compile-time network's kernels.
template <std::size_t kIn, std::size_t kOut, Activation kAct>
struct LayerSpec {
  static constexpr std::size_t kInputSize = kIn;
  static constexpr std::size_t kOutputSize = kOut;
  static constexpr Activation kActivation = kAct;
};

}  // namespace kernels
}  // namespace maas

#endif  // MAAS_LOCAL_KERNELS_NETWORK_VIEW_H_
