// Shared checks for the dense kernels: every SIMD implementation against the
// scalar oracle (maas::kernels::scalar; run in double for float layers), for
// a grid of layer sizes, batch
// sizes and activations. Free of Abseil: also built by the bare aarch64 cross
// compiler for the NEON test (tests/kernels/neon/).
//
// Tolerances (stated once, used everywhere):
//   float : |got - want| <= 1e-5  * max(|want|, 0.1) * s
//   double: |got - want| <= 1e-12 * max(|want|, 0.1) * s
// where s is the activation's largest slope (MaxSlope, >= 1).
// The absolute floor 0.1 is for outputs near zero: a SIMD kernel sums the up
// to 100 products in a different order than scalar, and the rounding of a sum
// of O(1) terms is relative to the terms, not to a small result. Outputs are
// O(1) by construction (x in [-2, 2], weights scaled by 1.5 / sqrt(kIn)).
// Padding lanes [kOut, PaddedSize(kOut)) must be exactly 0 and lanes beyond,
// up to the row stride, untouched; softmax rows must sum to 1
// within 1e-6 (float) / 1e-12 (double); a row computed alone must be
// bit-identical to the same row computed in a batch of 64.
#ifndef MAAS_TESTS_KERNELS_KERNEL_CHECK_H_
#define MAAS_TESTS_KERNELS_KERNEL_CHECK_H_

#include <algorithm>
#include <cfenv>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "doctest/doctest.h"
#include "maas/local/kernels/kernels.h"

namespace maas_kernel_test {

using maas::Activation;
using maas::kernels::DenseFn;
using maas::kernels::Isa;

inline constexpr std::size_t kSizes[] = {1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100};
inline constexpr std::size_t kNumSizes = sizeof(kSizes) / sizeof(kSizes[0]);
inline constexpr std::size_t kBatches[] = {1, 2, 5, 64};
inline constexpr double kAbsFloor = 0.1;

template <typename T>
constexpr double RelTol() {
  return std::is_same_v<T, float> ? 1e-5 : 1e-12;
}
template <typename T>
constexpr double SumTol() {
  return std::is_same_v<T, float> ? 1e-6 : 1e-12;
}

inline const char* ActName(Activation a) {
  switch (a) {
    case Activation::kIdentity: return "identity";
    case Activation::kRelu: return "relu";
    case Activation::kSigmoid: return "sigmoid";
    case Activation::kTanh: return "tanh";
    case Activation::kSoftmax: return "softmax";
    case Activation::kGelu: return "gelu";
    case Activation::kGeluTanh: return "gelu_tanh";
    case Activation::kSilu: return "silu";
    case Activation::kSoftplus: return "softplus";
    case Activation::kLeakyRelu: return "leaky_relu";
    case Activation::kElu: return "elu";
  }
  return "?";
}

// The activation parameter the tests use: not the defaults, so that a kernel
// ignoring alpha fails.
constexpr double TestAlpha(Activation a) {
  return a == Activation::kLeakyRelu ? 0.2 : a == Activation::kElu ? 1.5 : 0.0;
}

// The largest slope of an activation (with TestAlpha): the rounding of the
// sum before it is magnified by up to this factor, so the tolerance is too.
// GELU's slope peaks at 1.13 (both forms), SiLU's at 1.1, ELU's is alpha.
constexpr double MaxSlope(Activation a) {
  switch (a) {
    case Activation::kGelu:
    case Activation::kGeluTanh: return 1.13;
    case Activation::kSilu: return 1.1;
    case Activation::kElu: return TestAlpha(a) > 1 ? TestAlpha(a) : 1.0;
    default: return 1.0;
  }
}

// One implementation under test: a name and the kernel for a given shape.
struct Impl {
  const char* name;
  Isa isa;
  bool dispatch;  // true: maas::kernels::DenseLayer itself
};

// The SIMD implementations this build has and this CPU runs, plus the seam.
inline std::vector<Impl> ImplsUnderTest() {
  std::vector<Impl> impls;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512, Isa::kNeon}) {
    if (maas::kernels::CpuSupports(isa)) {
      impls.push_back({maas::kernels::IsaName(isa), isa, false});
    }
  }
  impls.push_back({"DenseLayer (dispatched)", Isa::kScalar, true});
  return impls;
}

template <typename T, std::size_t kIn, std::size_t kOut, Activation kAct>
DenseFn<T> KernelOf(const Impl& impl) {
  if (impl.dispatch) return &maas::kernels::DenseLayer<T, kIn, kOut, kAct>;
  return maas::kernels::DenseKernel<T, kIn, kOut, kAct>(impl.isa);
}

// Random layer: `src` row-major (kIn x kOut), `w` packed in the column layout
// (the oracle's), `b` padded; padding lanes zero.
template <typename T, std::size_t kIn, std::size_t kOut>
struct RandomLayer {
  static constexpr std::size_t kStride = maas::kernels::PaddedSize<T>(kOut);
  std::vector<T> src = std::vector<T>(kIn * kOut);
  std::vector<T> w = std::vector<T>(kIn * kStride, T(0));
  std::vector<T> b = std::vector<T>(kStride, T(0));
  explicit RandomLayer(std::mt19937& rng) {
    std::uniform_real_distribution<double> u(-1, 1);
    const double scale = 1.5 / std::sqrt(static_cast<double>(kIn));
    for (T& v : src) v = static_cast<T>(u(rng) * scale);
    maas::kernels::PackWeights<T>(maas::kernels::Layout::kColumns, kIn, kOut, src.data(),
                                  w.data());
    for (std::size_t j = 0; j < kOut; ++j) b[j] = static_cast<T>(u(rng));
  }
  // The weights packed as `isa`'s kernels plan them.
  std::vector<T> PackedFor(const Impl& impl, maas::Numerics numerics) const {
    const maas::kernels::LayerPlan plan =
        impl.dispatch ? maas::kernels::ActivePlan<T>(kIn, kOut, numerics)
                      : maas::kernels::PlanFor<T>(impl.isa, kIn, kOut, numerics);
    std::vector<T> packed(maas::kernels::WeightsSize<T>(plan.layout, kIn, kOut));
    maas::kernels::PackWeights<T>(plan.layout, kIn, kOut, src.data(), packed.data());
    return packed;
  }
};

// The oracle: maas::kernels::scalar::Dense, in double for a float layer
// (the float weights, inputs and alpha promoted exactly), so that the
// tolerance measures the kernel's rounding, not the oracle's.
// When the implementation under test is the scalar kernel itself (the
// dispatched seam on a CPU without AVX2, or MAAS_KERNEL=scalar), the oracle
// is run in T too: the comparison then checks the dispatch, exactly.
template <typename T, std::size_t kIn, std::size_t kOut, Activation kAct>
void Oracle(const Impl& impl, const RandomLayer<T, kIn, kOut>& layer, const T* x,
            std::size_t x_stride, T* y, std::size_t y_stride, std::size_t rows, T alpha) {
  const bool same_kernel = impl.dispatch && maas::kernels::ActiveIsa() == Isa::kScalar;
  if (std::is_same_v<T, double> || same_kernel) {
    maas::kernels::scalar::Dense<T, kIn, kOut, kAct>(layer.w.data(), layer.b.data(), x,
                                                     x_stride, y, y_stride, rows, alpha);
  } else {
    constexpr std::size_t kFrom = RandomLayer<T, kIn, kOut>::kStride;
    constexpr std::size_t kTo = maas::kernels::PaddedSize<double>(kOut);
    std::vector<double> w(kIn * kTo, 0.0), b(kTo, 0.0), xd(rows * x_stride), yd(rows * y_stride);
    for (std::size_t i = 0; i < kIn; ++i) {
      for (std::size_t j = 0; j < kOut; ++j) w[i * kTo + j] = layer.w[i * kFrom + j];
    }
    for (std::size_t j = 0; j < kOut; ++j) b[j] = layer.b[j];
    for (std::size_t k = 0; k < rows * x_stride; ++k) xd[k] = x[k];
    maas::kernels::scalar::Dense<double, kIn, kOut, kAct>(w.data(), b.data(), xd.data(),
                                                          x_stride, yd.data(), y_stride,
                                                          rows, alpha);
    for (std::size_t k = 0; k < rows * y_stride; ++k) y[k] = static_cast<T>(yd[k]);
  }
}

// Checks one implementation on one layer shape for every batch size.
template <typename T, std::size_t kIn, std::size_t kOut, Activation kAct>
void CheckShape(const Impl& impl) {
  const DenseFn<T> fn = KernelOf<T, kIn, kOut, kAct>(impl);
  const T alpha = static_cast<T>(TestAlpha(kAct));
  const bool compiled = fn != nullptr;
  REQUIRE(compiled);
  std::mt19937 rng(static_cast<unsigned>(kIn * 1000 + kOut * 10 +
                                         static_cast<unsigned>(kAct)));
  const RandomLayer<T, kIn, kOut> layer(rng);
  const std::vector<T> packed = layer.PackedFor(impl, maas::Numerics::kFast);
  constexpr std::size_t kStride = RandomLayer<T, kIn, kOut>::kStride;
  // Odd strides: rows start at arbitrary alignments, and the lanes after
  // the zeroed padding [kOut, kStride) are not a whole vector.
  const std::size_t x_stride = kIn + 3;
  const std::size_t y_stride = kStride + 5;
  std::uniform_real_distribution<double> u(-2, 2);
  for (std::size_t rows : kBatches) {
    INFO(impl.name, ": ", sizeof(T) == 4 ? "float" : "double", " ", kIn, " -> ",
         kOut, " ", ActName(kAct), ", ", rows, " rows");
    std::vector<T> x(rows * x_stride);
    for (T& v : x) v = static_cast<T>(u(rng));
    std::vector<T> want(rows * y_stride, std::numeric_limits<T>::quiet_NaN());
    std::vector<T> got(rows * y_stride, std::numeric_limits<T>::quiet_NaN());
    Oracle<T, kIn, kOut, kAct>(impl, layer, x.data(), x_stride, want.data(), y_stride, rows,
                               alpha);
    fn(packed.data(), layer.b.data(), x.data(), x_stride, got.data(),
       y_stride, rows, alpha);
    double worst = 0;
    double worst_sum = 0;
    std::size_t nonzero_padding = 0;
    std::size_t touched_beyond = 0;
    for (std::size_t r = 0; r < rows; ++r) {
      double sum = 0;
      for (std::size_t j = 0; j < kOut; ++j) {
        const double g = got[r * y_stride + j];
        const double e = want[r * y_stride + j];
        const double err = std::abs(g - e) / std::max(std::abs(e), kAbsFloor);
        worst = std::isnan(err) ? std::numeric_limits<double>::infinity()
                                : std::max(worst, err);
        sum += g;
      }
      worst_sum = std::max(worst_sum, std::abs(sum - 1.0));
      for (std::size_t j = kOut; j < kStride; ++j) {
        if (!(got[r * y_stride + j] == T(0))) ++nonzero_padding;
      }
      for (std::size_t j = kStride; j < y_stride; ++j) {
        if (!std::isnan(got[r * y_stride + j])) ++touched_beyond;
      }
    }
    CHECK(worst <= RelTol<T>() * MaxSlope(kAct));
    CHECK(nonzero_padding == 0);
    CHECK(touched_beyond == 0);
    if constexpr (kAct == Activation::kSoftmax) CHECK(worst_sum <= SumTol<T>());
    if (rows == 64) {
      // A row alone gives exactly the bits it gives inside a batch.
      std::size_t differ = 0;
      std::vector<T> one(y_stride);
      for (std::size_t r = 0; r < rows; ++r) {
        fn(packed.data(), layer.b.data(), x.data() + r * x_stride, x_stride,
           one.data(), y_stride, 1, alpha);
        if (std::memcmp(one.data(), got.data() + r * y_stride,
                        kOut * sizeof(T)) != 0) {
          ++differ;
        }
      }
      CHECK(differ == 0);
    }
  }
}

template <typename T, Activation kAct, std::size_t kIn, std::size_t... J>
void CheckOuts(const Impl& impl, std::index_sequence<J...>) {
  (CheckShape<T, kIn, kSizes[J], kAct>(impl), ...);
}

// Fewer output sizes (1, 7, 17, 64, 100: inside one vector, across a
// partial vector, several vectors) for the given input sizes.
inline constexpr std::size_t kFewSizes[] = {1, 7, 17, 64, 100};
template <typename T, Activation kAct, std::size_t kIn, std::size_t... J>
void CheckFewOuts(const Impl& impl, std::index_sequence<J...>) {
  (CheckShape<T, kIn, kFewSizes[J], kAct>(impl), ...);
}
template <typename T, Activation kAct, std::size_t... kIns>
void CheckFewGrid(const Impl& impl) {
  (CheckFewOuts<T, kAct, kIns>(impl, std::make_index_sequence<5>()), ...);
}

// Every output size in kSizes for the given input sizes.
template <typename T, Activation kAct, std::size_t... kIns>
void CheckGrid(const Impl& impl) {
  (CheckOuts<T, kAct, kIns>(impl, std::make_index_sequence<kNumSizes>()), ...);
}

// All input sizes x all output sizes (the dot products).
template <typename T, Activation kAct, std::size_t... I>
void CheckFullGrid(const Impl& impl, std::index_sequence<I...>) {
  CheckGrid<T, kAct, kSizes[I]...>(impl);
}

// The RTNeural pitfall: softmax of n equal logits is 1/n in every lane, for
// sizes that are not a multiple of any vector width; padding lanes must not
// enter the sum or the maximum.
template <typename T, std::size_t kN>
void CheckUniformSoftmax(const Impl& impl) {
  constexpr std::size_t kStride = maas::kernels::PaddedSize<T>(kN);
  std::vector<T> w(kStride, T(0)), b(kStride, T(0)), x(1, T(1));
  for (std::size_t j = 0; j < kN; ++j) b[j] = T(-3);  // equal logits, not 0
  std::vector<T> y(kStride, T(7));
  KernelOf<T, 1, kN, Activation::kSoftmax>(impl)(w.data(), b.data(), x.data(), 1,
                                                 y.data(), kStride, 1, T(0));
  INFO(impl.name, " softmax of ", kN, " equal logits");
  for (std::size_t j = 0; j < kN; ++j) {
    CHECK(static_cast<double>(y[j]) ==
          doctest::Approx(1.0 / static_cast<double>(kN)).epsilon(RelTol<T>()));
  }
  for (std::size_t j = kN; j < kStride; ++j) CHECK(y[j] == T(0));
}

// Element-wise activations far from the weights' usual range: act(x) for
// x from 0 and +-1e-30 to +-1e30 (exp's clamps, the switches between
// series and direct formulas, erfc's two regions, cubes and series terms
// that would overflow), through a 1 -> 1 layer with weight 1 and bias 0,
// one row per value. Finite everywhere, within the kernel tolerance of the
// scalar oracle, and no invalid-operation, divide-by-zero or overflow flag
// raised by the kernel.
template <typename T, Activation kAct>
void CheckActivationTails(const Impl& impl) {
  const std::vector<double> magnitudes = {
      0, 1e-30, 1e-8, 1e-3, 0.25, 0.3, 0.49, 0.5, 0.51, 0.7, 1, 1.9, 2, 2.1, 2.9,
      3, 5, 8.5, 9, 10, 13.3, 20, 37.5, 50, 87, 89, 100, 700, 750, 1e4, 1e6, 1e15, 1e30};
  std::vector<T> x;
  for (double m : magnitudes) {
    x.push_back(static_cast<T>(m));
    x.push_back(static_cast<T>(-m));
  }
  const std::size_t rows = x.size();
  constexpr std::size_t kStride = maas::kernels::PaddedSize<T>(1);
  std::vector<T> w(kStride, T(0)), b(kStride, T(0));
  w[0] = T(1);
  const T alpha = static_cast<T>(TestAlpha(kAct));
  std::vector<T> want(rows * kStride), got(rows * kStride);
  maas::kernels::scalar::Dense<T, 1, 1, kAct>(w.data(), b.data(), x.data(), 1,
                                              want.data(), kStride, rows, alpha);
  std::feclearexcept(FE_ALL_EXCEPT);
  KernelOf<T, 1, 1, kAct>(impl)(w.data(), b.data(), x.data(), 1, got.data(),
                                kStride, rows, alpha);
  const int raised = std::fetestexcept(FE_INVALID | FE_DIVBYZERO | FE_OVERFLOW);
  {
    const std::string what = std::string(impl.name) + (sizeof(T) == 4 ? ": float " : ": double ") +
                             ActName(kAct) + " of every magnitude: flags " +
                             std::to_string(raised);
    INFO(what);
    CHECK((raised & FE_INVALID) == 0);
    CHECK((raised & FE_DIVBYZERO) == 0);
    CHECK((raised & FE_OVERFLOW) == 0);
  }
  for (std::size_t r = 0; r < rows; ++r) {
    INFO(impl.name, ": ", sizeof(T) == 4 ? "float " : "double ", ActName(kAct), "(",
         static_cast<double>(x[r]), ") = ", static_cast<double>(got[r * kStride]),
         ", scalar ", static_cast<double>(want[r * kStride]));
    const double g = got[r * kStride];
    const double e = want[r * kStride];
    CHECK(std::isfinite(g));
    CHECK(std::abs(g - e) <= RelTol<T>() * std::max(std::abs(e), kAbsFloor));
  }
}

// tanh to within `max_ulp` units in the last place of tanhl (long double)
// on 300,000 points: magnitudes 10^u for u uniform in [-30, 1.7] with random
// signs, uniform on [-25, 25], and the switch points of the reduction
// (|x| near ln 2 / 4 multiples, 19.06 where tanh rounds to 1). Through a
// 1 -> 1 layer with weight 1 and bias 0, all rows in one call.
template <typename T>
void CheckTanhUlp(const Impl& impl, double max_ulp) {
  constexpr std::size_t kStride = maas::kernels::PaddedSize<T>(1);
  std::vector<T> w(kStride, T(0)), b(kStride, T(0));
  w[0] = T(1);
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> mag(-30, 1.7), lin(-25, 25);
  std::vector<T> x;
  for (int i = 0; i < 200000; ++i) {
    const double v = std::pow(10.0, mag(rng));
    x.push_back(static_cast<T>((rng() & 1) != 0 ? -v : v));
  }
  for (int i = 0; i < 100000; ++i) x.push_back(static_cast<T>(lin(rng)));
  for (double v : {0.0, 0.17328679513998632, 0.34657359027997264, 0.5198603854199589,
                   0.25, 1.0, 19.0, 19.06, 19.1, 20.0, 400.0, 1e4}) {
    x.push_back(static_cast<T>(v));
    x.push_back(static_cast<T>(-v));
  }
  std::vector<T> y(x.size() * kStride);
  KernelOf<T, 1, 1, Activation::kTanh>(impl)(w.data(), b.data(), x.data(), 1, y.data(),
                                             kStride, x.size(), T(0));
  double worst = 0;
  T worst_x = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const long double want = tanhl(static_cast<long double>(x[i]));
    const T rounded = static_cast<T>(want);
    const T ulp = std::nextafter(std::abs(rounded), std::numeric_limits<T>::infinity()) -
                  std::abs(rounded);
    const double err = static_cast<double>(
        std::abs(static_cast<long double>(y[i * kStride]) - want) / ulp);
    if (!(err <= worst)) {
      worst = err;
      worst_x = x[i];
    }
  }
  const std::string what = std::string(impl.name) + (sizeof(T) == 4 ? ": float" : ": double") +
                           " tanh worst " + std::to_string(worst) + " ulp at " +
                           std::to_string(static_cast<double>(worst_x));
  INFO(what);
  CHECK(worst <= max_ulp);
}

// A NaN input reaches every output it feeds as NaN, never as a finite
// value (a simulation whose state went NaN must see it in the surrogate's
// answer, as with PyTorch or NumPy; clamps, max and comparisons can each
// silently turn NaN into a number). A kIn -> kOut layer (several tiles and
// partial sums) on 5 rows, one input of row 2 NaN: row 2's outputs are all
// NaN, the other rows' outputs finite (the NaN stays in its row); the same
// row alone (the one-row path) gives NaN too. With impl == nullptr, the
// scalar oracle itself.
template <typename T, std::size_t kIn, std::size_t kOut, Activation kAct>
void CheckNaNPropagates(const Impl* impl) {
  std::mt19937 rng(7);
  const RandomLayer<T, kIn, kOut> layer(rng);
  const std::vector<T> packed =
      impl == nullptr ? layer.w : layer.PackedFor(*impl, maas::Numerics::kFast);
  const DenseFn<T> fn = impl == nullptr ? &maas::kernels::scalar::Dense<T, kIn, kOut, kAct>
                                        : KernelOf<T, kIn, kOut, kAct>(*impl);
  const char* name = impl == nullptr ? "scalar" : impl->name;
  constexpr std::size_t kStride = RandomLayer<T, kIn, kOut>::kStride;
  constexpr std::size_t kRows = 5;
  const T alpha = static_cast<T>(TestAlpha(kAct));
  std::uniform_real_distribution<double> u(-2, 2);
  std::vector<T> x(kRows * kIn);
  for (T& v : x) v = static_cast<T>(u(rng));
  x[2 * kIn + kIn / 2] = std::numeric_limits<T>::quiet_NaN();
  std::vector<T> y(kRows * kStride), alone(kStride);
  fn(packed.data(), layer.b.data(), x.data(), kIn, y.data(), kStride, kRows, alpha);
  fn(packed.data(), layer.b.data(), x.data() + 2 * kIn, kIn, alone.data(), kStride, 1, alpha);
  const std::string what = std::string(name) + (sizeof(T) == 4 ? ": float " : ": double ") +
                           ActName(kAct) + " " + std::to_string(kIn) + " -> " +
                           std::to_string(kOut);
  INFO(what);
  for (std::size_t r = 0; r < kRows; ++r) {
    for (std::size_t j = 0; j < kOut; ++j) {
      INFO("row ", r, " output ", j, " = ", static_cast<double>(y[r * kStride + j]));
      if (r == 2) {
        CHECK(std::isnan(y[r * kStride + j]));
        CHECK(std::isnan(alone[j]));
      } else {
        CHECK(std::isfinite(y[r * kStride + j]));
      }
    }
  }
}

template <typename T, std::size_t kIn, std::size_t kOut>
void CheckNaNPropagatesEveryActivation(const Impl* impl) {
  CheckNaNPropagates<T, kIn, kOut, Activation::kIdentity>(impl);
  CheckNaNPropagates<T, kIn, kOut, Activation::kRelu>(impl);
  CheckNaNPropagates<T, kIn, kOut, Activation::kSigmoid>(impl);
  CheckNaNPropagates<T, kIn, kOut, Activation::kTanh>(impl);
  CheckNaNPropagates<T, kIn, kOut, Activation::kSoftmax>(impl);
  CheckNaNPropagates<T, kIn, kOut, Activation::kGelu>(impl);
  CheckNaNPropagates<T, kIn, kOut, Activation::kGeluTanh>(impl);
  CheckNaNPropagates<T, kIn, kOut, Activation::kSilu>(impl);
  CheckNaNPropagates<T, kIn, kOut, Activation::kSoftplus>(impl);
  CheckNaNPropagates<T, kIn, kOut, Activation::kLeakyRelu>(impl);
  CheckNaNPropagates<T, kIn, kOut, Activation::kElu>(impl);
}

// Finite inputs raise no invalid-operation, divide-by-zero or overflow flag
// (a simulation run with those exceptions trapped, e.g. gfortran
// -ffpe-trap=invalid,zero,overflow or feenableexcept, must not stop in the
// surrogate): not in the outputs and not in the padding lanes, whose values
// are discarded but whose flags are not. A kIn -> kOut layer on 5 rows and on
// 1 row (the one-row path), inputs in [-2, 2]. With impl == nullptr, the
// scalar oracle itself.
template <typename T, std::size_t kIn, std::size_t kOut, Activation kAct>
void CheckNoFloatingPointFlags(const Impl* impl) {
  std::mt19937 rng(11);
  const RandomLayer<T, kIn, kOut> layer(rng);
  const std::vector<T> packed =
      impl == nullptr ? layer.w : layer.PackedFor(*impl, maas::Numerics::kFast);
  const DenseFn<T> fn = impl == nullptr ? &maas::kernels::scalar::Dense<T, kIn, kOut, kAct>
                                        : KernelOf<T, kIn, kOut, kAct>(*impl);
  constexpr std::size_t kStride = RandomLayer<T, kIn, kOut>::kStride;
  const T alpha = static_cast<T>(TestAlpha(kAct));
  std::uniform_real_distribution<double> u(-2, 2);
  for (std::size_t rows : {std::size_t{5}, std::size_t{1}}) {
    std::vector<T> x(rows * kIn), y(rows * kStride);
    for (T& v : x) v = static_cast<T>(u(rng));
    std::feclearexcept(FE_ALL_EXCEPT);
    fn(packed.data(), layer.b.data(), x.data(), kIn, y.data(), kStride, rows, alpha);
    const int raised = std::fetestexcept(FE_INVALID | FE_DIVBYZERO | FE_OVERFLOW);
    const std::string what = std::string(impl == nullptr ? "scalar" : impl->name) +
                             (sizeof(T) == 4 ? ": float " : ": double ") + ActName(kAct) +
                             " " + std::to_string(kIn) + " -> " + std::to_string(kOut) +
                             ", " + std::to_string(rows) + " rows";
    INFO(what);
    CHECK((raised & FE_INVALID) == 0);
    CHECK((raised & FE_DIVBYZERO) == 0);
    CHECK((raised & FE_OVERFLOW) == 0);
  }
}

template <typename T, std::size_t kIn, std::size_t kOut>
void CheckNoFloatingPointFlagsEveryActivation(const Impl* impl) {
  CheckNoFloatingPointFlags<T, kIn, kOut, Activation::kIdentity>(impl);
  CheckNoFloatingPointFlags<T, kIn, kOut, Activation::kRelu>(impl);
  CheckNoFloatingPointFlags<T, kIn, kOut, Activation::kSigmoid>(impl);
  CheckNoFloatingPointFlags<T, kIn, kOut, Activation::kTanh>(impl);
  CheckNoFloatingPointFlags<T, kIn, kOut, Activation::kSoftmax>(impl);
  CheckNoFloatingPointFlags<T, kIn, kOut, Activation::kGelu>(impl);
  CheckNoFloatingPointFlags<T, kIn, kOut, Activation::kGeluTanh>(impl);
  CheckNoFloatingPointFlags<T, kIn, kOut, Activation::kSilu>(impl);
  CheckNoFloatingPointFlags<T, kIn, kOut, Activation::kSoftplus>(impl);
  CheckNoFloatingPointFlags<T, kIn, kOut, Activation::kLeakyRelu>(impl);
  CheckNoFloatingPointFlags<T, kIn, kOut, Activation::kElu>(impl);
}

}  // namespace maas_kernel_test

#endif  // MAAS_TESTS_KERNELS_KERNEL_CHECK_H_
