// Every SIMD dense kernel this build has and this CPU runs (plus the
// dispatched seam DenseLayer) against the scalar oracle, float: tolerances and
// checks in kernel_check.h.
#include <utility>

#include "doctest/doctest.h"
#include "kernels/kernel_check.h"

namespace mkt = maas_kernel_test;
using maas::Activation;

TEST_SUITE("kernels.float") {
  TEST_CASE("identity: every input size x every output size, batches 1 2 5 64") {
    for (const mkt::Impl& impl : mkt::ImplsUnderTest()) {
      mkt::CheckFullGrid<float, Activation::kIdentity>(
          impl, std::make_index_sequence<mkt::kNumSizes>());
    }
  }

  TEST_CASE("relu: every output size, inputs 7 100") {
    for (const mkt::Impl& impl : mkt::ImplsUnderTest()) {
      mkt::CheckGrid<float, Activation::kRelu, 7, 100>(impl);
    }
  }

  TEST_CASE("sigmoid: every output size, inputs 7 100") {
    for (const mkt::Impl& impl : mkt::ImplsUnderTest()) {
      mkt::CheckGrid<float, Activation::kSigmoid, 7, 100>(impl);
    }
  }

  TEST_CASE("tanh: every output size, inputs 7 100") {
    for (const mkt::Impl& impl : mkt::ImplsUnderTest()) {
      mkt::CheckGrid<float, Activation::kTanh, 7, 100>(impl);
    }
  }

  TEST_CASE("softmax: every output size, inputs 7 100; rows sum to 1") {
    for (const mkt::Impl& impl : mkt::ImplsUnderTest()) {
      mkt::CheckGrid<float, Activation::kSoftmax, 7, 100>(impl);
    }
  }

  TEST_CASE("gelu, gelu_tanh, silu, softplus, leaky_relu, elu: output sizes 1 7 17 64 100, inputs 7 100") {
    for (const mkt::Impl& impl : mkt::ImplsUnderTest()) {
      mkt::CheckFewGrid<float, Activation::kGelu, 7, 100>(impl);
      mkt::CheckFewGrid<float, Activation::kGeluTanh, 7, 100>(impl);
      mkt::CheckFewGrid<float, Activation::kSilu, 7, 100>(impl);
      mkt::CheckFewGrid<float, Activation::kSoftplus, 7, 100>(impl);
      mkt::CheckFewGrid<float, Activation::kLeakyRelu, 7, 100>(impl);
      mkt::CheckFewGrid<float, Activation::kElu, 7, 100>(impl);
    }
  }

  // One-row layers of 16 or more output vectors on AVX-512 (a whole
  // 1 KiB weight row per block, then blocks of 8, then the rest): 256
  // outputs = 16 vectors, 300 = 16 + 3, 400 = 16 + 8 + 1.
  TEST_CASE("wide layers: output sizes 256 300 400, input 7, identity and tanh") {
    for (const mkt::Impl& impl : mkt::ImplsUnderTest()) {
      mkt::CheckShape<float, 7, 256, Activation::kIdentity>(impl);
      mkt::CheckShape<float, 7, 300, Activation::kIdentity>(impl);
      mkt::CheckShape<float, 7, 400, Activation::kIdentity>(impl);
      mkt::CheckShape<float, 7, 300, Activation::kTanh>(impl);
    }
  }

  TEST_CASE("every element-wise activation from 0 to +-1e30: finite, close to scalar, no overflow or invalid flag") {
    for (const mkt::Impl& impl : mkt::ImplsUnderTest()) {
      mkt::CheckActivationTails<float, Activation::kRelu>(impl);
      mkt::CheckActivationTails<float, Activation::kSigmoid>(impl);
      mkt::CheckActivationTails<float, Activation::kTanh>(impl);
      mkt::CheckActivationTails<float, Activation::kGelu>(impl);
      mkt::CheckActivationTails<float, Activation::kGeluTanh>(impl);
      mkt::CheckActivationTails<float, Activation::kSilu>(impl);
      mkt::CheckActivationTails<float, Activation::kSoftplus>(impl);
      mkt::CheckActivationTails<float, Activation::kLeakyRelu>(impl);
      mkt::CheckActivationTails<float, Activation::kElu>(impl);
    }
  }

  TEST_CASE("softmax padding lanes never enter the sum or the maximum") {
    for (const mkt::Impl& impl : mkt::ImplsUnderTest()) {
      mkt::CheckUniformSoftmax<float, 1>(impl);
      mkt::CheckUniformSoftmax<float, 3>(impl);
      mkt::CheckUniformSoftmax<float, 5>(impl);
      mkt::CheckUniformSoftmax<float, 10>(impl);
      mkt::CheckUniformSoftmax<float, 17>(impl);
      mkt::CheckUniformSoftmax<float, 100>(impl);
    }
  }

  TEST_CASE("tanh within 4 ulp of tanhl on 300,000 points") {
    for (const mkt::Impl& impl : mkt::ImplsUnderTest()) mkt::CheckTanhUlp<float>(impl, 4.0);
  }

  TEST_CASE("a NaN input gives NaN outputs, never a number: every activation, scalar and SIMD") {
    mkt::CheckNaNPropagatesEveryActivation<float, 1, 1>(nullptr);
    mkt::CheckNaNPropagatesEveryActivation<float, 7, 17>(nullptr);
    for (const mkt::Impl& impl : mkt::ImplsUnderTest()) {
      mkt::CheckNaNPropagatesEveryActivation<float, 1, 1>(&impl);
      mkt::CheckNaNPropagatesEveryActivation<float, 7, 17>(&impl);
      mkt::CheckNaNPropagatesEveryActivation<float, 100, 3>(&impl);
    }
  }

  TEST_CASE("finite inputs raise no invalid, divide-by-zero or overflow flag: every activation") {
    mkt::CheckNoFloatingPointFlagsEveryActivation<float, 1, 1>(nullptr);
    mkt::CheckNoFloatingPointFlagsEveryActivation<float, 7, 17>(nullptr);
    for (const mkt::Impl& impl : mkt::ImplsUnderTest()) {
      mkt::CheckNoFloatingPointFlagsEveryActivation<float, 1, 1>(&impl);
      mkt::CheckNoFloatingPointFlagsEveryActivation<float, 7, 17>(&impl);
      mkt::CheckNoFloatingPointFlagsEveryActivation<float, 100, 3>(&impl);
    }
  }
}
