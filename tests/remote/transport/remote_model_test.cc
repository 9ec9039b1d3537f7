// Tests for remote/remote_model.h on the scripted FakeTransport: signature
// fetching, validation before sending (same messages as LocalModel), request
// contents, reply decoding, error mapping, health and repository calls.
#include "maas/remote/remote_model.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "doctest/doctest.h"
#include "maas/local/local_model.h"
#include "maas/local/network.h"
#include "maas/remote/http_status.h"
#include "maas/testing/fake_transport.h"
#include "nlohmann/json.hpp"
#include "testing/status_doctest.h"

using maas::ConstTensorView;
using maas::HttpMethod;
using maas::RemoteModel;
using maas::RemoteModelOptions;
using maas::RemoteProtocol;
using maas::TensorView;
using maas::testing::FakeTransport;

namespace {

constexpr char kMetadata[] = R"({
  "name": "drag", "versions": ["1"], "platform": "maas",
  "inputs": [{"name": "state", "datatype": "FP32", "shape": [-1, 3]}],
  "outputs": [{"name": "force", "datatype": "FP32", "shape": [-1, 2]}]})";
constexpr char kInferPath[] = "/v2/models/drag/infer";
constexpr char kMetadataPath[] = "/v2/models/drag";

struct Fixture {
  std::shared_ptr<FakeTransport> fake = std::make_shared<FakeTransport>();
  std::unique_ptr<RemoteModel> model;

  explicit Fixture(RemoteModelOptions opts = {}) {
    if (opts.model.empty()) opts.model = "drag";
    auto m = RemoteModel::Create(std::move(opts), fake);
    REQUIRE(m.ok());
    model = std::move(*m);
  }
};

std::string JsonReply(const std::vector<float>& y, int rows) {
  nlohmann::json j = {{"model_name", "drag"},
                      {"outputs", {{{"name", "force"},
                                    {"datatype", "FP32"},
                                    {"shape", {rows, 2}},
                                    {"data", y}}}}};
  return j.dump();
}

}  // namespace

TEST_SUITE("RemoteModel") {
  TEST_CASE("Create rejects an empty model name and a null transport") {
    CHECK(RemoteModel::Create({}, std::make_shared<FakeTransport>()).status().code() ==
          absl::StatusCode::kInvalidArgument);
    RemoteModelOptions o;
    o.model = "m";
    CHECK(RemoteModel::Create(o, nullptr).status().code() ==
          absl::StatusCode::kInvalidArgument);
  }

  TEST_CASE("the signature is fetched once from V2 model metadata") {
    Fixture f;
    f.fake->OnJson(HttpMethod::kGet, kMetadataPath, kMetadata);
    f.fake->OnJson(HttpMethod::kPost, kInferPath, JsonReply({1, 2, 3, 4}, 2));
    auto sig = f.model->Signature();
    REQUIRE(sig.ok());
    CHECK(sig->inputs.size() == 1);
    CHECK(sig->inputs[0].name == "state");
    CHECK(sig->outputs[0].shape == maas::Shape{maas::kDynamic, 2});
    std::vector<float> x(6, 0.5f), y(4, 0.f);
    for (int i = 0; i < 3; ++i) {
      REQUIRE(f.model->Predict({ConstTensorView("state", absl::MakeConstSpan(x), {2, 3})},
                               {TensorView("force", absl::MakeSpan(y), {2, 2})})
                  .ok());
    }
    CHECK(y == std::vector<float>{1, 2, 3, 4});
    CHECK(f.fake->CountRequests(HttpMethod::kGet, kMetadataPath) == 1);
    CHECK(f.fake->CountRequests(HttpMethod::kPost, kInferPath) == 3);
  }

  TEST_CASE("the JSON request carries the inputs under the signature's names") {
    Fixture f;
    f.fake->OnJson(HttpMethod::kGet, kMetadataPath, kMetadata);
    f.fake->OnJson(HttpMethod::kPost, kInferPath, JsonReply({9, 8}, 1));
    std::vector<float> x = {0.25f, -1.5f, 3.f}, y(2);
    // Unnamed (positional) views get the signature's names on the wire.
    REQUIRE(f.model->Predict({ConstTensorView("", absl::MakeConstSpan(x), {1, 3})},
                             {TensorView("", absl::MakeSpan(y), {1, 2})})
                .ok());
    auto reqs = f.fake->requests();
    REQUIRE(reqs.size() == 2);
    const auto& post = reqs[1];
    CHECK(post.path == kInferPath);
    CHECK(absl::StartsWith(post.content_type, "application/json"));
    CHECK_FALSE(post.headers.Has("Inference-Header-Content-Length"));
    nlohmann::json body = nlohmann::json::parse(post.body);
    REQUIRE(body["inputs"].size() == 1);
    CHECK(body["inputs"][0]["name"] == "state");
    CHECK(body["inputs"][0]["datatype"] == "FP32");
    CHECK(body["inputs"][0]["shape"] == nlohmann::json({1, 3}));
    CHECK(body["inputs"][0]["data"] == nlohmann::json({0.25, -1.5, 3.0}));
    CHECK(y == std::vector<float>{9, 8});
  }

  TEST_CASE("binary mode sends raw bytes with Inference-Header-Content-Length and reads binary outputs") {
    RemoteModelOptions o;
    o.binary = true;
    Fixture f(o);
    f.fake->OnJson(HttpMethod::kGet, kMetadataPath, kMetadata);
    const std::vector<float> out = {1.5f, -2.f};
    std::string header = R"({"model_name":"drag","outputs":[{"name":"force","datatype":"FP32","shape":[1,2],"parameters":{"binary_data_size":8}}]})";
    maas::HttpResponse reply;
    reply.status = 200;
    reply.headers.Add("Content-Type", "application/octet-stream");
    reply.headers.Add("inference-header-content-length", std::to_string(header.size()));
    reply.body = header + std::string(reinterpret_cast<const char*>(out.data()), 8);
    f.fake->On(HttpMethod::kPost, kInferPath, reply);
    std::vector<float> x = {1.f, 2.f, 3.f}, y(2);
    REQUIRE(f.model->Predict({ConstTensorView("state", absl::MakeConstSpan(x), {1, 3})},
                             {TensorView("force", absl::MakeSpan(y), {1, 2})})
                .ok());
    CHECK(y == out);
    auto post = f.fake->requests().back();
    auto hl = post.headers.Find("Inference-Header-Content-Length");
    REQUIRE(hl.has_value());
    const std::size_t n = std::stoul(std::string(*hl));
    REQUIRE(n + 12 == post.body.size());
    CHECK(std::memcmp(post.body.data() + n, x.data(), 12) == 0);
    nlohmann::json head = nlohmann::json::parse(post.body.substr(0, n));
    CHECK(head["inputs"][0]["parameters"]["binary_data_size"] == 12);
  }

  TEST_CASE("bad views are rejected before sending, with LocalModel's messages") {
    using Net = maas::Network<float, maas::Dense<3, 2>>;
    auto local = maas::LocalModel<Net>::Create(
        std::make_unique<Net>(), maas::LocalModel<Net>::DefaultSignature("drag"));
    REQUIRE(local.ok());
    RemoteModelOptions o;
    o.signature = (*local)->signature();
    Fixture f(o);
    std::vector<float> x(8), y(4, -7.f);
    std::vector<double> xd(6);
    struct Case {
      std::vector<ConstTensorView> in;
      std::vector<TensorView> out;
    };
    const std::vector<Case> cases = {
        {{ConstTensorView("input", absl::MakeConstSpan(x).subspan(0, 8), {2, 4})},
         {TensorView("output", absl::MakeSpan(y), {2, 2})}},
        {{ConstTensorView("input", absl::MakeConstSpan(xd), {2, 3})},
         {TensorView("output", absl::MakeSpan(y), {2, 2})}},
        {{ConstTensorView("input", absl::MakeConstSpan(x).subspan(0, 6), {2, 3})},
         {TensorView("output", absl::MakeSpan(y), {1, 4})}},
        {{ConstTensorView("wrong", absl::MakeConstSpan(x).subspan(0, 6), {2, 3})},
         {TensorView("output", absl::MakeSpan(y), {2, 2})}},
        {{ConstTensorView("input", absl::MakeConstSpan(x).subspan(0, 5), {2, 3})},
         {TensorView("output", absl::MakeSpan(y), {2, 2})}},
    };
    for (const Case& c : cases) {
      absl::Status remote = f.model->Predict(c.in, c.out);
      absl::Status want = (*local)->Predict(c.in, c.out);
      CAPTURE(want);
      CHECK(remote.code() == absl::StatusCode::kInvalidArgument);
      CHECK(remote == want);
    }
    CHECK(f.fake->requests().empty());
    CHECK(y == std::vector<float>(4, -7.f));
  }

  TEST_CASE("server errors map through the table with the server's text") {
    struct Row {
      int http;
      absl::StatusCode code;
    };
    for (Row r : {Row{400, absl::StatusCode::kInvalidArgument},
                  Row{404, absl::StatusCode::kNotFound},
                  Row{429, absl::StatusCode::kResourceExhausted},
                  Row{500, absl::StatusCode::kInternal},
                  Row{503, absl::StatusCode::kUnavailable},
                  Row{504, absl::StatusCode::kDeadlineExceeded}}) {
      CAPTURE(r.http);
      Fixture f;
      f.fake->OnJson(HttpMethod::kGet, kMetadataPath, kMetadata);
      f.fake->OnJson(HttpMethod::kPost, kInferPath,
                     R"({"error":"something specific went wrong"})", r.http);
      std::vector<float> x(3), y(2, -7.f);
      absl::Status s =
          f.model->Predict({ConstTensorView("state", absl::MakeConstSpan(x), {1, 3})},
                           {TensorView("force", absl::MakeSpan(y), {1, 2})});
      CHECK(s.code() == r.code);
      CHECK(absl::StrContains(s.message(), "something specific went wrong"));
      CHECK(absl::StrContains(s.message(), kInferPath));
      CHECK(maas::HttpStatusOf(s) == r.http);
      CHECK(y == std::vector<float>(2, -7.f));
    }
  }

  TEST_CASE("an unknown model is kNotFound from the metadata call") {
    Fixture f;
    f.fake->OnJson(HttpMethod::kGet, kMetadataPath, R"({"error":"Model with name drag does not exist."})", 404);
    auto sig = f.model->Signature();
    CHECK(sig.status().code() == absl::StatusCode::kNotFound);
    CHECK(absl::StrContains(sig.status().message(), "does not exist"));
  }

  TEST_CASE("transport failures pass through unchanged and outputs stay untouched") {
    Fixture f;
    f.fake->OnJson(HttpMethod::kGet, kMetadataPath, kMetadata);
    f.fake->OnStatus(HttpMethod::kPost, kInferPath, absl::UnavailableError("refused"));
    std::vector<float> x(3), y(2, -7.f);
    absl::Status s =
        f.model->Predict({ConstTensorView("state", absl::MakeConstSpan(x), {1, 3})},
                         {TensorView("force", absl::MakeSpan(y), {1, 2})});
    CHECK(s == absl::UnavailableError("refused"));
    CHECK(y == std::vector<float>(2, -7.f));
  }

  TEST_CASE("a malformed or mismatching 200 reply is kDataLoss and writes nothing") {
    for (std::string body : {std::string("not json"), JsonReply({1, 2, 3}, 1),
                             std::string(R"({"outputs":[]})")}) {
      CAPTURE(body);
      Fixture f;
      f.fake->OnJson(HttpMethod::kGet, kMetadataPath, kMetadata);
      f.fake->OnJson(HttpMethod::kPost, kInferPath, body);
      std::vector<float> x(3), y(2, -7.f);
      absl::Status s =
          f.model->Predict({ConstTensorView("state", absl::MakeConstSpan(x), {1, 3})},
                           {TensorView("force", absl::MakeSpan(y), {1, 2})});
      CHECK(s.code() == absl::StatusCode::kDataLoss);
      CHECK(y == std::vector<float>(2, -7.f));
    }
  }

  TEST_CASE("the allocating Predict returns outputs in signature order") {
    Fixture f;
    f.fake->OnJson(HttpMethod::kGet, kMetadataPath, kMetadata);
    f.fake->OnJson(HttpMethod::kPost, kInferPath, JsonReply({1, 2, 3, 4}, 2));
    std::vector<float> x(6);
    auto out = f.model->Predict({ConstTensorView("state", absl::MakeConstSpan(x), {2, 3})});
    REQUIRE(out.ok());
    REQUIRE(out->size() == 1);
    CHECK((*out)[0].name() == "force");
    CHECK((*out)[0].shape() == maas::Shape{2, 2});
    auto d = (*out)[0].data<float>();
    CHECK(std::vector<float>(d.begin(), d.end()) == std::vector<float>{1, 2, 3, 4});
  }

  TEST_CASE("TF Serving v1 with a given signature never asks for metadata") {
    maas::ModelSignature sig;
    sig.name = "drag";
    sig.inputs.push_back({"state", maas::DataType::kFloat32, {maas::kDynamic, 3}});
    sig.outputs.push_back({"force", maas::DataType::kFloat32, {maas::kDynamic, 2}});
    for (auto format : {maas::TfServingFormat::kRow, maas::TfServingFormat::kColumnar}) {
      RemoteModelOptions o;
      o.protocol = RemoteProtocol::kTfServingV1;
      o.tf_format = format;
      o.signature = sig;
      Fixture f(o);
      const bool row = format == maas::TfServingFormat::kRow;
      f.fake->OnJson(HttpMethod::kPost, "/v1/models/drag:predict",
                     row ? R"({"predictions":[[1,2],[3,4]]})"
                         : R"({"outputs":[[1,2],[3,4]]})");
      std::vector<float> x = {1, 2, 3, 4, 5, 6}, y(4);
      REQUIRE(f.model->Predict({ConstTensorView("state", absl::MakeConstSpan(x), {2, 3})},
                               {TensorView("force", absl::MakeSpan(y), {2, 2})})
                  .ok());
      CHECK(y == std::vector<float>{1, 2, 3, 4});
      auto reqs = f.fake->requests();
      REQUIRE(reqs.size() == 1);
      nlohmann::json body = nlohmann::json::parse(reqs[0].body);
      CHECK(body[row ? "instances" : "inputs"] ==
            nlohmann::json({{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}));
    }
  }

  TEST_CASE("health and readiness are judged by the HTTP status") {
    Fixture f;
    f.fake->OnJson(HttpMethod::kGet, "/v2/health/live", R"({"live":true})");
    f.fake->OnJson(HttpMethod::kGet, "/v2/health/ready", "", 503);
    f.fake->OnJson(HttpMethod::kGet, "/v2/models/drag/ready", "", 400);
    CHECK(f.model->ServerLive().value_or(false));
    auto ready = f.model->ServerReady();
    REQUIRE(ready.ok());
    CHECK_FALSE(*ready);
    auto model_ready = f.model->ModelReady();
    REQUIRE(model_ready.ok());
    CHECK_FALSE(*model_ready);
  }

  TEST_CASE("TF Serving v1 model readiness reads TF Serving and KServe status bodies") {
    RemoteModelOptions o;
    o.protocol = RemoteProtocol::kTfServingV1;
    Fixture f(o);
    f.fake->EnqueueJson(HttpMethod::kGet, "/v1/models/drag",
                        R"({"model_version_status":[{"version":"1","state":"AVAILABLE","status":{"error_code":"OK","error_message":""}}]})");
    f.fake->EnqueueJson(HttpMethod::kGet, "/v1/models/drag", R"({"name":"drag","ready":false})");
    f.fake->EnqueueJson(HttpMethod::kGet, "/v1/models/drag", R"({"error":"no"})", 404);
    CHECK(f.model->ModelReady().value_or(false));
    CHECK_FALSE(f.model->ModelReady().value_or(true));
    CHECK_FALSE(f.model->ModelReady().value_or(true));
    CHECK(f.model->ServerLive().status().code() == absl::StatusCode::kUnimplemented);
  }

  TEST_CASE("server metadata, repository index, load and unload use the V2 endpoints") {
    Fixture f;
    f.fake->OnJson(HttpMethod::kGet, "/v2",
                   R"({"name":"kserve","version":"0.21","extensions":["model_repository_extension"]})");
    f.fake->OnJson(HttpMethod::kPost, "/v2/repository/index",
                   R"([{"name":"drag","version":"1","state":"READY","reason":""}])");
    f.fake->OnJson(HttpMethod::kPost, "/v2/repository/models/drag/load", "");
    f.fake->OnJson(HttpMethod::kPost, "/v2/repository/models/drag/unload",
                   R"({"error":"model is busy"})", 409);
    auto md = f.model->GetServerMetadata();
    REQUIRE(md.ok());
    CHECK(md->name == "kserve");
    CHECK(md->HasExtension("model_repository_extension"));
    auto index = f.model->RepositoryIndex();
    REQUIRE(index.ok());
    REQUIRE(index->size() == 1);
    CHECK((*index)[0].state == "READY");
    CHECK(f.model->LoadModel("drag").ok());
    absl::Status unload = f.model->UnloadModel("drag");
    CHECK(unload.code() == absl::StatusCode::kAlreadyExists);
    CHECK(absl::StrContains(unload.message(), "model is busy"));
  }

  TEST_CASE("metadata without inputs asks for an explicit signature") {
    Fixture f;
    f.fake->OnJson(HttpMethod::kGet, kMetadataPath,
                   R"({"name":"drag","platform":"","inputs":[],"outputs":[]})");
    auto sig = f.model->Signature();
    CHECK(sig.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK(absl::StrContains(sig.status().message(), "RemoteModelOptions::signature"));
  }
}

TEST_SUITE("RemoteModel per-call options") {
  TEST_CASE("a 503 or 429 with Retry-After carries it (and the HTTP status) in the status") {
    Fixture f;
    f.fake->OnJson(maas::HttpMethod::kGet, kMetadataPath, kMetadata);
    maas::HttpResponse busy;
    busy.status = 429;
    busy.headers.Add("Retry-After", "7");
    busy.body = R"({"error":"slow down"})";
    f.fake->On(maas::HttpMethod::kPost, kInferPath, busy);
    std::vector<float> x = {1, 2, 3}, y = {-7, -7};
    absl::Status s = f.model->Predict({maas::ConstTensorView("state", absl::MakeConstSpan(x), {1, 3})},
                                      {maas::TensorView("force", absl::MakeSpan(y), {1, 2})});
    CHECK(s.code() == absl::StatusCode::kResourceExhausted);
    CHECK(maas::HttpStatusOf(s) == 429);
    CHECK(maas::RetryAfterOf(s) == absl::Seconds(7));
    CHECK(y == std::vector<float>{-7, -7});
  }

  TEST_CASE("a call deadline reaches the transport, a passed one sends nothing, the report says remote") {
    Fixture f;
    f.fake->OnJson(maas::HttpMethod::kGet, kMetadataPath, kMetadata);
    f.fake->OnJson(maas::HttpMethod::kPost, kInferPath, JsonReply({1.5f, 2.5f}, 1));
    std::vector<float> x = {1, 2, 3}, y = {0, 0};
    const absl::Time deadline = absl::Now() + absl::Seconds(3);
    maas::CallOptions o;
    o.deadline = deadline;
    maas::CallReport r;
    REQUIRE(static_cast<maas::Predictor&>(*f.model)
                .Predict({maas::ConstTensorView("state", absl::MakeConstSpan(x), {1, 3})},
                         {maas::TensorView("force", absl::MakeSpan(y), {1, 2})}, o, &r)
                .ok());
    CHECK(y[1] == 2.5f);
    CHECK(r.served_by == "remote");
    CHECK(r.attempts == 1);
    const auto reqs = f.fake->requests();
    REQUIRE(reqs.size() == 2);  // metadata, then infer: both under the deadline
    CHECK(reqs[0].deadline == deadline);
    CHECK(reqs[1].deadline == deadline);
    o.deadline = absl::Now() - absl::Milliseconds(1);
    CHECK(static_cast<maas::Predictor&>(*f.model)
              .Predict({maas::ConstTensorView("state", absl::MakeConstSpan(x), {1, 3})},
                       {maas::TensorView("force", absl::MakeSpan(y), {1, 2})}, o)
              .code() == absl::StatusCode::kDeadlineExceeded);
    CHECK(f.fake->requests().size() == 2);
  }
}
