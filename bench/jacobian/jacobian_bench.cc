// What derivatives of the local network cost against Forward, and what
// central finite differences cost and lose (maas/local/jacobian.h).
//
// Three double networks with random weights (seeded) and input scaling:
//   tanh2    2 -> 32 -> 32 -> 2, tanh (the stiff example's shape)
//   mlp16   16 -> 64 -> 64 -> 8, relu, tanh, identity
//   gelu8    8 -> 128 -> 128 -> 4, gelu, silu, identity
// per network: Forward (one row), ValueAndJacobian, central differences
// (2 n + 1 Forward calls, step cbrt(eps) (1 + |x_i|)), J v and u^T J.
// Before the timings, the accuracy table: max-norm relative difference of
// the finite-difference Jacobian from the analytic one.
//
// Run: maas_jacobian_bench --benchmark_repetitions=7
//        --benchmark_report_aggregates_only=true
// and compare medians (ratios within one run; the machine is shared).
#include <cmath>
#include <cstdio>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "maas/local/jacobian.h"
#include "maas/local/model_file.h"
#include "maas/local/network.h"

namespace {

using Tanh2 = maas::Network<double, maas::Dense<2, 32, maas::Tanh>,
                            maas::Dense<32, 32, maas::Tanh>, maas::Dense<32, 2>>;
using Mlp16 = maas::Network<double, maas::Dense<16, 64, maas::Relu>,
                            maas::Dense<64, 64, maas::Tanh>, maas::Dense<64, 8>>;
using Gelu8 = maas::Network<double, maas::Dense<8, 128, maas::Gelu>,
                            maas::Dense<128, 128, maas::Silu>, maas::Dense<128, 4>>;

template <typename Net>
std::unique_ptr<Net> RandomNet(unsigned seed) {
  std::mt19937 rng(seed);
  maas::ModelFile file;
  file.signature.name = "bench";
  file.signature.inputs.push_back(
      {"x", maas::DataType::kFloat64, {maas::kDynamic, static_cast<std::int64_t>(Net::kInputSize)}});
  file.signature.outputs.push_back(
      {"y", maas::DataType::kFloat64, {maas::kDynamic, static_cast<std::int64_t>(Net::kOutputSize)}});
  for (std::size_t l = 0; l < Net::kNumLayers; ++l) {
    maas::ModelFileLayer layer;
    layer.inputs = Net::layer_input_size(l);
    layer.units = Net::layer_output_size(l);
    layer.activation = Net::layer_activation(l);
    std::normal_distribution<double> w(0.0, 1.0 / std::sqrt(static_cast<double>(layer.inputs)));
    layer.weights.resize(layer.inputs * layer.units);
    layer.bias.resize(layer.units);
    for (double& v : layer.weights) v = w(rng);
    for (double& v : layer.bias) v = 0.1 * w(rng);
    file.layers.push_back(layer);
  }
  std::uniform_real_distribution<double> u(0.5, 2.0);
  for (std::size_t i = 0; i < Net::kInputSize; ++i) {
    file.input_mean.push_back(u(rng) - 1.25);
    file.input_std.push_back(u(rng));
  }
  for (std::size_t o = 0; o < Net::kOutputSize; ++o) {
    file.output_scale.push_back(u(rng));
    file.output_offset.push_back(u(rng) - 1.25);
  }
  auto net = maas::BuildNetwork<Net>(file, "bench");
  if (!net.ok()) {
    std::fprintf(stderr, "%s\n", net.status().ToString().c_str());
    std::abort();
  }
  return std::move(*net);
}

template <typename Net>
const Net& Get() {
  static const std::unique_ptr<Net> net = RandomNet<Net>(Net::kInputSize * 7 + 1);
  return *net;
}

template <typename Net>
std::vector<double> Input() {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> u(-1.5, 1.5);
  std::vector<double> x(Net::kInputSize);
  for (double& v : x) v = u(rng);
  return x;
}

// Central differences: f(x) and the Jacobian by 2 n more Forward calls.
template <typename Net>
void CentralDifferences(const Net& net, const double* x, double* y, double* jac) {
  constexpr std::size_t n = Net::kInputSize, m = Net::kOutputSize;
  const double eps = std::cbrt(std::numeric_limits<double>::epsilon());
  double xp[n], fp[m], fm[m];
  for (std::size_t i = 0; i < n; ++i) xp[i] = x[i];
  net.Forward(x, y);
  for (std::size_t i = 0; i < n; ++i) {
    const double step = eps * (1 + std::abs(x[i]));
    xp[i] = x[i] + step;
    net.Forward(xp, fp);
    xp[i] = x[i] - step;
    net.Forward(xp, fm);
    xp[i] = x[i];
    for (std::size_t o = 0; o < m; ++o) jac[o * n + i] = (fp[o] - fm[o]) / (2 * step);
  }
}

template <typename Net>
void BM_Forward(benchmark::State& state) {
  const Net& net = Get<Net>();
  std::vector<double> x = Input<Net>(), y(Net::kOutputSize);
  for (auto _ : state) {
    net.Forward(x.data(), y.data());
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
}

template <typename Net>
void BM_ValueAndJacobian(benchmark::State& state) {
  const Net& net = Get<Net>();
  std::vector<double> x = Input<Net>(), y(Net::kOutputSize),
                      jac(Net::kInputSize * Net::kOutputSize);
  for (auto _ : state) {
    benchmark::DoNotOptimize(maas::ValueAndJacobian(net, x.data(), y.data(), jac.data()).ok());
    benchmark::ClobberMemory();
  }
}

template <typename Net>
void BM_CentralDifferences(benchmark::State& state) {
  const Net& net = Get<Net>();
  std::vector<double> x = Input<Net>(), y(Net::kOutputSize),
                      jac(Net::kInputSize * Net::kOutputSize);
  for (auto _ : state) {
    CentralDifferences(net, x.data(), y.data(), jac.data());
    benchmark::DoNotOptimize(jac.data());
    benchmark::ClobberMemory();
  }
}

template <typename Net>
void BM_JacobianVectorProduct(benchmark::State& state) {
  const Net& net = Get<Net>();
  std::vector<double> x = Input<Net>(), v(Net::kInputSize, 0.5), jv(Net::kOutputSize);
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        maas::JacobianVectorProduct(net, x.data(), v.data(), nullptr, jv.data()).ok());
    benchmark::ClobberMemory();
  }
}

template <typename Net>
void BM_VectorJacobianProduct(benchmark::State& state) {
  const Net& net = Get<Net>();
  std::vector<double> x = Input<Net>(), u(Net::kOutputSize, 0.5), uj(Net::kInputSize);
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        maas::VectorJacobianProduct(net, x.data(), u.data(), nullptr, uj.data()).ok());
    benchmark::ClobberMemory();
  }
}

#define MAAS_JACOBIAN_BENCH(Net)                         \
  BENCHMARK_TEMPLATE(BM_Forward, Net);                   \
  BENCHMARK_TEMPLATE(BM_ValueAndJacobian, Net);          \
  BENCHMARK_TEMPLATE(BM_CentralDifferences, Net);        \
  BENCHMARK_TEMPLATE(BM_JacobianVectorProduct, Net);     \
  BENCHMARK_TEMPLATE(BM_VectorJacobianProduct, Net)

MAAS_JACOBIAN_BENCH(Tanh2);
MAAS_JACOBIAN_BENCH(Mlp16);
MAAS_JACOBIAN_BENCH(Gelu8);

template <typename Net>
void PrintAccuracy(const char* name) {
  const Net& net = Get<Net>();
  std::vector<double> x = Input<Net>(), y(Net::kOutputSize), ya(Net::kOutputSize),
                      fd(Net::kInputSize * Net::kOutputSize), an(fd.size());
  CentralDifferences(net, x.data(), y.data(), fd.data());
  if (!maas::ValueAndJacobian(net, x.data(), ya.data(), an.data()).ok()) std::abort();
  double num = 0, den = 0, value = 0;
  for (std::size_t k = 0; k < fd.size(); ++k) {
    num = std::max(num, std::abs(fd[k] - an[k]));
    den = std::max(den, std::abs(an[k]));
  }
  for (std::size_t o = 0; o < y.size(); ++o) {
    value = std::max(value, std::abs(ya[o] - y[o]) / std::max(std::abs(y[o]), 1e-300));
  }
  std::printf("accuracy %-6s  central differences vs analytic Jacobian: %.2e (max-norm rel); "
              "ValueAndJacobian's value vs Forward: %.2e\n",
              name, num / den, value);
}

}  // namespace

int main(int argc, char** argv) {
  PrintAccuracy<Tanh2>("Tanh2");
  PrintAccuracy<Mlp16>("Mlp16");
  PrintAccuracy<Gelu8>("Gelu8");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
