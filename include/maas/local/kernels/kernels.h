// -----------------------------------------------------------------------------
// File: local/kernels/kernels.h
// -----------------------------------------------------------------------------
//
// The one place that chooses which kernel implementation runs. Networks call
// `maas::kernels::Forward` (compile-time network) or `ActiveForwardDynamic`
// (run-time-sized network): the whole forward pass of one call runs inside
// one instruction set's code, dispatched once. `DenseLayer` / `DenseKernel`
// reach single layers (tests, benchmarks).
//
// Implementations, one file and namespace each:
//   scalar.h    `maas::kernels::scalar`    always compiled; the test oracle
//                                          and the fast-mode fallback
//   portable.h  `maas::kernels::portable`  always compiled; the shared SIMD
//                                          algorithm with one-lane vectors:
//                                          the reproducible-mode fallback
//   avx2.h      `maas::kernels::avx2`      AVX2 + FMA  (x86-64, GCC/Clang)
//   avx512.h    `maas::kernels::avx512`    AVX-512F   (x86-64, GCC/Clang)
//   neon.h      `maas::kernels::neon`      AArch64 NEON
//
// Selection (the only #if ladder on ISA macros in maas), first match wins:
//   1. MAAS_KERNELS_FORCE_SCALAR defined       -> scalar (portable for the
//      reproducible mode), no SIMD file compiled
//   2. MAAS_KERNELS_FORCE_AVX512 / _AVX2 / _NEON defined
//                                              -> that ISA, statically, even
//      without -m flags (the caller guarantees the CPU has it)
//   3. the compiler targets AVX-512F (__AVX512F__, e.g. -march=native on a
//      recent Xeon)                             -> avx512, statically
//   4. __AVX2__ and __FMA__ (-mavx2 -mfma, -march=haswell)  -> avx2, statically
//   5. __aarch64__ with __ARM_NEON             -> neon, statically
//   6. x86-64 with GCC or Clang and no ISA flags (a generic build)
//      -> runtime dispatch: the CPU is checked once and the best of avx512 /
//         avx2 / scalar runs. The environment variable
//         MAAS_KERNEL=scalar|avx2|avx512 (read once, at the first kernel
//         call or weight packing of the process) caps the choice; an unknown
//         value or an ISA the CPU lacks is ignored. Define
//         MAAS_KERNELS_NO_RUNTIME_DISPATCH to get scalar instead.
//   7. otherwise                                -> scalar.
// maas never adds -m flags to a consumer's target: a build's flags decide
// (static dispatch), and a generic build still reaches AVX2 / AVX-512 through
// functions compiled with GCC/Clang `target` attributes. `ActiveIsa()` tells
// which implementation runs.
//
// Numerics (layout.h): in the fast mode each ISA sums in its own order
// (PlanFor), and results agree across ISAs to rounding; a row's result never
// depends on the batch it is in. In the reproducible mode every ISA plans
// every layer the same way, takes softmax's maximum and sum in order, and
// performs the same IEEE operations lane by lane: every multiply-add the
// algorithm means as one is an FMA (std::fma in portable), and no product is
// ever fused with a following add by the compiler (products pass through an
// empty asm statement). The outputs are then the same bits on x86-64
// (scalar/portable, AVX2, AVX-512) and AArch64 (NEON, portable), for finite
// inputs and weights, in any build mode (-std=c++17 or gnu++17, any -m
// flags) except -ffast-math (which allows reassociation) or a flush-to-zero
// floating-point environment.
//
// Floating-point flags: a call whose pre-activations are finite raises no
// invalid-operation, divide-by-zero or overflow flag, in the outputs or in
// the padding lanes (exp's argument is clamped, series and cubes are taken
// of clamped arguments, softmax divides only the lanes in use; tested for
// every activation from 0 to +-1e30), so a simulation that traps those
// exceptions (gfortran -ffpe-trap=invalid,zero,overflow, feenableexcept)
// can call it.
//
// Real-time safe: no allocation, no locks, no exceptions. (The first call of
// each network type in a runtime-dispatch build initialises a function-local
// static; later calls only read it.)

#ifndef MAAS_LOCAL_KERNELS_KERNELS_H_
#define MAAS_LOCAL_KERNELS_KERNELS_H_

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "maas/local/kernels/activation_kind.h"
#include "maas/local/kernels/layout.h"
#include "maas/local/kernels/network_view.h"
#include "maas/local/kernels/portable.h"
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

// PlanFor()
//
// The plan (layout and partial sums, layout.h) of an n_in -> n_out layer on
// `isa`. Every network packs its weights for the plan of the ISA that runs
// (ActivePlan) and the kernels compute the same plan, so both agree.
template <typename T>
constexpr LayerPlan PlanFor(Isa isa, std::size_t n_in, std::size_t n_out,
                            Numerics numerics) {
  switch (isa) {
    case Isa::kScalar:
      return numerics == Numerics::kReproducible
                 ? portable::PlanLayer<T>(n_in, n_out, numerics)
                 : scalar::PlanLayer<T>(n_in, n_out, numerics);
    case Isa::kAvx2:
#if defined(MAAS_KERNELS_HAVE_AVX2)
      return avx2::PlanLayer<T>(n_in, n_out, numerics);
#else
      break;
#endif
    case Isa::kAvx512:
#if defined(MAAS_KERNELS_HAVE_AVX512)
      return avx512::PlanLayer<T>(n_in, n_out, numerics);
#else
      break;
#endif
    case Isa::kNeon:
#if defined(MAAS_KERNELS_HAVE_NEON)
      return neon::PlanLayer<T>(n_in, n_out, numerics);
#else
      break;
#endif
  }
  return scalar::PlanLayer<T>(n_in, n_out, numerics);
}

// ActivePlan()
//
// PlanFor(ActiveIsa(), ...): the plan the running kernels use.
template <typename T>
inline LayerPlan ActivePlan(std::size_t n_in, std::size_t n_out, Numerics numerics) {
  return PlanFor<T>(ActiveIsa(), n_in, n_out, numerics);
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
// compiled into this build. Its weights must be packed for
// PlanFor<T>(isa, kIn, kOut, kNum). Does not check the CPU (see
// CpuSupports). For tests and benchmarks; networks call Forward.
template <typename T, std::size_t kIn, std::size_t kOut, Activation kAct,
          Numerics kNum = Numerics::kFast>
DenseFn<T> DenseKernel(Isa isa) noexcept {
  switch (isa) {
    case Isa::kScalar:
      if constexpr (kNum == Numerics::kReproducible) {
        return &portable::Dense<T, kIn, kOut, kAct, kNum>;
      } else {
        return &detail::ScalarDense<T, kIn, kOut, kAct>;
      }
    case Isa::kAvx2:
#if defined(MAAS_KERNELS_HAVE_AVX2)
      return &avx2::Dense<T, kIn, kOut, kAct, kNum>;
#else
      return nullptr;
#endif
    case Isa::kAvx512:
#if defined(MAAS_KERNELS_HAVE_AVX512)
      return &avx512::Dense<T, kIn, kOut, kAct, kNum>;
#else
      return nullptr;
#endif
    case Isa::kNeon:
#if defined(MAAS_KERNELS_HAVE_NEON)
      return &neon::Dense<T, kIn, kOut, kAct, kNum>;
#else
      return nullptr;
#endif
  }
  return nullptr;
}

// DenseLayer()
//
// y = act(x W + b) for `rows` rows (`alpha`: leaky ReLU's and ELU's
// parameter, ignored by the other activations): x row r is kIn values at
// x + r * x_stride, y row r is written at y + r * y_stride. `w` holds the
// layer in the layout of ActivePlan<T>(kIn, kOut, kNum) (layout.h) and `b`
// PaddedSize<T>(kOut) values, both zero in the padding lanes. y_stride must
// be at least PaddedSize<T>(kOut): kernels store whole vectors, every lane in
// [kOut, PaddedSize<T>(kOut)) is written as 0, and lanes beyond are not
// touched. Reads exactly kIn values of each x row. Any alignment; x and y
// must not overlap. Results agree with `scalar::Dense` to rounding (SIMD
// kernels sum in a different order and use their own exp); with
// Numerics::kReproducible they are the same bits on every ISA.
//
// Real-time safe: no allocation, no locks, no exceptions.
template <typename T, std::size_t kIn, std::size_t kOut, Activation kAct,
          Numerics kNum = Numerics::kFast>
inline void DenseLayer(const T* w, const T* b, const T* x,
                       std::size_t x_stride, T* y, std::size_t y_stride,
                       std::size_t rows, T alpha = T(0)) noexcept {
#if MAAS_KERNELS_RUNTIME_DISPATCH
  static const DenseFn<T> fn = DenseKernel<T, kIn, kOut, kAct, kNum>(ActiveIsa());
  fn(w, b, x, x_stride, y, y_stride, rows, alpha);
#else
  DenseKernel<T, kIn, kOut, kAct, kNum>(MAAS_KERNELS_STATIC_ISA)(w, b, x, x_stride, y,
                                                                y_stride, rows, alpha);
#endif
}

// ForwardFn<T>
//
// A whole forward pass: `view` (network_view.h), `rows` rows of n_in values
// at x to rows of n_out values at y.
template <typename T>
using ForwardFn = void (*)(const NetworkView<T>& view, const T* x, std::size_t rows, T* y);

// ForwardKernel()
//
// The forward pass of a compile-time network (layer shapes `Specs`,
// LayerSpec<>) on `isa`, or nullptr when that ISA is not compiled in.
template <typename T, Numerics kNum, typename... Specs>
ForwardFn<T> ForwardKernel(Isa isa) noexcept {
  switch (isa) {
    case Isa::kScalar:
      if constexpr (kNum == Numerics::kReproducible) {
        return &portable::Forward<T, kNum, Specs...>;
      } else {
        return &scalar::Forward<T, kNum, Specs...>;
      }
    case Isa::kAvx2:
#if defined(MAAS_KERNELS_HAVE_AVX2)
      return &avx2::Forward<T, kNum, Specs...>;
#else
      return nullptr;
#endif
    case Isa::kAvx512:
#if defined(MAAS_KERNELS_HAVE_AVX512)
      return &avx512::Forward<T, kNum, Specs...>;
#else
      return nullptr;
#endif
    case Isa::kNeon:
#if defined(MAAS_KERNELS_HAVE_NEON)
      return &neon::Forward<T, kNum, Specs...>;
#else
      return nullptr;
#endif
  }
  return nullptr;
}

// Forward()
//
// Runs a compile-time network's whole forward pass (standardisation, every
// layer, output scaling) inside one instruction set's code: chosen at compile
// time, or in a runtime-dispatch build once per network type (a
// function-local static; later calls only read it). `view` must describe a
// network whose weights are packed for ActivePlan; x: rows x n_in values,
// y: rows x n_out (exactly; nothing beyond is read or written). Any
// alignment. Real-time safe: scratch on the stack (at most 2 x 48 KiB).
template <typename T, Numerics kNum, typename... Specs>
inline void Forward(const NetworkView<T>& view, const T* x, std::size_t rows,
                    T* y) noexcept {
#if MAAS_KERNELS_RUNTIME_DISPATCH
  static const ForwardFn<T> fn = ForwardKernel<T, kNum, Specs...>(ActiveIsa());
  fn(view, x, rows, y);
#else
  if constexpr (MAAS_KERNELS_STATIC_ISA == Isa::kScalar) {
    ForwardKernel<T, kNum, Specs...>(Isa::kScalar)(view, x, rows, y);
  } else {
    MAAS_KERNELS_STATIC_NS::Forward<T, kNum, Specs...>(view, x, rows, y);
  }
#endif
}

// ForwardDynamicFn<T>
//
// A forward pass of a run-time-sized network with caller-provided scratch
// (2 * block_rows * view.max_width values, 64-byte aligned).
template <typename T>
using ForwardDynamicFn = void (*)(const NetworkView<T>& view, const T* x, std::size_t rows,
                                  T* y, T* scratch, std::size_t block_rows);

// ForwardDynamicKernel()
//
// The run-time-sized forward pass of `isa`, or nullptr when that ISA is not
// compiled in.
template <typename T, Numerics kNum>
ForwardDynamicFn<T> ForwardDynamicKernel(Isa isa) noexcept {
  switch (isa) {
    case Isa::kScalar:
      if constexpr (kNum == Numerics::kReproducible) {
        return &portable::ForwardDynamic<T, kNum>;
      } else {
        return &scalar::ForwardDynamic<T, kNum>;
      }
    case Isa::kAvx2:
#if defined(MAAS_KERNELS_HAVE_AVX2)
      return &avx2::ForwardDynamic<T, kNum>;
#else
      return nullptr;
#endif
    case Isa::kAvx512:
#if defined(MAAS_KERNELS_HAVE_AVX512)
      return &avx512::ForwardDynamic<T, kNum>;
#else
      return nullptr;
#endif
    case Isa::kNeon:
#if defined(MAAS_KERNELS_HAVE_NEON)
      return &neon::ForwardDynamic<T, kNum>;
#else
      return nullptr;
#endif
  }
  return nullptr;
}

// ActiveForwardDynamic()
//
// ForwardDynamicKernel of ActiveIsa() for `numerics`; never null. Thread-safe
// (computed once per T and mode).
template <typename T>
inline ForwardDynamicFn<T> ActiveForwardDynamic(Numerics numerics) noexcept {
  static const ForwardDynamicFn<T> fast = ForwardDynamicKernel<T, Numerics::kFast>(ActiveIsa());
  static const ForwardDynamicFn<T> reproducible =
      ForwardDynamicKernel<T, Numerics::kReproducible>(ActiveIsa());
  return numerics == Numerics::kReproducible ? reproducible : fast;
}

}  // namespace kernels
}  // namespace maas

#endif  // MAAS_LOCAL_KERNELS_KERNELS_H_
