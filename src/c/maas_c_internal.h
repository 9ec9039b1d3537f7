// Internal to the maas C library: turning any maas::Predictor into a C
// handle. Not part of the C API (the shared library does not export it); the
// C API benchmark (bench/c_api) compiles maas_c.cc into itself to wrap a
// compile-time LocalModel and measure the C layer alone.
#ifndef MAAS_SRC_C_MAAS_C_INTERNAL_H_
#define MAAS_SRC_C_MAAS_C_INTERNAL_H_

#include <memory>

#include "maas/c/maas.h"
#include "maas/core/predictor.h"

namespace maas_c {

// WrapPredictor()
//
// A new handle owning `predictor`, with the C API's signature checks (one
// FP32/FP64 input and output of shape [-1, n]). Returns a status code and
// sets the thread's last error, as the C functions do; `*model` is NULL on
// failure.
int WrapPredictor(std::unique_ptr<maas::Predictor> predictor, maas_model** model);

}  // namespace maas_c

#endif  // MAAS_SRC_C_MAAS_C_INTERNAL_H_
