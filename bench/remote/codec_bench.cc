// Codec throughput: KServe V2 JSON and binary encode/decode of one float32
// tensor (16 and 16,384 elements), against a plain nlohmann DOM doing the
// same work in the same run. Bytes processed = raw float32 bytes, so the
// reported rates are "MB of tensor data per second".
//
//   taskset -c 1 ./maas_codec_bench --benchmark_repetitions=7
//       --benchmark_report_aggregates_only=true   (one line)
//
// Results are written up in docs/PERFORMANCE.md ("Remote codecs").

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "maas/remote/kserve_v2_codec.h"
#include "maas/remote/tf_serving_v1_codec.h"
#include "nlohmann/json.hpp"

namespace {

// Normally distributed floats, as the baselines in the project notes.
std::vector<float> Data(std::size_t n) {
  std::mt19937 rng(42);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  return v;
}

// Writes into `*reply` (reusing its capacity, as a transport's receive
// buffer would) the reply an echo server would send for `req`: the
// request's tensors under "outputs" (the header grows by one byte).
void EchoReplyInto(const maas::EncodedRequest& req, std::string* reply,
                   std::size_t* header_length) {
  const std::size_t at = req.body.find("\"inputs\":");
  reply->assign(req.body, 0, at);
  reply->append("\"outputs\":");
  reply->append(req.body, at + 9, std::string::npos);
  *header_length = req.header_length > 0 ? req.header_length + 1 : 0;
}

std::string EchoReply(const maas::EncodedRequest& req, std::size_t* header_length) {
  std::string reply;
  EchoReplyInto(req, &reply, header_length);
  return reply;
}

void SetRate(benchmark::State& state, std::size_t n) {
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) *
                          static_cast<std::int64_t>(n * sizeof(float)));
}

void BM_KServeV2Encode(benchmark::State& state, bool binary) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::vector<float> x = Data(n);
  const maas::ConstTensorView in("x", absl::MakeConstSpan(x), {1, static_cast<std::int64_t>(n)});
  maas::InferRequestOptions opts;
  opts.binary_inputs = binary;
  maas::EncodedRequest req;
  for (auto _ : state) {
    absl::Status s = maas::KServeV2EncodeInferRequest({in}, opts, &req);
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(req.body.data());
  }
  SetRate(state, n);
  state.counters["body_bytes"] = static_cast<double>(req.body.size());
}

void BM_KServeV2DecodeInto(benchmark::State& state, bool binary) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto ni = static_cast<std::int64_t>(n);
  const std::vector<float> x = Data(n);
  maas::InferRequestOptions opts;
  opts.binary_inputs = binary;
  maas::EncodedRequest req;
  (void)maas::KServeV2EncodeInferRequest(
      {maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, ni})}, opts, &req);
  std::size_t header_length = 0;
  const std::string reply = EchoReply(req, &header_length);
  maas::ModelSignature sig;
  sig.outputs = {{"x", maas::DataType::kFloat32, {maas::kDynamic, ni}}};
  std::vector<float> out(n);
  const maas::TensorView view("x", absl::MakeSpan(out), {1, ni});
  for (auto _ : state) {
    absl::Status s = maas::KServeV2DecodeInferResponseInto(reply, header_length, sig, 1, {view});
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(out.data());
  }
  if (out != x) state.SkipWithError("round trip is not exact");
  SetRate(state, n);
}

void BM_KServeV2DecodeAlloc(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::vector<float> x = Data(n);
  maas::EncodedRequest req;
  (void)maas::KServeV2EncodeInferRequest(
      {maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, static_cast<std::int64_t>(n)})}, {},
      &req);
  std::size_t header_length = 0;
  const std::string reply = EchoReply(req, &header_length);
  for (auto _ : state) {
    absl::StatusOr<maas::InferResult> r = maas::KServeV2DecodeInferResponse(reply, header_length);
    if (!r.ok()) state.SkipWithError(r.status().ToString().c_str());
    benchmark::DoNotOptimize(r->outputs.data());
  }
  SetRate(state, n);
}

// JSON encode + decode of the same tensor (what one JSON request/reply
// pair costs the client for this tensor size).
void BM_KServeV2JsonRoundTrip(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto ni = static_cast<std::int64_t>(n);
  const std::vector<float> x = Data(n);
  const maas::ConstTensorView in("x", absl::MakeConstSpan(x), {1, ni});
  maas::ModelSignature sig;
  sig.outputs = {{"x", maas::DataType::kFloat32, {maas::kDynamic, ni}}};
  std::vector<float> out(n);
  const maas::TensorView view("x", absl::MakeSpan(out), {1, ni});
  maas::EncodedRequest req;
  std::string reply;
  for (auto _ : state) {
    (void)maas::KServeV2EncodeInferRequest({in}, {}, &req);
    std::size_t header_length = 0;
    EchoReplyInto(req, &reply, &header_length);
    absl::Status s = maas::KServeV2DecodeInferResponseInto(reply, header_length, sig, 1, {view});
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(out.data());
  }
  SetRate(state, n);
}

void BM_TfServingColumnarRoundTrip(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const auto ni = static_cast<std::int64_t>(n);
  const std::vector<float> x = Data(n);
  const maas::ConstTensorView in("x", absl::MakeConstSpan(x), {1, ni});
  maas::ModelSignature sig;
  sig.outputs = {{"x", maas::DataType::kFloat32, {maas::kDynamic, ni}}};
  std::vector<float> out(n);
  const maas::TensorView view("x", absl::MakeSpan(out), {1, ni});
  maas::EncodedRequest req;
  std::string reply;
  for (auto _ : state) {
    (void)maas::TfServingEncodePredictRequest({in}, maas::TfServingFormat::kColumnar, "", &req);
    const std::size_t at = req.body.find("\"inputs\"");
    reply.assign(req.body, 0, at);
    reply.append("\"outputs\"");
    reply.append(req.body, at + 8, std::string::npos);
    absl::Status s = maas::TfServingDecodePredictResponseInto(reply, sig, 1, {view});
    if (!s.ok()) state.SkipWithError(s.ToString().c_str());
    benchmark::DoNotOptimize(out.data());
  }
  SetRate(state, n);
}

// The nlohmann DOM baseline: the same request body built as a DOM and
// dumped; the same reply parsed into a DOM and its data copied out.
nlohmann::json DomRequest(const std::vector<float>& x) {
  nlohmann::json j;
  j["inputs"] = nlohmann::json::array();
  nlohmann::json t;
  t["name"] = "x";
  t["shape"] = {1, x.size()};
  t["datatype"] = "FP32";
  t["data"] = x;
  j["inputs"].push_back(std::move(t));
  return j;
}

void BM_NlohmannDomEncode(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::vector<float> x = Data(n);
  std::string body;
  for (auto _ : state) {
    body = DomRequest(x).dump();
    benchmark::DoNotOptimize(body.data());
  }
  SetRate(state, n);
  state.counters["body_bytes"] = static_cast<double>(body.size());
}

bool DomDecode(const std::string& reply, std::vector<float>* out) {
  const nlohmann::json j = nlohmann::json::parse(reply, nullptr, false);
  if (j.is_discarded()) return false;
  const nlohmann::json& data = j["outputs"][0]["data"];
  if (data.size() != out->size()) return false;
  for (std::size_t i = 0; i < out->size(); ++i) (*out)[i] = data[i].get<float>();
  return true;
}

void BM_NlohmannDomDecode(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::vector<float> x = Data(n);
  std::string reply = DomRequest(x).dump();
  reply.replace(reply.find("\"inputs\":"), 9, "\"outputs\":");
  std::vector<float> out(n);
  for (auto _ : state) {
    if (!DomDecode(reply, &out)) state.SkipWithError("nlohmann decode failed");
    benchmark::DoNotOptimize(out.data());
  }
  SetRate(state, n);
}

void BM_NlohmannDomRoundTrip(benchmark::State& state) {
  const auto n = static_cast<std::size_t>(state.range(0));
  const std::vector<float> x = Data(n);
  std::vector<float> out(n);
  for (auto _ : state) {
    std::string reply = DomRequest(x).dump();
    reply.replace(reply.find("\"inputs\":"), 9, "\"outputs\":");
    if (!DomDecode(reply, &out)) state.SkipWithError("nlohmann decode failed");
    benchmark::DoNotOptimize(out.data());
  }
  SetRate(state, n);
}

}  // namespace

BENCHMARK_CAPTURE(BM_KServeV2Encode, json, false)->Arg(16)->Arg(16384);
BENCHMARK_CAPTURE(BM_KServeV2Encode, binary, true)->Arg(16)->Arg(16384);
BENCHMARK_CAPTURE(BM_KServeV2DecodeInto, json, false)->Arg(16)->Arg(16384);
BENCHMARK_CAPTURE(BM_KServeV2DecodeInto, binary, true)->Arg(16)->Arg(16384);
BENCHMARK(BM_KServeV2DecodeAlloc)->Arg(16)->Arg(16384);
BENCHMARK(BM_KServeV2JsonRoundTrip)->Arg(16)->Arg(16384);
BENCHMARK(BM_TfServingColumnarRoundTrip)->Arg(16)->Arg(16384);
BENCHMARK(BM_NlohmannDomEncode)->Arg(16)->Arg(16384);
BENCHMARK(BM_NlohmannDomDecode)->Arg(16)->Arg(16384);
BENCHMARK(BM_NlohmannDomRoundTrip)->Arg(16)->Arg(16384);

BENCHMARK_MAIN();
