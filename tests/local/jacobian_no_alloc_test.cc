// The derivatives of the local network make no heap allocation: this binary
// replaces the global operator new/delete with counting versions and counts
// around every function of maas/local/jacobian.h (first call included), on
// the compile-time and the run-time network.
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <cmath>
#include <memory>
#include <new>
#include <random>
#include <tuple>
#include <vector>

#include "absl/types/span.h"
#include "doctest/doctest.h"
#include "maas/local/dynamic_network.h"
#include "maas/local/jacobian.h"
#include "maas/local/model_file.h"
#include "maas/local/network.h"
#include "testing/counting_new.h"
#include "testing/status_doctest.h"

namespace {

using Net = maas::Network<float, maas::Dense<16, 64, maas::Relu>,
                          maas::Dense<64, 64, maas::Tanh>,
                          maas::Dense<64, 8, maas::Softmax>>;

// Every derivative function once on `net` (16 inputs, 8 outputs); the
// number of allocations they made.
template <typename N>
long CountDerivativeAllocations(const N& net) {
  std::vector<float> x(3 * 16, 0.25f), y(3 * 8), jac(3 * 8 * 16), v(16, 1.0f), u(8, 1.0f),
      jv(8), uj(16);
  const long before = g_allocations.load();
  bool ok = maas::ValueAndJacobian(net, x.data(), y.data(), jac.data()).ok();
  ok &= maas::Jacobian(net, x.data(), jac.data()).ok();
  ok &= maas::JacobianBatch(net, x.data(), 3, y.data(), jac.data()).ok();
  ok &= maas::JacobianVectorProduct(net, x.data(), v.data(), y.data(), jv.data()).ok();
  ok &= maas::VectorJacobianProduct(net, x.data(), u.data(), y.data(), uj.data()).ok();
  for (int i = 0; i < 20; ++i) ok &= maas::ValueAndJacobian(net, x.data(), y.data(), jac.data()).ok();
  const long allocations = g_allocations.load() - before;
  CHECK(ok);
  // Real derivatives: softmax outputs' Jacobian columns sum to 0 and the
  // matrix is not zero.
  double sum = 0, norm = 0;
  for (std::size_t o = 0; o < 8; ++o) {
    sum += jac[o * 16];
    norm += std::abs(jac[o * 16 + 3]);
  }
  CHECK(std::abs(sum) < 1e-6);
  CHECK(norm > 1e-4);
  return allocations;
}

}  // namespace

TEST_SUITE("jacobian.no_alloc") {
  TEST_CASE("the counting operator new sees allocations (the test can fail)") {
    const long before = g_allocations.load();
    auto p = std::make_unique<std::vector<int>>(100);
    CHECK(g_allocations.load() - before >= 2);
  }

  TEST_CASE("derivatives of Network and DynamicNetwork allocate nothing") {
    maas::ModelFile file;
    file.signature.name = "m";
    file.signature.inputs.push_back({"input", maas::DataType::kFloat32, {maas::kDynamic, 16}});
    file.signature.outputs.push_back({"output", maas::DataType::kFloat32, {maas::kDynamic, 8}});
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> d(-0.3, 0.3);
    for (auto [in, out, act] : {std::tuple(16, 64, maas::Activation::kRelu),
                                std::tuple(64, 64, maas::Activation::kTanh),
                                std::tuple(64, 8, maas::Activation::kSoftmax)}) {
      maas::ModelFileLayer l;
      l.inputs = static_cast<std::size_t>(in);
      l.units = static_cast<std::size_t>(out);
      l.activation = act;
      l.weights.resize(l.inputs * l.units);
      l.bias.resize(l.units);
      for (double& w : l.weights) w = d(rng);
      for (double& b : l.bias) b = d(rng);
      file.layers.push_back(l);
    }
    auto net = maas::BuildNetwork<Net>(file, "m");
    REQUIRE(net.ok());
    auto dyn = maas::DynamicNetwork<float>::FromModelFile(file);
    REQUIRE(dyn.ok());
    CHECK(CountDerivativeAllocations(**net) == 0);
    CHECK(CountDerivativeAllocations(*dyn) == 0);
  }
}
