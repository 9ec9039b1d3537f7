// An independent double-precision MLP used as the oracle for the local
// network tests: plain loops over std::vector, no maas kernels.
#ifndef MAAS_TESTS_LOCAL_REFERENCE_MLP_H_
#define MAAS_TESTS_LOCAL_REFERENCE_MLP_H_

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

#include "maas/local/kernels/activation_kind.h"

namespace maas_test {

struct RefLayer {
  std::size_t in, out;
  maas::Activation act;
  std::vector<double> w;  // in x out, row-major
  std::vector<double> b;
  double alpha = 0;  // leaky ReLU's / ELU's parameter
};

inline std::vector<double> RefForward(const std::vector<RefLayer>& layers,
                                      std::vector<double> x) {
  for (const RefLayer& l : layers) {
    std::vector<double> y(l.b);
    for (std::size_t j = 0; j < l.out; ++j)
      for (std::size_t i = 0; i < l.in; ++i) y[j] += x[i] * l.w[i * l.out + j];
    switch (l.act) {
      case maas::Activation::kIdentity: break;
      case maas::Activation::kRelu:
        for (double& v : y) v = std::max(v, 0.0);
        break;
      case maas::Activation::kSigmoid:
        for (double& v : y) v = 1.0 / (1.0 + std::exp(-v));
        break;
      case maas::Activation::kTanh:
        for (double& v : y) v = std::tanh(v);
        break;
      case maas::Activation::kGelu:
        for (double& v : y) v = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
        break;
      case maas::Activation::kGeluTanh:
        for (double& v : y) {
          v = 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v)));
        }
        break;
      case maas::Activation::kSilu:
        for (double& v : y) v = v / (1.0 + std::exp(-v));
        break;
      case maas::Activation::kSoftplus:
        for (double& v : y) v = std::log(1.0 + std::exp(v));
        break;
      case maas::Activation::kLeakyRelu:
        for (double& v : y) v = v > 0 ? v : l.alpha * v;
        break;
      case maas::Activation::kElu:
        for (double& v : y) v = v > 0 ? v : l.alpha * (std::exp(v) - 1.0);
        break;
      case maas::Activation::kSoftmax: {
        const double m = *std::max_element(y.begin(), y.end());
        double s = 0;
        for (double& v : y) s += (v = std::exp(v - m));
        for (double& v : y) v /= s;
        break;
      }
    }
    x = std::move(y);
  }
  return x;
}

inline RefLayer RandomLayer(std::size_t in, std::size_t out, maas::Activation act,
                            std::mt19937& rng) {
  std::normal_distribution<double> d(0.0, 1.0 / std::sqrt(static_cast<double>(in)));
  RefLayer l{in, out, act, std::vector<double>(in * out), std::vector<double>(out)};
  for (double& v : l.w) v = d(rng);
  for (double& v : l.b) v = 0.1 * d(rng);
  return l;
}

}  // namespace maas_test

#endif  // MAAS_TESTS_LOCAL_REFERENCE_MLP_H_
