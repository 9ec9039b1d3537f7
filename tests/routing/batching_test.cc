// BatchingPredictor on RowModel (tests/routing/row_model.h): coalescing,
// each caller's own rows, limits, deadlines, failures, pass-through; run
// under ThreadSanitizer too.
#include <atomic>
#include <memory>
#include <numeric>
#include <thread>
#include <vector>

#include "doctest/doctest.h"
#include "maas/metrics/registry.h"
#include "maas/routing/batching.h"
#include "routing/row_model.h"
#include "testing/status_doctest.h"

namespace {

using maas_test::RowModel;
using maas_test::RowsMatch;
using maas_test::TestRows;

absl::Status Call(maas::Predictor& p, const std::vector<float>& x, std::vector<float>* y,
                  maas::CallOptions call = {}, maas::CallReport* report = nullptr) {
  const auto rows = static_cast<std::int64_t>(x.size() / 4);
  y->resize(static_cast<std::size_t>(rows) * 2);
  return p.Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {rows, 4})},
                   {maas::TensorView("y", absl::MakeSpan(*y), {rows, 2})}, call, report);
}

// Makes the batcher know the signature (calls pass through until one
// succeeded).
void Warm(maas::Predictor& p) {
  std::vector<float> y;
  REQUIRE(Call(p, TestRows(99, 0, 1), &y).ok());
}

// Waits until `n` calls are inside `m`.
void AwaitInside(const RowModel& m, int n) {
  while (m.inside() < n) std::this_thread::yield();
}

}  // namespace

TEST_SUITE("BatchingPredictor") {

TEST_CASE("8 threads: concurrent calls share server calls, and each caller gets exactly its rows") {
  auto inner = std::make_unique<RowModel>();
  RowModel* m = inner.get();
  m->Latency(absl::Microseconds(300));
  maas::BatchingOptions o;
  o.max_batch_rows = 16;
  maas::BatchingPredictor b(std::move(inner), o);
  Warm(b);
  constexpr int kThreads = 8, kCalls = 60;
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        const std::vector<float> x = TestRows(t, i, 1 + (t + i) % 3);
        std::vector<float> y;
        maas::CallReport r;
        if (!Call(b, x, &y, {}, &r).ok() || !RowsMatch(x, y) || r.served_by != "rows") {
          bad.fetch_add(1);
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(bad.load() == 0);
  const maas::BatchingStats s = b.stats();
  const std::vector<std::int64_t> rows = m->batch_rows();
  const std::int64_t total = std::accumulate(rows.begin(), rows.end(), std::int64_t{0});
  std::int64_t want_rows = 1;  // the warm-up call
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kCalls; ++i) want_rows += 1 + (t + i) % 3;
  }
  CHECK(total == want_rows);
  CHECK(s.calls == kThreads * kCalls);
  CHECK(s.batches + 1 == static_cast<std::int64_t>(rows.size()));
  CHECK(s.batches < s.calls / 2);  // 8 callers, one batch in flight: most calls shared one
  CHECK(s.largest_batch <= 16);
  MESSAGE("calls " << s.calls << " -> batches " << s.batches << ", largest " << s.largest_batch);
}

TEST_CASE("a batch of one call passes the caller's own buffers through") {
  auto inner = std::make_unique<RowModel>();
  RowModel* m = inner.get();
  maas::BatchingPredictor b(std::move(inner));
  Warm(b);
  const std::vector<float> x = TestRows(1, 1, 3);
  std::vector<float> y;
  REQUIRE(Call(b, x, &y).ok());
  CHECK(RowsMatch(x, y));
  CHECK(m->input_pointers().back() == x.data());
}

TEST_CASE("a full queue refuses at once with kResourceExhausted and leaves the outputs alone") {
  auto inner = std::make_unique<RowModel>();
  RowModel* m = inner.get();
  maas::BatchingOptions o;
  o.max_batch_rows = 2;
  o.max_queued_rows = 2;
  maas::BatchingPredictor b(std::move(inner), o);
  Warm(b);
  m->Close();
  std::vector<std::thread> threads;
  // One call runs (held at the gate), two 1-row calls fill the queue.
  threads.emplace_back([&] { std::vector<float> y; CHECK(Call(b, TestRows(1, 0, 1), &y).ok()); });
  AwaitInside(*m, 1);
  for (int t = 2; t <= 3; ++t) {
    threads.emplace_back([&, t] {
      const std::vector<float> x = TestRows(t, 0, 1);
      std::vector<float> y;
      CHECK(Call(b, x, &y).ok());
      CHECK(RowsMatch(x, y));
    });
  }
  while (b.stats().calls < 3) std::this_thread::yield();
  std::vector<float> y(2, -7.f);
  const std::vector<float> x = TestRows(9, 0, 1);
  absl::Status s = b.Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 4})},
                             {maas::TensorView("y", absl::MakeSpan(y), {1, 2})});
  CHECK(s.code() == absl::StatusCode::kResourceExhausted);
  CHECK(y == std::vector<float>{-7.f, -7.f});
  CHECK(b.stats().rejected == 1);
  m->Open();
  for (auto& t : threads) t.join();
  // The two queued calls went as one batch after the first.
  CHECK(m->batch_rows() == std::vector<std::int64_t>{1, 1, 2});
}

TEST_CASE("a call whose deadline passes in the queue gets kDeadlineExceeded, the others are served") {
  auto inner = std::make_unique<RowModel>();
  RowModel* m = inner.get();
  maas::BatchingPredictor b(std::move(inner));
  Warm(b);
  m->Close();
  std::thread first([&] { std::vector<float> y; CHECK(Call(b, TestRows(1, 0, 1), &y).ok()); });
  AwaitInside(*m, 1);
  std::thread patient([&] {
    const std::vector<float> x = TestRows(2, 0, 2);
    std::vector<float> y;
    CHECK(Call(b, x, &y).ok());
    CHECK(RowsMatch(x, y));
  });
  std::vector<float> y(2, -7.f);
  const std::vector<float> x = TestRows(3, 0, 1);
  const absl::Time t0 = absl::Now();
  absl::Status s = b.Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 4})},
                             {maas::TensorView("y", absl::MakeSpan(y), {1, 2})},
                             maas::CallOptions::Timeout(absl::Milliseconds(30)));
  CHECK(s.code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(absl::Now() - t0 < absl::Seconds(2));
  CHECK(y == std::vector<float>{-7.f, -7.f});
  m->Open();
  first.join();
  patient.join();
  CHECK(b.stats().expired == 1);
  CHECK(m->batch_rows().back() == 2);  // the expired call was not sent
}

TEST_CASE("a failed batch fails each of its callers with its status, outputs untouched") {
  auto inner = std::make_unique<RowModel>();
  RowModel* m = inner.get();
  maas::BatchingPredictor b(std::move(inner));
  Warm(b);
  m->Close();
  std::thread first([&] { std::vector<float> y; CHECK(Call(b, TestRows(1, 0, 1), &y).ok()); });
  AwaitInside(*m, 1);
  m->Script({absl::OkStatus(), absl::UnavailableError("HTTP 503")});
  std::vector<std::thread> threads;
  std::atomic<int> unavailable{0};
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      std::vector<float> y(2, -7.f);
      const std::vector<float> x = TestRows(t, 0, 1);
      maas::CallReport r;
      absl::Status s = b.Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 4})},
                                 {maas::TensorView("y", absl::MakeSpan(y), {1, 2})},
                                 maas::CallOptions(), &r);
      if (s.code() == absl::StatusCode::kUnavailable && y == std::vector<float>{-7.f, -7.f} &&
          r.attempts == 1) {
        unavailable.fetch_add(1);
      }
    });
  }
  while (b.stats().calls < 4) std::this_thread::yield();
  m->Open();
  first.join();
  for (auto& t : threads) t.join();
  CHECK(unavailable.load() == 3);
  CHECK(b.stats().batches == 2);
}

TEST_CASE("with max_delay a lone call waits at most that long, and calls within it share a batch") {
  auto inner = std::make_unique<RowModel>();
  RowModel* m = inner.get();
  maas::BatchingOptions o;
  o.max_batch_rows = 2;
  o.max_delay = absl::Milliseconds(200);
  maas::BatchingPredictor b(std::move(inner), o);
  Warm(b);
  // Two 1-row calls: the second fills the batch, so neither waits 200 ms.
  const absl::Time t0 = absl::Now();
  std::thread a([&] { std::vector<float> y; CHECK(Call(b, TestRows(1, 0, 1), &y).ok()); });
  std::thread c([&] { std::vector<float> y; CHECK(Call(b, TestRows(2, 0, 1), &y).ok()); });
  a.join();
  c.join();
  CHECK(m->batch_rows().back() == 2);
  CHECK(absl::Now() - t0 < absl::Milliseconds(190));
  // A lone call waits for company up to max_delay, then goes alone.
  const absl::Time t1 = absl::Now();
  std::vector<float> y;
  CHECK(Call(b, TestRows(3, 0, 1), &y).ok());
  const absl::Duration waited = absl::Now() - t1;
  CHECK(waited >= absl::Milliseconds(190));
  CHECK(waited < absl::Seconds(5));
}

TEST_CASE("calls that cannot be coalesced go straight through") {
  auto inner = std::make_unique<RowModel>();
  RowModel* m = inner.get();
  maas::BatchingOptions o;
  o.max_batch_rows = 4;
  maas::BatchingPredictor b(std::move(inner), o);
  // Before the first success: straight through (signature unknown).
  m->Script({absl::UnavailableError("down")});
  std::vector<float> y;
  CHECK(Call(b, TestRows(1, 0, 1), &y).code() == absl::StatusCode::kUnavailable);
  CHECK(b.stats().direct == 1);
  Warm(b);
  CHECK(b.stats().direct == 2);
  // More rows than max_batch_rows: straight through, still correct.
  const std::vector<float> x = TestRows(1, 1, 9);
  REQUIRE(Call(b, x, &y).ok());
  CHECK(RowsMatch(x, y));
  CHECK(b.stats().direct == 3);
  // A bad view: straight through, and the wrapped model's own error.
  std::vector<float> bad(6);
  absl::Status s = b.Predict({maas::ConstTensorView("x", absl::MakeConstSpan(bad), {2, 3})},
                             {maas::TensorView("y", absl::MakeSpan(y), {2, 2})});
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(b.stats().calls == 0);
}

TEST_CASE("a batch runs with the earliest deadline of its callers") {
  auto inner = std::make_unique<RowModel>();
  RowModel* m = inner.get();
  maas::BatchingPredictor b(std::move(inner));
  Warm(b);
  m->Close();
  std::thread first([&] { std::vector<float> y; CHECK(Call(b, TestRows(1, 0, 1), &y).ok()); });
  AwaitInside(*m, 1);
  const absl::Time soon = absl::Now() + absl::Seconds(30), later = soon + absl::Seconds(30);
  maas::CallOptions c1, c2;
  c1.deadline = later;
  c2.deadline = soon;
  std::thread a([&] { std::vector<float> y; CHECK(Call(b, TestRows(2, 0, 1), &y, c1).ok()); });
  std::thread c([&] { std::vector<float> y; CHECK(Call(b, TestRows(3, 0, 1), &y, c2).ok()); });
  while (b.stats().calls < 3) std::this_thread::yield();
  m->Open();
  first.join();
  a.join();
  c.join();
  CHECK(m->batch_rows().back() == 2);
  CHECK(m->deadlines().back() == soon);
}

TEST_CASE("two batches in flight when allowed") {
  auto inner = std::make_unique<RowModel>();
  RowModel* m = inner.get();
  maas::BatchingOptions o;
  o.max_in_flight_batches = 2;
  maas::BatchingPredictor b(std::move(inner), o);
  Warm(b);
  m->Close();
  std::thread a([&] { std::vector<float> y; CHECK(Call(b, TestRows(1, 0, 1), &y).ok()); });
  std::thread c([&] { std::vector<float> y; CHECK(Call(b, TestRows(2, 0, 1), &y).ok()); });
  AwaitInside(*m, 2);  // both are inside the wrapped model at once
  m->Open();
  a.join();
  c.join();
}

TEST_CASE("exports batch counts and sizes") {
  maas::MetricsRegistry registry;
  maas::BatchingOptions o;
  o.metrics = &registry;
  o.metrics_model = "rows";
  maas::BatchingPredictor b(std::make_unique<RowModel>(), o);
  Warm(b);
  std::vector<float> y;
  REQUIRE(Call(b, TestRows(1, 0, 3), &y).ok());
  const maas::MetricsSnapshot snap = registry.Snapshot();
  CHECK(snap.Value("maas_batches_total") == 1);
  const maas::HistogramSample* h = snap.Histogram("maas_batch_rows");
  REQUIRE(h != nullptr);
  CHECK(h->count == 1);
  CHECK(h->sum == 3);
  CHECK(h->bucket_counts[2] == 1);  // 3 rows: le 4
  CHECK(snap.Value("maas_batch_queued_rows") == 0);
}

}  // TEST_SUITE
