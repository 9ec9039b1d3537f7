// -----------------------------------------------------------------------------
// File: resilience/fallback.h
// -----------------------------------------------------------------------------
//
// `maas::FallbackPredictor` answers from a fallback predictor (typically the
// small local network) when the primary (typically a remote model, wrapped
// in retries and a circuit breaker) fails for a reason the fallback can do
// something about, so a simulation keeps stepping through a server restart.
//
// When it falls back: `kUnavailable` (server down, circuit open),
// `kDeadlineExceeded`, `kResourceExhausted`, and by default `kDataLoss` (a
// reply that does not parse, does not fit, or holds NaN when the primary is
// guarded); `kInternal` (HTTP 500) when `on_internal` is set. Never on
// caller errors (`kInvalidArgument`, ...): the fallback would refuse them
// too, and hiding them would hide a bug.
//
// Deadlines: the call's deadline (or `default_timeout` when the caller gives
// none) is shared: the primary gets it minus `fallback_reserve`, so the
// fallback still has time to answer by the deadline; the fallback always gets
// at least `fallback_reserve` from the moment it starts (so a primary that
// overran its share by a timer tick still leaves the step an answer).
//
// Outputs are written only by the backend that succeeds. `CallReport` says
// which one served (`served_by`), whether the call fell back and why
// (`primary_status`).
//
// Signatures are checked for compatibility when the fallback is built:
// same number of inputs and outputs, compatible shapes (equal, or either
// dimension dynamic), and datatypes that are equal or float/double (then
// converted, unless `dtype_policy` is `kRefuse`). Tensor names may differ
// (servers often say "input__0"): tensors are matched by position, or by
// `name_map` (primary name -> fallback name). A mismatch fails `Create()`
// with `kFailedPrecondition` naming the tensor and both specs. When the
// primary cannot tell its signature then (server down), the check runs as
// soon as it can; a mismatch found then stops calls to the primary for good
// (the fallback serves, and `CallReport::primary_status` and
// `primary_disabled()` say why).
//
// The caller's views may use either backend's names, or none (position).
//
// Thread-safe when both predictors are. Allocates nothing per call once
// warm (float/double conversion uses per-thread scratch).
//
// Example:
//
//   maas::FallbackOptions fo;
//   auto chain = maas::FallbackPredictor::Create(std::move(remote), std::move(local), fo);
//   if (!chain.ok()) return chain.status();
//   maas::CallReport r;
//   absl::Status s = (*chain)->Predict({in}, {out},
//                                      maas::CallOptions::Timeout(absl::Milliseconds(50)), &r);
//   // r.served_by == "remote" or "local"; r.fell_back; r.primary_status

#ifndef MAAS_RESILIENCE_FALLBACK_H_
#define MAAS_RESILIENCE_FALLBACK_H_

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
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
#include "maas/core/detail/mutex.h"
#include "maas/core/model_signature.h"
#include "maas/core/predictor.h"
#include "maas/core/status_payload.h"
#include "maas/resilience/detail/views.h"

namespace maas {

// FallbackOptions
//
// See the file comment.
struct FallbackOptions {
  bool on_data_loss = true;
  bool on_internal = false;
  enum class DtypePolicy { kConvert, kRefuse };
  DtypePolicy dtype_policy = DtypePolicy::kConvert;
  std::vector<std::pair<std::string, std::string>> name_map;  // primary -> fallback
  absl::Duration default_timeout = absl::InfiniteDuration();
  absl::Duration fallback_reserve = absl::Milliseconds(1);
  std::string label = "fallback";
};

// FallbackStats
//
// Counters since construction: calls, calls served by each side, and
// fallbacks by the primary's status code (index: absl::StatusCode value),
// with circuit-open refusals counted apart.
struct FallbackStats {
  std::int64_t calls = 0;
  std::int64_t primary_served = 0;
  std::int64_t fallback_served = 0;
  std::int64_t failed = 0;
  std::int64_t fallback_circuit_open = 0;
  std::array<std::int64_t, 17> fallback_by_code{};
};

// FallbackPredictor
//
// See the file comment. Owns both predictors.
class FallbackPredictor final : public Predictor {
 public:
  // FallbackPredictor::Create()
  //
  // Fails with `kInvalidArgument` for a null predictor, with the fallback's
  // own status when its signature is not available, with
  // `kFailedPrecondition` when the signatures do not fit (see the file
  // comment), and with the primary's status when it fails for another
  // reason than being unreachable (e.g. `kNotFound`: no such model).
  static absl::StatusOr<std::unique_ptr<FallbackPredictor>> Create(
      std::unique_ptr<Predictor> primary, std::unique_ptr<Predictor> fallback,
      FallbackOptions options = {}) {
    try {
      if (primary == nullptr || fallback == nullptr) {
        return absl::InvalidArgumentError("FallbackPredictor::Create: a predictor is null");
      }
      absl::StatusOr<ModelSignature> fsig = fallback->Signature();
      if (!fsig.ok()) return fsig.status();
      auto self = std::unique_ptr<FallbackPredictor>(new FallbackPredictor(
          std::move(primary), std::move(fallback), std::move(options), *std::move(fsig)));
      absl::StatusOr<ModelSignature> psig = self->primary_->Signature();
      if (psig.ok()) {
        if (absl::Status s = self->Bind(*psig); !s.ok()) return s;
      } else if (!Unreachable(psig.status())) {
        return psig.status();
      }
      return self;
    } catch (...) {
      return detail::CurrentExceptionStatus("FallbackPredictor::Create");
    }
  }

  // FallbackPredictor::Signature()
  //
  // The primary's signature when known, else the fallback's.
  absl::StatusOr<ModelSignature> Signature() override ABSL_LOCKS_EXCLUDED(mu_) {
    {
      detail::MutexLock lock(&mu_);
      if (primary_sig_.has_value()) return *primary_sig_;
    }
    return fallback_sig_;
  }

  absl::string_view label() const override { return options_.label; }

  // FallbackPredictor::primary_disabled()
  //
  // Why the primary is no longer called (a signature mismatch found after
  // construction), or OK.
  absl::Status primary_disabled() const ABSL_LOCKS_EXCLUDED(mu_) {
    detail::MutexLock lock(&mu_);
    return disabled_;
  }

  // FallbackPredictor::stats()
  FallbackStats stats() const {
    FallbackStats s;
    s.calls = calls_.load(std::memory_order_relaxed);
    s.primary_served = primary_served_.load(std::memory_order_relaxed);
    s.fallback_served = fallback_served_.load(std::memory_order_relaxed);
    s.failed = failed_.load(std::memory_order_relaxed);
    s.fallback_circuit_open = by_circuit_.load(std::memory_order_relaxed);
    for (std::size_t i = 0; i < s.fallback_by_code.size(); ++i) {
      s.fallback_by_code[i] = by_code_[i].load(std::memory_order_relaxed);
    }
    return s;
  }

 protected:
  absl::Status DoPredict(absl::Span<const ConstTensorView> inputs,
                         absl::Span<const TensorView> outputs) override {
    return DoPredictCall(inputs, outputs, CallOptions(), nullptr);
  }

  absl::Status DoPredictCall(absl::Span<const ConstTensorView> inputs,
                             absl::Span<const TensorView> outputs, const CallOptions& call,
                             CallReport* report) override {
    calls_.fetch_add(1, std::memory_order_relaxed);
    const absl::Time start = absl::Now();
    CallOptions options = call;
    if (!options.has_deadline() && options_.default_timeout != absl::InfiniteDuration()) {
      options.deadline = start + options_.default_timeout;
    }
    Order order;
    if (absl::Status s = ResolveViews(inputs, outputs, &order); !s.ok()) return s;
    order.given_in = inputs;
    order.given_out = outputs;

    absl::Status primary = PrimaryDisabled();
    if (primary.ok()) {
      CallOptions p = options;
      if (p.has_deadline()) p.deadline -= options_.fallback_reserve;
      CallReport sub;
      primary = CallBackend(*primary_, /*fallback=*/false, order, p, &sub);
      detail::MergeReport(sub, report);
      // Unchecked so far (unreachable at construction): the primary answered
      // something, so it may tell its signature now.
      if (!bound_.load(std::memory_order_acquire) &&
          primary.code() != absl::StatusCode::kUnavailable) {
        CheckLateSignature();
        if (absl::Status d = PrimaryDisabled(); !d.ok()) primary = d;
      }
      if (primary.ok()) {
        primary_served_.fetch_add(1, std::memory_order_relaxed);
        Finish(report, start);
        return primary;
      }
      if (report != nullptr) report->primary_status = primary;
      if (!ShouldFallBack(primary)) {
        failed_.fetch_add(1, std::memory_order_relaxed);
        Finish(report, start);
        return primary;
      }
      if (IsCircuitOpen(primary)) {
        by_circuit_.fetch_add(1, std::memory_order_relaxed);
      } else {
        by_code_[static_cast<std::size_t>(primary.code()) % by_code_.size()].fetch_add(
            1, std::memory_order_relaxed);
      }
    } else if (report != nullptr) {
      report->primary_status = primary;
    }
    // The fallback always gets at least its reserve: a primary that overran
    // its share a little (a timer's granularity) must not leave the step
    // without an answer.
    CallOptions f = options;
    if (f.has_deadline()) f.deadline = std::max(f.deadline, absl::Now() + options_.fallback_reserve);
    CallReport sub;
    absl::Status s = CallBackend(*fallback_, /*fallback=*/true, order, f, &sub);
    detail::MergeReport(sub, report);
    if (report != nullptr) {
      report->fell_back = true;
      if (!primary.ok()) report->primary_status = primary;
    }
    (s.ok() ? fallback_served_ : failed_).fetch_add(1, std::memory_order_relaxed);
    Finish(report, start);
    return s;
  }

  // DoJacobian()
  //
  // `Predictor::Jacobian` through the chain: the primary's derivatives when
  // it offers them and answers; the fallback's when the primary answers
  // `kUnimplemented` (no derivatives: a remote model, or a decorator that
  // does not forward them, which is every other decorator), fails for a
  // reason `Predict` falls back on, or is disabled. So a remote primary
  // with a local fallback always answers from the local network. The views
  // go to the backend unchanged (no name mapping, no float/double
  // conversion): use that backend's names and datatype, or empty names.
  // Not counted in stats(); no deadline.
  absl::Status DoJacobian(absl::Span<const ConstTensorView> inputs,
                          absl::Span<const TensorView> outputs,
                          const TensorView& jacobian) override {
    absl::Status primary = PrimaryDisabled();
    if (primary.ok()) {
      primary = primary_->Jacobian(inputs, outputs, jacobian);
      if (primary.ok() ||
          (primary.code() != absl::StatusCode::kUnimplemented && !ShouldFallBack(primary))) {
        return primary;
      }
    }
    return fallback_->Jacobian(inputs, outputs, jacobian);
  }

 private:
  static constexpr std::size_t kMaxTensors = 8;

  // The caller's views in primary (signature) order, with a snapshot of the
  // mapping they were resolved with.
  struct Order {
    absl::InlinedVector<ConstTensorView, 4> in;
    absl::InlinedVector<TensorView, 4> out;
    // Primary index -> fallback index; empty = the identity (always, until
    // the primary's signature is bound; afterwards the bound maps, which no
    // longer change).
    absl::Span<const int> in_map, out_map;
    const ModelSignature* primary_sig = nullptr;  // when bound
    // The caller's own spans can go to that backend unchanged: given in its
    // order, unnamed or with its names, in its datatypes.
    bool direct_primary = false, direct_fallback = false;
    absl::Span<const ConstTensorView> given_in;
    absl::Span<const TensorView> given_out;
  };

  // Whether `given` can be passed to a backend with `specs` (null: unknown
  // signature) as it is. `map`: primary index -> that backend's index.
  template <typename View>
  static bool Direct(absl::Span<const View> given, const std::vector<TensorSpec>* specs,
                     absl::Span<const int> map) {
    if (specs == nullptr) {
      for (const View& v : given) {
        if (!v.name().empty()) return false;
      }
      return true;
    }
    if (given.size() != specs->size()) return false;
    for (std::size_t k = 0; k < given.size(); ++k) {
      if (!map.empty() && map[k] != static_cast<int>(k)) return false;
      const TensorSpec& t = (*specs)[k];
      if ((!given[k].name().empty() && given[k].name() != t.name) || given[k].dtype() != t.dtype) {
        return false;
      }
    }
    return true;
  }

  FallbackPredictor(std::unique_ptr<Predictor> primary, std::unique_ptr<Predictor> fallback,
                    FallbackOptions options, ModelSignature fallback_sig)
      : primary_(std::move(primary)),
        fallback_(std::move(fallback)),
        options_(std::move(options)),
        fallback_sig_(std::move(fallback_sig)) {}

  static bool Unreachable(const absl::Status& s) {
    return s.code() == absl::StatusCode::kUnavailable ||
           s.code() == absl::StatusCode::kDeadlineExceeded ||
           s.code() == absl::StatusCode::kResourceExhausted;
  }

  bool ShouldFallBack(const absl::Status& s) const {
    switch (s.code()) {
      case absl::StatusCode::kFailedPrecondition:
        return disabled_unlocked_.load(std::memory_order_acquire);  // our own mismatch
      case absl::StatusCode::kUnavailable:
      case absl::StatusCode::kDeadlineExceeded:
      case absl::StatusCode::kResourceExhausted:
        return true;
      case absl::StatusCode::kDataLoss:
        return options_.on_data_loss;
      case absl::StatusCode::kInternal:
        return options_.on_internal;
      default:
        return false;
    }
  }

  static bool ShapesCompatible(const Shape& a, const Shape& b) {
    if (a.rank() != b.rank()) return false;
    for (std::size_t i = 0; i < a.rank(); ++i) {
      if (a.dim(i) != b.dim(i) && a.dim(i) != kDynamic && b.dim(i) != kDynamic) return false;
    }
    return true;
  }

  // Maps primary tensors to fallback tensors and checks them.
  absl::Status MapTensors(const std::vector<TensorSpec>& p, const std::vector<TensorSpec>& f,
                          absl::string_view kind, std::vector<int>* map) const {
    if (p.size() != f.size()) {
      return absl::FailedPreconditionError(absl::StrCat(
          options_.label, ": the primary has ", p.size(), " ", kind, "s, the fallback ", f.size()));
    }
    if (p.size() > kMaxTensors) {
      return absl::FailedPreconditionError(
          absl::StrCat(options_.label, ": more than ", kMaxTensors, " ", kind, "s"));
    }
    map->assign(p.size(), -1);
    for (std::size_t i = 0; i < p.size(); ++i) {
      std::size_t j = i;
      for (const auto& nm : options_.name_map) {
        if (nm.first != p[i].name) continue;
        auto it = std::find_if(f.begin(), f.end(), [&](const TensorSpec& t) { return t.name == nm.second; });
        if (it == f.end()) {
          return absl::FailedPreconditionError(absl::StrCat(
              options_.label, ": name_map maps ", kind, " '", nm.first, "' to '", nm.second,
              "', which the fallback does not have"));
        }
        j = static_cast<std::size_t>(it - f.begin());
      }
      const TensorSpec& a = p[i];
      const TensorSpec& b = f[j];
      const bool same_type = a.dtype == b.dtype;
      const bool convertible = detail::IsFloatType(a.dtype) && detail::IsFloatType(b.dtype) &&
                               options_.dtype_policy == FallbackOptions::DtypePolicy::kConvert;
      if ((!same_type && !convertible) || !ShapesCompatible(a.shape, b.shape)) {
        return absl::FailedPreconditionError(absl::StrCat(
            options_.label, ": ", kind, " '", a.name, "' of the primary is ", DataTypeName(a.dtype),
            a.shape.ToString(), " but the fallback's '", b.name, "' is ", DataTypeName(b.dtype),
            b.shape.ToString(),
            !same_type && detail::IsFloatType(a.dtype) && detail::IsFloatType(b.dtype)
                ? " (FP32/FP64 conversion is refused by dtype_policy)"
                : ""));
      }
      (*map)[i] = static_cast<int>(j);
    }
    return absl::OkStatus();
  }

  // Records the primary's signature and the mapping (or the mismatch).
  absl::Status Bind(const ModelSignature& psig) ABSL_LOCKS_EXCLUDED(mu_) {
    std::vector<int> in, out;
    absl::Status s = MapTensors(psig.inputs, fallback_sig_.inputs, "input", &in);
    if (s.ok()) s = MapTensors(psig.outputs, fallback_sig_.outputs, "output", &out);
    detail::MutexLock lock(&mu_);
    if (bound_.load(std::memory_order_relaxed)) return absl::OkStatus();  // bound already
    if (!s.ok()) {
      disabled_ = s;
      disabled_unlocked_.store(true, std::memory_order_release);
      return s;
    }
    primary_sig_ = psig;
    in_map_ = std::move(in);
    out_map_ = std::move(out);
    bound_.store(true, std::memory_order_release);
    return absl::OkStatus();
  }

  // After a primary success with its signature still unchecked (it was
  // unreachable at construction): check it now.
  void CheckLateSignature() {
    if (bound_.load(std::memory_order_acquire)) return;
    absl::StatusOr<ModelSignature> psig = primary_->Signature();
    if (psig.ok()) (void)Bind(*psig);
  }

  absl::Status PrimaryDisabled() const ABSL_LOCKS_EXCLUDED(mu_) {
    if (bound_.load(std::memory_order_acquire)) return absl::OkStatus();
    detail::MutexLock lock(&mu_);
    return disabled_;
  }

  // Puts the caller's views in primary order: by name (either backend's) or,
  // for unnamed views, by position.
  template <typename View, typename Out>
  absl::Status Resolve(absl::Span<const View> given, const std::vector<TensorSpec>& fspecs,
                       const std::vector<TensorSpec>* pspecs, absl::Span<const int> map,
                       absl::string_view kind, Out* ordered) const {
    const std::size_t n = fspecs.size();
    if (given.size() > n) {
      return absl::InvalidArgumentError(absl::StrCat(options_.label, ": ", given.size(), " ", kind,
                                                     "s given, the model has ", n));
    }
    ordered->assign(n, View());
    std::array<bool, kMaxTensors> seen{};
    for (std::size_t k = 0; k < given.size(); ++k) {
      const View& v = given[k];
      std::size_t i = k;
      if (!v.name().empty()) {
        i = n;
        for (std::size_t p = 0; p < n && i == n; ++p) {
          if (pspecs != nullptr && (*pspecs)[p].name == v.name()) i = p;
          const std::size_t j = map.empty() ? p : static_cast<std::size_t>(map[p]);
          if (fspecs[j].name == v.name()) i = p;
        }
        if (i == n) {
          return absl::InvalidArgumentError(absl::StrCat(options_.label, ": unknown ", kind, " '",
                                                         v.name(), "'"));
        }
      }
      if (seen[i]) {
        return absl::InvalidArgumentError(absl::StrCat(options_.label, ": ", kind, " #", i,
                                                       " given twice"));
      }
      seen[i] = true;
      (*ordered)[i] = v;
    }
    return absl::OkStatus();
  }

  absl::Status ResolveViews(absl::Span<const ConstTensorView> inputs,
                            absl::Span<const TensorView> outputs, Order* order) const {
    // primary_sig_ and the maps change once, in Bind(), before bound_ is set;
    // after that they are read without the lock. Until then the mapping is
    // the identity.
    if (bound_.load(std::memory_order_acquire)) {
      order->primary_sig = &*primary_sig_;
      order->in_map = in_map_;
      order->out_map = out_map_;
    }
    const ModelSignature* p = order->primary_sig;
    order->direct_primary = Direct(inputs, p ? &p->inputs : nullptr, {}) &&
                            Direct(outputs, p ? &p->outputs : nullptr, {});
    order->direct_fallback = Direct(inputs, &fallback_sig_.inputs, order->in_map) &&
                             Direct(outputs, &fallback_sig_.outputs, order->out_map);
    if (order->direct_primary && order->direct_fallback) return absl::OkStatus();
    if (absl::Status s = Resolve(inputs, fallback_sig_.inputs, p ? &p->inputs : nullptr,
                                 order->in_map, "input", &order->in);
        !s.ok()) {
      return s;
    }
    return Resolve(outputs, fallback_sig_.outputs, p ? &p->outputs : nullptr, order->out_map,
                   "output", &order->out);
  }

  // Calls one backend with unnamed views in its own order, converting FP32
  // and FP64 where its datatype differs from the caller's; outputs reach the
  // caller only on success.
  absl::Status CallBackend(Predictor& backend, bool to_fallback, const Order& order,
                           const CallOptions& options, CallReport* report) const {
    if (to_fallback ? order.direct_fallback : order.direct_primary) {
      return backend.Predict(order.given_in, order.given_out, options, report);
    }
    const ModelSignature* psig = order.primary_sig;
    const std::vector<TensorSpec>* in_specs =
        to_fallback ? &fallback_sig_.inputs : (psig != nullptr ? &psig->inputs : nullptr);
    const std::vector<TensorSpec>* out_specs =
        to_fallback ? &fallback_sig_.outputs : (psig != nullptr ? &psig->outputs : nullptr);
    const std::size_t n_in = order.in.size(), n_out = order.out.size();
    absl::InlinedVector<ConstTensorView, 4> in(n_in);
    absl::InlinedVector<TensorView, 4> out(n_out);
    // Scratch for conversions.
    thread_local detail::ScratchArena arena;
    std::size_t bytes = 0;
    auto target_type = [](const std::vector<TensorSpec>* specs, std::size_t j, DataType given) {
      return specs == nullptr ? given : (*specs)[j].dtype;
    };
    auto slot = [&](bool input, std::size_t i) -> std::size_t {
      const absl::Span<const int> map = input ? order.in_map : order.out_map;
      return to_fallback && !map.empty() ? static_cast<std::size_t>(map[i]) : i;
    };
    for (std::size_t i = 0; i < n_in; ++i) {
      const ConstTensorView& v = order.in[i];
      const DataType want = target_type(in_specs, slot(true, i), v.dtype());
      if (want != v.dtype()) bytes += detail::ScratchBytes(want, v.shape().num_elements());
    }
    for (std::size_t i = 0; i < n_out; ++i) {
      const TensorView& v = order.out[i];
      if (v.dtype() == DataType::kInvalid && v.raw_data() == nullptr) continue;
      const DataType want = target_type(out_specs, slot(false, i), v.dtype());
      if (want != v.dtype()) bytes += detail::ScratchBytes(want, v.shape().num_elements());
    }
    if (bytes > 0) arena.Reserve(bytes);
    bool convert_out = false;
    for (std::size_t i = 0; i < n_in; ++i) {
      const ConstTensorView& v = order.in[i];
      const std::size_t j = slot(true, i);
      const DataType want = target_type(in_specs, j, v.dtype());
      if (want == v.dtype() || !detail::IsFloatType(want) || !detail::IsFloatType(v.dtype()) ||
          v.shape().num_elements() < 0) {
        in[j] = ConstTensorView("", v.dtype(), v.shape(), v.raw_data(), v.byte_size());
        continue;
      }
      if (absl::Status s = v.CheckBuffer("input"); !s.ok()) return s;
      const auto n = static_cast<std::size_t>(v.shape().num_elements());
      void* dst = arena.Take(n * DataTypeSize(want));
      detail::ConvertElements(v.dtype(), v.raw_data(), want, dst, n);
      in[j] = ConstTensorView("", want, v.shape(), dst, n * DataTypeSize(want));
    }
    for (std::size_t i = 0; i < n_out; ++i) {
      const TensorView& v = order.out[i];
      const std::size_t j = slot(false, i);
      if (v.dtype() == DataType::kInvalid && v.raw_data() == nullptr) {
        out[j] = v;
        continue;
      }
      const DataType want = target_type(out_specs, j, v.dtype());
      if (want == v.dtype() || !detail::IsFloatType(want) || !detail::IsFloatType(v.dtype()) ||
          v.shape().num_elements() < 0) {
        out[j] = TensorView("", v.dtype(), v.shape(), v.raw_data(), v.byte_size());
        continue;
      }
      if (absl::Status s = v.CheckBuffer("output"); !s.ok()) return s;
      const auto n = static_cast<std::size_t>(v.shape().num_elements());
      out[j] = TensorView("", want, v.shape(), arena.Take(n * DataTypeSize(want)),
                          n * DataTypeSize(want));
      convert_out = true;
    }
    // Trailing outputs the caller did not ask for: drop them (a predictor
    // matches unnamed views by position).
    while (!out.empty() && out.back().dtype() == DataType::kInvalid && out.back().raw_data() == nullptr) {
      out.pop_back();
    }
    absl::Status s = backend.Predict(in, out, options, report);
    if (!s.ok() || !convert_out) return s;
    for (std::size_t i = 0; i < n_out; ++i) {
      const TensorView& v = order.out[i];
      const std::size_t j = slot(false, i);
      if (j >= out.size() || out[j].raw_data() == v.raw_data()) continue;
      const auto n = static_cast<std::size_t>(v.shape().num_elements());
      detail::ConvertElements(out[j].dtype(), out[j].raw_data(), v.dtype(), v.raw_data(), n);
    }
    return s;
  }

  static void Finish(CallReport* report, absl::Time start) {
    if (report != nullptr) report->elapsed = absl::Now() - start;  // no clock read without a report
  }

  const std::unique_ptr<Predictor> primary_;
  const std::unique_ptr<Predictor> fallback_;
  const FallbackOptions options_;
  const ModelSignature fallback_sig_;
  mutable detail::Mutex mu_;
  // Written once by Bind() (under mu_, before bound_ is set); read without
  // the lock once bound_ is seen true.
  std::optional<ModelSignature> primary_sig_;
  std::vector<int> in_map_, out_map_;  // primary index -> fallback index
  std::atomic<bool> bound_{false};
  std::atomic<bool> disabled_unlocked_{false};  // disabled_ is set
  absl::Status disabled_ ABSL_GUARDED_BY(mu_);
  std::atomic<std::int64_t> calls_{0}, primary_served_{0}, fallback_served_{0}, failed_{0},
      by_circuit_{0};
  std::array<std::atomic<std::int64_t>, 17> by_code_{};
};

}  // namespace maas

#endif  // MAAS_RESILIENCE_FALLBACK_H_
