// RemoteModel against a real Seldon MLServer (PyPI mlserver + mlserver-sklearn)
// on loopback serving a scikit-learn Pipeline(StandardScaler, MLPRegressor)
// trained at fixture start (mlserver_server.py). The local network loads the
// same model converted by tools/convert_sklearn.py; remote (scikit-learn's
// own predict) and local must agree. Also the V2 repository extension.
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "doctest/doctest.h"
#include "maas/local/model_file.h"
#include "maas/local/network.h"
#include "maas/remote/httplib_transport.h"
#include "maas/remote/remote_model.h"
#include "remote/server/server_state.h"
#include "testing/status_doctest.h"

namespace {

using NetSk = maas::Network<double, maas::Dense<4, 16, maas::Tanh>,
                            maas::Dense<16, 16, maas::Tanh>, maas::Dense<16, 2>>;

std::string MlserverUrl() {
  std::string why;
  std::string url = maas_test::ServerUrl("mlserver", &why);
  REQUIRE_MESSAGE(!url.empty(), why);
  return url;
}

std::unique_ptr<maas::RemoteModel> Connect(std::string model, std::string version = "") {
  maas::RemoteModelOptions o;
  o.model = std::move(model);
  o.version = std::move(version);
  auto r = maas::ConnectRemoteModel(MlserverUrl(), o);
  REQUIRE(r.ok());
  return std::move(*r);
}

}  // namespace

TEST_SUITE("MLServer") {
  TEST_CASE("scikit-learn on MLServer and the converted local network agree over V2 JSON") {
    auto local = maas::LoadLocalModel<NetSk>(
        absl::StrCat(MAAS_TEST_STATE_DIR, "/mlserver/sk_mlp.json"));
    REQUIRE_MESSAGE(local.ok(), local.status().ToString());
    for (std::string version : {"", "1"}) {
      CAPTURE(version);
      auto remote = Connect("sk", version);
      auto sig = remote->Signature();
      REQUIRE(sig.ok());
      CHECK(sig->inputs[0] == (*local)->signature().inputs[0]);
      CHECK(sig->outputs[0] == (*local)->signature().outputs[0]);
      std::mt19937 rng(3);
      std::uniform_real_distribution<double> d(-3.0, 6.0);
      for (std::int64_t rows : {1, 5, 200}) {
        std::vector<double> x(static_cast<std::size_t>(rows) * 4);
        for (double& v : x) v = d(rng);
        std::vector<double> want(static_cast<std::size_t>(rows) * 2);
        std::vector<double> got(want.size(), -1.0);
        auto in = {maas::ConstTensorView("x", absl::MakeConstSpan(x), {rows, 4})};
        REQUIRE((*local)->Predict(in, {maas::TensorView("predict", absl::MakeSpan(want), {rows, 2})}).ok());
        absl::Status s = remote->Predict(in, {maas::TensorView("predict", absl::MakeSpan(got), {rows, 2})});
        REQUIRE_MESSAGE(s.ok(), s.ToString());
        double worst = 0;
        for (std::size_t i = 0; i < got.size(); ++i) {
          worst = std::max(worst, maas_test::RelErr(got[i], want[i], 1e-6));
        }
        // Both sides compute in double; only summation order differs.
        CHECK(worst <= 1e-9);
      }
    }
  }

  TEST_CASE("server metadata, health and an unknown version") {
    auto remote = Connect("sk");
    CHECK(remote->ServerLive().value_or(false));
    CHECK(remote->ServerReady().value_or(false));
    auto md = remote->GetServerMetadata();
    REQUIRE(md.ok());
    CHECK(md->name == "mlserver");
    auto wrong = Connect("sk", "999");
    std::vector<double> x(4), y(2, -7.0);
    absl::Status s = wrong->Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 4})},
                                    {maas::TensorView("predict", absl::MakeSpan(y), {1, 2})});
    CHECK(s.code() == absl::StatusCode::kNotFound);
    CHECK(y == std::vector<double>(2, -7.0));
  }

  TEST_CASE("repository index, unload and load through the V2 repository extension") {
    auto remote = Connect("sk_spare");
    auto index = remote->RepositoryIndex();
    REQUIRE_MESSAGE(index.ok(), index.status().ToString());
    bool listed = false;
    for (const maas::RepositoryModel& m : *index) {
      if (m.name == "sk_spare") listed = m.state == "READY";
    }
    CHECK(listed);
    REQUIRE(remote->UnloadModel("sk_spare").ok());
    CHECK_FALSE(remote->ModelReady().value_or(true));
    REQUIRE(remote->LoadModel("sk_spare").ok());
    CHECK(remote->ModelReady().value_or(false));
    auto missing = remote->LoadModel("no_such_model");
    CHECK(missing.code() == absl::StatusCode::kNotFound);
  }
}
