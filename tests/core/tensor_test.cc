#include "maas/core/tensor.h"

#include <vector>

#include "doctest/doctest.h"
#include "maas/core/tensor_view.h"
#include "testing/status_doctest.h"

TEST_SUITE("TensorView") {
  TEST_CASE("a view over a simulation array reads it in place") {
    std::vector<double> state = {1, 2, 3, 4, 5, 6};
    maas::ConstTensorView v("state", absl::MakeConstSpan(state), {2, 3});
    CHECK(v.CheckBuffer().ok());
    CHECK(v.dtype() == maas::DataType::kFloat64);
    CHECK(v.data<double>().data() == state.data());  // zero copy
    CHECK(v.data<float>().empty());                  // wrong type: empty span
  }

  TEST_CASE("a buffer that does not fit the shape is an error naming both") {
    std::vector<float> x(60);
    maas::ConstTensorView v("x", absl::MakeConstSpan(x), {4, 16});
    absl::Status s = v.CheckBuffer();
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(s.message() ==
          "input 'x': shape [4,16] needs 64 elements but the buffer holds 60");
  }

  TEST_CASE("a null pointer, an unset datatype and a dynamic shape are errors") {
    maas::ConstTensorView null("x", maas::DataType::kFloat32, {1, 2}, nullptr, 8);
    CHECK(null.CheckBuffer().code() == absl::StatusCode::kInvalidArgument);
    CHECK(maas::ConstTensorView().CheckBuffer().code() ==
          absl::StatusCode::kInvalidArgument);
    float f[2];
    maas::ConstTensorView dyn("x", absl::MakeConstSpan(f), {maas::kDynamic, 2});
    CHECK(dyn.CheckBuffer().code() == absl::StatusCode::kInvalidArgument);
  }

  TEST_CASE("a shape in braces (built in place) and a Shape object give the same view") {
    std::vector<float> x(12);
    const maas::Shape shape({3, 4});
    const maas::ConstTensorView braced("x", absl::MakeConstSpan(x), {3, 4});
    const maas::ConstTensorView from_shape("x", absl::MakeConstSpan(x), shape);
    CHECK(braced.shape() == from_shape.shape());
    CHECK(braced.byte_size() == from_shape.byte_size());
    CHECK(braced.dtype() == from_shape.dtype());
    maas::TensorView out("y", absl::MakeSpan(x), {2, 6});
    CHECK(out.shape() == maas::Shape({2, 6}));
    // Empty braces are the rank-0 shape; more than kMaxRank dimensions stay
    // an error the buffer check reports.
    const maas::ConstTensorView scalar("s", absl::MakeConstSpan(x.data(), 1), {});
    CHECK(scalar.shape().rank() == 0);
    CHECK(scalar.CheckBuffer().ok());
    const maas::ConstTensorView deep("d", absl::MakeConstSpan(x), {1, 1, 1, 1, 1, 1, 1, 1, 12});
    CHECK_FALSE(deep.shape().valid());
    CHECK(deep.CheckBuffer().code() == absl::StatusCode::kInvalidArgument);
  }

  TEST_CASE("a writable view converts to a read-only one") {
    float y[8] = {};
    maas::TensorView out("y", absl::MakeSpan(y), {2, 4});
    maas::ConstTensorView in = out;
    CHECK(in.raw_data() == y);
    CHECK(in.shape() == maas::Shape({2, 4}));
    out.data<float>()[3] = 7.f;
    CHECK(y[3] == 7.f);
  }
}

TEST_SUITE("Tensor") {
  TEST_CASE("zeros, copies and views") {
    maas::Tensor t = maas::Tensor::Zeros<float>("y", {3, 2});
    CHECK(t.byte_size() == 24);
    for (float v : t.data<float>()) CHECK(v == 0.f);
    t.data<float>()[5] = 2.5f;
    maas::Tensor copy = t;
    CHECK(copy.data<float>()[5] == 2.5f);
    CHECK(copy.view().CheckBuffer().ok());
  }

  TEST_CASE("FromValues checks the count") {
    std::vector<double> v = {1, 2, 3};
    auto good = maas::Tensor::FromValues<double>("v", {3}, v);
    REQUIRE(good.ok());
    CHECK(good->data<double>()[2] == 3.0);
    auto bad = maas::Tensor::FromValues<double>("v", {2, 2}, v);
    CHECK(bad.status().code() == absl::StatusCode::kInvalidArgument);
  }
}
