// -----------------------------------------------------------------------------
// File: local/attribution.h
// -----------------------------------------------------------------------------
//
// Input attributions of a local network ("which inputs drive this
// prediction, and how strongly?"), from its exact derivatives
// (maas/local/jacobian.h):
//
//   gradient x input        a_oi = x_i df_o/dx_i (x)
//   integrated gradients    a_oi = (x_i - b_i) int_0^1 df_o/dx_i (b + t (x - b)) dt
//
// Integrated gradients (Sundararajan, Taly and Yan, 2017) are complete: for
// each output, sum_i a_oi = f_o(x) - f_o(b). The integral is the midpoint
// rule with `steps` points, whose error falls as 1 / steps^2 for smooth
// networks; the result reports the completeness residual
// sum_i a_oi - (f_o(x) - f_o(b)) so the caller sees how well the rule did
// (and can raise `steps`). Gradient x input is complete only for networks
// linear in x with f(0) = 0; its residual is reported against the zero
// baseline for comparison.
//
// Example:
//
//   absl::StatusOr<maas::Attributions> ig =
//       maas::IntegratedGradients(net, absl::MakeConstSpan(x),
//                                 absl::MakeConstSpan(baseline),
//                                 maas::IntegratedGradientsOptions{128});
//   if (!ig.ok()) return ig.status();
//   // ig->values[o * ig->num_inputs + i]: input i's share of output o's
//   // change; ig->residual[o]: how far the shares miss f(x) - f(b).
//
// These functions allocate (they return vectors) and are meant for people,
// not for the hot path. Thread safety: they only read the network.

#ifndef MAAS_LOCAL_ATTRIBUTION_H_
#define MAAS_LOCAL_ATTRIBUTION_H_

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "maas/local/jacobian.h"

namespace maas {

// Attributions
//
// `values`: num_outputs x num_inputs, row-major (values[o * num_inputs + i]
// is input i's attribution for output o). `output`: f(x); `baseline_output`:
// f(baseline) (f(0) for gradient x input). `residual[o]` = sum_i
// values[o, i] - (output[o] - baseline_output[o]); `relative_residual[o]` =
// |residual[o]| / max(|output[o] - baseline_output[o]|, 1e-300).
// `steps`: the integration points (0 for gradient x input).
struct Attributions {
  std::size_t num_inputs = 0;
  std::size_t num_outputs = 0;
  int steps = 0;
  std::vector<double> values;
  std::vector<double> output;
  std::vector<double> baseline_output;
  std::vector<double> residual;
  std::vector<double> relative_residual;

  // Attributions::Complete()
  //
  // Whether every output's residual is within `tolerance` relative to its
  // change f(x) - f(b), with an absolute floor of `tolerance` times the
  // largest |f(x)| (for outputs that hardly change).
  bool Complete(double tolerance) const {
    double scale = 0;
    for (double v : output) scale = std::max(scale, std::abs(v));
    for (std::size_t o = 0; o < num_outputs; ++o) {
      const double change = std::abs(output[o] - baseline_output[o]);
      if (std::abs(residual[o]) > tolerance * std::max(change, scale)) return false;
    }
    return true;
  }
};

// IntegratedGradientsOptions
//
// `steps`: midpoint-rule points along the straight path (>= 1; default 64).
struct IntegratedGradientsOptions {
  int steps = 64;
};

namespace attribution_internal {

template <typename Net, typename T = typename Net::ValueType>
absl::Status CheckRow(const Net& net, absl::Span<const T> x, absl::string_view what) {
  const derivative_internal::ViewOf<Net> view(net);
  if (x.size() != view.view().n_in) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", x.size(),
                                                   " values, the network takes ",
                                                   view.view().n_in, " inputs"));
  }
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (!std::isfinite(static_cast<double>(x[i]))) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, "[", i, "] is not finite (", static_cast<double>(x[i]), ")"));
    }
  }
  return absl::OkStatus();
}

// Fills residual and relative_residual from values, output, baseline_output.
inline void Finish(Attributions& a) {
  a.residual.assign(a.num_outputs, 0.0);
  a.relative_residual.assign(a.num_outputs, 0.0);
  for (std::size_t o = 0; o < a.num_outputs; ++o) {
    double sum = 0;
    for (std::size_t i = 0; i < a.num_inputs; ++i) sum += a.values[o * a.num_inputs + i];
    const double change = a.output[o] - a.baseline_output[o];
    a.residual[o] = sum - change;
    a.relative_residual[o] = std::abs(a.residual[o]) / std::max(std::abs(change), 1e-300);
  }
}

}  // namespace attribution_internal

// GradientTimesInput()
//
// a_oi = x_i df_o/dx_i at `x` (input_size values). Fails with
// `kInvalidArgument` for a wrong size or a non-finite value, or as
// ValueAndJacobian. Allocates.
template <typename Net>
absl::StatusOr<Attributions> GradientTimesInput(const Net& net,
                                                absl::Span<const typename Net::ValueType> x) {
  using T = typename Net::ValueType;
  if (absl::Status s = attribution_internal::CheckRow(net, x, "input"); !s.ok()) return s;
  Attributions a;
  a.num_inputs = x.size();
  {
    const derivative_internal::ViewOf<Net> view(net);
    a.num_outputs = view.view().n_out;
  }
  std::vector<T> y(a.num_outputs), y0(a.num_outputs), jac(a.num_outputs * a.num_inputs);
  const std::vector<T> zero(a.num_inputs, T(0));
  if (absl::Status s = ValueAndJacobian(net, x.data(), y.data(), jac.data()); !s.ok()) return s;
  net.Forward(zero.data(), y0.data());
  a.values.resize(jac.size());
  for (std::size_t o = 0; o < a.num_outputs; ++o) {
    for (std::size_t i = 0; i < a.num_inputs; ++i) {
      a.values[o * a.num_inputs + i] =
          static_cast<double>(x[i]) * static_cast<double>(jac[o * a.num_inputs + i]);
    }
  }
  a.output.assign(y.begin(), y.end());
  a.baseline_output.assign(y0.begin(), y0.end());
  attribution_internal::Finish(a);
  return a;
}

// IntegratedGradients()
//
// Integrated gradients of every output at `x` from `baseline` (both
// input_size values) by the midpoint rule with options.steps points (the
// Jacobians at b + (k + 1/2)/steps (x - b), summed in double). Fails with
// `kInvalidArgument` for wrong sizes, non-finite values or steps < 1, or as
// ValueAndJacobian. Allocates.
template <typename Net>
absl::StatusOr<Attributions> IntegratedGradients(
    const Net& net, absl::Span<const typename Net::ValueType> x,
    absl::Span<const typename Net::ValueType> baseline, IntegratedGradientsOptions options = {}) {
  using T = typename Net::ValueType;
  if (absl::Status s = attribution_internal::CheckRow(net, x, "input"); !s.ok()) return s;
  if (absl::Status s = attribution_internal::CheckRow(net, baseline, "baseline"); !s.ok()) {
    return s;
  }
  if (options.steps < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("integrated gradients: steps must be at least 1, not ", options.steps));
  }
  Attributions a;
  a.num_inputs = x.size();
  {
    const derivative_internal::ViewOf<Net> view(net);
    a.num_outputs = view.view().n_out;
  }
  a.steps = options.steps;
  const std::size_t n = a.num_inputs, m = a.num_outputs;
  std::vector<T> point(n), y(m), jac(m * n);
  std::vector<double> mean(m * n, 0.0);
  for (int k = 0; k < options.steps; ++k) {
    const double t = (k + 0.5) / options.steps;
    for (std::size_t i = 0; i < n; ++i) {
      point[i] = static_cast<T>(static_cast<double>(baseline[i]) +
                                t * (static_cast<double>(x[i]) - static_cast<double>(baseline[i])));
    }
    if (absl::Status s = Jacobian(net, point.data(), jac.data()); !s.ok()) return s;
    for (std::size_t e = 0; e < m * n; ++e) mean[e] += static_cast<double>(jac[e]);
  }
  a.values.resize(m * n);
  for (std::size_t o = 0; o < m; ++o) {
    for (std::size_t i = 0; i < n; ++i) {
      a.values[o * n + i] = (static_cast<double>(x[i]) - static_cast<double>(baseline[i])) *
                            mean[o * n + i] / options.steps;
    }
  }
  net.Forward(x.data(), y.data());
  a.output.assign(y.begin(), y.end());
  net.Forward(baseline.data(), y.data());
  a.baseline_output.assign(y.begin(), y.end());
  attribution_internal::Finish(a);
  return a;
}

}  // namespace maas

#endif  // MAAS_LOCAL_ATTRIBUTION_H_
