// Kernel selection: which implementation DenseLayer runs, and the
// MAAS_KERNEL override of a runtime-dispatch build.
#include <cstdlib>
#include <cstring>
#include <string>

#include "doctest/doctest.h"
#include "maas/local/kernels/kernels.h"

using maas::kernels::CpuSupports;
using maas::kernels::Isa;
using maas::kernels::IsaName;

namespace {

Isa BestSupported() {
  if (CpuSupports(Isa::kAvx512)) return Isa::kAvx512;
  if (CpuSupports(Isa::kAvx2)) return Isa::kAvx2;
  if (CpuSupports(Isa::kNeon)) return Isa::kNeon;
  return Isa::kScalar;
}

// Sets MAAS_KERNEL for one call of DetectIsa and restores it.
Isa DetectWith(const char* value) {
  const char* old = std::getenv("MAAS_KERNEL");
  const std::string saved = old != nullptr ? old : "";
  if (value != nullptr) {
    setenv("MAAS_KERNEL", value, 1);
  } else {
    unsetenv("MAAS_KERNEL");
  }
  const Isa isa = maas::kernels::detail::DetectIsa();
  if (old != nullptr) {
    setenv("MAAS_KERNEL", saved.c_str(), 1);
  } else {
    unsetenv("MAAS_KERNEL");
  }
  return isa;
}

// For every layer width and number of partial sums: when some tile width
// (1, 2 or 4 output vectors, at most the layer's) leaves room for at least
// two rows, the width the many-row path picks does too. A tile of one row is
// no tiling: every row would run on the one-row path (the AVX2 kernel did
// that for every layer of four or more vectors with two partial sums,
// reaching 47 % of the FMA peak on a 256-wide network at batch 1024).
template <typename T, std::size_t (*kCols)(std::size_t, std::size_t, std::size_t),
          std::size_t (*kRows)(std::size_t, std::size_t)>
void CheckBatchTiles(const char* isa) {
  for (std::size_t split : {1, 2, 4, 8}) {
    for (std::size_t vecs = 1; vecs <= 40; ++vecs) {
      for (std::size_t n_in : {1, 7, 64, 256, 1024}) {
        std::size_t best = 0;
        for (std::size_t w : {1, 2, 4}) {
          if (w <= vecs && kRows(w, split) > best) best = kRows(w, split);
        }
        const std::size_t cols = kCols(n_in, vecs, split);
        CAPTURE(isa);
        CAPTURE(sizeof(T));
        CAPTURE(split);
        CAPTURE(vecs);
        CAPTURE(n_in);
        CHECK(cols <= vecs);
        if (best >= 2) CHECK(kRows(cols, split) >= 2);
      }
    }
  }
}

}  // namespace

TEST_SUITE("kernels.dispatch") {
  TEST_CASE("names are the MAAS_KERNEL spellings") {
    CHECK(std::strcmp(IsaName(Isa::kScalar), "scalar") == 0);
    CHECK(std::strcmp(IsaName(Isa::kAvx2), "avx2") == 0);
    CHECK(std::strcmp(IsaName(Isa::kAvx512), "avx512") == 0);
    CHECK(std::strcmp(IsaName(Isa::kNeon), "neon") == 0);
  }

  TEST_CASE("the active kernel runs on this CPU and is the best it has") {
    const Isa active = maas::kernels::ActiveIsa();
    INFO("active: ", IsaName(active), ", runtime dispatch: ",
         maas::kernels::kRuntimeDispatch);
    CHECK(CpuSupports(active));
    if (maas::kernels::kRuntimeDispatch && std::getenv("MAAS_KERNEL") == nullptr) {
      // A generic build reaches AVX-512 / AVX2 without any -m flag.
      CHECK(active == BestSupported());
    }
#if defined(__AVX512F__) && !defined(MAAS_KERNELS_FORCE_SCALAR)
    CHECK(active == Isa::kAvx512);
#endif
#if defined(MAAS_KERNELS_FORCE_SCALAR)
    CHECK(active == Isa::kScalar);
#endif
  }

  TEST_CASE("MAAS_KERNEL caps the runtime choice; unknown or unsupported values are ignored") {
    const Isa best = DetectWith(nullptr);
    CHECK(best == BestSupported());
    CHECK(DetectWith("scalar") == Isa::kScalar);
    CHECK(DetectWith("avx2") == (CpuSupports(Isa::kAvx2) ? Isa::kAvx2 : best));
    CHECK(DetectWith("avx512") == best);
    CHECK(DetectWith("no-such-isa") == best);
    CHECK(DetectWith("") == best);
  }

  TEST_CASE("DenseKernel has a body for every ISA compiled in") {
    const bool scalar =
        maas::kernels::DenseKernel<float, 3, 5, maas::Activation::kRelu>(Isa::kScalar) != nullptr;
    CHECK(scalar);
#if defined(MAAS_KERNELS_HAVE_AVX2)
    const bool avx2 =
        maas::kernels::DenseKernel<float, 3, 5, maas::Activation::kRelu>(Isa::kAvx2) != nullptr;
    CHECK(avx2);
#endif
#if defined(MAAS_KERNELS_HAVE_AVX512)
    const bool avx512 =
        maas::kernels::DenseKernel<float, 3, 5, maas::Activation::kRelu>(Isa::kAvx512) != nullptr;
    CHECK(avx512);
#endif
#if !defined(MAAS_KERNELS_HAVE_NEON)
    const bool neon =
        maas::kernels::DenseKernel<float, 3, 5, maas::Activation::kRelu>(Isa::kNeon) == nullptr;
    CHECK(neon);
#endif
  }

  TEST_CASE("the many-row tiles hold at least two rows whenever the registers allow it") {
#if defined(MAAS_KERNELS_HAVE_AVX2)
    namespace a2 = maas::kernels::avx2;
    CheckBatchTiles<float, &a2::BatchTileCols<float>, &a2::BatchTileRows>("avx2");
    CheckBatchTiles<double, &a2::BatchTileCols<double>, &a2::BatchTileRows>("avx2");
#endif
#if defined(MAAS_KERNELS_HAVE_AVX512)
    namespace a5 = maas::kernels::avx512;
    CheckBatchTiles<float, &a5::BatchTileCols<float>, &a5::BatchTileRows>("avx512");
    CheckBatchTiles<double, &a5::BatchTileCols<double>, &a5::BatchTileRows>("avx512");
#endif
#if defined(MAAS_KERNELS_HAVE_NEON)
    namespace ne = maas::kernels::neon;
    CheckBatchTiles<float, &ne::BatchTileCols<float>, &ne::BatchTileRows>("neon");
    CheckBatchTiles<double, &ne::BatchTileCols<double>, &ne::BatchTileRows>("neon");
#endif
    namespace po = maas::kernels::portable;
    CheckBatchTiles<float, &po::BatchTileCols<float>, &po::BatchTileRows>("portable");
  }
}
