// The complete example in docs/model-format.md loads and computes what the
// page says it computes.
#include <fstream>
#include <sstream>
#include <string>

#include "doctest/doctest.h"
#include "maas/local/model_file.h"
#include "testing/status_doctest.h"

TEST_CASE("docs/model-format.md: the complete example gives 60.25 for (3, -0.5)") {
  std::ifstream in(std::string(MAAS_SOURCE_DIR_FOR_DOCS) + "/docs/model-format.md");
  REQUIRE(in.good());
  std::stringstream page;
  page << in.rdbuf();
  const std::string text = page.str();
  const std::size_t begin = text.find("```json\n");
  REQUIRE(begin != std::string::npos);
  const std::size_t end = text.find("```", begin + 8);
  REQUIRE(end != std::string::npos);
  const std::string json = text.substr(begin + 8, end - begin - 8);

  using Net = maas::Network<float, maas::Dense<2, 3, maas::Relu>, maas::Dense<3, 1>>;
  auto model = maas::LoadLocalModelFromText<Net>(json, "model-format.md");
  REQUIRE_MESSAGE(model.ok(), model.status());
  const float x[] = {3.0f, -0.5f};
  float y = 0;
  REQUIRE((*model)->PredictRows(x, absl::MakeSpan(&y, 1)).ok());
  CHECK(y == doctest::Approx(60.25).epsilon(1e-6));
  auto file = maas::ParseModelFile(json);
  REQUIRE(file.ok());
  CHECK(file->description == "hand-written example");
  CHECK(file->metadata == R"({"trained_by":"hand"})");
}
