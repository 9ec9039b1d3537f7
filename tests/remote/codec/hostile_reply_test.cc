// Replies a hostile or broken server could send, each one a defect found in
// review (issue 7 items 1-2): repeated keys that made the one-pass V2 decoder
// copy past its buffer and succeed with garbage, and deep nesting that
// overflowed the stack while an error body or metadata was printed. Every
// case must come back as a status, with the caller's outputs untouched.

#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "doctest/doctest.h"
#include "maas/remote/kserve_v2_codec.h"
#include "maas/remote/tf_serving_v1_codec.h"
#include "testing/status_doctest.h"

namespace {

using maas::DataType;
using maas::TensorView;

std::string Nested(std::size_t depth, const std::string& leaf = "1") {
  return std::string(depth, '[') + leaf + std::string(depth, ']');
}

maas::ModelSignature Sig(DataType dtype, std::int64_t width) {
  maas::ModelSignature sig;
  sig.inputs = {{"x", DataType::kFloat32, {maas::kDynamic, 1}}};
  sig.outputs = {{"y", dtype, {maas::kDynamic, width}}};
  return sig;
}

// Decodes `body` into a 1 x width view of `dtype` pre-filled with a marker;
// returns the status and whether the view still holds only the marker.
template <typename T>
absl::Status DecodeInto(const std::string& body, std::int64_t width, bool* untouched) {
  std::vector<T> y(static_cast<std::size_t>(width), T(-7));
  // Heap copy of exactly the body, so ASan sees any read past its end.
  std::vector<char> copy(body.begin(), body.end());
  absl::Status s = maas::KServeV2DecodeInferResponseInto(
      absl::string_view(copy.data(), copy.size()), 0, Sig(maas::DataTypeOf<T>(), width), 1,
      {TensorView("y", absl::MakeSpan(y), {1, width})});
  *untouched = true;
  for (T v : y) *untouched = *untouched && v == T(-7);
  return s;
}

}  // namespace

TEST_SUITE("HostileReply") {

TEST_CASE("a datatype repeated after the data is kDataLoss naming the key, never a copy past the buffer") {
  // Decoded as two FP32 values (8 bytes), then relabelled FP64: the old
  // decoder copied 16 bytes out of the 8-byte buffer and returned OK.
  const std::string body =
      R"({"model_name":"m","outputs":[{"name":"y","datatype":"FP32","shape":[1,2],)"
      R"("data":[1,2],"datatype":"FP64"}]})";
  bool untouched = false;
  absl::Status s = DecodeInto<double>(body, 2, &untouched);
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK(absl::StrContains(s.message(), "datatype"));
  CHECK(untouched);
  absl::StatusOr<maas::InferResult> r = maas::KServeV2DecodeInferResponse(body, 0);
  CHECK(r.status().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("every interpreted key of an output object may appear only once") {
  const char* cases[][2] = {
      {"shape", R"({"outputs":[{"name":"y","datatype":"FP32","shape":[1,2],"data":[1,2],"shape":[2,1]}]})"},
      {"data", R"({"outputs":[{"name":"y","datatype":"FP32","shape":[1,2],"data":[1,2],"data":[3,4]}]})"},
      {"name", R"({"outputs":[{"name":"z","datatype":"FP32","shape":[1,2],"data":[1,2],"name":"y"}]})"},
      {"binary_data_size", R"({"outputs":[{"name":"y","datatype":"FP32","shape":[1,2],)"
                           R"("parameters":{"binary_data_size":8,"binary_data_size":4}}]})"},
      {"parameters", R"({"outputs":[{"name":"y","datatype":"FP32","shape":[1,2],"data":[1,2],)"
                     R"("parameters":{},"parameters":{}}]})"},
      {"outputs", R"({"outputs":[{"name":"y","datatype":"FP32","shape":[1,2],"data":[1,2]}],)"
                  R"("outputs":[{"name":"y","datatype":"FP32","shape":[1,2],"data":[5,6]}]})"},
  };
  for (const auto& c : cases) {
    CAPTURE(c[0]);
    bool untouched = false;
    absl::Status s = DecodeInto<float>(c[1], 2, &untouched);
    CHECK(s.code() == absl::StatusCode::kDataLoss);
    CHECK(absl::StrContains(s.message(), c[0]));
    CHECK(untouched);
    CHECK(maas::KServeV2DecodeInferResponse(c[1], 0).status().code() ==
          absl::StatusCode::kDataLoss);
  }
}

TEST_CASE("two outputs with the same name are kDataLoss") {
  const std::string body =
      R"({"outputs":[{"name":"y","datatype":"FP32","shape":[1,2],"data":[1,2]},)"
      R"({"name":"y","datatype":"FP32","shape":[1,2],"data":[3,4]}]})";
  bool untouched = false;
  absl::Status s = DecodeInto<float>(body, 2, &untouched);
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK(absl::StrContains(s.message(), "'y'"));
  CHECK(untouched);
  CHECK(maas::KServeV2DecodeInferResponse(body, 0).status().code() ==
        absl::StatusCode::kDataLoss);
}

TEST_CASE("TF Serving replies with a repeated predictions/outputs key are kDataLoss") {
  maas::ModelSignature sig = Sig(DataType::kFloat32, 2);
  for (const char* body : {R"({"predictions":[[1,2]],"predictions":[[3,4]]})",
                           R"({"outputs":[[1,2]],"outputs":[[3,4]]})",
                           R"({"predictions":[[1,2]],"outputs":[[3,4]]})"}) {
    CAPTURE(body);
    std::vector<float> y = {-7, -7};
    absl::Status s = maas::TfServingDecodePredictResponseInto(
        body, sig, 1, {TensorView("y", absl::MakeSpan(y), {1, 2})});
    CHECK(s.code() == absl::StatusCode::kDataLoss);
    CHECK(y == std::vector<float>{-7, -7});
  }
}

TEST_CASE("a deeply nested error body gives a short message, not a stack overflow") {
  for (std::size_t depth : {std::size_t{100}, std::size_t{200000}}) {
    CAPTURE(depth);
    const std::string body = "{\"error\":" + Nested(depth) + "}";
    const std::string m = maas::KServeV2ErrorMessage(body);
    CHECK(m.size() <= 520);
    const std::string t = maas::TfServingErrorMessage(body);
    CHECK(t.size() <= 520);
  }
}

TEST_CASE("an error text is cut to 512 bytes and made printable") {
  const std::string long_text(100000, 'x');
  std::string m = maas::KServeV2ErrorMessage("{\"error\":\"" + long_text + "\"}");
  CHECK(m.size() <= 515);
  m = maas::KServeV2ErrorMessage("{\"error\":\"line1\\r\\nInjected: yes\\u001b[31m\"}");
  CHECK(m.find('\r') == std::string::npos);
  CHECK(m.find('\n') == std::string::npos);
  CHECK(m.find('\x1b') == std::string::npos);
  CHECK(absl::StrContains(m, "line1"));
  // A huge body that is not JSON is cut the same way.
  m = maas::KServeV2ErrorMessage(std::string(10 << 20, '<'));
  CHECK(m.size() <= 515);
}

TEST_CASE("deeply nested model and server metadata are kDataLoss, not a stack overflow") {
  const std::string shape = Nested(200000);
  const std::string md = R"({"name":"m","inputs":[{"name":"x","datatype":"FP32","shape":)" + shape +
                         R"(}],"outputs":[]})";
  CHECK(maas::KServeV2DecodeModelMetadata(md).status().code() == absl::StatusCode::kDataLoss);
  const std::string server = R"({"name":"s","version":)" + Nested(200000) + "}";
  CHECK(maas::KServeV2DecodeServerMetadata(server).status().code() ==
        absl::StatusCode::kDataLoss);
  const std::string index = "[" + Nested(200000, "{}") + "]";
  CHECK(maas::KServeV2DecodeRepositoryIndex(index).status().code() ==
        absl::StatusCode::kDataLoss);
  const std::string tf = R"({"metadata":{"signature_def":{"signature_def":{"serving_default":{"inputs":{"x":{"dtype":)" +
                         Nested(200000) + "}}}}}}}";
  CHECK(maas::TfServingDecodeModelMetadata(tf, "serving_default").status().code() ==
        absl::StatusCode::kDataLoss);
}

TEST_CASE("metadata with a repeated key is kDataLoss naming it") {
  const std::string md =
      R"({"name":"m","inputs":[{"name":"x","datatype":"FP32","shape":[-1,2],"shape":[-1,3]}],"outputs":[]})";
  absl::StatusOr<maas::ModelMetadata> r = maas::KServeV2DecodeModelMetadata(md);
  CHECK(r.status().code() == absl::StatusCode::kDataLoss);
  CHECK(absl::StrContains(r.status().message(), "shape"));
  const std::string index = R"([{"name":"a","state":"READY","state":"UNAVAILABLE"}])";
  CHECK(maas::KServeV2DecodeRepositoryIndex(index).status().code() ==
        absl::StatusCode::kDataLoss);
}

}  // TEST_SUITE
