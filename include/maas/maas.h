// -----------------------------------------------------------------------------
// File: maas.h
// -----------------------------------------------------------------------------
//
// The umbrella header: the core vocabulary, the predict interface and the
// local network with its model-file loader. The HTTP transport is opt-in
// (`maas/remote/httplib_transport.h`, CMake target `maas::http`).
//
// Example:
//
//   #include <maas/maas.h>
//   using Net = maas::Network<float, maas::Dense<16, 64, maas::Relu>,
//                             maas::Dense<64, 8, maas::Softmax>>;
//   auto model = maas::LoadLocalModel<Net>("classifier.json");

#ifndef MAAS_MAAS_H_
#define MAAS_MAAS_H_

#include "maas/core/call.h"
#include "maas/core/data_type.h"
#include "maas/core/model_signature.h"
#include "maas/core/predictor.h"
#include "maas/core/shape.h"
#include "maas/core/tensor.h"
#include "maas/core/tensor_view.h"
#include "maas/local/activation.h"
#include "maas/local/dynamic_network.h"
#include "maas/local/local_model.h"
#include "maas/local/model_file.h"
#include "maas/local/network.h"
#include "maas/version.h"

#endif  // MAAS_MAAS_H_
