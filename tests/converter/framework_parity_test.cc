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
#include "doctest/doctest.h"
#include "framework_parity.h"

namespace {

using maas_test::CheckCase;

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
