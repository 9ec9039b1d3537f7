// -----------------------------------------------------------------------------
// File: examples/projectile/physics.h
// -----------------------------------------------------------------------------
//
// Physics of the projectile example: a sphere flying through air under gravity
// and quadratic drag, F = -1/2 rho |v| v A Cd(Re), in two dimensions.
//
//  * drag laws: the Clift-Gauvin correlation (the reference, and what the
//    surrogate model was trained on) and Stokes' law Cd = 24/Re, for which the
//    equations of motion have a closed-form solution (`LinearDragSolution`);
//  * `Rk4Step` and `Fly`: classical 4th-order Runge-Kutta with a fixed step,
//    generic over the drag law, so the surrogate and the reference run through
//    exactly the same integrator;
//  * `Compare`: error metrics between two trajectories.
//
// A drag law is any callable `absl::StatusOr<double>(double re)` returning
// Cd; a failing law (e.g. a remote model that is down) stops the integration
// with its status.
//
// Shared by examples/projectile/main.cc and tests/examples. Thread safety:
// plain functions on values; a drag law is called from the calling thread.

#ifndef MAAS_EXAMPLES_PROJECTILE_PHYSICS_H_
#define MAAS_EXAMPLES_PROJECTILE_PHYSICS_H_

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace projectile {

inline constexpr double kPi = 3.14159265358979323846;

// Params
//
// The sphere and the fluid, SI units. Defaults: a 6 mm, 0.25 g sphere (an
// airsoft pellet) in air at 20 degC.
struct Params {
  double diameter = 6.0e-3;      // m
  double mass = 0.25e-3;         // kg
  double density = 1.204;        // kg/m^3, fluid
  double viscosity = 1.825e-5;   // Pa s, fluid (dynamic)
  double gravity = 9.80665;      // m/s^2

  double area() const { return 0.25 * kPi * diameter * diameter; }
};

// State
//
// Position (m) and velocity (m/s); y is up.
struct State {
  double x = 0, y = 0, vx = 0, vy = 0;
};

// Reynolds()
//
// Re = rho |v| d / mu.
inline double Reynolds(const Params& p, double speed) {
  return p.density * speed * p.diameter / p.viscosity;
}

// CliftGauvinCd()
//
// Clift & Gauvin (1970) sphere drag correlation, valid for Re < 3e5:
// Cd = 24/Re (1 + 0.15 Re^0.687) + 0.42 / (1 + 42500 Re^-1.16).
// The surrogate model (tools/train_drag_model.py) is trained on it.
inline double CliftGauvinCd(double re) {
  return 24.0 / re * (1.0 + 0.15 * std::pow(re, 0.687)) +
         0.42 / (1.0 + 42500.0 * std::pow(re, -1.16));
}

// StokesCd()
//
// Creeping-flow drag, Cd = 24/Re, i.e. the linear force F = -3 pi mu d v.
inline double StokesCd(double re) { return 24.0 / re; }

// Derivative
//
// d/dt of a State plus the Reynolds number and drag coefficient used.
struct Derivative {
  State rate;
  double re = 0, cd = 0;
};

// Rhs()
//
// The equations of motion: dx/dt = v, dv/dt = -k |v| v - g e_y with
// k = rho A Cd / (2 m). At zero speed there is no drag and `law` is not
// called. Fails with the law's status, or `kOutOfRange` if it returns a
// non-finite or negative Cd.
template <typename DragLaw>
absl::StatusOr<Derivative> Rhs(const Params& p, const State& s, DragLaw& law) {
  Derivative d;
  d.rate.x = s.vx;
  d.rate.y = s.vy;
  const double speed = std::hypot(s.vx, s.vy);
  double drag_per_speed = 0;  // |F_drag| / (m |v|)
  if (speed > 0) {
    d.re = Reynolds(p, speed);
    absl::StatusOr<double> cd = law(d.re);
    if (!cd.ok()) return cd.status();
    if (!std::isfinite(*cd) || *cd < 0) {
      return absl::OutOfRangeError(
          absl::StrCat("drag law returned Cd = ", *cd, " at Re = ", d.re));
    }
    d.cd = *cd;
    drag_per_speed = 0.5 * p.density * speed * p.area() * d.cd / p.mass;
  }
  d.rate.vx = -drag_per_speed * s.vx;
  d.rate.vy = -drag_per_speed * s.vy - p.gravity;
  return d;
}

// Rk4Step()
//
// Advances `s` by `dt` with classical RK4 (4 drag-law calls). Returns the
// derivative at the start of the step (for Re and Cd output). On failure `s`
// is unchanged.
template <typename DragLaw>
absl::StatusOr<Derivative> Rk4Step(const Params& p, double dt, DragLaw& law,
                                   State* s) {
  auto axpy = [](const State& a, double h, const State& r) {
    return State{a.x + h * r.x, a.y + h * r.y, a.vx + h * r.vx, a.vy + h * r.vy};
  };
  absl::StatusOr<Derivative> k1 = Rhs(p, *s, law);
  if (!k1.ok()) return k1.status();
  absl::StatusOr<Derivative> k2 = Rhs(p, axpy(*s, 0.5 * dt, k1->rate), law);
  if (!k2.ok()) return k2.status();
  absl::StatusOr<Derivative> k3 = Rhs(p, axpy(*s, 0.5 * dt, k2->rate), law);
  if (!k3.ok()) return k3.status();
  absl::StatusOr<Derivative> k4 = Rhs(p, axpy(*s, dt, k3->rate), law);
  if (!k4.ok()) return k4.status();
  const State& a = k1->rate;
  const State& b = k2->rate;
  const State& c = k3->rate;
  const State& e = k4->rate;
  const double h = dt / 6.0;
  s->x += h * (a.x + 2 * b.x + 2 * c.x + e.x);
  s->y += h * (a.y + 2 * b.y + 2 * c.y + e.y);
  s->vx += h * (a.vx + 2 * b.vx + 2 * c.vx + e.vx);
  s->vy += h * (a.vy + 2 * b.vy + 2 * c.vy + e.vy);
  return k1;
}

// Sample
//
// One recorded point: time, state, and Re and Cd at that state (0 at rest,
// and for the last sample, where no step starts).
struct Sample {
  double t = 0;
  State s;
  double re = 0, cd = 0;
};

// Trajectory
//
// Samples every step from launch to the first one below ground, plus the
// landing point (linear interpolation of the ground crossing), apex height and
// the Reynolds-number range the drag law was asked about.
struct Trajectory {
  std::vector<Sample> samples;
  bool landed = false;
  double landing_t = 0, landing_x = 0;
  double apex_y = 0;
  double min_re = std::numeric_limits<double>::infinity();
  double max_re = 0;
};

// Fly()
//
// Integrates from `initial` (y >= 0) with step `dt` until the sphere is back
// below y = 0, or for `max_steps` steps. Fails with `kInvalidArgument` for a
// non-positive dt or max_steps, or with the drag law's status.
template <typename DragLaw>
absl::StatusOr<Trajectory> Fly(const Params& p, const State& initial, double dt,
                               std::size_t max_steps, DragLaw& law) {
  if (!(dt > 0) || max_steps == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "time step must be > 0 and max steps >= 1, got dt = ", dt,
        ", max steps = ", max_steps));
  }
  Trajectory traj;
  traj.samples.reserve(std::min<std::size_t>(max_steps + 1, 1u << 20));
  State s = initial;
  traj.apex_y = s.y;
  traj.samples.push_back({0.0, initial, 0, 0});
  for (std::size_t n = 0; n < max_steps; ++n) {
    absl::StatusOr<Derivative> d = Rk4Step(p, dt, law, &s);
    if (!d.ok()) return d.status();
    // The step's first stage ran at the last recorded sample.
    traj.samples.back().re = d->re;
    traj.samples.back().cd = d->cd;
    if (d->re > 0) {
      traj.min_re = std::min(traj.min_re, d->re);
      traj.max_re = std::max(traj.max_re, d->re);
    }
    traj.samples.push_back({static_cast<double>(n + 1) * dt, s, 0, 0});
    traj.apex_y = std::max(traj.apex_y, s.y);
    if (s.y < 0) {
      const Sample& a = traj.samples[traj.samples.size() - 2];
      const double f = a.s.y / (a.s.y - s.y);  // fraction of the step
      traj.landed = true;
      traj.landing_t = a.t + f * dt;
      traj.landing_x = a.s.x + f * (s.x - a.s.x);
      break;
    }
  }
  return traj;
}

// LinearDragSolution()
//
// Closed-form state at time t for drag F = -3 pi mu d v (Stokes' law, i.e.
// `StokesCd`) and gravity, from `s0` at t = 0; tau = m / (3 pi mu d):
//   vx = vx0 e^(-t/tau),                 x = x0 + vx0 tau (1 - e^(-t/tau))
//   vy = (vy0 + g tau) e^(-t/tau) - g tau,
//   y  = y0 + (vy0 + g tau) tau (1 - e^(-t/tau)) - g tau t
inline State LinearDragSolution(const Params& p, const State& s0, double t) {
  const double tau = p.mass / (3.0 * kPi * p.viscosity * p.diameter);
  const double e = std::exp(-t / tau);
  const double vt = p.gravity * tau;  // terminal speed
  State s;
  s.vx = s0.vx * e;
  s.x = s0.x + s0.vx * tau * (1.0 - e);
  s.vy = (s0.vy + vt) * e - vt;
  s.y = s0.y + (s0.vy + vt) * tau * (1.0 - e) - vt * t;
  return s;
}

// Comparison
//
// How far `got` is from `ref`: the largest distance between positions at the
// same time (same step index, both integrated with the same dt), the landing
// and apex differences, and the reference's range and apex for scale.
struct Comparison {
  double max_position_error = 0;   // m
  double max_error_t = 0;          // s, where it occurred
  double landing_error = 0;        // m, |x_land - x_land_ref|
  double apex_error = 0;           // m
  double ref_range = 0, ref_apex = 0;
  std::size_t compared = 0;        // samples compared

  // Errors as a fraction of the reference range (landing x - launch x).
  double relative_position_error() const { return max_position_error / ref_range; }
  double relative_landing_error() const { return landing_error / ref_range; }
};

// Compare()
//
// See `Comparison`. Both trajectories must start at the same state and use
// the same dt.
inline Comparison Compare(const Trajectory& got, const Trajectory& ref) {
  Comparison c;
  c.compared = std::min(got.samples.size(), ref.samples.size());
  for (std::size_t i = 0; i < c.compared; ++i) {
    const State& a = got.samples[i].s;
    const State& b = ref.samples[i].s;
    const double e = std::hypot(a.x - b.x, a.y - b.y);
    if (e > c.max_position_error) {
      c.max_position_error = e;
      c.max_error_t = ref.samples[i].t;
    }
  }
  const double x0 = ref.samples.empty() ? 0.0 : ref.samples.front().s.x;
  c.landing_error = std::abs(got.landing_x - ref.landing_x);
  c.apex_error = std::abs(got.apex_y - ref.apex_y);
  c.ref_range = ref.landing_x - x0;
  c.ref_apex = ref.apex_y;
  return c;
}

}  // namespace projectile

#endif  // MAAS_EXAMPLES_PROJECTILE_PHYSICS_H_
