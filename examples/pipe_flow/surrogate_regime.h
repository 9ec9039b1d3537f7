// -----------------------------------------------------------------------------
// File: examples/pipe_flow/surrogate_regime.h
// -----------------------------------------------------------------------------
//
// `SurrogateRegime` turns any `maas::Predictor` whose model maps log10(Re)
// to the probabilities of (laminar, transitional, turbulent) -- one input
// [-1, 1], one output [-1, 3], FP64 or FP32 -- into a regime classifier for
// physics.h: the class with the largest probability. It sees only the
// Predictor interface, so the model may be local or on a server.
//
// Thread safety: one instance per thread (it counts calls); the predictor
// must outlive it.

#ifndef MAAS_EXAMPLES_PIPE_FLOW_SURROGATE_REGIME_H_
#define MAAS_EXAMPLES_PIPE_FLOW_SURROGATE_REGIME_H_

#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "maas/core/data_type.h"
#include "maas/core/model_signature.h"
#include "maas/core/predictor.h"
#include "maas/core/tensor_view.h"
#include "pipe_flow/physics.h"

namespace pipe_flow {

// SurrogateRegime
//
// See the file comment.
class SurrogateRegime {
 public:
  // SurrogateRegime::Create()
  //
  // Checks the predictor's signature (one input [-1,1], one output [-1,3],
  // both FP64 or both FP32). Fails with `kInvalidArgument` naming what
  // differs, or with `Signature()`'s status.
  static absl::StatusOr<SurrogateRegime> Create(maas::Predictor& predictor) {
    absl::StatusOr<maas::ModelSignature> sig = predictor.Signature();
    if (!sig.ok()) return sig.status();
    if (sig->inputs.size() != 1 || sig->outputs.size() != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "regime model '", sig->name, "': expected 1 input and 1 output, got ",
          sig->inputs.size(), " and ", sig->outputs.size()));
    }
    const maas::TensorSpec& in = sig->inputs[0];
    const maas::TensorSpec& out = sig->outputs[0];
    auto fits = [](const maas::TensorSpec& t, std::int64_t n) {
      return t.shape.rank() == 2 && t.shape.dim(1) == n &&
             (t.shape.dim(0) == maas::kDynamic || t.shape.dim(0) == 1) &&
             (t.dtype == maas::DataType::kFloat64 || t.dtype == maas::DataType::kFloat32);
    };
    if (!fits(in, 1) || !fits(out, 3) || in.dtype != out.dtype) {
      return absl::InvalidArgumentError(absl::StrCat(
          "regime model '", sig->name, "': expected FP64 or FP32 tensors of shape [-1,1] -> "
          "[-1,3], got ", maas::DataTypeName(in.dtype), in.shape.ToString(), " -> ",
          maas::DataTypeName(out.dtype), out.shape.ToString()));
    }
    return SurrogateRegime(predictor, *sig);
  }

  // SurrogateRegime::operator()
  //
  // The most probable regime at `re` (> 0): one Predict call on
  // caller-owned scalars. Fails with `kInvalidArgument` for re <= 0 and with
  // the predictor's status otherwise.
  absl::StatusOr<Regime> operator()(double re) {
    if (!(re > 0)) {
      return absl::InvalidArgumentError(absl::StrCat("Reynolds number ", re, " is not > 0"));
    }
    const double x = std::log10(re);
    std::array<double, 3> p{};
    absl::Status s;
    const auto start = std::chrono::steady_clock::now();
    if (fp64_) {
      s = predictor_->Predict({maas::ConstTensorView(input_, absl::MakeConstSpan(&x, 1), {1, 1})},
                              {maas::TensorView(output_, absl::MakeSpan(p), {1, 3})});
    } else {
      const float xf = static_cast<float>(x);
      std::array<float, 3> pf{};
      s = predictor_->Predict({maas::ConstTensorView(input_, absl::MakeConstSpan(&xf, 1), {1, 1})},
                              {maas::TensorView(output_, absl::MakeSpan(pf), {1, 3})});
      for (int i = 0; i < 3; ++i) p[i] = pf[i];
    }
    elapsed_ += std::chrono::steady_clock::now() - start;
    ++calls_;
    if (!s.ok()) return s;
    int best = 0;
    for (int i = 1; i < 3; ++i) {
      if (p[i] > p[best]) best = i;
    }
    return static_cast<Regime>(best);
  }

  std::int64_t calls() const { return calls_; }
  double mean_call_ns() const {
    if (calls_ == 0) return 0;
    return static_cast<double>(
               std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed_).count()) /
           static_cast<double>(calls_);
  }
  const std::string& model_name() const { return name_; }
  const std::string& model_version() const { return version_; }

 private:
  SurrogateRegime(maas::Predictor& predictor, const maas::ModelSignature& sig)
      : predictor_(&predictor),
        name_(sig.name),
        version_(sig.version),
        input_(sig.inputs[0].name),
        output_(sig.outputs[0].name),
        fp64_(sig.inputs[0].dtype == maas::DataType::kFloat64) {}

  maas::Predictor* predictor_;
  std::string name_, version_, input_, output_;
  bool fp64_;
  std::int64_t calls_ = 0;
  std::chrono::steady_clock::duration elapsed_{};
};

}  // namespace pipe_flow

#endif  // MAAS_EXAMPLES_PIPE_FLOW_SURROGATE_REGIME_H_
