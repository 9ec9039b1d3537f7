// maas::DynamicNetwork and maas::DynamicLocalModel: the run-time-sized
// network against the compile-time one (bit-identical: same kernels, same
// plans), against the independent double-precision reference, and the
// Predictor adapter against LocalModel's validation.
#include "maas/local/dynamic_network.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "doctest/doctest.h"
#include "local/ref_model_file.h"
#include "local/reference_mlp.h"
#include "maas/local/local_model.h"
#include "maas/local/model_file.h"
#include "maas/local/network.h"
#include "testing/status_doctest.h"

namespace {

using maas::Activation;
using maas::Dense;

// The reference layers as a model file (float32 signature).
maas::ModelFile FileOf(const std::vector<maas_test::RefLayer>& layers, bool scaling,
                       std::mt19937& rng) {
  return maas_test::RefModelFile(layers, scaling, rng, maas::DataType::kFloat32);
}

std::vector<maas_test::RefLayer> Layers(std::initializer_list<std::size_t> sizes,
                                        std::initializer_list<Activation> acts,
                                        std::mt19937& rng) {
  std::vector<std::size_t> s(sizes);
  std::vector<Activation> a(acts);
  std::vector<maas_test::RefLayer> layers;
  for (std::size_t l = 0; l + 1 < s.size(); ++l) {
    layers.push_back(maas_test::RandomLayer(s[l], s[l + 1], a[l], rng));
    layers.back().alpha = a[l] == Activation::kLeakyRelu ? 0.3 : 1.7;
  }
  return layers;
}

// Runs `rows` random rows through a compile-time network Net and a
// DynamicNetwork built from the same file; counts outputs whose bits differ
// and checks the worst relative error of the dynamic one against the
// double reference (scaling included) against `float_tol` (float networks;
// double ones 1e-12).
template <typename Net>
void CompareWithStatic(const std::vector<maas_test::RefLayer>& layers, std::mt19937& rng,
                       double float_tol = 2e-4) {
  using T = typename Net::ValueType;
  for (bool scaling : {false, true}) {
    const maas::ModelFile file = FileOf(layers, scaling, rng);
    auto stat = maas::BuildNetwork<Net>(file, "m.json");
    REQUIRE(stat.ok());
    auto dyn = maas::DynamicNetwork<T>::FromModelFile(file, {Net::kNumericsMode}, "m.json");
    REQUIRE(dyn.ok());
    CHECK(dyn->input_size() == Net::kInputSize);
    CHECK(dyn->output_size() == Net::kOutputSize);
    CHECK(dyn->num_layers() == Net::kNumLayers);
    for (std::size_t rows : {1u, 2u, 3u, 7u, 64u, 300u}) {
      CAPTURE(rows);
      CAPTURE(scaling);
      std::uniform_real_distribution<double> u(-2, 2);
      std::vector<T> x(rows * Net::kInputSize);
      for (T& v : x) v = static_cast<T>(u(rng));
      std::vector<T> ys(rows * Net::kOutputSize), yd(ys.size()), y1(Net::kOutputSize);
      (*stat)->ForwardBatch(x.data(), rows, ys.data());
      dyn->ForwardBatch(x.data(), rows, yd.data());
      CHECK(std::memcmp(ys.data(), yd.data(), ys.size() * sizeof(T)) == 0);
      // One row alone: the same bits as inside the batch.
      const std::size_t r = rows / 2;
      dyn->Forward(x.data() + r * Net::kInputSize, y1.data());
      CHECK(std::memcmp(y1.data(), yd.data() + r * Net::kOutputSize,
                        Net::kOutputSize * sizeof(T)) == 0);
      // The reference, with the file's scaling.
      double worst = 0;
      for (std::size_t k = 0; k < rows; ++k) {
        std::vector<double> xr(Net::kInputSize);
        for (std::size_t i = 0; i < Net::kInputSize; ++i) {
          xr[i] = static_cast<double>(x[k * Net::kInputSize + i]);
          if (scaling) xr[i] = (xr[i] - file.input_mean[i]) / file.input_std[i];
        }
        std::vector<double> want = maas_test::RefForward(layers, xr);
        for (std::size_t j = 0; j < Net::kOutputSize; ++j) {
          if (scaling) want[j] = want[j] * file.output_scale[j] + file.output_offset[j];
          worst = std::max(worst, maas_test::RelErr(yd[k * Net::kOutputSize + j], want[j], 1e-3));
        }
      }
      // float: seven layers of ~1e-6 rounding each, amplified by the scaling.
      CHECK(worst < (std::is_same_v<T, float> ? float_tol : 1e-12));
    }
  }
}

template <typename T, maas::Numerics kNum>
void AllShapes() {
  std::mt19937 rng(5);
  using A = Activation;
  CompareWithStatic<maas::BasicNetwork<T, kNum, Dense<16, 64, maas::Relu>,
                                       Dense<64, 64, maas::Relu>, Dense<64, 8, maas::Softmax>>>(
      Layers({16, 64, 64, 8}, {A::kRelu, A::kRelu, A::kSoftmax}, rng), rng);
  CompareWithStatic<maas::BasicNetwork<T, kNum, Dense<1, 12, maas::Tanh>,
                                       Dense<12, 12, maas::Tanh>, Dense<12, 1>>>(
      Layers({1, 12, 12, 1}, {A::kTanh, A::kTanh, A::kIdentity}, rng), rng);
  CompareWithStatic<maas::BasicNetwork<T, kNum, Dense<3, 7, maas::Gelu>,
                                       Dense<7, 100, maas::LeakyRelu>,
                                       Dense<100, 3, maas::Elu>, Dense<3, 33, maas::Silu>,
                                       Dense<33, 2, maas::GeluTanh>,
                                       Dense<2, 5, maas::Softplus>,
                                       Dense<5, 17, maas::Sigmoid>>>(
      Layers({3, 7, 100, 3, 33, 2, 5, 17},
             {A::kGelu, A::kLeakyRelu, A::kElu, A::kSilu, A::kGeluTanh, A::kSoftplus,
              A::kSigmoid},
             rng),
      rng);
  CompareWithStatic<maas::BasicNetwork<T, kNum, Dense<256, 16, maas::Softmax>>>(
      Layers({256, 16}, {A::kSoftmax}, rng), rng);
  // Wide one-row blocks (16 vectors on AVX-512, then 8, then the rest):
  // float 300 = 16 + 3 vectors, 400 = 16 + 8 + 1; double twice as many.
  // In float, sums of 300 and 400 products round to ~3e-4 of the smaller
  // outputs (the same bits with 8-vector blocks: the order of each sum does
  // not depend on the block), hence 1e-3.
  CompareWithStatic<maas::BasicNetwork<T, kNum, Dense<9, 300, maas::Tanh>,
                                       Dense<300, 400, maas::Relu>, Dense<400, 6>>>(
      Layers({9, 300, 400, 6}, {A::kTanh, A::kRelu, A::kIdentity}, rng), rng, 1e-3);
  CompareWithStatic<maas::BasicNetwork<T, kNum, Dense<40, 1, maas::Sigmoid>>>(
      Layers({40, 1}, {A::kSigmoid}, rng), rng);
}

}  // namespace

TEST_SUITE("DynamicNetwork") {
  TEST_CASE_TEMPLATE("bit-identical to the compile-time network, and to the reference", T,
                     float, double) {
    AllShapes<T, maas::Numerics::kFast>();
  }

  TEST_CASE_TEMPLATE("the same in the reproducible mode", T, float, double) {
    AllShapes<T, maas::Numerics::kReproducible>();
  }

  TEST_CASE("a layer too wide for the stack buffer uses its own scratch, or the caller's") {
    std::mt19937 rng(3);
    // 7000 floats: one row of two buffers (56 KB) is more than 96 KiB / 2.
    const auto layers = Layers({5, 7000, 3}, {Activation::kRelu, Activation::kIdentity}, rng);
    const maas::ModelFile file = FileOf(layers, false, rng);
    auto net = maas::DynamicNetwork<float>::FromModelFile(file);
    REQUIRE(net.ok());
    CHECK(net->max_width() == 7008);
    std::vector<float> x(4 * 5, 0.5f), y(4 * 3), y2(4 * 3), y3(4 * 3);
    net->ForwardBatch(x.data(), 4, y.data());
    auto ws = net->NewWorkspace(2);
    net->ForwardBatch(x.data(), 4, y2.data(), ws);
    CHECK(y == y2);
    const auto want = maas_test::RefForward(layers, std::vector<double>(5, 0.5));
    for (std::size_t j = 0; j < 3; ++j) CHECK(y[j] == doctest::Approx(want[j]).epsilon(1e-4));
    // Threads share the network (and its locked scratch).
    std::vector<std::thread> threads;
    std::vector<int> bad(3, 0);
    for (int t = 0; t < 3; ++t) {
      threads.emplace_back([&, t] {
        std::vector<float> yt(4 * 3);
        for (int i = 0; i < 50; ++i) {
          net->ForwardBatch(x.data(), 4, yt.data());
          if (yt != y) ++bad[t];
        }
      });
    }
    for (auto& th : threads) th.join();
    for (int b : bad) CHECK(b == 0);
    // A copy owns its weights and works after the original is gone.
    auto copy = std::make_unique<maas::DynamicNetwork<float>>(*net);
    *net = *maas::DynamicNetwork<float>::FromModelFile(FileOf(Layers({5, 3}, {Activation::kRelu}, rng), false, rng));
    copy->ForwardBatch(x.data(), 4, y3.data());
    CHECK(y3 == y);
  }

  TEST_CASE("many threads on one network get the single-thread results") {
    std::mt19937 rng(8);
    const auto layers = Layers({16, 64, 64, 8}, {Activation::kRelu, Activation::kTanh,
                                                  Activation::kSoftmax}, rng);
    auto net = maas::DynamicNetwork<double>::FromModelFile(FileOf(layers, true, rng));
    REQUIRE(net.ok());
    std::vector<double> x(100 * 16);
    std::uniform_real_distribution<double> u(-1, 1);
    for (double& v : x) v = u(rng);
    std::vector<double> want(100 * 8);
    net->ForwardBatch(x.data(), 100, want.data());
    std::vector<std::thread> threads;
    std::vector<int> bad(4, 0);
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        std::vector<double> y(100 * 8);
        for (int i = 0; i < 200; ++i) {
          net->ForwardBatch(x.data(), 100, y.data());
          if (y != want) ++bad[t];
        }
      });
    }
    for (auto& th : threads) th.join();
    for (int b : bad) CHECK(b == 0);
  }

  TEST_CASE("a float network refuses values beyond float's range, naming them") {
    std::mt19937 rng(1);
    maas::ModelFile file = FileOf(Layers({2, 3}, {Activation::kLeakyRelu}, rng), false, rng);
    file.layers[0].weights[4] = 1e300;
    CHECK(maas::DynamicNetwork<float>::FromModelFile(file, {}, "m.json").status().message() ==
          "model file 'm.json': layer 0: weights[1][1] = 1e+300 is outside the range of the "
          "network type's float");
    CHECK(maas::DynamicNetwork<double>::FromModelFile(file, {}, "m.json").ok());
    file.layers[0].weights[4] = 1;
    file.layers[0].alpha = -1e300;
    CHECK(maas::DynamicNetwork<float>::FromModelFile(file, {}, "m.json").status().message() ==
          "model file 'm.json': layer 0: alpha -1e+300 is not a finite float");
  }
}

TEST_SUITE("DynamicLocalModel") {
  const char* kModel = R"({"format": "maas.mlp", "format_version": 1, "name": "tiny",
    "version": "7",
    "inputs": [{"name": "x", "datatype": "FP64", "shape": [-1, 2]}],
    "outputs": [{"name": "y", "datatype": "FP64", "shape": [-1, 1]}],
    "preprocessing": {"input_mean": [1.0, -1.0], "input_std": [2.0, 0.5]},
    "postprocessing": {"output_scale": [10.0], "output_offset": [0.25]},
    "layers": [
      {"type": "dense", "units": 3, "activation": "relu",
       "weights": [[1, 0, -1], [0, 1, 2]], "bias": [0.5, 0, 0]},
      {"type": "dense", "units": 1, "activation": "identity",
       "weights": [[1], [2], [3]], "bias": [-0.5]}]})";

  TEST_CASE("LoadDynamicModelFromText: the file's datatype, its names, the hand-computed value") {
    auto model = maas::LoadDynamicModelFromText(kModel, "m.json");
    REQUIRE(model.ok());
    CHECK((*model)->label() == "local");
    auto sig = (*model)->Signature();
    REQUIRE(sig.ok());
    CHECK(sig->name == "tiny");
    CHECK(sig->version == "7");
    CHECK(sig->inputs[0].dtype == maas::DataType::kFloat64);
    // x = (3, -0.5): scaled (1, 1); hidden (1.5, 1, 1); out 6; * 10 + 0.25.
    const double x[] = {3.0, -0.5};
    double y = 0;
    REQUIRE((*model)->Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 2})},
                              {maas::TensorView("y", absl::MakeSpan(&y, 1), {1, 1})})
                .ok());
    CHECK(y == doctest::Approx(60.25).epsilon(1e-15));
    maas::DynamicModelOptions opts;
    opts.dtype = maas::DataType::kFloat32;
    auto f32 = maas::LoadDynamicModelFromText(kModel, "m.json", opts);
    REQUIRE(f32.ok());
    CHECK((*f32)->Signature()->inputs[0].dtype == maas::DataType::kFloat32);
    opts.dtype = maas::DataType::kFloat16;
    CHECK(maas::LoadDynamicModelFromText(kModel, "m.json", opts).status().message() ==
          "model file 'm.json': a local network runs in FP32 or FP64, not FP16");
    CHECK(maas::LoadDynamicModel("/nonexistent/m.json").status().code() ==
          absl::StatusCode::kNotFound);
  }

  TEST_CASE("rejects exactly what LocalModel rejects, with the same words") {
    using Net = maas::Network<double, Dense<2, 3, maas::Relu>, Dense<3, 1>>;
    auto local = maas::LoadLocalModelFromText<Net>(kModel, "m.json");
    auto dyn = maas::DynamicLocalModelFromFile<double>(*maas::ParseModelFile(kModel), {},
                                                       "m.json");
    REQUIRE(local.ok());
    REQUIRE(dyn.ok());
    std::vector<double> x(6, 1.0), y(3), big(8);
    std::vector<float> xf(6);
    using CV = maas::ConstTensorView;
    using V = maas::TensorView;
    const std::vector<std::pair<std::vector<CV>, std::vector<V>>> calls = {
        {{CV("x", absl::MakeConstSpan(x), {3, 2})}, {V("y", absl::MakeSpan(y), {3, 1})}},
        {{CV("", absl::MakeConstSpan(x), {3, 2})}, {V("", absl::MakeSpan(y), {3, 1})}},
        {{CV("z", absl::MakeConstSpan(x), {3, 2})}, {V("y", absl::MakeSpan(y), {3, 1})}},
        {{CV("x", absl::MakeConstSpan(xf), {3, 2})}, {V("y", absl::MakeSpan(y), {3, 1})}},
        {{CV("x", absl::MakeConstSpan(x), {2, 3})}, {V("y", absl::MakeSpan(y), {2, 1})}},
        {{CV("x", absl::MakeConstSpan(x), {3, 2})}, {V("y", absl::MakeSpan(y), {1, 3})}},
        {{CV("x", absl::MakeConstSpan(x.data(), 5), {3, 2})},
         {V("y", absl::MakeSpan(y), {3, 1})}},
        {{CV("x", absl::MakeConstSpan(x), {3, 2})}, {V("y", absl::MakeSpan(big), {3, 1})}},
        {{CV("x", absl::MakeConstSpan(x), {3, 2}), CV("x", absl::MakeConstSpan(x), {3, 2})},
         {V("y", absl::MakeSpan(y), {3, 1})}},
    };
    for (std::size_t c = 0; c < calls.size(); ++c) {
      CAPTURE(c);
      std::vector<double> yl(3, -7.0), yd(3, -7.0);
      auto with = [&](std::vector<double>* out) {
        std::vector<V> o = calls[c].second;
        if (o[0].raw_data() == y.data()) o[0] = V(o[0].name(), absl::MakeSpan(*out), o[0].shape());
        return o;
      };
      const absl::Status sl = (*local)->Predict(calls[c].first, with(&yl));
      const absl::Status sd = (*dyn)->Predict(calls[c].first, with(&yd));
      CHECK(sl == sd);
      CHECK(yl == yd);
      if (!sd.ok()) {
        for (double v : yd) CHECK(v == -7.0);
      }
    }
  }

  TEST_CASE("Create refuses a signature that does not fit the network") {
    auto file = maas::ParseModelFile(kModel);
    REQUIRE(file.ok());
    auto net = maas::DynamicNetwork<float>::FromModelFile(*file);
    REQUIRE(net.ok());
    maas::ModelSignature sig = file->signature;
    sig.inputs[0].dtype = maas::DataType::kFloat32;
    sig.outputs[0].dtype = maas::DataType::kFloat32;
    sig.inputs[0].shape = {maas::kDynamic, 5};
    CHECK(maas::DynamicLocalModel<float>::Create(*net, sig).status().message() ==
          "input 'x': the network needs FP32[-1,2], the signature says FP32[-1,5]");
  }
}
