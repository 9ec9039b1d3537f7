// A maas::ModelFile holding the layers of the reference MLP (reference_mlp.h)
// and, optionally, random input standardisation and output scaling: the
// tests' way to build a run-time-sized network with known weights.
#ifndef MAAS_TESTS_LOCAL_REF_MODEL_FILE_H_
#define MAAS_TESTS_LOCAL_REF_MODEL_FILE_H_

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "local/reference_mlp.h"
#include "maas/core/data_type.h"
#include "maas/local/model_file.h"

namespace maas_test {

// One input "x" and one output "y" of `dtype`, batch dimension dynamic.
inline maas::ModelFile RefModelFile(const std::vector<RefLayer>& layers, bool scaling,
                                    std::mt19937& rng, maas::DataType dtype) {
  maas::ModelFile f;
  f.signature.name = "m";
  f.signature.inputs.push_back(
      {"x", dtype, {maas::kDynamic, static_cast<std::int64_t>(layers.front().in)}});
  f.signature.outputs.push_back(
      {"y", dtype, {maas::kDynamic, static_cast<std::int64_t>(layers.back().out)}});
  for (const RefLayer& r : layers) {
    maas::ModelFileLayer l;
    l.inputs = r.in;
    l.units = r.out;
    l.activation = r.act;
    l.alpha = maas::ActivationHasAlpha(r.act) ? r.alpha : 0.0;
    l.weights = r.w;
    l.bias = r.b;
    f.layers.push_back(l);
  }
  if (scaling) {
    std::uniform_real_distribution<double> u(0.5, 2.0);
    for (std::size_t i = 0; i < layers.front().in; ++i) {
      f.input_mean.push_back(u(rng) - 1.25);
      f.input_std.push_back(u(rng));
    }
    for (std::size_t j = 0; j < layers.back().out; ++j) {
      f.output_scale.push_back(u(rng));
      f.output_offset.push_back(u(rng) - 1.25);
    }
  }
  return f;
}

}  // namespace maas_test

#endif  // MAAS_TESTS_LOCAL_REF_MODEL_FILE_H_
