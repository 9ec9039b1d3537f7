// ReplicaSetPredictor over two real KServe servers started for this test
// (tests/remote/server/serve.py, model mlp16): 4 simulation threads call
// continuously while server "b" is killed and, later, started again on the
// same port. Every call must succeed with the right answer (failover), "b"
// must be ejected while down and serve again after it is back.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "doctest/doctest.h"
#include "maas/metrics/prometheus.h"
#include "maas/metrics/registry.h"
#include "maas/remote/http_client_transport.h"
#include "maas/routing/replicas.h"
#include "nlohmann/json.hpp"
#include "remote/server/mlp16_agreement.h"
#include "testing/status_doctest.h"

namespace {

// A dedicated KServe server serving mlp16, started and stopped with serve.py.
class Server {
 public:
  explicit Server(std::string name)
      : state_(std::string(MAAS_TEST_BINARY_DIR) + "/replica_" + name + "_" +
               std::to_string(::getpid()) + ".state.json") {}
  ~Server() { Stop(); }

  // Starts on `port` (0: a free one); true when ready.
  bool Start(int port = 0) {
    const std::string cmd = std::string(MAAS_TEST_PYTHON3) + " " MAAS_TEST_SOURCE_DIR
                            "/tests/remote/server/serve.py start --state " + state_ +
                            " --python " MAAS_TEST_KSERVE_PYTHON " --lifetime 300 --ready /v2/health/ready"
                            " --ready /v2/models/mlp16/ready --port " + std::to_string(port) +
                            " -- " MAAS_TEST_SOURCE_DIR "/tests/remote/server/kserve_server.py"
                            " --http_port {port} --enable_grpc false --enable_latency_logging false"
                            " --configure_logging false --model mlp16=" MAAS_TEST_SOURCE_DIR
                            "/tests/remote/server/data/mlp16.json > /dev/null";
    if (std::system(cmd.c_str()) != 0) return false;
    std::ifstream in(state_);
    std::stringstream ss;
    ss << in.rdbuf();
    const nlohmann::json st = nlohmann::json::parse(ss.str(), nullptr, false);
    if (st.is_discarded()) return false;
    url_ = st["url"].get<std::string>();
    port_ = st["port"].get<int>();
    return true;
  }
  void Stop() {
    const std::string cmd = std::string(MAAS_TEST_PYTHON3) + " " MAAS_TEST_SOURCE_DIR
                            "/tests/remote/server/serve.py stop --state " + state_ + " > /dev/null";
    (void)std::system(cmd.c_str());
  }
  const std::string& url() const { return url_; }
  int port() const { return port_; }

 private:
  std::string state_, url_;
  int port_ = 0;
};

}  // namespace

TEST_SUITE("ReplicasServer") {

TEST_CASE("two KServe replicas, one killed and restarted: every call answered, the dead one ejected, then back") {
  if (::access(MAAS_TEST_KSERVE_PYTHON, X_OK) != 0) {
    MESSAGE("MAAS_SKIPPED: " MAAS_TEST_KSERVE_PYTHON " is missing (tools/bootstrap.sh --kserve)");
    return;
  }
  Server a("a"), b("b");
  std::thread start_b([&b] { CHECK(b.Start()); });
  REQUIRE(a.Start());
  start_b.join();
  REQUIRE(!b.url().empty());

  maas::MetricsRegistry registry;
  std::vector<std::unique_ptr<maas::Predictor>> replicas;
  for (const Server* s : {&a, &b}) {
    maas::RemoteModelOptions o;
    o.model = "mlp16";
    o.binary = true;
    maas::HttpTransportOptions http;
    http.connect_timeout = absl::Milliseconds(500);
    auto m = maas::ConnectRemoteModel(s->url(), o, http);
    REQUIRE(m.ok());
    replicas.push_back(*std::move(m));
  }
  maas::ReplicaOptions ro;
  ro.names = {"a", "b"};
  ro.consecutive_failures = 3;
  ro.base_ejection = absl::Milliseconds(500);
  ro.max_ejection = absl::Seconds(2);
  ro.decay = absl::Seconds(1);
  ro.metrics = &registry;
  ro.metrics_model = "mlp16";
  auto set = maas::ReplicaSetPredictor::Create(std::move(replicas), ro);
  REQUIRE(set.ok());
  maas::Predictor& model = **set;

  static const auto ref = maas_test::LoadMlp16<double>();
  std::atomic<bool> stop{false};
  std::atomic<int> failed{0}, wrong{0}, calls{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(77 + t);
      std::normal_distribution<float> d(0.f, 1.f);
      std::vector<float> x(16), y(8);
      std::vector<double> x64(16), want(8);
      while (!stop.load()) {
        for (float& v : x) v = d(rng);
        absl::Status s = model.Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 16})},
                                       {maas::TensorView("y", absl::MakeSpan(y), {1, 8})},
                                       maas::CallOptions::Timeout(absl::Seconds(5)));
        calls.fetch_add(1);
        if (!s.ok()) {
          if (failed.fetch_add(1) == 0) MESSAGE("first failure: " << s);
          continue;
        }
        x64.assign(x.begin(), x.end());
        if (!ref->PredictRows(x64, absl::MakeSpan(want)).ok()) wrong.fetch_add(1);
        for (int k = 0; k < 8; ++k) {
          if (maas_test::RelErr(y[k], want[k], 1e-6) > 1e-5) {
            wrong.fetch_add(1);
            break;
          }
        }
      }
    });
  }
  auto b_ok = [&] {
    return registry.Snapshot().Value("maas_endpoint_requests_total",
                                     {{"endpoint", "b"}, {"result", "ok"}}).value_or(0);
  };
  auto wait_for = [](auto pred, absl::Duration limit) {
    const absl::Time end = absl::Now() + limit;
    while (!pred() && absl::Now() < end) absl::SleepFor(absl::Milliseconds(20));
    return pred();
  };
  // 1. Both up: both serve.
  CHECK(wait_for([&] { return b_ok() >= 20; }, absl::Seconds(20)));
  const double b_before = b_ok();
  // 2. b killed: calls go on, b is ejected.
  b.Stop();
  const absl::Time killed = absl::Now();
  CHECK(wait_for([&] { return (*set)->stats()[1].ejected; }, absl::Seconds(10)));
  const int calls_at_kill = calls.load();
  absl::SleepFor(absl::Seconds(1));
  const int calls_while_down = calls.load() - calls_at_kill;
  const double b_down = b_ok();
  // 3. b started again on its port: after its back-off it serves again.
  REQUIRE(b.Start(b.port()));
  const absl::Duration down_for = absl::Now() - killed;
  CHECK(wait_for([&] { return b_ok() >= b_down + 20; }, absl::Seconds(20)));
  stop.store(true);
  for (auto& t : threads) t.join();

  const auto st = (*set)->stats();
  MESSAGE("calls " << calls.load() << ", failed " << failed.load() << ", wrong " << wrong.load()
                   << "; b: ok before the kill " << b_before << ", down for " << down_for
                   << " (" << calls_while_down << " calls in 1 s of it, all answered), b ejected "
                   << st[1].ejections << " times, ok after restart " << b_ok() - b_down
                   << "; failovers " << (*set)->failovers() << "\n"
                   << maas::PrometheusText(registry));
  CHECK(failed.load() == 0);
  CHECK(wrong.load() == 0);
  CHECK(st[1].ejections >= 1);
  CHECK(!st[0].ejected);
  CHECK(calls_while_down > 0);
}

}  // TEST_SUITE
