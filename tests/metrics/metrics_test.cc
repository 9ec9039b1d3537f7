// MetricsPredictor, the registry, snapshots, Prometheus text details, the
// text file and the periodic publisher; recording from many threads while
// snapshots are taken (run under ThreadSanitizer too).
#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "doctest/doctest.h"
#include "maas/metrics/metrics_predictor.h"
#include "maas/metrics/prometheus.h"
#include "maas/metrics/publisher.h"
#include "maas/metrics/registry.h"
#include "resilience/scripted_predictor.h"
#include "testing/status_doctest.h"

namespace {

using maas_test::ScriptedPredictor;

absl::Status Call(maas::Predictor& p, int rows) {
  std::vector<float> x(static_cast<std::size_t>(rows) * 2, 0.5f), y(static_cast<std::size_t>(rows) * 3);
  return p.Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {rows, 2})},
                   {maas::TensorView("y", absl::MakeSpan(y), {rows, 3})});
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A predictor that blocks until released, to observe in-flight calls.
class GatePredictor final : public maas::Predictor {
 public:
  absl::StatusOr<maas::ModelSignature> Signature() override { return maas::ModelSignature(); }
  void Open() { open_.store(true); }
  int entered() const { return entered_.load(); }

 protected:
  absl::Status DoPredict(absl::Span<const maas::ConstTensorView>,
                         absl::Span<const maas::TensorView>) override {
    entered_.fetch_add(1);
    while (!open_.load()) std::this_thread::yield();
    return absl::OkStatus();
  }

 private:
  std::atomic<bool> open_{false};
  std::atomic<int> entered_{0};
};

}  // namespace

TEST_SUITE("MetricsPredictor") {

TEST_CASE("counts calls by code, rows of successful calls, and every call in the histogram") {
  maas::MetricsRegistry registry;
  auto inner = std::make_unique<ScriptedPredictor>("remote");
  ScriptedPredictor* script = inner.get();
  script->Script({absl::OkStatus(), absl::UnavailableError("down"), absl::OkStatus(),
                  absl::InvalidArgumentError("bad")});
  maas::MetricsPredictor m(std::move(inner), &registry, maas::MetricsOptions{"drag", ""});
  CHECK(Call(m, 3).ok());
  CHECK(Call(m, 5).code() == absl::StatusCode::kUnavailable);
  CHECK(Call(m, 2).ok());
  CHECK(Call(m, 4).code() == absl::StatusCode::kInvalidArgument);
  CHECK(m.calls() == 4);
  const maas::MetricsSnapshot snap = registry.Snapshot();
  const maas::MetricLabels mine{{"model", "drag"}, {"backend", "remote"}};
  CHECK(snap.Value("maas_predict_requests_total", {{"code", "OK"}}) == 2);
  CHECK(snap.Value("maas_predict_requests_total", {{"code", "UNAVAILABLE"}}) == 1);
  CHECK(snap.Value("maas_predict_requests_total", {{"code", "INVALID_ARGUMENT"}}) == 1);
  CHECK(snap.Sum("maas_predict_requests_total", mine) == 4);
  CHECK(snap.Value("maas_predict_rows_total", mine) == 5);
  const maas::HistogramSample* h = snap.Histogram("maas_predict_duration_seconds", mine);
  REQUIRE(h != nullptr);
  CHECK(h->count == 4);
  CHECK(h->bucket_counts.size() == maas::kDurationBucketsSeconds.size() + 1);
  CHECK(h->sum >= 0);
  CHECK(snap.Value("maas_in_flight_requests", mine) == 0);
  // The backend label defaults to the wrapped predictor's label.
  CHECK(m.label() == "remote");
}

TEST_CASE("the in-flight gauge counts calls that have started and not ended") {
  maas::MetricsRegistry registry;
  auto gate = std::make_unique<GatePredictor>();
  GatePredictor* g = gate.get();
  maas::MetricsPredictor m(std::move(gate), &registry, maas::MetricsOptions{"m", "b"});
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&m] { (void)m.Predict({}, {}); });
  }
  while (g->entered() < 3) std::this_thread::yield();
  CHECK(registry.Snapshot().Value("maas_in_flight_requests") == 3);
  g->Open();
  for (auto& t : threads) t.join();
  CHECK(registry.Snapshot().Value("maas_in_flight_requests") == 0);
  CHECK(registry.Snapshot().Value("maas_predict_requests_total", {{"code", "OK"}}) == 3);
}

TEST_CASE("8 threads record while snapshots are taken: the final counts are exact") {
  maas::MetricsRegistry registry;
  auto inner = std::make_unique<ScriptedPredictor>("local");
  maas::MetricsPredictor m(std::move(inner), &registry, maas::MetricsOptions{"m", ""});
  constexpr int kThreads = 8, kCalls = 2000;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    double last = 0;
    while (!done.load()) {
      const double now = registry.Snapshot().Sum("maas_predict_requests_total");
      CHECK(now >= last);  // counters never go down
      last = now;
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&m, t] {
      for (int i = 0; i < kCalls; ++i) (void)Call(m, 1 + (i + t) % 3);
    });
  }
  for (auto& t : threads) t.join();
  done.store(true);
  reader.join();
  const maas::MetricsSnapshot snap = registry.Snapshot();
  CHECK(snap.Value("maas_predict_requests_total", {{"code", "OK"}}) == kThreads * kCalls);
  // Rows: each thread's calls cycle through 1, 2, 3 rows.
  double rows = 0;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kCalls; ++i) rows += 1 + (i + t) % 3;
  }
  CHECK(snap.Value("maas_predict_rows_total") == rows);
  CHECK(snap.Histogram("maas_predict_duration_seconds")->count == kThreads * kCalls);
}

TEST_CASE("a destroyed predictor's series leave the registry") {
  maas::MetricsRegistry registry;
  {
    maas::MetricsPredictor m(std::make_unique<ScriptedPredictor>(), &registry);
    CHECK(registry.size() == 1);
    CHECK(Call(m, 1).ok());
    CHECK(registry.Snapshot().Find("maas_predict_requests_total") != nullptr);
  }
  CHECK(registry.size() == 0);
  CHECK(registry.Snapshot().families.empty());
}

TEST_CASE("a null registry records without exporting") {
  maas::MetricsPredictor m(std::make_unique<ScriptedPredictor>(), nullptr);
  CHECK(Call(m, 1).ok());
  CHECK(m.calls() == 1);
}

}  // TEST_SUITE

TEST_SUITE("DurationHistogram") {

TEST_CASE("observations land in the first bucket whose bound they do not exceed") {
  maas::DurationHistogram h;
  for (double s : {1e-6, 5e-6, 6e-6, 1e-3, 0.3, 10.0, 11.0}) h.RecordSeconds(s);
  const maas::HistogramSample sample = h.Sample({});
  REQUIRE(sample.bucket_counts.size() == 21);
  CHECK(sample.bucket_counts[0] == 2);   // 1 us, 5 us   (le 5e-6)
  CHECK(sample.bucket_counts[1] == 1);   // 6 us         (le 1e-5)
  CHECK(sample.bucket_counts[7] == 1);   // 1 ms         (le 1e-3)
  CHECK(sample.bucket_counts[15] == 1);  // 0.3 s        (le 0.5)
  CHECK(sample.bucket_counts[19] == 1);  // 10 s         (le 10)
  CHECK(sample.bucket_counts[20] == 1);  // 11 s         (+Inf)
  CHECK(sample.sum == doctest::Approx(1e-6 + 5e-6 + 6e-6 + 1e-3 + 0.3 + 10 + 11).epsilon(1e-9));
}

}  // TEST_SUITE

TEST_SUITE("PrometheusText") {

TEST_CASE("numbers: integers exact, others shortest round-trip, special values by name") {
  CHECK(maas::detail::PrometheusNumber(0) == "0");
  CHECK(maas::detail::PrometheusNumber(12345678901234.0) == "12345678901234");
  CHECK(maas::detail::PrometheusNumber(2.5e-5) == "2.5e-05");
  CHECK(maas::detail::PrometheusNumber(0.1) == "0.1");
  CHECK(maas::detail::PrometheusNumber(1.0 / 3) == "0.3333333333333333");
  CHECK(maas::detail::PrometheusNumber(std::nan("")) == "NaN");
  CHECK(maas::detail::PrometheusNumber(HUGE_VAL) == "+Inf");
  CHECK(maas::detail::PrometheusNumber(-HUGE_VAL) == "-Inf");
}

TEST_CASE("HELP, TYPE, escaped labels and cumulative buckets") {
  maas::MetricsBuilder b;
  b.Counter("maas_x_total", "Help with \\ and\nnewline.", {{"l", "a\"b\\c\nd"}}, 3);
  b.Gauge("maas_g", "G.", {}, -1.5);
  maas::HistogramSample h;
  h.labels = {{"k", "v"}};
  h.upper_bounds = {0.5, 1};
  h.bucket_counts = {1, 0, 2};
  h.sum = 7.25;
  b.Histogram("maas_h_seconds", "H.", h);
  const std::string text = maas::PrometheusText(b.Take());
  CHECK(text ==
        "# HELP maas_x_total Help with \\\\ and\\nnewline.\n"
        "# TYPE maas_x_total counter\n"
        "maas_x_total{l=\"a\\\"b\\\\c\\nd\"} 3\n"
        "# HELP maas_g G.\n"
        "# TYPE maas_g gauge\n"
        "maas_g -1.5\n"
        "# HELP maas_h_seconds H.\n"
        "# TYPE maas_h_seconds histogram\n"
        "maas_h_seconds_bucket{k=\"v\",le=\"0.5\"} 1\n"
        "maas_h_seconds_bucket{k=\"v\",le=\"1\"} 1\n"
        "maas_h_seconds_bucket{k=\"v\",le=\"+Inf\"} 3\n"
        "maas_h_seconds_sum{k=\"v\"} 7.25\n"
        "maas_h_seconds_count{k=\"v\"} 3\n");
}

TEST_CASE("series of one name from several collectors form one family, a type clash is dropped") {
  maas::MetricsRegistry registry;
  auto r1 = registry.Add([](maas::MetricsBuilder& b) { b.Counter("maas_a_total", "A.", {{"i", "1"}}, 1); });
  auto r2 = registry.Add([](maas::MetricsBuilder& b) { b.Gauge("maas_b", "B.", {}, 2); });
  auto r3 = registry.Add([](maas::MetricsBuilder& b) {
    b.Counter("maas_a_total", "other help", {{"i", "2"}}, 5);
    b.Gauge("maas_a_total", "clash", {{"i", "3"}}, 9);
  });
  const maas::MetricsSnapshot snap = registry.Snapshot();
  REQUIRE(snap.families.size() == 2);
  CHECK(snap.families[0].name == "maas_a_total");
  CHECK(snap.families[0].help == "A.");
  CHECK(snap.families[0].samples.size() == 2);
  CHECK(snap.Sum("maas_a_total") == 6);
  CHECK(!snap.Value("maas_a_total").has_value());  // two series match
  CHECK(snap.Value("maas_a_total", {{"i", "2"}}) == 5);
}

}  // TEST_SUITE

TEST_SUITE("PrometheusTextFile") {

TEST_CASE("written atomically: the full text, no temporary file left behind") {
  const std::string dir = std::string(MAAS_TEST_BINARY_DIR) + "/textfile_" + std::to_string(::getpid());
  ::mkdir(dir.c_str(), 0755);
  const std::string path = dir + "/maas.prom";
  REQUIRE(maas::WritePrometheusTextFile(path, "a 1\n").ok());
  REQUIRE(maas::WritePrometheusTextFile(path, "# TYPE b gauge\nb 2\n").ok());
  CHECK(ReadFile(path) == "# TYPE b gauge\nb 2\n");
  const std::string tmp = path + "." + std::to_string(::getpid()) + ".tmp";
  CHECK(::access(tmp.c_str(), F_OK) != 0);
  ::unlink(path.c_str());
  ::rmdir(dir.c_str());
}

TEST_CASE("a missing directory is kNotFound naming the file") {
  absl::Status s = maas::WritePrometheusTextFile("/nonexistent-maas-dir/x.prom", "a 1\n");
  CHECK(s.code() == absl::StatusCode::kNotFound);
  CHECK(s.message().find("/nonexistent-maas-dir/x.prom") != absl::string_view::npos);
}

TEST_CASE("a periodic publisher writes while running and once more when destroyed") {
  const std::string path = std::string(MAAS_TEST_BINARY_DIR) + "/publisher_" +
                           std::to_string(::getpid()) + ".prom";
  maas::MetricsRegistry registry;
  std::atomic<int> value{1};
  auto reg = registry.Add([&](maas::MetricsBuilder& b) { b.Gauge("maas_v", "V.", {}, value.load()); });
  maas::PrometheusTextFileSink sink(path);
  {
    maas::PeriodicPublisher publisher(&registry, &sink, absl::Milliseconds(5));
    while (publisher.publishes() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    CHECK(publisher.last_status().ok());
    CHECK(ReadFile(path).find("maas_v 1\n") != std::string::npos);
    value.store(7);
  }
  CHECK(ReadFile(path).find("maas_v 7\n") != std::string::npos);  // the final publish
  ::unlink(path.c_str());
}

}  // TEST_SUITE
