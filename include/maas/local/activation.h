// -----------------------------------------------------------------------------
// File: local/activation.h
// -----------------------------------------------------------------------------
//
// Activation functions of the local network, as tags used in layer types
// (`maas::Dense<16, 64, maas::Relu>`) and as a runtime enum used by kernels and
// the model file ("identity", "relu", "sigmoid", "tanh", "softmax", "gelu",
// "gelu_tanh", "silu", "softplus", "leaky_relu", "elu"). The formulas are in
// `maas/local/kernels/activation_kind.h`.

#ifndef MAAS_LOCAL_ACTIVATION_H_
#define MAAS_LOCAL_ACTIVATION_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "maas/local/kernels/activation_kind.h"

namespace maas {

// ActivationName()
//
// The model-file spelling: "identity", "relu", "sigmoid", "tanh", "softmax",
// "gelu", "gelu_tanh", "silu", "softplus", "leaky_relu", "elu".
constexpr absl::string_view ActivationName(Activation a) {
  switch (a) {
    case Activation::kIdentity: return "identity";
    case Activation::kRelu: return "relu";
    case Activation::kSigmoid: return "sigmoid";
    case Activation::kTanh: return "tanh";
    case Activation::kSoftmax: return "softmax";
    case Activation::kGelu: return "gelu";
    case Activation::kGeluTanh: return "gelu_tanh";
    case Activation::kSilu: return "silu";
    case Activation::kSoftplus: return "softplus";
    case Activation::kLeakyRelu: return "leaky_relu";
    case Activation::kElu: return "elu";
  }
  return "unknown";
}

// ParseActivation()
//
// Parses a model-file spelling (case-sensitive); "logistic" (scikit-learn's
// name) is accepted for sigmoid, "linear" (Keras') for identity and "swish"
// for silu. Fails with `kInvalidArgument` otherwise.
inline absl::StatusOr<Activation> ParseActivation(absl::string_view name) {
  if (name == "identity" || name == "linear") return Activation::kIdentity;
  if (name == "logistic") return Activation::kSigmoid;
  if (name == "swish") return Activation::kSilu;
  for (int i = 0; i < kNumActivations; ++i) {
    const auto a = static_cast<Activation>(i);
    if (name == ActivationName(a)) return a;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown activation '", name,
      "' (expected identity, relu, sigmoid, tanh, softmax, gelu, gelu_tanh, "
      "silu, softplus, leaky_relu or elu)"));
}

// Identity, Relu, Sigmoid, Tanh, Softmax, Gelu, GeluTanh, Silu, Softplus,
// LeakyRelu, Elu
//
// Tags naming an activation in a layer type. LeakyRelu's and Elu's alpha is
// a value of the network (set from the model file or by
// `Network::SetLayerAlpha`), not of the type; it defaults to 0.01 and 1.
struct Identity { static constexpr Activation kKind = Activation::kIdentity; };
struct Relu { static constexpr Activation kKind = Activation::kRelu; };
struct Sigmoid { static constexpr Activation kKind = Activation::kSigmoid; };
struct Tanh { static constexpr Activation kKind = Activation::kTanh; };
struct Softmax { static constexpr Activation kKind = Activation::kSoftmax; };
struct Gelu { static constexpr Activation kKind = Activation::kGelu; };
struct GeluTanh { static constexpr Activation kKind = Activation::kGeluTanh; };
struct Silu { static constexpr Activation kKind = Activation::kSilu; };
struct Softplus { static constexpr Activation kKind = Activation::kSoftplus; };
struct LeakyRelu { static constexpr Activation kKind = Activation::kLeakyRelu; };
struct Elu { static constexpr Activation kKind = Activation::kElu; };

}  // namespace maas

#endif  // MAAS_LOCAL_ACTIVATION_H_
