// ReplicaSetPredictor on RowModels: power-of-two-choices by latency and
// load, outlier ejection with back-off on a fake clock, failover within a
// call, never ejecting the last replica; run under ThreadSanitizer too.
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "doctest/doctest.h"
#include "maas/metrics/registry.h"
#include "maas/routing/replicas.h"
#include "maas/testing/fake_clock.h"
#include "routing/row_model.h"
#include "testing/status_doctest.h"

namespace {

using maas_test::RowModel;
using maas_test::RowsMatch;
using maas_test::TestRows;

struct Pair {
  RowModel* a;
  RowModel* b;
  std::unique_ptr<maas::ReplicaSetPredictor> set;
};

Pair Make(maas::ReplicaOptions o) {
  auto a = std::make_unique<RowModel>("a");
  auto b = std::make_unique<RowModel>("b");
  Pair p{a.get(), b.get(), nullptr};
  std::vector<std::unique_ptr<maas::Predictor>> v;
  v.push_back(std::move(a));
  v.push_back(std::move(b));
  if (o.names.empty()) o.names = {"a", "b"};
  auto set = maas::ReplicaSetPredictor::Create(std::move(v), std::move(o));
  REQUIRE(set.ok());
  p.set = *std::move(set);
  return p;
}

absl::Status Call(maas::Predictor& p, int tag, maas::CallOptions call = {},
                  maas::CallReport* report = nullptr) {
  const std::vector<float> x = TestRows(tag, 0, 1);
  std::vector<float> y(2);
  absl::Status s = p.Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 4})},
                             {maas::TensorView("y", absl::MakeSpan(y), {1, 2})}, call, report);
  if (s.ok()) CHECK(RowsMatch(x, y));
  return s;
}

}  // namespace

TEST_SUITE("ReplicaSetPredictor") {

TEST_CASE("two choices: a slow replica gets (almost) no calls") {
  maas::ReplicaOptions o;
  o.seed = 1;
  Pair p = Make(o);
  p.a->Latency(absl::Milliseconds(3));
  for (int i = 0; i < 100; ++i) REQUIRE(Call(*p.set, i).ok());
  const auto st = p.set->stats();
  CHECK(st[0].calls <= 3);  // measured once (or twice), then always the more expensive
  CHECK(st[1].calls >= 97);
  CHECK(st[0].latency_seconds >= 0.003);
}

TEST_CASE("two choices: calls in flight make the cheaper replica dearer") {
  // Deterministic: one measured call each (equal latency), then eight
  // concurrent calls held at both replicas' gates. Cost = latency x (calls in
  // flight + 1) spreads them; by latency alone all eight would go to the one
  // measured cheaper. Each gets at least 2 unless one measurement came out
  // more than 2.3x the other (a scheduling stall of over 60 ms).
  maas::ReplicaOptions o;
  o.seed = 4;
  Pair p = Make(o);
  p.a->Latency(absl::Milliseconds(50));
  p.b->Latency(absl::Milliseconds(50));
  REQUIRE(Call(*p.set, 0).ok());  // neither measured: either one
  REQUIRE(Call(*p.set, 1).ok());  // the unmeasured one (cost 0)
  REQUIRE(p.a->calls() == 1);
  REQUIRE(p.b->calls() == 1);
  p.a->Latency(absl::ZeroDuration());
  p.b->Latency(absl::ZeroDuration());
  p.a->Close();
  p.b->Close();
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] { CHECK(Call(*p.set, 10 + t).ok()); });
  }
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (p.a->inside() + p.b->inside() < 8 && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(1));
  }
  const int at_a = p.a->inside(), at_b = p.b->inside();
  p.a->Open();
  p.b->Open();
  for (auto& t : threads) t.join();
  CHECK(at_a + at_b == 8);
  CHECK(at_a >= 2);
  CHECK(at_b >= 2);
  const auto st = p.set->stats();
  CHECK(st[0].calls + st[1].calls == 10);
  CHECK(st[0].in_flight + st[1].in_flight == 0);
}

TEST_CASE("two choices: equal replicas under concurrent load share the calls") {
  maas::ReplicaOptions o;
  o.seed = 2;
  // A scheduling stall on a loaded machine (several ms) makes one replica
  // look slow; it fades within a few calls, well inside this test's ~100 ms.
  o.decay = absl::Milliseconds(10);
  Pair p = Make(o);
  p.a->Latency(absl::Milliseconds(2));
  p.b->Latency(absl::Milliseconds(2));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) CHECK(Call(*p.set, t * 100 + i).ok());
    });
  }
  for (auto& t : threads) t.join();
  const auto st = p.set->stats();
  CHECK(st[0].calls + st[1].calls == 200);
  // Whichever is measured cheaper takes calls until its calls in flight
  // make it dearer: neither gets (almost) all of them.
  CHECK(st[0].calls >= 20);
  CHECK(st[1].calls >= 20);
  CHECK(st[0].in_flight == 0);
}

TEST_CASE("a failing replica: every call served by the other (failover), ejected after 5 failures") {
  maas::MetricsRegistry registry;
  maas::ReplicaOptions o;
  o.seed = 3;
  o.metrics = &registry;
  o.metrics_model = "rows";
  Pair p = Make(o);
  p.a->FailAll(absl::UnavailableError("connection refused"));
  p.b->Latency(absl::Milliseconds(1));  // the failing one answers faster: it is preferred
  int moved = 0;
  for (int i = 0; i < 20; ++i) {
    maas::CallReport r;
    REQUIRE(Call(*p.set, i, {}, &r).ok());
    if (r.attempts == 2) {
      ++moved;
      CHECK(r.primary_status.code() == absl::StatusCode::kUnavailable);
    }
    CHECK(r.served_by == "b");
  }
  CHECK(moved == 5);
  const auto st = p.set->stats();
  CHECK(st[0].calls == 5);
  CHECK(st[0].ejected);
  CHECK(st[0].ejections == 1);
  CHECK(p.set->failovers() == 5);
  const maas::MetricsSnapshot snap = registry.Snapshot();
  CHECK(snap.Value("maas_endpoint_ejected", {{"endpoint", "a"}}) == 1);
  CHECK(snap.Value("maas_endpoint_ejections_total", {{"endpoint", "a"}}) == 1);
  CHECK(snap.Value("maas_endpoint_requests_total", {{"endpoint", "a"}, {"result", "error"}}) == 5);
  CHECK(snap.Value("maas_endpoint_requests_total", {{"endpoint", "b"}, {"result", "ok"}}) == 20);
  CHECK(snap.Value("maas_endpoint_failovers_total") == 5);
}

TEST_CASE("an ejected replica returns after its back-off, failing again doubles it") {
  maas::testing::FakeClock clock;
  maas::ReplicaOptions o;
  o.seed = 4;
  o.clock = &clock;
  o.consecutive_failures = 2;
  o.base_ejection = absl::Seconds(30);
  Pair p = Make(o);
  p.a->FailAll(absl::UnavailableError("down"));
  p.b->Latency(absl::Milliseconds(1));
  for (int i = 0; i < 4; ++i) REQUIRE(Call(*p.set, i).ok());
  REQUIRE(p.set->stats()[0].ejected);
  clock.Advance(absl::Seconds(29));
  for (int i = 0; i < 4; ++i) REQUIRE(Call(*p.set, i).ok());
  CHECK(p.set->stats()[0].calls == 2);  // still ejected
  clock.Advance(absl::Seconds(2));      // 31 s: back on probation; one failure ejects again
  for (int i = 0; i < 4; ++i) REQUIRE(Call(*p.set, i).ok());
  CHECK(p.set->stats()[0].calls == 3);
  CHECK(p.set->stats()[0].ejections == 2);
  clock.Advance(absl::Seconds(31));  // 60 s this time
  for (int i = 0; i < 4; ++i) REQUIRE(Call(*p.set, i).ok());
  CHECK(p.set->stats()[0].calls == 3);
  p.a->FailAll(absl::OkStatus());  // the server is back
  clock.Advance(absl::Seconds(30));
  for (int i = 0; i < 20; ++i) REQUIRE(Call(*p.set, i).ok());
  CHECK(!p.set->stats()[0].ejected);
  CHECK(p.set->stats()[0].calls > 3);  // serving again
}

TEST_CASE("never ejects the last available replica") {
  maas::ReplicaOptions o;
  o.seed = 5;
  o.consecutive_failures = 1;
  Pair p = Make(o);
  p.a->FailAll(absl::UnavailableError("down"));
  p.b->FailAll(absl::UnavailableError("down"));
  for (int i = 0; i < 10; ++i) CHECK(Call(*p.set, i).code() == absl::StatusCode::kUnavailable);
  const auto st = p.set->stats();
  CHECK((st[0].ejected ? 1 : 0) + (st[1].ejected ? 1 : 0) == 1);
  CHECK(st[0].calls + st[1].calls == 20);  // every call tried both
}

TEST_CASE("caller errors are returned without failover, no failover after the deadline") {
  maas::ReplicaOptions o;
  o.seed = 6;
  Pair p = Make(o);
  std::vector<float> bad(3), y(2);
  absl::Status s = p.set->Predict({maas::ConstTensorView("x", absl::MakeConstSpan(bad), {1, 3})},
                                  {maas::TensorView("y", absl::MakeSpan(y), {1, 2})});
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(p.set->failovers() == 0);
  p.a->FailAll(absl::DeadlineExceededError("slow"));
  p.b->FailAll(absl::DeadlineExceededError("slow"));
  p.a->Latency(absl::Milliseconds(20));
  p.b->Latency(absl::Milliseconds(20));
  CHECK(Call(*p.set, 1, maas::CallOptions::Timeout(absl::Milliseconds(5))).code() ==
        absl::StatusCode::kDeadlineExceeded);
  const auto st = p.set->stats();
  CHECK(st[0].calls + st[1].calls == 2);  // the refused view's, then one attempt
}

TEST_CASE("Create refuses no replicas, a null replica and a wrong number of names") {
  CHECK(maas::ReplicaSetPredictor::Create({}).status().code() == absl::StatusCode::kInvalidArgument);
  std::vector<std::unique_ptr<maas::Predictor>> v;
  v.push_back(nullptr);
  CHECK(maas::ReplicaSetPredictor::Create(std::move(v)).status().code() ==
        absl::StatusCode::kInvalidArgument);
  std::vector<std::unique_ptr<maas::Predictor>> w;
  w.push_back(std::make_unique<RowModel>());
  maas::ReplicaOptions o;
  o.names = {"x", "y"};
  CHECK(maas::ReplicaSetPredictor::Create(std::move(w), o).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

}  // TEST_SUITE
