// -----------------------------------------------------------------------------
// File: local/kernels/activation_kind.h
// -----------------------------------------------------------------------------
//
// `maas::Activation`, the enum kernels dispatch on. Kept free of Abseil so the
// kernels build with a bare cross compiler; `maas/local/activation.h` adds the
// parsing and naming helpers and the layer tags.

#ifndef MAAS_LOCAL_KERNELS_ACTIVATION_KIND_H_
#define MAAS_LOCAL_KERNELS_ACTIVATION_KIND_H_

#include <cstdint>

namespace maas {

// Activation
//
// What a dense layer applies to its outputs. Softmax is over one row's
// outputs and is computed stably (the row maximum is subtracted first); the
// others apply to each output on its own:
//
//   kIdentity   z
//   kRelu       max(z, 0)
//   kSigmoid    1 / (1 + e^-z)
//   kTanh       tanh z
//   kSoftmax    e^(z_j - max z) / sum_k e^(z_k - max z)
//   kGelu       z Phi(z) = z/2 (1 + erf(z / sqrt 2))      (GELU, erf form)
//   kGeluTanh   z/2 (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3)))  (tanh form)
//   kSilu       z / (1 + e^-z)                               (SiLU, swish)
//   kSoftplus   log(1 + e^z)
//   kLeakyRelu  z > 0 ? z : alpha z                          (alpha: 0.01)
//   kElu        z > 0 ? z : alpha (e^z - 1)                  (alpha: 1)
//
// Leaky ReLU and ELU take one parameter, alpha, set per layer.
enum class Activation : std::uint8_t {
  kIdentity,
  kRelu,
  kSigmoid,
  kTanh,
  kSoftmax,
  kGelu,
  kGeluTanh,
  kSilu,
  kSoftplus,
  kLeakyRelu,
  kElu,
};

// kNumActivations
//
// The number of enumerators of `Activation` (they are 0, 1, ...).
inline constexpr int kNumActivations = 11;

// ActivationHasAlpha()
//
// True for the activations that take the parameter alpha.
constexpr bool ActivationHasAlpha(Activation a) {
  return a == Activation::kLeakyRelu || a == Activation::kElu;
}

// DefaultActivationAlpha()
//
// alpha when none is given: 0.01 for leaky ReLU (PyTorch's and ONNX's
// default), 1 for ELU; 0 for activations without a parameter.
constexpr double DefaultActivationAlpha(Activation a) {
  return a == Activation::kLeakyRelu ? 0.01 : a == Activation::kElu ? 1.0 : 0.0;
}

// ActivationOfZeroIsZero()
//
// True when act(0) = 0 for every alpha, so that zero padding lanes stay zero
// through the activation (softmax excluded: it is a row operation).
constexpr bool ActivationOfZeroIsZero(Activation a) {
  return a != Activation::kSigmoid && a != Activation::kSoftplus &&
         a != Activation::kSoftmax;
}

}  // namespace maas

#endif  // MAAS_LOCAL_KERNELS_ACTIVATION_KIND_H_
