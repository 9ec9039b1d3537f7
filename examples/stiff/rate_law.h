// The stiff example's exact rate law and its Jacobian (the same formulas as
// examples/stiff/train_rate_model.py, which trains the surrogate on them):
//
//   du/dt = -K (u - sin v)          K = 1000
//   dv/dt = -u - 0.5 v
//
// u relaxes onto the slow manifold u = sin v within ~1/K; v then decays
// slowly along it. The Jacobian's eigenvalues are about -K and -1.4: a
// stiff system, which explicit methods can only integrate with h < 2/K.
#ifndef MAAS_EXAMPLES_STIFF_RATE_LAW_H_
#define MAAS_EXAMPLES_STIFF_RATE_LAW_H_

#include <cmath>

namespace stiff {

inline constexpr double kK = 1000.0;

// ExactRate()
//
// f(y) for y = (u, v); when `jacobian` is non-null also df/dy, row-major
// (jacobian[0] = df_u/du, [1] = df_u/dv, [2] = df_v/du, [3] = df_v/dv).
inline void ExactRate(const double y[2], double f[2], double* jacobian) {
  const double u = y[0], v = y[1];
  f[0] = -kK * (u - std::sin(v));
  f[1] = -u - 0.5 * v;
  if (jacobian != nullptr) {
    jacobian[0] = -kK;
    jacobian[1] = kK * std::cos(v);
    jacobian[2] = -1.0;
    jacobian[3] = -0.5;
  }
}

}  // namespace stiff

#endif  // MAAS_EXAMPLES_STIFF_RATE_LAW_H_
