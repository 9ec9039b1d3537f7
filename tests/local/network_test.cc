#include "maas/local/network.h"

#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <vector>

#include "absl/strings/str_cat.h"
#include "doctest/doctest.h"
#include "local/reference_mlp.h"
#include "maas/local/kernels/scalar.h"
#include "testing/status_doctest.h"

using maas::Activation;

namespace {

// Loads reference layers into a maas network of the same architecture.
template <typename Net>
std::unique_ptr<Net> FromRef(const std::vector<maas_test::RefLayer>& layers) {
  auto net = std::make_unique<Net>();
  for (std::size_t l = 0; l < layers.size(); ++l) {
    REQUIRE(net->SetLayer(l, absl::MakeConstSpan(layers[l].w),
                          absl::MakeConstSpan(layers[l].b)).ok());
  }
  return net;
}

// Runs `rows` random rows through `net` both one at a time and as a batch and
// compares with the reference; returns the max relative error seen.
template <typename Net>
double MaxRelErr(const Net& net, const std::vector<maas_test::RefLayer>& layers,
                 std::size_t rows, std::mt19937& rng) {
  using T = typename Net::ValueType;
  std::uniform_real_distribution<double> u(-2, 2);
  std::vector<T> x(rows * Net::kInputSize), y(rows * Net::kOutputSize),
      y1(Net::kOutputSize);
  for (T& v : x) v = static_cast<T>(u(rng));
  net.ForwardBatch(x.data(), rows, y.data());
  double worst = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    std::vector<double> xr(x.begin() + r * Net::kInputSize,
                           x.begin() + (r + 1) * Net::kInputSize);
    auto want = maas_test::RefForward(layers, xr);
    net.Forward(x.data() + r * Net::kInputSize, y1.data());
    for (std::size_t j = 0; j < Net::kOutputSize; ++j) {
      worst = std::max(worst, maas_test::RelErr(y[r * Net::kOutputSize + j], want[j], 1e-3));
      CHECK(y1[j] == y[r * Net::kOutputSize + j]);  // batch == single row
    }
  }
  return worst;
}

}  // namespace

TEST_SUITE("activations") {
  // Expected values computed by hand (and with a calculator for exp/tanh).
  TEST_CASE("relu, sigmoid and tanh against hand-computed values") {
    double r[] = {-2.0, -0.0, 0.0, 3.5};
    maas::kernels::scalar::ActivateRow<double, Activation::kRelu>(r, 4);
    CHECK(r[0] == 0.0);
    CHECK(r[1] == 0.0);
    CHECK(r[3] == 3.5);

    double s[] = {0.0, 2.0, -2.0, 800.0, -800.0};
    maas::kernels::scalar::ActivateRow<double, Activation::kSigmoid>(s, 5);
    CHECK(s[0] == 0.5);
    CHECK(s[1] == doctest::Approx(0.8807970779778823).epsilon(1e-15));
    CHECK(s[2] == doctest::Approx(0.11920292202211755).epsilon(1e-15));
    CHECK(s[3] == 1.0);  // no overflow to NaN
    CHECK(s[4] >= 0.0);
    CHECK(s[4] < 1e-300);

    double t[] = {0.0, 1.0, -0.5, 50.0};
    maas::kernels::scalar::ActivateRow<double, Activation::kTanh>(t, 4);
    CHECK(t[0] == 0.0);
    CHECK(t[1] == doctest::Approx(0.7615941559557649).epsilon(1e-15));
    CHECK(t[2] == doctest::Approx(-0.46211715726000974).epsilon(1e-15));
    CHECK(t[3] == 1.0);

    double id[] = {-1.25, 7.0};
    maas::kernels::scalar::ActivateRow<double, Activation::kIdentity>(id, 2);
    CHECK(id[0] == -1.25);
    CHECK(id[1] == 7.0);
  }

  TEST_CASE("softmax of 1, 2, 3 against hand-computed values") {
    // e^-2, e^-1, 1 over their sum 1.5032147244080551
    double y[] = {1.0, 2.0, 3.0};
    maas::kernels::scalar::ActivateRow<double, Activation::kSoftmax>(y, 3);
    CHECK(y[0] == doctest::Approx(0.09003057317038046).epsilon(1e-14));
    CHECK(y[1] == doctest::Approx(0.24472847105479767).epsilon(1e-14));
    CHECK(y[2] == doctest::Approx(0.6652409557748219).epsilon(1e-14));
  }

  TEST_CASE("softmax stays finite and exact with logits of 1e4") {
    float y[] = {10000.f, 10000.f, -10000.f, 9999.f};
    maas::kernels::scalar::ActivateRow<float, Activation::kSoftmax>(y, 4);
    float sum = 0;
    for (float v : y) {
      CHECK(std::isfinite(v));
      sum += v;
    }
    CHECK(sum == doctest::Approx(1.0f).epsilon(1e-6));
    // e^0 : e^0 : e^-20000 : e^-1
    const double z = 2 + std::exp(-1.0);
    CHECK(y[0] == doctest::Approx(1 / z).epsilon(1e-6));
    CHECK(y[3] == doctest::Approx(std::exp(-1.0) / z).epsilon(1e-6));
    CHECK(y[2] == 0.0f);
  }

  TEST_CASE("parsing activation names, including scikit-learn's and the swish alias") {
    CHECK(*maas::ParseActivation("logistic") == Activation::kSigmoid);
    CHECK(*maas::ParseActivation("relu") == Activation::kRelu);
    CHECK(*maas::ParseActivation("linear") == Activation::kIdentity);
    CHECK(*maas::ParseActivation("swish") == Activation::kSilu);
    for (int i = 0; i < maas::kNumActivations; ++i) {
      const auto a = static_cast<Activation>(i);
      CHECK(*maas::ParseActivation(maas::ActivationName(a)) == a);
    }
    CHECK(maas::ActivationName(Activation::kGelu) == "gelu");
    CHECK(maas::ActivationName(Activation::kGeluTanh) == "gelu_tanh");
    CHECK(maas::ActivationName(Activation::kSilu) == "silu");
    CHECK(maas::ActivationName(Activation::kSoftplus) == "softplus");
    CHECK(maas::ActivationName(Activation::kLeakyRelu) == "leaky_relu");
    CHECK(maas::ActivationName(Activation::kElu) == "elu");
    const absl::Status s = maas::ParseActivation("mish").status();
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(s.message() ==
          "unknown activation 'mish' (expected identity, relu, sigmoid, tanh, softmax, "
          "gelu, gelu_tanh, silu, softplus, leaky_relu or elu)");
    CHECK(maas::ParseActivation("GELU").status().code() == absl::StatusCode::kInvalidArgument);
  }

  TEST_CASE("gelu, gelu_tanh, silu, softplus, leaky_relu and elu against known values") {
    // Phi(1) = 0.8413447460685429; erfc(3 / sqrt 2) = 2 * 0.0013498980316301;
    // tanh form at 1: 0.5 (1 + tanh(sqrt(2/pi) 1.044715)); log(1 + e^2);
    // 1 / (1 + e^-1); e^-1 - 1.
    namespace s = maas::kernels::scalar;
    CHECK(s::Activate<double, Activation::kGelu>(1.0, 0) ==
          doctest::Approx(0.8413447460685429).epsilon(1e-14));
    CHECK(s::Activate<double, Activation::kGelu>(-1.0, 0) ==
          doctest::Approx(-0.15865525393145707).epsilon(1e-14));
    CHECK(s::Activate<double, Activation::kGelu>(-3.0, 0) ==
          doctest::Approx(-0.004049694094890287).epsilon(1e-13));
    CHECK(s::Activate<double, Activation::kGeluTanh>(1.0, 0) ==
          doctest::Approx(0.8411919906082768).epsilon(1e-14));
    CHECK(s::Activate<double, Activation::kGeluTanh>(-1.0, 0) ==
          doctest::Approx(-0.15880800939172324).epsilon(1e-14));
    CHECK(s::Activate<double, Activation::kSilu>(1.0, 0) ==
          doctest::Approx(0.7310585786300049).epsilon(1e-15));
    CHECK(s::Activate<double, Activation::kSoftplus>(0.0, 0) ==
          doctest::Approx(0.6931471805599453).epsilon(1e-15));
    CHECK(s::Activate<double, Activation::kSoftplus>(2.0, 0) ==
          doctest::Approx(2.1269280110429727).epsilon(1e-15));
    CHECK(s::Activate<double, Activation::kSoftplus>(-800.0, 0) == 0.0);
    CHECK(s::Activate<double, Activation::kSoftplus>(800.0, 0) == 800.0);
    CHECK(s::Activate<double, Activation::kLeakyRelu>(-2.0, 0.01) == -0.02);
    CHECK(s::Activate<double, Activation::kLeakyRelu>(3.0, 0.01) == 3.0);
    CHECK(s::Activate<double, Activation::kElu>(-1.0, 1.0) ==
          doctest::Approx(-0.6321205588285577).epsilon(1e-15));
    CHECK(s::Activate<double, Activation::kElu>(-1.0, 2.0) ==
          doctest::Approx(-1.2642411176571154).epsilon(1e-15));
    CHECK(s::Activate<double, Activation::kElu>(0.5, 2.0) == 0.5);
  }
}

TEST_SUITE("Network") {
  TEST_CASE_TEMPLATE("odd layer sizes 1, 3, 7, 17, 33 match the reference", T,
                     float, double) {
    using Net = maas::Network<T, maas::Dense<3, 7, maas::Relu>,
                              maas::Dense<7, 17, maas::Tanh>,
                              maas::Dense<17, 33, maas::Sigmoid>,
                              maas::Dense<33, 1>>;
    using Net2 = maas::Network<T, maas::Dense<1, 33, maas::Tanh>,
                               maas::Dense<33, 7, maas::Softmax>>;
    std::mt19937 rng(42);
    std::vector<maas_test::RefLayer> ref = {
        maas_test::RandomLayer(3, 7, Activation::kRelu, rng),
        maas_test::RandomLayer(7, 17, Activation::kTanh, rng),
        maas_test::RandomLayer(17, 33, Activation::kSigmoid, rng),
        maas_test::RandomLayer(33, 1, Activation::kIdentity, rng)};
    std::vector<maas_test::RefLayer> ref2 = {
        maas_test::RandomLayer(1, 33, Activation::kTanh, rng),
        maas_test::RandomLayer(33, 7, Activation::kSoftmax, rng)};
    // float: ~1e-6 rounding per op over <= 33-term sums; double: ~1e-15.
    const double tol = std::is_same_v<T, float> ? 2e-5 : 1e-12;
    for (std::size_t rows : {1u, 2u, 5u, 8u, 9u, 64u}) {
      CAPTURE(rows);
      CHECK(MaxRelErr(*FromRef<Net>(ref), ref, rows, rng) < tol);
      CHECK(MaxRelErr(*FromRef<Net2>(ref2), ref2, rows, rng) < tol);
    }
  }

  TEST_CASE_TEMPLATE("every activation in one network, alpha set per layer, matches the reference",
                     T, float, double) {
    using Net = maas::Network<T, maas::Dense<5, 17, maas::Gelu>,
                              maas::Dense<17, 9, maas::LeakyRelu>,
                              maas::Dense<9, 33, maas::Elu>, maas::Dense<33, 3, maas::Silu>,
                              maas::Dense<3, 7, maas::GeluTanh>,
                              maas::Dense<7, 2, maas::Softplus>>;
    std::mt19937 rng(11);
    std::vector<maas_test::RefLayer> ref = {
        maas_test::RandomLayer(5, 17, Activation::kGelu, rng),
        maas_test::RandomLayer(17, 9, Activation::kLeakyRelu, rng),
        maas_test::RandomLayer(9, 33, Activation::kElu, rng),
        maas_test::RandomLayer(33, 3, Activation::kSilu, rng),
        maas_test::RandomLayer(3, 7, Activation::kGeluTanh, rng),
        maas_test::RandomLayer(7, 2, Activation::kSoftplus, rng)};
    ref[1].alpha = 0.3;
    ref[2].alpha = 0.7;
    auto net = FromRef<Net>(ref);
    CHECK(net->layer_alpha(1) == T(0.01));  // defaults before they are set
    CHECK(net->layer_alpha(2) == T(1));
    CHECK(net->layer_alpha(0) == T(0));
    REQUIRE(net->SetLayerAlpha(1, 0.3).ok());
    REQUIRE(net->SetLayerAlpha(2, 0.7).ok());
    CHECK(net->SetLayerAlpha(0, 0.5).message() == "layer 0: activation gelu takes no alpha");
    CHECK(net->SetLayerAlpha(1, std::nan("")).message() ==
          absl::StrCat("layer 1: alpha nan is not a finite ",
                       std::is_same_v<T, float> ? "float" : "double"));
    CHECK(net->SetLayerAlpha(9, 0.5).message() == "layer 9: the network has only 6 layers");
    CHECK(net->layer_alpha(1) == T(0.3));
    const double tol = std::is_same_v<T, float> ? 2e-5 : 1e-12;
    for (std::size_t rows : {1u, 3u, 64u}) {
      CAPTURE(rows);
      CHECK(MaxRelErr(*net, ref, rows, rng) < tol);
    }
  }

  TEST_CASE("input standardisation and output scaling are applied") {
    using Net = maas::Network<double, maas::Dense<2, 1>>;
    Net net;
    const double w[] = {1.0, 10.0}, b[] = {0.5};
    REQUIRE(net.SetLayer(0, absl::MakeConstSpan(w), absl::MakeConstSpan(b)).ok());
    const double mean[] = {1.0, 2.0}, sd[] = {2.0, 4.0};
    REQUIRE(net.SetInputScaling(absl::MakeConstSpan(mean), absl::MakeConstSpan(sd)).ok());
    const double scale[] = {3.0}, offset[] = {-1.0};
    REQUIRE(net.SetOutputScaling(absl::MakeConstSpan(scale), absl::MakeConstSpan(offset)).ok());
    const double x[] = {5.0, 10.0};
    double y = 0;
    net.Forward(x, &y);
    // ((5-1)/2 * 1 + (10-2)/4 * 10 + 0.5) * 3 - 1 = (2 + 20 + 0.5) * 3 - 1
    CHECK(y == doctest::Approx(66.5).epsilon(1e-15));
  }

  TEST_CASE("setters reject wrong sizes and non-finite values and change nothing") {
    using Net = maas::Network<float, maas::Dense<2, 3, maas::Relu>, maas::Dense<3, 1>>;
    Net net;
    const float w6[] = {1, 2, 3, 4, 5, 6}, b3[] = {1, 2, 3};
    const float w5[] = {1, 2, 3, 4, 5};
    absl::Status s = net.SetLayer(0, absl::MakeConstSpan(w5), absl::MakeConstSpan(b3));
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(s.message() == "layer 0: expected 2x3 = 6 weights, got 5");
    const float nan_w[] = {1, 2, std::numeric_limits<float>::quiet_NaN(), 4, 5, 6};
    s = net.SetLayer(0, absl::MakeConstSpan(nan_w), absl::MakeConstSpan(b3));
    CHECK(s.message() == "layer 0 weights[2] is not finite (nan)");
    CHECK(net.params<0>().weights[0] == 0.f);  // unchanged
    CHECK(net.SetLayer(2, absl::MakeConstSpan(w6), absl::MakeConstSpan(b3)).code() ==
          absl::StatusCode::kInvalidArgument);
    const float zero_sd[] = {1, 0}, m[] = {0, 0};
    CHECK(net.SetInputScaling(absl::MakeConstSpan(m), absl::MakeConstSpan(zero_sd)).message() ==
          "input std[1] is 0");
  }

  TEST_CASE("weights are padded to whole 64-byte rows with zeros") {
    using Net = maas::Network<float, maas::Dense<3, 17>>;
    static_assert(maas::DenseParams<float, 3, 17>::kStride == 32);
    static_assert(maas::DenseParams<double, 3, 17>::kStride == 24);
    static_assert(alignof(maas::DenseParams<float, 3, 17>) == 64);
    Net net;
    std::vector<float> w(3 * 17, 1.0f), b(17, 1.0f);
    REQUIRE(net.SetLayer(0, absl::MakeConstSpan(w), absl::MakeConstSpan(b)).ok());
    for (std::size_t i = 0; i < 3; ++i)
      for (std::size_t j = 17; j < 32; ++j) CHECK(net.params<0>().weights[i * 32 + j] == 0.f);
  }

  TEST_CASE("sizes and activations are visible at compile time") {
    using Net = maas::Network<float, maas::Dense<16, 64, maas::Relu>,
                              maas::Dense<64, 64, maas::Relu>,
                              maas::Dense<64, 8, maas::Softmax>>;
    static_assert(Net::kInputSize == 16 && Net::kOutputSize == 8);
    static_assert(Net::kNumLayers == 3);
    static_assert(Net::layer_output_size(1) == 64);
    static_assert(Net::layer_activation(2) == Activation::kSoftmax);
    CHECK(Net::kMaxWidth == 64);
  }
}
