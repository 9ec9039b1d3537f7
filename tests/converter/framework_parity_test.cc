// Keras, PyTorch and ONNX parity: files written by tools/convert_keras.py,
// tools/convert_torch.py and tools/convert_onnx.py (run by the
// converter.make_framework_golden fixture) are loaded through the real
// model-file reader (maas::LoadLocalModel<Net>) and run through the
// maas::Predictor interface on the recorded inputs; the outputs must match
// the frameworks' own answers: onnxruntime live, Keras 3 and PyTorch as
// recorded in tests/converter/data/ by the scripts there.
//
// Error measure: |maas - framework| / max(|framework|, 1e-6), as in
// sklearn_parity_test.cc.
//
// Tolerances:
//  * double networks against the framework in float64: 1e-5 (the
//    converter's contract). The file holds the float32 weights exactly
//    widened; only the summation order differs, so ~1e-15 is expected.
//    Keras 3.15's float64 BatchNormalization is not computed in float64
//    (~1e-7 absolute from a float64 NumPy evaluation of its weights), so
//    keras_batchnorm is held to Keras' float32 answers at the float tolerance.
//  * float networks against the framework in float32: 2e-4. Both sides round
//    every weight product and partial sum to float (u = 2^-24 ~ 6e-8). A dot
//    product of n terms is off by at most ~n u sum|w_i h_i|; with n <= 33
//    (32 inputs + bias), up to 3 layers, cancellation (sum|w_i h_i| /
//    |sum w_i h_i|) up to ~10 on these random-weight nets, and two float
//    computations compared with each other: 2 * 3 * 33 * 6e-8 * 10 ~ 1.2e-4.
//    The measured maxima are printed and lie far below.
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "doctest/doctest.h"
#include "maas/core/predictor.h"
#include "maas/local/model_file.h"
#include "nlohmann/json.hpp"
#include "testing/status_doctest.h"

namespace {

constexpr double kAbsFloor = 1e-6;

template <typename T>
constexpr double Tolerance() {
  return sizeof(T) == sizeof(double) ? 1e-5 : 2e-4;
}

std::string CasePath(const std::string& file) {
  return std::string(MAAS_FRAMEWORK_GOLDEN_DIR) + "/" + file;
}

// Runs case `name` as network type Net and checks every value against the
// framework's answers in T's precision. `fp64_reference` false: the
// framework's float64 run is not a float64 computation (Keras 3.15's
// BatchNormalization), so double networks are held to its float32 answers at
// the float tolerance.
template <typename Net>
void CheckCase(const std::string& name, bool fp64_reference = true) {
  using T = typename Net::ValueType;
  const bool fp64 = sizeof(T) == sizeof(double) && fp64_reference;
  std::ifstream in(CasePath(name + ".golden.json"));
  if (!in.good()) {
    // The .pt2 case needs torch at conversion time; CI has none.
    std::printf("MAAS_SKIPPED: %s: no %s (the converter.make_framework_golden fixture did "
                "not produce it)\n", name.c_str(), CasePath(name + ".golden.json").c_str());
    return;
  }
  std::stringstream text;
  text << in.rdbuf();
  const nlohmann::json golden = nlohmann::json::parse(text.str(), nullptr, false);
  REQUIRE(!golden.is_discarded());
  auto loaded = maas::LoadLocalModel<Net>(CasePath(name + ".model.json"));
  REQUIRE_MESSAGE(loaded.ok(), loaded.status());
  maas::Predictor& model = **loaded;
  auto sig = model.Signature();
  REQUIRE(sig.ok());
  CHECK(sig->name == name);

  const nlohmann::json& inputs = golden["inputs"];
  const nlohmann::json& expected = golden[fp64 ? "expected_fp64" : "expected_fp32"];
  const std::size_t rows = inputs.size();
  REQUIRE(rows == expected.size());
  std::vector<T> x;
  for (const auto& row : inputs) {
    REQUIRE(row.size() == Net::kInputSize);
    for (const auto& v : row) x.push_back(static_cast<T>(v.get<double>()));
  }
  std::vector<T> y(rows * Net::kOutputSize, T(-7));
  const auto r = static_cast<std::int64_t>(rows);
  absl::Status s = model.Predict(
      {maas::ConstTensorView(sig->inputs[0].name, absl::MakeConstSpan(x),
                             {r, static_cast<std::int64_t>(Net::kInputSize)})},
      {maas::TensorView(sig->outputs[0].name, absl::MakeSpan(y),
                        {r, static_cast<std::int64_t>(Net::kOutputSize)})});
  REQUIRE_MESSAGE(s.ok(), s);
  double max_err = 0;
  std::size_t worst = 0;
  for (std::size_t i = 0; i < rows; ++i) {
    REQUIRE(expected[i].size() == Net::kOutputSize);
    for (std::size_t j = 0; j < Net::kOutputSize; ++j) {
      const double e = maas_test::RelErr(static_cast<double>(y[i * Net::kOutputSize + j]),
                                         expected[i][j].get<double>(), kAbsFloor);
      if (e > max_err) {
        max_err = e;
        worst = i;
      }
    }
  }
  const std::string reference =
      golden.contains("reference") ? golden["reference"].get<std::string>()
      : golden[fp64 ? "reference_fp64" : "reference_fp32"].get<std::string>();
  const double tolerance = fp64 || sizeof(T) == sizeof(float) ? Tolerance<T>()
                                                                : Tolerance<float>();
  std::printf("framework parity: %-40s %-6s max rel error %.3e (row %zu of %zu; reference "
              "%s%s; tolerance %.0e)\n",
              name.c_str(), sizeof(T) == sizeof(double) ? "double" : "float", max_err, worst,
              rows, reference.c_str(), fp64 ? " fp64" : " fp32", tolerance);
  CHECK_MESSAGE(max_err <= tolerance, name, ": max rel error ", max_err, " at row ", worst);
}

template <typename T>
using Reg4Net = maas::Network<T, maas::Dense<4, 32, maas::Relu>,
                              maas::Dense<32, 16, maas::Tanh>, maas::Dense<16, 1>>;
template <typename T>
using KerasReg4Net = maas::Network<T, maas::Dense<4, 32, maas::Relu>,
                                   maas::Dense<32, 16, maas::Sigmoid>, maas::Dense<16, 1>>;
template <typename T>
using KerasClassifierNet =
    maas::Network<T, maas::Dense<6, 16, maas::Relu>, maas::Dense<16, 16, maas::Sigmoid>,
                  maas::Dense<16, 3, maas::Softmax>>;
template <typename T>
using TorchClassifierNet = maas::Network<T, maas::Dense<6, 16, maas::Sigmoid>,
                                         maas::Dense<16, 3, maas::Softmax>>;
template <typename T>
using OnnxGemmNet = maas::Network<T, maas::Dense<4, 16, maas::Relu>,
                                  maas::Dense<16, 8, maas::Tanh>, maas::Dense<8, 2>>;
template <typename T>
using OnnxSoftmaxNet = maas::Network<T, maas::Dense<6, 10, maas::Sigmoid>,
                                     maas::Dense<10, 3, maas::Softmax>>;
template <typename T>
using TorchOnnxNet =
    maas::Network<T, maas::Dense<4, 16, maas::Relu>, maas::Dense<16, 16, maas::Tanh>,
                  maas::Dense<16, 3, maas::Softmax>>;
template <typename T>
using BatchNormNet = maas::Network<T, maas::Dense<4, 16, maas::Relu>,
                                   maas::Dense<16, 8, maas::Tanh>, maas::Dense<8, 1>>;
template <typename T>
using KerasBatchNormNet = maas::Network<T, maas::Dense<4, 16, maas::Relu>,
                                        maas::Dense<16, 8, maas::Sigmoid>, maas::Dense<8, 1>>;
template <typename T>
using OnnxBatchNormNet = maas::Network<T, maas::Dense<3, 6, maas::Relu>,
                                       maas::Dense<6, 4, maas::Sigmoid>, maas::Dense<4, 1>>;
template <typename T>
using OnnxScaledNet = maas::Network<T, maas::Dense<3, 5, maas::Tanh>, maas::Dense<5, 1>>;

}  // namespace

TEST_SUITE("framework parity") {
  TEST_CASE_TEMPLATE("Keras Sequential: InputLayer, Normalization, Dense relu, Dropout, "
                     "Dense sigmoid, Dense", T, double, float) {
    CheckCase<KerasReg4Net<T>>("keras_sequential_regressor");
  }
  TEST_CASE_TEMPLATE("Keras functional: Dense, Activation relu, Dense sigmoid, "
                     "Dense softmax", T, double, float) {
    CheckCase<KerasClassifierNet<T>>("keras_functional_classifier");
  }
  TEST_CASE_TEMPLATE("Keras legacy HDF5 (.h5) files, Sequential and functional", T, double,
                     float) {
    CheckCase<KerasReg4Net<T>>("keras_sequential_regressor_h5");
    CheckCase<KerasClassifierNet<T>>("keras_functional_classifier_h5");
  }
  TEST_CASE_TEMPLATE("BatchNorm folded: PyTorch, Keras, ONNX", T,
                     double, float) {
    CheckCase<BatchNormNet<T>>("torch_batchnorm");
    CheckCase<KerasBatchNormNet<T>>("keras_batchnorm", /*fp64_reference=*/false);
    CheckCase<OnnxBatchNormNet<T>>("onnx_batchnorm");
  }
  TEST_CASE_TEMPLATE("PyTorch TorchScript nn.Sequential regressor", T, double, float) {
    CheckCase<Reg4Net<T>>("torch_sequential_regressor");
  }
  TEST_CASE_TEMPLATE("PyTorch state_dict with --activations", T, double, float) {
    CheckCase<Reg4Net<T>>("torch_sequential_regressor_state_dict");
  }
  TEST_CASE_TEMPLATE("PyTorch TorchScript classifier (Identity, Softmax)", T, double, float) {
    CheckCase<TorchClassifierNet<T>>("torch_classifier");
  }
  TEST_CASE_TEMPLATE("PyTorch torch.export classifier", T, double, float) {
    CheckCase<TorchClassifierNet<T>>("torch_classifier_export");
  }
  TEST_CASE_TEMPLATE("ONNX Sub/Div standardisation and Gemm (transB, alpha, beta)", T,
                     double, float) {
    CheckCase<OnnxGemmNet<T>>("onnx_gemm_standardised");
  }
  TEST_CASE_TEMPLATE("ONNX Flatten, MatMul+Add, Dropout, Softmax", T, double, float) {
    CheckCase<OnnxSoftmaxNet<T>>("onnx_matmul_softmax");
  }
  TEST_CASE_TEMPLATE("ONNX Identity and Mul/Add output scaling", T, double, float) {
    CheckCase<OnnxScaledNet<T>>("onnx_identity_output_scaled");
  }
  TEST_CASE_TEMPLATE("ONNX exported by torch.onnx.export (Gemm, Relu, Tanh, Softmax)", T,
                     double, float) {
    CheckCase<TorchOnnxNet<T>>("onnx_torch_mlp");
  }
}
