// What metrics recording adds to a predict call, measured where it shows
// most: the in-process mlp16 network (tests/remote/server/data/mlp16.json,
// 16 -> 32 relu -> 32 tanh -> 8 sigmoid, FP32) at batch 1, called
//
//   Bare        LocalModel::Predict(inputs, outputs)
//   Metrics     the same through maas::MetricsPredictor (registered), the
//               two-argument form
//   MetricsCall the same with CallOptions and a CallReport (the form that
//               also records retries and fallbacks from the report)
//   BareCall    LocalModel::Predict with CallOptions and a CallReport
//
// Metrics - Bare and MetricsCall - BareCall are the recording cost; run with
// --benchmark_repetitions and compare medians (the machine is shared).
// Threads(2): both cores record at once (each on its own counter copy).
#include <cstdint>
#include <memory>
#include <random>
#include <vector>

#include "absl/types/span.h"
#include "benchmark/benchmark.h"
#include "maas/local/model_file.h"
#include "maas/local/network.h"
#include "maas/metrics/metrics_predictor.h"
#include "maas/metrics/registry.h"

namespace {

using Mlp16 = maas::Network<float, maas::Dense<16, 32, maas::Relu>,
                            maas::Dense<32, 32, maas::Tanh>, maas::Dense<32, 8, maas::Sigmoid>>;

std::unique_ptr<maas::Predictor> Local() {
  auto m = maas::LoadLocalModel<Mlp16>(MAAS_SOURCE_DIR "/tests/remote/server/data/mlp16.json");
  if (!m.ok()) std::abort();
  return std::move(*m);
}

maas::MetricsRegistry& Registry() {
  static maas::MetricsRegistry* r = new maas::MetricsRegistry();
  return *r;
}

maas::Predictor& Model(bool metrics) {
  static maas::Predictor* bare = Local().release();
  static maas::Predictor* wrapped =
      new maas::MetricsPredictor(Local(), &Registry(), maas::MetricsOptions{"mlp16", ""});
  return metrics ? *wrapped : *bare;
}

void Run(benchmark::State& state, bool metrics, bool with_call) {
  maas::Predictor& model = Model(metrics);
  std::vector<float> x(16 * 256), y(8);
  std::mt19937 rng(1 + static_cast<unsigned>(state.thread_index()));
  std::normal_distribution<float> d(0.f, 1.f);
  for (float& v : x) v = d(rng);
  maas::CallReport report;
  const maas::CallOptions call;
  std::size_t row = 0;
  for (auto _ : state) {
    maas::ConstTensorView in("", absl::MakeConstSpan(x.data() + row * 16, 16), {1, 16});
    maas::TensorView out("", absl::MakeSpan(y), {1, 8});
    absl::Status s = with_call ? model.Predict({&in, 1}, {&out, 1}, call, &report)
                               : model.Predict({&in, 1}, {&out, 1});
    if (!s.ok()) state.SkipWithError("predict failed");
    benchmark::DoNotOptimize(y.data());
    row = (row + 1) & 255;
  }
}

void BM_Bare(benchmark::State& s) { Run(s, false, false); }
void BM_Metrics(benchmark::State& s) { Run(s, true, false); }
void BM_BareCall(benchmark::State& s) { Run(s, false, true); }
void BM_MetricsCall(benchmark::State& s) { Run(s, true, true); }
BENCHMARK(BM_Bare)->Threads(1)->Threads(2);
BENCHMARK(BM_Metrics)->Threads(1)->Threads(2);
BENCHMARK(BM_BareCall)->Threads(1)->Threads(2);
BENCHMARK(BM_MetricsCall)->Threads(1)->Threads(2);

}  // namespace

BENCHMARK_MAIN();
