// Many simulation threads sharing one remote model (one transport, one
// connection pool, one cached signature) against a real KServe server:
// every thread's every reply must be its own rows' result. Run in every
// configuration, and under ThreadSanitizer (label tsan, tools/test.d/25-tsan.sh).
#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "doctest/doctest.h"
#include "maas/local/model_file.h"
#include "maas/remote/http_client_transport.h"
#include "remote/server/mlp16_agreement.h"
#include "remote/server/server_state.h"
#include "testing/status_doctest.h"

namespace {

constexpr int kThreads = 8;
constexpr int kCallsPerThread = 40;

// Runs kThreads threads of kCallsPerThread predicts on `model` and returns
// how many replies disagreed with the float64 local reference (1e-5
// relative) or failed.
int Hammer(maas::Predictor& model) {
  static const auto local64 = maas_test::LoadMlp16<double>();
  std::atomic<int> bad{0};
  std::mutex mu;
  std::string first_error;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(1234 + t);
      std::normal_distribution<float> d(0.f, 1.5f);
      for (int i = 0; i < kCallsPerThread; ++i) {
        const std::size_t rows = 1 + (i + t) % 4;
        std::vector<float> x(rows * 16), y(rows * 8, -7.f);
        for (float& v : x) v = d(rng);
        // Unnamed views: matched to the server's tensors by position.
        absl::Status s = model.Predict(
            {maas::ConstTensorView("", absl::MakeConstSpan(x),
                                   {static_cast<std::int64_t>(rows), 16})},
            {maas::TensorView("", absl::MakeSpan(y), {static_cast<std::int64_t>(rows), 8})});
        if (!s.ok()) {
          if (bad.fetch_add(1) == 0) {
            std::lock_guard<std::mutex> lock(mu);
            first_error = s.ToString();
          }
          continue;
        }
        std::vector<double> x64(x.begin(), x.end()), want(rows * 8);
        if (!local64->PredictRows(x64, absl::MakeSpan(want)).ok()) {
          bad.fetch_add(1);
          continue;
        }
        for (std::size_t k = 0; k < y.size(); ++k) {
          if (maas_test::RelErr(y[k], want[k], 1e-6) > 1e-5) {
            bad.fetch_add(1);
            break;
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  if (!first_error.empty()) MESSAGE("first failure: " << first_error);
  return bad.load();
}

}  // namespace

TEST_SUITE("Concurrency") {

TEST_CASE("8 threads share one remote model: every reply is the caller's own (both engines, JSON and binary)") {
  std::string why;
  const std::string url = maas_test::ServerUrl("kserve", &why);
  REQUIRE_MESSAGE(!url.empty(), why);
  for (maas::HttpEngine engine : {maas::HttpEngine::kPlain, maas::HttpEngine::kCurl}) {
    for (bool binary : {false, true}) {
      CAPTURE(static_cast<int>(engine));
      CAPTURE(binary);
      maas::RemoteModelOptions o;
      o.model = "mlp16";
      o.binary = binary;
      maas::HttpTransportOptions http;
      http.engine = engine;
      auto model = maas::ConnectRemoteModel(url, o, http);
      REQUIRE(model.ok());
      CHECK(Hammer(**model) == 0);
    }
  }
}

}  // TEST_SUITE
