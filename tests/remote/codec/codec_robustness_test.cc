// Robustness sweep: every fixture is cut at every byte offset and mutated at
// every byte; the decoders must return a status (never crash, never read
// out of bounds: run under ASan/UBSan too) and must reject every strict
// prefix of a complete JSON reply.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "doctest/doctest.h"
#include "fixture.h"
#include "maas/remote/kserve_v2_codec.h"
#include "maas/remote/tf_serving_v1_codec.h"
#include "testing/status_doctest.h"

namespace {

using maas::DataType;
using maas::TensorView;
using maas_test::ReadFixture;

constexpr char kMutations[] = {'}', ']', '"', '[', '{', ',', ':', '9', '-', 'e', '.', 'N', '\\', '\0',
                               '\xff', ' '};

// Runs `decode` on every strict prefix and on every single-byte mutation of
// `body`; returns how many prefixes were (wrongly) accepted.
template <typename F>
int Sweep(const std::string& body, F decode) {
  int accepted_prefixes = 0;
  for (std::size_t n = 0; n < body.size(); ++n) {
    // A heap copy of exactly n bytes, so ASan sees any read past the end.
    std::vector<char> cut(body.begin(), body.begin() + static_cast<std::ptrdiff_t>(n));
    if (decode(absl::string_view(cut.data(), cut.size()), /*prefix=*/true)) ++accepted_prefixes;
  }
  std::string m = body;
  for (std::size_t i = 0; i < body.size(); ++i) {
    for (char c : kMutations) {
      if (body[i] == c) continue;
      m[i] = c;
      std::vector<char> copy(m.begin(), m.end());
      decode(absl::string_view(copy.data(), copy.size()), /*prefix=*/false);
    }
    m[i] = body[i];
  }
  return accepted_prefixes;
}

// Prefixes that are whole JSON values plus trailing blanks may be accepted.
bool IsBlankTail(const std::string& body, std::size_t n) {
  for (std::size_t i = n; i < body.size(); ++i) {
    if (body[i] != ' ' && body[i] != '\n' && body[i] != '\r' && body[i] != '\t') return false;
  }
  return true;
}

}  // namespace

TEST_SUITE("CodecRobustness") {

TEST_CASE("KServe V2 reply decoders survive truncation and mutation of every fixture") {
  maas::ModelSignature sig;
  sig.outputs = {{"output0", DataType::kFloat32, {maas::kDynamic, 2}},
                 {"output1", DataType::kFloat32, {2, 2}}};
  for (const char* name : {"kserve_v2/spec_infer_response.json", "kserve_v2/triton_response.json",
                           "kserve_v2/kserve_response.json", "kserve_v2/mlserver_response.json",
                           "kserve_v2/nested_response.json", "kserve_v2/nan_inf_response.json"}) {
    CAPTURE(name);
    std::string body = ReadFixture(name);
    while (!body.empty() && IsBlankTail(body, body.size() - 1)) body.pop_back();
    float o0[6];
    const int accepted = Sweep(body, [&](absl::string_view b, bool prefix) {
      absl::StatusOr<maas::InferResult> r = maas::KServeV2DecodeInferResponse(b, 0);
      if (!r.ok()) CHECK(!r.status().message().empty());
      absl::Status s = maas::KServeV2DecodeInferResponseInto(
          b, 0, sig, 3,
          {TensorView("output0", absl::MakeSpan(o0), {3, 2})});
      (void)s;
      (void)prefix;
      return r.ok();
    });
    CHECK(accepted == 0);
  }
}

TEST_CASE("KServe V2 binary replies survive truncation, mutation and bad header lengths") {
  std::string header = ReadFixture("kserve_v2/binary_response_header.json");
  while (!header.empty() && IsBlankTail(header, header.size() - 1)) header.pop_back();
  const float out0[6] = {1, 2, 3, 4, 5, 6};
  std::string body = header;
  body.append(reinterpret_cast<const char*>(out0), sizeof(out0));
  maas::ModelSignature sig;
  sig.outputs = {{"output0", DataType::kFloat32, {3, 2}}, {"output1", DataType::kFloat32, {2, 2}}};
  float o0[6], o1[4];
  for (std::size_t header_length : {header.size(), std::size_t{0}, header.size() - 1,
                                    header.size() + 1, body.size(), body.size() + 1}) {
    CAPTURE(header_length);
    int accepted = Sweep(body, [&](absl::string_view b, bool) {
      absl::StatusOr<maas::InferResult> r = maas::KServeV2DecodeInferResponse(b, header_length);
      absl::Status s = maas::KServeV2DecodeInferResponseInto(
          b, header_length, sig, 3,
          {TensorView("output0", absl::MakeSpan(o0), {3, 2}),
           TensorView("output1", absl::MakeSpan(o1), {2, 2})});
      // Into needs the signature's names, so it may reject what the
      // allocating decode accepts, never the other way round.
      if (s.ok()) CHECK(r.ok());
      return r.ok();
    });
    // A cut body never carries all 24 binary bytes.
    CHECK(accepted == 0);
  }
}

TEST_CASE("TF Serving reply decoders survive truncation and mutation of every fixture") {
  maas::ModelSignature multi;
  multi.outputs = {{"classes", DataType::kInt64, {maas::kDynamic}},
                   {"scores", DataType::kFloat32, {maas::kDynamic, 2}}};
  maas::ModelSignature single;
  single.outputs = {{"y", DataType::kFloat32, {maas::kDynamic}}};
  maas::ModelSignature bytes;
  bytes.outputs = {{"s", DataType::kBytes, {maas::kDynamic}}};
  struct Fixture {
    const char* name;
    const maas::ModelSignature* sig;
    std::int64_t batch;
  };
  const Fixture fixtures[] = {
      {"tf_serving_v1/half_plus_two_response.json", &single, 3},
      {"tf_serving_v1/nan_inf_response.json", &single, 4},
      {"tf_serving_v1/row_multi_output_response.json", &multi, 2},
      {"tf_serving_v1/columnar_multi_output_response.json", &multi, 2},
      {"tf_serving_v1/bytes_response.json", &bytes, 3},
  };
  std::int64_t classes[2];
  float scores[4];
  for (const Fixture& f : fixtures) {
    CAPTURE(f.name);
    std::string body = ReadFixture(f.name);
    while (!body.empty() && IsBlankTail(body, body.size() - 1)) body.pop_back();
    REQUIRE(maas::TfServingDecodePredictResponse(body, *f.sig, f.batch).ok());
    const int accepted = Sweep(body, [&](absl::string_view b, bool) {
      absl::StatusOr<maas::InferResult> r = maas::TfServingDecodePredictResponse(b, *f.sig, f.batch);
      if (f.sig == &multi) {
        absl::Status s = maas::TfServingDecodePredictResponseInto(
            b, multi, 2,
            {TensorView("classes", absl::MakeSpan(classes), {2}),
             TensorView("scores", absl::MakeSpan(scores), {2, 2})});
        CHECK(s.ok() == r.ok());
      }
      return r.ok();
    });
    CHECK(accepted == 0);
  }
}

TEST_CASE("metadata decoders survive truncation and mutation") {
  for (const char* name : {"kserve_v2/triton_model_metadata.json", "kserve_v2/triton_server_metadata.json",
                           "kserve_v2/repository_index.json", "tf_serving_v1/model_status.json"}) {
    CAPTURE(name);
    const std::string body = ReadFixture(name);
    Sweep(body, [&](absl::string_view b, bool) {
      const bool a = maas::KServeV2DecodeModelMetadata(b).ok();
      const bool c = maas::KServeV2DecodeServerMetadata(b).ok();
      const bool d = maas::KServeV2DecodeRepositoryIndex(b).ok();
      const bool e = maas::TfServingDecodeModelStatus(b).ok();
      (void)maas::KServeV2ErrorMessage(b);
      return a || c || d || e;
    });
  }
  // TF metadata is larger: truncation only.
  const std::string meta = ReadFixture("tf_serving_v1/model_metadata.json");
  for (std::size_t n = 0; n + 2 < meta.size(); ++n) {
    std::vector<char> cut(meta.begin(), meta.begin() + static_cast<std::ptrdiff_t>(n));
    CHECK(!maas::TfServingDecodeModelMetadata(absl::string_view(cut.data(), cut.size())).ok());
  }
}

TEST_CASE("deeply nested JSON is an error, not a stack overflow") {
  const std::string deep = "{\"x\":" + std::string(100000, '[') + std::string(100000, ']') +
                           ",\"outputs\":[]}";
  absl::StatusOr<maas::InferResult> r = maas::KServeV2DecodeInferResponse(deep, 0);
  CHECK(r.status().code() == absl::StatusCode::kDataLoss);
  CHECK(r.status().message().find("nested too deeply") != absl::string_view::npos);
  maas::ModelSignature sig;
  sig.outputs = {{"y", DataType::kFloat32, {maas::kDynamic}}};
  const std::string tf = "{\"predictions\":" + std::string(100000, '[') + "1" +
                         std::string(100000, ']') + "}";
  CHECK(maas::TfServingDecodePredictResponse(tf, sig, 1).status().code() ==
        absl::StatusCode::kDataLoss);
}

}  // TEST_SUITE
