#include "maas/local/local_model.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "doctest/doctest.h"
#include "maas/core/call.h"
#include "local/ref_model_file.h"
#include "local/reference_mlp.h"
#include "maas/local/dynamic_network.h"
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

  TEST_CASE("a NaN input reaches the caller as NaN, alone and in a batch, every activation") {
    // A simulation whose state went NaN must see NaN in the surrogate's
    // answer. ReLU, sigmoid, tanh, softmax, softplus and ELU layers used to
    // turn it into an ordinary number (x86 max/min clamps return the
    // non-NaN operand), so a diverged cell got a plausible drag.
    std::mt19937 rng(9);
    const float nan = std::numeric_limits<float>::quiet_NaN();
    for (int a = 0; a < maas::kNumActivations; ++a) {
      const auto act = static_cast<maas::Activation>(a);
      CAPTURE(maas::ActivationName(act));
      using DynNet = maas::DynamicNetwork<float>;
      std::vector<maas_test::RefLayer> ref = {
          maas_test::RandomLayer(4, 16, act == maas::Activation::kSoftmax
                                            ? maas::Activation::kTanh : act, rng),
          maas_test::RandomLayer(16, 3, act, rng)};
      auto net = DynNet::FromModelFile(
          maas_test::RefModelFile(ref, true, rng, maas::DataType::kFloat32));
      REQUIRE(net.ok());
      auto model = maas::DynamicLocalModel<float>::Create(
          *std::move(net), maas::LocalModel<Net>::DefaultSignature("m", "1"));
      REQUIRE(model.ok());
      std::vector<float> x = {0.1f, nan, 0.3f, 0.4f, 1.f, 2.f, -1.f, 0.f};
      for (std::int64_t rows : {1, 2}) {
        std::vector<float> y(6, -7.f);
        REQUIRE((*model)->Predict(
                     {maas::ConstTensorView("input", absl::MakeConstSpan(x.data(), 4 * rows),
                                            {rows, 4})},
                     {maas::TensorView("output", absl::MakeSpan(y.data(), 3 * rows), {rows, 3})})
                    .ok());
        for (std::size_t j = 0; j < 3; ++j) CHECK(std::isnan(y[j]));
        for (std::size_t j = 3; j < 3 * static_cast<std::size_t>(rows); ++j) {
          CHECK(std::isfinite(y[j]));
        }
      }
    }
    // The compile-time network's one-row path (tanh, softmax) too.
    std::vector<maas_test::RefLayer> ref;
    auto model = MakeModel(&ref);
    std::vector<float> x = {nan, 0.f, 0.f, 0.f};
    std::vector<float> y(3, -7.f);
    REQUIRE(model->Predict({maas::ConstTensorView("input", absl::MakeConstSpan(x), {1, 4})},
                           {maas::TensorView("output", absl::MakeSpan(y), {1, 3})})
                .ok());
    for (float v : y) CHECK(std::isnan(v));
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

TEST_SUITE("LocalModel call path") {
  // The one-input/one-output fast path must accept exactly the calls the
  // signature's own validation accepts and fail the others with the same
  // status: every call below is checked against ModelSignature's
  // ValidateInputs/ValidateOutputs on the same views (the reference), and a
  // rejected call must leave the output buffer as it was.
  TEST_CASE("every view mutation gives the signature's own verdict and message") {
    std::vector<maas_test::RefLayer> ref;
    auto model = MakeModel(&ref);
    maas::ModelSignature sig = model->signature();
    std::vector<float> x(3 * 4, 0.25f), y(3 * 3), big(64, 0.5f);
    std::vector<double> xd(3 * 4, 0.25), yd(3 * 3);
    const float* null_data = nullptr;
    using CV = maas::ConstTensorView;
    using V = maas::TensorView;
    const V good_out("output", absl::MakeSpan(y), {3, 3});
    const CV good_in("input", absl::MakeConstSpan(x), {3, 4});
    struct Case {
      const char* what;
      std::vector<CV> in;
      std::vector<V> out;
    };
    const std::vector<Case> cases = {
        {"good", {good_in}, {good_out}},
        {"empty names", {CV("", absl::MakeConstSpan(x), {3, 4})},
         {V("", absl::MakeSpan(y), {3, 3})}},
        {"zero rows", {CV("input", absl::MakeConstSpan(x.data(), 0), {0, 4})},
         {V("output", absl::MakeSpan(y.data(), 0), {0, 3})}},
        {"zero rows, null data", {CV("input", absl::MakeConstSpan(null_data, 0), {0, 4})},
         {V("output", absl::MakeSpan(y.data(), 0), {0, 3})}},
        {"unknown input name", {CV("inputs", absl::MakeConstSpan(x), {3, 4})}, {good_out}},
        {"input name prefix", {CV("inpu", absl::MakeConstSpan(x), {3, 4})}, {good_out}},
        {"unknown output name", {good_in}, {V("outpuT", absl::MakeSpan(y), {3, 3})}},
        {"input FP64", {CV("input", absl::MakeConstSpan(xd), {3, 4})}, {good_out}},
        {"output FP64", {good_in}, {V("output", absl::MakeSpan(yd), {3, 3})}},
        {"input rank 1", {CV("input", absl::MakeConstSpan(x), {12})}, {good_out}},
        {"input rank 3", {CV("input", absl::MakeConstSpan(x), {3, 4, 1})}, {good_out}},
        {"input 5 features", {CV("input", absl::MakeConstSpan(x.data(), 10), {2, 5})},
         {V("output", absl::MakeSpan(y.data(), 6), {2, 3})}},
        {"output 2 features", {good_in}, {V("output", absl::MakeSpan(y.data(), 6), {3, 2})}},
        {"batch mismatch", {good_in}, {V("output", absl::MakeSpan(y.data(), 6), {2, 3})}},
        {"negative batch", {CV("input", absl::MakeConstSpan(x), {-1, 4})},
         {V("output", absl::MakeSpan(y), {-1, 3})}},
        {"input buffer short", {CV("input", absl::MakeConstSpan(x.data(), 11), {3, 4})},
         {good_out}},
        {"input buffer long", {CV("input", absl::MakeConstSpan(big.data(), 13), {3, 4})},
         {good_out}},
        {"output buffer short", {good_in}, {V("output", absl::MakeSpan(y.data(), 8), {3, 3})}},
        {"null input data", {CV("input", absl::MakeConstSpan(null_data, 12), {3, 4})},
         {good_out}},
        {"huge batch", {CV("input", absl::MakeConstSpan(x), {std::int64_t{1} << 61, 4})},
         {V("output", absl::MakeSpan(y), {std::int64_t{1} << 61, 3})}},
        {"overflowing shape", {CV("input", absl::MakeConstSpan(x), {1, 2, 3, 4, 5, 6, 7, 8, 9})},
         {good_out}},
        {"two inputs", {good_in, good_in}, {good_out}},
        {"no output", {good_in}, {}},
        {"no input", {}, {good_out}},
        {"default input view", {CV()}, {good_out}},
    };
    for (const Case& c : cases) {
      CAPTURE(c.what);
      std::array<CV, 1> in_order;
      std::array<V, 1> out_order;
      absl::Status want;
      absl::StatusOr<std::int64_t> batch =
          sig.ValidateInputs(absl::MakeConstSpan(c.in), absl::MakeSpan(in_order));
      want = batch.ok() ? sig.ValidateOutputs(absl::MakeConstSpan(c.out), *batch,
                                              absl::MakeSpan(out_order))
                        : batch.status();
      std::fill(y.begin(), y.end(), -7.0f);
      std::fill(yd.begin(), yd.end(), -7.0);
      const absl::Status got = model->Predict(c.in, c.out);
      CHECK(got == want);
      if (!got.ok()) {
        for (float v : y) CHECK(v == -7.0f);
        for (double v : yd) CHECK(v == -7.0);
      }
      // The per-call-options overload routes to the same checks.
      maas::CallReport report;
      const absl::Status with_options =
          model->Predict(c.in, c.out, maas::CallOptions(), &report);
      CHECK(with_options == want);
      CHECK(report.attempts == 1);
      CHECK(report.served_by == (want.ok() ? "local" : ""));
    }
    // The good call computed the reference values.
    REQUIRE(model->Predict({good_in}, {good_out}).ok());
    const auto expect = maas_test::RefForward(ref, std::vector<double>(4, 0.25));
    for (std::size_t j = 0; j < 3; ++j) CHECK(y[j] == doctest::Approx(expect[j]).epsilon(1e-5));
  }

  TEST_CASE("a passed deadline is refused before any work") {
    std::vector<maas_test::RefLayer> ref;
    auto model = MakeModel(&ref);
    std::vector<float> x(4, 0.25f), y(3, -7.0f);
    maas::CallOptions options;
    options.deadline = absl::Now() - absl::Seconds(1);
    maas::CallReport report;
    const absl::Status s = model->Predict(
        {maas::ConstTensorView("input", absl::MakeConstSpan(x), {1, 4})},
        {maas::TensorView("output", absl::MakeSpan(y), {1, 3})}, options, &report);
    CHECK(s.code() == absl::StatusCode::kDeadlineExceeded);
    CHECK(s.message() == "local: the call's deadline has passed");
    for (float v : y) CHECK(v == -7.0f);
    CHECK(report.served_by.empty());
  }

  TEST_CASE("a signature's batch limit is enforced on the fast path") {
    auto sig = maas::LocalModel<Net>::DefaultSignature();
    sig.max_batch_size = 2;
    auto model = maas::LocalModel<Net>::Create(std::make_unique<Net>(), sig);
    REQUIRE(model.ok());
    std::vector<float> x(3 * 4), y(3 * 3, -7.0f);
    const absl::Status s = (*model)->Predict(
        {maas::ConstTensorView("input", absl::MakeConstSpan(x), {3, 4})},
        {maas::TensorView("output", absl::MakeSpan(y), {3, 3})});
    CHECK(s.message() == "batch size 3 exceeds the model's maximum of 2");
    for (float v : y) CHECK(v == -7.0f);
  }
}
