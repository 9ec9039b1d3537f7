// Shared by the framework parity tests: runs a converted model file through
// the model-file reader and the Predictor interface and compares it with the
// framework's recorded answers. See framework_parity_test.cc for the data,
// the error measure and the tolerances.
#ifndef MAAS_TESTS_CONVERTER_FRAMEWORK_PARITY_H_
#define MAAS_TESTS_CONVERTER_FRAMEWORK_PARITY_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "doctest/doctest.h"
#include "maas/core/predictor.h"
#include "maas/local/model_file.h"
#include "nlohmann/json.hpp"
#include "testing/status_doctest.h"

namespace maas_test {

inline constexpr double kAbsFloor = 1e-6;

template <typename T>
constexpr double Tolerance() {
  return sizeof(T) == sizeof(double) ? 1e-5 : 2e-4;
}

inline std::string CasePath(const std::string& file) {
  return std::string(MAAS_FRAMEWORK_GOLDEN_DIR) + "/" + file;
}

// Runs case `name` as network type Net and checks every value against the
// framework's answers in T's precision. `fp64_reference` false: the
// framework's float64 run is not a float64 computation (Keras 3.15's
// BatchNormalization), so double networks are held to its float32 answers at
// the float tolerance.
template <typename Net>
void CheckCase(const std::string& name, bool fp64_reference = true) {
  using T = typename Net::ValueType;
  const bool fp64 = sizeof(T) == sizeof(double) && fp64_reference;
  std::ifstream in(CasePath(name + ".golden.json"));
  if (!in.good()) {
    // The .pt2 case needs torch at conversion time; CI has none.
    std::printf("MAAS_SKIPPED: %s: no %s (the converter.make_framework_golden fixture did "
                "not produce it)\n", name.c_str(), CasePath(name + ".golden.json").c_str());
    return;
  }
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json golden = nlohmann::json::parse(text.str(), nullptr, false);
  REQUIRE(!golden.is_discarded());
  auto loaded = maas::LoadLocalModel<Net>(CasePath(name + ".model.json"));
  REQUIRE_MESSAGE(loaded.ok(), loaded.status());
  maas::Predictor& model = **loaded;
  auto sig = model.Signature();
  REQUIRE(sig.ok());
  CHECK(sig->name == name);

  const nlohmann::json& inputs = golden["inputs"];
  const nlohmann::json& expected = golden[fp64 ? "expected_fp64" : "expected_fp32"];
  const std::size_t rows = inputs.size();
  REQUIRE(rows == expected.size());
  std::vector<T> x;
  for (const auto& row : inputs) {
    REQUIRE(row.size() == Net::kInputSize);
    for (const auto& v : row) x.push_back(static_cast<T>(v.get<double>()));
  }
  std::vector<T> y(rows * Net::kOutputSize, T(-7));
  const auto r = static_cast<std::int64_t>(rows);
  absl::Status s = model.Predict(
      {maas::ConstTensorView(sig->inputs[0].name, absl::MakeConstSpan(x),
                             {r, static_cast<std::int64_t>(Net::kInputSize)})},
      {maas::TensorView(sig->outputs[0].name, absl::MakeSpan(y),
                        {r, static_cast<std::int64_t>(Net::kOutputSize)})});
  REQUIRE_MESSAGE(s.ok(), s);
  double max_err = 0;
  std::size_t worst = 0;
  for (std::size_t i = 0; i < rows; ++i) {
    REQUIRE(expected[i].size() == Net::kOutputSize);
    for (std::size_t j = 0; j < Net::kOutputSize; ++j) {
      const double e = maas_test::RelErr(static_cast<double>(y[i * Net::kOutputSize + j]),
                                         expected[i][j].get<double>(), kAbsFloor);
      if (e > max_err) {
        max_err = e;
        worst = i;
      }
    }
  }
  const std::string reference =
      golden.contains("reference") ? golden["reference"].get<std::string>()
      : golden[fp64 ? "reference_fp64" : "reference_fp32"].get<std::string>();
  const double tolerance = fp64 || sizeof(T) == sizeof(float) ? Tolerance<T>()
                                                                : Tolerance<float>();
  std::printf("framework parity: %-40s %-6s max rel error %.3e (row %zu of %zu; reference "
              "%s%s; tolerance %.0e)\n",
              name.c_str(), sizeof(T) == sizeof(double) ? "double" : "float", max_err, worst,
              rows, reference.c_str(), fp64 ? " fp64" : " fp32", tolerance);
  CHECK_MESSAGE(max_err <= tolerance, name, ": max rel error ", max_err, " at row ", worst);
}

}  // namespace maas_test

#endif  // MAAS_TESTS_CONVERTER_FRAMEWORK_PARITY_H_
