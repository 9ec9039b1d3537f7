// The projectile example's physics and surrogate (examples/projectile):
// the integrator against a closed-form solution, the learned drag law against
// the correlation it was trained on, and the surrogate flight against the
// reference flight.
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "doctest/doctest.h"
#include "maas/local/model_file.h"
#include "projectile/drag_cd_model.h"
#include "projectile/physics.h"
#include "projectile/surrogate_drag.h"
#include "testing/status_doctest.h"

namespace {

using projectile::Params;
using projectile::State;

// Same architecture as examples/projectile/main.cc.
using DragNet = maas::Network<double, maas::Dense<1, 12, maas::Tanh>,
                              maas::Dense<12, 12, maas::Tanh>, maas::Dense<12, 1>>;

// Training range of tools/train_drag_model.py.
constexpr double kLog10ReMin = -1.0, kLog10ReMax = 5.3;

absl::StatusOr<double> Reference(double re) { return projectile::CliftGauvinCd(re); }
absl::StatusOr<double> Stokes(double re) { return projectile::StokesCd(re); }

// A 1 mm sphere light enough that Stokes drag dominates: tau = m / (3 pi mu d)
// = 0.5 s, so over 2 s the velocity decays by e^-4.
Params StokesParams() {
  Params p;
  p.diameter = 1.0e-3;
  p.mass = 0.5 * 3.0 * projectile::kPi * p.viscosity * p.diameter;
  return p;
}

// Largest position error of an RK4 flight with Stokes drag against the
// closed form, over [0, 2 s].
double StokesError(double dt) {
  const Params p = StokesParams();
  const State s0{0.0, 1.0, 2.5, 4.0};
  auto law = Stokes;
  const auto steps = static_cast<std::size_t>(std::lround(2.0 / dt));
  State s = s0;
  double max_err = 0;
  for (std::size_t n = 1; n <= steps; ++n) {
    auto d = projectile::Rk4Step(p, dt, law, &s);
    REQUIRE(d.ok());
    const State exact = projectile::LinearDragSolution(p, s0, static_cast<double>(n) * dt);
    max_err = std::max(max_err, std::hypot(s.x - exact.x, s.y - exact.y));
  }
  return max_err;
}

std::unique_ptr<maas::LocalModel<DragNet>> LoadDragModel() {
  auto model = maas::LoadLocalModel<DragNet>(MAAS_DRAG_MODEL_FILE);
  REQUIRE_MESSAGE(model.ok(), model.status());
  return std::move(*model);
}

}  // namespace

TEST_SUITE("projectile example") {
  TEST_CASE("RK4 with Stokes drag matches the closed-form solution") {
    // Over 2 s the sphere moves ~1.3 m; RK4's global error is O(dt^4).
    const double err = StokesError(1.0e-3);
    std::printf("projectile: RK4 vs analytic Stokes solution, dt = 1e-3 s: max "
                "position error %.3e m\n", err);
    CHECK(err < 1.0e-11);
    CHECK(err > 0);  // not the same code path computing the same thing
  }

  TEST_CASE("RK4 converges at fourth order") {
    const double coarse = StokesError(0.04), fine = StokesError(0.02);
    const double order = std::log2(coarse / fine);
    std::printf("projectile: RK4 observed order %.3f (errors %.3e, %.3e m)\n",
                order, coarse, fine);
    CHECK(order == doctest::Approx(4.0).epsilon(0.05));
  }

  TEST_CASE("Clift-Gauvin reduces to Stokes' law at low Re") {
    // 24/Re (1 + 0.15 Re^0.687): the correction is 0.15 * 1e-4^0.687 ~ 2.7e-4.
    CHECK(projectile::CliftGauvinCd(1.0e-4) / projectile::StokesCd(1.0e-4) ==
          doctest::Approx(1.0).epsilon(3e-4));
    // Newton regime plateau: Cd ~ 0.4-0.5 for Re 1e3..1e5.
    for (double re : {1.0e3, 1.0e4, 1.0e5}) {
      CAPTURE(re);
      CHECK(projectile::CliftGauvinCd(re) > 0.38);
      CHECK(projectile::CliftGauvinCd(re) < 0.5);
    }
  }

  TEST_CASE("the surrogate's Cd matches the correlation over the training range") {
    // Bound 0.25%: tools/train_drag_model.py reports 0.18% on a 20001-point grid.
    auto model = LoadDragModel();
    auto drag = projectile::SurrogateDrag::Create(*model);
    REQUIRE(drag.ok());
    double max_err = 0, at = 0;
    constexpr int kPoints = 10001;
    for (int i = 0; i < kPoints; ++i) {
      const double lg = kLog10ReMin + (kLog10ReMax - kLog10ReMin) * i / (kPoints - 1);
      const double re = std::pow(10.0, lg);
      auto cd = (*drag)(re);
      REQUIRE(cd.ok());
      const double err = maas_test::RelErr(*cd, projectile::CliftGauvinCd(re));
      if (err > max_err) {
        max_err = err;
        at = re;
      }
    }
    std::printf("projectile: surrogate Cd max rel error %.3e at Re = %.3g over "
                "Re in [1e%g, 1e%g]\n", max_err, at, kLog10ReMin, kLog10ReMax);
    CHECK(max_err < 2.5e-3);
    CHECK(drag->calls() == kPoints);
  }

  TEST_CASE("the embedded model is the repository's model file") {
    std::ifstream in(MAAS_DRAG_MODEL_FILE, std::ios::binary);
    REQUIRE(in.good());
    std::stringstream text;
    text << in.rdbuf();
    CHECK(text.str() == std::string(projectile::kDragCdModelJson));
  }

  TEST_CASE("surrogate flights stay within 0.1% of range of the reference") {
    // The surrogate's Cd is within 0.25% of the correlation and its error
    // changes sign along the Re axis, so trajectory errors stay far smaller
    // than 0.25% of the drag-induced displacement; 0.1% of the range is the
    // bound (measured: 0.005% to 0.02% of range, printed below).
    struct Case {
      double speed, angle_deg, diameter, mass;
    };
    auto model = LoadDragModel();
    for (const Case& c : {Case{90, 30, 6e-3, 0.25e-3}, Case{40, 60, 6e-3, 0.25e-3},
                          Case{150, 15, 6e-3, 0.25e-3}, Case{60, 45, 20e-3, 3e-3},
                          Case{20, 45, 2e-3, 0.01e-3}}) {
      CAPTURE(c.speed);
      CAPTURE(c.angle_deg);
      CAPTURE(c.diameter);
      Params p;
      p.diameter = c.diameter;
      p.mass = c.mass;
      const double a = c.angle_deg * projectile::kPi / 180;
      const State launch{0, 0, c.speed * std::cos(a), c.speed * std::sin(a)};
      auto drag = projectile::SurrogateDrag::Create(*model);
      REQUIRE(drag.ok());
      auto reference = Reference;
      auto got = projectile::Fly(p, launch, 1e-3, 100000, *drag);
      auto ref = projectile::Fly(p, launch, 1e-3, 100000, reference);
      REQUIRE(got.ok());
      REQUIRE(ref.ok());
      REQUIRE(got->landed);
      REQUIRE(ref->landed);
      // Inside the training range, so the comparison tests the fit.
      CHECK(ref->min_re > std::pow(10.0, kLog10ReMin));
      CHECK(ref->max_re < std::pow(10.0, kLog10ReMax));
      const projectile::Comparison cmp = projectile::Compare(*got, *ref);
      std::printf("projectile: %5.0f m/s %2.0f deg d=%4.1f mm: range %8.3f m, max "
                  "position error %.3e m (%.2e of range), landing error %.2e m\n",
                  c.speed, c.angle_deg, c.diameter * 1e3, cmp.ref_range,
                  cmp.max_position_error, cmp.relative_position_error(),
                  cmp.landing_error);
      CHECK(cmp.relative_position_error() < 1e-3);
      CHECK(cmp.relative_landing_error() < 1e-3);
      CHECK(drag->calls() == 4 * static_cast<std::int64_t>(got->samples.size() - 1));
    }
  }

  TEST_CASE("a failing drag law stops the flight with its status") {
    int calls = 0;
    auto failing = [&calls](double) -> absl::StatusOr<double> {
      if (++calls > 10) return absl::UnavailableError("drag server down");
      return 0.5;
    };
    auto traj = projectile::Fly(Params{}, State{0, 0, 10, 10}, 1e-3, 1000, failing);
    CHECK(traj.status().code() == absl::StatusCode::kUnavailable);
    auto negative = [](double) -> absl::StatusOr<double> { return -1.0; };
    traj = projectile::Fly(Params{}, State{0, 0, 10, 10}, 1e-3, 1000, negative);
    CHECK(traj.status().code() == absl::StatusCode::kOutOfRange);
    auto reference = Reference;
    traj = projectile::Fly(Params{}, State{0, 0, 10, 10}, 0.0, 1000, reference);
    CHECK(traj.status().code() == absl::StatusCode::kInvalidArgument);
  }

  TEST_CASE("SurrogateDrag refuses a model of the wrong shape") {
    using TwoIn = maas::Network<double, maas::Dense<2, 1>>;
    auto model = maas::LocalModel<TwoIn>::Create(std::make_unique<TwoIn>(),
                                                 maas::LocalModel<TwoIn>::DefaultSignature("m"));
    REQUIRE(model.ok());
    auto drag = projectile::SurrogateDrag::Create(**model);
    REQUIRE(!drag.ok());
    CHECK(drag.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(drag.status().message()) ==
          "drag model 'm': tensor 'input' must be FP64 or FP32 of shape [-1,1], got FP64[-1,2]");
  }
}
