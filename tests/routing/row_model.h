// A Predictor for the routing tests whose every output row is a function of
// its own input row only, so a caller can check it got exactly its rows:
// input "x" [-1, 4] FP32, output "y" [-1, 2] FP32 with
//   y[r] = (x[r][0] + x[r][1] + x[r][2] + x[r][3] + offset, 2 * x[r][0]).
// Optional real-time latency per call and per row, scripted failures, a gate that holds
// calls until opened; records the rows of every call and its deadline.
// Thread-safe.
#ifndef MAAS_TESTS_ROUTING_ROW_MODEL_H_
#define MAAS_TESTS_ROUTING_ROW_MODEL_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "maas/core/clock.h"
#include "maas/core/predictor.h"

namespace maas_test {

class RowModel final : public maas::Predictor {
 public:
  explicit RowModel(std::string label = "rows", float offset = 0.f)
      : label_(std::move(label)), offset_(offset) {
    sig_.name = "rows";
    sig_.inputs = {{"x", maas::DataType::kFloat32, {maas::kDynamic, 4}}};
    sig_.outputs = {{"y", maas::DataType::kFloat32, {maas::kDynamic, 2}}};
  }

  // Each call sleeps this long (real time) before answering, plus
  // `per_row` times its rows.
  void Latency(absl::Duration d, absl::Duration per_row = absl::ZeroDuration()) {
    std::lock_guard<std::mutex> lock(mu_);
    latency_ = d;
    per_row_ = per_row;
  }
  // Instead of sleeping, each call advances `clock` by `per_call` plus
  // `per_row` times its rows (a model with exact costs on a fake clock).
  void FakeLatency(maas::Clock* clock, absl::Duration per_call, absl::Duration per_row) {
    std::lock_guard<std::mutex> lock(mu_);
    fake_clock_ = clock;
    fake_per_call_ = per_call;
    fake_per_row_ = per_row;
  }
  // Statuses for the next calls, then OK.
  void Script(std::vector<absl::Status> s) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.assign(s.begin(), s.end());
  }
  // Every call fails with `s` (OK: none does).
  void FailAll(absl::Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    fail_all_ = std::move(s);
  }
  void SetOffset(float offset) {
    std::lock_guard<std::mutex> lock(mu_);
    offset_ = offset;
  }
  // Calls wait at the gate until Open(); Close() sets it up (before calls).
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    gated_ = true;
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    gated_ = false;
    cv_.notify_all();
  }
  // Calls currently inside (at the gate or sleeping).
  int inside() const { return inside_.load(); }
  void SignatureFails(absl::Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    sig_status_ = std::move(s);
  }

  std::vector<std::int64_t> batch_rows() const {
    std::lock_guard<std::mutex> lock(mu_);
    return rows_;
  }
  std::vector<const void*> input_pointers() const {
    std::lock_guard<std::mutex> lock(mu_);
    return pointers_;
  }
  std::vector<absl::Time> deadlines() const {
    std::lock_guard<std::mutex> lock(mu_);
    return deadlines_;
  }
  int calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(rows_.size());
  }

  absl::StatusOr<maas::ModelSignature> Signature() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!sig_status_.ok()) return sig_status_;
    return sig_;
  }
  absl::string_view label() const override { return label_; }

  // The expected output of one row.
  static void Expected(const float* x, float offset, float* y) {
    y[0] = x[0] + x[1] + x[2] + x[3] + offset;
    y[1] = 2 * x[0];
  }

 protected:
  absl::Status DoPredict(absl::Span<const maas::ConstTensorView> inputs,
                         absl::Span<const maas::TensorView> outputs) override {
    return DoPredictCall(inputs, outputs, maas::CallOptions(), nullptr);
  }

  absl::Status DoPredictCall(absl::Span<const maas::ConstTensorView> inputs,
                             absl::Span<const maas::TensorView> outputs,
                             const maas::CallOptions& call, maas::CallReport* report) override {
    inside_.fetch_add(1);
    absl::Status s;
    absl::Duration latency;
    float offset;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return !gated_; });
      if (!script_.empty()) {
        s = script_.front();
        script_.pop_front();
      } else {
        s = fail_all_;
      }
      latency = latency_;
      if (!inputs.empty() && inputs[0].shape().rank() > 0) {
        latency += per_row_ * inputs[0].shape().dim(0);
      }
      offset = offset_;
    }
    if (latency > absl::ZeroDuration()) absl::SleepFor(latency);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (fake_clock_ != nullptr) {
        const std::int64_t rows =
            !inputs.empty() && inputs[0].shape().rank() > 0 ? inputs[0].shape().dim(0) : 1;
        fake_clock_->SleepUntil(fake_clock_->Now() + fake_per_call_ + fake_per_row_ * rows);
      }
    }
    inside_.fetch_sub(1);
    if (report != nullptr) report->attempts = 1;
    if (call.has_deadline() && absl::Now() > call.deadline) {
      return absl::DeadlineExceededError(label_ + ": deadline passed");
    }
    if (!s.ok()) return s;
    std::vector<maas::ConstTensorView> in(1);
    auto batch = sig_.ValidateInputs(inputs, absl::MakeSpan(in));
    if (!batch.ok()) return batch.status();
    std::vector<maas::TensorView> out(1);
    if (absl::Status v = sig_.ValidateOutputs(outputs, *batch, absl::MakeSpan(out)); !v.ok()) return v;
    {
      std::lock_guard<std::mutex> lock(mu_);
      rows_.push_back(*batch);
      pointers_.push_back(in[0].raw_data());
      deadlines_.push_back(call.deadline);
    }
    const float* x = in[0].data<float>().data();
    float* y = out[0].data<float>().data();
    for (std::int64_t r = 0; r < *batch; ++r) Expected(x + 4 * r, offset, y + 2 * r);
    if (report != nullptr) report->served_by = label_;
    return s;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::string label_;
  maas::ModelSignature sig_;
  absl::Status sig_status_;
  float offset_;
  absl::Duration latency_, per_row_;
  maas::Clock* fake_clock_ = nullptr;
  absl::Duration fake_per_call_, fake_per_row_;
  std::deque<absl::Status> script_;
  absl::Status fail_all_;
  bool gated_ = false;
  std::atomic<int> inside_{0};
  std::vector<std::int64_t> rows_;
  std::vector<const void*> pointers_;
  std::vector<absl::Time> deadlines_;
};

// Rows for a caller: distinct values per (thread, call, row).
inline std::vector<float> TestRows(int thread, int call, int rows) {
  std::vector<float> x(static_cast<std::size_t>(rows) * 4);
  for (int r = 0; r < rows; ++r) {
    for (int c = 0; c < 4; ++c) {
      x[static_cast<std::size_t>(r * 4 + c)] =
          static_cast<float>(thread * 1000 + call) + 0.25f * static_cast<float>(r) +
          0.01f * static_cast<float>(c);
    }
  }
  return x;
}

// True when `y` is RowModel's answer for `x` with `offset`.
inline bool RowsMatch(const std::vector<float>& x, const std::vector<float>& y, float offset = 0.f) {
  const std::size_t rows = x.size() / 4;
  if (y.size() != rows * 2) return false;
  for (std::size_t r = 0; r < rows; ++r) {
    float want[2];
    RowModel::Expected(&x[r * 4], offset, want);
    if (y[r * 2] != want[0] || y[r * 2 + 1] != want[1]) return false;
  }
  return true;
}

}  // namespace maas_test

#endif  // MAAS_TESTS_ROUTING_ROW_MODEL_H_
