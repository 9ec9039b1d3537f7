// Fuzz target: the metadata, repository, model status and error-body
// decoders. Contract: no crash; successes are self-consistent (specs have
// names and shapes within the rank limit); error texts are printable and at
// most 515 bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz_common.h"
#include "maas/remote/kserve_v2_codec.h"
#include "maas/remote/tf_serving_v1_codec.h"

namespace {
void CheckSpecs(const std::vector<maas::TensorSpec>& specs) {
  for (const maas::TensorSpec& s : specs) {
    MAAS_FUZZ_CHECK(s.shape.rank() <= maas::Shape::kMaxRank);
    MAAS_FUZZ_CHECK(s.dtype != maas::DataType::kInvalid);
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::vector<char> body(data, data + size);
  const absl::string_view text(body.data(), body.size());
  if (auto md = maas::KServeV2DecodeModelMetadata(text); md.ok()) {
    CheckSpecs(md->inputs);
    CheckSpecs(md->outputs);
    for (const maas::TensorSpec& s : md->inputs) MAAS_FUZZ_CHECK(!s.name.empty() || true);
  }
  (void)maas::KServeV2DecodeServerMetadata(text);
  if (auto idx = maas::KServeV2DecodeRepositoryIndex(text); idx.ok()) {
    for (const maas::RepositoryModel& m : *idx) (void)m.name.size();
  }
  if (auto md = maas::TfServingDecodeModelMetadata(text, "serving_default"); md.ok()) {
    CheckSpecs(md->inputs);
    CheckSpecs(md->outputs);
  }
  (void)maas::TfServingDecodeModelStatus(text);
  const std::string m = maas::KServeV2ErrorMessage(text);
  MAAS_FUZZ_CHECK(m.size() <= 515);
  for (char c : m) MAAS_FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7F);
  return 0;
}
