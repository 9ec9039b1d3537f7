#include "maas/local/local_model.h"

#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "doctest/doctest.h"
#include "local/reference_mlp.h"
#include "testing/status_doctest.h"

namespace {

using Net = maas::Network<float, maas::Dense<4, 16, maas::Tanh>,
                          maas::Dense<16, 3, maas::Softmax>>;

std::unique_ptr<maas::LocalModel<Net>> MakeModel(std::vector<maas_test::RefLayer>* ref) {
  std::mt19937 rng(7);
  *ref = {maas_test::RandomLayer(4, 16, maas::Activation::kTanh, rng),
          maas_test::RandomLayer(16, 3, maas::Activation::kSoftmax, rng)};
  auto net = std::make_unique<Net>();
  for (std::size_t l = 0; l < 2; ++l) {
    REQUIRE(net->SetLayer(l, absl::MakeConstSpan((*ref)[l].w),
                          absl::MakeConstSpan((*ref)[l].b)).ok());
  }
  auto model = maas::LocalModel<Net>::Create(
      std::move(net), maas::LocalModel<Net>::DefaultSignature("classifier", "1"));
  REQUIRE(model.ok());
  return std::move(*model);
}

}  // namespace

TEST_SUITE("LocalModel") {
  TEST_CASE("Predict through the interface matches the reference, zero copy") {
    std::vector<maas_test::RefLayer> ref;
    auto model = MakeModel(&ref);
    maas::Predictor& p = *model;
    std::vector<float> x = {0.1f, -0.2f, 0.3f, 0.4f, 1.f, 2.f, -1.f, 0.f};
    std::vector<float> y(6, -1.f);
    REQUIRE(p.Predict({maas::ConstTensorView("input", absl::MakeConstSpan(x), {2, 4})},
                      {maas::TensorView("output", absl::MakeSpan(y), {2, 3})})
                .ok());
    for (std::size_t r = 0; r < 2; ++r) {
      auto want = maas_test::RefForward(
          ref, std::vector<double>(x.begin() + 4 * r, x.begin() + 4 * r + 4));
      for (std::size_t j = 0; j < 3; ++j)
        CHECK(y[3 * r + j] == doctest::Approx(want[j]).epsilon(1e-5));
    }
  }

  TEST_CASE("bad inputs are rejected with a message and outputs stay untouched") {
    std::vector<maas_test::RefLayer> ref;
    auto model = MakeModel(&ref);
    std::vector<float> x(8), y(6, -1.f);
    std::vector<double> xd(8);
    absl::Status s = model->Predict(
        {maas::ConstTensorView("input", absl::MakeConstSpan(x), {2, 4})},
        {maas::TensorView("output", absl::MakeSpan(y), {3, 2})});
    CHECK(s.message() == "output 'output': expected shape [2,3] for batch size 2, got [3,2]");
    s = model->Predict({maas::ConstTensorView("input", absl::MakeConstSpan(xd), {2, 4})},
                       {maas::TensorView("output", absl::MakeSpan(y), {2, 3})});
    CHECK(s.message() == "input 'input': expected datatype FP32, got FP64");
    s = model->Predict({maas::ConstTensorView("input", absl::MakeConstSpan(x), {1, 8})},
                       {maas::TensorView("output", absl::MakeSpan(y), {1, 3})});
    CHECK(s.message() == "input 'input': expected shape [-1,4], got [1,8]");
    for (float v : y) CHECK(v == -1.f);
    std::vector<float> y5(5);
    CHECK(model->PredictRows(x, absl::MakeSpan(y5)).code() ==
          absl::StatusCode::kInvalidArgument);
  }

  TEST_CASE("the allocating overload returns named tensors") {
    std::vector<maas_test::RefLayer> ref;
    auto model = MakeModel(&ref);
    std::vector<float> x(3 * 4, 0.5f);
    auto out = model->Predict(
        {maas::ConstTensorView("input", absl::MakeConstSpan(x), {3, 4})});
    REQUIRE(out.ok());
    CHECK((*out)[0].name() == "output");
    CHECK((*out)[0].shape() == maas::Shape({3, 3}));
  }

  TEST_CASE("Create rejects a signature that does not fit the network") {
    auto sig = maas::LocalModel<Net>::DefaultSignature();
    sig.inputs[0].shape = {maas::kDynamic, 5};
    auto m = maas::LocalModel<Net>::Create(std::make_unique<Net>(), sig);
    CHECK(m.status().message() ==
          "input 'input': the network needs FP32[-1,4], the signature says FP32[-1,5]");
  }

  TEST_CASE("many threads may predict on one model at once") {
    std::vector<maas_test::RefLayer> ref;
    auto model = MakeModel(&ref);
    std::vector<float> x = {0.3f, 0.1f, -0.7f, 0.2f};
    std::vector<float> want(3);
    REQUIRE(model->PredictRows(x, absl::MakeSpan(want)).ok());
    std::vector<std::thread> threads;
    std::vector<int> mismatches(4, 0);
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        std::vector<float> y(3);
        for (int i = 0; i < 20000; ++i) {
          if (!model->PredictRows(x, absl::MakeSpan(y)).ok() || y != want) ++mismatches[t];
        }
      });
    }
    for (auto& th : threads) th.join();
    for (int m : mismatches) CHECK(m == 0);
  }
}
