// -----------------------------------------------------------------------------
// File: routing/async.h
// -----------------------------------------------------------------------------
//
// `maas::AsyncPredictor` adds asynchronous forms of `Predict` to any
// predictor, so a time step can overlap a remote inference with its own
// work:
//
//   maas::AsyncPredictor model(std::move(remote));
//   absl::StatusOr<maas::PredictFuture> f =
//       model.PredictAsync({in}, {out}, maas::CallOptions::Timeout(absl::Milliseconds(50)));
//   if (!f.ok()) return f.status();          // kResourceExhausted: too many pending
//   AdvanceOtherPhysics();                   // runs while the server computes
//   absl::Status s = f->Wait();              // out is written when s is OK
//
// or with a callback, run on a worker thread once the outputs are written
// (or the call failed):
//
//   absl::Status s = model.PredictAsync({in}, {out}, {},
//       [](absl::Status s, const maas::CallReport& r) { ... });
//
// How: a fixed pool of `threads` worker threads (no thread per call) takes
// calls from a queue bounded by `max_pending` (queued plus running); a call
// beyond that fails at once with `kResourceExhausted`. The inputs are copied
// when the call is submitted, so the caller may change or free its input
// arrays right away. Each call runs into its own scratch outputs, which are
// copied to the caller's output buffers only when it succeeded and only while
// the caller still wants it, under the call's lock:
//
//  * `PredictFuture::Cancel()` (and destroying a future that has not ended)
//    stops any later write: once it returns, the caller's output buffers are
//    never written by this call, so they may be reused or freed. A running
//    call itself cannot be interrupted (a remote request is in flight); it
//    ends by its deadline and its result is dropped.
//  * The caller's output buffers must stay valid until the call has ended
//    (Wait()/ready() true, the callback ran) or was cancelled.
//  * The deadline in `CallOptions` applies as in `Predict` (a call still
//    queued at its deadline fails with `kDeadlineExceeded` without running),
//    and the `CallReport` of the call is available from the future or is
//    passed to the callback.
//
// `Wait()` spins briefly (yielding, `wait_spin`) before it blocks, so a
// result that arrives while the step finishes its own work is picked up
// within a few microseconds instead of a futex wake-up later.
//
// The synchronous `Predict` forms call the wrapped predictor on the
// caller's thread. Thread-safe when the wrapped predictor is. Destroying the
// AsyncPredictor cancels the calls still queued (their futures end with
// `kCancelled`, their callbacks run with it), waits for the running ones and
// joins the workers; futures may outlive it.

#ifndef MAAS_ROUTING_ASYNC_H_
#define MAAS_ROUTING_ASYNC_H_

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <deque>
#include <functional>
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
#include "maas/core/predictor.h"

namespace maas {

// AsyncOptions
//
//  * `threads`: worker threads (at least 1).
//  * `max_pending`: calls queued or running at most (at least 1).
//  * `wait_spin`: how long `PredictFuture::Wait()` polls (yielding the CPU)
//    before it blocks.
struct AsyncOptions {
  int threads = 2;
  int max_pending = 64;
  absl::Duration wait_spin = absl::Microseconds(50);
};

// AsyncCallback
//
// Called once per callback-form call, on a worker thread, with the call's
// status and report, after the outputs were written (on success). It should
// be short (it holds a worker); an exception it throws is dropped.
using AsyncCallback = std::function<void(absl::Status, const CallReport&)>;

namespace detail {

// One pending call; reused. Fields other than `state` are guarded by `mu`
// while the call is shared.
struct AsyncSlot {
  enum State : int { kFree, kQueued, kRunning, kDone, kCancelled };

  std::mutex mu;
  std::condition_variable cv;
  std::atomic<int> state{kFree};
  int refs = 0;  // the worker's and the future's
  absl::Duration wait_spin;
  // The call (owned copies of the inputs; scratch outputs).
  std::vector<std::string> in_names, out_names;
  std::vector<std::vector<unsigned char>> in_data, out_data;
  absl::InlinedVector<ConstTensorView, 4> in;
  absl::InlinedVector<TensorView, 4> scratch_out, caller_out;
  CallOptions options;
  CallReport report;
  absl::Status status;
  AsyncCallback callback;
};

// The slots and the queue, shared by the AsyncPredictor, its workers and
// the futures (which may outlive the AsyncPredictor).
struct AsyncPool {
  std::mutex mu;
  std::condition_variable work_cv;
  std::vector<std::unique_ptr<AsyncSlot>> slots;
  std::vector<AsyncSlot*> free;
  std::deque<AsyncSlot*> queue;
  bool stopping = false;

  // Drops one reference of `s` (taken under s->mu by the caller's logic);
  // the last one returns it to the free list.
  void Release(AsyncSlot* s) {
    bool last;
    {
      std::lock_guard<std::mutex> lock(s->mu);
      last = --s->refs == 0;
      if (last) {
        s->state.store(AsyncSlot::kFree, std::memory_order_relaxed);
        s->callback = nullptr;
      }
    }
    if (last) {
      std::lock_guard<std::mutex> lock(mu);
      free.push_back(s);
    }
  }
};

}  // namespace detail

// PredictFuture
//
// The result of one `AsyncPredictor::PredictAsync()` call. Move-only; one
// thread at a time. See the file comment for what it guarantees about the
// caller's buffers.
class PredictFuture {
 public:
  PredictFuture() = default;
  PredictFuture(PredictFuture&& o) noexcept : pool_(std::move(o.pool_)), slot_(o.slot_) {
    o.slot_ = nullptr;
  }
  PredictFuture& operator=(PredictFuture&& o) noexcept {
    if (this != &o) {
      Abandon();
      pool_ = std::move(o.pool_);
      slot_ = o.slot_;
      o.slot_ = nullptr;
    }
    return *this;
  }
  PredictFuture(const PredictFuture&) = delete;
  PredictFuture& operator=(const PredictFuture&) = delete;

  // Cancels the call if it has not ended (see Cancel()).
  ~PredictFuture() { Abandon(); }

  // PredictFuture::valid()
  //
  // False for a default-constructed or moved-from future.
  bool valid() const { return slot_ != nullptr; }

  // PredictFuture::ready()
  //
  // True when the call has ended (succeeded, failed or was cancelled).
  // Never blocks.
  bool ready() const {
    return slot_ != nullptr && slot_->state.load(std::memory_order_acquire) >= detail::AsyncSlot::kDone;
  }

  // PredictFuture::Wait()
  //
  // Waits until the call has ended and returns its status: OK (the outputs
  // hold the result), the call's failure, or `kCancelled`. On an invalid
  // future: `kFailedPrecondition`.
  absl::Status Wait() {
    WaitUntil(absl::InfiniteFuture());
    return status();
  }

  // PredictFuture::WaitUntil()
  //
  // Waits until the call has ended or `until`; true when it has ended. The
  // call goes on when this returns false (wait again, or Cancel()).
  bool WaitUntil(absl::Time until) {
    if (slot_ == nullptr) return true;
    if (ready()) return true;
    const auto spin_end = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(slot_->wait_spin);
    while (std::chrono::steady_clock::now() < spin_end) {
      if (ready()) return true;
      if (absl::Now() >= until) return false;
      std::this_thread::yield();
    }
    std::unique_lock<std::mutex> lock(slot_->mu);
    const auto done = [this] { return ready(); };
    if (until == absl::InfiniteFuture()) {
      slot_->cv.wait(lock, done);
      return true;
    }
    return slot_->cv.wait_until(lock, absl::ToChronoTime(until), done);
  }

  // PredictFuture::status()
  //
  // The call's status once ready(); before that `kFailedPrecondition`.
  absl::Status status() const {
    if (slot_ == nullptr) return absl::FailedPreconditionError("PredictFuture: not valid");
    if (!ready()) return absl::FailedPreconditionError("PredictFuture: the call has not ended");
    std::lock_guard<std::mutex> lock(slot_->mu);
    return slot_->status;
  }

  // PredictFuture::report()
  //
  // The call's report once ready() (empty before).
  CallReport report() const {
    if (!ready()) return CallReport();
    std::lock_guard<std::mutex> lock(slot_->mu);
    return slot_->report;
  }

  // PredictFuture::Cancel()
  //
  // If the call has not ended: from now on it never writes the caller's
  // outputs, and it ends with `kCancelled`; returns true. False when it had
  // already ended (its result stands) or the future is not valid.
  bool Cancel() {
    if (slot_ == nullptr) return false;
    std::lock_guard<std::mutex> lock(slot_->mu);
    if (slot_->state.load(std::memory_order_relaxed) >= detail::AsyncSlot::kDone) return false;
    slot_->status = absl::CancelledError("maas: asynchronous predict cancelled");
    slot_->report = CallReport();
    slot_->state.store(detail::AsyncSlot::kCancelled, std::memory_order_release);
    slot_->cv.notify_all();
    return true;
  }

 private:
  friend class AsyncPredictor;
  PredictFuture(std::shared_ptr<detail::AsyncPool> pool, detail::AsyncSlot* slot)
      : pool_(std::move(pool)), slot_(slot) {}

  void Abandon() {
    if (slot_ == nullptr) return;
    Cancel();
    pool_->Release(slot_);
    slot_ = nullptr;
    pool_.reset();
  }

  std::shared_ptr<detail::AsyncPool> pool_;
  detail::AsyncSlot* slot_ = nullptr;
};

// AsyncPredictor
//
// See the file comment. Owns the wrapped predictor and its worker threads.
class AsyncPredictor final : public Predictor {
 public:
  // `inner` must not be null. Starts the worker threads (they inherit the
  // constructing thread's CPU affinity).
  explicit AsyncPredictor(std::unique_ptr<Predictor> inner, AsyncOptions options = {})
      : inner_(std::move(inner)), pool_(std::make_shared<detail::AsyncPool>()) {
    options.threads = std::max(1, options.threads);
    options.max_pending = std::max(1, options.max_pending);
    for (int i = 0; i < options.max_pending; ++i) {
      pool_->slots.push_back(std::make_unique<detail::AsyncSlot>());
      pool_->slots.back()->wait_spin = options.wait_spin;
      pool_->free.push_back(pool_->slots.back().get());
    }
    for (int i = 0; i < options.threads; ++i) workers_.emplace_back([this] { Work(); });
  }

  // Cancels queued calls, waits for running ones, joins the workers.
  ~AsyncPredictor() override {
    std::deque<detail::AsyncSlot*> dropped;
    {
      std::lock_guard<std::mutex> lock(pool_->mu);
      pool_->stopping = true;
      dropped.swap(pool_->queue);
    }
    pool_->work_cv.notify_all();
    for (detail::AsyncSlot* s : dropped) {
      AsyncCallback cb;
      {
        std::lock_guard<std::mutex> lock(s->mu);
        if (s->state.load(std::memory_order_relaxed) < detail::AsyncSlot::kDone) {
          s->status = absl::CancelledError("maas: AsyncPredictor destroyed before the call ran");
          s->state.store(detail::AsyncSlot::kCancelled, std::memory_order_release);
        }
        cb = std::move(s->callback);
        s->cv.notify_all();
      }
      if (cb) Invoke(cb, absl::CancelledError("maas: AsyncPredictor destroyed before the call ran"), CallReport());
      pool_->Release(s);
    }
    for (std::thread& t : workers_) t.join();
  }

  absl::StatusOr<ModelSignature> Signature() override { return inner_->Signature(); }

  // AsyncPredictor::label()
  //
  // The wrapped predictor's label.
  absl::string_view label() const override { return inner_->label(); }

  // AsyncPredictor::PredictAsync(inputs, outputs, options)
  //
  // Queues the call and returns its future. Fails at once with
  // `kResourceExhausted` when `max_pending` calls are pending, and with
  // `kInvalidArgument` for views whose buffers do not fit their shapes.
  // Allocates only until the pool's buffers have grown to the call sizes.
  absl::StatusOr<PredictFuture> PredictAsync(absl::Span<const ConstTensorView> inputs,
                                             absl::Span<const TensorView> outputs,
                                             const CallOptions& options = {}) {
    try {
      absl::StatusOr<detail::AsyncSlot*> slot = Submit(inputs, outputs, options, nullptr);
      if (!slot.ok()) return slot.status();
      return PredictFuture(pool_, *slot);
    } catch (...) {
      return detail::CurrentExceptionStatus(label());
    }
  }

  // AsyncPredictor::PredictAsync(inputs, outputs, options, done)
  //
  // Queues the call; `done` (non-null) runs once on a worker thread when it
  // ends. Returns as the future form; `done` is not called when this
  // returns an error.
  absl::Status PredictAsync(absl::Span<const ConstTensorView> inputs,
                            absl::Span<const TensorView> outputs, const CallOptions& options,
                            AsyncCallback done) {
    try {
      if (!done) return absl::InvalidArgumentError("PredictAsync: the callback is empty");
      return Submit(inputs, outputs, options, &done).status();
    } catch (...) {
      return detail::CurrentExceptionStatus(label());
    }
  }

  // AsyncPredictor::pending()
  //
  // Calls queued or running now.
  int pending() const {
    std::lock_guard<std::mutex> lock(pool_->mu);
    return static_cast<int>(pool_->slots.size() - pool_->free.size());
  }

 protected:
  absl::Status DoPredict(absl::Span<const ConstTensorView> inputs,
                         absl::Span<const TensorView> outputs) override {
    return inner_->Predict(inputs, outputs);
  }
  absl::Status DoPredictCall(absl::Span<const ConstTensorView> inputs,
                             absl::Span<const TensorView> outputs, const CallOptions& call,
                             CallReport* report) override {
    return inner_->Predict(inputs, outputs, call, report);
  }

 private:
  absl::StatusOr<detail::AsyncSlot*> Submit(absl::Span<const ConstTensorView> inputs,
                                            absl::Span<const TensorView> outputs,
                                            const CallOptions& options, AsyncCallback* done) {
    for (const ConstTensorView& v : inputs) {
      if (absl::Status s = v.CheckBuffer("input"); !s.ok()) return s;
    }
    for (const TensorView& v : outputs) {
      if (absl::Status s = v.CheckBuffer("output"); !s.ok()) return s;
    }
    detail::AsyncSlot* s;
    {
      std::lock_guard<std::mutex> lock(pool_->mu);
      if (pool_->stopping) return absl::FailedPreconditionError("AsyncPredictor: shutting down");
      if (pool_->free.empty()) {
        return absl::ResourceExhaustedError(absl::StrCat(
            label(), ": ", pool_->slots.size(), " asynchronous calls pending (max_pending)"));
      }
      s = pool_->free.back();
      pool_->free.pop_back();
    }
    // The slot is ours alone until it is queued.
    s->in_names.resize(inputs.size());
    s->in_data.resize(inputs.size());
    s->in.clear();
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const ConstTensorView& v = inputs[i];
      s->in_names[i].assign(v.name().data(), v.name().size());
      s->in_data[i].resize(v.byte_size());
      if (v.byte_size() > 0) std::memcpy(s->in_data[i].data(), v.raw_data(), v.byte_size());
      s->in.emplace_back(s->in_names[i], v.dtype(), v.shape(), s->in_data[i].data(), v.byte_size());
    }
    s->out_names.resize(outputs.size());
    s->out_data.resize(outputs.size());
    s->scratch_out.clear();
    s->caller_out.assign(outputs.begin(), outputs.end());
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      const TensorView& v = outputs[i];
      s->out_names[i].assign(v.name().data(), v.name().size());
      s->out_data[i].resize(v.byte_size());
      s->scratch_out.emplace_back(s->out_names[i], v.dtype(), v.shape(), s->out_data[i].data(),
                                  v.byte_size());
    }
    s->options = options;
    s->report = CallReport();
    s->status = absl::OkStatus();
    s->refs = done != nullptr ? 1 : 2;
    if (done != nullptr) s->callback = std::move(*done);
    s->state.store(detail::AsyncSlot::kQueued, std::memory_order_release);
    {
      std::lock_guard<std::mutex> lock(pool_->mu);
      pool_->queue.push_back(s);
    }
    pool_->work_cv.notify_one();
    return s;
  }

  // Runs a callback; an exception it throws ends there (it must not end
  // the worker thread, or the process).
  static void Invoke(const AsyncCallback& cb, const absl::Status& s, const CallReport& r) {
    try {
      cb(s, r);
    } catch (...) {
    }
  }

  void Work() {
    for (;;) {
      detail::AsyncSlot* s;
      {
        std::unique_lock<std::mutex> lock(pool_->mu);
        pool_->work_cv.wait(lock, [this] { return pool_->stopping || !pool_->queue.empty(); });
        if (pool_->queue.empty()) return;  // stopping
        s = pool_->queue.front();
        pool_->queue.pop_front();
      }
      bool run;
      {
        std::lock_guard<std::mutex> lock(s->mu);
        run = s->state.load(std::memory_order_relaxed) == detail::AsyncSlot::kQueued;
        if (run) s->state.store(detail::AsyncSlot::kRunning, std::memory_order_relaxed);
      }
      absl::Status status;
      CallReport report;
      if (run) {
        if (s->options.has_deadline() && absl::Now() >= s->options.deadline) {
          status = DeadlinePassedError(label());
        } else {
          status = inner_->Predict(s->in, s->scratch_out, s->options, &report);
        }
      }
      AsyncCallback cb;
      {
        std::lock_guard<std::mutex> lock(s->mu);
        if (s->state.load(std::memory_order_relaxed) == detail::AsyncSlot::kRunning) {
          if (status.ok()) {
            for (std::size_t i = 0; i < s->caller_out.size(); ++i) {
              if (s->caller_out[i].byte_size() > 0) {
                std::memcpy(s->caller_out[i].raw_data(), s->scratch_out[i].raw_data(),
                            s->caller_out[i].byte_size());
              }
            }
          }
          s->status = status;
          s->report = report;
          s->state.store(detail::AsyncSlot::kDone, std::memory_order_release);
        } else {
          status = s->status;  // cancelled meanwhile
          report = CallReport();
        }
        cb = std::move(s->callback);
        s->cv.notify_all();
      }
      if (cb) Invoke(cb, status, report);
      pool_->Release(s);
    }
  }

  const std::unique_ptr<Predictor> inner_;
  std::shared_ptr<detail::AsyncPool> pool_;
  std::vector<std::thread> workers_;
};

}  // namespace maas

#endif  // MAAS_ROUTING_ASYNC_H_
