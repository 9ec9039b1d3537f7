// A model file holds float64 values; a float network must refuse the ones it
// cannot represent instead of turning them into inf (converting an
// out-of-range double to float is undefined behaviour).
#include <string>

#include "doctest/doctest.h"
#include "maas/local/model_file.h"
#include "nlohmann/json.hpp"
#include "testing/status_doctest.h"

namespace {

// 1 input -> 2 identity units, all values ordinary.
nlohmann::json Model() {
  return nlohmann::json::parse(R"({
    "format": "maas.mlp", "format_version": 1, "name": "r",
    "inputs": [{"name": "x", "shape": [-1, 1]}],
    "outputs": [{"name": "y", "shape": [-1, 2]}],
    "preprocessing": {"input_mean": [0.5], "input_std": [2.0]},
    "postprocessing": {"output_scale": [1.0, 1.0], "output_offset": [0.0, 0.0]},
    "layers": [{"type": "dense", "units": 2, "activation": "identity",
                "weights": [[1.0, 2.0]], "bias": [0.0, 0.0]}]
  })");
}

template <typename T>
absl::Status Load(const nlohmann::json& j) {
  using Net = maas::Network<T, maas::Dense<1, 2>>;
  return maas::LoadLocalModelFromText<Net>(j.dump(), "r.json").status();
}

}  // namespace

TEST_SUITE("model file precision") {
  TEST_CASE("values beyond float's range load into double networks only") {
    CHECK(Load<float>(Model()).ok());

    auto j = Model();
    j["layers"][0]["weights"][0][1] = 1e300;
    CHECK(Load<double>(j).ok());
    absl::Status s = Load<float>(j);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(s.message() == "model file 'r.json': layer 0: weights[0][1] = 1e+300 is "
                         "outside the range of the network type's float");

    j = Model();
    j["postprocessing"]["output_offset"][1] = -4e38;
    CHECK(Load<double>(j).ok());
    CHECK(Load<float>(j).message() ==
          "model file 'r.json': postprocessing.output_offset[1] = -4e+38 is "
          "outside the range of the network type's float");

    // input_std is applied as 1 / std.
    j = Model();
    j["preprocessing"]["input_std"][0] = 1e-300;
    CHECK(Load<double>(j).ok());
    CHECK(Load<float>(j).message() ==
          "model file 'r.json': preprocessing.input_std[0] = 1e-300 is outside "
          "the range of the network type's float once inverted");
  }

  TEST_CASE("float-range values near the limit still load") {
    auto j = Model();
    j["layers"][0]["bias"][0] = 3.0e38;
    j["preprocessing"]["input_std"][0] = 1e-38;
    CHECK(Load<float>(j).ok());
  }
}
