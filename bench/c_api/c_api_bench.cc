// What the C API adds to a predict call: the same compile-time network
// (16 -> 64 relu -> 64 relu -> 8 softmax, float) called three ways, at batch
// 1 (one call per sample, inputs cycling through 256 rows) and batch 1024:
//
//   PredictRows  LocalModel::PredictRows, the typed C++ fast path
//   Predictor    Predictor::Predict with tensor views (what the C API calls)
//   CApi         maas_model_predict_f32 on a handle wrapping the same model
//
// CApi - Predictor is the cost of the C layer itself (argument checks, the
// thread-local status, the try/catch). maas_c.cc is compiled into this
// binary to wrap the compile-time model (maas_c::WrapPredictor); the shared
// library runs the same code behind a PLT call. Counter: ns_per_sample.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#include "absl/types/span.h"
#include "benchmark/benchmark.h"
#include "maas/c/maas.h"
#include "maas/local/local_model.h"
#include "maas/local/network.h"
#include "src/c/maas_c_internal.h"

namespace {

using SmallNet = maas::Network<float, maas::Dense<16, 64, maas::Relu>,
                               maas::Dense<64, 64, maas::Relu>,
                               maas::Dense<64, 8, maas::Softmax>>;
constexpr std::int64_t kIn = 16, kOut = 8, kPoolRows = 256;

std::unique_ptr<maas::LocalModel<SmallNet>> MakeModel() {
  auto net = std::make_unique<SmallNet>();
  std::mt19937 rng(42);
  std::uniform_real_distribution<float> u(-0.25f, 0.25f);
  for (std::size_t l = 0; l < SmallNet::kNumLayers; ++l) {
    std::vector<float> w(SmallNet::layer_input_size(l) * SmallNet::layer_output_size(l));
    std::vector<float> b(SmallNet::layer_output_size(l));
    for (float& v : w) v = u(rng);
    for (float& v : b) v = u(rng);
    if (!net->SetLayer(l, absl::MakeConstSpan(w), absl::MakeConstSpan(b)).ok()) std::abort();
  }
  auto model = maas::LocalModel<SmallNet>::Create(
      std::move(net), maas::LocalModel<SmallNet>::DefaultSignature("bench"));
  if (!model.ok()) std::abort();
  return *std::move(model);
}

std::vector<float> Inputs() {
  std::mt19937 rng(7);
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> x(kPoolRows * kIn);
  for (float& v : x) v = d(rng);
  return x;
}

void SetCounter(benchmark::State& state, std::int64_t rows) {
  state.counters["ns_per_sample"] = benchmark::Counter(
      static_cast<double>(state.iterations()) * static_cast<double>(rows) * 1e-9,
      benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void BM_PredictRows(benchmark::State& state) {
  const std::int64_t rows = state.range(0);
  auto model = MakeModel();
  const std::vector<float> pool = Inputs();
  std::vector<float> x(rows == 1 ? pool : std::vector<float>(rows * kIn));
  for (std::int64_t i = 0; rows > 1 && i < rows * kIn; ++i) x[i] = pool[i % pool.size()];
  std::vector<float> y(rows * kOut);
  std::int64_t r = 0;
  for (auto _ : state) {
    const float* xp = x.data() + (rows == 1 ? (r++ % kPoolRows) * kIn : 0);
    auto s = model->PredictRows(absl::MakeConstSpan(xp, rows * kIn), absl::MakeSpan(y));
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(y.data());
  }
  SetCounter(state, rows);
}

void BM_Predictor(benchmark::State& state) {
  const std::int64_t rows = state.range(0);
  std::unique_ptr<maas::Predictor> model = MakeModel();
  const std::vector<float> pool = Inputs();
  std::vector<float> x(rows == 1 ? pool : std::vector<float>(rows * kIn));
  for (std::int64_t i = 0; rows > 1 && i < rows * kIn; ++i) x[i] = pool[i % pool.size()];
  std::vector<float> y(rows * kOut);
  std::int64_t r = 0;
  for (auto _ : state) {
    const float* xp = x.data() + (rows == 1 ? (r++ % kPoolRows) * kIn : 0);
    absl::Status s = model->Predict(
        {maas::ConstTensorView("input", absl::MakeConstSpan(xp, rows * kIn), {rows, kIn})},
        {maas::TensorView("output", absl::MakeSpan(y), {rows, kOut})});
    benchmark::DoNotOptimize(s);
    benchmark::DoNotOptimize(y.data());
  }
  SetCounter(state, rows);
}

void BM_CApi(benchmark::State& state) {
  const std::int64_t rows = state.range(0);
  maas_model* model = nullptr;
  if (maas_c::WrapPredictor(MakeModel(), &model) != MAAS_OK) {
    state.SkipWithError(maas_last_error());
    return;
  }
  const std::vector<float> pool = Inputs();
  std::vector<float> x(rows == 1 ? pool : std::vector<float>(rows * kIn));
  for (std::int64_t i = 0; rows > 1 && i < rows * kIn; ++i) x[i] = pool[i % pool.size()];
  std::vector<float> y(rows * kOut);
  std::int64_t r = 0;
  for (auto _ : state) {
    const float* xp = x.data() + (rows == 1 ? (r++ % kPoolRows) * kIn : 0);
    int rc = maas_model_predict_f32(model, xp, rows, kIn, y.data(), rows, kOut);
    benchmark::DoNotOptimize(rc);
    benchmark::DoNotOptimize(y.data());
  }
  maas_model_free(model);
  SetCounter(state, rows);
}

BENCHMARK(BM_PredictRows)->Arg(1)->Arg(1024);
BENCHMARK(BM_Predictor)->Arg(1)->Arg(1024);
BENCHMARK(BM_CApi)->Arg(1)->Arg(1024);

}  // namespace

BENCHMARK_MAIN();
