// Local network benchmark: maas (the kernel DenseLayer dispatches to), maas's
// scalar kernel, and a straightforward Eigen fixed-size implementation of the
// same networks, against an FMA-peak loop measured in the same run.
//
// Cases (float, ReLU / ReLU / softmax):
//   small: 16 -> 64 -> 64 -> 8      (11,264 FLOP per sample)
//   large: 256 -> 256 -> 256 -> 16  (270,336 FLOP per sample)
// at batch 1 (one call per sample, inputs cycling through 256 rows) and batch
// 1024 (one call per 1024 samples). FLOP = 2 x multiply-adds of the dense
// layers (bias, activations not counted).
//
// Also: the small network in the reproducible mode (maas_repro), the call
// path (call_small / call_drag: raw network call vs Predict), FMA-peak loops
// for AVX-512 and AVX2, and an L2 read-bandwidth loop over as many bytes as
// the large network's weights (l2_read: the large batch-1 bound).
//
// Counters: ns_per_sample, GFLOPs (rate), peak_fraction (of the AVX-512 FMA
// loop run first in this process), vs_eigen (Eigen time / this time, > 1 = faster than
// Eigen; Eigen's case runs just before). bench/local/run_local_bench.py runs
// this with repetitions and prints medians. Pin it (taskset) on a noisy box.
// maas's kernels first: they include <immintrin.h> with GCC 12's false
// -Wmaybe-uninitialized in the intrinsics silenced (GCC bug 105593), which
// then also covers Eigen's use of the same intrinsics.
#include "maas/local/kernels/kernels.h"  // NOLINT(build/include_order)

#include <algorithm>
#include <ctime>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstddef>
#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

// The 256 x 256 fixed-size weight matrices live on the heap (make_unique);
// lift Eigen's compile-time stack-size guard for them.
#define EIGEN_STACK_ALLOCATION_LIMIT 0
#include "Eigen/Core"
#include "absl/types/span.h"
#include "benchmark/benchmark.h"
#include "maas/core/tensor_view.h"
#include "maas/local/dynamic_network.h"
#include "maas/local/local_model.h"
#include "maas/local/model_file.h"
#include "maas/local/network.h"

namespace {

using SmallNet = maas::Network<float, maas::Dense<16, 64, maas::Relu>,
                               maas::Dense<64, 64, maas::Relu>,
                               maas::Dense<64, 8, maas::Softmax>>;
using LargeNet = maas::Network<float, maas::Dense<256, 256, maas::Relu>,
                               maas::Dense<256, 256, maas::Relu>,
                               maas::Dense<256, 16, maas::Softmax>>;
// The reproducible mode of the small network (Numerics::kReproducible).
using SmallRepro = maas::ReproducibleNetwork<float, maas::Dense<16, 64, maas::Relu>,
                                             maas::Dense<64, 64, maas::Relu>,
                                             maas::Dense<64, 8, maas::Softmax>>;
// The projectile example's drag model: 1 -> 12 tanh -> 12 tanh -> 1, double.
using DragNet = maas::Network<double, maas::Dense<1, 12, maas::Tanh>,
                              maas::Dense<12, 12, maas::Tanh>, maas::Dense<12, 1>>;

constexpr std::size_t kPoolRows = 256;

// Results shared between benchmarks of one run: the FMA peak runs first and
// each case's Eigen benchmark before maas's (registration order).
double g_peak_gflops = 0;                  // GFLOP/s of the FMA loop
std::map<std::string, double> g_eigen_ns;  // per case: Eigen ns per sample

template <typename Net>
constexpr double FlopsPerSample() {
  double f = 0;
  for (std::size_t l = 0; l < Net::kNumLayers; ++l) {
    f += 2.0 * static_cast<double>(Net::layer_input_size(l)) *
         static_cast<double>(Net::layer_output_size(l));
  }
  return f;
}

// Random weights in [-a, a] with a = 1 / sqrt(fan-in); the same for every
// implementation (seeded per layer).
template <typename Net>
struct Weights {
  using T = typename Net::ValueType;
  std::vector<std::vector<T>> w, b;  // w row-major kIn x kOut
  Weights() {
    std::mt19937 rng(42);
    for (std::size_t l = 0; l < Net::kNumLayers; ++l) {
      const std::size_t in = Net::layer_input_size(l), out = Net::layer_output_size(l);
      std::uniform_real_distribution<T> u(T(-1) / std::sqrt(T(in)), T(1) / std::sqrt(T(in)));
      w.emplace_back(in * out);
      b.emplace_back(out);
      for (T& v : w.back()) v = u(rng);
      for (T& v : b.back()) v = u(rng);
    }
  }
};

template <typename Net>
std::unique_ptr<Net> MakeNet(const Weights<Net>& wt) {
  auto net = std::make_unique<Net>();
  for (std::size_t l = 0; l < Net::kNumLayers; ++l) {
    if (!net->SetLayer(l, absl::MakeConstSpan(wt.w[l]), absl::MakeConstSpan(wt.b[l])).ok()) {
      std::abort();
    }
  }
  return net;
}

template <typename T = float>
std::vector<T> RandomRows(std::size_t n) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<T> u(-1, 1);
  std::vector<T> x(n);
  for (T& v : x) v = u(rng);
  return x;
}

// CPU time of a benchmark loop, measured around it (the State does not
// expose its timer); used for the cross-benchmark ratios only.
// Thread CPU time, like Google Benchmark's "CPU" column.
struct Clock {
  using time_point = double;  // seconds
  static double now() {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
  }
};

void SetCounters(benchmark::State& state, const std::string& key,
                 double flops_per_sample, std::size_t batch, bool is_eigen,
                 Clock::time_point t0, Clock::time_point t1) {
  const double samples = static_cast<double>(state.iterations()) * static_cast<double>(batch);
  state.SetItemsProcessed(static_cast<std::int64_t>(samples));
  state.counters["ns_per_sample"] = benchmark::Counter(
      samples * 1e-9, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["GFLOPs"] =
      benchmark::Counter(samples * flops_per_sample * 1e-9, benchmark::Counter::kIsRate);
  const double ns = (t1 - t0) * 1e9 / samples;
  if (is_eigen) g_eigen_ns[key] = ns;
  if (g_peak_gflops > 0) state.counters["peak_fraction"] = flops_per_sample / ns / g_peak_gflops;
  if (!is_eigen && g_eigen_ns.count(key) != 0) state.counters["vs_eigen"] = g_eigen_ns[key] / ns;
}

// ---------------------------------------------------------------------------
// FMA peak: 16 independent chains of 512-bit FMAs (2 ports x 4-cycle latency
// needs >= 8), compiled for AVX-512 in every build so the generic build
// reports the same machine peak.
__attribute__((target("avx512f,fma"), noinline)) double FmaPeakLoop(std::size_t n) {
  const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  __m512 a0 = _mm512_set1_ps(0.0f), a1 = _mm512_set1_ps(0.1f), a2 = _mm512_set1_ps(0.2f),
         a3 = _mm512_set1_ps(0.3f), a4 = _mm512_set1_ps(0.4f), a5 = _mm512_set1_ps(0.5f),
         a6 = _mm512_set1_ps(0.6f), a7 = _mm512_set1_ps(0.7f), a8 = _mm512_set1_ps(0.8f),
         a9 = _mm512_set1_ps(0.9f), a10 = _mm512_set1_ps(1.0f), a11 = _mm512_set1_ps(1.1f),
         a12 = _mm512_set1_ps(1.2f), a13 = _mm512_set1_ps(1.3f), a14 = _mm512_set1_ps(1.4f),
         a15 = _mm512_set1_ps(1.5f);
  for (std::size_t i = 0; i < n; ++i) {
    a0 = _mm512_fmadd_ps(a0, m, c);
    a1 = _mm512_fmadd_ps(a1, m, c);
    a2 = _mm512_fmadd_ps(a2, m, c);
    a3 = _mm512_fmadd_ps(a3, m, c);
    a4 = _mm512_fmadd_ps(a4, m, c);
    a5 = _mm512_fmadd_ps(a5, m, c);
    a6 = _mm512_fmadd_ps(a6, m, c);
    a7 = _mm512_fmadd_ps(a7, m, c);
    a8 = _mm512_fmadd_ps(a8, m, c);
    a9 = _mm512_fmadd_ps(a9, m, c);
    a10 = _mm512_fmadd_ps(a10, m, c);
    a11 = _mm512_fmadd_ps(a11, m, c);
    a12 = _mm512_fmadd_ps(a12, m, c);
    a13 = _mm512_fmadd_ps(a13, m, c);
    a14 = _mm512_fmadd_ps(a14, m, c);
    a15 = _mm512_fmadd_ps(a15, m, c);
    // Keeps the compiler from folding the chains; emits no instruction.
    __asm__ volatile("" : "+v"(a0), "+v"(a1), "+v"(a2), "+v"(a3), "+v"(a4), "+v"(a5),
                     "+v"(a6), "+v"(a7));
    __asm__ volatile("" : "+v"(a8), "+v"(a9), "+v"(a10), "+v"(a11), "+v"(a12), "+v"(a13),
                     "+v"(a14), "+v"(a15));
  }
  __m512 s = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
                           _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
  s = _mm512_add_ps(s, _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)),
                                     _mm512_add_ps(_mm512_add_ps(a12, a13), _mm512_add_ps(a14, a15))));
  alignas(64) float out[16];
  _mm512_store_ps(out, s);
  return out[0];
}

void BM_FmaPeak(benchmark::State& state) {
  if (!maas::kernels::CpuSupports(maas::kernels::Isa::kAvx512)) {
    state.SkipWithError("no AVX-512 on this CPU");
    return;
  }
  constexpr std::size_t kN = 1 << 16;
  const auto t0 = Clock::now();
  for (auto _ : state) benchmark::DoNotOptimize(FmaPeakLoop(kN));
  const auto t1 = Clock::now();
  const double flops = static_cast<double>(state.iterations()) * kN * 16 * 16 * 2;
  state.counters["GFLOPs"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsRate);
  g_peak_gflops = flops / ((t1 - t0) * 1e9);
}

// The AVX2 peak: 12 independent chains of 256-bit FMAs (2 ports x 4-cycle
// latency needs >= 8; 12 + 2 constants fit the 16 ymm registers without a
// spill), the ceiling of the avx2 kernel on the same CPU.
__attribute__((target("avx2,fma"), noinline)) double FmaPeakLoopAvx2(std::size_t n) {
  const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  __m256 a0 = _mm256_set1_ps(0.0f), a1 = _mm256_set1_ps(0.1f), a2 = _mm256_set1_ps(0.2f),
         a3 = _mm256_set1_ps(0.3f), a4 = _mm256_set1_ps(0.4f), a5 = _mm256_set1_ps(0.5f),
         a6 = _mm256_set1_ps(0.6f), a7 = _mm256_set1_ps(0.7f), a8 = _mm256_set1_ps(0.8f),
         a9 = _mm256_set1_ps(0.9f), a10 = _mm256_set1_ps(1.0f), a11 = _mm256_set1_ps(1.1f);
  for (std::size_t i = 0; i < n; ++i) {
    a0 = _mm256_fmadd_ps(a0, m, c);
    a1 = _mm256_fmadd_ps(a1, m, c);
    a2 = _mm256_fmadd_ps(a2, m, c);
    a3 = _mm256_fmadd_ps(a3, m, c);
    a4 = _mm256_fmadd_ps(a4, m, c);
    a5 = _mm256_fmadd_ps(a5, m, c);
    a6 = _mm256_fmadd_ps(a6, m, c);
    a7 = _mm256_fmadd_ps(a7, m, c);
    a8 = _mm256_fmadd_ps(a8, m, c);
    a9 = _mm256_fmadd_ps(a9, m, c);
    a10 = _mm256_fmadd_ps(a10, m, c);
    a11 = _mm256_fmadd_ps(a11, m, c);
    __asm__ volatile("" : "+x"(a0), "+x"(a1), "+x"(a2), "+x"(a3), "+x"(a4), "+x"(a5));
    __asm__ volatile("" : "+x"(a6), "+x"(a7), "+x"(a8), "+x"(a9), "+x"(a10), "+x"(a11));
  }
  __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
                           _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
  s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
  alignas(32) float out[8];
  _mm256_store_ps(out, s);
  return out[0];
}

void BM_FmaPeakAvx2(benchmark::State& state) {
  if (!maas::kernels::CpuSupports(maas::kernels::Isa::kAvx2)) {
    state.SkipWithError("no AVX2 on this CPU");
    return;
  }
  constexpr std::size_t kN = 1 << 16;
  for (auto _ : state) benchmark::DoNotOptimize(FmaPeakLoopAvx2(kN));
  const double flops = static_cast<double>(state.iterations()) * kN * 12 * 8 * 2;
  state.counters["GFLOPs"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsRate);
}

// L2 read bandwidth: the large network's weights (135,168 floats, 528 KiB,
// more than L1, less than L2) summed with 256-bit loads into 8 independent
// accumulators, over and over. Batch 1 of the large network reads every
// weight once per sample, so bytes / this bandwidth bounds its time.
constexpr std::size_t kLargeWeightFloats = 256 * 256 + 256 * 256 + 256 * 16;

__attribute__((target("avx2,fma"), noinline)) float L2ReadLoop(const float* p, std::size_t n) {
  __m256 a[8];
  for (int k = 0; k < 8; ++k) a[k] = _mm256_setzero_ps();
  for (std::size_t i = 0; i + 64 <= n; i += 64) {
    for (int k = 0; k < 8; ++k) a[k] = _mm256_add_ps(a[k], _mm256_loadu_ps(p + i + 8 * k));
  }
  __m256 s = a[0];
  for (int k = 1; k < 8; ++k) s = _mm256_add_ps(s, a[k]);
  alignas(32) float out[8];
  _mm256_store_ps(out, s);
  return out[0];
}

double g_l2_gbytes = 0;  // GB/s of the L2 read loop

void BM_L2Read(benchmark::State& state) {
  if (!maas::kernels::CpuSupports(maas::kernels::Isa::kAvx2)) {
    state.SkipWithError("no AVX2 on this CPU");
    return;
  }
  const std::vector<float> w = RandomRows(kLargeWeightFloats);
  const auto t0 = Clock::now();
  for (auto _ : state) benchmark::DoNotOptimize(L2ReadLoop(w.data(), w.size()));
  const auto t1 = Clock::now();
  const double bytes = static_cast<double>(state.iterations()) * kLargeWeightFloats * 4;
  state.counters["GBps"] = benchmark::Counter(bytes * 1e-9, benchmark::Counter::kIsRate);
  g_l2_gbytes = bytes / ((t1 - t0) * 1e9);
  // The large network's batch-1 bound: every weight read once per sample.
  state.counters["large_b1_bound_ns"] = kLargeWeightFloats * 4 / g_l2_gbytes;
}

// ---------------------------------------------------------------------------
// Eigen: fixed-size matrices (out x in, column vectors), the obvious code.
template <int kIn, int kH1, int kH2, int kOut>
struct EigenNet {
  Eigen::Matrix<float, kH1, kIn> w1;
  Eigen::Matrix<float, kH2, kH1> w2;
  Eigen::Matrix<float, kOut, kH2> w3;
  Eigen::Matrix<float, kH1, 1> b1;
  Eigen::Matrix<float, kH2, 1> b2;
  Eigen::Matrix<float, kOut, 1> b3;

  template <typename Net>
  explicit EigenNet(const Weights<Net>& wt) {
    for (int i = 0; i < kIn; ++i)
      for (int j = 0; j < kH1; ++j) w1(j, i) = wt.w[0][static_cast<std::size_t>(i * kH1 + j)];
    for (int i = 0; i < kH1; ++i)
      for (int j = 0; j < kH2; ++j) w2(j, i) = wt.w[1][static_cast<std::size_t>(i * kH2 + j)];
    for (int i = 0; i < kH2; ++i)
      for (int j = 0; j < kOut; ++j) w3(j, i) = wt.w[2][static_cast<std::size_t>(i * kOut + j)];
    for (int j = 0; j < kH1; ++j) b1(j) = wt.b[0][static_cast<std::size_t>(j)];
    for (int j = 0; j < kH2; ++j) b2(j) = wt.b[1][static_cast<std::size_t>(j)];
    for (int j = 0; j < kOut; ++j) b3(j) = wt.b[2][static_cast<std::size_t>(j)];
  }

  // One sample.
  void Forward(const float* x, float* y) const {
    const Eigen::Map<const Eigen::Matrix<float, kIn, 1>> xv(x);
    const Eigen::Matrix<float, kH1, 1> h1 = (w1 * xv + b1).cwiseMax(0.0f);
    const Eigen::Matrix<float, kH2, 1> h2 = (w2 * h1 + b2).cwiseMax(0.0f);
    const Eigen::Matrix<float, kOut, 1> z = w3 * h2 + b3;
    const Eigen::Array<float, kOut, 1> e = (z.array() - z.maxCoeff()).exp();
    Eigen::Map<Eigen::Matrix<float, kOut, 1>> yv(y);
    yv = (e / e.sum()).matrix();
  }

  // A batch: samples are columns; scratch preallocated by the caller.
  struct Scratch {
    Eigen::Matrix<float, kH1, Eigen::Dynamic> h1;
    Eigen::Matrix<float, kH2, Eigen::Dynamic> h2;
    Eigen::Matrix<float, kOut, Eigen::Dynamic> z;
    explicit Scratch(Eigen::Index n) : h1(kH1, n), h2(kH2, n), z(kOut, n) {}
  };
  void ForwardBatch(const float* x, Eigen::Index n, float* y, Scratch& s) const {
    const Eigen::Map<const Eigen::Matrix<float, kIn, Eigen::Dynamic>> xm(x, kIn, n);
    s.h1.noalias() = w1 * xm;
    s.h1 = (s.h1.colwise() + b1).cwiseMax(0.0f);
    s.h2.noalias() = w2 * s.h1;
    s.h2 = (s.h2.colwise() + b2).cwiseMax(0.0f);
    s.z.noalias() = w3 * s.h2;
    s.z.colwise() += b3;
    Eigen::Map<Eigen::Matrix<float, kOut, Eigen::Dynamic>> ym(y, kOut, n);
    for (Eigen::Index c = 0; c < n; ++c) {
      const auto e = (s.z.col(c).array() - s.z.col(c).maxCoeff()).exp().eval();
      ym.col(c) = (e / e.sum()).matrix();
    }
  }
};

using SmallEigen = EigenNet<16, 64, 64, 8>;
using LargeEigen = EigenNet<256, 256, 256, 16>;

template <typename Net, typename ENet>
void BM_Eigen(benchmark::State& state, const char* key) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  static const Weights<Net> wt;
  const auto enet = std::make_unique<ENet>(wt);
  const std::vector<float> x =
      RandomRows(std::max(batch, kPoolRows) * Net::kInputSize);
  std::vector<float> y(batch * Net::kOutputSize);
  typename ENet::Scratch scratch(static_cast<Eigen::Index>(batch));
  std::size_t k = 0;
  const auto t0 = Clock::now();
  for (auto _ : state) {
    if (batch == 1) {
      enet->Forward(x.data() + (k++ % kPoolRows) * Net::kInputSize, y.data());
    } else {
      enet->ForwardBatch(x.data(), static_cast<Eigen::Index>(batch), y.data(), scratch);
    }
    benchmark::ClobberMemory();
  }
  SetCounters(state, key, FlopsPerSample<Net>(), batch, true, t0, Clock::now());
}

// maas's scalar kernel through the same network layout: the three layers
// called directly with maas::kernels::scalar::Dense on the network's packed
// parameters (what a MAAS_KERNELS_FORCE_SCALAR build runs).
template <typename Net>
struct ScalarRunner {
  std::vector<std::vector<float>> w, b;  // column layout, padded
  explicit ScalarRunner(const Weights<Net>& wt) {
    for (std::size_t l = 0; l < Net::kNumLayers; ++l) {
      const std::size_t in = Net::layer_input_size(l), out = Net::layer_output_size(l);
      w.emplace_back(in * maas::kernels::PaddedSize<float>(out));
      maas::kernels::PackWeights<float>(maas::kernels::Layout::kColumns, in, out,
                                        wt.w[l].data(), w.back().data());
      b.emplace_back(maas::kernels::PaddedSize<float>(out));
      std::copy(wt.b[l].begin(), wt.b[l].end(), b.back().begin());
    }
  }
  template <std::size_t I>
  void Layer(const float* in, float* out, std::size_t rows) const {
    constexpr std::size_t in_n = Net::layer_input_size(I);
    constexpr std::size_t out_n = Net::layer_output_size(I);
    constexpr maas::Activation act = Net::layer_activation(I);
    maas::kernels::scalar::Dense<float, in_n, out_n, act>(
        w[I].data(), b[I].data(), in, Net::kMaxWidth, out, Net::kMaxWidth, rows, 0.0f);
  }
  void Run(const float* x, std::size_t rows, float* y, float* a, float* bb) const {
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t i = 0; i < Net::kInputSize; ++i)
        a[r * Net::kMaxWidth + i] = x[r * Net::kInputSize + i];
    Layer<0>(a, bb, rows);
    Layer<1>(bb, a, rows);
    Layer<2>(a, bb, rows);
    for (std::size_t r = 0; r < rows; ++r)
      for (std::size_t j = 0; j < Net::kOutputSize; ++j)
        y[r * Net::kOutputSize + j] = bb[r * Net::kMaxWidth + j];
  }
};

template <typename Net>
void BM_MaasScalar(benchmark::State& state, const char* key) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  static const Weights<Net> wt;
  const std::vector<float> x = RandomRows(std::max(batch, kPoolRows) * Net::kInputSize);
  std::vector<float> y(batch * Net::kOutputSize);
  std::vector<float> a(batch * Net::kMaxWidth), b(batch * Net::kMaxWidth);
  const ScalarRunner<Net> runner(wt);
  std::size_t k = 0;
  const auto t0 = Clock::now();
  for (auto _ : state) {
    const float* xp = batch == 1 ? x.data() + (k++ % kPoolRows) * Net::kInputSize : x.data();
    runner.Run(xp, batch, y.data(), a.data(), b.data());
    benchmark::ClobberMemory();
  }
  SetCounters(state, key, FlopsPerSample<Net>(), batch, false, t0, Clock::now());
}

template <typename Net>
void BM_Maas(benchmark::State& state, const char* key) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  static const Weights<Net> wt;
  const auto net = MakeNet(wt);
  const std::vector<float> x = RandomRows(std::max(batch, kPoolRows) * Net::kInputSize);
  std::vector<float> y(batch * Net::kOutputSize);
  std::size_t k = 0;
  const auto t0 = Clock::now();
  for (auto _ : state) {
    const float* xp = batch == 1 ? x.data() + (k++ % kPoolRows) * Net::kInputSize : x.data();
    net->ForwardBatch(xp, batch, y.data());
    benchmark::ClobberMemory();
  }
  SetCounters(state, key, FlopsPerSample<Net>(), batch, false, t0, Clock::now());
  state.SetLabel(std::string("kernel=") + maas::kernels::IsaName(maas::kernels::ActiveIsa()));
}

// maas::DynamicNetwork (run-time sizes, same kernels) on the same weights.
template <typename Net>
maas::ModelFile FileOf(const Weights<Net>& wt) {
  maas::ModelFile f;
  f.signature.name = "bench";
  f.signature.inputs.push_back({"input", maas::DataType::kFloat32,
                                {maas::kDynamic, static_cast<std::int64_t>(Net::kInputSize)}});
  f.signature.outputs.push_back({"output", maas::DataType::kFloat32,
                                 {maas::kDynamic, static_cast<std::int64_t>(Net::kOutputSize)}});
  for (std::size_t l = 0; l < Net::kNumLayers; ++l) {
    maas::ModelFileLayer layer;
    layer.inputs = Net::layer_input_size(l);
    layer.units = Net::layer_output_size(l);
    layer.activation = Net::layer_activation(l);
    layer.weights.assign(wt.w[l].begin(), wt.w[l].end());
    layer.bias.assign(wt.b[l].begin(), wt.b[l].end());
    f.layers.push_back(std::move(layer));
  }
  return f;
}

template <typename Net>
void BM_Dynamic(benchmark::State& state, const char* key) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  static const Weights<Net> wt;
  auto net = maas::DynamicNetwork<float>::FromModelFile(FileOf(wt));
  if (!net.ok()) std::abort();
  const std::vector<float> x = RandomRows(std::max(batch, kPoolRows) * Net::kInputSize);
  std::vector<float> y(batch * Net::kOutputSize);
  std::size_t k = 0;
  const auto t0 = Clock::now();
  for (auto _ : state) {
    const float* xp = batch == 1 ? x.data() + (k++ % kPoolRows) * Net::kInputSize : x.data();
    net->ForwardBatch(xp, batch, y.data());
    benchmark::ClobberMemory();
  }
  SetCounters(state, key, FlopsPerSample<Net>(), batch, false, t0, Clock::now());
}

// ---------------------------------------------------------------------------
// Call path: one row through the raw network (ForwardBatch) and through the
// Predictor interface (LocalModel::Predict with views built per call, as a
// simulation does), on the same network object. The run script reports the
// difference of the medians as the call-path overhead. The raw call goes
// through an out-of-line function, as the network call inside Predict does,
// so that the difference is the call path and not the inlining of the
// network into the benchmark loop.
template <typename Net>
__attribute__((noinline)) void RawForward(const Net& net, const typename Net::ValueType* x,
                                          typename Net::ValueType* y) {
  net.ForwardBatch(x, 1, y);
}

template <typename Net>
void BM_Call(benchmark::State& state, bool through_predictor) {
  using T = typename Net::ValueType;
  static const Weights<Net> wt;
  auto model = maas::LocalModel<Net>::Create(MakeNet(wt),
                                             maas::LocalModel<Net>::DefaultSignature());
  if (!model.ok()) std::abort();
  maas::Predictor& p = **model;
  const Net& net = (*model)->network();
  const std::vector<T> x = RandomRows<T>(kPoolRows * Net::kInputSize);
  std::vector<T> y(Net::kOutputSize);
  std::size_t k = 0;
  int failures = 0;
  for (auto _ : state) {
    const T* xp = x.data() + (k++ % kPoolRows) * Net::kInputSize;
    if (through_predictor) {
      const maas::ConstTensorView in(
          "input", absl::MakeConstSpan(xp, Net::kInputSize),
          {1, static_cast<std::int64_t>(Net::kInputSize)});
      const maas::TensorView out("output", absl::MakeSpan(y),
                                 {1, static_cast<std::int64_t>(Net::kOutputSize)});
      failures += p.Predict({&in, 1}, {&out, 1}).ok() ? 0 : 1;
    } else {
      RawForward(net, xp, y.data());
    }
    benchmark::ClobberMemory();
  }
  if (failures != 0) state.SkipWithError("Predict failed");
  state.counters["ns_per_call"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * 1e-9,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void Register() {
  benchmark::RegisterBenchmark("fma_peak_avx512", BM_FmaPeak);
  benchmark::RegisterBenchmark("fma_peak_avx2", BM_FmaPeakAvx2);
  benchmark::RegisterBenchmark("l2_read", BM_L2Read);
  benchmark::RegisterBenchmark("call_small/raw", BM_Call<SmallNet>, false);
  benchmark::RegisterBenchmark("call_small/predict", BM_Call<SmallNet>, true);
  benchmark::RegisterBenchmark("call_drag/raw", BM_Call<DragNet>, false);
  benchmark::RegisterBenchmark("call_drag/predict", BM_Call<DragNet>, true);
  struct Case {
    const char* key;
    bool large;
    int batch;
  };
  for (Case c : {Case{"small_b1", false, 1}, Case{"small_b1024", false, 1024},
                 Case{"large_b1", true, 1}, Case{"large_b1024", true, 1024}}) {
    const std::string base = std::string(c.key);
    if (!c.large) {
      benchmark::RegisterBenchmark((base + "/eigen").c_str(), BM_Eigen<SmallNet, SmallEigen>, c.key)->Arg(c.batch);
      benchmark::RegisterBenchmark((base + "/maas_scalar").c_str(), BM_MaasScalar<SmallNet>, c.key)->Arg(c.batch);
      benchmark::RegisterBenchmark((base + "/maas").c_str(), BM_Maas<SmallNet>, c.key)->Arg(c.batch);
      benchmark::RegisterBenchmark((base + "/maas_dynamic").c_str(), BM_Dynamic<SmallNet>, c.key)->Arg(c.batch);
      benchmark::RegisterBenchmark((base + "/maas_repro").c_str(), BM_Maas<SmallRepro>, c.key)->Arg(c.batch);
    } else {
      benchmark::RegisterBenchmark((base + "/eigen").c_str(), BM_Eigen<LargeNet, LargeEigen>, c.key)->Arg(c.batch);
      benchmark::RegisterBenchmark((base + "/maas_scalar").c_str(), BM_MaasScalar<LargeNet>, c.key)->Arg(c.batch);
      benchmark::RegisterBenchmark((base + "/maas").c_str(), BM_Maas<LargeNet>, c.key)->Arg(c.batch);
      benchmark::RegisterBenchmark((base + "/maas_dynamic").c_str(), BM_Dynamic<LargeNet>, c.key)->Arg(c.batch);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Register();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("maas_kernel", maas::kernels::IsaName(maas::kernels::ActiveIsa()));
  benchmark::AddCustomContext("maas_runtime_dispatch",
                              maas::kernels::kRuntimeDispatch ? "yes" : "no");
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
