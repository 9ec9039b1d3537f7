// The reproducible mode (Numerics::kReproducible): every kernel this build
// has and this CPU runs gives the same bits as the portable one-lane kernel,
// at every batch size and thread count, for whole networks (standardisation,
// layers of every activation, output scaling) of compile-time and run-time
// size; and the bits hash to the constants below, which this same file
// checks on AArch64 (NEON, under qemu: tests/kernels/neon) - so the outputs
// are identical across machines, not only within one. Free of Abseil.
//
// If a deliberate change to the kernels' arithmetic changes the outputs, the
// failing check prints the new hashes; update kHashFloat / kHashDouble in
// the same commit.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

#include "doctest/doctest.h"
#include "kernels/kernel_check.h"
#include "maas/local/kernels/kernels.h"

namespace {

using maas::Activation;
using maas::Numerics;
using maas::kernels::Isa;
using maas::kernels::LayerSpec;

constexpr Numerics kRepro = Numerics::kReproducible;

// FNV-1a over the bytes of the outputs.
struct Hash {
  std::uint64_t h = 1469598103934665603ull;
  template <typename T>
  void Add(const std::vector<T>& v) {
    const auto* p = reinterpret_cast<const unsigned char*>(v.data());
    for (std::size_t i = 0; i < v.size() * sizeof(T); ++i) {
      h ^= p[i];
      h *= 1099511628211ull;
    }
  }
};

// Values in [-1, 1) with 24 random bits, from a fixed linear congruential
// sequence: exact in float and double, the same on every platform.
struct Lcg {
  std::uint64_t s;
  double Next() {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<double>(s >> 40) / 8388608.0 - 1.0;
  }
};

// A network held for the kernels: packed layers and a view.
template <typename T>
struct TestNet {
  std::vector<std::vector<T>> w, b;
  std::vector<maas::kernels::LayerView<T>> layers;
  std::vector<T> in_shift, in_scale, out_scale, out_offset;
  maas::kernels::NetworkView<T> view;

  // `shape` = {(n_in, n_out, act)...}; weights packed for `isa`'s
  // reproducible plan (kColumns, 4 sums, on every ISA).
  TestNet(const std::vector<std::tuple<std::size_t, std::size_t, Activation>>& shape, Isa isa,
          std::uint64_t seed) {
    Lcg rng{seed};
    std::size_t width = 0;
    for (const auto& [n_in, n_out, act] : shape) {
      std::vector<T> src(n_in * n_out);
      const double scale = 1.5 / std::sqrt(static_cast<double>(n_in));
      for (T& v : src) v = static_cast<T>(rng.Next() * scale);
      maas::kernels::LayerView<T> l;
      l.n_in = n_in;
      l.n_out = n_out;
      l.act = act;
      l.alpha = act == Activation::kLeakyRelu ? T(0.2) : act == Activation::kElu ? T(1.5) : T(0);
      l.plan = maas::kernels::PlanFor<T>(isa, n_in, n_out, kRepro);
      w.emplace_back(maas::kernels::WeightsSize<T>(l.plan.layout, n_in, n_out));
      maas::kernels::PackWeights<T>(l.plan.layout, n_in, n_out, src.data(), w.back().data());
      b.emplace_back(maas::kernels::PaddedSize<T>(n_out), T(0));
      for (std::size_t j = 0; j < n_out; ++j) b.back()[j] = static_cast<T>(rng.Next());
      layers.push_back(l);
      width = std::max({width, maas::kernels::PaddedSize<T>(n_in),
                        maas::kernels::PaddedSize<T>(n_out)});
    }
    for (std::size_t l = 0; l < layers.size(); ++l) {
      layers[l].w = w[l].data();
      layers[l].b = b[l].data();
    }
    const std::size_t n_in = layers.front().n_in, n_out = layers.back().n_out;
    in_shift.assign(maas::kernels::PaddedSize<T>(n_in), T(0));
    in_scale.assign(in_shift.size(), T(1));
    out_scale.assign(maas::kernels::PaddedSize<T>(n_out), T(1));
    out_offset.assign(out_scale.size(), T(0));
    for (std::size_t i = 0; i < n_in; ++i) {
      in_shift[i] = static_cast<T>(rng.Next());
      in_scale[i] = static_cast<T>(1.0 + 0.5 * rng.Next());
    }
    for (std::size_t j = 0; j < n_out; ++j) {
      out_scale[j] = static_cast<T>(2.0 * rng.Next());
      out_offset[j] = static_cast<T>(rng.Next());
    }
    view.layers = layers.data();
    view.num_layers = layers.size();
    view.n_in = n_in;
    view.n_out = n_out;
    view.max_width = width;
    view.in_shift = in_shift.data();
    view.in_scale = in_scale.data();
    view.out_scale = out_scale.data();
    view.out_offset = out_offset.data();
  }
};

template <typename T>
std::vector<T> Inputs(std::size_t n, std::uint64_t seed) {
  Lcg rng{seed};
  std::vector<T> x(n);
  for (T& v : x) v = static_cast<T>(2.0 * rng.Next());
  return x;
}

// The implementations under test: every ISA compiled in and supported
// (scalar means portable in this mode), and the dispatched choice.
std::vector<Isa> Isas() {
  std::vector<Isa> isas;
  for (Isa isa : {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon}) {
    if (maas::kernels::CpuSupports(isa)) isas.push_back(isa);
  }
  return isas;
}

constexpr std::size_t kBatches[] = {1, 2, 3, 5, 64, 301};

// A run-time-sized pass: scratch for `block` rows.
template <typename T>
void RunDynamic(Isa isa, const TestNet<T>& net, const T* x, std::size_t rows, T* y,
                std::size_t block) {
  std::vector<T> scratch(2 * block * net.view.max_width + 16);
  const auto fn = maas::kernels::ForwardDynamicKernel<T, kRepro>(isa);
  const bool compiled = fn != nullptr;
  REQUIRE(compiled);
  fn(net.view, x, rows, y, scratch.data(), block);
}

// Every shape, batch, ISA and block size: the bits of the portable kernel.
// Returns the hash of the portable outputs (compile-time networks).
template <typename T, typename... Specs>
void CheckNetwork(Hash* hash, std::uint64_t seed) {
  const std::vector<std::tuple<std::size_t, std::size_t, Activation>> shape = {
      {Specs::kInputSize, Specs::kOutputSize, Specs::kActivation}...};
  const TestNet<T> ref_net(shape, Isa::kScalar, seed);
  const std::size_t n_in = ref_net.view.n_in, n_out = ref_net.view.n_out;
  for (std::size_t rows : kBatches) {
    const std::vector<T> x = Inputs<T>(rows * n_in, seed + rows);
    std::vector<T> want(rows * n_out);
    maas::kernels::ForwardKernel<T, kRepro, Specs...>(Isa::kScalar)(ref_net.view, x.data(), rows,
                                                                   want.data());
    hash->Add(want);
    for (Isa isa : Isas()) {
      INFO(maas::kernels::IsaName(isa), ": ", sizeof(T) == 4 ? "float" : "double", ", ",
           sizeof...(Specs), " layers from ", n_in, ", ", rows, " rows");
      const TestNet<T> net(shape, isa, seed);
      std::vector<T> got(rows * n_out);
      maas::kernels::ForwardKernel<T, kRepro, Specs...>(isa)(net.view, x.data(), rows, got.data());
      CHECK(std::memcmp(got.data(), want.data(), want.size() * sizeof(T)) == 0);
      for (std::size_t block : {std::size_t{1}, std::size_t{7}, std::size_t{96}}) {
        std::vector<T> dyn(rows * n_out);
        RunDynamic<T>(isa, net, x.data(), rows, dyn.data(), block);
        CHECK(std::memcmp(dyn.data(), want.data(), want.size() * sizeof(T)) == 0);
      }
    }
    // The dispatched seam (whatever ISA this process picked).
    const TestNet<T> active(shape, maas::kernels::ActiveIsa(), seed);
    std::vector<T> got(rows * n_out);
    maas::kernels::Forward<T, kRepro, Specs...>(active.view, x.data(), rows, got.data());
    CHECK(std::memcmp(got.data(), want.data(), want.size() * sizeof(T)) == 0);
  }
}

template <typename T>
std::uint64_t AllNetworks() {
  using A = Activation;
  Hash hash;
  CheckNetwork<T, LayerSpec<16, 64, A::kRelu>, LayerSpec<64, 64, A::kRelu>,
               LayerSpec<64, 8, A::kSoftmax>>(&hash, 1);
  CheckNetwork<T, LayerSpec<1, 12, A::kTanh>, LayerSpec<12, 12, A::kTanh>,
               LayerSpec<12, 1, A::kIdentity>>(&hash, 2);
  CheckNetwork<T, LayerSpec<3, 7, A::kGelu>, LayerSpec<7, 100, A::kLeakyRelu>,
               LayerSpec<100, 3, A::kElu>, LayerSpec<3, 33, A::kSilu>,
               LayerSpec<33, 2, A::kGeluTanh>, LayerSpec<2, 5, A::kSoftplus>,
               LayerSpec<5, 17, A::kSigmoid>>(&hash, 3);
  CheckNetwork<T, LayerSpec<256, 256, A::kRelu>, LayerSpec<256, 16, A::kSoftmax>>(&hash, 4);
  CheckNetwork<T, LayerSpec<40, 1, A::kSigmoid>>(&hash, 5);
  return hash.h;
}

// The hashes of AllNetworks() (see the file comment).
constexpr std::uint64_t kHashFloat = 0xfa6f56434dd41c73ull;
constexpr std::uint64_t kHashDouble = 0x2c81254726f8aea9ull;

}  // namespace

TEST_SUITE("kernels.reproducible") {
  TEST_CASE_TEMPLATE("every ISA gives the portable kernel's bits; the bits are the same on every machine",
                     T, float, double) {
    const std::uint64_t h = AllNetworks<T>();
    const std::uint64_t want = std::is_same_v<T, float> ? kHashFloat : kHashDouble;
    if (h != want) {
      std::printf("reproducible outputs hash to 0x%016llx (%s); the file expects 0x%016llx\n",
                  static_cast<unsigned long long>(h), sizeof(T) == 4 ? "float" : "double",
                  static_cast<unsigned long long>(want));
    }
    CHECK(h == want);
  }

  TEST_CASE("the rows of one batch split across threads give the same bits") {
    const TestNet<float> net({{16, 64, Activation::kGelu}, {64, 8, Activation::kSoftmax}},
                             maas::kernels::ActiveIsa(), 9);
    const std::size_t rows = 1000;
    const std::vector<float> x = Inputs<float>(rows * 16, 10);
    std::vector<float> want(rows * 8), got(rows * 8);
    maas::kernels::Forward<float, kRepro, LayerSpec<16, 64, Activation::kGelu>,
                           LayerSpec<64, 8, Activation::kSoftmax>>(net.view, x.data(), rows,
                                                                   want.data());
    for (std::size_t threads : {2u, 3u, 7u}) {
      std::vector<std::thread> pool;
      const std::size_t per = (rows + threads - 1) / threads;
      for (std::size_t t = 0; t < threads; ++t) {
        const std::size_t r0 = t * per, n = r0 >= rows ? 0 : std::min(per, rows - r0);
        pool.emplace_back([&, r0, n] {
          maas::kernels::Forward<float, kRepro, LayerSpec<16, 64, Activation::kGelu>,
                                 LayerSpec<64, 8, Activation::kSoftmax>>(
              net.view, x.data() + r0 * 16, n, got.data() + r0 * 8);
        });
      }
      for (auto& th : pool) th.join();
      CHECK(std::memcmp(got.data(), want.data(), want.size() * sizeof(float)) == 0);
    }
  }
}
