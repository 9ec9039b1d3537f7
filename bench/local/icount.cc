// Instruction-count driver for the local network: runs one case N times
// between callgrind client requests, so `valgrind --tool=callgrind` counts
// exactly the instructions of those N calls (the counts repeat exactly from
// run to run, unlike times on a shared machine).
//
//   valgrind --tool=callgrind --instr-atstart=no
//       build/local-avx2/bench/local/maas_local_icount call_small 1000
//
// prints nothing useful by itself outside valgrind (the client requests are
// no-ops); bench/local/run_icount.py runs every case and prints
// instructions per call. Valgrind 3.19 does not decode AVX-512, so run it on
// a build whose kernels are AVX2 (-mavx2 -mfma) or scalar, or on a generic
// build (runtime dispatch sees no AVX-512 under valgrind and picks AVX2).
//
// Cases (float unless noted):
//   raw_small / call_small     16->64->64->8 relu/relu/softmax, one row:
//                              Network::Forward vs LocalModel::Predict
//   call_small_opts            the same through Predict(..., CallOptions)
//   raw_drag / call_drag       the projectile's 1->12->12->1 double tanh
//   raw_large                  256->256->256->16 relu/relu/softmax, one row
//   small_b1024 / large_b1024  one ForwardBatch of 1024 rows (per call)
//   dyn_small / dyn_small_b1024  maas::DynamicNetwork, the small network
//   repro_small / repro_small_b1024  maas::ReproducibleNetwork, the same
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "maas/core/call.h"
#include "maas/core/tensor_view.h"
#include "maas/local/dynamic_network.h"
#include "maas/local/local_model.h"
#include "maas/local/model_file.h"
#include "maas/local/network.h"
#include "valgrind/callgrind.h"

namespace {

using SmallNet = maas::Network<float, maas::Dense<16, 64, maas::Relu>,
                               maas::Dense<64, 64, maas::Relu>,
                               maas::Dense<64, 8, maas::Softmax>>;
using LargeNet = maas::Network<float, maas::Dense<256, 256, maas::Relu>,
                               maas::Dense<256, 256, maas::Relu>,
                               maas::Dense<256, 16, maas::Softmax>>;
using DragNet = maas::Network<double, maas::Dense<1, 12, maas::Tanh>,
                              maas::Dense<12, 12, maas::Tanh>,
                              maas::Dense<12, 1>>;
using ReproSmallNet = maas::ReproducibleNetwork<float, maas::Dense<16, 64, maas::Relu>,
                                                maas::Dense<64, 64, maas::Relu>,
                                                maas::Dense<64, 8, maas::Softmax>>;

// The same random weights for every case of one architecture, as a model
// file (the dynamic network reads it) and in a compile-time network.
template <typename Net>
maas::ModelFile FileOf() {
  std::mt19937 rng(42);
  maas::ModelFile f;
  f.signature.name = "icount";
  f.signature.inputs.push_back({"input", maas::DataType::kFloat32,
                                {maas::kDynamic, static_cast<std::int64_t>(Net::kInputSize)}});
  f.signature.outputs.push_back({"output", maas::DataType::kFloat32,
                                 {maas::kDynamic, static_cast<std::int64_t>(Net::kOutputSize)}});
  for (std::size_t l = 0; l < Net::kNumLayers; ++l) {
    const std::size_t in = Net::layer_input_size(l), out = Net::layer_output_size(l);
    std::uniform_real_distribution<double> u(-1.0 / std::sqrt(double(in)),
                                             1.0 / std::sqrt(double(in)));
    maas::ModelFileLayer layer;
    layer.inputs = in;
    layer.units = out;
    layer.activation = Net::layer_activation(l);
    layer.weights.resize(in * out);
    layer.bias.resize(out);
    for (double& v : layer.weights) v = u(rng);
    for (double& v : layer.bias) v = u(rng);
    f.layers.push_back(std::move(layer));
  }
  return f;
}

template <typename Net>
std::unique_ptr<Net> MakeNet() {
  auto net = maas::BuildNetwork<Net>(FileOf<Net>());
  if (!net.ok()) std::abort();
  return std::move(*net);
}


template <typename Net>
std::unique_ptr<maas::LocalModel<Net>> MakeModel() {
  auto model = maas::LocalModel<Net>::Create(MakeNet<Net>(),
                                             maas::LocalModel<Net>::DefaultSignature());
  if (!model.ok()) std::abort();
  return std::move(*model);
}

// Runs `f` once (warm-up: dispatch statics, page faults), then `n` times
// with callgrind collecting.
template <typename F>
void Measure(long n, F&& f) {
  f();
  CALLGRIND_START_INSTRUMENTATION;
  CALLGRIND_ZERO_STATS;
  for (long i = 0; i < n; ++i) f();
  CALLGRIND_DUMP_STATS_AT("measured");
  CALLGRIND_STOP_INSTRUMENTATION;
}

template <typename Net>
int DynamicCase(long n, std::size_t rows) {
  auto net = maas::DynamicNetwork<float>::FromModelFile(FileOf<Net>());
  if (!net.ok()) std::abort();
  std::vector<float> x(rows * Net::kInputSize, 0.25f), y(rows * Net::kOutputSize);
  Measure(n, [&] { net->ForwardBatch(x.data(), rows, y.data()); });
  return y[0] == 12345.0f ? 1 : 0;
}

template <typename Net>
int RawCase(long n, std::size_t rows) {
  using T = typename Net::ValueType;
  const auto net = MakeNet<Net>();
  std::vector<T> x(rows * Net::kInputSize, T(0.25)), y(rows * Net::kOutputSize);
  Measure(n, [&] { net->ForwardBatch(x.data(), rows, y.data()); });
  return y[0] == T(12345) ? 1 : 0;
}

template <typename Net>
int CallCase(long n, bool with_options) {
  using T = typename Net::ValueType;
  const auto model = MakeModel<Net>();
  maas::Predictor& p = *model;
  std::vector<T> x(Net::kInputSize, T(0.25)), y(Net::kOutputSize);
  const maas::CallOptions options;
  int failures = 0;
  Measure(n, [&] {
    const maas::ConstTensorView in("input", absl::MakeConstSpan(x),
                                   {1, static_cast<std::int64_t>(Net::kInputSize)});
    const maas::TensorView out("output", absl::MakeSpan(y),
                               {1, static_cast<std::int64_t>(Net::kOutputSize)});
    const absl::Status s = with_options
                               ? p.Predict({&in, 1}, {&out, 1}, options, nullptr)
                               : p.Predict({&in, 1}, {&out, 1});
    failures += s.ok() ? 0 : 1;
  });
  return failures;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CASE [N]\n", argv[0]);
    return 2;
  }
  const std::string c = argv[1];
  const long n = argc > 2 ? std::atol(argv[2]) : 1000;
  if (c == "raw_small") return RawCase<SmallNet>(n, 1);
  if (c == "call_small") return CallCase<SmallNet>(n, false);
  if (c == "call_small_opts") return CallCase<SmallNet>(n, true);
  if (c == "raw_drag") return RawCase<DragNet>(n, 1);
  if (c == "call_drag") return CallCase<DragNet>(n, false);
  if (c == "raw_large") return RawCase<LargeNet>(n, 1);
  if (c == "small_b1024") return RawCase<SmallNet>(n, 1024);
  if (c == "large_b1024") return RawCase<LargeNet>(n, 1024);
  if (c == "dyn_small") return DynamicCase<SmallNet>(n, 1);
  if (c == "dyn_small_b1024") return DynamicCase<SmallNet>(n, 1024);
  if (c == "repro_small") return RawCase<ReproSmallNet>(n, 1);
  if (c == "repro_small_b1024") return RawCase<ReproSmallNet>(n, 1024);
  std::fprintf(stderr, "unknown case '%s'\n", c.c_str());
  return 2;
}
