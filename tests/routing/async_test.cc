// AsyncPredictor on RowModel: the future and callback forms, bounded
// pending calls, cancellation and abandonment (the caller's buffers are
// never written after it was told the call ended), deadlines, shutdown;
// run under ThreadSanitizer too.
#include <atomic>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "doctest/doctest.h"
#include "maas/routing/async.h"
#include "routing/row_model.h"
#include "testing/status_doctest.h"

namespace {

using maas_test::RowModel;
using maas_test::RowsMatch;
using maas_test::TestRows;

struct Io {
  std::vector<float> x, y;
  maas::ConstTensorView in() const {
    return maas::ConstTensorView("x", absl::MakeConstSpan(x), {static_cast<std::int64_t>(x.size() / 4), 4});
  }
  maas::TensorView out() {
    return maas::TensorView("y", absl::MakeSpan(y), {static_cast<std::int64_t>(y.size() / 2), 2});
  }
  explicit Io(int rows, int tag = 0) : x(TestRows(tag, 0, rows)), y(static_cast<std::size_t>(rows) * 2, -7.f) {}
  bool untouched() const {
    for (float v : y) {
      if (v != -7.f) return false;
    }
    return true;
  }
};

void AwaitInside(const RowModel& m, int n) {
  while (m.inside() < n) std::this_thread::yield();
}

}  // namespace

TEST_SUITE("AsyncPredictor") {

TEST_CASE("the future form returns the wrapped predictor's result and report") {
  maas::AsyncPredictor a(std::make_unique<RowModel>());
  Io io(3, 1);
  auto f = a.PredictAsync({io.in()}, {io.out()});
  REQUIRE(f.ok());
  CHECK(f->valid());
  CHECK(f->Wait().ok());
  CHECK(f->ready());
  CHECK(RowsMatch(io.x, io.y));
  CHECK(f->report().served_by == "rows");
  CHECK(f->report().attempts == 1);
}

TEST_CASE("inputs are copied at submission: the caller may change them at once") {
  auto inner = std::make_unique<RowModel>();
  RowModel* m = inner.get();
  m->Close();
  maas::AsyncPredictor a(std::move(inner));
  Io io(2, 5);
  const std::vector<float> original = io.x;
  auto f = a.PredictAsync({io.in()}, {io.out()});
  REQUIRE(f.ok());
  std::fill(io.x.begin(), io.x.end(), 123.f);  // the next step's state
  m->Open();
  REQUIRE(f->Wait().ok());
  CHECK(RowsMatch(original, io.y));
}

TEST_CASE("the callback form runs the callback once, after the outputs were written, on a pool thread") {
  maas::AsyncOptions o;
  o.threads = 2;
  maas::AsyncPredictor a(std::make_unique<RowModel>(), o);
  constexpr int kCalls = 40;
  std::vector<Io> ios;
  for (int i = 0; i < kCalls; ++i) ios.emplace_back(1 + i % 3, i);
  std::mutex mu;
  std::set<std::thread::id> threads;
  std::atomic<int> good{0}, done{0};
  for (int i = 0; i < kCalls; ++i) {
    Io* io = &ios[static_cast<std::size_t>(i)];
    absl::Status s;
    do {  // a full pool refuses; try again
      s = a.PredictAsync({io->in()}, {io->out()}, {}, [&, io](absl::Status st, const maas::CallReport& r) {
        if (st.ok() && RowsMatch(io->x, io->y) && r.served_by == "rows") good.fetch_add(1);
        std::lock_guard<std::mutex> lock(mu);
        threads.insert(std::this_thread::get_id());
        done.fetch_add(1);
      });
    } while (s.code() == absl::StatusCode::kResourceExhausted);
    REQUIRE(s.ok());
  }
  while (done.load() < kCalls) std::this_thread::yield();
  CHECK(good.load() == kCalls);
  std::lock_guard<std::mutex> lock(mu);
  CHECK(threads.size() <= 2);  // no thread per call
  CHECK(threads.count(std::this_thread::get_id()) == 0);
}

TEST_CASE("more than max_pending calls: kResourceExhausted at once") {
  auto inner = std::make_unique<RowModel>();
  RowModel* m = inner.get();
  m->Close();
  maas::AsyncOptions o;
  o.threads = 1;
  o.max_pending = 2;
  maas::AsyncPredictor a(std::move(inner), o);
  Io a1(1), a2(1), a3(1);
  auto f1 = a.PredictAsync({a1.in()}, {a1.out()});
  auto f2 = a.PredictAsync({a2.in()}, {a2.out()});
  auto f3 = a.PredictAsync({a3.in()}, {a3.out()});
  REQUIRE(f1.ok());
  REQUIRE(f2.ok());
  CHECK(f3.status().code() == absl::StatusCode::kResourceExhausted);
  CHECK(a.pending() == 2);
  m->Open();
  CHECK(f1->Wait().ok());
  CHECK(f2->Wait().ok());
}

TEST_CASE("cancelled while running: ends with kCancelled, the outputs are never written") {
  auto inner = std::make_unique<RowModel>();
  RowModel* m = inner.get();
  m->Close();
  maas::AsyncPredictor a(std::move(inner));
  Io io(2);
  {
    auto f = a.PredictAsync({io.in()}, {io.out()});
    REQUIRE(f.ok());
    AwaitInside(*m, 1);
    CHECK(f->Cancel());
    CHECK(f->ready());
    CHECK(f->Wait().code() == absl::StatusCode::kCancelled);
    CHECK(!f->Cancel());  // already ended
    m->Open();            // the model answers now; the result is dropped
  }
  while (a.pending() > 0) std::this_thread::yield();  // the worker is done with it
  CHECK(m->calls() == 1);
  CHECK(io.untouched());
}

TEST_CASE("an abandoned future (destroyed before the end) never writes the outputs") {
  auto inner = std::make_unique<RowModel>();
  RowModel* m = inner.get();
  m->Close();
  maas::AsyncOptions o;
  o.threads = 1;
  maas::AsyncPredictor a(std::move(inner), o);
  Io running(1), queued(1);
  {
    auto f1 = a.PredictAsync({running.in()}, {running.out()});
    auto f2 = a.PredictAsync({queued.in()}, {queued.out()});
    REQUIRE(f1.ok());
    REQUIRE(f2.ok());
    AwaitInside(*m, 1);
  }  // both abandoned: one running, one queued
  m->Open();
  while (a.pending() > 0) std::this_thread::yield();
  CHECK(running.untouched());
  CHECK(queued.untouched());
  CHECK(m->calls() == 1);  // the queued one never ran
}

TEST_CASE("a call still queued at its deadline fails with kDeadlineExceeded without running") {
  auto inner = std::make_unique<RowModel>();
  RowModel* m = inner.get();
  m->Close();
  maas::AsyncOptions o;
  o.threads = 1;
  maas::AsyncPredictor a(std::move(inner), o);
  Io first(1), late(1);
  auto f1 = a.PredictAsync({first.in()}, {first.out()});
  auto f2 = a.PredictAsync({late.in()}, {late.out()}, maas::CallOptions::Timeout(absl::Milliseconds(20)));
  REQUIRE(f1.ok());
  REQUIRE(f2.ok());
  AwaitInside(*m, 1);
  CHECK(!f2->WaitUntil(absl::Now() + absl::Milliseconds(1)));  // not over yet
  absl::SleepFor(absl::Milliseconds(40));
  m->Open();
  CHECK(f1->Wait().ok());
  CHECK(f2->Wait().code() == absl::StatusCode::kDeadlineExceeded);
  CHECK(late.untouched());
  CHECK(m->calls() == 1);
}

TEST_CASE("a failed call leaves the outputs untouched and reports the failure") {
  auto inner = std::make_unique<RowModel>();
  inner->Script({absl::UnavailableError("HTTP 503")});
  maas::AsyncPredictor a(std::move(inner));
  Io io(1);
  auto f = a.PredictAsync({io.in()}, {io.out()});
  REQUIRE(f.ok());
  CHECK(f->Wait().code() == absl::StatusCode::kUnavailable);
  CHECK(f->report().attempts == 1);
  CHECK(io.untouched());
}

TEST_CASE("destroying the AsyncPredictor cancels queued calls, their futures and callbacks say so") {
  auto inner = std::make_unique<RowModel>();
  RowModel* m = inner.get();
  m->Close();
  Io running(1), queued(1), cb_io(1);
  std::atomic<int> cancelled_callbacks{0};
  absl::StatusOr<maas::PredictFuture> f1, f2;
  std::thread opener;
  {
    maas::AsyncOptions o;
    o.threads = 1;
    maas::AsyncPredictor a(std::move(inner), o);
    f1 = a.PredictAsync({running.in()}, {running.out()});
    f2 = a.PredictAsync({queued.in()}, {queued.out()});
    REQUIRE(a.PredictAsync({cb_io.in()}, {cb_io.out()}, {},
                           [&](absl::Status s, const maas::CallReport&) {
                             if (s.code() == absl::StatusCode::kCancelled) cancelled_callbacks.fetch_add(1);
                           })
                .ok());
    REQUIRE(f1.ok());
    REQUIRE(f2.ok());
    AwaitInside(*m, 1);
    opener = std::thread([m] {
      absl::SleepFor(absl::Milliseconds(20));
      m->Open();
    });
  }  // waits for the running call
  opener.join();
  CHECK(f1->Wait().ok());
  CHECK(RowsMatch(running.x, running.y));
  CHECK(f2->Wait().code() == absl::StatusCode::kCancelled);
  CHECK(queued.untouched());
  CHECK(cancelled_callbacks.load() == 1);
  CHECK(cb_io.untouched());
}

TEST_CASE("bad views are refused at submission, the synchronous forms pass through") {
  maas::AsyncPredictor a(std::make_unique<RowModel>());
  std::vector<float> x(3), y(2);
  auto f = a.PredictAsync({maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 4})},
                          {maas::TensorView("y", absl::MakeSpan(y), {1, 2})});
  CHECK(f.status().code() == absl::StatusCode::kInvalidArgument);
  Io io(2, 3);
  CHECK(a.Predict({io.in()}, {io.out()}).ok());
  CHECK(RowsMatch(io.x, io.y));
  CHECK(a.label() == "rows");
}

}  // TEST_SUITE
