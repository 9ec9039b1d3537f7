// RemoteModel against a real KServe ModelServer (PyPI kserve) on loopback,
// serving tests/remote/server/data/mlp16.json with a NumPy forward pass: the
// remote results must agree with LocalModel on the same file over V2 JSON,
// V2 binary, V1 row and V1 columnar; error paths use the real server too.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "doctest/doctest.h"
#include "maas/local/model_file.h"
#include "maas/local/network.h"
#include "maas/remote/http_status.h"
#include "maas/remote/httplib_transport.h"
#include "maas/remote/remote_model.h"
#include "remote/server/mlp16_agreement.h"
#include "remote/server/server_state.h"
#include "testing/status_doctest.h"

namespace {

std::string KServeUrl() {
  std::string why;
  std::string url = maas_test::ServerUrl("kserve", &why);
  REQUIRE_MESSAGE(!url.empty(), why);
  return url;
}

std::vector<float> RandomRows(std::size_t rows, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, 1.5f);
  std::vector<float> x(rows * 16);
  for (float& v : x) v = d(rng);
  return x;
}

struct Mode {
  const char* name;
  maas::RemoteProtocol protocol;
  bool binary;
  maas::TfServingFormat format;
};

const Mode kModes[] = {
    {"V2 JSON", maas::RemoteProtocol::kKServeV2, false, maas::TfServingFormat::kColumnar},
    {"V2 binary", maas::RemoteProtocol::kKServeV2, true, maas::TfServingFormat::kColumnar},
    {"V1 row", maas::RemoteProtocol::kTfServingV1, false, maas::TfServingFormat::kRow},
    {"V1 columnar", maas::RemoteProtocol::kTfServingV1, false, maas::TfServingFormat::kColumnar},
};

std::unique_ptr<maas::RemoteModel> Connect(const Mode& m, std::string model = "mlp16",
                                           maas::HttpTransportOptions http = {}) {
  maas::RemoteModelOptions o;
  o.model = std::move(model);
  o.protocol = m.protocol;
  o.binary = m.binary;
  o.tf_format = m.format;
  auto r = maas::ConnectRemoteModel(KServeUrl(), o, http);
  REQUIRE(r.ok());
  return std::move(*r);
}

// A loopback port nothing listens on: bound once by the kernel's choice,
// then closed.
int ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&addr), len) == 0);
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

TEST_SUITE("KServe server") {
  TEST_CASE("remote and local outputs agree over V2 JSON, V2 binary, V1 row and V1 columnar") {
    for (const Mode& m : kModes) {
      CAPTURE(m.name);
      auto remote = Connect(m);
      maas::Predictor& p = *remote;
      for (std::size_t rows : {std::size_t{1}, std::size_t{7}, std::size_t{256}}) {
        CAPTURE(rows);
        std::vector<float> x = RandomRows(rows, static_cast<unsigned>(rows));
        std::vector<float> got(rows * 8, -1.f);
        const auto r = static_cast<std::int64_t>(rows);
        absl::Status s = p.Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {r, 16})},
                                   {maas::TensorView("y", absl::MakeSpan(got), {r, 8})});
        REQUIRE_MESSAGE(s.ok(), s.ToString());
        maas_test::CheckMlp16Agreement(x, got);
      }
    }
  }

  TEST_CASE("the signature from the server's metadata equals the local model's") {
    auto local = maas_test::LoadMlp16<float>();
    auto remote = Connect(kModes[0]);
    auto sig = remote->Signature();
    REQUIRE(sig.ok());
    REQUIRE(sig->inputs.size() == 1);
    REQUIRE(sig->outputs.size() == 1);
    CHECK(sig->inputs[0] == local->signature().inputs[0]);
    CHECK(sig->outputs[0] == local->signature().outputs[0]);
  }

  TEST_CASE("health, readiness and server metadata") {
    auto remote = Connect(kModes[0]);
    CHECK(remote->ServerLive().value_or(false));
    CHECK(remote->ServerReady().value_or(false));
    CHECK(remote->ModelReady().value_or(false));
    auto md = remote->GetServerMetadata();
    REQUIRE(md.ok());
    CHECK(md->name == "kserve");
    auto missing = Connect(kModes[0], "no_such_model");
    auto ready = missing->ModelReady();
    REQUIRE(ready.ok());
    CHECK_FALSE(*ready);
    auto v1 = Connect(kModes[2]);
    CHECK(v1->ModelReady().value_or(false));
  }

  TEST_CASE("an unknown model is kNotFound with the server's message") {
    for (const Mode& m : kModes) {
      CAPTURE(m.name);
      auto remote = Connect(m, "no_such_model");
      std::vector<float> x(16), y(8, -7.f);
      absl::Status s = remote->Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 16})},
                                       {maas::TensorView("y", absl::MakeSpan(y), {1, 8})});
      CHECK(s.code() == absl::StatusCode::kNotFound);
      CHECK(absl::StrContains(s.message(), "no_such_model"));
      CHECK(maas::HttpStatusOf(s) == 404);
      CHECK(y == std::vector<float>(8, -7.f));
    }
  }

  TEST_CASE("a server-side rejection is kInvalidArgument carrying the server's error text") {
    // A wrong signature given by the caller gets past the client's checks;
    // the server's own validation answers 400.
    maas::RemoteModelOptions o;
    o.model = "mlp16";
    o.signature = maas::ModelSignature{
        "mlp16", "", {{"x", maas::DataType::kFloat32, {maas::kDynamic, 15}}},
        {{"y", maas::DataType::kFloat32, {maas::kDynamic, 8}}}, 0};
    for (bool binary : {false, true}) {
      o.binary = binary;
      auto remote = maas::ConnectRemoteModel(KServeUrl(), o);
      REQUIRE(remote.ok());
      std::vector<float> x(15), y(8, -7.f);
      absl::Status s = (*remote)->Predict(
          {maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 15})},
          {maas::TensorView("y", absl::MakeSpan(y), {1, 8})});
      CHECK(s.code() == absl::StatusCode::kInvalidArgument);
      CHECK(absl::StrContains(s.message(), "must have shape [batch, 16], got [1, 15]"));
      CHECK(maas::HttpStatusOf(s) == 400);
      CHECK(y == std::vector<float>(8, -7.f));
    }
  }

  TEST_CASE("a wrong shape is rejected by the client with LocalModel's message") {
    auto local = maas_test::LoadMlp16<float>();
    auto remote = Connect(kModes[0]);
    std::vector<float> x(2 * 15), y(16);
    auto in = {maas::ConstTensorView("x", absl::MakeConstSpan(x), {2, 15})};
    auto out = {maas::TensorView("y", absl::MakeSpan(y), {2, 8})};
    absl::Status s = remote->Predict(in, out);
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    CHECK(s == local->Predict(in, out));
    CHECK_FALSE(maas::HttpStatusOf(s).has_value());
  }

  TEST_CASE("a slow model past the timeout is kDeadlineExceeded without waiting for it") {
    maas::HttpTransportOptions http;
    http.bearer_token = "tok-do-not-print";
    auto remote = Connect(kModes[0], "slow", http);
    REQUIRE(remote->Signature().ok());  // metadata is fast; only predict sleeps
    maas::RemoteModelOptions o = remote->options();
    o.timeout = absl::Milliseconds(300);
    auto timed = maas::ConnectRemoteModel(KServeUrl(), o, http);
    REQUIRE(timed.ok());
    std::vector<float> x(16), y(8, -7.f);
    const auto t0 = std::chrono::steady_clock::now();
    absl::Status s = (*timed)->Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 16})},
                                       {maas::TensorView("y", absl::MakeSpan(y), {1, 8})});
    const auto waited = std::chrono::steady_clock::now() - t0;
    CHECK(s.code() == absl::StatusCode::kDeadlineExceeded);
    CHECK(s.ToString().find("tok-do-not-print") == std::string::npos);
    // The server sleeps 2 s; the client must give up at its own timeout.
    CHECK(waited < std::chrono::milliseconds(1500));
    CHECK(y == std::vector<float>(8, -7.f));
  }

  TEST_CASE("concurrent predictions from several threads all agree with the local model") {
    auto local = maas_test::LoadMlp16<double>();
    auto remote = Connect(kModes[1]);
    std::vector<std::thread> threads;
    std::vector<int> good(4, 0);
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 25; ++i) {
          std::vector<float> x = RandomRows(3, static_cast<unsigned>(100 * t + i));
          std::vector<double> x64(x.begin(), x.end()), want(24);
          std::vector<float> got(24);
          auto in = {maas::ConstTensorView("x", absl::MakeConstSpan(x), {3, 16})};
          if (!local->PredictRows(x64, absl::MakeSpan(want)).ok()) continue;
          if (!remote->Predict(in, {maas::TensorView("y", absl::MakeSpan(got), {3, 8})}).ok()) continue;
          bool same = true;
          for (std::size_t k = 0; k < 24; ++k) {
            // float64 reference: see mlp16_agreement.h for the bound.
            same = same && maas_test::RelErr(got[k], want[k], 1e-6) <= 1e-5;
          }
          good[static_cast<std::size_t>(t)] += same ? 1 : 0;
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(good == std::vector<int>(4, 25));
  }

  TEST_CASE("KServe has no repository index: kNotFound from its 404") {
    auto remote = Connect(kModes[0]);
    auto index = remote->RepositoryIndex();
    CHECK(index.status().code() == absl::StatusCode::kNotFound);
  }
}

TEST_SUITE("No server") {
  TEST_CASE("a server that is not running is kUnavailable, fast, for every call") {
    maas::RemoteModelOptions o;
    o.model = "mlp16";
    maas::HttpTransportOptions http;
    http.api_key = "key-do-not-print";
    const std::string url = absl::StrCat("http://127.0.0.1:", ClosedPort());
    auto remote = maas::ConnectRemoteModel(url, o, http);
    REQUIRE(remote.ok());
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<float> x(16), y(8);
    absl::Status s = (*remote)->Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 16})},
                                        {maas::TensorView("y", absl::MakeSpan(y), {1, 8})});
    CHECK(s.code() == absl::StatusCode::kUnavailable);
    CHECK(absl::StrContains(s.message(), url));
    CHECK(s.ToString().find("key-do-not-print") == std::string::npos);
    CHECK((*remote)->ServerLive().status().code() == absl::StatusCode::kUnavailable);
    CHECK((*remote)->Signature().status().code() == absl::StatusCode::kUnavailable);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(1));
  }
}
