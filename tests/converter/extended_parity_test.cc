// Keras, PyTorch and ONNX parity for the activations beyond the first five:
// GELU (erf and tanh forms), SiLU, softplus, leaky ReLU and ELU (with the
// frameworks' alphas). Same data, measure and tolerances as
// framework_parity_test.cc (whose CheckCase this file shares through
// framework_parity.h): the converted files are loaded through the model-file
// reader into compile-time networks with the new activation tags.
#include "doctest/doctest.h"
#include "framework_parity.h"
#include "maas/local/activation.h"

namespace {

// keras_extended_activations: gelu, silu (swish), softplus, leaky_relu 0.2
// (LeakyReLU layer), elu 1.0, linear.
template <typename T>
using KerasExtendedNet =
    maas::Network<T, maas::Dense<5, 8, maas::Gelu>, maas::Dense<8, 8, maas::Silu>,
                  maas::Dense<8, 8, maas::Softplus>, maas::Dense<8, 8, maas::LeakyRelu>,
                  maas::Dense<8, 8, maas::Elu>, maas::Dense<8, 2>>;

// torch_extended_activations and its ONNX export: GELU, GELU tanh, SiLU,
// Softplus, LeakyReLU(0.1), ELU(0.5), Linear.
template <typename T>
using TorchExtendedNet =
    maas::Network<T, maas::Dense<5, 8, maas::Gelu>, maas::Dense<8, 8, maas::GeluTanh>,
                  maas::Dense<8, 8, maas::Silu>, maas::Dense<8, 8, maas::Softplus>,
                  maas::Dense<8, 8, maas::LeakyRelu>, maas::Dense<8, 8, maas::Elu>,
                  maas::Dense<8, 2>>;

// onnx_extended_activations: Gelu, Gelu tanh, LeakyRelu(0.2), Elu(0.7),
// Softplus, x * Sigmoid(x), Gemm.
template <typename T>
using OnnxExtendedNet =
    maas::Network<T, maas::Dense<5, 8, maas::Gelu>, maas::Dense<8, 8, maas::GeluTanh>,
                  maas::Dense<8, 8, maas::LeakyRelu>, maas::Dense<8, 8, maas::Elu>,
                  maas::Dense<8, 8, maas::Softplus>, maas::Dense<8, 8, maas::Silu>,
                  maas::Dense<8, 2>>;

}  // namespace

TEST_SUITE("framework parity, extended activations") {
  TEST_CASE_TEMPLATE("Keras gelu, swish, softplus, LeakyReLU, elu", T, double, float) {
    maas_test::CheckCase<KerasExtendedNet<T>>("keras_extended_activations");
  }
  TEST_CASE_TEMPLATE("PyTorch TorchScript GELU (both), SiLU, Softplus, LeakyReLU, ELU", T,
                     double, float) {
    maas_test::CheckCase<TorchExtendedNet<T>>("torch_extended_activations");
  }
  TEST_CASE_TEMPLATE("ONNX exported by PyTorch: decomposed GELU and SiLU", T, double, float) {
    maas_test::CheckCase<TorchExtendedNet<T>>("onnx_torch_activations");
  }
  TEST_CASE_TEMPLATE("ONNX Gelu, LeakyRelu, Elu, Softplus ops", T, double, float) {
    maas_test::CheckCase<OnnxExtendedNet<T>>("onnx_extended_activations");
  }
}
