// -----------------------------------------------------------------------------
// File: local/kernels/portable.h
// -----------------------------------------------------------------------------
//
// The shared SIMD algorithm (simd_dense-inl.h) with one-lane "vectors" of
// plain float / double, namespace `maas::kernels::portable`. It runs the
// reproducible mode (Numerics::kReproducible) where no vector instruction set
// is available: every operation is the same IEEE operation the vector ISAs
// perform lane by lane (Fma is std::fma, never a separate multiply and add),
// so its bits equal theirs. Slower than `scalar` (the fast-mode fallback),
// which uses the standard library's exp and tanh.
//
// Compiled everywhere; no Abseil (also built by the bare aarch64 compiler).

#ifndef MAAS_LOCAL_KERNELS_PORTABLE_H_
#define MAAS_LOCAL_KERNELS_PORTABLE_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <tuple>

#include "maas/local/kernels/activation_kind.h"
#include "maas/local/kernels/layout.h"
#include "maas/local/kernels/math_constants.h"
#include "maas/local/kernels/network_view.h"

#define MAAS_KERNELS_TARGET

// A product the compiler must not contract with a following add into an
// FMA (GCC does so by default in GNU mode where FMA exists): the value goes
// through an empty asm statement, which costs no instruction.
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define MAAS_KERNELS_PORTABLE_OPAQUE(v) __asm__("" : "+x"(v))
#elif defined(__GNUC__) && defined(__aarch64__)
#define MAAS_KERNELS_PORTABLE_OPAQUE(v) __asm__("" : "+w"(v))
#else
#define MAAS_KERNELS_PORTABLE_OPAQUE(v) static_cast<void>(v)
#endif

namespace maas {
namespace kernels {
namespace portable {

inline constexpr std::size_t kVectorRegisters = 16;

// Ops<T>: see simd_dense-inl.h for the contract; kLanes = 1.
template <typename T, typename Bits>
struct ScalarOps {
  using V = T;
  static constexpr std::size_t kLanes = 1;
  static V Zero() { return T(0); }
  static V Set(T a) { return a; }
  static V Load(const T* p) { return *p; }
  static V LoadPartial(const T*, std::size_t) { return T(0); }  // n < 1: nothing
  static void Store(T* p, V v) { *p = v; }
  static V Add(V a, V b) { return a + b; }
  static V Sub(V a, V b) { return a - b; }
  static V Mul(V a, V b) {
    V r = a * b;
    MAAS_KERNELS_PORTABLE_OPAQUE(r);
    return r;
  }
  static V Div(V a, V b) { return a / b; }
  static V Fma(V a, V b, V c) { return std::fma(a, b, c); }
  static V Max(V a, V b) { return a > b ? a : b; }
  static V Min(V a, V b) { return a < b ? a : b; }
  static V Relu(V v) { return v < T(0) ? T(0) : v; }
  static V Abs(V a) { return std::fabs(a); }
  static V CopySign(V mag, V sign) { return std::copysign(mag, sign); }
  static V SelectLess(V a, V b, V t, V f) { return a < b ? t : f; }
  static V KeepFirst(V v, std::size_t n) { return n > 0 ? v : T(0); }
  static V FillAfter(V v, std::size_t n, T value) { return n > 0 ? v : value; }
  static V MaxAll(V v) { return v; }
  static V SumAll(V v) { return v; }
  static constexpr std::size_t kBlockLanes = 1;
  template <std::size_t kB>
  static V Block(V v) { return v; }
  template <std::size_t kK>
  static V Within(V q) { return q; }
  static V MaxAllFirst(V v, std::size_t) { return v; }
  static V SumAllFirst(V v, std::size_t) { return v; }
  static V DivFirst(V a, V b, std::size_t) { return a / b; }  // n >= 1: one lane
  static void StorePartial(T*, V, std::size_t) {}  // n < 1: nothing
  static V PairAdd(V a, V) { return a; }  // never used with one lane
  static V ShiftToExponent(V t) {
    Bits u;
    std::memcpy(&u, &t, sizeof(u));
    u = static_cast<Bits>(u << (sizeof(T) == 4 ? 23 : 52));
    T r;
    std::memcpy(&r, &u, sizeof(r));
    return r;
  }
};

template <typename T>
struct Ops;
template <>
struct Ops<float> : ScalarOps<float, std::uint32_t> {};
template <>
struct Ops<double> : ScalarOps<double, std::uint64_t> {};

#include "maas/local/kernels/simd_dense-inl.h"  // NOLINT(build/include)

}  // namespace portable
}  // namespace kernels
}  // namespace maas

#undef MAAS_KERNELS_TARGET
#undef MAAS_KERNELS_PORTABLE_OPAQUE

#endif  // MAAS_LOCAL_KERNELS_PORTABLE_H_
