// -----------------------------------------------------------------------------
// File: local/kernels/layout.h
// -----------------------------------------------------------------------------
//
// The memory layouts every kernel agrees on, and the plan that picks one per
// layer.
//
// A dense layer with `n_in` inputs and `n_out` outputs stores its weights in
// one of two layouts, each padded with zeros to whole 64-byte rows:
//
//   Layout::kColumns  input-major ("axpy" form): row i holds the n_out
//                     weights from input i, padded to PaddedSize<T>(n_out):
//                     w[i * PaddedSize<T>(n_out) + j]. Each broadcast input
//                     feeds whole vectors of outputs; no horizontal sums.
//   Layout::kRows     output-major ("dot" form, the transpose): row j holds
//                     the n_in weights into output j, padded to
//                     PaddedSize<T>(n_in): w[j * PaddedSize<T>(n_in) + i].
//                     Inputs are loaded as vectors once per row and reused
//                     by every output; one horizontal sum per output. For
//                     narrow layers (few outputs, many inputs), where the
//                     column form would leave most vector lanes empty.
//
// Biases are PaddedSize<T>(n_out) values in both layouts. Activations between
// layers use rows of PaddedSize<T>(n) values whose padding lanes are 0.
//
// Which layout and how many partial sums per output a layer uses is its
// `LayerPlan`, a function of (n_in, n_out, numerics) and of the instruction
// set (its vector width and register count): each ISA file defines
// `PlanLayer<T>()`, and `maas::kernels::PlanFor()` (kernels.h) asks the one
// that runs. The plan fixes the summation order of every output, so a row's
// result is the same whether it is computed alone or in a batch, and in a
// compile-time or a run-time-sized network.
//
// `Numerics::kReproducible` plans every layer as kColumns with 4 partial
// sums on every instruction set, which (with the kernels' other rules, see
// kernels.h) gives the same bits on every ISA.
//
// This header must not include Abseil or the standard library beyond
// <cstddef>/<cstdint>: kernels are also built by the aarch64 cross toolchain
// alone.

#ifndef MAAS_LOCAL_KERNELS_LAYOUT_H_
#define MAAS_LOCAL_KERNELS_LAYOUT_H_

#include <cstddef>
#include <cstdint>

namespace maas {

// Numerics
//
// kFast: each instruction set sums in the order that is fastest for it
// (results agree across instruction sets to rounding). kReproducible: one
// fixed order and one set of formulas everywhere, so outputs are
// bit-identical on every instruction set, batch size and thread count (for
// finite inputs and weights; see kernels.h).
enum class Numerics : std::uint8_t { kFast, kReproducible };

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

// Layout
//
// How a layer's weights are stored; see the file comment.
enum class Layout : std::uint8_t { kColumns, kRows };

// LayerPlan
//
// How one layer runs: its weight layout and the number of partial sums each
// output accumulates (1, 2, 4 or 8; input i, or input vector i in kRows,
// goes to sum i % split, the inputs after the last whole group of `split`
// to sum 0, and the sums are added pairwise at the end).
struct LayerPlan {
  Layout layout = Layout::kColumns;
  std::size_t split = 1;
};

// WeightsSize<T>()
//
// Number of stored weights of a layer in `layout`.
template <typename T>
constexpr std::size_t WeightsSize(Layout layout, std::size_t n_in,
                                  std::size_t n_out) {
  return layout == Layout::kColumns ? n_in * PaddedSize<T>(n_out)
                                    : n_out * PaddedSize<T>(n_in);
}

// MaxWeightsSize<T>()
//
// Storage that holds a layer in either layout.
template <typename T>
constexpr std::size_t MaxWeightsSize(std::size_t n_in, std::size_t n_out) {
  const std::size_t c = WeightsSize<T>(Layout::kColumns, n_in, n_out);
  const std::size_t r = WeightsSize<T>(Layout::kRows, n_in, n_out);
  return c > r ? c : r;
}

// WeightIndex<T>()
//
// Where the weight from input i to output j lives in `layout`.
template <typename T>
constexpr std::size_t WeightIndex(Layout layout, std::size_t n_in,
                                  std::size_t n_out, std::size_t i,
                                  std::size_t j) {
  return layout == Layout::kColumns ? i * PaddedSize<T>(n_out) + j
                                    : j * PaddedSize<T>(n_in) + i;
}

// PackWeights()
//
// Writes `src` (n_in x n_out, row-major: src[i * n_out + j] connects input i
// to output j) into `dst` in `layout`, zeros in every padding lane; `dst`
// holds WeightsSize<T>(layout, n_in, n_out) values.
template <typename T, typename U>
void PackWeights(Layout layout, std::size_t n_in, std::size_t n_out,
                 const U* src, T* dst) {
  const std::size_t n = WeightsSize<T>(layout, n_in, n_out);
  for (std::size_t k = 0; k < n; ++k) dst[k] = T(0);
  for (std::size_t i = 0; i < n_in; ++i) {
    for (std::size_t j = 0; j < n_out; ++j) {
      dst[WeightIndex<T>(layout, n_in, n_out, i, j)] =
          static_cast<T>(src[i * n_out + j]);
    }
  }
}

}  // namespace kernels
}  // namespace maas

#endif  // MAAS_LOCAL_KERNELS_LAYOUT_H_
