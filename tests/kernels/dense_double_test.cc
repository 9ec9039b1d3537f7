// Every SIMD dense kernel this build has and this CPU runs (plus the
// dispatched seam DenseLayer) against the scalar oracle, double: tolerances and
// checks in kernel_check.h.
#include <utility>

#include "doctest/doctest.h"
#include "kernels/kernel_check.h"

namespace mkt = maas_kernel_test;
using maas::Activation;

TEST_SUITE("kernels.double") {
  TEST_CASE("identity: every input size x every output size, batches 1 2 5 64") {
    for (const mkt::Impl& impl : mkt::ImplsUnderTest()) {
      mkt::CheckFullGrid<double, Activation::kIdentity>(
          impl, std::make_index_sequence<mkt::kNumSizes>());
    }
  }

  TEST_CASE("relu: every output size, inputs 7 100") {
    for (const mkt::Impl& impl : mkt::ImplsUnderTest()) {
      mkt::CheckGrid<double, Activation::kRelu, 7, 100>(impl);
    }
  }

  TEST_CASE("sigmoid: every output size, inputs 7 100") {
    for (const mkt::Impl& impl : mkt::ImplsUnderTest()) {
      mkt::CheckGrid<double, Activation::kSigmoid, 7, 100>(impl);
    }
  }

  TEST_CASE("tanh: every output size, inputs 7 100") {
    for (const mkt::Impl& impl : mkt::ImplsUnderTest()) {
      mkt::CheckGrid<double, Activation::kTanh, 7, 100>(impl);
    }
  }

  TEST_CASE("softmax: every output size, inputs 7 100; rows sum to 1") {
    for (const mkt::Impl& impl : mkt::ImplsUnderTest()) {
      mkt::CheckGrid<double, Activation::kSoftmax, 7, 100>(impl);
    }
  }

  TEST_CASE("gelu, gelu_tanh, silu, softplus, leaky_relu, elu: output sizes 1 7 17 64 100, inputs 7 100") {
    for (const mkt::Impl& impl : mkt::ImplsUnderTest()) {
      mkt::CheckFewGrid<double, Activation::kGelu, 7, 100>(impl);
      mkt::CheckFewGrid<double, Activation::kGeluTanh, 7, 100>(impl);
      mkt::CheckFewGrid<double, Activation::kSilu, 7, 100>(impl);
      mkt::CheckFewGrid<double, Activation::kSoftplus, 7, 100>(impl);
      mkt::CheckFewGrid<double, Activation::kLeakyRelu, 7, 100>(impl);
      mkt::CheckFewGrid<double, Activation::kElu, 7, 100>(impl);
    }
  }

  // One-row layers of 16 or more output vectors on AVX-512 (a whole
  // 1 KiB weight row per block, then blocks of 8, then the rest): 128
  // outputs = 16 vectors, 150 = 16 + 3, 200 = 16 + 8 + 1.
  TEST_CASE("wide layers: output sizes 128 150 200, input 7, identity and tanh") {
    for (const mkt::Impl& impl : mkt::ImplsUnderTest()) {
      mkt::CheckShape<double, 7, 128, Activation::kIdentity>(impl);
      mkt::CheckShape<double, 7, 150, Activation::kIdentity>(impl);
      mkt::CheckShape<double, 7, 200, Activation::kIdentity>(impl);
      mkt::CheckShape<double, 7, 150, Activation::kTanh>(impl);
    }
  }

  TEST_CASE("every element-wise activation from 0 to +-1e30: finite, close to scalar, no overflow or invalid flag") {
    for (const mkt::Impl& impl : mkt::ImplsUnderTest()) {
      mkt::CheckActivationTails<double, Activation::kRelu>(impl);
      mkt::CheckActivationTails<double, Activation::kSigmoid>(impl);
      mkt::CheckActivationTails<double, Activation::kTanh>(impl);
      mkt::CheckActivationTails<double, Activation::kGelu>(impl);
      mkt::CheckActivationTails<double, Activation::kGeluTanh>(impl);
      mkt::CheckActivationTails<double, Activation::kSilu>(impl);
      mkt::CheckActivationTails<double, Activation::kSoftplus>(impl);
      mkt::CheckActivationTails<double, Activation::kLeakyRelu>(impl);
      mkt::CheckActivationTails<double, Activation::kElu>(impl);
    }
  }

  TEST_CASE("softmax padding lanes never enter the sum or the maximum") {
    for (const mkt::Impl& impl : mkt::ImplsUnderTest()) {
      mkt::CheckUniformSoftmax<double, 1>(impl);
      mkt::CheckUniformSoftmax<double, 3>(impl);
      mkt::CheckUniformSoftmax<double, 5>(impl);
      mkt::CheckUniformSoftmax<double, 10>(impl);
      mkt::CheckUniformSoftmax<double, 17>(impl);
      mkt::CheckUniformSoftmax<double, 100>(impl);
    }
  }

  TEST_CASE("tanh within 4 ulp of tanhl on 300,000 points") {
    for (const mkt::Impl& impl : mkt::ImplsUnderTest()) mkt::CheckTanhUlp<double>(impl, 4.0);
  }

  TEST_CASE("a NaN input gives NaN outputs, never a number: every activation, scalar and SIMD") {
    mkt::CheckNaNPropagatesEveryActivation<double, 1, 1>(nullptr);
    mkt::CheckNaNPropagatesEveryActivation<double, 7, 17>(nullptr);
    for (const mkt::Impl& impl : mkt::ImplsUnderTest()) {
      mkt::CheckNaNPropagatesEveryActivation<double, 1, 1>(&impl);
      mkt::CheckNaNPropagatesEveryActivation<double, 7, 17>(&impl);
      mkt::CheckNaNPropagatesEveryActivation<double, 100, 3>(&impl);
    }
  }

  TEST_CASE("finite inputs raise no invalid, divide-by-zero or overflow flag: every activation") {
    mkt::CheckNoFloatingPointFlagsEveryActivation<double, 1, 1>(nullptr);
    mkt::CheckNoFloatingPointFlagsEveryActivation<double, 7, 17>(nullptr);
    for (const mkt::Impl& impl : mkt::ImplsUnderTest()) {
      mkt::CheckNoFloatingPointFlagsEveryActivation<double, 1, 1>(&impl);
      mkt::CheckNoFloatingPointFlagsEveryActivation<double, 7, 17>(&impl);
      mkt::CheckNoFloatingPointFlagsEveryActivation<double, 100, 3>(&impl);
    }
  }
}
