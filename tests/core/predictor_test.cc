// The Predictor contract, exercised through a small implementation that
// doubles its input: validation happens before work, outputs are untouched on
// failure, and the allocating overload sizes outputs from the signature.
#include "maas/core/predictor.h"

#include <array>
#include <vector>

#include "doctest/doctest.h"
#include "testing/status_doctest.h"

namespace {

class Doubler final : public maas::Predictor {
 public:
  Doubler() {
    sig_.name = "doubler";
    sig_.inputs = {{"x", maas::DataType::kFloat64, {maas::kDynamic, 3}}};
    sig_.outputs = {{"y", maas::DataType::kFloat64, {maas::kDynamic, 3}}};
  }
  absl::StatusOr<maas::ModelSignature> Signature() override { return sig_; }
  int calls = 0;

 protected:
  absl::Status DoPredict(absl::Span<const maas::ConstTensorView> inputs,
                         absl::Span<const maas::TensorView> outputs) override {
    std::array<maas::ConstTensorView, 1> in;
    auto batch = sig_.ValidateInputs(inputs, absl::MakeSpan(in));
    if (!batch.ok()) return batch.status();
    std::array<maas::TensorView, 1> out;
    if (auto s = sig_.ValidateOutputs(outputs, *batch, absl::MakeSpan(out)); !s.ok()) {
      return s;
    }
    ++calls;
    auto x = in[0].data<double>();
    auto y = out[0].data<double>();
    for (std::size_t i = 0; i < x.size(); ++i) y[i] = 2 * x[i];
    return absl::OkStatus();
  }

 private:
  maas::ModelSignature sig_;
};

}  // namespace

TEST_SUITE("Predictor") {
  TEST_CASE("the allocating overload returns outputs shaped for the batch") {
    Doubler d;
    std::vector<double> x = {1, 2, 3, 4, 5, 6};
    maas::Predictor& p = d;
    auto out = p.Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {2, 3})});
    REQUIRE(out.ok());
    REQUIRE(out->size() == 1);
    CHECK((*out)[0].name() == "y");
    CHECK((*out)[0].shape() == maas::Shape({2, 3}));
    CHECK((*out)[0].data<double>()[5] == 12.0);
  }

  TEST_CASE("a rejected call leaves the caller's outputs untouched") {
    Doubler d;
    std::vector<double> x(4), y(6, -1.0);
    absl::Status s = d.Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 4})},
                               {maas::TensorView("y", absl::MakeSpan(y), {2, 3})});
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(d.calls == 0);
    for (double v : y) CHECK(v == -1.0);
  }
}

TEST_SUITE("Predictor with CallOptions") {
  TEST_CASE("the options overload runs the predictor and reports one attempt served by its label") {
    Doubler d;
    std::vector<double> x = {1, 2, 3}, y = {0, 0, 0};
    maas::CallReport report;
    report.fell_back = true;  // must be reset by the call
    absl::Status s = static_cast<maas::Predictor&>(d).Predict(
        {maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 3})},
        {maas::TensorView("y", absl::MakeSpan(y), {1, 3})},
        maas::CallOptions::Timeout(absl::Seconds(10)), &report);
    REQUIRE(s.ok());
    CHECK(y[2] == 6.0);
    CHECK(report.served_by == "predictor");
    CHECK(report.attempts == 1);
    CHECK_FALSE(report.fell_back);
  }

  TEST_CASE("a passed deadline is kDeadlineExceeded before any work, outputs untouched") {
    Doubler d;
    std::vector<double> x = {1, 2, 3}, y = {7, 7, 7};
    maas::CallOptions opts;
    opts.deadline = absl::Now() - absl::Milliseconds(1);
    maas::CallReport report;
    absl::Status s = static_cast<maas::Predictor&>(d).Predict(
        {maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 3})},
        {maas::TensorView("y", absl::MakeSpan(y), {1, 3})}, opts, &report);
    CHECK(s.code() == absl::StatusCode::kDeadlineExceeded);
    CHECK(d.calls == 0);
    CHECK(y == std::vector<double>{7, 7, 7});
    CHECK(report.served_by.empty());
  }

  TEST_CASE("no deadline and a null report are allowed") {
    Doubler d;
    std::vector<double> x = {1, 2, 3}, y = {0, 0, 0};
    absl::Status s = static_cast<maas::Predictor&>(d).Predict(
        {maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 3})},
        {maas::TensorView("y", absl::MakeSpan(y), {1, 3})}, maas::CallOptions(), nullptr);
    CHECK(s.ok());
    CHECK(y[0] == 2.0);
  }
}
