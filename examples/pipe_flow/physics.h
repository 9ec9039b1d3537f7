// -----------------------------------------------------------------------------
// File: examples/pipe_flow/physics.h
// -----------------------------------------------------------------------------
//
// A tank draining through a long, uniformly heated pipe. As the level falls
// the flow slows and passes from turbulent through transitional to laminar;
// each regime has its own friction factor and Nusselt number:
//
//   laminar       Re < 2300       f = 64 / Re               Nu = 4.36 (fully
//                                                           developed, uniform flux)
//   turbulent     Re >= 4000      f: Swamee-Jain            Nu: Gnielinski
//   transitional  in between      both interpolated linearly in Re between
//                                 the laminar value at 2300 and the turbulent
//                                 one at 4000 (Gnielinski's recommendation)
//
// The regime is chosen by a function the caller passes: the exact switch on
// Re (`ExactRegime`) or a learned classifier. Every time step:
//
//   1. regime = classify(Re of the previous step)
//   2. the exit velocity V solves  g h = (1 + K_in + f(Re) L / D) V^2 / 2
//      with that regime's f (fixed-point iteration);
//   3. the level falls: dh/dt = -(A_pipe / A_tank) V (explicit Euler);
//   4. the outlet fluid temperature from the energy balance and the wall
//      temperature at the outlet from that regime's Nu:
//        T_out = T_in + q'' pi D L / (m_dot c_p),  T_wall = T_out + q'' D / (Nu k).
//
// Units: SI; temperatures in deg C. Everything is header-only and allocates
// only the trajectory.

#ifndef MAAS_EXAMPLES_PIPE_FLOW_PHYSICS_H_
#define MAAS_EXAMPLES_PIPE_FLOW_PHYSICS_H_

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"

namespace pipe_flow {

inline constexpr double kPi = 3.14159265358979323846;
inline constexpr double kGravity = 9.80665;
inline constexpr double kReLaminar = 2300.0;
inline constexpr double kReTurbulent = 4000.0;

// Regime
//
// The three classes, in the classifier's output order.
enum class Regime { kLaminar = 0, kTransitional = 1, kTurbulent = 2 };

inline const char* RegimeName(Regime r) {
  switch (r) {
    case Regime::kLaminar: return "laminar";
    case Regime::kTransitional: return "transitional";
    case Regime::kTurbulent: return "turbulent";
  }
  return "?";
}

// Params
//
// The tank, the pipe and the fluid (water near 20 deg C, heated pipe wall).
struct Params {
  double tank_area = 0.5;        // m^2
  double level0 = 2.0;           // initial water level above the outlet, m
  double level_end = 0.02;       // stop when the level falls below, m
  double diameter = 0.01;        // pipe inner diameter, m
  double length = 5.0;           // m
  double roughness = 1.5e-6;     // absolute wall roughness, m (drawn tubing)
  double k_inlet = 0.5;          // inlet loss coefficient
  double nu = 1.0e-6;            // kinematic viscosity, m^2/s
  double rho = 998.0;            // kg/m^3
  double cp = 4182.0;            // J/(kg K)
  double k_fluid = 0.598;        // thermal conductivity, W/(m K)
  double prandtl = 7.0;
  double heat_flux = 2000.0;     // wall heat flux q'', W/m^2
  double t_in = 20.0;            // inlet temperature, deg C

  double pipe_area() const { return kPi * diameter * diameter / 4.0; }
};

// ExactRegime()
//
// The switch the classifier learns.
inline Regime ExactRegime(double re) {
  if (re < kReLaminar) return Regime::kLaminar;
  if (re < kReTurbulent) return Regime::kTransitional;
  return Regime::kTurbulent;
}

// Friction factors (Darcy) and Nusselt numbers of each correlation.
inline double LaminarF(double re) { return 64.0 / re; }
inline double TurbulentF(double re, const Params& p) {
  const double a = std::log10(p.roughness / (3.7 * p.diameter) + 5.74 / std::pow(re, 0.9));
  return 0.25 / (a * a);
}
inline double LaminarNu() { return 4.36; }
inline double TurbulentNu(double re, const Params& p) {
  const double f = TurbulentF(re, p);
  return (f / 8.0) * (re - 1000.0) * p.prandtl /
         (1.0 + 12.7 * std::sqrt(f / 8.0) * (std::pow(p.prandtl, 2.0 / 3.0) - 1.0));
}

// FrictionFactor(), Nusselt()
//
// The correlation of regime `r` evaluated at `re` (a correlation is used
// as chosen even outside its range: that is what a wrong classification
// costs).
inline double FrictionFactor(Regime r, double re, const Params& p) {
  switch (r) {
    case Regime::kLaminar: return LaminarF(re);
    case Regime::kTurbulent: return TurbulentF(re, p);
    case Regime::kTransitional: {
      const double w = std::clamp((re - kReLaminar) / (kReTurbulent - kReLaminar), 0.0, 1.0);
      return (1.0 - w) * LaminarF(kReLaminar) + w * TurbulentF(kReTurbulent, p);
    }
  }
  return 0.0;
}
inline double Nusselt(Regime r, double re, const Params& p) {
  switch (r) {
    case Regime::kLaminar: return LaminarNu();
    case Regime::kTurbulent: return TurbulentNu(re, p);
    case Regime::kTransitional: {
      const double w = std::clamp((re - kReLaminar) / (kReTurbulent - kReLaminar), 0.0, 1.0);
      return (1.0 - w) * LaminarNu() + w * TurbulentNu(kReTurbulent, p);
    }
  }
  return 0.0;
}

// Sample
//
// One time step: state, the regime used and what it gave.
struct Sample {
  double t = 0, level = 0, velocity = 0, re = 0;
  Regime regime = Regime::kTurbulent;
  double f = 0, nu = 0, t_out = 0, t_wall = 0;
};

struct Trajectory {
  std::vector<Sample> samples;
  bool drained = false;
  double drain_time = 0;
};

// Classifier
//
// Returns the regime for a Reynolds number, or the predictor's error.
using Classifier = std::function<absl::StatusOr<Regime>(double re)>;

// ExitVelocity()
//
// V solving g h = (1 + K + f(Re(V)) L / D) V^2 / 2 with regime `r`'s f,
// by fixed-point iteration from `v_guess` (converges in a few steps: f
// varies slowly with V).
inline double ExitVelocity(double level, Regime r, double v_guess, const Params& p) {
  double v = std::max(v_guess, 1e-6);
  for (int i = 0; i < 50; ++i) {
    const double re = std::max(v * p.diameter / p.nu, 1e-12);
    const double f = FrictionFactor(r, re, p);
    const double next = std::sqrt(2.0 * kGravity * level / (1.0 + p.k_inlet + f * p.length / p.diameter));
    if (std::abs(next - v) <= 1e-13 * next) return next;
    v = 0.5 * (v + next);  // damped: f(Re) makes the plain iteration oscillate
  }
  return v;
}

// Simulate()
//
// Drains the tank with time step `dt` (s) until the level is below
// `p.level_end` or `max_steps` steps were taken. Fails with the
// classifier's status.
inline absl::StatusOr<Trajectory> Simulate(const Params& p, double dt, std::size_t max_steps,
                                           const Classifier& classify) {
  Trajectory tr;
  double level = p.level0, t = 0.0;
  // Start from the turbulent solution's Reynolds number.
  double v = ExitVelocity(level, Regime::kTurbulent, 1.0, p);
  double re = v * p.diameter / p.nu;
  for (std::size_t step = 0; step < max_steps; ++step) {
    absl::StatusOr<Regime> r = classify(re);
    if (!r.ok()) return r.status();
    v = ExitVelocity(level, *r, v, p);
    re = v * p.diameter / p.nu;
    Sample s;
    s.t = t;
    s.level = level;
    s.velocity = v;
    s.re = re;
    s.regime = *r;
    s.f = FrictionFactor(*r, re, p);
    s.nu = Nusselt(*r, re, p);
    const double m_dot = p.rho * v * p.pipe_area();
    s.t_out = p.t_in + p.heat_flux * kPi * p.diameter * p.length / (m_dot * p.cp);
    s.t_wall = s.t_out + p.heat_flux * p.diameter / (s.nu * p.k_fluid);
    tr.samples.push_back(s);
    if (level < p.level_end) {
      tr.drained = true;
      tr.drain_time = t;
      break;
    }
    level -= dt * p.pipe_area() / p.tank_area * v;
    t += dt;
  }
  return tr;
}

// Comparison
//
// Surrogate vs exact switch, step by step (the same time grid).
struct Comparison {
  std::size_t steps = 0, regime_matches = 0;
  double max_level_error = 0;          // m
  double max_rel_velocity_error = 0;
  double max_wall_temp_error = 0;      // K
  double max_wall_temp_error_t = 0;
  double drain_time_error = 0;         // s
  double regime_match_fraction() const {
    return steps ? static_cast<double>(regime_matches) / static_cast<double>(steps) : 0.0;
  }
};

inline Comparison Compare(const Trajectory& got, const Trajectory& ref) {
  Comparison c;
  c.steps = std::min(got.samples.size(), ref.samples.size());
  for (std::size_t i = 0; i < c.steps; ++i) {
    const Sample& a = got.samples[i];
    const Sample& b = ref.samples[i];
    if (a.regime == b.regime) ++c.regime_matches;
    c.max_level_error = std::max(c.max_level_error, std::abs(a.level - b.level));
    c.max_rel_velocity_error =
        std::max(c.max_rel_velocity_error, std::abs(a.velocity - b.velocity) / b.velocity);
    const double dtw = std::abs(a.t_wall - b.t_wall);
    if (dtw > c.max_wall_temp_error) {
      c.max_wall_temp_error = dtw;
      c.max_wall_temp_error_t = b.t;
    }
  }
  c.drain_time_error = std::abs(got.drain_time - ref.drain_time);
  return c;
}

}  // namespace pipe_flow

#endif  // MAAS_EXAMPLES_PIPE_FLOW_PHYSICS_H_
