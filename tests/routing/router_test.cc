// LatencyRouter on RowModels with exact costs on a fake clock: the fitted
// per-call / per-row model, the choice at both ends of the batch range and
// the crossover, exploration, deadlines and fallback; run under
// ThreadSanitizer too.
#include <memory>
#include <vector>

#include "doctest/doctest.h"
#include "maas/metrics/registry.h"
#include "maas/routing/router.h"
#include "maas/testing/fake_clock.h"
#include "routing/row_model.h"
#include "testing/status_doctest.h"

namespace {

using maas_test::RowModel;
using maas_test::RowsMatch;
using maas_test::TestRows;

absl::Status Call(maas::Predictor& p, int rows, maas::CallOptions call = {},
                  maas::CallReport* report = nullptr) {
  const std::vector<float> x = TestRows(1, rows, rows);
  std::vector<float> y(static_cast<std::size_t>(rows) * 2);
  absl::Status s = p.Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {rows, 4})},
                             {maas::TensorView("y", absl::MakeSpan(y), {rows, 2})}, call, report);
  if (s.ok()) CHECK(RowsMatch(x, y));
  return s;
}

struct Sides {
  std::unique_ptr<maas::testing::FakeClock> clock = std::make_unique<maas::testing::FakeClock>();
  RowModel* local;
  RowModel* remote;
  std::unique_ptr<maas::LatencyRouter> router;

  void RemoteCosts(absl::Duration per_call) {
    remote->FakeLatency(clock.get(), per_call, absl::ZeroDuration());
  }
};

// "local": 100 us per row; "remote": 2 ms per call. Crossover: 20 rows.
Sides Make(maas::RouterOptions o = {}) {
  auto local = std::make_unique<RowModel>("local");
  auto remote = std::make_unique<RowModel>("remote");
  Sides s;
  s.local = local.get();
  s.remote = remote.get();
  local->FakeLatency(s.clock.get(), absl::ZeroDuration(), absl::Microseconds(100));
  s.RemoteCosts(absl::Milliseconds(2));
  o.clock = s.clock.get();
  s.router = std::make_unique<maas::LatencyRouter>(std::move(local), std::move(remote), std::move(o));
  return s;
}

// Warm-up calls at mixed batch sizes.
void Teach(maas::LatencyRouter& r) {
  for (int rows : {1, 64, 8, 32, 2, 48}) REQUIRE(Call(r, rows).ok());
}

}  // namespace

TEST_SUITE("LatencyRouter") {

TEST_CASE("learns per-call and per-row costs, small batches local, big batches remote") {
  maas::RouterOptions o;
  o.explore_fraction = 0;
  Sides s = Make(o);
  Teach(*s.router);
  const maas::RouterCost local = s.router->Cost(0), remote = s.router->Cost(1);
  MESSAGE("local " << local.per_call * 1e6 << " us + " << local.per_row * 1e6
                   << " us/row; remote " << remote.per_call * 1e6 << " us + " << remote.per_row * 1e6
                   << " us/row; crossover " << s.router->CrossoverRows());
  CHECK(local.per_row == doctest::Approx(100e-6));
  CHECK(local.per_call == doctest::Approx(0).epsilon(1e-9));
  CHECK(remote.per_call == doctest::Approx(2e-3));
  CHECK(remote.per_row == doctest::Approx(0).epsilon(1e-9));
  CHECK(s.router->Choose(2) == 0);
  CHECK(s.router->Choose(19) == 0);
  CHECK(s.router->Choose(21) == 1);
  CHECK(s.router->Choose(200) == 1);
  CHECK(s.router->CrossoverRows() == doctest::Approx(20));
  // And the calls go there.
  const std::int64_t local_calls = s.router->Cost(0).calls, remote_calls = s.router->Cost(1).calls;
  REQUIRE(Call(*s.router, 2).ok());
  CHECK(s.router->Cost(0).calls == local_calls + 1);
  REQUIRE(Call(*s.router, 100).ok());
  CHECK(s.router->Cost(1).calls == remote_calls + 1);
}

TEST_CASE("exploration keeps the other side's estimate current: a remote that got faster wins") {
  maas::RouterOptions o;
  o.explore_fraction = 0.25;
  Sides s = Make(o);
  s.RemoteCosts(absl::Milliseconds(8));
  Teach(*s.router);
  CHECK(s.router->Choose(16) == 0);  // 1.6 ms local vs 8 ms remote
  s.RemoteCosts(absl::Microseconds(200));
  for (int i = 0; i < 100; ++i) REQUIRE(Call(*s.router, 16).ok());
  CHECK(s.router->Choose(16) == 1);  // 1.6 ms local vs 0.2 ms remote
}

TEST_CASE("a failing side: the other answers in the same call") {
  Sides s = Make();
  Teach(*s.router);
  s.remote->FailAll(absl::UnavailableError("server down"));
  maas::CallReport r;
  REQUIRE(Call(*s.router, 100, {}, &r).ok());
  CHECK(r.fell_back);
  CHECK(r.served_by == "local");
  CHECK(r.primary_status.code() == absl::StatusCode::kUnavailable);
  // Caller errors are not retried elsewhere.
  std::vector<float> bad(3), y(2);
  CHECK(s.router->Predict({maas::ConstTensorView("x", absl::MakeConstSpan(bad), {1, 3})},
                          {maas::TensorView("y", absl::MakeSpan(y), {1, 2})})
            .code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("deadline-aware: no exploration of a side predicted to miss the call's deadline") {
  maas::RouterOptions o;
  o.explore_fraction = 0.5;  // every second call goes to the other side
  Sides s = Make(o);
  Teach(*s.router);
  REQUIRE(s.router->Choose(2) == 0);  // local: ~0.3 ms; remote: ~2 ms
  std::int64_t remote = s.router->Cost(1).calls;
  for (int i = 0; i < 10; ++i) REQUIRE(Call(*s.router, 2).ok());
  CHECK(s.router->Cost(1).calls == remote + 5);  // explored
  remote = s.router->Cost(1).calls;
  for (int i = 0; i < 10; ++i) {
    REQUIRE(Call(*s.router, 2, maas::CallOptions::Timeout(absl::Milliseconds(1))).ok());
  }
  CHECK(s.router->Cost(1).calls == remote);  // the remote would not have made 1 ms
}

TEST_CASE("exports calls per side, the fitted costs and the crossover") {
  maas::MetricsRegistry registry;
  maas::RouterOptions o;
  o.metrics = &registry;
  o.metrics_model = "rows";
  o.explore_fraction = 0;
  Sides s = Make(o);
  Teach(*s.router);
  const maas::MetricsSnapshot snap = registry.Snapshot();
  CHECK(snap.Sum("maas_router_calls_total") == 6);
  CHECK(snap.Value("maas_router_cost_seconds", {{"side", "remote"}, {"term", "per_call"}}) ==
        doctest::Approx(s.router->Cost(1).per_call));
  CHECK(snap.Value("maas_router_crossover_rows") == doctest::Approx(s.router->CrossoverRows()));
}

}  // TEST_SUITE
