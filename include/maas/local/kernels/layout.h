// -----------------------------------------------------------------------------
// File: local/kernels/layout.h
// -----------------------------------------------------------------------------
//
// The memory layout every kernel agrees on. A dense layer with `kIn` inputs
// and `kOut` outputs stores its weights input-major ("column" or axpy form):
// row `i` holds the `kOut` weights from input `i` to every unit, padded with
// zeros to `PaddedSize<T>(kOut)` so that every row starts on a 64-byte
// boundary and whole SIMD vectors can be loaded without a tail. Activations
// between layers use the same padded width; kernels keep padding lanes at 0.
//
// This header must not include Abseil or the standard library beyond
// <cstddef>: kernels are also built by the aarch64 cross toolchain alone.

#ifndef MAAS_LOCAL_KERNELS_LAYOUT_H_
#define MAAS_LOCAL_KERNELS_LAYOUT_H_

#include <cstddef>

namespace maas {
namespace kernels {

// kAlignment
//
// Byte alignment of weight rows, biases and activation buffers (one AVX-512
// vector, one cache line).
inline constexpr std::size_t kAlignment = 64;

// PaddedSize<T>()
//
// `n` rounded up to a whole number of 64-byte vectors of `T`.
template <typename T>
constexpr std::size_t PaddedSize(std::size_t n) {
  constexpr std::size_t lanes = kAlignment / sizeof(T);
  return (n + lanes - 1) / lanes * lanes;
}

}  // namespace kernels
}  // namespace maas

#endif  // MAAS_LOCAL_KERNELS_LAYOUT_H_
