// -----------------------------------------------------------------------------
// File: local/activation.h
// -----------------------------------------------------------------------------
//
// Activation functions of the local network, as tags used in layer types
// (`maas::Dense<16, 64, maas::Relu>`) and as a runtime enum used by kernels and
// the model file ("identity", "relu", "sigmoid", "tanh", "softmax").

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
// The model-file spelling: "identity", "relu", "sigmoid", "tanh", "softmax".
constexpr absl::string_view ActivationName(Activation a) {
  switch (a) {
    case Activation::kIdentity: return "identity";
    case Activation::kRelu: return "relu";
    case Activation::kSigmoid: return "sigmoid";
    case Activation::kTanh: return "tanh";
    case Activation::kSoftmax: return "softmax";
  }
  return "unknown";
}

// ParseActivation()
//
// Parses a model-file spelling; "logistic" (scikit-learn's name) is accepted
// for sigmoid and "linear" (Keras') for identity. Fails with
// `kInvalidArgument` otherwise.
inline absl::StatusOr<Activation> ParseActivation(absl::string_view name) {
  if (name == "identity" || name == "linear") return Activation::kIdentity;
  if (name == "relu") return Activation::kRelu;
  if (name == "sigmoid" || name == "logistic") return Activation::kSigmoid;
  if (name == "tanh") return Activation::kTanh;
  if (name == "softmax") return Activation::kSoftmax;
  return absl::InvalidArgumentError(absl::StrCat(
      "unknown activation '", name,
      "' (expected identity, relu, sigmoid, tanh or softmax)"));
}

// Identity, Relu, Sigmoid, Tanh, Softmax
//
// Tags naming an activation in a layer type.
struct Identity { static constexpr Activation kKind = Activation::kIdentity; };
struct Relu { static constexpr Activation kKind = Activation::kRelu; };
struct Sigmoid { static constexpr Activation kKind = Activation::kSigmoid; };
struct Tanh { static constexpr Activation kKind = Activation::kTanh; };
struct Softmax { static constexpr Activation kKind = Activation::kSoftmax; };

}  // namespace maas

#endif  // MAAS_LOCAL_ACTIVATION_H_
