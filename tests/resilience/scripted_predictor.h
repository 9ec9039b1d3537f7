// A Predictor for the resilience tests: answers from a script of statuses
// (then a default), writes `value` (+ the row's first input) into every
// output element on success, and records each call's deadline. Its
// signature: one input "x" [-1, 2], one output "y" [-1, 3], of `dtype`.
// Thread-safe.
#ifndef MAAS_TESTS_RESILIENCE_SCRIPTED_PREDICTOR_H_
#define MAAS_TESTS_RESILIENCE_SCRIPTED_PREDICTOR_H_

#include <cmath>
#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "maas/core/clock.h"
#include "maas/core/predictor.h"
#include "maas/core/status_payload.h"

namespace maas_test {

class ScriptedPredictor final : public maas::Predictor {
 public:
  explicit ScriptedPredictor(std::string label = "scripted",
                             maas::DataType dtype = maas::DataType::kFloat32, double value = 1.0)
      : label_(std::move(label)), value_(value) {
    sig_.name = "m";
    sig_.inputs = {{"x", dtype, {maas::kDynamic, 2}}};
    sig_.outputs = {{"y", dtype, {maas::kDynamic, 3}}};
  }

  // Statuses for the next calls, in order; afterwards `Default()`.
  void Script(std::vector<absl::Status> statuses) {
    std::lock_guard<std::mutex> lock(mu_);
    script_.assign(statuses.begin(), statuses.end());
  }
  void Default(absl::Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    default_ = std::move(s);
  }
  // Advance `clock` by `d` on every call (a slow backend on a fake clock).
  void Latency(maas::Clock* clock, absl::Duration d) {
    std::lock_guard<std::mutex> lock(mu_);
    clock_ = clock;
    latency_ = d;
  }
  // The value written on success (e.g. NaN, for the guard tests).
  void Value(double v) {
    std::lock_guard<std::mutex> lock(mu_);
    value_ = v;
  }
  void SetSignatureStatus(absl::Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    sig_status_ = std::move(s);
  }
  void SetSignature(maas::ModelSignature sig) {
    std::lock_guard<std::mutex> lock(mu_);
    sig_ = std::move(sig);
  }

  int calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  std::vector<absl::Time> deadlines() const {
    std::lock_guard<std::mutex> lock(mu_);
    return deadlines_;
  }

  absl::StatusOr<maas::ModelSignature> Signature() override {
    std::lock_guard<std::mutex> lock(mu_);
    if (!sig_status_.ok()) return sig_status_;
    return sig_;
  }
  absl::string_view label() const override { return label_; }

 protected:
  absl::Status DoPredict(absl::Span<const maas::ConstTensorView> inputs,
                         absl::Span<const maas::TensorView> outputs) override {
    return DoPredictCall(inputs, outputs, maas::CallOptions(), nullptr);
  }

  absl::Status DoPredictCall(absl::Span<const maas::ConstTensorView> inputs,
                             absl::Span<const maas::TensorView> outputs,
                             const maas::CallOptions& call, maas::CallReport* report) override {
    absl::Status s;
    maas::ModelSignature sig;
    double value;
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++calls_;
      deadlines_.push_back(call.deadline);
      if (clock_ != nullptr) clock_->SleepUntil(clock_->Now() + latency_);
      if (!script_.empty()) {
        s = script_.front();
        script_.pop_front();
      } else {
        s = default_;
      }
      sig = sig_;
      value = value_;
    }
    if (report != nullptr) report->attempts = 1;
    if (!s.ok()) return s;
    std::vector<maas::ConstTensorView> in(1);
    auto batch = sig.ValidateInputs(inputs, absl::MakeSpan(in));
    if (!batch.ok()) return batch.status();
    std::vector<maas::TensorView> out(1);
    if (absl::Status v = sig.ValidateOutputs(outputs, *batch, absl::MakeSpan(out)); !v.ok()) return v;
    const auto rows = static_cast<std::size_t>(*batch);
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t c = 0; c < 3; ++c) {
        if (sig.outputs[0].dtype == maas::DataType::kFloat32) {
          const float x0 = in[0].data<float>()[r * 2];
          out[0].data<float>()[r * 3 + c] = static_cast<float>(value) + x0;
        } else {
          const double x0 = in[0].data<double>()[r * 2];
          out[0].data<double>()[r * 3 + c] = value + x0;
        }
      }
    }
    if (report != nullptr) report->served_by = label_;
    return s;
  }

 private:
  mutable std::mutex mu_;
  std::string label_;
  maas::ModelSignature sig_;
  absl::Status sig_status_;
  std::deque<absl::Status> script_;
  absl::Status default_;
  double value_;
  maas::Clock* clock_ = nullptr;
  absl::Duration latency_;
  int calls_ = 0;
  std::vector<absl::Time> deadlines_;
};

// An HTTP-looking failure: `code` with an HTTP status payload (and an
// optional Retry-After).
inline absl::Status HttpFailure(absl::StatusCode code, int http,
                                absl::Duration retry_after = absl::ZeroDuration()) {
  absl::Status s(code, "HTTP " + std::to_string(http));
  s.SetPayload(maas::kHttpStatusPayloadUrl, absl::Cord(std::to_string(http)));
  if (retry_after > absl::ZeroDuration()) maas::SetRetryAfter(&s, retry_after);
  return s;
}

}  // namespace maas_test

#endif  // MAAS_TESTS_RESILIENCE_SCRIPTED_PREDICTOR_H_
