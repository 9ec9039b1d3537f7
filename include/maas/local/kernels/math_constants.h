// -----------------------------------------------------------------------------
// File: local/kernels/math_constants.h
// -----------------------------------------------------------------------------
//
// Constants of the vector `exp`, `sigmoid` and `tanh` shared by every SIMD
// kernel (`simd_dense-inl.h`). Internal to the kernels; free of Abseil and of
// intrinsics so every ISA file and the aarch64 cross build can use it.
//
// exp(x) = 2^n * p(r), n = round(x / ln 2), r = x - n ln 2 (Cody-Waite split of
// ln 2 into a short high part and a correction), p = Taylor polynomial of e^r
// on |r| <= ln 2 / 2: degree 7 for float (truncation < 6e-9 relative), degree
// 13 for double (< 2e-16). x is clamped so that 2^n stays a normal number;
// below the clamp the result is the smallest value of the clamp (< 1e-37 for
// float, < 1e-307 for double), not a denormal.
//
// tanh|x| (then the sign of x): |x| = -n ln 2 / 2 + r, |r| <= ln 2 / 4, and
// e^(-2r) as the Pade quotient (D - rN) / (D + rN) (kTanhDen, kTanhMinusP;
// degree [6/6] for double, [4/4] for float), so that e^(-2|x|) = 2^n (D - rN)
// / (D + rN) and tanh|x| is one quotient of two FMAs (simd_dense-inl.h,
// Tanh): one formula for every |x|, tanh's own Pade form near 0 (no
// cancellation). Measured against tanhl on 3 million points (magnitudes
// 1e-30 to 50 and uniform on [-25, 25]): at most 2.83 ulp off in double and
// in float (mean 0.29 and 0.17 ulp); the kernel tests require <= 4
// (CheckTanhUlp).
//
// erfc (for GELU, erf form) is exp(-t^2) times a fitted polynomial (two
// regions, see kErfcA / kErfcB); measured relative error of the polynomial
// part 1.4e-7 (float) and 6.7e-14 (double). expm1 (ELU) and log1p
// (softplus) use Taylor series where the direct formula would cancel.

#ifndef MAAS_LOCAL_KERNELS_MATH_CONSTANTS_H_
#define MAAS_LOCAL_KERNELS_MATH_CONSTANTS_H_

#include <cstddef>

namespace maas {
namespace kernels {
namespace detail {

template <typename T>
struct MathConstants;

template <>
struct MathConstants<float> {
  static constexpr float kLog2e = 1.44269504088896341f;
  static constexpr float kLn2Hi = 0.693359375f;  // 9 significant bits: n * kLn2Hi is exact
  static constexpr float kLn2Lo = -2.12194440e-4f;  // ln 2 - kLn2Hi
  static constexpr float kExpMin = -87.0f;
  static constexpr float kExpMax = 88.0f;
  // ln 2 / 2 rounded: Tanh's reduction in one FMA (its error does not
  // matter there, see Tanh in simd_dense-inl.h).
  static constexpr float kLn2Half = 0.346573590279972654709f;
  // tanh r = r N(r^2) / D(r^2) on |r| <= ln 2 / 4: Pade [4/4] of e^(2r)
  // (truncation below 3e-12 relative), N = 105 + 10 s, D = 105 + 45 s + s^2;
  // Tanh uses D and -P = (N - D) / s. Integer coefficients, exact.
  static constexpr std::size_t kTanhDenTerms = 3;
  static constexpr std::size_t kTanhMinusPTerms = 2;
  static constexpr float kTanhDen[kTanhDenTerms] = {105.0f, 45.0f, 1.0f};
  static constexpr float kTanhMinusP[kTanhMinusPTerms] = {-35.0f, -1.0f};
  // 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits.
  static constexpr float kRoundMagic = 12582912.0f;
  static constexpr float kExponentBias = 127.0f;
  static constexpr std::size_t kExpDegree = 7;
  // 1 / k!, k = 0..7.
  static constexpr float kExpCoeff[kExpDegree + 1] = {
      1.0f, 1.0f, 0.5f, 1.0f / 6, 1.0f / 24, 1.0f / 120, 1.0f / 720, 1.0f / 5040};
  // Terms of the expm1 and log1p series used (of kExpm1Coeff, kLog1pCoeff):
  // truncation below 1e-8 relative.
  static constexpr std::size_t kExpm1Terms = 9;
  static constexpr std::size_t kLog1pTerms = 8;
  // erfc(t) = exp(-t^2) g(t), t >= 0: g(t) = PA(t - 1) for t < 2, else
  // PB((1/t - kErfcCenter) * kErfcInvHalfWidth) / t. Fitted by
  // tests/kernels/math/fit_erfc.py; see the file comment for the error.
  static constexpr std::size_t kErfcTerms = 11;
  static constexpr float kErfcCenter = 0.30319148936170215f;
  static constexpr float kErfcInvHalfWidth = 5.0810810810810807f;
  static constexpr float kErfcTMax = 9.4f;
  static constexpr float kErfcA[kErfcTerms] = {
      0.4275836002169901f,
      -0.2732125281117368f,
      0.15437046718660144f,
      -0.079215943480238776f,
      0.037579143768497435f,
      -0.016726239587506103f,
      0.0069610913808147001f,
      -0.0026197166607889494f,
      0.001036744949349538f,
      -0.00052764943999657091f,
      0.000166732281352434f};
  static constexpr float kErfcB[kErfcTerms] = {
      0.54120225048291948f,
      -0.026659713069135234f,
      -0.0051746557953554675f,
      0.0015782771513977126f,
      -0.00012620526637478096f,
      -4.5507636085116264e-05f,
      1.9811068313015455e-05f,
      -2.2529466602131282e-06f,
      -6.5312086456014969e-07f,
      0.0f,
      0.0f};
};

template <>
struct MathConstants<double> {
  static constexpr double kLog2e = 1.44269504088896340736;
  static constexpr double kLn2Hi = 6.93147180369123816490e-01;  // 32 significant bits
  static constexpr double kLn2Lo = 1.90821492927058770002e-10;  // ln 2 - kLn2Hi
  static constexpr double kExpMin = -708.0;
  static constexpr double kExpMax = 709.0;
  static constexpr double kLn2Half = 0.346573590279972654709;
  // Pade [6/6] of e^(2r) (truncation below 2e-19 relative): N = 10395 +
  // 1260 s + 21 s^2, D = 10395 + 4725 s + 210 s^2 + s^3.
  static constexpr std::size_t kTanhDenTerms = 4;
  static constexpr std::size_t kTanhMinusPTerms = 3;
  static constexpr double kTanhDen[kTanhDenTerms] = {10395.0, 4725.0, 210.0, 1.0};
  static constexpr double kTanhMinusP[kTanhMinusPTerms] = {-3465.0, -189.0, -1.0};
  static constexpr double kRoundMagic = 6755399441055744.0;  // 1.5 * 2^52
  static constexpr double kExponentBias = 1023.0;
  static constexpr std::size_t kExpDegree = 13;
  static constexpr double kExpCoeff[kExpDegree + 1] = {
      1.0,
      1.0,
      1.0 / 2,
      1.0 / 6,
      1.0 / 24,
      1.0 / 120,
      1.0 / 720,
      1.0 / 5040,
      1.0 / 40320,
      1.0 / 362880,
      1.0 / 3628800,
      1.0 / 39916800,
      1.0 / 479001600,
      1.0 / 6227020800.0};
  static constexpr std::size_t kExpm1Terms = 16;
  static constexpr std::size_t kLog1pTerms = 17;
  // erfc(t) = exp(-t^2) g(t), t >= 0: g(t) = PA(t - 1) for t < 2, else
  // PB((1/t - kErfcCenter) * kErfcInvHalfWidth) / t. Fitted by
  // tests/kernels/math/fit_erfc.py; see the file comment for the error.
  static constexpr std::size_t kErfcTerms = 19;
  static constexpr double kErfcCenter = 0.26879699248120303;
  static constexpr double kErfcInvHalfWidth = 4.3252032520325203;
  static constexpr double kErfcTMax = 26.6;
  static constexpr double kErfcA[kErfcTerms] = {
      0.42758357615581277,
      -0.27321201478411183,
      0.15437156137091068,
      -0.079226968927887678,
      0.037572296240512677,
      -0.016661869336538081,
      0.0069701421388309965,
      -0.0027690627455090986,
      0.0010502704375338089,
      -0.00038196352736886361,
      0.00013366074079860642,
      -4.5120676642440044e-05,
      1.4754954360620912e-05,
      -4.7114249456252142e-06,
      1.4412480731250946e-06,
      -3.9894225320040394e-07,
      1.2169260834014989e-07,
      -5.1479471622216435e-08,
      1.3175795402981438e-08};
  static constexpr double kErfcB[kErfcTerms] = {
      0.5456947578040221,
      -0.029021275343641028,
      -0.0083113992312529843,
      0.0026756018516051615,
      -0.00014736175728117715,
      -0.00015020801670836091,
      5.9876679917275876e-05,
      -6.5841794695912353e-06,
      -3.885135012270814e-06,
      2.3750660786356774e-06,
      -5.5722072108197726e-07,
      -5.8472761796048297e-08,
      1.1174684656245128e-07,
      -5.0959385135619716e-08,
      5.6643299157200534e-09,
      6.8478728813740089e-09,
      -2.7234353395647688e-09,
      0,
      0};
};

// expm1(x) = x (1 + x/2! + x^2/3! + ...) for |x| < kExpm1Small, where
// e^x - 1 would cancel; the 16 terms (double) keep the truncation at
// |x| = 0.5 below 3e-18 relative, float uses the first 9.
inline constexpr double kExpm1Small = 0.5;
inline constexpr double kExpm1Coeff[16] = {
    1.0,
    1.0 / 2,
    1.0 / 6,
    1.0 / 24,
    1.0 / 120,
    1.0 / 720,
    1.0 / 5040,
    1.0 / 40320,
    1.0 / 362880,
    1.0 / 3628800,
    1.0 / 39916800,
    1.0 / 479001600,
    1.0 / 6227020800.0,
    1.0 / 87178291200.0,
    1.0 / 1307674368000.0,
    1.0 / 20922789888000.0};

// log1p(u) = 2 atanh(s), s = u / (2 + u), for u in [0, 1] (s <= 1/3):
// 2 s (1 + s^2/3 + s^4/5 + ...). The 17 terms (double) keep the truncation
// below 2e-18 relative, float uses the first 8.
inline constexpr double kLog1pCoeff[17] = {
    1.0,
    1.0 / 3,
    1.0 / 5,
    1.0 / 7,
    1.0 / 9,
    1.0 / 11,
    1.0 / 13,
    1.0 / 15,
    1.0 / 17,
    1.0 / 19,
    1.0 / 21,
    1.0 / 23,
    1.0 / 25,
    1.0 / 27,
    1.0 / 29,
    1.0 / 31,
    1.0 / 33};

// GELU constants: 1 / sqrt 2, sqrt(2 / pi), and the cubic coefficient of the
// tanh form.
inline constexpr double kInvSqrt2 = 0.70710678118654752440;
inline constexpr double kSqrt2OverPi = 0.79788456080286535588;
inline constexpr double kGeluCubic = 0.044715;
// The tanh form's y is computed from x clamped to +-kGeluTanhClamp: there
// |y| > 3e10, so tanh y = +-1 and e^(-2y) is at exp's clamp, exactly as for
// any larger |x|, and x^3 (1e12) cannot overflow.
inline constexpr double kGeluTanhClamp = 1e4;

}  // namespace detail
}  // namespace kernels
}  // namespace maas

#endif  // MAAS_LOCAL_KERNELS_MATH_CONSTANTS_H_
