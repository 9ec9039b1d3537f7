// Model files a user might be handed that must be refused, not crash the
// loader (issue 7 item 2): "metadata" nested deeply enough to overflow the
// stack when it was serialised, and keys repeated within one object (which
// nlohmann silently resolves to the last value).
#include <string>

#include "absl/strings/match.h"
#include "doctest/doctest.h"
#include "maas/local/model_file.h"
#include "testing/status_doctest.h"

namespace {

using Net = maas::Network<double, maas::Dense<2, 1>>;

std::string Model(const std::string& extra) {
  return R"({"format": "maas.mlp", "format_version": 1, "name": "m",
    "inputs": [{"name": "x", "shape": [-1, 2]}],
    "outputs": [{"name": "y", "shape": [-1, 1]}],
    "layers": [{"type": "dense", "units": 1, "activation": "identity",
                "weights": [[1], [2]], "bias": [0.5]}])" +
         extra + "}";
}

}  // namespace

TEST_SUITE("ModelFileHostile") {

TEST_CASE("the well-formed base model loads") {
  CHECK(maas::LoadLocalModelFromText<Net>(Model(""), "m.json").ok());
  CHECK(maas::LoadLocalModelFromText<Net>(Model(R"(, "metadata": {"a": [[1]]})"), "m.json").ok());
}

TEST_CASE("deeply nested metadata is kInvalidArgument, not a stack overflow") {
  const std::size_t depth = 200000;
  const std::string meta =
      R"(, "metadata": {"a": )" + std::string(depth, '[') + std::string(depth, ']') + "}";
  absl::Status s = maas::LoadLocalModelFromText<Net>(Model(meta), "m.json").status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(s.message(), "nested"));
  CHECK(absl::StrContains(s.message(), "m.json"));
}

TEST_CASE("a key repeated in one object is kInvalidArgument naming the key") {
  absl::Status s =
      maas::LoadLocalModelFromText<Net>(Model(R"(, "name": "other")"), "m.json").status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(s.message(), "\"name\""));
  const std::string twice_bias = R"({"format": "maas.mlp", "format_version": 1, "name": "m",
    "inputs": [{"name": "x", "shape": [-1, 2]}],
    "outputs": [{"name": "y", "shape": [-1, 1]}],
    "layers": [{"type": "dense", "units": 1, "activation": "identity",
                "weights": [[1], [2]], "bias": [0.5], "bias": [9]}]})";
  s = maas::LoadLocalModelFromText<Net>(twice_bias, "m.json").status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StrContains(s.message(), "\"bias\""));
}

}  // TEST_SUITE
