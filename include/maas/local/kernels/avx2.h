// -----------------------------------------------------------------------------
// File: local/kernels/avx2.h
// -----------------------------------------------------------------------------
//
// AVX2 + FMA kernels, namespace `maas::kernels::avx2`: 8 floats or 4 doubles
// per vector, 16 vector registers. Every function carries the GCC / Clang
// attribute `target("avx2,fma")`, so this header compiles in a build without
// -m flags and the kernels are reachable by runtime dispatch (kernels.h);
// calling them on a CPU without AVX2 and FMA is undefined — check
// `maas::kernels::CpuSupports(Isa::kAvx2)` first. The algorithm is shared with
// the other ISAs (simd_dense-inl.h); this file supplies the vector operations.
// No Abseil: also used by the kernel tests alone.
//
// Defines MAAS_KERNELS_HAVE_AVX2 when the kernels are available (x86-64 with
// GCC or Clang).

#ifndef MAAS_LOCAL_KERNELS_AVX2_H_
#define MAAS_LOCAL_KERNELS_AVX2_H_

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MAAS_KERNELS_HAVE_AVX2 1

// GCC 12's intrinsics initialise "undefined" vectors as `__Y = __Y`, which
// -Wmaybe-uninitialized reports where they are inlined (GCC bug 105593, fixed
// in 13); the warning is silenced for the intrinsic headers only.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <tuple>

#include "maas/local/kernels/activation_kind.h"
#include "maas/local/kernels/layout.h"
#include "maas/local/kernels/math_constants.h"
#include "maas/local/kernels/network_view.h"

// The kernels below are also covered (GCC applies these pragmas through the
// inlining context), for translation units that included <immintrin.h> first.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#define MAAS_KERNELS_TARGET __attribute__((target("avx2,fma")))

namespace maas {
namespace kernels {
namespace avx2 {

inline constexpr std::size_t kVectorRegisters = 16;

template <typename T>
struct Ops;

template <>
struct Ops<float> {
  using V = __m256;
  static constexpr std::size_t kLanes = 8;
  MAAS_KERNELS_TARGET static V Zero() { return _mm256_setzero_ps(); }
  MAAS_KERNELS_TARGET static V Set(float a) { return _mm256_set1_ps(a); }
  MAAS_KERNELS_TARGET static V Load(const float* p) { return _mm256_loadu_ps(p); }
  MAAS_KERNELS_TARGET static void Store(float* p, V v) { _mm256_storeu_ps(p, v); }
  MAAS_KERNELS_TARGET static V Add(V a, V b) { return _mm256_add_ps(a, b); }
  MAAS_KERNELS_TARGET static V Sub(V a, V b) { return _mm256_sub_ps(a, b); }
  MAAS_KERNELS_TARGET static V Mul(V a, V b) {
    V r = _mm256_mul_ps(a, b);
    __asm__("" : "+x"(r));  // never fused into a following add (kernels.h)
    return r;
  }
  MAAS_KERNELS_TARGET static V Div(V a, V b) { return _mm256_div_ps(a, b); }
  MAAS_KERNELS_TARGET static V Fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  MAAS_KERNELS_TARGET static V Max(V a, V b) { return _mm256_max_ps(a, b); }
  MAAS_KERNELS_TARGET static V Min(V a, V b) { return _mm256_min_ps(a, b); }
  // max(0, v) returns v when v is NaN or a zero (either sign).
  MAAS_KERNELS_TARGET static V Relu(V v) { return _mm256_max_ps(_mm256_setzero_ps(), v); }
  MAAS_KERNELS_TARGET static V Abs(V a) {
    return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), a);
  }
  MAAS_KERNELS_TARGET static V CopySign(V mag, V sign) {
    const V s = _mm256_set1_ps(-0.0f);
    return _mm256_or_ps(_mm256_andnot_ps(s, mag), _mm256_and_ps(s, sign));
  }
  MAAS_KERNELS_TARGET static V SelectLess(V a, V b, V t, V f) {
    return _mm256_blendv_ps(f, t, _mm256_cmp_ps(a, b, _CMP_LT_OQ));
  }
  // All-ones in lanes [0, n).
  MAAS_KERNELS_TARGET static V First(std::size_t n) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_castsi256_ps(
        _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), idx));
  }
  MAAS_KERNELS_TARGET static V KeepFirst(V v, std::size_t n) {
    return _mm256_and_ps(v, First(n));
  }
  MAAS_KERNELS_TARGET static V LoadPartial(const float* p, std::size_t n) {
    return _mm256_maskload_ps(p, _mm256_castps_si256(First(n)));
  }
  // hadd gives [a01 a23 b01 b23 | a45 a67 b45 b67]; the 64-bit permute puts
  // a's pairs before b's.
  MAAS_KERNELS_TARGET static V PairAdd(V a, V b) {
    return _mm256_castpd_ps(
        _mm256_permute4x64_pd(_mm256_castps_pd(_mm256_hadd_ps(a, b)), 0xD8));
  }
  MAAS_KERNELS_TARGET static V FillAfter(V v, std::size_t n, float value) {
    return _mm256_blendv_ps(_mm256_set1_ps(value), v, First(n));
  }
  static constexpr std::size_t kBlockLanes = 4;
  template <std::size_t kB>
  MAAS_KERNELS_TARGET static V Block(V v) {
    return _mm256_permute2f128_ps(v, v, kB * 0x11);
  }
  template <std::size_t kK>
  MAAS_KERNELS_TARGET static V Within(V q) {
    return _mm256_permute_ps(q, kK * 0x55);
  }
  // Butterflies: every lane ends with the result.
  MAAS_KERNELS_TARGET static V MaxAll(V v) { return MaxAllFirst(v, kLanes); }
  MAAS_KERNELS_TARGET static V MaxAllFirst(V v, std::size_t n) {
    if (n > 4) v = _mm256_max_ps(v, _mm256_permute2f128_ps(v, v, 1));
    if (n > 2) v = _mm256_max_ps(v, _mm256_permute_ps(v, _MM_SHUFFLE(1, 0, 3, 2)));
    if (n > 1) v = _mm256_max_ps(v, _mm256_permute_ps(v, _MM_SHUFFLE(2, 3, 0, 1)));
    return v;
  }
  MAAS_KERNELS_TARGET static V SumAll(V v) { return SumAllFirst(v, kLanes); }
  MAAS_KERNELS_TARGET static V SumAllFirst(V v, std::size_t n) {
    if (n > 4) v = _mm256_add_ps(v, _mm256_permute2f128_ps(v, v, 1));
    if (n > 2) v = _mm256_add_ps(v, _mm256_permute_ps(v, _MM_SHUFFLE(1, 0, 3, 2)));
    if (n > 1) v = _mm256_add_ps(v, _mm256_permute_ps(v, _MM_SHUFFLE(2, 3, 0, 1)));
    return v;
  }
  // Lanes >= n divide 0 by 1: no 0 / 0, so no invalid-operation flag.
  MAAS_KERNELS_TARGET static V DivFirst(V a, V b, std::size_t n) {
    return _mm256_div_ps(a, _mm256_blendv_ps(_mm256_set1_ps(1.0f), b, First(n)));
  }
  MAAS_KERNELS_TARGET static void StorePartial(float* p, V v, std::size_t n) {
    _mm256_maskstore_ps(p, _mm256_castps_si256(First(n)), v);
  }
  MAAS_KERNELS_TARGET static V ShiftToExponent(V t) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_castps_si256(t), 23));
  }
};

template <>
struct Ops<double> {
  using V = __m256d;
  static constexpr std::size_t kLanes = 4;
  MAAS_KERNELS_TARGET static V Zero() { return _mm256_setzero_pd(); }
  MAAS_KERNELS_TARGET static V Set(double a) { return _mm256_set1_pd(a); }
  MAAS_KERNELS_TARGET static V Load(const double* p) { return _mm256_loadu_pd(p); }
  MAAS_KERNELS_TARGET static void Store(double* p, V v) { _mm256_storeu_pd(p, v); }
  MAAS_KERNELS_TARGET static V Add(V a, V b) { return _mm256_add_pd(a, b); }
  MAAS_KERNELS_TARGET static V Sub(V a, V b) { return _mm256_sub_pd(a, b); }
  MAAS_KERNELS_TARGET static V Mul(V a, V b) {
    V r = _mm256_mul_pd(a, b);
    __asm__("" : "+x"(r));  // never fused into a following add (kernels.h)
    return r;
  }
  MAAS_KERNELS_TARGET static V Div(V a, V b) { return _mm256_div_pd(a, b); }
  MAAS_KERNELS_TARGET static V Fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  MAAS_KERNELS_TARGET static V Max(V a, V b) { return _mm256_max_pd(a, b); }
  MAAS_KERNELS_TARGET static V Min(V a, V b) { return _mm256_min_pd(a, b); }
  // max(0, v) returns v when v is NaN or a zero (either sign).
  MAAS_KERNELS_TARGET static V Relu(V v) { return _mm256_max_pd(_mm256_setzero_pd(), v); }
  MAAS_KERNELS_TARGET static V Abs(V a) {
    return _mm256_andnot_pd(_mm256_set1_pd(-0.0), a);
  }
  MAAS_KERNELS_TARGET static V CopySign(V mag, V sign) {
    const V s = _mm256_set1_pd(-0.0);
    return _mm256_or_pd(_mm256_andnot_pd(s, mag), _mm256_and_pd(s, sign));
  }
  MAAS_KERNELS_TARGET static V SelectLess(V a, V b, V t, V f) {
    return _mm256_blendv_pd(f, t, _mm256_cmp_pd(a, b, _CMP_LT_OQ));
  }
  MAAS_KERNELS_TARGET static V First(std::size_t n) {
    const __m256i idx = _mm256_setr_epi64x(0, 1, 2, 3);
    return _mm256_castsi256_pd(_mm256_cmpgt_epi64(
        _mm256_set1_epi64x(static_cast<long long>(n)), idx));
  }
  MAAS_KERNELS_TARGET static V KeepFirst(V v, std::size_t n) {
    return _mm256_and_pd(v, First(n));
  }
  MAAS_KERNELS_TARGET static V LoadPartial(const double* p, std::size_t n) {
    return _mm256_maskload_pd(p, _mm256_castpd_si256(First(n)));
  }
  MAAS_KERNELS_TARGET static V PairAdd(V a, V b) {
    return _mm256_permute4x64_pd(_mm256_hadd_pd(a, b), 0xD8);
  }
  MAAS_KERNELS_TARGET static V FillAfter(V v, std::size_t n, double value) {
    return _mm256_blendv_pd(_mm256_set1_pd(value), v, First(n));
  }
  static constexpr std::size_t kBlockLanes = 2;
  template <std::size_t kB>
  MAAS_KERNELS_TARGET static V Block(V v) {
    return _mm256_permute2f128_pd(v, v, kB * 0x11);
  }
  template <std::size_t kK>
  MAAS_KERNELS_TARGET static V Within(V q) {
    return _mm256_permute_pd(q, kK * 0xF);
  }
  MAAS_KERNELS_TARGET static V MaxAll(V v) { return MaxAllFirst(v, kLanes); }
  MAAS_KERNELS_TARGET static V MaxAllFirst(V v, std::size_t n) {
    if (n > 2) v = _mm256_max_pd(v, _mm256_permute2f128_pd(v, v, 1));
    if (n > 1) v = _mm256_max_pd(v, _mm256_permute_pd(v, 0x5));
    return v;
  }
  MAAS_KERNELS_TARGET static V SumAll(V v) { return SumAllFirst(v, kLanes); }
  MAAS_KERNELS_TARGET static V SumAllFirst(V v, std::size_t n) {
    if (n > 2) v = _mm256_add_pd(v, _mm256_permute2f128_pd(v, v, 1));
    if (n > 1) v = _mm256_add_pd(v, _mm256_permute_pd(v, 0x5));
    return v;
  }
  // Lanes >= n divide 0 by 1: no 0 / 0, so no invalid-operation flag.
  MAAS_KERNELS_TARGET static V DivFirst(V a, V b, std::size_t n) {
    return _mm256_div_pd(a, _mm256_blendv_pd(_mm256_set1_pd(1.0), b, First(n)));
  }
  MAAS_KERNELS_TARGET static void StorePartial(double* p, V v, std::size_t n) {
    _mm256_maskstore_pd(p, _mm256_castpd_si256(First(n)), v);
  }
  MAAS_KERNELS_TARGET static V ShiftToExponent(V t) {
    return _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_castpd_si256(t), 52));
  }
};

#include "maas/local/kernels/simd_dense-inl.h"  // NOLINT(build/include)

}  // namespace avx2
}  // namespace kernels
}  // namespace maas

#undef MAAS_KERNELS_TARGET

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif  // __x86_64__ && (__GNUC__ || __clang__)
#endif  // MAAS_LOCAL_KERNELS_AVX2_H_
