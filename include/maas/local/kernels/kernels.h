// -----------------------------------------------------------------------------
// File: local/kernels/kernels.h
// -----------------------------------------------------------------------------
//
// The one place that chooses which kernel implementation the network calls.
// `maas::kernels::DenseLayer` is the seam: the network calls nothing else.
// Today it forwards to the scalar reference; ISA-specific files
// (`avx2.h`, `avx512.h`, `neon.h`) plug in here and nowhere else.
//
// Real-time safe: no allocation, no locks, no exceptions.

#ifndef MAAS_LOCAL_KERNELS_KERNELS_H_
#define MAAS_LOCAL_KERNELS_KERNELS_H_

#include <cstddef>

#include "maas/local/kernels/activation_kind.h"
#include "maas/local/kernels/layout.h"
#include "maas/local/kernels/scalar.h"

namespace maas {
namespace kernels {

// DenseLayer()
//
// y = act(x W + b) for `rows` rows; see `scalar::Dense` for the contract,
// which every implementation keeps.
template <typename T, std::size_t kIn, std::size_t kOut, Activation kAct>
inline void DenseLayer(const T* w, const T* b, const T* x,
                       std::size_t x_stride, T* y, std::size_t y_stride,
                       std::size_t rows) {
  scalar::Dense<T, kIn, kOut, kAct>(w, b, x, x_stride, y, y_stride, rows);
}

}  // namespace kernels
}  // namespace maas

#endif  // MAAS_LOCAL_KERNELS_KERNELS_H_
