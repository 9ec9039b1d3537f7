// -----------------------------------------------------------------------------
// File: local/kernels/neon.h
// -----------------------------------------------------------------------------
//
// NEON (AArch64 Advanced SIMD) kernels, namespace `maas::kernels::neon`:
// 4 floats or 2 doubles per vector, 32 vector registers. NEON is part of the
// AArch64 baseline, so no function attribute and no runtime check are needed.
// The algorithm is shared with the other ISAs (simd_dense-inl.h); this file
// supplies the vector operations. No Abseil: built by the bare aarch64 cross
// compiler in the NEON kernel test.
//
// Defines MAAS_KERNELS_HAVE_NEON when compiled for AArch64 with NEON.

#ifndef MAAS_LOCAL_KERNELS_NEON_H_
#define MAAS_LOCAL_KERNELS_NEON_H_

#if defined(__aarch64__) && defined(__ARM_NEON)
#define MAAS_KERNELS_HAVE_NEON 1

#include <arm_neon.h>

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

namespace maas {
namespace kernels {
namespace neon {

inline constexpr std::size_t kVectorRegisters = 32;

template <typename T>
struct Ops;

template <>
struct Ops<float> {
  using V = float32x4_t;
  static constexpr std::size_t kLanes = 4;
  static V Zero() { return vdupq_n_f32(0.0f); }
  static V Set(float a) { return vdupq_n_f32(a); }
  static V Load(const float* p) { return vld1q_f32(p); }
  static void Store(float* p, V v) { vst1q_f32(p, v); }
  static V Add(V a, V b) { return vaddq_f32(a, b); }
  static V Sub(V a, V b) { return vsubq_f32(a, b); }
  static V Mul(V a, V b) {
    V r = vmulq_f32(a, b);
    __asm__("" : "+w"(r));  // never fused into a following add (kernels.h)
    return r;
  }
  static V Div(V a, V b) { return vdivq_f32(a, b); }
  static V Fma(V a, V b, V c) { return vfmaq_f32(c, a, b); }
  static V Max(V a, V b) { return vmaxq_f32(a, b); }
  static V Min(V a, V b) { return vminq_f32(a, b); }
  // Not vmaxq(v, 0): FMAX makes -0 into +0, where x86 keeps -0.
  static V Relu(V v) { return vbslq_f32(vcltq_f32(v, Zero()), Zero(), v); }
  static V Abs(V a) { return vabsq_f32(a); }
  static V CopySign(V mag, V sign) {
    return vbslq_f32(vdupq_n_u32(0x80000000u), sign, mag);
  }
  static V SelectLess(V a, V b, V t, V f) { return vbslq_f32(vcltq_f32(a, b), t, f); }
  static uint32x4_t First(std::size_t n) {
    const std::uint32_t idx[4] = {0, 1, 2, 3};
    return vcltq_u32(vld1q_u32(idx), vdupq_n_u32(static_cast<std::uint32_t>(n)));
  }
  static V KeepFirst(V v, std::size_t n) { return vbslq_f32(First(n), v, Zero()); }
  static V LoadPartial(const float* p, std::size_t n) {
    float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    std::memcpy(t, p, n * sizeof(float));
    return vld1q_f32(t);
  }
  static V PairAdd(V a, V b) { return vpaddq_f32(a, b); }
  static V FillAfter(V v, std::size_t n, float value) {
    return vbslq_f32(First(n), v, vdupq_n_f32(value));
  }
  static V MaxAll(V v) { return vdupq_n_f32(vmaxvq_f32(v)); }
  static V SumAll(V v) { return vdupq_n_f32(vaddvq_f32(v)); }
  static constexpr std::size_t kBlockLanes = 4;
  template <std::size_t kB>
  static V Block(V v) { return v; }
  template <std::size_t kK>
  static V Within(V q) { return vdupq_laneq_f32(q, kK); }
  static V MaxAllFirst(V v, std::size_t) { return MaxAll(v); }
  static V SumAllFirst(V v, std::size_t) { return SumAll(v); }
  // Lanes >= n divide 0 by 1: no 0 / 0, so no invalid-operation flag.
  static V DivFirst(V a, V b, std::size_t n) {
    return vdivq_f32(a, vbslq_f32(First(n), b, vdupq_n_f32(1.0f)));
  }
  static void StorePartial(float* p, V v, std::size_t n) {
    float t[4];
    vst1q_f32(t, v);
    std::memcpy(p, t, n * sizeof(float));
  }
  static V ShiftToExponent(V t) {
    return vreinterpretq_f32_u32(vshlq_n_u32(vreinterpretq_u32_f32(t), 23));
  }
};

template <>
struct Ops<double> {
  using V = float64x2_t;
  static constexpr std::size_t kLanes = 2;
  static V Zero() { return vdupq_n_f64(0.0); }
  static V Set(double a) { return vdupq_n_f64(a); }
  static V Load(const double* p) { return vld1q_f64(p); }
  static void Store(double* p, V v) { vst1q_f64(p, v); }
  static V Add(V a, V b) { return vaddq_f64(a, b); }
  static V Sub(V a, V b) { return vsubq_f64(a, b); }
  static V Mul(V a, V b) {
    V r = vmulq_f64(a, b);
    __asm__("" : "+w"(r));  // never fused into a following add (kernels.h)
    return r;
  }
  static V Div(V a, V b) { return vdivq_f64(a, b); }
  static V Fma(V a, V b, V c) { return vfmaq_f64(c, a, b); }
  static V Max(V a, V b) { return vmaxq_f64(a, b); }
  static V Min(V a, V b) { return vminq_f64(a, b); }
  // Not vmaxq(v, 0): FMAX makes -0 into +0, where x86 keeps -0.
  static V Relu(V v) { return vbslq_f64(vcltq_f64(v, Zero()), Zero(), v); }
  static V Abs(V a) { return vabsq_f64(a); }
  static V CopySign(V mag, V sign) {
    return vbslq_f64(vdupq_n_u64(0x8000000000000000ull), sign, mag);
  }
  static V SelectLess(V a, V b, V t, V f) { return vbslq_f64(vcltq_f64(a, b), t, f); }
  static uint64x2_t First(std::size_t n) {
    const std::uint64_t idx[2] = {0, 1};
    return vcltq_u64(vld1q_u64(idx), vdupq_n_u64(static_cast<std::uint64_t>(n)));
  }
  static V KeepFirst(V v, std::size_t n) { return vbslq_f64(First(n), v, Zero()); }
  static V LoadPartial(const double* p, std::size_t n) {
    double t[2] = {0.0, 0.0};
    std::memcpy(t, p, n * sizeof(double));
    return vld1q_f64(t);
  }
  static V PairAdd(V a, V b) { return vpaddq_f64(a, b); }
  static V FillAfter(V v, std::size_t n, double value) {
    return vbslq_f64(First(n), v, vdupq_n_f64(value));
  }
  static V MaxAll(V v) { return vdupq_n_f64(vmaxvq_f64(v)); }
  static V SumAll(V v) { return vdupq_n_f64(vaddvq_f64(v)); }
  static constexpr std::size_t kBlockLanes = 2;
  template <std::size_t kB>
  static V Block(V v) { return v; }
  template <std::size_t kK>
  static V Within(V q) { return vdupq_laneq_f64(q, kK); }
  static V MaxAllFirst(V v, std::size_t) { return MaxAll(v); }
  static V SumAllFirst(V v, std::size_t) { return SumAll(v); }
  // Lanes >= n divide 0 by 1: no 0 / 0, so no invalid-operation flag.
  static V DivFirst(V a, V b, std::size_t n) {
    return vdivq_f64(a, vbslq_f64(First(n), b, vdupq_n_f64(1.0)));
  }
  static void StorePartial(double* p, V v, std::size_t n) {
    double t[2];
    vst1q_f64(t, v);
    std::memcpy(p, t, n * sizeof(double));
  }
  static V ShiftToExponent(V t) {
    return vreinterpretq_f64_u64(vshlq_n_u64(vreinterpretq_u64_f64(t), 52));
  }
};

#include "maas/local/kernels/simd_dense-inl.h"  // NOLINT(build/include)

}  // namespace neon
}  // namespace kernels
}  // namespace maas

#undef MAAS_KERNELS_TARGET

#endif  // __aarch64__ && __ARM_NEON
#endif  // MAAS_LOCAL_KERNELS_NEON_H_
