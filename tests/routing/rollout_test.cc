// RolloutPredictor on RowModel: shadow off the critical path with exact
// sampling and divergence statistics, canary serving with a same-call
// fallback to the primary, automatic rollback on divergence and on the
// candidate's error rate (callbacks and metrics), manual stages and the
// shadow -> canary -> promote sequence; run under ThreadSanitizer too.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "doctest/doctest.h"
#include "maas/metrics/registry.h"
#include "maas/routing/rollout.h"
#include "routing/row_model.h"
#include "testing/status_doctest.h"

namespace {

using maas_test::RowModel;
using maas_test::RowsMatch;
using maas_test::TestRows;

struct Models {
  std::unique_ptr<RowModel> v1 = std::make_unique<RowModel>("v1");
  std::unique_ptr<RowModel> v2 = std::make_unique<RowModel>("v2", 0.5f);  // diverges by 0.5 on y[0]
  RowModel* p1 = v1.get();
  RowModel* p2 = v2.get();
};

// Calls `p` `n` times with 1-row inputs; returns how many answers were
// v2's (offset `v2_offset`) and checks every answer is v1's or v2's.
int Run(maas::Predictor& p, int n, int tag = 0, int* failed = nullptr, float v2_offset = 0.5f) {
  int from_v2 = 0;
  for (int i = 0; i < n; ++i) {
    const std::vector<float> x = TestRows(tag, i, 1);
    std::vector<float> y(2);
    absl::Status s = p.Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 4})},
                               {maas::TensorView("y", absl::MakeSpan(y), {1, 2})});
    if (!s.ok()) {
      if (failed != nullptr) ++*failed;
      continue;
    }
    if (RowsMatch(x, y, v2_offset)) {
      ++from_v2;
    } else {
      CHECK(RowsMatch(x, y, 0.f));
    }
  }
  return from_v2;
}

struct Events {
  std::mutex mu;
  std::vector<maas::RolloutEvent> list;
  std::function<void(const maas::RolloutEvent&)> Callback() {
    return [this](const maas::RolloutEvent& e) {
      std::lock_guard<std::mutex> lock(mu);
      list.push_back(e);
    };
  }
  std::vector<maas::RolloutEvent> Of(maas::RolloutEvent::Kind k) {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<maas::RolloutEvent> out;
    for (const auto& e : list) {
      if (e.kind == k) out.push_back(e);
    }
    return out;
  }
};

}  // namespace

TEST_SUITE("RolloutPredictor") {

TEST_CASE("shadow: the primary serves every call, an exact fraction also runs on the candidate") {
  Models m;
  maas::RolloutOptions o;
  o.stage = maas::RolloutStage::kShadow;
  o.shadow_fraction = 0.25;
  maas::RolloutPredictor r(std::move(m.v1), std::move(m.v2), o);
  CHECK(Run(r, 40) == 0);  // nothing served by v2
  r.Drain();
  const maas::RolloutStats s = r.stats();
  CHECK(s.primary_served == 40);
  CHECK(s.candidate_served == 0);
  CHECK(s.shadow_runs == 10);
  CHECK(s.compared_calls == 10);
  CHECK(m.p2->calls() == 10);
  REQUIRE(s.divergence.size() == 1);
  CHECK(s.divergence[0].output == "y");
  CHECK(s.divergence[0].elements == 20);
  // y[0] differs by 0.5 (float rounding of values up to ~40: < 1e-5), y[1] not at all.
  CHECK(s.divergence[0].max_abs == doctest::Approx(0.5).epsilon(1e-4));
  CHECK(s.divergence[0].mean_abs == doctest::Approx(0.25).epsilon(1e-4));
  CHECK(s.divergence[0].max_rel > 0);
  CHECK(s.stage == maas::RolloutStage::kShadow);
}

TEST_CASE("shadow runs are off the critical path: a stuck candidate does not hold up calls") {
  Models m;
  m.p2->Close();
  maas::RolloutOptions o;
  o.shadow_fraction = 1;
  o.shadow_queue = 2;
  maas::RolloutPredictor r(std::move(m.v1), std::move(m.v2), o);
  CHECK(Run(r, 1) == 0);
  while (m.p2->inside() < 1) std::this_thread::yield();  // the shadow run is stuck inside v2
  CHECK(Run(r, 4, 1) == 0);  // all served at once by v1
  // Pool of 2 runs: one stuck, one queued, three dropped.
  CHECK(r.stats().shadow_dropped == 3);
  m.p2->Open();
  r.Drain();
  CHECK(r.stats().shadow_runs == 2);
}

TEST_CASE("a divergence threshold crossed in shadow: callback, rollback, metrics") {
  Models m;
  maas::MetricsRegistry registry;
  Events ev;
  maas::RolloutOptions o;
  o.shadow_fraction = 1;
  o.max_abs = 0.1;
  o.on_event = ev.Callback();
  o.metrics = &registry;
  o.metrics_model = "rows";
  o.candidate_name = "v2";
  maas::RolloutPredictor r(std::move(m.v1), std::move(m.v2), o);
  CHECK(Run(r, 1) == 0);
  r.Drain();
  CHECK(r.stage() == maas::RolloutStage::kRolledBack);
  const auto crossed = ev.Of(maas::RolloutEvent::Kind::kThresholdCrossed);
  REQUIRE(crossed.size() == 1);
  CHECK(crossed[0].metric == "max_abs");
  CHECK(crossed[0].output == "y");
  CHECK(crossed[0].value == doctest::Approx(0.5).epsilon(1e-4));
  CHECK(crossed[0].threshold == 0.1);
  const auto back = ev.Of(maas::RolloutEvent::Kind::kRolledBack);
  REQUIRE(back.size() == 1);
  CHECK(back[0].metric == "divergence");
  // Rolled back: the primary serves, nothing runs in shadow any more.
  CHECK(Run(r, 5, 1) == 0);
  r.Drain();
  CHECK(m.p2->calls() == 1);
  const maas::RolloutStats s = r.stats();
  CHECK(s.rollbacks == 1);
  CHECK(s.rollback_reason == "divergence");
  const maas::MetricsSnapshot snap = registry.Snapshot();
  CHECK(snap.Value("maas_rollout_stage", {{"stage", "rolled_back"}}) == 1);
  CHECK(snap.Value("maas_rollout_stage", {{"stage", "shadow"}}) == 0);
  CHECK(snap.Value("maas_rollout_rollbacks_total", {{"reason", "divergence"}}) == 1);
  CHECK(snap.Value("maas_rollout_calls_total", {{"served_by", "primary"}}) == 6);
  CHECK(snap.Value("maas_divergence_max_abs", {{"output", "y"}, {"candidate", "v2"}}) ==
        doctest::Approx(0.5).epsilon(1e-4));
}

TEST_CASE("canary: an exact fraction is served by the candidate and compared with the primary") {
  Models m;
  maas::RolloutOptions o;
  o.stage = maas::RolloutStage::kCanary;
  o.canary_fraction = 0.25;
  maas::RolloutPredictor r(std::move(m.v1), std::move(m.v2), o);
  CHECK(Run(r, 40) == 10);
  r.Drain();
  const maas::RolloutStats s = r.stats();
  CHECK(s.candidate_served == 10);
  CHECK(s.primary_served == 30);
  CHECK(s.compared_calls == 10);  // each canary answer checked against v1, off path
  CHECK(s.divergence[0].max_abs == doctest::Approx(0.5).epsilon(1e-4));
  CHECK(m.p1->calls() == 40);     // 30 served + 10 comparisons
}

TEST_CASE("canary: a failing candidate is served by the primary in the same call, then rolled back") {
  Models m;
  m.p2->FailAll(absl::UnavailableError("v2 down"));
  Events ev;
  maas::RolloutOptions o;
  o.stage = maas::RolloutStage::kCanary;
  o.canary_fraction = 1;
  o.error_window = 10;
  o.min_calls = 4;
  o.max_error_rate = 0.5;
  o.on_event = ev.Callback();
  maas::RolloutPredictor r(std::move(m.v1), std::move(m.v2), o);
  int failed = 0;
  CHECK(Run(r, 10, 0, &failed) == 0);
  CHECK(failed == 0);  // no step failed
  const maas::RolloutStats s = r.stats();
  CHECK(s.canary_failures == 4);  // rolled back after the 4th
  CHECK(s.stage == maas::RolloutStage::kRolledBack);
  CHECK(s.rollback_reason == "error_rate");
  CHECK(m.p1->calls() == 10);
  const auto back = ev.Of(maas::RolloutEvent::Kind::kRolledBack);
  REQUIRE(back.size() == 1);
  CHECK(back[0].value == 1.0);
  // The report of a canary call the primary rescued.
  r.SetStage(maas::RolloutStage::kCanary);
  std::vector<float> x = TestRows(0, 0, 1), y(2);
  maas::CallReport rep;
  REQUIRE(r.Predict({maas::ConstTensorView("x", absl::MakeConstSpan(x), {1, 4})},
                    {maas::TensorView("y", absl::MakeSpan(y), {1, 2})}, maas::CallOptions(), &rep)
              .ok());
  CHECK(rep.fell_back);
  CHECK(rep.served_by == "v1");
  CHECK(rep.primary_status.code() == absl::StatusCode::kUnavailable);
}

TEST_CASE("shadow -> canary -> promote with a compatible candidate: no failed step, events for each stage") {
  Models m;
  m.p2->SetOffset(1e-3f);
  Events ev;
  maas::RolloutOptions o;
  o.stage = maas::RolloutStage::kShadow;
  o.shadow_fraction = 0.5;
  o.canary_fraction = 0.5;
  o.max_abs = 0.01;  // v2 is within 1e-3 of v1
  o.min_calls = 5;
  o.on_event = ev.Callback();
  maas::RolloutPredictor r(std::move(m.v1), std::move(m.v2), o);
  int failed = 0;
  CHECK(Run(r, 20, 0, &failed, 1e-3f) == 0);
  r.Drain();
  CHECK(r.stats().compared_calls == 10);
  CHECK(r.stats().divergence[0].max_abs < 0.01);
  r.SetStage(maas::RolloutStage::kCanary);
  CHECK(Run(r, 20, 1, &failed, 1e-3f) == 10);
  r.Drain();
  CHECK(r.stats().candidate_served == 10);
  CHECK(r.stats().compared_calls == 10);
  CHECK(r.stage() == maas::RolloutStage::kCanary);
  r.SetStage(maas::RolloutStage::kPromoted);
  CHECK(Run(r, 10, 2, &failed, 1e-3f) == 10);
  CHECK(failed == 0);
  CHECK(m.p2->calls() == 10 + 10 + 10);   // shadow runs + canary + promoted
  CHECK(r.stats().candidate_served == 20);
  CHECK(ev.Of(maas::RolloutEvent::Kind::kStageChanged).size() == 2);
  CHECK(ev.Of(maas::RolloutEvent::Kind::kRolledBack).empty());
  CHECK(r.Signature()->name == "rows");
}

TEST_CASE("8 threads through a canary with shadow comparisons: every answer is v1's or v2's") {
  Models m;
  maas::RolloutOptions o;
  o.stage = maas::RolloutStage::kCanary;
  o.canary_fraction = 0.3;
  maas::RolloutPredictor r(std::move(m.v1), std::move(m.v2), o);
  std::vector<std::thread> threads;
  std::atomic<int> v2{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] { v2.fetch_add(Run(r, 50, t)); });
  }
  for (auto& t : threads) t.join();
  r.Drain();
  CHECK(v2.load() == 120);  // exactly 30 % of 400
  CHECK(r.stats().candidate_served == 120);
}

}  // TEST_SUITE
