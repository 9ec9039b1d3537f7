// -----------------------------------------------------------------------------
// File: local/kernels/avx512.h
// -----------------------------------------------------------------------------
//
// AVX-512 (AVX512F) kernels, namespace `maas::kernels::avx512`: 16 floats or
// 8 doubles per vector, 32 vector registers. Every function carries the GCC /
// Clang attribute `target("avx512f,avx2,fma")`, so this header compiles in a
// build without -m flags and the kernels are reachable by runtime dispatch
// (kernels.h); calling them on a CPU without AVX-512F is undefined — check
// `maas::kernels::CpuSupports(Isa::kAvx512)` first. The algorithm is shared
// with the other ISAs (simd_dense-inl.h); this file supplies the vector
// operations. No Abseil: also used by the kernel tests alone.
//
// Defines MAAS_KERNELS_HAVE_AVX512 when the kernels are available (x86-64
// with GCC or Clang, or a compiler already targeting AVX-512F).

#ifndef MAAS_LOCAL_KERNELS_AVX512_H_
#define MAAS_LOCAL_KERNELS_AVX512_H_

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MAAS_KERNELS_HAVE_AVX512 1

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

#define MAAS_KERNELS_TARGET __attribute__((target("avx512f,avx2,fma")))

namespace maas {
namespace kernels {
namespace avx512 {

inline constexpr std::size_t kVectorRegisters = 32;

template <typename T>
struct Ops;

template <>
struct Ops<float> {
  using V = __m512;
  static constexpr std::size_t kLanes = 16;
  MAAS_KERNELS_TARGET static V Zero() { return _mm512_setzero_ps(); }
  MAAS_KERNELS_TARGET static V Set(float a) { return _mm512_set1_ps(a); }
  MAAS_KERNELS_TARGET static V Load(const float* p) { return _mm512_loadu_ps(p); }
  MAAS_KERNELS_TARGET static void Store(float* p, V v) { _mm512_storeu_ps(p, v); }
  MAAS_KERNELS_TARGET static V Add(V a, V b) { return _mm512_add_ps(a, b); }
  MAAS_KERNELS_TARGET static V Sub(V a, V b) { return _mm512_sub_ps(a, b); }
  MAAS_KERNELS_TARGET static V Mul(V a, V b) {
    V r = _mm512_mul_ps(a, b);
    __asm__("" : "+v"(r));  // never fused into a following add (kernels.h)
    return r;
  }
  MAAS_KERNELS_TARGET static V Div(V a, V b) { return _mm512_div_ps(a, b); }
  MAAS_KERNELS_TARGET static V Fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  MAAS_KERNELS_TARGET static V Max(V a, V b) { return _mm512_max_ps(a, b); }
  MAAS_KERNELS_TARGET static V Min(V a, V b) { return _mm512_min_ps(a, b); }
  // max(0, v) returns v when v is NaN or a zero (either sign).
  MAAS_KERNELS_TARGET static V Relu(V v) { return _mm512_max_ps(_mm512_setzero_ps(), v); }
  MAAS_KERNELS_TARGET static V Abs(V a) {
    return _mm512_castsi512_ps(_mm512_and_si512(
        _mm512_castps_si512(a), _mm512_set1_epi32(0x7fffffff)));
  }
  MAAS_KERNELS_TARGET static V CopySign(V mag, V sign) {
    const __m512i s = _mm512_set1_epi32(static_cast<int>(0x80000000u));
    return _mm512_castsi512_ps(_mm512_or_si512(
        _mm512_andnot_si512(s, _mm512_castps_si512(mag)),
        _mm512_and_si512(s, _mm512_castps_si512(sign))));
  }
  MAAS_KERNELS_TARGET static V SelectLess(V a, V b, V t, V f) {
    return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(a, b, _CMP_LT_OQ), f, t);
  }
  MAAS_KERNELS_TARGET static __mmask16 First(std::size_t n) {
    return static_cast<__mmask16>((1u << n) - 1u);
  }
  MAAS_KERNELS_TARGET static V KeepFirst(V v, std::size_t n) {
    return _mm512_maskz_mov_ps(First(n), v);
  }
  MAAS_KERNELS_TARGET static V LoadPartial(const float* p, std::size_t n) {
    return _mm512_maskz_loadu_ps(First(n), p);
  }
  MAAS_KERNELS_TARGET static V PairAdd(V a, V b) {
    const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22,
                                           24, 26, 28, 30);
    const __m512i odd = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23,
                                          25, 27, 29, 31);
    return _mm512_add_ps(_mm512_permutex2var_ps(a, even, b),
                         _mm512_permutex2var_ps(a, odd, b));
  }
  MAAS_KERNELS_TARGET static V FillAfter(V v, std::size_t n, float value) {
    return _mm512_mask_blend_ps(First(n), _mm512_set1_ps(value), v);
  }
  static constexpr std::size_t kBlockLanes = 4;
  template <std::size_t kB>
  MAAS_KERNELS_TARGET static V Block(V v) {
    return _mm512_shuffle_f32x4(v, v, kB * 0x55);
  }
  template <std::size_t kK>
  MAAS_KERNELS_TARGET static V Within(V q) {
    return _mm512_permute_ps(q, kK * 0x55);
  }
  // Reductions stay in zmm registers (GCC 12's _mm512_reduce_* trip a false
  // -Wmaybe-uninitialized in their 256-bit extracts).
  // Butterflies: every lane ends with the result (no extract, no broadcast).
  MAAS_KERNELS_TARGET static V MaxAll(V v) { return MaxAllFirst(v, kLanes); }
  MAAS_KERNELS_TARGET static V MaxAllFirst(V v, std::size_t n) {
    if (n > 8) v = _mm512_max_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(1, 0, 3, 2)));
    if (n > 4) v = _mm512_max_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(2, 3, 0, 1)));
    if (n > 2) v = _mm512_max_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(1, 0, 3, 2)));
    if (n > 1) v = _mm512_max_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(2, 3, 0, 1)));
    return v;
  }
  MAAS_KERNELS_TARGET static V SumAll(V v) { return SumAllFirst(v, kLanes); }
  MAAS_KERNELS_TARGET static V SumAllFirst(V v, std::size_t n) {
    if (n > 8) v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(1, 0, 3, 2)));
    if (n > 4) v = _mm512_add_ps(v, _mm512_shuffle_f32x4(v, v, _MM_SHUFFLE(2, 3, 0, 1)));
    if (n > 2) v = _mm512_add_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(1, 0, 3, 2)));
    if (n > 1) v = _mm512_add_ps(v, _mm512_permute_ps(v, _MM_SHUFFLE(2, 3, 0, 1)));
    return v;
  }
  MAAS_KERNELS_TARGET static V DivFirst(V a, V b, std::size_t n) {
    return _mm512_maskz_div_ps(First(n), a, b);
  }
  MAAS_KERNELS_TARGET static void StorePartial(float* p, V v, std::size_t n) {
    _mm512_mask_storeu_ps(p, First(n), v);
  }
  MAAS_KERNELS_TARGET static V ShiftToExponent(V t) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_castps_si512(t), 23));
  }
};

template <>
struct Ops<double> {
  using V = __m512d;
  static constexpr std::size_t kLanes = 8;
  MAAS_KERNELS_TARGET static V Zero() { return _mm512_setzero_pd(); }
  MAAS_KERNELS_TARGET static V Set(double a) { return _mm512_set1_pd(a); }
  MAAS_KERNELS_TARGET static V Load(const double* p) { return _mm512_loadu_pd(p); }
  MAAS_KERNELS_TARGET static void Store(double* p, V v) { _mm512_storeu_pd(p, v); }
  MAAS_KERNELS_TARGET static V Add(V a, V b) { return _mm512_add_pd(a, b); }
  MAAS_KERNELS_TARGET static V Sub(V a, V b) { return _mm512_sub_pd(a, b); }
  MAAS_KERNELS_TARGET static V Mul(V a, V b) {
    V r = _mm512_mul_pd(a, b);
    __asm__("" : "+v"(r));  // never fused into a following add (kernels.h)
    return r;
  }
  MAAS_KERNELS_TARGET static V Div(V a, V b) { return _mm512_div_pd(a, b); }
  MAAS_KERNELS_TARGET static V Fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  MAAS_KERNELS_TARGET static V Max(V a, V b) { return _mm512_max_pd(a, b); }
  MAAS_KERNELS_TARGET static V Min(V a, V b) { return _mm512_min_pd(a, b); }
  // max(0, v) returns v when v is NaN or a zero (either sign).
  MAAS_KERNELS_TARGET static V Relu(V v) { return _mm512_max_pd(_mm512_setzero_pd(), v); }
  MAAS_KERNELS_TARGET static V Abs(V a) {
    return _mm512_castsi512_pd(_mm512_and_si512(
        _mm512_castpd_si512(a), _mm512_set1_epi64(0x7fffffffffffffffLL)));
  }
  MAAS_KERNELS_TARGET static V CopySign(V mag, V sign) {
    const __m512i s = _mm512_set1_epi64(static_cast<long long>(0x8000000000000000ULL));
    return _mm512_castsi512_pd(_mm512_or_si512(
        _mm512_andnot_si512(s, _mm512_castpd_si512(mag)),
        _mm512_and_si512(s, _mm512_castpd_si512(sign))));
  }
  MAAS_KERNELS_TARGET static V SelectLess(V a, V b, V t, V f) {
    return _mm512_mask_blend_pd(_mm512_cmp_pd_mask(a, b, _CMP_LT_OQ), f, t);
  }
  MAAS_KERNELS_TARGET static __mmask8 First(std::size_t n) {
    return static_cast<__mmask8>((1u << n) - 1u);
  }
  MAAS_KERNELS_TARGET static V KeepFirst(V v, std::size_t n) {
    return _mm512_maskz_mov_pd(First(n), v);
  }
  MAAS_KERNELS_TARGET static V LoadPartial(const double* p, std::size_t n) {
    return _mm512_maskz_loadu_pd(First(n), p);
  }
  MAAS_KERNELS_TARGET static V PairAdd(V a, V b) {
    const __m512i even = _mm512_setr_epi64(0, 2, 4, 6, 8, 10, 12, 14);
    const __m512i odd = _mm512_setr_epi64(1, 3, 5, 7, 9, 11, 13, 15);
    return _mm512_add_pd(_mm512_permutex2var_pd(a, even, b),
                         _mm512_permutex2var_pd(a, odd, b));
  }
  MAAS_KERNELS_TARGET static V FillAfter(V v, std::size_t n, double value) {
    return _mm512_mask_blend_pd(First(n), _mm512_set1_pd(value), v);
  }
  static constexpr std::size_t kBlockLanes = 2;
  template <std::size_t kB>
  MAAS_KERNELS_TARGET static V Block(V v) {
    return _mm512_shuffle_f64x2(v, v, kB * 0x55);
  }
  template <std::size_t kK>
  MAAS_KERNELS_TARGET static V Within(V q) {
    return _mm512_permute_pd(q, kK * 0xFF);
  }
  MAAS_KERNELS_TARGET static V MaxAll(V v) { return MaxAllFirst(v, kLanes); }
  MAAS_KERNELS_TARGET static V MaxAllFirst(V v, std::size_t n) {
    if (n > 4) v = _mm512_max_pd(v, _mm512_shuffle_f64x2(v, v, _MM_SHUFFLE(1, 0, 3, 2)));
    if (n > 2) v = _mm512_max_pd(v, _mm512_shuffle_f64x2(v, v, _MM_SHUFFLE(2, 3, 0, 1)));
    if (n > 1) v = _mm512_max_pd(v, _mm512_permute_pd(v, 0x55));
    return v;
  }
  MAAS_KERNELS_TARGET static V SumAll(V v) { return SumAllFirst(v, kLanes); }
  MAAS_KERNELS_TARGET static V SumAllFirst(V v, std::size_t n) {
    if (n > 4) v = _mm512_add_pd(v, _mm512_shuffle_f64x2(v, v, _MM_SHUFFLE(1, 0, 3, 2)));
    if (n > 2) v = _mm512_add_pd(v, _mm512_shuffle_f64x2(v, v, _MM_SHUFFLE(2, 3, 0, 1)));
    if (n > 1) v = _mm512_add_pd(v, _mm512_permute_pd(v, 0x55));
    return v;
  }
  MAAS_KERNELS_TARGET static V DivFirst(V a, V b, std::size_t n) {
    return _mm512_maskz_div_pd(First(n), a, b);
  }
  MAAS_KERNELS_TARGET static void StorePartial(double* p, V v, std::size_t n) {
    _mm512_mask_storeu_pd(p, First(n), v);
  }
  MAAS_KERNELS_TARGET static V ShiftToExponent(V t) {
    return _mm512_castsi512_pd(_mm512_slli_epi64(_mm512_castpd_si512(t), 52));
  }
};

#include "maas/local/kernels/simd_dense-inl.h"  // NOLINT(build/include)

}  // namespace avx512
}  // namespace kernels
}  // namespace maas

#undef MAAS_KERNELS_TARGET

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif  // __x86_64__ && (__GNUC__ || __clang__)
#endif  // MAAS_LOCAL_KERNELS_AVX512_H_
