// Predict makes no heap allocation: this binary replaces the global operator
// new/delete with counting versions and checks the count around
// LocalModel::Predict and Network::ForwardBatch (first call included, so the
// one-time kernel selection of a runtime-dispatch build is covered too).
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>
#include <random>
#include <tuple>
#include <vector>

#include "absl/types/span.h"
#include "doctest/doctest.h"
#include "maas/core/tensor_view.h"
#include "maas/local/dynamic_network.h"
#include "maas/local/local_model.h"
#include "maas/local/network.h"
#include "testing/counting_new.h"
#include "testing/status_doctest.h"

namespace {

using Net = maas::Network<float, maas::Dense<16, 64, maas::Relu>,
                          maas::Dense<64, 64, maas::Tanh>,
                          maas::Dense<64, 8, maas::Softmax>>;

std::unique_ptr<Net> RandomNet() {
  auto net = std::make_unique<Net>();
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-0.3f, 0.3f);
  for (std::size_t l = 0; l < Net::kNumLayers; ++l) {
    std::vector<float> w(Net::layer_input_size(l) * Net::layer_output_size(l));
    std::vector<float> b(Net::layer_output_size(l));
    for (float& v : w) v = u(rng);
    for (float& v : b) v = u(rng);
    REQUIRE(net->SetLayer(l, absl::MakeConstSpan(w), absl::MakeConstSpan(b)).ok());
  }
  return net;
}

}  // namespace

TEST_SUITE("kernels.no_alloc") {
  TEST_CASE("the counting operator new sees allocations (the test can fail)") {
    const long before = g_allocations.load();
    auto p = std::make_unique<std::vector<int>>(100);
    CHECK(g_allocations.load() - before >= 2);
  }

  TEST_CASE("Network::ForwardBatch and LocalModel::Predict allocate nothing") {
    auto net = RandomNet();
    std::vector<float> x(300 * Net::kInputSize, 0.5f), y(300 * Net::kOutputSize);
    auto model_or = maas::LocalModel<Net>::Create(
        std::unique_ptr<const Net>(RandomNet()),
        maas::LocalModel<Net>::DefaultSignature());
    REQUIRE(model_or.ok());
    maas::LocalModel<Net>& model = **model_or;
    const maas::ConstTensorView in1("input", absl::MakeConstSpan(x.data(), 16), {1, 16});
    const maas::TensorView out1("output", absl::MakeSpan(y.data(), 8), {1, 8});
    const maas::ConstTensorView in300("input", absl::MakeConstSpan(x), {300, 16});
    const maas::TensorView out300("output", absl::MakeSpan(y), {300, 8});
    const maas::ConstTensorView ins1[] = {in1};
    const maas::TensorView outs1[] = {out1};
    const maas::ConstTensorView ins300[] = {in300};
    const maas::TensorView outs300[] = {out300};

    const long before = g_allocations.load();
    net->Forward(x.data(), y.data());
    net->ForwardBatch(x.data(), 300, y.data());
    const absl::Status s1 = model.Predict(ins1, outs1);
    const absl::Status s300 = model.Predict(ins300, outs300);
    for (int i = 0; i < 100; ++i) {
      net->ForwardBatch(x.data(), 1, y.data());
      (void)model.Predict(ins1, outs1);
    }
    const long allocations = g_allocations.load() - before;
    CHECK(s1.ok());
    CHECK(s300.ok());
    CHECK(allocations == 0);
    // The outputs are real softmax rows.
    double sum = 0;
    for (std::size_t j = 0; j < 8; ++j) sum += y[299 * 8 + j];
    CHECK(sum == doctest::Approx(1.0).epsilon(1e-6));
  }

  TEST_CASE("DynamicNetwork::ForwardBatch and DynamicLocalModel::Predict allocate nothing") {
    maas::ModelFile file;
    file.signature.name = "m";
    file.signature.inputs.push_back({"input", maas::DataType::kFloat32, {maas::kDynamic, 16}});
    file.signature.outputs.push_back({"output", maas::DataType::kFloat32, {maas::kDynamic, 8}});
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> u(-0.3, 0.3);
    for (auto [in, out, act] : {std::tuple(16, 64, maas::Activation::kRelu),
                                std::tuple(64, 64, maas::Activation::kTanh),
                                std::tuple(64, 8, maas::Activation::kSoftmax)}) {
      maas::ModelFileLayer l;
      l.inputs = static_cast<std::size_t>(in);
      l.units = static_cast<std::size_t>(out);
      l.activation = act;
      l.weights.resize(l.inputs * l.units);
      l.bias.resize(l.units);
      for (double& v : l.weights) v = u(rng);
      for (double& v : l.bias) v = u(rng);
      file.layers.push_back(l);
    }
    auto net = maas::DynamicNetwork<float>::FromModelFile(file);
    REQUIRE(net.ok());
    auto model_or = maas::DynamicLocalModelFromFile<float>(file);
    REQUIRE(model_or.ok());
    maas::DynamicLocalModel<float>& model = **model_or;
    std::vector<float> x(300 * 16, 0.5f), y(300 * 8);
    const maas::ConstTensorView ins1[] = {
        maas::ConstTensorView("input", absl::MakeConstSpan(x.data(), 16), {1, 16})};
    const maas::TensorView outs1[] = {maas::TensorView("output", absl::MakeSpan(y.data(), 8), {1, 8})};
    const maas::ConstTensorView ins300[] = {
        maas::ConstTensorView("input", absl::MakeConstSpan(x), {300, 16})};
    const maas::TensorView outs300[] = {maas::TensorView("output", absl::MakeSpan(y), {300, 8})};
    auto workspace = net->NewWorkspace(4);

    const long before = g_allocations.load();
    net->Forward(x.data(), y.data());
    net->ForwardBatch(x.data(), 300, y.data());
    net->ForwardBatch(x.data(), 300, y.data(), workspace);
    const absl::Status s1 = model.Predict(ins1, outs1);
    const absl::Status s300 = model.Predict(ins300, outs300);
    for (int i = 0; i < 100; ++i) (void)model.Predict(ins1, outs1);
    const long allocations = g_allocations.load() - before;
    CHECK(s1.ok());
    CHECK(s300.ok());
    CHECK(allocations == 0);
    double sum = 0;
    for (std::size_t j = 0; j < 8; ++j) sum += y[299 * 8 + j];
    CHECK(sum == doctest::Approx(1.0).epsilon(1e-6));
  }
}
