// Fuzz target: the TF Serving predict reply decoders (row and columnar).
// Contract: no crash; the "Into" decoder fails leaving caller buffers
// untouched, or succeeds with exactly the values of the owning decoder.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_common.h"
#include "maas/remote/tf_serving_v1_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const bool two_outputs = data[0] & 1;
  const std::vector<char> body(data + 1, data + size);
  const absl::string_view text(body.data(), body.size());
  maas::ModelSignature sig;
  sig.outputs = {{"y", maas::DataType::kFloat32, {maas::kDynamic, 2}}};
  if (two_outputs) sig.outputs.push_back({"k", maas::DataType::kInt64, {maas::kDynamic}});
  for (std::int64_t batch : {1, 2}) {
    absl::StatusOr<maas::InferResult> owned = maas::TfServingDecodePredictResponse(text, sig, batch);
    std::vector<float> y(static_cast<std::size_t>(2 * batch), -7.0f);
    std::vector<std::int64_t> k(static_cast<std::size_t>(batch), -7);
    const std::vector<float> y0 = y;
    const std::vector<std::int64_t> k0 = k;
    std::vector<maas::TensorView> views = {maas::TensorView("y", absl::MakeSpan(y), {batch, 2})};
    if (two_outputs) views.emplace_back("k", absl::MakeSpan(k), maas::Shape({batch}));
    absl::Status s = maas::TfServingDecodePredictResponseInto(text, sig, batch, views);
    if (!s.ok()) {
      MAAS_FUZZ_CHECK(y == y0 || std::memcmp(y.data(), y0.data(), y.size() * 4) == 0);
      MAAS_FUZZ_CHECK(k == k0);
      continue;
    }
    MAAS_FUZZ_CHECK(owned.ok());
    const maas::Tensor* ty = owned->FindOutput("y");
    MAAS_FUZZ_CHECK(ty != nullptr);
    auto v = ty->data<float>();
    MAAS_FUZZ_CHECK(v.size() == y.size());
    for (std::size_t i = 0; i < y.size(); ++i) MAAS_FUZZ_CHECK(maas_fuzz::SameBits(v[i], y[i]));
    if (two_outputs) {
      const maas::Tensor* tk = owned->FindOutput("k");
      MAAS_FUZZ_CHECK(tk != nullptr);
      auto w = tk->data<std::int64_t>();
      MAAS_FUZZ_CHECK(w.size() == k.size());
      for (std::size_t i = 0; i < k.size(); ++i) MAAS_FUZZ_CHECK(w[i] == k[i]);
    }
  }
  (void)maas::TfServingErrorMessage(text);
  return 0;
}
