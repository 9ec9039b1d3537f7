// maas/local/attribution.h: gradient x input and integrated gradients.
// Exact on a linear network (both complete to rounding); on nonlinear ones
// integrated gradients are complete within the midpoint rule's error, which
// falls as 1 / steps^2; the shares are the path integral of the Jacobian
// (checked against a trapezoid rule on a fine grid); bad arguments fail.
#include "maas/local/attribution.h"

#include <cmath>
#include <random>
#include <vector>

#include "absl/types/span.h"
#include "doctest/doctest.h"
#include "local/reference_mlp.h"
#include "maas/local/dynamic_network.h"
#include "maas/local/jacobian.h"
#include "maas/local/model_file.h"
#include "testing/status_doctest.h"

namespace {

maas::ModelFile AttributionFile(std::vector<std::size_t> sizes, std::vector<maas::Activation> acts,
                                std::mt19937& rng) {
  maas::ModelFile f;
  f.signature.name = "m";
  f.signature.inputs.push_back(
      {"x", maas::DataType::kFloat64, {maas::kDynamic, static_cast<std::int64_t>(sizes.front())}});
  f.signature.outputs.push_back(
      {"y", maas::DataType::kFloat64, {maas::kDynamic, static_cast<std::int64_t>(sizes.back())}});
  for (std::size_t l = 0; l + 1 < sizes.size(); ++l) {
    const maas_test::RefLayer r = maas_test::RandomLayer(sizes[l], sizes[l + 1], acts[l], rng);
    maas::ModelFileLayer layer;
    layer.inputs = r.in;
    layer.units = r.out;
    layer.activation = r.act;
    layer.weights = r.w;
    layer.bias = r.b;
    f.layers.push_back(layer);
  }
  for (std::size_t i = 0; i < sizes.front(); ++i) {
    f.input_mean.push_back(0.1 * static_cast<double>(i));
    f.input_std.push_back(1.0 + 0.2 * static_cast<double>(i));
  }
  for (std::size_t o = 0; o < sizes.back(); ++o) {
    f.output_scale.push_back(2.0 - 0.3 * static_cast<double>(o));
    f.output_offset.push_back(0.5);
  }
  return f;
}

TEST_SUITE("attribution") {
  TEST_CASE("a linear network: both methods are complete to rounding with any step count") {
    std::mt19937 rng(1);
    using A = maas::Activation;
    auto net = maas::DynamicNetwork<double>::FromModelFile(
        AttributionFile({4, 9, 3}, {A::kIdentity, A::kIdentity}, rng));
    REQUIRE(net.ok());
    const std::vector<double> x = {0.3, -1.2, 2.0, 0.7}, b = {1.0, 0.5, -0.5, 0.0};
    auto ig = maas::IntegratedGradients(*net, absl::MakeConstSpan(x), absl::MakeConstSpan(b),
                                        maas::IntegratedGradientsOptions{1});
    REQUIRE(ig.ok());
    auto gxi = maas::GradientTimesInput(*net, absl::MakeConstSpan(x));
    REQUIRE(gxi.ok());
    for (std::size_t o = 0; o < 3; ++o) {
      CHECK(ig->relative_residual[o] < 1e-13);
      CHECK(gxi->relative_residual[o] < 1e-13);
    }
    CHECK(ig->Complete(1e-12));
    CHECK(gxi->Complete(1e-12));
    CHECK(ig->steps == 1);
    CHECK(gxi->steps == 0);
  }

  TEST_CASE("integrated gradients: completeness error falls as 1 / steps^2") {
    std::mt19937 rng(2);
    using A = maas::Activation;
    auto net = maas::DynamicNetwork<double>::FromModelFile(
        AttributionFile({5, 13, 13, 2}, {A::kTanh, A::kGelu, A::kIdentity}, rng));
    REQUIRE(net.ok());
    const std::vector<double> x = {1.5, -0.7, 0.4, 2.2, -1.9}, b(5, 0.0);
    double previous = 0;
    for (int steps : {8, 32, 128}) {
      auto ig = maas::IntegratedGradients(*net, absl::MakeConstSpan(x), absl::MakeConstSpan(b),
                                          maas::IntegratedGradientsOptions{steps});
      REQUIRE(ig.ok());
      const double r = std::max(std::abs(ig->residual[0]), std::abs(ig->residual[1]));
      CAPTURE(steps);
      CAPTURE(r);
      if (previous > 0) CHECK(previous / r > 10);  // 16 in the limit
      previous = r;
      if (steps == 128) CHECK(ig->Complete(1e-4));
    }
  }

  TEST_CASE("integrated gradients are the path integral of the Jacobian") {
    std::mt19937 rng(3);
    using A = maas::Activation;
    auto net = maas::DynamicNetwork<double>::FromModelFile(
        AttributionFile({3, 7, 2}, {A::kSilu, A::kSoftmax}, rng));
    REQUIRE(net.ok());
    const std::vector<double> x = {0.8, -1.1, 0.5}, b = {-0.2, 0.3, 0.0};
    auto ig = maas::IntegratedGradients(*net, absl::MakeConstSpan(x), absl::MakeConstSpan(b),
                                        maas::IntegratedGradientsOptions{200});
    REQUIRE(ig.ok());
    // Trapezoid rule on 4001 points of the same path, independently summed.
    constexpr int kPoints = 4001;
    std::vector<double> want(6, 0.0), p(3), jac(6);
    for (int k = 0; k < kPoints; ++k) {
      const double t = static_cast<double>(k) / (kPoints - 1);
      for (std::size_t i = 0; i < 3; ++i) p[i] = b[i] + t * (x[i] - b[i]);
      REQUIRE(maas::Jacobian(*net, p.data(), jac.data()).ok());
      const double w = (k == 0 || k == kPoints - 1) ? 0.5 : 1.0;
      for (std::size_t e = 0; e < 6; ++e) want[e] += w * jac[e] / (kPoints - 1);
    }
    for (std::size_t o = 0; o < 2; ++o) {
      for (std::size_t i = 0; i < 3; ++i) {
        CHECK(ig->values[o * 3 + i] ==
              doctest::Approx((x[i] - b[i]) * want[o * 3 + i]).epsilon(1e-5));
      }
    }
  }

  TEST_CASE("bad arguments fail with kInvalidArgument") {
    std::mt19937 rng(4);
    using A = maas::Activation;
    auto net = maas::DynamicNetwork<double>::FromModelFile(
        AttributionFile({2, 3, 1}, {A::kTanh, A::kIdentity}, rng));
    REQUIRE(net.ok());
    const std::vector<double> x = {0.1, 0.2}, three = {1, 2, 3}, nan = {0.0, std::nan("")};
    CHECK(maas::GradientTimesInput(*net, absl::MakeConstSpan(three)).status().code() ==
          absl::StatusCode::kInvalidArgument);
    CHECK(maas::IntegratedGradients(*net, absl::MakeConstSpan(x), absl::MakeConstSpan(nan))
              .status()
              .code() == absl::StatusCode::kInvalidArgument);
    CHECK(maas::IntegratedGradients(*net, absl::MakeConstSpan(x), absl::MakeConstSpan(x),
                                    maas::IntegratedGradientsOptions{0})
              .status()
              .code() == absl::StatusCode::kInvalidArgument);
  }
}

}  // namespace
