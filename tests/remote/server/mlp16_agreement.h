// Agreement between a server's FP32 outputs for tests/remote/server/data/mlp16.json
// and the same model file run locally by maas, shared by the KServe and
// Triton tests.
//
// Two references, two bounds:
//  * a float64 local network, the precision the test servers compute in
//    (numpy float64, rounded to FP32 on the way out): the only difference is
//    that rounding, <= 6e-8 relative, so the bound is the 1e-5
//    relative (denominator floored at 1e-6 for exact zeros);
//  * the float32 local network a simulation would run: its SIMD kernels
//    (each within 1e-5 of the scalar reference, tests/kernels) carry
//    ~1e-6 absolute error through 32-term sums, tanh, sigmoid and the output
//    scale (<= 3), and an output near zero is the cancellation of O(1)
//    terms, so the bound is 1e-4 with the denominator floored at 0.1.
#ifndef MAAS_TESTS_REMOTE_SERVER_MLP16_AGREEMENT_H_
#define MAAS_TESTS_REMOTE_SERVER_MLP16_AGREEMENT_H_

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

#include "doctest/doctest.h"
#include "maas/local/model_file.h"
#include "maas/local/network.h"
#include "remote/server/server_state.h"
#include "testing/status_doctest.h"

namespace maas_test {

template <typename T>
using Mlp16Net = maas::Network<T, maas::Dense<16, 32, maas::Relu>,
                               maas::Dense<32, 32, maas::Tanh>,
                               maas::Dense<32, 8, maas::Sigmoid>>;

template <typename T>
std::unique_ptr<maas::LocalModel<Mlp16Net<T>>> LoadMlp16() {
  auto local = maas::LoadLocalModel<Mlp16Net<T>>(
      SourcePath("tests/remote/server/data/mlp16.json"));
  REQUIRE_MESSAGE(local.ok(), local.status().ToString());
  return std::move(*local);
}

// Checks the server's outputs `got` for the rows `x` (16 floats each)
// against both local references; returns the worst relative error against
// the float64 reference.
inline double CheckMlp16Agreement(const std::vector<float>& x,
                                  const std::vector<float>& got) {
  static const auto local64 = LoadMlp16<double>();
  static const auto local32 = LoadMlp16<float>();
  const std::size_t rows = x.size() / 16;
  REQUIRE(got.size() == rows * 8);
  std::vector<double> x64(x.begin(), x.end()), want64(rows * 8);
  std::vector<float> want32(rows * 8);
  REQUIRE(local64->PredictRows(x64, absl::MakeSpan(want64)).ok());
  REQUIRE(local32->PredictRows(x, absl::MakeSpan(want32)).ok());
  double worst64 = 0, worst32 = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    worst64 = std::max(worst64, RelErr(got[i], want64[i], 1e-6));
    worst32 = std::max(worst32, RelErr(got[i], want32[i], 0.1));
  }
  CHECK(worst64 <= 1e-5);
  CHECK(worst32 <= 1e-4);
  MESSAGE("rows " << rows << ": worst relative error vs float64 local "
                  << worst64 << ", vs float32 local " << worst32);
  return worst64;
}

}  // namespace maas_test

#endif  // MAAS_TESTS_REMOTE_SERVER_MLP16_AGREEMENT_H_
