// KServe V2 (Open Inference Protocol) codec: fixtures from the spec and from
// real server layouts (see data/kserve_v2/README.md), round trips, the
// binary extension, and every documented failure.

#include "maas/remote/kserve_v2_codec.h"
#include "maas/remote/detail/codec_json_reader.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
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
using maas_test::ParseStrict;
using maas_test::ReadFixture;

// A BYTES buffer (4-byte little-endian length + bytes per element).
std::vector<std::byte> BytesBuffer(const std::vector<std::string>& elems) {
  std::vector<std::byte> out;
  for (const std::string& e : elems) {
    const auto n = static_cast<std::uint32_t>(e.size());
    for (int k = 0; k < 4; ++k) out.push_back(static_cast<std::byte>((n >> (8 * k)) & 0xFF));
    for (char c : e) out.push_back(static_cast<std::byte>(c));
  }
  return out;
}

// Turns an encoded request into the reply a server echoing its inputs would
// send: the same tensors under "outputs". A binary header grows by one byte.
std::string AsEchoReply(std::string body, std::size_t* header_length = nullptr) {
  const std::string from = "\"inputs\":";
  const std::size_t at = body.find(from);
  REQUIRE(at != std::string::npos);
  body.replace(at, from.size(), "\"outputs\":");
  if (header_length != nullptr && *header_length > 0) ++*header_length;
  return body;
}

std::string WithBinaryTail(std::string header, const void* data, std::size_t n) {
  header.append(static_cast<const char*>(data), n);
  return header;
}

template <typename T>
std::vector<T> Floats(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> d(0.0, 3.0);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(d(rng) * std::pow(10.0, static_cast<int>(rng() % 40) - 20));
  return v;
}

}  // namespace

TEST_SUITE("KServeV2Codec") {

TEST_CASE("encodes the spec's request example to the same JSON value") {
  const std::vector<std::uint32_t> in0 = {1, 2, 3, 4};
  // The spec example sends "data": [true] for shape [3]; maas checks sizes,
  // so it sends three values. Compare everything else with the spec text.
  const bool in1[3] = {true, false, true};
  maas::InferRequestOptions opts;
  opts.id = "42";
  opts.outputs = {"output0"};
  maas::EncodedRequest req;
  REQUIRE(maas::KServeV2EncodeInferRequest(
              {ConstTensorView("input0", absl::MakeConstSpan(in0), {2, 2}),
               ConstTensorView("input1", absl::MakeConstSpan(in1, 3), {3})},
              opts, &req)
              .ok());
  CHECK(req.header_length == 0);
  CHECK(req.content_type == "application/json");
  nlohmann::json want = ParseStrict(ReadFixture("kserve_v2/spec_infer_request.json"));
  want["inputs"][1]["data"] = {true, false, true};
  CHECK(ParseStrict(req.body) == want);
}

TEST_CASE("binary worked example: UINT32[2,2] + BOOL[3] is the JSON header plus 19 bytes") {
  const std::vector<std::uint32_t> in0 = {1, 2, 3, 0xDEADBEEF};
  const bool in1[3] = {true, false, true};
  maas::InferRequestOptions opts;
  opts.binary_inputs = true;
  opts.binary_outputs = true;
  opts.outputs = {"output0", "output1"};
  maas::EncodedRequest req;
  REQUIRE(maas::KServeV2EncodeInferRequest(
              {ConstTensorView("input0", absl::MakeConstSpan(in0), {2, 2}),
               ConstTensorView("input1", absl::MakeConstSpan(in1, 3), {3})},
              opts, &req)
              .ok());
  CHECK(req.content_type == "application/octet-stream");
  REQUIRE(req.header_length > 0);
  CHECK(req.body.size() == req.header_length + 19);
  const nlohmann::json header = ParseStrict(req.body.substr(0, req.header_length));
  const nlohmann::json spec = ParseStrict(ReadFixture("kserve_v2/binary_request_header.json"));
  CHECK(header["inputs"] == spec["inputs"]);
  CHECK(header["outputs"][0] == spec["outputs"][0]);
  CHECK(header["parameters"]["binary_data_output"] == true);
  CHECK(std::memcmp(req.body.data() + req.header_length, in0.data(), 16) == 0);
  CHECK(req.body.substr(req.header_length + 16) == std::string("\x01\x00\x01", 3));
}

TEST_CASE("decodes the spec's response example, which has no model_name") {
  absl::StatusOr<maas::InferResult> r =
      maas::KServeV2DecodeInferResponse(ReadFixture("kserve_v2/spec_infer_response.json"), 0);
  REQUIRE(r.ok());
  CHECK(r->model_name.empty());
  CHECK(r->id == "42");
  REQUIRE(r->outputs.size() == 1);
  const maas::Tensor& t = r->outputs[0];
  CHECK(t.name() == "output0");
  CHECK(t.dtype() == DataType::kFloat32);
  CHECK(t.shape() == maas::Shape{3, 2});
  const char* text[] = {"1.0", "1.1", "2.0", "2.1", "3.0", "3.1"};
  REQUIRE(t.data<float>().size() == 6);
  for (int i = 0; i < 6; ++i) CHECK(t.data<float>()[i] == std::strtof(text[i], nullptr));
}

TEST_CASE("decodes the binary response example with and without the header length") {
  const std::string header = ReadFixture("kserve_v2/binary_response_header.json");
  const float out0[6] = {1.0f, 1.1f, 2.0f, 2.1f, 3.0f, 3.1f};
  const std::string body = WithBinaryTail(header, out0, sizeof(out0));
  for (std::size_t header_length : {header.size(), std::size_t{0}}) {
    CAPTURE(header_length);
    absl::StatusOr<maas::InferResult> r = maas::KServeV2DecodeInferResponse(body, header_length);
    REQUIRE(r.ok());
    REQUIRE(r->outputs.size() == 2);
    CHECK(r->outputs[0].shape() == maas::Shape{3, 2});
    CHECK(std::memcmp(r->outputs[0].bytes().data(), out0, sizeof(out0)) == 0);
    const float want1[4] = {0.1f, 0.2f, 0.3f, 0.4f};
    CHECK(std::memcmp(r->outputs[1].bytes().data(), want1, sizeof(want1)) == 0);
  }
  // Into caller views, in signature order different from the reply's.
  maas::ModelSignature sig;
  sig.outputs = {{"output1", DataType::kFloat32, {2, 2}},
                 {"output0", DataType::kFloat32, {maas::kDynamic, 2}}};
  float got0[6] = {}, got1[4] = {};
  REQUIRE(maas::KServeV2DecodeInferResponseInto(
              body, header.size(), sig, 3,
              {TensorView("output0", absl::MakeSpan(got0), {3, 2}),
               TensorView("output1", absl::MakeSpan(got1), {2, 2})})
              .ok());
  CHECK(std::memcmp(got0, out0, sizeof(out0)) == 0);
  CHECK(got1[3] == 0.4f);
}

TEST_CASE("tolerates Triton, KServe and MLServer reply layouts") {
  SUBCASE("triton") {
    absl::StatusOr<maas::InferResult> r =
        maas::KServeV2DecodeInferResponse(ReadFixture("kserve_v2/triton_response.json"), 0);
    REQUIRE(r.ok());
    CHECK(r->model_name == "simple");
    CHECK(r->model_version == "1");
    const maas::Tensor* t = r->FindOutput("OUTPUT0");
    REQUIRE(t != nullptr);
    REQUIRE(t->data<std::int32_t>().size() == 16);
    for (int i = 0; i < 16; ++i) CHECK(t->data<std::int32_t>()[i] == 2 * i + 1);
    CHECK(r->FindOutput("OUTPUT1")->data<std::int32_t>()[15] == -1);
  }
  SUBCASE("kserve: null model_version and parameters") {
    absl::StatusOr<maas::InferResult> r =
        maas::KServeV2DecodeInferResponse(ReadFixture("kserve_v2/kserve_response.json"), 0);
    REQUIRE(r.ok());
    CHECK(r->model_version.empty());
    CHECK(r->id == "823248cc-d770-4a51-9606-16803395569c");
    CHECK(r->outputs[0].data<std::int64_t>()[1] == 1);
    CHECK(r->outputs[1].data<double>()[1] == 0.75);
  }
  SUBCASE("mlserver: extra parameters, [3,1] output") {
    absl::StatusOr<maas::InferResult> r =
        maas::KServeV2DecodeInferResponse(ReadFixture("kserve_v2/mlserver_response.json"), 0);
    REQUIRE(r.ok());
    CHECK(r->model_version == "v1.2.3");
    CHECK(r->outputs[0].shape() == maas::Shape{3, 1});
    CHECK(r->outputs[0].data<std::int64_t>()[1] == 2);
  }
  SUBCASE("nested data, data before shape") {
    absl::StatusOr<maas::InferResult> r =
        maas::KServeV2DecodeInferResponse(ReadFixture("kserve_v2/nested_response.json"), 0);
    REQUIRE(r.ok());
    CHECK(r->outputs[0].data<float>()[3] == 2.1f);
  }
  SUBCASE("numeric model_version") {
    absl::StatusOr<maas::InferResult> r = maas::KServeV2DecodeInferResponse(
        R"({"model_version":3,"outputs":[]})", 0);
    REQUIRE(r.ok());
    CHECK(r->model_version == "3");
  }
}

TEST_CASE("reads NaN and Infinity tokens, and floats out of FP32 range as infinity") {
  absl::StatusOr<maas::InferResult> r =
      maas::KServeV2DecodeInferResponse(ReadFixture("kserve_v2/nan_inf_response.json"), 0);
  REQUIRE(r.ok());
  absl::Span<const double> y = r->outputs[0].data<double>();
  CHECK(std::isnan(y[0]));
  CHECK(y[1] == std::numeric_limits<double>::infinity());
  CHECK(y[2] == -std::numeric_limits<double>::infinity());
  CHECK(y[3] == 1e308);
  absl::Span<const float> z = r->outputs[1].data<float>();
  CHECK(std::isnan(z[0]));
  CHECK(z[1] == -std::numeric_limits<float>::infinity());
  CHECK(z[2] == std::numeric_limits<float>::infinity());
}

TEST_CASE("converts JSON values: integers as floats, 3.0 as an integer, BOOL as 0/1") {
  const std::string body =
      R"({"outputs":[{"name":"f","datatype":"FP32","shape":[3],"data":[1, -2, 3e2]},)"
      R"({"name":"i","datatype":"INT64","shape":[3],"data":[3.0, -9223372036854775808, 1e3]},)"
      R"({"name":"b","datatype":"BOOL","shape":[4],"data":[true, 0, 1, false]},)"
      R"({"name":"u","datatype":"UINT64","shape":[1],"data":[18446744073709551615]}]})";
  absl::StatusOr<maas::InferResult> r = maas::KServeV2DecodeInferResponse(body, 0);
  REQUIRE(r.ok());
  CHECK(r->outputs[0].data<float>()[2] == 300.0f);
  CHECK(r->outputs[1].data<std::int64_t>()[0] == 3);
  CHECK(r->outputs[1].data<std::int64_t>()[1] == std::numeric_limits<std::int64_t>::min());
  CHECK(r->outputs[1].data<std::int64_t>()[2] == 1000);
  absl::Span<const bool> b = r->outputs[2].data<bool>();
  CHECK((b[0] && !b[1] && b[2] && !b[3]));
  CHECK(r->outputs[3].data<std::uint64_t>()[0] == std::numeric_limits<std::uint64_t>::max());
}

TEST_CASE_TEMPLATE("JSON round trip is bit-exact", T, float, double) {
  std::vector<T> v = Floats<T>(1000, 7);
  v.push_back(std::numeric_limits<T>::denorm_min());
  v.push_back(-std::numeric_limits<T>::denorm_min());
  v.push_back(std::numeric_limits<T>::max());
  v.push_back(std::numeric_limits<T>::lowest());
  v.push_back(std::numeric_limits<T>::min());
  v.push_back(std::numeric_limits<T>::epsilon());
  v.push_back(T(-0.0));
  v.push_back(std::numeric_limits<T>::infinity());
  v.push_back(-std::numeric_limits<T>::infinity());
  v.push_back(T(0.1));
  const auto n = static_cast<std::int64_t>(v.size());
  maas::EncodedRequest req;
  REQUIRE(maas::KServeV2EncodeInferRequest({ConstTensorView("x", absl::MakeConstSpan(v), {n})},
                                           {}, &req)
              .ok());
  absl::StatusOr<maas::InferResult> r = maas::KServeV2DecodeInferResponse(AsEchoReply(req.body), 0);
  REQUIRE(r.ok());
  REQUIRE(r->outputs[0].byte_size() == v.size() * sizeof(T));
  CHECK(std::memcmp(r->outputs[0].bytes().data(), v.data(), v.size() * sizeof(T)) == 0);
  // NaN survives as a NaN.
  const T nan[1] = {std::numeric_limits<T>::quiet_NaN()};
  REQUIRE(maas::KServeV2EncodeInferRequest({ConstTensorView("x", absl::MakeConstSpan(nan), {1})},
                                           {}, &req)
              .ok());
  CHECK(req.body.find("[NaN]") != std::string::npos);
  r = maas::KServeV2DecodeInferResponse(AsEchoReply(req.body), 0);
  REQUIRE(r.ok());
  CHECK(std::isnan(r->outputs[0].template data<T>()[0]));
}

TEST_CASE_TEMPLATE("the JSON number reader agrees bit for bit with std::from_chars", T, float,
                   double) {
  // Independent reference: libstdc++'s correctly rounded std::from_chars.
  auto read = [](const std::string& text, T* out) {
    maas::detail::JsonReader r(text);
    return r.ReadLeaf(out) && r.AtEnd();
  };
  std::vector<std::string> texts = {
      "0", "-0", "1", "0.1", "16777217", "16777219", "-16777217", "9007199254740993",
      "1.0000000596046448", "1.00000005960464477539062500", "3.4028235e38", "3.4028236e38",
      "1e-45", "7e-46", "1.17549435e-38", "123456789012345678901234567890", "1e22", "1e23",
      "4.9e-324", "2.2250738585072014e-308", "0.30000000000000004", "1E5", "1e+05", "-2.5E-3"};
  std::mt19937_64 rng(11);
  char buf[128];
  for (int i = 0; i < 20000; ++i) {
    const double mag = std::pow(10.0, static_cast<double>(static_cast<int>(rng() % 60) - 30));
    const double v = (static_cast<double>(rng() % 2000001) - 1000000.0) / 1000.0 * mag;
    switch (i % 5) {
      case 0: std::snprintf(buf, sizeof(buf), "%.9g", v); break;
      case 1: std::snprintf(buf, sizeof(buf), "%.17g", v); break;
      case 2: std::snprintf(buf, sizeof(buf), "%.6e", v); break;
      case 3: std::snprintf(buf, sizeof(buf), "%.12f", v); break;
      default: *std::to_chars(buf, buf + 64, static_cast<float>(v)).ptr = '\0'; break;
    }
    texts.emplace_back(buf);
  }
  for (const std::string& t : texts) {
    CAPTURE(t);
    T want;
    const auto r = std::from_chars(t.data(), t.data() + t.size(), want);
    if (r.ec != std::errc()) continue;  // out of range: covered elsewhere
    T got;
    REQUIRE(read(t, &got));
    CHECK(std::memcmp(&got, &want, sizeof(T)) == 0);
  }
}

TEST_CASE("round trips every fixed-size datatype in JSON and binary, and BYTES") {
  const std::vector<std::int8_t> i8 = {-128, 0, 127};
  const std::vector<std::uint8_t> u8 = {0, 255, 7};
  const std::vector<std::int16_t> i16 = {-32768, 32767, 1};
  const std::vector<std::uint16_t> u16 = {65535, 0, 2};
  const std::vector<std::int32_t> i32 = {std::numeric_limits<std::int32_t>::min(), -1, 5};
  const std::vector<std::uint32_t> u32 = {0xFFFFFFFFu, 0, 9};
  const std::vector<std::int64_t> i64 = {std::numeric_limits<std::int64_t>::min(),
                                         std::numeric_limits<std::int64_t>::max(), 0};
  const std::vector<std::uint64_t> u64 = {std::numeric_limits<std::uint64_t>::max(), 1, 0};
  const bool b[3] = {true, false, true};
  const std::vector<std::byte> s = BytesBuffer({"", "h\"i\\\n", "caf\xc3\xa9"});
  const std::vector<ConstTensorView> in = {
      ConstTensorView("i8", absl::MakeConstSpan(i8), {3}),
      ConstTensorView("u8", absl::MakeConstSpan(u8), {3}),
      ConstTensorView("i16", absl::MakeConstSpan(i16), {3}),
      ConstTensorView("u16", absl::MakeConstSpan(u16), {3}),
      ConstTensorView("i32", absl::MakeConstSpan(i32), {3}),
      ConstTensorView("u32", absl::MakeConstSpan(u32), {3}),
      ConstTensorView("i64", absl::MakeConstSpan(i64), {3}),
      ConstTensorView("u64", absl::MakeConstSpan(u64), {3}),
      ConstTensorView("b", absl::MakeConstSpan(b, 3), {1, 3}),
      ConstTensorView("s", DataType::kBytes, {3}, s.data(), s.size())};
  for (bool binary : {false, true}) {
    CAPTURE(binary);
    maas::InferRequestOptions opts;
    opts.binary_inputs = binary;
    maas::EncodedRequest req;
    REQUIRE(maas::KServeV2EncodeInferRequest(in, opts, &req).ok());
    std::size_t header_length = req.header_length;
    const std::string reply = AsEchoReply(req.body, &header_length);
    absl::StatusOr<maas::InferResult> r = maas::KServeV2DecodeInferResponse(reply, header_length);
    REQUIRE(r.ok());
    REQUIRE(r->outputs.size() == in.size());
    for (std::size_t k = 0; k < in.size(); ++k) {
      CAPTURE(in[k].name());
      const maas::Tensor& t = r->outputs[k];
      CHECK(t.name() == in[k].name());
      CHECK(t.dtype() == in[k].dtype());
      CHECK(t.shape() == in[k].shape());
      REQUIRE(t.byte_size() == in[k].byte_size());
      CHECK(std::memcmp(t.bytes().data(), in[k].raw_data(), t.byte_size()) == 0);
    }
  }
}

TEST_CASE("FP16 and BF16 travel only as binary") {
  const std::uint16_t h[2] = {0x3C00, 0xC000};
  const ConstTensorView in("h", DataType::kFloat16, {2}, h, sizeof(h));
  maas::EncodedRequest req;
  absl::Status s = maas::KServeV2EncodeInferRequest({in}, {}, &req);
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.message().find("binary") != absl::string_view::npos);
  maas::InferRequestOptions opts;
  opts.binary_inputs = true;
  REQUIRE(maas::KServeV2EncodeInferRequest({in}, opts, &req).ok());
  std::size_t header_length = req.header_length;
  const std::string reply = AsEchoReply(req.body, &header_length);
  absl::StatusOr<maas::InferResult> r = maas::KServeV2DecodeInferResponse(reply, header_length);
  REQUIRE(r.ok());
  CHECK(std::memcmp(r->outputs[0].bytes().data(), h, 4) == 0);
  r = maas::KServeV2DecodeInferResponse(
      R"({"outputs":[{"name":"h","datatype":"BF16","shape":[1],"data":[1.0]}]})", 0);
  CHECK(r.status().code() == absl::StatusCode::kDataLoss);
  CHECK(r.status().message().find("BF16") != absl::string_view::npos);
}

TEST_CASE("writes request parameters, output selection and binary output requests") {
  maas::InferRequestOptions opts;
  opts.id = "a\"b";
  opts.parameters = {{"s", "text"}, {"i", -3}, {"d", 0.5}, {"b", false}};
  opts.outputs = {"y", "z"};
  opts.binary_outputs = true;
  const float x[1] = {1.5f};
  maas::EncodedRequest req;
  REQUIRE(maas::KServeV2EncodeInferRequest({ConstTensorView("x", absl::MakeConstSpan(x), {1})},
                                           opts, &req)
              .ok());
  const nlohmann::json j = ParseStrict(req.body);
  CHECK(j["id"] == "a\"b");
  CHECK(j["parameters"] == nlohmann::json{{"s", "text"}, {"i", -3}, {"d", 0.5}, {"b", false},
                                          {"binary_data_output", true}});
  CHECK(j["outputs"][1] ==
        nlohmann::json{{"name", "z"}, {"parameters", {{"binary_data", true}}}});
  CHECK(j["inputs"][0]["data"] == nlohmann::json{1.5});
  // The body's capacity is reused.
  const std::size_t cap = req.body.capacity();
  REQUIRE(maas::KServeV2EncodeInferRequest({ConstTensorView("x", absl::MakeConstSpan(x), {1})},
                                           opts, &req)
              .ok());
  CHECK(req.body.capacity() == cap);
}

TEST_CASE("rejects bad caller input with kInvalidArgument naming the input") {
  const float x[4] = {};
  maas::EncodedRequest req;
  SUBCASE("unnamed input") {
    absl::Status s = maas::KServeV2EncodeInferRequest(
        {ConstTensorView("", absl::MakeConstSpan(x), {4})}, {}, &req);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  }
  SUBCASE("buffer does not fit the shape") {
    absl::Status s = maas::KServeV2EncodeInferRequest(
        {ConstTensorView("x", absl::MakeConstSpan(x), {5})}, {}, &req);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(s.message().find("'x'") != absl::string_view::npos);
  }
  SUBCASE("malformed BYTES buffer") {
    const std::vector<std::byte> bad = {std::byte{9}, std::byte{0}, std::byte{0}, std::byte{0}};
    absl::Status s = maas::KServeV2EncodeInferRequest(
        {ConstTensorView("s", DataType::kBytes, {1}, bad.data(), bad.size())}, {}, &req);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  }
  SUBCASE("BYTES that are not UTF-8 need binary") {
    const std::vector<std::byte> raw = BytesBuffer({std::string("\xff\xfe", 2)});
    const ConstTensorView in("s", DataType::kBytes, {1}, raw.data(), raw.size());
    CHECK(maas::KServeV2EncodeInferRequest({in}, {}, &req).code() ==
          absl::StatusCode::kInvalidArgument);
    maas::InferRequestOptions opts;
    opts.binary_inputs = true;
    CHECK(maas::KServeV2EncodeInferRequest({in}, opts, &req).ok());
  }
  SUBCASE("non-finite double parameter") {
    maas::InferRequestOptions opts;
    opts.parameters = {{"t", std::nan("")}};
    CHECK(maas::KServeV2EncodeInferRequest({ConstTensorView("x", absl::MakeConstSpan(x), {4})},
                                           opts, &req)
              .code() == absl::StatusCode::kInvalidArgument);
  }
}

TEST_CASE("malformed replies are kDataLoss with a message naming the problem") {
  struct Case {
    const char* body;
    std::size_t header_length;
    const char* needle;
  };
  const Case cases[] = {
      {"", 0, "expected a JSON object"},
      {"[1,2]", 0, "expected a JSON object"},
      {R"({"outputs":[{"name":"y","datatype":"FP32","shape":[2],"data":[1,)", 0, "output 'y': expected a number but the text ends"},
      {R"({"outputs":[{"name":"y","datatype":"FP32","shape":[2],"data":[1,2])", 0, "malformed JSON"},
      {R"({"outputs":[{"name":"y","datatype":"FP32","shape":[2],"data":[1,2,3]}]})", 0, "has 3 values but shape [2] needs 2"},
      {R"({"outputs":[{"name":"y","datatype":"FP32","shape":[3],"data":[1,2]}]})", 0, "has 2 values"},
      {R"({"outputs":[{"name":"y","datatype":"FP32","shape":[1000000],"data":[1,2]}]})", 0, "needs 1000000 values"},
      {R"({"outputs":[{"name":"y","datatype":"FP32","shape":[2],"data":[1,"a"]}]})", 0, "expected a number"},
      {R"({"outputs":[{"name":"y","datatype":"FP32","shape":[2],"data":[[1],[2,3]]}]})", 0, "ragged"},
      {R"({"outputs":[{"name":"y","datatype":"INT32","shape":[1],"data":[2.5]}]})", 0, "does not fit INT32"},
      {R"({"outputs":[{"name":"y","datatype":"UINT8","shape":[1],"data":[256]}]})", 0, "does not fit UINT8"},
      {R"({"outputs":[{"name":"y","datatype":"BOOL","shape":[1],"data":[2]}]})", 0, "not a BOOL"},
      {R"({"outputs":[{"name":"y","datatype":"FP99","shape":[1],"data":[2]}]})", 0, "unknown datatype 'FP99'"},
      {R"({"outputs":[{"name":"y","datatype":"FP32","shape":[-1],"data":[]}]})", 0, "negative dimension"},
      {R"({"outputs":[{"name":"y","datatype":"FP32","shape":[4611686018427387904,4],"data":[]}]})", 0, "more than 2^63"},
      {R"({"outputs":[{"name":"y","datatype":"FP32","shape":[1,1,1,1,1,1,1,1,1],"data":[1]}]})", 0, "more than 8"},
      {R"({"outputs":[{"name":"y","datatype":"FP32","data":[1]}]})", 0, "has no shape"},
      {R"({"outputs":[{"name":"y","datatype":"FP32","shape":[1]}]})", 0, "neither 'data' nor binary_data_size"},
      {R"({"outputs":[{"datatype":"FP32","shape":[1],"data":[1]}]})", 0, "output #0 has no name"},
      {R"({"model_name":"m"})", 0, "no 'outputs'"},
      {R"({"error":"model crashed"})", 0, "error: model crashed"},
      {R"({"outputs":[]} x)", 0, "unexpected text"},
      {R"({"outputs":[]})", 100, "Inference-Header-Content-Length is 100 but the body has only 14"},
      {R"({"outputs":[{"name":"y","datatype":"FP32","shape":[1],"parameters":{"binary_data_size":4}}]}AB)", 0, "goes past the end"},
      {R"({"outputs":[{"name":"y","datatype":"FP32","shape":[1],"parameters":{"binary_data_size":-4}}]})", 0, "negative binary_data_size"},
      {R"({"outputs":[{"name":"y","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":4}}]}ABCD)", 0, "needs more bytes"},
      {R"({"outputs":[{"name":"y","datatype":"FP32","shape":[1],"parameters":{"binary_data_size":4}}]}ABCDEF)", 0, "2 bytes after the JSON are not claimed by any output"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.body);
    absl::StatusOr<maas::InferResult> r = maas::KServeV2DecodeInferResponse(c.body, c.header_length);
    REQUIRE(!r.ok());
    CHECK(r.status().code() == absl::StatusCode::kDataLoss);
    CHECK_MESSAGE(r.status().message().find(c.needle) != absl::string_view::npos,
                  r.status().message());
  }
}

TEST_CASE("DecodeInto is all or nothing and checks names, shapes and datatypes") {
  maas::ModelSignature sig;
  sig.outputs = {{"a", DataType::kFloat32, {maas::kDynamic, 2}},
                 {"b", DataType::kInt32, {maas::kDynamic}}};
  float a[4];
  std::int32_t b[2];
  auto reset = [&] {
    for (float& x : a) x = -7.0f;
    for (std::int32_t& x : b) x = -7;
  };
  auto untouched = [&] {
    for (float x : a) {
      if (x != -7.0f) return false;
    }
    for (std::int32_t x : b) {
      if (x != -7) return false;
    }
    return true;
  };
  const std::vector<TensorView> views = {TensorView("a", absl::MakeSpan(a), {2, 2}),
                                         TensorView("b", absl::MakeSpan(b), {2})};
  const std::string good =
      R"({"outputs":[{"name":"b","datatype":"INT64","shape":[2],"data":[5,6]},)"
      R"({"name":"a","datatype":"FP64","shape":[2,2],"data":[1,2,3,4.5]}]})";
  reset();
  REQUIRE(maas::KServeV2DecodeInferResponseInto(good, 0, sig, 2, views).ok());
  CHECK(a[3] == 4.5f);
  CHECK(b[1] == 6);

  struct Case {
    std::string body;
    absl::StatusCode code;
    const char* needle;
  };
  const Case cases[] = {
      {R"({"outputs":[{"name":"a","datatype":"FP32","shape":[2,2],"data":[1,2,3,4]},)"
       R"({"name":"b","datatype":"INT32","shape":[2],"data":[5,x]}]})",
       absl::StatusCode::kDataLoss, "output 'b': expected a number but found 'x'"},
      {R"({"outputs":[{"name":"a","datatype":"FP32","shape":[2,2],"data":[1,2,3,4]},)"
       R"({"name":"b","datatype":"INT32","shape":[2],"data":[5,6]}]}})",
       absl::StatusCode::kDataLoss, "unexpected text after the JSON"},
      {R"({"outputs":[{"name":"a","datatype":"FP32","data":[1,2,3,4],"shape":[2,2]},)"
       R"({"name":"b","data":[5,6.5],"datatype":"INT32","shape":[2]}]})",
       absl::StatusCode::kDataLoss, "output 'b': value 6.5 does not fit INT32"},
      {R"({"outputs":[{"name":"a","datatype":"FP32","shape":[2,2],"data":[1,2,3,4]},)"
       R"({"name":"b","datatype":"INT32","shape":[2],"data":[5,6.5]}]})",
       absl::StatusCode::kDataLoss, "does not fit INT32"},
      {R"({"outputs":[{"name":"a","datatype":"FP32","shape":[2,2],"data":[1,2,3,4]}]})",
       absl::StatusCode::kDataLoss, "no output 'b' (the reply has 'a')"},
      {R"({"outputs":[{"name":"a","datatype":"FP32","shape":[4],"data":[1,2,3,4]},)"
       R"({"name":"b","datatype":"INT32","shape":[2],"data":[5,6]}]})",
       absl::StatusCode::kDataLoss, "shape [4], expected [2,2]"},
      {R"({"outputs":[{"name":"a","datatype":"FP32","shape":[2,2],"data":[1,2,3]},)"
       R"({"name":"b","datatype":"INT32","shape":[2],"data":[5,6]}]})",
       absl::StatusCode::kDataLoss, "has 3 values"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.body);
    reset();
    absl::Status s = maas::KServeV2DecodeInferResponseInto(c.body, 0, sig, 2, views);
    CHECK(s.code() == c.code);
    CHECK_MESSAGE(s.message().find(c.needle) != absl::string_view::npos, s.message());
    CHECK(untouched());
  }
  SUBCASE("binary data must have the view's datatype and size") {
    const double d[4] = {1, 2, 3, 4};
    const std::string header =
        R"({"outputs":[{"name":"a","datatype":"FP64","shape":[2,2],"parameters":{"binary_data_size":32}},)"
        R"({"name":"b","datatype":"INT32","shape":[2],"data":[5,6]}]})";
    reset();
    absl::Status s = maas::KServeV2DecodeInferResponseInto(WithBinaryTail(header, d, sizeof(d)),
                                                           header.size(), sig, 2, views);
    CHECK(s.code() == absl::StatusCode::kDataLoss);
    CHECK(s.message().find("datatype FP64, expected FP32") != absl::string_view::npos);
    CHECK(untouched());
  }
  SUBCASE("views that do not fit the signature are the caller's error") {
    reset();
    float small[3];
    absl::Status s = maas::KServeV2DecodeInferResponseInto(
        good, 0, sig, 2, {TensorView("a", absl::MakeSpan(small), {2, 2})});
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    s = maas::KServeV2DecodeInferResponseInto(good, 0, sig, 3, views);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(untouched());
  }
  SUBCASE("only the outputs passed are decoded") {
    reset();
    const std::string only_b =
        R"({"outputs":[{"name":"b","datatype":"INT32","shape":[2],"data":[8,9]}]})";
    REQUIRE(maas::KServeV2DecodeInferResponseInto(only_b, 0, sig, 2, {views[1]}).ok());
    CHECK(b[0] == 8);
    CHECK(a[0] == -7.0f);
  }
  SUBCASE("binary BOOL bytes are normalised to 0/1") {
    maas::ModelSignature bsig;
    bsig.outputs = {{"m", DataType::kBool, {3}}};
    bool m[3] = {};
    const std::string header =
        R"({"outputs":[{"name":"m","datatype":"BOOL","shape":[3],"parameters":{"binary_data_size":3}}]})";
    REQUIRE(maas::KServeV2DecodeInferResponseInto(header + std::string("\x00\x05\x01", 3),
                                                  header.size(), bsig, 1,
                                                  {TensorView("m", absl::MakeSpan(m, 3), {3})})
                .ok());
    unsigned char raw[3];
    std::memcpy(raw, m, 3);
    CHECK(raw[0] == 0);
    CHECK(raw[1] == 1);
    CHECK(raw[2] == 1);
  }
}

TEST_CASE("decodes model metadata from Triton and MLServer") {
  absl::StatusOr<maas::ModelMetadata> md =
      maas::KServeV2DecodeModelMetadata(ReadFixture("kserve_v2/triton_model_metadata.json"));
  REQUIRE(md.ok());
  CHECK(md->name == "simple");
  CHECK(md->versions == std::vector<std::string>{"1"});
  CHECK(md->platform == "tensorflow_graphdef");
  REQUIRE(md->inputs.size() == 2);
  CHECK(md->inputs[1] == maas::TensorSpec{"INPUT1", DataType::kInt32, {maas::kDynamic, 16}});
  const maas::ModelSignature sig = md->ToSignature("1");
  CHECK(sig.version == "1");
  CHECK(sig.outputs.size() == 2);

  md = maas::KServeV2DecodeModelMetadata(ReadFixture("kserve_v2/mlserver_model_metadata.json"));
  REQUIRE(md.ok());
  CHECK(md->inputs.empty());

  CHECK(maas::KServeV2DecodeModelMetadata("{").status().code() == absl::StatusCode::kDataLoss);
  CHECK(maas::KServeV2DecodeModelMetadata(
            R"({"name":"m","inputs":[{"name":"x","datatype":"FP8","shape":[1]}]})")
            .status()
            .code() == absl::StatusCode::kDataLoss);
  CHECK(maas::KServeV2DecodeModelMetadata(
            R"({"name":"m","inputs":[{"name":"x","datatype":"FP32","shape":[-2]}]})")
            .status()
            .code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("decodes server metadata, including TorchServe's misspelt key") {
  absl::StatusOr<maas::ServerMetadata> md =
      maas::KServeV2DecodeServerMetadata(ReadFixture("kserve_v2/triton_server_metadata.json"));
  REQUIRE(md.ok());
  CHECK(md->name == "triton");
  CHECK(md->HasExtension("binary_tensor_data"));
  md = maas::KServeV2DecodeServerMetadata(ReadFixture("kserve_v2/torchserve_server_metadata.json"));
  REQUIRE(md.ok());
  CHECK(md->extensions == std::vector<std::string>{"kserve", "kubeflow", "model_explain"});
  CHECK(maas::KServeV2DecodeServerMetadata("[]").status().code() == absl::StatusCode::kDataLoss);
}

TEST_CASE("decodes the repository index") {
  absl::StatusOr<std::vector<maas::RepositoryModel>> idx =
      maas::KServeV2DecodeRepositoryIndex(ReadFixture("kserve_v2/repository_index.json"));
  REQUIRE(idx.ok());
  REQUIRE(idx->size() == 3);
  CHECK((*idx)[1].state == "UNAVAILABLE");
  CHECK((*idx)[1].reason == "unable to load model 'broken'");
  CHECK((*idx)[2].version.empty());
  CHECK(maas::KServeV2DecodeRepositoryIndex(R"([{"version":"1"}])").status().code() ==
        absl::StatusCode::kDataLoss);
}

TEST_CASE("extracts error messages from JSON and non-JSON bodies") {
  CHECK(maas::KServeV2ErrorMessage(ReadFixture("kserve_v2/error_triton.json")) ==
        "Request for unknown model: 'foo' is not found");
  CHECK(maas::KServeV2ErrorMessage(ReadFixture("kserve_v2/error_kserve.json")) ==
        "InferenceError : shape mismatch");
  CHECK(maas::KServeV2ErrorMessage(ReadFixture("kserve_v2/error_fastapi.json")) == "Not Found");
  const std::string html = maas::KServeV2ErrorMessage(ReadFixture("kserve_v2/error_html.txt"));
  CHECK(html.find("502 Bad Gateway") != std::string::npos);
  CHECK(html.find('\n') == std::string::npos);
  CHECK(maas::KServeV2ErrorMessage("") == "");
  const std::string long_body(2000, 'x');
  CHECK(maas::KServeV2ErrorMessage(long_body) == std::string(512, 'x') + "...");
  CHECK(maas::KServeV2ErrorMessage(std::string("a\0\x01\xff", 4)) == "a???");
  CHECK(maas::KServeV2ErrorMessage(R"({"error":{"code":3}})") == R"({"code":3})");
}

TEST_CASE("builds percent-encoded paths") {
  CHECK(maas::KServeV2InferPath("drag", "") == "/v2/models/drag/infer");
  CHECK(maas::KServeV2InferPath("drag", "2") == "/v2/models/drag/versions/2/infer");
  CHECK(maas::KServeV2ModelMetadataPath("a b/c", "") == "/v2/models/a%20b%2Fc");
  CHECK(maas::KServeV2ModelReadyPath("m", "v1.0") == "/v2/models/m/versions/v1.0/ready");
  CHECK(maas::KServeV2ServerLivePath() == "/v2/health/live");
  CHECK(maas::KServeV2ServerReadyPath() == "/v2/health/ready");
  CHECK(maas::KServeV2ServerMetadataPath() == "/v2");
  CHECK(maas::KServeV2RepositoryIndexPath() == "/v2/repository/index");
  CHECK(maas::KServeV2RepositoryLoadPath("m?x") == "/v2/repository/models/m%3Fx/load");
  CHECK(maas::KServeV2RepositoryUnloadPath("m") == "/v2/repository/models/m/unload");
}

TEST_CASE("ParameterValue keeps string literals as strings") {
  const maas::ParameterValue a = "fast", b = 3, c = 0.5, d = true, e = std::uint16_t{9};
  CHECK(a.is_string());
  CHECK(a.string_value() == "fast");
  CHECK(b.is_int());
  CHECK(c.is_double());
  CHECK(d.is_bool());
  CHECK(e.int_value() == 9);
}

}  // TEST_SUITE
