// What the C API adds to a predict call: the same compile-time network
// (16 -> 64 relu -> 64 relu -> 8 softmax, float) called three ways, at batch
// 1 (one call per sample, inputs cycling through 256 rows) and batch 1024:
//
//   PredictRows  LocalModel::PredictRows, the typed C++ fast path
//   Predictor    Predictor::Predict with tensor views (what the C API calls)
//   CApi         maas_model_predict_f32 on a handle wrapping the same model
//   DynamicPredictor / CApiLocal  the same weights as a model file, loaded as
//                the run-time-sized network (what maas_model_load_local
//                builds), through Predictor::Predict and through the C API
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
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "benchmark/benchmark.h"
#include "maas/c/maas.h"
#include "maas/local/local_model.h"
#include "maas/local/network.h"
#if __has_include("maas/local/dynamic_network.h")
#include "maas/local/dynamic_network.h"
#define MAAS_BENCH_DYNAMIC 1
#endif
#include "src/c/maas_c_internal.h"

namespace {

using SmallNet = maas::Network<float, maas::Dense<16, 64, maas::Relu>,
                               maas::Dense<64, 64, maas::Relu>,
                               maas::Dense<64, 8, maas::Softmax>>;
constexpr std::int64_t kIn = 16, kOut = 8, kPoolRows = 256;

// The weights of every case: layer l's kIn x kOut row-major matrix and bias.
struct Weights {
  std::vector<std::vector<float>> w, b;
  Weights() {
    std::mt19937 rng(42);
    std::uniform_real_distribution<float> u(-0.25f, 0.25f);
    for (std::size_t l = 0; l < SmallNet::kNumLayers; ++l) {
      w.emplace_back(SmallNet::layer_input_size(l) * SmallNet::layer_output_size(l));
      b.emplace_back(SmallNet::layer_output_size(l));
      for (float& v : w.back()) v = u(rng);
      for (float& v : b.back()) v = u(rng);
    }
  }
};

// The same network as maas model-file text (FP32, relu, relu, softmax).
std::string ModelText() {
  const Weights ws;
  const char* acts[] = {"relu", "relu", "softmax"};
  std::string t = R"({"format": "maas.mlp", "format_version": 1, "name": "bench",
    "inputs": [{"name": "input", "datatype": "FP32", "shape": [-1, 16]}],
    "outputs": [{"name": "output", "datatype": "FP32", "shape": [-1, 8]}], "layers": [)";
  for (std::size_t l = 0; l < SmallNet::kNumLayers; ++l) {
    const std::size_t in = SmallNet::layer_input_size(l), out = SmallNet::layer_output_size(l);
    t += l ? "," : "";
    t += "{\"type\": \"dense\", \"units\": " + std::to_string(out) +
         ", \"activation\": \"" + acts[l] + "\", \"weights\": [";
    for (std::size_t i = 0; i < in; ++i) {
      t += i ? ",[" : "[";
      for (std::size_t j = 0; j < out; ++j) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%s%.9g", j ? "," : "", ws.w[l][i * out + j]);
        t += buf;
      }
      t += "]";
    }
    t += "], \"bias\": [";
    for (std::size_t j = 0; j < out; ++j) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%s%.9g", j ? "," : "", ws.b[l][j]);
      t += buf;
    }
    t += "]}";
  }
  return t + "]}";
}

std::unique_ptr<maas::LocalModel<SmallNet>> MakeModel() {
  auto net = std::make_unique<SmallNet>();
  const Weights ws;
  for (std::size_t l = 0; l < SmallNet::kNumLayers; ++l) {
    if (!net->SetLayer(l, absl::MakeConstSpan(ws.w[l]), absl::MakeConstSpan(ws.b[l])).ok()) {
      std::abort();
    }
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

#if MAAS_BENCH_DYNAMIC
void BM_DynamicPredictor(benchmark::State& state) {
  const std::int64_t rows = state.range(0);
  auto loaded = maas::LoadDynamicModelFromText(ModelText(), "bench");
  if (!loaded.ok()) {
    state.SkipWithError(std::string(loaded.status().message()).c_str());
    return;
  }
  std::unique_ptr<maas::Predictor> model = *std::move(loaded);
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

void BM_CApiLocal(benchmark::State& state) {
  const std::int64_t rows = state.range(0);
  const std::string text = ModelText();
  maas_model* model = nullptr;
  if (maas_model_load_local_text(text.data(), text.size(), "bench", &model) != MAAS_OK) {
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
#endif

BENCHMARK(BM_PredictRows)->Arg(1)->Arg(1024);
BENCHMARK(BM_Predictor)->Arg(1)->Arg(1024);
BENCHMARK(BM_CApi)->Arg(1)->Arg(1024);
#if MAAS_BENCH_DYNAMIC
BENCHMARK(BM_DynamicPredictor)->Arg(1)->Arg(1024);
BENCHMARK(BM_CApiLocal)->Arg(1)->Arg(1024);
#endif

}  // namespace

BENCHMARK_MAIN();
