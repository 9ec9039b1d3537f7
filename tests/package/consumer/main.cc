// A minimal consumer: loads a model file through the installed headers and
// checks a prediction against a value computed by hand.
#include <maas/maas.h>

#include <cmath>
#include <cstdio>

int main() {
  using Net = maas::Network<float, maas::Dense<2, 2, maas::Relu>, maas::Dense<2, 1>>;
  const char* text = R"({"format": "maas.mlp", "format_version": 1, "name": "consumer",
    "inputs": [{"name": "x", "shape": [-1, 2]}], "outputs": [{"name": "y", "shape": [-1, 1]}],
    "layers": [{"type": "dense", "units": 2, "activation": "relu",
                "weights": [[1, -1], [2, 1]], "bias": [0, 0]},
               {"type": "dense", "units": 1, "activation": "identity",
                "weights": [[1], [1]], "bias": [0.5]}]})";
  auto model = maas::LoadLocalModelFromText<Net>(text, "consumer");
  if (!model.ok()) {
    std::fprintf(stderr, "%s\n", model.status().ToString().c_str());
    return 1;
  }
  const float x[] = {1.f, 2.f};  // hidden relu(5, 1) -> 6.5
  float y = 0;
  maas::Predictor& p = **model;
  absl::Status s = p.Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 2})},
                             {maas::TensorView("y", absl::MakeSpan(&y, 1), {1, 1})});
  if (!s.ok() || std::fabs(y - 6.5f) > 1e-6f) {
    std::fprintf(stderr, "unexpected result %g (%s)\n", y, s.ToString().c_str());
    return 1;
  }
  std::printf("maas %s consumer ok: y = %g\n", maas::kVersionString, y);
  return 0;
}
