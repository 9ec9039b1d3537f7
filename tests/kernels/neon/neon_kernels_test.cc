// NEON-specific checks; the shared kernel tests (../dense_*_test.cc) are
// compiled into the same binary.
#include "doctest/doctest.h"
#include "maas/local/kernels/kernels.h"

TEST_SUITE("kernels.neon") {
  TEST_CASE("an aarch64 build compiles the NEON kernels and uses them statically") {
#if !defined(MAAS_KERNELS_HAVE_NEON)
    FAIL("MAAS_KERNELS_HAVE_NEON is not defined in an aarch64 build");
#endif
    CHECK(maas::kernels::CpuSupports(maas::kernels::Isa::kNeon));
    CHECK(maas::kernels::ActiveIsa() == maas::kernels::Isa::kNeon);
    CHECK_FALSE(maas::kernels::kRuntimeDispatch);
    CHECK_FALSE(maas::kernels::CpuSupports(maas::kernels::Isa::kAvx2));
  }
}
