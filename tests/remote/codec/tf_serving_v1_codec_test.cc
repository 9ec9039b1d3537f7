// TF Serving REST v1 codec: fixtures from tensorflow_serving/g3doc/api_rest.md
// (see data/tf_serving_v1/README.md), round trips, shapes from nesting, and
// failures.

#include "maas/remote/tf_serving_v1_codec.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "doctest/doctest.h"
#include "fixture.h"
#include "testing/status_doctest.h"

namespace {

using maas::ConstTensorView;
using maas::DataType;
using maas::TensorView;
using maas::TfServingFormat;
using maas_test::ParseStrict;
using maas_test::ReadFixture;

maas::ModelSignature Sig(std::vector<maas::TensorSpec> outputs) {
  maas::ModelSignature sig;
  sig.name = "m";
  sig.outputs = std::move(outputs);
  return sig;
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  const std::size_t at = s.find(from);
  REQUIRE(at != std::string::npos);
  s.replace(at, from.size(), to);
  return s;
}

}  // namespace

TEST_SUITE("TfServingV1Codec") {

TEST_CASE("encodes the half_plus_two request in row and columnar form") {
  const float x[3] = {1.0f, 2.0f, 5.0f};
  const ConstTensorView in("x", absl::MakeConstSpan(x), {3});
  maas::EncodedRequest req;
  REQUIRE(maas::TfServingEncodePredictRequest({in}, TfServingFormat::kRow, "", &req).ok());
  CHECK(req.header_length == 0);
  CHECK(req.content_type == "application/json");
  CHECK(ParseStrict(req.body) == ParseStrict(ReadFixture("tf_serving_v1/half_plus_two_request.json")));
  REQUIRE(maas::TfServingEncodePredictRequest({in}, TfServingFormat::kColumnar, "", &req).ok());
  CHECK(ParseStrict(req.body) == nlohmann::json{{"inputs", {1.0, 2.0, 5.0}}});
}

TEST_CASE("encodes several named inputs as the doc's row and columnar examples") {
  const std::int64_t signal[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  const std::int32_t sensor[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  const std::vector<ConstTensorView> in = {
      ConstTensorView("signal", absl::MakeConstSpan(signal), {2, 5}),
      ConstTensorView("sensor", absl::MakeConstSpan(sensor), {2, 2, 2})};
  maas::EncodedRequest req;
  REQUIRE(maas::TfServingEncodePredictRequest(in, TfServingFormat::kRow, "predict_signal", &req).ok());
  CHECK(ParseStrict(req.body) == ParseStrict(ReadFixture("tf_serving_v1/row_multi_input_request.json")));
  REQUIRE(maas::TfServingEncodePredictRequest(in, TfServingFormat::kColumnar, "predict_signal", &req)
              .ok());
  CHECK(ParseStrict(req.body) ==
        ParseStrict(ReadFixture("tf_serving_v1/columnar_multi_input_request.json")));
}

TEST_CASE("rejects requests TF Serving cannot take") {
  const float x[4] = {};
  const float y[3] = {};
  maas::EncodedRequest req;
  CHECK(maas::TfServingEncodePredictRequest({}, TfServingFormat::kRow, "", &req).code() ==
        absl::StatusCode::kInvalidArgument);
  absl::Status s = maas::TfServingEncodePredictRequest(
      {ConstTensorView("a", absl::MakeConstSpan(x), {4}),
       ConstTensorView("b", absl::MakeConstSpan(y), {3})},
      TfServingFormat::kRow, "", &req);
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.message().find("batch size 3 differs from 4") != absl::string_view::npos);
  CHECK(maas::TfServingEncodePredictRequest({ConstTensorView("a", absl::MakeConstSpan(x), {4}),
                                             ConstTensorView("", absl::MakeConstSpan(y), {3})},
                                            TfServingFormat::kColumnar, "", &req)
            .code() == absl::StatusCode::kInvalidArgument);
  CHECK(maas::TfServingEncodePredictRequest({ConstTensorView("a", absl::MakeConstSpan(x, 1), {})},
                                            TfServingFormat::kRow, "", &req)
            .code() == absl::StatusCode::kInvalidArgument);
  CHECK(maas::TfServingEncodePredictRequest({ConstTensorView("a", absl::MakeConstSpan(x), {5})},
                                            TfServingFormat::kRow, "", &req)
            .code() == absl::StatusCode::kInvalidArgument);
  const std::uint16_t h[1] = {0};
  CHECK(maas::TfServingEncodePredictRequest({ConstTensorView("h", DataType::kFloat16, {1}, h, 2)},
                                            TfServingFormat::kRow, "", &req)
            .code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("decodes the half_plus_two response with names and types from the signature") {
  const maas::ModelSignature sig = Sig({{"y", DataType::kFloat32, {maas::kDynamic}}});
  absl::StatusOr<maas::InferResult> r = maas::TfServingDecodePredictResponse(
      ReadFixture("tf_serving_v1/half_plus_two_response.json"), sig, 3);
  REQUIRE(r.ok());
  CHECK(r->model_name == "m");
  REQUIRE(r->outputs.size() == 1);
  CHECK(r->outputs[0].name() == "y");
  CHECK(r->outputs[0].shape() == maas::Shape{3});
  CHECK(r->outputs[0].data<float>()[2] == 4.5f);
}

TEST_CASE("decodes several outputs from per-row objects and from columnar objects") {
  const maas::ModelSignature sig = Sig({{"classes", DataType::kInt64, {maas::kDynamic}},
                                        {"scores", DataType::kFloat32, {maas::kDynamic, 2}}});
  for (const char* fixture : {"tf_serving_v1/row_multi_output_response.json",
                              "tf_serving_v1/columnar_multi_output_response.json"}) {
    CAPTURE(fixture);
    absl::StatusOr<maas::InferResult> r =
        maas::TfServingDecodePredictResponse(ReadFixture(fixture), sig, 2);
    REQUIRE(r.ok());
    REQUIRE(r->outputs.size() == 2);
    CHECK(r->outputs[0].shape() == maas::Shape{2});
    CHECK(r->outputs[0].data<std::int64_t>()[0] == 1);
    CHECK(r->outputs[0].data<std::int64_t>()[1] == 0);
    CHECK(r->outputs[1].shape() == maas::Shape{2, 2});
    const float want[4] = {0.25f, 0.75f, 0.875f, 0.125f};
    CHECK(std::memcmp(r->outputs[1].bytes().data(), want, sizeof(want)) == 0);
  }
}

TEST_CASE("takes shapes from the nesting, with size-1 dimensions reconciled") {
  SUBCASE("columnar bare tensor [3,1]") {
    absl::StatusOr<maas::InferResult> r = maas::TfServingDecodePredictResponse(
        ReadFixture("tf_serving_v1/columnar_single_output_response.json"),
        Sig({{"y", DataType::kFloat32, {maas::kDynamic, 1}}}), 3);
    REQUIRE(r.ok());
    CHECK(r->outputs[0].shape() == maas::Shape{3, 1});
  }
  SUBCASE("KServe V1 sklearn [2] for a [-1,1] signature") {
    absl::StatusOr<maas::InferResult> r = maas::TfServingDecodePredictResponse(
        ReadFixture("tf_serving_v1/kserve_v1_sklearn_response.json"),
        Sig({{"predict", DataType::kInt64, {maas::kDynamic, 1}}}), 2);
    REQUIRE(r.ok());
    CHECK(r->outputs[0].shape() == maas::Shape{2, 1});
    CHECK(r->outputs[0].data<std::int64_t>()[1] == 1);
  }
  SUBCASE("dynamic inner dimension") {
    absl::StatusOr<maas::InferResult> r = maas::TfServingDecodePredictResponse(
        R"({"predictions":[[1,2,3],[4,5,6]]})",
        Sig({{"y", DataType::kFloat64, {maas::kDynamic, maas::kDynamic}}}), 2);
    REQUIRE(r.ok());
    CHECK(r->outputs[0].shape() == maas::Shape{2, 3});
  }
  SUBCASE("a wrong batch size is kDataLoss") {
    absl::StatusOr<maas::InferResult> r = maas::TfServingDecodePredictResponse(
        R"({"predictions":[1,2,3]})", Sig({{"y", DataType::kFloat32, {maas::kDynamic}}}), 2);
    CHECK(r.status().code() == absl::StatusCode::kDataLoss);
    CHECK(r.status().message().find("shape [3] (3 values), expected [2]") != absl::string_view::npos);
  }
}

TEST_CASE("reads NaN/Infinity tokens and writes them") {
  absl::StatusOr<maas::InferResult> r = maas::TfServingDecodePredictResponse(
      ReadFixture("tf_serving_v1/nan_inf_response.json"),
      Sig({{"y", DataType::kFloat32, {maas::kDynamic}}}), 4);
  REQUIRE(r.ok());
  absl::Span<const float> y = r->outputs[0].data<float>();
  CHECK(std::isnan(y[0]));
  CHECK(y[1] == std::numeric_limits<float>::infinity());
  CHECK(y[2] == -std::numeric_limits<float>::infinity());
  CHECK(std::signbit(y[3]));
  const double v[3] = {std::numeric_limits<double>::quiet_NaN(),
                       std::numeric_limits<double>::infinity(),
                       -std::numeric_limits<double>::infinity()};
  maas::EncodedRequest req;
  REQUIRE(maas::TfServingEncodePredictRequest({ConstTensorView("x", absl::MakeConstSpan(v), {3})},
                                              TfServingFormat::kRow, "", &req)
              .ok());
  CHECK(req.body == R"({"instances":[NaN,Infinity,-Infinity]})");
}

TEST_CASE("columnar round trip is bit-exact for nested float tensors") {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> d(-1e6f, 1e6f);
  std::vector<float> x(2 * 3 * 4);
  for (float& v : x) v = d(rng) * 1e-3f;
  const maas::ModelSignature sig = Sig({{"x", DataType::kFloat32, {maas::kDynamic, 3, 4}}});
  maas::EncodedRequest req;
  REQUIRE(maas::TfServingEncodePredictRequest({ConstTensorView("x", absl::MakeConstSpan(x), {2, 3, 4})},
                                              TfServingFormat::kColumnar, "", &req)
              .ok());
  const std::string reply = Replace(req.body, "\"inputs\"", "\"outputs\"");
  absl::StatusOr<maas::InferResult> r = maas::TfServingDecodePredictResponse(reply, sig, 2);
  REQUIRE(r.ok());
  CHECK(r->outputs[0].shape() == maas::Shape{2, 3, 4});
  CHECK(std::memcmp(r->outputs[0].bytes().data(), x.data(), x.size() * sizeof(float)) == 0);
  // Row form of the same tensor reads back the same way.
  REQUIRE(maas::TfServingEncodePredictRequest({ConstTensorView("x", absl::MakeConstSpan(x), {2, 3, 4})},
                                              TfServingFormat::kRow, "", &req)
              .ok());
  r = maas::TfServingDecodePredictResponse(Replace(req.body, "\"instances\"", "\"predictions\""),
                                           sig, 2);
  REQUIRE(r.ok());
  CHECK(std::memcmp(r->outputs[0].bytes().data(), x.data(), x.size() * sizeof(float)) == 0);
}

TEST_CASE("BYTES as strings and b64 objects, both ways") {
  absl::StatusOr<maas::InferResult> r = maas::TfServingDecodePredictResponse(
      ReadFixture("tf_serving_v1/bytes_response.json"),
      Sig({{"s", DataType::kBytes, {maas::kDynamic}}}), 3);
  REQUIRE(r.ok());
  const std::string want = std::string("\x03\0\0\0foo", 7) + std::string("\x03\0\0\0\x00\xff\x10", 7) +
                           std::string("\x06\0\0\0d\xc3\xa9j\xc3\xa0", 10);
  REQUIRE(r->outputs[0].byte_size() == want.size());
  CHECK(std::memcmp(r->outputs[0].bytes().data(), want.data(), want.size()) == 0);
  maas::EncodedRequest req;
  REQUIRE(maas::TfServingEncodePredictRequest(
              {ConstTensorView("s", DataType::kBytes, {3}, want.data(), want.size())},
              TfServingFormat::kRow, "", &req)
              .ok());
  CHECK(ParseStrict(req.body) ==
        nlohmann::json{{"instances", {"foo", {{"b64", "AP8Q"}}, "d\xc3\xa9j\xc3\xa0"}}});
}

TEST_CASE("malformed or mismatched replies are kDataLoss") {
  const maas::ModelSignature two = Sig({{"a", DataType::kFloat32, {maas::kDynamic}},
                                        {"b", DataType::kInt32, {maas::kDynamic}}});
  const maas::ModelSignature one = Sig({{"a", DataType::kFloat32, {maas::kDynamic, 2}}});
  struct Case {
    const char* body;
    const maas::ModelSignature* sig;
    const char* needle;
  };
  const Case cases[] = {
      {"", &one, "expected a JSON object"},
      {R"({"predictions":[[1,2],[3,4])", &one, "malformed JSON"},
      {R"({"predictions":[[1,2],[3]]})", &one, "ragged"},
      {R"({"predictions":[[1,2],[3,"x"]]})", &one, "expected a number"},
      {R"({"result":[1]})", &one, "no 'predictions' or 'outputs'"},
      {R"({"error":"Servable not found"})", &one, "error: Servable not found"},
      {R"({"predictions":[1],"outputs":[1]})", &one, "both"},
      {R"({"predictions":[1,2]})", &two, "not an object keyed by output name"},
      {R"({"predictions":[{"a":1}]})", &two, "row 0 has no output 'b'"},
      {R"({"outputs":{"a":[1]}})", &two, "'outputs' has no output 'b'"},
      {R"({"outputs":[1,2]})", &two, "bare tensor but the model has 2 outputs"},
      {R"({"outputs":{"a":[1.5],"b":[2.5]}})", &two, "does not fit INT32"},
      {R"({"predictions":[[[[[[[[[[1]]]]]]]]]]})", &one, "nested deeper"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.body);
    absl::StatusOr<maas::InferResult> r = maas::TfServingDecodePredictResponse(c.body, *c.sig, 1);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == absl::StatusCode::kDataLoss);
    CHECK_MESSAGE(r.status().message().find(c.needle) != absl::string_view::npos,
                  r.status().message());
  }
}

TEST_CASE("DecodeInto writes only when the whole reply is good") {
  const maas::ModelSignature sig = Sig({{"classes", DataType::kInt64, {maas::kDynamic}},
                                        {"scores", DataType::kFloat32, {maas::kDynamic, 2}}});
  std::int64_t classes[2] = {-7, -7};
  float scores[4] = {-7, -7, -7, -7};
  const std::vector<TensorView> views = {TensorView("scores", absl::MakeSpan(scores), {2, 2}),
                                         TensorView("classes", absl::MakeSpan(classes), {2})};
  absl::Status s = maas::TfServingDecodePredictResponseInto(
      R"({"outputs":{"scores":[[1,2],[3,4]],"classes":[1,0.5]}})", sig, 2, views);
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK(scores[0] == -7.0f);
  CHECK(classes[0] == -7);
  s = maas::TfServingDecodePredictResponseInto(R"({"outputs":{"scores":[[1,2],[3,4]],"classes":[1]}})",
                                               sig, 2, views);
  CHECK(s.code() == absl::StatusCode::kDataLoss);
  CHECK(scores[0] == -7.0f);
  s = maas::TfServingDecodePredictResponseInto(
      R"({"outputs":{"scores":[[1,2],[3,4]],"classes":[1,0]}})", sig, 3, views);
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  REQUIRE(maas::TfServingDecodePredictResponseInto(
              ReadFixture("tf_serving_v1/row_multi_output_response.json"), sig, 2, views)
              .ok());
  CHECK(scores[2] == 0.875f);
  CHECK(classes[0] == 1);
  // An output the caller does not ask for may be missing.
  std::int64_t only[2] = {};
  REQUIRE(maas::TfServingDecodePredictResponseInto(R"({"outputs":{"classes":[5,6]}})", sig, 2,
                                                   {TensorView("classes", absl::MakeSpan(only), {2})})
              .ok());
  CHECK(only[1] == 6);
}

TEST_CASE("decodes model status and metadata") {
  absl::StatusOr<std::vector<maas::TfServingModelVersionStatus>> st =
      maas::TfServingDecodeModelStatus(ReadFixture("tf_serving_v1/model_status.json"));
  REQUIRE(st.ok());
  REQUIRE(st->size() == 2);
  CHECK((*st)[0].version == "123");
  CHECK((*st)[0].state == "AVAILABLE");
  CHECK((*st)[0].error_code == "OK");
  CHECK((*st)[1].state == "LOADING");
  CHECK(maas::TfServingDecodeModelStatus("{}").status().code() == absl::StatusCode::kDataLoss);

  const std::string meta = ReadFixture("tf_serving_v1/model_metadata.json");
  absl::StatusOr<maas::ModelMetadata> md = maas::TfServingDecodeModelMetadata(meta);
  REQUIRE(md.ok());
  CHECK(md->name == "half_plus_two");
  CHECK(md->versions == std::vector<std::string>{"123"});
  REQUIRE(md->inputs.size() == 2);
  CHECK(md->inputs[0] == maas::TensorSpec{"count", DataType::kInt64, {maas::kDynamic}});
  CHECK(md->inputs[1] == maas::TensorSpec{"x", DataType::kFloat32, {maas::kDynamic, 1}});
  REQUIRE(md->outputs.size() == 1);
  CHECK(md->outputs[0] == maas::TensorSpec{"y", DataType::kFloat32, {maas::kDynamic, 1}});
  absl::Status missing = maas::TfServingDecodeModelMetadata(meta, "nope").status();
  CHECK(missing.code() == absl::StatusCode::kNotFound);
  CHECK(missing.message().find("classify_x_to_y, serving_default") != absl::string_view::npos);
  CHECK(maas::TfServingDecodeModelMetadata(meta, "classify_x_to_y").status().code() ==
        absl::StatusCode::kDataLoss);  // unknown rank
}

TEST_CASE("error messages and paths") {
  CHECK(maas::TfServingErrorMessage(ReadFixture("tf_serving_v1/error_not_found.json")) ==
        "Servable not found for request: Latest(half)");
  CHECK(maas::TfServingPredictPath("m", "", "") == "/v1/models/m:predict");
  CHECK(maas::TfServingPredictPath("m", "3", "") == "/v1/models/m/versions/3:predict");
  CHECK(maas::TfServingPredictPath("m", "", "stable") == "/v1/models/m/labels/stable:predict");
  CHECK(maas::TfServingPredictPath("m", "3", "stable") == "/v1/models/m/versions/3:predict");
  CHECK(maas::TfServingPredictPath("a:b", "", "") == "/v1/models/a%3Ab:predict");
  CHECK(maas::TfServingModelStatusPath("m", "", "") == "/v1/models/m");
  CHECK(maas::TfServingModelMetadataPath("m", "", "canary") == "/v1/models/m/labels/canary/metadata");
}

}  // TEST_SUITE
