#include "maas/core/data_type.h"

#include "doctest/doctest.h"
#include "testing/status_doctest.h"

TEST_SUITE("DataType") {
  TEST_CASE("every datatype round-trips through its protocol name") {
    for (int i = 1; i <= static_cast<int>(maas::DataType::kBytes); ++i) {
      const auto t = static_cast<maas::DataType>(i);
      auto parsed = maas::ParseDataType(maas::DataTypeName(t));
      REQUIRE(parsed.ok());
      CHECK(*parsed == t);
    }
  }

  TEST_CASE("element sizes follow the Open Inference Protocol table") {
    CHECK(maas::DataTypeSize(maas::DataType::kBool) == 1);
    CHECK(maas::DataTypeSize(maas::DataType::kFloat16) == 2);
    CHECK(maas::DataTypeSize(maas::DataType::kBFloat16) == 2);
    CHECK(maas::DataTypeSize(maas::DataType::kFloat32) == 4);
    CHECK(maas::DataTypeSize(maas::DataType::kInt64) == 8);
    CHECK(maas::DataTypeSize(maas::DataType::kFloat64) == 8);
    CHECK(maas::DataTypeSize(maas::DataType::kBytes) == 0);
  }

  TEST_CASE("unknown and wrongly cased names are rejected with the text") {
    for (const char* bad : {"fp32", "FLOAT", "", "FP 32"}) {
      auto parsed = maas::ParseDataType(bad);
      REQUIRE_FALSE(parsed.ok());
      CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
      CHECK(std::string(parsed.status().message()).find(bad) != std::string::npos);
    }
  }

  TEST_CASE("C++ element types map to datatypes at compile time") {
    static_assert(maas::DataTypeOf<float>() == maas::DataType::kFloat32);
    static_assert(maas::DataTypeOf<const double>() == maas::DataType::kFloat64);
    static_assert(maas::DataTypeOf<std::int64_t>() == maas::DataType::kInt64);
    static_assert(maas::DataTypeOf<std::uint8_t>() == maas::DataType::kUint8);
    CHECK(maas::DataTypeOf<bool>() == maas::DataType::kBool);
  }
}
