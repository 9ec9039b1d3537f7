// -----------------------------------------------------------------------------
// File: resilience/non_finite_guard.h
// -----------------------------------------------------------------------------
//
// `maas::NonFiniteGuardPredictor` refuses a result holding NaN or an
// infinity: the call fails with `kDataLoss` naming the output and the first
// bad element ("output 'cd': NaN at index 5 (row 1, column 2)"), and the
// caller's outputs are untouched, so a fallback can serve the step instead
// and no NaN from a server enters a physics state unnoticed.
//
// The wrapped predictor writes into per-thread scratch memory of the same
// shape; the guard scans it and copies it to the caller's buffers only when
// every FP32/FP64 element is finite (other datatypes pass unchecked). The
// cost is one scan and one copy of the outputs; no allocation once the
// scratch is warm. Thread-safe when the wrapped predictor is.
//
// Example:
//
//   auto guarded = std::make_unique<maas::NonFiniteGuardPredictor>(std::move(remote));

#ifndef MAAS_RESILIENCE_NON_FINITE_GUARD_H_
#define MAAS_RESILIENCE_NON_FINITE_GUARD_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "maas/core/call.h"
#include "maas/core/predictor.h"
#include "maas/resilience/detail/views.h"

namespace maas {

// FindNonFinite()
//
// The index of the first NaN or infinity among `n` elements of `dtype` at
// `data`, or -1 (also for datatypes other than FP32/FP64).
inline std::int64_t FindNonFinite(DataType dtype, const void* data, std::size_t n) {
  if (dtype == DataType::kFloat32) {
    const auto* p = static_cast<const float*>(data);
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isfinite(p[i])) return static_cast<std::int64_t>(i);
    }
  } else if (dtype == DataType::kFloat64) {
    const auto* p = static_cast<const double*>(data);
    for (std::size_t i = 0; i < n; ++i) {
      if (!std::isfinite(p[i])) return static_cast<std::int64_t>(i);
    }
  }
  return -1;
}

// NonFiniteGuardPredictor
//
// See the file comment. Owns the wrapped predictor.
class NonFiniteGuardPredictor final : public Predictor {
 public:
  explicit NonFiniteGuardPredictor(std::unique_ptr<Predictor> inner) : inner_(std::move(inner)) {}

  absl::StatusOr<ModelSignature> Signature() override { return inner_->Signature(); }
  absl::string_view label() const override { return inner_->label(); }

 protected:
  absl::Status DoPredict(absl::Span<const ConstTensorView> inputs,
                         absl::Span<const TensorView> outputs) override {
    return DoPredictCall(inputs, outputs, CallOptions(), nullptr);
  }

  absl::Status DoPredictCall(absl::Span<const ConstTensorView> inputs,
                             absl::Span<const TensorView> outputs, const CallOptions& call,
                             CallReport* report) override {
    // Views of per-thread scratch with the caller's names, types and shapes.
    thread_local detail::ScratchArena arena;
    std::size_t bytes = 0;
    for (const TensorView& o : outputs) {
      if (absl::Status s = o.CheckBuffer(); !s.ok()) return s;
      bytes += (o.byte_size() + 127) & ~std::size_t{63};
    }
    arena.Reserve(bytes);
    absl::InlinedVector<TensorView, 4> scratch;
    for (const TensorView& o : outputs) {
      scratch.emplace_back(o.name(), o.dtype(), o.shape(), arena.Take(o.byte_size()), o.byte_size());
    }
    CallReport sub;
    absl::Status s = inner_->Predict(inputs, scratch, call, &sub);
    detail::MergeReport(sub, report);
    if (!s.ok()) return s;
    for (std::size_t k = 0; k < outputs.size(); ++k) {
      const TensorView& v = scratch[k];
      const std::size_t elem = DataTypeSize(v.dtype());
      const std::size_t n = elem == 0 ? 0 : v.byte_size() / elem;
      const std::int64_t bad = FindNonFinite(v.dtype(), v.raw_data(), n);
      if (bad < 0) continue;
      if (report != nullptr) {
        report->non_finite = true;
        report->served_by = absl::string_view();
      }
      const double value = v.dtype() == DataType::kFloat32
                               ? static_cast<double>(static_cast<const float*>(v.raw_data())[bad])
                               : static_cast<const double*>(v.raw_data())[bad];
      const std::int64_t cols =
          v.shape().rank() >= 2 && v.shape().dim(0) > 0 ? static_cast<std::int64_t>(n) / v.shape().dim(0) : 0;
      return absl::DataLossError(absl::StrCat(
          inner_->label(), ": output '", outputs[k].name(), "': ",
          std::isnan(value) ? "NaN" : (value > 0 ? "+Inf" : "-Inf"), " at index ", bad,
          cols > 0 ? absl::StrCat(" (row ", bad / cols, ", column ", bad % cols, ")") : std::string(),
          "; the reply was refused"));
    }
    for (std::size_t k = 0; k < outputs.size(); ++k) {
      if (outputs[k].byte_size() > 0) {
        std::memcpy(outputs[k].raw_data(), scratch[k].raw_data(), outputs[k].byte_size());
      }
    }
    return s;
  }

 private:
  const std::unique_ptr<Predictor> inner_;
};

}  // namespace maas

#endif  // MAAS_RESILIENCE_NON_FINITE_GUARD_H_
