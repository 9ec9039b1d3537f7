// Model-file loading benchmark: how long a model file takes from disk to a
// ready Predictor, and how much of that is the JSON parse.
//
// Models (float weights written as float32 round-trip decimals, "%.9g", as an
// exporter writes them; random in [-1/sqrt(fan-in), 1/sqrt(fan-in)]):
//   small: 16 -> 64 -> 64 -> 8 ReLU/ReLU/softmax        (5,760 parameters)
//   1m:    256 -> 1024 -> 768 -> 16 ReLU/ReLU/softmax   (1,062,672 parameters)
// Cases:
//   load_<m>/parse    ParseModelFile() on the text in memory (syntax, schema,
//                     every number checked);
//   load_<m>/dynamic  LoadDynamicModel(path): read the file, parse, build the
//                     run-time-sized float network (weights packed);
//   load_small/static LoadLocalModel<Network<...>>(path) for the compile-time
//                     network of the same shape.
// Counters: ms (per load, CPU time) and MB_per_s (file bytes per CPU second).
// bench/local/run_local_bench.py runs it with repetitions and reports medians.
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "maas/local/dynamic_network.h"
#include "maas/local/model_file.h"
#include "maas/local/network.h"

namespace {

using SmallNet = maas::Network<float, maas::Dense<16, 64, maas::Relu>,
                               maas::Dense<64, 64, maas::Relu>,
                               maas::Dense<64, 8, maas::Softmax>>;

struct Shape {
  const char* key;
  std::vector<std::size_t> sizes;
};

const Shape kSmall{"small", {16, 64, 64, 8}};
const Shape kMillion{"1m", {256, 1024, 768, 16}};

// Model-file text of `shape` (hidden layers ReLU, last softmax).
std::string ModelText(const Shape& shape) {
  std::mt19937 rng(42);
  std::string t = R"({"format": "maas.mlp", "format_version": 1, "name": "load_bench",)";
  t += "\n \"inputs\": [{\"name\": \"input\", \"shape\": [-1, " +
       std::to_string(shape.sizes.front()) + "]}],\n";
  t += " \"outputs\": [{\"name\": \"output\", \"shape\": [-1, " +
       std::to_string(shape.sizes.back()) + "]}],\n \"layers\": [";
  char buf[32];
  for (std::size_t l = 0; l + 1 < shape.sizes.size(); ++l) {
    const std::size_t in = shape.sizes[l], out = shape.sizes[l + 1];
    std::uniform_real_distribution<float> u(-1.0f / std::sqrt(float(in)),
                                            1.0f / std::sqrt(float(in)));
    t += l == 0 ? "\n  " : ",\n  ";
    t += R"({"type": "dense", "units": )" + std::to_string(out) + R"(, "activation": ")" +
         (l + 2 == shape.sizes.size() ? "softmax" : "relu") + R"(",)" + "\n   \"weights\": [";
    for (std::size_t i = 0; i < in; ++i) {
      t += i == 0 ? "[" : ",\n    [";
      for (std::size_t j = 0; j < out; ++j) {
        std::snprintf(buf, sizeof(buf), j == 0 ? "%.9g" : ", %.9g", double(u(rng)));
        t += buf;
      }
      t += "]";
    }
    t += "],\n   \"bias\": [";
    for (std::size_t j = 0; j < out; ++j) {
      std::snprintf(buf, sizeof(buf), j == 0 ? "%.9g" : ", %.9g", double(u(rng)));
      t += buf;
    }
    t += "]}";
  }
  t += "\n ]}\n";
  return t;
}

// The model's text, also written once to a file in the working directory.
struct ModelOnDisk {
  std::string text;
  std::string path;
  explicit ModelOnDisk(const Shape& shape)
      : text(ModelText(shape)), path(std::string("maas_load_bench_") + shape.key + ".json") {
    std::ofstream f(path, std::ios::binary);
    f << text;
    if (!f) std::abort();
  }
  ~ModelOnDisk() { std::remove(path.c_str()); }
};

const ModelOnDisk& Model(const Shape& shape) {
  static const ModelOnDisk small(kSmall);
  static const ModelOnDisk million(kMillion);
  return &shape == &kMillion ? million : small;
}

void SetCounters(benchmark::State& state, std::size_t bytes) {
  const double loads = static_cast<double>(state.iterations());
  state.counters["ms"] =
      benchmark::Counter(loads * 1e-3, benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
  state.counters["MB_per_s"] =
      benchmark::Counter(loads * static_cast<double>(bytes) * 1e-6, benchmark::Counter::kIsRate);
  state.counters["file_MB"] = static_cast<double>(bytes) * 1e-6;
}

void BM_Parse(benchmark::State& state, const Shape* shape) {
  const ModelOnDisk& m = Model(*shape);
  for (auto _ : state) {
    auto file = maas::ParseModelFile(m.text, m.path);
    if (!file.ok()) {
      state.SkipWithError(std::string(file.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(file->layers.data());
  }
  SetCounters(state, m.text.size());
}

void BM_LoadDynamic(benchmark::State& state, const Shape* shape) {
  const ModelOnDisk& m = Model(*shape);
  for (auto _ : state) {
    auto model = maas::LoadDynamicModel(m.path);
    if (!model.ok()) {
      state.SkipWithError(std::string(model.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(model->get());
  }
  SetCounters(state, m.text.size());
}

void BM_LoadStatic(benchmark::State& state) {
  const ModelOnDisk& m = Model(kSmall);
  for (auto _ : state) {
    auto model = maas::LoadLocalModel<SmallNet>(m.path);
    if (!model.ok()) {
      state.SkipWithError(std::string(model.status().message()).c_str());
      return;
    }
    benchmark::DoNotOptimize(model->get());
  }
  SetCounters(state, m.text.size());
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("load_small/parse", BM_Parse, &kSmall);
  benchmark::RegisterBenchmark("load_small/dynamic", BM_LoadDynamic, &kSmall);
  benchmark::RegisterBenchmark("load_small/static", BM_LoadStatic);
  benchmark::RegisterBenchmark("load_1m/parse", BM_Parse, &kMillion)
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("load_1m/dynamic", BM_LoadDynamic, &kMillion)
      ->Unit(benchmark::kMillisecond);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
