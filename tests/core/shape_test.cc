#include "maas/core/shape.h"

#include <type_traits>
#include <vector>

#include "doctest/doctest.h"
#include "testing/status_doctest.h"

TEST_SUITE("Shape") {
  TEST_CASE("sizes, element counts and printing") {
    maas::Shape s = {4, 16};
    CHECK(s.rank() == 2);
    CHECK(s.num_elements() == 64);
    CHECK(s.ToString() == "[4,16]");
    CHECK(maas::Shape().num_elements() == 1);
    CHECK(maas::Shape({3, 0}).num_elements() == 0);
    static_assert(std::is_trivially_copyable_v<maas::Shape>);
  }

  TEST_CASE("a dynamic dimension matches any size but not another rank") {
    maas::Shape spec = {maas::kDynamic, 16};
    CHECK(spec.Matches({1, 16}));
    CHECK(spec.Matches({1024, 16}));
    CHECK_FALSE(spec.Matches({4, 15}));
    CHECK_FALSE(spec.Matches({4, 16, 1}));
    CHECK_FALSE(spec.Matches({16}));
    CHECK_FALSE(spec.is_fully_defined());
    CHECK(spec.num_elements() == -1);
  }

  TEST_CASE("more than kMaxRank dimensions is reported, not a crash") {
    std::vector<std::int64_t> dims(maas::Shape::kMaxRank + 1, 2);
    auto s = maas::Shape::FromDims(dims);
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == absl::StatusCode::kInvalidArgument);
    maas::Shape list = {1, 1, 1, 1, 1, 1, 1, 1, 1};
    CHECK_FALSE(list.valid());
    CHECK_FALSE(list.is_fully_defined());
    CHECK(list.num_elements() == -1);
  }

  TEST_CASE("negative sizes other than -1 are rejected") {
    std::vector<std::int64_t> dims = {2, -3};
    CHECK(maas::Shape::FromDims(dims).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }

  TEST_CASE("an element count that overflows int64 is -1") {
    maas::Shape s = {INT64_MAX / 2, 4};
    CHECK(s.num_elements() == -1);
  }
}
