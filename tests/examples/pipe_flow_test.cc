// The pipe-flow example (examples/pipe_flow): the physics against closed
// forms, the learned regime classifier against the exact switch it was
// trained on, and the learned drain against the exact-switch drain.
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <memory>

#include "doctest/doctest.h"
#include "maas/local/model_file.h"
#include "pipe_flow/physics.h"
#include "pipe_flow/pipe_regime_model.h"
#include "pipe_flow/surrogate_regime.h"
#include "testing/status_doctest.h"

namespace {

using pipe_flow::Params;
using pipe_flow::Regime;

// Same architecture as examples/pipe_flow/main.cc.
using RegimeNet = maas::Network<double, maas::Dense<1, 16, maas::Tanh>,
                                maas::Dense<16, 3, maas::Softmax>>;

std::unique_ptr<maas::LocalModel<RegimeNet>> LoadRegimeModel() {
  auto model = maas::LoadLocalModelFromText<RegimeNet>(
      absl::string_view(pipe_flow::kPipeRegimeModelJson.data(),
                        pipe_flow::kPipeRegimeModelJson.size()),
      "<embedded pipe_regime.json>");
  REQUIRE_MESSAGE(model.ok(), model.status());
  return std::move(*model);
}

absl::StatusOr<Regime> Exact(double re) { return pipe_flow::ExactRegime(re); }

}  // namespace

TEST_SUITE("pipe flow example") {
  TEST_CASE("correlations are continuous across the regime switches") {
    // The transitional interpolation meets both neighbours, so a regime
    // misjudged near a threshold costs little.
    const Params p;
    for (double re : {pipe_flow::kReLaminar, pipe_flow::kReTurbulent}) {
      const Regime below = pipe_flow::ExactRegime(re * (1 - 1e-12));
      const Regime above = pipe_flow::ExactRegime(re);
      CHECK(pipe_flow::FrictionFactor(below, re, p) ==
            doctest::Approx(pipe_flow::FrictionFactor(above, re, p)).epsilon(1e-9));
      CHECK(pipe_flow::Nusselt(below, re, p) ==
            doctest::Approx(pipe_flow::Nusselt(above, re, p)).epsilon(1e-9));
    }
    CHECK(pipe_flow::LaminarF(2000.0) == doctest::Approx(0.032));
  }

  TEST_CASE("laminar drain matches the closed form") {
    // With f = 64/Re and no inlet/velocity-head terms, g h = 32 nu L V / D^2,
    // so V = g D^2 h / (32 nu L) and the level decays exponentially:
    // h(t) = h0 exp(-t / tau), tau = 32 nu L A_tank / (g D^2 A_pipe).
    // Our energy balance keeps the (1 + K) V^2 / 2 term; in a long, thin
    // pipe at low level it is < 1e-3 of the friction term, which bounds the
    // difference.
    Params p;
    p.level0 = 0.01;
    p.level_end = 0.002;
    p.length = 50.0;
    p.diameter = 0.002;
    p.tank_area = 0.01;
    const double dt = 0.5;
    auto tr = pipe_flow::Simulate(p, dt, 1000000, [](double) -> absl::StatusOr<Regime> {
      return Regime::kLaminar;
    });
    REQUIRE(tr.ok());
    const double tau = 32.0 * p.nu * p.length * p.tank_area /
                       (pipe_flow::kGravity * p.diameter * p.diameter * p.pipe_area());
    double worst = 0;
    for (const auto& s : tr->samples) {
      const double exact = p.level0 * std::exp(-s.t / tau);
      worst = std::max(worst, std::abs(s.level - exact) / p.level0);
    }
    std::printf("pipe_flow: laminar drain vs closed form (tau %.0f s, dt %.1f s, %zu steps): "
                "max level error %.2e of h0\n",
                tau, dt, tr->samples.size(), worst);
    // Explicit Euler: O(dt / tau) ~ 1e-4, plus the velocity-head term.
    CHECK(worst < 2e-3);
    CHECK(worst > 0);
  }

  TEST_CASE("the classifier agrees with the exact switch away from the thresholds") {
    auto model = LoadRegimeModel();
    auto surrogate = pipe_flow::SurrogateRegime::Create(*model);
    REQUIRE(surrogate.ok());
    std::size_t n = 0, wrong = 0, wrong_far = 0;
    for (double lg = 2.5; lg <= 5.5; lg += 0.001) {
      const double re = std::pow(10.0, lg);
      auto r = (*surrogate)(re);
      REQUIRE(r.ok());
      ++n;
      if (*r != pipe_flow::ExactRegime(re)) {
        ++wrong;
        // Beyond 10% of a threshold the classifier must be right.
        if (std::abs(re / pipe_flow::kReLaminar - 1) > 0.1 &&
            std::abs(re / pipe_flow::kReTurbulent - 1) > 0.1) {
          ++wrong_far;
        }
      }
    }
    std::printf("pipe_flow: classifier vs exact switch on a log grid: %zu of %zu wrong, %zu "
                "of them more than 10%% from a threshold\n", wrong, n, wrong_far);
    CHECK(wrong_far == 0);
    CHECK(static_cast<double>(wrong) < 0.02 * static_cast<double>(n));
  }

  TEST_CASE("learned drain: regimes agree on >= 97% of the steps, level within 0.05%") {
    auto model = LoadRegimeModel();
    auto surrogate = pipe_flow::SurrogateRegime::Create(*model);
    REQUIRE(surrogate.ok());
    const Params p;
    auto got = pipe_flow::Simulate(p, 2.0, 1000000,
                                   [&](double re) { return (*surrogate)(re); });
    auto ref = pipe_flow::Simulate(p, 2.0, 1000000, Exact);
    REQUIRE(got.ok());
    REQUIRE(ref.ok());
    REQUIRE(got->drained);
    REQUIRE(ref->drained);
    const pipe_flow::Comparison c = pipe_flow::Compare(*got, *ref);
    std::size_t laminar = 0, transitional = 0;
    for (const auto& s : ref->samples) {
      laminar += s.regime == Regime::kLaminar;
      transitional += s.regime == Regime::kTransitional;
    }
    std::printf("pipe_flow: %zu steps (%zu laminar, %zu transitional), regimes agree on "
                "%.3f%%, max level error %.3g m, max velocity error %.3g, max wall "
                "temperature error %.3g K, drain time error %.0f s\n",
                c.steps, laminar, transitional, 100 * c.regime_match_fraction(),
                c.max_level_error, c.max_rel_velocity_error, c.max_wall_temp_error,
                c.drain_time_error);
    // The drain must cross every regime for the comparison to mean anything.
    CHECK(laminar > 100);
    CHECK(transitional > 100);
    CHECK(c.regime_match_fraction() >= 0.97);
    CHECK(c.max_level_error <= 5e-4 * p.level0);
    CHECK(c.max_rel_velocity_error <= 0.05);
    CHECK(c.max_wall_temp_error <= 0.5);
    CHECK(c.drain_time_error <= 0.01 * ref->drain_time);
  }
}
