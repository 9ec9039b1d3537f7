// Fuzz target: the KServe V2 reply decoders (JSON and binary-extension
// framing). Contract, checked on every input:
//  * no crash, no read outside the body (ASan), no exception;
//  * KServeV2DecodeInferResponseInto() either fails leaving every caller
//    buffer untouched, or succeeds with exactly the values the independent
//    owning decoder (KServeV2DecodeInferResponse) reads from the same bytes.
// Input: byte 0 chooses the header length mode (0: pure JSON; else the JSON
// header is the first (byte1 | byte2 << 8) bytes of the rest).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_common.h"
#include "maas/remote/kserve_v2_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  std::size_t header_length = 0;
  if (data[0] & 1) header_length = data[1] | (static_cast<std::size_t>(data[2]) << 8);
  const std::vector<char> body(data + 3, data + size);  // exact-size heap copy
  const absl::string_view text(body.data(), body.size());

  absl::StatusOr<maas::InferResult> owned = maas::KServeV2DecodeInferResponse(text, header_length);

  maas::ModelSignature sig;
  sig.outputs = {{"y", maas::DataType::kFloat32, {maas::kDynamic, 2}},
                 {"z", maas::DataType::kFloat64, {maas::kDynamic, 3}}};
  for (std::int64_t batch : {1, 2}) {
    std::vector<float> y(static_cast<std::size_t>(2 * batch), -7.0f);
    std::vector<double> z(static_cast<std::size_t>(3 * batch), -7.0);
    const std::vector<float> y0 = y;
    const std::vector<double> z0 = z;
    absl::Status s = maas::KServeV2DecodeInferResponseInto(
        text, header_length, sig, batch,
        {maas::TensorView("y", absl::MakeSpan(y), {batch, 2}),
         maas::TensorView("z", absl::MakeSpan(z), {batch, 3})});
    if (!s.ok()) {
      MAAS_FUZZ_CHECK(!s.message().empty());
      MAAS_FUZZ_CHECK(std::memcmp(y.data(), y0.data(), y.size() * sizeof(float)) == 0);
      MAAS_FUZZ_CHECK(std::memcmp(z.data(), z0.data(), z.size() * sizeof(double)) == 0);
      continue;
    }
    // Success: the owning decoder read the same reply, with the same values
    // (converted to the view's type where the reply's differs).
    MAAS_FUZZ_CHECK(owned.ok());
    const maas::Tensor* ty = owned->FindOutput("y");
    const maas::Tensor* tz = owned->FindOutput("z");
    MAAS_FUZZ_CHECK(ty != nullptr && tz != nullptr);
    MAAS_FUZZ_CHECK(ty->shape() == maas::Shape({batch, 2}));
    MAAS_FUZZ_CHECK(tz->shape() == maas::Shape({batch, 3}));
    if (ty->dtype() == maas::DataType::kFloat32) {
      auto v = ty->data<float>();
      MAAS_FUZZ_CHECK(v.size() == y.size());
      for (std::size_t i = 0; i < y.size(); ++i) MAAS_FUZZ_CHECK(maas_fuzz::SameBits(v[i], y[i]));
    }
    if (tz->dtype() == maas::DataType::kFloat64) {
      auto v = tz->data<double>();
      MAAS_FUZZ_CHECK(v.size() == z.size());
      for (std::size_t i = 0; i < z.size(); ++i) MAAS_FUZZ_CHECK(maas_fuzz::SameBits(v[i], z[i]));
    }
  }
  (void)maas::KServeV2ErrorMessage(text);
  return 0;
}
