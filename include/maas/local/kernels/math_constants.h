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
// tanh(|x|) = (1 - e) / (1 + e) with e = exp(-2|x|) above kTanhSmall; below it
// an odd Taylor series of tanh avoids the cancellation in 1 - e.

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
  // 1.5 * 2^23: adding it rounds to an integer held in the low mantissa bits.
  static constexpr float kRoundMagic = 12582912.0f;
  static constexpr float kExponentBias = 127.0f;
  static constexpr std::size_t kExpDegree = 7;
  // 1 / k!, k = 0..7.
  static constexpr float kExpCoeff[kExpDegree + 1] = {
      1.0f, 1.0f, 0.5f, 1.0f / 6, 1.0f / 24, 1.0f / 120, 1.0f / 720, 1.0f / 5040};
  static constexpr float kTanhSmall = 0.25f;
};

template <>
struct MathConstants<double> {
  static constexpr double kLog2e = 1.44269504088896340736;
  static constexpr double kLn2Hi = 6.93147180369123816490e-01;  // 32 significant bits
  static constexpr double kLn2Lo = 1.90821492927058770002e-10;  // ln 2 - kLn2Hi
  static constexpr double kExpMin = -708.0;
  static constexpr double kExpMax = 709.0;
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
  static constexpr double kTanhSmall = 0.25;
};

// Taylor coefficients of tanh(x) / x in powers of x^2 (x - x^3/3 + 2x^5/15
// - ...). With 8 terms the truncation at |x| = 0.25 is below 6e-14 relative.
inline constexpr std::size_t kTanhTerms = 8;
inline constexpr double kTanhCoeff[kTanhTerms] = {
    1.0,
    -1.0 / 3,
    2.0 / 15,
    -17.0 / 315,
    62.0 / 2835,
    -1382.0 / 155925,
    21844.0 / 6081075,
    -929569.0 / 638512875};

}  // namespace detail
}  // namespace kernels
}  // namespace maas

#endif  // MAAS_LOCAL_KERNELS_MATH_CONSTANTS_H_
