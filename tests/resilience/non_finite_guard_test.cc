// NonFiniteGuardPredictor: NaN and infinities in a result are kDataLoss
// naming the output and the element, and never reach the caller's buffers.
#include "maas/resilience/non_finite_guard.h"

#include <array>
#include <cmath>
#include <limits>
#include <memory>

#include "absl/strings/match.h"
#include "doctest/doctest.h"
#include "resilience/scripted_predictor.h"
#include "testing/status_doctest.h"

TEST_SUITE("NonFiniteGuardPredictor") {

TEST_CASE("finite results pass through unchanged") {
  auto p = std::make_unique<maas_test::ScriptedPredictor>("remote");
  maas::NonFiniteGuardPredictor guard(std::move(p));
  std::array<float, 4> x = {1, 2, 3, 4};
  std::array<float, 6> y{};
  maas::CallReport r;
  REQUIRE(static_cast<maas::Predictor&>(guard)
              .Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {2, 2})},
                       {maas::TensorView("y", absl::MakeSpan(y), {2, 3})}, {}, &r)
              .ok());
  CHECK(y[0] == 2.0f);
  CHECK(y[5] == 4.0f);
  CHECK(r.served_by == "remote");
  CHECK_FALSE(r.non_finite);
}

TEST_CASE("NaN, +Inf and -Inf are kDataLoss naming output, index, row and column; outputs untouched") {
  for (double bad : {std::nan(""), std::numeric_limits<double>::infinity(),
                     -std::numeric_limits<double>::infinity()}) {
    for (maas::DataType t : {maas::DataType::kFloat32, maas::DataType::kFloat64}) {
      CAPTURE(bad);
      auto p = std::make_unique<maas_test::ScriptedPredictor>("remote", t, bad);
      maas::NonFiniteGuardPredictor guard(std::move(p));
      maas::CallReport r;
      absl::Status s;
      if (t == maas::DataType::kFloat32) {
        std::array<float, 4> x = {1, 2, 3, 4};
        std::array<float, 6> y = {-7, -7, -7, -7, -7, -7};
        s = static_cast<maas::Predictor&>(guard).Predict(
            {maas::ConstTensorView("x", absl::MakeConstSpan(x), {2, 2})},
            {maas::TensorView("y", absl::MakeSpan(y), {2, 3})}, {}, &r);
        for (float v : y) CHECK(v == -7);
      } else {
        std::array<double, 4> x = {1, 2, 3, 4};
        std::array<double, 6> y = {-7, -7, -7, -7, -7, -7};
        s = static_cast<maas::Predictor&>(guard).Predict(
            {maas::ConstTensorView("x", absl::MakeConstSpan(x), {2, 2})},
            {maas::TensorView("y", absl::MakeSpan(y), {2, 3})}, {}, &r);
        for (double v : y) CHECK(v == -7);
      }
      CHECK(s.code() == absl::StatusCode::kDataLoss);
      CHECK(absl::StrContains(s.message(), "output 'y'"));
      CHECK(absl::StrContains(s.message(), "index 0 (row 0, column 0)"));
      CHECK(absl::StrContains(s.message(), std::isnan(bad) ? "NaN" : (bad > 0 ? "+Inf" : "-Inf")));
      CHECK(r.non_finite);
      CHECK(r.served_by.empty());
    }
  }
}

TEST_CASE("FindNonFinite finds the first bad element") {
  std::array<float, 5> v = {1, 2, std::nanf(""), 4, INFINITY};
  CHECK(maas::FindNonFinite(maas::DataType::kFloat32, v.data(), v.size()) == 2);
  CHECK(maas::FindNonFinite(maas::DataType::kFloat32, v.data(), 2) == -1);
  std::array<std::int32_t, 2> ints = {1, 2};
  CHECK(maas::FindNonFinite(maas::DataType::kInt32, ints.data(), 2) == -1);
}

}  // TEST_SUITE
