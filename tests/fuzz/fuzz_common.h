// Shared helpers of the fuzz targets (tests/fuzz/*_fuzz.cc). A contract
// violation aborts, so libFuzzer records the input as a crash.
#ifndef MAAS_TESTS_FUZZ_FUZZ_COMMON_H_
#define MAAS_TESTS_FUZZ_FUZZ_COMMON_H_

#include <cstdio>
#include <cstdlib>
#include <cstring>

#define MAAS_FUZZ_CHECK(cond)                                                   \
  do {                                                                          \
    if (!(cond)) {                                                              \
      std::fprintf(stderr, "%s:%d: contract violated: %s\n", __FILE__, __LINE__, \
                   #cond);                                                      \
      std::abort();                                                             \
    }                                                                           \
  } while (0)

namespace maas_fuzz {

// Bitwise equality (NaN == NaN with the same bits).
template <typename T>
bool SameBits(const T& a, const T& b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

}  // namespace maas_fuzz

#endif  // MAAS_TESTS_FUZZ_FUZZ_COMMON_H_
