// -----------------------------------------------------------------------------
// File: local/kernels/kernels.h
// -----------------------------------------------------------------------------
//
// The one place that chooses which kernel implementation the network calls.
// `maas::kernels::DenseLayer` is the seam: the network calls nothing else.
//
// Implementations, one file and namespace each:
//   scalar.h  `maas::kernels::scalar`  always compiled; the test oracle
//   avx2.h    `maas::kernels::avx2`    AVX2 + FMA  (x86-64, GCC/Clang)
//   avx512.h  `maas::kernels::avx512`  AVX-512F   (x86-64, GCC/Clang)
//   neon.h    `maas::kernels::neon`    AArch64 NEON
//
// Selection (the only #if ladder on ISA macros in maas), first match wins:
//   1. MAAS_KERNELS_FORCE_SCALAR defined       -> scalar, nothing else compiled
//   2. MAAS_KERNELS_FORCE_AVX512 / _AVX2 / _NEON defined
//                                              -> that ISA, statically, even
//      without -m flags (the caller guarantees the CPU has it)
//   3. the compiler targets AVX-512F (__AVX512F__, e.g. -march=native on a
//      recent Xeon)                             -> avx512, statically
//   4. __AVX2__ and __FMA__ (-mavx2 -mfma, -march=haswell)  -> avx2, statically
//   5. __aarch64__ with __ARM_NEON             -> neon, statically
//   6. x86-64 with GCC or Clang and no ISA flags (a generic build)
//      -> runtime dispatch: the CPU is checked once, at the first call of
//         each layer shape, and the best of avx512 / avx2 / scalar runs. The
//         environment variable MAAS_KERNEL=scalar|avx2|avx512 (read once, at
//         the first DenseLayer call of the process) caps the choice; an
//         unknown value or an ISA the CPU lacks is ignored. Define
//         MAAS_KERNELS_NO_RUNTIME_DISPATCH to get scalar instead.
//   7. otherwise                                -> scalar.
// maas never adds -m flags to a consumer's target: a build's flags decide
// (static dispatch), and a generic build still reaches AVX2 / AVX-512 through
// functions compiled with GCC/Clang `target` attributes. `ActiveIsa()` tells
// which implementation runs.
//
// Real-time safe: no allocation, no locks, no exceptions. (The first call of
// each layer shape in a runtime-dispatch build initialises a function-local
// static; later calls only read it.)

#ifndef MAAS_LOCAL_KERNELS_KERNELS_H_
#define MAAS_LOCAL_KERNELS_KERNELS_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "maas/local/kernels/activation_kind.h"
#include "maas/local/kernels/layout.h"
#include "maas/local/kernels/scalar.h"

#if !defined(MAAS_KERNELS_FORCE_SCALAR)
#include "maas/local/kernels/avx2.h"
#include "maas/local/kernels/avx512.h"
#include "maas/local/kernels/neon.h"
#endif

// MAAS_KERNELS_STATIC_NS names the statically chosen namespace;
// MAAS_KERNELS_RUNTIME_DISPATCH is 1 in generic x86-64 builds.
#if defined(MAAS_KERNELS_FORCE_SCALAR)
#define MAAS_KERNELS_STATIC_NS scalar
#define MAAS_KERNELS_STATIC_ISA ::maas::kernels::Isa::kScalar
#elif defined(MAAS_KERNELS_FORCE_AVX512)
#if !defined(MAAS_KERNELS_HAVE_AVX512)
#error "MAAS_KERNELS_FORCE_AVX512 needs x86-64 with GCC or Clang"
#endif
#define MAAS_KERNELS_STATIC_NS avx512
#define MAAS_KERNELS_STATIC_ISA ::maas::kernels::Isa::kAvx512
#elif defined(MAAS_KERNELS_FORCE_AVX2)
#if !defined(MAAS_KERNELS_HAVE_AVX2)
#error "MAAS_KERNELS_FORCE_AVX2 needs x86-64 with GCC or Clang"
#endif
#define MAAS_KERNELS_STATIC_NS avx2
#define MAAS_KERNELS_STATIC_ISA ::maas::kernels::Isa::kAvx2
#elif defined(MAAS_KERNELS_FORCE_NEON)
#if !defined(MAAS_KERNELS_HAVE_NEON)
#error "MAAS_KERNELS_FORCE_NEON needs AArch64 with NEON"
#endif
#define MAAS_KERNELS_STATIC_NS neon
#define MAAS_KERNELS_STATIC_ISA ::maas::kernels::Isa::kNeon
#elif defined(__AVX512F__) && defined(MAAS_KERNELS_HAVE_AVX512)
#define MAAS_KERNELS_STATIC_NS avx512
#define MAAS_KERNELS_STATIC_ISA ::maas::kernels::Isa::kAvx512
#elif defined(__AVX2__) && defined(__FMA__) && defined(MAAS_KERNELS_HAVE_AVX2)
#define MAAS_KERNELS_STATIC_NS avx2
#define MAAS_KERNELS_STATIC_ISA ::maas::kernels::Isa::kAvx2
#elif defined(MAAS_KERNELS_HAVE_NEON)
#define MAAS_KERNELS_STATIC_NS neon
#define MAAS_KERNELS_STATIC_ISA ::maas::kernels::Isa::kNeon
#elif defined(MAAS_KERNELS_HAVE_AVX512) && defined(MAAS_KERNELS_HAVE_AVX2) && \
    !defined(MAAS_KERNELS_NO_RUNTIME_DISPATCH)
#define MAAS_KERNELS_RUNTIME_DISPATCH 1
#else
#define MAAS_KERNELS_STATIC_NS scalar
#define MAAS_KERNELS_STATIC_ISA ::maas::kernels::Isa::kScalar
#endif

#if !defined(MAAS_KERNELS_RUNTIME_DISPATCH)
#define MAAS_KERNELS_RUNTIME_DISPATCH 0
#endif

namespace maas {
namespace kernels {

// Isa
//
// A kernel implementation (instruction set).
enum class Isa : std::uint8_t { kScalar, kAvx2, kAvx512, kNeon };

// IsaName()
//
// "scalar", "avx2", "avx512" or "neon" (the MAAS_KERNEL spellings).
constexpr const char* IsaName(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
    case Isa::kNeon: return "neon";
  }
  return "unknown";
}

// kRuntimeDispatch
//
// True in generic x86-64 builds, where DenseLayer picks the kernel at run time.
inline constexpr bool kRuntimeDispatch = MAAS_KERNELS_RUNTIME_DISPATCH != 0;

// CpuSupports()
//
// Whether `isa`'s kernels are compiled into this translation unit and the
// CPU (and OS) can run them. Cheap after the first call; thread-safe.
inline bool CpuSupports(Isa isa) noexcept {
  switch (isa) {
    case Isa::kScalar:
      return true;
    case Isa::kAvx2:
#if defined(MAAS_KERNELS_HAVE_AVX2)
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
      return false;
#endif
    case Isa::kAvx512:
#if defined(MAAS_KERNELS_HAVE_AVX512)
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
      return false;
#endif
    case Isa::kNeon:
#if defined(MAAS_KERNELS_HAVE_NEON)
      return true;
#else
      return false;
#endif
  }
  return false;
}

namespace detail {

// The runtime choice: the best supported ISA, capped by MAAS_KERNEL.
inline Isa DetectIsa() noexcept {
  Isa best = Isa::kScalar;
  if (CpuSupports(Isa::kNeon)) best = Isa::kNeon;
  if (CpuSupports(Isa::kAvx2)) best = Isa::kAvx2;
  if (CpuSupports(Isa::kAvx512)) best = Isa::kAvx512;
  const char* env = std::getenv("MAAS_KERNEL");
  if (env == nullptr) return best;
  if (std::strcmp(env, "scalar") == 0) return Isa::kScalar;
  if (std::strcmp(env, "avx2") == 0 && CpuSupports(Isa::kAvx2)) return Isa::kAvx2;
  return best;
}

}  // namespace detail

// ActiveIsa()
//
// The implementation DenseLayer runs: the static choice, or in a runtime
// dispatch build the one detected at the first call (MAAS_KERNEL applied).
// Thread-safe.
inline Isa ActiveIsa() noexcept {
#if MAAS_KERNELS_RUNTIME_DISPATCH
  static const Isa isa = detail::DetectIsa();
  return isa;
#else
  return MAAS_KERNELS_STATIC_ISA;
#endif
}

// DenseFn<T>
//
// The signature every dense kernel shares (see DenseLayer).
template <typename T>
using DenseFn = void (*)(const T* w, const T* b, const T* x,
                         std::size_t x_stride, T* y, std::size_t y_stride,
                         std::size_t rows, T alpha);

namespace detail {
template <typename T, std::size_t kIn, std::size_t kOut, Activation kAct>
void ScalarDense(const T* w, const T* b, const T* x, std::size_t x_stride,
                 T* y, std::size_t y_stride, std::size_t rows, T alpha) {
  scalar::Dense<T, kIn, kOut, kAct>(w, b, x, x_stride, y, y_stride, rows, alpha);
}
}  // namespace detail

// DenseKernel()
//
// The kernel of `isa` for one layer shape, or nullptr when that ISA is not
// compiled into this build. Does not check the CPU (see CpuSupports). For
// tests and benchmarks; the network calls DenseLayer.
template <typename T, std::size_t kIn, std::size_t kOut, Activation kAct>
DenseFn<T> DenseKernel(Isa isa) noexcept {
  switch (isa) {
    case Isa::kScalar:
      return &detail::ScalarDense<T, kIn, kOut, kAct>;
    case Isa::kAvx2:
#if defined(MAAS_KERNELS_HAVE_AVX2)
      return &avx2::Dense<T, kIn, kOut, kAct>;
#else
      return nullptr;
#endif
    case Isa::kAvx512:
#if defined(MAAS_KERNELS_HAVE_AVX512)
      return &avx512::Dense<T, kIn, kOut, kAct>;
#else
      return nullptr;
#endif
    case Isa::kNeon:
#if defined(MAAS_KERNELS_HAVE_NEON)
      return &neon::Dense<T, kIn, kOut, kAct>;
#else
      return nullptr;
#endif
  }
  return nullptr;
}

// DenseLayer()
//
// y = act(x W + b) for `rows` rows (`alpha`: leaky ReLU's and ELU's
// parameter, ignored by the other activations): x row r is kIn values at x + r * x_stride,
// y row r is written at y + r * y_stride. `w` holds kIn rows of
// PaddedSize<T>(kOut) values (input-major, layout.h) and `b`
// PaddedSize<T>(kOut) values, both zero in the padding lanes. y_stride must
// be at least PaddedSize<T>(kOut): kernels store whole vectors, every lane in
// [kOut, PaddedSize<T>(kOut)) is written as 0, and lanes beyond are not
// touched. Any alignment; x and y must not
// overlap. Results agree with `scalar::Dense` to rounding (SIMD kernels sum
// in a different order and use their own exp).
//
// Real-time safe: no allocation, no locks, no exceptions.
template <typename T, std::size_t kIn, std::size_t kOut, Activation kAct>
inline void DenseLayer(const T* w, const T* b, const T* x,
                       std::size_t x_stride, T* y, std::size_t y_stride,
                       std::size_t rows, T alpha = T(0)) noexcept {
#if MAAS_KERNELS_RUNTIME_DISPATCH
  static const DenseFn<T> fn = DenseKernel<T, kIn, kOut, kAct>(ActiveIsa());
  fn(w, b, x, x_stride, y, y_stride, rows, alpha);
#else
  MAAS_KERNELS_STATIC_NS::Dense<T, kIn, kOut, kAct>(w, b, x, x_stride, y,
                                                    y_stride, rows, alpha);
#endif
}

}  // namespace kernels
}  // namespace maas

#endif  // MAAS_LOCAL_KERNELS_KERNELS_H_
