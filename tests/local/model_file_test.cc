// Model-file loading: one test per kind of bad file, each checking the code
// and that the message names the place and the numbers.
#include "maas/local/model_file.h"

#include <cstdio>
#include <fstream>
#include <string>

#include "doctest/doctest.h"
#include "nlohmann/json.hpp"
#include "testing/status_doctest.h"

namespace {

using Net = maas::Network<double, maas::Dense<2, 3, maas::Relu>,
                          maas::Dense<3, 1>>;

// A valid 2 -> 3 relu -> 1 model with scaling; tests break one thing each.
nlohmann::json GoodModel() {
  return nlohmann::json::parse(R"({
    "format": "maas.mlp", "format_version": 1,
    "name": "tiny", "version": "7",
    "inputs": [{"name": "x", "datatype": "FP32", "shape": [-1, 2]}],
    "outputs": [{"name": "y", "datatype": "FP32", "shape": [-1, 1]}],
    "preprocessing": {"input_mean": [1.0, -1.0], "input_std": [2.0, 0.5]},
    "postprocessing": {"output_scale": [10.0], "output_offset": [0.25]},
    "layers": [
      {"type": "dense", "units": 3, "activation": "relu",
       "weights": [[1, 0, -1], [0, 1, 2]], "bias": [0.5, 0, 0]},
      {"type": "dense", "units": 1, "activation": "identity",
       "weights": [[1], [2], [3]], "bias": [-0.5]}
    ],
    "metadata": {"trained_by": "hand"}
  })");
}

absl::Status LoadStatus(const std::string& text) {
  return maas::LoadLocalModelFromText<Net>(text, "m.json").status();
}

void ExpectError(const nlohmann::json& j, const std::string& expected) {
  absl::Status s = LoadStatus(j.dump());
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(std::string(s.message()) == expected);
}

}  // namespace

TEST_SUITE("model file") {
  TEST_CASE("a good file loads with its signature, scaling and weights") {
    auto model = maas::LoadLocalModelFromText<Net>(GoodModel().dump(), "m.json");
    REQUIRE(model.ok());
    const auto& sig = (*model)->signature();
    CHECK(sig.name == "tiny");
    CHECK(sig.version == "7");
    CHECK(sig.inputs[0].name == "x");
    CHECK(sig.inputs[0].dtype == maas::DataType::kFloat64);  // from Net, not the file
    // x = (3, -0.5): scaled (1, 1); hidden relu(1+0.5, 1, -1+2) = (1.5, 1, 1);
    // out 1.5 + 2 + 3 - 0.5 = 6; * 10 + 0.25 = 60.25
    const double x[] = {3.0, -0.5};
    double y = 0;
    REQUIRE((*model)->PredictRows(x, absl::MakeSpan(&y, 1)).ok());
    CHECK(y == doctest::Approx(60.25).epsilon(1e-14));
  }

  TEST_CASE("malformed JSON") {
    std::string text = GoodModel().dump();
    text.resize(text.size() / 2);
    absl::Status s = LoadStatus(text);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(s.message()).rfind("model file 'm.json': not valid JSON", 0) == 0);
    CHECK(LoadStatus("").code() == absl::StatusCode::kInvalidArgument);
    CHECK(LoadStatus("[1,2]").message() ==
          "model file 'm.json': the top level must be a JSON object");
  }

  TEST_CASE("NaN and Infinity tokens are not JSON and are rejected") {
    std::string text = GoodModel().dump();
    text.replace(text.find("-0.5"), 4, "NaN");
    CHECK(LoadStatus(text).code() == absl::StatusCode::kInvalidArgument);
  }

  TEST_CASE("a number beyond the double range is rejected, not read as inf") {
    std::string text = GoodModel().dump();
    text.replace(text.find("-0.5"), 4, "1e999");
    absl::Status s = LoadStatus(text);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(std::string(s.message()).rfind("model file 'm.json': not valid JSON", 0) == 0);
  }

  TEST_CASE("missing keys") {
    for (const char* key : {"format", "name", "layers", "inputs", "outputs"}) {
      CAPTURE(key);
      auto j = GoodModel();
      j.erase(key);
      CHECK(LoadStatus(j.dump()).code() == absl::StatusCode::kInvalidArgument);
    }
    auto j = GoodModel();
    j["layers"][0].erase("bias");
    ExpectError(j, "model file 'm.json': layer 0: \"bias\" is missing");
    j = GoodModel();
    j["preprocessing"].erase("input_std");
    ExpectError(j, "model file 'm.json': preprocessing needs both \"input_mean\" and \"input_std\"");
  }

  TEST_CASE("wrong types") {
    auto j = GoodModel();
    j["name"] = 5;
    ExpectError(j, "model file 'm.json': \"name\" must be a string, got number");
    j = GoodModel();
    j["layers"][0]["weights"][1][2] = "2";
    ExpectError(j, "model file 'm.json': layer 0: weights[1][2] must be a number, got string");
    j = GoodModel();
    j["layers"][1]["units"] = 1.5;
    ExpectError(j, "model file 'm.json': layer 1: \"units\" must be a positive integer");
    j = GoodModel();
    j["inputs"][0]["datatype"] = "INT8";
    ExpectError(j, "model file 'm.json': inputs[0]: \"datatype\" must be FP32 or FP64, got \"INT8\"");
  }

  TEST_CASE("wrong format or version") {
    auto j = GoodModel();
    j["format"] = "rtneural";
    ExpectError(j, "model file 'm.json': \"format\" must be \"maas.mlp\", got \"rtneural\"");
    j = GoodModel();
    j["format_version"] = 2;
    ExpectError(j, "model file 'm.json': \"format_version\" 2 is not supported (this reader knows 1)");
  }

  TEST_CASE("inconsistent sizes inside the file") {
    auto j = GoodModel();
    j["layers"][0]["weights"][1] = {0, 1};
    ExpectError(j, "model file 'm.json': layer 0: weights row 1: expected 3 values (one per unit), got 2");
    j = GoodModel();
    j["layers"][1]["weights"] = {{1}, {2}};
    ExpectError(j, "model file 'm.json': layer 1: has 2 inputs (weight rows) but layer 0 has 3 units");
    j = GoodModel();
    j["layers"][0]["bias"] = {1, 2};
    ExpectError(j, "model file 'm.json': layer 0: bias: expected 3 values, got 2");
    j = GoodModel();
    j["inputs"][0]["shape"] = {-1, 3};
    ExpectError(j, "model file 'm.json': inputs[0]: shape [-1,3] does not match the first layer's 2 inputs");
    j = GoodModel();
    j["postprocessing"]["output_scale"] = {1, 2};
    ExpectError(j, "model file 'm.json': postprocessing.output_scale: expected 1 values, got 2");
    j = GoodModel();
    j["preprocessing"]["input_std"] = {1, 0};
    ExpectError(j, "model file 'm.json': preprocessing.input_std[1] is 0 (division by zero)");
  }

  TEST_CASE("a file that does not fit the network type names the layer and sizes") {
    using Wide = maas::Network<double, maas::Dense<2, 4, maas::Relu>, maas::Dense<4, 1>>;
    auto r = maas::LoadLocalModelFromText<Wide>(GoodModel().dump(), "m.json");
    CHECK(r.status().message() ==
          "model file 'm.json': layer 0: the network type has 2 inputs and 4 units, "
          "the file has 2 inputs and 3 units");
    using Deep = maas::Network<double, maas::Dense<2, 3, maas::Relu>, maas::Dense<3, 3>,
                               maas::Dense<3, 1>>;
    CHECK(maas::LoadLocalModelFromText<Deep>(GoodModel().dump(), "m.json").status().message() ==
          "model file 'm.json': the network type has 3 layers, the file has 2");
    using Tanh = maas::Network<double, maas::Dense<2, 3, maas::Tanh>, maas::Dense<3, 1>>;
    CHECK(maas::LoadLocalModelFromText<Tanh>(GoodModel().dump(), "m.json").status().message() ==
          "model file 'm.json': layer 0: the network type's activation is tanh, the file's is relu");
  }

  TEST_CASE("unsupported layer type, activation, or hidden softmax") {
    auto j = GoodModel();
    j["layers"][0]["type"] = "conv1d";
    ExpectError(j, "model file 'm.json': layer 0: type \"conv1d\" is not supported (only \"dense\")");
    j = GoodModel();
    j["layers"][0]["activation"] = "mish";
    ExpectError(j, "model file 'm.json': layer 0: unknown activation 'mish' (expected identity, "
                   "relu, sigmoid, tanh, softmax, gelu, gelu_tanh, silu, softplus, leaky_relu "
                   "or elu)");
    j = GoodModel();
    j["layers"][0]["activation"] = "softmax";
    ExpectError(j, "model file 'm.json': layer 0: softmax is only allowed on the last layer");
  }

  TEST_CASE("every activation spelling loads into its tag; alpha for leaky_relu and elu") {
    using Net6 = maas::Network<double, maas::Dense<2, 3, maas::Gelu>,
                               maas::Dense<3, 3, maas::GeluTanh>, maas::Dense<3, 3, maas::Silu>,
                               maas::Dense<3, 3, maas::Softplus>,
                               maas::Dense<3, 3, maas::LeakyRelu>, maas::Dense<3, 1, maas::Elu>>;
    auto j = GoodModel();
    const nlohmann::json hidden = j["layers"][0];
    const nlohmann::json square = nlohmann::json::parse(
        R"({"type": "dense", "units": 3, "weights": [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
            "bias": [0, 0, 0]})");
    j["layers"] = nlohmann::json::array();
    for (const char* act : {"gelu", "gelu_tanh", "swish", "softplus", "leaky_relu"}) {
      nlohmann::json l = j["layers"].empty() ? hidden : square;
      l["activation"] = act;
      j["layers"].push_back(l);
    }
    j["layers"][4]["alpha"] = 0.25;
    nlohmann::json last = GoodModel()["layers"][1];
    last["activation"] = "elu";
    j["layers"].push_back(last);
    auto file = maas::ParseModelFile(j.dump(), "m.json");
    REQUIRE(file.ok());
    CHECK(file->layers[2].activation == maas::Activation::kSilu);
    CHECK(file->layers[4].alpha == 0.25);
    CHECK(file->layers[5].alpha == 1.0);  // ELU's default
    CHECK(file->layers[0].alpha == 0.0);
    auto net = maas::BuildNetwork<Net6>(*file, "m.json");
    REQUIRE(net.ok());
    CHECK((*net)->layer_alpha(4) == 0.25);
    CHECK((*net)->layer_alpha(5) == 1.0);
    j["layers"][4].erase("alpha");
    file = maas::ParseModelFile(j.dump(), "m.json");
    REQUIRE(file.ok());
    CHECK(file->layers[4].alpha == 0.01);  // leaky ReLU's default
  }

  TEST_CASE("alpha: only on leaky_relu and elu, a finite number, within float's range") {
    auto j = GoodModel();
    j["layers"][0]["alpha"] = 0.1;
    ExpectError(j, "model file 'm.json': layer 0: \"alpha\" applies only to leaky_relu and "
                   "elu, not to relu");
    j["layers"][0]["activation"] = "leaky_relu";
    j["layers"][0]["alpha"] = "0.1";
    using Leaky = maas::Network<float, maas::Dense<2, 3, maas::LeakyRelu>, maas::Dense<3, 1>>;
    CHECK(maas::LoadLocalModelFromText<Leaky>(j.dump(), "m.json").status().message() ==
          "model file 'm.json': layer 0: \"alpha\" must be a finite number");
    j["layers"][0]["alpha"] = 1e300;
    CHECK(maas::LoadLocalModelFromText<Leaky>(j.dump(), "m.json").status().message() ==
          "model file 'm.json': layer 0: alpha 1e+300 is not a finite float");
    j["layers"][0]["alpha"] = -0.5;
    auto model = maas::LoadLocalModelFromText<Leaky>(j.dump(), "m.json");
    REQUIRE(model.ok());
    // x = (3, -0.5): scaled (1, 1); hidden leaky(1.5, 1, 1) = (1.5, 1, 1) -> 60.25 as relu.
    const float x[] = {3.0f, -0.5f};
    float y = 0;
    REQUIRE((*model)->PredictRows(x, absl::MakeSpan(&y, 1)).ok());
    CHECK(y == doctest::Approx(60.25).epsilon(1e-6));
    // x = (1, -1): scaled (0, 0); hidden leaky(0.5, 0, 0); out 0.5 - 0.5 = 0 -> 0.25.
    // x = (-3, -1): scaled (-2, 0); hidden leaky(-1.5, 0, 2) = (0.75, 0, 2); out
    // 0.75 + 6 - 0.5 = 6.25 -> 62.75.
    const float x2[] = {-3.0f, -1.0f};
    REQUIRE((*model)->PredictRows(x2, absl::MakeSpan(&y, 1)).ok());
    CHECK(y == doctest::Approx(62.75).epsilon(1e-6));
  }

  TEST_CASE("an unreadable path is kNotFound naming the path") {
    auto r = maas::LoadLocalModel<Net>("/nonexistent/dir/model.json");
    CHECK(r.status().code() == absl::StatusCode::kNotFound);
    CHECK(std::string(r.status().message()).find("/nonexistent/dir/model.json") !=
          std::string::npos);
  }

  TEST_CASE("a failed load returns no model and leaves a loaded one working") {
    const std::string path = "maas_model_file_test.json";
    {
      std::ofstream(path) << GoodModel().dump();
    }
    auto good = maas::LoadLocalModel<Net>(path);
    REQUIRE(good.ok());
    {
      std::ofstream(path) << "{\"format\": \"maas.mlp\", \"format_version\": 1, \"layers\": [";
    }
    auto bad = maas::LoadLocalModel<Net>(path);
    CHECK_FALSE(bad.ok());
    const double x[] = {3.0, -0.5};
    double y = 0;
    REQUIRE((*good)->PredictRows(x, absl::MakeSpan(&y, 1)).ok());
    CHECK(y == doctest::Approx(60.25).epsilon(1e-14));
    std::remove(path.c_str());
  }
}
