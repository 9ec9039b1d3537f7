// -----------------------------------------------------------------------------
// File: routing/batching.h
// -----------------------------------------------------------------------------
//
// `maas::BatchingPredictor` coalesces predict calls made at the same time by
// many threads (OpenMP threads, one per subdomain, ...) into one call of the
// wrapped predictor — one server request — and gives each caller exactly its
// own rows back. A server answers a request of 8 rows in about the time of a
// request of 1 row, so 8 threads feeding one model get several times the
// throughput of 8 threads calling it one by one.
//
// How (no thread of its own, no thread per call): a caller queues its call
// and, when fewer than `max_in_flight_batches` batches are running, becomes
// the *leader*: it takes what is queued (oldest first, up to
// `max_batch_rows` rows), concatenates the inputs along dimension 0, calls
// the wrapped predictor once, copies each caller's rows into that caller's
// outputs and wakes the callers. Callers arriving meanwhile queue up and form
// the next batch, which one of them leads. By default nothing waits for
// company (`max_delay` 0: "batch what is queued", as Triton's dynamic
// batcher and TF Serving do by default); with `max_delay` > 0 a leader waits
// up to that long for a full batch.
//
// A call goes straight to the wrapped predictor (unbatched) when it cannot
// be coalesced: no call has succeeded yet (see below), an input or output has no
// batch dimension or another dynamic dimension, or it alone has more than
// `max_batch_rows` rows. A batch of one call passes the caller's own views
// through without copying.
//
// Limits and failures:
//  * `max_queued_rows` rows may wait; a call that would exceed it fails at
//    once with `kResourceExhausted` (nothing queued, outputs untouched);
//  * a call whose deadline passes while it waits in the queue leaves it with
//    `kDeadlineExceeded`; a batch runs with the earliest deadline of its
//    callers (callers already past theirs are not put in a batch);
//  * a failed batch fails each of its callers with the batch's status (and
//    report); outputs are written only when the batch succeeded.
// Every caller's `CallReport` is the batch call's report.
//
// Calls pass straight through until the wrapped predictor has answered one;
// then its signature is read and kept (`max_batch_rows` is capped by its
// `max_batch_size`).
//
// Thread-safe when the wrapped predictor is (that is the point). Allocates
// per batch only until the leader threads' gather buffers are warm.
//
// Example:
//
//   maas::BatchingOptions bo;
//   bo.max_batch_rows = 64;
//   auto batched = std::make_unique<maas::BatchingPredictor>(std::move(remote), bo);
//   #pragma omp parallel for
//   for (int cell = 0; cell < n; ++cell) (void)batched->Predict({in[cell]}, {out[cell]});

#ifndef MAAS_ROUTING_BATCHING_H_
#define MAAS_ROUTING_BATCHING_H_

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
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
#include "maas/resilience/detail/views.h"

namespace maas {

// BatchingOptions
//
// See the file comment. Defaults follow TF Serving / Triton: no added delay,
// one batch in flight (the server runs one request at a time anyway), ten
// batches' worth of rows queued at most.
//  * `metrics` (optional, not owned, must outlive the predictor) and
//    `metrics_model`: export `maas_batches_total`, `maas_batch_rows`
//    (histogram of rows per batch), `maas_batch_rejected_total`,
//    `maas_batch_expired_total` and `maas_batch_queued_rows`, labelled
//    `model`.
struct BatchingOptions {
  std::int64_t max_batch_rows = 64;
  absl::Duration max_delay = absl::ZeroDuration();
  int max_in_flight_batches = 1;
  std::int64_t max_queued_rows = 640;
  MetricsRegistry* metrics = nullptr;
  std::string metrics_model;
};

// BatchingStats
//
// Counters since construction.
struct BatchingStats {
  std::int64_t calls = 0;         // calls that entered the queue
  std::int64_t batches = 0;       // wrapped-predictor calls made for them
  std::int64_t batched_rows = 0;  // rows in those batches
  std::int64_t largest_batch = 0; // rows
  std::int64_t rejected = 0;      // kResourceExhausted: queue full
  std::int64_t expired = 0;       // kDeadlineExceeded while queued
  std::int64_t direct = 0;        // calls passed straight through
};

// BatchingPredictor
//
// See the file comment. Owns the wrapped predictor.
class BatchingPredictor final : public Predictor {
 public:
  // `inner` must not be null.
  explicit BatchingPredictor(std::unique_ptr<Predictor> inner, BatchingOptions options = {})
      : inner_(std::move(inner)), options_(Sanitized(std::move(options))) {
    if (options_.metrics != nullptr) {
      registration_ = options_.metrics->Add([this](MetricsBuilder& b) { Collect(b); });
    }
  }

  ~BatchingPredictor() override { registration_.Reset(); }

  absl::StatusOr<ModelSignature> Signature() override { return inner_->Signature(); }

  // BatchingPredictor::label()
  //
  // The wrapped predictor's label.
  absl::string_view label() const override { return inner_->label(); }

  // BatchingPredictor::stats()
  BatchingStats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    return stats_;
  }

 protected:
  absl::Status DoPredict(absl::Span<const ConstTensorView> inputs,
                         absl::Span<const TensorView> outputs) override {
    return DoPredictCall(inputs, outputs, CallOptions(), nullptr);
  }

  absl::Status DoPredictCall(absl::Span<const ConstTensorView> inputs,
                             absl::Span<const TensorView> outputs, const CallOptions& call,
                             CallReport* report) override {
    const ModelSignature* sig = sig_.load(std::memory_order_acquire);
    if (sig == nullptr) {
      // Until the wrapped predictor has answered once, calls go straight
      // through (a remote model fetches its signature within the call's
      // deadline); then its signature is at hand without a wait.
      CountDirect();
      absl::Status s = inner_->Predict(inputs, outputs, call, report);
      if (s.ok()) FetchSignature();
      return s;
    }
    Request req;
    if (!Prepare(*sig, inputs, outputs, &req)) {
      CountDirect();
      return inner_->Predict(inputs, outputs, call, report);
    }
    if (call.has_deadline() && absl::Now() >= call.deadline) return DeadlinePassedError(label());
    req.deadline = call.deadline;
    req.report = report;
    std::unique_lock<std::mutex> lock(mu_);
    if (queued_rows_ + req.rows > options_.max_queued_rows) {
      ++stats_.rejected;
      return absl::ResourceExhaustedError(absl::StrCat(
          label(), ": batching queue full (", queued_rows_, " rows waiting, at most ",
          options_.max_queued_rows, ")"));
    }
    ++stats_.calls;
    Enqueue(&req);
    if (options_.max_delay > absl::ZeroDuration() && queued_rows_ >= max_rows_) {
      leader_cv_.notify_all();
    }
    if (in_flight_ < options_.max_in_flight_batches) {
      ++in_flight_;
      req.state = State::kLead;
    }
    for (;;) {
      if (req.state == State::kDone) return req.status;
      if (req.state == State::kLead) {
        LeadOneBatch(lock, &req);
        continue;
      }
      const auto wake = [&req] { return req.state != State::kQueued; };
      if (req.deadline == absl::InfiniteFuture()) {
        req.cv.wait(lock, wake);
      } else if (!req.cv.wait_until(lock, absl::ToChronoTime(req.deadline), wake)) {
        // Still queued at the deadline: leave the queue.
        Unlink(&req);
        ++stats_.expired;
        return DeadlinePassedError(label());
      }
    }
  }

 private:
  enum class State { kQueued, kLead, kTaken, kDone };

  // One caller's call, on the caller's stack while it waits.
  struct Request {
    absl::InlinedVector<ConstTensorView, 4> in;  // signature order
    absl::InlinedVector<TensorView, 4> out;      // signature order; unset = not wanted
    std::int64_t rows = 0;
    absl::Time deadline = absl::InfiniteFuture();
    CallReport* report = nullptr;
    State state = State::kQueued;
    absl::Status status;
    Request* prev = nullptr;
    Request* next = nullptr;
    std::condition_variable cv;
  };

  static BatchingOptions Sanitized(BatchingOptions o) {
    o.max_batch_rows = std::max<std::int64_t>(1, o.max_batch_rows);
    o.max_in_flight_batches = std::max(1, o.max_in_flight_batches);
    o.max_queued_rows = std::max<std::int64_t>(o.max_batch_rows, o.max_queued_rows);
    if (o.max_delay < absl::ZeroDuration()) o.max_delay = absl::ZeroDuration();
    return o;
  }

  // Keeps the wrapped predictor's signature (once).
  void FetchSignature() {
    if (sig_.load(std::memory_order_acquire) != nullptr) return;
    absl::StatusOr<ModelSignature> s = inner_->Signature();
    if (!s.ok()) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (sig_owned_ == nullptr) {
      sig_owned_ = std::make_unique<ModelSignature>(*std::move(s));
      max_rows_ = options_.max_batch_rows;
      if (sig_owned_->max_batch_size > 0) max_rows_ = std::min(max_rows_, sig_owned_->max_batch_size);
      sig_.store(sig_owned_.get(), std::memory_order_release);
    }
  }

  // Validates the views and fills `req`; false when the call cannot be
  // coalesced (then it goes straight through, where it is validated again).
  bool Prepare(const ModelSignature& sig, absl::Span<const ConstTensorView> inputs,
               absl::Span<const TensorView> outputs, Request* req) const {
    req->in.resize(sig.inputs.size());
    absl::StatusOr<std::int64_t> rows = sig.ValidateInputs(inputs, absl::MakeSpan(req->in));
    if (!rows.ok()) return false;
    req->out.resize(sig.outputs.size());
    if (outputs.empty() ||
        !sig.ValidateOutputs(outputs, *rows, absl::MakeSpan(req->out), /*require_all=*/false).ok()) {
      return false;
    }
    for (const TensorSpec& t : sig.inputs) {
      if (!ModelSignature::IsBatched(t) || !FixedRow(t.shape)) return false;
    }
    for (const TensorSpec& t : sig.outputs) {
      if (!ModelSignature::IsBatched(t) || !FixedRow(t.shape)) return false;
    }
    req->rows = *rows;
    return *rows > 0 && *rows <= max_rows_;
  }

  static bool FixedRow(const Shape& s) {
    for (std::size_t i = 1; i < s.rank(); ++i) {
      if (s.dim(i) == kDynamic) return false;
    }
    return true;
  }

  void CountDirect() {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.direct;
  }

  void Enqueue(Request* r) {
    r->prev = tail_;
    r->next = nullptr;
    (tail_ != nullptr ? tail_->next : head_) = r;
    tail_ = r;
    queued_rows_ += r->rows;
  }

  void Unlink(Request* r) {
    (r->prev != nullptr ? r->prev->next : head_) = r->next;
    (r->next != nullptr ? r->next->prev : tail_) = r->prev;
    r->prev = r->next = nullptr;
    queued_rows_ -= r->rows;
  }

  // Called with `lock` held by a leader (`self` is its own request, queued
  // or done): takes one batch from the queue, runs it without the lock,
  // completes its callers, and passes the lead on when its own call is done.
  void LeadOneBatch(std::unique_lock<std::mutex>& lock, Request* self) {
    if (options_.max_delay > absl::ZeroDuration()) {
      const auto until = std::chrono::steady_clock::now() +
                         absl::ToChronoNanoseconds(options_.max_delay);
      leader_cv_.wait_until(lock, until, [this] { return queued_rows_ >= max_rows_; });
    }
    absl::InlinedVector<Request*, 16> batch;
    std::int64_t rows = 0;
    absl::Time deadline = absl::InfiniteFuture();
    const absl::Time now = absl::Now();
    for (Request* r = head_; r != nullptr;) {
      Request* next = r->next;
      if (r->deadline <= now) {  // too late: not worth a place in the batch
        Unlink(r);
        ++stats_.expired;
        Complete(r, DeadlinePassedError(label()), nullptr);
      } else if (rows + r->rows <= max_rows_) {
        Unlink(r);
        r->state = State::kTaken;
        rows += r->rows;
        deadline = std::min(deadline, r->deadline);
        batch.push_back(r);
      } else {
        break;  // oldest first: the rest waits for the next batch
      }
      r = next;
    }
    if (!batch.empty()) {
      ++stats_.batches;
      stats_.batched_rows += rows;
      stats_.largest_batch = std::max(stats_.largest_batch, rows);
      ++rows_histogram_[RowsBucket(rows)];
      lock.unlock();
      CallReport batch_report;
      const absl::Status s = RunBatch(batch, rows, deadline, &batch_report);
      lock.lock();
      for (Request* r : batch) Complete(r, s, &batch_report);
    }
    if (self->state != State::kDone) return;  // lead again: own call still queued
    if (head_ != nullptr) {
      head_->state = State::kLead;  // the lead (and the in-flight slot) passes on
      head_->cv.notify_one();
    } else {
      --in_flight_;
    }
  }

  // Sets a taken or dropped request's result and wakes its caller (under
  // the lock, so the caller cannot return before the notification).
  void Complete(Request* r, const absl::Status& s, const CallReport* report) {
    r->status = s;
    if (r->report != nullptr) {
      if (report != nullptr) {
        *r->report = *report;
      } else {
        *r->report = CallReport();
      }
    }
    r->state = State::kDone;
    r->cv.notify_one();
  }

  // One wrapped-predictor call for `batch`; writes each caller's outputs on
  // success. Never throws.
  absl::Status RunBatch(absl::Span<Request* const> batch, std::int64_t rows, absl::Time deadline,
                        CallReport* report) {
    CallOptions call;
    call.deadline = deadline;
    if (batch.size() == 1) {  // nothing to coalesce: the caller's own views
      Request* r = batch[0];
      absl::InlinedVector<TensorView, 4> out;
      for (const TensorView& v : r->out) {
        if (v.raw_data() != nullptr || v.dtype() != DataType::kInvalid) out.push_back(v);
      }
      return inner_->Predict(r->in, out, call, report);
    }
    try {
      const ModelSignature& sig = *sig_.load(std::memory_order_acquire);
      thread_local detail::ScratchArena arena;
      std::size_t bytes = 0;
      for (const ConstTensorView& v : batch[0]->in) {
        bytes += detail::ScratchBytes(v.dtype(), v.shape().num_elements() / batch[0]->rows * rows);
      }
      for (std::size_t i = 0; i < sig.outputs.size(); ++i) {
        bytes += detail::ScratchBytes(sig.outputs[i].dtype,
                                      sig.ExpectedOutputShape(i, rows).num_elements());
      }
      arena.Reserve(bytes);
      absl::InlinedVector<ConstTensorView, 4> in;
      for (std::size_t i = 0; i < sig.inputs.size(); ++i) {
        const ConstTensorView& first = batch[0]->in[i];
        const std::size_t row_bytes = first.byte_size() / static_cast<std::size_t>(batch[0]->rows);
        auto* dst = static_cast<unsigned char*>(arena.Take(row_bytes * static_cast<std::size_t>(rows)));
        std::size_t at = 0;
        for (const Request* r : batch) {
          const ConstTensorView& v = r->in[i];
          if (v.byte_size() > 0) std::memcpy(dst + at, v.raw_data(), v.byte_size());
          at += v.byte_size();
        }
        Shape shape = first.shape();
        shape.set_dim(0, rows);
        in.emplace_back(sig.inputs[i].name, first.dtype(), shape, dst, at);
      }
      absl::InlinedVector<TensorView, 4> out;
      for (std::size_t i = 0; i < sig.outputs.size(); ++i) {
        const Shape shape = sig.ExpectedOutputShape(i, rows);
        const std::size_t n =
            static_cast<std::size_t>(shape.num_elements()) * DataTypeSize(sig.outputs[i].dtype);
        out.emplace_back(sig.outputs[i].name, sig.outputs[i].dtype, shape, arena.Take(n), n);
      }
      absl::Status s = inner_->Predict(in, out, call, report);
      if (!s.ok()) return s;
      for (std::size_t i = 0; i < out.size(); ++i) {
        const std::size_t row_bytes = out[i].byte_size() / static_cast<std::size_t>(rows);
        std::size_t at = 0;
        for (const Request* r : batch) {
          const TensorView& v = r->out[i];
          const std::size_t n = row_bytes * static_cast<std::size_t>(r->rows);
          if (v.raw_data() != nullptr && n > 0) {
            std::memcpy(v.raw_data(), static_cast<const unsigned char*>(out[i].raw_data()) + at, n);
          }
          at += n;
        }
      }
      return s;
    } catch (...) {
      return detail::CurrentExceptionStatus(label());
    }
  }

  // Batch-size histogram buckets: <= 1, 2, 4, ..., 1024, more.
  static constexpr std::size_t kRowsBuckets = 12;
  static std::size_t RowsBucket(std::int64_t rows) {
    std::size_t b = 0;
    while (b + 1 < kRowsBuckets && rows > (std::int64_t{1} << b)) ++b;
    return b;
  }

  void Collect(MetricsBuilder& b) const {
    BatchingStats s;
    std::array<std::uint64_t, kRowsBuckets> hist{};
    std::int64_t queued = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      s = stats_;
      hist = rows_histogram_;
      queued = queued_rows_;
    }
    const MetricLabels l{{"model", options_.metrics_model}};
    b.Counter("maas_batches_total", "Batched calls made to the wrapped predictor.", l,
              static_cast<double>(s.batches));
    HistogramSample h;
    h.labels = l;
    for (std::size_t i = 0; i + 1 < kRowsBuckets; ++i) {
      h.upper_bounds.push_back(static_cast<double>(std::int64_t{1} << i));
    }
    h.bucket_counts.assign(hist.begin(), hist.end());
    h.sum = static_cast<double>(s.batched_rows);
    b.Histogram("maas_batch_rows", "Rows per batch.", std::move(h));
    b.Counter("maas_batch_rejected_total", "Calls refused because the batching queue was full.", l,
              static_cast<double>(s.rejected));
    b.Counter("maas_batch_expired_total", "Calls whose deadline passed in the batching queue.", l,
              static_cast<double>(s.expired));
    b.Gauge("maas_batch_queued_rows", "Rows waiting in the batching queue.", l,
            static_cast<double>(queued));
  }

  const std::unique_ptr<Predictor> inner_;
  const BatchingOptions options_;
  mutable std::mutex mu_;
  std::condition_variable leader_cv_;
  std::atomic<const ModelSignature*> sig_{nullptr};
  std::unique_ptr<ModelSignature> sig_owned_;  // set once, under mu_
  std::int64_t max_rows_ = 1;                  // set with sig_owned_
  Request* head_ = nullptr;                    // the queue, under mu_
  Request* tail_ = nullptr;
  std::int64_t queued_rows_ = 0;
  int in_flight_ = 0;
  BatchingStats stats_;
  std::array<std::uint64_t, kRowsBuckets> rows_histogram_{};
  MetricsRegistry::Registration registration_;
};

}  // namespace maas

#endif  // MAAS_ROUTING_BATCHING_H_
