// -----------------------------------------------------------------------------
// File: routing/rollout.h
// -----------------------------------------------------------------------------
//
// `maas::RolloutPredictor` moves a running simulation from one model version
// (the *primary*, e.g. version 1 on the server) to another (the *candidate*:
// version 2, or remote instead of local) without risking a step:
//
//  * shadow: the primary serves every call; a fraction of the calls is also
//    run on the candidate *off the caller's critical path* (the caller pays
//    a copy of its inputs and outputs into a bounded queue; a background
//    thread runs the candidate and compares), and the divergence of the
//    candidate's outputs from the primary's is recorded per output: max and
//    mean absolute error, max and mean relative error (relative to the
//    primary, denominator floored at `relative_floor`).
//  * canary: a fraction of the calls is *served* by the candidate. A
//    candidate failure is served by the primary in the same call (the step
//    does not fail; the report says `fell_back`). Canary results are
//    compared with the primary's the same way, off the critical path.
//  * promoted: the candidate serves every call.
//  * rolled back: the primary serves every call again, because the
//    candidate's failure rate over its last `error_window` calls reached
//    `max_error_rate` (after `min_calls`), or a divergence threshold was
//    crossed (`max_abs`, `mean_abs`, `max_rel`, `mean_rel`; when
//    `rollback_on_divergence`). A rollback is final until `SetStage()`.
//  * primary: the candidate is not used at all.
//
// Every threshold crossing, rollback and stage change is reported to
// `on_event` (from the thread that noticed it: the caller's or the shadow
// thread; keep it short) and in metrics. Pinning a version by number or
// label in `RemoteModelOptions` stays the manual way to choose a version.
//
// Fractions are exact and deterministic: with fraction f, call n of a stage
// is sampled when floor((n+1) f) > floor(n f) (so 0.25 = every 4th call).
// Divergence statistics and the error window restart at every stage change.
//
// The migrate sequence (tested on a real KServe server with two loaded
// versions, tests/routing/rollout_server_test.cc; docs/versions.md):
//
//   RolloutPredictor p(v1, v2, {.stage = kShadow, ...});  // 1. shadow
//   ... run; check p.stats(): divergence within bounds, no candidate errors
//   p.SetStage(RolloutStage::kCanary);                     // 2. canary
//   ... run; check again (a rollback would have happened by itself)
//   p.SetStage(RolloutStage::kPromoted);                   // 3. promote
//
// Thread-safe when both predictors are. Owns both, and one background
// thread (`shadow_threads`) for the off-path runs.
//
// Metrics (labels `model`, `candidate`; when `metrics` is set):
//   maas_rollout_stage{stage}                    gauge   1 for the current stage
//   maas_rollout_calls_total{served_by}          counter primary / candidate
//   maas_rollout_candidate_failures_total{stage} counter canary and shadow failures
//   maas_rollout_shadow_runs_total{result}       counter off-path runs: ok / error / dropped
//   maas_rollout_rollbacks_total{reason}         counter error_rate / divergence
//   maas_divergence_max_abs{output}              gauge   (and _mean_abs, _max_rel,
//                                                        _mean_rel) this stage

#ifndef MAAS_ROUTING_ROLLOUT_H_
#define MAAS_ROUTING_ROLLOUT_H_

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "maas/core/call.h"
#include "maas/core/detail/exception.h"
#include "maas/core/model_signature.h"
#include "maas/core/predictor.h"
#include "maas/metrics/registry.h"

namespace maas {

// RolloutStage
enum class RolloutStage { kPrimary = 0, kShadow = 1, kCanary = 2, kPromoted = 3, kRolledBack = 4 };

// RolloutStageName()
//
// "primary", "shadow", "canary", "promoted", "rolled_back".
inline absl::string_view RolloutStageName(RolloutStage s) {
  switch (s) {
    case RolloutStage::kPrimary: return "primary";
    case RolloutStage::kShadow: return "shadow";
    case RolloutStage::kCanary: return "canary";
    case RolloutStage::kPromoted: return "promoted";
    case RolloutStage::kRolledBack: return "rolled_back";
  }
  return "unknown";
}

// RolloutEvent
//
// What `RolloutOptions::on_event` is told.
//  * kStageChanged: `stage` is the new stage (by SetStage() or a rollback).
//  * kThresholdCrossed: `metric` ("max_abs", "mean_abs", "max_rel",
//    "mean_rel" or "error_rate") of `output` ("" for the error rate)
//    reached `value` >= `threshold`.
//  * kRolledBack: the rollout went back to the primary; `metric` says why.
struct RolloutEvent {
  enum class Kind { kStageChanged, kThresholdCrossed, kRolledBack };
  Kind kind = Kind::kStageChanged;
  RolloutStage stage = RolloutStage::kPrimary;
  std::string metric;
  std::string output;
  double value = 0;
  double threshold = 0;
};

// RolloutOptions
//
// See the file comment. Defaults: shadow 10 % of calls, canary 5 %, roll
// back at 5 % candidate failures over the last 100 candidate calls (20 at
// least), divergence thresholds off (infinite) until set.
struct RolloutOptions {
  RolloutStage stage = RolloutStage::kShadow;
  double shadow_fraction = 0.1;
  double canary_fraction = 0.05;
  // Off-path runs: a bounded queue (full: the run is dropped and counted),
  // each run bounded by `shadow_timeout`.
  int shadow_queue = 16;
  int shadow_threads = 1;
  absl::Duration shadow_timeout = absl::Seconds(1);
  // A canary call's candidate attempt is bounded by this (and the call's
  // deadline), leaving the rest of the deadline to the primary.
  absl::Duration candidate_timeout = absl::Seconds(1);
  // Rollback rules.
  double max_error_rate = 0.05;
  int error_window = 100;
  int min_calls = 20;
  double max_abs = std::numeric_limits<double>::infinity();
  double mean_abs = std::numeric_limits<double>::infinity();
  double max_rel = std::numeric_limits<double>::infinity();
  double mean_rel = std::numeric_limits<double>::infinity();
  double relative_floor = 1e-6;
  bool rollback_on_divergence = true;
  std::function<void(const RolloutEvent&)> on_event;
  // Metrics and names.
  MetricsRegistry* metrics = nullptr;
  std::string metrics_model;
  std::string candidate_name = "candidate";
  std::string label = "rollout";
};

// OutputDivergence
//
// The candidate's divergence from the primary on one output, over the
// compared calls of the current stage.
struct OutputDivergence {
  std::string output;
  std::int64_t elements = 0;  // compared elements
  double max_abs = 0, mean_abs = 0, max_rel = 0, mean_rel = 0;
};

// RolloutStats
//
// Counters since construction, except where marked "this stage".
struct RolloutStats {
  RolloutStage stage = RolloutStage::kPrimary;
  std::int64_t calls = 0;
  std::int64_t primary_served = 0;
  std::int64_t candidate_served = 0;
  std::int64_t canary_failures = 0;       // candidate failed a canary call (primary served)
  std::int64_t shadow_runs = 0;           // off-path runs finished
  std::int64_t shadow_failures = 0;       // of which the candidate failed
  std::int64_t shadow_dropped = 0;        // queue full
  std::int64_t compared_calls = 0;        // this stage
  double candidate_error_rate = 0;        // over the window, this stage
  std::int64_t candidate_window_calls = 0;
  std::vector<OutputDivergence> divergence;  // this stage
  std::int64_t rollbacks = 0;
  std::string rollback_reason;  // the last one
};

// RolloutPredictor
//
// See the file comment. Owns both predictors.
class RolloutPredictor final : public Predictor {
 public:
  // `primary` and `candidate` must not be null.
  RolloutPredictor(std::unique_ptr<Predictor> primary, std::unique_ptr<Predictor> candidate,
                   RolloutOptions options = {})
      : primary_(std::move(primary)), candidate_(std::move(candidate)),
        options_(Sanitized(std::move(options))), stage_(options_.stage),
        window_(static_cast<std::size_t>(options_.error_window), -1) {
    for (int i = 0; i < options_.shadow_queue; ++i) {
      jobs_.push_back(std::make_unique<Job>());
      free_.push_back(jobs_.back().get());
    }
    for (int i = 0; i < options_.shadow_threads; ++i) workers_.emplace_back([this] { Work(); });
    if (options_.metrics != nullptr) {
      registration_ = options_.metrics->Add([this](MetricsBuilder& b) { Collect(b); });
    }
  }

  // Waits for the running off-path runs, drops the queued ones.
  ~RolloutPredictor() override {
    registration_.Reset();
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    work_cv_.notify_all();
    for (std::thread& t : workers_) t.join();
  }

  // RolloutPredictor::Signature()
  //
  // The signature of whichever side serves most calls now (the candidate
  // once promoted).
  absl::StatusOr<ModelSignature> Signature() override {
    return stage() == RolloutStage::kPromoted ? candidate_->Signature() : primary_->Signature();
  }

  absl::string_view label() const override { return options_.label; }

  // RolloutPredictor::stage()
  RolloutStage stage() const { return stage_.load(std::memory_order_acquire); }

  // RolloutPredictor::SetStage()
  //
  // Moves to `stage` (any stage; a rolled-back rollout may be tried again),
  // restarting this stage's statistics, and reports kStageChanged.
  void SetStage(RolloutStage stage) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ResetStageLocked();
      stage_.store(stage, std::memory_order_release);
    }
    RolloutEvent e;
    e.kind = RolloutEvent::Kind::kStageChanged;
    e.stage = stage;
    Notify(e);
  }

  // RolloutPredictor::stats()
  RolloutStats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    RolloutStats s = stats_;
    s.stage = stage();
    s.primary_served = primary_served_.load(std::memory_order_relaxed);
    s.candidate_served = candidate_served_.load(std::memory_order_relaxed);
    s.calls = s.primary_served + s.candidate_served;
    s.candidate_window_calls = window_count_;
    s.candidate_error_rate =
        window_count_ > 0 ? static_cast<double>(window_failures_) / static_cast<double>(window_count_) : 0;
    s.divergence.clear();
    for (const Acc& a : divergence_) {
      OutputDivergence d;
      d.output = a.output;
      d.elements = a.n;
      d.max_abs = a.max_abs;
      d.max_rel = a.max_rel;
      d.mean_abs = a.n > 0 ? a.sum_abs / static_cast<double>(a.n) : 0;
      d.mean_rel = a.n > 0 ? a.sum_rel / static_cast<double>(a.n) : 0;
      s.divergence.push_back(std::move(d));
    }
    return s;
  }

  // RolloutPredictor::Drain()
  //
  // Waits until the off-path queue is empty and no run is in progress (for
  // tests and before reading final statistics).
  void Drain() {
    std::unique_lock<std::mutex> lock(mu_);
    idle_cv_.wait(lock, [this] { return queue_.empty() && running_ == 0; });
  }

  Predictor& primary() { return *primary_; }
  Predictor& candidate() { return *candidate_; }

 protected:
  absl::Status DoPredict(absl::Span<const ConstTensorView> inputs,
                         absl::Span<const TensorView> outputs) override {
    return DoPredictCall(inputs, outputs, CallOptions(), nullptr);
  }

  absl::Status DoPredictCall(absl::Span<const ConstTensorView> inputs,
                             absl::Span<const TensorView> outputs, const CallOptions& call,
                             CallReport* report) override {
    const RolloutStage stage = this->stage();
    switch (stage) {
      case RolloutStage::kPrimary:
      case RolloutStage::kRolledBack:
        Count(false);
        return primary_->Predict(inputs, outputs, call, report);
      case RolloutStage::kPromoted:
        Count(true);
        return candidate_->Predict(inputs, outputs, call, report);
      case RolloutStage::kShadow: {
        Count(false);
        absl::Status s = primary_->Predict(inputs, outputs, call, report);
        if (s.ok() && Sample(options_.shadow_fraction)) Queue(inputs, outputs, /*run_candidate=*/true);
        return s;
      }
      case RolloutStage::kCanary:
        break;
    }
    if (!Sample(options_.canary_fraction)) {
      Count(false);
      return primary_->Predict(inputs, outputs, call, report);
    }
    CallOptions c = call;
    c.deadline = std::min(call.deadline, absl::Now() + options_.candidate_timeout);
    CallReport sub;
    absl::Status s = candidate_->Predict(inputs, outputs, c, &sub);
    RecordCandidate(s, /*canary=*/true);
    if (s.ok()) {
      Count(true);
      if (report != nullptr) *report = sub;
      Queue(inputs, outputs, /*run_candidate=*/false);  // compare with the primary, off path
      return s;
    }
    Count(false);
    absl::Status p = primary_->Predict(inputs, outputs, call, report);
    if (report != nullptr) {
      report->fell_back = true;
      report->primary_status = s;
      report->attempts += sub.attempts;
    }
    return p;
  }

 private:
  // One off-path run: owned copies of the inputs and of the served
  // outputs, and scratch for the other side's outputs.
  struct Job {
    bool run_candidate = true;  // else: the primary runs, the candidate served
    std::vector<std::string> in_names, out_names;
    std::vector<std::vector<unsigned char>> in_data, ref_data, run_data;
    absl::InlinedVector<ConstTensorView, 4> in;
    absl::InlinedVector<TensorView, 4> served, run;
  };

  // Divergence accumulator of one output.
  struct Acc {
    std::string output;
    std::int64_t n = 0;
    double max_abs = 0, sum_abs = 0, max_rel = 0, sum_rel = 0;
    bool crossed[4] = {false, false, false, false};
  };

  static RolloutOptions Sanitized(RolloutOptions o) {
    o.shadow_fraction = std::clamp(o.shadow_fraction, 0.0, 1.0);
    o.canary_fraction = std::clamp(o.canary_fraction, 0.0, 1.0);
    o.shadow_queue = std::max(1, o.shadow_queue);
    o.shadow_threads = std::max(1, o.shadow_threads);
    o.error_window = std::max(1, o.error_window);
    o.min_calls = std::clamp(o.min_calls, 1, o.error_window);
    return o;
  }

  bool Sample(double fraction) {
    if (fraction <= 0) return false;
    if (fraction >= 1) return true;
    const auto n = static_cast<double>(sampled_.fetch_add(1, std::memory_order_relaxed));
    return std::floor((n + 1) * fraction) > std::floor(n * fraction);
  }

  void Count(bool candidate) {
    (candidate ? candidate_served_ : primary_served_).fetch_add(1, std::memory_order_relaxed);
  }

  void ResetStageLocked() {
    sampled_.store(0, std::memory_order_relaxed);
    std::fill(window_.begin(), window_.end(), -1);
    window_next_ = 0;
    window_count_ = window_failures_ = 0;
    error_crossed_ = false;
    divergence_.clear();
    stats_.compared_calls = 0;
    ++epoch_;
  }

  // Copies the call into a job for the off-path thread; drops it when the
  // queue is full.
  void Queue(absl::Span<const ConstTensorView> inputs, absl::Span<const TensorView> outputs,
             bool run_candidate) {
    Job* j = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (free_.empty() || stopping_) {
        ++stats_.shadow_dropped;
        return;
      }
      j = free_.back();
      free_.pop_back();
    }
    try {
      j->run_candidate = run_candidate;
      j->in_names.resize(inputs.size());
      j->in_data.resize(inputs.size());
      j->in.clear();
      for (std::size_t i = 0; i < inputs.size(); ++i) {
        const ConstTensorView& v = inputs[i];
        j->in_names[i].assign(v.name().data(), v.name().size());
        j->in_data[i].assign(static_cast<const unsigned char*>(v.raw_data()),
                             static_cast<const unsigned char*>(v.raw_data()) + v.byte_size());
        j->in.emplace_back(j->in_names[i], v.dtype(), v.shape(), j->in_data[i].data(), v.byte_size());
      }
      j->out_names.resize(outputs.size());
      j->ref_data.resize(outputs.size());
      j->run_data.resize(outputs.size());
      j->served.clear();
      j->run.clear();
      for (std::size_t i = 0; i < outputs.size(); ++i) {
        const TensorView& v = outputs[i];
        j->out_names[i].assign(v.name().data(), v.name().size());
        j->ref_data[i].assign(static_cast<const unsigned char*>(v.raw_data()),
                              static_cast<const unsigned char*>(v.raw_data()) + v.byte_size());
        j->run_data[i].resize(v.byte_size());
        j->served.emplace_back(j->out_names[i], v.dtype(), v.shape(), j->ref_data[i].data(),
                               v.byte_size());
        j->run.emplace_back(j->out_names[i], v.dtype(), v.shape(), j->run_data[i].data(),
                            v.byte_size());
      }
    } catch (...) {  // out of memory: no off-path run this time
      std::lock_guard<std::mutex> lock(mu_);
      free_.push_back(j);
      ++stats_.shadow_dropped;
      return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(JobRef{j, epoch_});
    }
    work_cv_.notify_one();
  }

  struct JobRef {
    Job* job;
    std::uint64_t epoch;
  };

  void Work() {
    for (;;) {
      JobRef ref;
      {
        std::unique_lock<std::mutex> lock(mu_);
        work_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        ref = queue_.front();
        queue_.pop_front();
        ++running_;
      }
      Job* j = ref.job;
      CallOptions c = CallOptions::Timeout(options_.shadow_timeout);
      Predictor& runner = j->run_candidate ? *candidate_ : *primary_;
      const absl::Status s = runner.Predict(j->in, j->run, c, nullptr);
      std::vector<RolloutEvent> events;
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++stats_.shadow_runs;
        if (j->run_candidate && !s.ok()) ++stats_.shadow_failures;
        if (ref.epoch == epoch_) {  // a run of an earlier stage is not judged
          if (j->run_candidate) RecordCandidateLocked(s, &events);
          if (s.ok()) {
            // Reference = the primary's outputs.
            CompareLocked(j->run_candidate ? absl::MakeConstSpan(j->served) : absl::MakeConstSpan(j->run),
                          j->run_candidate ? absl::MakeConstSpan(j->run) : absl::MakeConstSpan(j->served),
                          &events);
          }
        }
        free_.push_back(j);
      }
      for (const RolloutEvent& e : events) Notify(e);
      std::lock_guard<std::mutex> lock(mu_);
      --running_;  // after the callbacks: Drain() waits for them too
      if (queue_.empty() && running_ == 0) idle_cv_.notify_all();
    }
  }

  void RecordCandidate(const absl::Status& s, bool canary) {
    std::vector<RolloutEvent> events;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (canary && !s.ok()) ++stats_.canary_failures;
      RecordCandidateLocked(s, &events);
    }
    for (const RolloutEvent& e : events) Notify(e);
  }

  // One candidate outcome into the error window; may roll back.
  void RecordCandidateLocked(const absl::Status& s, std::vector<RolloutEvent>* events) {
    const RolloutStage st = stage();
    if (st != RolloutStage::kShadow && st != RolloutStage::kCanary) return;
    signed char& slot = window_[window_next_];
    window_next_ = (window_next_ + 1) % window_.size();
    if (slot < 0) {
      ++window_count_;
    } else {
      window_failures_ -= slot;
    }
    slot = s.ok() ? 0 : 1;
    window_failures_ += slot;
    if (window_count_ < options_.min_calls) return;
    const double rate = static_cast<double>(window_failures_) / static_cast<double>(window_count_);
    if (rate >= options_.max_error_rate && !error_crossed_) {
      error_crossed_ = true;
      RolloutEvent e;
      e.kind = RolloutEvent::Kind::kThresholdCrossed;
      e.stage = st;
      e.metric = "error_rate";
      e.value = rate;
      e.threshold = options_.max_error_rate;
      events->push_back(e);
      RollBackLocked("error_rate", rate, options_.max_error_rate, events);
    }
  }

  // Accumulates |served - run| per output; may cross thresholds.
  void CompareLocked(absl::Span<const TensorView> reference, absl::Span<const TensorView> test,
                     std::vector<RolloutEvent>* events) {
    ++stats_.compared_calls;
    if (divergence_.size() < reference.size()) divergence_.resize(reference.size());
    for (std::size_t k = 0; k < reference.size(); ++k) {
      Acc& a = divergence_[k];
      if (a.output.empty()) {
        a.output = reference[k].name().empty() ? absl::StrCat(k) : std::string(reference[k].name());
      }
      const std::size_t elem = DataTypeSize(reference[k].dtype());
      const std::size_t n = elem == 0 ? 0 : reference[k].byte_size() / elem;
      for (std::size_t i = 0; i < n; ++i) {
        const double r = Element(reference[k], i), t = Element(test[k], i);
        double abs = std::fabs(t - r);
        if (std::isnan(abs)) abs = std::numeric_limits<double>::infinity();
        const double rel = abs / std::max(std::fabs(r), options_.relative_floor);
        a.max_abs = std::max(a.max_abs, abs);
        a.max_rel = std::max(a.max_rel, rel);
        a.sum_abs += abs;
        a.sum_rel += rel;
        ++a.n;
      }
      if (a.n == 0) continue;
      const double values[4] = {a.max_abs, a.sum_abs / static_cast<double>(a.n), a.max_rel,
                                a.sum_rel / static_cast<double>(a.n)};
      const double limits[4] = {options_.max_abs, options_.mean_abs, options_.max_rel,
                                options_.mean_rel};
      static constexpr const char* kNames[4] = {"max_abs", "mean_abs", "max_rel", "mean_rel"};
      for (int m = 0; m < 4; ++m) {
        if (a.crossed[m] || !(values[m] >= limits[m])) continue;
        a.crossed[m] = true;
        RolloutEvent e;
        e.kind = RolloutEvent::Kind::kThresholdCrossed;
        e.stage = stage();
        e.metric = kNames[m];
        e.output = a.output;
        e.value = values[m];
        e.threshold = limits[m];
        events->push_back(e);
        if (options_.rollback_on_divergence) {
          RollBackLocked("divergence", values[m], limits[m], events);
        }
      }
    }
  }

  void RollBackLocked(const char* reason, double value, double threshold,
                      std::vector<RolloutEvent>* events) {
    const RolloutStage st = stage();
    if (st != RolloutStage::kShadow && st != RolloutStage::kCanary) return;
    stage_.store(RolloutStage::kRolledBack, std::memory_order_release);
    ++stats_.rollbacks;
    stats_.rollback_reason = reason;
    ++(std::strcmp(reason, "error_rate") == 0 ? rollbacks_error_ : rollbacks_divergence_);
    RolloutEvent e;
    e.kind = RolloutEvent::Kind::kRolledBack;
    e.stage = RolloutStage::kRolledBack;
    e.metric = reason;
    e.value = value;
    e.threshold = threshold;
    events->push_back(e);
  }

  // Element `i` as a double (FP32, FP64, INT32, INT64; other datatypes
  // are not compared: 0).
  static double Element(const TensorView& v, std::size_t i) {
    switch (v.dtype()) {
      case DataType::kFloat32: return static_cast<const float*>(v.raw_data())[i];
      case DataType::kFloat64: return static_cast<const double*>(v.raw_data())[i];
      case DataType::kInt32: return static_cast<const std::int32_t*>(v.raw_data())[i];
      case DataType::kInt64: return static_cast<double>(static_cast<const std::int64_t*>(v.raw_data())[i]);
      default: return 0;
    }
  }

  void Notify(const RolloutEvent& e) const {
    if (!options_.on_event) return;
    try {
      options_.on_event(e);
    } catch (...) {  // a throwing callback must not end a thread
    }
  }

  void Collect(MetricsBuilder& b) const {
    const RolloutStats s = stats();
    std::int64_t rb_error, rb_div;
    {
      std::lock_guard<std::mutex> lock(mu_);
      rb_error = rollbacks_error_;
      rb_div = rollbacks_divergence_;
    }
    auto l = [this](MetricLabels extra = {}) {
      MetricLabels m{{"model", options_.metrics_model}, {"candidate", options_.candidate_name}};
      for (auto& e : extra) m.push_back(std::move(e));
      return m;
    };
    for (RolloutStage st : {RolloutStage::kPrimary, RolloutStage::kShadow, RolloutStage::kCanary,
                            RolloutStage::kPromoted, RolloutStage::kRolledBack}) {
      b.Gauge("maas_rollout_stage", "1 for the rollout's current stage.",
              l({{"stage", std::string(RolloutStageName(st))}}), st == s.stage ? 1 : 0);
    }
    b.Counter("maas_rollout_calls_total", "Calls through the rollout, by the side that served.",
              l({{"served_by", "primary"}}), static_cast<double>(s.primary_served));
    b.Counter("maas_rollout_calls_total", "Calls through the rollout, by the side that served.",
              l({{"served_by", "candidate"}}), static_cast<double>(s.candidate_served));
    b.Counter("maas_rollout_candidate_failures_total", "Candidate failures, by stage.",
              l({{"stage", "canary"}}), static_cast<double>(s.canary_failures));
    b.Counter("maas_rollout_candidate_failures_total", "Candidate failures, by stage.",
              l({{"stage", "shadow"}}), static_cast<double>(s.shadow_failures));
    b.Counter("maas_rollout_shadow_runs_total", "Off-path runs of the other side, by result.",
              l({{"result", "ok"}}), static_cast<double>(s.shadow_runs - s.shadow_failures));
    b.Counter("maas_rollout_shadow_runs_total", "Off-path runs of the other side, by result.",
              l({{"result", "error"}}), static_cast<double>(s.shadow_failures));
    b.Counter("maas_rollout_shadow_runs_total", "Off-path runs of the other side, by result.",
              l({{"result", "dropped"}}), static_cast<double>(s.shadow_dropped));
    b.Counter("maas_rollout_rollbacks_total", "Automatic rollbacks to the primary, by reason.",
              l({{"reason", "error_rate"}}), static_cast<double>(rb_error));
    b.Counter("maas_rollout_rollbacks_total", "Automatic rollbacks to the primary, by reason.",
              l({{"reason", "divergence"}}), static_cast<double>(rb_div));
    for (const OutputDivergence& d : s.divergence) {
      b.Gauge("maas_divergence_max_abs", "Candidate vs primary: max absolute difference, this stage.",
              l({{"output", d.output}}), d.max_abs);
      b.Gauge("maas_divergence_mean_abs", "Candidate vs primary: mean absolute difference, this stage.",
              l({{"output", d.output}}), d.mean_abs);
      b.Gauge("maas_divergence_max_rel", "Candidate vs primary: max relative difference, this stage.",
              l({{"output", d.output}}), d.max_rel);
      b.Gauge("maas_divergence_mean_rel", "Candidate vs primary: mean relative difference, this stage.",
              l({{"output", d.output}}), d.mean_rel);
    }
  }

  const std::unique_ptr<Predictor> primary_;
  const std::unique_ptr<Predictor> candidate_;
  const RolloutOptions options_;
  std::atomic<RolloutStage> stage_;
  std::atomic<std::uint64_t> sampled_{0};
  std::atomic<std::int64_t> primary_served_{0}, candidate_served_{0};
  mutable std::mutex mu_;
  std::condition_variable work_cv_, idle_cv_;
  std::vector<std::unique_ptr<Job>> jobs_;
  std::vector<Job*> free_;
  std::deque<JobRef> queue_;
  int running_ = 0;
  bool stopping_ = false;
  std::uint64_t epoch_ = 0;  // stage changes; runs of an old stage are not counted
  std::vector<signed char> window_;
  std::size_t window_next_ = 0;
  std::int64_t window_count_ = 0, window_failures_ = 0;
  bool error_crossed_ = false;
  std::vector<Acc> divergence_;
  RolloutStats stats_;
  std::int64_t rollbacks_error_ = 0, rollbacks_divergence_ = 0;
  std::vector<std::thread> workers_;
  MetricsRegistry::Registration registration_;
};

}  // namespace maas

#endif  // MAAS_ROUTING_ROLLOUT_H_
