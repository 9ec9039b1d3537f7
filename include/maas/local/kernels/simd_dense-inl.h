// -----------------------------------------------------------------------------
// File: local/kernels/simd_dense-inl.h
// -----------------------------------------------------------------------------
//
// The SIMD dense-layer algorithm shared by every vector ISA file (and by the
// one-lane portable file). Deliberately has no include guard: `avx2.h`,
// `avx512.h`, `neon.h` and `portable.h` each include it inside their own
// namespace (`maas::kernels::avx2`, ...) after defining
//
//   - `Ops<T>` for T = float and double: the vector type `V`, `kLanes`, and
//     static functions Zero, Set, Load, LoadPartial(p, n) (lanes [0, n),
//     n < kLanes, the rest 0, reading nothing beyond p + n), Store
//     (unaligned), Add, Sub, Mul (never fused with a following Add or Sub by
//     the compiler: see MAAS_KERNELS_OPAQUE), Div, Fma (a * b + c, fused),
//     Max, Min (for the operand orders used here - clamps Max(c, v) and
//     Min(c, v) with a constant c first, Max(v, 0), Min(0, v) - every ISA
//     gives the same result, and a clamp of a NaN v is NaN), Relu(v) =
//     v < 0 ? +0 : v (NaN and -0 pass through unchanged), Abs,
//     CopySign(magnitude, sign source), SelectLess(a, b, t, f) = a < b ? t :
//     f, KeepFirst(v, n) (lanes >= n become 0), FillAfter(v, n, value),
//     StorePartial(p, v, n) (lanes [0, n), n < kLanes, writing nothing
//     beyond), MaxAll and SumAll (the maximum / sum of the lanes in every
//     lane), MaxAllFirst(v, n) and SumAllFirst(v, n) (the same in lanes
//     [0, n) when lanes [n, kLanes) hold a value no greater than the
//     maximum / +0, skipping the butterfly levels that only combine those;
//     the other lanes unspecified), DivFirst(a, b, n) (a / b in lanes
//     [0, n), 0 in the others, whose a must be 0, with no 0 / 0 there),
//     PairAdd(a, b) = [a0+a1, a2+a3, ..., b0+b1, ...], kBlockLanes (lanes
//     per 128-bit block), Block<b>(v) (block b of v copied to every block),
//     Within<k>(q) (lane k of each block copied to its whole block), and
//     ShiftToExponent(t) (bit pattern shifted left by the mantissa width);
//   - `kVectorRegisters`, the number of architectural vector registers;
//   - the macro `MAAS_KERNELS_TARGET`, the function attribute that enables the
//     ISA (GCC/Clang `target(...)`), or nothing.
//
// so every function below is compiled once per ISA under its own namespace
// (no ODR clash between bodies built for different instruction sets).
// It must not include anything: the including file provides <cstddef>,
// <cstring>, `layout.h`, `network_view.h`, `activation_kind.h` and
// `math_constants.h`.
//
// Algorithm, per layer, as planned by PlanLayer() (layout.h explains the two
// weight layouts):
//   - kColumns, one row at a time (latency): the outputs are cut into blocks
//     of 16 vectors where one partial sum leaves the registers for them
//     (WideRowCols), then of at most 8 (4 with 16 registers) vectors, then
//     the rest; each output keeps `split` independent partial sums over
//     the inputs so that at least 8 FMAs are in flight, hiding the FMA
//     latency; partial sums are added pairwise at the
//     end; the inputs are loaded a vector at a time and spread by shuffles
//     (ColChunk), leaving the load ports to the weights;
//   - kColumns, many rows (throughput): a register tile of kRows rows x kCols
//     vectors (each with the same partial sums, so results are bit-identical
//     to the one-row path) reuses each loaded weight vector for kRows rows
//     and each broadcast input for kCols vectors; column panels are the
//     outer loop so a panel of weights stays in L1 while all row tiles pass
//     over it. Rows that do not fill a tile use the one-row path;
//   - kRows (narrow layers): each output is a dot product of the input row,
//     loaded as vectors once and reused by every output, with its weight row;
//     `split` partial sums per output over the input vectors, then one
//     pairwise horizontal sum (HorizontalSums) for all outputs of a row at
//     once; tiles of several rows share each weight vector.
// Softmax is applied per row after all columns, with the padding lanes
// excluded from the maximum and the sum; every lane in [n_out,
// PaddedSize(n_out)) is written as 0, lanes beyond are not touched.
//
// Numerics::kReproducible plans kColumns with 4 partial sums everywhere and
// runs softmax's maximum and sum one element at a time; all other
// operations are lane-wise and identical on every ISA, so the bits do not
// depend on the vector width.

// MAAS_KERNELS_FORCE_INLINE: the vector math below (polynomials, exp,
// activations) is always inlined into the tiles that use it. Left to its
// heuristics, GCC 12 calls Tanh and PolyFirst out of line in -march=native
// builds: a call per vector, its constants reloaded, and no overlap of the
// independent evaluations of one row. Defined for this file only.
// MAAS_KERNELS_FLATTEN: the one-row forward pass inlines everything it
// calls (tiles, activations, vector operations), so the layers' sizes are
// constants in every loop and nothing is passed through memory between
// functions.
#if defined(__GNUC__) || defined(__clang__)
#define MAAS_KERNELS_FORCE_INLINE inline __attribute__((always_inline))
#define MAAS_KERNELS_FLATTEN __attribute__((noinline, flatten))
#else
#define MAAS_KERNELS_FORCE_INLINE inline
#define MAAS_KERNELS_FLATTEN
#endif

// EstrinLevel<T, kN>()
//
// One level of Estrin's scheme over q[0, kN): q[k] = q[2k] + q[2k+1] * power,
// then the next level with power^2, until one value is left. Compile-time
// recursion, so every level is straight-line code.
template <typename T, std::size_t kN>
MAAS_KERNELS_TARGET MAAS_KERNELS_FORCE_INLINE void EstrinLevel(typename Ops<T>::V* q,
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
MAAS_KERNELS_TARGET MAAS_KERNELS_FORCE_INLINE typename Ops<T>::V PolyFirst(typename Ops<T>::V r,
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
MAAS_KERNELS_TARGET MAAS_KERNELS_FORCE_INLINE typename Ops<T>::V Poly(typename Ops<T>::V r,
                                                   const U (&c)[kN]) {
  return PolyFirst<T, kN>(r, c);
}

// PolyChoose()
//
// Poly with coefficients a[k] in the lanes where `pick_a` < `limit` and b[k]
// elsewhere (two fits of one function on two intervals, one evaluation).
template <typename T, typename U, std::size_t kN>
MAAS_KERNELS_TARGET MAAS_KERNELS_FORCE_INLINE typename Ops<T>::V PolyChoose(
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
MAAS_KERNELS_TARGET MAAS_KERNELS_FORCE_INLINE typename Ops<T>::V Exp(typename Ops<T>::V x) {
  using O = Ops<T>;
  using C = ::maas::kernels::detail::MathConstants<T>;
  // Constant first: x86's max / min return their second operand when either
  // is NaN, so a NaN x stays NaN (and so does e^x).
  x = O::Min(O::Set(C::kExpMax), O::Max(O::Set(C::kExpMin), x));
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
MAAS_KERNELS_TARGET MAAS_KERNELS_FORCE_INLINE typename Ops<T>::V Expm1(typename Ops<T>::V x) {
  using O = Ops<T>;
  using C = ::maas::kernels::detail::MathConstants<T>;
  namespace d = ::maas::kernels::detail;
  const auto limit = O::Set(static_cast<T>(d::kExpm1Small));
  const auto big = O::Sub(Exp<T>(x), O::Set(T(1)));
  // The series on x clamped to its interval (the same x where it is used):
  // elsewhere x^kExpm1Terms would overflow (and raise the flag) for
  // |x| > ~1e4, in a lane that is then discarded. Constant first: NaN stays.
  const auto xs = O::Min(limit, O::Max(O::Sub(O::Zero(), limit), x));
  const auto small = O::Mul(xs, PolyFirst<T, C::kExpm1Terms>(xs, d::kExpm1Coeff));
  return O::SelectLess(O::Abs(x), limit, small, big);
}

// Log1p()
//
// Vector log(1 + u) for u in [0, 1]: 2 atanh(u / (2 + u)) as a series in
// s^2 <= 1/9, accurate relative to the result for tiny u too.
template <typename T>
MAAS_KERNELS_TARGET MAAS_KERNELS_FORCE_INLINE typename Ops<T>::V Log1p01(typename Ops<T>::V u) {
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
MAAS_KERNELS_TARGET MAAS_KERNELS_FORCE_INLINE typename Ops<T>::V Sigmoid(typename Ops<T>::V x) {
  using O = Ops<T>;
  const auto one = O::Set(T(1));
  return O::Div(one, O::Add(one, Exp<T>(O::Sub(O::Zero(), x))));
}

// Tanh()
//
// With |x| = -n ln 2 / 2 + r (|r| <= ln 2 / 4) and e^(-2r) = (D - rN) /
// (D + rN), the Pade form (D, N: polynomials in s = r^2, math_constants.h),
// u = e^(-2|x|) = 2^n (D - rN) / (D + rN), a = 1 - 2^n, b = 1 + 2^n (exact
// for the n that matter, n >= -52) and N = D - sP:
//
//   tanh|x| = (1 - u) / (1 + u) = (D a + rN b) / (D b + rN a)
//           = (D (a + rb) - rb s P) / (D (b + ra) - ra s P),
//
// then the sign of x. One formula for every |x|; below |x| = ln 2 / 4, n = 0,
// a = 0 and it is r - r s P / D (tanh's own Pade form): the rounding of D
// cancels in the quotient and that of the small term r s P barely counts,
// so the result is accurate relative to itself near 0. Latency: a clamp,
// the reduction (one FMA: its error of up to |n| ulp(ln 2 / 2) in r moves u
// by that much relative, below 0.2 ulp of the result for every n), two
// short polynomials, one product, one FMA, one division, the sign.
template <typename T>
MAAS_KERNELS_TARGET MAAS_KERNELS_FORCE_INLINE typename Ops<T>::V Tanh(typename Ops<T>::V x) {
  using O = Ops<T>;
  using C = ::maas::kernels::detail::MathConstants<T>;
  // |x|, clamped so that 2^n stays normal; constant first: NaN stays NaN.
  const auto ax = O::Min(O::Set(-C::kExpMin / 2), O::Abs(x));
  const auto magic = O::Set(C::kRoundMagic);
  const auto t = O::Fma(ax, O::Set(-2 * C::kLog2e), magic);  // magic + round(-2|x| log2 e)
  const auto n = O::Sub(t, magic);
  const auto r = O::Fma(n, O::Set(C::kLn2Half), ax);
  const auto s = O::Mul(r, r);
  const auto den = PolyFirst<T, C::kTanhDenTerms>(s, C::kTanhDen);
  const auto minus_p = PolyFirst<T, C::kTanhMinusPTerms>(s, C::kTanhMinusP);
  const auto scale = O::ShiftToExponent(O::Add(t, O::Set(C::kExponentBias)));
  const auto one = O::Set(T(1));
  const auto a = O::Sub(one, scale);
  const auto b = O::Add(one, scale);
  const auto rb = O::Mul(r, b);
  const auto ra = O::Mul(r, a);
  const auto top = O::Fma(den, a, O::Fma(rb, den, O::Mul(O::Mul(rb, s), minus_p)));
  const auto bottom = O::Fma(den, b, O::Fma(ra, den, O::Mul(O::Mul(ra, s), minus_p)));
  return O::CopySign(O::Div(top, bottom), x);
}

// Gelu()
//
// x Phi(x) = x/2 erfc(z), z = -x / sqrt 2, with erfc(z) = E or 2 - E for
// z >= 0 or < 0 and E = erfc(|z|) = exp(-t^2) g(t): the negative tail keeps
// its relative accuracy (no 1 + erf cancellation). t^2 is split into
// hi + lo (exact) so that exp(-t^2) = exp(-hi) (1 - lo) is accurate for
// large t. See math_constants.h for g.
template <typename T>
MAAS_KERNELS_TARGET MAAS_KERNELS_FORCE_INLINE typename Ops<T>::V Gelu(typename Ops<T>::V x) {
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
// one exp and one division, no cancellation in either tail. y is computed
// from x clamped to +-kGeluTanhClamp, where |2y| is already far beyond exp's
// clamp (the same result), so that x^3 never overflows.
template <typename T>
MAAS_KERNELS_TARGET MAAS_KERNELS_FORCE_INLINE typename Ops<T>::V GeluTanh(typename Ops<T>::V x) {
  using O = Ops<T>;
  namespace d = ::maas::kernels::detail;
  const auto one = O::Set(T(1));
  const auto xc = O::Min(O::Set(static_cast<T>(d::kGeluTanhClamp)),
                         O::Max(O::Set(static_cast<T>(-d::kGeluTanhClamp)), x));
  const auto inner = O::Fma(O::Set(static_cast<T>(d::kGeluCubic)), O::Mul(xc, xc), one);
  const auto y2 = O::Mul(O::Mul(xc, O::Set(static_cast<T>(-2 * d::kSqrt2OverPi))), inner);
  return O::Div(x, O::Add(one, Exp<T>(y2)));
}

// Activate()
//
// The element-wise activations (alpha: leaky ReLU's and ELU's parameter,
// broadcast); softmax (a row operation) passes through. Comparisons with 0
// are written Max(v, 0) and Min(0, v): with those operand orders x86 and
// AArch64 agree on the sign of a zero result.
template <typename T, ::maas::Activation kAct>
MAAS_KERNELS_TARGET MAAS_KERNELS_FORCE_INLINE typename Ops<T>::V Activate(typename Ops<T>::V v,
                                                      typename Ops<T>::V alpha) {
  using O = Ops<T>;
  using A = ::maas::Activation;
  if constexpr (kAct == A::kRelu) {
    return O::Relu(v);
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
    return O::Fma(alpha, O::Min(O::Zero(), v), O::Max(v, O::Zero()));
  } else if constexpr (kAct == A::kElu) {
    return O::SelectLess(O::Zero(), v, v,
                         O::Mul(alpha, Expm1<T>(O::Min(O::Zero(), v))));
  } else {
    (void)alpha;
    return v;
  }
}

// SoftmaxRow()
//
// In-place stable softmax over y[0, n), n >= 1; y must hold whole vectors up
// to n rounded up to kLanes. Padding lanes of the last vector take no part in
// the maximum or the sum and are left 0. Reproducible mode: the maximum and
// the sum are taken one element at a time, in order (the same on every ISA);
// the exponentials and the scaling are lane-wise.
template <typename T, ::maas::Numerics kNum>
MAAS_KERNELS_TARGET inline void SoftmaxRow(T* y, std::size_t n) {
  using O = Ops<T>;
  constexpr std::size_t kL = O::kLanes;
  const std::size_t full = n / kL;
  const std::size_t rem = n % kL;
  const std::size_t vecs = full + (rem != 0 ? 1 : 0);
  typename O::V inv;
  if constexpr (kNum == ::maas::Numerics::kReproducible) {
    T m = y[0];
    for (std::size_t j = 1; j < n; ++j) m = y[j] > m ? y[j] : m;
    const auto mx = O::Set(m);
    for (std::size_t v = 0; v < vecs; ++v) {
      const auto e = Exp<T>(O::Sub(O::Load(y + v * kL), mx));
      O::Store(y + v * kL, v < full ? e : O::KeepFirst(e, rem));
    }
    T sum = y[0];
    for (std::size_t j = 1; j < n; ++j) sum = sum + y[j];
    inv = O::Set(T(1) / sum);
  } else if (n <= kL) {
    // One vector (a classifier's few classes): kept in a register, no store
    // and reload between the steps; the reductions skip the butterfly levels
    // whose partner lanes are all padding (the same sum: those add +0), and
    // e / sum is one rounding instead of two.
    const auto z = O::Load(y);
    const auto mx = O::MaxAllFirst(O::FillAfter(z, n, y[0]), n);
    const auto e = O::KeepFirst(Exp<T>(O::Sub(z, mx)), n);
    O::Store(y, O::DivFirst(e, O::SumAllFirst(e, n), n));
    return;
  } else {
    auto m = O::Set(y[0]);
    for (std::size_t v = 0; v < full; ++v) m = O::Max(m, O::Load(y + v * kL));
    if (rem != 0) m = O::Max(m, O::FillAfter(O::Load(y + full * kL), rem, y[0]));
    const auto mx = O::MaxAll(m);
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
    inv = O::Div(O::Set(T(1)), O::SumAll(s));
  }
  for (std::size_t v = 0; v < vecs; ++v) {
    O::Store(y + v * kL, O::Mul(O::Load(y + v * kL), inv));
  }
}

// FinishRow<T, kAct, kNum>()
//
// Applies softmax if asked, then makes every lane in [n, PaddedSize(n)) of
// the row 0; lanes beyond are not touched. No scalar tail loop (GCC 12
// reported one, inlined into a wide network, as "iteration
// 4611686018427387903 invokes undefined behavior").
template <typename T, ::maas::Activation kAct, ::maas::Numerics kNum>
MAAS_KERNELS_TARGET inline void FinishRow(T* y, std::size_t n) {
  using O = Ops<T>;
  constexpr std::size_t kL = O::kLanes;
  const std::size_t vecs = (n + kL - 1) / kL;
  const std::size_t padded = ::maas::kernels::PaddedSize<T>(n);
  if constexpr (kAct == ::maas::Activation::kSoftmax) SoftmaxRow<T, kNum>(y, n);
  // Activations with act(0) = 0 keep the zero padding of weights and bias,
  // softmax zeroes its own; the others (sigmoid(0) = 0.5) are masked.
  if constexpr (kAct != ::maas::Activation::kSoftmax &&
                !::maas::ActivationOfZeroIsZero(kAct)) {
    if (n % kL != 0) {
      T* last = y + (vecs - 1) * kL;
      O::Store(last, O::KeepFirst(O::Load(last), n % kL));
    }
  }
  for (std::size_t v = vecs; v < padded / kL; ++v) O::Store(y + v * kL, O::Zero());
}

// HorizontalSums<T, kN>()
//
// A vector whose lane j (< kN <= kLanes) is the sum of the lanes of acc[j],
// by a tree of PairAdd: pairs of vectors first (their lanes stay in order),
// then the one vector left with itself. The order of the additions is fixed
// for each kN, which is all the one-row and many-row paths need to agree.
template <typename T, std::size_t kN>
MAAS_KERNELS_TARGET inline typename Ops<T>::V HorizontalSums(const typename Ops<T>::V* acc) {
  using O = Ops<T>;
  using V = typename O::V;
  constexpr std::size_t kL = O::kLanes;
  static_assert(kN >= 1 && kN <= kL, "HorizontalSums: 1 <= kN <= kLanes");
  V v[kN];
  for (std::size_t k = 0; k < kN; ++k) v[k] = acc[k];
  std::size_t count = kN;
  std::size_t group = kL;  // lanes per vector still to be summed
  while (count > 1) {
    const std::size_t half = (count + 1) / 2;
    for (std::size_t k = 0; k < half; ++k) {
      v[k] = 2 * k + 1 < count ? O::PairAdd(v[2 * k], v[2 * k + 1])
                               : O::PairAdd(v[2 * k], O::Zero());
    }
    count = half;
    group /= 2;
  }
  // One vector: kN' = kL / group sums of `group` lanes each, in order.
  for (; group > 1; group /= 2) v[0] = O::PairAdd(v[0], v[0]);
  return v[0];
}

// kAcc
//
// Accumulator registers a tile may use: 24 of 32 vector registers, 12 of 16.
inline constexpr std::size_t kAcc = kVectorRegisters >= 32 ? 24 : 12;
// Output vectors per block of the one-row kColumns path.
inline constexpr std::size_t kMaxRowCols = kVectorRegisters >= 32 ? 8 : 4;
// WideRowCols<kSplit>(): the wider one-row block used first, where the
// registers allow it (one partial sum, 32 registers: 16 accumulators and the
// spread inputs), 0 where not. A 256-wide float layer's row of weights is
// then read front to back, 1 KiB at a time, instead of in two 512-byte
// halves 1 KiB apart: the large network at batch 1 reads its 528 KiB from
// L2 at the L2 bandwidth on AMD Zen 5 (3.0 -> 2.1 us) where the strided
// halves reached two thirds of it. The summation order of an output does
// not depend on the block width (ColTile), so the bits are the same.
template <std::size_t kSplit>
constexpr std::size_t WideRowCols() {
  return kVectorRegisters >= 32 && kSplit == 1 ? 2 * kMaxRowCols : 0;
}

constexpr std::size_t Pow2Ceil(std::size_t n) {
  std::size_t p = 1;
  while (p < n) p *= 2;
  return p;
}
constexpr std::size_t Pow2Floor(std::size_t n) {
  std::size_t p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

// PlanLayer<T>()
//
// The plan of an n_in -> n_out layer on this ISA (layout.h):
//   reproducible: kColumns, 4 partial sums (the same on every ISA);
//   kRows when the outputs fill at most half a vector and there are at
//   least two input vectors: partial sums so that outputs x sums >= 8;
//   kColumns otherwise: partial sums so that the one-row block (up to
//   kMaxRowCols vectors) has >= 8 chains.
// Sums are powers of two, at most 8, and at most the number of inputs (or
// input vectors).
template <typename T>
constexpr ::maas::kernels::LayerPlan PlanLayer(std::size_t n_in, std::size_t n_out,
                                               ::maas::Numerics numerics) {
  using ::maas::kernels::Layout;
  constexpr std::size_t kL = Ops<T>::kLanes;
  if (numerics == ::maas::Numerics::kReproducible) return {Layout::kColumns, 4};
  if (kL >= 4 && 2 * n_out <= kL && n_in >= 2 * kL) {
    const std::size_t vin = (n_in + kL - 1) / kL;
    std::size_t split = Pow2Ceil((8 + n_out - 1) / n_out);
    split = split > 8 ? 8 : split;
    const std::size_t cap = Pow2Floor(vin);
    return {Layout::kRows, split > cap ? cap : split};
  }
  const std::size_t vecs = (n_out + kL - 1) / kL;
  const std::size_t row_cols = vecs < kMaxRowCols ? vecs : kMaxRowCols;
  std::size_t split = Pow2Ceil((8 + row_cols - 1) / row_cols);
  split = split > 8 ? 8 : split;
  const std::size_t cap = Pow2Floor(n_in);
  return {Layout::kColumns, split > cap ? cap : split};
}

// BatchTileCols<T>(), BatchTileRows()
//
// The register tile of the many-row kColumns path: BatchTileRows(cols,
// split) rows (accumulators / (cols x partial sums)) x `cols` output
// vectors. Two vectors when that leaves room for at least four rows (each
// weight vector loaded once per 4+ rows; with 32 registers and two partial
// sums, 6 rows x 2 vectors ran the 16-64-64-8 network at batch 1024 at
// 79 % of the FMA peak on Zen 4 against 68 % for 3 rows x 4 vectors), else
// four while a panel of n_in x 4 vectors fits in 32 KiB of L1 and the tile
// holds two rows, else two, else one. Never a width of one row when another
// width holds two: a one-row tile is no tiling at all (every row on the
// one-row path; the AVX2 kernel did that for every layer of four or more
// vectors with two partial sums: 47 % of the peak at batch 1024).
constexpr std::size_t BatchTileRows(std::size_t cols, std::size_t split) {
  return kAcc / (cols * split);
}
template <typename T>
constexpr std::size_t BatchTileCols(std::size_t n_in, std::size_t vecs, std::size_t split) {
  if (vecs >= 2 && BatchTileRows(2, split) >= 4) return 2;
  if (vecs >= 4 && n_in * 4 * Ops<T>::kLanes * sizeof(T) <= 32768 &&
      BatchTileRows(4, split) >= 2) {
    return 4;
  }
  if (vecs >= 2 && BatchTileRows(2, split) >= 2) return 2;
  return 1;
}

// ---------------------------------------------------------------------------
// kColumns

// AddPartialSums<T, kSplit, kRows, kCols>()
//
// acc[0][r][c] = the sum of acc[s][r][c] over s < kSplit, added pairwise
// (s and s + h for h = 1, 2, 4, ...): the order the plans document. Each
// level is its own instantiation, so the whole tree is straight-line code
// and the sums stay in registers.
template <typename T, std::size_t kSplit, std::size_t kRows, std::size_t kCols,
          std::size_t kH = 1>
MAAS_KERNELS_TARGET MAAS_KERNELS_FORCE_INLINE void AddPartialSums(
    typename Ops<T>::V (&acc)[kSplit][kRows][kCols]) {
  if constexpr (kH < kSplit) {
#pragma GCC unroll 16
    for (std::size_t s = 0; s + kH < kSplit; s += 2 * kH) {
#pragma GCC unroll 16
      for (std::size_t r = 0; r < kRows; ++r) {
#pragma GCC unroll 16
        for (std::size_t c = 0; c < kCols; ++c) {
          acc[s][r][c] = Ops<T>::Add(acc[s][r][c], acc[s + kH][r][c]);
        }
      }
    }
    AddPartialSums<T, kSplit, kRows, kCols, 2 * kH>(acc);
  }
}

// ColSpread<T, kK, kN>(): xs[k] = lane k of every block of q, k in [kK, kN).
template <typename T, std::size_t kK, std::size_t kN>
MAAS_KERNELS_TARGET MAAS_KERNELS_FORCE_INLINE void ColSpread(typename Ops<T>::V q,
                                                             typename Ops<T>::V* xs) {
  if constexpr (kK < kN) {
    xs[kK] = Ops<T>::template Within<kK>(q);
    ColSpread<T, kK + 1, kN>(q, xs);
  }
}

// ColChunk<T, kCols, kSplit, kBlock>()
//
// The one-row ColTile's multiply-adds for the kLanes inputs held in `xv`
// (x[i, i + kLanes), i a multiple of kLanes; `w` points at weight row i),
// from block kBlock on: each input is spread over a vector by two
// in-register shuffles (Block, then Within) instead of a broadcast load, so
// the weights have the load ports to themselves (the one-row layer is
// otherwise bound by loads: one per weight vector plus one per input). The
// same multiply-adds in the same order as the broadcast form: the same bits.
template <typename T, std::size_t kCols, std::size_t kSplit, std::size_t kBlock>
MAAS_KERNELS_TARGET MAAS_KERNELS_FORCE_INLINE void ColChunk(
    typename Ops<T>::V xv, const T* w, std::size_t w_stride,
    typename Ops<T>::V (&acc)[kSplit][1][kCols]) {
  using O = Ops<T>;
  constexpr std::size_t kL = O::kLanes;
  constexpr std::size_t kB = O::kBlockLanes;
  const typename O::V q = O::template Block<kBlock>(xv);
  typename O::V xs[kB];
  ColSpread<T, 0, kB>(q, xs);
#pragma GCC unroll 16
  for (std::size_t k = 0; k < kB; ++k) {
    const std::size_t s = (kBlock * kB + k) % kSplit;
    const T* wr = w + (kBlock * kB + k) * w_stride;
#pragma GCC unroll 16
    for (std::size_t v = 0; v < kCols; ++v) {
      acc[s][0][v] = O::Fma(xs[k], O::Load(wr + v * kL), acc[s][0][v]);
    }
  }
  if constexpr ((kBlock + 1) * kB < kL) {
    ColChunk<T, kCols, kSplit, kBlock + 1>(xv, w, w_stride, acc);
  }
}

// ColTile<T, kRows, kCols, kSplit, kAct>()
//
// n_in inputs, kRows rows x kCols output vectors, each with kSplit partial
// sums over the inputs (input i goes to partial sum i % kSplit; the inputs
// after the last whole group of kSplit go to sum 0; sums are added pairwise
// at the end), all in registers over the whole input loop: one weight load
// feeds kRows FMAs, one broadcast feeds kCols. The summation order of an
// output depends only on kSplit, so a one-row tile (kRows = 1) and a
// many-row tile with the same kSplit give bit-identical results.
template <typename T, std::size_t kRows, std::size_t kCols, std::size_t kSplit,
          ::maas::Activation kAct>
MAAS_KERNELS_TARGET inline void ColTile(std::size_t n_in, const T* w,
                                        std::size_t w_stride, const T* b,
                                        const T* x, std::size_t x_stride, T* y,
                                        std::size_t y_stride,
                                        typename Ops<T>::V alpha) {
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
  const std::size_t main = n_in / kSplit * kSplit;
  // One row: whole vectors of inputs spread in registers (ColChunk), when
  // the accumulators leave registers for the vector and its spread lanes
  // (otherwise the spills cost more than the loads saved). Input i still
  // goes to partial sum i % kSplit (kSplit divides kLanes).
  std::size_t start = 0;
  if constexpr (kRows == 1 && kL > 1 && kL % kSplit == 0 &&
                kSplit * kCols + O::kBlockLanes + 2 <= kVectorRegisters) {
    start = n_in / kL * kL;
#pragma GCC unroll 1
    for (std::size_t i = 0; i < start; i += kL) {
      ColChunk<T, kCols, kSplit, 0>(O::Load(x + i), w + i * w_stride, w_stride, acc);
    }
  }
  // The body already holds kSplit x kRows x kCols FMAs; unrolling the input
  // loop further only grows the code.
#pragma GCC unroll 1
  for (std::size_t i = start; i < main; i += kSplit) {
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
#pragma GCC unroll 1
  for (std::size_t i = main; i < n_in; ++i) {
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
  AddPartialSums<T, kSplit, kRows, kCols>(acc);
#pragma GCC unroll 16
  for (std::size_t r = 0; r < kRows; ++r) {
#pragma GCC unroll 16
    for (std::size_t v = 0; v < kCols; ++v) {
      O::Store(y + r * y_stride + v * kL, Activate<T, kAct>(acc[0][r][v], alpha));
    }
  }
}

// ColRowRest<>(): the last `rest` (< kMaxRowCols) vectors of one row.
template <typename T, std::size_t kSplit, ::maas::Activation kAct, std::size_t kC = 1>
MAAS_KERNELS_TARGET inline void ColRowRest(std::size_t rest, std::size_t n_in, const T* w,
                                           std::size_t w_stride, const T* b,
                                           const T* x, T* y,
                                           typename Ops<T>::V alpha) {
  if constexpr (kC < kMaxRowCols) {
    if (rest == kC) {
      ColTile<T, 1, kC, kSplit, kAct>(n_in, w, w_stride, b, x, 0, y, 0, alpha);
    } else {
      ColRowRest<T, kSplit, kAct, kC + 1>(rest, n_in, w, w_stride, b, x, y, alpha);
    }
  }
}

// ColBatchRest<>(): the last `rest` (< kC) vectors of a block of tiled rows.
template <typename T, std::size_t kSplit, ::maas::Activation kAct, std::size_t kR,
          std::size_t kCMax, std::size_t kC = 1>
MAAS_KERNELS_TARGET inline void ColBatchRest(std::size_t rest, std::size_t n_in,
                                             const T* w, std::size_t w_stride,
                                             const T* b, const T* x,
                                             std::size_t x_stride, T* y,
                                             std::size_t y_stride, std::size_t tiled,
                                             typename Ops<T>::V alpha) {
  if constexpr (kC < kCMax) {
    if (rest == kC) {
      for (std::size_t r = 0; r < tiled; r += kR) {
        ColTile<T, kR, kC, kSplit, kAct>(n_in, w, w_stride, b, x + r * x_stride,
                                         x_stride, y + r * y_stride, y_stride, alpha);
      }
    } else {
      ColBatchRest<T, kSplit, kAct, kR, kCMax, kC + 1>(rest, n_in, w, w_stride, b, x,
                                                       x_stride, y, y_stride, tiled, alpha);
    }
  }
}

// ColumnsBatch<T, kAct, kSplit, kC>(): the whole tiles of kR rows x kC
// vectors (column panels outside, row tiles inside); returns the rows done.
template <typename T, ::maas::Activation kAct, std::size_t kSplit, std::size_t kC>
MAAS_KERNELS_TARGET inline std::size_t ColumnsBatch(const T* w, const T* b,
                                                    std::size_t n_in, std::size_t vecs,
                                                    std::size_t w_stride,
                                                    const T* x, std::size_t x_stride, T* y,
                                                    std::size_t y_stride, std::size_t rows,
                                                    typename Ops<T>::V alpha) {
  constexpr std::size_t kL = Ops<T>::kLanes;
  constexpr std::size_t kR = BatchTileRows(kC, kSplit) > 0 ? BatchTileRows(kC, kSplit) : 1;
  if constexpr (kR <= 1) {
    (void)w, (void)b, (void)n_in, (void)vecs, (void)w_stride, (void)x, (void)x_stride;
    (void)y, (void)y_stride, (void)rows, (void)alpha;
    return 0;
  } else {
    const std::size_t tiled = rows / kR * kR;
    if (tiled == 0) return 0;
    const std::size_t full = vecs / kC;
    for (std::size_t c = 0; c < full; ++c) {
      for (std::size_t r = 0; r < tiled; r += kR) {
        ColTile<T, kR, kC, kSplit, kAct>(n_in, w + c * kC * kL, w_stride, b + c * kC * kL,
                                         x + r * x_stride, x_stride,
                                         y + r * y_stride + c * kC * kL, y_stride, alpha);
      }
    }
    const std::size_t done = full * kC * kL;
    ColBatchRest<T, kSplit, kAct, kR, kC>(vecs % kC, n_in, w + done, w_stride, b + done, x,
                                          x_stride, y + done, y_stride, tiled, alpha);
    return tiled;
  }
}

// DenseColumns<T, kAct, kSplit>()
//
// The kColumns layer: tiles of rows, then the remaining rows one at a time.
// No FinishRow (the caller applies it).
template <typename T, ::maas::Activation kAct, std::size_t kSplit>
MAAS_KERNELS_TARGET inline void DenseColumns(const T* w, const T* b, std::size_t n_in,
                                             std::size_t n_out, const T* x,
                                             std::size_t x_stride, T* y,
                                             std::size_t y_stride, std::size_t rows,
                                             T alpha) {
  using O = Ops<T>;
  constexpr std::size_t kL = O::kLanes;
  const auto alpha_v = O::Set(alpha);
  // Weight rows are padded to 64 bytes: PaddedSize / kL vectors, of which
  // the first `vecs` hold outputs.
  const std::size_t vecs = (n_out + kL - 1) / kL;
  const std::size_t w_stride = ::maas::kernels::PaddedSize<T>(n_out);
  std::size_t tiled = 0;
  if (rows > 1) {
    const std::size_t cols = BatchTileCols<T>(n_in, vecs, kSplit);
    if (cols == 4) {
      tiled = ColumnsBatch<T, kAct, kSplit, 4>(w, b, n_in, vecs, w_stride, x, x_stride, y,
                                               y_stride, rows, alpha_v);
    } else if (cols == 2) {
      tiled = ColumnsBatch<T, kAct, kSplit, 2>(w, b, n_in, vecs, w_stride, x, x_stride, y,
                                               y_stride, rows, alpha_v);
    } else {
      tiled = ColumnsBatch<T, kAct, kSplit, 1>(w, b, n_in, vecs, w_stride, x, x_stride, y,
                                               y_stride, rows, alpha_v);
    }
  }
  // Rows outside the tiles, one at a time: blocks of WideRowCols vectors,
  // then of kMaxRowCols, then the rest (as ColRowBlocks).
  constexpr std::size_t kWide = WideRowCols<kSplit>();
  const std::size_t wide = kWide != 0 ? vecs / kWide : 0;
  const std::size_t base = wide * kWide * kL;
  const std::size_t full = (vecs - wide * kWide) / kMaxRowCols;
  const std::size_t rest = (vecs - wide * kWide) % kMaxRowCols;
  for (std::size_t r = tiled; r < rows; ++r) {
    const T* xr = x + r * x_stride;
    T* yr = y + r * y_stride;
    if constexpr (kWide != 0) {
      for (std::size_t c = 0; c < wide; ++c) {
        ColTile<T, 1, kWide, kSplit, kAct>(n_in, w + c * kWide * kL, w_stride,
                                           b + c * kWide * kL, xr, 0, yr + c * kWide * kL, 0,
                                           alpha_v);
      }
    }
    for (std::size_t c = 0; c < full; ++c) {
      const std::size_t at = base + c * kMaxRowCols * kL;
      ColTile<T, 1, kMaxRowCols, kSplit, kAct>(n_in, w + at, w_stride, b + at, xr, 0, yr + at,
                                               0, alpha_v);
    }
    if (rest != 0) {
      const std::size_t done = base + full * kMaxRowCols * kL;
      ColRowRest<T, kSplit, kAct>(rest, n_in, w + done, w_stride, b + done, xr, yr + done,
                                  alpha_v);
    }
  }
}

// ---------------------------------------------------------------------------
// kRows

// DotTile<T, kOuts, kRows, kSplit, kAct>()
//
// kRows rows x kOuts outputs (all of the layer's), each output a dot product
// of the row's n_in inputs (whole vectors, then the partial last one read
// with LoadPartial) with its weight row, in kSplit partial sums over the
// input vectors (vector v to sum v % kSplit, those after the last whole
// group to sum 0, added pairwise), then HorizontalSums, then the bias. The
// order depends on kOuts and kSplit only: one-row and many-row tiles agree.
// Stores one vector per row with lanes >= kOuts zero.
template <typename T, std::size_t kOuts, std::size_t kRows, std::size_t kSplit,
          ::maas::Activation kAct>
MAAS_KERNELS_TARGET inline void DotTile(std::size_t n_in, const T* w, std::size_t w_stride,
                                        const T* b, const T* x, std::size_t x_stride,
                                        T* y, std::size_t y_stride,
                                        typename Ops<T>::V alpha) {
  using O = Ops<T>;
  using V = typename O::V;
  constexpr std::size_t kL = O::kLanes;
  V acc[kSplit][kRows][kOuts];
#pragma GCC unroll 16
  for (std::size_t s = 0; s < kSplit; ++s) {
#pragma GCC unroll 16
    for (std::size_t r = 0; r < kRows; ++r) {
#pragma GCC unroll 16
      for (std::size_t o = 0; o < kOuts; ++o) acc[s][r][o] = O::Zero();
    }
  }
  const std::size_t vin = n_in / kL;
  const std::size_t main = vin / kSplit * kSplit;
#pragma GCC unroll 1
  for (std::size_t v = 0; v < main; v += kSplit) {
#pragma GCC unroll 16
    for (std::size_t s = 0; s < kSplit; ++s) {
      V xv[kRows];
#pragma GCC unroll 16
      for (std::size_t r = 0; r < kRows; ++r) xv[r] = O::Load(x + r * x_stride + (v + s) * kL);
#pragma GCC unroll 16
      for (std::size_t o = 0; o < kOuts; ++o) {
        const V wv = O::Load(w + o * w_stride + (v + s) * kL);
#pragma GCC unroll 16
        for (std::size_t r = 0; r < kRows; ++r) acc[s][r][o] = O::Fma(xv[r], wv, acc[s][r][o]);
      }
    }
  }
  const std::size_t rem = n_in % kL;
  for (std::size_t v = main; v < vin + (rem != 0 ? 1 : 0); ++v) {
    V xv[kRows];
#pragma GCC unroll 16
    for (std::size_t r = 0; r < kRows; ++r) {
      xv[r] = v < vin ? O::Load(x + r * x_stride + v * kL)
                      : O::LoadPartial(x + r * x_stride + v * kL, rem);
    }
#pragma GCC unroll 16
    for (std::size_t o = 0; o < kOuts; ++o) {
      const V wv = O::Load(w + o * w_stride + v * kL);
#pragma GCC unroll 16
      for (std::size_t r = 0; r < kRows; ++r) acc[0][r][o] = O::Fma(xv[r], wv, acc[0][r][o]);
    }
  }
  AddPartialSums<T, kSplit, kRows, kOuts>(acc);
  const V bias = O::Load(b);
#pragma GCC unroll 16
  for (std::size_t r = 0; r < kRows; ++r) {
    const V sums = O::Add(HorizontalSums<T, kOuts>(acc[0][r]), bias);
    O::Store(y + r * y_stride, O::KeepFirst(Activate<T, kAct>(sums, alpha), kOuts));
  }
}

// DenseRowsN<T, kAct, kSplit, kOuts>()
//
// The kRows layer with kOuts (<= kLanes / 2) outputs; no FinishRow.
template <typename T, ::maas::Activation kAct, std::size_t kSplit, std::size_t kOuts>
MAAS_KERNELS_TARGET inline void DenseRowsN(const T* w, const T* b, std::size_t n_in,
                                           const T* x, std::size_t x_stride, T* y,
                                           std::size_t y_stride, std::size_t rows,
                                           T alpha) {
  using O = Ops<T>;
  const auto alpha_v = O::Set(alpha);
  const std::size_t w_stride = ::maas::kernels::PaddedSize<T>(n_in);
  constexpr std::size_t kR0 = kAcc / (kOuts * kSplit);
  constexpr std::size_t kR = kR0 > 4 ? 4 : kR0;
  std::size_t r = 0;
  if constexpr (kR > 1) {
    for (; r + kR <= rows; r += kR) {
      DotTile<T, kOuts, kR, kSplit, kAct>(n_in, w, w_stride, b, x + r * x_stride, x_stride,
                                          y + r * y_stride, y_stride, alpha_v);
    }
  }
  for (; r < rows; ++r) {
    DotTile<T, kOuts, 1, kSplit, kAct>(n_in, w, w_stride, b, x + r * x_stride, 0,
                                       y + r * y_stride, 0, alpha_v);
  }
}

// DenseRows<T, kAct, kSplit>(): DenseRowsN for a run-time n_out.
template <typename T, ::maas::Activation kAct, std::size_t kSplit, std::size_t kOuts = 1>
MAAS_KERNELS_TARGET inline void DenseRows(const T* w, const T* b, std::size_t n_in,
                                          std::size_t n_out, const T* x,
                                          std::size_t x_stride, T* y, std::size_t y_stride,
                                          std::size_t rows, T alpha) {
  if constexpr (kOuts <= Ops<T>::kLanes / 2) {
    if (n_out == kOuts) {
      DenseRowsN<T, kAct, kSplit, kOuts>(w, b, n_in, x, x_stride, y, y_stride, rows, alpha);
    } else {
      DenseRows<T, kAct, kSplit, kOuts + 1>(w, b, n_in, n_out, x, x_stride, y, y_stride,
                                            rows, alpha);
    }
  }
}

// ---------------------------------------------------------------------------
// Entry points

// Dense<T, kIn, kOut, kAct, kNum>()
//
// The kernel contract of `maas::kernels::DenseLayer` (kernels.h): for each of
// `rows` rows, y = act(x W + b); `w` holds the layer in the layout of
// PlanLayer<T>(kIn, kOut, kNum), `b` PaddedSize<T>(kOut) values, padding
// zero; y_stride >= PaddedSize<T>(kOut); lanes [kOut, PaddedSize<T>(kOut))
// of each output row are written as 0, lanes beyond are not touched. Any
// alignment. x and y must not overlap. A row's result does not depend on
// how many rows are processed with it.
// Real-time safe: no allocation, no locks, no exceptions.
template <typename T, std::size_t kIn, std::size_t kOut, ::maas::Activation kAct,
          ::maas::Numerics kNum = ::maas::Numerics::kFast>
MAAS_KERNELS_TARGET inline void Dense(const T* w, const T* b, const T* x,
                                      std::size_t x_stride, T* y, std::size_t y_stride,
                                      std::size_t rows, T alpha) noexcept {
  constexpr ::maas::kernels::LayerPlan kPlan = PlanLayer<T>(kIn, kOut, kNum);
  constexpr ::maas::Activation kTileAct =
      kAct == ::maas::Activation::kSoftmax ? ::maas::Activation::kIdentity : kAct;
  if constexpr (kPlan.layout == ::maas::kernels::Layout::kRows) {
    DenseRowsN<T, kTileAct, kPlan.split, kOut>(w, b, kIn, x, x_stride, y, y_stride, rows,
                                               alpha);
  } else {
    DenseColumns<T, kTileAct, kPlan.split>(w, b, kIn, kOut, x, x_stride, y, y_stride, rows,
                                           alpha);
  }
  for (std::size_t r = 0; r < rows; ++r) FinishRow<T, kAct, kNum>(y + r * y_stride, kOut);
}

// ActivateRows<T, kAct, kNum>(): activation, softmax and padding of `rows`
// rows written by an identity layer (the run-time-sized path).
template <typename T, ::maas::Activation kAct, ::maas::Numerics kNum>
MAAS_KERNELS_TARGET inline void ActivateRows(T* y, std::size_t y_stride, std::size_t rows,
                                             std::size_t n, T alpha) {
  using O = Ops<T>;
  constexpr std::size_t kL = O::kLanes;
  const auto alpha_v = O::Set(alpha);
  const std::size_t vecs = (n + kL - 1) / kL;
  for (std::size_t r = 0; r < rows; ++r) {
    T* yr = y + r * y_stride;
    if constexpr (kAct != ::maas::Activation::kIdentity &&
                  kAct != ::maas::Activation::kSoftmax) {
      for (std::size_t v = 0; v < vecs; ++v) {
        O::Store(yr + v * kL, Activate<T, kAct>(O::Load(yr + v * kL), alpha_v));
      }
    }
    FinishRow<T, kAct, kNum>(yr, n);
  }
}

// DenseDynamic<T, kNum>()
//
// One layer of run-time size and activation, as planned in `layer.plan`
// (which must be PlanLayer<T>(n_in, n_out, kNum)): the same tiles as
// Dense<>() with the activation applied in a second pass over the rows, so
// the bits equal those of the compile-time kernel.
template <typename T, ::maas::Numerics kNum>
MAAS_KERNELS_TARGET inline void DenseDynamic(const ::maas::kernels::LayerView<T>& layer,
                                             const T* x, std::size_t x_stride, T* y,
                                             std::size_t y_stride, std::size_t rows) {
  using ::maas::Activation;
  constexpr Activation kId = Activation::kIdentity;
  const std::size_t split = layer.plan.split;
  if (layer.plan.layout == ::maas::kernels::Layout::kRows) {
    if (split == 1) DenseRows<T, kId, 1>(layer.w, layer.b, layer.n_in, layer.n_out, x, x_stride, y, y_stride, rows, T(0));
    else if (split == 2) DenseRows<T, kId, 2>(layer.w, layer.b, layer.n_in, layer.n_out, x, x_stride, y, y_stride, rows, T(0));
    else if (split == 4) DenseRows<T, kId, 4>(layer.w, layer.b, layer.n_in, layer.n_out, x, x_stride, y, y_stride, rows, T(0));
    else DenseRows<T, kId, 8>(layer.w, layer.b, layer.n_in, layer.n_out, x, x_stride, y, y_stride, rows, T(0));
  } else {
    if (split == 1) DenseColumns<T, kId, 1>(layer.w, layer.b, layer.n_in, layer.n_out, x, x_stride, y, y_stride, rows, T(0));
    else if (split == 2) DenseColumns<T, kId, 2>(layer.w, layer.b, layer.n_in, layer.n_out, x, x_stride, y, y_stride, rows, T(0));
    else if (split == 4) DenseColumns<T, kId, 4>(layer.w, layer.b, layer.n_in, layer.n_out, x, x_stride, y, y_stride, rows, T(0));
    else DenseColumns<T, kId, 8>(layer.w, layer.b, layer.n_in, layer.n_out, x, x_stride, y, y_stride, rows, T(0));
  }
  switch (layer.act) {
#define MAAS_KERNELS_ACT_CASE(kAct)                                              \
  case Activation::kAct:                                                         \
    ActivateRows<T, Activation::kAct, kNum>(y, y_stride, rows, layer.n_out, layer.alpha); \
    break;
    MAAS_KERNELS_ACT_CASE(kIdentity)
    MAAS_KERNELS_ACT_CASE(kRelu)
    MAAS_KERNELS_ACT_CASE(kSigmoid)
    MAAS_KERNELS_ACT_CASE(kTanh)
    MAAS_KERNELS_ACT_CASE(kSoftmax)
    MAAS_KERNELS_ACT_CASE(kGelu)
    MAAS_KERNELS_ACT_CASE(kGeluTanh)
    MAAS_KERNELS_ACT_CASE(kSilu)
    MAAS_KERNELS_ACT_CASE(kSoftplus)
    MAAS_KERNELS_ACT_CASE(kLeakyRelu)
    MAAS_KERNELS_ACT_CASE(kElu)
#undef MAAS_KERNELS_ACT_CASE
  }
}

// StandardizeRows(): a[r][i] = (x[r][i] - shift[i]) * scale[i] for i < n,
// the padding lanes up to PaddedSize(n) 0 (shift and scale are padded with
// 0 and 1). Reads exactly n values of each x row.
template <typename T>
MAAS_KERNELS_TARGET inline void StandardizeRows(const T* x, std::size_t n, std::size_t rows,
                                                const T* shift, const T* scale, T* a,
                                                std::size_t a_stride) {
  using O = Ops<T>;
  constexpr std::size_t kL = O::kLanes;
  const std::size_t full = n / kL;
  const std::size_t rem = n % kL;
  const std::size_t padded = ::maas::kernels::PaddedSize<T>(n);
  for (std::size_t r = 0; r < rows; ++r) {
    const T* xr = x + r * n;
    T* ar = a + r * a_stride;
    for (std::size_t v = 0; v < full; ++v) {
      O::Store(ar + v * kL, O::Mul(O::Sub(O::Load(xr + v * kL), O::Load(shift + v * kL)),
                                   O::Load(scale + v * kL)));
    }
    std::size_t done = full * kL;
    if (rem != 0) {
      O::Store(ar + done, O::Mul(O::Sub(O::LoadPartial(xr + done, rem), O::Load(shift + done)),
                                 O::Load(scale + done)));
      done += kL;
    }
    for (; done < padded; done += kL) O::Store(ar + done, O::Zero());
  }
}

// RescaleRows(): y[r][j] = a[r][j] * scale[j] + offset[j] (one fused
// multiply-add) for j < n, into the caller's rows of exactly n values
// (nothing beyond is written).
template <typename T>
MAAS_KERNELS_TARGET inline void RescaleRows(const T* a, std::size_t a_stride, std::size_t rows,
                                            std::size_t n, const T* scale, const T* offset,
                                            T* y) {
  using O = Ops<T>;
  constexpr std::size_t kL = O::kLanes;
  const std::size_t full = n / kL;
  const std::size_t rem = n % kL;
  for (std::size_t r = 0; r < rows; ++r) {
    const T* ar = a + r * a_stride;
    T* yr = y + r * n;
    for (std::size_t v = 0; v < full; ++v) {
      O::Store(yr + v * kL, O::Fma(O::Load(ar + v * kL), O::Load(scale + v * kL),
                                   O::Load(offset + v * kL)));
    }
    if (rem != 0) {
      const std::size_t done = full * kL;
      O::StorePartial(yr + done, O::Fma(O::Load(ar + done), O::Load(scale + done),
                                        O::Load(offset + done)),
                      rem);
    }
  }
}

// ColRowBlocks<T, kSplit, kAct, kVecs>(): the kColumns layer for one row:
// blocks of WideRowCols output vectors, then of kMaxRowCols, then the rest,
// exactly as DenseColumns does for a row outside the tiles (so the same
// bits).
template <typename T, std::size_t kSplit, ::maas::Activation kAct, std::size_t kVecs,
          bool kWideDone = false>
MAAS_KERNELS_TARGET inline void ColRowBlocks(std::size_t n_in, const T* w, std::size_t w_stride,
                                             const T* b, const T* x, T* y,
                                             typename Ops<T>::V alpha) {
  constexpr std::size_t kL = Ops<T>::kLanes;
  constexpr std::size_t kWide = WideRowCols<kSplit>();
  if constexpr (!kWideDone && kWide != 0 && kVecs >= kWide) {
    ColTile<T, 1, kWide, kSplit, kAct>(n_in, w, w_stride, b, x, 0, y, 0, alpha);
    ColRowBlocks<T, kSplit, kAct, kVecs - kWide>(n_in, w + kWide * kL, w_stride, b + kWide * kL,
                                                 x, y + kWide * kL, alpha);
  } else if constexpr (!kWideDone && kWide != 0) {
    ColRowBlocks<T, kSplit, kAct, kVecs, true>(n_in, w, w_stride, b, x, y, alpha);
  } else if constexpr (kVecs >= kMaxRowCols) {
    ColTile<T, 1, kMaxRowCols, kSplit, kAct>(n_in, w, w_stride, b, x, 0, y, 0, alpha);
    ColRowBlocks<T, kSplit, kAct, kVecs - kMaxRowCols, true>(
        n_in, w + kMaxRowCols * kL, w_stride, b + kMaxRowCols * kL, x, y + kMaxRowCols * kL,
        alpha);
  } else if constexpr (kVecs > 0) {
    ColTile<T, 1, kVecs, kSplit, kAct>(n_in, w, w_stride, b, x, 0, y, 0, alpha);
  }
}

// DenseOneRow<T, kIn, kOut, kAct, kNum>()
//
// Dense<>() for exactly one row: the same tiles, in the same order, as the
// one-row path of Dense<>() (bit-identical results), with no row loops.
template <typename T, std::size_t kIn, std::size_t kOut, ::maas::Activation kAct,
          ::maas::Numerics kNum>
MAAS_KERNELS_TARGET inline void DenseOneRow(const T* w, const T* b, const T* x, T* y,
                                            T alpha) {
  using O = Ops<T>;
  constexpr std::size_t kL = O::kLanes;
  constexpr ::maas::kernels::LayerPlan kPlan = PlanLayer<T>(kIn, kOut, kNum);
  constexpr ::maas::Activation kTileAct =
      kAct == ::maas::Activation::kSoftmax ? ::maas::Activation::kIdentity : kAct;
  const auto alpha_v = O::Set(alpha);
  if constexpr (kPlan.layout == ::maas::kernels::Layout::kRows) {
    DotTile<T, kOut, 1, kPlan.split, kTileAct>(kIn, w, ::maas::kernels::PaddedSize<T>(kIn), b,
                                               x, 0, y, 0, alpha_v);
  } else {
    ColRowBlocks<T, kPlan.split, kTileAct, (kOut + kL - 1) / kL>(
        kIn, w, ::maas::kernels::PaddedSize<T>(kOut), b, x, y, alpha_v);
  }
  FinishRow<T, kAct, kNum>(y, kOut);
}

// ForwardLayersOneRow<T, kNum, I, Specs...>(): ForwardLayers for one row.
template <typename T, ::maas::Numerics kNum, std::size_t I, typename Spec, typename... Rest>
MAAS_KERNELS_TARGET inline T* ForwardLayersOneRow(const ::maas::kernels::LayerView<T>* layers,
                                                  T* in, T* out) {
  const ::maas::kernels::LayerView<T>& l = layers[I];
  DenseOneRow<T, Spec::kInputSize, Spec::kOutputSize, Spec::kActivation, kNum>(l.w, l.b, in,
                                                                              out, l.alpha);
  if constexpr (sizeof...(Rest) == 0) {
    return out;
  } else {
    return ForwardLayersOneRow<T, kNum, I + 1, Rest...>(layers, out, in);
  }
}

// ForwardOneRow<T, kNum, kWidth, Specs...>()
//
// Forward<>() for one row (the time-step loop's call), flattened into
// straight-line code: the layers' sizes are constants everywhere, the
// activations' constants are loaded where they are used (not hoisted ahead
// of a loop over rows that runs once), and the rows pass between layers in
// two small stack buffers. Same bits as Forward<>() on the same row.
template <typename T, ::maas::Numerics kNum, std::size_t kWidth, typename... Specs>
MAAS_KERNELS_TARGET MAAS_KERNELS_FLATTEN void ForwardOneRow(
    const ::maas::kernels::NetworkView<T>& view, const T* x, T* y) noexcept {
  constexpr std::size_t kIn =
      std::tuple_element<0, std::tuple<Specs...>>::type::kInputSize;
  constexpr std::size_t kOut =
      std::tuple_element<sizeof...(Specs) - 1, std::tuple<Specs...>>::type::kOutputSize;
  alignas(64) T a[kWidth];
  alignas(64) T b[kWidth];
  StandardizeRows<T>(x, kIn, 1, view.in_shift, view.in_scale, a, kWidth);
  T* out = ForwardLayersOneRow<T, kNum, 0, Specs...>(view.layers, a, b);
  RescaleRows<T>(out, kWidth, 1, kOut, view.out_scale, view.out_offset, y);
}

// ForwardLayers<T, kNum, I, Specs...>(): layers I.. of a compile-time
// network; returns the buffer holding the last layer's output.
template <typename T, ::maas::Numerics kNum, std::size_t I, typename Spec, typename... Rest>
MAAS_KERNELS_TARGET inline T* ForwardLayers(const ::maas::kernels::LayerView<T>* layers,
                                            T* in, T* out, std::size_t stride,
                                            std::size_t rows) {
  const ::maas::kernels::LayerView<T>& l = layers[I];
  Dense<T, Spec::kInputSize, Spec::kOutputSize, Spec::kActivation, kNum>(
      l.w, l.b, in, stride, out, stride, rows, l.alpha);
  if constexpr (sizeof...(Rest) == 0) {
    return out;
  } else {
    return ForwardLayers<T, kNum, I + 1, Rest...>(layers, out, in, stride, rows);
  }
}

// Forward<T, kNum, Specs...>()
//
// The whole forward pass of a compile-time network (`view` describes it,
// `Specs` are its LayerSpec<> shapes): rows in blocks whose two scratch
// buffers stay within 48 KiB each, standardisation, every layer, output
// scaling. x: rows x n_in values, y: rows x n_out; any alignment; x and y
// may alias. Real-time safe: the scratch lives on the stack.
template <typename T, ::maas::Numerics kNum, typename... Specs>
MAAS_KERNELS_TARGET void Forward(const ::maas::kernels::NetworkView<T>& view, const T* x,
                                 std::size_t rows, T* y) noexcept {
  constexpr std::size_t kWidth = [] {
    std::size_t w = 0;
    for (std::size_t n : {::maas::kernels::PaddedSize<T>(Specs::kInputSize)...,
                          ::maas::kernels::PaddedSize<T>(Specs::kOutputSize)...}) {
      w = n > w ? n : w;
    }
    return w;
  }();
  // Rows per block: both buffers within 48 KiB, a multiple of 24 rows (the
  // kernels' 2-, 3-, 4-, 6-, 8- and 12-row tiles divide it).
  constexpr std::size_t kBlock = [] {
    const std::size_t fit = 49152 / (kWidth * sizeof(T));
    if (fit < 24) return fit < 1 ? std::size_t{1} : fit;
    return fit / 24 * 24 < 96 ? fit / 24 * 24 : std::size_t{96};
  }();
  alignas(64) T scratch[2 * kBlock * kWidth];
  constexpr std::size_t kIn =
      std::tuple_element<0, std::tuple<Specs...>>::type::kInputSize;
  constexpr std::size_t kOut =
      std::tuple_element<sizeof...(Specs) - 1, std::tuple<Specs...>>::type::kOutputSize;
  if (rows == 1) {
    ForwardOneRow<T, kNum, kWidth, Specs...>(view, x, y);
    return;
  }
  for (std::size_t r0 = 0; r0 < rows; r0 += kBlock) {
    const std::size_t n = rows - r0 < kBlock ? rows - r0 : kBlock;
    // The second buffer right after the rows in use: one row touches two
    // neighbouring cache lines, not two places 48 KiB apart.
    T* a = scratch;
    T* b = scratch + n * kWidth;
    StandardizeRows<T>(x + r0 * kIn, kIn, n, view.in_shift, view.in_scale, a, kWidth);
    T* out = ForwardLayers<T, kNum, 0, Specs...>(view.layers, a, b, kWidth, n);
    RescaleRows<T>(out, kWidth, n, kOut, view.out_scale, view.out_offset, y + r0 * kOut);
  }
}

// ForwardDynamic<T, kNum>()
//
// The forward pass of a run-time-sized network: as Forward, with the layers
// from `view` and the scratch from the caller: `scratch` holds
// 2 * block_rows * view.max_width values, 64-byte aligned.
template <typename T, ::maas::Numerics kNum>
MAAS_KERNELS_TARGET void ForwardDynamic(const ::maas::kernels::NetworkView<T>& view,
                                        const T* x, std::size_t rows, T* y, T* scratch,
                                        std::size_t block_rows) noexcept {
  const std::size_t width = view.max_width;
  for (std::size_t r0 = 0; r0 < rows; r0 += block_rows) {
    const std::size_t n = rows - r0 < block_rows ? rows - r0 : block_rows;
    T* a = scratch;
    T* b = scratch + n * width;
    StandardizeRows<T>(x + r0 * view.n_in, view.n_in, n, view.in_shift, view.in_scale, a,
                       width);
    for (std::size_t l = 0; l < view.num_layers; ++l) {
      DenseDynamic<T, kNum>(view.layers[l], a, width, b, width, n);
      T* t = a;
      a = b;
      b = t;
    }
    RescaleRows<T>(a, width, n, view.n_out, view.out_scale, view.out_offset,
                   y + r0 * view.n_out);
  }
}

#undef MAAS_KERNELS_FORCE_INLINE
#undef MAAS_KERNELS_FLATTEN
