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
// outputs and is computed stably (the row maximum is subtracted first).
enum class Activation : std::uint8_t {
  kIdentity,
  kRelu,
  kSigmoid,
  kTanh,
  kSoftmax,
};

}  // namespace maas

#endif  // MAAS_LOCAL_KERNELS_ACTIVATION_KIND_H_
