// A user's translation unit: networks of many shapes and every activation,
// float and double, through every public entry point (Forward, ForwardBatch,
// LocalModel::Predict, the model-file loader). It is compiled (not run) by
// compile_consumer.cmake with -Wall -Wextra -Wpedantic -Werror at -O3, with
// -march=native and with generic flags, as C++17 and C++20: a warning that a
// user's -Werror build would see in maas's headers fails the test. Shapes are
// the awkward ones: 256 -> 16 softmax (a whole-vector output inlined into a
// wide network), 1 -> 1, 3 -> 7 -> 1, sizes that are not multiples of any
// vector width; both numerics modes; the run-time-sized network.
#include <maas/maas.h>

#include <array>
#include <cstddef>
#include <memory>
#include <vector>

namespace {

template <typename Net>
typename Net::ValueType Run() {
  using T = typename Net::ValueType;
  auto net = std::make_unique<Net>();
  std::vector<T> x(5 * Net::kInputSize, T(0.5)), y(5 * Net::kOutputSize);
  net->Forward(x.data(), y.data());
  net->ForwardBatch(x.data(), 5, y.data());
  auto model = maas::LocalModel<Net>::Create(std::move(net),
                                             maas::LocalModel<Net>::DefaultSignature());
  if (!model.ok()) return T(-1);
  maas::Predictor& p = **model;
  const absl::Status s = p.Predict(
      {maas::ConstTensorView("input", absl::MakeConstSpan(x),
                             {5, static_cast<std::int64_t>(Net::kInputSize)})},
      {maas::TensorView("output", absl::MakeSpan(y),
                        {5, static_cast<std::int64_t>(Net::kOutputSize)})});
  const absl::Status t = (*model)->PredictRows(x, absl::MakeSpan(y));
  return s.ok() && t.ok() ? y[0] : T(-1);
}

template <typename T>
T RunDynamic(maas::Numerics numerics) {
  const char* text = R"({"format": "maas.mlp", "format_version": 1, "name": "d",
    "inputs": [{"name": "x", "shape": [-1, 3]}], "outputs": [{"name": "y", "shape": [-1, 2]}],
    "layers": [{"type": "dense", "units": 2, "activation": "softmax",
                "weights": [[1, 2], [3, 4], [5, 6]], "bias": [0, 1]}]})";
  auto file = maas::ParseModelFile(text);
  if (!file.ok()) return T(-1);
  auto net = maas::DynamicNetwork<T>::FromModelFile(*file, {numerics});
  if (!net.ok()) return T(-1);
  const T x[3] = {T(1), T(2), T(3)};
  T y[2] = {};
  net->Forward(x, y);
  auto model = maas::LoadDynamicModelFromText(text);
  return model.ok() ? y[0] : T(-1);
}

template <typename T>
T RunAll() {
  using maas::Dense;
  T sum = 0;
  sum += Run<maas::Network<T, Dense<256, 16, maas::Softmax>>>();
  sum += Run<maas::Network<T, Dense<256, 256, maas::Relu>, Dense<256, 256, maas::Relu>,
                           Dense<256, 16, maas::Softmax>>>();
  sum += Run<maas::Network<T, Dense<16, 64, maas::Relu>, Dense<64, 64, maas::Relu>,
                           Dense<64, 8, maas::Softmax>>>();
  sum += Run<maas::Network<T, Dense<1, 1>>>();
  sum += Run<maas::Network<T, Dense<1, 1, maas::Softmax>>>();
  sum += Run<maas::Network<T, Dense<3, 7, maas::Tanh>, Dense<7, 1>>>();
  sum += Run<maas::Network<T, Dense<3, 7, maas::Sigmoid>, Dense<7, 1, maas::Sigmoid>>>();
  sum += Run<maas::Network<T, Dense<1, 12, maas::Tanh>, Dense<12, 12, maas::Tanh>,
                           Dense<12, 1>>>();
  sum += Run<maas::Network<T, Dense<17, 33, maas::Relu>, Dense<33, 5, maas::Softmax>>>();
  sum += Run<maas::Network<T, Dense<100, 3, maas::Softmax>>>();
  sum += Run<maas::Network<T, Dense<2, 31, maas::Sigmoid>, Dense<31, 9, maas::Tanh>,
                           Dense<9, 2, maas::Identity>>>();
  sum += Run<maas::Network<T, Dense<5, 17, maas::Gelu>, Dense<17, 9, maas::LeakyRelu>,
                           Dense<9, 33, maas::Elu>, Dense<33, 3, maas::Silu>,
                           Dense<3, 7, maas::GeluTanh>, Dense<7, 2, maas::Softplus>>>();
  sum += Run<maas::Network<T, Dense<256, 64, maas::Gelu>, Dense<64, 1, maas::Softplus>>>();
  sum += Run<maas::ReproducibleNetwork<T, Dense<16, 64, maas::Relu>, Dense<64, 64, maas::Relu>,
                                       Dense<64, 8, maas::Softmax>>>();
  sum += Run<maas::ReproducibleNetwork<T, Dense<256, 16, maas::Softmax>>>();
  sum += RunDynamic<T>(maas::Numerics::kFast);
  sum += RunDynamic<T>(maas::Numerics::kReproducible);
  return sum;
}

}  // namespace

// Not called: the test only compiles this file (no main, no link).
double ConsumerEntryPoint() {
  const char* text = R"({"format": "maas.mlp", "format_version": 1, "name": "c",
    "inputs": [{"name": "x", "shape": [-1, 1]}], "outputs": [{"name": "y", "shape": [-1, 1]}],
    "layers": [{"type": "dense", "units": 1, "activation": "identity",
                "weights": [[2]], "bias": [1]}]})";
  auto model = maas::LoadLocalModelFromText<maas::Network<double, maas::Dense<1, 1>>>(text);
  const double loaded = model.ok() ? 1.0 : 0.0;
  return static_cast<double>(RunAll<float>()) + RunAll<double>() + loaded;
}
