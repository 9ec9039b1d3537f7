// scikit-learn parity: models trained and converted by make_golden.py (run
// first as a ctest fixture) are loaded with maas::LoadLocalModel<Net> and run
// through the maas::Predictor interface on the golden inputs; the outputs must
// match scikit-learn's predict / predict_proba.
//
// Error measure: |maas - sklearn| / max(|sklearn|, kAbsFloor) with
// kAbsFloor = 1e-6, so outputs smaller than 1e-6 in magnitude (tiny class
// probabilities, regression outputs crossing zero) are compared absolutely
// (at 1e-6 * tolerance) instead of relative to a near-zero value.
//
// Tolerances:
//  * double networks: 1e-5 (required by the converter's contract). The file
//    holds sklearn's float64 values exactly; only the summation order
//    differs from numpy's, so the measured errors are ~1e-15.
//  * float networks: 1e-3. Weights and inputs are rounded to float (relative
//    2^-24 ~ 6e-8 each) and every dot product accumulates in float; with up
//    to 17 terms per unit, 3 layers, and cancellation in sums whose terms are
//    ~10-100x larger than the result (e.g. a standardised regression output
//    near zero), the worst case is ~100 * 17 * 3 * 6e-8 ~ 3e-4. The measured
//    maxima are printed and lie well below.
#include <algorithm>
#include <cmath>
#include <cstddef>
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

namespace {

constexpr double kAbsFloor = 1e-6;

template <typename T>
constexpr double Tolerance() {
  return sizeof(T) == sizeof(double) ? 1e-5 : 1e-3;
}

template <typename T>
const char* TypeName() {
  return sizeof(T) == sizeof(double) ? "double" : "float";
}

std::string GoldenPath(const std::string& file) {
  return std::string(MAAS_CONVERTER_GOLDEN_DIR) + "/" + file;
}

nlohmann::json ReadJson(const std::string& path) {
  std::ifstream in(path);
  REQUIRE_MESSAGE(in.good(), "cannot open ", path,
                  " (the converter.make_golden fixture must run first)");
  std::stringstream text;
  text << in.rdbuf();
  nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
  REQUIRE_MESSAGE(!j.is_discarded(), path, " is not valid JSON");
  return j;
}

// Runs model `name` as network type Net on the golden inputs through the
// Predictor interface; returns the max error and checks every value.
template <typename Net>
double CheckParity(const std::string& name) {
  using T = typename Net::ValueType;
  const nlohmann::json golden = ReadJson(GoldenPath(name + ".golden.json"));
  auto loaded = maas::LoadLocalModel<Net>(GoldenPath(name + ".model.json"));
  REQUIRE_MESSAGE(loaded.ok(), loaded.status());
  maas::Predictor& model = **loaded;
  auto sig = model.Signature();
  REQUIRE(sig.ok());
  CHECK(sig->name == name);
  CHECK(sig->version == "1");
  CHECK(sig->inputs[0].dtype == maas::DataTypeOf<T>());

  const std::size_t rows = golden["inputs"].size();
  REQUIRE(rows == golden["expected"].size());
  std::vector<T> x;
  for (const auto& row : golden["inputs"]) {
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
  std::size_t worst_row = 0;
  for (std::size_t i = 0; i < rows; ++i) {
    const auto& want = golden["expected"][i];
    REQUIRE(want.size() == Net::kOutputSize);
    for (std::size_t j = 0; j < Net::kOutputSize; ++j) {
      const double e = maas_test::RelErr(static_cast<double>(y[i * Net::kOutputSize + j]),
                                         want[j].get<double>(), kAbsFloor);
      if (e > max_err) {
        max_err = e;
        worst_row = i;
      }
    }
  }
  std::printf("sklearn parity: %-27s %-6s max rel error %.3e (row %zu of %zu, "
              "abs floor %.0e, tolerance %.0e)\n",
              name.c_str(), TypeName<T>(), max_err, worst_row, rows, kAbsFloor,
              Tolerance<T>());
  CHECK_MESSAGE(max_err <= Tolerance<T>(), name, " ", TypeName<T>(),
                ": max rel error ", max_err, " at row ", worst_row);

  // Classifiers: the arg-max class is sklearn's predict, wherever the top two
  // probabilities are not within the tolerance of each other.
  if constexpr (Net::kOutputSize > 1) {
    if (!golden.contains("predicted_class")) return max_err;
    std::size_t disagreements = 0;
    for (std::size_t i = 0; i < rows; ++i) {
      const T* p = &y[i * Net::kOutputSize];
      std::vector<T> sorted(p, p + Net::kOutputSize);
      std::sort(sorted.rbegin(), sorted.rend());
      if (static_cast<double>(sorted[0] - sorted[1]) < 10 * Tolerance<T>()) continue;
      const auto best = static_cast<std::size_t>(
          std::max_element(p, p + Net::kOutputSize) - p);
      if (best != golden["predicted_class"][i].get<std::size_t>()) ++disagreements;
    }
    CHECK(disagreements == 0);
  }
  return max_err;
}

template <typename T>
using RegTanhNet = maas::Network<T, maas::Dense<5, 16, maas::Tanh>,
                                 maas::Dense<16, 16, maas::Tanh>,
                                 maas::Dense<16, 2>>;
template <typename T>
using RegLogisticNet =
    maas::Network<T, maas::Dense<3, 8, maas::Sigmoid>, maas::Dense<8, 1>>;
template <typename T>
using SoftmaxNet = maas::Network<T, maas::Dense<4, 12, maas::Relu>,
                                 maas::Dense<12, 3, maas::Softmax>>;
template <typename T>
using BinaryNet = maas::Network<T, maas::Dense<6, 10, maas::Tanh>,
                                maas::Dense<10, 1, maas::Sigmoid>>;
template <typename T>
using MultilabelNet = maas::Network<T, maas::Dense<4, 8, maas::Sigmoid>,
                                    maas::Dense<8, 3, maas::Sigmoid>>;

}  // namespace

TEST_SUITE("sklearn parity") {
  TEST_CASE_TEMPLATE("5->16->16->2 tanh regressor with StandardScaler pipeline", T,
                     double, float) {
    CheckParity<RegTanhNet<T>>("reg_tanh_scaled");
  }

  TEST_CASE_TEMPLATE("logistic-hidden regressor with target StandardScaler", T,
                     double, float) {
    CheckParity<RegLogisticNet<T>>("reg_logistic_target_scaled");
  }

  TEST_CASE_TEMPLATE("3-class softmax classifier", T, double, float) {
    CheckParity<SoftmaxNet<T>>("clf_softmax");
  }

  TEST_CASE_TEMPLATE("binary classifier (one logistic unit) with scaler", T,
                     double, float) {
    CheckParity<BinaryNet<T>>("clf_binary_scaled");
  }

  TEST_CASE_TEMPLATE("multilabel classifier with logistic hidden layer", T,
                     double, float) {
    CheckParity<MultilabelNet<T>>("clf_multilabel");
  }

  TEST_CASE("a converted file bound to the wrong network type is refused") {
    // The softmax classifier's file has 12 hidden units, this type 16.
    using Wrong = maas::Network<double, maas::Dense<4, 16, maas::Relu>,
                                maas::Dense<16, 3, maas::Softmax>>;
    const std::string path = GoldenPath("clf_softmax.model.json");
    auto loaded = maas::LoadLocalModel<Wrong>(path);
    REQUIRE(!loaded.ok());
    CHECK(loaded.status().code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(loaded.status().message()) ==
          "model file '" + path + "': layer 0: the network type has 4 inputs "
          "and 16 units, the file has 4 inputs and 12 units");
  }
}
