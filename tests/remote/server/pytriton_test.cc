// RemoteModel against a real Triton Inference Server (PyPI nvidia-pytriton,
// CPU-only) on loopback serving tests/remote/server/data/mlp16.json: remote
// and local outputs agree over V2 JSON and the binary tensor extension.
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "doctest/doctest.h"
#include "maas/local/model_file.h"
#include "maas/local/network.h"
#include "maas/remote/httplib_transport.h"
#include "maas/remote/remote_model.h"
#include "remote/server/mlp16_agreement.h"
#include "remote/server/server_state.h"
#include "testing/status_doctest.h"

namespace {

std::unique_ptr<maas::RemoteModel> Connect(bool binary, std::string model = "mlp16") {
  std::string why;
  const std::string url = maas_test::ServerUrl("pytriton", &why);
  REQUIRE_MESSAGE(!url.empty(), why);
  maas::RemoteModelOptions o;
  o.model = std::move(model);
  o.binary = binary;
  auto r = maas::ConnectRemoteModel(url, o);
  REQUIRE(r.ok());
  return std::move(*r);
}

}  // namespace

TEST_SUITE("Triton (PyTriton)") {
  TEST_CASE("Triton and the local network agree over V2 JSON and V2 binary") {
    auto local = maas_test::LoadMlp16<float>();
    for (bool binary : {false, true}) {
      CAPTURE(binary);
      auto remote = Connect(binary);
      auto sig = remote->Signature();
      REQUIRE_MESSAGE(sig.ok(), sig.status().ToString());
      CHECK(sig->inputs[0] == local->signature().inputs[0]);
      CHECK(sig->outputs[0] == local->signature().outputs[0]);
      std::mt19937 rng(11);
      std::normal_distribution<float> d(0.f, 1.5f);
      for (std::int64_t rows : {1, 33, 512}) {
        std::vector<float> x(static_cast<std::size_t>(rows) * 16);
        for (float& v : x) v = d(rng);
        std::vector<float> got(static_cast<std::size_t>(rows) * 8, -1.f);
        auto in = {maas::ConstTensorView("x", absl::MakeConstSpan(x), {rows, 16})};
        absl::Status s = remote->Predict(in, {maas::TensorView("y", absl::MakeSpan(got), {rows, 8})});
        REQUIRE_MESSAGE(s.ok(), s.ToString());
        maas_test::CheckMlp16Agreement(x, got);
      }
    }
  }

  TEST_CASE("Triton's metadata, health and errors map as documented") {
    auto remote = Connect(false);
    CHECK(remote->ServerLive().value_or(false));
    CHECK(remote->ServerReady().value_or(false));
    CHECK(remote->ModelReady().value_or(false));
    auto md = remote->GetServerMetadata();
    REQUIRE(md.ok());
    CHECK(md->name == "triton");
    CHECK(md->HasExtension("binary_tensor_data"));
    auto missing = Connect(false, "no_such_model");
    auto sig = missing->Signature();
    CHECK(sig.status().code() == absl::StatusCode::kNotFound);
    CHECK(absl::StrContains(sig.status().message(), "no_such_model"));
  }
}
