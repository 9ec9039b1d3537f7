// maas/local/jacobian.h: the derivatives of the local network against
//  * JAX's forward-mode Jacobians (an independent autodiff; committed
//    reference values, tests/local/data/make_jacobian_reference.py) for
//    every activation and odd sizes, through the compile-time and the
//    run-time network, float and double;
//  * central finite differences of the network's own Forward in double
//    (max-norm relative error <= 1e-7; random points, away from ReLU kinks
//    with probability 1);
//  * exact identities: softmax outputs sum to 1, so the columns of their
//    Jacobian sum to 0; an all-identity network's Jacobian is the product
//    of its weight matrices (with the scaling);
//  * each other: J v, u^T J, the batch form and the value against Forward
//    (the SIMD kernels, fast and reproducible plans) to rounding.
#include "maas/local/jacobian.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "doctest/doctest.h"
#include "local/ref_model_file.h"
#include "local/reference_mlp.h"
#include "maas/local/dynamic_network.h"
#include "maas/local/model_file.h"
#include "maas/local/network.h"
#include "nlohmann/json.hpp"
#include "testing/status_doctest.h"

// Requires an OK status, printing it otherwise.
#define JAC_REQUIRE_OK(expr) REQUIRE((expr) == absl::OkStatus())

namespace {

using maas::Activation;
using maas::Dense;
using kernels_view_t = maas::kernels::NetworkView<double>;

// The reference layers as a model file (float64 signature).
maas::ModelFile FileOf(const std::vector<maas_test::RefLayer>& layers, bool scaling,
                       std::mt19937& rng) {
  return maas_test::RefModelFile(layers, scaling, rng, maas::DataType::kFloat64);
}

std::vector<maas_test::RefLayer> Layers(const std::vector<std::size_t>& s,
                                        const std::vector<Activation>& a, std::mt19937& rng) {
  std::vector<maas_test::RefLayer> layers;
  for (std::size_t l = 0; l + 1 < s.size(); ++l) {
    layers.push_back(maas_test::RandomLayer(s[l], s[l + 1], a[l], rng));
    layers.back().alpha = a[l] == Activation::kLeakyRelu ? 0.3 : 1.7;
  }
  return layers;
}

// max |a - b| / max |b|.
double MaxRelErr(const std::vector<double>& a, const std::vector<double>& b) {
  double num = 0, den = 0;
  for (std::size_t k = 0; k < a.size(); ++k) {
    num = std::max(num, std::abs(a[k] - b[k]));
    den = std::max(den, std::abs(b[k]));
  }
  return num / std::max(den, 1e-300);
}

// Central differences of net.Forward in double, step h (1 + |x_i|).
template <typename Net>
std::vector<double> FiniteDifferences(const Net& net, const std::vector<double>& x, double h) {
  const std::size_t n_in = x.size();
  std::vector<double> y_plus(net.output_size()), y_minus(net.output_size());
  std::vector<double> jac(net.output_size() * n_in);
  for (std::size_t i = 0; i < n_in; ++i) {
    std::vector<double> xp = x, xm = x;
    const double step = h * (1.0 + std::abs(x[i]));
    xp[i] += step;
    xm[i] -= step;
    net.Forward(xp.data(), y_plus.data());
    net.Forward(xm.data(), y_minus.data());
    for (std::size_t o = 0; o < net.output_size(); ++o) {
      jac[o * n_in + i] = (y_plus[o] - y_minus[o]) / (xp[i] - xm[i]);
    }
  }
  return jac;
}

std::vector<double> RandomVector(std::size_t n, std::mt19937& rng, double lo = -2, double hi = 2) {
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (double& e : v) e = u(rng);
  return v;
}

nlohmann::json LoadReference() {
  std::ifstream in(std::string(MAAS_TEST_SOURCE_DIR) + "/tests/local/data/jacobian_reference.json");
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

// The Jacobian of every JAX case by a network of element type T.
template <typename T>
void CompareWithJax(maas::Numerics numerics, double tol) {
  const nlohmann::json ref = LoadReference();
  REQUIRE(ref["cases"].size() >= 15);
  double worst = 0;
  for (const nlohmann::json& c : ref["cases"]) {
    const std::string name = c["name"].get<std::string>();
    CAPTURE(name);
    auto file = maas::ParseModelFile(c["model"].dump(), name);
    JAC_REQUIRE_OK(file.status());
    auto net = maas::DynamicNetwork<T>::FromModelFile(*file, {numerics}, name);
    JAC_REQUIRE_OK(net.status());
    const std::size_t n_in = net->input_size(), n_out = net->output_size();
    for (std::size_t r = 0; r < c["x"].size(); ++r) {
      std::vector<T> x(n_in), y(n_out), jac(n_in * n_out);
      for (std::size_t i = 0; i < n_in; ++i) x[i] = static_cast<T>(c["x"][r][i].get<double>());
      JAC_REQUIRE_OK(maas::ValueAndJacobian(*net, x.data(), y.data(), jac.data()));
      std::vector<double> got(jac.begin(), jac.end()), want, got_y(y.begin(), y.end()), want_y;
      for (std::size_t o = 0; o < n_out; ++o) {
        want_y.push_back(c["y"][r][o].get<double>());
        for (std::size_t i = 0; i < n_in; ++i) want.push_back(c["jacobian"][r][o][i].get<double>());
      }
      CHECK(MaxRelErr(got_y, want_y) < tol);
      CHECK(MaxRelErr(got, want) < tol);
      worst = std::max(worst, MaxRelErr(got, want));
    }
  }
  MESSAGE("worst max-norm relative error against JAX (", std::string(sizeof(T) == 8 ? "double" : "float"),
          "): ", worst);
}

TEST_SUITE("jacobian") {
  TEST_CASE("matches JAX for every activation and odd sizes (double, float)") {
    CompareWithJax<double>(maas::Numerics::kFast, 1e-12);
    CompareWithJax<double>(maas::Numerics::kReproducible, 1e-12);
    CompareWithJax<float>(maas::Numerics::kFast, 2e-5);
  }

  TEST_CASE("the compile-time network gives the run-time network's derivatives") {
    const nlohmann::json ref = LoadReference();
    for (const nlohmann::json& c : ref["cases"]) {
      if (c["name"] != "deep_4_9_9_9_3") continue;
      auto file = maas::ParseModelFile(c["model"].dump(), "deep");
      JAC_REQUIRE_OK(file.status());
      using Net = maas::Network<double, Dense<4, 9, maas::Silu>, Dense<9, 9, maas::Elu>,
                                Dense<9, 9, maas::GeluTanh>, Dense<9, 3, maas::Softmax>>;
      auto net = maas::BuildNetwork<Net>(*file, "deep");
      JAC_REQUIRE_OK(net.status());
      for (std::size_t r = 0; r < c["x"].size(); ++r) {
        std::vector<double> x = c["x"][r].get<std::vector<double>>();
        std::vector<double> jac(12), want;
        JAC_REQUIRE_OK(maas::Jacobian(**net, x.data(), jac.data()));
        for (std::size_t o = 0; o < 3; ++o) {
          for (std::size_t i = 0; i < 4; ++i) want.push_back(c["jacobian"][r][o][i].get<double>());
        }
        CHECK(MaxRelErr(jac, want) < 1e-12);
      }
    }
  }

  TEST_CASE("matches central finite differences in double for every activation") {
    std::mt19937 rng(11);
    double worst = 0;
    for (int a = 0; a < maas::kNumActivations; ++a) {
      const auto act = static_cast<Activation>(a);
      CAPTURE(maas::ActivationName(act));
      std::vector<std::vector<maas_test::RefLayer>> nets;
      if (act == Activation::kSoftmax) {
        nets.push_back(Layers({5, 13, 2}, {Activation::kTanh, act}, rng));
        nets.push_back(Layers({3, 7, 4}, {Activation::kSigmoid, act}, rng));
      } else {
        nets.push_back(Layers({1, 1}, {act}, rng));
        nets.push_back(Layers({3, 7, 1}, {act, Activation::kIdentity}, rng));
        nets.push_back(Layers({5, 13, 2}, {act, act}, rng));
        nets.push_back(Layers({2, 40, 17, 3}, {act, act, Activation::kIdentity}, rng));
      }
      for (const auto& layers : nets) {
        for (bool scaling : {false, true}) {
          const maas::ModelFile file = FileOf(layers, scaling, rng);
          auto net = maas::DynamicNetwork<double>::FromModelFile(file);
          JAC_REQUIRE_OK(net.status());
          for (int trial = 0; trial < 4; ++trial) {
            const std::vector<double> x = RandomVector(net->input_size(), rng);
            std::vector<double> jac(net->input_size() * net->output_size());
            JAC_REQUIRE_OK(maas::Jacobian(*net, x.data(), jac.data()));
            const double err = MaxRelErr(FiniteDifferences(*net, x, 1e-5), jac);
            CAPTURE(net->input_size());
            CAPTURE(net->output_size());
            CHECK(err <= 1e-7);
            worst = std::max(worst, err);
          }
        }
      }
    }
    MESSAGE("worst max-norm relative difference from central differences: ", worst);
  }

  TEST_CASE("a NaN input gives a NaN value and a NaN Jacobian for every activation") {
    // ReLU's and leaky ReLU's derivative at a NaN was 0 or alpha, so the
    // Jacobian at a NaN input came out finite (and ReLU's value 0).
    std::mt19937 rng(12);
    for (int a = 0; a < maas::kNumActivations; ++a) {
      const auto act = static_cast<Activation>(a);
      if (act == Activation::kIdentity) continue;  // a linear map: J is W, NaN or not
      CAPTURE(maas::ActivationName(act));
      const auto layers = act == Activation::kSoftmax
                              ? Layers({3, 7, 4}, {Activation::kRelu, act}, rng)
                              : Layers({3, 7, 4}, {act, Activation::kIdentity}, rng);
      auto net = maas::DynamicNetwork<double>::FromModelFile(FileOf(layers, true, rng));
      JAC_REQUIRE_OK(net.status());
      std::vector<double> x = RandomVector(3, rng);
      x[1] = std::numeric_limits<double>::quiet_NaN();
      std::vector<double> y(4, 0.0), jac(12, 0.0);
      JAC_REQUIRE_OK(maas::ValueAndJacobian(*net, x.data(), y.data(), jac.data()));
      for (double v : y) CHECK(std::isnan(v));
      for (double v : jac) CHECK(std::isnan(v));
    }
  }

  TEST_CASE("huge finite inputs give a finite value and Jacobian for every activation") {
    // gelu_tanh's derivative computed x^3 and x^2 of the pre-activation: past
    // 1e102 they overflowed and 0 * inf made the Jacobian NaN at a finite x.
    std::mt19937 rng(13);
    for (int a = 0; a < maas::kNumActivations; ++a) {
      const auto act = static_cast<Activation>(a);
      CAPTURE(maas::ActivationName(act));
      const auto layers = act == Activation::kSoftmax
                              ? Layers({3, 7, 4}, {Activation::kRelu, act}, rng)
                              : Layers({3, 7, 4}, {act, Activation::kIdentity}, rng);
      auto net = maas::DynamicNetwork<double>::FromModelFile(FileOf(layers, true, rng));
      JAC_REQUIRE_OK(net.status());
      for (const double scale : {1e6, 1e120, 1e200}) {
        CAPTURE(scale);
        std::vector<double> x = RandomVector(3, rng);
        for (double& v : x) v *= scale;
        std::vector<double> y(4, 0.0), jac(12, 0.0);
        JAC_REQUIRE_OK(maas::ValueAndJacobian(*net, x.data(), y.data(), jac.data()));
        for (double v : y) CHECK(std::isfinite(v));
        for (double v : jac) CHECK(std::isfinite(v));
      }
    }
  }

  TEST_CASE("softmax outputs' Jacobian columns sum to zero") {
    std::mt19937 rng(3);
    const auto layers = Layers({5, 13, 6}, {Activation::kGelu, Activation::kSoftmax}, rng);
    auto net = maas::DynamicNetwork<double>::FromModelFile(FileOf(layers, false, rng));
    JAC_REQUIRE_OK(net.status());
    for (int trial = 0; trial < 5; ++trial) {
      const std::vector<double> x = RandomVector(5, rng);
      std::vector<double> jac(30), y(6);
      JAC_REQUIRE_OK(maas::ValueAndJacobian(*net, x.data(), y.data(), jac.data()));
      double norm = 0;
      for (double v : jac) norm = std::max(norm, std::abs(v));
      REQUIRE(norm > 1e-3);
      for (std::size_t i = 0; i < 5; ++i) {
        double sum = 0;
        for (std::size_t o = 0; o < 6; ++o) sum += jac[o * 5 + i];
        CHECK(std::abs(sum) < 1e-14 * std::max(norm, 1.0));
      }
    }
  }

  TEST_CASE("an identity network's Jacobian is the product of its weight matrices") {
    std::mt19937 rng(4);
    const auto layers =
        Layers({3, 7, 5, 2}, {Activation::kIdentity, Activation::kIdentity, Activation::kIdentity},
               rng);
    const maas::ModelFile file = FileOf(layers, true, rng);
    auto net = maas::DynamicNetwork<double>::FromModelFile(file);
    JAC_REQUIRE_OK(net.status());
    // P = diag(1/std) W1 W2 W3 diag(scale) (inputs x outputs); J = P^T.
    std::vector<double> p(3 * 3, 0.0);
    for (std::size_t i = 0; i < 3; ++i) p[i * 3 + i] = 1.0 / file.input_std[i];
    std::size_t cols = 3;
    for (const maas_test::RefLayer& l : layers) {
      std::vector<double> q(3 * l.out, 0.0);
      for (std::size_t i = 0; i < 3; ++i)
        for (std::size_t k = 0; k < cols; ++k)
          for (std::size_t j = 0; j < l.out; ++j) q[i * l.out + j] += p[i * cols + k] * l.w[k * l.out + j];
      p = q;
      cols = l.out;
    }
    const std::vector<double> x = RandomVector(3, rng);
    std::vector<double> jac(6), want(6);
    JAC_REQUIRE_OK(maas::Jacobian(*net, x.data(), jac.data()));
    for (std::size_t o = 0; o < 2; ++o)
      for (std::size_t i = 0; i < 3; ++i) want[o * 3 + i] = p[i * 2 + o] * file.output_scale[o];
    CHECK(MaxRelErr(jac, want) < 1e-14);
  }

  TEST_CASE("J v, u^T J, the batch form and the value agree with the Jacobian and Forward") {
    std::mt19937 rng(5);
    const auto layers = Layers({6, 33, 20, 4},
                               {Activation::kTanh, Activation::kElu, Activation::kSoftmax}, rng);
    const maas::ModelFile file = FileOf(layers, true, rng);
    for (maas::Numerics num : {maas::Numerics::kFast, maas::Numerics::kReproducible}) {
      auto net = maas::DynamicNetwork<double>::FromModelFile(file, {num});
      JAC_REQUIRE_OK(net.status());
      constexpr std::size_t kRows = 5;
      const std::vector<double> xs = RandomVector(6 * kRows, rng);
      std::vector<double> ys(4 * kRows), jacs(24 * kRows), yf(4 * kRows);
      JAC_REQUIRE_OK(maas::JacobianBatch(*net, xs.data(), kRows, ys.data(), jacs.data()));
      net->ForwardBatch(xs.data(), kRows, yf.data());
      CHECK(MaxRelErr(ys, yf) < 1e-14);
      for (std::size_t r = 0; r < kRows; ++r) {
        const double* x = xs.data() + 6 * r;
        const double* jac = jacs.data() + 24 * r;
        std::vector<double> one(24), y1(4);
        JAC_REQUIRE_OK(maas::ValueAndJacobian(*net, x, y1.data(), one.data()));
        CHECK(std::equal(one.begin(), one.end(), jac));
        const std::vector<double> v = RandomVector(6, rng), u = RandomVector(4, rng);
        std::vector<double> jv(4), uj(6), jv_want(4, 0.0), uj_want(6, 0.0), yv(4), yu(4);
        JAC_REQUIRE_OK(maas::JacobianVectorProduct(*net, x, v.data(), yv.data(), jv.data()));
        JAC_REQUIRE_OK(maas::VectorJacobianProduct(*net, x, u.data(), yu.data(), uj.data()));
        for (std::size_t o = 0; o < 4; ++o) {
          for (std::size_t i = 0; i < 6; ++i) {
            jv_want[o] += jac[o * 6 + i] * v[i];
            uj_want[i] += u[o] * jac[o * 6 + i];
          }
        }
        CHECK(MaxRelErr(jv, jv_want) < 1e-13);
        CHECK(MaxRelErr(uj, uj_want) < 1e-13);
        CHECK(MaxRelErr(yv, y1) < 1e-15);
        CHECK(MaxRelErr(yu, y1) < 1e-15);
      }
    }
  }

  TEST_CASE("fast (SIMD plans) and reproducible networks: same derivatives, values as Forward") {
    std::mt19937 rng(6);
    using A = Activation;
    // Narrow last layers get the output-major layout in the fast mode.
    const auto layers = Layers({37, 64, 3, 1}, {A::kSilu, A::kTanh, A::kIdentity}, rng);
    const maas::ModelFile file = FileOf(layers, true, rng);
    using Fast = maas::Network<float, Dense<37, 64, maas::Silu>, Dense<64, 3, maas::Tanh>,
                               Dense<3, 1>>;
    using Repro = maas::ReproducibleNetwork<float, Dense<37, 64, maas::Silu>,
                                            Dense<64, 3, maas::Tanh>, Dense<3, 1>>;
    auto fast = maas::BuildNetwork<Fast>(file, "m");
    auto repro = maas::BuildNetwork<Repro>(file, "m");
    JAC_REQUIRE_OK(fast.status());
    JAC_REQUIRE_OK(repro.status());
    for (int trial = 0; trial < 5; ++trial) {
      const std::vector<double> xd = RandomVector(37, rng);
      std::vector<float> x(xd.begin(), xd.end()), jf(37), jr(37), yf(1), yr(1), yk(1);
      JAC_REQUIRE_OK(maas::ValueAndJacobian(**fast, x.data(), yf.data(), jf.data()));
      JAC_REQUIRE_OK(maas::ValueAndJacobian(**repro, x.data(), yr.data(), jr.data()));
      (*fast)->Forward(x.data(), yk.data());
      CHECK(MaxRelErr({jf.begin(), jf.end()}, {jr.begin(), jr.end()}) < 1e-5);
      CHECK(std::abs(yf[0] - yk[0]) <= 1e-5f * (1 + std::abs(yk[0])));
      CHECK(std::abs(yr[0] - yk[0]) <= 1e-5f * (1 + std::abs(yk[0])));
    }
  }

  TEST_CASE("forward and reverse mode give the same Jacobian") {
    std::mt19937 rng(9);
    using A = Activation;
    for (const auto& layers :
         {Layers({7, 20, 3}, {A::kSilu, A::kSoftmax}, rng),
          Layers({3, 31, 9, 8}, {A::kElu, A::kGeluTanh, A::kIdentity}, rng),
          Layers({12, 5, 12}, {A::kSoftplus, A::kSigmoid}, rng)}) {
      auto net = maas::DynamicNetwork<double>::FromModelFile(FileOf(layers, true, rng));
      JAC_REQUIRE_OK(net.status());
      const kernels_view_t view = net->network_view();
      const std::vector<double> x = RandomVector(net->input_size(), rng);
      const std::size_t n = net->input_size() * net->output_size();
      std::vector<double> fwd(n), rev(n), yf(net->output_size()), yr(net->output_size());
      constexpr std::size_t kCap = maas::kDerivativeScratchBytes / sizeof(double);
      std::vector<double> scratch(kCap);
      maas::derivative_internal::RowJacobianForward(view, x.data(), yf.data(), fwd.data(),
                                                    scratch.data(), kCap);
      maas::derivative_internal::RowJacobianReverse(view, x.data(), yr.data(), rev.data(),
                                                    scratch.data(), kCap);
      CHECK(MaxRelErr(fwd, rev) < 1e-14);
      CHECK(MaxRelErr(yf, yr) == 0.0);
      // Small scratch: one input / one output per block.
      const std::size_t width = maas::derivative_internal::MaxUnpadded(view);
      std::vector<double> fwd1(n), rev1(n);
      maas::derivative_internal::RowJacobianForward(view, x.data(), static_cast<double*>(nullptr), fwd1.data(),
                                                    scratch.data(), 5 * width);
      maas::derivative_internal::RowJacobianReverse(
          view, x.data(), static_cast<double*>(nullptr), rev1.data(), scratch.data(),
          maas::derivative_internal::ReverseScratch(view, width) + 2 * width);
      CHECK(fwd1 == fwd);
      CHECK(rev1 == rev);
    }
  }

  TEST_CASE("wide layers: blocks of inputs, recomputed reverse pass, and the width limit") {
    std::mt19937 rng(8);
    using A = Activation;
    // 5 W + the layers' z exceed the scratch: u^T J recomputes the forward
    // pass per layer; the Jacobian runs in reverse mode (3 outputs).
    const auto layers = Layers({10, 1800, 1800, 3}, {A::kTanh, A::kSoftplus, A::kIdentity}, rng);
    auto net = maas::DynamicNetwork<double>::FromModelFile(FileOf(layers, true, rng));
    JAC_REQUIRE_OK(net.status());
    const std::vector<double> x = RandomVector(10, rng);
    std::vector<double> jac(30);
    JAC_REQUIRE_OK(maas::Jacobian(*net, x.data(), jac.data()));
    CHECK(MaxRelErr(FiniteDifferences(*net, x, 1e-5), jac) < 1e-7);
    for (std::size_t o = 0; o < 3; ++o) {
      std::vector<double> u(3, 0.0), uj(10);
      u[o] = 1.0;
      JAC_REQUIRE_OK(maas::VectorJacobianProduct(*net, x.data(), u.data(), nullptr, uj.data()));
      CHECK(MaxRelErr(uj, {jac.begin() + 10 * o, jac.begin() + 10 * (o + 1)}) < 1e-13);
    }
    // More outputs than inputs: forward mode in blocks of 2 inputs.
    const auto tall = Layers({3, 1500, 1500, 10}, {A::kGelu, A::kTanh, A::kIdentity}, rng);
    auto net2 = maas::DynamicNetwork<double>::FromModelFile(FileOf(tall, true, rng));
    JAC_REQUIRE_OK(net2.status());
    const std::vector<double> x2 = RandomVector(3, rng);
    std::vector<double> jac2(30);
    JAC_REQUIRE_OK(maas::Jacobian(*net2, x2.data(), jac2.data()));
    CHECK(MaxRelErr(FiniteDifferences(*net2, x2, 1e-5), jac2) < 1e-7);

    const auto too_wide = Layers({2, 2100, 1}, {A::kRelu, A::kIdentity}, rng);
    auto wide = maas::DynamicNetwork<double>::FromModelFile(FileOf(too_wide, false, rng));
    JAC_REQUIRE_OK(wide.status());
    std::vector<double> j2(2, 42.0), y2(1, 42.0), xs{0.5, -0.5};
    const absl::Status s = maas::ValueAndJacobian(*wide, xs.data(), y2.data(), j2.data());
    CHECK(s.code() == absl::StatusCode::kResourceExhausted);
    CHECK(j2 == std::vector<double>{42.0, 42.0});
    CHECK(y2[0] == 42.0);
    std::vector<double> u{1.0}, uj(2, 42.0);
    CHECK(maas::VectorJacobianProduct(*wide, xs.data(), u.data(), nullptr, uj.data()).code() ==
          absl::StatusCode::kResourceExhausted);
    CHECK(uj == std::vector<double>{42.0, 42.0});
  }
}

}  // namespace
