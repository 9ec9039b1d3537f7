// Fuzz target: the model-file reader (ParseModelFile, then binding to a
// small compile-time network). Contract: no crash or exception; a file that
// loads gives a network that runs on a fixed input.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_common.h"
#include "maas/local/model_file.h"

namespace {
using Net = maas::Network<double, maas::Dense<2, 3, maas::Relu>, maas::Dense<3, 1>>;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<maas::ModelFile> file = maas::ParseModelFile(text, "fuzz.json");
  if (!file.ok()) MAAS_FUZZ_CHECK(!file.status().message().empty());
  auto model = maas::LoadLocalModelFromText<Net>(text, "fuzz.json");
  if (model.ok()) {
    MAAS_FUZZ_CHECK(file.ok());
    std::array<double, 2> x = {0.5, -1.0};
    std::array<double, 1> y = {0};
    MAAS_FUZZ_CHECK((*model)->PredictRows(x, absl::MakeSpan(y)).ok());
  }
  return 0;
}
