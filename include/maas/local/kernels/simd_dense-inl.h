// -----------------------------------------------------------------------------
// File: local/kernels/simd_dense-inl.h
// -----------------------------------------------------------------------------
//
// The SIMD dense-layer algorithm shared by every ISA file. Deliberately has no
// include guard: `avx2.h`, `avx512.h` and `neon.h` each include it inside
// their own namespace (`maas::kernels::avx2`, ...) after defining
//
//   - `Ops<T>` for T = float and double: the vector type `V`, `kLanes`, and
//     static functions Zero, Set, Load, Store (unaligned), Add, Sub, Mul, Div,
//     Fma (a * b + c), Max, Min, Abs, CopySign(magnitude, sign source),
//     SelectLess(a, b, t, f) = a < b ? t : f, KeepFirst(v, n) (lanes >= n
//     become 0), FillAfter(v, n, value), ReduceMax, ReduceAdd, and
//     ShiftToExponent(t) (bit pattern shifted left by the mantissa width);
//   - `kVectorRegisters`, the number of architectural vector registers;
//   - the macro `MAAS_KERNELS_TARGET`, the function attribute that enables the
//     ISA (GCC/Clang `target(...)`), or nothing.
//
// so every function below is compiled once per ISA under its own namespace
// (no ODR clash between bodies built for different instruction sets).
// It must not include anything: the including file provides <cstddef>,
// `layout.h`, `activation_kind.h` and `math_constants.h`.
//
// Algorithm (weights input-major, see layout.h):
//   - one row at a time (latency): the outputs are cut into blocks of at most
//     8 (4 with 16 registers) vectors; each output keeps kSplit independent
//     partial sums over the inputs so that at least 8 FMAs are in flight,
//     hiding the FMA latency; partial sums are added at the end;
//   - many rows (throughput): a register tile of kRows rows x kCols vectors
//     (each with the same kSplit partial sums, so results are bit-identical
//     to the one-row path) reuses each loaded weight vector for kRows rows
//     and each broadcast input for kCols vectors; column panels are the outer
//     loop so a panel of weights stays in L1 while all row tiles pass over
//     it. Rows that do not fill a tile use the one-row path.
// Softmax is applied per row after all columns, with the padding lanes
// excluded from the maximum and the sum; every lane in [kOut,
// PaddedSize(kOut)) is written as 0, lanes beyond are not touched.

// EstrinLevel<T, kN>()
//
// One level of Estrin's scheme over q[0, kN): q[k] = q[2k] + q[2k+1] * power,
// then the next level with power^2, until one value is left. Compile-time
// recursion, so every level is straight-line code.
template <typename T, std::size_t kN>
MAAS_KERNELS_TARGET inline void EstrinLevel(typename Ops<T>::V* q,
                                            typename Ops<T>::V power) {
  using O = Ops<T>;
  if constexpr (kN > 1) {
    for (std::size_t k = 0; k < kN / 2; ++k) q[k] = O::Fma(q[2 * k + 1], power, q[2 * k]);
    if constexpr (kN % 2 != 0) q[kN / 2] = q[kN - 1];
    EstrinLevel<T, (kN + 1) / 2>(q, O::Mul(power, power));
  }
}

// Poly()
//
// c[0] + c[1] r + ... + c[kN-1] r^(kN-1) in Estrin's form: pairs
// c[2k] + c[2k+1] r first, then pairs of those with r^2, r^4, ...; a
// dependency chain of about log2(kN) FMAs instead of Horner's kN - 1, which
// matters on the latency-bound one-row path (softmax, sigmoid, tanh).
// PolyFirst<T, kN>() uses the first kN coefficients of a longer table.
template <typename T, std::size_t kN, typename U>
MAAS_KERNELS_TARGET inline typename Ops<T>::V PolyFirst(typename Ops<T>::V r,
                                                        const U* c) {
  using O = Ops<T>;
  typename O::V q[(kN + 1) / 2];
  for (std::size_t k = 0; k < (kN + 1) / 2; ++k) {
    q[k] = 2 * k + 1 < kN ? O::Fma(O::Set(static_cast<T>(c[2 * k + 1])), r,
                                   O::Set(static_cast<T>(c[2 * k])))
                          : O::Set(static_cast<T>(c[2 * k]));
  }
  EstrinLevel<T, (kN + 1) / 2>(q, O::Mul(r, r));
  return q[0];
}
template <typename T, typename U, std::size_t kN>
MAAS_KERNELS_TARGET inline typename Ops<T>::V Poly(typename Ops<T>::V r,
                                                   const U (&c)[kN]) {
  return PolyFirst<T, kN>(r, c);
}

// PolyChoose()
//
// Poly with coefficients a[k] in the lanes where `pick_a` < `limit` and b[k]
// elsewhere (two fits of one function on two intervals, one evaluation).
template <typename T, typename U, std::size_t kN>
MAAS_KERNELS_TARGET inline typename Ops<T>::V PolyChoose(
    typename Ops<T>::V r, typename Ops<T>::V pick_a, typename Ops<T>::V limit,
    const U (&a)[kN], const U (&b)[kN]) {
  using O = Ops<T>;
  typename O::V c[kN];
  for (std::size_t k = 0; k < kN; ++k) {
    c[k] = O::SelectLess(pick_a, limit, O::Set(static_cast<T>(a[k])),
                         O::Set(static_cast<T>(b[k])));
  }
  typename O::V q[(kN + 1) / 2];
  for (std::size_t k = 0; k < (kN + 1) / 2; ++k) {
    q[k] = 2 * k + 1 < kN ? O::Fma(c[2 * k + 1], r, c[2 * k]) : c[2 * k];
  }
  EstrinLevel<T, (kN + 1) / 2>(q, O::Mul(r, r));
  return q[0];
}

// Exp()
//
// Vector e^x; see math_constants.h for the method and accuracy.
template <typename T>
MAAS_KERNELS_TARGET inline typename Ops<T>::V Exp(typename Ops<T>::V x) {
  using O = Ops<T>;
  using C = ::maas::kernels::detail::MathConstants<T>;
  x = O::Min(O::Max(x, O::Set(C::kExpMin)), O::Set(C::kExpMax));
  const auto magic = O::Set(C::kRoundMagic);
  const auto t = O::Fma(x, O::Set(C::kLog2e), magic);  // magic + round(x log2 e)
  const auto n = O::Sub(t, magic);
  auto r = O::Fma(n, O::Set(-C::kLn2Hi), x);
  r = O::Fma(n, O::Set(-C::kLn2Lo), r);
  const auto p = Poly<T>(r, C::kExpCoeff);
  const auto scale = O::ShiftToExponent(O::Add(t, O::Set(C::kExponentBias)));
  return O::Mul(p, scale);
}

// Expm1()
//
// Vector e^x - 1: the Taylor series below |x| = 0.5 (no cancellation), Exp
// above.
template <typename T>
MAAS_KERNELS_TARGET inline typename Ops<T>::V Expm1(typename Ops<T>::V x) {
  using O = Ops<T>;
  using C = ::maas::kernels::detail::MathConstants<T>;
  namespace d = ::maas::kernels::detail;
  const auto big = O::Sub(Exp<T>(x), O::Set(T(1)));
  const auto small = O::Mul(x, PolyFirst<T, C::kExpm1Terms>(x, d::kExpm1Coeff));
  return O::SelectLess(O::Abs(x), O::Set(static_cast<T>(d::kExpm1Small)), small, big);
}

// Log1p()
//
// Vector log(1 + u) for u in [0, 1]: 2 atanh(u / (2 + u)) as a series in
// s^2 <= 1/9, accurate relative to the result for tiny u too.
template <typename T>
MAAS_KERNELS_TARGET inline typename Ops<T>::V Log1p01(typename Ops<T>::V u) {
  using O = Ops<T>;
  using C = ::maas::kernels::detail::MathConstants<T>;
  const auto s = O::Div(u, O::Add(O::Set(T(2)), u));
  const auto p = PolyFirst<T, C::kLog1pTerms>(O::Mul(s, s),
                                              ::maas::kernels::detail::kLog1pCoeff);
  return O::Mul(O::Add(s, s), p);
}

// Sigmoid()
//
// 1 / (1 + e^-x); e^-x saturates at the exp clamp, so no overflow.
template <typename T>
MAAS_KERNELS_TARGET inline typename Ops<T>::V Sigmoid(typename Ops<T>::V x) {
  using O = Ops<T>;
  const auto one = O::Set(T(1));
  return O::Div(one, O::Add(one, Exp<T>(O::Sub(O::Zero(), x))));
}

// Tanh()
//
// Odd series below kTanhSmall, (1 - e) / (1 + e) with e = exp(-2|x|) above.
template <typename T>
MAAS_KERNELS_TARGET inline typename Ops<T>::V Tanh(typename Ops<T>::V x) {
  using O = Ops<T>;
  using C = ::maas::kernels::detail::MathConstants<T>;
  const auto a = O::Abs(x);
  const auto one = O::Set(T(1));
  const auto e = Exp<T>(O::Mul(a, O::Set(T(-2))));
  const auto big = O::CopySign(O::Div(O::Sub(one, e), O::Add(one, e)), x);
  const auto z = O::Mul(x, x);
  const auto small =
      O::Mul(x, PolyFirst<T, C::kTanhTerms>(z, ::maas::kernels::detail::kTanhCoeff));
  return O::SelectLess(a, O::Set(C::kTanhSmall), small, big);
}

// Gelu()
//
// x Phi(x) = x/2 erfc(z), z = -x / sqrt 2, with erfc(z) = E or 2 - E for
// z >= 0 or < 0 and E = erfc(|z|) = exp(-t^2) g(t): the negative tail keeps
// its relative accuracy (no 1 + erf cancellation). t^2 is split into
// hi + lo (exact) so that exp(-t^2) = exp(-hi) (1 - lo) is accurate for
// large t. See math_constants.h for g.
template <typename T>
MAAS_KERNELS_TARGET inline typename Ops<T>::V Gelu(typename Ops<T>::V x) {
  using O = Ops<T>;
  using C = ::maas::kernels::detail::MathConstants<T>;
  const auto one = O::Set(T(1));
  const auto z = O::Mul(x, O::Set(static_cast<T>(-::maas::kernels::detail::kInvSqrt2)));
  const auto t = O::Min(O::Abs(z), O::Set(C::kErfcTMax));
  const auto hi = O::Mul(t, t);
  const auto lo = O::Fma(t, t, O::Sub(O::Zero(), hi));
  const auto e = O::Mul(Exp<T>(O::Sub(O::Zero(), hi)), O::Sub(one, lo));
  const auto two = O::Set(T(2));
  const auto inv_t = O::Div(one, O::Max(t, two));  // region B only
  const auto w = O::SelectLess(
      t, two, O::Sub(t, one),
      O::Fma(inv_t, O::Set(C::kErfcInvHalfWidth),
             O::Set(-C::kErfcCenter * C::kErfcInvHalfWidth)));
  const auto g = O::Mul(PolyChoose<T>(w, t, two, C::kErfcA, C::kErfcB),
                        O::SelectLess(t, two, one, inv_t));
  const auto big_e = O::Mul(e, g);
  const auto erfc_z = O::SelectLess(z, O::Zero(), O::Sub(two, big_e), big_e);
  return O::Mul(O::Mul(O::Set(T(0.5)), x), erfc_z);
}

// GeluTanh()
//
// x/2 (1 + tanh y) = x / (1 + e^(-2y)), y = sqrt(2/pi) (x + 0.044715 x^3):
// one exp and one division, no cancellation in either tail.
template <typename T>
MAAS_KERNELS_TARGET inline typename Ops<T>::V GeluTanh(typename Ops<T>::V x) {
  using O = Ops<T>;
  namespace d = ::maas::kernels::detail;
  const auto one = O::Set(T(1));
  const auto inner = O::Fma(O::Set(static_cast<T>(d::kGeluCubic)), O::Mul(x, x), one);
  const auto y2 = O::Mul(O::Mul(x, O::Set(static_cast<T>(-2 * d::kSqrt2OverPi))), inner);
  return O::Div(x, O::Add(one, Exp<T>(y2)));
}

// Activate()
//
// The element-wise activations (alpha: leaky ReLU's and ELU's parameter,
// broadcast); softmax (a row operation) passes through.
template <typename T, ::maas::Activation kAct>
MAAS_KERNELS_TARGET inline typename Ops<T>::V Activate(typename Ops<T>::V v,
                                                      typename Ops<T>::V alpha) {
  using O = Ops<T>;
  using A = ::maas::Activation;
  if constexpr (kAct == A::kRelu) {
    return O::Max(v, O::Zero());
  } else if constexpr (kAct == A::kSigmoid) {
    return Sigmoid<T>(v);
  } else if constexpr (kAct == A::kTanh) {
    return Tanh<T>(v);
  } else if constexpr (kAct == A::kGelu) {
    return Gelu<T>(v);
  } else if constexpr (kAct == A::kGeluTanh) {
    return GeluTanh<T>(v);
  } else if constexpr (kAct == A::kSilu) {
    return O::Div(v, O::Add(O::Set(T(1)), Exp<T>(O::Sub(O::Zero(), v))));
  } else if constexpr (kAct == A::kSoftplus) {
    // max(v, 0) + log1p(e^-|v|)
    return O::Add(O::Max(v, O::Zero()),
                  Log1p01<T>(Exp<T>(O::Sub(O::Zero(), O::Abs(v)))));
  } else if constexpr (kAct == A::kLeakyRelu) {
    return O::Fma(alpha, O::Min(v, O::Zero()), O::Max(v, O::Zero()));
  } else if constexpr (kAct == A::kElu) {
    return O::SelectLess(O::Zero(), v, v,
                         O::Mul(alpha, Expm1<T>(O::Min(v, O::Zero()))));
  } else {
    (void)alpha;
    return v;
  }
}

// SoftmaxRow()
//
// In-place stable softmax over y[0, n), n >= 1; y must hold whole vectors up
// to n rounded up to kLanes. Padding lanes of the last vector take no part in
// the maximum or the sum and are left 0.
template <typename T>
MAAS_KERNELS_TARGET inline void SoftmaxRow(T* y, std::size_t n) {
  using O = Ops<T>;
  constexpr std::size_t kL = O::kLanes;
  const std::size_t full = n / kL;
  const std::size_t rem = n % kL;
  auto m = O::Set(y[0]);
  for (std::size_t v = 0; v < full; ++v) m = O::Max(m, O::Load(y + v * kL));
  if (rem != 0) m = O::Max(m, O::FillAfter(O::Load(y + full * kL), rem, y[0]));
  const auto mx = O::Set(O::ReduceMax(m));
  auto s = O::Zero();
  for (std::size_t v = 0; v < full; ++v) {
    const auto e = Exp<T>(O::Sub(O::Load(y + v * kL), mx));
    O::Store(y + v * kL, e);
    s = O::Add(s, e);
  }
  if (rem != 0) {
    const auto e = O::KeepFirst(Exp<T>(O::Sub(O::Load(y + full * kL), mx)), rem);
    O::Store(y + full * kL, e);
    s = O::Add(s, e);
  }
  const auto inv = O::Set(T(1) / O::ReduceAdd(s));
  const std::size_t vecs = full + (rem != 0 ? 1 : 0);
  for (std::size_t v = 0; v < vecs; ++v) {
    O::Store(y + v * kL, O::Mul(O::Load(y + v * kL), inv));
  }
}

// FinishRow<T, kAct, kOut>()
//
// Applies softmax if asked, then makes every lane in [kOut, PaddedSize(kOut))
// of the row 0; lanes beyond are not touched. Every count is a compile-time
// constant: no run-time tail loop (GCC 12 reported one, inlined into a wide
// network, as "iteration 4611686018427387903 invokes undefined behavior").
template <typename T, ::maas::Activation kAct, std::size_t kOut>
MAAS_KERNELS_TARGET inline void FinishRow(T* y) {
  using O = Ops<T>;
  constexpr std::size_t kL = O::kLanes;
  constexpr std::size_t kVecs = (kOut + kL - 1) / kL;
  constexpr std::size_t kPadded = ::maas::kernels::PaddedSize<T>(kOut);
  if constexpr (kAct == ::maas::Activation::kSoftmax) SoftmaxRow<T>(y, kOut);
  // Activations with act(0) = 0 keep the zero padding of weights and bias,
  // softmax zeroes its own; the others (sigmoid(0) = 0.5) are masked.
  if constexpr (kOut % kL != 0 && kAct != ::maas::Activation::kSoftmax &&
                !::maas::ActivationOfZeroIsZero(kAct)) {
    constexpr std::size_t v = (kVecs - 1) * kL;
    O::Store(y + v, O::KeepFirst(O::Load(y + v), kOut % kL));
  }
#pragma GCC unroll 16
  for (std::size_t j = kVecs * kL; j < kPadded; j += kL) O::Store(y + j, O::Zero());
}

// Tile<T, kRows, kCols, kSplit, kAct>()
//
// kIn inputs, kRows rows x kCols output vectors, each with kSplit partial sums over the
// inputs (input i goes to partial sum i % kSplit; the inputs after the last
// whole group of kSplit go to sum 0; sums are added pairwise at the end), all
// in registers over the whole input loop: one weight load feeds kRows FMAs,
// one broadcast feeds kCols. The summation order of an output depends only on
// kSplit, so a one-row tile (kRows = 1) and a many-row tile with the same
// kSplit give bit-identical results.
template <typename T, std::size_t kIn, std::size_t kRows, std::size_t kCols,
          std::size_t kSplit, ::maas::Activation kAct>
MAAS_KERNELS_TARGET inline void Tile(const T* w, std::size_t w_stride,
                                     const T* b, const T* x,
                                     std::size_t x_stride, T* y,
                                     std::size_t y_stride, T alpha) {
  using O = Ops<T>;
  using V = typename O::V;
  constexpr std::size_t kL = O::kLanes;
  V acc[kSplit][kRows][kCols];
#pragma GCC unroll 16
  for (std::size_t v = 0; v < kCols; ++v) {
    const V bv = O::Load(b + v * kL);
#pragma GCC unroll 16
    for (std::size_t r = 0; r < kRows; ++r) acc[0][r][v] = bv;
  }
#pragma GCC unroll 16
  for (std::size_t s = 1; s < kSplit; ++s) {
#pragma GCC unroll 16
    for (std::size_t r = 0; r < kRows; ++r) {
#pragma GCC unroll 16
      for (std::size_t v = 0; v < kCols; ++v) acc[s][r][v] = O::Zero();
    }
  }
  constexpr std::size_t kMain = kIn / kSplit * kSplit;
  // The body already holds kSplit x kRows x kCols FMAs; unrolling the input
  // loop further only grows the code.
#pragma GCC unroll 1
  for (std::size_t i = 0; i < kMain; i += kSplit) {
#pragma GCC unroll 16
    for (std::size_t s = 0; s < kSplit; ++s) {
      V wv[kCols];
      const T* wr = w + (i + s) * w_stride;
#pragma GCC unroll 16
      for (std::size_t v = 0; v < kCols; ++v) wv[v] = O::Load(wr + v * kL);
#pragma GCC unroll 16
      for (std::size_t r = 0; r < kRows; ++r) {
        const V xr = O::Set(x[r * x_stride + i + s]);
#pragma GCC unroll 16
        for (std::size_t v = 0; v < kCols; ++v) {
          acc[s][r][v] = O::Fma(xr, wv[v], acc[s][r][v]);
        }
      }
    }
  }
  if constexpr (kMain < kIn) {
    for (std::size_t i = kMain; i < kIn; ++i) {
      V wv[kCols];
      const T* wr = w + i * w_stride;
#pragma GCC unroll 16
      for (std::size_t v = 0; v < kCols; ++v) wv[v] = O::Load(wr + v * kL);
#pragma GCC unroll 16
      for (std::size_t r = 0; r < kRows; ++r) {
        const V xr = O::Set(x[r * x_stride + i]);
#pragma GCC unroll 16
        for (std::size_t v = 0; v < kCols; ++v) {
          acc[0][r][v] = O::Fma(xr, wv[v], acc[0][r][v]);
        }
      }
    }
  }
#pragma GCC unroll 16
  for (std::size_t h = 1; h < kSplit; h *= 2) {
#pragma GCC unroll 16
    for (std::size_t s = 0; s + h < kSplit; s += 2 * h) {
#pragma GCC unroll 16
      for (std::size_t r = 0; r < kRows; ++r) {
#pragma GCC unroll 16
        for (std::size_t v = 0; v < kCols; ++v) {
          acc[s][r][v] = O::Add(acc[s][r][v], acc[s + h][r][v]);
        }
      }
    }
  }
  const V alpha_v = O::Set(alpha);
#pragma GCC unroll 16
  for (std::size_t r = 0; r < kRows; ++r) {
#pragma GCC unroll 16
    for (std::size_t v = 0; v < kCols; ++v) {
      O::Store(y + r * y_stride + v * kL, Activate<T, kAct>(acc[0][r][v], alpha_v));
    }
  }
}

// DenseShape<T, kIn, kOut>
//
// Blocking chosen at compile time from the layer size and the register file
// (kAcc accumulators: 24 of 32 registers, 12 of 16).
//   kSplit     partial sums per output, so that one row has at least 8
//              independent FMA chains (4-cycle latency x 2 FMA ports); at
//              most 8. (For one-vector layers such as 64 -> 8 a cap of 4
//              measured faster in batches, but changes their rounding.)
//   kRowCols   output vectors per block of the one-row path (<= 8 or 4);
//   kTileCols  output vectors per many-row tile: 4 while a panel of kIn x 4
//              vectors fits in 32 KiB of L1, else 2 (kSplit = 1) or fewer;
//   kTileRows  rows per tile, kAcc / (kTileCols * kSplit).
template <typename T, std::size_t kIn, std::size_t kOut>
struct DenseShape {
  static constexpr std::size_t kL = Ops<T>::kLanes;
  static constexpr bool kWide = kVectorRegisters >= 32;
  static constexpr std::size_t kAcc = kWide ? 24 : 12;
  static constexpr std::size_t kVecs = (kOut + kL - 1) / kL;
  static constexpr std::size_t kMaxRowCols = kWide ? 8 : 4;
  static constexpr std::size_t kRowCols = kVecs < kMaxRowCols ? kVecs : kMaxRowCols;
  static constexpr std::size_t kSplit = [] {
    std::size_t s = (8 + kRowCols - 1) / kRowCols;
    s = s > 8 ? 8 : s;
    s = s > kIn ? kIn : s;
    return s < 1 ? std::size_t{1} : s;
  }();
  static constexpr std::size_t kTileCols = [] {
    std::size_t c = kVecs < 4 ? kVecs : 4;
    if (c == 4 && kIn * 4 * kL * sizeof(T) > 32768) c = 2;
    while (c > 1 && c * kSplit > kAcc) --c;
    return c;
  }();
  static constexpr std::size_t kTileRows = [] {
    const std::size_t r = kAcc / (kTileCols * kSplit);
    return r < 1 ? std::size_t{1} : r;
  }();
};

// Dense<T, kIn, kOut, kAct>()
//
// The kernel contract of `maas::kernels::DenseLayer` (kernels.h): for each of
// `rows` rows, y = act(x W + b); `w` has kIn rows of PaddedSize<T>(kOut)
// values and `b` PaddedSize<T>(kOut) values, padding zero; y_stride >=
// PaddedSize<T>(kOut); lanes [kOut, PaddedSize<T>(kOut)) of each output row
// are written as 0, lanes beyond are not touched. Any alignment. x and y must not overlap. A row's result does not
// depend on how many rows are processed with it.
// Real-time safe: no allocation, no locks, no exceptions.
template <typename T, std::size_t kIn, std::size_t kOut, ::maas::Activation kAct>
MAAS_KERNELS_TARGET void Dense(const T* w, const T* b, const T* x,
                               std::size_t x_stride, T* y,
                               std::size_t y_stride, std::size_t rows,
                               T alpha) noexcept {
  using S = DenseShape<T, kIn, kOut>;
  constexpr std::size_t kL = S::kL;
  constexpr std::size_t kStride = ::maas::kernels::PaddedSize<T>(kOut);
  constexpr ::maas::Activation kTileAct =
      kAct == ::maas::Activation::kSoftmax ? ::maas::Activation::kIdentity : kAct;
  constexpr std::size_t kSplit = S::kSplit;
  constexpr std::size_t kR = S::kTileRows;
  constexpr std::size_t kC = S::kTileCols;
  constexpr std::size_t kFullCols = S::kVecs / kC;
  constexpr std::size_t kRestCols = S::kVecs % kC;
  const std::size_t tiled = kR > 1 ? rows / kR * kR : 0;
  if (tiled != 0) {
    for (std::size_t c = 0; c < kFullCols; ++c) {
      for (std::size_t r = 0; r < tiled; r += kR) {
        Tile<T, kIn, kR, kC, kSplit, kTileAct>(
            w + c * kC * kL, kStride, b + c * kC * kL, x + r * x_stride,
            x_stride, y + r * y_stride + c * kC * kL, y_stride, alpha);
      }
    }
    if constexpr (kRestCols != 0) {
      for (std::size_t r = 0; r < tiled; r += kR) {
        Tile<T, kIn, kR, kRestCols, kSplit, kTileAct>(
            w + kFullCols * kC * kL, kStride, b + kFullCols * kC * kL,
            x + r * x_stride, x_stride,
            y + r * y_stride + kFullCols * kC * kL, y_stride, alpha);
      }
    }
  }
  constexpr std::size_t kRC = S::kRowCols;
  constexpr std::size_t kRowFull = S::kVecs / kRC;
  constexpr std::size_t kRowRest = S::kVecs % kRC;
  for (std::size_t r = tiled; r < rows; ++r) {
    const T* xr = x + r * x_stride;
    T* yr = y + r * y_stride;
    for (std::size_t c = 0; c < kRowFull; ++c) {
      Tile<T, kIn, 1, kRC, kSplit, kTileAct>(w + c * kRC * kL, kStride,
                                             b + c * kRC * kL, xr, 0,
                                             yr + c * kRC * kL, 0, alpha);
    }
    if constexpr (kRowRest != 0) {
      Tile<T, kIn, 1, kRowRest, kSplit, kTileAct>(
          w + kRowFull * kRC * kL, kStride, b + kRowFull * kRC * kL, xr, 0,
          yr + kRowFull * kRC * kL, 0, alpha);
    }
  }
  for (std::size_t r = 0; r < rows; ++r) {
    FinishRow<T, kAct, kOut>(y + r * y_stride);
  }
}
