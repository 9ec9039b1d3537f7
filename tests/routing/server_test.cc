// The routing classes against the real KServe server of the test suite
// (fixture maas_kserve, tests/remote/server: mlp16 unversioned and as
// versions 1 and 2): micro-batching from 8 threads, the migrate sequence
// v1 -> v2 (shadow, canary, promote) and a rollback, async predict, the
// local/remote router, and the load test through batching + resilience +
// metrics (MAAS_LOAD_CALLS calls per thread; 1000 by default, the full
// 100000 with `MAAS_LOAD_CALLS=100000`, see docs/PERFORMANCE.md).
#include <malloc.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "doctest/doctest.h"
#include "maas/metrics/prometheus.h"
#include "maas/metrics/registry.h"
#include "maas/observed_model.h"
#include "maas/remote/http_client_transport.h"
#include "maas/routing/async.h"
#include "maas/routing/batching.h"
#include "maas/routing/rollout.h"
#include "maas/routing/router.h"
#include "remote/server/mlp16_agreement.h"
#include "remote/server/server_state.h"
#include "testing/status_doctest.h"

namespace {

std::unique_ptr<maas::RemoteModel> Connect(const std::string& version = "", bool binary = true) {
  std::string why;
  const std::string url = maas_test::ServerUrl("kserve", &why);
  REQUIRE_MESSAGE(!url.empty(), why);
  maas::RemoteModelOptions o;
  o.model = "mlp16";
  o.version = version;
  o.binary = binary;
  auto m = maas::ConnectRemoteModel(url, o);
  REQUIRE(m.ok());
  return *std::move(m);
}

std::vector<float> Rows(std::mt19937* rng, int rows) {
  std::normal_distribution<float> d(0.f, 1.5f);
  std::vector<float> x(static_cast<std::size_t>(rows) * 16);
  for (float& v : x) v = d(*rng);
  return x;
}

absl::Status Call(maas::Predictor& p, const std::vector<float>& x, std::vector<float>* y,
                  maas::CallOptions call = {}, maas::CallReport* report = nullptr) {
  const auto rows = static_cast<std::int64_t>(x.size() / 16);
  y->assign(static_cast<std::size_t>(rows) * 8, -7.f);
  return p.Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {rows, 16})},
                   {maas::TensorView("y", absl::MakeSpan(*y), {rows, 8})}, call, report);
}

// The float64 local reference of version 1 (mlp16.json) or 2.
bool AgreesWith(const maas::Predictor& /*unused*/, const std::vector<float>& x,
                const std::vector<float>& y, int version) {
  static const auto v1 = maas_test::LoadMlp16<double>();
  static const auto v2 = [] {
    auto m = maas::LoadLocalModel<maas_test::Mlp16Net<double>>(
        maas_test::SourcePath("tests/routing/data/mlp16_v2.json"));
    REQUIRE(m.ok());
    return *std::move(m);
  }();
  std::vector<double> x64(x.begin(), x.end()), want(y.size());
  if (!(version == 1 ? v1 : v2)->PredictRows(x64, absl::MakeSpan(want)).ok()) return false;
  for (std::size_t i = 0; i < y.size(); ++i) {
    if (maas_test::RelErr(y[i], want[i], 1e-6) > 1e-5) return false;
  }
  return true;
}

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define MAAS_TEST_SANITIZED_HEAP 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define MAAS_TEST_SANITIZED_HEAP 1
#endif
#endif

#ifdef MAAS_TEST_SANITIZED_HEAP
extern "C" std::size_t __sanitizer_get_current_allocated_bytes();
#endif

// Bytes the program holds from the heap right now (allocated, not freed):
// the sanitizer allocator's own count under ASan/TSan (its quarantine of
// freed blocks makes RSS grow without a leak), glibc's count otherwise.
long LiveHeapKiB() {
#ifdef MAAS_TEST_SANITIZED_HEAP
  return static_cast<long>(__sanitizer_get_current_allocated_bytes() / 1024);
#else
  return static_cast<long>(mallinfo2().uordblks / 1024);
#endif
}

#ifdef MAAS_TEST_SANITIZED_HEAP
constexpr bool kRssMeaningful = false;
#else
constexpr bool kRssMeaningful = true;
#endif

long RssKiB() {
  std::ifstream in("/proc/self/statm");
  long pages = 0, resident = 0;
  in >> pages >> resident;
  return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

}  // namespace

TEST_SUITE("RoutingServer") {

TEST_CASE("micro-batching against KServe: 8 threads of 1x16 share requests, every caller gets its own rows") {
  maas::BatchingPredictor b(Connect());
  constexpr int kThreads = 8, kCalls = 60;
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(100 + t);
      for (int i = 0; i < kCalls; ++i) {
        const std::vector<float> x = Rows(&rng, 1 + (i % 2));
        std::vector<float> y;
        if (!Call(b, x, &y).ok() || !AgreesWith(b, x, y, 1)) bad.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(bad.load() == 0);
  const maas::BatchingStats s = b.stats();
  MESSAGE(s.calls << " calls in " << s.batches << " requests (largest " << s.largest_batch
                  << " rows); " << s.direct << " passed straight through");
  CHECK(s.batches < s.calls);
}

TEST_CASE("migrate v1 -> v2 on KServe: shadow, canary, promote with no failed step") {
  std::ostringstream log;
  std::mutex log_mu;
  maas::MetricsRegistry registry;
  maas::RolloutOptions o;
  o.stage = maas::RolloutStage::kShadow;
  o.shadow_fraction = 0.25;
  o.canary_fraction = 0.25;
  o.max_abs = 0.05;   // v2 retrains the output layer: ~1e-3 expected
  o.max_rel = 0.05;
  o.relative_floor = 0.1;  // outputs are O(1); near-zero ones compare absolutely
  o.min_calls = 10;
  o.metrics = &registry;
  o.metrics_model = "mlp16";
  o.candidate_name = "v2";
  o.on_event = [&](const maas::RolloutEvent& e) {
    std::lock_guard<std::mutex> lock(log_mu);
    log << "  event: " << (e.kind == maas::RolloutEvent::Kind::kStageChanged ? "stage -> " : "")
        << (e.kind == maas::RolloutEvent::Kind::kStageChanged ? std::string(maas::RolloutStageName(e.stage))
                                                               : e.metric)
        << "\n";
  };
  maas::RolloutPredictor r(Connect("1"), Connect("2"), o);
  int failed = 0, from_v2 = 0, total = 0;
  auto step = [&](int calls, unsigned seed) {
    std::mt19937 rng(seed);
    for (int i = 0; i < calls; ++i) {
      const std::vector<float> x = Rows(&rng, 4);
      std::vector<float> y;
      maas::CallReport rep;
      ++total;
      if (!Call(r, x, &y, maas::CallOptions::Timeout(absl::Seconds(5)), &rep).ok()) {
        ++failed;
        continue;
      }
      const bool v2 = AgreesWith(r, x, y, 2) && !AgreesWith(r, x, y, 1);
      CHECK((v2 || AgreesWith(r, x, y, 1)));
      from_v2 += v2 ? 1 : 0;
    }
    r.Drain();
  };
  auto report = [&](const char* stage) {
    const maas::RolloutStats s = r.stats();
    std::lock_guard<std::mutex> lock(log_mu);
    log << stage << ": stage " << maas::RolloutStageName(s.stage) << ", served by v1 "
        << s.primary_served << " / v2 " << s.candidate_served << ", compared " << s.compared_calls
        << ", candidate error rate " << s.candidate_error_rate;
    for (const auto& d : s.divergence) {
      log << ", divergence '" << d.output << "' max_abs " << d.max_abs << " mean_abs " << d.mean_abs
          << " max_rel " << d.max_rel << " mean_rel " << d.mean_rel;
    }
    log << "\n";
  };
  std::string why;
  log << "migrate mlp16 v1 -> v2 on " << maas_test::ServerUrl("kserve", &why) << "\n";
  step(40, 1);
  report("1. shadow 25 %");
  REQUIRE(r.stage() == maas::RolloutStage::kShadow);
  CHECK(r.stats().compared_calls == 10);
  CHECK(r.stats().divergence[0].max_abs > 0);  // v2 is a different model
  CHECK(r.stats().divergence[0].max_abs < 0.05);
  r.SetStage(maas::RolloutStage::kCanary);
  step(40, 2);
  report("2. canary 25 %");
  REQUIRE(r.stage() == maas::RolloutStage::kCanary);
  CHECK(r.stats().candidate_served == 10);
  r.SetStage(maas::RolloutStage::kPromoted);
  step(20, 3);
  report("3. promoted");
  CHECK(failed == 0);
  CHECK(from_v2 == 10 + 20);
  log << "steps " << total << ", failed " << failed << ", answered by v2 " << from_v2 << "\n";
  const maas::MetricsSnapshot snap = registry.Snapshot();
  CHECK(snap.Value("maas_rollout_stage", {{"stage", "promoted"}}) == 1);
  CHECK(snap.Value("maas_rollout_calls_total", {{"served_by", "candidate"}}) == 30);
  MESSAGE(log.str() << "metrics:\n" << maas::PrometheusText(snap));
}

TEST_CASE("canary to a version the server does not have: rolled back, no failed step") {
  maas::RolloutOptions o;
  o.stage = maas::RolloutStage::kCanary;
  o.canary_fraction = 0.5;
  o.min_calls = 5;
  o.error_window = 20;
  o.max_error_rate = 0.5;
  std::vector<std::string> events;
  o.on_event = [&](const maas::RolloutEvent& e) {
    if (e.kind == maas::RolloutEvent::Kind::kRolledBack) events.push_back(e.metric);
  };
  maas::RolloutPredictor r(Connect("1"), Connect("9"), o);
  std::mt19937 rng(3);
  int failed = 0;
  for (int i = 0; i < 30; ++i) {
    const std::vector<float> x = Rows(&rng, 2);
    std::vector<float> y;
    if (!Call(r, x, &y).ok() || !AgreesWith(r, x, y, 1)) ++failed;
  }
  CHECK(failed == 0);
  const maas::RolloutStats s = r.stats();
  CHECK(s.stage == maas::RolloutStage::kRolledBack);
  CHECK(s.canary_failures == 5);
  CHECK(events == std::vector<std::string>{"error_rate"});
  MESSAGE("rolled back after " << s.canary_failures << " failed canary calls ("
                               << s.rollback_reason << "); every step answered by v1");
}

TEST_CASE("async predict against KServe: the future's outputs are the synchronous call's") {
  maas::AsyncPredictor a(Connect());
  std::mt19937 rng(5);
  for (int i = 0; i < 20; ++i) {
    const std::vector<float> x = Rows(&rng, 1 + i % 4);
    std::vector<float> y(x.size() / 2, -7.f), sync;
    const auto rows = static_cast<std::int64_t>(x.size() / 16);
    auto f = a.PredictAsync({maas::ConstTensorView("x", absl::MakeConstSpan(x), {rows, 16})},
                            {maas::TensorView("y", absl::MakeSpan(y), {rows, 8})},
                            maas::CallOptions::Timeout(absl::Seconds(5)));
    REQUIRE(f.ok());
    REQUIRE(f->Wait().ok());
    CHECK(f->report().served_by == "remote");
    REQUIRE(Call(a, x, &sync).ok());
    CHECK(y == sync);
  }
}

TEST_CASE("the router against KServe: answers agree whichever side serves and it learns both costs") {
  auto local = maas_test::LoadMlp16<float>();
  maas::RouterOptions o;
  o.explore_fraction = 0.2;
  maas::LatencyRouter router(std::move(local), Connect(), o);
  std::mt19937 rng(6);
  for (int i = 0; i < 40; ++i) {
    const int rows = 1 << (i % 8);  // 1 .. 128
    const std::vector<float> x = Rows(&rng, rows);
    std::vector<float> y;
    REQUIRE(Call(router, x, &y).ok());
    // Local float32 or server float64: within the float32 bound of mlp16_agreement.h.
    static const auto ref = maas_test::LoadMlp16<double>();
    std::vector<double> x64(x.begin(), x.end()), want(y.size());
    REQUIRE(ref->PredictRows(x64, absl::MakeSpan(want)).ok());
    for (std::size_t k = 0; k < y.size(); ++k) CHECK(maas_test::RelErr(y[k], want[k], 0.1) <= 1e-4);
  }
  const maas::RouterCost l = router.Cost(0), r = router.Cost(1);
  CHECK(l.observations >= 3);
  CHECK(r.observations >= 3);
  MESSAGE("local " << l.per_call * 1e6 << " us + " << l.per_row * 1e6 << " us/row; remote "
                   << r.per_call * 1e6 << " us + " << r.per_row * 1e6 << " us/row; crossover "
                   << router.CrossoverRows() << " rows");
}

TEST_CASE("load: 8 threads through batching + resilience + metrics: no error, flat memory, exact counts") {
  std::string why;
  const std::string url = maas_test::ServerUrl("kserve", &why);
  REQUIRE_MESSAGE(!url.empty(), why);
  const char* env = std::getenv("MAAS_LOAD_CALLS");
  const int calls = env != nullptr ? std::atoi(env) : 1000;
  REQUIRE(calls >= 100);
  constexpr int kThreads = 8;
  maas::MetricsRegistry registry;
  maas::ObservedOptions oo;
  oo.resilient.remote.binary = true;
  oo.batching = maas::BatchingOptions();
  auto model = maas::ConnectObserved(url, "mlp16", maas_test::LoadMlp16<float>(), &registry, oo);
  REQUIRE(model.ok());
  maas::Predictor& m = **model;
  std::atomic<int> errors{0}, fallbacks{0};
  std::atomic<int> warm{0};
  std::atomic<long> rss_warm{0}, heap_warm{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(1000 + t);
      std::vector<float> x = Rows(&rng, 1), y(8);
      maas::CallReport rep;
      for (int i = 0; i < calls; ++i) {
        if (i == calls / 10 && warm.fetch_add(1) + 1 == kThreads) {
          rss_warm.store(RssKiB());
          heap_warm.store(LiveHeapKiB());
        }
        x[static_cast<std::size_t>(i % 16)] = static_cast<float>(i % 7) * 0.25f;
        absl::Status s = m.Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 16})},
                                   {maas::TensorView("y", absl::MakeSpan(y), {1, 8})},
                                   maas::CallOptions::Timeout(absl::Seconds(10)), &rep);
        if (!s.ok()) errors.fetch_add(1);
        if (rep.fell_back) fallbacks.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  const long rss_end = RssKiB();
  const long heap_end = LiveHeapKiB();
  const double total = static_cast<double>(kThreads) * calls;
  const maas::MetricsSnapshot snap = registry.Snapshot();
  const std::string text = maas::PrometheusText(snap);
  const std::string prom = std::string(MAAS_TEST_STATE_DIR) + "/load_test.prom";
  CHECK(maas::WritePrometheusTextFile(prom, text).ok());
  const maas::BatchingStats bs = (*model)->batching_stats();
  const maas::TransportCounters tc = (*model)->transport_counters();
  MESSAGE(kThreads << " x " << calls << " calls: " << errors.load() << " errors, " << fallbacks.load()
                   << " fallbacks; " << bs.batches << " batched requests (largest " << bs.largest_batch
                   << " rows), " << tc.requests << " HTTP requests, " << tc.bytes_sent << " B sent, "
                   << tc.bytes_received << " B received; RSS " << rss_warm.load() << " KiB after warm-up, "
                   << rss_end << " KiB at the end; live heap " << heap_warm.load() << " KiB after warm-up, "
                   << heap_end << " KiB at the end; metrics in " << prom);
  CHECK(errors.load() == 0);
  CHECK(fallbacks.load() == 0);
  // No leak: the heap the program holds does not grow with the calls (256
  // KiB is 32 bytes per call at the default 1000 calls per thread). RSS is
  // checked too where it means something: a sanitizer's quarantine of freed
  // blocks makes it grow without a leak.
  CHECK(heap_end - heap_warm.load() < 256);
  if (kRssMeaningful) CHECK(rss_end - rss_warm.load() < 1024);
  const maas::MetricLabels top{{"model", "mlp16"}, {"backend", "remote+local"}};
  const maas::MetricLabels remote{{"model", "mlp16"}, {"backend", "remote"}};
  CHECK(snap.Value("maas_predict_requests_total", {{"backend", "remote+local"}, {"code", "OK"}}) == total);
  CHECK(snap.Sum("maas_predict_requests_total", top) == total);
  CHECK(snap.Value("maas_predict_rows_total", top) == total);
  CHECK(snap.Histogram("maas_predict_duration_seconds", top)->count == total);
  CHECK(snap.Value("maas_in_flight_requests", top) == 0);
  CHECK(snap.Value("maas_retries_total", top) == 0);
  // Every row reached the server; the server saw one request per batch (plus
  // the calls that went straight through before the first answer).
  CHECK(snap.Value("maas_predict_rows_total", remote) == total);
  const double remote_calls = snap.Sum("maas_predict_requests_total", remote);
  CHECK(remote_calls == static_cast<double>(bs.batches + bs.direct));
  CHECK(static_cast<double>(tc.requests) >= remote_calls);  // + the signature fetch
  CHECK(snap.Value("maas_batches_total") == static_cast<double>(bs.batches));
  CHECK(snap.Value("maas_remote_sent_bytes_total") == static_cast<double>(tc.bytes_sent));
  CHECK(snap.Value("maas_circuit_state") == 0);
  CHECK(snap.Sum("maas_fallbacks_total") == 0);
}

}  // TEST_SUITE
