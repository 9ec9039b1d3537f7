// Test helpers: absl::Status prints in doctest failure messages
// ("UNAVAILABLE: ..."), and small numeric comparison helpers.
#ifndef MAAS_TESTS_TESTING_STATUS_DOCTEST_H_
#define MAAS_TESTS_TESTING_STATUS_DOCTEST_H_

#include <algorithm>
#include <cmath>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "doctest/doctest.h"

namespace doctest {
template <>
struct StringMaker<absl::Status> {
  static String convert(const absl::Status& s) {
    return String(s.ToString().c_str());
  }
};
template <>
struct StringMaker<absl::StatusCode> {
  static String convert(absl::StatusCode c) {
    return String(absl::StatusCodeToString(c).c_str());
  }
};
}  // namespace doctest

namespace maas_test {

// Relative difference with a floor of `abs_floor` on the denominator, so that
// values near zero are compared absolutely.
inline double RelErr(double got, double want, double abs_floor = 1e-30) {
  return std::abs(got - want) / std::max(std::abs(want), abs_floor);
}

}  // namespace maas_test

#endif  // MAAS_TESTS_TESTING_STATUS_DOCTEST_H_
